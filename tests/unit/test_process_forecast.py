"""The process-model ensemble forecaster (issue 12, item 3a): hydro.process_forecast, and the
ensemble CRPS of the skill tables (hydro.forecast_skill)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import properscoring
import pytest

from hydro import network_sim
from hydro import process_forecast as pf
from hydro.forecast_skill import crps_ensemble, skill_by_lead

ISSUE = pd.Timestamp("2024-04-10")
W, H = 30, 10


def upstream_nodes(network, node: str) -> set[str]:
    out, todo = {node}, [node]
    while todo:
        for r in network.upstream_reaches(todo.pop()):
            if r.upstream not in out:
                out.add(r.upstream)
                todo.append(r.upstream)
    return out


def constant_lateral(config, basins, members: int, rate: float = 10.0):
    nodes = [n for n in network_sim.select_nodes(config.network, basins)
             if n in {x for x in pf.area_nodes(config.network, basins)}]
    past = {n: np.full(W, rate) for n in nodes}
    future = {n: np.full((members, H), rate) for n in nodes}
    return nodes, past, future


def draw(members: int) -> pf.WeatherDraw:
    return pf.WeatherDraw(np.arange(members), np.zeros(members), np.ones(members))


def test_zero_anomaly_and_pass_through_reservoirs_forecast_the_routed_current_state(config):
    """Hand check: every local catchment gives 10 m³/s before and after the issue date and
    the reservoirs pass their inflow, so each gauge's forecast is the water of its
    catchments (10 m³/s each, less the Kushum canal's withdrawal above it), unchanged
    over the leads — the routed current state — and the run's water balance closes."""
    net = config.network
    nodes, past, future = constant_lateral(config, ["ural"], 3)
    f = pf.forecast_from_lateral(net, ["ural"], ISSUE, past, future, draw(3),
                                 evaporation=False)
    assert f.dates[0] == ISSUE + pd.Timedelta(days=1) and len(f.dates) == H
    for g in ("RU:ORSK", "KZ:19071", "KZ:19072", "KZ:19802"):
        up = upstream_nodes(net, g)
        expected = 10.0 * len(up & set(nodes)) - sum(
            network_sim.withdrawal_rate(net, w) for w in up
            if w in net.nodes and net.nodes[w].kind == "withdrawal")
        assert f.raw[g] == pytest.approx(np.full((3, H), expected), rel=1e-9)
        assert f.simulated_at_issue[g] == pytest.approx(expected)
        assert f.ratio[g] == 1.0 and np.array_equal(f.members[g], f.raw[g])
    balance = network_sim.mass_balance(f.run)
    assert np.abs(balance["relative_residual"].values).max() < 1e-9


def test_a_planned_release_raises_the_river_below_by_the_released_volume(config):
    net = config.network
    _, past, future = constant_lateral(config, ["ural"], 2, rate=50.0)
    held = {"RU:IRIKLINSK": np.full(W, 200.0)}
    volume = {"RU:IRIKLINSK": 2500.0}
    base = pf.forecast_from_lateral(net, ["ural"], ISSUE, past, future, draw(2),
                                    observed_release=held, observed_volume_hm3=volume,
                                    evaporation=False)
    more = pf.forecast_from_lateral(net, ["ural"], ISSUE, past, future, draw(2),
                                    observed_release=held, observed_volume_hm3=volume,
                                    planned_release={"RU:IRIKLINSK": 500.0},
                                    evaporation=False)
    # the reservoir releases the plan (300 m³/s more), the first day within its ramp limit
    assert base.reservoirs["RU:IRIKLINSK"] == pytest.approx(np.full((2, H), 200.0))
    assert more.reservoirs["RU:IRIKLINSK"][:, 1:] == pytest.approx(np.full((2, H - 1), 500.0))
    assert 200.0 < more.reservoirs["RU:IRIKLINSK"][0, 0] <= 500.0
    diff = more.raw["RU:ORSK"] - base.raw["RU:ORSK"]
    assert (diff > -1e-9).all() and (np.diff(diff[0]) > -1e-9).all()   # more, rising
    # Muskingum K = 1 d to Orsk: most of the extra release has arrived by the end
    assert diff[0, -1] == pytest.approx(300.0, rel=0.01)
    released = pf.routed_volume_hm3(more.reservoirs["RU:IRIKLINSK"][0]
                                    - base.reservoirs["RU:IRIKLINSK"][0])
    arrived = pf.routed_volume_hm3(diff[0])
    travel = network_sim.travel_time_days(net, "RU:IRIKLINSK", "RU:ORSK")
    assert released * (1 - 2 * travel / H) < arrived <= released + 1e-9
    # and further down the river, later and smaller by the same volume in transit
    below = more.raw["KZ:19073"] - base.raw["KZ:19073"]
    assert (below > -1e-6).all() and pf.routed_volume_hm3(below[0]) < arrived
    # a lower release lowers it
    less = pf.forecast_from_lateral(net, ["ural"], ISSUE, past, future, draw(2),
                                    observed_release=held, observed_volume_hm3=volume,
                                    planned_release={"RU:IRIKLINSK": 100.0},
                                    evaporation=False)
    assert (less.raw["RU:ORSK"][:, 1:] < base.raw["RU:ORSK"][:, 1:]).all()


def test_the_reservoir_starts_from_a_volume_that_meets_the_observed_one(config):
    net = config.network
    _, past, future = constant_lateral(config, ["ural"], 1, rate=50.0)
    f = pf.forecast_from_lateral(net, ["ural"], ISSUE, past, future, draw(1),
                                 observed_release={"RU:IRIKLINSK": np.full(W, 200.0)},
                                 observed_volume_hm3={"RU:IRIKLINSK": 2500.0},
                                 evaporation=False)
    assert f.run is not None
    at_issue = float(f.run["volume"].sel(reservoir="RU:IRIKLINSK").isel(member=0, time=W - 1))
    assert at_issue == pytest.approx(2500.0, rel=1e-6)


def test_nudging_starts_the_members_from_the_observed_discharge():
    members = np.full((2, 5), 100.0)
    out, r = pf.nudge(members, simulated=100.0, observed=150.0, memory_days=np.inf)
    assert r == 1.5 and out == pytest.approx(np.full((2, 5), 150.0))
    out, r = pf.nudge(members, simulated=100.0, observed=150.0, memory_days=2.0)
    assert out[0, 0] == pytest.approx(100 * 1.5 ** np.exp(-0.5))
    assert (np.diff(out[0]) < 0).all() and (out > 100).all()         # fades with the lead
    out, r = pf.nudge(members, simulated=1.0, observed=1000.0)
    assert r == pf.MAX_RATIO                                          # bounded
    out, r = pf.nudge(members, simulated=100.0, observed=np.nan)
    assert r == 1.0 and np.array_equal(out, members)                  # nothing to nudge to


def test_the_weather_draw_is_seeded_by_the_issue_date_and_uses_every_year():
    years = list(range(2010, 2024))
    a = pf.draw_weather(years, 40, pf.issue_seed(ISSUE))
    b = pf.draw_weather(years, 40, pf.issue_seed("2024-04-10T06:00"))
    assert pf.issue_seed(ISSUE) == 20240410
    assert np.array_equal(a.years, b.years) and np.array_equal(a.temp_offset_c,
                                                               b.temp_offset_c)
    counts = np.bincount(a.years - 2010)
    assert set(counts) <= {2, 3} and counts.sum() == 40              # cycled: balanced
    c = pf.draw_weather(years, 40, pf.issue_seed("2024-04-11"))
    assert not np.array_equal(a.years, c.years)
    assert a.precip_factor.mean() == pytest.approx(1.0, abs=0.15)
    with pytest.raises(ValueError, match="no historical year"):
        pf.draw_weather([], 5, 1)


def test_quantiles_bracket_the_median():
    rng = np.random.default_rng(3)
    m = rng.gamma(2.0, 100.0, (40, 10))
    med, lo, hi = pf.quantiles(m, 0.1)
    assert ((lo <= med) & (med <= hi)).all()
    assert med == pytest.approx(np.median(m, axis=0))


# --------------------------------------------------------------------------- CRPS

def test_crps_of_a_perfect_ensemble_is_zero_and_matches_properscoring():
    assert float(crps_ensemble(3.0, [3.0] * 7)) == 0.0
    obs, ens = 2.0, [0.0, 1.0, 4.0]
    # E|X − y| − ½ E|X − X'| = (2 + 1 + 2)/3 − ½ (0+1+4+1+0+3+4+3+0)/9 = 5/3 − 8/9
    assert float(crps_ensemble(obs, ens)) == pytest.approx(5 / 3 - 8 / 9)
    assert float(crps_ensemble(obs, ens)) == pytest.approx(
        float(properscoring.crps_ensemble(obs, np.array(ens))))


def test_skill_tables_score_ensembles_and_point_forecasts_side_by_side():
    """A backtest frame as services.forecasts.backtest makes it: point forecasts with
    member NaN, the process ensemble one row per member."""
    rows = []
    for i, issue in enumerate(pd.date_range("2024-04-01", periods=4, freq="5D")):
        for lead in (1, 2):
            obs = 100.0 + 10 * i + lead
            rows.append({"issue_time": issue, "lead_days": lead, "method": "persistence",
                         "forecast": 100.0 + 10 * i, "observed": obs, "member": np.nan})
            rows.append({"issue_time": issue, "lead_days": lead, "method": "climatology",
                         "forecast": 80.0, "observed": obs, "member": np.nan})
            for m in range(5):       # a perfect ensemble
                rows.append({"issue_time": issue, "lead_days": lead, "method": "process",
                             "forecast": obs, "observed": obs, "member": float(m)})
    table = skill_by_lead(pd.DataFrame(rows)).set_index(["method", "lead_days"])
    assert table.loc[("process", 1), "crps"] == 0.0
    assert table.loc[("process", 2), "skill_crps_vs_persistence"] == 1.0
    assert table.loc[("process", 2), "skill_crps_vs_climatology"] == 1.0
    assert table.loc[("persistence", 2), "crps"] == pytest.approx(2.0)   # its abs error
    assert table.loc[("process", 1), "n"] == 4
    assert bool(table.loc[("process", 1), "beats_persistence"])
