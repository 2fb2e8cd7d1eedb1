"""National agency tables (Kazhydromet, Roshydromet): the layout comes from config.

';'-separated, decimal comma, cp1251 or UTF-8, Russian or Kazakh headers; stage in cm above
gauge zero; an ice-phenomena column kept as a code and a QC flag.  Daily (08:00 term) or
sub-daily (hourly) rows.

Two ways in, one way out:

* the **fast path** (:func:`_rows_fast`) never decodes the whole file: it finds the header
  in the first few kilobytes, lets pyarrow split the raw (cp1251 or UTF-8) bytes of the
  columns it needs, dictionary-encodes each column and converts only the distinct values
  (dates, terms, station codes, phenomena and whole-centimetre stages repeat) with the very
  functions the exact path uses, on the very same distinct texts in the same order (that
  of first appearance, as pandas.factorize gives them to the exact path);
* the **exact path** (:func:`_rows_exact`) decodes the text and splits it into string
  fields (pyarrow when the lines are regular, else line by line) and produces every error
  message with its line and column.

The fast path gives up -- returns None -- on anything it cannot vouch for (an encoding it
does not know, a lone CR in the header lines, a blank, short or long line, a value that does
not convert, an unknown station, stages that look like metres, ...), and the exact path then
reads the file again: a file is never accepted by one path and refused by the other.  Both
hand the same columns to :func:`_assemble` (series order, repeated rows, output frame).
:func:`read` tries one then the other; :func:`read_fast` (None when the fast path declines)
and :func:`read_exact` take one path only (tests/property/test_agency_fast.py).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hydro.config import AgencyLayout, Config
from hydro.errors import IngestError
from hydro.qc import ICE_PHENOMENA, QC
from hydro.readers.common import (
    Batch,
    StationResolver,
    TimeWindow,
    clock_times,
    decode,
    local_codes_to_utc,
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


@dataclass
class _Values:
    """One value column: a number (NaN: empty cell) per row, or per distinct text."""

    var: str
    codes: np.ndarray | None   # each row's index into ``num``; None: ``num`` is per row
    num: np.ndarray            # float64, in the file's unit
    factor: float              # file unit -> canonical unit


@dataclass
class _Rows:
    """The data rows of one file, column by column, in file order."""

    first_line: int
    lines: np.ndarray | None   # file line of each row; None: consecutive from first_line
    st_names: np.ndarray       # distinct station ids (object) in order of first appearance
    st_code: np.ndarray        # each row's index into st_names
    time: np.ndarray           # UTC time of each row (datetime64[ns])
    phen_code: np.ndarray | None  # each row's index into phen_map; None: all phen_map[0]
    phen_map: np.ndarray       # phenomena code or None (object)
    values: list[_Values]


def read(path: Path, data: bytes, config: Config, layout: AgencyLayout,
         party: str | None = None) -> Batch:
    """The file's observations: the fast path's when it takes the file, else the exact
    path's."""
    resolver = StationResolver(config)
    batch = read_fast(path, data, config, layout, party, resolver=resolver)
    if batch is None:
        batch = read_exact(path, data, config, layout, party, resolver=resolver)
    return batch


def read_fast(path: Path, data: bytes, config: Config, layout: AgencyLayout,
              party: str | None = None, *, resolver: StationResolver | None = None
              ) -> Batch | None:
    """The file's observations by the fast path alone, or None when it declines the file
    (the exact path must then decide).  When it takes the file it may still raise
    IngestError from the shared assembly (times going backwards, a repeated time with
    another value), as the exact path would."""
    resolver = resolver or StationResolver(config)
    rows = _rows_fast(path, data, config, layout, resolver)
    return None if rows is None else _assemble(path, rows, party, resolver, layout.id)


def read_exact(path: Path, data: bytes, config: Config, layout: AgencyLayout,
               party: str | None = None, *, resolver: StationResolver | None = None
               ) -> Batch:
    """The file's observations by the exact path alone (every error with its line)."""
    resolver = resolver or StationResolver(config)
    return _assemble(path, _rows_exact(path, data, config, layout, resolver), party, resolver,
                     layout.id)


# --------------------------------------------------------------------------- shared steps

def _columns(path: Path, header_line: str, skipped: int, layout: AgencyLayout
             ) -> tuple[list[str], dict[str, str], list[str]]:
    """(header names, analysis field -> header name, value variables present)."""
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
    return header, cols, value_vars


