"""Load files into the store: one transaction per file, idempotent, nothing half-loaded.

* A file is read whole (:func:`hydro.readers.read_file`) before anything is written.
* Its rows are written in one transaction: a value not seen before becomes revision 1; a
  value that differs from the current revision becomes the next revision (the earlier one
  stays readable); an identical value is skipped -- so re-ingesting a file changes nothing.
* Quality control (:mod:`hydro.qc`) runs in the same transaction, over the file *and the
  stored values around it*: the series tests (range, spike, flat line, gap) of each series
  the file touches, and the cross tests (two sources of one party disagreeing, the two
  parties disagreeing, stage against discharge through the rating) at each gauge it touches.
  Flags are stored with the value.  When the new values change the flags of a value
  already stored (the RU file arrives and the KZ reading it disagrees with gets
  PARTY_DISAGREE; a late file fills a gap), that value gets a new revision with the same
  value and the new flags: nothing is overwritten, and ``as_of`` shows the flags as they
  were known.
* A file that fails parsing or validation is put in quarantine with a ``.reason.txt``
  beside it, and nothing of it reaches the store.
* Every attempt is recorded in ``ingest_runs`` (file, content hash, rows, flags, outcome).

What "the same store" means.  For each key (station, variable, time, party, source) the
*current* value is the highest revision; its flags are a function of the current values
within :meth:`hydro.qc.Limits.context_hours` of it.  Ingesting a set of files whose values
agree where they overlap gives the same current (value, phenomena, flags) per key in any
order and any number of times, and never two consecutive revisions of a key with the same
(value, phenomena, flags).  Where files of one source *disagree*, the file ingested last
wins (it is a correction); the earlier value stays as a revision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, insert, select, text, update

from hydro.config import Config
from hydro.errors import IngestError
from hydro.qc import (
    CROSS_FLAGS,
    READER_FLAGS,
    SERIES_FLAGS,
    Limits,
    cross_flags,
    group_ids,
    resolve_limits,
    series_flags,
)
from hydro.readers import Batch, read_file
from hydro.store.models import IngestRun, Observation, QualitySample

#: a revision's identity: one value of one series at one time
KEY = ["station_id", "variable", "time", "party", "source"]
#: values equal within this are the same value (a re-read of the same text)
SAME_VALUE_ATOL = 1e-9
#: rows per executemany call of the SQLite bulk insert
INSERT_CHUNK = 50_000
#: PostgreSQL advisory-lock key that serialises ingests ("HYDR")
PG_INGEST_LOCK = 0x48594452


@dataclass
class IngestResult:
    path: str
    outcome: str              # loaded | unchanged | rejected
    rows_read: int = 0
    rows_written: int = 0
    flags_raised: int = 0
    message: str = ""
    run_id: int | None = None
    seconds: float = 0.0
    quarantined_to: str | None = None
    #: seconds per phase: read (hash + parse), qc (context, merge, flags), insert, commit
    timings: dict[str, float] = field(default_factory=dict)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _source_label(config: Config, batch: Batch, source_id: str | None) -> str:
    if source_id:
        return source_id
    if batch.format == "agency_csv":
        return batch.path.parent.name if batch.path.parent.name else "agency"
    return batch.format.removesuffix("_csv")


# --------------------------------------------------------------------------- store access

def _sqlite_time_strings(times: np.ndarray) -> np.ndarray:
    """datetime64 -> the text SQLAlchemy stores in SQLite ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    codes, uniq = pd.factorize(np.asarray(times, dtype="datetime64[ns]"))
    text_u = np.asarray(pd.DatetimeIndex(uniq).strftime("%Y-%m-%d %H:%M:%S.%f"), dtype=object)
    return text_u[codes]


_STATE_COLUMNS = ["station_id", "variable", "time", "party", "source", "value", "unit",
                  "qc_flags", "phenomena", "revision"]


