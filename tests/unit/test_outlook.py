"""hydro.outlook: the OLS prediction interval and exceedance probabilities against a hand
computation (numpy linear algebra and scipy.stats.t), the climatology percentile, and
leave-one-year-out skill of a perfect relation (~1) and of noise (<= 0)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hydro.errors import HydroriskError
from hydro.outlook import (
    OutlookError,
    TooFewYearsError,
    climatology_percentile,
    fit_outlook,
    issue_outlook,
    loyo_skill,
    select_predictors,
)

YEARS = pd.RangeIndex(2000, 2024, name="year")


def winters(seed: int = 3, n: int = len(YEARS)) -> pd.DataFrame:
    """Predictors per year: SWE on 1 March (mm), autumn wetness index (—), frost depth (cm)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"swe_mm": rng.uniform(40, 160, n), "wetness": rng.uniform(0.2, 0.9, n),
                         "frost_cm": rng.uniform(30, 150, n)}, index=YEARS[:n])


def volume(x: pd.DataFrame, noise_sd: float, seed: int = 4) -> pd.Series:
    """Spring-flood volume (hm³) = 200 + 12 SWE + 900 wetness + noise."""
    rng = np.random.default_rng(seed)
    return pd.Series(200 + 12 * x["swe_mm"] + 900 * x["wetness"]
                     + rng.normal(0, noise_sd, len(x)), index=x.index, name="volume_hm3")


def hand_prediction(x: np.ndarray, y: np.ndarray, x0: np.ndarray, alpha: float):
    """OLS by numpy linear algebra: β = (XᵀX)⁻¹Xᵀy, s² = SSR/(n − p), and the prediction
    interval x₀ᵀβ ± t_{1−α/2, n−p} s √(1 + x₀ᵀ(XᵀX)⁻¹x₀) (Montgomery, Peck & Vining 2012,
    eq. 3.54)."""
    design = np.column_stack([np.ones(len(x)), x])
    xtx_inv = np.linalg.inv(design.T @ design)
    beta = xtx_inv @ design.T @ y
    n, p = design.shape
    s2 = float(np.sum((y - design @ beta) ** 2) / (n - p))
    d0 = np.concatenate([[1.0], x0])
    mean = float(d0 @ beta)
    se = math.sqrt(s2 * (1 + d0 @ xtx_inv @ d0))
    half = stats.t.ppf(1 - alpha / 2, n - p) * se
    return mean, se, n - p, mean - half, mean + half


# ---------------------------------------------------------------- the issued outlook


def test_prediction_interval_and_exceedance_equal_a_hand_computation():
    x = winters()
    y = volume(x, noise_sd=150)
    cols = ["swe_mm", "wetness"]
    model = fit_outlook(x, y, columns=cols)
    now = {"swe_mm": 170.0, "wetness": 0.85, "frost_cm": 140.0}
    out = issue_outlook(model, now, alpha=0.1, thresholds={"high": 3000.0, "low": 1500.0})
    mean, se, df, lo, hi = hand_prediction(x[cols].to_numpy(), y.to_numpy(),
                                           np.array([170.0, 0.85]), 0.1)
    assert out.forecast == pytest.approx(mean, rel=1e-10)
    assert out.lower == pytest.approx(lo, rel=1e-10)
    assert out.upper == pytest.approx(hi, rel=1e-10)
    assert out.se_obs_transformed == pytest.approx(se, rel=1e-10)
    assert out.df_resid == df == len(YEARS) - 3
    assert out.exceedance["high"] == pytest.approx(stats.t.sf((3000 - mean) / se, df), rel=1e-9)
    assert out.exceedance["low"] == pytest.approx(stats.t.sf((1500 - mean) / se, df), rel=1e-9)
    # the interval bounds are the predictive t-distribution's 5 % and 95 % points
    assert out.probability_of_exceeding(out.upper) == pytest.approx(0.05, rel=1e-8)
    assert out.probability_of_exceeding(out.lower) == pytest.approx(0.95, rel=1e-8)
    assert out.predictors == {"swe_mm": 170.0, "wetness": 0.85}


