"""Shared reading machinery: decoding, comment headers, station resolution, local time."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hydro.config import Config
from hydro.errors import IngestError
from hydro.network import BASIN_STATION_TIMEZONE
from hydro.qc import group_ids  # noqa: F401  (re-exported for the readers)

OBS_COLUMNS = ["station_id", "variable", "time", "value", "unit", "party", "phenomena",
               "qc_flags", "line"]
QUALITY_COLUMNS = ["site_id", "time", "parameter", "value", "censored", "unit", "party", "line"]


@dataclass
class Batch:
    """What one file holds, in canonical units: observations or water-quality samples."""

    path: Path
    format: str
    observations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OBS_COLUMNS))
    quality: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUALITY_COLUMNS))

    @property
    def rows(self) -> int:
        return len(self.observations) + len(self.quality)


def decode(path: Path, data: bytes, encodings: list[str]) -> str:
    """Decode with the first encoding that works; a clear error when none does."""
    if not data.strip():
        raise IngestError(path, "the file is empty")
    for enc in encodings:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    # find the first undecodable line for the message
    first = data.decode(encodings[0], errors="replace").splitlines()
    bad = next((i + 1 for i, ln in enumerate(first) if "\ufffd" in ln), None)
    raise IngestError(path, f"cannot decode the file as {' or '.join(encodings)} "
                      "(wrong encoding?)", line=bad)


def split_comments(text: str) -> tuple[list[str], list[str], int]:
    """(comment lines, remaining lines, number of leading lines skipped)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        i += 1
    return lines[:i], lines[i:], i


def split_head(text: str) -> tuple[list[str], str | None, int, int]:
    """(comment lines, header line, offset of the body in ``text``, lines before the header).

    Like :func:`split_comments` without splitting the whole text into lines: the body (the
    lines after the header) stays one string, ``text[offset:]``.
    """
    comments: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        end = text.find("\n", pos)
        end = n if end < 0 else end
        line = text[pos:end].rstrip("\r")
        if line.startswith("#") or not line.strip():
            comments.append(line)
            pos = end + 1
            continue
        return comments, line, min(end + 1, n), len(comments)
    return comments, None, n, len(comments)


class StationResolver:
    """Maps the codes written in files to configured station ids."""

    def __init__(self, config: Config) -> None:
        net = config.network
        self._map: dict[str, str] = {}
        self._tz: dict[str, str] = {}
        self._country: dict[str, str] = {}
        for table in (net.gauges, net.reservoirs):
            for sid, obj in table.items():
                self._map[sid] = sid
                self._map.setdefault(sid.split(":", 1)[1], sid)
                code = getattr(obj, "post_code", None)
                if code:
                    self._map[code] = sid
                self._tz[sid] = obj.timezone
                self._country[sid] = obj.country
        for basin in net.basins:  # basin-mean series: BASIN:<id>, UTC days, no country
            sid = net.basin_station(basin)
            self._map[sid] = sid
            self._tz[sid] = BASIN_STATION_TIMEZONE

    def resolve(self, code: str) -> str | None:
        return self._map.get(code.strip())

    def timezone(self, station_id: str) -> str:
        return self._tz[station_id]

    def country(self, station_id: str) -> str:
        """The station's country ("" for a basin-mean series: the file names its party)."""
        return self._country.get(station_id, "")

    def is_reservoir(self, config: Config, station_id: str) -> bool:
        return station_id in config.network.reservoirs


