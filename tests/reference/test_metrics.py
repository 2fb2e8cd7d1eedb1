"""hydro.metrics: hand-worked cases, an independent re-derivation on random series, bad input."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from hydro.metrics import kge, nse, pbias, rmse

OBS = np.array([12.0, 15.0, 30.0, 80.0, 55.0, 20.0, 14.0])


# --------------------------------------------------------------------------- hand-worked

def test_perfect_and_mean_benchmarks():
    assert nse(OBS, OBS) == 1.0
    assert nse(np.full_like(OBS, OBS.mean()), OBS) == pytest.approx(0.0, abs=1e-15)
    assert kge(OBS, OBS) == pytest.approx(1.0) and kge(OBS, OBS, version=2012) == pytest.approx(1.0)
    assert pbias(OBS, OBS) == 0.0 and rmse(OBS, OBS) == 0.0


def test_tiny_case_by_hand():
    obs, sim = [1.0, 2.0, 3.0], [1.0, 2.0, 5.0]
    # Σ(s-o)² = 4, Σ(o-ō)² = 2 -> NSE = 1 - 4/2 = -1; RMSE = √(4/3); PBIAS = 100·2/6
    assert nse(sim, obs) == pytest.approx(-1.0)
    assert rmse(sim, obs) == pytest.approx(math.sqrt(4 / 3))
    assert pbias(sim, obs) == pytest.approx(100 / 3)


def test_pbias_sign_positive_when_overestimating():
    assert pbias(OBS * 1.1, OBS) == pytest.approx(10.0)
    assert pbias(OBS * 0.8, OBS) == pytest.approx(-20.0)


def test_kge_versions_on_a_scaled_series():
    # sim = c·obs: r = 1, beta = c; 2009: alpha = c -> 1 - √2 |c-1|; 2012: gamma = 1 -> 1 - |c-1|
    c = 1.3
    assert kge(c * OBS, OBS, version=2009) == pytest.approx(1 - math.sqrt(2) * 0.3)
    assert kge(c * OBS, OBS, version=2012) == pytest.approx(1 - 0.3)
    parts = kge(c * OBS, OBS, version=2012, components=True)
    assert parts == pytest.approx({"kge": 0.7, "r": 1.0, "gamma": 1.0, "beta": 1.3})
    assert set(kge(c * OBS, OBS, components=True)) == {"kge", "r", "alpha", "beta"}


def test_nan_pairs_are_dropped():
    sim = np.array([10.0, np.nan, 28.0, 85.0, 50.0, 22.0, np.nan])
    obs = np.array([12.0, 15.0, np.nan, 80.0, 55.0, 20.0, 14.0])
    keep = [0, 3, 4, 5]
    for f in (nse, kge, pbias, rmse):
        assert f(sim, obs) == pytest.approx(f(sim[keep], obs[keep]))


def test_aligned_series_are_accepted():
    idx = pd.date_range("2024-04-01", periods=OBS.size)
    assert nse(pd.Series(OBS * 1.05, index=idx), pd.Series(OBS, index=idx)) == pytest.approx(
        nse(OBS * 1.05, OBS))


# --------------------------------------------------------------------------- independent formulas

def reference(sim: np.ndarray, obs: np.ndarray) -> dict[str, float]:
    """The same metrics written differently (population moments, scipy, statistics)."""
    mse = float(np.mean((sim - obs) ** 2))
    r = stats.pearsonr(sim, obs)[0]
    mu_s, mu_o = statistics.fmean(sim), statistics.fmean(obs)
    sd_s, sd_o = statistics.pstdev(sim), statistics.pstdev(obs)
    beta = mu_s / mu_o
    return {
        "nse": 1 - mse / np.var(obs),
        "kge2009": 1 - math.hypot(r - 1, sd_s / sd_o - 1, beta - 1),
        "kge2012": 1 - math.hypot(r - 1, (sd_s / mu_s) / (sd_o / mu_o) - 1, beta - 1),
        "pbias": 100 * (mu_s / mu_o - 1),
        "rmse": float(np.linalg.norm(sim - obs) / math.sqrt(obs.size)),
    }


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_against_independent_implementation(seed):
    rng = np.random.default_rng(seed)
    obs = rng.gamma(2.0, 150.0, size=500)  # skewed, discharge-like
    sim = obs * rng.lognormal(0.05, 0.3, size=obs.size) + rng.normal(0, 20, size=obs.size)
    ref = reference(sim, obs)
    assert nse(sim, obs) == pytest.approx(ref["nse"], rel=1e-10)
    assert kge(sim, obs) == pytest.approx(ref["kge2009"], rel=1e-10)
    assert kge(sim, obs, version=2012) == pytest.approx(ref["kge2012"], rel=1e-10)
    assert pbias(sim, obs) == pytest.approx(ref["pbias"], rel=1e-10)
    assert rmse(sim, obs) == pytest.approx(ref["rmse"], rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 200), scale=st.floats(0.01, 1e4))
def test_property_bounds_and_scale_invariance(seed, n, scale):
    rng = np.random.default_rng(seed)
    obs = rng.gamma(2.0, 1.0, size=n) + 0.1
    sim = obs + rng.normal(0, 0.5, size=n)
    if np.ptp(sim) == 0:
        return
    assert nse(sim, obs) <= 1.0 and kge(sim, obs) <= 1.0 and rmse(sim, obs) >= 0.0
    # unit changes (m³/s -> l/s) leave the dimensionless metrics unchanged
    for f in (nse, kge, pbias):
        assert f(sim * scale, obs * scale) == pytest.approx(f(sim, obs), rel=1e-7, abs=1e-9)
    assert rmse(sim * scale, obs * scale) == pytest.approx(rmse(sim, obs) * scale, rel=1e-9)


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("metric", [nse, kge, pbias, rmse])
def test_length_mismatch_and_empty(metric):
    with pytest.raises(ValueError, match="differ in length: 3 and 2"):
        metric([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="no pair of sim and obs without NaN"):
        metric([], [])
    with pytest.raises(ValueError, match=r"no pair .*\(of 2 given\)"):
        metric([np.nan, 1.0], [2.0, np.nan])
    with pytest.raises(ValueError, match="one-dimensional"):
        metric(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="different indexes; align them first"):
        metric(pd.Series([1.0, 2.0], index=[0, 1]), pd.Series([1.0, 2.0], index=[1, 2]))


@pytest.mark.parametrize("metric", [nse, kge])
def test_constant_obs(metric):
    with pytest.raises(ValueError, match="undefined for constant obs"):
        metric([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])


def test_kge_and_pbias_undefined_cases():
    with pytest.raises(ValueError, match="constant sim"):
        kge([4.0, 4.0, 4.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="mean of obs is 0"):
        kge([1.0, 2.0, 0.0], [-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="obs sum to 0"):
        pbias([1.0, 2.0, 3.0], [-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="unknown KGE version 2015"):
        kge(OBS, OBS, version=2015)


def test_kge_with_a_mean_of_obs_near_zero_is_hugely_negative_not_an_overflow():
    """obs 1e-10·(1, 2, 3) against sim 1e150·(1, 2, 3), worked by hand: r = 1, α = σ_s/σ_o =
    1e160, β = μ_s/μ_o = 1e160, so KGE = 1 - √2·(1e160 - 1).  The squares of the sum-of-
    squares form overflow a double (1e320); the norm itself does not."""
    value = kge([1e150, 2e150, 3e150], [1e-10, 2e-10, 3e-10], components=True)
    assert value["r"] == pytest.approx(1.0)
    assert value["alpha"] == pytest.approx(1e160, rel=1e-12)
    assert value["beta"] == pytest.approx(1e160, rel=1e-12)
    assert value["kge"] == pytest.approx(1.0 - math.sqrt(2.0) * (1e160 - 1.0), rel=1e-12)
    assert math.isfinite(value["kge"])
