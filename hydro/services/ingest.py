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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from hydro.config import Config
from hydro.errors import HydroriskError, IngestError
from hydro.qc import (
    CROSS_FLAGS,
    QC,
    READER_FLAGS,
    SERIES_FLAGS,
    Limits,
    cross_flags,
    group_ids,
    labels,
    resolve_limits,
    series_flags,
    sort_order,
    spike_flags,
)
from hydro.readers import Batch, read_file
from hydro.store import Connection, Engine, SQLAlchemyError, segments, writes
from hydro.store.writes import PG_INGEST_LOCK  # noqa: F401  (its home is the store)

#: values equal within this are the same value (a re-read of the same text)
SAME_VALUE_ATOL = 1e-9


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
    #: the source the values were stored under (:func:`source_for`)
    source: str | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def source_for(config: Config, batch: Batch, source_id: str | None = None,
               path: Path | None = None) -> str:
    """The source a file's values are stored under: never its folder name by accident.

    1. ``source_id`` (``--source``, or the inbox the worker took the file from);
    2. else the configured source (config/sources.toml) whose format -- and for agency
       tables, layout -- is the file's: the only one, or among several the one whose inbox
       or archive holds the file;
    3. a format no source reads: the format's name (``grdc``, ``reservoir``, ...);
    4. several candidates and the file in none of their folders: an :class:`IngestError`
       asking for ``--source``.

    The same file ingested from any folder is therefore stored under the same source, and
    a correction loaded with plain ``hydrorisk ingest FILE`` replaces the value the worker
    loaded from that source's inbox.
    """
    if source_id:
        return source_id
    where = path or batch.path
    found = [s for s in config.sources.sources if s.format == batch.format
             and (batch.format != "agency_csv" or s.layout == batch.layout)]
    if len(found) == 1:
        return found[0].id
    if not found:
        return batch.layout or batch.format.removesuffix("_csv")
    paths = config.settings.paths
    near = [s for s in found if any(_within(where, config.resolve(folder)) for folder in (
        s.inbox or f"{paths.inbox}/{s.id}", s.archive or f"{paths.archive}/{s.id}"))]
    if len(near) == 1:
        return near[0].id
    raise IngestError(where, "several sources read this file's format"
                      f"{' and layout ' + batch.layout if batch.layout else ''} "
                      f"({', '.join(s.id for s in found)}): name one with --source")


# --------------------------------------------------------------------------- store access
# Every statement is in hydro.store.writes; the ingest owns the transactions and passes
# their connection.

_fetch_current = writes.fetch_current


def _insert_observations(conn: Connection, rows: pd.DataFrame, received_at: dt.datetime,
                         run_id: int) -> None:
    """Store planned rows (columns of :data:`hydro.store.writes.STATE_COLUMNS` + ``flags``)
    inside the transaction (a module-level name, so a test can interpose on it)."""
    writes.insert_observations(conn, rows, received_at, run_id)


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


_STRINGS = ["station_id", "variable", "party", "source", "unit", "phenomena"]


def _categorical(column) -> pd.Categorical:
    """A string column as a categorical with object categories (free if it is one)."""
    codes, names = labels(column)
    return pd.Categorical.from_codes(codes, pd.Index(names, dtype=object))


def _concat(a, b) -> pd.Categorical:
    """Two string columns end to end, as one categorical."""
    return union_categoricals([_categorical(a), _categorical(b)])


def _frame(columns: dict) -> pd.DataFrame:
    """A frame of equally long arrays/categoricals, built without copying or type
    inference (typed Series on one RangeIndex)."""
    n = len(next(iter(columns.values())))
    index = pd.RangeIndex(n)
    return pd.DataFrame({c: pd.Series(v, index=index, dtype=v.dtype, copy=False)
                         for c, v in columns.items()}, copy=False)


def _column(frame: pd.DataFrame, name: str):
    """A column's values: the Categorical of a categorical column, else a numpy array."""
    col = frame[name]
    return col.array if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()


