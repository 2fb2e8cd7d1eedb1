"""Release schedules judged by what they do downstream: evaluation, side-by-side comparison,
search, and the forecasters' one-step questions.

Pure functions over the :class:`xarray.Dataset` of :func:`hydro.network_sim.simulate`: no
file, database or clock access.  Stage in cm above gauge zero, discharge m³/s, volume hm³,
level m (Baltic system), time in days.

* :func:`evaluate` — per member: peak stage and its day, first day at or over the adverse
  and the dangerous level, days over each, at every evaluated gauge; spill volume,
  end-of-season storage and maximum level of every reservoir; volume delivered across each
  border; the spring ecological pulse (volume passing a node in the spawning window).
* :func:`summary` and :func:`compare` — the ensemble in a table, two schedules side by side.
* :func:`objective` and :func:`search` — a search over parametrised schedules that lowers
  downstream exceedance subject to an end-of-season storage target
  (:func:`scipy.optimize.differential_evolution`, seeded, with the documented schedule in
  its first population, so the result is never worse than it).
* :func:`release_response`, :func:`reservoir_effects`, :func:`drawdown_check` — "release Q
  from D: what stage where and when?", each reservoir's holdout and effect on the peaks
  across the border, and whether a reservoir is low enough before the flood.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike

from hydro.network import Network
from hydro.network_sim import travel_time_days
from hydro.units import discharge_to_volume

__all__ = [
    "GaugeLevels",
    "gauge_levels",
    "evaluate",
    "summary",
    "compare",
    "objective",
    "ObjectiveWeights",
    "SearchResult",
    "search",
    "release_from",
    "release_response",
    "reservoir_effects",
    "drawdown_check",
]

NAT: Final = np.datetime64("NaT", "ns")


@dataclass(frozen=True)
class GaugeLevels:
    """Warning levels of a gauge for evaluation, cm above gauge zero (NaN: none in force).

    ``adverse`` is the lowest adverse level (RU НЯ) and ``dangerous`` the lowest dangerous
    level of any scheme (KZ ОУ, RU ОЯ); ``provisional`` when any of them is not published.
    """

    adverse: float
    dangerous: float
    provisional: bool


def gauge_levels(thresholds: Iterable[Any], gauges: Iterable[str], day: dt.date
                 ) -> dict[str, GaugeLevels]:
    """The evaluation levels of ``gauges`` in force on ``day`` from config thresholds
    (:class:`hydro.config.Threshold`); impact marks are ignored."""
    out = {}
    ths = list(thresholds)
    for g in gauges:
        mine = [t for t in ths if t.station == g and t.valid_on(day)
                and t.scheme != "local_impact" and t.level != "impact"]
        adv = [t for t in mine if t.level == "adverse"]
        dan = [t for t in mine if t.level == "dangerous"]
        used = adv + dan
        out[g] = GaugeLevels(
            min((t.value.to("stage") for t in adv), default=float("nan")),
            min((t.value.to("stage") for t in dan), default=float("nan")),
            any(t.status != "published" for t in used))
    return out


def _first_time(mask: xr.DataArray) -> xr.DataArray:
    """First time where ``mask`` (…, time) is true; NaT where never."""
    hit = mask.any("time")
    idx = mask.argmax("time")
    times = mask["time"].values[idx.values]
    return xr.DataArray(np.where(hit.values, times, NAT), dims=hit.dims, coords=hit.coords)


def _month_day_mask(time: pd.DatetimeIndex, start: str, end: str) -> np.ndarray:
    md = time.strftime("%m-%d")
    if start <= end:
        return np.asarray((md >= start) & (md <= end))
    return np.asarray((md >= start) | (md <= end))


def evaluate(ds: xr.Dataset, levels: Mapping[str, GaugeLevels], *,
             gauges: Sequence[str] | None = None, borders: Sequence[str] | None = None,
             spawning: tuple[str, str, str] | None = None) -> xr.Dataset:
    """Evaluate a simulated season per member.

    Parameters
    ----------
    ds : Dataset of :func:`hydro.network_sim.simulate`
    levels : gauge id -> :class:`GaugeLevels`
    gauges : gauges to evaluate (default: every gauge in ``levels`` present in ``ds``)
    borders : border nodes (default: every node of kind ``border`` in ``ds``)
    spawning : (node, start "MM-DD", end "MM-DD"), inclusive, optional

    Returns
    -------
    xarray.Dataset
        On (member, gauge): ``peak_stage`` (cm), ``peak_time``, ``peak_discharge``
        (m3 s-1), ``first_adverse`` and ``first_dangerous`` (first day at or over the level,
        NaT if never), ``days_over_adverse``, ``days_over_dangerous`` (days; NaN at a
        gauge without that level: no Kazakh gauge has an adverse level), ``adverse``/
        ``dangerous`` levels (cm, on gauge) and, when the run marks ice,
        ``peak_ice_affected``.  On (member, reservoir):
        ``spill_volume`` (hm3), ``end_storage`` (hm3), ``end_level`` and ``max_level`` (m),
        ``holdout`` (hm3, inflow minus outflow over the season).  On (member, border):
        ``border_volume`` (hm3).  On member: ``spawning_volume`` (hm3, NaN without a window).
    """
    dt_days = float(ds.attrs.get("time_step_days", 1.0))
    g_all = [g for g in (gauges if gauges is not None else list(levels))
             if g in ds["node"].values]
    missing = [g for g in g_all if g not in levels]
    if missing:
        raise ValueError(f"no warning levels given for gauge '{missing[0]}'")
    st = ds["stage"].sel(node=g_all).rename(node="gauge")
    q = ds["outflow"].sel(node=g_all).rename(node="gauge")
    adverse = xr.DataArray([levels[g].adverse for g in g_all], dims="gauge",
                           coords={"gauge": g_all}, attrs={"units": "cm"})
    dangerous = xr.DataArray([levels[g].dangerous for g in g_all], dims="gauge",
                             coords={"gauge": g_all}, attrs={"units": "cm"})
    over_a = st >= adverse
    over_d = st >= dangerous
    peak_idx = st.fillna(-np.inf).argmax("time")
    out = xr.Dataset(coords={"member": ds["member"], "gauge": g_all})
    out["peak_stage"] = st.max("time").assign_attrs(units="cm", long_name="peak stage")
    out["peak_time"] = (("member", "gauge"), ds["time"].values[peak_idx.values])
    out["peak_discharge"] = q.max("time").assign_attrs(units="m3 s-1")
    out["first_adverse"] = _first_time(over_a)
    out["first_dangerous"] = _first_time(over_d)
    # NaN, not 0, where the gauge has no such level (the Kazakh scheme has no adverse one)
    out["days_over_adverse"] = (over_a.sum("time") * dt_days).where(np.isfinite(adverse)
                                                                    ).assign_attrs(units="d")
    out["days_over_dangerous"] = (over_d.sum("time") * dt_days).where(np.isfinite(dangerous)
                                                                      ).assign_attrs(units="d")
    out["adverse"] = adverse
    out["dangerous"] = dangerous
    out["provisional"] = ("gauge", [levels[g].provisional for g in g_all])
    if "ice_affected" in ds:
        ice = ds["ice_affected"].sel(node=g_all).rename(node="gauge").values
        out["peak_ice_affected"] = (("member", "gauge"), np.take_along_axis(
            ice, peak_idx.values[..., None], axis=-1)[..., 0])
        out["peak_ice_affected"].attrs["long_name"] = "the peak stage is ice-affected"

    res = list(ds["reservoir"].values)
    if res:
        inflow_r = ds["reservoir_inflow"]
        outflow_r = ds["outflow"].sel(node=res).rename(node="reservoir")
        out["spill_volume"] = discharge_to_volume(ds["spill"], dt_days).sum("time").assign_attrs(
            units="hm3")
        out["end_storage"] = ds["volume"].isel(time=-1, drop=True).assign_attrs(units="hm3")
        out["end_level"] = ds["level"].isel(time=-1, drop=True).assign_attrs(units="m")
        out["max_level"] = ds["level"].max("time").assign_attrs(units="m")
        out["holdout"] = discharge_to_volume(inflow_r - outflow_r, dt_days).sum(
            "time").assign_attrs(units="hm3", long_name="inflow minus outflow over the season")
    b_all = list(borders) if borders is not None else [
        str(n) for n, k in zip(ds["node"].values, ds["kind"].values, strict=True) if k == "border"]
    if b_all:
        out["border_volume"] = discharge_to_volume(
            ds["outflow"].sel(node=b_all).rename(node="border"), dt_days).sum("time").assign_attrs(
            units="hm3", long_name="volume delivered across the border")
    if spawning is not None:
        node, start, end = spawning
        mask = _month_day_mask(pd.DatetimeIndex(ds["time"].values), start, end)
        out["spawning_volume"] = discharge_to_volume(
            ds["outflow"].sel(node=node).isel(time=np.flatnonzero(mask)), dt_days
        ).sum("time").assign_attrs(units="hm3", long_name=f"volume past {node} {start}..{end}")
        out.attrs["spawning"] = f"{node} {start}..{end}"
    else:
        out["spawning_volume"] = ("member", np.full(ds.sizes["member"], np.nan))
    out.attrs.update({k: v for k, v in ds.attrs.items()
                      if k in ("scenario", "synthetic", "comment")})
    return out


def _fmt_day(t: Any) -> str:
    return "" if pd.isna(t) else str(pd.Timestamp(t).date())


def summary(ev: xr.Dataset, quantiles: Sequence[float] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
    """The ensemble in one table: one row per (quantity, site), columns ``mean`` and the
    quantiles, and for gauges ``p_adverse``/``p_dangerous`` (share of members reaching the
    level; NaN where the gauge has no such level) and the median first day over it; the
    ``days_over_*`` rows of a gauge without that level are NaN with ``note`` "no adverse
    level" / "no dangerous level" (never 0 days: nothing was measured against)."""
    rows = []

    def add(name: str, site: str, values: np.ndarray, unit: str, **extra: Any) -> None:
        v = np.asarray(values, dtype=float)
        row = {"quantity": name, "site": site, "unit": unit,
               "mean": float(np.nanmean(v)) if np.isfinite(v).any() else np.nan}
        for qq in quantiles:
            row[f"q{int(round(qq * 100)):02d}"] = (float(np.nanquantile(v, qq))
                                                  if np.isfinite(v).any() else np.nan)
        row.update(extra)
        rows.append(row)

    for g in ev["gauge"].values:
        e = ev.sel(gauge=g)
        fa = pd.to_datetime(e["first_adverse"].values)
        fd = pd.to_datetime(e["first_dangerous"].values)
        has_a = bool(np.isfinite(float(e["adverse"])))
        has_d = bool(np.isfinite(float(e["dangerous"])))
        add("peak_stage", g, e["peak_stage"].values, "cm",
            p_adverse=float(np.mean(fa.notna())) if has_a else np.nan,
            p_dangerous=float(np.mean(fd.notna())) if has_d else np.nan,
            first_dangerous_median=_fmt_day(fd.dropna().sort_values()[len(fd.dropna()) // 2])
            if len(fd.dropna()) else "")
        add("peak_discharge", g, e["peak_discharge"].values, "m3 s-1")
        add("days_over_adverse", g, e["days_over_adverse"].values, "d",
            **({} if has_a else {"note": "no adverse level"}))
        add("days_over_dangerous", g, e["days_over_dangerous"].values, "d",
            **({} if has_d else {"note": "no dangerous level"}))
    if "reservoir" in ev.dims:
        for r in ev["reservoir"].values:
            e = ev.sel(reservoir=r)
            add("spill_volume", r, e["spill_volume"].values, "hm3")
            add("end_storage", r, e["end_storage"].values, "hm3")
            add("max_level", r, e["max_level"].values, "m")
            add("holdout", r, e["holdout"].values, "hm3")
    if "border" in ev.dims:
        for b in ev["border"].values:
            add("border_volume", b, ev["border_volume"].sel(border=b).values, "hm3")
    if "spawning" in ev.attrs:
        add("spawning_volume", ev.attrs["spawning"], ev["spawning_volume"].values, "hm3")
    return pd.DataFrame(rows)


def compare(ev_a: xr.Dataset, ev_b: xr.Dataset, names: tuple[str, str] = ("A", "B"),
            statistic: str = "q50") -> pd.DataFrame:
    """Two schedules side by side: ``statistic`` (``mean`` or a quantile column of
    :func:`summary`) of every quantity under each, and the difference ``B − A``; for gauges
    also the probability of reaching the dangerous level under each."""
    a, b = summary(ev_a), summary(ev_b)
    key = ["quantity", "site", "unit"]
    m = a[key + [statistic]].merge(b[key + [statistic]], on=key, suffixes=("_a", "_b"))
    m = m.rename(columns={f"{statistic}_a": names[0], f"{statistic}_b": names[1]})
    m[f"{names[1]} − {names[0]}"] = m[names[1]] - m[names[0]]
    if "p_dangerous" in a:
        pd_a = a.set_index(key)["p_dangerous"]
        pd_b = b.set_index(key)["p_dangerous"]
        m[f"p_dangerous {names[0]}"] = pd_a.reindex(pd.MultiIndex.from_frame(m[key])).to_numpy()
        m[f"p_dangerous {names[1]}"] = pd_b.reindex(pd.MultiIndex.from_frame(m[key])).to_numpy()
    m.attrs["statistic"] = statistic
    return m


# =========================================================================== search

@dataclass(frozen=True)
class ObjectiveWeights:
    """Weights of :func:`objective` (documented, not tuned per run).

    excess_per_m : per metre of peak stage above the dangerous level (mean over members)
    dangerous_day : per day at or over the dangerous level
    adverse_day : per day at or over the adverse level
    peak_per_m : per metre of peak stage (breaks ties once no level is reached)
    storage_penalty : per unit of relative shortfall of end-of-season storage
    """

    excess_per_m: float = 1.0
    dangerous_day: float = 0.1
    adverse_day: float = 0.01
    peak_per_m: float = 0.001
    storage_penalty: float = 1000.0


def objective(ev: xr.Dataset, gauges: Sequence[str], reservoir: str, storage_target_hm3: float,
              probability: float, weights: ObjectiveWeights = ObjectiveWeights(),
              groups: int = 1, gauge_weights: Sequence[float] | None = None) -> np.ndarray:
    """Downstream exceedance of a schedule, to minimise, with the storage constraint as a
    penalty.

    ``J = Σ_g W_g mean_m [w_e·max(0, h_peak − h_dangerous)/100 + w_d·days_over_dangerous
    + w_a·days_over_adverse + w_p·h_peak/100] + w_s·max(0, S* − S_q)/S*``

    with ``W_g`` the weight of gauge ``g`` (``gauge_weights``, default 1); the terms of a
    level the gauge does not have (a Kazakh gauge has no adverse level) are zero.

    where ``S_q`` is the ``1 − probability`` quantile of end-of-season storage over the
    members (``probability`` of them end at or above the target ``S*``).  A schedule is
    feasible when the penalty is zero.

    Parameters
    ----------
    ev : Dataset of :func:`evaluate`
    gauges, reservoir : where exceedance counts and whose storage is constrained
    storage_target_hm3 : target end-of-season storage, hm³
    probability : share of members that must meet it
    groups : the members hold ``groups`` candidate schedules one after the other
        (member index = candidate · M + member); one value is returned per candidate

    Returns
    -------
    numpy.ndarray (groups,)
    """
    w = weights
    e = ev.sel(gauge=list(gauges))
    peak = e["peak_stage"].values                                       # (member, gauge)
    excess = np.nan_to_num(np.maximum(peak - e["dangerous"].values, 0.0) / 100.0)
    term = (w.excess_per_m * excess
            + w.dangerous_day * np.nan_to_num(e["days_over_dangerous"].values)
            + w.adverse_day * np.nan_to_num(e["days_over_adverse"].values)
            + w.peak_per_m * np.nan_to_num(peak) / 100.0)
    gw = np.ones(len(gauges)) if gauge_weights is None else np.asarray(gauge_weights, float)
    if gw.shape != (len(gauges),):
        raise ValueError(f"gauge_weights needs one weight per gauge ({len(gauges)})")
    n = term.shape[0] // groups
    per = (term.reshape(groups, n, -1).mean(axis=1) * gw).sum(axis=1)
    storage = ev["end_storage"].sel(reservoir=reservoir).values.reshape(groups, n)
    s_q = np.quantile(storage, 1.0 - probability, axis=1)
    shortfall = np.maximum(storage_target_hm3 - s_q, 0.0) / storage_target_hm3
    return per + w.storage_penalty * shortfall


@dataclass(frozen=True)
class SearchResult:
    """Result of :func:`search`.

    Attributes
    ----------
    x : best parameter vector found
    value : its objective
    start_values : objective of each start vector (the documented schedules)
    evaluations : schedules evaluated
    generations : generations of differential evolution
    feasible : whether the best meets the storage constraint (penalty zero)
    """

    x: np.ndarray
    value: float
    start_values: np.ndarray
    evaluations: int
    generations: int
    feasible: bool


def search(batch_objective: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
           bounds: Sequence[tuple[float, float]], starts: Sequence[ArrayLike], *,
           seed: int, maxiter: int = 30, popsize: int = 8,
           integrality: Sequence[bool] | None = None) -> SearchResult:
    """Search a parametrised schedule family by differential evolution.

    Parameters
    ----------
    batch_objective : callable
        ``f(X)`` with ``X`` (K, p) candidate parameter vectors returns ``(J, penalty)``,
        two arrays (K,): the objective and its storage-penalty part.  Candidates are
        simulated together (as extra ensemble members), so a generation is one run.
    bounds : (lower, upper) per parameter
    starts : documented parameter vectors; the first seeds the population (so the result
        is never worse than it) and all are reported
    seed, maxiter, popsize : of :func:`scipy.optimize.differential_evolution`
    integrality : parameters restricted to whole numbers (dates as day numbers)

    Returns
    -------
    SearchResult

    Notes
    -----
    Storn, R. & Price, K. (1997), Differential evolution – a simple and efficient heuristic
    for global optimization over continuous spaces, *J. Global Optim.* 11, 341–359;
    scipy's implementation with ``vectorized=True`` (deferred updating), no gradient
    polishing (the objective is piecewise constant in the dates).
    """
    from scipy.optimize import differential_evolution

    starts_arr = np.atleast_2d(np.asarray(starts, dtype=float))
    count = {"n": 0}
    cache: dict[bytes, tuple[float, float]] = {}

    def f(x: np.ndarray) -> np.ndarray | float:
        cand = np.atleast_2d(x.T) if x.ndim == 2 else x[None, :]
        count["n"] += len(cand)
        j, pen = batch_objective(cand)
        for c, jj, pp in zip(cand, j, pen, strict=True):
            cache[c.tobytes()] = (float(jj), float(pp))
        return np.asarray(j, dtype=float) if x.ndim == 2 else float(j[0])

    start_j, _ = batch_objective(starts_arr)
    count["n"] += len(starts_arr)
    res = differential_evolution(
        f, list(bounds), x0=starts_arr[0], seed=seed, maxiter=maxiter, popsize=popsize,
        polish=False, vectorized=True, updating="deferred", tol=0.0, atol=0.0,
        integrality=None if integrality is None else list(integrality))
    x = np.asarray(res.x, dtype=float)
    value = float(res.fun)
    best_start = int(np.argmin(start_j))
    if start_j[best_start] < value:  # a documented schedule outside the seeded one
        x, value = starts_arr[best_start], float(start_j[best_start])
    pen = cache.get(x.tobytes())
    if pen is None:
        _, p = batch_objective(x[None, :])
        pen_v = float(p[0])
    else:
        pen_v = pen[1]
    return SearchResult(x, value, np.asarray(start_j, dtype=float), count["n"],
                        int(res.nit), pen_v == 0.0)


# =========================================================================== questions

def release_from(base_release_m3s: ArrayLike, release_m3s: float, day_index: int) -> np.ndarray:
    """A release series that follows ``base_release_m3s`` (…, T) before step ``day_index``
    and is ``release_m3s`` from it on."""
    base = np.array(base_release_m3s, dtype=float)
    if not 0 <= day_index < base.shape[-1]:
        raise ValueError(f"day {day_index} is outside the season of {base.shape[-1]} days")
    base[..., day_index:] = release_m3s
    return base


def release_response(ds_base: xr.Dataset, ds_new: xr.Dataset, network: Network,
                     levels: Mapping[str, GaugeLevels], reservoir: str,
                     gauges: Sequence[str], from_time: Any, thresholds: Iterable[Any] = (),
                     member: int = 0) -> pd.DataFrame:
    """What a release change does at the gauges downstream, and when.

    Parameters
    ----------
    ds_base, ds_new : runs without and with the change (same members and dates)
    network : Network (for the nominal travel times)
    levels : warning levels per gauge
    reservoir : the reservoir whose release changes
    gauges : gauges to report, downstream of ``reservoir``
    from_time : date the new release starts
    thresholds : config thresholds, to classify the peak with :func:`hydro.warning.classify_stage`
    member : member to report (0 = the control)

    Returns
    -------
    pandas.DataFrame
        One row per gauge: nominal travel time (sum of Muskingum K and lags, d), the first
        day the stage changes by ≥ 1 cm (arrival), peak stage and its day with and without
        the change, first days at or over the adverse and dangerous levels, margins to
        the levels at the peak (cm; negative = over) and the warning category at the peak.
    """
    from hydro.warning import classify_stage

    t0 = pd.Timestamp(from_time)
    ths = list(thresholds)
    rows = []
    for g in gauges:
        sb = ds_base["stage"].sel(node=g, member=member).to_series()
        sn = ds_new["stage"].sel(node=g, member=member).to_series()
        diff = (sn - sb).loc[t0:]
        moved = diff[abs(diff) >= 1.0]
        lv = levels[g]
        peak_t = sn.idxmax()
        assert isinstance(peak_t, pd.Timestamp)  # the stage is indexed by the season's times
        cat = classify_stage(float(sn.max()), [t for t in ths if t.station == g], peak_t.date())
        over_a = sn[sn >= lv.adverse] if np.isfinite(lv.adverse) else sn.iloc[:0]
        over_d = sn[sn >= lv.dangerous] if np.isfinite(lv.dangerous) else sn.iloc[:0]
        rows.append({
            "gauge": g,
            "name": network.node(g).names.en,
            "travel_time_d": travel_time_days(network, reservoir, g),
            "arrival": _fmt_day(moved.index[0]) if len(moved) else "",
            "peak_stage_cm": round(float(sn.max()), 1),
            "peak_day": _fmt_day(peak_t),
            "peak_stage_base_cm": round(float(sb.max()), 1),
            "peak_change_cm": round(float(sn.max() - sb.max()), 1),
            "first_adverse": _fmt_day(over_a.index[0]) if len(over_a) else "",
            "first_dangerous": _fmt_day(over_d.index[0]) if len(over_d) else "",
            "adverse_cm": lv.adverse,
            "dangerous_cm": lv.dangerous,
            "margin_to_dangerous_cm": round(float(lv.dangerous - sn.max()), 1)
            if np.isfinite(lv.dangerous) else np.nan,
            "category_at_peak": cat.status.value,
            "provisional": cat.provisional or lv.provisional,
        })
    return pd.DataFrame(rows)


def reservoir_effects(regulated: xr.Dataset, unregulated: xr.Dataset,
                      without: Mapping[str, xr.Dataset], network: Network,
                      gauges: Sequence[str], member: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How much each reservoir raised or lowered the peaks downstream.

    Parameters
    ----------
    regulated : the season under the schedules
    unregulated : the same season with every reservoir passing its inflow
    without : reservoir id -> the season with only that reservoir passing its inflow
    network : Network
    gauges : gauges to report
    member : member to report

    Returns
    -------
    (peaks, effects) : two DataFrames
        ``peaks``: per gauge, regulated and unregulated peak discharge (m³/s) and stage
        (cm) and their difference.  ``effects``: per reservoir and downstream gauge, the
        reservoir's holdout (inflow − outflow, hm³, over the season and up to the
        regulated peak at the gauge), the peak with and without the reservoir and the
        change it made (m³/s, cm; negative = it lowered the peak), and whether the gauge
        lies in another country than the reservoir (``across_border``).
    """
    dt_days = float(regulated.attrs.get("time_step_days", 1.0))
    peaks = []
    for g in gauges:
        qr = regulated["outflow"].sel(node=g, member=member)
        qu = unregulated["outflow"].sel(node=g, member=member)
        hr = regulated["stage"].sel(node=g, member=member)
        hu = unregulated["stage"].sel(node=g, member=member)
        peaks.append({
            "gauge": g, "name": network.node(g).names.en, "country": network.node(g).country,
            "peak_regulated_m3s": float(qr.max()), "peak_unregulated_m3s": float(qu.max()),
            "change_m3s": float(qr.max() - qu.max()),
            "peak_stage_regulated_cm": float(hr.max()),
            "peak_stage_unregulated_cm": float(hu.max()),
            "change_cm": float(hr.max() - hu.max()),
            "peak_day_regulated": _fmt_day(qr.idxmax("time").values),
            "peak_day_unregulated": _fmt_day(qu.idxmax("time").values),
        })
    effects = []
    for rid, ds_wo in without.items():
        q_in = regulated["reservoir_inflow"].sel(reservoir=rid, member=member)
        q_out = regulated["outflow"].sel(node=rid, member=member)
        hold = discharge_to_volume(q_in - q_out, dt_days)
        downstream = {r.downstream for r in _path(network, rid)}
        for g in gauges:
            if g not in downstream:
                continue
            qr = regulated["outflow"].sel(node=g, member=member)
            qw = ds_wo["outflow"].sel(node=g, member=member)
            hr = regulated["stage"].sel(node=g, member=member)
            hw = ds_wo["stage"].sel(node=g, member=member)
            t_peak = qr.idxmax("time").values
            effects.append({
                "reservoir": rid, "reservoir_country": network.node(rid).country,
                "gauge": g, "gauge_country": network.node(g).country,
                "across_border": network.node(rid).country != network.node(g).country,
                "holdout_season_hm3": float(hold.sum()),
                "holdout_to_peak_hm3": float(hold.sel(time=slice(None, t_peak)).sum()),
                "peak_with_m3s": float(qr.max()), "peak_without_m3s": float(qw.max()),
                "change_m3s": float(qr.max() - qw.max()),
                "peak_stage_with_cm": float(hr.max()), "peak_stage_without_cm": float(hw.max()),
                "change_cm": float(hr.max() - hw.max()),
            })
    return pd.DataFrame(peaks), pd.DataFrame(effects)


def _path(network: Network, node: str) -> list[Any]:
    from hydro.network_sim import downstream_path

    return downstream_path(network, node)


def drawdown_check(ds: xr.Dataset, network: Network, reservoir: str, flood_start: Any,
                   probability: float = 0.9) -> dict[str, Any]:
    """Is the reservoir low enough at the start of the flood to absorb it under the rule?

    The season (an ensemble from the seasonal snow and soil outlook) was run under the
    current rule.  A member *absorbs* the flood when, from ``flood_start`` on, the level
    stays at or below НПУ and nothing spills.  The extra space a member needed is the
    largest volume above НПУ plus the spill volume; taking that much more water out before
    the flood would have kept it at НПУ (under the same later releases).

    Returns
    -------
    dict
        ``level_at_start_m`` and ``volume_at_start_hm3`` (median over members),
        ``p_absorbed`` (share of members that absorb), ``extra_space_hm3`` (the
        ``probability`` quantile of the extra space needed), ``required_level_m`` (level at
        the start that provides it: the start level lowered by that volume, not below
        УМО), ``free_to_npu_hm3`` (median), ``flood_volume_hm3`` (median inflow volume from
        the flood start), ``ok`` (``p_absorbed >= probability``).
    """
    res = network.reservoirs[reservoir]
    dt_days = float(ds.attrs.get("time_step_days", 1.0))
    t0 = pd.Timestamp(flood_start)
    times = pd.DatetimeIndex(ds["time"].values)
    if not times[0] <= t0 <= times[-1]:
        raise ValueError(f"flood start {t0.date()} is outside the season "
                         f"{times[0].date()}..{times[-1].date()}")
    k = int(times.get_indexer(pd.DatetimeIndex([t0]))[0])
    vol = ds["volume"].sel(reservoir=reservoir).values                 # (M, T) end of step
    v_start = ds["initial_volume"].sel(reservoir=reservoir).values if k == 0 else vol[:, k - 1]
    after = vol[:, k:]
    spill = discharge_to_volume(ds["spill"].sel(reservoir=reservoir).values[:, k:],
                                dt_days).sum(axis=1)
    v_npu = res.npu_volume_hm3
    extra = np.maximum(after.max(axis=1) - v_npu, 0.0) + spill
    absorbed = (extra <= 1e-9)
    need = float(np.quantile(extra, probability))
    target_v = max(float(np.median(v_start)) - need, res.dead_volume_hm3)
    inflow = ds["reservoir_inflow"].sel(reservoir=reservoir).values[:, k:]
    return {
        "reservoir": reservoir,
        "flood_start": str(t0.date()),
        "level_at_start_m": float(res.storage_table.level_at(np.median(v_start))),
        "volume_at_start_hm3": float(np.median(v_start)),
        "free_to_npu_hm3": float(np.median(v_npu - v_start)),
        "flood_volume_hm3": float(np.median(discharge_to_volume(inflow, dt_days).sum(axis=1))),
        "p_absorbed": float(absorbed.mean()),
        "extra_space_hm3": need,
        "required_level_m": float(res.storage_table.level_at(target_v)),
        "required_volume_hm3": target_v,
        "dead_storage_reached": bool(target_v <= res.dead_volume_hm3 + 1e-9),
        "probability": probability,
        "ok": bool(absorbed.mean() >= probability),
        "members": int(vol.shape[0]),
    }
