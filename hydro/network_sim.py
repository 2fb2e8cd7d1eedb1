"""Network simulation: lateral inflows routed through reservoirs, reaches, tributaries and
withdrawals to every node, for a whole ensemble at once.

Pure functions: no file, database or clock access.  Discharge is in m³/s (daily means
over each step), volumes in hm³, stage in cm above gauge zero, reservoir level in m
(Baltic system), time steps in days.

Every node is visited once, in the network's topological order; each step of the walk
works on arrays ``(member, time)``, so the members of an ensemble are never looped over
in Python.  At each node

* the inflow is its lateral inflow plus the routed outflow of every reach ending there;
* a gauge, border crossing, confluence or outlet passes its inflow on;
* a withdrawal takes its configured rate when the river can give it (less otherwise);
* a reservoir is operated by :func:`hydro.reservoirs.operate` under its schedule (or passes
  its inflow unchanged under :class:`PassInflow`, the *unregulated* case);
* the outflow of the node enters its downstream reach, routed for all members at once by
  :func:`hydro.routing.route_members` (linear Muskingum split into sub-reaches as
  :func:`hydro.routing.muskingum_cascade`, or a lag), which also accounts for the water
  in transit.

The result is an :class:`xarray.Dataset` with dimensions ``(member, node, time)`` and CF
attributes (see :func:`simulate`).  :func:`mass_balance` closes the books of a run: lateral
inflow = water leaving the network + withdrawals + evaporation + change in reservoir
storage + change in the water travelling in the reaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike

from hydro.network import Network, Reach, Routing
from hydro.routing import route_members
from hydro.units import Quantity, discharge_to_volume

__all__ = [
    "PassInflow",
    "RoutedReach",
    "route",
    "route_reach",
    "select_nodes",
    "simulate",
    "mass_balance",
    "local_contributions",
    "downstream_path",
    "travel_time_days",
    "withdrawal_rate",
]

DISCHARGE_ATTRS = {"units": "m3 s-1", "standard_name": "water_volume_transport_in_river_channel"}


@dataclass(frozen=True)
class PassInflow:
    """Schedule under which a reservoir passes its inflow unchanged (no storage change, no
    evaporation): the *unregulated* river used to measure a reservoir's effect."""

    def __repr__(self) -> str:
        return "PassInflow()"


@dataclass(frozen=True)
class RoutedReach:
    """Outflow of a reach and the water travelling in it.

    Attributes
    ----------
    outflow : array (members, T), m³/s.
    transit_initial_hm3, transit_final_hm3 : arrays (members,)
        Volume in the reach at the start of the first and at the end of the last step, hm³,
        defined so that ``Σ (inflow − outflow)·dt = final − initial`` holds exactly.
    """

    outflow: np.ndarray
    transit_initial_hm3: np.ndarray
    transit_final_hm3: np.ndarray


def _required(q: Quantity | None, dimension: str, what: str) -> float:
    if q is None:
        raise ValueError(f"{what} is missing")
    return q.to(dimension)


def withdrawal_rate(network: Network, node_id: str) -> float:
    """Configured rate (m³/s) of a withdrawal node."""
    return _required(network.nodes[node_id].withdrawal, "discharge", f"{node_id}: withdrawal")


def route(q: ArrayLike, routing: Routing, dt_days: float = 1.0) -> RoutedReach:
    """Route discharge through one reach, for every member at once.

    Parameters
    ----------
    q : array (members, T) or (T,)
        Inflow to the reach, m³/s (daily means when ``dt_days`` is 1).
    routing : hydro.config.Routing
        ``muskingum`` (K as a duration, x) or ``lag`` (a duration).
    dt_days : float
        Time step, days.

    Returns
    -------
    RoutedReach
        Outflow (members, T) in m³/s and the volume in transit, hm³.

    Notes
    -----
    The numerics are :func:`hydro.routing.route_members` (Muskingum split into
    ``subreach_count(K, x, dt)`` sub-reaches as :func:`hydro.routing.muskingum_cascade`,
    or :func:`hydro.routing.lag_route`); here the transit terms are converted to hm³.
    """
    arr = np.asarray(q, dtype=float)
    single = arr.ndim == 1
    a = np.atleast_2d(arr)
    if a.ndim != 2:
        raise ValueError(f"q must be (members, T) or (T,), got shape {arr.shape}")
    if routing.method == "lag":
        r = route_members(a, "lag", dt_days, lag=_required(routing.lag, "duration", "lag"))
    else:
        r = route_members(a, "muskingum", dt_days,
                          k=_required(routing.k, "duration", "muskingum k"),
                          x=float(routing.x if routing.x is not None else 0.0))
    out, start, end = r.outflow, r.transit_initial, r.transit_final
    res = RoutedReach(out, discharge_to_volume(start), discharge_to_volume(end))
    if single:
        return RoutedReach(out[0], res.transit_initial_hm3, res.transit_final_hm3)
    return res