def _plan(state: pd.DataFrame, own: np.ndarray, zone: np.ndarray, limits: _LimitCache,
          ratings: dict, series: np.ndarray | None = None,
          cross_zone: np.ndarray | None = None) -> pd.DataFrame:
    """Compute every row's flags and return the rows that need a new revision.

    ``state`` holds the current (after this batch) value of every key in the window, with
    ``base`` (the value's reader flags), ``old_value``, ``old_flags``, ``old_phen`` and
    ``old_rev`` (NaN for a new key); ``own`` marks the rows whose series flags are
    recomputed within ``zone``; cross flags are recomputed within ``cross_zone`` (default
    ``zone``); ``series`` (optional) numbers the rows' series (station, variable, party,
    source).  String columns may be categoricals (the ingest's) or objects.
    """
    if cross_zone is None:
        cross_zone = zone
    if not state.index.equals(pd.RangeIndex(len(state))):
        state = state.reset_index(drop=True)
    st_c, st_l = labels(state["station_id"])
    var_c, var_l = labels(state["variable"])
    if series is None:
        series = group_ids(st_c, var_c, labels(state["party"])[0], labels(state["source"])[0])
    n = len(state)
    old_flags = state["old_flags"].fillna(0).to_numpy(dtype=np.int64)
    base = state["base"].to_numpy(dtype=np.int64)
    values = state["value"].to_numpy(dtype=float)
    times = state["time"].to_numpy(dtype="datetime64[ns]")
    series_new = old_flags & SERIES_FLAGS
    if own.any():
        rows_own = np.flatnonzero(own)
        order = rows_own[sort_order(series[rows_own], times[rows_own])]
        cuts = np.flatnonzero(np.diff(series[order])) + 1
        for rows in np.split(order, cuts):
            computed = series_flags(times[rows], values[rows],
                                    limits(st_l[st_c[rows[0]]], var_l[var_c[rows[0]]]))
            series_new[rows] = np.where(zone[rows], computed, series_new[rows])
        _party_spikes(state, rows_own, st_c, st_l, var_c, var_l, times, values, zone,
                      limits, series_new)
    cross_in = _frame({**{c: _column(state, c) for c in ("station_id", "variable", "time",
                                                         "party", "source", "value")},
                       "flags": base})
    cross_new = cross_flags(cross_in, limits, ratings)
    cross = np.where(cross_zone, cross_new, old_flags & CROSS_FLAGS)
    final = base | series_new | cross
    new_key = state["old_rev"].isna().to_numpy()
    old_value = state["old_value"].to_numpy(dtype=float)
    changed_value = ~np.isclose(values, old_value, rtol=0, atol=SAME_VALUE_ATOL)
    changed_phen = np.zeros(n, dtype=bool)
    if n:
        ph_c, ph_l = labels(state["phenomena"])
        old_c, old_l = labels(state["old_phen"])
        if len(ph_l) == len(old_l) and (ph_l == old_l).all():
            changed_phen = ph_c != old_c
        else:
            changed_phen = (np.append(ph_l, "")[ph_c] != np.append(old_l, "")[old_c])
    write = (zone | cross_zone) & (new_key | changed_value | changed_phen
                                   | (final != old_flags))
    idx = np.flatnonzero(write)
    old_rev = state["old_rev"].to_numpy(dtype=float)[idx]
    return _frame({
        **{c: _column(state, c)[idx] for c in ("station_id", "variable", "time", "party",
                                                "source", "value", "unit", "phenomena")},
        "flags": final[idx],
        "revision": np.where(np.isnan(old_rev), 0, old_rev).astype(np.int64) + 1})


