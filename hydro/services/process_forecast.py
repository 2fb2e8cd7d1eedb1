"""The process-model ensemble forecaster behind ``method = "process"`` of
:mod:`hydro.services.forecasts` (issue 12, item 3a): reads the forcing, the calibrated
snowmelt model, the observed discharge and the reservoirs' operations, and calls the pure
:mod:`hydro.process_forecast`.

What is read, as of the issue
    The forcing record (``config/scenarios/_forcing.toml``) up to the issue date only (the
    members' weather comes from the same calendar days of earlier years); the calibrated
    model (``config/scenarios/_model.toml``); from the store, as the caller's read gives
    it (observed and received by the issue time), each gauge's daily discharge on the issue
    date (the members are nudged to it) and each reservoir's daily outflow over the
    warm-up window and its volume (or level, through the storage table) on the issue date.

Releases over the horizon
    A planned release (``releases``: reservoir id -> daily outflow by local date, or one
    value) where given; else the reservoir's last observed outflow is held (the
    dispatcher's current release, as the SARIMAX assumes); a reservoir with no observed
    outflow passes its inflow.  The reservoir's physics apply on top
    (:func:`hydro.reservoirs.operate`: outlet capacity, minimum release, ramp, spill).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hydro import network_sim
from hydro import process_forecast as pf
from hydro.config import Config
from hydro.services.context import Store

__all__ = ["GaugeEnsemble", "basins_of", "prepare", "forecast_gauges", "RESERVOIR_VARIABLES"]

#: what is read of the reservoirs
RESERVOIR_VARIABLES = ("outflow", "volume", "level")
_DAY = pd.Timedelta(days=1)


@dataclass
class GaugeEnsemble:
    """The process ensemble of one gauge: ``members`` (M, H) of daily discharge, m³/s, on
    ``dates`` (leads 1..H), and what the run's ``parameters`` record of it."""

    issue: pd.Timestamp
    dates: pd.DatetimeIndex
    members: np.ndarray
    parameters: dict[str, Any] = field(default_factory=dict)


def basins_of(config: Config, stations: Iterable[str]) -> list[str]:
    return sorted({config.network.basin_of(s) for s in stations})


def prepare(config: Config, store: Store | None, basins: list[str],
            issue_dates: Iterable[pd.Timestamp]) -> pf.ModelState:
    """The snowmelt model of ``basins`` spun up over the forcing record, with its state
    kept at the end of each issue date (raises KeyError for a date outside the record)."""
    from hydro.services.forcing import load_forcing
    from hydro.services.scenarios import load_model

    forcing = load_forcing(config, store)
    model = load_model(config)
    dates = pd.DatetimeIndex(forcing.dates)
    stops = []
    for d in issue_dates:
        i = dates.get_indexer(pd.DatetimeIndex([pd.Timestamp(d).normalize()]))[0]
        if i >= 0:
            stops.append(int(i))
    return pf.spin_up(config.network, basins, forcing, model, stops)


def _plan(plan: pd.Series | float | None, days: pd.DatetimeIndex) -> np.ndarray | None:
    if plan is None:
        return None
    if isinstance(plan, pd.Series):
        return (pd.Series(plan.to_numpy(dtype=float),
                          index=pd.DatetimeIndex(plan.index).normalize())
                .reindex(days).to_numpy(dtype=float))
    return np.full(len(days), float(plan))


def _reservoir_inputs(config: Config, reservoirs: list[str],
                      daily: Mapping[tuple[str, str], pd.Series], issue: pd.Timestamp,
                      warm_up_days: int) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    window = pd.date_range(issue - (warm_up_days - 1) * _DAY, issue, freq="D")
    release: dict[str, np.ndarray] = {}
    volume: dict[str, float] = {}
    for r in reservoirs:
        out = daily.get((r, "outflow"))
        if out is not None:
            a = out.loc[:issue].reindex(window).to_numpy(dtype=float)
            if np.isfinite(a).any():
                release[r] = a
        v = daily.get((r, "volume"))
        v_now = float(v.get(issue, np.nan)) if v is not None else np.nan
        if not np.isfinite(v_now):
            lv = daily.get((r, "level"))
            h = float(lv.get(issue, np.nan)) if lv is not None else np.nan
            if np.isfinite(h):
                v_now = float(config.network.reservoirs[r].storage_table.volume_at(h))
        if np.isfinite(v_now):
            volume[r] = v_now
    return release, volume