def test_log_transform_works_in_log_space_and_back_transforms_to_the_median():
    x = winters()
    y = np.exp(5 + 0.01 * x["swe_mm"] + np.random.default_rng(8).normal(0, 0.2, len(x)))
    model = fit_outlook(x, y, columns=["swe_mm"], transform="log")
    out = issue_outlook(model, {"swe_mm": 120.0}, thresholds={"t": 600.0, "zero": 0.0})
    mean, se, df, lo, hi = hand_prediction(x[["swe_mm"]].to_numpy(), np.log(y.to_numpy()),
                                           np.array([120.0]), 0.1)
    assert out.forecast == pytest.approx(math.exp(mean), rel=1e-10)
    assert (out.lower, out.upper) == pytest.approx((math.exp(lo), math.exp(hi)), rel=1e-10)
    assert out.exceedance["t"] == pytest.approx(stats.t.sf((math.log(600) - mean) / se, df))
    assert out.exceedance["zero"] == 1.0
    assert out.probability_of_exceeding(out.forecast) == pytest.approx(0.5)  # the median


def test_percentile_in_the_climatology_by_hand():
    clim = np.arange(1.0, 11.0)  # 1..10
    assert climatology_percentile(7.5, clim) == 70.0
    assert climatology_percentile(7.0, clim) == 70.0  # at or below
    assert climatology_percentile(11.0, clim) == 100.0
    assert climatology_percentile(0.5, clim) == 0.0


def test_a_record_winter_puts_the_outlook_high_in_the_climatology():
    x = winters()
    y = volume(x, noise_sd=100)
    model = fit_outlook(x, y, columns=["swe_mm", "wetness"])
    out = issue_outlook(model, {"swe_mm": 200.0, "wetness": 0.95}, thresholds={"max": y.max()})
    assert out.percentile == 100.0
    assert out.exceedance["max"] > 0.9
    longer = np.append(y.to_numpy(), [5000.0, 6000.0])
    assert issue_outlook(model, {"swe_mm": 200.0, "wetness": 0.95},
                         climatology=longer).percentile == pytest.approx(100 * 24 / 26)


def test_years_with_a_gap_are_dropped_and_the_issue_year_may_sit_in_the_table():
    x = winters()
    y = volume(x, noise_sd=100)
    x.loc[2003, "swe_mm"] = np.nan
    y.loc[2023] = np.nan  # the year being forecast: predictors known, target not yet
    model = fit_outlook(x, y, columns=["swe_mm", "wetness"])
    assert 2003 not in model.years and 2023 not in model.years and len(model.years) == 22


# ---------------------------------------------------------------- refusals


def test_too_few_years_are_refused_with_a_clear_error():
    x = winters(n=6)
    y = volume(x, noise_sd=10)
    with pytest.raises(TooFewYearsError, match=r"needs at least 8 complete years .* got 6"):
        fit_outlook(x, y, columns=["swe_mm"])
    assert issubclass(TooFewYearsError, HydroriskError)
    assert issubclass(TooFewYearsError, ValueError)
    x8, y8 = winters(n=8), volume(winters(n=8), noise_sd=10)
    fit_outlook(x8, y8, columns=["swe_mm", "wetness"])  # 8 years fit ...
    with pytest.raises(TooFewYearsError, match=r"each fold\) needs at least 8 .* got 7"):
        loyo_skill(x8, y8, columns=["swe_mm", "wetness"])  # ... but a fold has 7
    with pytest.raises(TooFewYearsError, match="at least 7 complete years"):
        fit_outlook(x8.iloc[:6], y8.iloc[:6], columns=["swe_mm", "wetness", "frost_cm"],
                    min_years=3)


