"""Release plans as tables (hydro.release_plans): the CSV reader's errors name the line and
the column, CSV round trips, and the checks against a reservoir's physics on hand-worked
cases with the bundled Iriklinsk reservoir (outlet capacity 450/900/1400/1700 m³/s at
232/240/245/247 m, ramp 213 m³/s a day, minimum release 15 m³/s, УМО 232 m, НПУ 245 m,
ФПУ 246 m; config/basins.toml)."""

from __future__ import annotations

import datetime as dt
import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydro import release_plans as RP
from hydro.errors import IngestError
from hydro.release_plans import ReservoirSchedule, ScheduleRow

DATES = pd.date_range("2024-03-01", periods=120, freq="D")


@pytest.fixture(scope="module")
def irik(config):
    return config.network.reservoirs["RU:IRIKLINSK"]


# --------------------------------------------------------------------------- CSV reader

@pytest.mark.parametrize("header", ["date,release_m3s", "date,release (m3/s)",
                                    "date,release (m³/s)", "Date,Release_m3s"])
def test_release_headers_with_their_unit_are_read(header):
    rows = RP.parse_schedule_csv(f"{header}\n2024-03-01,15\n2024-03-10,201.5\n", "a.csv")
    assert rows == [ScheduleRow(dt.date(2024, 3, 1), release_m3s=15.0),
                    ScheduleRow(dt.date(2024, 3, 10), release_m3s=201.5)]


@pytest.mark.parametrize("header", ["date;target_level_m", "date;target_level (m)"])
def test_target_levels_with_semicolons_and_decimal_commas(header):
    text = f"\ufeff{header}\n01.03.2024;243,03\n\n2024-04-30;245\n"
    rows = RP.parse_schedule_csv(text, "уровни.csv")
    assert rows == [ScheduleRow(dt.date(2024, 3, 1), target_level_m=243.03),
                    ScheduleRow(dt.date(2024, 4, 30), target_level_m=245.0)]


def test_iriklinsk_2025_practice_as_a_table():
    """201 m³/s from 10 to 31 March (hydrology_facts.csv), the minimum release around it."""
    rows = RP.parse_schedule_csv("date;release (m³/s)\n2025-03-01;15\n2025-03-10;201\n"
                                 "2025-04-01;15\n", "irik-2025.csv")
    assert [r.value for r in rows] == [15.0, 201.0, 15.0]


@pytest.mark.parametrize("text, line, column, words", [
    ("date,release\n2024-03-01,5\n", 1, "release", "unit"),
    ("date,discharge\n2024-03-01,5\n", 1, "discharge", "unit"),
    ("date,release_m3s,note\n2024-03-01,5,x\n", 1, "note", "unknown column"),
    ("day,release_m3s\n2024-03-01,5\n", 1, "day", "unknown column"),
    ("release_m3s\n5\n", 1, None, "no 'date' column"),
    ("date\n2024-03-01\n", 1, None, "no value column"),
    ("date,release_m3s,target_level_m\n2024-03-01,5,240\n", 1, "target_level_m", "not both"),
    ("date,release_m3s\n2024-03-01,5\n1 March,6\n", 3, "date", "not a date"),
    ("date,release_m3s\n2024-03-01,5\n2024-02-30,6\n", 3, "date", "not a date"),
    ("date,release_m3s\n2024-03-02,5\n2024-03-01,6\n", 3, "date", "strictly increasing"),
    ("date,release_m3s\n2024-03-01,5\n2024-03-01,6\n", 3, "date", "strictly increasing"),
    ("date,release_m3s\n2024-03-01,\n", 2, "release_m3s", "empty"),
    ("date,release_m3s\n,5\n", 2, "date", "empty"),
    ("date,release_m3s\n2024-03-01,lots\n", 2, "release_m3s", "not a number"),
    ("date,release_m3s\n2024-03-01,5 m3/s\n", 2, "release_m3s", "not a number"),
    ("date,release_m3s\n2024-03-01,inf\n", 2, "release_m3s", "finite"),
    ("date,release_m3s\n2024-03-01,nan\n", 2, "release_m3s", "finite"),
    ("date;release_m3s\n2024-03-01;-5\n", 2, "release_m3s", "negative"),
    ("date,release_m3s\n2024-03-01,12,5\n", 2, None, "separator"),
    ("date,release_m3s\n", 2, None, "no rows"),
])
def test_bad_files_are_refused_naming_line_and_column(text, line, column, words):
    with pytest.raises(IngestError) as e:
        RP.parse_schedule_csv(text, "plan.csv")
    err = e.value
    assert err.path == "plan.csv" and err.line == line and err.column == column
    msg = str(err)
    assert msg.startswith(f"plan.csv, line {line}")
    if column:
        assert f"column '{column}'" in msg
    assert words in msg


