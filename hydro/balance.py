"""Water balance: reservoirs, river segments and the volumes crossing the borders.

Pure functions over pandas objects: no file, database or clock access.  Loading from the
store or the readers happens elsewhere; :func:`daily_series` turns an observation frame
that has already been read into the daily series these functions take.

Conventions
-----------
Inputs
    Daily series: :class:`pandas.Series` indexed by a naive :class:`~pandas.DatetimeIndex`
    of **local dates** (midnight), one value per day.  Discharge and every flow term
    (inflow, outflow, evaporation, withdrawals, lateral inflow) in **m³/s** as daily means;
    reservoir volume in **hm³ at the end of the day** (the ``reservoir_csv`` convention).
    Missing days may be absent or NaN.
Outputs
    Volumes in **hm³** (million m³; ``volume_km3`` where a table shows both), percentages
    in %.  A day's flow volume is ``discharge_to_volume(q, days=1)`` (:mod:`hydro.units`).
Water year
    The *water-management year* (водохозяйственный год) of Soviet/Russian and Kazakh
    hydrological practice (the intra-annual runoff distribution of Andreyanov): it starts
    with the first month of the spring flood and ends with the last winter low-water month,
    so that the three seasons nest inside it.  Default **1 March – end of February**,
    labelled by the calendar year in which it **starts** (water year 2023 = 1 Mar 2023 –
    29 Feb 2024, shown as ``"2023/24"``).  ``water_year_start_month`` changes the start
    (10 gives the 1 October hydrological year of GOST 19179-73; the label is still the
    starting year).
Seasons
    :data:`SEASONS`: spring flood (Mar–May), summer–autumn (Jun–Oct), winter (Nov–Feb).
    A season is labelled by the year of its first month (winter 2023 = Nov 2023 – Feb
    2024).
Norm and percentile
    See :func:`border_volumes`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast, overload

import numpy as np
import pandas as pd

from hydro.network import Network, Reach, Routing
from hydro.routing import lag_route, muskingum_cascade
from hydro.units import convert_to, discharge_to_volume

#: length of one time step of the daily series, in days (the routing ``dt``)
DAY = 1.0

#: default water-year start month (1 March: the KZ/RU water-management year)
WATER_YEAR_START_MONTH = 3

#: default base period of the norm (WMO climatological standard normal)
BASE_PERIOD: tuple[int, int] = (1991, 2020)

#: share of the base period's years a norm needs before it falls back to the whole record
MIN_BASE_FRACTION = 0.8

#: default seasons: name -> calendar months (each contiguous, possibly across New Year)
SEASONS: dict[str, tuple[int, ...]] = {
    "spring_flood": (3, 4, 5),
    "summer_autumn": (6, 7, 8, 9, 10),
    "winter": (11, 12, 1, 2),
}

Period = Literal["day", "month"]
AccountingPeriod = Literal["month", "season", "water_year"]


# --------------------------------------------------------------------------- inputs

def daily_series(observations: pd.DataFrame, timezone: str, party: str | None = None,
                 ) -> pd.Series:
    """Daily series labelled by local date from an observation frame already loaded.

    Parameters
    ----------
    observations : frame with columns ``time`` (naive UTC, as returned by
        :func:`hydro.store.api.series` and by the readers' ``Batch.observations``) and
        ``value``; optional ``party``, ``station_id`` and ``variable`` columns.
    timezone : IANA time zone of the station (``network.gauges[id].timezone``).
    party : keep only this reporting party (needed when both parties report the station).

    Returns
    -------
    pandas.Series of ``value`` indexed by local date (naive midnight), sorted.
    """
    frame = observations
    for col in ("station_id", "variable"):
        if col in frame.columns and frame[col].nunique() > 1:
            raise ValueError(
                f"observations hold {frame[col].nunique()} different {col} values "
                f"({', '.join(map(str, frame[col].unique()[:4]))}); select one series first"
            )
    if party is not None:
        if "party" not in frame.columns:
            raise ValueError("party given but the observations have no 'party' column")
        frame = frame[frame["party"] == party]
    elif "party" in frame.columns and frame["party"].nunique() > 1:
        raise ValueError(
            f"observations are reported by several parties "
            f"({', '.join(sorted(map(str, frame['party'].unique())))}); pass party=..."
        )
    time = pd.DatetimeIndex(pd.to_datetime(frame["time"]))
    if time.tz is None:
        time = time.tz_localize("UTC")
    local = time.tz_convert(timezone).tz_localize(None).normalize()
    out = pd.Series(frame["value"].to_numpy(dtype=float), index=local, name="value")
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        raise ValueError(
            f"more than one value on local date {dup.date()} ({timezone}); aggregate "
            "sub-daily values to daily means first"
        )
    out.index.name = "date"
    return out.sort_index()


def _as_daily(series: pd.Series, name: str) -> pd.Series:
    """Validate a daily series and reindex it to every day of its span (gaps become NaN)."""
    if not isinstance(series, pd.Series):
        raise TypeError(f"{name}: expected a pandas Series indexed by date, "
                        f"got {type(series).__name__}")
    idx = series.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise ValueError(f"{name}: the index must be a DatetimeIndex of local dates, "
                         f"got {type(idx).__name__}")
    if idx.tz is not None:
        raise ValueError(f"{name}: the index is time-zone aware ({idx.tz}); label daily values "
                         "by local date (hydro.balance.daily_series does this)")
    if len(idx) and not (idx == idx.normalize()).all():
        first = idx[idx != idx.normalize()][0]
        raise ValueError(f"{name}: the index has a time of day ({first}); daily values must be "
                         "labelled by local date at midnight (hydro.balance.daily_series)")
    if idx.has_duplicates:
        raise ValueError(f"{name}: duplicate date {idx[idx.duplicated()][0].date()}")
    s = pd.Series(series.to_numpy(dtype=float), index=idx.as_unit("ns"), name=name).sort_index()
    if s.empty:
        return s
    full = pd.date_range(s.index[0], s.index[-1], freq="D", unit="ns")
    return s.reindex(full)


def _flow(value: pd.Series | float | None, name: str, like: pd.DatetimeIndex) -> pd.Series:
    """A flow term as a daily series on ``like``: a Series, a constant (m³/s) or None (0)."""
    if value is None:
        return pd.Series(0.0, index=like, name=name)
    if isinstance(value, (int, float, np.floating, np.integer)):
        return pd.Series(float(value), index=like, name=name)
    return _as_daily(value, name).reindex(like)


def _sum_terms(terms: pd.Series | Mapping[str, pd.Series | float] | None, name: str,
               like: pd.DatetimeIndex) -> pd.Series:
    """Sum of one or several flow terms (NaN on a day any term is missing)."""
    if terms is None or isinstance(terms, (pd.Series, int, float)):
        return _flow(terms, name, like)
    total = pd.Series(0.0, index=like, name=name)
    for key, value in terms.items():
        total = total + _flow(value, f"{name}[{key}]", like)
    return total


def _span(series: Sequence[pd.Series]) -> pd.DatetimeIndex:
    """Every day from the earliest to the latest date of the given series."""
    starts = [s.index[0] for s in series if len(s)]
    ends = [s.index[-1] for s in series if len(s)]
    if not starts:
        return pd.DatetimeIndex([], dtype="datetime64[ns]", freq="D")
    return pd.date_range(min(starts), max(ends), freq="D", unit="ns")


def _percent(residual: pd.Series, throughput: pd.Series) -> pd.Series:
    """100 residual / throughput; 0 when both are 0, ±inf when only the throughput is 0."""
    r = residual.to_numpy(dtype=float)
    t = throughput.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(t != 0, 100.0 * r / t, np.where(r == 0, 0.0, np.sign(r) * np.inf))
    pct = np.where(np.isnan(r) | np.isnan(t), np.nan, pct)
    return pd.Series(pct, index=residual.index)


def _by_month(daily: pd.DataFrame, sum_cols: list[str]) -> pd.DataFrame:
    """Monthly sums over the days whose balance is complete (``valid``)."""
    ok = daily[daily["valid"]]
    assert isinstance(ok.index, pd.DatetimeIndex)  # the daily frames are indexed by _span's days
    month = ok.index.to_period("M")
    out = ok[sum_cols].groupby(month).sum()
    out["n_days"] = ok.groupby(month).size()
    all_months = pd.period_range(daily.index[0], daily.index[-1], freq="M") if len(daily) else (
        pd.PeriodIndex([], freq="M"))
    out = out.reindex(all_months)
    out["n_days"] = out["n_days"].fillna(0).astype(int)
    out["days_in_period"] = all_months.days_in_month.astype(int)
    out.index.name = "month"
    return out


# --------------------------------------------------------------------------- reservoirs

def reservoir_balance(volume: pd.Series, inflow: pd.Series, outflow: pd.Series,
                      evaporation: pd.Series | float | None = None,
                      withdrawals: pd.Series | Mapping[str, pd.Series | float] | None = None,
                      *, period: Period = "day", tolerance_percent: float = 1.0,
                      rounding_hm3: float = 0.0, initial_volume: float | None = None,
                      spill: pd.Series | float | None = None,
                      ) -> pd.DataFrame:
    """Reservoir water balance per day or per month.

    ``residual = inflow − outflow − evaporation − withdrawals − ΔS`` (hm³): water the
    record does not account for.  Positive: more came in than storage and the measured
    losses explain (seepage, unmeasured releases, under-measured outflow); negative: the
    reverse (ungauged inflow, over-measured outflow).

    Parameters
    ----------
    volume : storage in hm³ at the end of each local day.
    inflow, outflow : daily mean discharge in m³/s; ``outflow`` is the total release
        (controlled release + spill, as in the ``reservoir_csv`` format).
    evaporation : evaporation loss from the water surface in m³/s (a series or a
        constant); ``None`` means none.
    withdrawals : water taken directly from the reservoir in m³/s: one series, a constant,
        or a mapping intake -> series/constant (summed); ``None`` means none.
    period : ``"day"`` or ``"month"`` (calendar months of local dates).
    tolerance_percent : flag a period whose ``|residual|`` exceeds this share of the
        throughput (config: ``reservoirs[].balance_tolerance_percent``, default 1.0).
    rounding_hm3 : do not flag a residual at or below this many hm³ — the rounding of the
        record (for volumes given to 0.001 hm³ and flows to 0.001 m³/s, one day's
        rounding is at most ``0.001 + 0.0005 · 0.0864 · (number of flow terms)`` hm³).
        Default 0: the percentage alone decides.
    initial_volume : storage in hm³ at the end of the day before the first date; without
        it the first day has no storage change and is left out.
    spill : the part of ``outflow`` that is spill, m³/s (a series or a constant); ``None``
        means not reported.  It is not a balance term (``outflow`` includes it): given, the
        outflow is split into ``release_hm3`` (controlled release, ``outflow − spill``) and
        ``spill_hm3``, placed after ``outflow_hm3``.  A period whose spill is missing on a
        day of its balance has NaN in both.

    Returns
    -------
    pandas.DataFrame indexed by ``date`` (day) or ``month`` (:class:`pandas.Period`) with
    ``storage_change_hm3, inflow_hm3, outflow_hm3, evaporation_hm3, withdrawal_hm3,
    residual_hm3, throughput_hm3, residual_percent, flagged`` (with ``spill``:
    ``release_hm3, spill_hm3`` after ``outflow_hm3``) and, per month, ``n_days`` (days with
    a complete balance) and ``days_in_period``.

    Notes
    -----
    ΔS of a day is ``V(end of day) − V(end of previous day)``; a month's ΔS is the sum of
    its days', i.e. ``V(end of month) − V(end of previous month)`` when no day is missing.
    A day lacking any term is left out (``residual`` NaN); a month sums the complete days
    only — each day's balance stands on its own, so the sum of complete days is a valid
    balance of those days (compare ``n_days`` with ``days_in_period``).
    Throughput is the mean of the water entering and leaving:
    ``½ (inflow + outflow + evaporation + withdrawals)``.
    """
    if period not in ("day", "month"):
        raise ValueError(f"period must be 'day' or 'month', got {period!r}")
    if not tolerance_percent > 0:
        raise ValueError(f"tolerance_percent must be positive, got {tolerance_percent}")
    v = _as_daily(volume, "volume")
    q_in = _as_daily(inflow, "inflow")
    q_out = _as_daily(outflow, "outflow")
    days = _span([v, q_in, q_out])
    v = v.reindex(days)
    ds = v.diff()
    if initial_volume is not None and len(days):
        ds.iloc[0] = v.iloc[0] - float(initial_volume)
    daily = pd.DataFrame({
        "storage_change_hm3": ds,
        "inflow_hm3": discharge_to_volume(q_in.reindex(days), days=DAY),
        "outflow_hm3": discharge_to_volume(q_out.reindex(days), days=DAY),
        "evaporation_hm3": discharge_to_volume(_flow(evaporation, "evaporation", days), days=DAY),
        "withdrawal_hm3": discharge_to_volume(_sum_terms(withdrawals, "withdrawals", days),
                                              days=DAY),
    }, index=days)
    daily.index.name = "date"
    daily["valid"] = daily.notna().all(axis=1)
    terms = ["storage_change_hm3", "inflow_hm3", "outflow_hm3", "evaporation_hm3",
             "withdrawal_hm3"]
    table = _by_month(daily, terms) if period == "month" else daily[terms].where(daily["valid"])
    table["residual_hm3"] = (table["inflow_hm3"] - table["outflow_hm3"]
                             - table["evaporation_hm3"] - table["withdrawal_hm3"]
                             - table["storage_change_hm3"])
    table["throughput_hm3"] = 0.5 * (table["inflow_hm3"] + table["outflow_hm3"]
                                     + table["evaporation_hm3"] + table["withdrawal_hm3"])
    table["residual_percent"] = _percent(table["residual_hm3"], table["throughput_hm3"])
    table["flagged"] = ((table["residual_percent"].abs() > tolerance_percent)
                        & (table["residual_hm3"].abs() > rounding_hm3))
    order = [*terms, "residual_hm3", "throughput_hm3", "residual_percent", "flagged"]
    if period == "month":
        order += ["n_days", "days_in_period"]
    if spill is not None:
        # spill is a part of the outflow, not a term: it does not decide a day's validity
        spill_day = discharge_to_volume(_flow(spill, "spill", days), days=DAY)
        spill_day = spill_day.where(daily["valid"])
        if period == "month":
            ok = daily["valid"].to_numpy()
            month = days.to_period("M")
            grouped = spill_day[ok].groupby(month[ok])
            # NaN for a month with a balanced day that lacks the spill
            spill_sum = grouped.sum().where(grouped.count() == grouped.size())
            spill_hm3 = spill_sum.reindex(table.index)
        else:
            spill_hm3 = spill_day
        table["spill_hm3"] = spill_hm3.to_numpy()
        table["release_hm3"] = table["outflow_hm3"] - table["spill_hm3"]
        at = order.index("outflow_hm3") + 1
        order[at:at] = ["release_hm3", "spill_hm3"]
    return table[order]


def reservoir_balance_from_table(table: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """:func:`reservoir_balance` of a frame in the ``reservoir_csv`` column layout.

    ``table`` has ``date`` (local date) or a DatetimeIndex, ``volume_hm3``, ``inflow_m3s``,
    ``outflow_m3s`` and optionally ``evaporation_m3s`` and ``withdrawal_m3s``; one
    reservoir only.  Keyword arguments go to :func:`reservoir_balance`.
    """
    frame = table
    if "station" in frame.columns and frame["station"].nunique() > 1:
        raise ValueError(f"the table holds {frame['station'].nunique()} reservoirs; "
                         "pass one reservoir's rows")
    if "date" in frame.columns:
        frame = frame.set_index(pd.DatetimeIndex(pd.to_datetime(frame["date"])))
    missing = [c for c in ("volume_hm3", "inflow_m3s", "outflow_m3s") if c not in frame.columns]
    if missing:
        raise ValueError(f"reservoir table lacks column '{missing[0]}' (expected volume_hm3, "
                         "inflow_m3s, outflow_m3s[, evaporation_m3s, withdrawal_m3s])")
    return reservoir_balance(
        frame["volume_hm3"], frame["inflow_m3s"], frame["outflow_m3s"],
        frame["evaporation_m3s"] if "evaporation_m3s" in frame.columns else None,
        frame["withdrawal_m3s"] if "withdrawal_m3s" in frame.columns else None,
        **kwargs)


# --------------------------------------------------------------------------- reaches

def reach_balance(downstream: pd.Series,
                  upstream: pd.Series | Mapping[str, pd.Series],
                  tributaries: Mapping[str, pd.Series] | None = None,
                  lateral: pd.Series | float | None = None,
                  withdrawals: pd.Series | Mapping[str, pd.Series | float] | None = None,
                  *, period: Period = "month") -> pd.DataFrame:
    """Balance of a river segment from terms already timed at its downstream end.

    ``residual = upstream + tributaries + lateral − withdrawals − downstream`` (hm³).
    Positive: water lost or taken unseen (channel losses, ungauged intakes, evaporation,
    under-measured downstream flow); negative: water gained unseen (ungauged lateral
    inflow when ``lateral`` is not given).

    Parameters
    ----------
    downstream : discharge at the downstream gauge, m³/s (daily mean).
    upstream : main-stem inflow(s) at the upstream end, m³/s — routed to the downstream
        end already, or not (see :func:`segment_balance`, which routes them); a mapping
        name -> series is summed and may be empty when ``tributaries`` are given.
    tributaries : gauged tributary inflows, m³/s, timed likewise.
    lateral : ungauged local inflow entering the segment, m³/s (series or constant).
    withdrawals : water taken out of the segment, m³/s (series, constant or mapping).
    period : ``"day"`` or ``"month"``.

    Returns
    -------
    pandas.DataFrame indexed by ``date`` or ``month`` with ``upstream_hm3,
    tributaries_hm3, lateral_hm3, withdrawals_hm3, downstream_hm3, residual_hm3,
    throughput_hm3`` (½ (inflows + outflows)), ``residual_percent`` and, per month,
    ``n_days`` and ``days_in_period``.  Days lacking a term are left out, as in
    :func:`reservoir_balance`.
    """
    if period not in ("day", "month"):
        raise ValueError(f"period must be 'day' or 'month', got {period!r}")
    down = _as_daily(downstream, "downstream")
    ups = {"upstream": upstream} if isinstance(upstream, pd.Series) else dict(upstream)
    if not ups and not tributaries:
        raise ValueError("give at least one inflow series (upstream or tributaries)")
    up_series = {k: _as_daily(s, f"upstream[{k}]") for k, s in ups.items()}
    trib_series = {k: _as_daily(s, f"tributaries[{k}]") for k, s in (tributaries or {}).items()}
    days = _span([down, *up_series.values(), *trib_series.values()])
    zero = pd.Series(0.0, index=days)
    up_total = sum((s.reindex(days) for s in up_series.values()), zero)
    trib_total = sum((s.reindex(days) for s in trib_series.values()), zero)
    daily = pd.DataFrame({
        "upstream_hm3": discharge_to_volume(up_total, days=DAY),
        "tributaries_hm3": discharge_to_volume(trib_total, days=DAY),
        "lateral_hm3": discharge_to_volume(_flow(lateral, "lateral", days), days=DAY),
        "withdrawals_hm3": discharge_to_volume(_sum_terms(withdrawals, "withdrawals", days),
                                               days=DAY),
        "downstream_hm3": discharge_to_volume(down.reindex(days), days=DAY),
    }, index=days)
    daily.index.name = "date"
    daily["valid"] = daily.notna().all(axis=1)
    terms = ["upstream_hm3", "tributaries_hm3", "lateral_hm3", "withdrawals_hm3",
             "downstream_hm3"]
    table = _by_month(daily, terms) if period == "month" else daily[terms].where(daily["valid"])
    inflow = table["upstream_hm3"] + table["tributaries_hm3"] + table["lateral_hm3"]
    outflow = table["withdrawals_hm3"] + table["downstream_hm3"]
    table["residual_hm3"] = inflow - outflow
    table["throughput_hm3"] = 0.5 * (inflow + outflow)
    table["residual_percent"] = _percent(table["residual_hm3"], table["throughput_hm3"])
    order = [*terms, "residual_hm3", "throughput_hm3", "residual_percent"]
    if period == "month":
        order += ["n_days", "days_in_period"]
    return table[order]


@dataclass(frozen=True)
class ControlVolume:
    """The river segment draining to ``downstream``, bounded upstream by observed nodes.

    Each path is the tuple of reaches from a node down to ``downstream``, in flow order.
    """

    downstream: str
    #: observed inflow nodes (gauges; reservoirs by their outflow) -> path
    inflows: dict[str, tuple[Reach, ...]]
    #: withdrawal nodes inside the segment -> path
    withdrawals: dict[str, tuple[Reach, ...]]
    #: nodes inside the segment (not observed inflows), including the withdrawals
    internal: dict[str, tuple[Reach, ...]]
    #: internal nodes with nothing upstream (an ungauged headwater: its flow is lateral)
    ungauged_headwaters: tuple[str, ...] = field(default=())


def control_volume(network: Network, downstream_id: str,
                   stop_at: Sequence[str] | None = None) -> ControlVolume:
    """Walk the reaches upstream of ``downstream_id`` to the observed nodes that bound it.

    Parameters
    ----------
    network : the configured network.
    downstream_id : the gauge (or reservoir, by its inflow) at the downstream end.
    stop_at : the upstream boundary.  By default every gauge and reservoir met is a
        boundary (the segment between adjacent observed nodes); given, only these nodes
        are, and gauges in between are walked through.  A reservoir inside the segment
        is an error (a reach balance has no storage term): list it in ``stop_at``.
    """
    try:
        network.node(downstream_id)
    except KeyError:
        raise ValueError(f"unknown node '{downstream_id}' (not in config/basins.toml)") from None
    stops = None if stop_at is None else set(stop_at)
    inflows: dict[str, tuple[Reach, ...]] = {}
    withdrawals: dict[str, tuple[Reach, ...]] = {}
    internal: dict[str, tuple[Reach, ...]] = {}
    headwaters: list[str] = []
    stack: list[tuple[str, tuple[Reach, ...]]] = [(downstream_id, ())]
    while stack:
        node_id, path = stack.pop()
        for reach in network.upstream_reaches(node_id):
            up = reach.upstream
            up_path = (reach, *path)
            observed = up in network.gauges or up in network.reservoirs
            if observed and (stops is None or up in stops):
                inflows[up] = up_path
                continue
            if up in network.reservoirs:
                raise ValueError(
                    f"reservoir '{up}' lies inside the segment above '{downstream_id}'; a reach "
                    "balance has no storage term: add it to stop_at"
                )
            internal[up] = up_path
            if up in network.nodes and network.nodes[up].kind == "withdrawal":
                withdrawals[up] = up_path
            if not network.upstream_reaches(up):
                headwaters.append(up)
            stack.append((up, up_path))
    if stops is not None:
        unreached = sorted(stops - set(inflows))
        if unreached:
            raise ValueError(
                f"stop_at: {', '.join(unreached)} does not bound the segment above "
                f"'{downstream_id}' (not an observed node upstream of it, or upstream of "
                "another stop)")
    if not inflows:
        raise ValueError(f"no gauge or reservoir upstream of '{downstream_id}': nothing to "
                         "balance against")
    return ControlVolume(downstream_id, inflows, withdrawals, internal, tuple(sorted(headwaters)))


def _routing_days(routing: Routing) -> tuple[float, float]:
    """(lag or Muskingum K in days, Muskingum x or 0) of a validated routing."""
    if routing.method == "lag":
        assert routing.lag is not None  # the config validator guarantees it
        return routing.lag.to("duration"), 0.0
    assert routing.k is not None and routing.x is not None
    return routing.k.to("duration"), routing.x


def travel_time_days(reaches: Sequence[Reach]) -> float:
    """Mean travel time through reaches in days: the lag, or Muskingum K, summed."""
    return sum((_routing_days(r.routing)[0] for r in reaches), 0.0)


def route_through(discharge: pd.Series, reaches: Sequence[Reach], name: str = "discharge",
                  ) -> pd.Series:
    """Route a daily discharge series (m³/s) through reaches in flow order.

    Each reach applies its configured routing with ``dt`` = 1 day: ``lag`` by
    :func:`hydro.routing.lag_route`, ``muskingum`` by :func:`hydro.routing.muskingum_cascade`
    (sub-reaches keep the coefficients non-negative) — the routing the synthetic network
    uses.  Leading and trailing missing days are trimmed; a gap inside is an error.
    Routing is linear, so routing terms one by one and summing equals routing the sum.
    """
    s = _as_daily(discharge, name)
    valid = s.notna().to_numpy()
    if not valid.any():
        return s.iloc[0:0]
    first, last = int(np.argmax(valid)), len(valid) - int(np.argmax(valid[::-1])) - 1
    s = s.iloc[first:last + 1]
    if s.isna().any():
        gap = s.index[s.isna()]
        raise ValueError(
            f"{name}: {gap.size} missing day(s) between {s.index[0].date()} and "
            f"{s.index[-1].date()} (first {gap[0].date()}); routing needs a gap-free series: "
            "fill the gaps or balance without routing (route=False)"
        )
    q = s.to_numpy()
    for reach in reaches:
        days, x = _routing_days(reach.routing)
        if reach.routing.method == "lag":
            q = lag_route(q, days, DAY)
        else:
            q = muskingum_cascade(q, days, x, DAY)
    return pd.Series(q, index=s.index, name=name)


def segment_balance(network: Network, downstream_id: str, downstream: pd.Series,
                    inflows: Mapping[str, pd.Series], *,
                    withdrawals: Mapping[str, pd.Series | float] | None = None,
                    lateral: pd.Series | Mapping[str, pd.Series] | None = None,
                    stop_at: Sequence[str] | None = None, route: bool = True,
                    period: Period = "month") -> pd.DataFrame:
    """Balance of the river segment above ``downstream_id``, from the network.

    ``residual = upstream (routed) + tributaries (routed) + lateral − withdrawals −
    downstream`` in hm³ per ``period`` (see :func:`reach_balance`).

    Parameters
    ----------
    network : the configured network; :func:`control_volume` finds the segment.
    downstream_id : gauge at the downstream end (or a reservoir: then ``downstream`` is
        its inflow).
    downstream : daily discharge at ``downstream_id``, m³/s.
    inflows : daily discharge, m³/s, of every observed node bounding the segment (a
        reservoir's outflow); extra entries are ignored.  An inflow on the same river as
        ``downstream_id`` counts as *upstream*, any other as a *tributary*.
    withdrawals : actual abstraction, m³/s, per withdrawal node inside the segment (series
        or constant).  A node not given is charged its configured nominal ``withdrawal``
        rate, and ``attrs["notes"]`` says so.
    lateral : ungauged inflow, m³/s: one series entering at the downstream end, or a
        mapping node -> series entering at that node inside the segment (routed from
        there).  Without it the residual contains minus the lateral inflow.
    stop_at : upstream boundary nodes (default: the nearest gauges and reservoirs).
    route : route every term from where it enters to the downstream end with the
        reaches' configured routing (:func:`route_through`).  ``False`` sums the
        unrouted daily flows: over a month the mismatch is about the travel time times
        the change in flow between the month's ends.
    period : ``"day"`` or ``"month"``.

    Returns
    -------
    The :func:`reach_balance` table; ``attrs`` holds ``downstream``, ``upstream``,
    ``tributaries``, ``withdrawals``, ``ungauged_headwaters``, ``travel_time_days`` (per
    inflow), ``routed`` and ``notes``.

    Notes
    -----
    With ``route=True`` the first days after the start of a series carry the routing's
    initial condition (steady flow equal to the first value), as the routing itself does.
    """
    cv = control_volume(network, downstream_id, stop_at)
    missing = [n for n in cv.inflows if n not in inflows]
    if missing:
        raise ValueError(f"the segment above '{downstream_id}' needs the discharge of "
                         f"{', '.join(sorted(cv.inflows))}; missing: {', '.join(missing)}")
    river = getattr(network.node(downstream_id), "river", None)
    notes: list[str] = []

    @overload
    def timed(series: pd.Series, path: tuple[Reach, ...], name: str) -> pd.Series: ...
    @overload
    def timed(series: float, path: tuple[Reach, ...], name: str) -> float: ...

    def timed(series: pd.Series | float, path: tuple[Reach, ...], name: str) -> pd.Series | float:
        if not route or not isinstance(series, pd.Series):
            return series  # a constant is unchanged by routing
        return route_through(series, path, name)

    upstream: dict[str, pd.Series] = {}
    tributaries: dict[str, pd.Series] = {}
    for node_id, path in cv.inflows.items():
        target = upstream if getattr(network.node(node_id), "river", None) == river else tributaries
        target[node_id] = timed(inflows[node_id], path, node_id)
    taken: dict[str, pd.Series | float] = {}
    for node_id, path in cv.withdrawals.items():
        if withdrawals is not None and node_id in withdrawals:
            taken[node_id] = timed(withdrawals[node_id], path, node_id)
        else:
            nominal = network.nodes[node_id].withdrawal
            assert nominal is not None  # the config validator requires it
            rate = nominal.to("discharge")
            taken[node_id] = rate
            notes.append(f"{node_id}: no withdrawal series given; charged the configured "
                         f"nominal rate {rate:g} m3/s")
    unknown = sorted(set(withdrawals or {}) - set(cv.withdrawals))
    if unknown:
        raise ValueError(f"withdrawals: {', '.join(unknown)} is not a withdrawal node inside "
                         f"the segment above '{downstream_id}' "
                         f"(inside: {', '.join(sorted(cv.withdrawals)) or 'none'})")
    lat: pd.Series | float | None
    if lateral is None or isinstance(lateral, (pd.Series, int, float)):
        lat = lateral
        if lateral is None and cv.ungauged_headwaters:
            notes.append("ungauged headwaters " + ", ".join(cv.ungauged_headwaters)
                         + " drain into the segment; their flow is in the residual")
    else:
        parts = []
        for node_id, series in lateral.items():
            if node_id == downstream_id:
                parts.append(_as_daily(series, f"lateral[{node_id}]"))
            elif node_id in cv.internal:
                parts.append(timed(series, cv.internal[node_id], f"lateral[{node_id}]"))
            else:
                raise ValueError(f"lateral: node '{node_id}' is not inside the segment above "
                                 f"'{downstream_id}' (inside: "
                                 f"{', '.join(sorted(cv.internal)) or 'none'})")
        if parts:
            days = _span(parts)
            lat = sum((p.reindex(days) for p in parts), pd.Series(0.0, index=days))
        else:
            lat = None
    table = reach_balance(downstream, upstream, tributaries, lat, taken or None, period=period)
    table.attrs = {
        "downstream": downstream_id,
        "upstream": sorted(upstream),
        "tributaries": sorted(tributaries),
        "withdrawals": sorted(cv.withdrawals),
        "ungauged_headwaters": list(cv.ungauged_headwaters),
        "travel_time_days": {n: travel_time_days(p) for n, p in cv.inflows.items()},
        "routed": route,
        "notes": notes,
    }
    return table


# --------------------------------------------------------------------------- borders

@dataclass(frozen=True)
class BorderGauge:
    """The gauge whose discharge stands for the flow across a border node."""

    border_id: str
    gauge_id: str
    position: Literal["upstream", "downstream"]
    reaches: tuple[str, ...]
    travel_time_days: float
    gauge_flagged_border: bool
    from_country: str | None
    to_country: str | None


def _walk_up(network: Network, start: str) -> tuple[str, tuple[Reach, ...]] | None:
    """Nearest gauge upstream along a single channel (no confluence, reservoir, intake)."""
    node, path = start, cast(tuple[Reach, ...], ())
    while True:
        ups = network.upstream_reaches(node)
        if len(ups) != 1:
            return None
        reach = ups[0]
        node, path = reach.upstream, (reach, *path)
        if node in network.gauges:
            return node, path
        if node in network.reservoirs or len(network.upstream_reaches(node)) > 1 or (
                node in network.nodes and network.nodes[node].kind == "withdrawal"):
            return None


def _walk_down(network: Network, start: str) -> tuple[str, tuple[Reach, ...]] | None:
    """Nearest gauge downstream with no water joining or leaving on the way."""
    node, path = start, cast(tuple[Reach, ...], ())
    while True:
        reach = network.downstream_reach(node)
        if reach is None:
            return None
        node, path = reach.downstream, (*path, reach)
        if len(network.upstream_reaches(node)) > 1:
            return None  # another branch joins: the gauge sees more than the border
        if node in network.gauges:
            return node, path
        if node in network.reservoirs or (
                node in network.nodes and network.nodes[node].kind == "withdrawal"):
            return None


def border_gauges(network: Network, strict: bool = False) -> dict[str, BorderGauge]:
    """The gauge representing each border node, found by walking the reaches.

    A candidate is the nearest gauge upstream or downstream of the border node along one
    channel, with no confluence, reservoir or withdrawal in between, so that it passes
    the same water (give or take the local inflow of the border node's
    ``local_catchment``).  Among candidates, a gauge flagged ``border = true`` wins, then
    the shorter travel time, then the upstream one.

    Parameters
    ----------
    network : the configured network.
    strict : raise :class:`ValueError` naming every border node that has no candidate;
        otherwise such nodes are left out of the result.

    Returns
    -------
    dict border node id -> :class:`BorderGauge`, in config order.
    """
    out: dict[str, BorderGauge] = {}
    lost: list[str] = []
    for node in network.border_nodes():
        candidates = []
        for position, found in (("upstream", _walk_up(network, node.id)),
                                ("downstream", _walk_down(network, node.id))):
            if found is None:
                continue
            gauge_id, path = found
            flagged = network.gauges[gauge_id].border
            candidates.append(((not flagged, travel_time_days(path), position != "upstream"),
                               BorderGauge(node.id, gauge_id, position,  # type: ignore[arg-type]
                                           tuple(r.id for r in path), travel_time_days(path),
                                           flagged, node.from_country, node.to_country)))
        if not candidates:
            lost.append(node.id)
            continue
        out[node.id] = min(candidates, key=lambda c: c[0])[1]
    if strict and lost:
        raise ValueError(f"no gauge represents border node(s) {', '.join(lost)}: no gauge on the "
                         "same channel without a confluence, reservoir or withdrawal in between")
    return out


def _check_seasons(seasons: Mapping[str, Sequence[int]]) -> dict[str, tuple[int, ...]]:
    seen: dict[int, str] = {}
    out = {}
    for name, months in seasons.items():
        months = tuple(int(m) for m in months)
        if not months:
            raise ValueError(f"season '{name}' has no months")
        for m in months:
            if not 1 <= m <= 12:
                raise ValueError(f"season '{name}': month {m} is not in 1..12")
            if m in seen:
                raise ValueError(f"month {m} is in both season '{seen[m]}' and '{name}'")
            seen[m] = name
        for a, b in zip(months[:-1], months[1:], strict=True):
            if b != a % 12 + 1:
                raise ValueError(f"season '{name}': months {months} are not consecutive "
                                 "(write them in calendar order from the first month)")
        out[name] = months
    return out


def period_of(dates: pd.DatetimeIndex, period: AccountingPeriod,
              water_year_start_month: int = WATER_YEAR_START_MONTH,
              seasons: Mapping[str, Sequence[int]] | None = None) -> pd.DataFrame:
    """The accounting period each date belongs to.

    Returns a frame indexed like ``dates`` with ``year`` (label year: the calendar year of
    the period's first month), ``group`` (calendar month 1–12, season name, or
    ``"year"``), ``label``, ``start`` and ``end`` (first and last day).  Dates in no
    season get NaN ``year`` for ``period="season"``.
    """
    if not 1 <= water_year_start_month <= 12:
        raise ValueError(f"water_year_start_month must be 1..12, got {water_year_start_month}")
    dates = pd.DatetimeIndex(dates)
    year = dates.year.to_numpy()
    month = dates.month.to_numpy()
    if period == "month":
        start = dates.to_period("M").to_timestamp()
        out = pd.DataFrame({"year": year, "group": month, "start": start}, index=dates)
        out["label"] = dates.to_period("M").astype(str)
        out["end"] = out["start"] + pd.offsets.MonthEnd(0)
        return out
    if period == "water_year":
        sm = water_year_start_month
        wy = year - (month < sm)
        uniq, inverse = np.unique(wy, return_inverse=True)
        starts = pd.DatetimeIndex([pd.Timestamp(int(y), sm, 1) for y in uniq])
        ends = starts + pd.DateOffset(months=12) - pd.Timedelta(days=1)
        labels = np.array([str(y) if sm == 1 else f"{y}/{(y + 1) % 100:02d}" for y in uniq],
                          dtype=object)
        return pd.DataFrame({"year": wy, "group": "year", "start": starts[inverse],
                             "end": ends[inverse], "label": labels[inverse]}, index=dates)
    if period == "season":
        checked = _check_seasons(SEASONS if seasons is None else seasons)
        names = list(checked)
        code_of_month = np.full(13, -1)
        for code, name in enumerate(names):
            code_of_month[list(checked[name])] = code
        first = np.array([checked[n][0] for n in names])
        length = np.array([len(checked[n]) for n in names])
        code = code_of_month[month]
        known = code >= 0
        sy = np.where(known, year - (month < first[np.where(known, code, 0)]), -1)
        key = np.where(known, sy * len(names) + code, -1)
        uniq, inverse = np.unique(key, return_inverse=True)
        u_code = np.where(uniq >= 0, uniq % len(names), -1)
        u_year = np.where(uniq >= 0, uniq // len(names), -1)
        starts = pd.DatetimeIndex([pd.Timestamp(int(y), int(first[c]), 1) if c >= 0 else pd.NaT
                                   for y, c in zip(u_year, u_code, strict=True)])
        ends = pd.DatetimeIndex([
            (s + pd.DateOffset(months=int(length[c])) - pd.Timedelta(days=1)) if c >= 0
            else pd.NaT for s, c in zip(starts, u_code, strict=True)])
        u_group = np.array([names[c] if c >= 0 else None for c in u_code], dtype=object)
        u_label = np.array([f"{y} {names[c]}" if c >= 0 else None
                            for y, c in zip(u_year, u_code, strict=True)], dtype=object)
        return pd.DataFrame({"year": np.where(known, sy, np.nan), "group": u_group[inverse],
                             "start": starts[inverse], "end": ends[inverse],
                             "label": u_label[inverse]}, index=dates)
    raise ValueError(f"period must be 'month', 'season' or 'water_year', got {period!r}")


def _percentile(x: float, sample: np.ndarray) -> float:
    """Weibull non-exceedance percentile with mid-ranks: 100 r / (n + 1)."""
    r = np.sum(sample < x) + (np.sum(sample == x) + 1) / 2.0
    return 100.0 * r / (sample.size + 1)


def border_volumes(discharge: pd.Series, *, period: AccountingPeriod = "water_year",
                   base_period: tuple[int, int] | None = BASE_PERIOD,
                   min_base_fraction: float = MIN_BASE_FRACTION, min_coverage: float = 1.0,
                   environmental_min_m3s: float | None = None,
                   water_year_start_month: int = WATER_YEAR_START_MONTH,
                   seasons: Mapping[str, Sequence[int]] | None = None) -> pd.DataFrame:
    """Volume that crossed a border per month, season or water year, against its norm.

    Parameters
    ----------
    discharge : daily mean discharge at the border (the representative gauge of
        :func:`border_gauges`), m³/s, indexed by local date.
    period : ``"month"``, ``"season"`` (:data:`SEASONS` or ``seasons``) or
        ``"water_year"`` (starting in ``water_year_start_month``, default March).
    base_period : first and last label year of the norm's base period (default 1991–2020;
        config key ``norm_base_period`` proposed); ``None`` uses the whole record.
    min_base_fraction : the base period is used when at least this share of its years
        has a complete value; otherwise the norm falls back to the whole record, and
        ``norm_basis`` says so (default 0.8, the WMO guidance for normals).
    min_coverage : share of a period's days that must be observed for its volume to be
        given (default 1.0: complete periods only; a partial volume is NaN and
        ``n_days`` shows the coverage).
    environmental_min_m3s : environmental minimum flow at the border node, m³/s (config
        key ``nodes[].environmental_min_flow`` proposed); ``None`` leaves the low-water
        columns empty.
    water_year_start_month, seasons : see the module notes.

    Returns
    -------
    pandas.DataFrame, one row per period from the first to the last observed day:
    ``year`` (label year), ``group`` (month number, season name or "year"), ``label``,
    ``start``, ``end``, ``n_days`` (observed), ``n_expected``, ``volume_hm3``,
    ``volume_km3``, ``mean_m3s`` and ``min_daily_m3s`` (over the observed days, also of an
    incomplete period), ``norm_hm3``, ``anomaly_hm3``,
    ``percent_of_norm``, ``percentile``, ``exceedance_percent``, ``norm_basis``,
    ``norm_n``, ``days_below_env_min``, ``low_water``.

    Notes
    -----
    *Norm*: mean volume of the complete periods of the same group (the same calendar
    month, the same season, or all water years) whose label year lies in the base
    period — or, failing ``min_base_fraction``, in the whole record.  With the default
    water year the 1991–2020 base runs from water year 1991/92 to 2020/21 (Mar 1991 –
    Feb 2021).
    *Percentile*: non-exceedance percentile of the period's volume in the norm's sample
    (the sample plus the value itself when its year is outside the sample), by the
    Weibull plotting position with mid-ranks for ties: ``100 r / (n + 1)``, ``r`` the
    rank from the smallest.  ``exceedance_percent = 100 − percentile`` is the
    обеспеченность ``P = m / (n + 1)`` of SP 33-101-2003 (``m`` the rank from the
    largest).  Both lie strictly inside (0, 100).
    *Low water*: ``days_below_env_min`` counts observed days with a daily mean below the
    environmental minimum; ``low_water`` is true when there is at least one.
    The border gauge's flow is used as it is, not shifted by the travel time between
    gauge and border (at most a day or two: see :attr:`BorderGauge.travel_time_days`).
    """
    if not 0.0 < min_coverage <= 1.0:
        raise ValueError(f"min_coverage must be in (0, 1], got {min_coverage}")
    if base_period is not None and base_period[0] > base_period[1]:
        raise ValueError(f"base_period {base_period}: the first year is after the last")
    q = _as_daily(discharge, "discharge")
    columns = ["year", "group", "label", "start", "end", "n_days", "n_expected", "volume_hm3",
               "volume_km3", "mean_m3s", "min_daily_m3s", "norm_hm3", "anomaly_hm3",
               "percent_of_norm", "percentile", "exceedance_percent", "norm_basis", "norm_n",
               "days_below_env_min", "low_water"]
    if q.notna().sum() == 0:
        return pd.DataFrame(columns=columns)
    q = q.loc[q.first_valid_index():q.last_valid_index()]
    assert isinstance(q.index, pd.DatetimeIndex)  # _as_daily gives a DatetimeIndex
    per = period_of(q.index, period, water_year_start_month, seasons)
    frame = per.assign(q=q.to_numpy(), vol=discharge_to_volume(q.to_numpy(), days=DAY))
    frame = frame[frame["group"].notna()]
    if environmental_min_m3s is not None:
        frame["below"] = (frame["q"] < float(environmental_min_m3s)).astype(float)
        frame.loc[frame["q"].isna(), "below"] = np.nan
    else:
        frame["below"] = np.nan
    g = frame.groupby(["start"], sort=True)
    table = g.agg(year=("year", "first"), group=("group", "first"), label=("label", "first"),
                  end=("end", "first"), n_days=("q", "count"), volume_hm3=("vol", "sum"),
                  mean_m3s=("q", "mean"), min_daily_m3s=("q", "min"),
                  days_below_env_min=("below", "sum")).reset_index()
    table["year"] = table["year"].astype(int)
    table["n_expected"] = (table["end"] - table["start"]).dt.days + 1
    complete = table["n_days"] >= min_coverage * table["n_expected"]
    table.loc[~complete, "volume_hm3"] = np.nan
    table["volume_km3"] = convert_to(table["volume_hm3"], "hm3", "km3", "volume")
    if environmental_min_m3s is None:
        table["days_below_env_min"] = pd.array([pd.NA] * len(table), dtype="Int64")
        table["low_water"] = pd.array([pd.NA] * len(table), dtype="boolean")
    else:
        table["days_below_env_min"] = table["days_below_env_min"].astype(int).astype("Int64")
        table["low_water"] = (table["days_below_env_min"] > 0).astype("boolean")

    norm = np.full(len(table), np.nan)
    pct = np.full(len(table), np.nan)
    basis = np.empty(len(table), dtype=object)
    norm_n = np.zeros(len(table), dtype=int)
    for _, rows in table.groupby("group", sort=False).groups.items():
        sub = table.loc[rows]
        done = sub[sub["volume_hm3"].notna()]
        if done.empty:
            basis[rows] = "no complete period"
            continue
        span = f"{done['year'].min()}–{done['year'].max()}"
        if base_period is None:
            sample = done
            text = f"whole record {span} ({len(done)} values)"
        else:
            y0, y1 = base_period
            n_base = y1 - y0 + 1
            in_base = done[(done["year"] >= y0) & (done["year"] <= y1)]
            if len(in_base) >= math.ceil(min_base_fraction * n_base):
                sample = in_base
                text = f"base period {y0}–{y1} ({len(in_base)} of {n_base} values)"
            else:
                sample = done
                text = (f"whole record {span} ({len(done)} values): base period {y0}–{y1} has "
                        f"only {len(in_base)} of {n_base}")
        values = sample["volume_hm3"].to_numpy()
        in_sample = set(sample.index)
        for i in rows:
            norm[table.index.get_loc(i)] = values.mean()
            # volume_hm3 is a float64 column: .at gives a numpy float64, a float
            x = cast(float, table.at[i, "volume_hm3"])
            if not np.isnan(x):
                s = values if i in in_sample else np.append(values, x)
                pct[table.index.get_loc(i)] = _percentile(x, s)
        basis[rows] = text
        norm_n[rows] = len(sample)
    table["norm_hm3"] = norm
    table["anomaly_hm3"] = table["volume_hm3"] - table["norm_hm3"]
    table["percent_of_norm"] = 100.0 * table["volume_hm3"] / table["norm_hm3"]
    table["percentile"] = pct
    table["exceedance_percent"] = 100.0 - pct
    table["norm_basis"] = basis
    table["norm_n"] = norm_n
    return table[columns]


def border_table(network: Network, discharge: Mapping[str, pd.Series], *,
                 period: AccountingPeriod = "water_year",
                 environmental_min_m3s: Mapping[str, float] | None = None,
                 missing: Literal["raise", "skip"] = "raise", **kwargs) -> pd.DataFrame:
    """:func:`border_volumes` for every border node that has a representative gauge.

    Parameters
    ----------
    network : the configured network (:func:`border_gauges` picks each node's gauge).
    discharge : daily discharge, m³/s, by gauge id.
    environmental_min_m3s : environmental minimum, m³/s, by border node id.
    missing : ``"raise"`` when a border gauge has no series, or ``"skip"`` it (the skipped
        nodes are listed in ``attrs["skipped"]``).
    kwargs : passed on to :func:`border_volumes` (``base_period``, ``seasons``, ...).

    Returns
    -------
    The :func:`border_volumes` rows with ``border_id, gauge_id, gauge_position,
    from_country, to_country`` in front.
    """
    parts = []
    skipped = []
    for border_id, bg in border_gauges(network).items():
        if bg.gauge_id not in discharge:
            if missing == "raise":
                raise ValueError(f"no discharge series for '{bg.gauge_id}', the gauge of border "
                                 f"node '{border_id}' (pass missing='skip' to leave it out)")
            skipped.append(border_id)
            continue
        env = (environmental_min_m3s or {}).get(border_id)
        t = border_volumes(discharge[bg.gauge_id], period=period, environmental_min_m3s=env,
                           **kwargs)
        t.insert(0, "to_country", bg.to_country)
        t.insert(0, "from_country", bg.from_country)
        t.insert(0, "gauge_position", bg.position)
        t.insert(0, "gauge_id", bg.gauge_id)
        t.insert(0, "border_id", border_id)
        parts.append(t)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out.attrs["skipped"] = skipped
    return out