def route_reach(q: ArrayLike, reach: Reach, dt_days: float = 1.0) -> np.ndarray:
    """Outflow (same shape as ``q``, m³/s) of ``reach`` for inflow ``q`` (m³/s)."""
    return route(q, reach.routing, dt_days).outflow


def select_nodes(network: Network, basins: Iterable[str] | None = None) -> tuple[str, ...]:
    """Node ids of ``basins`` (all basins when None) in topological order."""
    if basins is None:
        return tuple(network.order)
    wanted = set(basins)
    unknown = wanted - set(network.basins)
    if unknown:
        raise ValueError(f"unknown basin(s): {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(network.basins)})")
    return tuple(n for n in network.order if network.basin_of(n) in wanted)


def downstream_path(network: Network, node_id: str) -> list[Reach]:
    """The reaches from ``node_id`` down to the basin outlet, in order."""
    path = []
    reach = network.downstream_reach(node_id)
    while reach is not None:
        path.append(reach)
        reach = network.downstream_reach(reach.downstream)
    return path


def travel_time_days(network: Network, source: str, target: str) -> float:
    """Nominal travel time (days) from ``source`` to ``target``: the sum of Muskingum K
    and lags of the reaches between them.

    Raises
    ------
    ValueError
        ``target`` is not downstream of ``source``.
    """
    total = 0.0
    if source == target:
        return 0.0
    for reach in downstream_path(network, source):
        r = reach.routing
        total += _required(r.k if r.method == "muskingum" else r.lag, "duration", reach.id)
        if reach.downstream == target:
            return total
    raise ValueError(f"'{target}' is not downstream of '{source}'")


def _as_members(value: ArrayLike, n_members: int | None, n_steps: int | None,
                what: str) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"{what}: expected (T,) or (members, T), got shape {a.shape}")
    if n_steps is not None and a.shape[1] != n_steps:
        raise ValueError(f"{what}: {a.shape[1]} time steps, expected {n_steps}")
    if n_members is not None and a.shape[0] not in (1, n_members):
        raise ValueError(f"{what}: {a.shape[0]} members, expected {n_members}")
    return a


def _lateral_mapping(lateral: Mapping[str, ArrayLike] | xr.DataArray) -> dict[str, np.ndarray]:
    if isinstance(lateral, xr.DataArray):
        if "node" not in lateral.dims or "time" not in lateral.dims:
            raise ValueError(f"lateral DataArray needs dims 'node' and 'time', has {lateral.dims}")
        units = lateral.attrs.get("units")
        if units not in (None, "m3 s-1", "m3/s"):
            raise ValueError(f"lateral inflow must be in m3 s-1, got units '{units}'")
        order = [d for d in ("member", "node", "time") if d in lateral.dims]
        da = lateral.transpose(*order)
        return {str(n): da.sel(node=n).values for n in da["node"].values}
    return {k: np.asarray(v, dtype=float) for k, v in lateral.items()}