def test_size_limits_are_named():
    many = "date,release_m3s\n" + "".join(
        f"{(dt.date(2020, 1, 1) + dt.timedelta(days=i)).isoformat()},1\n"
        for i in range(RP.MAX_ROWS + 1))
    with pytest.raises(IngestError, match=f"more than {RP.MAX_ROWS} rows") as e:
        RP.parse_schedule_csv(many, "big.csv")
    assert e.value.line == RP.MAX_ROWS + 2
    with pytest.raises(IngestError, match=f"limit of {RP.MAX_BYTES} bytes"):
        RP.parse_schedule_csv("date,release_m3s\n" + "x" * RP.MAX_BYTES, "huge.csv")


_rows = st.lists(
    st.tuples(st.integers(1, 40),
              st.floats(min_value=0, max_value=1e5, allow_nan=False, allow_infinity=False)),
    min_size=1, max_size=30)


@given(_rows, st.booleans())
def test_csv_round_trips(steps, levels):
    day = dt.date(2024, 3, 1)
    rows = []
    for gap, v in steps:
        day += dt.timedelta(days=gap)
        rows.append(ScheduleRow(day, target_level_m=v - 50.0) if levels
                    else ScheduleRow(day, release_m3s=v))
    assert RP.parse_schedule_csv(RP.schedule_csv(rows), "rt.csv") == rows