def _fetch_current(conn, stations: list[str], variables: list[str], t0: dt.datetime,
                   t1: dt.datetime) -> pd.DataFrame:
    """Current revision of every stored value of ``stations`` x ``variables`` in [t0, t1]."""
    if not stations or not variables:
        return pd.DataFrame(columns=_STATE_COLUMNS)
    if conn.dialect.name == "sqlite":
        marks_s = ",".join("?" * len(stations))
        marks_v = ",".join("?" * len(variables))
        t_lo, t_hi = _sqlite_time_strings(np.array([t0, t1], dtype="datetime64[ns]"))
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(
                f"SELECT {', '.join(_STATE_COLUMNS)} FROM observations WHERE station_id IN "
                f"({marks_s}) AND variable IN ({marks_v}) AND time >= ? AND time <= ?",
                (*stations, *variables, t_lo, t_hi))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        df = pd.DataFrame.from_records(rows, columns=_STATE_COLUMNS)
        if len(df):  # times repeat across stations: parse each distinct text once
            codes, uniq = pd.factorize(df["time"].to_numpy())
            parsed = pd.to_datetime(pd.Series(uniq), format="ISO8601")
            df["time"] = parsed.to_numpy(dtype="datetime64[ns]")[codes]
    else:
        o = Observation
        q = select(*[getattr(o, c) for c in _STATE_COLUMNS]).where(
            o.station_id.in_(stations), o.variable.in_(variables), o.time >= t0, o.time <= t1)
        df = pd.DataFrame(conn.execute(q).all(), columns=_STATE_COLUMNS)
        if len(df):
            df["time"] = pd.to_datetime(df["time"])
    if df.empty:
        return pd.DataFrame(columns=_STATE_COLUMNS)
    df["time"] = df["time"].astype("datetime64[ns]")
    rev = df["revision"].to_numpy()
    if len(df) and rev.max() > 1:  # keep the highest revision of each key
        key = group_ids(*(df[c].to_numpy() for c in KEY))
        order = np.lexsort((rev, key))
        last = np.r_[np.diff(key[order]) != 0, True]
        df = df.iloc[order[last]]
    return df.reset_index(drop=True)


def _sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _insert_observations(conn, rows: pd.DataFrame, received_at: dt.datetime, run_id: int,
                         on_chunk: Callable[[int], None] | None = None) -> None:
    """Insert planned rows (columns of _STATE_COLUMNS + ``flags``) inside the transaction.

    SQLite: ``executemany`` of (time, value) tuples on the DBAPI cursor inside the open
    transaction, one statement per run of rows that share everything else (series, flags,
    phenomena, revision), those fields written as SQL literals; elsewhere SQLAlchemy's
    executemany.
    """
    if rows.empty:
        return
    if conn.dialect.name == "sqlite":
        recv = _sqlite_time_strings(np.array([received_at], dtype="datetime64[ns]"))[0]
        consts = ["station_id", "variable", "party", "source", "unit"]
        group = group_ids(*(rows[c].to_numpy() for c in consts))
        # series after series, each in time order: the order of the indexes' keys
        order = np.lexsort((rows["time"].to_numpy(dtype="datetime64[ns]"), group))
        rows = rows.iloc[order].reset_index(drop=True)
        group = group[order]
        times = _sqlite_time_strings(rows["time"].to_numpy()).tolist()
        values = rows["value"].to_numpy(dtype=float).tolist()
        flags = rows["flags"].to_numpy(dtype=np.int64)
        ph = rows["phenomena"]
        phen_code, phen_uniq = pd.factorize(ph.astype(object).where(ph.notna(), None),
                                            use_na_sentinel=True)
        revs = rows["revision"].to_numpy(dtype=np.int64)
        # runs of rows sharing everything but time and value: one statement each, with the
        # shared fields as literals, binding two parameters per row
        run = np.r_[True, (np.diff(group) != 0) | (np.diff(flags) != 0)
                    | (np.diff(phen_code) != 0) | (np.diff(revs) != 0)]
        starts = np.r_[np.flatnonzero(run), len(rows)]
        cursor = conn.connection.driver_connection.cursor()
        try:
            done = 0
            for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
                st, var, party, source, unit = (rows.at[a, c] for c in consts)
                phen = phen_uniq[phen_code[a]] if phen_code[a] >= 0 else None
                sql = ("INSERT INTO observations (station_id, variable, time, value, unit, "
                       "party, source, qc_flags, phenomena, revision, received_at, "
                       "ingest_run_id) VALUES ("
                       f"{_sql_literal(st)}, {_sql_literal(var)}, ?, ?, {_sql_literal(unit)}, "
                       f"{_sql_literal(party)}, {_sql_literal(source)}, {int(flags[a])}, "
                       f"{_sql_literal(phen)}, {int(revs[a])}, {_sql_literal(recv)}, "
                       f"{int(run_id)})")
                for c0 in range(a, b, INSERT_CHUNK):
                    c1 = min(c0 + INSERT_CHUNK, b)
                    cursor.executemany(sql, zip(times[c0:c1], values[c0:c1], strict=True))
                    done += c1 - c0
                    if on_chunk is not None:
                        on_chunk(done)
        finally:
            cursor.close()
        return
    recs = [
        dict(station_id=r.station_id, variable=r.variable, time=r.time.to_pydatetime(),
             value=float(r.value), unit=r.unit, party=r.party, source=r.source,
             qc_flags=int(r.flags), phenomena=r.phenomena if isinstance(r.phenomena, str)
             else None, revision=int(r.revision), received_at=received_at,
             ingest_run_id=run_id)
        for r in rows.itertuples(index=False)]
    for a in range(0, len(recs), INSERT_CHUNK):
        conn.execute(insert(Observation), recs[a:a + INSERT_CHUNK])
        if on_chunk is not None:
            on_chunk(min(a + INSERT_CHUNK, len(recs)))