def _party_spikes(state: pd.DataFrame, rows_own: np.ndarray, st_c, st_l, var_c, var_l,
                  times: np.ndarray, values: np.ndarray, zone: np.ndarray, limits,
                  series_new: np.ndarray) -> None:
    """SPIKE on what a party reports at a station across its sources.

    A party's displayed series may switch between its sources (Kazhydromet's Russian- and
    Kazakh-headed tables): a jump from one source's value to the next day's value of the
    other is a spike, though neither source's own series has one.  Per (station, variable,
    party) with rows of more than one source, the values are merged in time order -- one
    per time, of the source whose name sorts last, a choice that depends on the stored
    state only, so the flags do not depend on the order files arrive in -- and their
    spikes are added to the series flags (``series_new``, in place) of the rows ``zone``
    allows.  ``rows_own`` are rows whose series flags are being recomputed: the caller
    includes every source of each (station, variable, party) the batch touches."""
    party_c = labels(state["party"])[0]
    src_c, src_l = labels(state["source"])
    group = group_ids(st_c[rows_own], var_c[rows_own], party_c[rows_own])
    src = src_c[rows_own]
    pairs = np.unique(np.stack([group, src]), axis=1)
    groups, counts = np.unique(pairs[0], return_counts=True)
    multi = groups[counts > 1]
    if not multi.size:
        return                        # one source per party: its own series says it all
    rank = np.empty(len(src_l), dtype=np.int64)
    rank[np.argsort(np.asarray(src_l, dtype=str), kind="stable")] = np.arange(len(src_l))
    keep = np.isin(group, multi)
    rows, g = rows_own[keep], group[keep]
    order = np.lexsort((rank[src_c[rows]], times[rows], g))
    rows, g = rows[order], g[order]
    t = times[rows]
    last = np.ones(len(rows), dtype=bool)    # the last source of each (group, time)
    last[:-1] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
    rows, g = rows[last], g[last]
    cuts = np.flatnonzero(np.diff(g)) + 1
    for part in np.split(rows, cuts):
        lim = limits(st_l[st_c[part[0]]], var_l[var_c[part[0]]])
        spike = spike_flags(times[part], values[part], lim.max_change_per_day,
                            lim.max_gap_hours)
        hit = part[spike & zone[part]]
        series_new[hit] |= int(QC.SPIKE)


def _state_from_batch(obs: pd.DataFrame, stored: pd.DataFrame
                      ) -> tuple[pd.DataFrame, np.ndarray]:
    """Overlay the batch onto the stored current values: the state after the batch.

    Returns the state (batch rows first, then the stored rows the batch does not replace)
    and the series number of each state row.  String columns become categoricals; keys
    are matched as integers (series number x time), not through a merge on five columns.
    """
    nb = len(obs)
    ns = len(stored)
    strings = {c: _concat(obs[c], stored[c]) for c in _STRINGS}
    codes = {c: np.asarray(v.codes, dtype=np.int64) for c, v in strings.items()}
    series_all = group_ids(*(codes[c] for c in ("station_id", "variable", "party", "source")))
    t_all = np.concatenate([obs["time"].to_numpy(dtype="datetime64[ns]"),
                            stored["time"].to_numpy(dtype="datetime64[ns]")])
    v_all = np.concatenate([obs["value"].to_numpy(dtype=float),
                            stored["value"].to_numpy(dtype=float)])
    f_all = np.concatenate([obs["qc_flags"].to_numpy(dtype=np.int64),
                            stored["qc_flags"].to_numpy(dtype=np.int64)])
    rev_s = stored["revision"].to_numpy(dtype=float)
    if ns:
        # stored row of each batch row (or -1): match (series, time) as one int64 key
        t_i = t_all.view("i8")
        key = series_all * (int(t_i.max() - t_i.min()) + 1) + (t_i - t_i.min())
        kb, ks = key[:nb], key[nb:]
        pos = pd.Index(ks).get_indexer(kb)
        rest = np.ones(ns, dtype=bool)                # stored rows the batch leaves alone
        rest[pos[pos >= 0]] = False
    else:
        pos = np.full(nb, -1)
        rest = np.zeros(0, dtype=bool)
    has = pos >= 0
    pick = np.where(has, pos, 0) + nb                 # index into the *_all arrays
    keep = np.r_[np.arange(nb), nb + np.flatnonzero(rest)]
    ph = strings["phenomena"]

    def old(arr, fill):
        return np.where(has, arr[pick], fill) if ns else np.full(nb, fill)

    old_ph_codes = np.r_[np.where(has, codes["phenomena"][pick] if ns else -1, -1),
                         codes["phenomena"][nb:][rest]]
    columns = {
        **{c: strings[c][keep] for c in ("station_id", "variable", "party", "source",
                                         "unit")},
        "time": t_all[keep], "value": v_all[keep],
        "phenomena": ph[keep],
        "base": f_all[keep] & READER_FLAGS,
        "old_value": np.r_[old(v_all, np.nan), v_all[nb:][rest]],
        "old_flags": np.r_[old(f_all.astype(float), np.nan), f_all[nb:][rest].astype(float)],
        "old_phen": pd.Categorical.from_codes(old_ph_codes, ph.categories),
        "old_rev": np.r_[np.where(has, rev_s[pick - nb] if ns else 0, np.nan), rev_s[rest]],
    }
    state = _frame(columns)
    return state, series_all[keep]