def simulate(network: Network, lateral: Mapping[str, ArrayLike] | xr.DataArray, *,
             start: Any, schedules: Mapping[str, Any] | None = None,
             initial_volume_hm3: Mapping[str, ArrayLike] | None = None,
             evaporation_mm_per_day: ArrayLike | Mapping[str, ArrayLike] | None = None,
             initial_release_m3s: Mapping[str, ArrayLike] | None = None,
             basins: Sequence[str] | None = None, dt_days: float = 1.0,
             n_steps: int | None = None) -> xr.Dataset:
    """Simulate the network for every member at once.

    Parameters
    ----------
    network : hydro.config.Network
    lateral : mapping node id -> array (T,) or (members, T), or DataArray (member, node, time)
        Lateral (local) inflow at each node, m³/s.  Nodes not given receive none.
    start : date-like
        Date of the first step (labels the time axis; sets the day of year of rule curves).
    schedules : mapping reservoir id -> schedule
        A :mod:`hydro.reservoirs` schedule (``DailyRelease``, ``TargetLevel``,
        ``RuleCurve``) or :class:`PassInflow`; every simulated reservoir needs one.
    initial_volume_hm3 : mapping reservoir id -> float or array (members,), optional
        Storage at the start, hm³ (default: chosen by :func:`hydro.reservoirs.operate`).
    evaporation_mm_per_day : array (T,), or mapping reservoir id -> array (T,), optional
        Open-water evaporation from reservoir surfaces, mm/day.
    initial_release_m3s : mapping reservoir id -> float or array (members,), optional
        Release on the day before the start (anchors the ramp limit of the first step).
    basins : sequence of str, optional
        Basins to simulate; default: the basins of the nodes in ``lateral`` and
        ``schedules``.
    dt_days : float
        Time step, days.
    n_steps : int, optional
        Number of steps; required only when ``lateral`` is empty.

    Returns
    -------
    xarray.Dataset
        Dimensions ``member``, ``node`` (topological order), ``time``, ``reservoir``,
        ``withdrawal``, ``reach``.  Variables (CF units):

        - ``lateral_inflow`` and ``outflow`` (member, node, time), m3 s-1: a node's inflow
          is its outflow, except at a withdrawal (outflow + ``withdrawn``) and at a
          reservoir (``reservoir_inflow``);
        - ``stage`` (member, node, time), cm above gauge zero, from each gauge's rating
          (NaN at nodes without one);
        - ``withdrawn`` (member, withdrawal, time), m3 s-1;
        - ``reservoir_inflow``, ``release``, ``spill``, ``evaporation``,
          ``requested_release`` (m3 s-1), ``volume`` (hm3), ``level`` (m) and
          ``deviation_flags`` on (member, reservoir, time), and
          ``initial_volume`` (member, reservoir), hm3;
        - ``transit_initial``, ``transit_final`` (member, reach), hm3: water travelling in
          each reach at the start and the end.

        Node coordinates ``kind``, ``basin``, ``country``, ``name``, ``terminal`` (no
        downstream reach in the run).

    Raises
    ------
    ValueError
        Unknown node, a reservoir without schedule, inconsistent shapes.
    """
    lat = _lateral_mapping(lateral)
    schedules = dict(schedules or {})
    initial_volume_hm3 = dict(initial_volume_hm3 or {})
    for nid in [*lat, *schedules, *initial_volume_hm3]:
        try:
            network.node(nid)
        except KeyError:
            raise ValueError(f"unknown node '{nid}' (not in config/basins.toml)") from None
    if basins is None:
        basins = sorted({network.basin_of(n) for n in [*lat, *schedules]})
        if not basins:
            raise ValueError("nothing to simulate: give lateral inflows, schedules or basins")
    nodes = select_nodes(network, basins)
    node_set = set(nodes)
    outside = [n for n in lat if n not in node_set]
    if outside:
        raise ValueError(f"lateral inflow given for '{outside[0]}', outside basins {list(basins)}")

    arrays = {k: _as_members(v, None, None, f"lateral[{k}]") for k, v in lat.items()}
    steps = {a.shape[1] for a in arrays.values()}
    if n_steps is not None:
        steps.add(n_steps)
    if len(steps) != 1:
        raise ValueError(f"lateral inflows differ in length: {sorted(steps)} steps"
                         if steps else "give n_steps when no lateral inflow is given")
    (n_t,) = steps
    n_m = max([a.shape[0] for a in arrays.values()] + [
        np.asarray(v).shape[0] for v in initial_volume_hm3.values() if np.ndim(v) == 1] + [
        _schedule_members(s) for s in schedules.values()] + [1])

    start_ts = pd.Timestamp(start)
    time = pd.date_range(start_ts, periods=n_t, freq=pd.Timedelta(days=dt_days))
    doy = int(start_ts.day_of_year)
    reservoirs = [n for n in nodes if n in network.reservoirs]
    withdrawals = [n for n in nodes if n in network.nodes and network.nodes[n].kind == "withdrawal"]
    missing = [r for r in reservoirs if r not in schedules]
    if missing:
        raise ValueError(f"no schedule for reservoir '{missing[0]}' (give a hydro.reservoirs "
                         "schedule, or PassInflow() for the unregulated river)")
    reaches = [r for r in network.reaches if r.upstream in node_set]
    up_reaches: dict[str, list[Reach]] = {n: [] for n in nodes}
    for r in reaches:
        up_reaches[r.downstream].append(r)

    shape = (n_m, len(nodes), n_t)
    lat_all = np.zeros(shape)
    outflow = np.empty(shape)
    index = {n: i for i, n in enumerate(nodes)}
    res_vars = {k: np.zeros((n_m, len(reservoirs), n_t)) for k in
                ("inflow", "volume", "level", "release", "spill", "evaporation",
                 "requested_release")}
    res_vars["deviation_flags"] = np.zeros((n_m, len(reservoirs), n_t), dtype=np.uint8)
    res_v0 = np.zeros((n_m, len(reservoirs)))
    withdrawn = np.zeros((n_m, len(withdrawals), n_t))
    transit0 = np.zeros((n_m, len(reaches)))
    transit1 = np.zeros((n_m, len(reaches)))
    reach_index = {r.id: i for i, r in enumerate(reaches)}
    routed_into: dict[str, np.ndarray] = {}

    for nid in nodes:
        i = index[nid]
        q = np.zeros((n_m, n_t))
        if nid in arrays:
            lat_all[:, i] = arrays[nid]
            q += arrays[nid]
        for r in up_reaches[nid]:
            q += routed_into.pop(r.id)
        if nid in network.reservoirs:
            j = reservoirs.index(nid)
            res_vars["inflow"][:, j] = q
            out = _operate(network, nid, q, schedules[nid], doy, dt_days,
                           initial_volume_hm3.get(nid), evaporation_mm_per_day,
                           (initial_release_m3s or {}).get(nid), res_vars, j, res_v0)
        elif nid in network.nodes and network.nodes[nid].kind == "withdrawal":
            taken = np.minimum(withdrawal_rate(network, nid), np.maximum(q, 0.0))
            withdrawn[:, withdrawals.index(nid)] = taken
            out = q - taken
        else:
            out = q
        outflow[:, i] = out
        down = network.downstream_reach(nid)
        if down is not None and down.downstream in node_set:
            routed = route(out, down.routing, dt_days)
            k = reach_index[down.id]
            transit0[:, k] = routed.transit_initial_hm3
            transit1[:, k] = routed.transit_final_hm3
            routed_into[down.id] = routed.outflow

    stage = np.full(shape, np.nan)
    for nid in nodes:
        g = network.gauges.get(nid)
        if g is not None and g.rating is not None:
            stage[:, index[nid]] = g.rating.stage(outflow[:, index[nid]])

    return _dataset(network, nodes, reservoirs, withdrawals, reaches, time, dt_days,
                    lat_all, outflow, stage, withdrawn, res_vars, res_v0, transit0, transit1)


