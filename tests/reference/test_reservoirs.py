"""Level-pool routing and the reservoir operation simulator (hydro.reservoirs).

Known answers:

* Ponce's storage-indication worked example (linear reservoir S = K O, K = 2 h, dt = 1 h;
  V.M. Ponce, ONLINE ROUTING 02, San Diego State University, companion to *Engineering
  Hydrology*, 1989; tests/reference/data/routing/ponce_onlinerouting02.csv) reproduced to the page's
  rounding (3 decimals) in all printed columns, for 26 steps.
* Linear reservoir O = S/K: the discrete storage-indication recurrence
  (2K/dt + 1) O[j+1] = I[j] + I[j+1] + (2K/dt - 1) O[j] holds to 1e-12, its closed form for
  constant inflow, and the continuous solution of K dO/dt = I - O is approached at second
  order in dt (observed order 2.00 +- 0.05).
* Operation: hand-worked steps on a box-shaped reservoir (constant area 100 km², so 1 m of
  level = 100 hm³) for each limit, and a hypothesis property test on random reservoirs,
  inflows and schedules: the mass balance closes to 1e-9 relative and the volume stays
  within [dead, ФПУ].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydro.config import Reservoir
from hydro.reservoirs import (
    DailyRelease,
    Reason,
    RuleCurve,
    TargetLevel,
    level_pool_route,
    operate,
    unregulated,
)
from hydro.units import discharge_to_volume, volume_to_discharge

DATA = Path(__file__).parent / "data" / "routing"
HM3_PER_M3S_DAY = discharge_to_volume(1.0)  # 0.0864


# =========================================================================== level pool

def test_ponce_storage_indication_example():
    ref = pd.read_csv(DATA / "ponce_onlinerouting02.csv", comment="#")
    k_h = 2.0
    o_tab = np.array([0.0, 10_000.0])
    s_tab = k_h * 3600.0 * o_tab              # S = K O in m³ (K in s)
    res = level_pool_route(ref.inflow_m3s.to_numpy(), 1.0, s_tab, o_tab,
                           initial_storage=k_h * 3600.0 * 100.0, dt_unit="h", storage_unit="m3")
    assert res.outflow == pytest.approx(ref.outflow_m3s.to_numpy(), abs=5.1e-4)
    # the page's storage-indication columns, from our storage (m³ -> m³/s over dt = 3600 s)
    two_s_dt = 2.0 * res.storage / 3600.0
    assert two_s_dt + res.outflow == pytest.approx(ref.two_s_dt_plus_o.to_numpy(), abs=5.1e-4)
    # The page prints 1747.098 for 2S/dt - O at t = 5 h, a misprint of 1747.008: its own row
    # t = 6 h continues from 1747.008 (1000 + 900 + 1747.008 = 3647.008 as printed), and
    # 2911.68 - 2 * 582.336 = 1747.008.  All other values match.
    minus = ref.two_s_dt_minus_o.to_numpy().copy()
    assert minus[5] == 1747.098
    assert ref.two_s_dt_plus_o[6] == pytest.approx(ref.inflow_m3s[5] + ref.inflow_m3s[6] + 1747.008)
    minus[5] = 1747.008
    assert two_s_dt - res.outflow == pytest.approx(minus, abs=5.1e-4)


def _linear_table(k_days: float, o_max: float = 1e5):
    o = np.array([0.0, o_max])
    return discharge_to_volume(o, k_days), o      # S (hm³) = K O


@settings(max_examples=60, deadline=None)
@given(st.floats(0.2, 20.0), st.floats(0.05, 1.0),
       st.lists(st.floats(0.0, 5000.0), min_size=2, max_size=60), st.floats(0.0, 3000.0))
def test_linear_reservoir_discrete_recurrence(k, dt_share, inflow, o0):
    dt = 2.0 * k * dt_share   # dt <= 2K: the outflow never exceeds 2S/dt (well-posed scheme)
    s_tab, o_tab = _linear_table(k)
    res = level_pool_route(inflow, dt, s_tab, o_tab, initial_storage=discharge_to_volume(o0, k))
    c = 2.0 * k / dt
    expected = [o0]
    for j in range(len(inflow) - 1):
        expected.append((inflow[j] + inflow[j + 1] + (c - 1.0) * expected[-1]) / (c + 1.0))
    assert res.outflow == pytest.approx(np.array(expected), rel=1e-11, abs=1e-9)
    # storage stays on the relation S = K O and continuity closes step by step
    assert res.storage == pytest.approx(discharge_to_volume(res.outflow, k), rel=1e-11, abs=1e-12)
    i = np.asarray(inflow)
    ds = np.diff(res.storage)
    flux = discharge_to_volume(0.5 * (i[1:] + i[:-1]) - 0.5 * (res.outflow[1:] + res.outflow[:-1]), dt)
    assert ds == pytest.approx(flux, rel=1e-9, abs=1e-9)


def test_linear_reservoir_closed_form_constant_inflow():
    k, dt, q, o0 = 2.5, 0.5, 400.0, 50.0
    s_tab, o_tab = _linear_table(k)
    res = level_pool_route(np.full(40, q), dt, s_tab, o_tab, discharge_to_volume(o0, k))
    r = (2 * k / dt - 1) / (2 * k / dt + 1)
    assert res.outflow == pytest.approx(q + (o0 - q) * r ** np.arange(40), rel=1e-12)


def test_linear_reservoir_converges_at_second_order():
    # K dO/dt = I - O with I = a + b sin(w t): exact solution known
    k, a, b, w, o0, t_end = 2.0, 100.0, 80.0, 0.7, 30.0, 10.0

    def exact(t):
        part = a + b * (np.sin(w * t) - w * k * np.cos(w * t)) / (1 + (w * k) ** 2)
        part0 = a + b * (-w * k) / (1 + (w * k) ** 2)
        return part + (o0 - part0) * np.exp(-t / k)

    s_tab, o_tab = _linear_table(k)
    errors = []
    for dt in (0.2, 0.1, 0.05):
        t = np.arange(0.0, t_end + dt / 2, dt)
        res = level_pool_route(a + b * np.sin(w * t), dt, s_tab, o_tab,
                               discharge_to_volume(o0, k))
        errors.append(np.abs(res.outflow - exact(t)).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert orders == pytest.approx([2.0, 2.0], abs=0.05)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 50.0), min_size=2, max_size=8),
       st.lists(st.floats(0.0, 1.0), min_size=2, max_size=8),
       st.lists(st.floats(0.0, 400.0), min_size=2, max_size=40),
       st.floats(0.0, 1.0))
def test_level_pool_mass_balance_on_random_tables(ds, share, inflow, start):
    n = min(len(ds), len(share))
    s_tab = np.concatenate([[0.0], np.cumsum(ds[:n])])          # hm³
    s_tab[-1] += 1e4                                            # room for any flood
    # outflow non-decreasing and at most 2S/dt (dt = 1 day): a well-posed relation
    g = np.maximum.accumulate(np.concatenate([[0.0], share[:n]]))
    o_tab = g * 2.0 * volume_to_discharge(s_tab, 1.0)
    s0 = start * s_tab[-2]
    res = level_pool_route(inflow, 1.0, s_tab, o_tab, s0)
    i = np.asarray(inflow)
    flux = discharge_to_volume(0.5 * (i[1:] + i[:-1]) - 0.5 * (res.outflow[1:] + res.outflow[:-1]))
    assert np.diff(res.storage) == pytest.approx(flux, rel=1e-9, abs=1e-9)
    assert res.outflow.min() >= 0.0
    # the state stays on the storage-outflow relation
    assert res.outflow == pytest.approx(np.interp(res.storage, s_tab, o_tab), rel=1e-9, abs=1e-9)


def test_level_pool_units_and_members():
    rng = np.random.default_rng(1)
    inflow = 100.0 + 500.0 * rng.random((4, 25))
    s_hm3 = np.array([0.0, 10.0, 40.0, 120.0, 1000.0])
    o_tab = np.array([0.0, 50.0, 300.0, 900.0, 5000.0])
    both = level_pool_route(inflow, 1.0, s_hm3, o_tab, initial_storage=[5.0, 10.0, 20.0, 30.0])
    rows = [level_pool_route(inflow[m], 1.0, s_hm3, o_tab, s0).outflow
            for m, s0 in enumerate([5.0, 10.0, 20.0, 30.0])]
    assert both.outflow == pytest.approx(np.array(rows), rel=1e-14)
    # the same reservoir in m³ and hours
    m3 = level_pool_route(inflow[0], 24.0, s_hm3 * 1e6, o_tab, 5.0e6, dt_unit="h", storage_unit="m3")
    assert m3.outflow == pytest.approx(rows[0], rel=1e-12)
    assert m3.storage == pytest.approx(both.storage[0] * 1e6, rel=1e-12)


def test_level_pool_rejects_bad_tables_and_overflow():
    with pytest.raises(ValueError, match="storage is not strictly increasing"):
        level_pool_route([1.0, 2.0], 1.0, [0.0, 5.0, 5.0], [0.0, 1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="outflow decreases with storage"):
        level_pool_route([1.0, 2.0], 1.0, [0.0, 5.0, 6.0], [0.0, 2.0, 1.0], 0.0)
    with pytest.raises(ValueError, match="initial_storage .* outside the table"):
        level_pool_route([1.0, 2.0], 1.0, [0.0, 5.0], [0.0, 2.0], 9.0)
    with pytest.raises(ValueError, match="extend the storage-outflow table"):
        level_pool_route([1.0, 5000.0, 5000.0], 1.0, [0.0, 5.0], [0.0, 20.0], 0.0)


# =========================================================================== operation

def make_reservoir(**overrides) -> Reservoir:
    """A box reservoir: area 100 km² at every level, so V (hm³) = 100 (h - 100 m).

    УМО 101 m (dead 100 hm³), НПУ 108 m (800 hm³), ФПУ 109 m (900 hm³); outlet capacity
    100 m³/s at 101 m rising linearly to 500 m³/s at 109 m (50 m³/s per metre); minimum
    release 10 m³/s; ramp 50 m³/s per day.
    """
    levels = [100.0 + 0.5 * j for j in range(23)]          # 100 .. 111 m
    raw = dict(
        id="KZ:TEST-BOX", basin="ural", river="Test", country="KZ",
        names={"kk": "Сынақ", "ru": "Тест", "en": "Test"}, timezone="Asia/Almaty",
        storage_table={"level_unit": "m", "volume_unit": "hm3", "area_unit": "km2",
                       "level": levels, "volume": [100.0 * (h - 100.0) for h in levels],
                       "area": [100.0] * len(levels)},
        npu="108 m", fpu="109 m", umo="101 m",
        outlet_capacity={"level_unit": "m", "discharge_unit": "m3/s",
                         "level": [101.0, 109.0, 111.0], "discharge": [100.0, 500.0, 600.0]},
        min_release="10 m3/s", max_ramp_per_day="50 m3/s", source="test",
    )
    raw.update(overrides)
    return Reservoir(**raw)


@pytest.fixture(scope="module")
def box():
    return make_reservoir()


def test_box_reservoir_geometry(box):
    assert box.dead_volume_hm3 == pytest.approx(100.0, abs=1e-6)
    assert box.npu_volume_hm3 == pytest.approx(800.0, abs=1e-6)
    assert box.fpu_volume_hm3 == pytest.approx(900.0, abs=1e-6)


def test_schedule_honoured_by_hand(box):
    # V0 = 500 hm³ (105 m), inflow 200, release 150 for three days: +50 m³/s·d each day
    r = operate(box, np.full(3, 200.0), DailyRelease(np.full(3, 150.0)), initial_volume_hm3=500.0)
    assert r.release_m3s.shape == (1, 3)
    assert r.volume_hm3[0] == pytest.approx(500.0 + 50.0 * HM3_PER_M3S_DAY * np.arange(1, 4))
    assert r.level_m[0] == pytest.approx(105.0 + 0.5 * HM3_PER_M3S_DAY * np.arange(1, 4), abs=1e-9)
    assert r.outflow_m3s[0] == pytest.approx([150.0] * 3)
    assert not r.deviations.any()
    assert r.deviations.summary().empty
    assert list(r.deviations.summary().columns) == ["reason", "members_affected", "first_step", "count"]


def test_min_release(box):
    r = operate(box, np.full(2, 50.0), DailyRelease(np.array([0.0, 30.0])), initial_volume_hm3=500.0)
    assert r.release_m3s[0] == pytest.approx([10.0, 30.0])
    assert r.deviations.reasons(0, 0) == [Reason.MIN_RELEASE]
    assert r.deviations.reasons(0, 1) == []


def test_ramp_anchored_on_initial_release(box):
    req = DailyRelease(np.array([300.0, 300.0, 300.0, 20.0]))
    r = operate(box, np.full(4, 200.0), req, initial_volume_hm3=500.0, initial_release_m3s=100.0)
    # +50 per day from 100; then down by at most 50 from 250
    assert r.release_m3s[0] == pytest.approx([150.0, 200.0, 250.0, 200.0])
    assert r.deviations.mask(Reason.RAMP)[0].tolist() == [True, True, True, True]
    # without an initial release the first step has no ramp limit
    free = operate(box, np.full(4, 200.0), req, initial_volume_hm3=500.0)
    assert free.release_m3s[0, 0] == pytest.approx(300.0)
    assert not free.deviations.mask(Reason.RAMP)[0, 0]


def test_min_release_overrides_ramp(box):
    r = operate(box, np.full(1, 200.0), DailyRelease(np.array([0.0])), initial_volume_hm3=500.0,
                initial_release_m3s=100.0)
    assert r.release_m3s[0, 0] == pytest.approx(50.0)  # ramp floor 100 - 50
    r = make_reservoir(min_release="80 m3/s")
    out = operate(r, np.full(1, 200.0), DailyRelease(np.array([200.0])), initial_volume_hm3=500.0,
                  initial_release_m3s=0.0)
    assert out.release_m3s[0, 0] == pytest.approx(80.0)  # ramp allows 0 + 50 only
    assert set(out.deviations.reasons(0, 0)) == {Reason.RAMP, Reason.MIN_RELEASE}


def test_outlet_capacity_at_current_level(box):
    # 102 m (V = 200 hm³): capacity 100 + 50 * 1 = 150 m³/s
    r = operate(box, np.full(1, 100.0), DailyRelease(np.array([400.0])), initial_volume_hm3=200.0)
    assert r.release_m3s[0, 0] == pytest.approx(150.0)
    assert r.deviations.reasons(0, 0) == [Reason.OUTLET_CAPACITY]


def test_dead_storage_wins_over_min_release(box):
    # 0.5 hm³ above dead storage and no inflow: 0.5 / 0.0864 = 5.787 m³/s is all there is
    r = operate(box, np.zeros(2), DailyRelease(np.array([50.0, 0.0])), initial_volume_hm3=100.5)
    assert r.release_m3s[0] == pytest.approx([0.5 / HM3_PER_M3S_DAY, 0.0])
    assert r.volume_hm3[0] == pytest.approx([100.0, 100.0], abs=1e-9)
    assert r.level_m[0] == pytest.approx([101.0, 101.0], abs=1e-9)
    assert r.deviations.reasons(0, 0) == [Reason.DEAD_STORAGE]
    # at УМО with no inflow: raised to the minimum release, then cut to nothing
    assert set(r.deviations.reasons(0, 1)) == {Reason.MIN_RELEASE, Reason.DEAD_STORAGE}


def test_forced_spill_above_fpu(box):
    r = operate(box, np.full(1, 1000.0), DailyRelease(np.array([100.0])), initial_volume_hm3=899.0)
    v_new = 899.0 + 900.0 * HM3_PER_M3S_DAY
    spill = (v_new - 900.0) / HM3_PER_M3S_DAY
    assert r.spill_m3s[0, 0] == pytest.approx(spill)
    assert r.outflow_m3s[0, 0] == pytest.approx(100.0 + spill)
    assert r.volume_hm3[0, 0] == pytest.approx(900.0, abs=1e-9)
    assert r.level_m[0, 0] == pytest.approx(109.0, abs=1e-9)
    assert r.deviations.reasons(0, 0) == [Reason.FORCED_SPILL]


def test_evaporation_from_surface_area(box):
    # 5 mm/day over 100 km² = 500 000 m³/day = 5.787 m³/s
    r = operate(box, np.full(2, 100.0), DailyRelease(np.full(2, 100.0)), initial_volume_hm3=500.0,
                evaporation_mm_per_day=np.array([5.0, 0.0]))
    assert r.evaporation_m3s[0] == pytest.approx([500_000.0 / 86_400.0, 0.0])
    assert r.volume_hm3[0, 0] == pytest.approx(500.0 - 0.5)


def test_target_level():
    box = make_reservoir(max_ramp_per_day="10000 m3/s")
    # from 105 m to 105.4 m by the end of step 1 (+20 hm³ per step), then hold
    inflow = np.full(4, 250.0)
    r = operate(box, inflow, TargetLevel(np.array([1]), np.array([105.4])), initial_volume_hm3=500.0)
    assert r.level_m[0] == pytest.approx([105.2, 105.4, 105.4, 105.4], abs=1e-9)
    assert r.release_m3s[0, :2] == pytest.approx([250.0 - 20.0 / HM3_PER_M3S_DAY] * 2)
    assert r.release_m3s[0, 2:] == pytest.approx([250.0, 250.0])
    assert not r.deviations.any()
    # a target the outlets cannot reach is approached as fast as the physics allow
    low = operate(box, inflow, TargetLevel(np.array([0]), np.array([101.0])), initial_volume_hm3=500.0)
    assert low.release_m3s[0, 0] == pytest.approx(300.0)  # capacity at 105 m
    assert low.deviations.reasons(0, 0) == [Reason.OUTLET_CAPACITY]


def test_rule_curve_periodic(box):
    curve = RuleCurve(np.array([1, 181]), np.array([105.0, 108.0]))
    # start on day 299: the target at the end of the first step is day 300, between day 181
    # (108 m) and day 366 = day 1 of the next cycle (105 m)
    target = 108.0 + (105.0 - 108.0) * (300 - 181) / 185
    r = operate(box, np.full(1, 100.0), curve, start_day_of_year=299,
                initial_volume_hm3=100.0 * (target - 100.0) + 10.0)
    assert r.level_m[0, 0] == pytest.approx(target, abs=1e-9)
    assert r.release_m3s[0, 0] == pytest.approx(100.0 + 10.0 / HM3_PER_M3S_DAY)
    # a year later the same target
    r2 = operate(box, np.full(366, 100.0), curve, start_day_of_year=299,
                 initial_volume_hm3=100.0 * (target - 100.0) + 10.0)
    assert r2.level_m[0, 365] == pytest.approx(target, abs=1e-6)
    # the curve read directly: the same target, periodic every 365 days
    assert curve.level_on([300, 300 + 365, 181, 1]) == pytest.approx([target, target, 108, 105])
    with pytest.raises(ValueError, match="day 366 and day 1 give different levels"):
        operate(box, np.ones(2), RuleCurve(np.array([1, 366]), np.array([105.0, 106.0])))


def test_unregulated_passes_inflow(box):
    inflow = np.array([50.0, 80.0, 120.0, 90.0, 60.0])
    r = operate(box, inflow, unregulated(inflow), initial_volume_hm3=800.0)
    assert r.outflow_m3s[0] == pytest.approx(inflow)
    assert r.volume_hm3[0] == pytest.approx(np.full(5, 800.0))
    assert not r.deviations.any()


def test_members_vectorised_equal_one_by_one(box):
    rng = np.random.default_rng(7)
    inflow = rng.gamma(2.0, 150.0, size=(6, 40))
    req = rng.uniform(0.0, 600.0, size=(6, 40))
    v0 = rng.uniform(120.0, 880.0, size=6)
    evap = rng.uniform(0.0, 6.0, size=40)
    both = operate(box, inflow, DailyRelease(req), initial_volume_hm3=v0,
                   evaporation_mm_per_day=evap, initial_release_m3s=100.0)
    for m in range(6):
        one = operate(box, inflow[m], DailyRelease(req[m]), initial_volume_hm3=v0[m],
                      evaporation_mm_per_day=evap, initial_release_m3s=100.0)
        for name in ("release_m3s", "spill_m3s", "volume_hm3", "level_m", "evaporation_m3s"):
            assert np.array_equal(getattr(both, name)[m], getattr(one, name)[0]), name
        assert np.array_equal(both.deviations.flags[m], one.deviations.flags[0])


def test_deviation_summary():
    box = make_reservoir(max_ramp_per_day="10000 m3/s")
    inflow = np.full((3, 4), 200.0)
    req = np.array([[150.0] * 4, [0.0, 150.0, 0.0, 150.0], [0.0] * 4])
    r = operate(box, inflow, DailyRelease(req), initial_volume_hm3=500.0)
    s = r.deviations.summary()
    row = s.set_index("reason").loc["MIN_RELEASE"]       # the code: Reason.MIN_RELEASE.name
    assert (row.members_affected, row.first_step, row["count"]) == (2, 0, 6)
    assert list(s["reason"]) == ["MIN_RELEASE"]
    assert r.deviations.mask(Reason.MIN_RELEASE).sum() == 6
    # the description of each reason in kk/ru/en: tests/unit/test_labels.py


def test_operate_on_configured_iriklinsk(config):
    res = config.network.reservoirs["RU:IRIKLINSK"]
    t = np.arange(90)
    inflow = 60.0 + np.array([[1.0], [2.0], [3.0]]) * 900.0 * np.exp(-0.5 * ((t - 40) / 8.0) ** 2)
    r = operate(res, inflow, RuleCurve(np.array([1, 75, 152, 305]), np.array([243.0, 240.0, 245.0, 245.0])),
                start_day_of_year=60, initial_volume_hm3=res.storage_table.volume_at(241.0),
                initial_release_m3s=100.0)
    assert np.abs(r.balance_residual_hm3()).max() <= 1e-9 * res.fpu_volume_hm3
    assert r.level_m.max() <= res.fpu.to("elevation") + 1e-9
    # the largest flood overfills the reservoir; the smallest does not
    assert r.spill_m3s[2].max() > 0 and r.spill_m3s[0].max() == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"initial_volume_hm3": 50.0}, ValueError, r"outside \[dead"),
        ({"inflow_m3s": -np.ones(3)}, ValueError, "must not be negative"),
        ({"schedule": DailyRelease(np.ones(4))}, ValueError, r"must have shape \(3,\)"),
        ({"schedule": TargetLevel(np.array([1]), np.array([110.0]))}, ValueError, "above ФПУ"),
        ({"schedule": TargetLevel(np.array([1]), np.array([100.5]))}, ValueError, "below УМО"),
        ({"schedule": 5.0}, TypeError, "schedule must be"),
        ({"evaporation_mm_per_day": -np.ones(3)}, ValueError, ">= 0"),
    ],
)
def test_operate_rejects_bad_input(box, kwargs, error, message):
    args = {"inflow_m3s": np.ones(3), "schedule": DailyRelease(np.ones(3))} | kwargs
    with pytest.raises(error, match=message):
        operate(box, args.pop("inflow_m3s"), args.pop("schedule"), **args)


# --------------------------------------------------------------------------- property test

@st.composite
def reservoirs(draw):
    h0 = draw(st.floats(50.0, 300.0))
    depth = draw(st.floats(5.0, 40.0))
    v_max = draw(st.floats(5.0, 5000.0))
    p = draw(st.floats(1.5, 3.0))
    frac = np.linspace(0.02, 1.0, 12)
    levels = h0 + depth * frac
    volumes = v_max * frac ** p
    areas = v_max * p * frac ** (p - 1) / depth          # dV/dh in hm³/m = km²
    umo_f, npu_f = sorted(draw(st.lists(st.floats(0.1, 0.95), min_size=2, max_size=2, unique=True)))
    fpu_f = draw(st.floats(npu_f, 1.0))
    cap_lo = draw(st.floats(0.0, 500.0))
    cap_hi = cap_lo + draw(st.floats(0.0, 3000.0))
    return Reservoir(
        id="RU:PROP", basin="ural", river="Prop", country="RU",
        names={"kk": "x", "ru": "x", "en": "x"}, timezone="Asia/Yekaterinburg",
        storage_table={"level_unit": "m", "volume_unit": "hm3", "area_unit": "km2",
                       "level": levels.tolist(), "volume": volumes.tolist(), "area": areas.tolist()},
        umo=f"{h0 + depth * umo_f} m", npu=f"{h0 + depth * npu_f} m", fpu=f"{h0 + depth * fpu_f} m",
        outlet_capacity={"level_unit": "m", "discharge_unit": "m3/s",
                         "level": [h0 + depth * umo_f - 1.0, h0 + depth + 1.0],
                         "discharge": [cap_lo, cap_hi]},
        min_release=f"{draw(st.floats(0.0, 100.0))} m3/s",
        max_ramp_per_day=f"{draw(st.floats(1.0, 1000.0))} m3/s", source="property test",
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reservoirs(), st.data())
def test_operation_invariants(res, data):
    members, steps = 3, data.draw(st.integers(1, 40))
    dt = data.draw(st.sampled_from([1.0, 0.5, 2.0]))
    scale = data.draw(st.floats(0.0, 3000.0))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    inflow = scale * rng.random((members, steps)) ** 3
    h_umo, h_fpu = res.umo.to("elevation"), res.fpu.to("elevation")
    kind = data.draw(st.sampled_from(["daily", "target", "rule", "unregulated"]))
    if kind == "daily":
        schedule = DailyRelease(scale * rng.random((members, steps)))
    elif kind == "target":
        n = data.draw(st.integers(1, 3))
        schedule = TargetLevel(np.sort(rng.choice(np.arange(steps + 5), n, replace=False)),
                               rng.uniform(h_umo, h_fpu, n))
    elif kind == "rule":
        n = data.draw(st.integers(1, 4))
        schedule = RuleCurve(np.sort(rng.choice(np.arange(1, 366), n, replace=False)),
                             rng.uniform(h_umo, h_fpu, n))
    else:
        schedule = unregulated(inflow)
    v_dead, v_fpu = res.dead_volume_hm3, res.fpu_volume_hm3
    v0 = rng.uniform(v_dead, v_fpu, members)
    evap = rng.uniform(0.0, 10.0, (members, steps)) if data.draw(st.booleans()) else None
    r0 = data.draw(st.one_of(st.none(), st.floats(0.0, 2000.0)))
    out = operate(res, inflow, schedule, dt_days=dt, initial_volume_hm3=v0,
                  evaporation_mm_per_day=evap, initial_release_m3s=r0,
                  start_day_of_year=data.draw(st.integers(1, 366)))

    # mass balance closes: V[t] = V[t-1] + (I - O - E) dt, to 1e-9 of the volume scale
    scale_v = max(v_fpu, 1e-6)
    assert np.abs(out.balance_residual_hm3()).max() <= 1e-9 * scale_v
    # volume within [dead, ФПУ]
    assert out.volume_hm3.min() >= v_dead - 1e-9 * scale_v
    assert out.volume_hm3.max() <= v_fpu + 1e-9 * scale_v
    assert out.outflow_m3s == pytest.approx(out.release_m3s + out.spill_m3s)
    assert out.release_m3s.min() >= 0 and out.spill_m3s.min() >= 0 and out.evaporation_m3s.min() >= 0

    dev = out.deviations
    tol = 1e-6 * (1.0 + out.release_m3s)
    v_start = np.concatenate([v0[:, None], out.volume_hm3[:, :-1]], axis=1)
    cap = res.outlet_capacity.at(res.storage_table.level_at(v_start))
    assert np.all(out.release_m3s <= cap + tol)                       # never above capacity
    # the minimum release holds unless capacity or dead storage forbid it
    exempt = dev.mask(Reason.OUTLET_CAPACITY) | dev.mask(Reason.DEAD_STORAGE)
    min_rel = res.min_release.to("discharge")
    assert np.all((out.release_m3s >= min_rel - tol) | exempt)
    # the ramp holds unless min release, capacity or dead storage overrode it
    if steps > 1:
        ramp = res.max_ramp_per_day.to("discharge") * dt
        step_change = np.abs(np.diff(out.release_m3s, axis=1))
        overridden = (exempt | dev.mask(Reason.MIN_RELEASE))[:, 1:]
        assert np.all((step_change <= ramp + tol[:, 1:]) | overridden)
    # an honoured step releases what was requested; spill only when flagged, and only at ФПУ
    honoured = dev.flags == 0
    assert np.allclose(out.release_m3s[honoured], out.requested_m3s[honoured], rtol=1e-9, atol=1e-9)
    spilled = out.spill_m3s > 1e-9
    assert np.all(dev.mask(Reason.FORCED_SPILL) == spilled)
    assert np.allclose(out.volume_hm3[spilled], v_fpu, rtol=1e-12)
