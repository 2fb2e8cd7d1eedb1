"""Alert rules as pure, vectorised functions: which readings breach a rule, and the
episodes (open, severity changes, close) a breach makes once hysteresis and a minimum
persistence are applied.

Pure science: arrays and frames in and out; no file, database, clock or configuration.
:mod:`hydro.services.alert_evaluation` reads the store, resolves the rules of
``config/alerts.toml`` and reconciles the episodes found here with the alerts stored.

Every function works on many stations at once: readings are given as flat arrays sorted by
``(group, time)`` with an integer ``groups`` array (one code per station, see
:func:`hydro.qc.group_ids`); nothing is ever carried from one group into the next.

Units (converted once, at the boundary, by the caller with :mod:`hydro.units`): stage cm
above gauge zero, rate of rise cm/d, reservoir level m (Baltic system), volume hm³,
discharge m³/s, time as ``datetime64[ns]`` (UTC), durations in days.

The lifecycle (:func:`hysteresis_levels`, :func:`episodes`)
-------------------------------------------------------------
A rule has ``K`` ordered thresholds (``adverse`` < ``dangerous`` …).  Level ``k`` is
*opened* at the reading that completes ``persistence`` consecutive readings at or beyond
its threshold, and *closed* only by a reading beyond ``threshold − band`` on the other
side (hysteresis band; for a rule whose direction is ``below`` — low water, days to full
— the mirror image: open at ``<= threshold``, close above ``threshold + band``).  A
missing reading (NaN) neither opens nor closes.  The severity of a reading is the highest
level open; an *episode* is a maximal run of readings with a severity, and within it a
change of severity is an escalation (raised) or a de-escalation (lowered).  A series that
oscillates within the band around one threshold therefore makes at most one episode.

References
----------
WMO (2011) *Manual on flood forecasting and warning*, WMO-No. 1072, ch. 7 (warning
thresholds, persistence and the cancelling of warnings).  Roshydromet RD 52.88.699-2008
(НЯ/ОЯ criteria); Kazhydromet's dangerous levels (ОУ) — see ``config/thresholds.toml``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd

from hydro.warning import HIGH_WATER_LEVELS, IMPACT_LEVEL, IMPACT_SCHEME, LOW_WATER_LEVEL
from hydro.warning import PUBLISHED, ThresholdLike, is_stale

__all__ = [
    "SEVERITIES",
    "RULE_KINDS",
    "Standing",
    "Episode",
    "group_starts",
    "hysteresis_levels",
    "episodes",
    "level_table",
    "rate_per_day",
    "release_change",
    "release_change_limit",
    "KIND_UNITS",
    "days_to_full",
    "rolling_count",
    "silent",
    "severity_rank",
]

#: severities an alert may have, least severe first (as :data:`hydro.services.alerts.SEVERITIES`)
SEVERITIES = ("info", "adverse", "low_water_dangerous", "dangerous")

#: the kinds of rule ``config/alerts.toml`` may use
RULE_KINDS = ("stage_level", "low_water", "rate_of_rise", "reservoir_full", "spill_started",
              "release_change", "silent", "qc_burst", "balance_residual", "pollution_class",
              "border_min_flow", "forecast_crossing")
#: the unit of an alert's value and threshold, by the kind of its rule, where the kind has
#: a physical unit (``qc_burst`` counts flags, ``pollution_class`` is a class number)
KIND_UNITS: dict[str, str] = {
    "stage_level": "cm", "low_water": "cm", "forecast_crossing": "cm", "rate_of_rise": "cm/d",
    "reservoir_full": "m", "spill_started": "m3/s", "release_change": "m3/s",
    "border_min_flow": "m3/s", "silent": "d", "balance_residual": "%"}

Direction = Literal["above", "below"]

_NS_PER_DAY = 86_400 * 10**9


def severity_rank(severity: str) -> int:
    """1 (``info``) .. 4 (``dangerous``); a :class:`ValueError` for an unknown severity."""
    try:
        return SEVERITIES.index(severity) + 1
    except ValueError:
        raise ValueError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})"
                         ) from None


class Standing(enum.IntFlag):
    """The standing of the value an alert was raised on (stored as an integer).

    * ``PROVISIONAL`` — the level crossed is not an official published one (an estimate,
      conflicting published values, synthetic), so the category is provisional.
    * ``QC_FLAGGED`` — the reading carries a QC flag other than ICE (range, spike, flat,
      gap, duplicate conflict, rating, party disagreement; :class:`hydro.qc.QC`).
    * ``ICE_AFFECTED`` — read under ice cover, frazil or behind a jam (QC ICE).
    * ``SINGLE_PARTY`` — a gauge both parties report, with only one party's reading.

    A *confirmed* value has none of PROVISIONAL, QC_FLAGGED and SINGLE_PARTY (an ice
    reading is a real reading: it is marked, not refused).
    """

    NONE = 0
    PROVISIONAL = 1
    QC_FLAGGED = 2
    ICE_AFFECTED = 4
    SINGLE_PARTY = 8

    @property
    def names(self) -> list[str]:
        """``["provisional", "ice_affected"]`` …, in flag order."""
        return [f.name.lower() for f in Standing if f.value and f.value & self.value
                and f.name is not None]

    @classmethod
    def unconfirmed(cls) -> Standing:
        return cls.PROVISIONAL | cls.QC_FLAGGED | cls.SINGLE_PARTY


# --------------------------------------------------------------------------- groups

def group_starts(groups: np.ndarray | None, n: int) -> np.ndarray:
    """For each reading, the index of the first reading of its group (``groups`` sorted)."""
    idx = np.arange(n)
    if groups is None or n == 0:
        return np.zeros(n, dtype=np.int64)
    g = np.asarray(groups)
    new = np.ones(n, dtype=bool)
    new[1:] = g[1:] != g[:-1]
    return np.maximum.accumulate(np.where(new, idx, 0))


def _last_event(event: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The value of the last non-zero ``event`` at or before each reading within its group
    (0 if none): a forward fill that never crosses a group boundary."""
    idx = np.arange(len(event))
    pos = np.maximum.accumulate(np.where(event != 0, idx, -1))
    ok = pos >= starts
    out = np.zeros(len(event), dtype=event.dtype)
    out[ok] = event[pos[ok]]
    return out


