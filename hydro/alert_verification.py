"""Verification of threshold alerts against the crossings that were observed.

Pure functions (pandas and numpy only; no file, database or clock).  Two steps:

1. :func:`crossing_episodes` turns a stage series and a threshold into the *observed
   crossings*: episodes during which the stage was at or over the threshold (at or under
   it for a low-water level).
2. :func:`verify_alerts` matches the alerts of one rule at one gauge (each an episode from
   its opening to its closing) with those crossings and counts hits, misses and false
   alarms, the lead time of every hit, and the scores POD, FAR and CSI.

Stages are in cm above gauge zero, times are naive UTC :class:`pandas.Timestamp` (any
consistent convention works: the functions only compare and subtract times).

References
----------
Jolliffe, I. T. and Stephenson, D. B. (eds.), 2012: *Forecast Verification: A
Practitioner's Guide in Atmospheric Science*, 2nd ed., Wiley, ch. 3 (binary events: the
2 x 2 contingency table, hit rate / probability of detection, false alarm ratio, critical
success index).

WWRP/WGNE Joint Working Group on Forecast Verification Research, *Forecast verification:
issues, methods and FAQ* (https://www.cawcr.gov.au/projects/verification/), "Methods for
dichotomous (yes/no) forecasts".

Barnes, L. R. et al., 2009: Corrigendum: False alarm rate or false alarm ratio?  *Weather
and Forecasting* 24, 1452-1454 — FAR here is the false alarm *ratio*, false alarms / alerts.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "CROSSING_COLUMNS",
    "Verification",
    "crossing_episodes",
    "scores",
    "verify_alerts",
]

#: the columns of :func:`crossing_episodes`
CROSSING_COLUMNS = ["start", "last", "end", "peak", "peak_time", "readings"]
#: the columns of :attr:`Verification.crossings`
MATCHED_CROSSING_COLUMNS = ["start", "end", "alert", "opened_at", "lead", "warned_at"]
#: the columns of :attr:`Verification.alerts`
MATCHED_ALERT_COLUMNS = ["alert", "opened_at", "closed_at", "crossing", "outcome"]

Direction = Literal["above", "below"]


def _timedelta(what: str, value: object) -> pd.Timedelta:
    try:
        td = pd.Timedelta(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a duration (e.g. '1 day'), not {value!r}") from None
    if pd.isna(td) or td < pd.Timedelta(0):
        raise ValueError(f"{what} must be a duration of zero or more, not {value!r}")
    return td


def crossing_episodes(stage: pd.Series, threshold_cm: float | pd.Series, *,
                      direction: Direction = "above", hysteresis_cm: float = 0.0,
                      max_gap: object = "2 days") -> pd.DataFrame:
    """The episodes during which a stage series was at or over a threshold.

    Parameters
    ----------
    stage : pandas.Series
        Stage readings, cm above gauge zero, indexed by time (UTC).  Missing values (NaN)
        are no readings; the series need not be regular or sorted.
    threshold_cm : float or pandas.Series
        The level, cm above gauge zero: one value, or one per reading (a Series with the
        index of ``stage``) where the level in force changes; NaN where none is in force
        (such a reading neither reaches the level nor stays within its band).
    direction : {"above", "below"}, default "above"
        ``"above"``: a reading has *reached* the level when it is at or over it (flood
        levels); ``"below"``: when it is at or under it (a low-water level).
    hysteresis_cm : float, default 0
        Once the level is reached, the episode goes on while the readings stay within this
        band (``>= threshold - hysteresis`` for ``"above"``): a stage hovering at the level
        makes one episode, not one per day, as with an alert rule's hysteresis.
    max_gap : duration, default 2 days
        Two readings further apart than this end an episode (the series is silent: nothing
        is known in between); a missing day of a daily series does not.

    Returns
    -------
    pandas.DataFrame
        One row per episode, in time order, columns :data:`CROSSING_COLUMNS`:

        * ``start`` — the first reading at or over the level;
        * ``last`` — the last reading at or over it (readings within the band after it
          excluded);
        * ``end`` — when the episode was seen to be over: the next reading after ``last``
          (the first below the level), or ``last`` itself when no reading follows within
          ``max_gap``.  A daily reading stands for its day: a crossing read once lasts
          until the next reading;
        * ``peak`` (highest reading, lowest for ``"below"``, cm), ``peak_time``;
        * ``readings`` — the readings from ``start`` to ``last``.

    Notes
    -----
    An episode starts at a reading that reaches the level and continues through every
    following reading that reaches it or stays within the hysteresis band, until a reading
    falls out of the band or the gap to the next reading exceeds ``max_gap``.  With
    ``hysteresis_cm = 0`` an episode is a run of consecutive readings at or over the level.
    """
    if not isinstance(stage, pd.Series):
        raise TypeError(f"stage must be a pandas Series indexed by time, not "
                        f"{type(stage).__name__}")
    if direction not in ("above", "below"):
        raise ValueError(f"direction must be 'above' or 'below', not {direction!r}")
    band = float(hysteresis_cm)
    if not math.isfinite(band) or band < 0:
        raise ValueError(f"hysteresis must be zero or more cm, not {hysteresis_cm!r}")
    gap = _timedelta("max_gap", max_gap)
    if isinstance(threshold_cm, pd.Series):
        if not threshold_cm.index.equals(stage.index):
            raise ValueError("a threshold series must have the index of the stage series "
                             "(one level per reading)")
        level = pd.to_numeric(threshold_cm, errors="coerce").to_numpy(dtype=float)
    else:
        scalar = float(threshold_cm)
        if not math.isfinite(scalar):
            raise ValueError(f"threshold must be a finite stage in cm, not {threshold_cm!r}")
        level = np.full(len(stage), scalar)

    frame = pd.DataFrame({"value": pd.to_numeric(stage, errors="coerce").to_numpy(float),
                          "level": level}, index=pd.DatetimeIndex(stage.index))
    frame = frame[frame["value"].notna()].sort_index(kind="stable")
    empty = pd.DataFrame({"start": pd.Series(dtype="datetime64[ns]"),
                          "last": pd.Series(dtype="datetime64[ns]"),
                          "end": pd.Series(dtype="datetime64[ns]"),
                          "peak": pd.Series(dtype=float),
                          "peak_time": pd.Series(dtype="datetime64[ns]"),
                          "readings": pd.Series(dtype="int64")})
    if frame.empty:
        return empty
    values = frame["value"].to_numpy()
    times = frame.index
    # signed so that "reached" is always x >= 0 and "within the band" x >= -band; a NaN
    # level (none in force) makes both false
    x = values - frame["level"].to_numpy() if direction == "above" else (
        frame["level"].to_numpy() - values)
    with np.errstate(invalid="ignore"):
        reached = x >= 0
        within = x >= -band
    gaps = np.zeros(len(values), dtype=bool)
    gaps[1:] = (times[1:] - times[:-1]) > gap

    rows = []
    i, n = 0, len(values)
    while i < n:
        if not reached[i]:
            i += 1
            continue
        j = i  # the episode runs over readings i..j within the band
        last = i
        while j + 1 < n and within[j + 1] and not gaps[j + 1]:
            j += 1
            if reached[j]:
                last = j
        k = i + int(np.argmax(x[i:last + 1]))
        seen_over = last + 1 if last + 1 < n and not gaps[last + 1] else last
        rows.append({"start": times[i], "last": times[last], "end": times[seen_over],
                     "peak": float(values[k]), "peak_time": times[k],
                     "readings": last - i + 1})
        i = j + 1
    if not rows:
        return empty
    out = pd.DataFrame(rows, columns=CROSSING_COLUMNS).astype({"readings": "int64"})
    for column in ("start", "last", "end", "peak_time"):
        out[column] = out[column].astype("datetime64[ns]")
    return out


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify_alerts` (counts over the period verified).

    Attributes
    ----------
    hits : int
        Crossings matched with an alert.
    misses : int
        Crossings no alert matched.
    false_alarms : int
        Alerts matched with no crossing.
    crossings : pandas.DataFrame
        The crossings counted, columns :data:`MATCHED_CROSSING_COLUMNS`: ``alert`` is the
        label of the matched alert (``None`` for a miss), ``opened_at`` the opening of the
        first alert that may match it and ``lead`` the lead time (crossing start −
        ``opened_at``, a Timedelta; NaT for a miss); ``warned_at`` the opening of the first
        alert that may match it whether or not one was matched (a miss can have one: an
        alert counted for another crossing); see :func:`verify_alerts`.
    alerts : pandas.DataFrame
        The alerts counted, columns :data:`MATCHED_ALERT_COLUMNS`: ``crossing`` is the
        position of the matched crossing in :attr:`crossings` (-1 for a false alarm) and
        ``outcome`` ``"hit"`` or ``"false_alarm"``.
    """

    hits: int
    misses: int
    false_alarms: int
    crossings: pd.DataFrame
    alerts: pd.DataFrame

    @property
    def n_crossings(self) -> int:
        """Crossings counted: ``hits + misses``."""
        return self.hits + self.misses

    @property
    def n_alerts(self) -> int:
        """Alerts counted: ``hits + false_alarms``."""
        return self.hits + self.false_alarms

    @property
    def lead_times(self) -> pd.Series:
        """The lead time of each hit (Timedelta; ≥ 0: the alert was open before the level
        was reached)."""
        return self.crossings["lead"].dropna().reset_index(drop=True)

    @property
    def median_lead_days(self) -> float:
        """Median lead time of the hits in days (NaN without hits)."""
        lead = self.lead_times
        if lead.empty:
            return float("nan")
        days = lead.dt.total_seconds().to_numpy(dtype=float) / 86400.0
        return float(np.median(days))

    @property
    def first_warning_days(self) -> float:
        """Median over the crossings that had any alert open for them (hit or not) of the
        time from the first such alert to the crossing, days (NaN if none had one)."""
        c = self.crossings
        warned = c["warned_at"].notna()
        if not warned.any():
            return float("nan")
        lead = (c.loc[warned, "start"] - c.loc[warned, "warned_at"]).dt.total_seconds()
        return float(np.median(lead.to_numpy(dtype=float) / 86400.0))

    @property
    def late(self) -> int:
        """Hits whose alert opened after the level was reached (negative lead time)."""
        return int((self.lead_times < pd.Timedelta(0)).sum())

    @property
    def pod(self) -> float:
        """Probability of detection, hits / crossings (NaN without crossings)."""
        return scores(self.hits, self.misses, self.false_alarms)["pod"]

    @property
    def far(self) -> float:
        """False alarm ratio, false alarms / alerts (NaN without alerts)."""
        return scores(self.hits, self.misses, self.false_alarms)["far"]

    @property
    def csi(self) -> float:
        """Critical success index, hits / (hits + misses + false alarms) (NaN if all are
        zero)."""
        return scores(self.hits, self.misses, self.false_alarms)["csi"]


