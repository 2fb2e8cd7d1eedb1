"""Process-model ensemble forecasts of the daily discharge, 1-10 days ahead (pure functions).

The snowmelt–runoff model of the scenario engine (:mod:`hydro.snowmelt`, parameters
calibrated in ``config/scenarios/_model.toml``) and its network routing
(:func:`hydro.network_sim.simulate`) run from the state at the issue date into the next
days, once per ensemble member; the members differ in their weather only.  No file,
database or clock access: the caller (:mod:`hydro.services.process_forecast`) reads the
forcing, the observed discharge and the reservoirs' operations.

State at the issue date
    The snowmelt model runs over the whole forcing record up to the issue date (the first
    years are its spin-up, as in :func:`hydro.scenarios.season_climatology`): its snow,
    frost and soil stores at the end of the issue date are every member's start.  The
    network is routed over a *warm-up window* of :data:`WARM_UP_DAYS` days before the
    issue date (the lateral inflows of the model run, the same for every member), so the
    water travelling in the reaches at the issue date is there; the reservoirs release
    what they were observed to release during the window (``release_m3s`` of
    :func:`route_window`) and start it at a volume chosen so that they reach their
    observed volume at the issue date (:func:`initial_volume_for`).

Weather of the members (Day 1985's ensemble streamflow prediction)
    Member ``m`` takes the daily temperature and precipitation of the same calendar days
    of a historical year before the issue year (the years are cycled through in a seeded
    random order, so each is used about equally), shifted by a temperature offset drawn
    from N(0, ``temp_sd_c``) and scaled by a precipitation factor (lognormal, mean 1, CV
    ``precip_cv``) — the forecast weather is not known, and a draw of 40 members from 14
    years would otherwise repeat members.  The seed is the issue date's (:func:`issue_seed`),
    so a forecast is reproducible.

Nudging (:func:`nudge`)
    The model's routed discharge at a gauge on the issue date rarely equals the observed
    one.  Each member's forecast is multiplied by ``r^{exp(−lead/τ)}``, with ``r`` the
    ratio of the observed to the simulated discharge on the issue date (clipped to
    [1/:data:`MAX_RATIO`, :data:`MAX_RATIO`]) and τ ``memory_days``: the members start
    from the observed discharge and the correction fades with the lead.  Each gauge is
    nudged on its own, so the nudged forecasts of two gauges no longer add up along the
    river; the raw (routed) members, which conserve mass, are kept
    (:attr:`ProcessForecast.raw`).

Units: discharge m³/s, temperature °C, precipitation mm/day, volumes hm³, time steps of
one day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike

from hydro import network_sim, snowmelt
from hydro.network import Network
from hydro.reservoirs import DailyRelease
from hydro.scenarios import (
    HistoricalForcing,
    ModelFile,
    area_nodes,
    autumn_wetness,
    evaporation_climatology,
    local_area,
    node_forcing,
    quick_flow_times,
    winter_snowiness,
)
from hydro.units import discharge_to_volume, runoff_depth_to_discharge

__all__ = ["WARM_UP_DAYS", "DEFAULT_MEMBERS", "MAX_RATIO", "WeatherDraw", "ModelState",
           "ProcessForecast", "issue_seed", "draw_weather", "spin_up", "member_lateral",
           "route_window", "initial_volume_for", "nudge", "quantiles", "forecast",
           "forecast_from_lateral", "routed_volume_hm3"]

#: days of routing before the issue date (longer than the travel time from the headwaters
#: to the outlets, so the water in transit at the issue date is the model's)
WARM_UP_DAYS: Final = 45
#: members of an ensemble by default
DEFAULT_MEMBERS: Final = 40
#: bound on the nudging ratio (observed / simulated on the issue date)
MAX_RATIO: Final = 5.0
#: e-folding lead time of the nudging, days
NUDGE_MEMORY_DAYS: Final = 20.0
#: standard deviation of a member's temperature offset, °C
TEMP_SD_C: Final = 1.0
#: coefficient of variation of a member's precipitation factor
PRECIP_CV: Final = 0.25


def issue_seed(issue: Any) -> int:
    """The seed of the members of a forecast issued on ``issue`` (date-like): YYYYMMDD."""
    d = pd.Timestamp(issue)
    return d.year * 10000 + d.month * 100 + d.day


@dataclass(frozen=True)
class WeatherDraw:
    """Each member's weather: ``years`` (M,) the historical year whose days it takes,
    ``temp_offset_c`` (M,) °C added to its temperature, ``precip_factor`` (M,) its
    precipitation multiplier."""

    years: np.ndarray
    temp_offset_c: np.ndarray
    precip_factor: np.ndarray

    @property
    def members(self) -> int:
        return int(self.years.shape[0])


def draw_weather(years: Sequence[int], members: int, seed: int, *,
                 temp_sd_c: float = TEMP_SD_C, precip_cv: float = PRECIP_CV) -> WeatherDraw:
    """Draw ``members`` members' weather from the historical ``years`` with ``seed``.

    The years are cycled through in seeded random orders (each used ``members // len``
    or one more times); the temperature offsets are N(0, ``temp_sd_c``), the precipitation
    factors lognormal with mean 1 and CV ``precip_cv`` (0: none).
    """
    pool = np.array(sorted(set(int(y) for y in years)), dtype=int)
    if pool.size == 0:
        raise ValueError("no historical year to draw the members' weather from")
    if members < 1:
        raise ValueError(f"an ensemble needs at least one member, got {members}")
    rng = np.random.default_rng(seed)
    cycles = -(-members // pool.size)
    order = np.concatenate([rng.permutation(pool) for _ in range(cycles)])[:members]
    offset = rng.normal(0.0, temp_sd_c, members) if temp_sd_c > 0 else np.zeros(members)
    if precip_cv > 0:
        s = math.sqrt(math.log1p(precip_cv ** 2))
        factor = np.exp(rng.normal(-0.5 * s * s, s, members))
    else:
        factor = np.ones(members)
    return WeatherDraw(order, offset, factor)


# --------------------------------------------------------------------------- the model

@dataclass(frozen=True)
class ModelState:
    """The snowmelt model over a forcing record, for the nodes with a local catchment of
    some basins: what a forecast from any date of the record needs.

    Attributes
    ----------
    nodes : node ids (N); ``areas_km2`` (N,) their draining areas, km²
    dates : DatetimeIndex (D,) of the forcing
    temp_c, precip_mm : arrays (N, D), the node forcing (°C with the basin's
        ``temp_offset``; mm/day)
    wetness, snowiness : arrays (N, D), per step
    params : :class:`hydro.snowmelt.SnowParameters` of the nodes
    lateral_m3s : array (N, D), the model's lateral inflow over the record, m³/s
    states : mapping date index -> :class:`hydro.snowmelt.SnowState` (N,) at the end of
        that day
    """

    nodes: tuple[str, ...]
    basins: tuple[str, ...]
    areas_km2: np.ndarray
    dates: pd.DatetimeIndex
    temp_c: np.ndarray
    precip_mm: np.ndarray
    wetness: np.ndarray
    snowiness: np.ndarray
    params: snowmelt.SnowParameters
    lateral_m3s: np.ndarray
    states: Mapping[int, snowmelt.SnowState]

    def index(self, day: Any) -> int:
        """Position of the local date ``day`` in the record (KeyError when not in it)."""
        i = self.dates.get_indexer(pd.DatetimeIndex([pd.Timestamp(day).normalize()]))[0]
        if i < 0:
            raise KeyError(f"{pd.Timestamp(day).date()} is not in the forcing record "
                           f"({self.dates[0].date()} to {self.dates[-1].date()})")
        return int(i)

    def years_before(self, issue_index: int, horizon: int) -> list[int]:
        """The years before the issue's whose same calendar days (issue + 1 .. + horizon)
        the record holds: the pool of the members' weather."""
        issue = self.dates[issue_index]
        out = []
        for y in sorted(set(self.dates.year)):
            if y >= issue.year:
                continue
            i = _same_day(self.dates, issue, y)
            if i is not None and i + horizon < len(self.dates):
                out.append(int(y))
        return out


