"""Alert evaluation: run the rules of ``config/alerts.toml`` over what the store knows, and
open, update, escalate, de-escalate and close alerts accordingly.

:func:`evaluate` is what the worker runs after every ingest and what the CLI and the
dashboard run on demand; :func:`replay` steps it through a past period.

What was known when
    An evaluation at ``as_of`` reads only the values the store had received by then (the
    store's as-of read: the highest revision received by ``as_of``) and observed by then.
    Every change it makes is stamped ``as_of``; ``known_at`` records when the store
    received the reading behind it.  Nothing already recorded is rewritten: a late
    correction is evaluated like any new data, so it opens (or closes) alerts at the time
    it arrived.  An evaluation at a time before the last recorded one is refused.

One alert per rule and station
    While an alert of a rule is open at a station, the rule's further readings update it
    (last and peak value; the severity raised: ``updated``, lowered: ``deescalated``)
    instead of opening another; the rule closes it when its condition has ended (with the
    rule's hysteresis band).  An alert a duty officer closed while the condition went on is
    not reopened until a new episode begins; one the rules closed reopens as soon as the
    condition is back.  A breach that began and ended in data that arrived all at once (a
    backlog, a correction) opens and closes an alert at once, so it is on record.

Escalation
    An open alert nobody has acknowledged for the rule's ``escalation_after`` is escalated
    (level 1, then 2 … after each further period, up to ``[evaluation].max_escalations``).

Standing
    An alert carries the standing of the value it was raised on (provisional level,
    QC-flagged, ice-affected, one party's reading: :class:`hydro.alert_rules.Standing`); a
    rule with ``require_confirmed`` ignores readings that are not confirmed.

Full and incremental
    A full evaluation looks at every station with rules; an incremental one
    (``incremental=True``, the worker's) at the stations with data received since the last
    evaluation, plus the time-driven checks (silent stations, escalation) everywhere.
    Both read, per station, the data since ``[evaluation].lookback`` before the earliest
    newly received observation, so a backlog is evaluated whole.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from hydro import alert_rules as ar
from hydro.alert_rules import Episode, Standing
from hydro.config import Config
from hydro.config.alerts import node_kind
from hydro.config.schema import AlertRule
from hydro.qc import QC, labels
from hydro.services.context import Store
from hydro.store import alerts as _store
from hydro.store.alerts import AlertError, AlertRecord

__all__ = ["EvaluationReport", "evaluate", "replay", "FORECAST_NOTE"]

log = logging.getLogger("hydrorisk.alerts")

#: the forecasts a ``forecast_crossing`` rule reads (hydro.services.forecasts)
FORECAST_METHOD = "sarimax"
#: what a ``forecast_crossing`` rule says when no forecast is stored
FORECAST_NOTE = ("forecast_crossing rules evaluate to nothing: no stage forecast is stored "
                 "(`hydrorisk forecast run`; the worker refreshes them after each ingest)")
#: QC flags that do not make a reading "QC-flagged" for an alert (ICE is its own standing)
_NOT_FAILURES = int(QC.ICE) | int(QC.CENSORED)
#: unit of the value an alert of each kind reports
_UNIT = {**ar.KIND_UNITS, "qc_burst": "flags", "pollution_class": "class"}
_DAY = dt.timedelta(days=1)


@dataclass
class EvaluationReport:
    """What one evaluation did (alerts as stored after it)."""

    as_of: dt.datetime
    mode: str
    stations: list[str] = field(default_factory=list)
    opened: list[AlertRecord] = field(default_factory=list)
    updated: list[AlertRecord] = field(default_factory=list)
    escalated: list[AlertRecord] = field(default_factory=list)
    deescalated: list[AlertRecord] = field(default_factory=list)
    closed: list[AlertRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return (len(self.opened) + len(self.updated) + len(self.escalated)
                + len(self.deescalated) + len(self.closed))

    def summary(self) -> str:
        """``2024-04-03 06:00 UTC (incremental, 12 stations): 2 opened, 1 closed``."""
        parts = [f"{len(getattr(self, k))} {k}" for k in
                 ("opened", "updated", "escalated", "deescalated", "closed")
                 if getattr(self, k)]
        return (f"{self.as_of:%Y-%m-%d %H:%M} UTC ({self.mode}, {len(self.stations)} "
                f"stations): {', '.join(parts) or 'no change'}")


# --------------------------------------------------------------------------- findings

@dataclass
class _Series:
    """Readings of one rule at many stations, sorted by station and time, with what the
    lifecycle needs: thresholds per level, severities, standing, when each was received."""

    keys: list[str]
    groups: np.ndarray
    times: np.ndarray
    values: np.ndarray
    received: np.ndarray
    thresholds: np.ndarray
    severities: Sequence[str] | np.ndarray
    standing: np.ndarray
    level_standing: np.ndarray | None = None
    direction: ar.Direction = "above"
    band: np.ndarray | float = 0.0
    persistence: np.ndarray | int = 1
    report: np.ndarray | None = None      # the value an alert reports (default: values)


@dataclass
class _Finding:
    rule: AlertRule
    station: str
    episodes: list[Episode]
    series: _Series | None


def _naive(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _py(t) -> dt.datetime | None:
    if t is None or (isinstance(t, float) and math.isnan(t)) or pd.isna(t):
        return None
    return pd.Timestamp(t).to_pydatetime()


def _q(q, dimension: str) -> float:
    """A quantity of a rule in the canonical unit of ``dimension``; NaN when not set."""
    return float("nan") if q is None else float(q.to(dimension))


def _fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


# --------------------------------------------------------------------------- frames

def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by station and time (vectorised: codes, not strings)."""
    if df.empty:
        return df
    codes, _ = labels(df["station_id"])
    t = df["time"].to_numpy(dtype="datetime64[ns]")
    dc, dtt = np.diff(codes), np.diff(t.view(np.int64))
    if ((dc > 0) | ((dc == 0) & (dtt >= 0))).all():
        return df
    order = np.lexsort((t, codes))
    return df.iloc[order].reset_index(drop=True)


def _categorical(codes: np.ndarray, names: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, pd.Index(names, dtype=object))