# --------------------------------------------------------------------------- QC planning

class _LimitCache:
    def __init__(self, config: Config | None) -> None:
        self.config = config
        self._cache: dict[tuple[str, str], Limits] = {}

    def __call__(self, station: str, variable: str) -> Limits:
        key = (station, variable)
        if key not in self._cache:
            self._cache[key] = resolve_limits(self.config, station, variable)
        return self._cache[key]


def _ratings(config: Config | None) -> dict:
    if config is None:
        return {}
    return {g.id: g.rating for g in config.network.gauges.values() if g.rating is not None}


def _plan(state: pd.DataFrame, own: np.ndarray, zone: np.ndarray, limits: _LimitCache,
          ratings: dict, series: np.ndarray | None = None,
          cross_zone: np.ndarray | None = None) -> pd.DataFrame:
    """Compute every row's flags and return the rows that need a new revision.

    ``state`` holds the current (after this batch) value of every key in the window, with
    ``base`` (the value's reader flags), ``old_value``, ``old_flags``, ``old_phen`` and
    ``old_rev`` (NaN for a new key); ``own`` marks the rows whose series flags are
    recomputed within ``zone``; cross flags are recomputed within ``cross_zone`` (default
    ``zone``); ``series`` (optional) numbers the rows' series (station, variable, party,
    source).
    """
    if cross_zone is None:
        cross_zone = zone
    state = state.reset_index(drop=True)
    if series is None:
        series = group_ids(state["station_id"].to_numpy(), state["variable"].to_numpy(),
                           state["party"].to_numpy(), state["source"].to_numpy())
    n = len(state)
    old_flags = state["old_flags"].fillna(0).to_numpy(dtype=np.int64)
    base = state["base"].to_numpy(dtype=np.int64)
    values = state["value"].to_numpy(dtype=float)
    times = state["time"].to_numpy(dtype="datetime64[ns]")
    series_new = old_flags & SERIES_FLAGS
    if own.any():
        rows_own = np.flatnonzero(own)
        order = rows_own[np.lexsort((times[rows_own], series[rows_own]))]
        cuts = np.flatnonzero(np.diff(series[order])) + 1
        st_col = state["station_id"].to_numpy()
        var_col = state["variable"].to_numpy()
        for rows in np.split(order, cuts):
            computed = series_flags(times[rows], values[rows],
                                    limits(st_col[rows[0]], var_col[rows[0]]))
            series_new[rows] = np.where(zone[rows], computed, series_new[rows])
    cross_in = state[["station_id", "variable", "time", "party", "source", "value"]].assign(
        flags=base)
    cross_new = cross_flags(cross_in, limits, ratings)
    cross = np.where(cross_zone, cross_new, old_flags & CROSS_FLAGS)
    final = base | series_new | cross
    new_key = state["old_rev"].isna().to_numpy()
    old_value = state["old_value"].to_numpy(dtype=float)
    changed_value = ~np.isclose(values, old_value, rtol=0, atol=SAME_VALUE_ATOL)
    phen = state["phenomena"].astype(object).where(state["phenomena"].notna(), "").to_numpy()
    old_phen = state["old_phen"].astype(object).where(state["old_phen"].notna(), "").to_numpy()
    changed_phen = (phen != old_phen) if n else np.zeros(0, dtype=bool)
    write = (zone | cross_zone) & (new_key | changed_value | changed_phen
                                   | (final != old_flags))
    out = state.loc[write, ["station_id", "variable", "time", "party", "source", "value",
                            "unit", "phenomena"]].copy()
    out["flags"] = final[write]
    out["revision"] = state.loc[write, "old_rev"].fillna(0).to_numpy(dtype=np.int64) + 1
    return out


