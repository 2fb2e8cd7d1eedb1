"""Water balance: reservoirs, river segments and border accounting (hydro.balance).

Hand-worked balances with known answers, the bundled reservoir files (synthetic, rounded
to 0.001), a hypothesis property test on random mass-conserving networks, and the Ural
border table on the bundled Yanvartsevo series checked against an independent sum.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydro.balance import (
    SEASONS,
    border_gauges,
    border_table,
    border_volumes,
    control_volume,
    daily_series,
    period_of,
    reach_balance,
    reservoir_balance,
    reservoir_balance_from_table,
    route_through,
    segment_balance,
    travel_time_days,
)
from hydro.config import BasinsFile, build_network
from hydro.routing import lag_route, muskingum_cascade
from hydro.units import discharge_to_volume

DATA = ROOT / "data" / "gauges"
HM3_PER_M3S_DAY = discharge_to_volume(1.0)  # 0.0864


def _days(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="D")


# --------------------------------------------------------------------------- inputs

def test_daily_series_labels_local_dates_and_separates_parties():
    # 00:00 local in Asia/Oral (UTC+5) is 19:00 UTC the day before
    utc = pd.to_datetime(["2009-12-31 19:00", "2010-01-01 19:00"])
    frame = pd.DataFrame({"time": list(utc) * 2, "value": [1.0, 2.0, 1.5, 2.5],
                          "party": ["KZ", "KZ", "RU", "RU"]})
    with pytest.raises(ValueError, match="several parties .*KZ, RU.*pass party"):
        daily_series(frame, "Asia/Oral")
    s = daily_series(frame, "Asia/Oral", party="RU")
    assert list(s.index) == [pd.Timestamp("2010-01-01"), pd.Timestamp("2010-01-02")]
    assert list(s) == [1.5, 2.5]
    twice = pd.DataFrame({"time": pd.to_datetime(["2010-01-01 01:00", "2010-01-01 07:00"]),
                          "value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="more than one value on local date 2010-01-01"):
        daily_series(twice, "Asia/Oral")


def test_series_must_be_labelled_by_local_date():
    q = pd.Series(1.0, index=_days("2020-01-01", 3))
    with pytest.raises(ValueError, match="time-zone aware"):
        reach_balance(q, q.tz_localize("UTC"))
    with pytest.raises(ValueError, match=r"time of day \(2020-01-01 06:00"):
        reach_balance(q, q.set_axis(q.index + pd.Timedelta(hours=6)))
    with pytest.raises(ValueError, match="duplicate date 2020-01-01"):
        reach_balance(q, pd.Series([1.0, 1.0], index=pd.to_datetime(["2020-01-01"] * 2)))
    with pytest.raises(TypeError, match="expected a pandas Series"):
        reach_balance([1.0, 2.0, 3.0], q)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reservoirs

def test_reservoir_balance_hand_worked():
    days = _days("2020-01-30", 4)
    # storage at the end of each day; day 4 loses 0.1 hm3 more than the flows explain
    volume = pd.Series([100.0, 100.864, 101.0368, 99.9], index=days)
    inflow = pd.Series([10.0, 20.0, 10.0, 0.0], index=days)
    outflow = pd.Series([10.0, 10.0, 8.0, 12.0], index=days)
    d = reservoir_balance(volume, inflow, outflow)
    assert np.isnan(d["residual_hm3"].iloc[0])  # no storage change without the day before
    assert d["storage_change_hm3"].iloc[1:].tolist() == pytest.approx([0.864, 0.1728, -1.1368])
    assert d["residual_hm3"].iloc[1:].tolist() == pytest.approx([0.0, 0.0, 0.1], abs=1e-12)
    # throughput of day 4: (0 + 12 m3/s)/2 for a day = 0.5184 hm3; 0.1 of it is 19.29 %
    assert d["throughput_hm3"].iloc[3] == pytest.approx(0.5184)
    assert d["residual_percent"].iloc[3] == pytest.approx(100 * 0.1 / 0.5184)
    assert d["flagged"].tolist() == [False, False, False, True]
    assert not reservoir_balance(volume, inflow, outflow, tolerance_percent=20.0)["flagged"].any()
    assert not reservoir_balance(volume, inflow, outflow, rounding_hm3=0.1)["flagged"].any()

    m = reservoir_balance(volume, inflow, outflow, period="month")
    assert [str(p) for p in m.index] == ["2020-01", "2020-02"]
    assert m["n_days"].tolist() == [1, 2] and m["days_in_period"].tolist() == [31, 29]
    assert m["residual_hm3"].tolist() == pytest.approx([0.0, 0.1], abs=1e-12)
    assert m["storage_change_hm3"].iloc[1] == pytest.approx(99.9 - 100.864)
    with_start = reservoir_balance(volume, inflow, outflow, period="month", initial_volume=100.0)
    assert with_start["n_days"].tolist() == [2, 2]


def test_reservoir_balance_with_evaporation_and_withdrawals():
    days = _days("2021-06-01", 30)
    inflow = pd.Series(50.0, index=days)
    outflow = pd.Series(40.0, index=days)
    evap, intakes = 1.0, {"canal": pd.Series(1.5, index=days), "town": 0.5}
    net = (50.0 - 40.0 - 1.0 - 2.0) * HM3_PER_M3S_DAY
    volume = pd.Series(1000.0 + net * np.arange(1, 31), index=days)
    d = reservoir_balance(volume, inflow, outflow, evap, intakes, initial_volume=1000.0)
    assert d["residual_hm3"].abs().max() < 1e-9
    assert d["withdrawal_hm3"].iloc[0] == pytest.approx(2.0 * HM3_PER_M3S_DAY)
    m = reservoir_balance(volume, inflow, outflow, evap, intakes, initial_volume=1000.0,
                          period="month")
    assert m["evaporation_hm3"].iloc[0] == pytest.approx(30 * HM3_PER_M3S_DAY)
    assert m["throughput_hm3"].iloc[0] == pytest.approx(0.5 * (50 + 40 + 1 + 2) * 30 * 0.0864)
    # forgetting the intakes leaves them in the residual: 2 m3/s for 30 days
    m2 = reservoir_balance(volume, inflow, outflow, evap, initial_volume=1000.0, period="month")
    assert m2["residual_hm3"].iloc[0] == pytest.approx(2.0 * 30 * HM3_PER_M3S_DAY)
    # a missing inflow day leaves that day out of the month
    gap = inflow.drop(days[10])
    m3 = reservoir_balance(volume, gap, outflow, evap, intakes, initial_volume=1000.0,
                           period="month")
    assert m3["n_days"].iloc[0] == 29 and abs(m3["residual_hm3"].iloc[0]) < 1e-9


def test_reservoir_balance_rejects_bad_options():
    s = pd.Series(1.0, index=_days("2020-01-01", 3))
    with pytest.raises(ValueError, match="period must be 'day' or 'month'"):
        reservoir_balance(s, s, s, period="year")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tolerance_percent must be positive"):
        reservoir_balance(s, s, s, tolerance_percent=0)
    with pytest.raises(ValueError, match="lacks column 'outflow_m3s'"):
        reservoir_balance_from_table(pd.DataFrame({"date": ["2020-01-01"], "volume_hm3": [1.0],
                                                   "inflow_m3s": [1.0]}))


#: rounding of one day's balance in the bundled files: two volumes to 0.0005 hm3, inflow and
#: outflow to 0.0005 m3/s, evaporation to 0.00005 m3/s
FILE_ROUNDING_HM3 = 2 * 0.0005 + (0.0005 + 0.0005 + 0.00005) * HM3_PER_M3S_DAY


@pytest.mark.parametrize("path", sorted((DATA / "reservoirs").glob("*.csv")), ids=lambda p: p.stem)
def test_bundled_reservoirs_close(config, path: Path):
    table = pd.read_csv(path, sep=";", comment="#")
    res = config.network.reservoirs[table["station"].iloc[0]]
    tol = res.balance_tolerance_percent
    monthly = reservoir_balance_from_table(table, period="month", tolerance_percent=tol)
    assert len(monthly) == 180 and monthly["n_days"].sum() == len(table) - 1
    assert not monthly["flagged"].any()
    assert monthly["residual_percent"].abs().max() < tol
    daily = reservoir_balance_from_table(table, tolerance_percent=tol,
                                         rounding_hm3=FILE_ROUNDING_HM3)
    assert daily["residual_hm3"].abs().max() <= FILE_ROUNDING_HM3
    assert not daily["flagged"].any()
    # without the rounding allowance only days whose residual is rounding are above 1 %
    plain = reservoir_balance_from_table(table, tolerance_percent=tol)
    assert (plain.loc[plain["flagged"], "residual_hm3"].abs() <= FILE_ROUNDING_HM3).all()


# --------------------------------------------------------------------------- reaches

def test_reach_balance_hand_worked():
    days = _days("2022-04-01", 30)
    c = lambda v: pd.Series(v, index=days)  # noqa: E731
    t = reach_balance(c(114.0), c(100.0), {"trib": c(20.0)}, lateral=5.0,
                      withdrawals={"canal": c(10.0)})
    row = t.iloc[0]
    assert row["upstream_hm3"] == pytest.approx(100 * 30 * 0.0864)
    assert row["residual_hm3"] == pytest.approx((100 + 20 + 5 - 10 - 114) * 30 * 0.0864)
    assert row["throughput_hm3"] == pytest.approx(0.5 * (125 + 124) * 30 * 0.0864)
    assert row["n_days"] == 30
    daily = reach_balance(c(114.0), c(100.0), {"trib": c(20.0)}, 5.0, c(10.0), period="day")
    assert daily["residual_hm3"].tolist() == pytest.approx([0.0864] * 30)


def test_control_volume_on_the_configured_ural(config):
    net = config.network
    cv = control_volume(net, "KZ:19071")
    assert set(cv.inflows) == {"KZ:19073", "KZ:19198"} and not cv.withdrawals
    assert [r.id for r in cv.inflows["KZ:19073"]] == ["19073--19071"]
    cv = control_volume(net, "KZ:19072")
    assert set(cv.inflows) == {"KZ:19071"} and set(cv.withdrawals) == {"WITHDRAWAL:kushum-canal"}
    assert [r.id for r in cv.inflows["KZ:19071"]] == ["19071--kushum-canal",
                                                      "kushum-canal--19072"]
    # walking through Uralsk: the segment Yanvartsevo + Shagan -> Kushum
    cv = control_volume(net, "KZ:19072", stop_at=["KZ:19073", "KZ:19198"])
    assert "KZ:19071" in cv.internal
    # K 3.0 d (19073--19071) + K 2.5 d (19071--kushum-canal) + lag 0 d (kushum-canal--19072)
    assert travel_time_days(cv.inflows["KZ:19073"]) == pytest.approx(5.5)
    cv = control_volume(net, "RU:ORSK")
    assert set(cv.inflows) == {"RU:IRIKLINSK", "KZ:19132"}
    assert set(cv.internal) == {"BORDER:or-kz-ru"}
    with pytest.raises(ValueError, match="reservoir 'RU:IRIKLINSK' lies inside"):
        control_volume(net, "RU:ORSK", stop_at=["RU:VERKHNEURALSK", "KZ:19132"])
    with pytest.raises(ValueError, match="no gauge or reservoir upstream of 'KZ:11003'"):
        control_volume(net, "KZ:11003")
    with pytest.raises(ValueError, match="stop_at: KZ:19073 does not bound"):
        control_volume(net, "KZ:19072", stop_at=["KZ:19071", "KZ:19073"])
    with pytest.raises(ValueError, match="unknown node 'KZ:NOPE'"):
        control_volume(net, "KZ:NOPE")


def test_segment_balance_terms_and_messages(config):
    net = config.network
    days = _days("2020-01-01", 90)
    rng = np.random.default_rng(1)
    up = pd.Series(300 + 50 * rng.random(90), index=days)
    trib = pd.Series(10 + rng.random(90), index=days)
    # Uralsk = Yanvartsevo routed through 19073--19071 (Muskingum K 3 d, x 0.1) + Shagan
    routed = muskingum_cascade(up.to_numpy(), 3.0, 0.1, 1.0)
    down = pd.Series(routed + trib.to_numpy(), index=days)
    t = segment_balance(net, "KZ:19071", down, {"KZ:19073": up, "KZ:19198": trib})
    assert t["residual_hm3"].abs().max() < 1e-9
    assert t.attrs["upstream"] == ["KZ:19073"] and t.attrs["tributaries"] == ["KZ:19198"]
    unrouted = segment_balance(net, "KZ:19071", down, {"KZ:19073": up, "KZ:19198": trib},
                               route=False)
    assert unrouted["residual_hm3"].abs().max() > 1e-3
    with pytest.raises(ValueError, match="needs the discharge of KZ:19073, KZ:19198; missing: "
                                         "KZ:19198"):
        segment_balance(net, "KZ:19071", down, {"KZ:19073": up})
    # Kushum: the canal is charged its nominal 12 m3/s when no series is given, and says so
    # (Uralsk routed through 19071--kushum-canal, Muskingum K 2.5 d, x 0.15, then lag 0)
    at_kushum = pd.Series(muskingum_cascade(up.to_numpy(), 2.5, 0.15, 1.0), index=days)
    kushum = segment_balance(net, "KZ:19072", at_kushum - 12.0, {"KZ:19071": up})
    assert kushum["residual_hm3"].abs().max() < 1e-9
    assert "nominal rate 12 m3/s" in kushum.attrs["notes"][0]
    with pytest.raises(ValueError, match="withdrawals: WITHDRAWAL:x is not a withdrawal node"):
        segment_balance(net, "KZ:19072", up, {"KZ:19071": up}, withdrawals={"WITHDRAWAL:x": 1.0})
    with pytest.raises(ValueError, match="lateral: node 'KZ:19198' is not inside"):
        segment_balance(net, "KZ:19072", up, {"KZ:19071": up}, lateral={"KZ:19198": up})
    holed = up.drop(days[40])
    with pytest.raises(ValueError, match="KZ:19073: 1 missing day.*first 2020-02-10.*route=False"):
        segment_balance(net, "KZ:19071", down, {"KZ:19073": holed, "KZ:19198": trib})


def test_route_through_lag_shifts_by_whole_days(config):
    reach = next(r for r in config.network.reaches if r.id == "ilek-kz-ru--ural-ilek")  # lag 1 d
    q = pd.Series([1.0, 5.0, 3.0, 2.0], index=_days("2020-01-01", 4))
    assert route_through(q, [reach]).tolist() == [1.0, 1.0, 5.0, 3.0]


# ------------------------------------------------- property: random mass-conserving networks

NAMES = {"kk": "x", "ru": "x", "en": "x"}
KINDS = ["gauge", "reservoir", "confluence", "withdrawal", "border"]


def _gauge(gid: str, river: str) -> dict:
    return {"id": gid, "basin": "b", "river": river, "country": "KZ", "names": NAMES,
            "lat": 50.0, "lon": 50.0, "coord_source": "test", "timezone": "Asia/Oral",
            "datums": [{"zero": "0 m", "valid_from": dt.date(2000, 1, 1), "status": "synthetic"}],
            "source": "test"}


def _reservoir(rid: str) -> dict:
    return {"id": rid, "basin": "b", "river": "R", "country": "KZ", "names": NAMES,
            "timezone": "Asia/Oral",
            "storage_table": {"level_unit": "m", "volume_unit": "hm3", "area_unit": "km2",
                              "level": [0, 10, 20], "volume": [0, 1000, 50000],
                              "area": [0, 100, 300]},
            "npu": "15 m", "fpu": "18 m", "umo": "2 m",
            "outlet_capacity": {"level_unit": "m", "discharge_unit": "m3/s", "level": [0, 20],
                                "discharge": [0, 5000]},
            "min_release": "0 m3/s", "max_ramp_per_day": "100 m3/s", "source": "test"}


@st.composite
def networks(draw):
    """A random tree draining to gauge 0, its routing, and the daily flows it carries."""
    n = draw(st.integers(2, 7))
    parents = [None] + [draw(st.integers(0, i - 1)) for i in range(1, n)]
    kinds = ["gauge"] + [draw(st.sampled_from(KINDS)) for _ in range(1, n)]
    for i in range(1, n):  # an intake needs water from upstream: give a leaf intake a gauge
        if kinds[i] == "withdrawal" and i not in parents:
            parents.append(i)
            kinds.append("gauge")
    n = len(parents)
    children = {i: [j for j in range(n) if parents[j] == i] for i in range(n)}
    ids, raw = [], {"gauges": [], "reservoirs": [], "nodes": [], "reaches": []}
    for i, kind in enumerate(kinds):
        if kind == "gauge":
            ids.append(f"KZ:G{i}")
            raw["gauges"].append(_gauge(ids[-1], draw(st.sampled_from(["R", "T"])) if i else "R"))
        elif kind == "reservoir":
            ids.append(f"KZ:RES{i}")
            raw["reservoirs"].append(_reservoir(ids[-1]))
        else:
            ids.append(f"{kind.upper()}:n{i}")
            node = {"id": ids[-1], "kind": kind, "basin": "b", "names": NAMES}
            if kind == "withdrawal":
                node["withdrawal"] = "5 m3/s"
            if kind == "border":
                node.update(from_country="RU", to_country="KZ")
            raw["nodes"].append(node)
    for i in range(1, n):
        if draw(st.booleans()):
            routing = {"method": "lag", "lag": f"{draw(st.floats(0.0, 3.0)):.3f} d"}
        else:
            routing = {"method": "muskingum", "k": f"{draw(st.floats(0.2, 3.0)):.3f} d",
                       "x": round(draw(st.floats(0.0, 0.5)), 3)}
        raw["reaches"].append({"id": f"r{i}", "upstream": ids[i], "downstream": ids[parents[i]],
                               "routing": routing})
    raw["basins"] = [{"id": "b", "names": NAMES, "rivers": ["R", "T"], "outlet": ids[0]}]
    network = build_network(BasinsFile.model_validate(raw), Path("<test>"))
    start = pd.Timestamp("2019-11-01") + pd.Timedelta(days=draw(st.integers(0, 60)))
    days = pd.date_range(start, periods=draw(st.integers(200, 500)), freq="D")
    seed = draw(st.integers(0, 2**32 - 1))
    return network, ids, parents, kinds, children, days, seed


def _simulate(network, ids, parents, kinds, children, days, seed):
    """Mass-conserving flows: every node passes its routed inflow plus its own lateral
    inflow; intakes take a seasonal demand up to a third of the flow; reservoirs store
    exactly what they do not pass."""
    rng = np.random.default_rng(seed)
    n, size = len(ids), days.size
    phase = 2 * np.pi * np.arange(size) / 365.25
    lateral = {}
    for i in range(n):
        if not children[i] or rng.random() < 0.5:
            lateral[i] = (rng.uniform(1, 200) * (1.2 + np.sin(phase + rng.uniform(0, 6)))
                          * rng.uniform(0.8, 1.2, size))
    reach_of = {r.upstream: r for r in network.reaches}
    inflow, outflow, taken, res = {}, {}, {}, {}
    for i in reversed(range(n)):  # children have higher indices than their parent
        q = lateral.get(i, np.zeros(size)).copy()
        for c in children[i]:
            rt = reach_of[ids[c]].routing
            q += (lag_route(outflow[c], rt.lag.to("duration"), 1.0) if rt.method == "lag"
                  else muskingum_cascade(outflow[c], rt.k.to("duration"), rt.x, 1.0))
        inflow[i] = q
        if kinds[i] == "withdrawal":
            demand = rng.uniform(1, 10) * (1 + 0.8 * np.sin(phase + rng.uniform(0, 6)))
            taken[i] = np.minimum(demand, q / 3.0)
            outflow[i] = q - taken[i]
        elif kinds[i] == "reservoir":
            release = np.clip(rng.uniform(0.3, 1.0) * q + rng.uniform(0, 50), 0, None)
            evap = rng.uniform(0, 2) * (1 + np.sin(phase))
            intake = np.full(size, rng.uniform(0, 3))
            v0 = 20000.0
            volume = v0 + np.cumsum(discharge_to_volume(q - release - evap - intake))
            res[i] = (v0, volume, release, evap, intake)
            outflow[i] = release
        else:
            outflow[i] = q
    return lateral, inflow, outflow, taken, res


def _drains_to(i, d, parents, stops):
    """Does node i drain to d without passing another stop on the way?"""
    j = parents[i]
    while j is not None and j != d:
        if j in stops:
            return False
        j = parents[j]
    return j == d


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_balance_closes_on_random_mass_conserving_networks(case):
    network, ids, parents, kinds, children, days, seed = case
    lateral, inflow, outflow, taken, res = _simulate(network, ids, parents, kinds, children,
                                                     days, seed)
    s = lambda a: pd.Series(a, index=days)  # noqa: E731
    observed = {i for i, k in enumerate(kinds) if k in ("gauge", "reservoir")}

    def assert_rounding_level(table):
        scale = 1.0 + table["throughput_hm3"].abs()
        assert (table["residual_hm3"].abs() <= 1e-10 * scale).all(), table["residual_hm3"].abs().max()

    for i, (v0, volume, release, evap, intake) in res.items():
        for period in ("day", "month"):
            t = reservoir_balance(s(volume), s(inflow[i]), s(release), s(evap), s(intake),
                                  period=period, initial_volume=v0)
            assert_rounding_level(t)
            assert not t["flagged"].any()
        assert t["n_days"].sum() == days.size

    def check_segment(d, stops):
        inside = [i for i in range(len(ids)) if i not in stops and _drains_to(i, d, parents, stops)]
        bounds = [i for i in stops if _drains_to(i, d, parents, stops)]
        if not bounds:
            return
        downstream = inflow[d] if kinds[d] == "reservoir" else outflow[d]
        lat = {ids[i]: s(lateral[i]) for i in [*inside, d] if i in lateral}
        stop_at = None if stops == observed else [ids[i] for i in bounds]
        for period in ("day", "month"):
            t = segment_balance(network, ids[d], s(downstream),
                                {ids[i]: s(outflow[i]) for i in bounds},
                                withdrawals={ids[i]: s(taken[i]) for i in inside if i in taken},
                                lateral=lat or None, stop_at=stop_at, period=period)
            assert_rounding_level(t)
            assert t.attrs["notes"] == []
        assert sorted(t.attrs["upstream"] + t.attrs["tributaries"]) == sorted(ids[i]
                                                                              for i in bounds)

    for d in sorted(observed):
        check_segment(d, observed)  # between adjacent observed nodes
    # the whole tree above gauge 0, walking through gauges: only reservoirs and leaves bound it
    leaves_and_reservoirs = {i for i in observed if kinds[i] == "reservoir" or not children[i]}
    check_segment(0, leaves_and_reservoirs - {0})


@settings(max_examples=25, deadline=None)
@given(st.integers(30, 120), st.integers(0, 2**32 - 1))
def test_reservoir_residual_of_rounded_records_is_bounded_by_the_rounding(n, seed):
    """A record written to 0.001 hm3 and 0.001 m3/s closes to within its rounding."""
    rng = np.random.default_rng(seed)
    days = _days("2023-01-01", n)
    q_in = rng.uniform(0, 50, n)
    q_out = rng.uniform(0, 50, n)
    volume = 500 + np.cumsum(discharge_to_volume(q_in - q_out))
    t = reservoir_balance(*(pd.Series(np.round(a, 3), index=days) for a in (volume, q_in, q_out)))
    bound = 2 * 0.0005 + 2 * 0.0005 * HM3_PER_M3S_DAY
    assert t["residual_hm3"].abs().max() <= bound + 1e-12


# --------------------------------------------------------------------------- borders

EXPECTED_BORDER_GAUGES = {
    "BORDER:ural-ru-kz": ("KZ:19073", "downstream", True),
    "BORDER:irtysh-kz-ru": ("KZ:11041", "upstream", True),
    "BORDER:tobol-kz-ru": ("KZ:12009", "upstream", True),
    "BORDER:ishim-kz-ru": ("KZ:11646", "upstream", True),
    "BORDER:irtysh-cn-kz": ("KZ:11003", "downstream", True),
    "BORDER:or-kz-ru": ("KZ:19132", "upstream", False),  # Orsk below also gets Iriklinsk
    "BORDER:ilek-kz-ru": ("KZ:19201", "upstream", False),  # below is the Ural confluence
}


def test_border_gauges_walk_the_configured_network(config):
    found = border_gauges(config.network, strict=True)
    assert {k: (v.gauge_id, v.position, v.gauge_flagged_border) for k, v in found.items()} == (
        EXPECTED_BORDER_GAUGES)
    ural = found["BORDER:ural-ru-kz"]
    assert (ural.from_country, ural.to_country) == ("RU", "KZ")
    assert ural.reaches == ("ural-ru-kz--19073",) and ural.travel_time_days == 3.0  # K 3 d


def test_border_without_a_gauge_on_its_channel():
    raw = {
        "basins": [{"id": "b", "names": NAMES, "rivers": ["R"], "outlet": "KZ:G0"}],
        "gauges": [_gauge("KZ:G0", "R"), _gauge("KZ:G1", "R"), _gauge("KZ:G2", "T")],
        "nodes": [{"id": "BORDER:x", "kind": "border", "basin": "b", "names": NAMES,
                   "from_country": "RU", "to_country": "KZ"},
                  {"id": "CONF:c", "kind": "confluence", "basin": "b", "names": NAMES}],
        "reaches": [{"id": "ra", "upstream": "KZ:G1", "downstream": "CONF:c",
                     "routing": {"method": "lag", "lag": "0 d"}},
                    {"id": "rb", "upstream": "KZ:G2", "downstream": "CONF:c",
                     "routing": {"method": "lag", "lag": "0 d"}},
                    {"id": "rc", "upstream": "CONF:c", "downstream": "BORDER:x",
                     "routing": {"method": "lag", "lag": "0 d"}},
                    {"id": "rd", "upstream": "BORDER:x", "downstream": "KZ:G0",
                     "routing": {"method": "lag", "lag": "0 d"}}],
    }
    net = build_network(BasinsFile.model_validate(raw), Path("<test>"))
    assert border_gauges(net)["BORDER:x"].gauge_id == "KZ:G0"
    raw["reaches"][3]["downstream"] = "CONF:c2"
    raw["nodes"].append({"id": "CONF:c2", "kind": "confluence", "basin": "b", "names": NAMES})
    raw["reaches"].append({"id": "re", "upstream": "CONF:c2", "downstream": "KZ:G0",
                           "routing": {"method": "lag", "lag": "0 d"}})
    raw["gauges"].append(_gauge("KZ:G3", "T"))
    raw["reaches"].append({"id": "rf", "upstream": "KZ:G3", "downstream": "CONF:c2",
                           "routing": {"method": "lag", "lag": "0 d"}})
    net = build_network(BasinsFile.model_validate(raw), Path("<test>"))
    assert border_gauges(net) == {}
    with pytest.raises(ValueError, match="no gauge represents border node.* BORDER:x"):
        border_gauges(net, strict=True)


def test_water_years_and_seasons():
    dates = pd.to_datetime(["2010-02-28", "2010-03-01", "2011-01-15", "2012-02-29"])
    wy = period_of(dates, "water_year")
    assert wy["year"].tolist() == [2009, 2010, 2010, 2011]
    assert wy["label"].tolist() == ["2009/10", "2010/11", "2010/11", "2011/12"]
    assert wy["start"].iloc[2] == pd.Timestamp("2010-03-01")
    assert wy["end"].tolist()[2:] == [pd.Timestamp("2011-02-28"), pd.Timestamp("2012-02-29")]
    se = period_of(dates, "season")
    assert se["group"].tolist() == ["winter", "spring_flood", "winter", "winter"]
    assert se["label"].tolist() == ["2009 winter", "2010 spring_flood", "2010 winter",
                                    "2011 winter"]
    assert se["end"].iloc[3] == pd.Timestamp("2012-02-29")
    assert period_of(dates, "water_year", water_year_start_month=10)["year"].tolist() == [
        2009, 2009, 2010, 2011]
    assert period_of(dates, "water_year", water_year_start_month=1)["label"].iloc[0] == "2010"
    with pytest.raises(ValueError, match="month 3 is in both season 'a' and 'b'"):
        period_of(dates, "season", seasons={"a": (1, 2, 3), "b": (3, 4)})
    with pytest.raises(ValueError, match="season 'a': months \\(3, 5\\) are not consecutive"):
        period_of(dates, "season", seasons={"a": (3, 5)})
    with pytest.raises(ValueError, match="period must be 'month', 'season' or 'water_year'"):
        period_of(dates, "decade")  # type: ignore[arg-type]
    assert set(SEASONS) == {"spring_flood", "summer_autumn", "winter"}


def _stepped_series(first_wy: int, last_wy: int) -> pd.Series:
    """Discharge constant within each water year: q = water year - 1984 m3/s."""
    days = pd.date_range(f"{first_wy}-03-01", f"{last_wy + 1}-02-28", freq="D")
    wy = days.year - (days.month < 3)
    return pd.Series((wy - 1984).astype(float), index=days)


def test_border_volumes_norm_and_percentile_over_the_base_period():
    q = _stepped_series(1985, 2024)
    t = border_volumes(q).set_index("year")
    assert len(t) == 40 and t["volume_hm3"].notna().all()
    days = t["n_expected"]
    assert t.loc[2000, "volume_hm3"] == pytest.approx(16 * days[2000] * 0.0864)
    assert t.loc[2000, "volume_km3"] == pytest.approx(t.loc[2000, "volume_hm3"] / 1000)
    base = t.loc[1991:2020, "volume_hm3"]
    assert t["norm_hm3"].unique() == pytest.approx([base.mean()])
    assert t.loc[2000, "norm_basis"] == "base period 1991–2020 (30 of 30 values)"
    # in the base: rank 10 of 30 -> 100*10/31; outside: ranked with the 30 base values
    assert t.loc[2000, "percentile"] == pytest.approx(100 * 10 / 31)
    assert t.loc[2024, "percentile"] == pytest.approx(100 * 31 / 32)
    assert t.loc[1985, "percentile"] == pytest.approx(100 * 1 / 32)
    assert t.loc[1985, "exceedance_percent"] == pytest.approx(100 * 31 / 32)
    assert t.loc[2010, "anomaly_hm3"] == pytest.approx(t.loc[2010, "volume_hm3"] - base.mean())
    assert t.loc[2010, "percent_of_norm"] == pytest.approx(
        100 * t.loc[2010, "volume_hm3"] / base.mean())
    # 26 of 30 base years is enough (>= 80 %), 23 is not: then the whole record, said so
    assert border_volumes(_stepped_series(1995, 2024))["norm_basis"].iloc[0] == (
        "base period 1991–2020 (26 of 30 values)")
    short = border_volumes(_stepped_series(1998, 2024))
    assert short["norm_basis"].iloc[0] == ("whole record 1998–2024 (27 values): base period "
                                           "1991–2020 has only 23 of 30")
    assert short["norm_hm3"].iloc[0] == pytest.approx(short["volume_hm3"].mean())
    assert border_volumes(q, base_period=None)["norm_basis"].iloc[0] == (
        "whole record 1985–2024 (40 values)")


def test_border_volumes_months_gaps_and_low_water():
    days = pd.date_range("2024-01-01", "2024-03-31", freq="D")
    q = pd.Series(5.0, index=days)
    q["2024-02-10":"2024-02-12"] = 1.0
    t = border_volumes(q, period="month", environmental_min_m3s=2.0).set_index("label")
    assert t.loc["2024-02", "n_expected"] == 29
    assert t.loc["2024-02", "volume_hm3"] == pytest.approx((26 * 5 + 3 * 1) * 0.0864)
    assert t["days_below_env_min"].tolist() == [0, 3, 0]
    assert t["low_water"].tolist() == [False, True, False]
    assert t.loc["2024-02", "min_daily_m3s"] == 1.0
    assert border_volumes(q, period="month")["low_water"].isna().all()
    gap = q.drop(pd.Timestamp("2024-03-15"))
    t = border_volumes(gap, period="month").set_index("label")
    assert np.isnan(t.loc["2024-03", "volume_hm3"]) and t.loc["2024-03", "n_days"] == 30
    t = border_volumes(gap, period="month", min_coverage=0.95).set_index("label")
    assert t.loc["2024-03", "volume_hm3"] == pytest.approx(30 * 5 * 0.0864)


def test_border_table_for_every_border_node(config):
    days = pd.date_range("2015-03-01", "2020-02-29", freq="D")
    discharge = {g: pd.Series(float(i + 1), index=days)
                 for i, (g, _, _) in enumerate(EXPECTED_BORDER_GAUGES.values())}
    t = border_table(config.network, discharge, environmental_min_m3s={"BORDER:ural-ru-kz": 1.5})
    assert set(t["border_id"]) == set(EXPECTED_BORDER_GAUGES) and len(t) == 7 * 5
    ural = t[t["border_id"] == "BORDER:ural-ru-kz"]
    assert (ural["gauge_id"] == "KZ:19073").all() and ural["low_water"].all()
    assert t[t["border_id"] == "BORDER:or-kz-ru"]["low_water"].isna().all()
    del discharge["KZ:19132"]
    with pytest.raises(ValueError, match="no discharge series for 'KZ:19132'.*BORDER:or-kz-ru"):
        border_table(config.network, discharge)
    assert border_table(config.network, discharge, missing="skip").attrs["skipped"] == [
        "BORDER:or-kz-ru"]


# ------------------------------------------------------------- the bundled Ural border table

@pytest.fixture(scope="module")
def yanvartsevo(config):
    from hydro.readers import read_file

    batch = read_file(DATA / "grdc" / "KZ_19073_Q_Day.Cmd.txt", config)
    return daily_series(batch.observations, config.network.gauges["KZ:19073"].timezone)


def test_ural_border_table_on_bundled_data(yanvartsevo):
    """Water-year volumes across the Ural RU->KZ border (Yanvartsevo, SYNTHETIC data)
    against an independent sum of the file's lines."""
    lines = [ln.split(";") for ln in (DATA / "grdc" / "KZ_19073_Q_Day.Cmd.txt")
             .read_text(encoding="utf-8").splitlines() if ln[:2].isdigit()]
    raw = pd.Series([float(v) for _, _, v in lines],
                    index=pd.to_datetime([d for d, _, _ in lines]))
    assert yanvartsevo.index[0] == pd.Timestamp("2010-01-01")
    assert yanvartsevo.to_numpy() == pytest.approx(raw.to_numpy())

    t = border_volumes(yanvartsevo, period="water_year", base_period=None).set_index("year")
    complete = t["volume_hm3"].dropna()
    assert list(complete.index) == list(range(2010, 2024))  # Mar 2010 - Feb 2024
    assert math.isnan(t.loc[2009, "volume_hm3"]) and math.isnan(t.loc[2024, "volume_hm3"])
    for year in (2010, 2017, 2023):
        expected = raw[f"{year}-03-01":f"{year + 1}-02-28" if year % 4 != 3 else
                       f"{year + 1}-02-29"].sum() * 86400 / 1e6
        assert t.loc[year, "volume_hm3"] == pytest.approx(expected, rel=1e-12)
    assert t["norm_hm3"].iloc[0] == pytest.approx(complete.mean())
    assert t["norm_basis"].iloc[0] == "whole record 2010–2023 (14 values)"
    assert sorted(t["percentile"].dropna()) == pytest.approx([100 * r / 15 for r in range(1, 15)])
    # the seasons nest in the water year: their volumes add up to it
    seasons = border_volumes(yanvartsevo, period="season", base_period=None)
    by_year = seasons.groupby("year")["volume_hm3"].sum(min_count=3)
    assert by_year.loc[2010:2023].to_numpy() == pytest.approx(complete.to_numpy(), rel=1e-12)
