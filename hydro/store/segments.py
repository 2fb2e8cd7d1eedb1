"""Observation values on disk: packed segments, read back as one row per revision.

The data model is one observation per (station, variable, time, party, source) *revision*
(DESIGN.md).  Physically, the revisions one ingest run writes for one series (station,
variable, party, source) are kept together as one *segment*: a row of
``observation_segments`` holding the series, the run, ``received_at``, the time range and
the packed columns -- times (int64 ns since 1970, UTC; first time and step when evenly
spaced), values (float64, NaN = missing), QC flags (int16, or int32 if ever needed),
revision numbers (int32; NULL when all are first revisions) and, when any value has one,
the ice phenomena (int8 codes into the segment's own vocabulary).  Writing 175 000 values is then one
``INSERT`` of a few blobs instead of 175 000 B-tree row inserts: the reason is the ingest
target of issue #3 (parse + QC + store at most 3x a plain parse), which row storage in
SQLite cannot reach (the row insert alone costs ~5x the parse).

Nothing is overwritten: a correction is a new segment with the next revision of the
changed values only.  Reads select segments by series, time range (``t_first``/``t_last``),
``received_at`` (``as_of``) and run, decode them and, for "current" reads, keep the
highest revision of each (series, time).  Everything outside this module and
:mod:`hydro.store.api` sees rows (pandas frames), never blobs.

A store written before this layout (schema version 1, table ``observations``) is
converted by :func:`upgrade_from_rows` (``hydro.store.db``'s upgrade to version 2).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, and_, func, insert, select

from hydro.qc import group_ids, labels, sort_order
from hydro.store.models import ObservationSegment, ObservationSeries

#: the columns of a series' identity
SERIES_KEY = ["station_id", "variable", "party", "source"]
#: the columns of one revision, as every read returns them
ROW_COLUMNS = ["station_id", "variable", "time", "value", "unit", "party", "source",
               "qc_flags", "phenomena", "revision", "received_at", "ingest_run_id"]

_T = "<i8"    # times: ns since the epoch
_V = "<f8"    # values
_I = "<i4"    # revisions; flags when a flag needs more than 15 bits
_F = "<i2"    # flags
_P = "<i1"    # phenomena codes (-1 = none)


def encode_times(t: np.ndarray) -> bytes:
    """int64 ns, sorted; an evenly spaced series of more than two values is stored as its
    first time and step (16 bytes)."""
    if len(t) > 2:
        step = t[1] - t[0]
        if step > 0 and t[-1] - t[0] == step * (len(t) - 1) and (np.diff(t) == step).all():
            return np.array([t[0], step], dtype=_T).tobytes()
    return t.astype(_T).tobytes()


def decode_times(blob: bytes, n: int) -> np.ndarray:
    a = np.frombuffer(blob, _T)
    if n > 2 and len(a) == 2:
        return a[0] + a[1] * np.arange(n, dtype=np.int64)
    return a


def encode_flags(f: np.ndarray) -> bytes:
    """int16 when every flag fits (all of today's), else int32; told apart by length."""
    if len(f) == 0 or (f.min() >= 0 and f.max() < 2 ** 15):
        return f.astype(_F).tobytes()
    return f.astype(_I).tobytes()


def decode_flags(blob: bytes, n: int) -> np.ndarray:
    return np.frombuffer(blob, _F if len(blob) == 2 * n else _I).astype(np.int64)


def encode_revisions(r: np.ndarray) -> bytes | None:
    """None (NULL) when every value is a first revision -- most segments."""
    return None if (r == 1).all() else r.astype(_I).tobytes()


def decode_revisions(blob: bytes | None, n: int) -> np.ndarray:
    if blob is None:
        return np.ones(n, dtype=np.int64)
    return np.frombuffer(blob, _I).astype(np.int64)


def _naive(t) -> dt.datetime:
    return pd.Timestamp(t).to_pydatetime().replace(tzinfo=None)


# --------------------------------------------------------------------------- series

def series_ids(conn: Connection, keys: Iterable[tuple[str, str, str, str, str]],
               create: bool = True) -> dict[tuple[str, str, str, str], int]:
    """Id of each (station, variable, party, source, unit) series; new series are created.

    A series keeps the unit it was first stored in; a key arriving with another unit is a
    :class:`ValueError` (readers convert to the canonical unit of each variable, so this
    means a reader or a hand-written insert is wrong).
    """
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    s = ObservationSeries
    stations = sorted({k[0] for k in keys})
    have = {(r.station_id, r.variable, r.party, r.source): (r.id, r.unit)
            for r in conn.execute(select(s.id, s.station_id, s.variable, s.party, s.source,
                                         s.unit).where(s.station_id.in_(stations)))}
    out: dict[tuple[str, str, str, str], int] = {}
    for st, var, party, source, unit in keys:
        k = (st, var, party, source)
        if k in have:
            sid, stored_unit = have[k]
            if stored_unit != unit:
                raise ValueError(f"series {'/'.join(k)} is stored in {stored_unit!r}, "
                                 f"not {unit!r}")
            out[k] = sid
        elif create:
            sid = conn.execute(insert(s).values(station_id=st, variable=var, party=party,
                                                source=source, unit=unit)
                               ).inserted_primary_key[0]  # type: ignore[index]
            have[k] = (int(sid), unit)
            out[k] = int(sid)
    return out


# --------------------------------------------------------------------------- write

def write(conn: Connection, rows: pd.DataFrame, received_at: dt.datetime,
          run_id: int | None) -> int:
    """Store revisions inside the caller's transaction; returns the number of values.

    ``rows`` has columns station_id, variable, time, value, unit, party, source, revision,
    phenomena and ``flags`` (or ``qc_flags``); one segment is written per series.
    """
    if rows is None or rows.empty:
        return 0
    flags_col = "flags" if "flags" in rows.columns else "qc_flags"
    key_cols = [*SERIES_KEY, "unit"]
    coded = [labels(rows[c]) for c in key_cols]
    codes = group_ids(*(c for c, _ in coded))
    t = rows["time"].to_numpy(dtype="datetime64[ns]").view("i8")
    order = sort_order(codes, t)
    codes_o = codes[order]
    cuts = np.flatnonzero(np.diff(codes_o)) + 1
    starts = np.r_[0, cuts]
    ends = np.r_[cuts, len(order)]
    # one label per column of key_cols: (station, variable, party, source, unit)
    keys = cast(list[tuple[str, str, str, str, str]],
                [tuple(str(lab[c[order[a]]]) for c, lab in coded) for a in starts.tolist()])
    ids = series_ids(conn, keys)
    t_o = t[order]
    v_o = rows["value"].to_numpy(dtype=float)[order]
    f_o = rows[flags_col].to_numpy(dtype=np.int64)[order]
    r_o = rows["revision"].to_numpy(dtype=np.int64)[order]
    ph_c, ph_l = labels(rows["phenomena"])
    ph_o = ph_c[order]
    recs = []
    for key, a, b in zip(keys, starts.tolist(), ends.tolist(), strict=True):
        seg_ph = vocab = None
        sub = ph_o[a:b]
        if (sub >= 0).any():
            used = np.unique(sub[sub >= 0])
            if len(used) > 127:
                raise ValueError(f"more than 127 distinct phenomena in one series: {key}")
            lut = np.full(len(ph_l) + 1, -1, dtype=np.int64)   # lut[-1]: none
            lut[used] = np.arange(len(used))
            seg_ph = lut[sub].astype(_P).tobytes()
            vocab = json.dumps([str(ph_l[u]) for u in used], ensure_ascii=False)
        recs.append(dict(
            series_id=ids[key[:4]], ingest_run_id=run_id, received_at=received_at,
            t_first=_naive(np.datetime64(int(t_o[a]), "ns")),
            t_last=_naive(np.datetime64(int(t_o[b - 1]), "ns")), n=b - a,
            times=encode_times(t_o[a:b]), values=v_o[a:b].astype(_V).tobytes(),
            flags=encode_flags(f_o[a:b]), revisions=encode_revisions(r_o[a:b]),
            phenomena=seg_ph, phenomena_vocab=vocab))
    conn.execute(insert(ObservationSegment), recs)
    return len(rows)


# --------------------------------------------------------------------------- read

def read(conn: Connection, stations: Sequence[str] | None = None,
         variables: Sequence[str] | None = None, parties: Sequence[str] | None = None,
         sources: Sequence[str] | None = None, start: dt.datetime | None = None,
         end: dt.datetime | None = None, as_of: dt.datetime | None = None,
         run_id: int | None = None, current: bool = True,
         series: Sequence[int] | None = None, categorical: bool = False) -> pd.DataFrame:
    """Revisions in the store as rows (:data:`ROW_COLUMNS`), times naive UTC.

    Filters: stations, variables, parties, sources, series ids; time in [start, end]
    (inclusive); received by ``as_of``; written by run ``run_id``.  ``current`` keeps only
    the highest revision of each (station, variable, time, party, source) among the
    revisions the filters let through -- with ``as_of``, what was known then.
    Rows are ordered by station, variable, party, source, time (and revision).
    ``categorical`` returns the string columns (station_id, variable, party, source, unit,
    phenomena) as pandas categoricals -- cheap to build and to group, for the ingest.
    """
    s, g = ObservationSeries, ObservationSegment
    q = (select(g.series_id, g.ingest_run_id, g.received_at, g.n, g.times, g.values, g.flags,
                g.revisions, g.phenomena, g.phenomena_vocab, s.station_id, s.variable,
                s.party, s.source, s.unit)
         .join(s, s.id == g.series_id))
    for col, allowed in ((s.station_id, stations), (s.variable, variables),
                         (s.party, parties), (s.source, sources), (s.id, series)):
        if allowed is not None:
            q = q.where(col.in_(list(allowed)))
    if start is not None:
        q = q.where(g.t_last >= start)
    if end is not None:
        q = q.where(g.t_first <= end)
    if as_of is not None:
        q = q.where(g.received_at <= as_of)
    if run_id is not None:
        q = q.where(g.ingest_run_id == run_id)
    segs = conn.execute(q.order_by(s.station_id, s.variable, s.party, s.source, g.id)).all()
    return _decode(segs, start, end, current, categorical)


def _decode(segs, start, end, current: bool, categorical: bool = False,
            last_only: bool = False) -> pd.DataFrame:
    if not segs:
        return empty_rows(categorical)
    # each segment's times are sorted: slice every column to [start, end] before decoding
    lo_t = None if start is None else pd.Timestamp(start).value
    hi_t = None if end is None else pd.Timestamp(end).value
    parts: dict[str, list[np.ndarray]] = {"t": [], "v": [], "f": [], "rev": [], "ph": []}
    vocab: dict[str, int] = {}      # every segment's phenomena codes into one vocabulary
    n = np.zeros(len(segs), dtype=np.int64)
    for i, r in enumerate(segs):
        ti = decode_times(r.times, r.n)
        a = 0 if lo_t is None else int(np.searchsorted(ti, lo_t, "left"))
        b = r.n if hi_t is None else int(np.searchsorted(ti, hi_t, "right"))
        n[i] = max(b - a, 0)
        if n[i] == 0:
            continue
        parts["t"].append(ti[a:b])
        parts["v"].append(np.frombuffer(r.values, _V)[a:b])
        parts["f"].append(decode_flags(r.flags, r.n)[a:b])
        parts["rev"].append(decode_revisions(r.revisions, r.n)[a:b])
        if r.phenomena is None:
            parts["ph"].append(np.full(b - a, -1, dtype=np.int64))
        else:
            words = json.loads(r.phenomena_vocab)
            m = np.array([vocab.setdefault(w, len(vocab)) for w in words] + [-1],
                         dtype=np.int64)
            parts["ph"].append(m[np.frombuffer(r.phenomena, _P)[a:b].astype(np.int64)])
    if not n.sum():
        return empty_rows(categorical)
    t, v, f, rev, ph = (np.concatenate(parts[k]) for k in ("t", "v", "f", "rev", "ph"))
    seg_of = np.repeat(np.arange(len(segs)), n)
    # a series per segment, numbered in the query's (station, variable, party, source) order
    skey = [(r.station_id, r.variable, r.party, r.source) for r in segs]
    ser_codes, _ = pd.factorize(pd.Index(skey, tupleize_cols=False))
    ser = ser_codes[seg_of]
    order = np.lexsort((rev, t, ser))
    if current and len(order):
        s_o, t_o = ser[order], t[order]
        last = np.r_[(s_o[1:] != s_o[:-1]) | (t_o[1:] != t_o[:-1]), True]
        order = order[last]
    if last_only and len(order):  # the latest time of each series
        s_o = ser[order]
        order = order[np.r_[s_o[1:] != s_o[:-1], True]]
    seg_o = seg_of[order]

    def strings(values, codes):
        """Labels per segment (or the phenomena vocabulary) -> a column for ``codes``."""
        cats = pd.Index(values, dtype=object)
        if categorical:
            return pd.Categorical.from_codes(codes, cats)
        return np.append(np.asarray(cats, dtype=object), None)[codes]

    col = {}
    for c in ("station_id", "variable", "party", "source", "unit"):
        k, u = pd.factorize(np.array([getattr(r, c) for r in segs], dtype=object))
        col[c] = strings(u, k[seg_o])
    runs = np.array([r.ingest_run_id if r.ingest_run_id is not None else -1 for r in segs],
                    dtype=np.int64)[seg_o]
    recv = np.array([np.datetime64(r.received_at, "ns") for r in segs])[seg_o]
    return pd.DataFrame({
        "station_id": col["station_id"], "variable": col["variable"],
        "time": t[order].view("datetime64[ns]"), "value": v[order], "unit": col["unit"],
        "party": col["party"], "source": col["source"], "qc_flags": f[order],
        "phenomena": strings(list(vocab), ph[order]), "revision": rev[order],
        "received_at": recv, "ingest_run_id": pd.arrays.IntegerArray(runs, runs < 0)})


def empty_rows(categorical: bool = False) -> pd.DataFrame:
    """No rows, with the columns and dtypes of :func:`read`."""
    s = (pd.CategoricalDtype(pd.Index([], dtype=object)) if categorical else object)
    return pd.DataFrame({
        "station_id": pd.Series(dtype=s), "variable": pd.Series(dtype=s),
        "time": pd.Series(dtype="datetime64[ns]"), "value": pd.Series(dtype=float),
        "unit": pd.Series(dtype=s), "party": pd.Series(dtype=s),
        "source": pd.Series(dtype=s), "qc_flags": pd.Series(dtype=np.int64),
        "phenomena": pd.Series(dtype=s), "revision": pd.Series(dtype=np.int64),
        "received_at": pd.Series(dtype="datetime64[ns]"),
        "ingest_run_id": pd.Series(dtype="Int64")})


# --------------------------------------------------------------------------- summaries

def latest(conn: Connection, variables: Sequence[str], at: dt.datetime | None = None
           ) -> pd.DataFrame:
    """The current value at the latest time <= ``at`` of every series of ``variables``.

    Reads only the segments that can hold that time: for each series, the segment that
    starts last (at or before ``at``) holds a value at its start, so the latest time is
    no earlier, and segments ending before it are skipped.
    """
    s, g = ObservationSeries, ObservationSegment
    starts_q = select(g.series_id, func.max(g.t_first).label("t")).join(
        s, s.id == g.series_id).where(s.variable.in_(list(variables)))
    if at is not None:
        starts_q = starts_q.where(g.t_first <= at)
    starts = starts_q.group_by(g.series_id).subquery()
    q = (select(g.series_id, g.ingest_run_id, g.received_at, g.n, g.times, g.values, g.flags,
                g.revisions, g.phenomena, g.phenomena_vocab, s.station_id, s.variable,
                s.party, s.source, s.unit)
         .join(s, s.id == g.series_id)
         .join(starts, and_(starts.c.series_id == g.series_id, g.t_last >= starts.c.t)))
    if at is not None:
        q = q.where(g.t_first <= at)
    return _decode(conn.execute(q.order_by(g.series_id, g.id)).all(), None, at, True,
                   last_only=True)


def period(conn: Connection) -> tuple[dt.datetime | None, dt.datetime | None]:
    g = ObservationSegment
    row = conn.execute(select(func.min(g.t_first), func.max(g.t_last))).one()
    return row[0], row[1]


def count(conn: Connection, run_id: int | None = None) -> int:
    """Number of stored revisions (of one run, if given)."""
    g = ObservationSegment
    q = select(func.coalesce(func.sum(g.n), 0))
    if run_id is not None:
        q = q.where(g.ingest_run_id == run_id)
    return int(conn.execute(q).scalar_one())


def stations_with_values(conn: Connection) -> list[str]:
    s = ObservationSeries
    return sorted(conn.execute(select(s.station_id).distinct()).scalars())


def variables_of(conn: Connection, station: str) -> list[str]:
    s = ObservationSeries
    return sorted(conn.execute(select(s.variable).distinct().where(s.station_id == station))
                  .scalars())


# --------------------------------------------------------------------------- upgrade

def upgrade_from_rows(engine, chunk: int = 500_000) -> int:
    """Schema 1 -> 2: move the row table ``observations`` into segments, then drop it.

    Rows are grouped by (series, ingest run, received_at), so every revision keeps its
    run, time of receipt, flags and phenomena.  Runs in one transaction; returns the
    number of rows moved.
    """
    from sqlalchemy import inspect, text

    from hydro.store.models import Base

    # declarative classes with a __tablename__ are mapped to a Table (typed FromClause)
    Base.metadata.create_all(engine, tables=[cast(Table, ObservationSeries.__table__),
                                             cast(Table, ObservationSegment.__table__)])
    if not inspect(engine).has_table("observations"):
        return 0
    cols = ["station_id", "variable", "time", "value", "unit", "party", "source", "qc_flags",
            "phenomena", "revision", "received_at", "ingest_run_id"]
    moved = 0
    with engine.begin() as conn:
        last_id = 0
        while True:
            got = conn.execute(text(
                f"SELECT id, {', '.join(cols)} FROM observations WHERE id > :a ORDER BY id "
                "LIMIT :n"), {"a": last_id, "n": chunk}).all()
            if not got:
                break
            last_id = got[-1][0]
            df = pd.DataFrame([r[1:] for r in got], columns=cols)
            for c in ("time", "received_at"):
                df[c] = pd.to_datetime(df[c])
            df["value"] = df["value"].astype(float)
            df["ingest_run_id"] = df["ingest_run_id"].fillna(-1).astype(np.int64)
            for (run, recv), part in df.groupby(["ingest_run_id", "received_at"], sort=False):
                # ingest_run_id is int64 (above): its group keys are integers
                assert isinstance(run, int | np.integer)
                write(conn, part, _naive(recv), None if run < 0 else int(run))
            moved += len(df)
        conn.execute(text("DROP TABLE observations"))
    return moved
