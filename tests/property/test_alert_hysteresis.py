"""Property: a stage series oscillating around a threshold within the hysteresis band
raises at most one alert (hydro.alert_rules), whatever the oscillation, persistence or
number of stations — and a series that leaves the band below closes it."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hydro import alert_rules as ar

finite = dict(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(threshold=st.floats(100, 1500, **finite),
       band=st.floats(0.5, 100, **finite),
       persistence=st.integers(1, 4),
       offsets=st.lists(st.floats(-1.0, 1.0, **finite), min_size=1, max_size=200),
       start_below=st.floats(1.01, 5.0, **finite))
def test_oscillation_within_the_band_raises_at_most_one_alert(threshold, band, persistence,
                                                               offsets, start_below):
    # readings in [threshold - band, threshold + band]: never below threshold - band,
    # the only way to close an open level; the series may start well below
    values = np.r_[threshold - start_below * band, threshold + band * np.asarray(offsets)]
    values = np.clip(values, None, threshold + band)
    levels = ar.hysteresis_levels(values, np.full(len(values), threshold), band=band,
                                  persistence=persistence)
    times = pd.date_range("2024-04-01", periods=len(values), freq="D").to_numpy()
    eps = ar.episodes(times, values, levels, ["dangerous"])
    assert len(eps) <= 1
    if eps:
        assert eps[0].is_open           # nothing in the band closes it


@settings(max_examples=100, deadline=None)
@given(stations=st.lists(st.lists(st.floats(-1.0, 1.0, **finite), min_size=1, max_size=50),
                         min_size=1, max_size=6),
       band=st.floats(1, 50, **finite))
def test_at_most_one_alert_per_station_when_many_are_evaluated_together(stations, band):
    thr = 700.0
    values = np.concatenate([thr + band * np.asarray(s) for s in stations])
    groups = np.concatenate([np.full(len(s), i) for i, s in enumerate(stations)])
    levels = ar.hysteresis_levels(values, np.full(len(values), thr), groups=groups, band=band)
    times = np.concatenate([pd.date_range("2024-04-01", periods=len(s), freq="D").to_numpy()
                            for s in stations])
    eps = ar.episodes(times, values, levels, ["dangerous"], groups=groups,
                      keys=[str(i) for i in range(len(stations))])
    per = pd.Series([e.key for e in eps]).value_counts()
    assert (per <= 1).all()


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 20), band=st.floats(1, 50, **finite))
def test_leaving_the_band_closes_and_a_new_crossing_reopens(n, band):
    thr = 700.0
    values = np.r_[np.full(n, thr), thr - band - 1, np.full(n, thr)]
    levels = ar.hysteresis_levels(values, np.full(len(values), thr), band=band)
    times = pd.date_range("2024-04-01", periods=len(values), freq="D").to_numpy()
    eps = ar.episodes(times, values, levels, ["dangerous"])
    assert len(eps) == 2 and not eps[0].is_open and eps[1].is_open