def _same_day(dates: pd.DatetimeIndex, day: pd.Timestamp, year: int) -> int | None:
    d = (pd.Timestamp(year, day.month, 28) if (day.month, day.day) == (2, 29)
         else pd.Timestamp(year, day.month, day.day))
    i = dates.get_indexer(pd.DatetimeIndex([d]))[0]
    return None if i < 0 else int(i)


def spin_up(network: Network, basins: Sequence[str], forcing: HistoricalForcing,
            model: ModelFile, stops: Sequence[int]) -> ModelState:
    """Run the calibrated snowmelt model of ``basins`` over ``forcing`` and keep its state
    at the end of each day of ``stops`` (indices into ``forcing.dates``), as
    :func:`hydro.scenarios.season_climatology` sets it up (node temperatures with the
    lapse rate and the basin's ``temp_offset``, draining areas with its ``area_factor``,
    the autumn wetness and winter snowiness of each water year)."""
    from hydro.scenarios import _node_parameters

    nodes = area_nodes(network, basins)
    if not nodes:
        raise ValueError(f"no node with a local catchment in {', '.join(basins)}")
    node_basins = tuple(network.basin_of(n) for n in nodes)
    lapse = model.lapse_per_degree_latitude.to("temperature")
    temp, precip = node_forcing(network, nodes, forcing, lapse)
    areas = np.array([local_area(network, n) for n in nodes])
    params = _node_parameters(model, nodes, node_basins, areas)
    k_fixed = quick_flow_times(network, nodes)
    if np.isfinite(k_fixed).any():
        params = params.with_values(k_quick=np.where(np.isfinite(k_fixed), k_fixed,
                                                     np.asarray(params.k_quick, dtype=float)))
    temp = temp + np.array([model.parameters[b].temp_offset for b in node_basins])[:, None]
    effective = areas * np.array([model.parameters[b].area_factor for b in node_basins])
    first, last = model.calibration.calibration_years
    years = range(first, last + 1)
    wet = autumn_wetness(forcing.dates, precip, years)
    snowy = winter_snowiness(forcing.dates, precip, years)
    reset_f, reset_t = snowmelt.season_flags(forcing.dates)
    n_d = len(forcing.dates)
    ends = sorted({int(s) + 1 for s in stops if 0 <= int(s) < n_d})
    if not ends or ends[-1] < n_d:
        ends.append(ends[-1] if ends else n_d)
    runoff = np.zeros((len(nodes), n_d))
    states: dict[int, snowmelt.SnowState] = {}
    state = snowmelt.SnowState()
    prev = 0
    for e in ends:
        if e > prev:
            res = snowmelt.simulate(temp[:, prev:e], precip[:, prev:e], params, state,
                                    wetness=wet[:, prev:e], snowiness=snowy[:, prev:e],
                                    reset_frost=reset_f[prev:e], reset_thaw=reset_t[prev:e],
                                    diagnostics=False)
            runoff[:, prev:e] = res.runoff_mm
            state, prev = res.final, e
        states[e - 1] = state
    lateral = runoff_depth_to_discharge(runoff, effective[:, None])
    return ModelState(tuple(nodes), node_basins, effective, pd.DatetimeIndex(forcing.dates),
                      temp, precip, wet, snowy, params, np.asarray(lateral, dtype=float),
                      {k: v for k, v in states.items() if k + 1 in ends})


