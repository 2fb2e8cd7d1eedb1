"""hydro.alert_verification: observed crossings and the verification of alerts, worked by
hand (each expected number is derived in the comment beside it)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hydro.alert_verification import (
    CROSSING_COLUMNS,
    crossing_episodes,
    scores,
    verify_alerts,
)

T = pd.Timestamp
DAY = pd.Timedelta(days=1)


def daily(values: list[float], first: str = "2024-04-01 03:00") -> pd.Series:
    return pd.Series(values, index=pd.date_range(first, periods=len(values), freq="D"),
                     dtype=float)


# ---------------------------------------------------------------- crossing episodes

# day:       1    2    3    4    5    6    7    8    9   10
STAGE = [100, 120, 150, 160, 149, 155, 140, 130, 151, 100]


def test_consecutive_days_at_or_over_the_level_are_one_episode():
    ep = crossing_episodes(daily(STAGE), 150)
    # at or over 150 on days 3-4 (150 counts: "at"), 6 and 9
    assert list(ep.columns) == CROSSING_COLUMNS
    assert ep["start"].tolist() == [T("2024-04-03 03:00"), T("2024-04-06 03:00"),
                                    T("2024-04-09 03:00")]
    assert ep["last"].tolist() == [T("2024-04-04 03:00"), T("2024-04-06 03:00"),
                                   T("2024-04-09 03:00")]
    # each is seen to be over at the next reading (days 5, 7 and 10)
    assert ep["end"].tolist() == [T("2024-04-05 03:00"), T("2024-04-07 03:00"),
                                  T("2024-04-10 03:00")]
    assert ep["peak"].tolist() == [160, 155, 151]
    assert ep["peak_time"].iloc[0] == T("2024-04-04 03:00")
    assert ep["readings"].tolist() == [2, 1, 1]


def test_hysteresis_band_joins_a_stage_hovering_at_the_level():
    ep = crossing_episodes(daily(STAGE), 150, hysteresis_cm=10)
    # band: >= 140.  Day 3 reaches it; days 4-7 (160, 149, 155, 140) stay in the band;
    # day 8 (130) leaves it.  The last reading at or over 150 is day 6; day 7 (140, below
    # the level) shows it over.  Day 9 (151) starts a second one, over at day 10.
    assert ep["start"].tolist() == [T("2024-04-03 03:00"), T("2024-04-09 03:00")]
    assert ep["last"].tolist() == [T("2024-04-06 03:00"), T("2024-04-09 03:00")]
    assert ep["end"].tolist() == [T("2024-04-07 03:00"), T("2024-04-10 03:00")]
    assert ep["readings"].tolist() == [4, 1]  # days 3, 4, 5, 6
    assert ep["peak"].tolist() == [160, 151]


def test_a_gap_longer_than_max_gap_ends_an_episode_and_missing_values_are_no_readings():
    s = daily([160, 160, np.nan, np.nan, 160])  # readings on days 1, 2 and 5
    two = crossing_episodes(s, 150)  # day 2 -> day 5 is 3 days > 2 days
    assert two["start"].tolist() == [T("2024-04-01 03:00"), T("2024-04-05 03:00")]
    # no reading follows within the gap: the end is the last reading known over
    assert two["end"].tolist() == [T("2024-04-02 03:00"), T("2024-04-05 03:00")]
    one = crossing_episodes(s, 150, max_gap="3 days")
    assert one["start"].tolist() == [T("2024-04-01 03:00")]
    assert one["last"].tolist() == [T("2024-04-05 03:00")]
    assert one["readings"].tolist() == [3]
    # one missing day (2 days between readings) does not split with the default
    assert len(crossing_episodes(daily([160, np.nan, 160]), 150)) == 1


def test_low_water_level_is_reached_at_or_under_it():
    ep = crossing_episodes(daily([60, 50, 40, 55, 45]), 50, direction="below")
    assert ep["start"].tolist() == [T("2024-04-02 03:00"), T("2024-04-05 03:00")]
    assert ep["last"].tolist() == [T("2024-04-03 03:00"), T("2024-04-05 03:00")]
    assert ep["end"].tolist() == [T("2024-04-04 03:00"), T("2024-04-05 03:00")]
    assert ep["peak"].tolist() == [40, 45]  # the lowest reading


def test_a_level_per_reading_and_none_in_force():
    # the level is revised from 150 to 170 on day 4, and none is in force on day 6
    level = pd.Series([150, 150, 150, 170, 170, np.nan, 150, 150, 150, 150],
                      index=daily(STAGE).index, dtype=float)
    ep = crossing_episodes(daily(STAGE), level)
    # day 3 (150) reaches 150; day 4 (160) is under 170; day 6 (155) has no level; day 9
    assert ep["start"].tolist() == [T("2024-04-03 03:00"), T("2024-04-09 03:00")]
    with pytest.raises(ValueError, match="index of the stage series"):
        crossing_episodes(daily(STAGE), level.iloc[1:])


def test_unsorted_series_is_read_in_time_order_and_empty_gives_no_episode():
    s = daily(STAGE).iloc[::-1]
    assert crossing_episodes(s, 150)["readings"].tolist() == [2, 1, 1]
    empty = crossing_episodes(pd.Series([], dtype=float, index=pd.DatetimeIndex([])), 150)
    assert empty.empty and list(empty.columns) == CROSSING_COLUMNS
    assert crossing_episodes(daily([100, 120]), 150).empty


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"hysteresis_cm": -1}, "hysteresis must be zero or more cm"),
    ({"direction": "up"}, "direction must be 'above' or 'below'"),
    ({"max_gap": "soon"}, "max_gap must be a duration"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        crossing_episodes(daily(STAGE), 150, **kwargs)
    with pytest.raises(ValueError, match="threshold must be a finite stage"):
        crossing_episodes(daily(STAGE), float("nan"))
    with pytest.raises(TypeError, match="pandas Series"):
        crossing_episodes(STAGE, 150)  # type: ignore[arg-type]


# ---------------------------------------------------------------- matching alerts

CROSSINGS = pd.DataFrame({
    "start": [T("2024-04-05"), T("2024-04-20"), T("2024-05-10")],   # C1, C2, C3
    "end": [T("2024-04-10"), T("2024-04-22"), T("2024-05-11")],
})
ALERTS = pd.DataFrame({
    "opened_at": [T("2024-04-03 08:00"), T("2024-04-06"), T("2024-04-21 12:00"),
                  T("2024-04-30")],
    "closed_at": [T("2024-04-12"), T("2024-04-08"), T("2024-04-23"), T("2024-05-02")],
}, index=pd.Index([7, 8, 9, 10], name="id"))


def test_hits_misses_false_alarms_and_lead_times_worked_by_hand():
    v = verify_alerts(CROSSINGS, ALERTS)
    # C1 (Apr 5-10): alerts 7 (Apr 3 08:00-Apr 12) and 8 (Apr 6-8) may match it; both can
    #   match C1 only, so the tie goes to the one opened first: 7.  8 is a duplicate, a
    #   false alarm.  Lead: Apr 5 00:00 - Apr 3 08:00 = 1 d 16 h.
    # C2 (Apr 20-22): alert 9 opened Apr 21 12:00, during the crossing: a late hit, lead
    #   Apr 20 - Apr 21 12:00 = -1.5 d.
    # C3 (May 10-11): alert 10 (Apr 30-May 2) closed 8 days before it (tolerance 1 day):
    #   C3 is a miss and 10 a false alarm.
    assert (v.hits, v.misses, v.false_alarms) == (2, 1, 2)
    assert (v.n_crossings, v.n_alerts) == (3, 4)
    assert v.crossings["alert"].tolist() == [7, 9, None]
    assert v.crossings["lead"].tolist()[:2] == [pd.Timedelta(hours=40), pd.Timedelta(hours=-36)]
    assert pd.isna(v.crossings["lead"].iloc[2])
    assert v.median_lead_days == pytest.approx((40 / 24 - 1.5) / 2)  # 0.0833 d
    assert v.late == 1
    outcome = dict(zip(v.alerts["alert"], v.alerts["outcome"], strict=True))
    assert outcome == {7: "hit", 8: "false_alarm", 9: "hit", 10: "false_alarm"}
    assert v.pod == pytest.approx(2 / 3)
    assert v.far == pytest.approx(2 / 4)
    assert v.csi == pytest.approx(2 / 5)


def test_tolerance_lets_an_alert_closed_just_before_the_crossing_count():
    c = CROSSINGS.iloc[:1]
    a = pd.DataFrame({"opened_at": [T("2024-04-01")], "closed_at": [T("2024-04-04 12:00")]})
    # closed 12 h before C1 started
    assert verify_alerts(c, a, tolerance="1 day").hits == 1
    v = verify_alerts(c, a, tolerance="0 days")
    assert (v.hits, v.misses, v.false_alarms) == (0, 1, 1)


def test_an_alert_still_open_matches_and_an_alert_opened_after_the_end_does_not():
    c = CROSSINGS.iloc[:1]
    a = pd.DataFrame({"opened_at": [T("2024-04-01"), T("2024-04-10 00:01")],
                      "closed_at": [pd.NaT, pd.NaT]})
    v = verify_alerts(c, a)
    assert (v.hits, v.misses, v.false_alarms) == (1, 0, 1)
    assert v.crossings["lead"].iloc[0] == 4 * DAY


def test_matching_is_maximal_and_lead_time_is_from_the_first_alert():
    # alert A (Apr 1 - Apr 25) is open through C1 and C2; B (Apr 6-8) only during C1.
    # Giving C1 to A would leave C2 without an alert: the maximum matching gives C1 to B
    # (its deadline is earlier) and C2 to A: two hits, no false alarm.  C1's lead time is
    # still counted from A, the first alert open for it: Apr 5 - Apr 1 = 4 days.
    a = pd.DataFrame({"opened_at": [T("2024-04-01"), T("2024-04-06")],
                      "closed_at": [T("2024-04-25"), T("2024-04-08")]},
                     index=["A", "B"])
    v = verify_alerts(CROSSINGS.iloc[:2], a)
    assert (v.hits, v.misses, v.false_alarms) == (2, 0, 0)
    assert v.crossings["alert"].tolist() == ["B", "A"]
    assert v.crossings["lead"].tolist() == [4 * DAY, 19 * DAY]


def test_first_warning_counts_every_crossing_an_alert_was_open_for():
    # one alert (Apr 1, still open) across C1 and C2: one hit (C1) and one miss (C2), but
    # it was open for both: first warnings 4 and 19 days ahead, median 11.5 days
    a = pd.DataFrame({"opened_at": [T("2024-04-01")], "closed_at": [pd.NaT]})
    v = verify_alerts(CROSSINGS.iloc[:2], a)
    assert (v.hits, v.misses, v.false_alarms) == (1, 1, 0)
    assert v.median_lead_days == 4
    assert v.crossings["warned_at"].tolist() == [T("2024-04-01"), T("2024-04-01")]
    assert v.first_warning_days == pytest.approx(11.5)
    assert math.isnan(verify_alerts(CROSSINGS, ALERTS.iloc[:0]).first_warning_days)


def test_period_counts_crossings_starting_in_it_and_alerts_that_belong_to_it():
    v = verify_alerts(CROSSINGS, ALERTS, start="2024-04-15", end="2024-05-31")
    # counted crossings: C2 and C3.  Alert 7 warned of C1 (outside) and 8 was a false alarm
    # opened Apr 6 (outside): neither counts.  9 is C2's hit, 10 a false alarm opened Apr 30.
    assert (v.hits, v.misses, v.false_alarms) == (1, 1, 1)
    assert v.alerts["alert"].tolist() == [9, 10]
    # an alert opened before the period still warns of a crossing in it
    early = pd.DataFrame({"opened_at": [T("2024-04-18")], "closed_at": [T("2024-04-23")]})
    assert verify_alerts(CROSSINGS, early, start="2024-04-19").hits == 1


def test_no_alerts_all_misses_no_crossings_all_false_alarms():
    none = ALERTS.iloc[:0]
    v = verify_alerts(CROSSINGS, none)
    assert (v.hits, v.misses, v.false_alarms) == (0, 3, 0)
    assert v.pod == 0 and math.isnan(v.far) and math.isnan(v.median_lead_days)
    v = verify_alerts(CROSSINGS.iloc[:0], ALERTS)
    assert (v.hits, v.misses, v.false_alarms) == (0, 0, 4)
    assert math.isnan(v.pod) and v.far == 1 and v.csi == 0


def test_bad_inputs_are_refused_with_the_reason():
    overlapping = pd.DataFrame({"start": [T("2024-04-01"), T("2024-04-03")],
                                "end": [T("2024-04-05"), T("2024-04-06")]})
    with pytest.raises(ValueError, match="crossings overlap"):
        verify_alerts(overlapping, ALERTS)
    backwards = pd.DataFrame({"opened_at": [T("2024-04-05")], "closed_at": [T("2024-04-01")]},
                             index=[3])
    with pytest.raises(ValueError, match="alert 3 closes before it opens"):
        verify_alerts(CROSSINGS, backwards)
    with pytest.raises(ValueError, match="alerts need a column 'opened_at'"):
        verify_alerts(CROSSINGS, pd.DataFrame({"opened": [T("2024-04-01")]}))
    with pytest.raises(ValueError, match="the period ends"):
        verify_alerts(CROSSINGS, ALERTS, start="2024-05-01", end="2024-04-01")
    with pytest.raises(ValueError, match="tolerance must be a duration of zero or more"):
        verify_alerts(CROSSINGS, ALERTS, tolerance="-1 day")


def test_scores_of_a_contingency_table():
    # Jolliffe & Stephenson (2012) ch. 3: a = 2 hits, b = 2 false alarms, c = 1 miss
    assert scores(2, 1, 2) == pytest.approx({"pod": 2 / 3, "far": 0.5, "csi": 0.4})
    s = scores(0, 0, 0)
    assert all(math.isnan(x) for x in s.values())  # undefined, not 0 or 1
    with pytest.raises(ValueError, match="misses must be a count"):
        scores(1, -1, 0)