def _combine_parties(df: pd.DataFrame, config: Config, pick: str = "max") -> pd.DataFrame:
    """One reading per (station, time) from the parties' readings: the highest (``max``)
    or lowest (``min``) value — the reading a duty officer acts on — with the union of
    their QC flags, the number of parties and the received time of the chosen reading.

    Columns: station_id (categorical), time, value, received_at, flags, n_parties,
    standing; sorted by station and time."""
    cols = ["station_id", "time", "value", "received_at", "flags", "n_parties", "standing"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    v = df["value"].to_numpy(dtype=float)
    keep = ~np.isnan(v)
    codes, names = labels(df["station_id"])
    codes, v = codes[keep], v[keep]
    t = df["time"].to_numpy(dtype="datetime64[ns]")[keep]
    flags = df["qc_flags"].to_numpy(dtype=np.int64)[keep]
    rec = df["received_at"].to_numpy(dtype="datetime64[ns]")[keep]
    dc, dt_ = np.diff(codes), np.diff(t.view(np.int64))
    if len(v) and ((dc > 0) | ((dc == 0) & (dt_ > 0))).all():
        order = None        # already in station and time order, one reading each (usual)
        same = np.zeros(0, dtype=bool)
    else:
        order = np.lexsort((t, codes))
        same = (codes[order][1:] == codes[order][:-1]) & (t[order][1:] == t[order][:-1])
    if not same.any():
        # one reading per station and time (one party, one source): nothing to combine
        c, f_or = codes, flags
        if order is not None:
            c, t, v, rec, f_or = codes[order], t[order], v[order], rec[order], flags[order]
        n_parties = np.ones(len(v), dtype=np.int64)
    else:
        parties = labels(df["party"])[0][keep]
        order = np.lexsort((v if pick == "max" else -v, t, codes))
        c, t, v = codes[order], t[order], v[order]
        flags, rec, parties = flags[order], rec[order], parties[order]
        n = len(v)
        new = np.ones(n, dtype=bool)
        new[1:] = (c[1:] != c[:-1]) | (t[1:] != t[:-1])
        starts = np.flatnonzero(new)
        last = np.r_[starts[1:], n] - 1
        f_or = np.bitwise_or.reduceat(flags, starts)
        # distinct parties within each (station, time): count changes in party order
        o2 = np.lexsort((parties, t, c))
        p2 = parties[o2]
        change = np.zeros(n, dtype=np.int64)
        change[1:] = (p2[1:] != p2[:-1]) & ~new[1:]
        n_parties = 1 + np.add.reduceat(change, starts)
        c, t, v, rec = c[last], t[last], v[last], rec[last]
    two = np.array([len(config.network.gauges[str(x)].reporting_parties) >= 2
                    if str(x) in config.network.gauges else False for x in names], dtype=bool)
    standing = np.where((f_or & ~_NOT_FAILURES) != 0, int(Standing.QC_FLAGGED), 0)
    standing |= np.where((f_or & int(QC.ICE)) != 0, int(Standing.ICE_AFFECTED), 0)
    if len(two):
        standing |= np.where(two[c] & (n_parties < 2), int(Standing.SINGLE_PARTY), 0)
    return pd.DataFrame({"station_id": _categorical(c, names), "time": t, "value": v,
                         "received_at": rec, "flags": f_or, "n_parties": n_parties,
                         "standing": standing.astype(np.int64)}, copy=False)


def _last_rows(df: pd.DataFrame) -> np.ndarray:
    """Index of the last row of each station (rows sorted by station)."""
    codes, _ = labels(df["station_id"])
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    return np.r_[np.flatnonzero(codes[1:] != codes[:-1]), len(codes) - 1]


def _groups(df: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Station code of each row (0 .. k-1) and the k stations present, in code order."""
    codes, names = labels(df["station_id"])
    if not len(codes):
        return codes.astype(np.int64), []
    present = np.bincount(codes, minlength=len(names)) > 0
    if not present.all():       # a categorical keeps the stations filtered out
        codes = (np.cumsum(present) - 1)[codes]
        names = names[present]
    return codes.astype(np.int64), [str(x) for x in names]


def _band_array(rules: dict[str, AlertRule], keys: list[str], groups: np.ndarray,
                get) -> np.ndarray:
    """``get(rule)`` of each reading's station; a read-only broadcast view when every
    station has the same value (the usual case: no per-station override)."""
    per = np.array([float(get(rules[k])) for k in keys]) if keys else np.zeros(0)
    if len(per) and (per == per[0]).all():
        return np.broadcast_to(per[0], (len(groups),))
    return per[groups] if len(groups) else np.zeros(0)


def _per_station(frame: pd.DataFrame, value: dict[str, object], default: object) -> np.ndarray:
    """``value[station]`` for every row (vectorised through the station codes)."""
    codes, names = labels(frame["station_id"])
    per = np.array([value.get(str(n), default) for n in names])
    return per[codes] if len(codes) else per[:0]


def _confirmed_only(frame: pd.DataFrame, rules: dict[str, AlertRule]) -> pd.DataFrame:
    """Readings a ``require_confirmed`` rule may use: not QC-flagged, not single-party."""
    if frame.empty or not any(r.require_confirmed for r in rules.values()):
        return frame
    strict = _per_station(frame, {s: r.require_confirmed for s, r in rules.items()},
                          False).astype(bool)
    bad = (frame["standing"].to_numpy() & int(Standing.QC_FLAGGED | Standing.SINGLE_PARTY)) != 0
    return frame[~(strict & bad)].reset_index(drop=True)


def _only(frame: pd.DataFrame, stations) -> pd.DataFrame:
    """Rows of ``stations`` (vectorised through the station codes)."""
    if frame.empty:
        return frame
    keep = _per_station(frame, {s: True for s in stations}, False).astype(bool)
    return frame if keep.all() else frame[keep].reset_index(drop=True)


#: constant warning levels per (station, levels, schemes, published only), per config
#: object (a worker evaluates with the same config many times); the config is kept to
#: tell a new config from a recycled id
_LEVELS: dict[int, tuple[Config, dict]] = {}


def _level_cache(config: Config) -> dict:
    hit = _LEVELS.get(id(config))
    if hit is None or hit[0] is not config:
        if len(_LEVELS) > 8:
            _LEVELS.clear()
        hit = _LEVELS[id(config)] = (config, {})
    return hit[1]


def _stage_series(frame: pd.DataFrame, config: Config, rules: dict[str, AlertRule],
                  low: bool, thresholds: dict[str, list]) -> _Series | None:
    """stage_level / low_water: stage against every warning level of the gauge."""
    levels = ar.LOW_LEVELS if low else ar.HIGH_LEVELS
    frame = _confirmed_only(frame, rules)
    frame = _only(frame, [s for s in rules if thresholds.get(s)])
    if frame.empty:
        return None
    groups, keys = _groups(frame)
    n, k = len(frame), len(levels)
    thr = np.full((n, k), np.nan)
    prov = np.zeros((n, k), dtype=bool)
    times = frame["time"].to_numpy(dtype="datetime64[ns]")
    bounds = np.r_[np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]), n]
    level_cache = _level_cache(config)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        sid = keys[groups[a]]
        rule = rules[sid]
        ths = thresholds[sid]
        if any(t.valid_from or t.valid_to for t in ths):
            # levels that change with time: by the local date of each reading
            tz = config.network.gauges[sid].timezone
            days = (pd.DatetimeIndex(times[a:b]).tz_localize("UTC").tz_convert(tz)
                    .tz_localize(None).normalize().to_numpy(dtype="datetime64[D]"))
            thr[a:b], prov[a:b] = ar.level_table(ths, days, levels, schemes=rule.schemes,
                                                 published_only=rule.require_confirmed)
        else:
            # the same levels on every day: one row, broadcast (kept for the next run)
            key = (sid, levels, rule.schemes and tuple(rule.schemes), rule.require_confirmed)
            if key not in level_cache:
                one, p1 = ar.level_table(ths, np.array(["2000-01-01"], dtype="datetime64[D]"),
                                         levels, schemes=rule.schemes,
                                         published_only=rule.require_confirmed)
                level_cache[key] = (one[0], p1[0])
            thr[a:b], prov[a:b] = level_cache[key]
    level_standing = np.where(prov, int(Standing.PROVISIONAL), 0)
    return _Series(keys, groups, times, frame["value"].to_numpy(dtype=float),
                   frame["received_at"].to_numpy(dtype="datetime64[ns]"), thr, levels,
                   frame["standing"].to_numpy(dtype=np.int64), level_standing,
                   "below" if low else "above",
                   _band_array(rules, keys, groups, lambda r: r.band("stage")),
                   _band_array(rules, keys, groups, lambda r: r.persistence))


def _rate_series(frame: pd.DataFrame, rules: dict[str, AlertRule]) -> _Series | None:
    """rate_of_rise: the stage's rise per day between consecutive readings."""
    frame = _only(_confirmed_only(frame, rules), rules)
    if frame.empty:
        return None
    groups, keys = _groups(frame)
    times = frame["time"].to_numpy(dtype="datetime64[ns]")
    max_gap = _band_array(rules, keys, groups,
                          lambda r: r.max_gap.to("duration") if r.max_gap else 2.0)
    rate = ar.rate_per_day(times, frame["value"].to_numpy(dtype=float), groups=groups,
                           max_gap_days=float(max_gap.max()) if len(max_gap) else 2.0)
    limit = _band_array(rules, keys, groups, lambda r: r.rise.to("stage")
                        / (r.over.to("duration") if r.over else 1.0))
    return _Series(keys, groups, times, rate,
                   frame["received_at"].to_numpy(dtype="datetime64[ns]"), limit,
                   _severities(rules, keys, groups),
                   frame["standing"].to_numpy(dtype=np.int64), None, "above",
                   _band_array(rules, keys, groups, lambda r: r.band("stage")),
                   _band_array(rules, keys, groups, lambda r: r.persistence))


def _wide(df: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """Reservoir series side by side per (station, time), one party (the owner's)."""
    if df.empty:
        return pd.DataFrame(columns=["station_id", "time", "received_at", *variables])
    d = df[df["variable"].isin(list(variables))]
    d = d.assign(station_id=d["station_id"].astype(object), variable=d["variable"].astype(object))
    d = d.sort_values(["station_id", "time", "received_at"])
    w = d.pivot_table(index=["station_id", "time"], columns="variable", values="value",
                      aggfunc="last", observed=True)
    rec = d.groupby(["station_id", "time"], observed=True)["received_at"].max()
    flags = d.groupby(["station_id", "time"], observed=True)["qc_flags"].agg(
        lambda x: int(np.bitwise_or.reduce(x.to_numpy(dtype=np.int64))))
    w = w.reindex(columns=list(variables))
    w["received_at"] = rec
    w["flags"] = flags
    return w.reset_index()


def _severities(rules: dict[str, AlertRule], keys: list[str], groups: np.ndarray
                ) -> list[str] | np.ndarray:
    """The rule's severity (one level); per reading when overrides differ by station."""
    sev = [rules[k].effective_severity for k in keys]
    if len(set(sev)) <= 1:
        return sev[:1] or ["info"]
    return np.asarray(sev, dtype=object)[groups][:, None]


def _simple_series(frame: pd.DataFrame, rules: dict[str, AlertRule], value: np.ndarray,
                   threshold: np.ndarray, direction: ar.Direction, band_dim: str | None,
                   report: np.ndarray | None = None) -> _Series:
    groups, keys = _groups(frame)
    flags = frame["flags"].to_numpy(dtype=np.int64) if "flags" in frame else np.zeros(len(frame), np.int64)
    standing = np.where((flags & ~_NOT_FAILURES) != 0, int(Standing.QC_FLAGGED), 0)
    standing |= np.where((flags & int(QC.ICE)) != 0, int(Standing.ICE_AFFECTED), 0)
    band = (_band_array(rules, keys, groups, lambda r: r.band(band_dim)) if band_dim
            else np.zeros(len(frame)))
    return _Series(keys, groups, frame["time"].to_numpy(dtype="datetime64[ns]"),
                   np.asarray(value, dtype=float),
                   frame["received_at"].to_numpy(dtype="datetime64[ns]"),
                   np.asarray(threshold, dtype=float), _severities(rules, keys, groups),
                   standing.astype(np.int64), None, direction, band,
                   _band_array(rules, keys, groups, lambda r: r.persistence),
                   report)


# --------------------------------------------------------------------------- evaluate rules

class _Evaluator:
    """Runs the rules of one evaluation over the frames read from the store."""

    def __init__(self, store: Store, config: Config, as_of: dt.datetime,
                 stations: list[str], start: dict[str, dt.datetime], on_time: bool) -> None:
        self.store, self.config, self.as_of = store, config, as_of
        self.stations, self.start, self.on_time = stations, start, on_time
        self.notes: list[str] = []
        self._all: pd.DataFrame | None = None
        self.thresholds: dict[str, list] = {}
        for t in config.thresholds:
            self.thresholds.setdefault(t.station, []).append(t)

    # rules of one id at the stations evaluated, grouped: {rule id: {station: rule}}
    def by_rule(self, kinds: Sequence[str]) -> dict[str, dict[str, AlertRule]]:
        out: dict[str, dict[str, AlertRule]] = {}
        for sid in self.stations:
            for r in self.config.alerts.rules_for(sid):
                if r.kind in kinds:
                    out.setdefault(r.id, {})[sid] = r
        return out

    #: every variable a rule reads; the stations evaluated are read once, for all rules
    VARIABLES = ["stage", "discharge", "level", "volume", "inflow", "outflow", "spill",
                 "evaporation"]

    def read(self, stations: list[str], variables: list[str]) -> pd.DataFrame:
        """Observations of ``stations`` x ``variables`` as known at ``as_of``, each station
        from its own start: from one read of every station evaluated when they are among
        them."""
        if not stations:
            return pd.DataFrame()
        if set(stations) <= set(self.stations):
            if self._all is None:
                self._all = self._read(self.stations, self.VARIABLES)
            df = self._all
            if df.empty:
                return df
            vc, vn = labels(df["variable"])
            want = np.isin(vn, variables)
            keep = want[vc] if len(vc) else np.zeros(0, dtype=bool)
            if not keep.all():
                df = df[keep].reset_index(drop=True)
            return _only(df, stations)
        return self._read(stations, variables)

    def _read(self, stations: list[str], variables: list[str]) -> pd.DataFrame:
        first = min(self.start[s] for s in stations if s in self.start) \
            if any(s in self.start for s in stations) else self.as_of
        df = _store.rule_observations(self.store, stations, variables, first, self.as_of,
                                      None if self.on_time else self.as_of)
        if df.empty:
            return df
        # each station from its own start
        lo = _per_station(df, {s: np.datetime64(self.start.get(s, first), "ns")
                               for s in stations}, np.datetime64(first, "ns"))
        keep = df["time"].to_numpy(dtype="datetime64[ns]") >= lo.astype("datetime64[ns]")
        if not keep.all():
            df = df[keep].reset_index(drop=True)
        if self.on_time:  # as if every value had arrived when it was observed
            df["received_at"] = df["time"]
        return df

    def findings(self) -> Iterator[_Finding]:
        yield from self._gauges()
        yield from self._reservoirs()
        yield from self._borders()
        yield from self._qc_burst()
        yield from self._pollution()
        yield from self._forecasts()

    def _forecasts(self) -> Iterator[_Finding]:
        """forecast_crossing: the highest stage each stored forecast run (method
        ``sarimax``, :mod:`hydro.services.forecasts`) gives within ``within_days`` of its
        issue, against every warning level of the gauge — an episode per run of issues
        forecast to reach a level, stamped with the issue time; the runs are those the
        store had by the evaluation's time."""
        from hydro.store import forecasts as _forecast_store

        groups = self.by_rule(["forecast_crossing"])
        if not groups:
            return
        found = False
        for rules in groups.values():
            stations = [s for s in rules if self.thresholds.get(s)]
            if not stations:
                continue
            within = max(r.within_days.to("duration") for r in rules.values()
                         if r.within_days is not None)
            first = min((self.start.get(s, self.as_of) for s in stations), default=self.as_of)
            peaks = _forecast_store.forecast_peaks(
                self.store, stations, variable="stage", method=FORECAST_METHOD, start=first,
                as_of=self.as_of, within_days=within)
            if peaks.empty:
                continue
            found = True
            frame = pd.DataFrame({
                "station_id": pd.Categorical(peaks["station_id"]),
                "time": pd.to_datetime(peaks["issue_time"]),
                "value": peaks["value"].to_numpy(dtype=float),
                "received_at": pd.to_datetime(peaks["known_at"]),
                "standing": np.full(len(peaks), int(Standing.PROVISIONAL), dtype=np.int64),
            }).sort_values(["station_id", "time"], kind="stable").reset_index(drop=True)
            yield from self._emit(rules, _stage_series(frame, self.config, rules, False,
                                                       self.thresholds))
        if not found:
            self.notes.append(FORECAST_NOTE)

    def _emit(self, rules: dict[str, AlertRule], s: _Series | None) -> Iterator[_Finding]:
        if s is None:
            return
        levels = ar.hysteresis_levels(s.values, s.thresholds, groups=s.groups, band=s.band,
                                      persistence=s.persistence, direction=s.direction)
        eps = ar.episodes(s.times, s.values if s.report is None else s.report, levels,
                          s.severities, groups=s.groups, keys=s.keys,
                          thresholds=s.thresholds, standing=s.standing,
                          level_standing=s.level_standing, direction=s.direction)
        per: dict[str, list[Episode]] = {}
        for e in eps:
            per.setdefault(e.key, []).append(e)
        for sid, rule in rules.items():
            yield _Finding(rule, sid, per.get(sid, []), s)

    def _gauges(self) -> Iterator[_Finding]:
        groups = self.by_rule(["stage_level", "low_water", "rate_of_rise"])
        if not groups:
            return
        stations = sorted({s for g in groups.values() for s in g})
        raw = self.read(stations, ["stage"])
        combined: dict[str, pd.DataFrame] = {}
        for _rid, rules in groups.items():
            kind = next(iter(rules.values())).kind
            pick = "min" if kind == "low_water" else "max"
            if pick not in combined:
                combined[pick] = _combine_parties(raw, self.config, pick)
            frame = _only(combined[pick], rules)
            if kind == "rate_of_rise":
                yield from self._emit(rules, _rate_series(frame, rules))
            else:
                yield from self._emit(rules, _stage_series(frame, self.config, rules,
                                                           kind == "low_water",
                                                           self.thresholds))

    def _reservoirs(self) -> Iterator[_Finding]:
        groups = self.by_rule(["reservoir_full", "spill_started", "release_change",
                               "balance_residual"])
        if not groups:
            return
        stations = sorted({s for g in groups.values() for s in g})
        raw = self.read(stations, ["level", "volume", "inflow", "outflow", "spill",
                                   "evaporation"])
        if raw.empty:
            return
        wide = _wide(raw, ["level", "volume", "inflow", "outflow", "spill", "evaporation"])
        net = self.config.network
        for _rid, rules in groups.items():
            kind = next(iter(rules.values())).kind
            f = wide[wide["station_id"].isin(list(rules))].reset_index(drop=True)
            if f.empty:
                yield from (_Finding(r, s, [], None) for s, r in rules.items())
                continue
            sid_arr = f["station_id"].to_numpy(dtype=object)
            if kind == "reservoir_full":
                res = [net.reservoirs[s] for s in sid_arr]
                fpu = np.array([r.fpu.to("elevation") for r in res])
                full = np.array([r.fpu_volume_hm3 for r in res])
                within = np.array([_q(rules[s].within, "elevation") for s in sid_arr])
                days_lim = np.array([_q(rules[s].days_to_full, "duration") for s in sid_arr])
                level = f["level"].to_numpy(dtype=float)
                days = ar.days_to_full(f["volume"].to_numpy(dtype=float),
                                       f["inflow"].to_numpy(dtype=float),
                                       f["outflow"].to_numpy(dtype=float), full)
                # one score: how far into either condition (>= 0 means reached)
                s = _simple_series(f, rules, level, fpu - within, "above", "elevation")
                lv_margin = ar.hysteresis_levels(level, fpu - within, groups=s.groups,
                                                 band=s.band, persistence=s.persistence)
                lv_days = ar.hysteresis_levels(days, days_lim, groups=s.groups,
                                               persistence=s.persistence, direction="below")
                levels = np.maximum(lv_margin, lv_days)
                eps = ar.episodes(s.times, level, levels, s.severities, groups=s.groups,
                                  keys=s.keys, thresholds=np.where(np.isnan(within), fpu,
                                                                   fpu - within),
                                  standing=s.standing)
                per: dict[str, list[Episode]] = {}
                for e in eps:
                    per.setdefault(e.key, []).append(e)
                for sid, rule in rules.items():
                    yield _Finding(rule, sid, per.get(sid, []), s)
                continue
            if kind == "spill_started":
                lim = np.nan_to_num(np.array([_q(rules[s].min_spill, "discharge")
                                              for s in sid_arr]), nan=0.0)
                spill = f["spill"].to_numpy(dtype=float)
                # "started": strictly more than the limit (0 m3/s means any spill)
                s = _simple_series(f, rules, spill, np.nextafter(lim, np.inf), "above",
                                   "discharge")
                yield from self._emit(rules, s)
            elif kind == "release_change":
                yield from self._emit(rules, self._release(f, rules, sid_arr))
            elif kind == "balance_residual":
                yield from self._balance(f, rules)

    def _release(self, f: pd.DataFrame, rules: dict[str, AlertRule],
                 sid_arr: np.ndarray) -> _Series:
        """release_change: release = outflow − spill (the total outflow where no spill is
        reported), its largest change within the window against any earlier reading."""
        out = f["outflow"].to_numpy(dtype=float)
        spill = f["spill"].to_numpy(dtype=float)
        release = out - np.where(np.isnan(spill), 0.0, spill)
        groups, keys = _groups(f)
        window = max((r.window.to("duration") if r.window else 1.0) for r in rules.values())
        change, pct = ar.release_change(f["time"].to_numpy(dtype="datetime64[ns]"), release,
                                        groups=groups, window_days=window)
        abs_lim = np.nan_to_num(np.array([_q(rules[s].min_change, "discharge")
                                          for s in sid_arr]), nan=np.inf)
        pct_lim = np.array([rules[s].min_change_percent or np.inf for s in sid_arr])
        floor = np.nan_to_num(np.array([_q(rules[s].percent_floor, "discharge")
                                        for s in sid_arr]), nan=0.0)
        limit = ar.release_change_limit(change, pct, abs_lim, pct_lim, floor)
        return _simple_series(f, rules, np.abs(change), limit, "above", None, report=change)

    def _balance(self, f: pd.DataFrame, rules: dict[str, AlertRule]) -> Iterator[_Finding]:
        """balance_residual: the daily water-balance residual of a reservoir against its
        tolerance (:func:`hydro.balance.reservoir_balance`)."""
        from hydro.balance import reservoir_balance

        net = self.config.network
        parts = []
        for sid, g in f.groupby("station_id", sort=True):
            res = net.reservoirs[str(sid)]
            local = (pd.DatetimeIndex(g["time"]).tz_localize("UTC").tz_convert(res.timezone)
                     .tz_localize(None).normalize())
            ok = ~local.duplicated(keep="last")
            if ok.sum() < 2 or g["volume"].isna().all():
                continue

            def daily(col: str, g=g, local=local, ok=ok) -> pd.Series:
                return pd.Series(g[col].to_numpy(dtype=float)[ok], index=local[ok])

            evap = daily("evaporation") if g["evaporation"].notna().any() else None
            tol = rules[str(sid)].tolerance_percent or res.balance_tolerance_percent
            b = reservoir_balance(daily("volume"), daily("inflow"), daily("outflow"),
                                  evaporation=evap, tolerance_percent=tol,
                                  rounding_hm3=0.002)
            times = g["time"].to_numpy(dtype="datetime64[ns]")[ok]
            rec = g["received_at"].to_numpy(dtype="datetime64[ns]")[ok]
            pos = pd.Series(np.arange(ok.sum()), index=local[ok])
            idx = pos.reindex(b.index).to_numpy()
            have = ~np.isnan(idx)
            ii = idx[have].astype(int)
            parts.append(pd.DataFrame({
                "station_id": sid, "time": times[ii], "received_at": rec[ii],
                "value": b["residual_percent"].abs().to_numpy(dtype=float)[have],
                "tol": tol, "flags": 0}))
        if not parts:
            yield from (_Finding(r, s, [], None) for s, r in rules.items())
            return
        frame = _sorted(pd.concat(parts, ignore_index=True))
        yield from self._emit(rules, _simple_series(
            frame, rules, frame["value"].to_numpy(), frame["tol"].to_numpy(), "above", None))

    def _borders(self) -> Iterator[_Finding]:
        """border_min_flow: discharge at the gauge that stands for each border node
        (:func:`hydro.balance.border_gauges`) against its environmental minimum."""
        from hydro.balance import border_gauges

        groups = self.by_rule(["border_min_flow"])
        if not groups:
            return
        reps = border_gauges(self.config.network)
        for rid, rules in groups.items():
            lims: dict[str, float] = {}
            for sid, rule in rules.items():
                node = self.config.network.nodes[sid]
                q = rule.min_flow or node.environmental_min_flow
                if q is None or sid not in reps:
                    continue
                lims[sid] = q.to("discharge")
            missing = sorted(set(rules) - set(lims))
            if missing:
                self.notes.append(
                    f"rule {rid}: no environmental minimum flow (or no gauge) for "
                    f"{', '.join(missing)}; set min_flow in alerts.toml or "
                    "environmental_min_flow in basins.toml")
            if not lims:
                continue
            gauge_of = {sid: reps[sid].gauge_id for sid in lims}
            self.start.update({g: self.start.get(b, self.as_of - _DAY)
                               for b, g in gauge_of.items() if g not in self.start})
            raw = self.read(sorted(set(gauge_of.values())), ["discharge"])
            frame = _combine_parties(raw, self.config, "min")
            parts = []
            for b, g in gauge_of.items():
                part = frame[frame["station_id"] == g].assign(station_id=b, limit=lims[b])
                parts.append(part)
            fr = _sorted(pd.concat(parts, ignore_index=True)) if parts else frame
            if fr.empty:
                continue
            sub = {b: rules[b] for b in lims}
            yield from self._emit(sub, _simple_series(
                fr, sub, fr["value"].to_numpy(dtype=float), fr["limit"].to_numpy(dtype=float),
                "below", "discharge"))

    def _qc_burst(self) -> Iterator[_Finding]:
        groups = self.by_rule(["qc_burst"])
        if not groups:
            return
        stations = sorted({s for g in groups.values() for s in g})
        raw = self.read(stations, ["stage", "discharge", "level", "volume", "inflow",
                                   "outflow", "spill"])
        if raw.empty:
            return
        raw = _sorted(raw)
        for _rid, rules in groups.items():
            f = _only(raw, rules)
            if f.empty:
                continue
            flagged = (f["qc_flags"].to_numpy(dtype=np.int64) & ~_NOT_FAILURES) != 0
            if not flagged.any():       # no failure at all: no burst (a closing reading)
                f = f.iloc[_last_rows(f)].reset_index(drop=True)
                flagged = np.zeros(len(f), dtype=bool)
            groups_, keys = _groups(f)
            window = _band_array(rules, keys, groups_, lambda r: r.window.to("duration"))
            count = ar.rolling_count(f["time"].to_numpy(dtype="datetime64[ns]"), flagged,
                                     groups=groups_, window_days=float(window.max()))
            lim = _band_array(rules, keys, groups_, lambda r: r.count)
            f = f.assign(flags=0)
            yield from self._emit(rules, _simple_series(f, rules, count, lim, "above", None))

    def _pollution(self) -> Iterator[_Finding]:
        """pollution_class: each sample's KZ class (:func:`hydro.quality.classify_kz`)
        against the site's norm (the rule's ``norm_class``, else the median class of the
        site's samples in the five years before the evaluation window)."""
        from hydro.quality import classify_kz, kz_edition_for

        groups = self.by_rule(["pollution_class"])
        if not groups:
            return
        stations = sorted({s for g in groups.values() for s in g})
        earliest = min(self.start.get(s, self.as_of) for s in stations)
        samples = _store.quality_samples_as_of(
            self.store, stations, self.as_of, start=earliest - dt.timedelta(days=5 * 365),
            received=not self.on_time)
        if self.on_time and not samples.empty:
            samples["received_at"] = samples["time"]
        if samples.empty:
            return
        tables: dict[str, Any] = {}
        rows = []
        for (sid_, when_), g in samples.groupby(["site_id", "time"], sort=True):
            sid, when = str(sid_), pd.Timestamp(cast(Any, when_))
            rule = next((r for r in groups.values() if sid in r), {}).get(sid)
            if rule is None:
                continue
            edition = rule.edition or kz_edition_for(when.date())
            if edition not in tables:
                tables[edition] = self.config.quality_table(edition)
            sample = {p: (("<", v) if c else v) for p, v, c in
                      zip(g["parameter"], g["value"], g["censored"], strict=True)}
            try:
                klass = classify_kz(sample, edition=edition, table=tables[edition]).klass
            except Exception as e:  # noqa: BLE001 - an unclassifiable sample is reported
                self.notes.append(f"pollution_class: sample of {sid} at {when}: {e}")
                continue
            rows.append((sid, when, g["received_at"].max(), float(klass)))
        if not rows:
            return
        df = pd.DataFrame(rows, columns=["station_id", "time", "received_at", "value"])
        for _rid, rules in groups.items():
            f = _sorted(df[df["station_id"].isin(list(rules))].reset_index(drop=True))
            if f.empty:
                continue
            norms: dict[str, float] = {}
            for site, g in f.groupby("station_id"):
                rule = rules[str(site)]
                if rule.norm_class is not None:
                    norms[str(site)] = float(rule.norm_class)
                else:
                    before = g[g["time"] < pd.Timestamp(self.start.get(str(site), self.as_of))]
                    norms[str(site)] = (float(np.median(before["value"])) if len(before)
                                        else np.nan)
            f = f[f["time"] >= f["station_id"].map(
                lambda s: pd.Timestamp(self.start.get(s, self.as_of)))].reset_index(drop=True)
            if f.empty:
                continue
            # worse than the norm: a class above it (classes are whole numbers)
            lim = f["station_id"].map(norms).to_numpy(dtype=float) + 0.5
            yield from self._emit(rules, _simple_series(
                f.assign(flags=0), rules, f["value"].to_numpy(dtype=float), lim, "above", None))


# --------------------------------------------------------------------------- reconcile

def _note(rule: AlertRule, e: Episode, config: Config, extra: str = "",
          over: bool = False) -> str:
    """What the alert says: the value against its limit, who is told, its standing.  For
    an episode already ``over``, its peak."""
    v, sev, thr = ((e.peak_value, e.peak_severity, e.peak_threshold) if over
                   else (e.last_value, e.severity, e.threshold))
    peak = "peak " if over else ""
    if rule.kind == "release_change":
        what = (f"release {'raised' if v > 0 else 'cut'} by {abs(v):.0f} m3/s within "
                f"{rule.window or '1 d'}")
    elif rule.kind == "forecast_crossing":
        what = (f"{peak}forecast ({FORECAST_METHOD}) to "
                f"reach {_fmt(v)} cm within {rule.within_days}, at or over the {sev} level "
                f"{_fmt(thr)} cm")
    elif rule.kind == "rate_of_rise":
        what = f"stage rising {_fmt(v)} cm/d (limit {_fmt(thr)} cm/d)"
    elif rule.kind == "low_water":
        what = f"{peak}stage {_fmt(v)} cm at or below the {sev} level {_fmt(thr)} cm"
    elif rule.kind == "stage_level":
        what = f"{peak}stage {_fmt(v)} cm at or over the {sev} level {_fmt(thr)} cm"
    elif rule.kind == "reservoir_full":
        fpu = config.network.reservoirs[e.key].fpu.to("elevation")
        what = f"{peak}level {v:.2f} m, {100 * (fpu - v):.0f} cm below ФПУ {fpu:.2f} m"
        if rule.within is not None:
            what += f" (alert within {rule.within})"
        if rule.days_to_full is not None:
            what += f" or full within {rule.days_to_full} at the net inflow"
    elif rule.kind == "pollution_class":
        what = f"KZ class {_fmt(v)}, worse than the site's norm"
    elif rule.kind == "qc_burst":
        what = f"{_fmt(v)} QC failures within {rule.window}"
    elif rule.kind == "balance_residual":
        what = f"balance residual {_fmt(v)} % (tolerance {_fmt(thr)} %)"
    elif rule.kind == "border_min_flow":
        what = f"border flow {_fmt(v)} m3/s below the environmental minimum {_fmt(thr)} m3/s"
    elif rule.kind == "spill_started":
        what = f"spill {_fmt(v)} m3/s"
    else:
        what = f"{rule.kind.replace('_', ' ')}: {_fmt(v)} {_UNIT.get(rule.kind, '')}"
    parts = [what]
    if rule.notify == "downstream":
        party = _downstream_party(config, e.key)
        if party:
            parts.append(f"notice for the downstream party ({party})")
    if e.standing:
        parts.append("standing: " + ", ".join(Standing(e.standing).names))
    if extra:
        parts.append(extra)
    return "; ".join(parts)


def _downstream_party(config: Config, station: str) -> str | None:
    """The country downstream of ``station``: the to_country of the first border node
    below it, else its own country."""
    net = config.network
    node = station
    for _ in range(100):
        reach = net.downstream_reach(node)
        if reach is None:
            break
        node = reach.downstream
        n = net.nodes.get(node)
        if n is not None and n.kind == "border" and n.to_country:
            return n.to_country
    return getattr(net.node(station), "country", None)


def _escalation_after(config: Config, rule: AlertRule | None) -> float | None:
    """Days an alert may stay unacknowledged before it escalates (None: never)."""
    q = (rule.escalation_after if rule is not None and rule.escalation_after is not None
         else config.alerts.evaluation.escalation_after)
    return None if q is None else q.to("duration")


class _Reconciler:
    """Applies the findings to the stored alerts inside one transaction."""

    def __init__(self, conn, config: Config, as_of: dt.datetime, previous: dt.datetime | None,
                 report: EvaluationReport) -> None:
        self.conn, self.config, self.as_of = conn, config, as_of
        self.previous, self.report = previous, report
        self.past: list[dict] = []
        self.ids: dict[str, list[int]] = {k: [] for k in
                                          ("opened", "updated", "escalated", "deescalated",
                                           "closed")}

    def _received(self, f: _Finding, i: int) -> dt.datetime | None:
        if f.series is None or i < 0 or i >= len(f.series.received):
            return None
        return _py(f.series.received[i])

    def _value(self, f: _Finding, i: int) -> float | None:
        if f.series is None or i >= len(f.series.values):
            return None
        src = f.series.report if f.series.report is not None else f.series.values
        x = float(src[i])
        return x if math.isfinite(x) else None

    def _raise(self, f: _Finding, e: Episode, extra: str = "", over: bool = False) -> int:
        """Open an alert for episode ``e`` (``over``: it has already ended — the alert
        records its peak severity and value)."""
        severity = e.peak_severity if over else e.severity
        value = e.peak_value if over else e.last_value
        thr = e.peak_threshold if over else e.threshold
        aid = _store.raise_alert(
            self.conn, rule=f.rule.id, kind=f.rule.kind, station_id=f.station,
            severity=severity, value=value if math.isfinite(value) else None,
            threshold=thr if math.isfinite(thr) else None,
            observed_at=e.opened.to_pydatetime(), opened_at=self.as_of,
            known_at=self._received(f, e.start), standing=int(e.standing),
            peak_value=e.peak_value if math.isfinite(e.peak_value) else None,
            peak_at=e.peak_time.to_pydatetime(),
            last_observed_at=(e.peak_time if over else e.last_time).to_pydatetime(),
            note=_note(f.rule, e, self.config, extra, over))
        # the value it opened on, not the last one: the opened event says what raised it
        self.ids["opened"].append(aid)
        return aid

    def _past(self, f: _Finding, e: Episode) -> None:
        """A breach that was over when its data arrived: opened and closed at once (in one
        batch with the others: :meth:`flush`)."""
        def fin(x: float) -> float | None:
            return x if math.isfinite(x) else None

        self.past.append(dict(
            rule=f.rule.id, kind=f.rule.kind, station_id=f.station, severity=e.peak_severity,
            value=fin(e.peak_value), threshold=fin(e.peak_threshold),
            observed_at=e.opened.to_pydatetime(), opened_at=self.as_of,
            known_at=self._received(f, e.start), standing=int(e.standing),
            peak_value=fin(e.peak_value), peak_at=e.peak_time.to_pydatetime(),
            last_observed_at=e.peak_time.to_pydatetime(),
            note=_note(f.rule, e, self.config, "learnt after it had ended", over=True),
            closed_note=f"already over when the data arrived (ended "
                        f"{e.closed:%Y-%m-%d %H:%M} UTC)",
            closed_value=self._value(f, e.end), closed_known_at=self._received(f, e.end)))

    def flush(self) -> None:
        ids = _store.record_past_alerts(self.conn, self.past)
        self.ids["opened"].extend(ids)
        self.ids["closed"].extend(ids)
        self.past = []

    def _close(self, f: _Finding, aid: int, e: Episode | None, why: str) -> None:
        value = self._value(f, e.end) if e is not None and e.closed is not None else None
        known = self._received(f, e.end) if e is not None and e.closed is not None else None
        if _store.close_by_rule(self.conn, aid, self.as_of, value=value, known_at=known,
                                note=why):
            self.ids["closed"].append(aid)

    def apply(self, f: _Finding, open_alert: AlertRecord | None,
              latest: AlertRecord | None) -> None:
        eps = f.episodes
        cur = eps[-1] if eps and eps[-1].is_open else None
        band = f" (hysteresis {f.rule.hysteresis})" if f.rule.hysteresis is not None else ""
        if open_alert is not None:
            a = open_alert
            tracked = a.last_observed_at or a.observed_at or a.opened_at
            if cur is not None and tracked >= cur.opened.to_pydatetime():
                self._track(f, a, cur)
                return
            # its episode is over: the last one that began by the reading it tracked
            mine = [e for e in eps if not e.is_open and e.opened.to_pydatetime() <= tracked]
            e = mine[-1] if mine else None
            if e is not None and e.closed is not None:
                why = (f"condition ended: {_fmt(self._value(f, e.end))} "
                       f"{_UNIT.get(f.rule.kind, '')} at {e.closed:%Y-%m-%d %H:%M} UTC{band}")
            else:
                why = "condition no longer met on the data known now"
            self._close(f, a.id, e, why)
            latest = None
            after = [x for x in eps if not x.is_open and (e is None or x.opened > e.opened)]
        else:
            after = [x for x in eps if not x.is_open]
        # breaches that began and ended in data received since the last evaluation
        for x in after:
            rec = self._received(f, x.start)
            if self.previous is not None and (rec is None or rec <= self.previous):
                continue
            if latest is not None and latest.observed_at is not None \
                    and latest.observed_at >= x.opened.to_pydatetime():
                continue
            self._past(f, x)
        if cur is None:
            return
        if latest is not None and latest.closed_at is not None \
                and latest.closed_by != _store.RULES_BY \
                and latest.closed_at >= cur.opened.to_pydatetime():
            return  # closed by a person during this episode: not reopened until a new one
        if latest is not None and latest.closed_at is None:
            return  # an alert not under this rule's control (opened by hand) is left alone
        self._raise(f, cur)

    def _track(self, f: _Finding, a: AlertRecord, e: Episode) -> None:
        old = ar.severity_rank(a.severity) if a.severity in ar.SEVERITIES else 0
        new = ar.severity_rank(e.severity)
        peak = a.peak_value
        peak_at = a.peak_at
        if math.isfinite(e.peak_value) and (
                peak is None or (e.peak_value > peak if f.series is None
                                 or f.series.direction == "above" else e.peak_value < peak)):
            peak, peak_at = e.peak_value, e.peak_time.to_pydatetime()
        event = None if new == old else ("updated" if new > old else "deescalated")
        i = e.end - 1
        changed = _store.track_alert(
            self.conn, a.id, at=self.as_of,
            last_value=e.last_value if math.isfinite(e.last_value) else None,
            last_observed_at=e.last_time.to_pydatetime(), peak_value=peak, peak_at=peak_at,
            event=event, severity=e.severity,
            threshold=e.threshold if math.isfinite(e.threshold) else None,
            standing=int(e.standing) if event == "updated" else None,
            known_at=self._received(f, i),
            note=None if event is None else _note(f.rule, e, self.config))
        if changed and event is not None:
            self.ids[event].append(a.id)

    def silent(self, rules: dict[str, AlertRule], last: dict[str, dt.datetime],
               open_alerts: dict[tuple[str, str], AlertRecord]) -> None:
        """silent: the station's last reading is older than its reporting interval; the
        alert closes when a reading arrives.  A station that never reported is not
        silent (not connected yet)."""
        default = self.config.settings.dashboard.stale_after_days
        for sid, rule in rules.items():
            t = last.get(sid)
            if t is None:
                continue
            days = rule.interval.to("duration") if rule.interval else default
            quiet = bool(ar.silent([t], self.as_of, days)[0])
            a = open_alerts.get((rule.id, sid))
            age = (self.as_of - t) / _DAY
            if quiet and a is None:
                aid = _store.raise_alert(
                    self.conn, rule=rule.id, kind=rule.kind, station_id=sid,
                    severity=rule.effective_severity, value=round(age, 3), threshold=days,
                    observed_at=t, opened_at=self.as_of, known_at=self.as_of, standing=0,
                    peak_value=None, peak_at=None,
                    note=f"no reading for {age:.1f} d (last {t:%Y-%m-%d %H:%M} UTC; "
                         f"expected within {days:g} d)")
                self.ids["opened"].append(aid)
            elif quiet and a is not None:
                _store.track_alert(self.conn, a.id, at=self.as_of, last_value=round(age, 3),
                                   last_observed_at=t, peak_value=round(age, 3),
                                   peak_at=self.as_of)
            elif not quiet and a is not None:
                if _store.close_by_rule(self.conn, a.id, self.as_of, known_at=self.as_of,
                                        note=f"reporting again (reading at "
                                             f"{t:%Y-%m-%d %H:%M} UTC)"):
                    self.ids["closed"].append(a.id)

    def escalate(self, alerts: list[AlertRecord]) -> None:
        cap = self.config.alerts.evaluation.max_escalations
        for a in alerts:
            if a.acknowledged_at is not None or a.closed_at is not None or a.kind is None:
                continue
            after = _escalation_after(self.config, self.config.alerts.rule(a.rule,
                                                                           a.station_id))
            if after is None or cap == 0:
                continue
            due = min(cap, int(((self.as_of - a.opened_at) / _DAY) // after))
            if due > a.escalation_level and _store.escalate_alert(
                    self.conn, a.id, due, self.as_of,
                    note=f"not acknowledged {((self.as_of - a.opened_at) / _DAY) * 24:.0f} h "
                         f"after opening (escalation level {due})"):
                self.ids["escalated"].append(a.id)


# --------------------------------------------------------------------------- entry points

def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def evaluate(store: Store, config: Config, *, as_of: dt.datetime | None = None,
             stations: Sequence[str] | None = None, incremental: bool = False,
             on_time: bool = False, mode: str | None = None) -> EvaluationReport:
    """Evaluate the alert rules at ``as_of`` (default now, UTC) and apply the outcome to the
    stored alerts in one transaction.

    Parameters
    ----------
    store, config : the deployment (:mod:`hydro.services.context`).
    as_of : datetime, optional
        The moment evaluated: only values received and observed by then are read; every
        change is stamped with it.  Naive = UTC.  Not before the last evaluation recorded
        (:class:`~hydro.store.alerts.AlertError` otherwise: history is never rewritten).
    stations : sequence of str, optional
        Only these stations (default: every station that has rules).
    incremental : bool
        Only the stations with data received since the last evaluation (silent stations
        and escalation are checked everywhere).
    on_time : bool
        Treat every stored value as received at its observation time — to replay a past
        season on a store loaded after the fact.  What the data *would* have raised, not
        what a duty officer *was* shown.
    mode : str, optional
        Label recorded for the run (default ``full`` / ``incremental``).

    Returns
    -------
    EvaluationReport
        The alerts opened, updated (severity raised), escalated, de-escalated and closed,
        as stored after the evaluation, and notes (e.g. rules that cannot be evaluated).
    """
    started = _now()
    t0 = _time.perf_counter()
    when = _naive(as_of) or started
    previous = _store.last_evaluation(store)
    if previous is not None and when < previous:
        raise AlertError(f"cannot evaluate at {when:%Y-%m-%d %H:%M} UTC: alerts were already "
                         f"evaluated at {previous:%Y-%m-%d %H:%M} UTC, and history is never "
                         "rewritten (replay a past period into a fresh store)")
    every = config.network.all_ids()
    ruled = [s for s in every if config.alerts.rules_for(s)]
    if stations is not None:
        known, wanted = set(every), set(stations)
        unknown = [s for s in stations if s not in known]
        if unknown:
            raise AlertError(f"unknown station(s) {', '.join(unknown)}")
        ruled = [s for s in ruled if s in wanted]
    lookback = dt.timedelta(days=config.alerts.evaluation.lookback.to("duration"))
    received = _store.stations_received(store, previous, when)
    if incremental:
        chosen = [s for s in ruled if s in received]
        # border nodes follow their gauges
        have = set(chosen)
        chosen += [s for s in ruled if received and s not in have
                   and node_kind(config.network, s) == "border"]
    else:
        chosen = list(ruled)
    start = {}
    for s in chosen:
        # from the lookback before the earliest value received since the last evaluation
        first = received.get(s)
        start[s] = when - lookback if first is None else min(when, first) - lookback
    report = EvaluationReport(as_of=when, mode=mode or ("incremental" if incremental
                                                        else "full"), stations=chosen)
    ev = _Evaluator(store, config, when, chosen, start, on_time)
    findings = list(ev.findings())
    report.notes.extend(ev.notes)
    silent_rules: dict[str, AlertRule] = {}
    for s in ruled:
        for r in config.alerts.rules_for(s):
            if r.kind == "silent":
                silent_rules[s] = r
    last_times = (_store.last_reading_times(store, when, sorted(silent_rules))
                  if silent_rules else {})
    with store.begin() as conn:
        _store.lock_for_evaluation(conn)
        last = _store.last_evaluation_in(conn)
        if last is not None and when < last:
            raise AlertError(f"cannot evaluate at {when:%Y-%m-%d %H:%M} UTC: alerts were "
                             f"evaluated at {last:%Y-%m-%d %H:%M} UTC meanwhile")
        open_now = _store.open_rule_alerts(conn)
        by_key = {(a.rule, a.station_id): a for a in open_now}
        # only a breach or an open alert needs the store's attention
        findings = [f for f in findings if f.episodes or (f.rule.id, f.station) in by_key]
        latest = _store.latest_per_rule(conn, sorted({f.station for f in findings}))
        rec = _Reconciler(conn, config, when, previous, report)
        for f in findings:
            a = by_key.get((f.rule.id, f.station))
            if a is not None and a.kind is None:
                continue  # opened by hand: not the rules' to change
            rec.apply(f, a, latest.get((f.rule.id, f.station)))
        rec.flush()
        rec.silent(silent_rules, last_times, by_key)
        rec.escalate(_store.open_rule_alerts(conn))
        counts = {k: len(v) for k, v in rec.ids.items()}
        _store.record_evaluation(conn, as_of=when, started_at=started, finished_at=_now(),
                                 mode=report.mode, stations=len(chosen), counts=counts)
        for k, ids in rec.ids.items():
            getattr(report, k).extend(_store.get_many(conn, list(dict.fromkeys(ids))))
    report.seconds = _time.perf_counter() - t0
    if report.changed:
        log.info("alerts %s", report.summary())
    return report


def replay(store: Store, config: Config, start: dt.datetime, end: dt.datetime,
           step: dt.timedelta | None = _DAY, *, stations: Sequence[str] | None = None,
           on_time: bool = False) -> list[EvaluationReport]:
    """Evaluate over ``start`` … ``end`` (inclusive), in order: the alerts a duty officer
    would have seen, each stamped with its evaluation's time.

    ``step``: evaluate at ``start``, ``start + step`` …; ``None``: evaluate whenever data
    arrived, as the worker does after each ingest — at the times values were received in
    the period (with ``on_time``, observed), arrivals within two hours taken as one batch
    (:func:`arrival_times`), so an alert is stamped with the hour its reading came in, not
    the next step.

    With ``on_time`` every stored value counts as received at its observation time (a
    store loaded after the fact); otherwise each step sees what the store had received
    by then.  Alerts are written to ``store``: replay into a store that has not been
    evaluated after ``start`` (a fresh copy), since history is never rewritten.
    """
    s, e = _naive(start), _naive(end)
    if s is None or e is None or e < s:
        raise AlertError(f"replay: end {end} is before start {start}")
    if step is not None and step <= dt.timedelta(0):
        raise AlertError(f"replay: step must be positive, not {step}")
    if step is None:
        times = arrival_times(store, config, s, e, stations=stations, on_time=on_time)
    else:
        times, t = [], s
        while t <= e:
            times.append(t)
            t += step
    return [evaluate(store, config, as_of=t, stations=stations, on_time=on_time, mode="replay")
            for t in times]


def arrival_times(store: Store, config: Config, start: dt.datetime, end: dt.datetime, *,
                  stations: Sequence[str] | None = None, on_time: bool = False,
                  merge: dt.timedelta = dt.timedelta(hours=2)) -> list[dt.datetime]:
    """The times at which values of ``stations`` (default: every node) were received in
    [start, end] — with ``on_time``, their observation times — to the minute, sorted, with
    arrivals less than ``merge`` after the first of a batch taken as one batch at its last
    arrival: the moments the worker would have evaluated the rules."""
    s, e = _naive(start), _naive(end)
    assert s is not None and e is not None
    ids = list(stations) if stations is not None else sorted(config.network.all_ids())
    # received in the period: readings of up to a year before it (late data) count
    first = s if on_time else s - dt.timedelta(days=366)
    frame = _store.rule_observations(store, ids, None, first, e, None)
    col = "time" if on_time else "received_at"
    if frame.empty:
        return []
    t = pd.DatetimeIndex(frame[col]).floor("min")
    t = t[(t >= pd.Timestamp(s)) & (t <= pd.Timestamp(e))].unique().sort_values()
    # arrivals within ``merge`` of the first of a batch are one batch, evaluated at its last
    # arrival (the morning bulletins of both services come within an hour or two)
    out: list[dt.datetime] = []
    batch: pd.Timestamp | None = None
    for x in t:
        if batch is not None and x - batch <= merge:
            out[-1] = x.to_pydatetime()
        else:
            batch = x
            out.append(x.to_pydatetime())
    return out