def scores(hits: int, misses: int, false_alarms: int) -> dict[str, float]:
    """POD, FAR and CSI of a 2 x 2 contingency table without its correct negatives.

    Returns ``{"pod": a/(a+c), "far": b/(a+b), "csi": a/(a+b+c)}`` for ``a`` hits, ``b``
    false alarms and ``c`` misses; a score whose denominator is zero is NaN (undefined, not
    0 or 1).  Jolliffe & Stephenson (2012), ch. 3; FAR is the false alarm *ratio*.
    """
    for what, n in (("hits", hits), ("misses", misses), ("false alarms", false_alarms)):
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"{what} must be a count (0 or more), not {n!r}")

    def ratio(num: int, den: int) -> float:
        return num / den if den else float("nan")

    return {"pod": ratio(hits, hits + misses),
            "far": ratio(false_alarms, hits + false_alarms),
            "csi": ratio(hits, hits + misses + false_alarms)}


def _times(frame: pd.DataFrame, column: str, what: str) -> pd.Series:
    if column not in frame.columns:
        raise ValueError(f"{what} need a column {column!r} (have: "
                         f"{', '.join(map(str, frame.columns)) or 'none'})")
    return pd.to_datetime(frame[column]).astype("datetime64[ns]")


def verify_alerts(crossings: pd.DataFrame, alerts: pd.DataFrame, *,
                  tolerance: object = "1 day", start: object = None,
                  end: object = None) -> Verification:
    """Match alert episodes with observed crossings: hits, misses, false alarms, lead times.

    Parameters
    ----------
    crossings : pandas.DataFrame
        Observed crossings of one level at one gauge, columns ``start`` and ``end`` (times),
        not overlapping: e.g. from :func:`crossing_episodes`, whose ``end`` is when the
        crossing was seen to be over (an alert raised once the last reading over the level
        was known, before the next, still counts).
    alerts : pandas.DataFrame
        Alerts of the rule for that level at that gauge: columns ``opened_at`` and
        ``closed_at`` (NaT/None for an alert still open: open until after every crossing).
        The index labels the alerts (e.g. alert ids).
    tolerance : duration, default 1 day
        How long before a crossing an alert may have been closed and still count for it.
    start, end : time, optional
        The period verified (both ends included; default: unbounded).  Crossings are
        counted when they start within it; alerts when they are matched with a counted
        crossing, or, unmatched, when they opened within it.  Give every crossing and alert
        around the period: an alert opened before ``start`` can still warn of a crossing in
        it.

    Returns
    -------
    Verification

    Notes
    -----
    **Matching.**  An alert opened at ``o`` and closed at ``c`` *may match* a crossing from
    ``s`` to ``e`` when

    * it opened no later than the crossing's end, ``o <= e``, and
    * its episode overlaps the crossing widened by the tolerance,
      ``c >= s - tolerance`` (an open alert has ``c = +inf``).

    Each crossing is matched with at most one alert and each alert with at most one
    crossing, and the matching is a maximum one (as many hits as the definition allows).
    Because the crossings do not overlap, an alert may match a consecutive run of crossings:
    from the first that ends after it opened to the last that starts no more than the
    tolerance after it closed (its *deadline*).  Crossings are taken in time order, each with
    the unmatched alert of the earliest deadline that may match it (ties: the one opened
    first); for points and intervals this earliest-deadline choice is optimal (the exchange
    argument).  Hence

    * a **hit** is a crossing with its alert; a **miss** a crossing without one;
    * a **false alarm** is an alert left without a crossing — a second alert raised during
      one crossing (a flapping alert) is a false alarm;
    * ``hits + misses = crossings`` and ``hits + false alarms = alerts``;
    * an alert held open across two crossings counts for one of them; the other is a miss
      unless another alert matches it (with the rule's hysteresis given to
      :func:`crossing_episodes`, an alert and its crossing end together, so this is rare).

    **Lead time** of a hit is ``s - o_first``: the crossing's start minus the opening of the
    *first* alert that may match it (the duty officer's view: how long before the level was
    reached an alert for it was open), whichever alert the one-to-one matching counted.
    Zero or more: the alert was open when the level was reached; negative: it opened during
    the crossing (late, but before the crossing ended).

    **Scores** (:func:`scores`): POD = hits / crossings, FAR = false alarms / alerts, CSI =
    hits / (hits + misses + false alarms); Jolliffe & Stephenson (2012), ch. 3.  There is
    no count of correct negatives for events, so scores that need one (POFD, HSS) are not
    given.
    """
    tol = _timedelta("tolerance", tolerance)
    lo = None if start is None else pd.Timestamp(start)  # type: ignore[arg-type]
    hi = None if end is None else pd.Timestamp(end)  # type: ignore[arg-type]
    if lo is not None and hi is not None and hi < lo:
        raise ValueError(f"the period ends ({hi}) before it starts ({lo})")

    cs = _times(crossings, "start", "crossings")
    ce = _times(crossings, "end", "crossings")
    if (cs.isna() | ce.isna()).any():
        raise ValueError("every crossing needs a start and an end")
    order = np.argsort(cs.to_numpy(), kind="stable")
    cs_v = cs.to_numpy()[order]
    ce_v = ce.to_numpy()[order]
    if (ce_v < cs_v).any():
        i = int(np.flatnonzero(ce_v < cs_v)[0])
        raise ValueError(f"a crossing ends ({pd.Timestamp(ce_v[i])}) before it starts "
                         f"({pd.Timestamp(cs_v[i])})")
    if len(cs_v) > 1 and (cs_v[1:] <= ce_v[:-1]).any():
        i = int(np.flatnonzero(cs_v[1:] <= ce_v[:-1])[0])
        raise ValueError(f"crossings overlap (one ends {pd.Timestamp(ce_v[i])}, the next "
                         f"starts {pd.Timestamp(cs_v[i + 1])}); give one series' episodes")

    ao = _times(alerts, "opened_at", "alerts")
    ac = _times(alerts, "closed_at", "alerts")
    if ao.isna().any():
        raise ValueError("every alert needs its opening time (opened_at)")
    ao_v = ao.to_numpy()
    never = np.datetime64("2262-01-01", "ns")  # "still open": after any crossing
    ac_v = np.where(ac.isna().to_numpy(), never, ac.to_numpy()).astype("datetime64[ns]")
    if (ac_v < ao_v).any():
        i = int(np.flatnonzero(ac_v < ao_v)[0])
        raise ValueError(f"alert {alerts.index.tolist()[i]} closes before it opens")
    tol_v = np.timedelta64(tol.value, "ns")

    # eligible[i, a]: alert a may match crossing i
    eligible = ((ao_v[None, :] <= ce_v[:, None])
                & (ac_v[None, :] >= (cs_v - tol_v)[:, None]))
    # each alert may match a consecutive run of crossings (the crossings do not overlap):
    # from the first that ends after it opened to the last that starts (less the
    # tolerance) before it closed -- its deadline
    deadline = np.searchsorted(cs_v - tol_v, ac_v, side="right") - 1
    # greedy maximum matching: crossings in time order, each with the eligible unmatched
    # alert of the earliest deadline (ties: opened first)
    by_open = np.argsort(ao_v, kind="stable")
    heap: list[tuple[int, np.datetime64, int]] = []  # (deadline, opens, alert)
    nxt = 0
    match_alert = np.full(len(cs_v), -1, dtype=np.int64)
    match_crossing = np.full(len(ao_v), -1, dtype=np.int64)
    for i in range(len(cs_v)):
        while nxt < len(by_open) and ao_v[by_open[nxt]] <= ce_v[i]:
            a = int(by_open[nxt])
            heapq.heappush(heap, (int(deadline[a]), ao_v[a], a))
            nxt += 1
        while heap and heap[0][0] < i:
            heapq.heappop(heap)  # closed too long before this crossing (and any later one)
        if heap:
            _, _, a = heapq.heappop(heap)
            match_alert[i] = a
            match_crossing[a] = i
    # the first warning of each crossing: the earliest opening among the alerts that may
    # match it, whichever of them the one-to-one matching counted
    first_open = (np.where(eligible, ao_v[None, :], never).min(axis=1) if len(ao_v)
                  else np.full(len(cs_v), never))
    any_alert = np.asarray(eligible.any(axis=1), dtype=bool).reshape(len(cs_v))

    in_period = np.ones(len(cs_v), dtype=bool)
    if lo is not None:
        in_period &= cs_v >= lo.to_datetime64()
    if hi is not None:
        in_period &= cs_v <= hi.to_datetime64()
    counted = np.flatnonzero(in_period)
    position = np.full(len(cs_v), -1, dtype=np.int64)
    position[counted] = np.arange(len(counted))

    labels = alerts.index.tolist()
    crossing_rows = []
    for i in (int(k) for k in counted):
        a = int(match_alert[i])
        crossing_rows.append({
            "start": pd.Timestamp(cs_v[i]), "end": pd.Timestamp(ce_v[i]),
            "alert": labels[a] if a >= 0 else None,
            "opened_at": pd.Timestamp(first_open[i]) if a >= 0 else pd.NaT,
            "lead": pd.Timestamp(cs_v[i]) - pd.Timestamp(first_open[i]) if a >= 0 else pd.NaT,
            "warned_at": pd.Timestamp(first_open[i]) if any_alert[i] else pd.NaT})
    crossing_frame = pd.DataFrame(crossing_rows, columns=MATCHED_CROSSING_COLUMNS)
    # alert labels keep their type (an id stays an int, a miss is None, not NaN)
    crossing_frame["alert"] = pd.Series([r["alert"] for r in crossing_rows], dtype=object,
                                        index=crossing_frame.index)
    crossing_frame["opened_at"] = pd.Series([r["opened_at"] for r in crossing_rows],
                                            dtype="datetime64[ns]", index=crossing_frame.index)
    crossing_frame["lead"] = pd.Series([r["lead"] for r in crossing_rows],
                                       dtype="timedelta64[ns]", index=crossing_frame.index)
    crossing_frame["warned_at"] = pd.Series([r["warned_at"] for r in crossing_rows],
                                            dtype="datetime64[ns]", index=crossing_frame.index)

    alert_rows = []
    for a in (int(k) for k in by_open):
        i = int(match_crossing[a])
        if i >= 0:
            if not in_period[i]:
                continue  # it warned of a crossing outside the period
            crossing, outcome = int(position[i]), "hit"
        else:
            opened = ao_v[a]
            if (lo is not None and opened < lo.to_datetime64()) or (
                    hi is not None and opened > hi.to_datetime64()):
                continue
            crossing, outcome = -1, "false_alarm"
        closed = ac.iloc[a]
        alert_rows.append({"alert": labels[a], "opened_at": pd.Timestamp(ao_v[a]),
                           "closed_at": pd.NaT if pd.isna(closed) else pd.Timestamp(closed),
                           "crossing": crossing, "outcome": outcome})
    alert_frame = pd.DataFrame(alert_rows, columns=MATCHED_ALERT_COLUMNS)
    alert_frame["alert"] = pd.Series([r["alert"] for r in alert_rows], dtype=object,
                                     index=alert_frame.index)
    for column in ("opened_at", "closed_at"):
        alert_frame[column] = pd.Series([r[column] for r in alert_rows],
                                        dtype="datetime64[ns]", index=alert_frame.index)
    alert_frame["crossing"] = alert_frame["crossing"].astype("int64")

    hits = int(crossing_frame["alert"].notna().sum())
    misses = len(crossing_frame) - hits
    false_alarms = int((alert_frame["outcome"] == "false_alarm").sum())
    return Verification(hits=hits, misses=misses, false_alarms=false_alarms,
                        crossings=crossing_frame, alerts=alert_frame)
