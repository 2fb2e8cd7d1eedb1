"""Flood frequency (hydro.floods) and HydroSOS status (hydro.hydrosos).

Published values: Bulletin 17B Appendix 12 Example 1 (Fishkill Creek; a secondary transcription,
see tests/reference/data/floods/*.csv) and the lmoments3 package's documented reference values.
Cross-checks: lmoments3 L-moment fits and scipy.stats maximum-likelihood fits to 0.5 %.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from hydro.floods import (
    DEFAULT_PERIODS,
    annual_maxima,
    b17b_station_skew,
    b17b_weighted_skew,
    fit_annual_maxima,
    rate_of_rise,
    return_level_table,
    sample_lmoments,
    threshold_table,
    time_to_threshold,
)
from hydro.hydrosos import (
    HydroSOSStatus,
    hydrosos_status,
    hydrosos_status_series,
    noleap_day_of_year,
    percentile_thresholds,
)

DATA = Path(__file__).parent / "data" / "floods"
PERIODS = np.array(DEFAULT_PERIODS, dtype=float)


def sig(x: float, figures: int) -> float:
    """``x`` rounded to ``figures`` significant figures."""
    return float(f"{x:.{figures}g}")


@pytest.fixture(scope="module")
def fishkill() -> pd.Series:
    frame = pd.read_csv(DATA / "bulletin17b_fishkill_peaks.csv", comment="#")
    return frame.set_index("year")["peak_cfs"].astype(float)


@pytest.fixture(scope="module")
def lmoments3_example() -> pd.DataFrame:
    return pd.read_csv(DATA / "lmoments3_example.csv", comment="#", dtype={"key": str})


def gev_sample(seed: int, n: int, c: float, loc: float = 1000.0, scale: float = 300.0) -> np.ndarray:
    return stats.genextreme.rvs(c, loc=loc, scale=scale, size=n, random_state=seed)


# Three series for the cross-checks: two synthetic GEV samples with fixed seeds and one real one.
SYNTHETIC = {"gev_heavy_n40": (11, 40, -0.2), "gev_light_n70": (12, 70, 0.1)}


@pytest.fixture(scope="module")
def series(fishkill) -> dict[str, np.ndarray]:
    out = {name: gev_sample(seed, n, c) for name, (seed, n, c) in SYNTHETIC.items()}
    out["fishkill_1945_1968"] = fishkill.to_numpy()
    return out


# --------------------------------------------------------------------------- published values

def test_bulletin_17b_fishkill_creek_example(fishkill):
    """Bulletin 17B (IACWD 1982), Appendix 12, Example 1: Fishkill Creek at Beacon, NY, 1945-68.

    Published (3 significant figures, skew 0.7 adopted): 1.01-year discharge 841 cfs, with
    0.05/0.95 confidence limits 568 and 1100 cfs.  Source: secondary transcription, see
    tests/reference/data/floods/bulletin17b_fishkill_published.csv.
    """
    published = pd.read_csv(DATA / "bulletin17b_fishkill_published.csv", comment="#")
    fit = fit_annual_maxima(fishkill, "lp3", "mom", skew=0.7)
    assert fit.n == 24
    ours = fit.confidence_interval(1.0 / 0.99, level=0.9, kind="b17b").iloc[0]
    got = {"discharge": ours["return_level"], "lower_limit_0.05": ours["lower"],
           "upper_limit_0.95": ours["upper"]}
    for row in published.itertuples():
        assert row.exceedance_probability == 0.99 and row.adopted_skew == 0.7
        assert sig(got[row.quantity], row.significant_figures) == row.value_cfs, row.quantity


def test_bulletin_17b_station_and_weighted_skew(fishkill):
    logs = np.log10(fishkill.to_numpy())
    n = logs.size
    # 17B's computing form: G = (N² ΣX³ - 3N ΣX ΣX² + 2(ΣX)³) / (N(N-1)(N-2) S³)
    s1, s2, s3 = logs.sum(), (logs**2).sum(), (logs**3).sum()
    sd = math.sqrt((s2 - s1**2 / n) / (n - 1))
    g = (n**2 * s3 - 3 * n * s1 * s2 + 2 * s1**3) / (n * (n - 1) * (n - 2) * sd**3)
    assert b17b_station_skew(logs) == pytest.approx(g, rel=1e-9)
    assert g == pytest.approx(stats.skew(logs, bias=False), rel=1e-9)
    fit = fit_annual_maxima(fishkill, "lp3", "mom")
    assert fit.info["station_skew"] == pytest.approx(g, rel=1e-9)
    # weighted with a generalized skew of 0.6 (MSE 0.302): 17B eq. for MSE_G with |G| <= 0.9
    mse_g = 10 ** ((-0.33 + 0.08 * abs(g)) - (0.94 - 0.26 * abs(g)) * math.log10(n / 10))
    gw = (0.302 * g + mse_g * 0.6) / (0.302 + mse_g)
    assert b17b_weighted_skew(g, n, 0.6) == pytest.approx(gw, rel=1e-12)
    weighted = fit_annual_maxima(fishkill, "lp3", "mom", regional_skew=0.6)
    assert weighted.params["skew"] == pytest.approx(gw, rel=1e-12)
    assert round(gw, 1) == 0.7  # the skew the published analysis adopted


def test_lmoments3_documented_example(lmoments3_example):
    """lmoments3 1.0.8's documented reference values (a port of Hosking's LMOMENTS)."""
    ref = lmoments3_example
    sample = ref.loc[ref.record == "sample", "value"].to_numpy()

    def values(record):
        rows = ref[ref.record == record]
        return dict(zip(rows.key, rows.value, strict=True))

    l1, l2, t3 = sample_lmoments(sample)
    lm = values("lmom")
    assert (float(l1), float(l2), float(t3)) == pytest.approx(
        (lm["l1"], lm["l2"], lm["t3"]), abs=1e-8)
    # GEV and Gumbel: to the 7 digits printed (lmoments3's own tolerance is 6 decimals)
    for dist, name in (("gev", "gev"), ("gumbel", "gum")):
        fit = fit_annual_maxima(sample, dist, "lmom")
        for key, expected in values(f"{name}_param").items():
            assert fit.params[key] == pytest.approx(expected, abs=1e-6), (dist, key)
        for p, expected in values(f"{name}_quantile").items():
            assert fit.return_level(1 / (1 - float(p))) == pytest.approx(expected, abs=1e-6)
    # Pearson III: lmoments3 uses Hosking's minimax approximation of alpha(t3); we invert
    # t3 = 6 I_1/3(alpha, 2 alpha) - 3 exactly, so agreement is to ~5e-6 relative.
    # (lp3 fits the log10 of the peaks: pass 10**sample to fit the sample itself.)
    fit = fit_annual_maxima(10.0**sample, "lp3", "lmom")
    for key, expected in values("pe3_param").items():
        assert fit.params[key] == pytest.approx(expected, rel=1e-5), key
    for p, expected in values("pe3_quantile").items():
        got = math.log10(fit.return_level(1 / (1 - float(p))))
        assert got == pytest.approx(expected, rel=1e-5)


# --------------------------------------------------------------------------- cross-checks

@pytest.mark.parametrize("name", ["gev_heavy_n40", "gev_light_n70", "fishkill_1945_1968"])
def test_lmom_agrees_with_lmoments3(series, name):
    from lmoments3 import distr  # test extra: the independent reference

    x = series[name]
    for dist, ref_dist, data in (("gev", distr.gev, x), ("gumbel", distr.gum, x),
                                 ("lp3", distr.pe3, np.log10(x))):
        ours = fit_annual_maxima(x, dist, "lmom").return_level(PERIODS)
        ref = ref_dist(**ref_dist.lmom_fit(data)).isf(1 / PERIODS)
        if dist == "lp3":
            ref = 10**ref
        np.testing.assert_allclose(ours, ref, rtol=0.005, err_msg=f"{name} {dist}")


@pytest.mark.parametrize("name", ["gev_heavy_n40", "gev_light_n70", "fishkill_1945_1968"])
def test_mle_agrees_with_scipy(series, name):
    x = series[name]
    # scipy's own fits, started independently (GEV from lmoments3's L-moment estimates when
    # available, else from the Gumbel MLE; scipy's default start finds a bad local optimum)
    try:
        from lmoments3 import distr

        p0 = distr.gev.lmom_fit(x)
        c0, loc0, scale0 = p0["c"], p0["loc"], p0["scale"]
    except ImportError:  # start from the Gumbel MLE instead
        c0, (loc0, scale0) = 0.0, stats.gumbel_r.fit(x)
    gev = stats.genextreme(*stats.genextreme.fit(x, c0, loc=loc0, scale=scale0))
    logs = np.log10(x)
    lp3 = stats.pearson3(*stats.pearson3.fit(logs, stats.skew(logs), loc=logs.mean(),
                                             scale=logs.std()))
    refs = {"gev": gev.isf(1 / PERIODS), "gumbel": stats.gumbel_r(*stats.gumbel_r.fit(x)).isf(1 / PERIODS),
            "lp3": 10 ** lp3.isf(1 / PERIODS)}
    for dist, ref in refs.items():
        fit = fit_annual_maxima(x, dist, "mle")
        np.testing.assert_allclose(fit.return_level(PERIODS), ref, rtol=0.005,
                                   err_msg=f"{name} {dist}")


def test_mle_is_not_worse_than_scipy_default_start(series):
    x = series["fishkill_1945_1968"]
    fit = fit_annual_maxima(x, "gev", "mle")
    default = stats.genextreme.fit(x)
    assert stats.genextreme.nnlf(tuple(fit.params.values()), x) <= stats.genextreme.nnlf(default, x)


def test_gumbel_mom_matches_frequency_factor_formula(series):
    # Chow, Maidment & Mays (1988), Applied Hydrology, §12.3 (Gumbel frequency factor):
    # K_T = -(√6/π) (0.5772 + ln ln(T/(T-1))), x_T = mean + K_T s
    for x in series.values():
        k = -(math.sqrt(6) / math.pi) * (np.euler_gamma + np.log(np.log(PERIODS / (PERIODS - 1))))
        expected = x.mean() + k * x.std(ddof=1)
        got = fit_annual_maxima(x, "gumbel", "mom").return_level(PERIODS)
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_lp3_mom_is_bulletin_17b_frequency_factor(series):
    for x in series.values():
        logs = np.log10(x)
        k = stats.pearson3.ppf(1 - 1 / PERIODS, stats.skew(logs, bias=False))
        expected = 10 ** (logs.mean() + k * logs.std(ddof=1))
        np.testing.assert_allclose(fit_annual_maxima(x, "lp3", "mom").return_level(PERIODS),
                                   expected, rtol=1e-10)


def test_gev_mom_reproduces_sample_moments(series):
    for x in series.values():
        fit = fit_annual_maxima(x, "gev", "mom")
        mean, var, skew = fit.frozen.stats(moments="mvs")
        assert (float(mean), math.sqrt(float(var)), float(skew)) == pytest.approx(
            (x.mean(), x.std(ddof=1), stats.skew(x, bias=False)), rel=1e-6)


def test_gev_shape_sign_convention():
    # scipy's c = -xi: a heavy upper tail (xi > 0) has c < 0
    x = gev_sample(3, 2000, c=-0.25)
    fit = fit_annual_maxima(x, "gev", "lmom")
    assert fit.params["c"] == pytest.approx(-0.25, abs=0.05)
    assert fit.return_level(1000) > fit_annual_maxima(x, "gumbel", "lmom").return_level(1000)


# --------------------------------------------------------------------------- behaviour

@pytest.mark.parametrize("dist", ["gev", "gumbel", "lp3"])
@pytest.mark.parametrize("method", ["lmom", "mle", "mom"])
def test_fit_object_round_trip(series, dist, method):
    x = series["gev_heavy_n40"]
    fit = fit_annual_maxima(x, dist, method)
    assert (fit.dist, fit.method, fit.n) == (dist, method, x.size)
    assert set(fit.params) == {"gev": {"c", "loc", "scale"}, "gumbel": {"loc", "scale"},
                               "lp3": {"skew", "loc", "scale"}}[dist]
    levels = fit.return_level(PERIODS)
    assert levels.shape == PERIODS.shape and np.all(np.diff(levels) > 0)
    np.testing.assert_allclose(fit.return_period(levels), PERIODS, rtol=1e-9)
    assert isinstance(fit.return_level(100), float)
    assert isinstance(fit.return_period(float(x.max())), float)
    with pytest.raises(ValueError):
        fit.peaks[0] = 0.0  # the fit keeps a read-only copy


def test_return_period_outside_support():
    x = gev_sample(5, 60, c=0.4)  # bounded above at loc + scale/c
    fit = fit_annual_maxima(x, "gev", "lmom")
    upper = fit.params["loc"] + fit.params["scale"] / fit.params["c"]
    assert fit.return_period(upper + 1.0) == math.inf
    lp3 = fit_annual_maxima(np.abs(x) + 1.0, "lp3", "mom")
    assert lp3.return_period(0.0) == 1.0 and lp3.return_period(-5.0) == 1.0
    assert math.isnan(fit.return_period(float("nan")))


def test_units_pass_through(series):
    # peaks in m³/s or cm: levels scale with the unit (equivariance)
    x = series["gev_light_n70"]
    for dist in ("gev", "gumbel", "lp3"):
        a = fit_annual_maxima(x, dist, "lmom").return_level(PERIODS)
        b = fit_annual_maxima(x * 100.0, dist, "lmom").return_level(PERIODS)
        np.testing.assert_allclose(b, a * 100.0, rtol=1e-9)


@settings(max_examples=40, deadline=None)
# (shapes below 1e-9 in magnitude but not 0: scipy's genextreme.rvs draws a constant
# sample for a subnormal shape such as 5e-324, which no method can fit — and says so)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(8, 60),
       c=st.floats(-0.3, 0.3).filter(lambda v: v == 0.0 or abs(v) >= 1e-9),
       dist=st.sampled_from(["gev", "gumbel", "lp3"]), method=st.sampled_from(["lmom", "mom"]),
       # distinct return periods 1.01 ... ~9800 years, at least 2.5 % apart (periods one ulp
       # apart have equal levels in floating point, which says nothing about the method)
       steps=st.lists(st.integers(0, 370), min_size=2, max_size=6, unique=True))
def test_property_levels_increase_and_round_trip(seed, n, c, dist, method, steps):
    periods = [1.01 * 1.025 ** k for k in steps]
    x = gev_sample(seed, n, c, loc=100.0, scale=15.0)
    fit = fit_annual_maxima(np.abs(x) + 1.0, dist, method)
    t = np.sort(np.array(periods))
    levels = fit.return_level(t)
    assert np.all(np.diff(levels) > 0)
    np.testing.assert_allclose(fit.return_period(levels), t, rtol=1e-6)


# --------------------------------------------------------------------------- confidence intervals

def test_bootstrap_is_reproducible_and_brackets_estimate(series):
    fit = fit_annual_maxima(series["fishkill_1945_1968"], "gev", "lmom")
    a = fit.confidence_interval([10, 100], seed=42)
    b = fit.confidence_interval([10, 100], seed=42)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["lower", "return_level", "upper"]
    assert (a["lower"] < a["return_level"]).all() and (a["return_level"] < a["upper"]).all()
    assert a.attrs == {"level": 0.9, "kind": "parametric", "n_boot": 1000, "failed": 0, "seed": 42}
    # a wider confidence level gives a wider interval
    w = fit.confidence_interval([10, 100], level=0.99, seed=42)
    assert (w["lower"] < a["lower"]).all() and (w["upper"] > a["upper"]).all()


@pytest.mark.parametrize("kind", ["parametric", "nonparametric"])
def test_bootstrap_covers_truth_for_a_long_record(kind):
    c, loc, scale = -0.1, 500.0, 120.0
    x = gev_sample(7, 1500, c, loc=loc, scale=scale)
    truth = stats.genextreme.isf(1 / PERIODS, c, loc=loc, scale=scale)
    for method in ("lmom", "mom"):
        ci = fit_annual_maxima(x, "gev", method).confidence_interval(
            PERIODS, level=0.99, n_boot=400, seed=1, kind=kind)
        assert ((ci["lower"] <= truth) & (truth <= ci["upper"])).all(), method
        assert ((ci["upper"] - ci["lower"]) / truth < 0.35).all()


def test_bootstrap_for_every_method_and_lp3_skew_options(fishkill):
    fits = [fit_annual_maxima(fishkill, d, "mle") for d in ("gev", "gumbel", "lp3")]
    fits += [fit_annual_maxima(fishkill, "lp3", "mom", skew=0.7),
             fit_annual_maxima(fishkill, "lp3", "mom", regional_skew=0.6)]
    for fit in fits:
        ci = fit.confidence_interval(100, n_boot=10, seed=3)
        assert ci["lower"].iloc[0] < ci["return_level"].iloc[0] < ci["upper"].iloc[0]


def test_b17b_limits_only_for_lp3_mom(series):
    with pytest.raises(ValueError, match="only to dist='lp3', method='mom'"):
        fit_annual_maxima(series["gev_light_n70"], "gev", "lmom").confidence_interval(
            100, kind="b17b")


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize(("peaks", "kwargs", "match"), [
    ([1.0, 2.0, 3.0, 4.0], {}, "at least 5 annual peaks are needed .* got 4"),
    ([1.0, 2.0, np.nan, 4.0, 5.0, 6.0], {}, "1 missing or infinite value.* positions 2"),
    (pd.Series([1.0, 2.0, 3.0, np.inf, 5.0, 6.0], index=range(2000, 2006)), {},
     "years/labels 2003"),
    ([5.0, 2.0, 0.0, 4.0, -1.0, 6.0], {"dist": "lp3"}, "positive peaks; 2 peak.*positions 2, 4"),
    ([3.0] * 8, {}, "all 8 peaks are equal"),
    ([[1.0, 2.0], [3.0, 4.0]], {}, "one-dimensional"),
    (["a", "b", "c", "d", "e"], {}, "must be numbers"),
    (list(range(1, 10)), {"dist": "weibull"}, "unknown dist 'weibull'; choose one of 'gev'"),
    (list(range(1, 10)), {"method": "pwm"}, "unknown method 'pwm'"),
    (list(range(1, 10)), {"dist": "gev", "skew": 0.3}, "only to dist='lp3', method='mom'"),
    (list(range(1, 10)), {"dist": "lp3", "method": "mom", "skew": 0.1, "regional_skew": 0.2},
     "not both"),
    (list(range(1, 10)), {"dist": "lp3", "method": "mom", "skew": float("nan")}, "finite"),
])
def test_bad_input_is_named(peaks, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_annual_maxima(peaks, **kwargs)


def test_bad_periods_and_levels(series):
    fit = fit_annual_maxima(series["gev_light_n70"])
    with pytest.raises(ValueError, match="greater than 1 year"):
        fit.return_level([10, 1.0])
    with pytest.raises(ValueError, match="greater than 1 year"):
        fit.return_level(float("nan"))
    with pytest.raises(ValueError, match=r"level must lie in \(0, 1\)"):
        fit.confidence_interval(10, level=90)
    with pytest.raises(ValueError, match="unknown confidence interval kind"):
        fit.confidence_interval(10, kind="jackknife")


# --------------------------------------------------------------------------- tables

def test_return_level_table(series):
    fit = fit_annual_maxima(series["fishkill_1945_1968"], "lp3", "mom")
    table = return_level_table(fit)
    assert list(table.index) == list(DEFAULT_PERIODS)
    assert list(table.columns) == ["aep", "return_level"]
    np.testing.assert_allclose(table["return_level"], fit.return_level(PERIODS))
    np.testing.assert_allclose(table["aep"], 1 / PERIODS)
    with_ci = return_level_table(fit, (10, 100), level=0.9, kind="b17b")
    assert list(with_ci.columns) == ["aep", "return_level", "lower", "upper"]
    assert (with_ci["lower"] < with_ci["return_level"]).all()
    assert with_ci.attrs["dist"] == "lp3" and with_ci.attrs["kind"] == "b17b"


def test_threshold_table_per_gauge(series):
    fits = {"KZ:19071": fit_annual_maxima(series["gev_heavy_n40"]),
            "RU:ORSK": fit_annual_maxima(series["gev_light_n70"], "gumbel")}
    table = threshold_table(fits, periods=(10, 100))
    assert list(table.columns) == ["station_id", "name", "return_period", "aep", "value", "dist",
                                   "method", "n_years"]
    assert list(table.station_id) == ["KZ:19071", "KZ:19071", "RU:ORSK", "RU:ORSK"]
    assert list(table.name) == ["T10", "T100", "T10", "T100"]
    assert table.value.iloc[3] == pytest.approx(fits["RU:ORSK"].return_level(100))
    single = threshold_table(fits["RU:ORSK"], periods=(2,))
    assert single.station_id.isna().all() and single.n_years.iloc[0] == 70


def test_annual_maxima_skips_incomplete_years():
    idx = pd.date_range("2001-01-01", "2003-12-31", freq="D")
    s = pd.Series(np.arange(idx.size, dtype=float) % 100, index=idx)
    s[(idx.year == 2002) & (idx.month <= 3)] = np.nan  # 90 of 365 days missing: 75 % valid
    am = annual_maxima(s, min_fraction=0.8)
    assert list(am.index) == [2001, 2003] and am.index.name == "year"
    assert list(annual_maxima(s, min_fraction=0.7).index) == [2001, 2002, 2003]
    # a water year from October, labelled by the year it ends in
    wy = annual_maxima(pd.Series(1.0, index=idx), start_month=10)
    assert list(wy.index) == [2002, 2003]  # Oct 2000-Sep 2001 and Oct 2003- are incomplete


# --------------------------------------------------------------------------- forecast traces

def test_time_to_threshold_interpolates():
    assert time_to_threshold([0, 6, 12, 18], [100, 140, 180, 220], 150) == pytest.approx(7.5)
    assert time_to_threshold([0, 6, 12], [160, 170, 180], 150) == 0.0  # already above
    assert time_to_threshold([0, 6, 12], [100, 120, 140], 150) is None
    assert time_to_threshold([0, 6, 12], [100, 150, 140], 150) == 6.0  # touches exactly
    assert time_to_threshold([0, 6, 12, 18], [100, np.nan, 180, 200], 150) == 12.0  # no bridge over NaN
    assert time_to_threshold([0, 10], [50, 30], 40, rising=False) == pytest.approx(5.0)
    assert time_to_threshold([], [], 10) is None


def test_time_to_threshold_with_datetimes():
    times = pd.date_range("2024-04-01", periods=4, freq="D")
    got = time_to_threshold(times, [700, 780, 860, 900], 800)
    assert got == pd.Timestamp("2024-04-02 06:00")
    aware = time_to_threshold(times.tz_localize("Asia/Oral"), [700, 780, 860, 900], 800)
    assert aware == pd.Timestamp("2024-04-02 01:00", tz="UTC")
    with pytest.raises(ValueError, match="strictly increasing"):
        time_to_threshold(times[::-1], [1, 2, 3, 4], 2)
    with pytest.raises(ValueError, match="equal length"):
        time_to_threshold(times, [1, 2], 2)


def test_rate_of_rise_per_day():
    idx = pd.to_datetime(["2024-04-01 00:00", "2024-04-01 12:00", "2024-04-02 12:00",
                          "2024-04-03 12:00"])
    rate = rate_of_rise(pd.Series([500.0, 530.0, 560.0, np.nan], index=idx, name="H"))
    assert math.isnan(rate.iloc[0]) and math.isnan(rate.iloc[3])
    assert rate.iloc[1] == pytest.approx(60.0) and rate.iloc[2] == pytest.approx(30.0)
    assert rate.name == "H"
    with pytest.raises(ValueError, match="strictly increasing"):
        rate_of_rise(pd.Series([1.0, 2.0], index=idx[[1, 0]]))


# --------------------------------------------------------------------------- HydroSOS

def _daily(years: range, value) -> pd.Series:
    """Daily series over whole years; ``value`` maps the DatetimeIndex to the values."""
    idx = pd.date_range(f"{years.start}-01-01", f"{years.stop - 1}-12-31", freq="D")
    return pd.Series(np.broadcast_to(np.asarray(value(idx), dtype=float), idx.shape), index=idx)


def test_percentiles_pool_years_and_window():
    years = range(1991, 2011)  # 20 years, each year constant at its rank 0..19
    s = _daily(years, lambda d: d.year - 1991)
    p = percentile_thresholds(s, window=15)
    assert p.shape == (365, 4) and p.index.name == "day_of_year"
    # WMO's Weibull rule: the pool is 31 days x 20 years; year k (value k) holds ranks
    # 31k+1..31k+31, average rank 31k+16, position (31k+16)/621, so between two years the
    # threshold is linear in position: t(p) = (621 p - 16)/31, e.g. p10 = 46.1/31 = 1.487
    # (numpy's linear percentiles gave 1.9, 4.75, 14.25, 17.1)
    expected = (621 * np.array([0.10, 0.25, 0.75, 0.90]) - 16) / 31
    np.testing.assert_allclose(p.to_numpy(), np.tile(expected, (365, 1)), rtol=1e-12)
    assert p.attrs == {"window": 15, "first_year": 1991, "last_year": 2010, "n_years": 20}


def test_percentile_window_wraps_around_new_year():
    years = range(2001, 2013)
    s = _daily(years, noleap_day_of_year)  # value = its own day
    p0 = percentile_thresholds(s, window=0)
    assert (p0["p10"] == p0.index).all()  # window 0: only that day, all years equal
    p1 = percentile_thresholds(s, window=1)
    # day 1 pools days 365, 1 and 2
    # 36 values, 12 each of 1, 2, 365: average ranks 6.5, 18.5, 30.5, positions /37;
    # p90 = 0.9 > 30.5/37 = 0.824 -> the largest value; p10 = 0.1 < 6.5/37 -> the smallest
    assert p1.loc[1, "p90"] == 365.0
    assert p1.loc[1, "p10"] == 1.0


def test_noleap_day_of_year():
    assert noleap_day_of_year(pd.Timestamp("2024-02-29")) == 59
    assert noleap_day_of_year(pd.Timestamp("2024-03-01")) == 60
    assert noleap_day_of_year(pd.Timestamp("2023-03-01")) == 60
    assert noleap_day_of_year(pd.Timestamp("2024-12-31")) == 365


def test_hydrosos_status_class_boundaries():
    s = _daily(range(1991, 2011), lambda d: d.year - 1991)
    p = percentile_thresholds(s)
    p10, p25, p75, p90 = p.loc[100]
    cases = {p10 - 1: HydroSOSStatus.LOW, p10: HydroSOSStatus.LOW,
             p10 + 0.1: HydroSOSStatus.BELOW_NORMAL, p25: HydroSOSStatus.BELOW_NORMAL,
             p25 + 0.1: HydroSOSStatus.NORMAL, p75 - 0.1: HydroSOSStatus.NORMAL,
             p75: HydroSOSStatus.NORMAL, p75 + 0.1: HydroSOSStatus.ABOVE_NORMAL,
             p90 - 0.1: HydroSOSStatus.ABOVE_NORMAL, p90: HydroSOSStatus.ABOVE_NORMAL,
             p90 + 0.1: HydroSOSStatus.HIGH, p90 + 100: HydroSOSStatus.HIGH}
    # WMO's rule: a value equal to p75 or p90 is in the lower class (issue #10 item 5;
    # until then p75 counted as above normal and p90 as high)
    for value, expected in cases.items():
        assert hydrosos_status(value, 100, p) is expected, value
    assert hydrosos_status(float("nan"), 100, p) is None
    assert hydrosos_status(p90, pd.Timestamp("2024-04-10"), p) is HydroSOSStatus.ABOVE_NORMAL
    assert hydrosos_status(p10, 366, p) is HydroSOSStatus.LOW
    with pytest.raises(ValueError, match="day_of_year must be 1-366"):
        hydrosos_status(1.0, 0, p)
    series = hydrosos_status_series(pd.Series([p10, np.nan, p90 + 1],
                                              index=pd.date_range("2024-04-01", periods=3)), p)
    assert list(series) == [HydroSOSStatus.LOW, None, HydroSOSStatus.HIGH]


def test_hydrosos_needs_enough_years():
    # the names of the classes in kk/ru/en: tests/unit/test_labels.py
    with pytest.raises(ValueError, match="at least 10 years with data, got 3"):
        percentile_thresholds(_daily(range(2001, 2004), lambda d: 1.0))


def test_an_unseeded_bootstrap_is_refused(series):
    """Regression (issue 9): an unseeded bootstrap gave different 100-year limits on every
    run of `hydrorisk report return-levels`; a seed is now required, 0 by default."""
    fit = fit_annual_maxima(series["fishkill_1945_1968"], "gev", "lmom")
    with pytest.raises(ValueError, match="seed is required"):
        fit.confidence_interval([100], seed=None)
    pd.testing.assert_frame_equal(fit.confidence_interval([100]), fit.confidence_interval([100]))
