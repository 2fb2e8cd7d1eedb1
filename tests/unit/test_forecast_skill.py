"""hydro.forecast_skill: CRPS against its definition and closed forms, skill scores and the
skill-by-lead table worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import properscoring
import pytest
from scipy import integrate, stats

from hydro.forecast_skill import (
    crps_ensemble,
    crps_gaussian,
    mae,
    sigma_from_interval,
    skill_by_lead,
    skill_score,
)

# ---------------------------------------------------------------- CRPS of an ensemble


def _crps_by_integration(obs: float, members: np.ndarray) -> float:
    """The definition ∫ (F(x) − 1{x ≥ y})² dx with F the ensemble's empirical CDF
    (Matheson & Winkler 1976; Hersbach 2000, eq. 5), integrated piecewise by scipy."""
    points = np.sort(np.append(members, obs))
    def integrand(x: float) -> float:
        return (np.mean(members <= x) - float(x >= obs)) ** 2
    total = 0.0
    for a, b in zip(points[:-1], points[1:], strict=True):
        if b > a:
            total += integrate.quad(integrand, a, b, limit=10)[0]
    return total


def test_crps_of_a_one_member_ensemble_is_the_absolute_error():
    """Gneiting & Raftery (2007), §4.2: the CRPS reduces to the absolute error."""
    obs = np.array([3.0, -1.0, 10.0])
    members = np.array([[5.0], [-1.0], [2.5]])
    np.testing.assert_allclose(crps_ensemble(obs, members), np.abs(obs - members[:, 0]))
    assert mae(members[:, 0], obs) == pytest.approx(np.mean([2.0, 0.0, 7.5]))


def test_crps_of_an_ensemble_equals_the_kernel_form_worked_by_hand():
    """E|X − y| − ½ E|X − X'| (Gneiting & Raftery 2007, eq. 21); members 0, 1, 2 and y = 1:
    2/3 − ½ · 8/9 = 2/9."""
    assert float(crps_ensemble(1.0, [0.0, 1.0, 2.0])) == pytest.approx(2.0 / 9.0)


@pytest.mark.parametrize("obs", [-3.0, 0.4, 1.7, 12.0])
def test_crps_of_an_ensemble_equals_numerical_integration_of_its_definition(obs):
    members = np.array([0.3, 1.1, 1.2, 2.9, 5.0, -0.7])
    assert float(crps_ensemble(obs, members)) == pytest.approx(
        _crps_by_integration(obs, members), rel=1e-9, abs=1e-12)


def test_crps_ensemble_takes_the_member_axis_and_ignores_nan_members():
    ens = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, np.nan]])  # members along axis 0
    out = crps_ensemble([1.0, 1.5], ens, axis=0)
    np.testing.assert_allclose(out, [float(crps_ensemble(1.0, [0.0, 1.0, 2.0])),
                                     float(crps_ensemble(1.5, [1.0, 2.0]))])


def test_crps_ensemble_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"observations of shape \(3,\) do not match"):
        crps_ensemble([1.0, 2.0, 3.0], np.zeros((2, 5)))
    with pytest.raises(ValueError, match="must have a member axis"):
        crps_ensemble(1.0, 2.0)


# ---------------------------------------------------------------- Gaussian CRPS


@pytest.mark.parametrize("obs, mu, sigma", [(0.0, 0.0, 1.0), (2.5, 1.0, 0.7),
                                            (-40.0, 10.0, 25.0), (300.0, 250.0, 80.0)])
def test_gaussian_crps_closed_form_equals_numerical_integration(obs, mu, sigma):
    """Gneiting et al. (2005), eq. 5 against ∫ (Φ((x − μ)/σ) − 1{x ≥ y})² dx by scipy quad."""
    def below(x):
        return stats.norm.cdf(x, mu, sigma) ** 2

    def above(x):
        return stats.norm.sf(x, mu, sigma) ** 2

    numeric = (integrate.quad(below, -np.inf, obs)[0] + integrate.quad(above, obs, np.inf)[0])
    assert float(crps_gaussian(obs, mu, sigma)) == pytest.approx(numeric, rel=1e-7)


def test_gaussian_crps_matches_properscoring_and_a_hand_value():
    # y = μ, σ = 1: 2φ(0) − 1/√π = (√2 − 1)/√π
    assert float(crps_gaussian(0.0, 0.0, 1.0)) == pytest.approx((math.sqrt(2) - 1) / math.sqrt(math.pi))
    y = np.array([0.2, 5.0, -3.0])
    np.testing.assert_allclose(crps_gaussian(y, 1.0, [0.5, 2.0, 4.0]),
                               properscoring.crps_gaussian(y, 1.0, np.array([0.5, 2.0, 4.0])))


def test_gaussian_crps_with_zero_spread_is_the_absolute_error():
    np.testing.assert_allclose(crps_gaussian([3.0, -2.0], 1.0, 0.0), [2.0, 3.0])
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        crps_gaussian(0.0, 0.0, -1.0)


def test_sigma_from_a_central_interval():
    # the 5-95 % interval of N(0, 1) is ±1.6449
    assert float(sigma_from_interval(-1.6448536, 1.6448536, 0.1)) == pytest.approx(1.0, rel=1e-6)


# ---------------------------------------------------------------- skill scores


def test_skill_score_by_hand():
    """1 − score/score_ref (Murphy 1988): 2 against 4 is 0.5, 6 against 4 is −0.5."""
    np.testing.assert_allclose(skill_score([2.0, 6.0, 4.0], 4.0), [0.5, -0.5, 0.0])
    assert np.isnan(skill_score(1.0, 0.0))


def _backtest() -> pd.DataFrame:
    """Three issue dates × two leads; observations 10, 12, 14 at lead 1 and 11, 13, 15 at
    lead 2.  persistence misses by 2 everywhere, climatology by 4, 'model' by 1 at lead 1
    and by 3 at lead 2."""
    rows = []
    issues = pd.to_datetime(["2024-04-01", "2024-04-02", "2024-04-03"])
    for i, t in enumerate(issues):
        for lead, obs in ((1, 10.0 + 2 * i), (2, 11.0 + 2 * i)):
            rows.append((t, lead, obs + 2.0, obs, "persistence"))
            rows.append((t, lead, obs - 4.0, obs, "climatology"))
            rows.append((t, lead, obs + (1.0 if lead == 1 else -3.0), obs, "model"))
    return pd.DataFrame(rows, columns=["issue_time", "lead_days", "forecast", "observed",
                                       "method"])


def test_skill_by_lead_worked_by_hand():
    table = skill_by_lead(_backtest()).set_index(["method", "lead_days"])
    m1 = table.loc[("model", 1)]
    assert m1["n"] == 3 and m1["mae"] == 1.0 and m1["mse"] == 1.0 and m1["crps"] == 1.0
    assert m1["skill_mse_vs_persistence"] == pytest.approx(1 - 1 / 4)
    assert m1["skill_mae_vs_climatology"] == pytest.approx(1 - 1 / 4)
    assert m1["beats_persistence"]
    m2 = table.loc[("model", 2)]
    assert m2["skill_mse_vs_persistence"] == pytest.approx(1 - 9 / 4)
    assert not m2["beats_persistence"]
    # NSE at lead 1: obs 10, 12, 14 (Σ(o − ō)² = 8), errors 1 each → 1 − 3/8
    assert m1["nse"] == pytest.approx(1 - 3 / 8)
    # a reference against itself has skill 0 and does not beat persistence
    for lead in (1, 2):
        assert table.loc[("persistence", lead), "skill_mse_vs_persistence"] == 0.0
        assert table.loc[("climatology", lead), "skill_crps_vs_climatology"] == 0.0
        assert not table.loc[("persistence", lead), "beats_persistence"]


def test_skill_by_lead_scores_only_the_pairs_every_method_has():
    bt = _backtest()
    drop = (bt["method"] == "model") & (bt["issue_time"] == "2024-04-03") & (bt["lead_days"] == 1)
    table = skill_by_lead(bt[~drop]).set_index(["method", "lead_days"])
    assert table.loc[("persistence", 1), "n"] == 2
    assert table.loc[("persistence", 2), "n"] == 3


def test_skill_by_lead_with_ensembles_uses_the_ensemble_crps_and_mean():
    bt = _backtest()
    ens = []
    for _, r in bt[bt["method"] == "model"].iterrows():
        for m, d in enumerate((-1.0, 0.0, 1.0)):
            ens.append({**r.to_dict(), "method": "ensemble", "member": m,
                        "forecast": r["forecast"] + d})
    frame = pd.concat([bt, pd.DataFrame(ens)], ignore_index=True)
    table = skill_by_lead(frame).set_index(["method", "lead_days"])
    # members f−1, f, f+1 around an error of +1: CRPS by hand from E|X−y| − ½E|X−X'|
    expected = float(crps_ensemble(0.0, [0.0, 1.0, 2.0]))
    assert table.loc[("ensemble", 1), "crps"] == pytest.approx(expected)
    assert table.loc[("ensemble", 1), "mae"] == pytest.approx(1.0)  # the ensemble mean


def test_skill_by_lead_with_gaussian_intervals():
    bt = _backtest()
    bt["lower"] = bt["forecast"] - 1.6448536
    bt["upper"] = bt["forecast"] + 1.6448536
    table = skill_by_lead(bt, interval_alpha=0.1).set_index(["method", "lead_days"])
    assert table.loc[("persistence", 1), "crps"] == pytest.approx(
        float(crps_gaussian(0.0, 2.0, 1.0)), rel=1e-6)


def test_skill_by_lead_refuses_bad_input():
    bt = _backtest()
    with pytest.raises(ValueError, match="lacks the column"):
        skill_by_lead(bt.drop(columns="observed"))
    with pytest.raises(ValueError, match=r"reference method\(s\) persistence not in"):
        skill_by_lead(bt[bt["method"] != "persistence"])
    with pytest.raises(ValueError, match="unknown score 'rmse'"):
        skill_by_lead(bt, score="rmse")  # type: ignore[arg-type]
