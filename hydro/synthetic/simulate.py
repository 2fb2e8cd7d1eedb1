"""Route synthetic lateral inflows through the configured network (demonstration only).

The walk through the network is :func:`hydro.network_sim.simulate`: reaches are routed by
:mod:`hydro.routing`, reservoirs are operated by :func:`hydro.reservoirs.operate` under
their configured physics (outlet capacity by level, ramp limit, minimum release, dead
storage, uncontrolled spill above ФПУ; exact mass balance), withdrawals take their
configured rate when the river can give it.  What is synthetic here is only the
operating rule each reservoir follows (:func:`schedule_for`: a dispatcher's
:class:`~hydro.reservoirs.FloodControl` rule with perfect foresight of the inflow on the
Ural, Tobol and Ishim, the :func:`rule_curve` on the Irtysh cascade), the open-water
evaporation (:func:`evaporation_mm_per_day`) and the state at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hydro import network_sim
from hydro.network import Network, Reservoir
from hydro.reservoirs import FloodControl, RuleCurve

#: share of the НПУ..УМО volume each reservoir empties before the spring flood (synthetic
#: rule).  Iriklinsk: 0.2 puts it near 243 m before the flood (242.81 m on 20 Oct 2023 and
#: 243.98 m on 3 Apr 2024 after three days of a 1 600-1 900 m³/s inflow, hydrology_facts.csv)
DRAWDOWN_SHARE: dict[str, float] = {
    "RU:VERKHNEURALSK": 0.45, "RU:IRIKLINSK": 0.20, "KZ:BUKHTARMA": 0.25,
    "KZ:UST-KAMENOGORSK-RES": 0.5, "KZ:SHULBA": 0.5, "KZ:VERKHNETOBOLSK": 0.45,
    "KZ:KARATOMAR": 0.45, "KZ:ASTANA-RES": 0.45, "KZ:SERGEEVKA": 0.45,
    "KZ:PETROPAVLOVSK-RES": 0.3,
}

#: rule-curve knots (day of year): drawn down by mid-March, held to the start of April,
#: refilled to НПУ by June, held full to 1 November, then drawn down again (periodic)
DRAWN_DOWN_FROM, REFILL_FROM, FULL_FROM, DRAWDOWN_FROM = 75, 91, 152, 305


@dataclass
class ReservoirSeries:
    level_m: np.ndarray
    volume_hm3: np.ndarray
    inflow: np.ndarray
    outflow: np.ndarray
    spill: np.ndarray
    evaporation: np.ndarray


@dataclass
class NetworkRun:
    days: pd.DatetimeIndex
    inflow: dict[str, np.ndarray] = field(default_factory=dict)
    outflow: dict[str, np.ndarray] = field(default_factory=dict)
    reservoirs: dict[str, ReservoirSeries] = field(default_factory=dict)


def evaporation_mm_per_day(days: pd.DatetimeIndex) -> np.ndarray:
    """Open-water evaporation, mm/day: none Nov-Mar, a sine peaking at 5 mm/day in mid-July."""
    doy = days.day_of_year.to_numpy()
    e = 5.0 * np.sin(np.pi * (doy - 91) / (305 - 91))
    return np.where((doy >= 91) & (doy <= 305), np.clip(e, 0, None), 0.0)


def rule_curve(res: Reservoir) -> RuleCurve:
    """Synthetic operating rule: at НПУ Jun-Oct, drawn down Nov-mid-March to the level that
    empties ``DRAWDOWN_SHARE`` of the НПУ..УМО volume, held there to April, refilled Apr-May.

    Followed by :func:`hydro.reservoirs.operate` as a target level: each day it requests
    the release that lands the volume on the curve, within the reservoir's limits.
    """
    v_npu, v_dead = res.npu_volume_hm3, res.dead_volume_hm3
    v_pre = v_npu - DRAWDOWN_SHARE.get(res.id, 0.4) * (v_npu - v_dead)
    low = float(res.storage_table.level_at(v_pre))
    npu = float(res.storage_table.level_at(v_npu))
    return RuleCurve(np.array([DRAWN_DOWN_FROM, REFILL_FROM, FULL_FROM, DRAWDOWN_FROM], float),
                     np.array([low, low, npu, npu]))


#: reservoirs operated by a dispatcher's flood-control rule (FloodControl): (ordinary
#: release m³/s, forecast horizon days, flood level above НПУ m).  Iriklinsk holds 15 m³/s
#: in ordinary springs (hydrology_facts.csv, release_minimum); the others are estimates.
#: Iriklinsk 2024: the dispatcher began on 31 Mar with 90 m³/s and raised the release in
#: steps as the forecasts worsened (390 on 1-2 Apr, 790 on 3 Apr, 1 314 on 4 Apr;
#: hydrology_facts.csv, flood_2024.csv).  A 6-day horizon and a flood level of НПУ + 0.87 m
#: start the pre-release on 31 Mar near 90 m³/s, and the ramp limit (max_ramp_per_day
#: 213 m³/s in config/basins.toml, the dispatcher's daily steps) raises it to ~930 on
#: 4 Apr; with (4 d, 0.5 m) and 520 m³/s a day the rule held 15 m³/s on 31 Mar and then
#: released 535, 1 055 and 1 296 m³/s on 1-3 Apr
FLOOD_CONTROL: dict[str, tuple[float, float, float]] = {
    "RU:IRIKLINSK": (15.0, 6.0, 0.87),
    "RU:VERKHNEURALSK": (3.0, 10.0, 0.0),
    "KZ:VERKHNETOBOLSK": (2.0, 5.0, 0.0),
    "KZ:KARATOMAR": (2.0, 5.0, 0.0),
    "KZ:ASTANA-RES": (1.0, 10.0, 0.0),
    "KZ:SERGEEVKA": (5.0, 8.0, 0.0),
}

#: day of year the flood-control guide starts to rise from the drawn-down level, and the day
#: it reaches НПУ: from then on only a forecast flood (not the guide) makes the dispatcher
#: release more than the ordinary release
GUIDE_RISE_FROM, GUIDE_FULL_FROM = 80, 95


def schedule_for(res: Reservoir) -> FloodControl | RuleCurve:
    """The synthetic operating rule of ``res``.

    Reservoirs in :data:`FLOOD_CONTROL` follow :class:`hydro.reservoirs.FloodControl` with
    *perfect foresight* of their inflow (the forecast is the inflow itself: a demonstration
    of the rule, not of a forecast): the ordinary release, pre-release when the inflow of
    the next days will not fit below the flood level, and a guide that draws the reservoir
    down over the winter as :func:`rule_curve` does and rises to НПУ at the start of April.
    The others (the Irtysh hydropower cascade) follow :func:`rule_curve`.
    """
    curve = rule_curve(res)
    if res.id not in FLOOD_CONTROL:
        return curve
    base, horizon, above_npu = FLOOD_CONTROL[res.id]
    low, npu = float(curve.level_m[0]), float(curve.level_m[-1])
    guide = RuleCurve(np.array([DRAWN_DOWN_FROM, GUIDE_RISE_FROM, GUIDE_FULL_FROM, DRAWDOWN_FROM], float),
                      np.array([low, low, npu, npu]))
    flood_level = min(npu + above_npu, res.fpu.to("elevation"))
    return FloodControl(horizon_days=horizon, base_release_m3s=base, flood_level_m=flood_level,
                        guide=guide)


def simulate(network: Network, lateral: dict[str, np.ndarray], days: pd.DatetimeIndex) -> NetworkRun:
    """Run the whole network; ``lateral`` maps node id -> m³/s per day.

    Every reservoir follows its :func:`schedule_for` rule from the level its
    :func:`rule_curve` gives on the first day, with the open-water evaporation of
    :func:`evaporation_mm_per_day`.
    """
    schedules = {rid: schedule_for(res) for rid, res in network.reservoirs.items()}
    start_doy = float(days[0].day_of_year)
    v0 = {rid: float(res.storage_table.volume_at(rule_curve(res).level_on(start_doy)))
          for rid, res in network.reservoirs.items()}
    ds = network_sim.simulate(network, lateral, start=days[0], schedules=schedules,
                              initial_volume_hm3=v0,
                              evaporation_mm_per_day=evaporation_mm_per_day(days),
                              basins=sorted(network.basins), n_steps=days.size)
    ds = ds.isel(member=0)
    outflow = ds["outflow"].values
    node_index = {str(n): i for i, n in enumerate(ds["node"].values)}
    run = NetworkRun(days)
    for nid, i in node_index.items():
        run.outflow[nid] = outflow[i]
        run.inflow[nid] = outflow[i]
    for j, wid in enumerate(ds["withdrawal"].values):
        run.inflow[str(wid)] = outflow[node_index[str(wid)]] + ds["withdrawn"].values[j]
    for j, rid in enumerate(ds["reservoir"].values):
        rid = str(rid)

        def res_var(name: str, j: int = j) -> np.ndarray:
            return ds[name].values[j]

        run.inflow[rid] = res_var("reservoir_inflow")
        run.reservoirs[rid] = ReservoirSeries(
            level_m=res_var("level"), volume_hm3=res_var("volume"),
            inflow=res_var("reservoir_inflow"), outflow=outflow[node_index[rid]],
            spill=res_var("spill"), evaporation=res_var("evaporation"))
    return run
