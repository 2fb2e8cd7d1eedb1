"""Quality control: pure tests on idealised series whose answer is known exactly, limits
from config, and QC at ingest -- context across files, flags as revisions, both parties
at border gauges, rating consistency, conflicting sources.  Flags never delete a value."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from hydro.errors import ConfigError
from hydro.qc import (
    QC,
    Limits,
    cross_flags,
    describe,
    flat_flags,
    gap_flags,
    range_flags,
    rating_inconsistent,
    resolve_limits,
    series_flags,
    spike_flags,
)

DATA = ROOT / "data" / "gauges"
DAY = np.timedelta64(1, "D")
HOUR = np.timedelta64(1, "h")


def days(n, start="2024-04-01T03:00"):
    return np.datetime64(start, "ns") + np.arange(n) * DAY


# --------------------------------------------------------------------------- pure tests

def test_range_flags_bounds_are_inclusive_and_optional():
    v = np.array([-301.0, -300.0, 0.0, 2000.0, 2000.5])
    assert range_flags(v, -300.0, 2000.0).tolist() == [True, False, False, False, True]
    assert range_flags(v, None, 2000.0).tolist() == [False, False, False, False, True]
    assert not range_flags(v, None, None).any()


def test_spike_flags_the_excursion_not_the_return():
    t = days(5)
    assert spike_flags(t, [100, 400, 101, 102, 103], 100.0, 36.0).tolist() == \
        [False, True, False, False, False]


def test_spike_flags_a_jump_that_stays():
    t = days(5)
    assert spike_flags(t, [100, 400, 401, 402, 403], 100.0, 36.0).tolist() == \
        [False, True, False, False, False]


def test_spike_limit_scales_with_the_time_step():
    # 100 cm/day allows 4.17 cm per hour: 5 cm in an hour is too fast, 4 cm is not
    t = np.datetime64("2024-04-01T00:00", "ns") + np.arange(4) * HOUR
    assert spike_flags(t, [100, 104, 108, 113], 100.0, 36.0).tolist() == \
        [False, False, False, True]


def test_spike_is_not_tested_across_a_gap():
    t = np.array(["2024-04-01T03:00", "2024-04-02T03:00", "2024-04-09T03:00"],
                 dtype="datetime64[ns]")
    assert not spike_flags(t, [100, 101, 700], 100.0, 36.0).any()
    assert gap_flags(t, 36.0).tolist() == [False, False, True]


def test_gap_flags_only_the_value_after_the_gap_and_not_the_first_value():
    t = days(6)[[0, 1, 3, 4, 5]]  # one day missing
    assert gap_flags(t, 36.0).tolist() == [False, False, True, False, False]
    assert not gap_flags(t, None).any()


def test_flat_line_flags_from_the_limit_on():
    t = days(6)
    v = [200, 200, 200, 200, 201, 201]
    # run of four equal values spanning 3 days: flagged once it has lasted 2 days
    assert flat_flags(t, v, 48.0, 36.0).tolist() == [False, False, True, True, False, False]
    assert not flat_flags(t, v, None, 36.0).any()


def test_flat_line_is_broken_by_a_gap():
    t = days(8)[[0, 1, 2, 5, 6, 7]]
    assert not flat_flags(t, [5] * 6, 60.0, 36.0).any()
    assert flat_flags(t, [5] * 6, 60.0, None).tolist() == [False, False, False, True, True, True]


def test_series_flags_combine_bits():
    t = days(4)
    lim = Limits(minimum=0.0, maximum=1000.0, max_change_per_day=100.0, max_gap_hours=36.0)
    f = series_flags(t, [100, 1500, 110, 120], lim)
    assert describe(int(f[1])) == ["RANGE", "SPIKE"] and f[[0, 2, 3]].tolist() == [0, 0, 0]


def test_rating_consistency_in_stage(config):
    rating = config.network.gauges["KZ:19071"].rating
    q = np.array([50.0, 500.0, 2000.0, 0.0, 0.0])
    h = rating.stage(q) + np.array([0.4, -14.0, 16.0, 0.0, 0.0])
    h[3] = rating.h0.to("stage") - 30  # below cease-to-flow, no flow: consistent
    h[4] = rating.h0.to("stage") + 40  # 40 cm above cease-to-flow yet no flow
    assert rating_inconsistent(h, q, rating, 15.0).tolist() == [False, False, True, False, True]


def _frame(rows):
    return pd.DataFrame(rows, columns=["station_id", "variable", "time", "party", "source",
                                       "value", "flags"])


def test_party_disagreement_flags_both_sides_above_the_tolerance(config):
    t = days(3)
    rows = []
    for i, off in enumerate([2, 12, -5]):
        rows.append(("KZ:19073", "stage", t[i], "KZ", "kazhydromet", 300.0, 0))
        rows.append(("KZ:19073", "stage", t[i], "RU", "roshydromet", 300.0 + off, 0))
    f = cross_flags(_frame(rows), lambda s, v: resolve_limits(config, s, v), {})
    bits = (f & int(QC.PARTY_DISAGREE)) != 0
    assert bits.tolist() == [False, False, True, True, False, False]  # 5 cm is within


def test_duplicate_conflict_is_between_sources_of_one_party(config):
    t = days(2)
    rows = [("KZ:19071", "discharge", t[0], "KZ", "grdc", 100.0, 0),
            ("KZ:19071", "discharge", t[0], "KZ", "kazhydromet", 100.5, 0),   # within 1 %
            ("KZ:19071", "discharge", t[1], "KZ", "grdc", 100.0, 0),
            ("KZ:19071", "discharge", t[1], "KZ", "kazhydromet", 120.0, 0)]
    f = cross_flags(_frame(rows), lambda s, v: resolve_limits(config, s, v), {})
    assert ((f & int(QC.DUPLICATE_CONFLICT)) != 0).tolist() == [False, False, True, True]
    assert not (f & int(QC.PARTY_DISAGREE)).any()


def test_rating_cross_flag_pairs_nearest_discharge_and_skips_ice(config):
    g = config.network.gauges["KZ:19071"]
    ratings = {"KZ:19071": g.rating}
    q_times = np.datetime64("2024-05-01T19:00", "ns") + np.arange(3) * DAY  # 00:00 Oral
    s_times = q_times + np.timedelta64(8, "h")                                # 08:00 Oral
    q = np.array([400.0, 420.0, 440.0])
    h = g.rating.stage(q) + np.array([1.0, 40.0, 40.0])
    rows = [("KZ:19071", "discharge", q_times[i], "KZ", "grdc", q[i], 0) for i in range(3)]
    rows += [("KZ:19071", "stage", s_times[i], "KZ", "kazhydromet", h[i],
              int(QC.ICE) if i == 2 else 0) for i in range(3)]
    f = cross_flags(_frame(rows), lambda s, v: resolve_limits(config, s, v), ratings)
    rating = (f & int(QC.RATING)) != 0
    # discharge of day 2 and the stage of day 2; day 3's stage is under ice: not compared
    assert rating.tolist() == [False, True, False, False, True, False]


# --------------------------------------------------------------------------- limits

def test_limits_defaults_reservoir_table_and_config(config_copy, config):
    from hydro.config import load_config

    assert resolve_limits(config, "KZ:19071", "stage").max_change_per_day == 500.0
    res = config.network.reservoirs["RU:IRIKLINSK"]
    lv = resolve_limits(config, "RU:IRIKLINSK", "level")
    assert (lv.minimum, lv.maximum) == (res.storage_table.levels_m[0],
                                        res.storage_table.levels_m[-1])
    with open(config_copy / "sources.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[qc.defaults.stage]\nflat_for = "10 d"\n'
                 '[[qc.stations]]\nstation = "KZ:19071"\n'
                 'stage = { max_change_per_day = "2 m", flat_for = "off", '
                 'party_relative_tolerance = 0.1 }\n'
                 'discharge = { max_change_per_day = "300 m3/s" }\n')
    cfg = load_config(config_copy)
    own = resolve_limits(cfg, "KZ:19071", "stage")
    assert own.max_change_per_day == 200.0 and own.flat_hours is None
    assert own.party_relative == 0.1
    assert resolve_limits(cfg, "KZ:19073", "stage").flat_hours == 240.0
    assert resolve_limits(cfg, "KZ:19071", "discharge").max_change_per_day == 300.0


@pytest.mark.parametrize("entry, message", [
    ('stage = { max = "12 m3/s" }', r"qc\.stations\[id=KZ:19071\]: stage\.max: unit 'm3/s' is "
                                   r"a unit of discharge, not of stage"),
    ('stage = { flat_for = 20 }', r"stage\.flat_for: missing unit"),
    ('stage = { party_relative_tolerance = 5 }', r"expected a fraction"),
    ('stage = { maximum = "12 m" }', r"stage\.maximum: unknown key"),
])
def test_bad_qc_config_names_file_and_key(config_copy, entry, message):
    from hydro.config import load_config

    with open(config_copy / "sources.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[[qc.stations]]\nstation = "KZ:19071"\n{entry}\n')
    with pytest.raises(ConfigError, match=message) as e:
        load_config(config_copy)
    assert "sources.toml" in str(e.value)


def test_qc_config_for_unknown_station(config_copy):
    from hydro.config import load_config

    with open(config_copy / "sources.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[qc.stations]]\nstation = "KZ:99999"\nstage = { max = "12 m" }\n')
    with pytest.raises(ConfigError, match=r"qc\.stations\[station=KZ:99999\]\.station: "
                                          r"unknown station 'KZ:99999'"):
        load_config(config_copy)


# --------------------------------------------------------------------------- at ingest

HEADER = ("Код поста;Пост;Дата;Срок;Уровень воды, см;Изменение за сутки, см;"
          "Расход воды, м3/с;Ледовые явления\r\n")


def _agency(tmp_path, name, station, start, values, phen=""):
    d0 = dt.date.fromisoformat(start)
    lines = [f"{station};пост;{d0 + dt.timedelta(days=i):%d.%m.%Y};08:00;{v};;;{phen}\r\n"
             for i, v in enumerate(values)]
    p = tmp_path / name
    p.write_bytes((HEADER + "".join(lines)).encode("cp1251"))
    return p


def _ingest(store, config, path, tmp_path, source="kazhydromet", when=None):
    from hydro.services.ingest import ingest_file

    r = ingest_file(store, config, path, source_id=source, quarantine_dir=tmp_path / "q",
                    received_at=when)
    assert r.outcome in ("loaded", "unchanged"), r.message
    return r


def _flags(store, station, variable="stage", party=None, as_of=None):
    from hydro.store import api

    s = api.series(store, station, variable, party=party, as_of=as_of)
    return s.set_index("time")["qc_flags"]


def test_spike_across_a_file_boundary_is_caught(store, config, tmp_path):
    a = _agency(tmp_path, "a.csv", "19071", "2024-07-01", [300, 301, 302, 303, 304])
    b = _agency(tmp_path, "b.csv", "19071", "2024-07-06", [905, 306, 307])
    _ingest(store, config, a, tmp_path)
    r = _ingest(store, config, b, tmp_path)
    f = _flags(store, "KZ:19071")
    assert describe(int(f.iloc[5])) == ["SPIKE"] and (f.drop(f.index[5]) == 0).all()
    assert r.flags_raised == 1


def test_a_late_file_reflags_stored_values_as_a_revision(store, config, tmp_path):
    from hydro.store import api

    a = _agency(tmp_path, "a.csv", "19071", "2024-07-01", [300, 301, 302, 303, 304])
    b = _agency(tmp_path, "b.csv", "19071", "2024-07-06", [905, 306, 307])
    t1, t2 = dt.datetime(2024, 7, 10, 9), dt.datetime(2024, 7, 11, 9)
    _ingest(store, config, b, tmp_path, when=t1)      # the later days arrive first
    # alone, b's first value has no past: its drop to 306 is the suspicious step
    assert _flags(store, "KZ:19071").map(describe).tolist() == [[], ["SPIKE"], []]
    r = _ingest(store, config, a, tmp_path, when=t2)
    assert r.rows_written == 7                         # five new values + two re-flagged
    s = api.series(store, "KZ:19071", "stage").set_index("time")
    assert s["qc_flags"].map(describe).tolist() == [[]] * 5 + [["SPIKE"], [], []]
    spike = s.index[5]
    assert s.loc[spike, "revision"] == 2 and s.loc[spike, "value"] == 905
    assert s["revision"].iloc[6] == 2                  # 306: the return, flag cleared
    # what was known before file a arrived, with the flags of then
    then = api.series(store, "KZ:19071", "stage", as_of=t1).set_index("time")
    assert then["qc_flags"].map(describe).tolist() == [[], ["SPIKE"], []]
    assert then["revision"].tolist() == [1, 1, 1]


def test_gap_filled_later_clears_the_flag(store, config, tmp_path):
    a = _agency(tmp_path, "a.csv", "19071", "2024-07-01", [300, 301])
    c = _agency(tmp_path, "c.csv", "19071", "2024-07-05", [304, 305])
    b = _agency(tmp_path, "b.csv", "19071", "2024-07-03", [302, 303])
    _ingest(store, config, a, tmp_path)
    _ingest(store, config, c, tmp_path)
    assert describe(int(_flags(store, "KZ:19071").iloc[2])) == ["GAP"]
    _ingest(store, config, b, tmp_path)
    assert (_flags(store, "KZ:19071") == 0).all()


def test_the_2019_kz_ru_offset_at_the_border_posts_is_found(store, config, tmp_path):
    """The bundled RU files read the four shared posts 12 cm high in March-May 2019."""
    from hydro.store import api

    for basin, kz in (("ural", "kazhydromet"), ("tobol", "kazhydromet"),
                      ("irtysh", "kazhydromet-kk"), ("ishim", "kazhydromet-kk")):
        _ingest(store, config, DATA / "agency" / kz / f"{basin}_2019.csv", tmp_path, kz)
        _ingest(store, config, DATA / "agency" / "roshydromet" / f"{basin}_2019.csv",
                tmp_path, "roshydromet")
    spring = pd.date_range("2019-03-01", "2019-05-31")
    for gauge in ("KZ:19073", "KZ:11041", "KZ:12009", "KZ:11646"):
        d = api.party_disagreement(store, gauge)
        local_day = d.index + pd.Timedelta(hours=6)
        in_spring = local_day.normalize().isin(spring)
        assert d["flagged"][in_spring].all() and not d["flagged"][~in_spring].any(), gauge
        assert d["difference"][in_spring].between(-14, -10).all()
        for party in ("KZ", "RU"):  # both series carry the flag
            f = _flags(store, gauge, party=party)
            assert ((f & int(QC.PARTY_DISAGREE)) != 0).sum() == 92
    counts = api.flag_counts(store)
    pd_rows = counts[counts["flag"] == "PARTY_DISAGREE"]
    assert set(pd_rows["station_id"]) == {"KZ:19073", "KZ:11041", "KZ:12009", "KZ:11646"}


def test_stage_against_discharge_through_the_rating(store, config, tmp_path):
    from hydro.store import api

    _ingest(store, config, DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt", tmp_path, "grdc")
    _ingest(store, config, DATA / "agency" / "kazhydromet" / "ural_2023.csv", tmp_path)
    stage = api.series(store, "KZ:19071", "stage", start=dt.datetime(2023, 1, 1),
                       end=dt.datetime(2024, 1, 1))
    assert not ((stage["qc_flags"] & int(QC.RATING)) != 0).any()   # consistent data
    # an observer's 40 cm misreading on 10 July 2023 (open water)
    text = (DATA / "agency" / "kazhydromet" / "ural_2023.csv").read_bytes().decode("cp1251")
    lines = text.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("19071;") and "10.07.2023" in ln)
    f = lines[i].split(";")
    f[4] = str(int(f[4]) + 40)
    lines[i] = ";".join(f)
    fixed = tmp_path / "ural_2023_bad.csv"
    fixed.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    _ingest(store, config, fixed, tmp_path)
    stage = api.series(store, "KZ:19071", "stage", start=dt.datetime(2023, 7, 1),
                       end=dt.datetime(2023, 7, 31)).set_index("time")
    bad = stage[(stage["qc_flags"] & int(QC.RATING)) != 0]
    assert len(bad) == 1 and bad.index[0].day == 10 and bad["revision"].iloc[0] == 2
    q = api.series(store, "KZ:19071", "discharge", start=dt.datetime(2023, 7, 1),
                   end=dt.datetime(2023, 7, 31)).set_index("time")
    qbad = q[(q["qc_flags"] & int(QC.RATING)) != 0]
    assert len(qbad) == 1 and abs(qbad.index[0] - bad.index[0]) <= pd.Timedelta(hours=12)


def test_two_sources_of_one_party_disagreeing(store, config, tmp_path):
    from hydro.readers import read_file
    from hydro.readers.netcdf import write_netcdf
    from hydro.store import api

    grdc = DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt"
    _ingest(store, config, grdc, tmp_path, "grdc")
    obs = read_file(grdc, config).observations
    obs = obs[obs["time"].dt.year == 2022].copy()
    k = obs.index[100]
    obs.loc[k, "value"] *= 1.5
    nc = write_netcdf(obs, tmp_path / "q.nc", config)
    _ingest(store, config, nc, tmp_path, source=None)
    q = api.series(store, "KZ:19071", "discharge", start=dt.datetime(2022, 1, 1),
                   end=dt.datetime(2023, 1, 1))
    hit = q[(q["qc_flags"] & int(QC.DUPLICATE_CONFLICT)) != 0]
    assert len(hit) == 2 and set(hit["source"]) == {"grdc", "exchange-nc"}
    assert (hit["time"] == obs.loc[k, "time"]).all()
    assert len(q) == 2 * len(obs)  # both sources kept: a flag, never a deletion


def test_check_store_after_ingest_changes_nothing_and_applies_new_limits(store, config,
                                                                         config_copy, tmp_path):
    from hydro.config import load_config
    from hydro.services.ingest import check_store
    from hydro.store import api

    for src, path in (("kazhydromet", DATA / "agency" / "kazhydromet" / "ural_2019.csv"),
                      ("roshydromet", DATA / "agency" / "roshydromet" / "ural_2019.csv"),
                      ("grdc", DATA / "grdc" / "KZ_19073_Q_Day.Cmd.txt")):
        _ingest(store, config, path, tmp_path, src)
    before = api.observation_count(store)
    r = check_store(store, config)
    assert r.revisions_written == 0 and api.observation_count(store) == before
    # a wider tolerance for Yanvartsevo: the 12 cm offset is no longer a disagreement
    with open(config_copy / "sources.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[qc.stations]]\nstation = "KZ:19073"\n'
                 'stage = { party_tolerance = "15 cm" }\n')
    r = check_store(store, load_config(config_copy), stations=["KZ:19073"])
    assert r.revisions_written == 184 and "PARTY_DISAGREE" not in r.flagged
    assert not api.party_disagreement(store, "KZ:19073")["flagged"].any()


def test_flags_never_delete(store, config, tmp_path):
    from hydro.store import api

    p = _agency(tmp_path, "x.csv", "19071", "2024-07-01", [300, 2500, 302, 303])
    _ingest(store, config, p, tmp_path)
    s = api.series(store, "KZ:19071", "stage")
    assert s["value"].tolist() == [300, 2500, 302, 303]
    assert describe(int(s["qc_flags"].iloc[1])) == ["RANGE", "SPIKE"]


def test_limits_are_frozen_dataclass():
    lim = Limits(max_gap_hours=36.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lim.max_gap_hours = 1.0  # type: ignore[misc]
