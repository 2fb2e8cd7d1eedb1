"""Verification of the stage alerts against what the gauges recorded: for every gauge, rule
and warning level, the observed crossings of the level over a period, the hits, misses and
false alarms of the alerts, their lead time, POD, FAR and CSI
(``hydrorisk alerts verify``; the science is :mod:`hydro.alert_verification`).

What is verified
----------------
The rules of ``config/alerts.toml`` whose kind is a warning level at a gauge:
``stage_level`` (each high-water level, ``adverse`` and ``dangerous``) and ``low_water``
(``low_water_dangerous``).  The level of each day is the one the rule itself uses
(:func:`hydro.alert_rules.level_table`: the lowest of the schemes in force for a high-water
level, only the rule's ``schemes``, only published levels when it ``require_confirmed``),
and the crossings are found with the rule's hysteresis, so that one hovering crossing is
one event on both sides.  An alert of rule ``R`` at a gauge stands for level ``k`` from the
moment its severity reached ``k`` (its ``opened`` or ``updated`` event) until it fell below
(``deescalated``) or the alert closed: an alert opened as *adverse* and raised to
*dangerous* two days later warned of the dangerous level from the second day.

An alert whose rule is not in ``config/alerts.toml`` (renamed, or opened by hand) is
verified against the gauge's level whose value equals the alert's ``threshold`` (within
0.5 cm), without hysteresis; one that matches no level is left out.  Rules of other kinds
(rate of rise, forecasts, reservoirs, data) have no crossing of their own to verify
against and are not listed; but a rate-of-rise or forecast alert at a gauge is a warning of
its levels' crossings, and the *first warning* column gives the lead time of the first alert
of any of these kinds (or of the level) that was open for each crossing.

The observed truth
------------------
The *current* stage values (corrections applied, not as known at the time: the alerts are
judged against what really happened), one reading per local day of the gauge: the highest
of that day's readings of either party for a high-water level, the lowest for a low-water
level, each with its own time.  Readings flagged RANGE by QC (outside the physical range)
are left out; every other reading counts: a SPIKE flag is raised by the fast rise of a
real flood wave or an ice jam too, and ice-affected readings are real levels (ice jams
flood).

Periods
-------
``start`` and ``end`` are UTC and both included; an ``end`` given as a date (midnight)
includes that whole day.  A crossing counts when it starts within the period; an alert
when it warned of a counted crossing, or, as a false alarm, when it opened within the
period.  Stage and alerts are read for ``MARGIN`` either side, so an alert opened before
the period can warn of a crossing in it and a crossing running past the end is whole.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from hydro.alert_rules import level_table
from hydro.alert_verification import crossing_episodes, verify_alerts
from hydro.config import Config
from hydro.errors import HydroriskError
from hydro.qc import QC
from hydro.services import alerts as alert_service
from hydro.services import observations
from hydro.services.context import Store
from hydro.warning import HIGH_WATER_LEVELS, IMPACT_LEVEL, IMPACT_SCHEME, LOW_WATER_LEVEL

__all__ = ["MARGIN", "VERIFY_COLUMNS", "VerificationError", "verify"]

#: the columns of :func:`verify`, in order
VERIFY_COLUMNS = ["station", "station_name", "rule", "scheme", "level", "threshold_cm",
                  "readings", "crossings", "alerts", "hits", "misses", "false_alarms", "pod",
                  "far", "csi", "median_lead_days", "late", "first_warning_days"]
#: how far beyond the period stage and alerts are read
MARGIN = dt.timedelta(days=60)
#: rule kinds verified, with the direction and levels of each
VERIFIED_KINDS: dict[str, tuple[Literal["above", "below"], tuple[str, ...]]] = {
    "stage_level": ("above", HIGH_WATER_LEVELS),
    "low_water": ("below", (LOW_WATER_LEVEL,)),
}
#: rule kinds whose alerts warn of a crossing before it happens (``first_warning_days``)
EARLY_KINDS = ("rate_of_rise", "forecast_crossing")
#: QC flags that leave a reading out of the observed truth
_IMPLAUSIBLE = int(QC.RANGE)
#: how close an alert's threshold must be to a level to stand for it (hand-made alerts)
_SAME_LEVEL_CM = 0.5
#: readings further apart than this split a crossing (a silent gauge)
_MAX_GAP = pd.Timedelta(days=2)


class VerificationError(HydroriskError, ValueError):
    """The verification cannot be run as asked (unknown station or rule, bad period)."""


@dataclass(frozen=True)
class _Target:
    """One rule and level at one gauge to verify."""

    rule: str
    direction: Literal["above", "below"]
    levels: tuple[str, ...]
    hysteresis_cm: float
    schemes: tuple[str, ...] | None
    published_only: bool
    configured: bool


def _naive_utc(t: dt.datetime | dt.date, what: str) -> dt.datetime:
    if isinstance(t, dt.datetime):
        return t if t.tzinfo is None else t.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(t, dt.date):
        return dt.datetime(t.year, t.month, t.day)
    raise VerificationError(f"{what} must be a date or date-time, not {t!r}")


def _period(start: dt.datetime | dt.date, end: dt.datetime | dt.date
            ) -> tuple[pd.Timestamp, pd.Timestamp]:
    lo = _naive_utc(start, "start")
    hi = _naive_utc(end, "end")
    if hi.time() == dt.time(0, 0):
        hi = hi + dt.timedelta(days=1) - dt.timedelta(microseconds=1)  # the whole day
    if hi < lo:
        raise VerificationError(f"the period ends ({end}) before it starts ({start})")
    return pd.Timestamp(lo), pd.Timestamp(hi)


def _daily_truth(obs: pd.DataFrame, timezone: str, direction: Literal["above", "below"]
                 ) -> pd.Series:
    """One reading per local day: the highest (``above``) or lowest (``below``) plausible
    reading of either party, indexed by its own UTC time."""
    if obs.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], dtype="datetime64[ns]"))
    flags = pd.to_numeric(obs["qc_flags"], errors="coerce").fillna(0).astype("int64")
    obs = obs[((flags & _IMPLAUSIBLE) == 0) & obs["value"].notna()]
    if obs.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], dtype="datetime64[ns]"))
    times = pd.DatetimeIndex(pd.to_datetime(obs["time"]))
    local = times.tz_localize("UTC").tz_convert(timezone)
    frame = pd.DataFrame({"time": times.astype("datetime64[ns]"),
                          "value": obs["value"].astype(float).to_numpy(),
                          "day": local.normalize().tz_localize(None)})
    frame = frame.sort_values(["day", "value", "time"],
                              ascending=[True, direction == "below", True], kind="stable")
    best = frame.drop_duplicates("day", keep="first")
    return pd.Series(best["value"].to_numpy(), index=pd.DatetimeIndex(best["time"]),
                     name="stage").sort_index()


def _level_spans(alerts: pd.DataFrame, events: pd.DataFrame, level: str) -> pd.DataFrame:
    """The time each alert stood for ``level`` (severity at or above it; for a low-water
    level, severity equal to it): columns opened_at, closed_at, indexed by alert id (an
    alert lowered and raised again gives two spans)."""
    rank = {s: i for i, s in enumerate(alert_service.SEVERITIES)}
    low = level == LOW_WATER_LEVEL

    def covers(severity: object) -> bool:
        if not isinstance(severity, str) or severity not in rank:
            return False
        if low:
            return severity == LOW_WATER_LEVEL
        return severity != LOW_WATER_LEVEL and rank[severity] >= rank[level]

    by_alert: dict[int, list[dict[Any, Any]]] = {}
    if len(events):
        ordered = events.sort_values(["at", "id"], kind="stable")
        for e in ordered.to_dict("records"):
            by_alert.setdefault(int(e["alert_id"]), []).append(e)
    ids: list[int] = []
    opened: list[pd.Timestamp] = []
    closed: list[pd.Timestamp | None] = []
    records: list[dict[Any, Any]] = alerts.to_dict("records")
    for a in records:
        alert_id = int(a["id"])
        opened_at = pd.Timestamp(a["opened_at"])
        closed_at = None if pd.isna(a["closed_at"]) else pd.Timestamp(a["closed_at"])
        steps: list[tuple[pd.Timestamp, str | None, bool]] = []  # (at, severity, closes)
        for e in by_alert.get(alert_id, []):
            if e["event"] == "closed":
                steps.append((pd.Timestamp(e["at"]), None, True))
            elif isinstance(e.get("severity"), str):
                steps.append((pd.Timestamp(e["at"]), e["severity"], False))
        if not steps or steps[0][0] > opened_at:
            # no history of severities: the alert stood for its severity while it was open
            steps = [(opened_at, a["severity"], False)]
            if closed_at is not None:
                steps.append((closed_at, None, True))
        since: pd.Timestamp | None = None
        for at, severity, closes in steps:
            on = not closes and covers(severity)
            if on and since is None:
                since = at
            elif not on and since is not None:
                ids.append(alert_id)
                opened.append(since)
                closed.append(at)
                since = None
            if closes:
                break
        if since is not None:
            ids.append(alert_id)
            opened.append(since)
            closed.append(closed_at)
    index = pd.Index(ids, dtype="int64", name="id")
    return pd.DataFrame({"opened_at": pd.Series(opened, dtype="datetime64[ns]", index=index),
                         "closed_at": pd.Series(closed, dtype="datetime64[ns]", index=index)})


def _targets(config: Config, station_id: str, station_alerts: pd.DataFrame,
             rule: str | None) -> list[_Target]:
    """The rules to verify at a gauge: its configured level rules, then the rules of its
    stored alerts that config does not know (matched to a level by threshold value)."""
    out: list[_Target] = []
    configured = set()
    for r in config.alerts.rules_for(station_id):
        if r.kind not in VERIFIED_KINDS or (rule is not None and r.id != rule):
            continue
        direction, levels = VERIFIED_KINDS[r.kind]
        out.append(_Target(r.id, direction, levels, r.band("stage"),
                           None if r.schemes is None else tuple(r.schemes),
                           bool(r.require_confirmed), True))
        configured.add(r.id)
    all_rule_ids = set(config.alerts.rule_ids)
    for rid in sorted(set(station_alerts["rule"]) - configured - all_rule_ids):
        if rule is not None and rid != rule:
            continue
        found = _levels_of(config, station_id, station_alerts[station_alerts["rule"] == rid])
        for direction, chosen in (("above", tuple(lv for lv in found
                                                  if lv != LOW_WATER_LEVEL)),
                                  ("below", tuple(lv for lv in found
                                                  if lv == LOW_WATER_LEVEL))):
            if chosen:
                out.append(_Target(rid, direction, chosen, 0.0, None, False, False))
    return out


def _levels_of(config: Config, station_id: str, alerts: pd.DataFrame) -> list[str]:
    """The warning levels of the gauge whose value equals an alert's threshold."""
    found = []
    for t in config.thresholds_for(station_id):
        if t.scheme == IMPACT_SCHEME or t.level == IMPACT_LEVEL:
            continue
        cm = float(t.value.to("stage"))
        if (np.abs(alerts["threshold"].to_numpy(dtype=float) - cm) <= _SAME_LEVEL_CM).any():
            found.append(t.level)
    order = (*HIGH_WATER_LEVELS, LOW_WATER_LEVEL)
    return [lv for lv in order if lv in found]


