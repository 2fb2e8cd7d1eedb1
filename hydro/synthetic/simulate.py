"""Route synthetic lateral inflows through the configured network (demonstration only).

The walk through the network is :func:`hydro.network_sim.simulate`: reaches are routed by
:mod:`hydro.routing`, reservoirs are operated by :func:`hydro.reservoirs.operate` under
their configured physics (outlet capacity by level, ramp limit, minimum release, dead
storage, uncontrolled spill above ФПУ; exact mass balance), withdrawals take their
configured rate when the river can give it.  What is synthetic here is only the
operating rule each reservoir follows (:func:`rule_curve`), the open-water evaporation
(:func:`evaporation_mm_per_day`) and the state at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hydro import network_sim
from hydro.network import Network, Reservoir
from hydro.reservoirs import RuleCurve

#: share of the НПУ..УМО volume each reservoir empties before the spring flood (synthetic rule)
DRAWDOWN_SHARE: dict[str, float] = {
    "RU:VERKHNEURALSK": 0.45, "RU:IRIKLINSK": 0.40, "KZ:BUKHTARMA": 0.25,
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


def simulate(network: Network, lateral: dict[str, np.ndarray], days: pd.DatetimeIndex) -> NetworkRun:
    """Run the whole network; ``lateral`` maps node id -> m³/s per day.

    Every reservoir follows its :func:`rule_curve` from the level the curve gives on the
    first day, with the open-water evaporation of :func:`evaporation_mm_per_day`.
    """
    schedules = {rid: rule_curve(res) for rid, res in network.reservoirs.items()}
    start_doy = float(days[0].day_of_year)
    v0 = {rid: float(res.storage_table.volume_at(schedules[rid].level_on(start_doy)))
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