def _state_from_batch(obs: pd.DataFrame, stored: pd.DataFrame
                      ) -> tuple[pd.DataFrame, np.ndarray]:
    """Overlay the batch onto the stored current values: the state after the batch.

    Returns the state (batch rows first, then the stored rows the batch does not replace)
    and the series number of each state row.  Keys are matched as integers (series number
    x distinct time), not through a merge on five columns.
    """
    nb = len(obs)
    ob = {c: obs[c].to_numpy() for c in obs.columns}
    base_b = ob["qc_flags"].astype(np.int64) & READER_FLAGS
    if stored.empty:
        series = group_ids(*(ob[c] for c in ("station_id", "variable", "party", "source")))
        state = pd.DataFrame({
            **{c: ob[c] for c in ("station_id", "variable", "time", "party", "source",
                                  "value", "unit", "phenomena")},
            "base": base_b, "in_batch": np.ones(nb, dtype=bool),
            "old_value": np.full(nb, np.nan), "old_flags": np.full(nb, np.nan),
            "old_phen": np.full(nb, None, dtype=object), "old_rev": np.full(nb, np.nan)})
        return state, series
    st = {c: stored[c].to_numpy() for c in stored.columns}
    cols = {c: np.concatenate([ob[c], st[c]]) for c in ("station_id", "variable", "party",
                                                         "source")}
    series_all = group_ids(*cols.values())
    t_all = np.concatenate([ob["time"].astype("datetime64[ns]"),
                            st["time"].astype("datetime64[ns]")])
    t_code = pd.factorize(t_all)[0]
    key = series_all.astype(np.int64) * (int(t_code.max()) + 1) + t_code
    kb, ks = key[:nb], key[nb:]
    pos = pd.Index(ks).get_indexer(kb)                # stored row of each batch row, or -1
    rest = ~np.isin(ks, kb)                           # stored rows the batch leaves alone
    has = pos >= 0
    pick = np.where(has, pos, 0)

    def old(col, fill):
        arr = st[col]
        return np.where(has, arr[pick], fill) if len(arr) else np.full(nb, fill)

    s_flags = st["qc_flags"].astype(np.int64)
    s_rev = st["revision"].astype(float)
    state = pd.DataFrame({
        **{c: np.concatenate([ob[c], st[c][rest]]) for c in
           ("station_id", "variable", "party", "source", "unit")},
        "time": np.concatenate([t_all[:nb], t_all[nb:][rest]]),
        "value": np.concatenate([ob["value"].astype(float), st["value"].astype(float)[rest]]),
        "phenomena": np.concatenate([ob["phenomena"].astype(object),
                                     st["phenomena"].astype(object)[rest]]),
        "base": np.concatenate([base_b, s_flags[rest] & READER_FLAGS]),
        "in_batch": np.r_[np.ones(nb, dtype=bool), np.zeros(int(rest.sum()), dtype=bool)],
        "old_value": np.concatenate([old("value", np.nan).astype(float),
                                     st["value"].astype(float)[rest]]),
        "old_flags": np.concatenate([np.where(has, s_flags[pick] if len(s_flags) else 0,
                                              np.nan), s_flags[rest].astype(float)]),
        "old_phen": np.concatenate([np.where(has, st["phenomena"].astype(object)[pick]
                                             if len(s_flags) else None, None),
                                    st["phenomena"].astype(object)[rest]]),
        "old_rev": np.concatenate([np.where(has, s_rev[pick] if len(s_rev) else 0, np.nan),
                                   s_rev[rest]]),
    })
    return state, np.concatenate([series_all[:nb], series_all[nb:][rest]])