def _run_length(flag: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Number of consecutive True ``flag`` ending at each reading, within its group."""
    idx = np.arange(len(flag))
    last_false = np.maximum.accumulate(np.where(~flag, idx, -1))
    since = np.maximum(last_false, starts - 1)
    return np.where(flag, idx - since, 0)


def hysteresis_levels(values: np.ndarray, thresholds: np.ndarray, *,
                      groups: np.ndarray | None = None, band: float | np.ndarray = 0.0,
                      persistence: int | np.ndarray = 1,
                      direction: Direction = "above") -> np.ndarray:
    """Severity level (0 = none, ``k`` = the ``k``-th threshold) of every reading.

    Parameters
    ----------
    values : array (n,)
        Readings sorted by group and time, in the unit of the thresholds; NaN = missing.
    thresholds : array (n,) or (n, K)
        Threshold of each level for each reading, least severe level first (for
        ``direction="above"`` ascending, for ``"below"`` descending); NaN = the level is
        not in force for that reading (never opened, closes it).
    groups : array (n,), optional
        Group code of each reading (sorted); states never cross a group boundary.
    band : float or array (n,), default 0
        Hysteresis band in the unit of the values: an open level closes only at a reading
        below ``threshold − band`` (``above``) or above ``threshold + band`` (``below``).
    persistence : int or array (n,), default 1
        Consecutive readings at or beyond a threshold needed to open its level.
    direction : {"above", "below"}
        ``above``: a level is reached at ``value >= threshold``; ``below``: at
        ``value <= threshold`` (low water, margin to a limit, days to full).

    Returns
    -------
    numpy.ndarray of int8 (n,)

    Notes
    -----
    Each level is a two-state machine (open / closed) evaluated without a Python loop: an
    *open* event where the run of readings beyond the threshold reaches ``persistence``,
    a *close* event beyond the band, and the state is the last event forward-filled
    within the group.  Because thresholds are ordered, an open level implies every lower
    one is open (same persistence, same band), and the severity is the highest open.
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    thr = np.asarray(thresholds, dtype=float)
    if thr.ndim == 1:
        thr = thr[:, None]
    if thr.shape[0] != n:
        raise ValueError(f"thresholds have {thr.shape[0]} rows for {n} values")
    if direction not in ("above", "below"):
        raise ValueError(f"direction must be 'above' or 'below', not {direction!r}")
    b = np.broadcast_to(np.asarray(band, dtype=float), (n,))
    p = np.broadcast_to(np.asarray(persistence, dtype=np.int64), (n,))
    if n and (np.any(b < 0) or np.any(p < 1)):
        raise ValueError("band must be >= 0 and persistence >= 1")
    starts = group_starts(groups, n)
    level = np.zeros(n, dtype=np.int8)
    have = ~np.isnan(v)
    with np.errstate(invalid="ignore"):
        for k in range(thr.shape[1]):
            t = thr[:, k]
            if direction == "above":
                beyond = have & (v >= t)
                back = have & (v < t - b)
            else:
                beyond = have & (v <= t)
                back = have & (v > t + b)
            back |= np.isnan(t)
            if n and p.max() == 1:
                opened = beyond
            else:
                opened = beyond & (_run_length(beyond, starts) >= p)
            event = np.where(opened, 1, np.where(back, -1, 0)).astype(np.int8)
            state = _last_event(event, starts) > 0
            level[state] = k + 1
    return level


# --------------------------------------------------------------------------- episodes

@dataclass(frozen=True)
class Episode:
    """One breach of a rule at one station: from the reading that opened it to the reading
    that closed it.

    Attributes
    ----------
    key : str
        The station (the label of the group).
    start, end : int
        Index of the opening reading and one past the last reading in breach (into the
        arrays given to :func:`episodes`).
    opened : pandas.Timestamp
        Time of the reading that opened it.
    closed : pandas.Timestamp or None
        Time of the reading that closed it; ``None`` when it is still open at the last
        reading.
    severity : str
        Severity at its last reading in breach (the current one while it is open).
    peak_severity : str
        The highest severity it reached.
    open_value, last_value, peak_value : float
        Value at opening, at the last reading in breach, and the extreme (max for
        ``above``, min for ``below``).
    last_time, peak_time : pandas.Timestamp
    threshold : float
        Threshold of the current severity.
    peak_threshold : float
        Threshold of the highest severity reached.
    standing : Standing
        Standing of the reading that opened it or last raised its severity.
    changes : tuple of (Timestamp, severity, value, Standing)
        Every change of severity after opening, in order (raised or lowered).
    """

    key: str
    start: int
    end: int
    opened: pd.Timestamp
    closed: pd.Timestamp | None
    severity: str
    peak_severity: str
    open_value: float
    last_value: float
    last_time: pd.Timestamp
    peak_value: float
    peak_time: pd.Timestamp
    threshold: float
    peak_threshold: float
    standing: Standing
    changes: tuple[tuple[pd.Timestamp, str, float, Standing], ...]

    @property
    def is_open(self) -> bool:
        return self.closed is None


def episodes(times: np.ndarray, values: np.ndarray, levels: np.ndarray,
             severities: Sequence[str] | np.ndarray, *, groups: np.ndarray | None = None,
             keys: Sequence[str] | None = None, thresholds: np.ndarray | None = None,
             standing: np.ndarray | None = None, level_standing: np.ndarray | None = None,
             direction: Direction = "above") -> list[Episode]:
    """The episodes of ``levels`` (from :func:`hysteresis_levels`), in group and time order.

    Parameters
    ----------
    times : array (n,) of datetime64
    values : array (n,)
    levels : array (n,) of int
        0 = no breach, ``k`` = level ``k``.
    severities : sequence of str
        Severity of level ``k`` at ``severities[k - 1]`` (the same for every reading), or a
        2-D array (n, K) of severities per reading.
    groups : array (n,), optional; keys : sequence, optional
        Group code per reading and the label of each code (``keys[code]``).
    thresholds : array (n,) or (n, K), optional
        To report the threshold of the current severity.
    standing : array (n,) of int, optional
        :class:`Standing` of each reading.
    level_standing : array (n, K) of int, optional
        Standing that reaching level ``k`` adds to a reading (a provisional threshold).
    direction : {"above", "below"}
        Which extreme is the peak.
    """
    t = np.asarray(times, dtype="datetime64[ns]")
    v = np.asarray(values, dtype=float)
    lv = np.asarray(levels)
    n = len(lv)
    if n == 0:
        return []
    starts_g = group_starts(groups, n)
    active = lv > 0
    prev = np.zeros(n, dtype=lv.dtype)
    prev[1:] = lv[:-1]
    prev[starts_g == np.arange(n)] = 0
    begin = np.flatnonzero(active & (prev == 0))
    nxt = np.zeros(n, dtype=bool)
    nxt[:-1] = active[1:] & (starts_g[1:] == starts_g[:-1])
    finish = np.flatnonzero(active & ~nxt) + 1                    # one past the last
    change = np.flatnonzero(active & (prev > 0) & (lv != prev))
    sev = np.asarray(severities, dtype=object)
    thr = None if thresholds is None else np.asarray(thresholds, dtype=float)
    if thr is not None and thr.ndim == 1:
        thr = thr[:, None]
    st = np.zeros(n, dtype=np.int64) if standing is None else np.asarray(standing, np.int64)
    lst = None if level_standing is None else np.asarray(level_standing, dtype=np.int64)
    if lst is not None and lst.ndim == 1:
        lst = lst[:, None]
    g = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups)

    def severity_at(i: int) -> str:
        k = int(lv[i])
        return str(sev[i, k - 1] if sev.ndim == 2 else sev[k - 1])

    def standing_at(i: int) -> Standing:
        s = int(st[i])
        if lst is not None:
            s |= int(lst[i, int(lv[i]) - 1])
        return Standing(s)

    out = []
    ci = 0
    # the peak: NaN never wins (argmax of -inf / argmin of +inf)
    vv = np.where(np.isnan(v), -np.inf if direction == "above" else np.inf, v)
    best = np.argmax if direction == "above" else np.argmin
    for a_, e_ in zip(begin, finish, strict=True):
        a, e = int(a_), int(e_)
        seg = v[a:e]
        j = int(best(vv[a:e]))
        changes = []
        raised_at = a
        while ci < len(change) and change[ci] < e:
            i = int(change[ci])
            if i > a:
                changes.append((pd.Timestamp(t[i]), severity_at(i), float(v[i]),
                                standing_at(i)))
                if lv[i] > lv[raised_at]:
                    raised_at = i
            ci += 1
        last = e - 1
        closed = None
        if e < n and starts_g[e] == starts_g[a]:
            closed = pd.Timestamp(t[e])
        peak_level = int(lv[a:e].max())
        peak_i = a + int(np.flatnonzero(lv[a:e] == peak_level)[0])
        code = int(g[a])
        out.append(Episode(
            key=str(keys[code]) if keys is not None else str(code),
            start=int(a), end=int(e), opened=pd.Timestamp(t[a]), closed=closed,
            severity=severity_at(last), peak_severity=severity_at(peak_i),
            open_value=float(v[a]), last_value=float(v[last]),
            last_time=pd.Timestamp(t[last]), peak_value=float(seg[j]),
            peak_time=pd.Timestamp(t[a + j]),
            threshold=float("nan") if thr is None else float(thr[last, int(lv[last]) - 1]),
            peak_threshold=(float("nan") if thr is None
                            else float(thr[peak_i, int(lv[peak_i]) - 1])),
            standing=standing_at(raised_at), changes=tuple(changes)))
    return out