def _schedule_members(schedule: Any) -> int:
    for attr in ("release_m3s", "level_m"):
        v = getattr(schedule, attr, None)
        if v is not None and np.ndim(v) == 2:
            return int(np.shape(v)[0])
    return 1


def _operate(network: Network, nid: str, q: np.ndarray, schedule: Any, doy: int,
             dt_days: float, v0: ArrayLike | None, evaporation: Any,
             release0: ArrayLike | None, res_vars: dict[str, np.ndarray], j: int,
             res_v0: np.ndarray) -> np.ndarray:
    if isinstance(schedule, PassInflow):
        res = network.reservoirs[nid]
        vol = (np.broadcast_to(np.asarray(v0, dtype=float), (q.shape[0],)) if v0 is not None
               else np.full(q.shape[0], res.npu_volume_hm3))
        res_v0[:, j] = vol
        res_vars["volume"][:, j] = vol[:, None]
        res_vars["level"][:, j] = res.storage_table.level_at(vol)[:, None]
        res_vars["release"][:, j] = q
        res_vars["requested_release"][:, j] = q
        return q
    from hydro.reservoirs import operate

    evap = evaporation.get(nid) if isinstance(evaporation, Mapping) else evaporation
    kwargs: dict[str, Any] = {"start_day_of_year": doy, "dt_days": dt_days}
    if v0 is not None:
        kwargs["initial_volume_hm3"] = v0
    if evap is not None:
        kwargs["evaporation_mm_per_day"] = evap
    if release0 is not None:
        kwargs["initial_release_m3s"] = release0
    result = operate(network.reservoirs[nid], q, schedule, **kwargs)
    n_m = q.shape[0]

    def m(a: ArrayLike) -> np.ndarray:
        return np.broadcast_to(np.asarray(a, dtype=float).reshape(-1, q.shape[1]),
                               (n_m, q.shape[1]))

    res_vars["volume"][:, j] = m(result.volume_hm3)
    res_vars["level"][:, j] = m(result.level_m)
    res_vars["release"][:, j] = m(result.release_m3s)
    res_vars["spill"][:, j] = m(result.spill_m3s)
    res_vars["evaporation"][:, j] = m(result.evaporation_m3s)
    res_vars["requested_release"][:, j] = m(result.requested_m3s)
    res_vars["deviation_flags"][:, j] = np.broadcast_to(
        result.deviations.flags.reshape(-1, q.shape[1]), (n_m, q.shape[1]))
    res_v0[:, j] = np.broadcast_to(np.asarray(result.initial_volume_hm3, dtype=float), (n_m,))
    return np.array(m(result.outflow_m3s))