def _write_observations(conn, obs: pd.DataFrame, source: str, run_id: int,
                        received_at: dt.datetime, config: Config | None,
                        timings: dict[str, float]) -> tuple[int, int]:
    t0 = time.perf_counter()
    obs = obs[["station_id", "variable", "time", "value", "unit", "party", "phenomena",
               "qc_flags"]].copy()
    obs["source"] = source
    obs["time"] = obs["time"].astype("datetime64[ns]")
    limits = _LimitCache(config)
    stations = sorted(pd.unique(obs["station_id"]).tolist())
    variables = set(pd.unique(obs["variable"]).tolist())
    if variables & {"stage", "discharge"}:
        variables |= {"stage", "discharge"}
    lims = [limits(s, v) for s in stations for v in variables]
    # the batch changes values in [tmin, tmax]; that can change series flags up to
    # series_reach after tmax and cross flags cross_reach either side (hydro.qc.Limits)
    s_reach = pd.Timedelta(hours=max(lim.series_reach() for lim in lims))
    c_reach = pd.Timedelta(hours=max(lim.cross_reach() for lim in lims))
    fetch = pd.Timedelta(hours=max(lim.context_hours() for lim in lims))
    tmin, tmax = obs["time"].min(), obs["time"].max()
    stored = _fetch_current(conn, stations, sorted(variables),
                            (tmin - fetch).to_pydatetime(), (tmax + fetch).to_pydatetime())
    state, series = _state_from_batch(obs, stored)
    t = state["time"]
    zone = ((t >= tmin) & (t <= tmax + s_reach)).to_numpy()
    cross_zone = ((t >= tmin - c_reach) & (t <= tmax + c_reach)).to_numpy()
    cols = [state[c].to_numpy() for c in ("station_id", "variable", "party", "source")]
    first = np.unique(series, return_index=True)[1]
    batch_keys = set(zip(*(obs[c].to_numpy() for c in ("station_id", "variable", "party")),
                         strict=True))
    own_series = np.array([(cols[0][i], cols[1][i], cols[2][i]) in batch_keys
                           and cols[3][i] == source for i in first], dtype=bool)
    own = own_series[series]
    rows = _plan(state, own, zone, limits, _ratings(config), series, cross_zone)
    t1 = time.perf_counter()
    _insert_observations(conn, rows, received_at, run_id)
    timings["qc"] = timings.get("qc", 0.0) + t1 - t0
    timings["insert"] = timings.get("insert", 0.0) + time.perf_counter() - t1
    return len(rows), int((rows["flags"] != 0).sum())


# --------------------------------------------------------------------------- quality samples

