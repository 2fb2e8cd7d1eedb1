"""Issue 15, data side: bad values refused with file, line and field; a correction for an
earlier date accepted as a revision; the source a file is stored under is what config or
--source says (never its folder); a party's spike caught across its sources; a quarantine
failure or an over-long name recorded against that file only; read-only commands do not
write."""

import datetime as dt
import re
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from hydro.errors import IngestError, StoreError
from hydro.qc import QC
from hydro.services.ingest import ingest_file
from hydro.store import api

DATA = ROOT / "data" / "gauges"
HEADER_KZ = ("Код поста;Пост;Дата;Срок;Уровень воды, см;Изменение за сутки, см;"
             "Расход воды, м3/с;Ледовые явления\r\n")
HEADER_KK = ("Бекет коды;Бекет;Күні;Мерзімі;Су деңгейі, см;Тәулік ішіндегі өзгеріс, см;"
             "Су шығыны, м3/с;Мұз құбылыстары\r\n")
HEADER_RES = "station;date;level_m;volume_hm3;inflow_m3s;outflow_m3s;spill_m3s;evaporation_m3s\n"
HEADER_Q = "site;date;parameter;value;unit\n"
GRDC = (DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt").read_text(encoding="utf-8")


def _kz(d, v, t="08:00", code="19071"):
    return f"{code};р. Урал – г. Уральск;{d};{t};{v};;;\r\n"


def _res(d, level="124.018"):
    return f"KZ:SERGEEVKA;{d};{level};600.0;10.0;10.0;0;0.1\n"


def _grdc_line(old, new):
    assert old in GRDC
    return GRDC.replace(old, new, 1)


# name -> (source, text, encoding, message regex); each is refused whole, store untouched
BAD = {
    # years outside the plausible window (were stored as 1855-02-21 and 2193-05-10)
    "agency: 01.04.3024": ("kazhydromet", HEADER_KZ + _kz("01.04.2024", "400")
                           + _kz("01.04.3024", "401"), "cp1251",
                           r"line 3, column 'Дата': '01\.04\.3024' is in the future"),
    "agency: 01.04.1024": ("kazhydromet", HEADER_KZ + _kz("01.04.1024", "400"), "cp1251",
                           r"line 2, column 'Дата': '01\.04\.1024' is before 1900"),
    "agency: 2099": ("kazhydromet", HEADER_KZ + _kz("01.04.2099", "400"), "cp1251",
                     r"line 2, column 'Дата': '01\.04\.2099' is in the future \(later than "
                     r"the time of reading plus 2 d"),
    "agency: inf": ("kazhydromet", HEADER_KZ + _kz("01.04.2024", "inf"), "cp1251",
                    r"line 2, column 'Уровень воды, см': 'inf' is not a number"),
    "agency: -inf": ("kazhydromet", HEADER_KZ + _kz("01.04.2024", "-inf"), "cp1251",
                     r"line 2, column 'Уровень воды, см': '-inf' is not a number"),
    "agency: nan": ("kazhydromet", HEADER_KZ + _kz("01.04.2024", "nan"), "cp1251",
                    r"line 2, column 'Уровень воды, см': 'nan' is not a number"),
    "agency: 1e309": ("kazhydromet", HEADER_KZ + _kz("01.04.2024", "1e309"), "cp1251",
                      r"line 2, column 'Уровень воды, см': '1e309' is too large"),
    "agency: 25:00": ("kazhydromet", HEADER_KZ + _kz("01.04.2024", "400", "25:00"), "cp1251",
                      r"line 2, column 'Срок': '25:00' is not a time of day hh:mm"),
    "agency: 24:30": ("kazhydromet", HEADER_KZ + _kz("01.04.2024", "400", "24:30"), "cp1251",
                      r"line 2, column 'Срок': '24:30' is not a time of day hh:mm"),
    "agency: cut mid-number": ("kazhydromet", HEADER_KZ + _kz("01.04.2024", "400")
                               + "19071;р. Урал – г. Уральск;02.04.2024;08:00;40",
                               "cp1251", r"line 3: expected 8 fields, found 5"),
    "reservoir: cut mid-number": ("reservoirs", HEADER_RES + _res("2024-04-01")
                                  + "KZ:SERGEEVKA;2024-04-02;124.01\n", "utf-8",
                                  r"line 3: expected 8 fields, found 3 \(truncated line"),
    "reservoir: optional fields cut": ("reservoirs", HEADER_RES
                                       + "KZ:SERGEEVKA;2024-04-02;124.01;600.0;10.0;10.0\n",
                                       "utf-8", r"line 2: expected 8 fields, found 6"),
    "reservoir: 3024": ("reservoirs", HEADER_RES + _res("3024-04-01"), "utf-8",
                        r"line 2, column 'date': '3024-04-01' is in the future"),
    "reservoir: 1024": ("reservoirs", HEADER_RES + _res("1024-04-01"), "utf-8",
                        r"line 2, column 'date': '1024-04-01' is before 1900"),
    "reservoir: inf": ("reservoirs", HEADER_RES + _res("2024-04-01", "inf"), "utf-8",
                       r"line 2, column 'level_m': 'inf' is not a number"),
    "reservoir: 1e309": ("reservoirs", HEADER_RES + _res("2024-04-01", "1e309"), "utf-8",
                         r"line 2, column 'level_m': '1e309' is too large"),
    "reservoir: malformed number": ("reservoirs", HEADER_RES + _res("2024-04-01", "124.0.1"),
                                    "utf-8", r"line 2, column 'level_m': '124\.0\.1' is not "
                                             r"a number"),
    "grdc: truncated (line count)": ("grdc", "\n".join(GRDC.splitlines()[:-100]) + "\n",
                                     "utf-8", r"line 33: the header declares 5479 data lines "
                                              r"but the file has 5379"),
    "grdc: appended line": ("grdc", GRDC + "2025-01-01;--:--;    100.000\n", "utf-8",
                            r"the header declares 5479 data lines but the file has 5480"),
    "grdc: 25:00": ("grdc", _grdc_line("2010-01-03;--:--", "2010-01-03;25:00"), "utf-8",
                    r"line 38, column 'hh:mm': '25:00' is not a time of day"),
    "grdc: 3024": ("grdc", _grdc_line("2010-01-03;--:--", "3024-01-03;--:--"), "utf-8",
                   r"line 38, column 'YYYY-MM-DD': '3024-01-03' is in the future"),
    "grdc: 1024": ("grdc", _grdc_line("2010-01-03;--:--", "1024-01-03;--:--"), "utf-8",
                   r"line 38, column 'YYYY-MM-DD': '1024-01-03' is before 1900"),
    "grdc: inf": ("grdc", _grdc_line("2010-01-03;--:--;    194.302", "2010-01-03;--:--;inf"),
                  "utf-8", r"line 38, column 'Value': 'inf' is not a number"),
    "grdc: 1e309": ("grdc", _grdc_line("2010-01-03;--:--;    194.302",
                                       "2010-01-03;--:--;1e309"),
                    "utf-8", r"line 38, column 'Value': '1e309' is too large"),
    "quality: 01.04 of 3024": ("quality", HEADER_Q + "KZ:19073;3024-04-01;dissolved_oxygen;6.6;"
                               "mg/l\n", "utf-8", r"line 2, column 'date': '3024-04-01' is in "
                                                  r"the future"),
    "quality: inf": ("quality", HEADER_Q + "KZ:19073;2024-04-01;dissolved_oxygen;<inf;mg/l\n",
                     "utf-8", r"line 2, column 'value': 'inf' is not a number"),
    "quality: cut": ("quality", HEADER_Q + "KZ:19073;2024-04-01;dissolved_oxygen;6.",
                     "utf-8", r"line 2: expected 5 fields, found 4"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_values_are_refused_naming_file_line_and_field(store, config, tmp_path, case):
    ingest_file(store, config, DATA / "reservoirs" / "KZ_SERGEEVKA.csv",
                quarantine_dir=tmp_path / "q")
    before = api.observations(store, revisions="all")
    source, text, enc, message = BAD[case]
    p = tmp_path / "bad.csv"
    p.write_bytes(text.encode(enc))
    r = ingest_file(store, config, p, source_id=source, quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected", case
    assert re.search(message, r.message), r.message
    assert r.message.startswith(str(p))
    pd.testing.assert_frame_equal(api.observations(store, revisions="all"), before)


def test_the_truncated_reservoir_line_no_longer_replaces_the_stored_value(store, config,
                                                                          tmp_path):
    """The attack: '...;124.01' (a line cut off) replaced the stored 124.018."""
    good = tmp_path / "good.csv"
    good.write_text(HEADER_RES + _res("2024-04-01") + _res("2024-04-02"), encoding="utf-8")
    assert ingest_file(store, config, good, quarantine_dir=tmp_path / "q").outcome == "loaded"
    cut = tmp_path / "cut.csv"
    cut.write_text(HEADER_RES + _res("2024-04-01") + "KZ:SERGEEVKA;2024-04-02;124.01",
                   encoding="utf-8")
    r = ingest_file(store, config, cut, quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected" and "line 3: expected 8 fields, found 3" in r.message
    level = api.series(store, "KZ:SERGEEVKA", "level")
    assert level["value"].tolist() == [124.018, 124.018]


def test_the_future_tolerance_and_earliest_year_come_from_settings(config_copy, tmp_path):
    from hydro.config import load_config
    from hydro.readers import read_file

    text = (config_copy / "settings.toml").read_text(encoding="utf-8")
    (config_copy / "settings.toml").write_text(
        text.replace("earliest_year = 1900", "earliest_year = 2020")
            .replace('future_tolerance = "2 d"', 'future_tolerance = "400 d"'),
        encoding="utf-8")
    config = load_config(config_copy)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=100)).strftime("%d.%m.%Y")
    p = tmp_path / "a.csv"
    p.write_bytes((HEADER_KZ + _kz(tomorrow, "400")).encode("cp1251"))
    assert len(read_file(p, config, source_id="kazhydromet").observations) == 1
    p.write_bytes((HEADER_KZ + _kz("01.04.2019", "400")).encode("cp1251"))
    with pytest.raises(IngestError, match=r"'01\.04\.2019' is before 2020"):
        read_file(p, config, source_id="kazhydromet")


def test_netcdf_far_future_and_infinite_values_are_refused(config, tmp_path):
    from hydro.readers import read_file
    from hydro.readers.netcdf import write_netcdf

    obs = read_file(DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt", config).observations.head(5)
    late = obs.copy()
    late.loc[late.index[-1], "time"] = pd.Timestamp("2099-01-01")
    with pytest.raises(IngestError, match=r"time\[4\] '2099-01-01T00:00:00' is in the future"):
        read_file(write_netcdf(late, tmp_path / "late.nc", config), config)
    inf = obs.copy()
    inf.loc[inf.index[2], "value"] = np.inf
    with pytest.raises(IngestError, match=r"infinite value"):
        read_file(write_netcdf(inf, tmp_path / "inf.nc", config), config)


# --------------------------------------------------------------------------- corrections

def test_a_correction_for_an_earlier_date_is_a_revision_not_a_rejection(store, config,
                                                                         tmp_path):
    first = tmp_path / "day1.csv"
    first.write_bytes((HEADER_KZ + _kz("01.04.2024", "400") + _kz("02.04.2024", "410"))
                      .encode("cp1251"))
    assert ingest_file(store, config, first, source_id="kazhydromet").outcome == "loaded"
    # the next day's table ends with a correction of 1 April (time goes backwards) and
    # repeats 2 April twice, the later line correcting the earlier
    nxt = tmp_path / "day2.csv"
    nxt.write_bytes((HEADER_KZ + _kz("02.04.2024", "999") + _kz("03.04.2024", "420")
                     + _kz("01.04.2024", "402") + _kz("02.04.2024", "411")).encode("cp1251"))
    r = ingest_file(store, config, nxt, source_id="kazhydromet")
    assert r.outcome == "loaded", r.message
    s = api.series(store, "KZ:19071", "stage")
    assert s["value"].tolist() == [402, 411, 420]
    assert s["revision"].tolist() == [2, 2, 1]
    every = api.observations(store, stations=["KZ:19071"], revisions="all")
    assert sorted(every["value"].tolist()) == [400, 402, 410, 411, 420]  # 999 never stored


# --------------------------------------------------------------------------- sources

def test_the_source_is_the_configured_one_whatever_the_folder(store, config, tmp_path):
    from hydro.services.ingest import source_for

    src = DATA / "agency" / "kazhydromet" / "tobol_2020.csv"
    elsewhere = tmp_path / "downloads" / "tobol_2020.csv"
    elsewhere.parent.mkdir()
    shutil.copy(src, elsewhere)
    a = ingest_file(store, config, src)
    b = ingest_file(store, config, elsewhere)
    assert (a.source, b.source) == ("kazhydromet", "kazhydromet")
    assert a.outcome == "loaded" and b.outcome == "unchanged"     # not stored a second time
    assert set(api.observations(store)["source"]) == {"kazhydromet"}
    # every bundled format: the one configured source reading it
    from hydro.readers import read_file

    for path, want in [(DATA / "reservoirs" / "KZ_SERGEEVKA.csv", "reservoirs"),
                       (DATA / "quality" / "ishim.csv", "quality"),
                       (DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt", "grdc"),
                       (DATA / "agency" / "roshydromet" / "ural_2024.csv", "roshydromet")]:
        assert source_for(config, read_file(path, config)) == want
    assert source_for(config, read_file(src, config), "exchange-nc") == "exchange-nc"


def test_a_plain_ingest_correction_replaces_what_the_worker_loaded(store, config, tmp_path):
    """The worker stores a reservoir file under its inbox's source ('reservoirs'); a
    correction loaded with `hydrorisk ingest FILE` goes under the same source and replaces
    the displayed value (it was stored under 'reservoir' beside it)."""
    day = tmp_path / "inbox.csv"
    day.write_text(HEADER_RES + _res("2024-04-01", "124.018"), encoding="utf-8")
    assert ingest_file(store, config, day, source_id="reservoirs").outcome == "loaded"
    fix = tmp_path / "fix.csv"
    fix.write_text(HEADER_RES + _res("2024-04-01", "124.118"), encoding="utf-8")
    r = ingest_file(store, config, fix)
    assert (r.outcome, r.source) == ("loaded", "reservoirs")
    latest = api.latest(store, variables=("level",))
    row = latest[latest["station_id"] == "KZ:SERGEEVKA"]
    assert row["value"].tolist() == [124.118] and row["source"].tolist() == ["reservoirs"]


def test_two_sources_of_one_layout_need_the_inbox_or_source(config_copy, tmp_path):
    from hydro.config import load_config
    from hydro.readers import read_file
    from hydro.services.ingest import source_for

    text = (config_copy / "sources.toml").read_text(encoding="utf-8")
    extra = text[text.index('[[sources]]\nid = "kazhydromet"\n'):]
    extra = extra[:extra.index("\n\n")].replace('id = "kazhydromet"', 'id = "kazhydromet-2"')
    extra = extra.replace("data/inbox/kazhydromet", "data/inbox/kazhydromet-2").replace(
        "data/archive/kazhydromet", "data/archive/kazhydromet-2")
    (config_copy / "sources.toml").write_text(text + "\n" + extra + "\n", encoding="utf-8")
    config = load_config(config_copy)
    src = DATA / "agency" / "kazhydromet" / "tobol_2020.csv"
    batch = read_file(src, config)
    with pytest.raises(IngestError, match=r"several sources read this file's format and "
                                          r"layout kazhydromet-ru \(kazhydromet, "
                                          r"kazhydromet-2\): name one with --source"):
        source_for(config, batch)
    inbox = config_copy.parent / "data" / "inbox" / "kazhydromet-2"
    inbox.mkdir(parents=True)
    shutil.copy(src, inbox / src.name)
    assert source_for(config, read_file(inbox / src.name, config)) == "kazhydromet-2"


def test_the_cli_says_which_source_it_used(config_copy, tmp_path, monkeypatch, capsys):
    from hydro.cli import main

    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{tmp_path / 'c.sqlite'}")
    rc = main(["--config", str(config_copy), "ingest", "--no-alerts",
               str(DATA / "reservoirs" / "KZ_SERGEEVKA.csv")])
    out = capsys.readouterr().out
    assert rc == 0 and "stored under source reservoirs (1 file)" in out


def test_a_jump_across_two_sources_of_one_party_is_a_spike(store, config, tmp_path):
    """Kazhydromet's Russian-headed table says 300 cm on 1 April, its Kazakh-headed table
    866 cm on 2 April: +566 cm in a day at Uralsk is flagged though each source's own series
    has a single value."""
    ru = tmp_path / "ru.csv"
    ru.write_bytes((HEADER_KZ + _kz("30.03.2024", "298") + _kz("31.03.2024", "299")
                    + _kz("01.04.2024", "300")).encode("cp1251"))
    kk = tmp_path / "kk.csv"
    kk.write_text(HEADER_KK + _kz("02.04.2024", "866").replace("\r\n", "\n"),
                  encoding="utf-8")
    assert ingest_file(store, config, ru).source == "kazhydromet"
    assert ingest_file(store, config, kk).source == "kazhydromet-kk"
    s = api.series(store, "KZ:19071", "stage").set_index("time")
    jump = s.loc[s["value"] == 866, "qc_flags"].iloc[0]
    assert jump & int(QC.SPIKE), s
    assert not (s.loc[s["value"] < 866, "qc_flags"] & int(QC.SPIKE)).any()
    # whichever order the files come in
    from hydro.store.db import open_store

    other = open_store(f"sqlite:///{tmp_path / 'other.sqlite'}", config.network)
    ingest_file(other, config, kk)
    ingest_file(other, config, ru)
    t = api.series(other, "KZ:19071", "stage").set_index("time")
    pd.testing.assert_series_equal(t["qc_flags"].sort_index(), s["qc_flags"].sort_index())
    # and a store-level QC check agrees with the ingest
    from hydro.services.ingest import check_store

    assert check_store(store, config).revisions_written == 0
    other.dispose()


# --------------------------------------------------------------------------- one file only

def test_an_unwritable_quarantine_is_recorded_against_that_file_only(store, config, tmp_path):
    qdir = tmp_path / "q"
    qdir.write_text("a file where the quarantine folder should be")  # unwritable, even as root
    bad = tmp_path / "bad.csv"
    bad.write_bytes((HEADER_KZ + _kz("01.04.2024", "abc")).encode("cp1251"))
    r = ingest_file(store, config, bad, source_id="kazhydromet", quarantine_dir=qdir)
    assert r.outcome == "rejected" and r.quarantined_to is None
    assert "'abc' is not a number" in r.message
    assert "could not be kept in quarantine" in r.message and bad.exists()
    good = ingest_file(store, config, DATA / "reservoirs" / "KZ_SERGEEVKA.csv",
                       quarantine_dir=qdir)
    assert good.outcome == "loaded"
    runs = api.ingest_runs(store)
    assert sorted(runs["outcome"]) == ["loaded", "rejected"]


def test_an_over_long_name_is_quarantined_under_a_shortened_name(store, config, tmp_path):
    name = "x" * 243 + ".csv"                               # 247 bytes: the limit is 255
    bad = tmp_path / name
    bad.write_bytes((HEADER_KZ + _kz("01.04.2024", "abc")).encode("cp1251"))
    r = ingest_file(store, config, bad, source_id="kazhydromet", quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected" and r.quarantined_to is not None
    kept = tmp_path / "q" / r.quarantined_to.rsplit("/", 1)[1]
    assert kept.read_bytes() == bad.read_bytes()
    assert len(kept.name.encode()) <= 240 - len(".reason.txt") and kept.name.endswith(".csv")
    assert (kept.parent / (kept.name + ".reason.txt")).exists()


# --------------------------------------------------------------------------- read only

def test_read_only_commands_do_not_write_and_work_under_a_write_lock(config_copy, tmp_path,
                                                                     monkeypatch, capsys):
    from hydro.cli import main
    from hydro.config import load_config
    from hydro.services.context import open_store_readonly

    db = tmp_path / "ro.sqlite"
    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{db}")
    config = load_config(config_copy)
    with pytest.raises(StoreError, match=r"no store at .*ro\.sqlite: create it with "
                                         r"`hydrorisk init`"):
        open_store_readonly(config)
    assert not db.exists()                                   # not created by a reader
    assert main(["--config", str(config_copy), "init"]) == 0
    capsys.readouterr()
    # another process holds the write lock: jobs still answers at once
    lock = sqlite3.connect(db, timeout=0.1)
    lock.execute("BEGIN IMMEDIATE")
    lock.execute("UPDATE stations SET name_en = name_en")
    try:
        before = db.stat().st_mtime_ns
        t0 = dt.datetime.now()
        assert main(["--config", str(config_copy), "jobs"]) == 0
        assert (dt.datetime.now() - t0).total_seconds() < 10
        assert "no job has run yet" in capsys.readouterr().out
        assert db.stat().st_mtime_ns == before
    finally:
        lock.rollback()
        lock.close()
    # a store that needs an upgrade is an error naming `hydrorisk init`, not upgraded
    from hydro.store.db import SCHEMA_VERSION

    con = sqlite3.connect(db)
    con.execute("UPDATE schema_version SET version = ? WHERE version = ?",
                (SCHEMA_VERSION - 1, SCHEMA_VERSION))
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=rf"at schema version {SCHEMA_VERSION - 1} and needs "
                                         rf"an upgrade to {SCHEMA_VERSION}: run `hydrorisk "
                                         r"init`"):
        open_store_readonly(config)
