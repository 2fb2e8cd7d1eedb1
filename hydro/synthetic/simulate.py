"""Route synthetic lateral inflows through the configured network (demonstration only).

Every node's inflow is the routed outflow of the nodes draining into it plus its own
lateral inflow; gauges, borders and confluences pass water on; withdrawals take their
configured rate when the river can give it; reservoirs follow a simple rule curve under
their configured physics (outlet capacity by level, ramp limit, minimum release, dead
storage, uncontrolled spill above ФПУ) and close their mass balance exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hydro.network import Network, Reservoir, Routing
from hydro.routing import lag_route, muskingum_cascade
from hydro.units import SECONDS_PER_DAY, M3_PER_HM3

DAY = 1.0
HM3_PER_M3S_DAY = SECONDS_PER_DAY / M3_PER_HM3  # hm³ passed by 1 m³/s in one day

#: share of the НПУ..УМО volume each reservoir empties before the spring flood (synthetic rule)
DRAWDOWN_SHARE: dict[str, float] = {
    "RU:VERKHNEURALSK": 0.45, "RU:IRIKLINSK": 0.40, "KZ:BUKHTARMA": 0.25,
    "KZ:UST-KAMENOGORSK-RES": 0.5, "KZ:SHULBA": 0.5, "KZ:VERKHNETOBOLSK": 0.45,
    "KZ:KARATOMAR": 0.45, "KZ:ASTANA-RES": 0.45, "KZ:SERGEEVKA": 0.45,
    "KZ:PETROPAVLOVSK-RES": 0.3,
}


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


def route(q: np.ndarray, routing: Routing) -> np.ndarray:
    if routing.method == "lag":
        return lag_route(q, routing.lag.to("duration"), DAY)
    return muskingum_cascade(q, routing.k.to("duration"), routing.x, DAY)


def evaporation_mm_per_day(days: pd.DatetimeIndex) -> np.ndarray:
    """Open-water evaporation, mm/day: none Nov-Mar, a sine peaking at 5 mm/day in mid-July."""
    doy = days.day_of_year.to_numpy()
    e = 5.0 * np.sin(np.pi * (doy - 91) / (305 - 91))
    return np.where((doy >= 91) & (doy <= 305), np.clip(e, 0, None), 0.0)


def target_volume(days: pd.DatetimeIndex, res: Reservoir) -> np.ndarray:
    """Rule curve (hm³): full at НПУ Jun-Oct, drawn down Nov-mid-Mar, refilled Apr-May."""
    v_npu, v_dead = res.npu_volume_hm3, res.dead_volume_hm3
    v_pre = v_npu - DRAWDOWN_SHARE.get(res.id, 0.4) * (v_npu - v_dead)
    doy = days.day_of_year.to_numpy().astype(float)
    # drawdown from 1 Nov (doy 305, full) to mid-March (doy 75, empty to v_pre): 136 days
    winter_days = 366 - 305 + 75
    knots_x = [1, 75, 91, 152, 305, 366]
    knots_y = [1 - 62 / winter_days, 0.0, 0.0, 1.0, 1.0, 1 - 61 / winter_days]
    share = np.interp(doy, knots_x, knots_y)
    return v_pre + share * (v_npu - v_pre)


def operate(res: Reservoir, inflow: np.ndarray, days: pd.DatetimeIndex) -> ReservoirSeries:
    """Daily rule-curve operation with exact mass balance (hm³, m³/s)."""
    table = res.storage_table
    n = inflow.size
    v_dead, v_fpu, v_npu = res.dead_volume_hm3, res.fpu_volume_hm3, res.npu_volume_hm3
    target = target_volume(days, res)
    e_mm = evaporation_mm_per_day(days)
    min_rel = res.min_release.to("discharge")
    ramp = res.max_ramp_per_day.to("discharge")
    vol = np.empty(n)
    out = np.empty(n)
    spill = np.zeros(n)
    evap = np.empty(n)
    v = float(target[0])
    prev = max(min_rel, float(inflow[0]))
    for t in range(n):
        level = float(table.level_at(v))
        cap = float(res.outlet_capacity.at(level))
        nxt = target[min(t + 1, n - 1)]
        wanted = inflow[t] + (v - nxt) / HM3_PER_M3S_DAY
        if v > v_npu:  # flood operation: pass everything the outlets allow
            wanted = max(wanted, cap)
        release = min(max(wanted, min_rel), cap, prev + ramp)
        release = max(release, prev - ramp, 0.0)
        release = min(release, cap)
        e = float(table.area_at(level)) * e_mm[t] * 1000.0 / SECONDS_PER_DAY
        v_new = v + (inflow[t] - release - e) * HM3_PER_M3S_DAY
        if v_new < v_dead:  # never release below dead storage
            release = max(0.0, inflow[t] - e + (v - v_dead) / HM3_PER_M3S_DAY)
            v_new = v + (inflow[t] - release - e) * HM3_PER_M3S_DAY
            if v_new < v_dead:
                e = max(0.0, inflow[t] + (v - v_dead) / HM3_PER_M3S_DAY)
                v_new = v + (inflow[t] - release - e) * HM3_PER_M3S_DAY
        s = 0.0
        if v_new > v_fpu:  # uncontrolled spill above the forced level
            s = (v_new - v_fpu) / HM3_PER_M3S_DAY
            v_new = v_fpu
        vol[t], out[t], spill[t], evap[t] = v_new, release + s, s, e
        prev = release
        v = v_new
    level = table.level_at(vol)
    return ReservoirSeries(level, vol, inflow.copy(), out, spill, evap)


def simulate(network: Network, lateral: dict[str, np.ndarray], days: pd.DatetimeIndex) -> NetworkRun:
    """Run the network in topological order; ``lateral`` maps node id -> m³/s per day."""
    run = NetworkRun(days)
    zero = np.zeros(days.size)
    for node_id in network.order:
        q_in = lateral.get(node_id, zero).copy()
        for reach in network.upstream_reaches(node_id):
            q_in += route(run.outflow[reach.upstream], reach.routing)
        run.inflow[node_id] = q_in
        if node_id in network.reservoirs:
            series = operate(network.reservoirs[node_id], q_in, days)
            run.reservoirs[node_id] = series
            run.outflow[node_id] = series.outflow
        elif node_id in network.nodes and network.nodes[node_id].kind == "withdrawal":
            w = network.nodes[node_id].withdrawal.to("discharge")
            taken = np.minimum(w, q_in / 3.0)
            run.outflow[node_id] = q_in - taken
        else:
            run.outflow[node_id] = q_in
    return run
