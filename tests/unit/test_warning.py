"""hydro.warning: stage categories against KZ/RU warning levels, worked by hand."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydro.config import Threshold
from hydro.warning import (
    WarningStatus,
    classify_reservoir_level,
    classify_stage,
    is_stale,
    stage_change_per_day,
    worst,
)

DAY = dt.date(2024, 4, 12)


def thr(level: str, cm: float, scheme: str = "ru_nya_oya", status: str = "published",
        valid_from: dt.date = dt.date(2020, 1, 1), valid_to: dt.date | None = None,
        station: str = "RU:TEST") -> Threshold:
    return Threshold(station=station, scheme=scheme, level=level, value=f"{cm} cm",
                     set_by="test", basis="test", valid_from=valid_from, valid_to=valid_to,
                     status=status, confidence="high", source="test")


KZ_OU = thr("dangerous", 850, scheme="kz_dangerous", station="KZ:19071")
RU_NYA = thr("adverse", 760)
RU_OYA = thr("dangerous", 930)


# ---------------------------------------------------------------- one level: at, below, above

def test_at_the_dangerous_level_is_dangerous_with_zero_remaining():
    r = classify_stage(850, [KZ_OU], DAY)
    assert r.status is WarningStatus.DANGEROUS
    assert r.exceeded.value_cm == 850
    assert r.remaining_to("dangerous") == 0
    assert r.reference.value_cm == 850 and r.reference.remaining_cm == 0
    assert r.next_above is None
    assert not r.provisional and not r.ice_affected


def test_one_cm_below_is_normal_with_one_cm_remaining():
    r = classify_stage(849, [KZ_OU], DAY)
    assert r.status is WarningStatus.NORMAL
    assert r.exceeded is None
    assert r.remaining_to("dangerous") == 1
    assert r.reference.value_cm == 850
    assert r.next_above.value_cm == 850


def test_one_cm_above_is_dangerous_with_minus_one_remaining():
    r = classify_stage(851, [KZ_OU], DAY)
    assert r.status is WarningStatus.DANGEROUS
    assert r.remaining_to("dangerous") == -1
    assert r.reference.remaining_cm == -1


def test_russian_pair_adverse_between_nya_and_oya():
    # Orenburg-like: НЯ 760, ОЯ 930.  800 cm: 40 cm over НЯ, 130 cm to ОЯ.
    r = classify_stage(800, [RU_NYA, RU_OYA], DAY)
    assert r.status is WarningStatus.ADVERSE
    assert r.exceeded.value_cm == 760 and r.exceeded.remaining_cm == -40
    assert r.reference.value_cm == 930 and r.reference.remaining_cm == 130
    assert r.remaining_to("adverse") == -40
    assert r.remaining_to("dangerous") == 130
    assert classify_stage(759, [RU_NYA, RU_OYA], DAY).status is WarningStatus.NORMAL
    assert classify_stage(760, [RU_NYA, RU_OYA], DAY).status is WarningStatus.ADVERSE
    assert classify_stage(929, [RU_NYA, RU_OYA], DAY).status is WarningStatus.ADVERSE
    assert classify_stage(930, [RU_NYA, RU_OYA], DAY).status is WarningStatus.DANGEROUS


# ---------------------------------------------------------------- two schemes at one gauge

def test_two_schemes_the_lower_dangerous_level_decides():
    # a border gauge with KZ ОУ 850 and RU НЯ 760 / ОЯ 930
    levels = [KZ_OU, RU_NYA, RU_OYA]
    r = classify_stage(800, levels, DAY)
    assert r.status is WarningStatus.ADVERSE
    assert r.remaining_to("dangerous") == 50                      # KZ ОУ is reached first
    assert r.remaining_to("dangerous", scheme="ru_nya_oya") == 130
    assert r.reference.scheme == "kz_dangerous" and r.reference.remaining_cm == 50

    r = classify_stage(900, levels, DAY)
    assert r.status is WarningStatus.DANGEROUS
    assert (r.exceeded.scheme, r.exceeded.value_cm) == ("kz_dangerous", 850)
    assert (r.reference.scheme, r.reference.remaining_cm) == ("ru_nya_oya", 30)

    r = classify_stage(950, levels, DAY)
    assert (r.exceeded.scheme, r.exceeded.value_cm) == ("ru_nya_oya", 930)
    assert r.reference.value_cm == 930 and r.reference.remaining_cm == -20
    assert [m.value_cm for m in r.margins] == [760, 850, 930]


# ---------------------------------------------------------------- validity dates

def test_only_levels_valid_on_the_day_count():
    ou = thr("dangerous", 850, scheme="kz_dangerous", valid_from=dt.date(2024, 4, 11),
             valid_to=dt.date(2024, 10, 1))
    assert classify_stage(900, [ou], dt.date(2024, 4, 10)).status is WarningStatus.NOT_ASSESSED
    assert classify_stage(900, [ou], dt.date(2024, 4, 11)).status is WarningStatus.DANGEROUS
    assert classify_stage(900, [ou], dt.date(2024, 9, 30)).status is WarningStatus.DANGEROUS
    # valid_to is exclusive
    r = classify_stage(900, [ou], dt.date(2024, 10, 1))
    assert r.status is WarningStatus.NOT_ASSESSED and r.margins == ()


def test_a_revised_level_replaces_the_old_one_on_its_date():
    old = thr("dangerous", 800, valid_from=dt.date(2000, 1, 1), valid_to=dt.date(2024, 1, 1))
    new = thr("dangerous", 850, valid_from=dt.date(2024, 1, 1))
    assert classify_stage(820, [old, new], dt.date(2023, 12, 31)).status is WarningStatus.DANGEROUS
    assert classify_stage(820, [old, new], dt.date(2024, 1, 1)).status is WarningStatus.NORMAL


def test_no_level_in_force_is_not_assessed_not_normal():
    r = classify_stage(500, [], DAY)
    assert r.status is WarningStatus.NOT_ASSESSED
    assert r.reference is None and r.exceeded is None


# ---------------------------------------------------------------- ice, no data

def test_ice_affected_stage_is_categorised_and_marked():
    r = classify_stage(900, [KZ_OU], DAY, ice=True)
    assert r.status is WarningStatus.DANGEROUS
    assert r.ice_affected


@pytest.mark.parametrize("stage", [None, float("nan")])
def test_missing_stage_is_no_data(stage):
    r = classify_stage(stage, [KZ_OU], DAY, ice=True)
    assert r.status is WarningStatus.NO_DATA
    assert r.stage_cm is None and not r.ice_affected
    assert r.margins[0].remaining_cm is None and not r.margins[0].reached


# ---------------------------------------------------------------- impact marks, low water

def test_impact_marks_are_reported_but_do_not_set_the_category():
    # Kurgan-like: floodplain from 630 cm, НЯ 700, ОЯ 850
    impact = thr("impact", 630, scheme="local_impact", status="estimate")
    levels = [impact, thr("adverse", 700), thr("dangerous", 850)]
    r = classify_stage(650, levels, DAY)
    assert r.status is WarningStatus.NORMAL
    assert [m.value_cm for m in r.impacts_reached] == [630]
    assert r.next_above.value_cm == 700
    assert r.reference.value_cm == 700
    assert not r.provisional  # an estimated impact mark does not make the category provisional
    below = classify_stage(600, levels, DAY)
    assert below.next_above.value_cm == 630 and below.reference.value_cm == 700
    # a dangerous-labelled mark of the impact scheme still does not count
    assert classify_stage(900, [thr("dangerous", 800, scheme="local_impact")], DAY).status \
        is WarningStatus.NOT_ASSESSED


def test_low_water_dangerous_at_or_below_its_level():
    # Cherlak-like: low-water ОЯ 210, НЯ 598, ОЯ 630
    levels = [thr("low_water_dangerous", 210), thr("adverse", 598), thr("dangerous", 630)]
    at = classify_stage(210, levels, DAY)
    assert at.status is WarningStatus.LOW_WATER_DANGEROUS
    assert at.exceeded.value_cm == 210 and at.reference.remaining_cm == 0
    assert at.next_above.value_cm == 598
    above = classify_stage(211, levels, DAY)
    assert above.status is WarningStatus.NORMAL
    assert above.remaining_to("low_water_dangerous") == 1
    assert above.reference.value_cm == 598
    assert classify_stage(150, levels, DAY).remaining_to("low_water_dangerous") == -60


# ---------------------------------------------------------------- provisional levels

@pytest.mark.parametrize("status, provisional", [
    ("published", False), ("estimate", True), ("conflicting", True), ("synthetic", True)])
def test_estimate_or_conflicting_levels_make_the_result_provisional(status, provisional):
    levels = [thr("adverse", 890, status=status), thr("dangerous", 1060)]
    for stage in (500, 900, 1100):
        assert classify_stage(stage, levels, DAY).provisional is provisional
    assert classify_stage(None, levels, DAY).provisional is provisional


def test_same_value_in_two_schemes_prefers_the_published_one():
    a = thr("dangerous", 850, scheme="kz_dangerous", status="estimate")
    b = thr("dangerous", 850, scheme="ru_nya_oya", status="published")
    r = classify_stage(860, [a, b], DAY)
    assert r.exceeded.scheme == "ru_nya_oya"
    assert r.provisional  # the estimate still sets the category as much as the published one


# ---------------------------------------------------------------- ordering

def test_status_order_by_severity():
    order = [WarningStatus.NO_DATA, WarningStatus.NOT_ASSESSED, WarningStatus.NORMAL,
             WarningStatus.ADVERSE, WarningStatus.LOW_WATER_DANGEROUS, WarningStatus.DANGEROUS]
    assert sorted(reversed(order)) == order
    assert WarningStatus.ADVERSE < WarningStatus.DANGEROUS
    assert worst([WarningStatus.NORMAL, WarningStatus.DANGEROUS, WarningStatus.ADVERSE]) \
        is WarningStatus.DANGEROUS
    assert worst([]) is WarningStatus.NO_DATA


# ---------------------------------------------------------------- rate of rise, staleness

def test_rate_of_rise_in_cm_per_day():
    assert stage_change_per_day(800, 830, 24) == pytest.approx(30.0)
    assert stage_change_per_day(800, 830, 12) == pytest.approx(60.0)
    assert stage_change_per_day(830, 800, 48) == pytest.approx(-15.0)
    assert stage_change_per_day(None, 800, 24) is None
    assert stage_change_per_day(800, float("nan"), 24) is None


@pytest.mark.parametrize("hours", [0, -6, float("nan")])
def test_rate_of_rise_rejects_non_positive_intervals(hours):
    with pytest.raises(ValueError, match="hours between readings must be a positive number"):
        stage_change_per_day(800, 830, hours)


def test_is_stale_after_the_configured_age():
    ref = dt.datetime(2024, 4, 12, 23, 59)
    assert not is_stale(dt.datetime(2024, 4, 10, 3), ref, 3)
    assert not is_stale(ref - dt.timedelta(days=3), ref, 3)       # exactly 3 days: not older
    assert is_stale(ref - dt.timedelta(days=3, seconds=1), ref, 3)
    assert is_stale(None, ref, 3)
    with pytest.raises(ValueError, match="stale_after_days must be positive"):
        is_stale(ref, ref, 0)


# ---------------------------------------------------------------- reservoirs

def test_reservoir_level_against_npu_and_fpu():
    # Iriklinsk: НПУ 245.0 m, ФПУ 246.0 m
    assert classify_reservoir_level(243.53, 245.0, 246.0).status is WarningStatus.NORMAL
    at_npu = classify_reservoir_level(245.0, 245.0, 246.0)
    assert at_npu.status is WarningStatus.NORMAL and at_npu.to_npu_m == 0
    over = classify_reservoir_level(245.4, 245.0, 246.0, provisional=True)
    assert over.status is WarningStatus.ADVERSE and over.provisional
    assert over.to_npu_m == pytest.approx(-0.4) and over.to_fpu_m == pytest.approx(0.6)
    assert classify_reservoir_level(246.0, 245.0, 246.0).status is WarningStatus.DANGEROUS
    assert classify_reservoir_level(None, 245.0, 246.0).status is WarningStatus.NO_DATA
    with pytest.raises(ValueError, match="ФПУ 244 m is below НПУ 245 m"):
        classify_reservoir_level(240.0, 245.0, 244.0)


# ---------------------------------------------------------------- property

LEVELS = st.sampled_from(["adverse", "dangerous", "impact", "low_water_dangerous"])
SCHEMES = st.sampled_from(["kz_dangerous", "ru_nya_oya", "local_impact", "return_period"])
STATUSES = st.sampled_from(["published", "estimate", "conflicting"])
STAGES = st.floats(min_value=-100, max_value=2000, allow_nan=False)


@st.composite
def threshold_sets(draw):
    n = draw(st.integers(min_value=0, max_value=6))
    return [thr(draw(LEVELS), draw(st.integers(min_value=0, max_value=1500)),
                scheme=draw(SCHEMES), status=draw(STATUSES)) for _ in range(n)]


@settings(max_examples=300, deadline=None)
@given(threshold_sets(), STAGES, STAGES, st.booleans())
def test_raising_the_stage_never_lowers_the_category(levels, a, b, ice):
    low, high = sorted((a, b))
    r_low = classify_stage(low, levels, DAY, ice=ice)
    r_high = classify_stage(high, levels, DAY, ice=ice)
    if r_low.status is WarningStatus.LOW_WATER_DANGEROUS:
        # rising out of low water may end the low-water danger, but never drops below normal
        assert r_high.status >= WarningStatus.NORMAL
    else:
        assert r_high.status >= r_low.status
        # and a rise never enters low water
        assert r_high.status is not WarningStatus.LOW_WATER_DANGEROUS
    # margins agree with the stage and the category's level is reached
    for r, s in ((r_low, low), (r_high, high)):
        for m in r.margins:
            expect = (s - m.value_cm) if m.low_water else (m.value_cm - s)
            assert math.isclose(m.remaining_cm, expect, abs_tol=1e-9)
            assert m.reached == (m.remaining_cm <= 0)
        if r.exceeded is not None:
            assert r.exceeded.reached and r.exceeded.sets_category
            assert r.status.value == r.exceeded.level


# ---------------------------------------------------------------- two published values of one level

def test_both_conflicting_values_of_yanvartsevos_dangerous_level_are_applied(config):
    """Yanvartsevo (KZ:19073): ОУ 850 cm and 1250 cm, both published, both "conflicting"."""
    levels = config.thresholds_for("KZ:19073")
    r = classify_stage(900, levels, DAY)
    assert [(m.value_cm, m.status) for m in r.margins] == [(850, "conflicting"),
                                                           (1250, "conflicting")]
    assert r.status is WarningStatus.DANGEROUS and r.provisional
    assert r.exceeded.value_cm == 850
    assert r.remaining_to("dangerous", "kz_dangerous") == -50     # the lower one, reached
    assert {getattr(m.threshold, "source", "") for m in r.margins} == \
        {t.source for t in levels}
    below = classify_stage(800, levels, DAY)
    assert below.status is WarningStatus.NORMAL and below.reference.value_cm == 850
    assert below.remaining_to("dangerous") == 50


def test_kushum_850_is_published_and_not_provisional(config):
    r = classify_stage(851, config.thresholds_for("KZ:19072"), DAY)
    assert r.status is WarningStatus.DANGEROUS and not r.provisional
    assert r.exceeded.value_cm == 850