def member_lateral(state: ModelState, issue_index: int, horizon: int, draw: WeatherDraw
                   ) -> np.ndarray:
    """Lateral inflow (m³/s) of every node for each member, array (N, M, horizon): the
    snowmelt model from its state at the end of the issue date, under each member's
    weather (:class:`WeatherDraw`)."""
    if issue_index not in state.states:
        raise KeyError(f"no model state kept at index {issue_index}; pass it in spin_up's stops")
    issue = state.dates[issue_index]
    cols = []
    for y in draw.years:
        i = _same_day(state.dates, issue, int(y))
        if i is None or i + horizon >= len(state.dates):
            raise ValueError(f"the record does not hold {horizon} days after "
                             f"{issue:%m-%d} in {y}")
        cols.append(np.arange(i + 1, i + 1 + horizon))
    idx = np.array(cols)                                                          # (M, H)
    temp = state.temp_c[:, idx] + draw.temp_offset_c[None, :, None]              # (N, M, H)
    precip = state.precip_mm[:, idx] * draw.precip_factor[None, :, None]
    days = pd.date_range(issue + pd.Timedelta(days=1), periods=horizon, freq="D")
    reset_f, reset_t = snowmelt.season_flags(days.to_numpy())
    start = state.states[issue_index]
    n, m = len(state.nodes), draw.members

    def per_member(a: Any) -> np.ndarray:
        return np.broadcast_to(np.broadcast_to(np.asarray(a, dtype=float), (n,)),
                               (m, n)).copy()

    init = snowmelt.SnowState(**{k: per_member(getattr(start, k))
                                 for k in snowmelt.SnowState.__dataclass_fields__})
    res = snowmelt.simulate_time_first(
        np.transpose(temp, (2, 1, 0)), np.transpose(precip, (2, 1, 0)), state.params, init,
        wetness=state.wetness[:, issue_index][None, :],
        snowiness=state.snowiness[:, issue_index][None, :],
        reset_frost=reset_f, reset_thaw=reset_t, diagnostics=False)
    runoff = np.transpose(res.runoff_mm, (2, 1, 0))                               # (N, M, H)
    return np.asarray(runoff_depth_to_discharge(runoff, state.areas_km2[:, None, None]),
                      dtype=float)