def _clock(path: Path, codes: np.ndarray, uniq, lines: np.ndarray, column: str) -> np.ndarray:
    """Observation terms 'hh:mm' (empty: the 08:00 term) of the distinct texts ``uniq``
    (``codes``: each row's index into them) as timedelta64[ns]; '25:00' is an error."""
    return clock_times(path, codes, uniq, lines, column, empty="08:00")


def _phenomena(path: Path, codes: np.ndarray, uniq, lines: np.ndarray, column: str,
               vocab: Mapping[str, str]) -> np.ndarray:
    """Phenomena code (None for none or open water) of the distinct texts ``uniq``."""
    words = pd.Series(np.asarray(uniq, dtype=object)).fillna("").astype(str).str.strip().str.lower()
    unknown = [i for i, w in enumerate(words) if w and w not in vocab]
    if unknown:
        first = min(unknown, key=lambda i: int(np.flatnonzero(codes == i)[0]))
        pos = int(np.flatnonzero(codes == first)[0])
        raise IngestError(path, f"unknown ice phenomenon '{words.iloc[first]}' (add it to "
                          "[phenomena] in config/sources.toml)", line=int(lines[pos]),
                          column=column)
    mapped = np.array([vocab.get(w) if w else None for w in words], dtype=object)
    mapped[mapped == "open_water"] = None
    return mapped


def _looks_like_metres(layout: AgencyLayout, val: _Values) -> float | None:
    """The largest stage when a stage in metres is written where cm is expected
    (implausibly small everywhere), else None."""
    if val.var != "stage" or layout.units[val.var] != "cm":
        return None
    num = val.num[~np.isnan(val.num)]
    if val.codes is not None:            # the distinct numbers: their max, then every row
        if not len(num) or np.abs(num * val.factor).max() >= 30:
            return None
        num = val.num[val.codes]
        num = num[~np.isnan(num)]
    kept = pd.Series(num * val.factor)
    if len(kept) and kept.abs().max() < 30 and kept.abs().median() < 15:
        return float(kept.abs().max())
    return None


