"""hydro.alert_rules: hand-worked examples of every rule kind and of the lifecycle
(hysteresis, persistence, severity changes, groups never mixing), and the alerts.toml
schema (station > basin > default, errors naming file and key)."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hydro import alert_rules as ar
from hydro.alert_rules import Standing
from hydro.errors import ConfigError

DAYS = pd.date_range("2024-04-01 03:00", periods=12, freq="D").to_numpy()


def _levels(v, thr, **kw):
    return ar.hysteresis_levels(np.asarray(v, float), np.asarray(thr, float), **kw).tolist()


# --------------------------------------------------------------------------- lifecycle

def test_open_at_threshold_close_only_below_the_band():
    # threshold 700 cm, band 10 cm: 700 opens (at or over), 695 keeps it, 689 closes
    v = [650, 700, 695, 691, 689, 700]
    assert _levels(v, np.full(6, 700.0), band=10.0) == [0, 1, 1, 1, 0, 1]
    # without a band 695 closes it at once
    assert _levels(v, np.full(6, 700.0)) == [0, 1, 0, 0, 0, 1]


def test_persistence_needs_n_consecutive_readings():
    v = [710, 650, 710, 720, 730, 650]
    assert _levels(v, np.full(6, 700.0), persistence=2) == [0, 0, 0, 1, 1, 0]
    assert _levels(v, np.full(6, 700.0), persistence=3) == [0, 0, 0, 0, 1, 0]


def test_missing_reading_neither_opens_nor_closes():
    v = [710, np.nan, 650, np.nan, 720]
    assert _levels(v, np.full(5, 700.0)) == [1, 1, 0, 0, 1]
    # a gap breaks a run of persistence
    assert _levels([710, np.nan, 720], np.full(3, 700.0), persistence=2) == [0, 0, 0]


def test_two_levels_escalate_and_deescalate_with_the_band():
    # НЯ 360 cm, ОЯ 700 cm (Orsk), band 10 cm
    thr = np.tile([360.0, 700.0], (7, 1))
    v = [300, 380, 705, 695, 689, 355, 349]
    assert _levels(v, thr, band=10.0) == [0, 1, 2, 2, 1, 1, 0]
    eps = ar.episodes(DAYS[:7], np.asarray(v, float), np.asarray(_levels(v, thr, band=10.0)),
                      ["adverse", "dangerous"], thresholds=thr)
    assert len(eps) == 1
    e = eps[0]
    assert (e.opened, e.closed) == (pd.Timestamp(DAYS[1]), pd.Timestamp(DAYS[6]))
    assert (e.severity, e.peak_severity, e.peak_value, e.threshold) == \
        ("adverse", "dangerous", 705.0, 360.0)
    assert [(c[0], c[1]) for c in e.changes] == [(pd.Timestamp(DAYS[2]), "dangerous"),
                                                 (pd.Timestamp(DAYS[4]), "adverse")]


def test_groups_never_carry_state_into_the_next_station():
    v = np.array([710.0, 720.0, 650.0, 710.0])
    g = np.array([0, 0, 1, 1])
    # station 1 starts below, then over: its own episode, the first reading of station 1
    # does not inherit station 0's open state
    assert _levels(v, np.full(4, 700.0), groups=g, band=100.0) == [1, 1, 0, 1]
    eps = ar.episodes(DAYS[:4], v, np.array([1, 1, 0, 1]), ["dangerous"], groups=g,
                      keys=["A", "B"])
    assert [(e.key, e.is_open) for e in eps] == [("A", True), ("B", True)]
    assert eps[0].closed is None            # not closed by the other station's reading


def test_low_water_direction_below():
    # ОЯ low water 210 cm (Cherlak), band 5 cm: open at <= 210, close above 215
    v = [230, 210, 214, 216, 205]
    assert _levels(v, np.full(5, 210.0), band=5.0, direction="below") == [0, 1, 1, 0, 1]


def test_episode_standing_is_that_of_the_opening_or_raising_reading():
    v = np.array([380.0, 390.0, 710.0, 720.0])
    thr = np.tile([360.0, 700.0], (4, 1))
    st = np.array([int(Standing.ICE_AFFECTED), 0, int(Standing.SINGLE_PARTY), 0])
    lst = np.tile([0, int(Standing.PROVISIONAL)], (4, 1))
    lv = np.asarray(_levels(v, thr))
    (e,) = ar.episodes(DAYS[:4], v, lv, ["adverse", "dangerous"], thresholds=thr,
                       standing=st, level_standing=lst)
    assert e.standing == Standing.SINGLE_PARTY | Standing.PROVISIONAL   # raised at day 3
    assert e.changes[0][3] == Standing.SINGLE_PARTY | Standing.PROVISIONAL
    assert Standing(5).names == ["provisional", "ice_affected"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="thresholds have 2 rows for 3 values"):
        ar.hysteresis_levels(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="band must be >= 0 and persistence >= 1"):
        ar.hysteresis_levels(np.zeros(3), np.zeros(3), persistence=0)
    with pytest.raises(ValueError, match="unknown severity 'severe'"):
        ar.severity_rank("severe")


# --------------------------------------------------------------------------- levels

class _T:
    def __init__(self, scheme, level, value, status="published", valid_from=None):
        self.scheme, self.level, self.status = scheme, level, status
        self._v, self.valid_from = value, valid_from

    @property
    def value(self):
        class Q:
            def to(_, dim, v=self._v):
                return v
        return Q()

    def valid_on(self, day):
        return self.valid_from is None or day >= self.valid_from


def test_level_table_takes_the_lowest_of_conflicting_levels_and_marks_it_provisional():
    days = np.array(["2024-04-01", "2024-04-02"], dtype="datetime64[D]")
    ths = [_T("kz_dangerous", "dangerous", 1250.0, "conflicting"),
           _T("kz_dangerous", "dangerous", 850.0, "conflicting"),
           _T("ru_nya_oya", "adverse", 700.0),
           _T("local_impact", "impact", 630.0)]
    thr, prov = ar.level_table(ths, days)
    assert thr.tolist() == [[700.0, 850.0], [700.0, 850.0]]
    assert prov.tolist() == [[False, True], [False, True]]
    thr, prov = ar.level_table(ths, days, published_only=True)
    assert np.isnan(thr[:, 1]).all() and thr[0, 0] == 700.0
    # a level in force only from 2 April
    ths2 = [_T("ru_nya_oya", "dangerous", 900.0, valid_from=dt.date(2024, 4, 2))]
    thr, _ = ar.level_table(ths2, days)
    assert np.isnan(thr[0, 1]) and thr[1, 1] == 900.0


def test_level_table_low_water_takes_the_highest():
    days = np.array(["2024-04-01"], dtype="datetime64[D]")
    ths = [_T("ru_nya_oya", "low_water_dangerous", 210.0),
           _T("kz_dangerous", "low_water_dangerous", 220.0, "estimate")]
    thr, prov = ar.level_table(ths, days, ar.LOW_LEVELS)
    assert thr.tolist() == [[220.0]] and prov.tolist() == [[True]]


# --------------------------------------------------------------------------- other kinds

def test_rate_of_rise_per_day_and_gaps():
    t = pd.to_datetime(["2024-04-01 03:00", "2024-04-02 03:00", "2024-04-02 15:00",
                        "2024-04-06 03:00", "2024-04-07 03:00"]).to_numpy()
    v = np.array([300.0, 354.0, 384.0, 500.0, 480.0])
    r = ar.rate_per_day(t, v, max_gap_days=2.0)
    # 54 cm in a day; 30 cm in 12 h = 60 cm/d; a 3.5-day gap is no rate; falling 20 cm/d
    assert np.isnan(r[0]) and r[1] == 54.0 and r[2] == 60.0 and np.isnan(r[3])
    assert r[4] == -20.0
    assert _levels(r, np.full(5, 50.0)) == [0, 1, 1, 1, 0]


def test_release_change_within_24_h_against_every_earlier_reading():
    # Iriklinsk-style: raised in three steps within one day, then steady
    t = pd.to_datetime(["2024-04-04 06:00", "2024-04-04 12:00", "2024-04-04 18:00",
                        "2024-04-05 00:00", "2024-04-06 06:00"]).to_numpy()
    release = np.array([100.0, 130.0, 160.0, 200.0, 200.0])
    change, pct = ar.release_change(t, release, window_days=1.0)
    assert np.isnan(change[0])
    assert change.tolist()[1:4] == [30.0, 60.0, 100.0]
    assert pct[3] == 100.0
    assert np.isnan(change[4])          # 30 h after the last reading: none within 24 h
    # a cut is negative
    change, pct = ar.release_change(t[:2], np.array([200.0, 120.0]))
    assert change[1] == -80.0 and pct[1] == -40.0


def test_days_to_full():
    # 20 hm3 of room, net inflow 50 m3/s = 4.32 hm3/d -> 4.63 d; not filling -> inf
    d = ar.days_to_full(np.array([10.0, 20.0, 30.0, 40.0]), np.array([100.0, 0.0, 50.0, 5.0]),
                        np.array([50.0, 10.0, 50.0, 1.0]), 30.0)
    assert d[0] == pytest.approx(20 / 4.32) and d[1] == np.inf and d[2] == 0.0 and d[3] == 0.0


def test_rolling_count_of_qc_failures():
    t = pd.date_range("2024-04-01", periods=6, freq="D").to_numpy()
    f = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    g = np.array([0, 0, 0, 0, 1, 1])
    # the window is (t - 2 d, t]: the reading exactly 2 days earlier has left it
    assert ar.rolling_count(t, f, groups=g, window_days=2.0).tolist() == [1, 2, 1, 1, 0, 0]


def test_silent():
    now = dt.datetime(2024, 4, 10, 6)
    got = ar.silent([dt.datetime(2024, 4, 9, 3), dt.datetime(2024, 4, 6, 3), None], now, 3.0)
    assert got.tolist() == [False, True, True]


# --------------------------------------------------------------------------- alerts.toml

def _config(config_copy, text):
    from hydro.config import load_config

    (config_copy / "alerts.toml").write_text(text, encoding="utf-8")
    return load_config(config_copy)


def test_station_overrides_basin_overrides_default(config_copy):
    cfg = _config(config_copy, """
