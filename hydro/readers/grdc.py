"""GRDC station export layout: '#' header lines, then ``YYYY-MM-DD;hh:mm;value``, -999 missing.

The station is identified by a ``# Station id:`` header line (written by hydrorisk's exports)
or by ``# GRDC-No.:`` matched against a gauge's post code.  Discharge is harmonised to m³/s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hydro.config import Config
from hydro.errors import IngestError, UnitError
from hydro.readers.common import (
    Batch,
    StationResolver,
    TimeWindow,
    clock_times,
    decode,
    local_to_utc,
    order_series,
    parse_dates,
    split_comments,
    to_number,
)
from hydro.units import factor

MISSING = -999.0
_UNIT_FIELD = "Unit of measure"


def _header_fields(comments: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in comments:
        body = c.lstrip("#").strip()
        if ":" in body:
            k, v = body.split(":", 1)
            out.setdefault(k.strip(), v.strip())
    return out


def _header_line(comments: list[str], key: str) -> int | None:
    """File line number of the header line ``# <key>: ...``."""
    for i, c in enumerate(comments):
        if c.lstrip("#").strip().startswith(key):
            return i + 1
    return None


def read(path: Path, data: bytes, config: Config) -> Batch:
    text = decode(path, data, ["utf-8-sig", "cp1252"])
    comments, rest, skipped = split_comments(text)
    fields = _header_fields(comments)
    resolver = StationResolver(config)
    code = fields.get("Station id") or fields.get("GRDC-No.", "")
    station = resolver.resolve(code)
    if station is None:
        raise IngestError(path, f"unknown station '{code}' (header 'Station id' / 'GRDC-No.' "
                          "matches no gauge in config/basins.toml)")
    if station not in config.network.gauges:
        raise IngestError(path, f"station '{station}' is not a gauge")
    unit = fields.get(_UNIT_FIELD, "").replace("³", "3")
    if not unit:
        raise IngestError(path, f"missing '{_UNIT_FIELD}' header line")
    try:
        unit_factor = factor(unit, "discharge")
    except UnitError as e:
        raise IngestError(path, f"header '{_UNIT_FIELD}': {e}") from None
    content = fields.get("Data Set Content", "")
    if content and "DISCHARGE" not in content.upper():
        raise IngestError(path, f"data set content '{content}' is not discharge")
    if not rest:
        raise IngestError(path, "no data lines after the header (truncated file?)")
    first = 0
    if rest[0].replace(" ", "").upper().startswith("YYYY-MM-DD"):
        first = 1
    body = rest[first:]
    while body and not body[-1].strip():      # blank lines at the end
        body.pop()
    if not body:
        raise IngestError(path, "no data lines after the header (truncated file?)")
    line0 = skipped + first + 1
    lines = np.arange(line0, line0 + len(body))
    count = pd.Series(body, dtype=object).str.count(";").to_numpy() + 1
    short = np.flatnonzero(count < 3)
    if short.size:
        i = int(short[0])
        raise IngestError(path, "expected 'YYYY-MM-DD;hh:mm;value'"
                          + (" (truncated file?)" if i == len(body) - 1 else ""),
                          line=int(lines[i]))
    parts = pd.Series(body, dtype=object).str.split(";", expand=True)
    incomplete = parts[[0, 1, 2]].isna().any(axis=1) | (parts[2].fillna("").str.strip() == "")
    if incomplete.any():
        pos = int(np.flatnonzero(incomplete.to_numpy())[0])
        raise IngestError(path, "incomplete data line (truncated file?)", line=int(lines[pos]),
                          column="Value")
    dates = parse_dates(path, parts[0], "%Y-%m-%d", lines, "YYYY-MM-DD",
                        TimeWindow.of(config))
    clock = parts[1].str.strip()
    has_time = clock != "--:--"
    if has_time.any():
        codes, uniq = pd.factorize(clock.where(has_time, "00:00"), use_na_sentinel=False)
        hm = clock_times(path, codes, uniq, lines, "hh:mm")
        dates = dates + pd.Series(hm[codes], index=dates.index)
    values = to_number(path, parts[2], lines, "Value", decimal=".")
    declared = fields.get("Data lines")
    if declared is not None:
        if not declared.strip().isdigit():
            raise IngestError(path, f"header 'Data lines: {declared}' is not a number of lines",
                              line=_header_line(comments, "Data lines"))
        if int(declared) != len(body):
            raise IngestError(path, f"the header declares {int(declared)} data lines but the "
                              f"file has {len(body)} (truncated or appended file?)",
                              line=_header_line(comments, "Data lines"))

    keep = values.to_numpy() != MISSING
    frame = pd.DataFrame({
        "station_id": station, "variable": "discharge", "value": values * unit_factor,
        "unit": "m3/s", "party": resolver.country(station), "phenomena": None, "qc_flags": 0,
        "line": lines,
    })
    frame["time"] = local_to_utc(dates, frame["station_id"], resolver)
    frame = frame[keep].reset_index(drop=True)
    if (frame["value"] < 0).any():
        pos = int(np.flatnonzero((frame["value"] < 0).to_numpy())[0])
        raise IngestError(path, f"negative discharge {frame['value'].iloc[pos]}",
                          line=int(frame["line"].iloc[pos]), column="Value")
    frame = order_series(frame, ["station_id"])
    return Batch(path, "grdc", observations=frame[[
        "station_id", "variable", "time", "value", "unit", "party", "phenomena", "qc_flags",
        "line"]])