def _dataset(network: Network, nodes: Sequence[str], reservoirs: list[str],
             withdrawals: list[str], reaches: list[Reach], time: pd.DatetimeIndex,
             dt_days: float, lat_all: np.ndarray, outflow: np.ndarray, stage: np.ndarray,
             withdrawn: np.ndarray, res_vars: dict[str, np.ndarray],
             res_v0: np.ndarray, transit0: np.ndarray, transit1: np.ndarray) -> xr.Dataset:
    n_m = outflow.shape[0]
    node_set = set(nodes)
    objs = [network.node(n) for n in nodes]
    downs = [network.downstream_reach(n) for n in nodes]
    terminal = [d is None or d.downstream not in node_set for d in downs]
    coords = {
        "member": ("member", np.arange(n_m), {"long_name": "ensemble member"}),
        "node": ("node", list(nodes), {"long_name": "network node id"}),
        "time": ("time", time, {"long_name": "start of the daily step"}),
        "kind": ("node", [o.kind for o in objs]),
        "basin": ("node", [o.basin for o in objs]),
        "country": ("node", [getattr(o, "country", None) or "" for o in objs]),
        "name": ("node", [o.names.en for o in objs]),
        "terminal": ("node", np.array(terminal)),
        "reservoir": ("reservoir", reservoirs),
        "withdrawal": ("withdrawal", withdrawals),
        "reach": ("reach", [r.id for r in reaches]),
    }

    def q_attrs(long_name: str) -> dict:
        return {**DISCHARGE_ATTRS, "long_name": long_name, "cell_methods": "time: mean"}

    data = {
        "lateral_inflow": (("member", "node", "time"), lat_all,
                           q_attrs("lateral (local) inflow to the node")),
        "outflow": (("member", "node", "time"), outflow,
                    q_attrs("discharge leaving the node (at a gauge: its discharge)")),
        "stage": (("member", "node", "time"), stage,
                  {"units": "cm", "long_name": "stage above gauge zero (from the rating)",
                   "cell_methods": "time: mean"}),
        "withdrawn": (("member", "withdrawal", "time"), withdrawn,
                      q_attrs("discharge taken by the withdrawal")),
        "reservoir_inflow": (("member", "reservoir", "time"), res_vars["inflow"],
                             q_attrs("total inflow to the reservoir")),
        "volume": (("member", "reservoir", "time"), res_vars["volume"],
                   {"units": "hm3", "long_name": "reservoir storage at the end of the step"}),
        "level": (("member", "reservoir", "time"), res_vars["level"],
                  {"units": "m",
                   "long_name": "reservoir level at the end of the step (Baltic system)"}),
        "release": (("member", "reservoir", "time"), res_vars["release"],
                    q_attrs("controlled release")),
        "spill": (("member", "reservoir", "time"), res_vars["spill"],
                  q_attrs("uncontrolled spill")),
        "evaporation": (("member", "reservoir", "time"), res_vars["evaporation"],
                        q_attrs("evaporation from the reservoir surface")),
        "requested_release": (("member", "reservoir", "time"), res_vars["requested_release"],
                              q_attrs("release requested by the schedule")),
        "deviation_flags": (("member", "reservoir", "time"), res_vars["deviation_flags"],
                            {"long_name": "why the schedule was not honoured (bit flags)",
                             "flag_masks": np.array([1, 2, 4, 8, 16], dtype=np.uint8),
                             "flag_meanings": "outlet_capacity min_release ramp dead_storage "
                                              "forced_spill"}),
        "initial_volume": (("member", "reservoir"), res_v0,
                           {"units": "hm3", "long_name": "reservoir storage at the start"}),
        "transit_initial": (("member", "reach"), transit0,
                            {"units": "hm3",
                             "long_name": "water in transit in the reach at the start"}),
        "transit_final": (("member", "reach"), transit1,
                          {"units": "hm3",
                           "long_name": "water in transit in the reach at the end"}),
    }
    return xr.Dataset(data, coords=coords, attrs={
        "Conventions": "CF-1.8",
        "title": "hydrorisk network simulation",
        "source": "hydro.network_sim.simulate",
        "time_step_days": float(dt_days),
        "references": "Muskingum routing: Chow, Maidment & Mays (1988) §8.4",
    })