def _new_revisions(existing: pd.DataFrame, incoming: pd.DataFrame, keys: list[str]
                   ) -> pd.DataFrame:
    """Rows of ``incoming`` to write, each with its revision number."""
    if existing.empty:
        return incoming.assign(revision=1)
    old = existing.rename(columns={c: f"{c}_old" for c in existing.columns if c not in keys})
    merged = incoming.merge(old, on=keys, how="left")
    new = merged["revision_old"].isna()
    same_value = np.isclose(merged["value"], merged["value_old"], rtol=0,
                            atol=SAME_VALUE_ATOL) | (
        merged["value"].isna() & merged["value_old"].isna())
    same = ~new & same_value
    if "censored" in merged:
        same &= merged["censored"] == merged["censored_old"]
    out = merged[~same].copy()
    out["revision"] = np.where(out["revision_old"].isna(), 1,
                               out["revision_old"].fillna(0) + 1).astype(int)
    return out[[c for c in incoming.columns] + ["revision"]]


def _current_quality(conn, site: str, party: str, source: str, tmin, tmax) -> pd.DataFrame:
    q_ = QualitySample
    cur = (select(q_.time, q_.parameter, func.max(q_.revision).label("revision"))
           .where(q_.site_id == site, q_.party == party, q_.source == source,
                  q_.time >= tmin, q_.time <= tmax)
           .group_by(q_.time, q_.parameter).subquery())
    q = (select(q_.time, q_.parameter, q_.value, q_.censored, q_.revision)
         .join(cur, and_(q_.time == cur.c.time, q_.parameter == cur.c.parameter,
                         q_.revision == cur.c.revision))
         .where(q_.site_id == site, q_.party == party, q_.source == source))
    return pd.DataFrame(conn.execute(q).all(),
                        columns=["time", "parameter", "value", "censored", "revision"])


def _write_quality(conn, qual: pd.DataFrame, source: str, run_id: int,
                   received_at: dt.datetime) -> tuple[int, int]:
    written = flags = 0
    for (site, party), grp in qual.groupby(["site_id", "party"], sort=False):
        existing = _current_quality(conn, site, party, source,
                                    grp["time"].min().to_pydatetime(),
                                    grp["time"].max().to_pydatetime())
        if len(existing):
            existing["time"] = pd.to_datetime(existing["time"])
            existing["censored"] = existing["censored"].astype(bool)
        incoming = grp[["time", "parameter", "value", "censored", "unit"]].reset_index(drop=True)
        rows = _new_revisions(existing, incoming, ["time", "parameter"])
        if rows.empty:
            continue
        recs = [dict(site_id=site, party=party, source=source, received_at=received_at,
                     ingest_run_id=run_id, time=pd.Timestamp(r.time).to_pydatetime(),
                     parameter=r.parameter, value=float(r.value), censored=bool(r.censored),
                     unit=r.unit, revision=int(r.revision))
                for r in rows.itertuples(index=False)]
        conn.execute(insert(QualitySample), recs)
        written += len(recs)
        flags += int(rows["censored"].sum())
    return written, flags


def write_batch(conn, batch: Batch, source: str, run_id: int, received_at: dt.datetime,
                config: Config | None = None, timings: dict[str, float] | None = None
                ) -> tuple[int, int]:
    """Write a batch inside an open transaction; returns (rows written, flagged rows).

    ``config`` gives the QC limits and ratings (without it the built-in defaults apply and
    no rating is checked).
    """
    timings = {} if timings is None else timings
    written = flags = 0
    if len(batch.observations):
        w, f = _write_observations(conn, batch.observations, source, run_id, received_at,
                                   config, timings)
        written += w
        flags += f
    if len(batch.quality):
        w, f = _write_quality(conn, batch.quality, source, run_id, received_at)
        written += w
        flags += f
    return written, flags


# --------------------------------------------------------------------------- files