def _assemble(path: Path, rows: _Rows, party: str | None, resolver: StationResolver,
              layout_id: str | None = None) -> Batch:
    """The observations frame: series after series (station in order of first appearance,
    then variable), each in time order; of a time given on several lines of a series only
    the last line is kept (a correction, or a repetition; times may go backwards: a
    correction for an earlier date, :func:`~hydro.readers.common.order_series`)."""
    n = len(rows.st_code)
    names = [val.var for val in rows.values]
    # (variable, file rows or None for all, values)
    parts: list[tuple[int, np.ndarray | None, np.ndarray]] = []
    for j, val in enumerate(rows.values):
        ok = ~np.isnan(val.num)
        scaled = val.num if val.factor == 1 else val.num * val.factor   # x * 1.0 == x
        if val.codes is None:
            if ok.all():
                parts.append((j, None, scaled))
            else:
                idx = np.flatnonzero(ok)
                parts.append((j, idx, scaled[idx]))
        elif ok.all():
            parts.append((j, None, scaled[val.codes]))
        elif ok.any():
            idx = np.flatnonzero(ok[val.codes])
            parts.append((j, idx, scaled[val.codes[idx]]))
    # pos: the file row of each value (None: every row in order); var: its variable
    var: np.ndarray | None = None
    if len(parts) == 1:
        j, pos, value = parts[0]
    elif not parts:
        j, pos, value = 0, np.zeros(0, dtype=np.intp), np.zeros(0)
    else:
        pos = np.concatenate([np.arange(n) if p is None else p for _, p, _ in parts])
        var = np.concatenate([np.full(len(v), j, dtype=np.int8) for j, _, v in parts])
        value = np.concatenate([v for _, _, v in parts])
    del parts
    st = rows.st_code if pos is None else rows.st_code[pos]
    st = st.astype(np.int16, copy=False) if len(rows.st_names) < 2 ** 15 else st
    # the values are in variable, then file order: a stable sort by station gives series
    # after series, each in file order (= np.lexsort((line, var, station)), in linear time)
    order = None
    if len(st) > 1 and not (st[1:] >= st[:-1]).all():
        order = np.argsort(st, kind="stable")
    if order is not None:
        pos = order if pos is None else pos[order]
        value, st = value[order], st[order]
        var = None if var is None else var[order]
    t = rows.time if pos is None else rows.time[pos]
    if len(value) > 1:
        same_series = st[1:] == st[:-1]
        if var is not None:
            same_series &= var[1:] == var[:-1]
        back = same_series & (t[1:] < t[:-1])
        same_t = same_series & (t[1:] == t[:-1])
        if back.any() or same_t.any():
            # out of time order, or a time given twice: time order, the last line of a
            # repeated time wins (a correction; hydro.readers.common.order_series)
            line = _lines(rows, np.arange(len(value)) if pos is None else pos)
            series = st.astype(np.int64) * 256
            if var is not None:
                series += var
            k = np.lexsort((line, t, series))
            sk, tk = series[k], t[k]
            last = np.ones(len(k), dtype=bool)
            last[:-1] = (sk[1:] != sk[:-1]) | (tk[1:] != tk[:-1])
            keep = k[last]
            pos = keep if pos is None else pos[keep]
            value, st, t = value[keep], st[keep], t[keep]
            var = None if var is None else var[keep]
    m = len(value)
    # string columns as categoricals: codes the reader already has, nothing hashed again
    # (the ingest groups by them; see hydro.services.ingest)
    if var is None:
        variable, unit = _const(names[j], m), _const(_unit(names[j]), m)
    else:
        variable = _categorical(var, names)
        unit = _categorical(var, [_unit(v) for v in names])
    who = party or None
    if who:
        parties = _const(who, m)
    else:
        parties = _categorical(st, [resolver.country(x) for x in rows.st_names])
    ice = np.where(np.isin(rows.phen_map, list(ICE_PHENOMENA)), int(QC.ICE), 0)
    ice = ice.astype(np.int64)
    if rows.phen_code is None:
        phen = np.zeros(m, dtype=np.int64)
        flags = np.full(m, ice[0], dtype=np.int64)
    else:
        phen = rows.phen_code if pos is None else rows.phen_code[pos]
        flags = ice[phen]
    phen_labels = list(rows.phen_map)
    stage = names.index("stage") if "stage" in names else -1
    if var is not None:                  # phenomena and ice flags belong to the stage
        other = var != stage
        phen = np.where(other, len(phen_labels), phen)
        phen_labels.append(None)
        flags[other] = 0
    elif j != stage:
        phen, phen_labels = np.zeros(m, dtype=np.int64), [None]
        flags = np.zeros(m, dtype=np.int64)
    columns: dict[str, np.ndarray | pd.Categorical] = {
        "station_id": _categorical(st, list(rows.st_names)), "variable": variable, "time": t,
        "value": value, "unit": unit, "party": parties,
        "phenomena": _categorical(phen, phen_labels), "qc_flags": flags,
        "line": _lines(rows, pos, m)}
    # typed Series: pandas does not scan the object columns for dates to infer
    index = pd.RangeIndex(m)
    out = pd.DataFrame({k: pd.Series(v, index=index, dtype=v.dtype, copy=False)
                        for k, v in columns.items()}, copy=False)
    return Batch(path, "agency_csv", layout=layout_id, observations=out)


def _unit(var: str) -> str:
    return "cm" if var == "stage" else "m3/s"


def _lines(rows: _Rows, pos: np.ndarray | None, m: int = 0) -> np.ndarray:
    """File line numbers (int64) of the rows ``pos`` (None: the first ``m`` rows)."""
    if rows.lines is not None:
        return rows.lines[:m] if pos is None else rows.lines[pos]
    if pos is None:
        return np.arange(rows.first_line, rows.first_line + m, dtype=np.int64)
    return (pos + rows.first_line).astype(np.int64, copy=False)