def test_bad_predictors_are_refused():
    x = winters()
    y = volume(x, noise_sd=10)
    x["twice"] = 2 * x["swe_mm"]
    with pytest.raises(OutlookError, match="constant or linearly dependent"):
        fit_outlook(x, y, columns=["swe_mm", "twice"])
    with pytest.raises(OutlookError, match="no predictor column 'sdw'"):
        fit_outlook(x, y, columns=["sdw"])
    with pytest.raises(OutlookError, match="transform='log' needs a positive target"):
        fit_outlook(x, y - 10_000, columns=["swe_mm"], transform="log")
    model = fit_outlook(x, y, columns=["swe_mm"])
    with pytest.raises(OutlookError, match="predictor 'swe_mm' has no value"):
        issue_outlook(model, {"frost_cm": 1.0})
    with pytest.raises(OutlookError, match="predictor 'swe_mm' is nan"):
        issue_outlook(model, {"swe_mm": float("nan")})


# ---------------------------------------------------------------- cross-validated skill


def test_loyo_skill_of_a_perfectly_linear_relation_is_one():
    x = winters()
    y = volume(x, noise_sd=1e-6)
    skill = loyo_skill(x, y, columns=["swe_mm", "wetness"])
    assert skill.nse == pytest.approx(1.0, abs=1e-9)
    assert skill.skill_vs_climatology == pytest.approx(1.0, abs=1e-9)
    assert list(skill.hindcasts.columns) == ["observed", "forecast", "lower", "upper",
                                             "climatology", "predictors"]


def test_loyo_skill_of_pure_noise_is_not_positive():
    x = winters(seed=11)
    y = pd.Series(np.random.default_rng(12).normal(1000, 100, len(x)), index=x.index)
    skill = loyo_skill(x, y, columns=["swe_mm", "wetness"])
    assert skill.nse <= 0 and skill.skill_vs_climatology <= 0


def test_loyo_hindcast_is_the_fit_on_the_other_years_and_the_skill_identity_holds():
    x = winters()
    y = volume(x, noise_sd=300)
    skill = loyo_skill(x, y, columns=["swe_mm"], alpha=0.2)
    for year in (2000, 2011, 2023):
        others = x.index != year
        mean, *_ = hand_prediction(x.loc[others, ["swe_mm"]].to_numpy(), y[others].to_numpy(),
                                   np.array([x.loc[year, "swe_mm"]]), 0.2)
        assert skill.hindcasts.loc[year, "forecast"] == pytest.approx(mean, rel=1e-10)
        assert skill.hindcasts.loc[year, "climatology"] == pytest.approx(y[others].mean())
    n = len(y)
    # leave-one-out climatology errors are n/(n − 1) times the all-years anomalies
    assert skill.skill_vs_climatology == pytest.approx(1 - (1 - skill.nse) * ((n - 1) / n) ** 2)
    assert 0 <= skill.coverage <= 1 and skill.predictor_frequency == {"swe_mm": 1.0}


def test_forward_selection_finds_the_real_predictors_inside_every_fold():
    x = winters()
    y = volume(x, noise_sd=100)
    # the strongest predictor enters first; the BIC stops before the noise (seed 5)
    assert select_predictors(x, y, max_predictors=2) == ("swe_mm", "wetness")
    x5 = winters(seed=5)
    assert select_predictors(x5, volume(x5, noise_sd=100, seed=6)) == ("swe_mm", "wetness")
    skill = loyo_skill(x, y, selection="forward", max_predictors=2)
    assert skill.selection == "forward"
    assert skill.predictor_frequency["swe_mm"] == 1.0
    assert skill.predictor_frequency["frost_cm"] < 0.5
    assert skill.nse > 0.8
    # noise alone: selection usually keeps no predictor, and the skill stays <= 0
    noise = pd.Series(np.random.default_rng(12).normal(1000, 100, len(x)), index=x.index)
    assert loyo_skill(x, noise, selection="forward").nse <= 0
