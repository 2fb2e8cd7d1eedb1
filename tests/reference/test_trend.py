"""Mann–Kendall with Sen's slope (hydro.trend): hand-worked values, scipy's Kendall tau, and
pymannkendall as an independent reference (installed for the tests only)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from hydro.trend import border_trends, mann_kendall, mk_score, mk_variance, sens_slope


@pytest.fixture(scope="module")
def pmk():
    """pymannkendall, the independent reference (not a dependency of hydrorisk: a test
    extra)."""
    import pymannkendall

    return pymannkendall


def test_hand_worked_increasing_series():
    r = mann_kendall([1.0, 2.0, 3.0, 4.0, 5.0])
    # S = 10 pairs all rising; Var S = 5*4*15/18; Z = (S - 1)/sqrt(Var S)
    assert r.s == 10 and r.var_s == pytest.approx(300 / 18)
    assert r.z == pytest.approx(9 / math.sqrt(300 / 18))
    assert r.p == pytest.approx(2 * (1 - stats.norm.cdf(9 / math.sqrt(300 / 18))))
    assert r.tau == 1.0 and r.trend == "increasing" and r.significant
    assert (r.slope, r.intercept, r.t0) == (1.0, 1.0, 0.0)


def test_ties_reduce_the_variance():
    x = np.array([1.0, 1.0, 2.0, 2.0, 3.0])
    # two tie groups of 2: Var S = [5*4*15 - 2*(2*1*9)]/18 = (300 - 36)/18
    assert mk_variance(x) == pytest.approx(264 / 18)
    assert mk_score(x) == 8  # 10 pairs, 2 of them tied
    r = mann_kendall(x)
    assert r.tau == pytest.approx(0.8)


def test_no_trend_and_decreasing():
    flat = mann_kendall([3.0, 1.0, 3.0, 1.0, 3.0, 1.0])
    assert flat.trend == "no trend" and not flat.significant
    down = mann_kendall(np.arange(20.0)[::-1], alpha=0.01)
    assert down.trend == "decreasing" and down.slope == -1.0 and down.z < 0


def test_years_with_a_gap_use_the_actual_times(pmk):
    years = [2000, 2001, 2002, 2004, 2005, 2006]
    values = pd.Series([10.0, 12.0, 14.0, 18.0, 20.0, 22.0], index=years)  # 2 per year
    r = mann_kendall(values)
    assert r.slope == pytest.approx(2.0) and r.t0 == 2000
    assert r.intercept == pytest.approx(10.0)
    # pymannkendall sees the gap as a missing value in an equally spaced series
    ref = pmk.original_test(np.array([10.0, 12.0, 14.0, np.nan, 18.0, 20.0, 22.0]))
    assert (r.s, r.var_s, r.slope, r.intercept) == pytest.approx(
        (ref.s, ref.var_s, ref.slope, ref.intercept))
    # only the order matters for S; ignoring the gap would overstate the slope
    assert mann_kendall(values.to_numpy()).s == r.s
    assert sens_slope(values.to_numpy())[0] == pytest.approx(2.5)
    assert sens_slope(values.to_numpy(), times=years)[0] == pytest.approx(2.0)


def test_tau_equals_scipy_kendall_tau_without_ties():
    rng = np.random.default_rng(7)
    x = rng.normal(size=25) + 0.05 * np.arange(25)
    r = mann_kendall(x)
    ref = stats.kendalltau(np.arange(25), x)
    assert r.tau == pytest.approx(ref.statistic)
    assert r.s == pytest.approx(ref.statistic * 25 * 24 / 2)


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.lists(st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False), min_size=3,
             max_size=60),
    st.lists(st.integers(0, 6).map(float), min_size=3, max_size=60),  # many ties
))
def test_matches_pymannkendall(values):
    import pymannkendall as pmk  # hypothesis tests take no function fixtures

    x = np.asarray(values)
    r = mann_kendall(x)
    ref = pmk.original_test(x)
    assert r.s == ref.s and r.var_s == pytest.approx(ref.var_s, rel=1e-12)
    if ref.var_s > 0:
        assert r.z == pytest.approx(ref.z, rel=1e-9, abs=1e-12)
        assert r.p == pytest.approx(ref.p, rel=1e-9, abs=1e-12)
        assert r.trend == ref.trend and r.significant == ref.h
    assert r.tau == pytest.approx(ref.Tau, rel=1e-12, abs=1e-12)
    assert r.slope == pytest.approx(ref.slope, rel=1e-9, abs=1e-9)
    assert r.intercept == pytest.approx(ref.intercept, rel=1e-9, abs=1e-6)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least 3 non-missing values, got 2"):
        mann_kendall([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="times repeats 2001"):
        mann_kendall([1.0, 2.0, 3.0], times=[2000, 2001, 2001])
    with pytest.raises(ValueError, match="times has 2 entries but values has 3"):
        mann_kendall([1.0, 2.0, 3.0], times=[1, 2])
    with pytest.raises(ValueError, match="alpha must lie in"):
        mann_kendall([1.0, 2.0, 3.0], alpha=1.5)


def test_border_trends_per_border_node(pmk):
    years = np.arange(2005, 2025)
    rows = []
    for border, slope in (("BORDER:a", -50.0), ("BORDER:b", 0.0)):
        vol = 10_000 + slope * (years - 2005) + np.where(years % 2 == 0, 7.0, -7.0)
        rows += [{"border_id": border, "gauge_id": "KZ:1", "year": y, "volume_hm3": v}
                 for y, v in zip(years, vol, strict=True)]
    rows.append({"border_id": "BORDER:c", "gauge_id": "KZ:2", "year": 2020, "volume_hm3": 1.0})
    rows.append({"border_id": "BORDER:a", "gauge_id": "KZ:1", "year": 2025,
                 "volume_hm3": np.nan})  # an incomplete year is left out
    t = border_trends(pd.DataFrame(rows)).set_index("border_id")
    assert t.loc["BORDER:a", "trend"] == "decreasing" and t.loc["BORDER:a", "n"] == 20
    assert t.loc["BORDER:a", "last_year"] == 2024
    assert t.loc["BORDER:a", "slope_per_year"] == pytest.approx(-50.0, abs=14.0)
    ref = pmk.original_test(pd.DataFrame(rows[:20])["volume_hm3"].to_numpy())
    assert t.loc["BORDER:a", "p"] == pytest.approx(ref.p)
    assert t.loc["BORDER:a", "slope_per_year"] == pytest.approx(ref.slope)
    assert t.loc["BORDER:b", "trend"] == "no trend"
    assert "at least 3" in t.loc["BORDER:c", "note"] and np.isnan(t.loc["BORDER:c", "p"])


def test_ural_border_trend_on_bundled_data(config, pmk):
    """Annual volumes across the Ural RU->KZ border (Yanvartsevo; SYNTHETIC data): the test
    and the slope agree with pymannkendall."""
    from conftest import ROOT

    from hydro.balance import border_table, daily_series
    from hydro.readers import read_file

    batch = read_file(ROOT / "data" / "gauges" / "grdc" / "KZ_19073_Q_Day.Cmd.txt", config)
    q = daily_series(batch.observations, config.network.gauges["KZ:19073"].timezone)
    table = border_table(config.network, {"KZ:19073": q}, missing="skip", base_period=None)
    trend = border_trends(table).set_index("border_id").loc["BORDER:ural-ru-kz"]
    annual = table.dropna(subset=["volume_hm3"])["volume_hm3"].to_numpy()
    ref = pmk.original_test(annual)
    assert (trend["first_year"], trend["last_year"], trend["n"]) == (2010, 2023, 14)
    assert (trend["s"], trend["p"], trend["z"], trend["tau"]) == pytest.approx(
        (ref.s, ref.p, ref.z, ref.Tau))
    assert (trend["slope_per_year"], trend["intercept"]) == pytest.approx(
        (ref.slope, ref.intercept))