def _write_observations(conn, obs: pd.DataFrame, source: str, run_id: int,
                        received_at: dt.datetime, config: Config | None,
                        timings: dict[str, float]) -> tuple[int, int]:
    t0 = time.perf_counter()
    obs = _frame({
        **{c: _column(obs, c) for c in ("station_id", "variable", "time", "value", "unit",
                                        "party", "phenomena", "qc_flags")},
        "source": pd.Categorical.from_codes(np.zeros(len(obs), dtype=np.int8),
                                            pd.Index([source], dtype=object))})
    limits = _LimitCache(config)
    stations = sorted(str(x) for x in labels(obs["station_id"])[1])
    variables = {str(x) for x in labels(obs["variable"])[1]}
    if variables & {"stage", "discharge"}:
        variables |= {"stage", "discharge"}
    lims = [limits(s, v) for s in stations for v in variables]
    # the batch changes values in [tmin, tmax]; that can change series flags up to
    # series_reach after tmax and cross flags cross_reach either side (hydro.qc.Limits)
    s_reach = np.timedelta64(int(max(lim.series_reach() for lim in lims) * 3600e9), "ns")
    c_reach = np.timedelta64(int(max(lim.cross_reach() for lim in lims) * 3600e9), "ns")
    fetch = pd.Timedelta(hours=max(lim.context_hours() for lim in lims))
    times = obs["time"].to_numpy(dtype="datetime64[ns]")
    tmin, tmax = pd.Timestamp(times.min()), pd.Timestamp(times.max())
    stored = _fetch_current(conn, stations, sorted(variables),
                            (tmin - fetch).to_pydatetime(), (tmax + fetch).to_pydatetime())
    state, series = _state_from_batch(obs, stored)
    t = state["time"].to_numpy()
    lo, hi = tmin.to_datetime64(), tmax.to_datetime64()
    zone = (t >= lo) & (t <= hi + s_reach)
    cross_zone = (t >= lo - c_reach) & (t <= hi + c_reach)
    # series flags are recomputed for the series of every source of each (station,
    # variable, party) the batch touches: a party's spikes are checked across its sources
    # (_party_spikes)
    party_group = group_ids(labels(state["station_id"])[0], labels(state["variable"])[0],
                            labels(state["party"])[0])
    mine = np.zeros(int(party_group.max()) + 1, dtype=bool)
    mine[party_group[:len(obs)]] = True
    own = mine[party_group]
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


class _QualityRow(Protocol):
    """A row (``itertuples``) of :func:`_new_revisions` on quality samples."""

    time: dt.datetime  # a pandas Timestamp
    parameter: str
    value: float
    censored: bool
    unit: str
    revision: int