# --------------------------------------------------------------------------- thresholds

def level_table(thresholds: Iterable[ThresholdLike], days: np.ndarray,
                levels: Sequence[str] = HIGH_WATER_LEVELS, *,
                schemes: Iterable[str] | None = None, published_only: bool = False,
                value_of: Callable[[ThresholdLike], float] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """The threshold of each warning level in force on each day at one gauge.

    Parameters
    ----------
    thresholds : iterable of Threshold
        The gauge's levels, every scheme (KZ ОУ ``kz_dangerous``, RU НЯ/ОЯ ``ru_nya_oya``,
        ``return_period``, ``percentile``); impact marks are ignored.
    days : array of datetime64[D]
        Local date of each reading (selects the levels in force, ``valid_on``).
    levels : sequence of str
        The levels wanted, least severe first (default ``adverse``, ``dangerous``; for low
        water ``("low_water_dangerous",)``).
    schemes : iterable of str, optional
        Only these schemes (default: every scheme but impact marks).
    published_only : bool
        Leave out levels whose status is not ``published`` (a rule requiring a confirmed
        value).
    value_of : callable, optional
        Threshold -> value in cm above gauge zero (default ``t.value.to("stage")``).

    Returns
    -------
    (values, provisional) : arrays (n, K)
        The threshold in cm (NaN where no level is in force) and whether it is
        provisional (not ``published``).

    Notes
    -----
    Where several levels of one kind are in force — two schemes, or conflicting published
    values entered side by side (``status = "conflicting"``) — the lowest one counts for a
    high-water level (it is reached first) and the highest for a low-water level, as in
    :func:`hydro.warning.classify_stage`; the result is provisional when the counting
    level is.
    """
    wanted = None if schemes is None else set(schemes)
    days = np.asarray(days, dtype="datetime64[D]")
    n, k = len(days), len(levels)
    values = np.full((n, k), np.nan)
    prov = np.zeros((n, k), dtype=bool)
    get = value_of or (lambda t: float(t.value.to("stage")))
    unique_days, inverse = np.unique(days, return_inverse=True)
    for t in thresholds:
        if t.scheme == IMPACT_SCHEME or t.level == IMPACT_LEVEL or t.level not in levels:
            continue
        if wanted is not None and t.scheme not in wanted:
            continue
        if published_only and t.status != PUBLISHED:
            continue
        j = list(levels).index(t.level)
        ok_day = np.array([t.valid_on(d.astype(dt.date)) for d in unique_days], dtype=bool)
        ok = ok_day[inverse] if n else np.zeros(0, dtype=bool)
        x = get(t)
        low = t.level == LOW_WATER_LEVEL
        cur = values[:, j]
        better = ok & (np.isnan(cur) | ((x > cur) if low else (x < cur))
                       | ((x == cur) & (t.status == PUBLISHED)))
        values[better, j] = x
        prov[better, j] = t.status != PUBLISHED
    return values, prov


# --------------------------------------------------------------------------- conditions

def _ns(times: np.ndarray) -> np.ndarray:
    return np.asarray(times, dtype="datetime64[ns]").view(np.int64)


def rate_per_day(times: np.ndarray, values: np.ndarray, *, groups: np.ndarray | None = None,
                 max_gap_days: float = 2.0) -> np.ndarray:
    """Rate of change between consecutive readings of a group, per day (cm/d for stage).

    ``(v[i] − v[i−1]) / Δt`` in days, as :func:`hydro.warning.stage_change_per_day`; NaN
    for the first reading of a group, after a missing value or a gap longer than
    ``max_gap_days`` (a rise spread over a gap is not a rate of rise).
    """
    t = _ns(times)
    v = np.asarray(values, dtype=float)
    n = len(v)
    out = np.full(n, np.nan)
    if n < 2:
        return out
    starts = group_starts(groups, n)
    dt_days = np.diff(t) / _NS_PER_DAY
    ok = (starts[1:] == starts[:-1]) & (dt_days > 0) & (dt_days <= max_gap_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.diff(v) / np.where(ok, dt_days, np.nan)
    out[1:] = np.where(ok, r, np.nan)
    return out


def release_change_limit(change: ArrayLike, percent: ArrayLike, min_change: ArrayLike,
                         min_percent: ArrayLike, percent_floor: ArrayLike = 0.0) -> np.ndarray:
    """The change (m³/s) a release-change notice needs at each reading.

    A notice is due when the release is raised or cut by at least ``min_change`` m³/s, or
    by ``min_percent`` % of the earlier release it is measured against — the percentage
    counting only for a change of at least ``percent_floor`` m³/s (half of a 10 m³/s
    release is no news downstream).  The limit is the lower of the two; ``inf`` where
    neither applies (``min_change`` inf, or no percentage: an earlier release of zero).

    ``change`` and ``percent`` are those of :func:`release_change` (the earlier release is
    ``|change / (percent / 100)|``).
    """
    change = np.asarray(change, dtype=float)
    percent = np.asarray(percent, dtype=float)
    min_percent = np.asarray(min_percent, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        earlier = np.abs(change / (percent / 100.0))
        by_percent = np.where(np.isfinite(earlier) & np.isfinite(min_percent),
                              np.maximum(min_percent / 100.0 * earlier, percent_floor), np.inf)
    return np.fmin(np.asarray(min_change, dtype=float), by_percent)


def release_change(times: np.ndarray, release: np.ndarray, *,
                   groups: np.ndarray | None = None, window_days: float = 1.0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Largest change of a release against any reading of the previous ``window_days``.

    Parameters
    ----------
    times : datetime64 (n,); release : array (n,)
        The controlled release in m³/s (total outflow minus spill).
    window_days : float
        The window, days (24 h: "raised or cut within 24 h").

    Returns
    -------
    (change, percent) : arrays (n,)
        The signed change in m³/s (``release − earlier reading`` of largest magnitude
        within the window, readings strictly before this one) and that change as a
        percentage of the earlier reading (NaN when it was zero).  NaN without an
        earlier reading in the window.

    Notes
    -----
    Against *every* reading in the window, not just the one 24 h before, so a release
    raised in steps during one day (Iriklinsk, April 2024: five times in a day) is seen at
    the first reading where the steps add up to the limit.
    """
    t = _ns(times)
    r = np.asarray(release, dtype=float)
    n = len(r)
    change = np.full(n, np.nan)
    pct = np.full(n, np.nan)
    if n < 2:
        return change, pct
    g = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    # a key that sorts by group, then time: the window never reaches into another group
    span = int(t.max() - t.min()) + 1 if n else 1
    key = g.astype(np.float64) * (span * 4.0) + (t - t.min())
    w = window_days * _NS_PER_DAY
    lo = np.searchsorted(key, key - w, side="left")
    # readings strictly earlier in the window: [lo, i)
    # the window is short (a few readings), so loop over the offset, not the readings
    max_back = int((np.arange(n) - lo).max()) if n else 0
    idx = np.arange(n)
    best = np.zeros(n)
    best_prev = np.full(n, np.nan)
    for off in range(1, max_back + 1):
        j = idx - off
        ok = (j >= lo) & (j >= 0)
        jj = np.where(ok, j, 0)
        prev = np.where(ok, r[jj], np.nan)
        d = r - prev
        with np.errstate(invalid="ignore"):
            better = ok & ~np.isnan(d) & (np.isnan(best_prev) | (np.abs(d) > np.abs(best)))
        best = np.where(better, d, best)
        best_prev = np.where(better, prev, best_prev)
    seen = ~np.isnan(best_prev)
    change[seen] = best[seen]
    with np.errstate(invalid="ignore", divide="ignore"):
        pct[seen] = np.where(best_prev[seen] != 0,
                             100.0 * best[seen] / np.abs(best_prev[seen]), np.nan)
    return change, pct


def days_to_full(volume_hm3: np.ndarray, inflow_m3s: np.ndarray, outflow_m3s: np.ndarray,
                 full_volume_hm3: float | np.ndarray) -> np.ndarray:
    """Days until a reservoir reaches ``full_volume_hm3`` (its ФПУ volume) at the current
    net inflow, ``(V_full − V) / (Q_in − Q_out)``; ``inf`` when it is not filling, 0 when
    already full.  Volumes hm³, discharges m³/s (1 m³/s for a day is 0.0864 hm³,
    :func:`hydro.units.discharge_to_volume`)."""
    from hydro.units import discharge_to_volume

    v = np.asarray(volume_hm3, dtype=float)
    net = discharge_to_volume(np.asarray(inflow_m3s, dtype=float)
                              - np.asarray(outflow_m3s, dtype=float), days=1.0)
    room = np.asarray(full_volume_hm3, dtype=float) - v
    with np.errstate(invalid="ignore", divide="ignore"):
        days = np.where(room <= 0, 0.0, np.where(net > 0, room / net, np.inf))
    return np.where(np.isnan(v) | np.isnan(net), np.nan, days)


def rolling_count(times: np.ndarray, flagged: np.ndarray, *, groups: np.ndarray | None = None,
                  window_days: float = 1.0) -> np.ndarray:
    """Number of flagged readings in the ``window_days`` ending at each reading (that reading
    included), within its group — a burst of QC failures."""
    t = _ns(times)
    f = np.asarray(flagged, dtype=bool)
    n = len(f)
    if n == 0:
        return np.zeros(0)
    g = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    span = int(t.max() - t.min()) + 1
    key = g.astype(np.float64) * (span * 4.0) + (t - t.min())
    lo = np.searchsorted(key, key - window_days * _NS_PER_DAY, side="right")
    c = np.concatenate([[0], np.cumsum(f)])
    return (c[np.arange(n) + 1] - c[lo]).astype(float)


def silent(last_times: Sequence[dt.datetime | None], as_of: dt.datetime,
           max_age_days: Sequence[float] | float) -> np.ndarray:
    """Whether each station is silent at ``as_of``: its last reading is older than its
    expected reporting interval (:func:`hydro.warning.is_stale`); never reported = silent."""
    ages = np.broadcast_to(np.asarray(max_age_days, dtype=float), (len(last_times),))
    return np.array([is_stale(t, as_of, float(a)) for t, a in zip(last_times, ages, strict=True)],
                    dtype=bool)


# the high- and low-water level names, for callers building thresholds
HIGH_LEVELS = HIGH_WATER_LEVELS
LOW_LEVELS = (LOW_WATER_LEVEL,)
