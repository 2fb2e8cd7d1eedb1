"""hydro.alert_verification invariants: the contingency counts add up, the matching is a
maximum one (checked against a brute-force augmenting-path matching), more tolerance never
loses a hit, and crossing episodes partition the readings that reach the level."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hydro.alert_verification import crossing_episodes, verify_alerts

BASE = pd.Timestamp("2024-03-01")
H = pd.Timedelta(hours=1)


@st.composite
def crossings(draw) -> pd.DataFrame:
    """Disjoint episodes: sorted distinct hour marks taken in pairs (start < end)."""
    marks = sorted(draw(st.sets(st.integers(0, 24 * 90), max_size=12)))
    marks = marks[: len(marks) // 2 * 2]
    starts = [BASE + m * H for m in marks[0::2]]
    ends = [BASE + m * H for m in marks[1::2]]
    return pd.DataFrame({"start": pd.to_datetime(pd.Series(starts, dtype="datetime64[ns]")),
                         "end": pd.to_datetime(pd.Series(ends, dtype="datetime64[ns]"))})


@st.composite
def alerts(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 8))
    opened = [draw(st.integers(-24 * 5, 24 * 95)) for _ in range(n)]
    length = [draw(st.one_of(st.none(), st.integers(0, 24 * 20))) for _ in range(n)]
    index = pd.RangeIndex(100, 100 + n)
    return pd.DataFrame({
        "opened_at": pd.Series([BASE + o * H for o in opened], dtype="datetime64[ns]",
                               index=index),
        "closed_at": pd.Series([pd.NaT if d is None else BASE + (o + d) * H
                                for o, d in zip(opened, length, strict=True)],
                               dtype="datetime64[ns]", index=index)})


def may_match(c: pd.DataFrame, a: pd.DataFrame, tol: pd.Timedelta) -> list[list[int]]:
    """The definition, written out independently: crossing i may take alert j."""
    out = []
    for s, e in zip(c["start"], c["end"], strict=True):
        out.append([j for j, (o, cl) in enumerate(zip(a["opened_at"], a["closed_at"],
                                                          strict=True))
                    if o <= e and (pd.isna(cl) or cl >= s - tol)])
    return out


def maximum_matching(adj: list[list[int]]) -> int:
    """Size of a maximum bipartite matching (Kuhn's augmenting paths)."""
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in adj[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    return sum(augment(i, set()) for i in range(len(adj)))


TOLERANCES = st.sampled_from([pd.Timedelta(0), pd.Timedelta(hours=12), pd.Timedelta(days=1),
                              pd.Timedelta(days=3)])


@settings(max_examples=200, deadline=None)
@given(crossings(), alerts(), TOLERANCES)
def test_counts_add_up_and_the_matching_is_maximum(c, a, tol):
    v = verify_alerts(c, a, tolerance=tol)
    assert v.hits + v.misses == len(c)
    assert v.hits + v.false_alarms == len(a)
    assert v.hits == maximum_matching(may_match(c, a, tol))
    # every pair counted is allowed by the definition, and no alert is used twice
    adj = may_match(c, a, tol)
    pos = {label: k for k, label in enumerate(a.index)}
    used = [x for x in v.crossings["alert"] if x is not None]
    assert len(used) == len(set(used))
    for i, label in enumerate(v.crossings["alert"]):
        if label is not None:
            assert pos[label] in adj[i]
            # lead is from the first alert that may match: never later than the one matched
            assert v.crossings["lead"].iloc[i] >= c["start"].iloc[i] - a["opened_at"].iloc[
                pos[label]]
            # an alert opens no later than the crossing's end
            assert v.crossings["lead"].iloc[i] >= c["start"].iloc[i] - c["end"].iloc[i]
    assert 0 <= v.late <= v.hits


@settings(max_examples=100, deadline=None)
@given(crossings(), alerts())
def test_more_tolerance_never_loses_a_hit(c, a):
    hits = [verify_alerts(c, a, tolerance=t).hits
            for t in (pd.Timedelta(0), pd.Timedelta(days=1), pd.Timedelta(days=5))]
    assert hits == sorted(hits)


@settings(max_examples=100, deadline=None)
@given(crossings(), alerts(), st.integers(0, 24 * 90), st.integers(0, 24 * 90))
def test_a_period_counts_a_consistent_subset(c, a, h1, h2):
    lo, hi = BASE + min(h1, h2) * H, BASE + max(h1, h2) * H
    v = verify_alerts(c, a, start=lo, end=hi)
    inside = int(((c["start"] >= lo) & (c["start"] <= hi)).sum())
    assert v.hits + v.misses == inside
    assert v.hits + v.false_alarms == len(v.alerts) <= len(a)
    whole = verify_alerts(c, a)
    assert v.hits <= whole.hits and v.false_alarms <= whole.false_alarms


@st.composite
def stage_series(draw) -> pd.Series:
    n = draw(st.integers(0, 60))
    values = draw(st.lists(st.one_of(st.floats(0, 400), st.just(float("nan"))),
                           min_size=n, max_size=n))
    return pd.Series(values, index=pd.date_range("2024-03-01 03:00", periods=n, freq="D"),
                     dtype=float)


@settings(max_examples=200, deadline=None)
@given(stage_series(), st.floats(50, 350), st.sampled_from([0.0, 5.0, 20.0, 100.0]))
def test_episodes_partition_the_readings_that_reach_the_level(s, level, band):
    ep = crossing_episodes(s, level, hysteresis_cm=band)
    readings = s.dropna()
    over = readings[readings >= level]
    # episodes are disjoint, in order, start and end on readings at or over the level
    assert (ep["start"].iloc[1:].to_numpy() > ep["end"].iloc[:-1].to_numpy()).all()
    for start, last, end in zip(ep["start"], ep["last"], ep["end"], strict=True):
        assert readings[start] >= level and readings[last] >= level
        assert end == last or (end > last and readings[end] < level)
    # every reading at or over the level is in exactly one episode
    inside = np.zeros(len(over), dtype=int)
    for start, end in zip(ep["start"], ep["last"], strict=True):
        inside += ((over.index >= start) & (over.index <= end)).astype(int)
    assert (inside == 1).all()
    # a wider band never makes more episodes
    assert len(crossing_episodes(s, level, hysteresis_cm=band + 10)) <= len(ep)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=1, max_size=60), st.floats(50, 350))
def test_a_stage_oscillating_within_the_band_is_one_crossing(wiggle, level):
    # first reading at the level, then anything within +-10 cm of it: a 10 cm band holds
    s = pd.Series([level] + [level + w for w in wiggle],
                  index=pd.date_range("2024-04-01", periods=len(wiggle) + 1, freq="D"))
    assert len(crossing_episodes(s, level, hysteresis_cm=10)) == 1
