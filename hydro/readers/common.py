"""Shared reading machinery: decoding, comment headers, station resolution, local time,
and the checks every reader applies to what it reads: numbers are finite, dates lie within
the plausible window (:class:`TimeWindow`), clock times exist, a series is put in time order
with the later line of a repeated time taken as a correction (:func:`order_series`)."""

from __future__ import annotations

import datetime as dt
import re
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
    #: the agency layout the file was read with (None for formats without layouts)
    layout: str | None = None
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


def utcnow() -> dt.datetime:
    """The time of reading, naive UTC (a module-level name, so a test can set the clock)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


#: the range numpy's datetime64[ns] can hold (a date outside it would wrap around)
_NS_MIN = np.datetime64("1678-01-01", "ns")
_NS_MAX = np.datetime64("2262-01-01", "ns")


@dataclass(frozen=True)
class TimeWindow:
    """The times a reader accepts: from 1 January of ``[ingest] earliest_year`` to the time
    of reading plus ``[ingest] future_tolerance`` (config/settings.toml)."""

    earliest: np.datetime64
    latest: np.datetime64
    earliest_year: int
    tolerance: str

    @classmethod
    def of(cls, config: Config | None, now: dt.datetime | None = None) -> TimeWindow:
        """The window of ``config`` (the defaults without one) at ``now`` (default: now)."""
        from hydro.units import factor

        ing = config.settings.ingest if config is not None else None
        year = ing.earliest_year if ing is not None else 1900
        if ing is not None:
            seconds = ing.future_tolerance.to("duration") / factor("s", "duration")
            tol = str(ing.future_tolerance)
        else:
            seconds, tol = 2 * 86400.0, "2 d"
        now = now or utcnow()
        latest = np.datetime64(now, "ns") + np.timedelta64(int(seconds * 1e9), "ns")
        return cls(np.datetime64(f"{year:04d}-01-01", "ns"), min(latest, _NS_MAX), year, tol)

    def problem(self, t: np.datetime64) -> str:
        """Why ``t`` (outside the window) is refused."""
        if bool(np.asarray(t).astype("datetime64[s]") < self.earliest.astype("datetime64[s]")):
            return (f"is before {self.earliest_year} (the earliest plausible year, [ingest] "
                    "earliest_year in config/settings.toml; a typo in the year?)")
        return (f"is in the future (later than the time of reading plus {self.tolerance}, "
                "[ingest] future_tolerance in config/settings.toml; a typo in the year?)")

    def check(self, path: Path, times: np.ndarray, lines: np.ndarray | None, column: str,
              texts: pd.Series | None = None) -> None:
        """Refuse the first time (in file order) outside the window, naming its line and
        its text (``texts``, one per time) or the time itself."""
        t = np.asarray(times, dtype="datetime64[ns]")
        bad = ~np.isnat(t) & ((t < self.earliest) | (t > self.latest))
        if not bad.any():
            return
        order = np.flatnonzero(bad)
        if lines is not None:
            order = order[np.argsort(np.asarray(lines)[order], kind="stable")]
        i = int(order[0])
        shown = str(texts.iloc[i]).strip() if texts is not None else str(pd.Timestamp(t[i]))
        raise IngestError(path, f"'{shown}' {self.problem(t[i])}",
                          line=None if lines is None else int(np.asarray(lines)[i]),
                          column=column)


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
    body = pd.Series(rest[1:], dtype=object)
    filled = (body.str.strip() != "").to_numpy()
    lines = np.flatnonzero(filled) + skipped + 2
    body = body[filled].reset_index(drop=True)
    if body.empty:
        raise IngestError(path, "no data lines after the header (truncated file?)")
    # every line has the header's fields: a line cut off mid-number ('...;124.01') is
    # refused, never read with its missing fields empty
    count = body.str.count(";").to_numpy() + 1
    wrong = np.flatnonzero(count != len(header))
    if wrong.size:
        i = int(wrong[0])
        raise IngestError(path, f"expected {len(header)} fields, found {int(count[i])} "
                          "(truncated line or wrong delimiter?)", line=int(lines[i]))
    frame = body.str.split(";", expand=True, regex=False)
    frame.columns = header
    if len(set(header)) != len(header):
        raise IngestError(path, "a column name is repeated in the header", line=skipped + 1)
    frame = frame.apply(lambda c: c.str.strip())
    return frame, header, lines, skipped


def resolve_stations(path: Path, codes: pd.Series, resolver: StationResolver,
                     lines: np.ndarray, column: str) -> pd.Series:
    """Vectorised code -> station id; the first unknown code is an error naming its line."""
    ids, idx = resolve_station_codes(path, codes, resolver, lines, column)
    return pd.Series(ids[idx], index=codes.index, dtype=object)


def _first_row(codes: np.ndarray, bad_uniques: np.ndarray) -> int:
    """Row of the first occurrence of any of ``bad_uniques`` (codes from pd.factorize)."""
    return int(np.flatnonzero(np.isin(codes, bad_uniques))[0])


#: a plain decimal number as the exchange formats write it (after a decimal comma became a
#: point): sign, digits, an optional fraction and exponent
_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
#: a clock time of day, 00:00 to 23:59, or 24:00 (ISO 8601: the end of the day, which is
#: 00:00 of the next)
_CLOCK = re.compile(r"^(?:(?:[01]?\d|2[0-3]):[0-5]\d|24:00)$")


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
    filled = (u != "").to_numpy()
    num = pd.to_numeric(u.where(filled), errors="coerce").to_numpy(dtype=float)
    # only plain decimal numbers: no 'nan', 'inf', 'Infinity', hex or digit separators
    plain = u.str.fullmatch(_NUMBER).to_numpy(dtype=bool)
    bad = filled & (np.isnan(num) | ~plain)
    if bad.any():
        pos = _first_row(codes, np.flatnonzero(bad))
        raise IngestError(path, f"'{u.iloc[codes[pos]]}' is not a number", line=int(lines[pos]),
                          column=column)
    huge = filled & ~np.isfinite(num)
    if huge.any():
        pos = _first_row(codes, np.flatnonzero(huge))
        raise IngestError(path, f"'{u.iloc[codes[pos]]}' is too large (not a finite number)",
                          line=int(lines[pos]), column=column)
    return pd.Series(num[codes], index=text.index)


def parse_dates(path: Path, text: pd.Series, fmt: str, lines: np.ndarray, column: str,
                window: TimeWindow | None = None) -> pd.Series:
    """Parse dates in ``fmt``; each distinct text once; the first bad one names its line.

    A date outside ``window`` (or, without one, outside what datetime64[ns] holds) is an
    error naming its line: pandas parses 01.04.3024 at microsecond resolution, and its
    conversion to nanoseconds would silently wrap around to 1855."""
    codes, uniq = pd.factorize(text, use_na_sentinel=False)
    u = pd.Series(np.asarray(uniq, dtype=object)).fillna("").astype(str).str.strip()
    d = pd.to_datetime(u, format=fmt, errors="coerce")
    if d.isna().any():
        pos = _first_row(codes, np.flatnonzero(d.isna().to_numpy()))
        raise IngestError(path, f"'{text.iloc[pos]}' is not a date in the form {fmt}",
                          line=int(lines[pos]), column=column)
    # compare at the parsed resolution, before any conversion to nanoseconds
    parsed = d.to_numpy()
    lo = window.earliest if window is not None else _NS_MIN
    hi = window.latest if window is not None else _NS_MAX - np.timedelta64(1, "D")
    secs = parsed.astype("datetime64[s]")   # coarser: no overflow either way
    out = (secs < lo.astype("datetime64[s]")) | (secs > hi.astype("datetime64[s]"))
    if out.any():
        pos = _first_row(codes, np.flatnonzero(out))
        w = window or TimeWindow(_NS_MIN, hi, 1678, "(none)")
        when = secs[codes[pos]]
        raise IngestError(path, f"'{u.iloc[codes[pos]]}' {w.problem(when)}",
                          line=int(lines[pos]), column=column)
    return pd.Series(parsed.astype("datetime64[ns]")[codes], index=text.index)


def clock_times(path: Path, codes: np.ndarray, uniq, lines: np.ndarray, column: str,
                empty: str | None = None) -> np.ndarray:
    """Clock times 'hh:mm' (00:00-23:59, or 24:00: the end of the day) of the distinct
    texts ``uniq`` (``codes``: each row's index into them) as timedelta64[ns]; ``empty``
    stands for an empty cell (None: an empty cell is an error).  '25:00' or '24:30' is an
    error naming its line, never 01:00 of the next day."""
    clock = pd.Series(np.asarray(uniq, dtype=object)).fillna("").astype(str).str.strip()
    if empty is not None:
        clock = clock.where(clock != "", empty)
    ok = np.array([bool(_CLOCK.match(c)) for c in clock], dtype=bool)
    if not ok.all():
        pos = _first_row(codes, np.flatnonzero(~ok))
        raise IngestError(path, f"'{clock.iloc[codes[pos]]}' is not a time of day hh:mm "
                          "(00:00 to 23:59, or 24:00 for the end of the day)", line=int(lines[pos]),
                          column=column)
    return pd.to_timedelta(clock + ":00").to_numpy(dtype="timedelta64[ns]")


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


def order_series(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The rows of each series (``key``) in time order, a time given on several lines
    once, by its last line.

    Within one file, a line for a time that an earlier line (or an earlier part of the
    file) already gave is a *correction*: it is accepted, and it is what is stored for that
    time (a value stored before from another file becomes the earlier revision).  Times
    need not be in order (a correction for an earlier date may come at the end).
    """
    n = len(frame)
    if n == 0:
        return frame
    series = group_ids(*(frame[k].to_numpy() for k in key))
    t = np.asarray(frame["time"].to_numpy(), dtype="datetime64[ns]")
    line = frame["line"].to_numpy()
    order = np.lexsort((line, t, series))
    s, ts = series[order], t[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = (s[1:] != s[:-1]) | (ts[1:] != ts[:-1])
    keep = order[last]
    if len(keep) == n and (keep == np.arange(n)).all():
        return frame
    return frame.iloc[keep].reset_index(drop=True)
