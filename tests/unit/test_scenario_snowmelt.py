"""Snow-cover depletion, meltwater retention and the river-ice rule of hydro.snowmelt."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydro import snowmelt

RETAINING = snowmelt.SnowParameters(whc=0.1, refreeze=0.05, swe_full_cover=40.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-30, 25), st.floats(0, 40)), min_size=1, max_size=120),
       st.floats(0, 300), st.floats(0, 30), st.floats(0, 0.3), st.floats(0, 0.2),
       st.floats(0, 150))
def test_snow_liquid_and_melt_conserve_mass(days, swe0, liquid0, whc, cfr, full):
    t = np.array([d[0] for d in days])
    p = np.array([d[1] for d in days])
    params = snowmelt.SnowParameters(whc=whc, refreeze=cfr, swe_full_cover=full)
    init = snowmelt.SnowState(swe=swe0, liquid=liquid0, quick=5.0, base=30.0)
    r = snowmelt.simulate(t, p, params, init)
    stored = init.total_storage_mm() + p.sum()
    out = r.final.total_storage_mm() + r.runoff_mm.sum() + r.loss_mm.sum()
    assert out == pytest.approx(stored, rel=1e-12, abs=1e-9)
    assert (r.liquid_mm >= -1e-12).all() and (r.swe_mm >= -1e-12).all()
    # the pack never holds more liquid than its capacity at the end of a day
    frozen = r.swe_mm - r.liquid_mm
    assert (r.liquid_mm <= whc * frozen + 1e-9).all()
    assert ((r.cover >= 0) & (r.cover <= 1)).all()


def test_defaults_are_the_model_without_retention_or_depletion():
    t = np.r_[np.full(10, -8.0), np.full(25, 6.0)]
    p = np.full(35, 2.0)
    init = snowmelt.SnowState(swe=80.0)
    r = snowmelt.simulate(t, p, snowmelt.SnowParameters(), init)
    assert (r.liquid_mm == 0).all()
    # melt is ddf * T until the snow is gone, on the whole area
    assert r.melt_mm[10] == pytest.approx(3.0 * 6.0)
    assert r.swe_mm[-1] == 0.0


def test_retention_holds_meltwater_back_and_releases_it_later():
    t = np.r_[np.full(3, 2.0), np.full(20, 8.0)]
    p = np.zeros(23)
    init = snowmelt.SnowState(swe=100.0)
    plain = snowmelt.simulate(t, p, snowmelt.SnowParameters(), init)
    held = snowmelt.simulate(t, p, snowmelt.SnowParameters(whc=0.1), init)
    # the first melt (6 mm/day) stays in the pack until it holds 10 % of its SWE
    assert held.liquid_mm[0] == pytest.approx(6.0)
    assert held.runoff_mm[:2].sum() < plain.runoff_mm[:2].sum()
    # and leaves it when the pack is gone: same water in the end
    assert held.liquid_mm[-1] == 0.0 and held.swe_mm[-1] == 0.0
    tot = lambda r: r.runoff_mm.sum() + r.loss_mm.sum() + r.final.total_storage_mm()  # noqa: E731
    assert tot(held) == pytest.approx(tot(plain))


def test_refreezing_turns_liquid_back_to_snow():
    r = snowmelt.simulate(np.array([-10.0]), np.zeros(1),
                          snowmelt.SnowParameters(whc=0.2, refreeze=0.05, ddf=4.0),
                          snowmelt.SnowState(swe=100.0, liquid=10.0))
    # refreeze 0.05 * 4 * 10 = 2 mm
    assert r.liquid_mm[0] == pytest.approx(8.0)
    assert r.swe_mm[0] == pytest.approx(110.0)      # 102 mm frozen + 8 mm liquid
    assert r.runoff_mm[0] == pytest.approx(40.0 * (1 - np.exp(-1 / 140.0)))  # baseflow only


def test_areal_depletion_slows_the_melt_of_a_shallow_pack():
    t = np.full(30, 5.0)
    p = np.zeros(30)
    init = snowmelt.SnowState(swe=60.0)
    full = snowmelt.simulate(t, p, snowmelt.SnowParameters(ddf=4.0), init)
    patchy = snowmelt.simulate(t, p, snowmelt.SnowParameters(ddf=4.0, swe_full_cover=40.0), init)
    assert patchy.melt_mm[0] == pytest.approx(20.0)          # SWE 60 > 40 mm: full cover
    assert patchy.cover[0] == 1.0
    assert patchy.cover[5] < 1.0
    # below 40 mm the covered share, and so the melt, falls with the SWE
    # (60 -> 40 -> 20 mm at full cover, then half covered: 10 mm, a quarter: 5 mm)
    np.testing.assert_allclose(patchy.melt_mm[:4], [20.0, 20.0, 10.0, 5.0])
    assert (np.flatnonzero(full.swe_mm == 0)[0]
            < np.flatnonzero(patchy.swe_mm < 1.0)[0])
    assert full.cover is not None and (full.cover[full.swe_mm > 0] == 1).all()


def test_snow_parameters_reject_negative_retention():
    with pytest.raises(ValueError, match="whc must not be negative"):
        snowmelt.SnowParameters(whc=-0.1)


def test_ice_rule_is_the_synthetic_generators(config):
    from hydro.synthetic.generate import _ice_phenomena

    days = pd.date_range("2022-09-01", "2024-06-30", freq="D")
    doy = days.day_of_year.to_numpy()
    rng = np.random.default_rng(3)
    temp = 4.0 - 17.0 * np.cos(2 * np.pi * (doy - 20) / 365.25) + rng.normal(0, 3, days.size)
    gauges = {g: config.network.gauges[g] for g in ("RU:ORSK", "KZ:19071")}
    words = _ice_phenomena(days, {"ural": temp}, gauges, np.random.default_rng(0))
    code = {"": 0, "шуга": 0, "ледостав": 1, "ледоход": 2, "затор": 3}
    for g, gauge in gauges.items():
        t_g = temp - 0.6 * (gauge.lat - 52.0)
        jam = 2 if g == "RU:ORSK" else 0
        ph = snowmelt.ice_phases(t_g, days.month.to_numpy(), jam_days=jam)
        expected = words[g].map(code).to_numpy()
        if jam:  # the generator jams only the 2024 drift
            expected = np.where((days.year < 2024) & (ph == 3), 3, expected)
        np.testing.assert_array_equal(ph, expected, err_msg=g)
        assert (ph == 1).any() and (ph == 2).any()


def test_ice_rule_is_vectorised_and_takes_a_history():
    months = np.full(10, 3)
    t = np.array([np.full(10, 5.0), np.full(10, -5.0)])
    ph = snowmelt.ice_phases(t, months, frozen_at_start=True, history_c=np.full(6, -10.0),
                             drift_days=3, jam_days=1)
    # warm member: the trailing 7-day mean first exceeds +1 °C on day 5: (6*5 - 10)/7
    first_open = np.flatnonzero(ph[0] != 1)[0]
    assert first_open == 5
    assert list(ph[0, 5:9]) == [3, 2, 2, 0]
    assert (ph[1] == 1).all()