def quarantine(path: Path, reason: str, quarantine_dir: Path, move: bool) -> Path:
    """Keep a rejected file whole in quarantine with a reason file beside it."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    target = quarantine_dir / f"{stamp}_{path.name}"
    if move:
        shutil.move(str(path), target)
    else:
        shutil.copy2(path, target)
    target.with_name(target.name + ".reason.txt").write_text(
        f"file: {path}\nrejected at: {utcnow():%Y-%m-%d %H:%M:%S} UTC\nreason: {reason}\n"
        f"{'moved here from the inbox' if move else 'copied here; the original was left in place'}\n",
        encoding="utf-8")
    return target


def _lock_for_ingest(conn) -> None:
    """Serialise ingests: SQLite takes its write lock at the first write (the run row);
    PostgreSQL takes a transaction-scoped advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_INGEST_LOCK})


def ingest_file(engine: Engine, config: Config, path: str | Path, source_id: str | None = None,
                received_at: dt.datetime | None = None, quarantine_dir: Path | None = None,
                move_rejected: bool = False) -> IngestResult:
    """Ingest one file atomically.

    Bad content never raises: the result's outcome is ``rejected`` and the file is kept in
    quarantine.  A failure of the store itself (locked, unreachable, disk full) raises
    after the transaction has been rolled back, so the caller can retry the file.
    """
    path = Path(path)
    t0 = time.perf_counter()
    started = utcnow()
    received_at = received_at or started
    qdir = quarantine_dir or config.resolve(config.settings.paths.quarantine)
    timings: dict[str, float] = {}
    try:
        data = path.read_bytes()
    except OSError as e:
        return _record_rejected(engine, path, source_id, "", started, t0,
                                f"{path}: cannot read the file: {e.strerror}", None)
    digest = hashlib.sha256(data).hexdigest()
    try:
        batch = read_file(path, config, source_id=source_id, data=data)
    except IngestError as e:
        target = quarantine(path, str(e), qdir, move_rejected) if path.exists() else None
        return _record_rejected(engine, path, source_id, digest, started, t0, str(e), target)
    except MemoryError:
        raise  # the machine, not the file: let the caller retry
    except Exception as e:  # a reader bug must not stop a worker: keep the file, say why
        msg = f"{path}: unexpected error while reading the file ({type(e).__name__}: {e})"
        target = quarantine(path, msg, qdir, move_rejected) if path.exists() else None
        return _record_rejected(engine, path, source_id, digest, started, t0, msg, target)
    del data
    timings["read"] = time.perf_counter() - t0
    source = _source_label(config, batch, source_id)
    with engine.begin() as conn:
        prior = conn.execute(
            select(func.count()).select_from(IngestRun).where(
                IngestRun.content_hash == digest, IngestRun.outcome.in_(["loaded", "unchanged"]),
                IngestRun.source == source)).scalar_one()
        _lock_for_ingest(conn)
        run_id = conn.execute(insert(IngestRun).values(
            path=str(path), source=source, format=batch.format, content_hash=digest,
            started_at=started, outcome="running", rows_read=batch.rows)).inserted_primary_key
        run_id = int(run_id[0])  # type: ignore[index]
        written, flags = (0, 0) if prior else write_batch(conn, batch, source, run_id,
                                                          received_at, config, timings)
        outcome = "loaded" if written else "unchanged"
        conn.execute(update(IngestRun).where(IngestRun.id == run_id).values(
            finished_at=utcnow(), outcome=outcome, rows_written=written, flags_raised=flags,
            message=("identical file already ingested" if prior else None)))
        t_commit = time.perf_counter()
    timings["commit"] = time.perf_counter() - t_commit
    return IngestResult(str(path), outcome, batch.rows, written, flags,
                        "identical file already ingested" if prior else "", run_id,
                        time.perf_counter() - t0, timings=timings)


def _record_rejected(engine, path, source_id, digest, started, t0, message, target
                     ) -> IngestResult:
    with engine.begin() as conn:
        run_id = conn.execute(insert(IngestRun).values(
            path=str(path), source=source_id, format=None, content_hash=digest,
            started_at=started, finished_at=utcnow(), outcome="rejected", rows_read=0,
            rows_written=0, flags_raised=0, message=message,
            quarantined_to=str(target) if target else None)).inserted_primary_key[0]
    return IngestResult(str(path), "rejected", message=message, run_id=run_id,
                        seconds=time.perf_counter() - t0,
                        quarantined_to=str(target) if target else None)