def resolve_station_codes(path: Path, codes: pd.Series, resolver: StationResolver,
                          lines: np.ndarray, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(station ids of the distinct codes, index of each row into them); the first
    unknown code is an error naming its line."""
    idx, uniq = pd.factorize(codes, use_na_sentinel=False)
    ids = np.array([resolver.resolve(str(c)) for c in uniq], dtype=object)
    unknown = np.flatnonzero(pd.isna(ids))
    if unknown.size:
        # factorize numbers uniques in order of first appearance: the lowest is the earliest
        pos = int(np.flatnonzero(idx == unknown[0])[0])
        raise IngestError(path, f"unknown station '{uniq[unknown[0]]}' (not in "
                          "config/basins.toml)", line=int(lines[pos]), column=column)
    return ids, idx


def read_semicolon_table(path: Path, data: bytes, encodings: list[str], required: list[str]
                         ) -> tuple[pd.DataFrame, list[str], np.ndarray, int]:
    """Decode a ';'-separated table with '#' header comments; check its required columns.

    Returns (frame of text cells, header, file line number of each row, comment lines).
    """
    text = decode(path, data, encodings)
    _, rest, skipped = split_comments(text)
    if len(rest) < 2:
        raise IngestError(path, "no data lines after the header (truncated file?)")
    header = [h.strip() for h in rest[0].split(";")]
    missing = [c for c in required if c not in header]
    if missing:
        raise IngestError(path, f"missing column '{missing[0]}'", line=skipped + 1)
    try:
        frame = pd.read_csv(io.StringIO("\n".join(rest)), sep=";", dtype=str,
                            keep_default_na=False)
    except pd.errors.ParserError as e:
        raise IngestError(path, f"malformed CSV: {e}") from None
    lines = np.arange(skipped + 2, skipped + 2 + len(frame))
    return frame, header, lines, skipped


def resolve_stations(path: Path, codes: pd.Series, resolver: StationResolver,
                     lines: np.ndarray, column: str) -> pd.Series:
    """Vectorised code -> station id; the first unknown code is an error naming its line."""
    ids, idx = resolve_station_codes(path, codes, resolver, lines, column)
    return pd.Series(ids[idx], index=codes.index, dtype=object)


def _first_row(codes: np.ndarray, bad_uniques: np.ndarray) -> int:
    """Row of the first occurrence of any of ``bad_uniques`` (codes from pd.factorize)."""
    return int(np.flatnonzero(np.isin(codes, bad_uniques))[0])


def to_number(path: Path, text: pd.Series, lines: np.ndarray, column: str,
              decimal: str = ".") -> pd.Series:
    """Parse numbers; empty cells are NaN; text in a numeric column is an error.

    Each distinct text is parsed once (a stage in whole centimetres has a few hundred
    distinct values in a year of hourly readings).
    """
    codes, uniq = pd.factorize(text, use_na_sentinel=False)
    u = pd.Series(np.asarray(uniq, dtype=object)).fillna("").astype(str).str.strip()
    if decimal == ",":
        point = u.str.contains(".", regex=False).to_numpy()
        if point.any():
            pos = _first_row(codes, np.flatnonzero(point))
            raise IngestError(path, f"'{u.iloc[codes[pos]]}' uses a decimal point but this "
                              "layout writes a decimal comma", line=int(lines[pos]),
                              column=column)
        u = u.str.replace(",", ".", regex=False)
    else:
        comma = u.str.contains(",", regex=False).to_numpy()
        if comma.any():
            pos = _first_row(codes, np.flatnonzero(comma))
            raise IngestError(path, f"'{u.iloc[codes[pos]]}' uses a decimal comma but this "
                              "layout writes a decimal point", line=int(lines[pos]),
                              column=column)
    num = pd.to_numeric(u.where(u != ""), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(num) & (u != "").to_numpy()
    if bad.any():
        pos = _first_row(codes, np.flatnonzero(bad))
        raise IngestError(path, f"'{u.iloc[codes[pos]]}' is not a number", line=int(lines[pos]),
                          column=column)
    return pd.Series(num[codes], index=text.index)


def parse_dates(path: Path, text: pd.Series, fmt: str, lines: np.ndarray, column: str
                ) -> pd.Series:
    """Parse dates in ``fmt``; each distinct text once; the first bad one names its line."""
    codes, uniq = pd.factorize(text, use_na_sentinel=False)
    u = pd.Series(np.asarray(uniq, dtype=object)).fillna("").astype(str).str.strip()
    d = pd.to_datetime(u, format=fmt, errors="coerce")
    if d.isna().any():
        pos = _first_row(codes, np.flatnonzero(d.isna().to_numpy()))
        raise IngestError(path, f"'{text.iloc[pos]}' is not a date in the form {fmt}",
                          line=int(lines[pos]), column=column)
    return pd.Series(d.to_numpy(dtype="datetime64[ns]")[codes], index=text.index)


def local_to_utc(local: pd.Series, station_ids: pd.Series | None, resolver: StationResolver,
                 codes: tuple[np.ndarray, np.ndarray] | None = None) -> pd.Series:
    """Naive local times at each station -> naive UTC (per-station IANA time zone).

    A local time that does not exist (clocks moved forward) is shifted forward.  A local
    time that occurs twice (clocks moved back, as in Russia on 26 October 2014 or
    Kazakhstan on 1 March 2024) takes the earlier offset at its first occurrence for the
    station and the later offset at a repeated occurrence, so an hourly logger writing
    01:00 twice keeps both readings in order.  ``codes`` (the distinct station ids and
    each row's index into them) saves factorising the ids again (``station_ids`` is then
    not used).  NaT stays NaT.
    """
    values = np.asarray(local.to_numpy(), dtype="datetime64[ns]")
    if codes is not None:
        st_uniq, st_codes = codes
    else:
        st_codes, st_uniq = pd.factorize(station_ids.to_numpy())  # type: ignore[union-attr]
    t_codes, t_uniq = pd.factorize(values, use_na_sentinel=False)
    out = local_codes_to_utc(t_codes, np.asarray(t_uniq, dtype="datetime64[ns]"), st_codes,
                             st_uniq, resolver)
    return pd.Series(out, index=local.index)


def local_codes_to_utc(t_codes: np.ndarray, t_uniq: np.ndarray, st_codes: np.ndarray,
                       st_uniq: np.ndarray, resolver: StationResolver) -> np.ndarray:
    """:func:`local_to_utc` of the rows' local times given as an index (``t_codes``) into
    distinct times ``t_uniq`` (no two equal), stations as an index into station ids.

    Each distinct (time zone, local time) pair is converted once: hourly readings of many
    stations share a few thousand of them.
    """
    zones = np.array([resolver.timezone(s) for s in st_uniq], dtype=object)
    z_of_st, z_uniq = pd.factorize(zones)
    nt, nz = len(t_uniq), len(z_uniq)
    # each row's (zone, local time) pair, numbered z * nt + t
    if nz == 1:
        key = t_codes
    else:
        key = z_of_st.astype(np.int32 if nz * nt < 2 ** 31 else np.int64)[st_codes]
        key *= nt
        key += t_codes
    dense = nz * nt <= 4 * len(t_codes) + 1024
    if dense:                                 # a table over every pair
        used = np.zeros(nz * nt, dtype=bool)
        used[key] = True
        slot_of_row, size = key, nz * nt
    else:                                     # a table over the pairs that occur
        slot_of_row, pairs = pd.factorize(key)
        size = len(pairs)
        pair_zone, pair_time = np.divmod(pairs, nt)
    nat = np.datetime64("NaT", "ns")
    lut = np.full(size, nat, dtype="datetime64[ns]")
    later = lut.copy()                        # the later offset of an ambiguous time
    ambiguous = []
    for z, tz in enumerate(z_uniq):
        if dense:
            ti = np.flatnonzero(used[z * nt:(z + 1) * nt])
            s = ti + z * nt
        else:
            s = np.flatnonzero(pair_zone == z)
            ti = pair_time[s]
        tv = t_uniq[ti]
        known = ~np.isnat(tv)
        s, di = s[known], pd.DatetimeIndex(tv[known])
        conv = di.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        utc = np.asarray(conv.tz_convert("UTC").tz_localize(None), dtype="datetime64[ns]")
        amb = np.flatnonzero(np.isnat(utc))
        if amb.size:
            utc[amb] = np.asarray(di[amb].tz_localize(tz, ambiguous=np.ones(amb.size, bool))
                                  .tz_convert("UTC").tz_localize(None), dtype="datetime64[ns]")
            later[s[amb]] = np.asarray(di[amb].tz_localize(tz, ambiguous=np.zeros(amb.size, bool))
                                       .tz_convert("UTC").tz_localize(None),
                                       dtype="datetime64[ns]")
            ambiguous.append(s[amb])
        lut[s] = utc
    out = lut[slot_of_row]
    if ambiguous:
        is_amb = np.zeros(size, dtype=bool)
        is_amb[np.concatenate(ambiguous)] = True
        sub = np.flatnonzero(is_amb[slot_of_row])
        # a station's second reading at an ambiguous local time takes the later offset
        repeat = pd.DataFrame({"s": st_codes[sub], "t": t_codes[sub]}).duplicated()
        rep = sub[repeat.to_numpy()]
        out[rep] = later[slot_of_row[rep]]
    return out


def check_order(path: Path, frame: pd.DataFrame, key: list[str], value_col: str = "value"
                ) -> np.ndarray:
    """Times must not go backwards per series; a repeated time must repeat its value.

    ``frame`` holds the rows of each series in file order (series need not be contiguous).
    Raises :class:`IngestError` naming the earliest offending line; returns a boolean mask
    of rows that merely repeat the row before them (same time, same value) for the caller
    to drop.
    """
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=bool)
    series = group_ids(*(frame[k].to_numpy() for k in key))
    line = frame["line"].to_numpy()
    order = np.lexsort((line, series))          # by series, then file order
    s = series[order]
    t = np.asarray(frame["time"].to_numpy(), dtype="datetime64[ns]")[order]
    v = frame[value_col].to_numpy()[order]
    same_series = s[1:] == s[:-1]
    back = same_series & (t[1:] < t[:-1])
    same_t = same_series & (t[1:] == t[:-1])
    a, b = v[:-1], v[1:]
    equal = (a == b) | (pd.isna(a) & pd.isna(b))
    conflict = same_t & ~equal
    bad_back = np.flatnonzero(back) + 1
    bad_dup = np.flatnonzero(conflict) + 1
    first_back = int(line[order][bad_back].min()) if bad_back.size else None
    first_dup = int(line[order][bad_dup].min()) if bad_dup.size else None
    if first_back is not None and (first_dup is None or first_back <= first_dup):
        i = int(bad_back[np.argmin(line[order][bad_back])])
        raise IngestError(path, f"time goes backwards ({pd.Timestamp(t[i])} after "
                          f"{pd.Timestamp(t[i - 1])})", line=first_back)
    if first_dup is not None:
        i = int(bad_dup[np.argmin(line[order][bad_dup])])
        raise IngestError(path, f"duplicate time {pd.Timestamp(t[i])} with a different value "
                          f"({a[i - 1]} then {b[i - 1]})", line=first_dup)
    repeat = np.zeros(n, dtype=bool)
    repeat[order[1:][same_t]] = True
    return repeat