def _write_quality(conn, qual: pd.DataFrame, source: str, run_id: int,
                   received_at: dt.datetime) -> tuple[int, int]:
    written = flags = 0
    for (site, party), grp in qual.groupby(["site_id", "party"], sort=False):
        # the quality reader gives station ids and their countries: str
        assert isinstance(site, str) and isinstance(party, str)
        existing = writes.current_quality(conn, site, party, source,
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
                # pandas-stubs type every field of an itertuples row as any scalar; the
                # columns are those of the incoming frame plus revision (_QualityRow)
                for r in cast("Iterable[_QualityRow]", rows.itertuples(index=False))]
        writes.insert_quality(conn, recs)
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

#: the longest file name written in quarantine (with its ``.reason.txt``), in bytes: file
#: systems refuse names over 255 bytes
MAX_NAME_BYTES = 240


def short_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """``name`` when it is at most ``limit`` bytes (UTF-8), else its start, a hash of the
    whole name and its suffix, within ``limit`` bytes: an over-long name never stops a
    file from being kept."""
    if len(name.encode("utf-8")) <= limit:
        return name
    suffix = Path(name).suffix
    suffix = suffix if len(suffix.encode("utf-8")) <= 16 else ""
    tag = "~" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:12] + suffix
    head = name.encode("utf-8")[:max(limit - len(tag.encode("utf-8")), 1)]
    return head.decode("utf-8", errors="ignore") + tag