def test_rows_and_schedules_refuse_what_the_engine_cannot_take():
    with pytest.raises(ValueError, match="negative"):
        ScheduleRow(dt.date(2024, 3, 1), release_m3s=-5.0)
    with pytest.raises(ValueError, match="exactly one"):
        ScheduleRow(dt.date(2024, 3, 1))
    with pytest.raises(ValueError, match="finite"):
        ScheduleRow(dt.date(2024, 3, 1), release_m3s=math.inf)
    a, b = ScheduleRow(dt.date(2024, 3, 2), release_m3s=1.0), ScheduleRow(
        dt.date(2024, 3, 1), release_m3s=2.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        ReservoirSchedule("RU:IRIKLINSK", (a, b))
    with pytest.raises(ValueError, match="not both"):
        ReservoirSchedule("RU:IRIKLINSK", (a,), rule="default")


# --------------------------------------------------------------------------- specs

def test_to_plan_and_from_spec(config):
    from hydro.scenarios import DailyReleaseSpec, Plan, PrereleaseSpec, TargetLevelSpec

    rel = ReservoirSchedule("RU:IRIKLINSK", (ScheduleRow(dt.date(2024, 3, 1), release_m3s=15),
                                             ScheduleRow(dt.date(2024, 3, 10), release_m3s=201)))
    lev = ReservoirSchedule("RU:VERKHNEURALSK",
                            (ScheduleRow(dt.date(2024, 4, 1), target_level_m=396.0),))
    base = Plan(description="base", reservoirs={"X": DailyReleaseSpec(
        kind="daily_release", dates=[dt.date(2024, 3, 1)], release_unit="m3/s", release=[1])})
    plan = RP.to_plan({"RU:IRIKLINSK": rel, "RU:VERKHNEURALSK": lev}, "mine", base)
    irik = plan.reservoirs["RU:IRIKLINSK"]
    assert isinstance(irik, DailyReleaseSpec) and irik.release_unit == "m3/s"
    assert irik.release == [15, 201]
    vk = plan.reservoirs["RU:VERKHNEURALSK"]
    assert isinstance(vk, TargetLevelSpec) and vk.level_unit == "m" and vk.level == [396.0]
    assert plan.reservoirs["X"] is base.reservoirs["X"]          # not given: follows base
    assert RP.from_spec(irik, DATES, reservoir="RU:IRIKLINSK") == rel
    assert RP.from_spec(vk, DATES, reservoir="RU:VERKHNEURALSK") == lev
    pre = PrereleaseSpec(kind="prerelease", base_release="15 m3/s",
                         prerelease_start=dt.date(2024, 3, 12), prerelease_release="1000 m3/s",
                         flood_start=dt.date(2024, 3, 28), flood_release="1100 m3/s",
                         refill_start=dt.date(2024, 4, 20), refill_release="100 m3/s")
    table = RP.from_spec(pre, DATES, reservoir="R:X")
    assert [(r.date.isoformat(), r.value) for r in table.rows] == [
        ("2024-03-01", 15.0), ("2024-03-12", 1000.0), ("2024-03-28", 1100.0),
        ("2024-04-20", 100.0)]
    # the table runs as the rule did: the same daily release
    np.testing.assert_array_equal(RP.to_spec(table).build(DATES).release_m3s,
                                  pre.build(DATES).release_m3s)
    with pytest.raises(ValueError, match="unknown rule 'nonsense'"):
        RP.to_plan({"R:X": ReservoirSchedule("R:X", rule="nonsense")}, "d", base)


# --------------------------------------------------------------------------- checks

def _table(*rows: tuple[str, float], level: bool = False) -> ReservoirSchedule:
    return ReservoirSchedule("RU:IRIKLINSK", tuple(
        ScheduleRow(dt.date.fromisoformat(d), target_level_m=v) if level
        else ScheduleRow(dt.date.fromisoformat(d), release_m3s=v) for d, v in rows))


def test_release_above_outlet_capacity_is_flagged_on_the_right_days(irik):
    """Hand-worked: full at НПУ 245 m (outlet capacity 1400 m³/s), inflow 1000 m³/s.
    Asking 1500 m³/s on 1–3 March: on 1 March the outlets pass 1400 (the capacity at
    245 m); the reservoir falls (1400 − 1000 m³/s = 34.56 hm³ a day) and the capacity with
    it (100 m³/s per metre between 240 and 245 m), so 2 and 3 March are limited too.
    From 4 March 1000 m³/s is asked: the release can fall by only 213 m³/s a day, so
    4 March is ramp-limited and 5 March reaches 1000."""
    v0 = float(irik.storage_table.volume_at(245.0))
    inflow = np.full(len(DATES), 1000.0)
    s = _table(("2024-03-01", 1500.0), ("2024-03-04", 1000.0))
    issues = RP.check_schedule(s, irik, DATES, v0, inflow)
    assert [(i.kind, i.date.isoformat(), i.values["until"]) for i in issues] == [
        ("outlet_capacity", "2024-03-01", "2024-03-03"), ("ramp", "2024-03-04", "2024-03-04")]
    cap = issues[0]
    # the capacity at the start of 3 March, worked by hand from the storage table
    v2 = v0 - 2 * (1400.0 - 1000.0) * 0.0864 + (1400.0 - float(
        irik.outlet_capacity.at(irik.storage_table.level_at(v0 - 34.56)))) * 0.0864
    h2 = float(irik.storage_table.level_at(v2))
    assert cap.values["capacity_m3s"] == pytest.approx(900.0 + 100.0 * (h2 - 240.0), abs=0.01)
    assert cap.values["requested_m3s"] == 1500.0 and cap.values["days"] == 3
    assert 1360.0 < cap.values["capacity_m3s"] < 1400.0   # ~0.27 m below НПУ
    ramp = issues[1]
    assert ramp.values["actual_m3s"] == pytest.approx(cap.values["capacity_m3s"] - 213.0)
    assert "outlet capacity" in cap.text_en and "2024-03-01 to 2024-03-03" in cap.text_en
    assert "213 m3/s a day" in ramp.text_en


def test_ramp_from_the_start_release(irik):
    """From 15 m³/s (the start release) to 1000 m³/s on 10 March: 213 m³/s a day gives
    228, 441, 654, 867 on 10–13 March and 1000 on 14 March: four ramp-limited days."""
    v0 = float(irik.storage_table.volume_at(242.87))
    s = _table(("2024-03-01", 15.0), ("2024-03-10", 1000.0))
    issues = RP.check_schedule(s, irik, DATES[:16], v0, np.full(16, 100.0),
                               initial_release_m3s=15.0)
    ramps = [i for i in issues if i.kind == "ramp"]
    assert [(i.date.isoformat(), i.values["until"], i.values["days"]) for i in ramps] == [
        ("2024-03-10", "2024-03-13", 4)]
    assert ramps[0].values["actual_m3s"] == pytest.approx(15.0 + 4 * 213.0)


def test_minimum_release_fpu_and_umo(irik):
    v0 = float(irik.storage_table.volume_at(242.87))
    low = RP.check_schedule(_table(("2024-03-01", 5.0)), irik, DATES[:10], v0,
                            np.full(10, 20.0), initial_release_m3s=5.0)
    assert [(i.kind, i.date.isoformat(), i.values["days"]) for i in low] == [
        ("minimum_release", "2024-03-01", 10)]
    assert low[0].values["min_release_m3s"] == 15.0
    # nearly full and a flood coming in while releasing little: spill above ФПУ
    full = float(irik.storage_table.volume_at(245.9))
    flood = RP.check_schedule(_table(("2024-03-01", 15.0)), irik, DATES[:10], full,
                              np.full(10, 3000.0), initial_release_m3s=15.0)
    assert [i.kind for i in flood] == ["fpu"]
    assert flood[0].date == dt.date(2024, 3, 1) and flood[0].values["fpu_m"] == 246.0
    assert flood[0].values["spill_m3s"] > 0
    # target levels outside [УМО, ФПУ] are named on their dates
    levels = _table(("2024-03-05", 231.0), ("2024-04-01", 246.5), level=True)
    out = RP.check_schedule(levels, irik, DATES, v0, np.full(len(DATES), 100.0))
    named = [(i.kind, i.date.isoformat()) for i in out if i.message_key in (
        "plan.issue.below_umo", "plan.issue.fpu_target")]
    assert named == [("below_umo", "2024-03-05"), ("fpu", "2024-04-01")]
    assert "below УМО (232.00 m" in next(i for i in out if i.kind == "below_umo").text_en


def test_a_feasible_schedule_has_no_issue(irik):
    v0 = float(irik.storage_table.volume_at(242.87))
    s = _table(("2024-03-01", 15.0), ("2024-03-10", 201.0), ("2024-04-01", 15.0))
    assert RP.check_schedule(s, irik, DATES, v0, np.full(len(DATES), 80.0),
                             initial_release_m3s=15.0) == []


def test_live_checks_are_fast(irik):
    """Live checks as the editor types: well under 100 ms for a 120-day season."""
    v0 = float(irik.storage_table.volume_at(242.87))
    s = _table(("2024-03-01", 15.0), ("2024-03-10", 3000.0), ("2024-04-01", 100.0))
    inflow = np.full(len(DATES), 500.0)
    RP.check_schedule(s, irik, DATES, v0, inflow)          # imports, first call
    t0 = time.perf_counter()
    for _ in range(5):
        RP.check_schedule(s, irik, DATES, v0, inflow, initial_release_m3s=15.0)
    assert (time.perf_counter() - t0) / 5 < 0.1
