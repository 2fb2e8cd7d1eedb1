"""Network simulation: routing over members matches hydro.routing, mass is conserved on
random networks and schedules, members are independent, the Dataset carries units; the
snowmelt model closes its water balance."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydro import snowmelt
from hydro.config import BasinsFile, Routing, build_network
from hydro.network_sim import (
    PassInflow,
    downstream_path,
    local_contributions,
    mass_balance,
    route,
    select_nodes,
    simulate,
    travel_time_days,
)
from hydro.reservoirs import DailyRelease, RuleCurve, TargetLevel
from hydro.routing import route_members
from hydro.units import discharge_to_volume

NAMES = {"kk": "x", "ru": "x", "en": "x"}


# --------------------------------------------------------------------------- builders

def _gauge(gid: str, rating: bool = True) -> dict:
    g = {"id": gid, "basin": "b", "river": "R", "country": "KZ", "names": NAMES,
         "lat": 51.0, "lon": 51.0, "coord_source": "test", "timezone": "Asia/Oral",
         "source": "test",
         "datums": [{"zero": "10 m", "valid_from": "2000-01-01", "status": "estimate"}]}
    if rating:
        g["rating"] = {"a": "100 m3/s", "b": 1.7, "h0": "80 cm", "valid_from": "2000-01-01",
                       "status": "synthetic"}
    return g


def _reservoir(rid: str, scale: float = 1.0) -> dict:
    return {"id": rid, "basin": "b", "river": "R", "country": "RU", "names": NAMES,
            "timezone": "Asia/Yekaterinburg", "source": "test",
            "npu": "118 m", "fpu": "119 m", "umo": "104 m",
            "min_release": "2 m3/s", "max_ramp_per_day": "200 m3/s",
            "storage_table": {"level_unit": "m", "volume_unit": "hm3", "area_unit": "km2",
                              "level": [100, 105, 110, 115, 120],
                              "volume": [v * scale for v in (0, 20, 80, 180, 320)],
                              "area": [a * scale for a in (0.5, 6, 15, 25, 35)]},
            "outlet_capacity": {"level_unit": "m", "discharge_unit": "m3/s",
                                "level": [104, 118, 120], "discharge": [50, 400, 600]}}


def _network(kinds: list[str], parents: list[int], routings: list[dict]):
    """Node 0 is the outlet; node i >= 1 of kind kinds[i] drains to node parents[i] < i."""
    raw: dict = {"basins": [{"id": "b", "names": NAMES, "rivers": ["R"], "outlet": "OUT:0"}],
                 "gauges": [], "reservoirs": [], "nodes": [], "reaches": []}
    ids = []
    for i, kind in enumerate(kinds):
        if i == 0:
            nid = "OUT:0"
            raw["nodes"].append({"id": nid, "kind": "outlet", "basin": "b", "names": NAMES})
        elif kind == "gauge":
            nid = f"KZ:G{i}"
            raw["gauges"].append(_gauge(nid))
        elif kind == "reservoir":
            nid = f"RU:R{i}"
            raw["reservoirs"].append(_reservoir(nid))
        elif kind == "withdrawal":
            nid = f"W:{i}"
            raw["nodes"].append({"id": nid, "kind": "withdrawal", "basin": "b", "names": NAMES,
                                 "withdrawal": "15 m3/s"})
        else:
            nid = f"C:{i}"
            raw["nodes"].append({"id": nid, "kind": kind, "basin": "b", "names": NAMES,
                                 **({"from_country": "KZ", "to_country": "RU"}
                                    if kind == "border" else {})})
        ids.append(nid)
    for i in range(1, len(kinds)):
        raw["reaches"].append({"id": f"r{i}", "upstream": ids[i],
                               "downstream": ids[parents[i]], "routing": routings[i]})
    return build_network(BasinsFile.model_validate(raw), "test"), ids


routing_st = st.one_of(
    st.builds(lambda k, x: {"method": "muskingum", "k": f"{k} d", "x": x},
              st.floats(1.3, 6.0), st.floats(0.0, 0.3)),
    st.builds(lambda lag: {"method": "lag", "lag": f"{lag} d"}, st.floats(0.0, 3.5)),
)


@st.composite
def networks(draw):
    n = draw(st.integers(2, 8))
    kinds = ["outlet"] + [draw(st.sampled_from(["gauge", "reservoir", "withdrawal",
                                                "confluence", "border"])) for _ in range(n - 1)]
    parents = [0] + [draw(st.integers(0, i - 1)) for i in range(1, n)]
    routings = [None] + [draw(routing_st) for _ in range(1, n)]
    return kinds, parents, routings


def _schedule(draw, kind: str, members: int, steps: int):
    if kind == "daily":
        arr = draw(st.lists(st.floats(0, 800), min_size=steps, max_size=steps))
        per_member = draw(st.booleans())
        a = np.asarray(arr)
        return DailyRelease(np.vstack([a * (1 + 0.1 * m) for m in range(members)])
                            if per_member else a)
    if kind == "rule":
        return RuleCurve(np.array([1.0, 90.0, 180.0]),
                         np.array([draw(st.floats(104.5, 118.9)) for _ in range(3)]))
    if kind == "target":
        days = np.array(sorted({min(2, steps - 1), steps - 1}), dtype=float)
        return TargetLevel(days, np.array([draw(st.floats(104.5, 118.9)) for _ in days]))
    return PassInflow()


# --------------------------------------------------------------------------- routing

@pytest.mark.parametrize("routing,kwargs", [
    ({"method": "muskingum", "k": "5 d", "x": 0.35}, {"k": 5.0, "x": 0.35}),
    ({"method": "muskingum", "k": "36 h", "x": 0.2}, {"k": 1.5, "x": 0.2}),
    ({"method": "lag", "lag": "2.75 d"}, {"lag": 2.75}),
    ({"method": "lag", "lag": "12 h"}, {"lag": 0.5}),
])
def test_reach_routing_is_hydro_routing(routing, kwargs):
    """network_sim routes a reach with hydro.routing (durations in days, transit in hm³)."""
    rng = np.random.default_rng(1)
    q = rng.gamma(2.0, 100.0, (5, 60))
    r = route(q, Routing.model_validate(routing))
    ref = route_members(q, routing["method"], 1.0, **kwargs)
    np.testing.assert_array_equal(r.outflow, ref.outflow)
    np.testing.assert_allclose(r.transit_initial_hm3, discharge_to_volume(ref.transit_initial))
    np.testing.assert_allclose(r.transit_final_hm3, discharge_to_volume(ref.transit_final))
    np.testing.assert_array_equal(route(q[2], Routing.model_validate(routing)).outflow,
                                  ref.outflow[2])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 5000), min_size=2, max_size=80), routing_st)
def test_reach_transit_closes_volume(inflow, routing):
    q = np.asarray(inflow)[None, :]
    r = route(q, Routing.model_validate(routing))
    lhs = discharge_to_volume(q - r.outflow).sum()
    rhs = (r.transit_final_hm3 - r.transit_initial_hm3)[0]
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-9)


def test_travel_time_and_path(config):
    net = config.network
    path = [r.id for r in downstream_path(net, "RU:IRIKLINSK")]
    assert path[:2] == ["iriklinsk--orsk", "orsk--orenburg"]
    # K 1.0 d (Iriklinsk-Orsk) + 6.0 d (Orsk-Orenburg, set to the 2024 crest travel time)
    assert travel_time_days(net, "RU:IRIKLINSK", "RU:ORENBURG") == pytest.approx(7.0)
    with pytest.raises(ValueError, match="not downstream"):
        travel_time_days(net, "RU:ORSK", "RU:IRIKLINSK")


# --------------------------------------------------------------------------- mass balance

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.integers(1, 4), st.integers(3, 40), st.data())
def test_mass_conserved_on_random_networks_and_schedules(spec, members, steps, data):
    kinds, parents, routings = spec
    net, ids = _network(kinds, parents, routings)
    lateral = {}
    for nid in ids[1:]:
        if data.draw(st.booleans()):
            lateral[nid] = np.asarray(data.draw(st.lists(
                st.floats(0, 2000), min_size=members * steps, max_size=members * steps))
            ).reshape(members, steps)
    schedules, v0 = {}, {}
    for nid in ids:
        if nid in net.reservoirs:
            kind = data.draw(st.sampled_from(["daily", "rule", "target", "pass"]))
            schedules[nid] = _schedule(data.draw, kind, members, steps)
            v0[nid] = data.draw(st.floats(17.0, 291.0))
    evap = np.asarray(data.draw(st.lists(st.floats(0, 8), min_size=steps, max_size=steps)))
    ds = simulate(net, lateral, start="2024-03-01", schedules=schedules,
                  initial_volume_hm3=v0, evaporation_mm_per_day=evap, basins=["b"],
                  n_steps=steps)
    mb = mass_balance(ds)
    assert np.all(np.abs(mb["relative_residual"].values) <= 1e-9), mb
    assert (ds["withdrawn"] >= 0).all()
    assert np.isfinite(ds["outflow"]).all()


def test_members_are_independent_and_vectorised(config):
    net = config.network
    rng = np.random.default_rng(5)
    nodes = [n for n in select_nodes(net, ["ural"]) if net.node(n).local_catchment]
    lateral = {n: rng.gamma(2.0, 30.0, (3, 50)) for n in nodes}
    sched = {"RU:IRIKLINSK": DailyRelease(np.full(50, 300.0)),
             "RU:VERKHNEURALSK": RuleCurve(np.array([1.0, 200.0]), np.array([398.0, 399.0]))}
    v0 = {"RU:IRIKLINSK": 2300.0, "RU:VERKHNEURALSK": 420.0}
    together = simulate(net, lateral, start="2024-03-01", schedules=sched, initial_volume_hm3=v0)
    for m in range(3):
        alone = simulate(net, {n: v[m] for n, v in lateral.items()}, start="2024-03-01",
                         schedules=sched, initial_volume_hm3=v0)
        for var in ("outflow", "stage", "volume", "spill"):
            np.testing.assert_array_equal(together[var].isel(member=m).values,
                                          alone[var].isel(member=0).values)


def test_dataset_units_coordinates_and_stage(config):
    net = config.network
    lateral = {"KZ:19132": np.full(10, 100.0), "RU:VERKHNEURALSK": np.full(10, 50.0)}
    ds = simulate(net, lateral, start="2024-03-01",
                  schedules={"RU:IRIKLINSK": PassInflow(), "RU:VERKHNEURALSK": PassInflow()})
    assert ds["outflow"].dims == ("member", "node", "time")
    assert ds["outflow"].attrs["units"] == "m3 s-1"
    assert ds["stage"].attrs["units"] == "cm"
    assert ds["volume"].attrs["units"] == "hm3"
    assert ds.attrs["Conventions"].startswith("CF")
    assert list(ds["node"].values) == list(select_nodes(net, ["ural"]))
    assert ds["terminal"].sel(node="OUTLET:caspian")
    orsk = net.gauges["RU:ORSK"].rating
    np.testing.assert_allclose(ds["stage"].sel(node="RU:ORSK").values,
                               orsk.stage(ds["outflow"].sel(node="RU:ORSK").values))
    assert np.isnan(ds["stage"].sel(node="CONF:ural-sakmara").values).all()
    # steady state after the waves pass: Orsk gets both headwaters
    assert ds["outflow"].sel(node="RU:ORSK").values[0, -1] == pytest.approx(150.0)
    # the Kushum canal takes its 12 m3/s
    assert ds["withdrawn"].values[0, 0, -1] == pytest.approx(12.0)


def test_unregulated_reservoir_passes_inflow(config):
    lateral = {"RU:VERKHNEURALSK": np.linspace(10, 500, 20)}
    ds = simulate(config.network, lateral, start="2024-04-01",
                  schedules={"RU:IRIKLINSK": PassInflow(), "RU:VERKHNEURALSK": PassInflow()})
    np.testing.assert_array_equal(ds["outflow"].sel(node="RU:VERKHNEURALSK").values,
                                  ds["reservoir_inflow"].sel(reservoir="RU:VERKHNEURALSK").values)
    assert float(abs(mass_balance(ds)["relative_residual"]).max()) < 1e-12


def test_errors_name_what_is_wrong(config):
    net = config.network
    with pytest.raises(ValueError, match="unknown node 'RU:NOWHERE'"):
        simulate(net, {"RU:NOWHERE": np.ones(3)}, start="2024-03-01")
    with pytest.raises(ValueError, match="no schedule for reservoir"):
        simulate(net, {"KZ:19132": np.ones(3)}, start="2024-03-01")
    with pytest.raises(ValueError, match="differ in length"):
        simulate(net, {"KZ:19132": np.ones(3), "KZ:19195": np.ones(4)}, start="2024-03-01",
                 schedules={"RU:IRIKLINSK": PassInflow(), "RU:VERKHNEURALSK": PassInflow()})


def test_local_contributions_invert_observed_differences(config):
    """Observed inflows minus routed observed outflows upstream give back the routed
    lateral inflows (linear routing; the canal is never short of water here)."""
    from hydro.scenarios import derive_local_inflow

    net = config.network
    rng = np.random.default_rng(3)
    nodes = [n for n in select_nodes(net, ["ural"]) if net.node(n).local_catchment]
    lateral = {n: 50.0 + rng.gamma(2.0, 40.0, 60) for n in nodes}
    sched = {"RU:IRIKLINSK": DailyRelease(np.full(60, 200.0)),
             "RU:VERKHNEURALSK": DailyRelease(np.full(60, 40.0))}
    ds = simulate(net, lateral, start="2024-03-01", schedules=sched,
                  initial_volume_hm3={"RU:IRIKLINSK": 2300.0, "RU:VERKHNEURALSK": 420.0})
    observed = [*(g for g in net.gauges if net.basin_of(g) == "ural"), *sched]
    obs_in = {n: (ds["reservoir_inflow"].sel(reservoir=n) if n in sched
                  else ds["outflow"].sel(node=n)).values[0] for n in observed}
    obs_out = {n: ds["outflow"].sel(node=n).values[0] for n in observed}
    derived = derive_local_inflow(net, obs_in, obs_out, ["ural"])
    simulated = local_contributions(net, lateral, observed)
    for n in observed:
        np.testing.assert_allclose(derived[n], simulated[n][0], rtol=1e-9, atol=1e-7)


# --------------------------------------------------------------------------- snowmelt

@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-30, 25), st.floats(0, 40)), min_size=1, max_size=120),
       st.floats(0, 300), st.floats(0, 3000), st.floats(0.5, 2.0), st.floats(0.5, 8.0))
def test_snowmelt_closes_its_water_balance(days, swe0, frost0, wet, ddf):
    t = np.array([d[0] for d in days])
    p = np.array([d[1] for d in days])
    init = snowmelt.SnowState(swe=swe0, frost_dd=frost0, quick=5.0, base=30.0)
    r = snowmelt.simulate(t, p, snowmelt.SnowParameters(ddf=ddf), init, wetness=wet)
    stored = init.total_storage_mm() + p.sum()
    out = r.final.total_storage_mm() + r.runoff_mm.sum() + r.loss_mm.sum()
    assert out == pytest.approx(stored, rel=1e-12, abs=1e-9)
    assert (r.runoff_mm >= 0).all() and (r.swe_mm >= -1e-12).all()


def test_degree_day_melt_by_hand():
    # 100 mm of snow, 3 days at +5 °C with ddf 4: melt 20 mm a day; no rain, no new snow
    r = snowmelt.simulate(np.full(3, 5.0), np.zeros(3), snowmelt.SnowParameters(ddf=4.0),
                          snowmelt.SnowState(swe=100.0))
    np.testing.assert_allclose(r.melt_mm, [20.0, 20.0, 20.0])
    np.testing.assert_allclose(r.swe_mm, [80.0, 60.0, 40.0])
    # below the threshold precipitation is snow and nothing melts
    r = snowmelt.simulate(np.full(2, -3.0), np.full(2, 4.0), snowmelt.SnowParameters())
    np.testing.assert_allclose(r.swe_mm, [4.0, 8.0])
    assert (r.melt_mm == 0).all()


def test_deep_frost_and_wet_autumn_raise_runoff():
    t = np.r_[np.full(20, -10.0), np.full(30, 6.0)]
    p = np.zeros(50)
    params = snowmelt.SnowParameters()
    runs = {}
    for label, frost, wet in (("shallow", 300.0, 1.0), ("deep", 2000.0, 1.0),
                              ("deep+wet", 2000.0, 1.5)):
        runs[label] = snowmelt.simulate(t, p, params, snowmelt.SnowState(swe=120.0, frost_dd=frost),
                                        wetness=wet).runoff_mm.sum()
    assert runs["shallow"] < runs["deep"] < runs["deep+wet"]


def test_season_flags():
    dates = np.arange(np.datetime64("2023-09-29"), np.datetime64("2024-03-03"))
    frost, thaw = snowmelt.season_flags(dates)
    assert list(dates[frost]) == [np.datetime64("2023-10-01")]
    assert list(dates[thaw]) == [np.datetime64("2024-03-01")]


def test_snowmelt_rejects_bad_input():
    with pytest.raises(ValueError, match="c_max \\+ recharge"):
        snowmelt.SnowParameters(c_max=0.98, recharge=0.07)
    with pytest.raises(ValueError, match="negative"):
        snowmelt.simulate(np.zeros(3), np.array([1.0, -1.0, 0.0]), snowmelt.SnowParameters())


def test_xarray_lateral_input(config):
    da = xr.DataArray(np.full((2, 1, 5), 10.0), dims=("member", "node", "time"),
                      coords={"node": ["KZ:19132"]}, attrs={"units": "m3 s-1"})
    ds = simulate(config.network, da, start="2024-03-01",
                  schedules={"RU:IRIKLINSK": PassInflow(), "RU:VERKHNEURALSK": PassInflow()})
    assert ds.sizes["member"] == 2
    with pytest.raises(ValueError, match="m3 s-1"):
        simulate(config.network, da.assign_attrs(units="l/s"), start="2024-03-01")