def _categorical(codes: np.ndarray, labels: Sequence[str | None]) -> pd.Categorical:
    """Labels (may repeat, may hold None) indexed by ``codes`` as a categorical column
    whose categories are the labels that occur, sorted: the same column whichever way the
    file was read."""
    uniq: dict[str, int] = {}
    lut = np.array([-1 if x is None else uniq.setdefault(x, len(uniq)) for x in labels],
                   dtype=np.int64)
    mapped = lut[np.asarray(codes, dtype=np.int64)]
    present = np.bincount(mapped[mapped >= 0], minlength=len(uniq)) > 0
    cats = sorted(u for u, i in uniq.items() if present[i])
    rank = {u: k for k, u in enumerate(cats)}
    lut2 = np.array([rank.get(u, -1) for u in uniq] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(lut2[mapped], pd.Index(cats, dtype=object))


def _const(value: str, n: int) -> pd.Categorical:
    """``n`` times ``value`` as a categorical (no categories when empty, as _categorical)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8),
                                     pd.Index([value] if n else [], dtype=object))


# --------------------------------------------------------------------------- exact path

def _rows_exact(path: Path, data: bytes, config: Config, layout: AgencyLayout,
                resolver: StationResolver) -> _Rows:
    """The rows from the decoded text, every error named with its line and column."""
    text = decode(path, data, layout.encodings)
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        # CR alone ends lines (old Mac files): number lines as str.splitlines() does
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    _, header_line, body_at, skipped = split_head(text)
    if header_line is None:
        raise IngestError(path, "no header line")
    header, cols, value_vars = _columns(path, header_line, skipped, layout)
    body = text[body_at:]
    if not body.strip():
        raise IngestError(path, "no data lines after the header (truncated file?)")
    frame, lines = _read_rows(path, body, layout.delimiter, len(header), skipped,
                              raw=_utf8_body(data, text, body_at))
    if frame.empty:
        raise IngestError(path, "no data lines after the header (truncated file?)")
    frame.columns = header
    st_ids, st_idx = resolve_station_codes(path, frame[cols["station"]].str.strip(), resolver,
                                           lines, cols["station"])
    # one station may be written under two codes (post code and id): number the ids
    st_of_code, st_uniq = pd.factorize(st_ids)
    st_code = st_of_code[st_idx]
    st_names = np.asarray(st_uniq, dtype=object)
    dates = parse_dates(path, frame[cols["date"]], layout.date_format, lines, cols["date"],
                        TimeWindow.of(config))
    if cols.get("time"):
        codes, uniq = pd.factorize(frame[cols["time"]], use_na_sentinel=False)
        hm = _clock(path, codes, uniq, lines, cols["time"])
        dates = dates + pd.Series(hm[codes], index=dates.index)
    time_utc = local_to_utc(dates, None, resolver, codes=(st_names, st_code))
    phen_code, phen_map = None, np.array([None], dtype=object)
    if cols.get("phenomena"):
        phen_code, uniq = pd.factorize(frame[cols["phenomena"]], use_na_sentinel=False)
        phen_map = _phenomena(path, phen_code, uniq, lines, cols["phenomena"],
                              config.sources.phenomena)
    values = []
    for var in value_vars:
        num = to_number(path, frame[cols[var]], lines, cols[var], decimal=layout.decimal)
        val = _Values(var, None, num.to_numpy(dtype=float),
                      factor(layout.units[var], _DIMENSION[var]))
        largest = _looks_like_metres(layout, val)
        if largest is not None:
            raise IngestError(path, "stage values look like metres but this layout "
                              f"expects cm (largest value {largest:g})", column=cols[var])
        values.append(val)
    return _Rows(first_line=skipped + 2, lines=np.asarray(lines, dtype=np.int64),
                 st_names=st_names, st_code=st_code,
                 time=np.asarray(time_utc.to_numpy(), dtype="datetime64[ns]"),
                 phen_code=phen_code, phen_map=phen_map, values=values)


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

    ``raw`` is the body as UTF-8 bytes when the caller has it without re-encoding.  Regular
    files are split by pyarrow; anything else goes to :func:`_read_rows_exact`, which also
    produces every error message.
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


# --------------------------------------------------------------------------- fast path

#: how much of the file the header is looked for in (banner lines, then the header)
_HEAD = 1 << 16


def _rows_fast(path: Path, data: bytes, config: Config, layout: AgencyLayout,
               resolver: StationResolver) -> _Rows | None:
    """The rows straight from the raw bytes, or None when the exact path must decide."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    d = layout.delimiter
    if len(d) != 1 or not d.isascii() or d in "\r\n" or not data[:4096].strip():
        return None
    try:
        return _rows_fast_unchecked(path, data, config, layout, resolver, pa, pacsv)
    except Exception:  # noqa: BLE001 - anything unexpected: the exact path decides
        return None


def _rows_fast_unchecked(path: Path, data: bytes, config: Config, layout: AgencyLayout,
                         resolver: StationResolver, pa, pacsv) -> _Rows | None:
    """:func:`_rows_fast`; may raise (IngestError from the shared conversions and more)."""
    enc = _encoding(data, layout.encodings, pa)
    if enc is None:
        return None
    codec, start = enc
    # the header: in the first lines (cut at a line end, so no character is split)
    chunk = data[start:start + _HEAD]
    if len(data) - start > _HEAD:
        cut = chunk.rfind(b"\n")
        if cut < 0:
            return None
        chunk = chunk[:cut + 1]
    head = chunk.decode(codec)
    _, header_line, body_at, skipped = split_head(head)
    if header_line is None:
        return None
    body_start = start + len(head[:body_at].encode(codec))
    lead = data[start:body_start]
    if lead.count(b"\r") != lead.count(b"\r\n") or body_start >= len(data):
        # a CR alone before the body ends lines there too: the exact path renumbers them
        return None
    header, cols, value_vars = _columns(path, header_line, skipped, layout)
    ncols = len(header)
    if ncols < 2 or len(set(header)) != ncols:
        return None
    names = [str(i) for i in range(ncols)]
    keys = ["station", "date", *[k for k in ("time", "phenomena") if cols.get(k)],
            *value_vars]
    pos = {k: header.index(cols[k]) for k in keys}
    wanted = sorted(set(pos.values()))
    # blank lines at the end (the exact path skips them) are left out; any other blank line
    # becomes a row of empty fields below
    end = len(data)
    while end > body_start and data[end - 1] in b"\r\n":
        end -= 1
    if end == body_start:
        return None
    table = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(data)[body_start:end]),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=True),
        # no quoting; an empty line is a row of empty fields (station code ''), a short or
        # long line an error: either sends the file to the exact path
        parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, quote_char=False,
                                         double_quote=False, escape_char=False,
                                         newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types={names[i]: pa.binary() for i in wanted},
            include_columns=[names[i] for i in wanted], check_utf8=False,
            strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[]))
    n = table.num_rows
    if n == 0:
        return None
    # the columns are hashed in parallel (arrow releases the GIL); threads of this call
    # only: a pool kept across calls would hang in a forked child
    from concurrent.futures import ThreadPoolExecutor

    columns = [table.column(names[i]) for i in wanted]
    del table
    with ThreadPoolExecutor(max_workers=min(4, len(wanted))) as ex:
        found = list(ex.map(lambda c: _distinct(c, codec, pa), columns))
    del columns
    distinct = dict(zip(wanted, found, strict=True))
    if any(v is None for v in distinct.values()):
        return None

    def column(key: str) -> tuple[np.ndarray, np.ndarray]:
        return distinct[pos[key]]  # type: ignore[return-value]

    def texts_of(key: str) -> tuple[np.ndarray, pd.Series, np.ndarray]:
        """(row codes, the distinct texts, placeholder line numbers for them)."""
        codes, texts = column(key)
        return codes, pd.Series(texts, dtype=object), np.zeros(len(texts), dtype=int)

    # stations: each distinct code once
    codes, st_texts = column("station")
    k = len(st_texts)
    if k > 1:
        # numbered in order of first appearance (as pandas.factorize does), checked where
        # it matters most (the order of the series): each code at most one more than every
        # code before it, up to the first appearance of the last one
        prefix = codes[:int(np.argmax(codes == k - 1)) + 1]
        if prefix[0] != 0 or (prefix[1:] > np.maximum.accumulate(prefix)[:-1] + 1).any():
            return None
    stripped = [s.strip() for s in st_texts]
    if "" in stripped:
        return None                       # a blank line, or no code: the exact path decides
    ids = np.array([resolver.resolve(s) for s in stripped], dtype=object)
    if pd.isna(ids).any():
        return None
    st_of_text, st_uniq = pd.factorize(ids)
    small = np.int16 if len(st_uniq) < 2 ** 15 else np.int32
    st_code = (codes if len(st_uniq) == k else st_of_text[codes]).astype(small)
    st_names = np.asarray(st_uniq, dtype=object)
    # dates and terms: the distinct texts through the exact path's own conversions
    d_codes, texts, dummy = texts_of("date")
    day = parse_dates(path, texts, layout.date_format, dummy, cols["date"], TimeWindow.of(config))
    day_ns = day.to_numpy(dtype="datetime64[ns]").view(np.int64)
    hm_ns, h_codes = np.zeros(1, dtype=np.int64), np.broadcast_to(np.int32(0), (n,))
    if cols.get("time"):
        h_codes, texts, dummy = texts_of("time")
        hm = _clock(path, np.arange(len(texts)), texts, dummy, cols["time"])
        hm_ns = hm.astype("timedelta64[ns]").view(np.int64)
        # date + term must not overflow (the exact path's pandas sum would raise)
        lo = int(day_ns.min()) + int(hm_ns.min())
        hi = int(day_ns.max()) + int(hm_ns.max())
        if lo <= np.iinfo(np.int64).min + 1 or hi >= np.iinfo(np.int64).max:
            return None
    # each row's local time as an index into the distinct local times
    nd, nh = len(day_ns), len(hm_ns)
    if nd * nh <= 4 * n + 1024:           # every (date, term) pair, then the distinct times
        canon, t_uniq = pd.factorize((day_ns[:, None] + hm_ns[None, :]).ravel())
        t_dtype: type[np.signedinteger] = np.int64 if nd * nh >= 2 ** 31 else np.int32
        t_codes = d_codes.astype(t_dtype)
        t_codes *= nh
        t_codes += h_codes
        if not (canon == np.arange(nd * nh)).all():
            t_codes = canon[t_codes]
    else:
        local = day_ns[d_codes]
        local += hm_ns[h_codes]
        t_codes, t_uniq = pd.factorize(local)
        del local
    time_utc = local_codes_to_utc(t_codes, np.asarray(t_uniq).view("datetime64[ns]"), st_code,
                                  st_names, resolver)
    del t_codes, d_codes, h_codes
    phen_code, phen_map = None, np.array([None], dtype=object)
    if cols.get("phenomena"):
        codes, texts, dummy = texts_of("phenomena")
        phen_map = _phenomena(path, np.arange(len(texts)), texts, dummy, cols["phenomena"],
                              config.sources.phenomena)
        phen_code = codes if len(texts) > 1 else None
    values = []
    for var in value_vars:
        codes, texts, dummy = texts_of(var)
        if len(texts) == 1 and texts.iloc[0] == "":
            num = np.array([np.nan])       # an empty column (what to_number makes of it)
        else:
            num = to_number(path, texts, dummy, cols[var], decimal=layout.decimal
                            ).to_numpy(dtype=float)
        val = _Values(var, codes, num, factor(layout.units[var], _DIMENSION[var]))
        if _looks_like_metres(layout, val) is not None:
            return None
        values.append(val)
    return _Rows(first_line=skipped + 2, lines=None, st_names=st_names, st_code=st_code,
                 time=time_utc, phen_code=phen_code, phen_map=phen_map, values=values)


