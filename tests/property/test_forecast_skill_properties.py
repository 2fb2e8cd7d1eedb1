"""hydro.forecast_skill invariants: the CRPS is non-negative, an ensemble's CRPS does not
depend on the order of its members, and a reference scored against itself has skill 0."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hydro.forecast_skill import crps_ensemble, crps_gaussian, skill_by_lead, skill_score

values = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
members = st.lists(values, min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(obs=values, ens=members)
def test_crps_of_an_ensemble_is_non_negative(obs, ens):
    assert float(crps_ensemble(obs, ens)) >= -1e-9


@settings(max_examples=60, deadline=None)
@given(obs=values, mu=values, sigma=st.floats(0, 1e4))
def test_gaussian_crps_is_non_negative_and_at_most_the_mean_absolute_error(obs, mu, sigma):
    """0 ≤ CRPS ≤ E|X − y| ≤ |y − μ| + E|X − μ| = |y − μ| + σ√(2/π) (Gneiting & Raftery
    2007, eq. 21, the kernel form)."""
    crps = float(crps_gaussian(obs, mu, sigma))
    bound = abs(obs - mu) + sigma * math.sqrt(2 / math.pi)
    assert -1e-9 <= crps <= bound + 1e-9 * max(1.0, bound)


@settings(max_examples=60, deadline=None)
@given(obs=values, ens=members, data=st.data())
def test_crps_of_an_ensemble_does_not_depend_on_member_order(obs, ens, data):
    shuffled = data.draw(st.permutations(ens))
    assert np.isclose(float(crps_ensemble(obs, ens)), float(crps_ensemble(obs, shuffled)),
                      rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(score=st.floats(1e-6, 1e6))
def test_skill_score_of_a_score_against_itself_is_zero(score):
    assert skill_score(score, score) == 0.0


@settings(max_examples=30, deadline=None)
@given(obs=st.lists(st.floats(0, 1e3), min_size=3, max_size=12),
       noise=st.lists(st.floats(-50, 50), min_size=12, max_size=12))
def test_each_reference_in_the_skill_table_has_skill_zero_against_itself(obs, noise):
    n = len(obs)
    issues = pd.date_range("2024-03-01", periods=n, freq="D")
    frame = pd.DataFrame({
        "issue_time": np.concatenate([issues, issues]),
        "lead_days": 1,
        "method": ["persistence"] * n + ["climatology"] * n,
        # errors of at least 50 (never zero: a perfect reference leaves the skill undefined)
        "forecast": np.concatenate([np.add(obs, noise[:n]) + 100.0,
                                    np.add(obs, noise[::-1][:n]) - 100.0]),
        "observed": np.concatenate([obs, obs]),
    })
    table = skill_by_lead(frame).set_index("method")
    for ref in ("persistence", "climatology"):
        for name in ("mse", "mae", "crps"):
            assert table.loc[ref, f"skill_{name}_vs_{ref}"] == 0.0
    assert not table.loc["persistence", "beats_persistence"]