def _unconfigured_alerts(alerts: pd.DataFrame, config: Config, station_id: str,
                         level: str) -> pd.DataFrame:
    """A hand-made rule's alerts that stand for ``level`` (threshold equal to its value)."""
    values = [float(t.value.to("stage")) for t in config.thresholds_for(station_id)
              if t.level == level and t.scheme != IMPACT_SCHEME]
    thr = alerts["threshold"].to_numpy(dtype=float)
    keep = np.zeros(len(alerts), dtype=bool)
    for v in values:
        keep |= np.abs(thr - v) <= _SAME_LEVEL_CM
    return alerts[keep]


def _scheme_of(config: Config, station_id: str, level: str, value: float,
               day: dt.date) -> str:
    schemes = sorted({t.scheme for t in config.thresholds_for(station_id)
                      if t.level == level and t.valid_on(day)
                      and abs(float(t.value.to("stage")) - value) <= _SAME_LEVEL_CM})
    return "/".join(schemes)


def verify(store: Store, config: Config, *, start: dt.datetime | dt.date,
           end: dt.datetime | dt.date, station: str | None = None, rule: str | None = None,
           tolerance: dt.timedelta = dt.timedelta(days=1), lang: str = "en") -> pd.DataFrame:
    """Hits, misses, false alarms and lead times of the level alerts of every gauge.

    Parameters
    ----------
    store, config
        The deployment.
    start, end : datetime or date
        The period verified, UTC, both included (a date as ``end`` includes its whole day).
    station : str, optional
        Only this gauge (default: every gauge with stage readings or alerts).
    rule : str, optional
        Only this rule id.
    tolerance : timedelta, default 1 day
        How long before a crossing an alert may have closed and still count for it (see
        :func:`hydro.alert_verification.verify_alerts`).
    lang : {"en", "ru", "kk"}
        Language of the station names.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VERIFY_COLUMNS`, one row per gauge, rule and level, ordered by basin
        and station: ``threshold_cm`` the level in force at the end of the period (cm above
        gauge zero) and ``scheme`` the scheme(s) that set it; ``readings`` the days with a
        reading in the period; ``crossings`` = ``hits + misses``; ``alerts`` = ``hits +
        false_alarms``; ``pod``, ``far``, ``csi`` (NaN when undefined);
        ``median_lead_days`` the median lead time of the hits (days, negative: late);
        ``late`` the hits whose alert opened after the level was reached;
        ``first_warning_days`` the median lead time of the first warning of any kind — an
        alert of the level or of a rising river (:data:`EARLY_KINDS`: rate of rise,
        forecast crossing) at the gauge that may match the crossing (by the rule of a hit,
        whether or not the one-to-one matching counted it) — over the crossings that had
        one.  Only the levels
        a gauge has are listed (in force on the day of some reading read around the
        period): a gauge without stage readings has nothing to verify against.

    Raises
    ------
    VerificationError
        Unknown station or rule, or a period that ends before it starts.
    """
    lo, hi = _period(start, end)
    if tolerance < dt.timedelta(0):
        raise VerificationError(f"the tolerance must not be negative, not {tolerance}")
    gauges = config.network.gauges
    if station is not None and station not in gauges:
        raise VerificationError(f"unknown gauge {station!r} (a station id of "
                                "config/basins.toml, e.g. RU:ORSK)")
    every = alert_service.list_alerts(store, which="all", station_id=station)
    known_rules = set(config.alerts.rule_ids) | set(every["rule"])
    if rule is not None and rule not in known_rules:
        raise VerificationError(f"unknown rule {rule!r}: not in config/alerts.toml and no "
                                "alert has it (rules: "
                                f"{', '.join(sorted(config.alerts.rule_ids)) or 'none'})")
    if rule is not None:
        kinds = {r.kind for r in config.alerts.rules if r.id == rule}
        if kinds and not kinds & set(VERIFIED_KINDS):
            raise VerificationError(
                f"rule {rule!r} is of kind {', '.join(sorted(kinds))}: only rules of kind "
                f"{' or '.join(VERIFIED_KINDS)} have observed crossings to verify against")
    read_lo, read_hi = lo - MARGIN, hi + MARGIN
    opened = pd.to_datetime(every["opened_at"])
    closed = pd.to_datetime(every["closed_at"])
    every = every[(opened <= read_hi) & (closed.isna() | (closed >= read_lo))]
    early = every[[_kind(config, r, sid, k) in EARLY_KINDS for r, sid, k in
                   zip(every["rule"], every["station_id"], _column(every, "kind"),
                       strict=True)]]
    stored = every if rule is None else every[every["rule"] == rule]
    events = alert_service.history(store)
    events = events[events["alert_id"].isin(stored["id"])]

    rows = []
    order = sorted(gauges, key=lambda g: (gauges[g].basin, g))
    for sid in order if station is None else [station]:
        gauge = gauges[sid]
        mine = stored[stored["station_id"] == sid]
        targets = _targets(config, sid, mine, rule)
        if not targets:
            continue
        obs = observations.series(store, sid, "stage", read_lo.to_pydatetime(),
                                  read_hi.to_pydatetime())
        truth = {d: _daily_truth(obs, gauge.timezone, d) for d in ("above", "below")}
        for target in targets:
            stage = truth[target.direction]
            ours = mine[mine["rule"] == target.rule]
            in_period = stage[(stage.index >= lo) & (stage.index <= hi)]
            if in_period.empty and ours.empty:
                continue
            local_days = (pd.DatetimeIndex(stage.index).tz_localize("UTC")
                          .tz_convert(gauge.timezone).tz_localize(None).normalize()
                          .to_numpy().astype("datetime64[D]"))
            values, _ = level_table(config.thresholds_for(sid), local_days, target.levels,
                                    schemes=target.schemes,
                                    published_only=target.published_only)
            for k, level in enumerate(target.levels):
                thr = pd.Series(values[:, k] if len(stage) else np.zeros(0), index=stage.index)
                level_alerts = ours if target.configured else _unconfigured_alerts(
                    ours, config, sid, level)
                spans = _level_spans(level_alerts, events, level)
                if thr.isna().all():
                    continue  # no such level at this gauge in the period
                crossings = crossing_episodes(stage, thr, direction=target.direction,
                                              hysteresis_cm=target.hysteresis_cm,
                                              max_gap=_MAX_GAP)
                v = verify_alerts(crossings, spans, tolerance=tolerance, start=lo, end=hi)
                # the first warning of any kind: the level's alerts or an alert of a rising
                # river (rate of rise, forecast crossing) at the gauge
                ahead = early[early["station_id"] == sid]
                warned = verify_alerts(crossings, pd.concat([spans, _whole(ahead)]),
                                       tolerance=tolerance, start=lo, end=hi)
                in_force = thr[(thr.index <= hi)].dropna()
                value = float(in_force.iloc[-1]) if len(in_force) else _fallback_value(
                    config, sid, level, hi)
                day = hi.date()
                rows.append({
                    "station": sid, "station_name": gauge.names.get(lang),
                    "rule": target.rule,
                    "scheme": _scheme_of(config, sid, level, value, day)
                    if math.isfinite(value) else "",
                    "level": level, "threshold_cm": value, "readings": len(in_period),
                    "crossings": v.n_crossings, "alerts": v.n_alerts, "hits": v.hits,
                    "misses": v.misses, "false_alarms": v.false_alarms, "pod": v.pod,
                    "far": v.far, "csi": v.csi, "median_lead_days": v.median_lead_days,
                    "late": v.late, "first_warning_days": warned.first_warning_days})
    out = pd.DataFrame(rows, columns=VERIFY_COLUMNS)
    for c in ("readings", "crossings", "alerts", "hits", "misses", "false_alarms", "late"):
        out[c] = out[c].astype("int64")
    for c in ("threshold_cm", "pod", "far", "csi", "median_lead_days", "first_warning_days"):
        out[c] = out[c].astype(float)
    out.attrs["period"] = (lo.to_pydatetime(), hi.to_pydatetime())
    out.attrs["tolerance"] = tolerance
    return out


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    """A column's values, or None for each row when the store has no such column."""
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def _kind(config: Config, rule: str, station_id: str, kind: object) -> str | None:
    """The kind of an alert's rule: as stored, else as config/alerts.toml has it."""
    if isinstance(kind, str) and kind:
        return kind
    r = config.alerts.rule(rule, station_id)
    return None if r is None else r.kind


def _whole(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts as spans from opening to closing (columns opened_at, closed_at)."""
    index = pd.Index(alerts["id"].astype("int64"), name="id")
    return pd.DataFrame({
        "opened_at": pd.Series(pd.to_datetime(alerts["opened_at"]).to_numpy(),
                               dtype="datetime64[ns]", index=index),
        "closed_at": pd.Series(pd.to_datetime(alerts["closed_at"]).to_numpy(),
                               dtype="datetime64[ns]", index=index)})


def _fallback_value(config: Config, station_id: str, level: str, at: pd.Timestamp) -> float:
    """The lowest level of this kind valid at ``at`` (no reading to take it from)."""
    values = [float(t.value.to("stage")) for t in config.thresholds_for(station_id)
              if t.level == level and t.scheme != IMPACT_SCHEME and t.valid_on(at.date())]
    if not values:
        return float("nan")
    return max(values) if level == LOW_WATER_LEVEL else min(values)