def quarantine(path: Path, reason: str, quarantine_dir: Path, move: bool) -> Path:
    """Keep a rejected file whole in quarantine with a reason file beside it.  Raises
    OSError when the quarantine folder cannot be written (the caller records that against
    the file)."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    target = quarantine_dir / short_name(f"{stamp}_{path.name}",
                                         MAX_NAME_BYTES - len(".reason.txt"))
    note = target.with_name(target.name + ".reason.txt")
    # the reason first: a file in quarantine always has its reason beside it
    note.write_text(
        f"file: {path}\nrejected at: {utcnow():%Y-%m-%d %H:%M:%S} UTC\nreason: {reason}\n"
        f"{'moved here from the inbox' if move else 'copied here; the original was left in place'}\n",
        encoding="utf-8")
    try:
        if move:
            shutil.move(str(path), target)
        else:
            shutil.copy2(path, target)
    except OSError:
        note.unlink(missing_ok=True)
        raise
    return target


@dataclass
class _Prepared:
    """A file read and parsed (or refused), ready to be applied to the store."""

    path: Path
    source_id: str | None
    started: dt.datetime
    seconds: float                   # reading and parsing
    digest: str = ""
    batch: Batch | None = None
    error: str | None = None         # why the file is refused
    quarantine: bool = True          # keep the refused file (False: it could not be read)
    source: str | None = None        # the source the values go under (source_for)


def _prepare(config: Config, path: Path, source_id: str | None) -> _Prepared:
    """Read, hash and parse one file; never touches the store (safe in a thread)."""
    t0 = time.perf_counter()
    started = utcnow()
    try:
        data = path.read_bytes()
    except OSError as e:
        return _Prepared(path, source_id, started, time.perf_counter() - t0,
                         error=f"{path}: cannot read the file: {e.strerror}", quarantine=False)
    digest = hashlib.sha256(data).hexdigest()
    try:
        batch = read_file(path, config, source_id=source_id, data=data)
        source = source_for(config, batch, source_id, path)
    except IngestError as e:
        return _Prepared(path, source_id, started, time.perf_counter() - t0, digest,
                         error=str(e))
    except MemoryError:
        raise  # the machine, not the file: let the caller retry
    except Exception as e:  # a reader bug must not stop a worker: keep the file, say why
        return _Prepared(path, source_id, started, time.perf_counter() - t0, digest,
                         error=f"{path}: unexpected error while reading the file "
                               f"({type(e).__name__}: {e})")
    return _Prepared(path, source_id, started, time.perf_counter() - t0, digest, batch,
                     source=source)


def _apply(engine: Engine, config: Config, prep: _Prepared, received_at: dt.datetime | None,
           quarantine_dir: Path | None, move_rejected: bool) -> IngestResult:
    """Store a prepared file in one transaction (or quarantine and record a refused one)."""
    t0 = time.perf_counter() - prep.seconds      # the file's clock started with its read
    path = prep.path
    if prep.error is not None:
        target = None
        message = prep.error
        if prep.quarantine and path.exists():
            qdir = quarantine_dir or config.resolve(config.settings.paths.quarantine)
            try:
                target = quarantine(path, prep.error, qdir, move_rejected)
            except OSError as e:   # recorded against this file; the next file goes on
                message += (f" (and it could not be kept in quarantine {qdir}: "
                            f"{e.strerror or e}; the file was left where it was)")
        return _record_rejected(engine, path, prep.source_id, prep.digest, prep.started, t0,
                                message, target)
    batch = prep.batch
    assert batch is not None
    received_at = received_at or prep.started
    timings: dict[str, float] = {"read": prep.seconds}
    source = prep.source or source_for(config, batch, prep.source_id, path)
    with engine.begin() as conn:
        prior = writes.count_loaded(conn, prep.digest, source)
        writes.lock_for_ingest(conn)
        run_id = writes.start_run(conn, path=str(path), source=source, format=batch.format,
                                  content_hash=prep.digest, started_at=prep.started,
                                  rows_read=batch.rows)
        written, flags = (0, 0) if prior else write_batch(conn, batch, source, run_id,
                                                          received_at, config, timings)
        outcome = "loaded" if written else "unchanged"
        writes.finish_run(conn, run_id, finished_at=utcnow(), outcome=outcome,
                          rows_written=written, flags_raised=flags,
                          message=("identical file already ingested" if prior else None))
        t_commit = time.perf_counter()
    timings["commit"] = time.perf_counter() - t_commit
    return IngestResult(str(path), outcome, batch.rows, written, flags,
                        "identical file already ingested" if prior else "", run_id,
                        time.perf_counter() - t0, timings=timings, source=source)


def ingest_file(engine: Engine, config: Config, path: str | Path, source_id: str | None = None,
                received_at: dt.datetime | None = None, quarantine_dir: Path | None = None,
                move_rejected: bool = False) -> IngestResult:
    """Ingest one file atomically.

    Bad content never raises: the result's outcome is ``rejected`` and the file is kept in
    quarantine.  A failure of the store itself (locked, unreachable, disk full) raises
    after the transaction has been rolled back, so the caller can retry the file.
    """
    prep = _prepare(config, Path(path), source_id)
    return _apply(engine, config, prep, received_at, quarantine_dir, move_rejected)


def ingest_files(engine: Engine, config: Config, paths: Iterable[str | Path],
                 source_id: str | None = None, received_at: dt.datetime | None = None,
                 quarantine_dir: Path | None = None, move_rejected: bool = False,
                 read_ahead: bool = True) -> Iterator[IngestResult]:
    """Ingest files one after another, each as :func:`ingest_file` does (one transaction
    per file, in the given order), yielding each result as its file is done.

    With ``read_ahead``, while a file is written to the store the next one is read and
    parsed in a background thread (reading and parsing never touch the store; pyarrow and
    hashing release the GIL), so on a multi-core machine most of the parse is hidden
    behind the writes.  The results are the same either way.
    """
    files = [Path(p) for p in paths]
    if not files:
        return
    if not read_ahead:
        for p in files:
            yield ingest_file(engine, config, p, source_id, received_at, quarantine_dir,
                              move_rejected)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hydrorisk-read") as pool:
        pending = pool.submit(_prepare, config, files[0], source_id)
        for nxt in [*files[1:], None]:
            prep = pending.result()
            if nxt is not None:
                pending = pool.submit(_prepare, config, nxt, source_id)
            yield _apply(engine, config, prep, received_at, quarantine_dir, move_rejected)


def _record_rejected(engine, path, source_id, digest, started, t0, message, target
                     ) -> IngestResult:
    with engine.begin() as conn:
        run_id = writes.record_rejected(conn, path=str(path), source=source_id,
                                        content_hash=digest, started_at=started,
                                        finished_at=utcnow(), message=message,
                                        quarantined_to=str(target) if target else None)
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
    received_at = received_at or utcnow()
    limits = _LimitCache(config)
    ratings = _ratings(config)
    result = CheckResult()
    with engine.connect() as conn:
        todo = [s for s in segments.stations_with_values(conn)
                if stations is None or s in stations]
    with engine.begin() as conn:
        result.run_id = writes.start_run(conn, path="(qc check)", source=None, format="qc",
                                         content_hash="", started_at=received_at,
                                         rows_read=0)
    lo_all = start or dt.datetime(1800, 1, 1)
    hi_all = end or dt.datetime(2200, 1, 1)
    for station in todo:
        with engine.begin() as conn:
            writes.lock_for_ingest(conn)
            variables = segments.variables_of(conn, station)
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
        written = segments.read(conn, run_id=result.run_id, current=False)
    counts: dict[str, int] = {}
    for flag in QC:
        n = int(((written["qc_flags"].to_numpy() & int(flag)) != 0).sum())
        if n and flag.name:
            counts[flag.name] = n
    result.flagged = counts
    with engine.begin() as conn:
        writes.finish_run(conn, result.run_id,
                          finished_at=utcnow(),
                          outcome="loaded" if result.revisions_written else "unchanged",
                          rows_read=result.values_checked,
                          rows_written=result.revisions_written,
                          flags_raised=sum(result.flagged.values()),
                          message="store-level QC check")
    return result


def bundled_files(config: Config) -> list[Path]:
    """The bundled demonstration files in a stable order (network data before quality)."""
    root = config.resolve(config.settings.paths.bundled)
    order = ["grdc/*.txt", "agency/*/*.csv", "reservoirs/*.csv", "quality/*.csv"]
    files: list[Path] = []
    for pattern in order:
        files.extend(sorted(root.glob(pattern)))
    return files


#: sub-folders a folder walk leaves out: ``external`` holds ensemble forecasts and
#: reforecasts (``hydrorisk forecast external``), which are not observations
NOT_OBSERVATIONS = ("external",)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The data files named by ``paths``: files as given, folders searched recursively for
    ``.csv``, ``.txt`` and ``.nc`` (skipping files a worker is processing and the folders
    of :data:`NOT_OBSERVATIONS`)."""
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*") if f.is_file()
                                and f.suffix.lower() in (".csv", ".txt", ".nc")
                                and ".processing" not in f.parts
                                and not set(f.relative_to(path).parts[:-1])
                                & set(NOT_OBSERVATIONS)))
        elif path.exists():
            files.append(path)
        else:
            raise HydroriskError(f"{p}: no such file or folder")
    return files


def ingest_paths(config: Config, engine: Engine, files: list[Path], source: str | None = None,
                 progress: Callable[[int, int, Path], None] | None = None
                 ) -> list[IngestResult]:
    """Ingest ``files`` in order (the next one read ahead), one transaction each; a write
    the store refuses stops the run with a :class:`HydroriskError` naming the file (its
    transaction was rolled back, so nothing of it is stored).  ``progress(i, n, file)`` is
    called after each file."""
    results = []
    done = ingest_files(engine, config, files, source_id=source)
    for i, f in enumerate(files, 1):
        try:
            results.append(next(done))
        except SQLAlchemyError as e:  # the file's transaction was rolled back
            raise HydroriskError(f"{f}: the store refused the write, nothing of the file was "
                                 f"stored: {getattr(e, 'orig', e)}") from None
        if progress is not None:
            progress(i, len(files), f)
    return results