def mass_balance(ds: xr.Dataset) -> xr.Dataset:
    """Water balance of a run of :func:`simulate`, per member, in hm³.

    ``lateral = leaving + withdrawn + evaporated + Δ reservoir storage + Δ in transit``.

    Returns
    -------
    xarray.Dataset
        ``lateral``, ``leaving`` (outflow of terminal nodes), ``withdrawn``, ``evaporated``,
        ``reservoir_change``, ``transit_change``, ``residual`` (hm³) and
        ``relative_residual`` (residual over the largest of the input terms) per member.
    """
    dt = float(ds.attrs.get("time_step_days", 1.0))

    def vol(q: xr.DataArray) -> xr.DataArray:
        return discharge_to_volume(q, dt)

    lateral = vol(ds["lateral_inflow"]).sum(("node", "time"))
    leaving = vol(ds["outflow"].where(ds["terminal"], 0.0)).sum(("node", "time"))
    withdrawn = vol(ds["withdrawn"]).sum(("withdrawal", "time"))
    evaporated = vol(ds["evaporation"]).sum(("reservoir", "time"))
    if ds.sizes["reservoir"]:
        res_change = (ds["volume"].isel(time=-1) - ds["initial_volume"]).sum("reservoir")
    else:
        res_change = xr.zeros_like(lateral)
    transit = (ds["transit_final"] - ds["transit_initial"]).sum("reach")
    residual = lateral - leaving - withdrawn - evaporated - res_change - transit
    scale = np.maximum.reduce([abs(lateral), abs(leaving), abs(withdrawn), abs(evaporated),
                               abs(res_change), abs(transit),
                               ds["initial_volume"].sum("reservoir") if ds.sizes["reservoir"]
                               else abs(lateral)])
    rel = residual / xr.where(scale > 0, scale, 1.0)
    units = {"units": "hm3"}
    return xr.Dataset({
        "lateral": lateral.assign_attrs(units), "leaving": leaving.assign_attrs(units),
        "withdrawn": withdrawn.assign_attrs(units), "evaporated": evaporated.assign_attrs(units),
        "reservoir_change": res_change.assign_attrs(units),
        "transit_change": transit.assign_attrs(units), "residual": residual.assign_attrs(units),
        "relative_residual": rel.assign_attrs(units="1"),
    })


def local_contributions(network: Network, lateral: Mapping[str, ArrayLike],
                        observed: Iterable[str], dt_days: float = 1.0) -> dict[str, np.ndarray]:
    """Lateral inflows routed to the nearest observed node downstream.

    Each observed node's *local contribution* is its own lateral inflow plus the routed
    lateral inflow of the unobserved nodes draining to it without passing another observed
    node; reservoirs and withdrawals in between pass water unchanged.  This is the
    simulated counterpart of an observed inflow minus the routed observed outflows
    upstream (see :func:`hydro.scenarios.derive_local_inflow`).

    Parameters
    ----------
    network : Network
    lateral : mapping node id -> array (..., T), m³/s
    observed : node ids with an observed (inflow) series
    dt_days : time step, days

    Returns
    -------
    dict observed node id -> array (members, T), m³/s
    """
    obs = set(observed)
    lat = {k: np.atleast_2d(np.asarray(v, dtype=float)) for k, v in lateral.items()}
    if not lat:
        return {}
    n_t = next(iter(lat.values())).shape[-1]
    n_m = max(v.shape[0] for v in lat.values())
    routed_into: dict[str, np.ndarray] = {}
    out: dict[str, np.ndarray] = {}
    basins = {network.basin_of(n) for n in [*lat, *obs]}
    for nid in select_nodes(network, basins):
        q = np.zeros((n_m, n_t))
        if nid in lat:
            q = q + lat[nid]
        for r in network.upstream_reaches(nid):
            if r.id in routed_into:
                q = q + routed_into.pop(r.id)
        if nid in obs:
            out[nid] = q
            continue
        down = network.downstream_reach(nid)
        if down is not None:
            routed_into[down.id] = route(q, down.routing, dt_days).outflow
    return out
