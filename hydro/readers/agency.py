"""National agency daily tables (Kazhydromet, Roshydromet): the layout comes from config.

';'-separated, decimal comma, cp1251 or UTF-8, Russian or Kazakh headers; stage in cm above
gauge zero; an ice-phenomena column kept as a code and a QC flag.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hydro.config import AgencyLayout, Config
from hydro.errors import IngestError
from hydro.qc import ICE_PHENOMENA, QC
from hydro.readers.common import (
    Batch,
    StationResolver,
    check_order,
    decode,
    local_to_utc,
    parse_dates,
    resolve_stations,
    split_comments,
    to_number,
)
from hydro.units import factor

_DIMENSION = {"stage": "stage", "discharge": "discharge"}


def _find(header: list[str], names: list[str]) -> str | None:
    for n in names:
        if n in header:
            return n
    return None


def read(path: Path, data: bytes, config: Config, layout: AgencyLayout,
         party: str | None = None) -> Batch:
    text = decode(path, data, layout.encodings)
    _, rest, skipped = split_comments(text)
    if not rest:
        raise IngestError(path, "no header line")
    header = [h.strip() for h in rest[0].split(layout.delimiter)]
    cols = {key: _find(header, names) for key, names in layout.columns.items()}
    for key in ("station", "date"):
        if cols[key] is None:
            raise IngestError(path, f"no '{key}' column (expected one of "
                              f"{layout.columns[key]}; found {header})", line=skipped + 1)
    value_vars = [v for v in layout.units if cols.get(v)]
    if not value_vars:
        raise IngestError(path, "no value column (stage or discharge)", line=skipped + 1)
    body = rest[1:]
    if not body:
        raise IngestError(path, "no data lines after the header (truncated file?)")
    frame, lines = _read_rows(path, rest, layout.delimiter, len(header), skipped)
    if frame.empty:
        raise IngestError(path, "no data lines after the header (truncated file?)")
    frame.columns = header
    resolver = StationResolver(config)
    station = resolve_stations(path, frame[cols["station"]].str.strip(), resolver, lines,
                               cols["station"])
    dates = parse_dates(path, frame[cols["date"]], layout.date_format, lines, cols["date"])
    if cols.get("time"):
        clock = frame[cols["time"]].str.strip()
        hm = pd.to_timedelta(clock.where(clock != "", "08:00") + ":00", errors="coerce")
        if hm.isna().any():
            pos = int(np.flatnonzero(hm.isna().to_numpy())[0])
            raise IngestError(path, f"'{clock.iloc[pos]}' is not a time hh:mm",
                              line=int(lines[pos]), column=cols["time"])
        dates = dates + hm
    time_utc = local_to_utc(dates, station, resolver)
    phen = pd.Series([None] * len(frame), dtype=object)
    if cols.get("phenomena"):
        words = frame[cols["phenomena"]].str.strip().str.lower()
        vocab = config.sources.phenomena
        unknown = sorted({w for w in words.unique() if w and w not in vocab})
        if unknown:
            pos = int(np.flatnonzero(words.to_numpy() == unknown[0])[0])
            raise IngestError(path, f"unknown ice phenomenon '{unknown[0]}' (add it to "
                              "[phenomena] in config/sources.toml)", line=int(lines[pos]),
                              column=cols["phenomena"])
        phen = words.map(lambda w: vocab.get(w) if w else None)
        phen = phen.where(phen != "open_water", None)
    ice = phen.isin(list(ICE_PHENOMENA)).to_numpy()
    who = party or None
    parts = []
    for var in value_vars:
        values = to_number(path, frame[cols[var]], lines, cols[var], decimal=layout.decimal)
        f = factor(layout.units[var], _DIMENSION[var])
        part = pd.DataFrame({
            "station_id": station, "variable": var, "time": time_utc, "value": values * f,
            "unit": "cm" if var == "stage" else "m3/s",
            "party": who if who else station.map(resolver.country),
            "phenomena": phen if var == "stage" else None,
            "qc_flags": np.where(ice & (var == "stage"), int(QC.ICE), 0), "line": lines,
        })
        part = part[part["value"].notna()]
        if var == "stage" and layout.units[var] == "cm" and len(part):
            # a stage in metres written where cm is expected: implausibly small everywhere
            if part["value"].abs().max() < 30 and part["value"].abs().median() < 15:
                raise IngestError(path, "stage values look like metres but this layout "
                                  "expects cm (largest value "
                                  f"{part['value'].abs().max():g})", column=cols[var])
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["station_id", "variable", "line"], kind="stable")
    check_order(path, out, ["station_id", "variable"])
    out = out.drop_duplicates(["station_id", "variable", "time"]).reset_index(drop=True)
    return Batch(path, "agency_csv", observations=out)


def _read_rows(path: Path, rest: list[str], delimiter: str, ncols: int, skipped: int
               ) -> tuple[pd.DataFrame, np.ndarray]:
    """Split data lines into fields; a line with the wrong field count is an error."""
    rows, lines = [], []
    for i, ln in enumerate(rest[1:]):
        if not ln.strip():
            continue
        r = ln.split(delimiter)
        if len(r) != ncols:
            raise IngestError(path, f"expected {ncols} fields, found {len(r)} (truncated line "
                              "or wrong delimiter?)", line=skipped + 2 + i)
        rows.append(r)
        lines.append(skipped + 2 + i)
    return pd.DataFrame(rows, columns=range(ncols)), np.asarray(lines, dtype=int)
