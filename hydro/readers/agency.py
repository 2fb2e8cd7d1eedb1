"""National agency tables (Kazhydromet, Roshydromet): the layout comes from config.

';'-separated, decimal comma, cp1251 or UTF-8, Russian or Kazakh headers; stage in cm above
gauge zero; an ice-phenomena column kept as a code and a QC flag.  Daily (08:00 term) or
sub-daily (hourly) rows.

Speed: the lines are split by pyarrow's CSV reader (no quoting, every field a string) and
each column is converted through its distinct values (dates, terms, station codes and
whole-centimetre stages repeat).  Any irregularity -- a blank or short line, an unusual
line break -- sends the file through the exact line-by-line path, which produces the error
message with its line number; a file is never accepted by one path and refused by the
other.
"""

from __future__ import annotations

from pathlib import Path

import io

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
    resolve_station_codes,
    split_head,
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
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        # CR alone ends lines (old Mac files): number lines as str.splitlines() does
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    _, header_line, body_at, skipped = split_head(text)
    if header_line is None:
        raise IngestError(path, "no header line")
    header = [h.strip() for h in header_line.split(layout.delimiter)]
    found = {key: _find(header, names) for key, names in layout.columns.items()}
    for key in ("station", "date"):
        if found[key] is None:
            raise IngestError(path, f"no '{key}' column (expected one of "
                              f"{layout.columns[key]}; found {header})", line=skipped + 1)
    cols: dict[str, str] = {k: v for k, v in found.items() if v is not None}
    value_vars = [v for v in layout.units if cols.get(v)]
    if not value_vars:
        raise IngestError(path, "no value column (stage or discharge)", line=skipped + 1)
    body = text[body_at:]
    if not body.strip():
        raise IngestError(path, "no data lines after the header (truncated file?)")
    frame, lines = _read_rows(path, body, layout.delimiter, len(header), skipped,
                              raw=_utf8_body(data, text, body_at))
    if frame.empty:
        raise IngestError(path, "no data lines after the header (truncated file?)")
    frame.columns = header
    resolver = StationResolver(config)
    st_ids, st_idx = resolve_station_codes(path, frame[cols["station"]].str.strip(), resolver,
                                           lines, cols["station"])
    # one station may be written under two codes (post code and id): number the ids
    st_of_code, st_uniq = pd.factorize(st_ids)
    st_code = st_of_code[st_idx]
    st_names = np.asarray(st_uniq, dtype=object)
    station = pd.Series(st_names[st_code], dtype=object)
    dates = parse_dates(path, frame[cols["date"]], layout.date_format, lines, cols["date"])
    if cols.get("time"):
        codes, uniq = pd.factorize(frame[cols["time"]], use_na_sentinel=False)
        clock = pd.Series(np.asarray(uniq, dtype=object)).fillna("").astype(str).str.strip()
        hm = pd.to_timedelta(clock.where(clock != "", "08:00") + ":00", errors="coerce")
        if hm.isna().any():
            pos = int(np.flatnonzero(np.isin(codes, np.flatnonzero(hm.isna().to_numpy())))[0])
            raise IngestError(path, f"'{clock.iloc[codes[pos]]}' is not a time hh:mm",
                              line=int(lines[pos]), column=cols["time"])
        dates = dates + pd.Series(hm.to_numpy()[codes], index=dates.index)
    time_utc = local_to_utc(dates, station, resolver, codes=(st_names, st_code))
    phen = np.full(len(frame), None, dtype=object)
    if cols.get("phenomena"):
        codes, uniq = pd.factorize(frame[cols["phenomena"]], use_na_sentinel=False)
        words = pd.Series(np.asarray(uniq, dtype=object)).fillna("").astype(str).str.strip().str.lower()
        vocab = config.sources.phenomena
        unknown = [i for i, w in enumerate(words) if w and w not in vocab]
        if unknown:
            first = min(unknown, key=lambda i: int(np.flatnonzero(codes == i)[0]))
            pos = int(np.flatnonzero(codes == first)[0])
            raise IngestError(path, f"unknown ice phenomenon '{words.iloc[first]}' (add it to "
                              "[phenomena] in config/sources.toml)", line=int(lines[pos]),
                              column=cols["phenomena"])
        mapped = np.array([vocab.get(w) if w else None for w in words], dtype=object)
        mapped[mapped == "open_water"] = None
        phen = mapped[codes]
    ice = np.isin(phen, list(ICE_PHENOMENA))
    who = party or None
    if who:
        country = None
    else:
        country = np.array([resolver.country(x) for x in st_names], dtype=object)[st_code]
    parts = []
    for var in value_vars:
        values = to_number(path, frame[cols[var]], lines, cols[var], decimal=layout.decimal)
        f = factor(layout.units[var], _DIMENSION[var])
        keep = values.notna().to_numpy()
        part = pd.DataFrame({
            "station_id": station.to_numpy()[keep], "variable": var,
            "time": time_utc.to_numpy()[keep], "value": values.to_numpy()[keep] * f,
            "unit": "cm" if var == "stage" else "m3/s",
            "party": who if who else country[keep],  # type: ignore[index]
            "phenomena": phen[keep] if var == "stage" else None,
            "qc_flags": np.where(ice[keep] & (var == "stage"), int(QC.ICE), 0),
            "line": lines[keep], "_st": st_code[keep], "_var": len(parts),
        })
        if var == "stage" and layout.units[var] == "cm" and len(part):
            # a stage in metres written where cm is expected: implausibly small everywhere
            if part["value"].abs().max() < 30 and part["value"].abs().median() < 15:
                raise IngestError(path, "stage values look like metres but this layout "
                                  "expects cm (largest value "
                                  f"{part['value'].abs().max():g})", column=cols[var])
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    repeat = check_order(path, out, ["_st", "_var"])
    out = out[~repeat]
    # series after series, each in file (= time) order
    order = np.lexsort((out["line"].to_numpy(), out["_var"].to_numpy(), out["_st"].to_numpy()))
    out = out.iloc[order].drop(columns=["_st", "_var"]).reset_index(drop=True)
    return Batch(path, "agency_csv", observations=out)