# --------------------------------------------------------------------------- store check

@dataclass
class CheckResult:
    """What :func:`check_store` did."""

    values_checked: int = 0
    revisions_written: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None


def check_store(engine: Engine, config: Config, stations: list[str] | None = None,
                start: dt.datetime | None = None, end: dt.datetime | None = None,
                received_at: dt.datetime | None = None) -> CheckResult:
    """Recompute every QC flag of the stored current values and record the changes.

    The store-level check: the series tests of every series and the cross tests (party
    disagreement, conflicting sources, rating consistency) at every gauge, over
    ``[start, end]`` (default: everything), with the configured limits.  A value whose
    flags change gets a new revision (same value, new flags).  Run it after changing QC
    limits or ratings in config; after ingests alone it finds nothing to change.  One
    transaction per station.
    """
    from hydro.qc import QC

    received_at = received_at or utcnow()
    limits = _LimitCache(config)
    ratings = _ratings(config)
    result = CheckResult()
    o = Observation
    with engine.connect() as conn:
        q = select(o.station_id).distinct()
        if stations is not None:
            q = q.where(o.station_id.in_(stations))
        todo = sorted(conn.execute(q).scalars())
    with engine.begin() as conn:
        result.run_id = conn.execute(insert(IngestRun).values(
            path="(qc check)", source=None, format="qc", content_hash="",
            started_at=received_at, outcome="running", rows_read=0)
        ).inserted_primary_key[0]  # type: ignore[index]
    lo_all = start or dt.datetime(1800, 1, 1)
    hi_all = end or dt.datetime(2200, 1, 1)
    for station in todo:
        with engine.begin() as conn:
            _lock_for_ingest(conn)
            variables = sorted(conn.execute(select(o.variable).distinct().where(
                o.station_id == station)).scalars())
            reach = max(limits(station, v).context_hours() for v in variables)
            span = dt.timedelta(hours=reach)
            state = _fetch_current(conn, [station], variables, lo_all - 2 * span,
                                   hi_all + 2 * span)
            if state.empty:
                continue
            state = state.rename(columns={"qc_flags": "old_flags", "revision": "old_rev"})
            state = state.assign(old_value=state["value"], old_phen=state["phenomena"],
                                 base=state["old_flags"].to_numpy(dtype=np.int64)
                                 & READER_FLAGS)
            t = state["time"]
            zone = ((t >= lo_all) & (t <= hi_all)).to_numpy()
            own = np.ones(len(state), dtype=bool)
            rows = _plan(state, own, zone, limits, ratings)
            _insert_observations(conn, rows, received_at, result.run_id)
            result.values_checked += int(zone.sum())
            result.revisions_written += len(rows)
    with engine.connect() as conn:
        counts: dict[str, int] = {}
        for flag in QC:
            n = conn.execute(select(func.count()).select_from(o).where(
                o.ingest_run_id == result.run_id, o.qc_flags.op("&")(int(flag)) != 0)
            ).scalar_one()
            if n and flag.name:
                counts[flag.name] = int(n)
        result.flagged = counts
    with engine.begin() as conn:
        conn.execute(update(IngestRun).where(IngestRun.id == result.run_id).values(
            finished_at=utcnow(), outcome="loaded" if result.revisions_written else "unchanged",
            rows_read=result.values_checked, rows_written=result.revisions_written,
            flags_raised=sum(result.flagged.values()), message="store-level QC check"))
    return result


def bundled_files(config: Config) -> list[Path]:
    """The bundled demonstration files in a stable order (network data before quality)."""
    root = config.resolve(config.settings.paths.bundled)
    order = ["grdc/*.txt", "agency/*/*.csv", "reservoirs/*.csv", "quality/*.csv"]
    files: list[Path] = []
    for pattern in order:
        files.extend(sorted(root.glob(pattern)))
    return files