[[rules]]
id = "stage"
kind = "stage_level"
hysteresis = "10 cm"

[[rules]]
id = "stage"
kind = "stage_level"
basin = "ural"
hysteresis = "20 cm"

[[rules]]
id = "stage"
kind = "stage_level"
station = "RU:ORSK"
hysteresis = "0.3 m"
persistence = 2

[[rules]]
id = "rise"
kind = "rate_of_rise"
rise = "50 cm"
station = "RU:ORENBURG"
enabled = false

[[rules]]
id = "rise"
kind = "rate_of_rise"
rise = "50 cm"
""")
    rules = cfg.alerts
    assert rules.rule("stage", "RU:ORSK").band("stage") == 30.0
    assert rules.rule("stage", "RU:ORSK").persistence == 2
    assert rules.rule("stage", "RU:ORENBURG").band("stage") == 20.0
    assert rules.rule("stage", "RU:KURGAN").band("stage") == 10.0
    assert rules.rule("rise", "RU:ORENBURG") is None          # switched off there
    assert rules.rule("rise", "RU:ORSK").rise.to("stage") == 50.0
    assert rules.rules_for("RU:IRIKLINSK") == ()               # gauge rules only


@pytest.mark.parametrize("text, message", [
    ('[[rules]]\nid = "x"\nkind = "stage_level"\nhysteresis = 10\n',
     r"alerts.toml: rules\[id=x\]: hysteresis: missing unit"),
    ('[[rules]]\nid = "x"\nkind = "rate_of_rise"\n',
     r"rules\[id=x\]: a rule of kind 'rate_of_rise' needs 'rise'"),
    ('[[rules]]\nid = "x"\nkind = "silent"\nrise = "5 cm"\n',
     r"rules\[id=x\]: 'rise' does not apply to a rule of kind 'silent'"),
    ('[[rules]]\nid = "x"\nkind = "stage_level"\nstation = "RU:ORKS"\n',
     r"rules\[id=x\].station: unknown station 'RU:ORKS'"),
    ('[[rules]]\nid = "x"\nkind = "spill_started"\nstation = "RU:ORSK"\n',
     r"rules\[id=x\].station: a rule of kind 'spill_started' applies to reservoirs; "
     r"'RU:ORSK' is a gauge"),
    ('[[rules]]\nid = "x"\nkind = "stage_level"\nseverity = "adverse"\n',
     r"takes its severity from each warning level"),
    ('[[rules]]\nid = "x"\nkind = "stage_level"\nhysterisis = "5 cm"\n',
     r"rules\[id=x\].hysterisis: unknown key \(misspelt\?\)"),
    ('[[rules]]\nid = "x"\nkind = "reservoir_full"\n',
     r"needs 'within' .* or 'days_to_full'"),
    ('[evaluation]\nlookback = "0 d"\n', r"evaluation: lookback must be positive"),
])
def test_config_errors_name_file_and_key(config_copy, text, message):
    with pytest.raises(ConfigError, match=message):
        _config(config_copy, text)


def test_bundled_alerts_toml_has_every_kind(config):
    kinds = {r.kind for r in config.alerts.rules}
    assert kinds == set(ar.RULE_KINDS)
    assert config.alerts.rule("stage-level", "RU:ORSK") is not None
    from hydro.services.alerts import SEVERITIES

    assert SEVERITIES == ar.SEVERITIES


def test_release_change_limit_takes_the_lower_limit_and_a_floor_for_the_percentage():
    """Worked by hand: 50 m3/s, or 50 % of the earlier release if that is >= 20 m3/s."""
    change = np.array([100.0, 30.0, 6.0, 25.0, 40.0])
    earlier = np.array([100.0, 40.0, 10.0, 200.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(earlier > 0, 100.0 * change / earlier, np.nan)
    limit = ar.release_change_limit(change, pct, 50.0, 50.0, 20.0)
    # 100 of 100: min(50, 50) = 50; 30 of 40: min(50, max(20, 20)) = 20 -> a notice;
    # 6 of 10: min(50, max(5, 20)) = 20 -> no notice; 25 of 200: min(50, 100) = 50;
    # from zero: no percentage, the absolute 50
    np.testing.assert_allclose(limit, [50.0, 20.0, 20.0, 50.0, 50.0])
    assert list(np.abs(change) >= limit) == [True, True, False, False, False]
    # percentage only (no absolute limit), no floor: 3 of 6 m3/s would be a notice
    np.testing.assert_allclose(ar.release_change_limit([3.0], [50.0], np.inf, 50.0), [3.0])
    assert np.isinf(ar.release_change_limit([3.0], [np.nan], np.inf, 50.0))[0]