def forecast_gauges(config: Config, state: pf.ModelState, issues: Mapping[str, pd.Timestamp],
                    daily: Mapping[tuple[str, str], pd.Series], horizon: int, *,
                    releases: Mapping[str, pd.Series | float] | None = None,
                    members: int = pf.DEFAULT_MEMBERS, seed: int | None = None,
                    alpha: float = 0.1) -> tuple[dict[str, GaugeEnsemble], dict[str, str]]:
    """The process ensembles of the gauges ``issues`` (gauge -> its issue date), one network
    run per distinct issue date over the basins of its gauges.

    ``daily``: the daily series read for the issue ((station, variable) -> Series by local
    date: the gauges' ``discharge``, the reservoirs' :data:`RESERVOIR_VARIABLES`), nothing
    after each issue date is used.  Returns the ensembles and, per gauge that has none,
    why.
    """
    net = config.network
    out: dict[str, GaugeEnsemble] = {}
    notes: dict[str, str] = {}
    plans = dict(releases or {})
    by_issue: dict[pd.Timestamp, list[str]] = {}
    for g, d in issues.items():
        by_issue.setdefault(pd.Timestamp(d).normalize(), []).append(g)
    for issue, gauges in sorted(by_issue.items()):
        basins = basins_of(config, gauges)
        reservoirs = [n for n in network_sim.select_nodes(net, basins) if n in net.reservoirs]
        days = pd.date_range(issue + _DAY, periods=horizon, freq="D")
        try:
            i = state.index(issue)
            if i not in state.states:
                raise KeyError(f"no model state at {issue.date()}")
            obs_q = {}
            for g in gauges:
                y = daily.get((g, "discharge"))
                if y is not None and issue in y.index:
                    obs_q[g] = float(y.loc[issue])
            release, volume = _reservoir_inputs(config, reservoirs, daily, issue,
                                                pf.WARM_UP_DAYS)
            planned = {r: p for r in reservoirs
                       if (p := _plan(plans.get(r), days)) is not None}
            f = pf.forecast(net, state, issue, horizon, members=members, seed=seed,
                            basins=basins, observed_discharge=obs_q,
                            observed_release=release, observed_volume_hm3=volume,
                            planned_release=planned)
        except (KeyError, ValueError) as e:
            for g in gauges:
                notes[g] = f"process not issued: {str(e).strip(chr(39))}"
            continue
        how = {r: ("planned release" if r in planned and np.isfinite(planned[r]).any()
                   else "last observed outflow held" if r in release
                   else "passes its inflow (no observed outflow)")
               for r in reservoirs}
        for g in gauges:
            if g not in f.members:
                notes[g] = "process not issued: the gauge is not in the routed network"
                continue
            ups = _upstream_reservoirs(config, g)
            params = {
                "members": int(f.draw.members),
                "seed": int(pf.issue_seed(issue) if seed is None else seed),
                "weather_years": sorted({int(y) for y in f.draw.years}),
                "warm_up_days": pf.WARM_UP_DAYS,
                "nudge": {"simulated_at_issue_m3s": round(f.simulated_at_issue[g], 3),
                          "observed_at_issue_m3s": (round(obs_q[g], 3) if g in obs_q
                                                    else None),
                          "ratio": round(f.ratio[g], 4),
                          "memory_days": pf.NUDGE_MEMORY_DAYS},
                "reservoirs": {r: {"release": how[r],
                                   **({"initial_volume_hm3":
                                       round(f.initial_volume_hm3[r], 2)}
                                      if r in f.initial_volume_hm3 else {})}
                               for r in ups},
                "quantiles": [alpha / 2, 0.5, 1 - alpha / 2],
            }
            out[g] = GaugeEnsemble(issue, days, f.members[g], params)
    return out, notes


def _upstream_reservoirs(config: Config, gauge: str) -> list[str]:
    net = config.network
    found: list[str] = []
    todo, seen = [gauge], set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        for r in net.upstream_reaches(n):
            if r.upstream in net.reservoirs:
                found.append(r.upstream)
            todo.append(r.upstream)
    return sorted(set(found))


def frame(ens: GaugeEnsemble, alpha: float) -> pd.DataFrame:
    """The forecast frame of :mod:`hydro.short_range` (lead_days, valid_time, forecast =
    the ensemble median, lower/upper = its ``alpha/2`` and ``1 − alpha/2`` quantiles)."""
    med, lo, hi = pf.quantiles(ens.members, alpha)
    return pd.DataFrame({"issue_time": ens.issue, "lead_days": np.arange(1, len(ens.dates) + 1),
                         "valid_time": ens.dates, "forecast": med, "lower": lo, "upper": hi,
                         "method": "process"})
