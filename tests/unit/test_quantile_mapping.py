"""Empirical quantile mapping (hydro.quantile_mapping): hand-worked examples and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydro import quantile_mapping as qm

flows = st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_infinity=False)


def test_hand_worked_same_size_samples():
    # model 1..4, observed twice as much: the nodes are the sorted samples themselves
    f = qm.fit([4.0, 1.0, 3.0, 2.0], [2.0, 8.0, 4.0, 6.0])
    assert f.model_q.tolist() == [1, 2, 3, 4] and f.obs_q.tolist() == [2, 4, 6, 8]
    assert f.probs.tolist() == [0.125, 0.375, 0.625, 0.875]      # Hazen positions
    assert f([1.0, 2.5, 4.0]).tolist() == [2.0, 5.0, 8.0]         # linear between nodes
    # beyond the range: the extreme node's correction held constant
    assert f([5.0, 0.5]).tolist() == [10.0, 1.0]                   # x 8/4 and x 2/1
    add = qm.fit([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0], extrapolation="additive")
    assert add([5.0, 0.5]).tolist() == [9.0, 1.5]                  # + 4 and + 1


def test_hand_worked_different_sizes_and_nan():
    # two observations 0 and 10: Hazen quantiles at p = .125 .375 .625 .875 are
    # 0 (below the first position), 2.5, 7.5, 10 (above the last)
    f = qm.fit([1.0, 2.0, 3.0, 4.0, np.nan], [10.0, 0.0])
    assert f.obs_q.tolist() == [0.0, 2.5, 7.5, 10.0]
    out = f([1.0, 2.0, 3.0, 4.0, np.nan])
    assert out[:4].tolist() == [0.0, 2.5, 7.5, 10.0] and np.isnan(out[4])


def test_tied_model_values_merge_into_one_node():
    # three zero flows: one node at 0 whose observed value is the mean of theirs
    f = qm.fit([0.0, 0.0, 0.0, 5.0], [1.0, 2.0, 3.0, 4.0])
    assert f.model_q.tolist() == [0.0, 5.0] and f.obs_q.tolist() == [2.0, 4.0]
    assert f([0.0, 2.5, 5.0]).tolist() == [2.0, 3.0, 4.0]


def test_negative_results_are_clipped_and_errors_are_clear():
    f = qm.fit([10.0, 20.0], [1.0, 2.0], extrapolation="additive")
    assert f([0.0]).tolist() == [0.0]                              # 0 - 9 -> clipped at 0
    assert qm.fit([10.0, 20.0], [1.0, 2.0], extrapolation="additive",
                  lower_bound=None)([0.0]).tolist() == [-9.0]
    with pytest.raises(qm.QuantileMappingError, match="model sample has 1 finite"):
        qm.fit([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(qm.QuantileMappingError, match="infinite"):
        qm.fit([1.0, 2.0], [1.0, np.inf])
    with pytest.raises(qm.QuantileMappingError, match="unknown extrapolation"):
        qm.fit([1.0, 2.0], [1.0, 2.0], extrapolation="linear")  # type: ignore[arg-type]


def test_percentile_nodes():
    x = np.arange(1000.0)
    f = qm.fit(x, 2 * x, n_quantiles=100)
    assert f.n_nodes == 100
    assert f(x) == pytest.approx(2 * x)


def test_day_of_year_window_is_circular():
    assert qm.in_window([1, 366, 350, 20, 21], 5, 15).tolist() == [True, True, False, True,
                                                                   False]


def test_map_by_window_fits_each_season_on_its_own():
    rng = np.random.default_rng(1)
    obs = rng.gamma(2.0, 100.0, 400)
    doy = np.r_[np.full(200, 100), np.full(200, 250)]
    model = np.where(doy == 100, 2.0 * obs, 0.5 * obs)     # too wet in spring, too dry later
    out = qm.map_by_window(model, doy, model, doy, obs, doy, half_width=15)
    assert out == pytest.approx(obs)
    with pytest.raises(qm.QuantileMappingError, match="day of year 180"):
        qm.map_by_window([1.0], [180], model, doy, obs, doy, half_width=15)


@given(st.lists(flows, min_size=2, max_size=60))
def test_identity_when_the_model_is_the_observed(x):
    f = qm.fit(x, x)
    probe = np.r_[np.asarray(x), 0.5 * min(x), 2.0 * max(x) + 1.0]
    assert f(probe) == pytest.approx(probe, rel=1e-9, abs=1e-9)


@given(st.lists(flows, min_size=2, max_size=60, unique=True),
       st.lists(flows, min_size=2, max_size=60))
def test_mapping_the_model_climatology_gives_the_observed_quantiles(x, y):
    f = qm.fit(x, y)
    mapped = np.sort(f(x))
    probs = (np.arange(len(x)) + 0.5) / len(x)
    assert mapped == pytest.approx(np.quantile(y, probs, method="hazen"), rel=1e-9, abs=1e-9)


@given(st.lists(flows, min_size=2, max_size=60), st.lists(flows, min_size=2, max_size=60),
       st.lists(st.floats(min_value=0.0, max_value=3e4), min_size=1, max_size=40),
       st.sampled_from(qm.EXTRAPOLATIONS), st.sampled_from([None, 7]))
def test_monotone_and_non_negative(x, y, v, rule, n):
    f = qm.fit(x, y, extrapolation=rule, n_quantiles=n)
    out = f(np.sort(v))
    assert (np.diff(out) >= -1e-9 * (1 + np.abs(out[1:]))).all()
    assert (out >= 0).all()