# --------------------------------------------------------------------------- routing

def route_window(network: Network, basins: Sequence[str], lateral: Mapping[str, ArrayLike],
                 start: Any, *, release_m3s: Mapping[str, ArrayLike] | None = None,
                 initial_volume_hm3: Mapping[str, float] | None = None,
                 initial_release_m3s: Mapping[str, float] | None = None,
                 n_steps: int | None = None, evaporation: bool = True) -> xr.Dataset:
    """Route lateral inflows through the network of ``basins`` from ``start``.

    Parameters
    ----------
    lateral : node id -> array (T,) or (members, T), m³/s
    release_m3s : reservoir id -> requested release (T,) or (members, T), m³/s (a
        :class:`hydro.reservoirs.DailyRelease`; NaN days pass the inflow on); a
        reservoir not given passes its inflow (:class:`hydro.network_sim.PassInflow`)
    initial_volume_hm3, initial_release_m3s : reservoir id -> start volume (hm³) and the
        release of the day before (m³/s)
    evaporation : open-water evaporation from the reservoirs
        (:func:`hydro.scenarios.evaporation_climatology`)

    Returns
    -------
    The :func:`hydro.network_sim.simulate` Dataset (member, node, time).
    """
    nodes = network_sim.select_nodes(network, basins)
    lat = {k: np.asarray(v, dtype=float) for k, v in lateral.items() if k in set(nodes)}
    steps = {np.shape(v)[-1] for v in lat.values()}
    n_t = n_steps if n_steps is not None else (steps.pop() if len(steps) == 1 else None)
    if n_t is None:
        raise ValueError("give n_steps, or lateral inflows of one length")
    time = pd.date_range(pd.Timestamp(start), periods=n_t, freq="D")
    schedules: dict[str, Any] = {}
    for r in (n for n in nodes if n in network.reservoirs):
        plan = None if release_m3s is None else release_m3s.get(r)
        if plan is None:
            schedules[r] = network_sim.PassInflow()
            continue
        schedules[r] = DailyRelease(np.asarray(plan, dtype=float))
    _fill_pass_days(network, nodes, lat, schedules, n_t)
    return network_sim.simulate(
        network, lat, start=time[0], schedules=schedules,
        initial_volume_hm3=dict(initial_volume_hm3 or {}),
        initial_release_m3s=dict(initial_release_m3s or {}),
        evaporation_mm_per_day=evaporation_climatology(time) if evaporation else None,
        basins=list(basins), n_steps=n_t)