def _utf8_body(data: bytes, text: str, body_at: int) -> bytes | None:
    """The body's bytes straight from the file when the file is UTF-8 (no re-encoding)."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    head = text[:body_at].encode("utf-8")
    if data[start:start + len(head)] != head:
        return None                       # not UTF-8 (cp1251): the caller re-encodes
    raw = data[start + len(head):]
    return raw if len(raw) == len(data) - start - len(head) else None


def _read_rows(path: Path, body: str, delimiter: str, ncols: int, skipped: int,
               raw: bytes | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Split the data lines into ``ncols`` string fields; line numbers of the rows.

    ``raw`` is the body as UTF-8 bytes when the caller has it without re-encoding.  The
    fast path (pyarrow) takes regular files; anything else goes to
    :func:`_read_rows_exact`, which also produces every error message.
    """
    first_line = skipped + 2
    if raw is None:
        raw = body.encode("utf-8")
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency; stay correct without
        pacsv = None
    if pacsv is not None and len(delimiter) == 1:
        names = [str(i) for i in range(ncols)]
        try:
            table = pacsv.read_csv(
                io.BytesIO(raw),
                read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 22),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False,
                                                 double_quote=False, escape_char=False,
                                                 newlines_in_values=False,
                                                 ignore_empty_lines=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in names}, strings_can_be_null=False,
                    quoted_strings_can_be_null=False, null_values=[]))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            table = None
        expected = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
        if table is not None and table.num_rows == expected:
            # arrow-backed string columns: no conversion to Python objects
            frame = table.to_pandas(types_mapper=pd.ArrowDtype)
            frame.columns = range(ncols)
            return frame, np.arange(first_line, first_line + expected)
    lines = [ln.removesuffix("\r") for ln in body.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return _read_rows_exact(path, lines, delimiter, ncols, first_line)


def _read_rows_exact(path: Path, body: list[str], delimiter: str, ncols: int, first_line: int
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """Split data lines one by one; a line with the wrong field count is an error."""
    rows, lines = [], []
    for i, ln in enumerate(body):
        if not ln.strip():
            continue
        r = ln.split(delimiter)
        if len(r) != ncols:
            raise IngestError(path, f"expected {ncols} fields, found {len(r)} (truncated line "
                              "or wrong delimiter?)", line=first_line + i)
        rows.append(r)
        lines.append(first_line + i)
    return pd.DataFrame(rows, columns=range(ncols)), np.asarray(lines, dtype=int)