def _encoding(data: bytes, encodings: list[str], pa) -> tuple[str, int] | None:
    """(codec of the bytes, offset of the text) as :func:`decode` would choose them, or None
    for an encoding this path does not know (or none that works).

    UTF-8 is validated by arrow without building a str; cp1251 decodes every byte but 0x98.
    """
    for enc in encodings:
        name = codecs.lookup(enc).name
        if name in ("utf-8", "utf-8-sig"):
            if _valid_utf8(data, pa):
                sig = name == "utf-8-sig" and data.startswith(codecs.BOM_UTF8)
                return "utf-8", 3 if sig else 0
        elif name == "cp1251":
            if b"\x98" not in data:
                return "cp1251", 0
        else:
            return None
    return None


def _valid_utf8(data: bytes, pa) -> bool:
    """Whether ``data.decode("utf-8")`` succeeds."""
    head = data[:4096]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:       # not just a character cut at the end
            return False
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    arr = pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _distinct(column, codec: str, pa) -> tuple[np.ndarray, np.ndarray] | None:
    """(each row's index into the distinct texts (int32), the distinct texts as str) of a
    binary column, the texts in order of first appearance (as pandas.factorize numbers them).

    A column of one text (an empty discharge column) gives a read-only zero-stride index."""
    if column.null_count:
        return None
    n = len(column)
    chunks = [c for c in column.chunks if len(c)]
    size = 0
    for c in chunks:
        off = np.frombuffer(c.buffers()[1], dtype=np.int32, count=len(c) + 1, offset=c.offset * 4)
        size += int(off[-1]) - int(off[0])
    if size == 0:
        return np.broadcast_to(np.int32(0), (n,)), np.array([""], dtype=object)
    enc = column.dictionary_encode()
    chunks = [c for c in enc.chunks if len(c)]
    dictionary = chunks[0].dictionary
    if any(not c.dictionary.equals(dictionary) for c in chunks[1:]):
        return None
    if len(dictionary) == 1:
        codes = np.broadcast_to(np.int32(0), (n,))
    elif len(chunks) == 1:
        codes = chunks[0].indices.to_numpy()
    else:
        codes = np.concatenate([c.indices.to_numpy() for c in chunks])
    texts = np.array([b.decode(codec) for b in dictionary.to_pylist()], dtype=object)
    return codes, texts