def _fill_pass_days(network: Network, nodes: Sequence[str], lateral: Mapping[str, np.ndarray],
                    schedules: dict[str, Any], n_t: int) -> None:
    """A release with NaN days (no observation, no plan) cannot be honoured by
    :func:`hydro.reservoirs.operate`; such a reservoir's NaN days hold its last known
    release (its first known release before it), or it passes its inflow when it has none."""
    for r, s in list(schedules.items()):
        if not isinstance(s, DailyRelease):
            continue
        a = np.atleast_2d(np.asarray(s.release_m3s, dtype=float))
        if a.shape[-1] != n_t:
            raise ValueError(f"release of {r}: {a.shape[-1]} days, expected {n_t}")
        if np.isfinite(a).all():
            continue
        if not np.isfinite(a).any():
            schedules[r] = network_sim.PassInflow()
            continue
        filled = pd.DataFrame(a.T).ffill().bfill().to_numpy().T
        schedules[r] = DailyRelease(filled if np.ndim(s.release_m3s) == 2 else filled[0])


def initial_volume_for(ds_warm_up: xr.Dataset, observed_hm3: Mapping[str, float],
                       bounds: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """The start volume of each reservoir that brings it to its observed volume at the end
    of a warm-up run (the run's own start volume plus the difference, within
    ``bounds`` (dead, ФПУ volume), hm³)."""
    out = {}
    for r, v_obs in observed_hm3.items():
        if r not in ds_warm_up["reservoir"].values or not np.isfinite(v_obs):
            continue
        v0 = float(ds_warm_up["initial_volume"].sel(reservoir=r).isel(member=0))
        v1 = float(ds_warm_up["volume"].sel(reservoir=r).isel(member=0, time=-1))
        lo, hi = bounds[r]
        out[r] = float(np.clip(v0 + (v_obs - v1), lo, hi))
    return out


# --------------------------------------------------------------------------- members

def nudge(members: ArrayLike, simulated: float, observed: float,
          memory_days: float = NUDGE_MEMORY_DAYS, max_ratio: float = MAX_RATIO
          ) -> tuple[np.ndarray, float]:
    """Scale the members (M, H; leads 1..H) so that they start from ``observed``: by
    ``r^{exp(−lead/memory_days)}``, ``r = observed / simulated`` on the issue date
    clipped to [1/max_ratio, max_ratio] (1 when either is missing or not positive).
    Returns the nudged members and ``r``."""
    a = np.asarray(members, dtype=float)
    ok = (np.isfinite(simulated) and np.isfinite(observed) and simulated > 0
          and observed > 0)
    r = float(np.clip(observed / simulated, 1 / max_ratio, max_ratio)) if ok else 1.0
    lead = np.arange(1, a.shape[-1] + 1, dtype=float)
    w = np.exp(-lead / memory_days) if np.isfinite(memory_days) else np.ones_like(lead)
    return a * r ** w, r


def quantiles(members: ArrayLike, alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray,
                                                              np.ndarray]:
    """The median and the central ``1 − alpha`` band of members (M, H), each (H,)."""
    a = np.asarray(members, dtype=float)
    return (np.nanmedian(a, axis=0), np.nanquantile(a, alpha / 2, axis=0),
            np.nanquantile(a, 1 - alpha / 2, axis=0))


@dataclass(frozen=True)
class ProcessForecast:
    """An ensemble forecast of one issue.

    Attributes
    ----------
    issue : the issue date (local date of the last daily value)
    dates : DatetimeIndex (H,), the valid dates of leads 1..H
    raw : gauge -> array (M, H), the routed members, m³/s
    members : gauge -> array (M, H), the nudged members (:func:`nudge`), m³/s
    simulated_at_issue : gauge -> the model's discharge on the issue date, m³/s
    ratio : gauge -> the nudging ratio (1: not nudged)
    draw : the members' weather
    initial_volume_hm3 : reservoir -> start volume of the warm-up window, hm³
    reservoirs : reservoir id -> outflow members (M, H), m³/s
    run : the routed window (:func:`route_window`; its :func:`hydro.network_sim.mass_balance`
        closes)
    """

    issue: pd.Timestamp
    dates: pd.DatetimeIndex
    raw: dict[str, np.ndarray]
    members: dict[str, np.ndarray]
    simulated_at_issue: dict[str, float]
    ratio: dict[str, float]
    draw: WeatherDraw
    initial_volume_hm3: dict[str, float]
    reservoirs: dict[str, np.ndarray]
    run: xr.Dataset | None = None


def forecast(network: Network, state: ModelState, issue: Any, horizon: int, *,
             members: int = DEFAULT_MEMBERS, seed: int | None = None,
             basins: Sequence[str] | None = None,
             observed_discharge: Mapping[str, float] | None = None,
             observed_release: Mapping[str, ArrayLike] | None = None,
             observed_volume_hm3: Mapping[str, float] | None = None,
             planned_release: Mapping[str, ArrayLike] | None = None,
             warm_up_days: int = WARM_UP_DAYS,
             memory_days: float = NUDGE_MEMORY_DAYS) -> ProcessForecast:
    """The process-model ensemble forecast issued on ``issue`` (a local date of the record)
    for leads 1..``horizon`` days at every gauge of ``basins`` (default: the model's).

    Parameters
    ----------
    state : :func:`spin_up` with the issue date's index among its stops
    members, seed : ensemble size and seed (default :func:`issue_seed` of the issue)
    observed_discharge : gauge -> observed daily discharge on the issue date, m³/s (the
        members are nudged to it; a gauge without one is not)
    observed_release : reservoir -> observed outflow on each day of the warm-up window
        (``warm_up_days`` values ending on the issue date, NaN where missing), m³/s
    observed_volume_hm3 : reservoir -> observed volume at the end of the issue date, hm³
    planned_release : reservoir -> release on each lead day (``horizon`` values, NaN
        where not planned) or one value; without a plan the last observed release is
        held (and a reservoir with no observed release passes its inflow)
    """
    i = state.index(issue)
    issue_ts = state.dates[i]
    basins = list(basins or sorted(set(state.basins)))
    if i - warm_up_days + 1 < 0:
        raise ValueError(f"the forcing record starts {state.dates[0].date()}, less than "
                         f"{warm_up_days} days before the issue date {issue_ts.date()}")
    years = state.years_before(i, horizon)
    draw = draw_weather(years, members, issue_seed(issue_ts) if seed is None else seed)
    fut = member_lateral(state, i, horizon, draw)                                 # (N, M, H)
    w0 = i - warm_up_days + 1
    past = state.lateral_m3s[:, w0:i + 1]                                          # (N, W)
    return forecast_from_lateral(
        network, basins, issue_ts, {n: past[k] for k, n in enumerate(state.nodes)},
        {n: fut[k] for k, n in enumerate(state.nodes)}, draw,
        observed_discharge=observed_discharge, observed_release=observed_release,
        observed_volume_hm3=observed_volume_hm3, planned_release=planned_release,
        memory_days=memory_days)


def forecast_from_lateral(network: Network, basins: Sequence[str], issue: Any,
                          past: Mapping[str, ArrayLike], future: Mapping[str, ArrayLike],
                          draw: WeatherDraw, *,
                          observed_discharge: Mapping[str, float] | None = None,
                          observed_release: Mapping[str, ArrayLike] | None = None,
                          observed_volume_hm3: Mapping[str, float] | None = None,
                          planned_release: Mapping[str, ArrayLike] | None = None,
                          memory_days: float = NUDGE_MEMORY_DAYS,
                          evaporation: bool = True) -> ProcessForecast:
    """The routing half of :func:`forecast`: the lateral inflows (m³/s) of the warm-up
    window (``past``: node -> (W,), the W days ending on the issue date) and of each member
    over the horizon (``future``: node -> (M, H)) routed through the network of
    ``basins``, the reservoirs as :func:`forecast` operates them, then nudged."""
    issue_ts = pd.Timestamp(issue).normalize()
    members = draw.members
    nodes = set(network_sim.select_nodes(network, basins))
    past_a = {n: np.asarray(v, dtype=float) for n, v in past.items() if n in nodes}
    fut_a = {n: np.broadcast_to(np.asarray(v, dtype=float),
                                (members, np.shape(v)[-1])) for n, v in future.items()
             if n in nodes}
    warm_up_days = {a.shape[-1] for a in past_a.values()}.pop() if past_a else WARM_UP_DAYS
    horizon = {a.shape[-1] for a in fut_a.values()}.pop() if fut_a else 1
    n_t = warm_up_days + horizon
    lateral = {n: np.concatenate([np.broadcast_to(past_a[n][None, :], (members, warm_up_days)),
                                  fut_a[n]], axis=1) for n in past_a}
    start = issue_ts - pd.Timedelta(days=warm_up_days - 1)
    reservoirs = [n for n in network_sim.select_nodes(network, basins)
                  if n in network.reservoirs]
    obs_rel = {r: np.asarray(v, dtype=float) for r, v in (observed_release or {}).items()
               if r in reservoirs}
    plans = dict(planned_release or {})
    release: dict[str, np.ndarray] = {}
    initial_release: dict[str, float] = {}
    for r in reservoirs:
        past_r = obs_rel.get(r, np.full(warm_up_days, np.nan))
        if past_r.shape != (warm_up_days,):
            raise ValueError(f"observed release of {r}: {past_r.shape[0]} days, "
                             f"expected {warm_up_days}")
        known = past_r[np.isfinite(past_r)]
        ahead = np.full(horizon, known[-1] if known.size else np.nan)
        if r in plans:
            p = np.broadcast_to(np.asarray(plans[r], dtype=float), (horizon,))
            ahead = np.where(np.isfinite(p), p, ahead)
        if np.isfinite(past_r).any() or np.isfinite(ahead).any():
            release[r] = np.concatenate([past_r, ahead])
            if np.isfinite(past_r[0]):
                initial_release[r] = float(past_r[0])
    # the warm-up alone (one member) fixes the start volumes that meet the observed ones
    volumes: dict[str, float] = {}
    vol_obs = {r: float(v) for r, v in (observed_volume_hm3 or {}).items()
               if r in release and np.isfinite(v)}
    if vol_obs:
        warm = route_window(network, basins, {n: v[0, :warm_up_days]
                                              for n, v in lateral.items()}, start,
                            release_m3s={r: v[:warm_up_days] for r, v in release.items()},
                            initial_volume_hm3=vol_obs, initial_release_m3s=initial_release,
                            n_steps=warm_up_days, evaporation=evaporation)
        bounds = {r: (float(network.reservoirs[r].storage_table.volume_at(
                          network.reservoirs[r].umo.to("elevation"))),
                      float(network.reservoirs[r].storage_table.volume_at(
                          network.reservoirs[r].fpu.to("elevation"))))
                  for r in vol_obs}
        volumes = initial_volume_for(warm, vol_obs, bounds)
    ds = route_window(network, basins, lateral, start, release_m3s=release,
                      initial_volume_hm3=volumes, initial_release_m3s=initial_release,
                      n_steps=n_t, evaporation=evaporation)
    out_q = ds["outflow"].transpose("member", "node", "time").values
    node_ix = {str(n): k for k, n in enumerate(ds["node"].values)}
    raw: dict[str, np.ndarray] = {}
    nudged: dict[str, np.ndarray] = {}
    sim0: dict[str, float] = {}
    ratio: dict[str, float] = {}
    obs = observed_discharge or {}
    for g in (n for n in node_ix if n in network.gauges):
        q = np.clip(out_q[:, node_ix[g], :], 0.0, None)
        raw[g] = q[:, warm_up_days:]
        sim0[g] = float(q[0, warm_up_days - 1])
        nudged[g], ratio[g] = nudge(raw[g], sim0[g], float(obs.get(g, np.nan)), memory_days)
    res_out = {r: np.asarray(out_q[:, node_ix[r], warm_up_days:]) for r in reservoirs}
    dates = pd.date_range(issue_ts + pd.Timedelta(days=1), periods=horizon, freq="D")
    return ProcessForecast(issue_ts, dates, raw, nudged, sim0, ratio, draw, volumes, res_out,
                           ds)


def routed_volume_hm3(q_m3s: ArrayLike) -> np.ndarray:
    """Volume (hm³) of daily discharges (…, T) summed over the days."""
    return np.asarray(discharge_to_volume(np.asarray(q_m3s, dtype=float), 1.0)).sum(axis=-1)
