"""Ingest: atomic per file, idempotent, revisions kept, bad files quarantined with a clear
error naming file, line and column, and the store left exactly as it was."""

import datetime as dt
import re

import pandas as pd
import pytest
from conftest import ROOT
from sqlalchemy import select

from hydro.services.ingest import ingest_file
from hydro.store import api
from hydro.store.models import IngestRun

DATA = ROOT / "data" / "gauges"
KZ_URAL = DATA / "agency" / "kazhydromet" / "ural_2024.csv"
RU_URAL = DATA / "agency" / "roshydromet" / "ural_2024.csv"


def _snapshot(engine):
    df = api.observations(engine, revisions="all")
    return list(df[["station_id", "variable", "time", "value", "revision", "received_at"]]
                .itertuples(index=False, name=None))


def test_ingest_then_reingest_changes_nothing(store, config, tmp_path):
    r1 = ingest_file(store, config, KZ_URAL, quarantine_dir=tmp_path / "q")
    assert r1.outcome == "loaded" and r1.rows_written == r1.rows_read > 3000
    before = _snapshot(store)
    r2 = ingest_file(store, config, KZ_URAL, quarantine_dir=tmp_path / "q")
    assert r2.outcome == "unchanged" and r2.rows_written == 0
    assert _snapshot(store) == before
    # a copy under another name with the same content is also a no-op at value level
    copy = tmp_path / "copy.csv"
    copy.write_bytes(KZ_URAL.read_bytes() + b"\r\n")
    r3 = ingest_file(store, config, copy, source_id="kazhydromet", quarantine_dir=tmp_path / "q")
    assert r3.rows_written == 0 and _snapshot(store) == before


def test_ice_phenomena_are_kept_as_code_and_flag(store, config, tmp_path):
    ingest_file(store, config, KZ_URAL, quarantine_dir=tmp_path / "q")
    s = api.series(store, "KZ:19071", "stage")
    jan = s[s["time"].dt.month == 1]
    assert (jan["phenomena"] == "ice_cover").all() and (jan["qc_flags"] & 1).all()
    jul = s[s["time"].dt.month == 7]
    assert jul["phenomena"].isna().all() and (jul["qc_flags"] == 0).all()


def test_border_gauge_keeps_both_parties(store, config, tmp_path):
    ingest_file(store, config, KZ_URAL, quarantine_dir=tmp_path / "q")
    ingest_file(store, config, RU_URAL, quarantine_dir=tmp_path / "q")
    s = api.series(store, "KZ:19073", "stage")
    assert set(s["party"]) == {"KZ", "RU"}
    both = s.pivot_table(index="time", columns="party", values="value")
    assert len(both.dropna()) == 366
    assert (both["KZ"] - both["RU"]).abs().max() <= 2  # reading noise in 2024


def test_correction_adds_revision_and_as_of_reads_the_past(store, config, tmp_path):
    t1 = dt.datetime(2024, 4, 3, 8, 0)
    ingest_file(store, config, KZ_URAL, received_at=t1, quarantine_dir=tmp_path / "q")
    lines = KZ_URAL.read_bytes().decode("cp1251").splitlines()
    idx = next(i for i, ln in enumerate(lines) if ln.startswith("19071;") and "02.04.2024" in ln)
    fields = lines[idx].split(";")
    old = int(fields[4])
    fields[4] = str(old + 25)
    lines[idx] = ";".join(fields)
    corrected = tmp_path / "ural_2024_corrected.csv"
    corrected.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    t2 = dt.datetime(2024, 4, 5, 8, 0)
    r = ingest_file(store, config, corrected, source_id="kazhydromet", received_at=t2,
                    quarantine_dir=tmp_path / "q")
    assert r.outcome == "loaded" and r.rows_written == 1
    day = dt.datetime(2024, 4, 2)
    now = api.series(store, "KZ:19071", "stage", start=day, end=day + dt.timedelta(days=1))
    assert now["value"].tolist() == [old + 25] and now["revision"].tolist() == [2]
    then = api.series(store, "KZ:19071", "stage", start=day, end=day + dt.timedelta(days=1),
                      as_of=dt.datetime(2024, 4, 4))
    assert then["value"].tolist() == [old] and then["revision"].tolist() == [1]


def _broken(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


HEADER_RU = ("Код поста;Пост;Дата;Срок;Уровень воды, см;Изменение за сутки, см;"
             "Расход воды, м3/с;Ледовые явления\r\n")
ROW = "19071;р. Урал – г. Уральск;{d};08:00;{v};;;\r\n"

BROKEN = {
    "empty file": ("", "utf-8", r"empty\.csv: the file is empty"),
    "truncated": (HEADER_RU + ROW.format(d="01.04.2024", v="400") + "19071;р. Урал – г. Уральск;02.04",
                  "cp1251", r"line 3: expected 8 fields, found 3"),
    "wrong encoding": (HEADER_RU.replace("Код поста", "Бекет коды") + ROW.format(d="01.04.2024", v="400"),
                       "utf-16", r"cannot decode|unrecognised"),
    "decimal point in a decimal-comma layout": (
        HEADER_RU + "19071;р. Урал – г. Уральск;01.04.2024;08:00;400;;123.5;\r\n", "cp1251",
        r"line 2, column 'Расход воды, м3/с': '123\.5' uses a decimal point"),
    "unknown station": (HEADER_RU + ROW.format(d="01.04.2024", v="400").replace("19071", "99999"),
                        "cp1251", r"line 2, column 'Код поста': unknown station '99999'"),
    "metres where cm expected": (HEADER_RU + "".join(
        ROW.format(d=f"{d:02d}.04.2024", v=f"4,{d:02d}") for d in range(1, 10)), "cp1251",
        r"look like metres but this layout expects cm"),
    "year typed 3024": (HEADER_RU + ROW.format(d="01.04.3024", v="400"), "cp1251",
                        r"line 2, column 'Дата': '01\.04\.3024' is in the future"),
    "year typed 1024": (HEADER_RU + ROW.format(d="01.04.1024", v="400"), "cp1251",
                        r"line 2, column 'Дата': '01\.04\.1024' is before 1900"),
    "inf": (HEADER_RU + ROW.format(d="01.04.2024", v="inf"), "cp1251",
            r"line 2, column 'Уровень воды, см': 'inf' is not a number"),
    "1e309": (HEADER_RU + ROW.format(d="01.04.2024", v="1e309"), "cp1251",
              r"line 2, column 'Уровень воды, см': '1e309' is too large"),
    "text in a numeric column": (HEADER_RU + ROW.format(d="01.04.2024", v="н/д"), "cp1251",
                                 r"line 2, column 'Уровень воды, см': 'н/д' is not a number"),
    "unknown ice phenomenon": (HEADER_RU + ROW.format(d="01.04.2024", v="400").replace(";;;\r\n", ";;;торосы\r\n"),
                               "cp1251", r"unknown ice phenomenon 'торосы'"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_file_is_rejected_quarantined_and_store_untouched(store, config, tmp_path, case):
    ingest_file(store, config, DATA / "reservoirs" / "KZ_SERGEEVKA.csv", quarantine_dir=tmp_path / "q")
    before = _snapshot(store)
    text, enc, message = BROKEN[case]
    name = "empty.csv" if case == "empty file" else "bad.csv"
    p = _broken(tmp_path, name, text, enc)
    r = ingest_file(store, config, p, source_id=None if case == "wrong encoding" else "kazhydromet",
                    quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected"
    assert re.search(message, r.message), r.message
    assert str(p) in r.message
    assert _snapshot(store) == before
    kept = list((tmp_path / "q").glob(f"*_{name}"))
    assert len(kept) == 1 and kept[0].read_bytes() == p.read_bytes()
    reason = kept[0].with_name(kept[0].name + ".reason.txt").read_text(encoding="utf-8")
    assert r.message in reason
    with store.connect() as conn:
        run = conn.execute(select(IngestRun).where(IngestRun.id == r.run_id)).mappings().one()
    assert run["outcome"] == "rejected" and run["message"] == r.message


def test_grdc_unit_mismatch_and_truncation(store, config, tmp_path):
    src = (DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt").read_text(encoding="utf-8")
    bad_unit = _broken(tmp_path, "unit.txt", src.replace("m³/s", "cm"))
    r = ingest_file(store, config, bad_unit, quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected" and "Unit of measure" in r.message and "not of discharge" in r.message
    cut = _broken(tmp_path, "cut.txt", src[: src.index("2010-01-05")] + "2010-01-05;--:")
    r = ingest_file(store, config, cut, quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected" and "line 40" in r.message and "truncated" in r.message
    assert api.observation_count(store) == 0


def test_quality_censored_values_are_kept(store, config, tmp_path):
    r = ingest_file(store, config, DATA / "quality" / "ural.csv", quarantine_dir=tmp_path / "q")
    assert r.outcome == "loaded"
    q = api.quality_samples(store, "KZ:19802")
    raw = pd.read_csv(DATA / "quality" / "ural.csv", sep=";", comment="#", dtype=str)
    raw = raw[raw["site"] == "KZ:19802"]
    n_censored = raw["value"].str.startswith("<").sum()
    assert n_censored > 0 and int(q["censored"].sum()) == n_censored
    cens = q[q["censored"]].iloc[0]
    limit = raw[raw["value"].str.startswith("<") & (raw["parameter"] == cens["parameter"])]["value"].iloc[0]
    assert cens["value"] == float(limit[1:])


@pytest.mark.slow
def test_bundled_data_loads_completely(tmp_path, config):
    """Every bundled file loads (the demo's first step) — a whole-network smoke test."""
    from hydro.services.ingest import bundled_files
    from hydro.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 'all.sqlite'}", config.network)
    results = [ingest_file(engine, config, f, quarantine_dir=tmp_path / "q")
               for f in bundled_files(config)]
    assert [r for r in results if r.outcome != "loaded"] == []
    latest = api.latest(engine)
    stage_stations = set(latest[latest["variable"] == "stage"]["station_id"])
    assert stage_stations == set(config.network.gauges)
    assert api.observation_count(engine) > 700_000


def test_previous_values_use_the_current_revision(store, config, tmp_path):
    ingest_file(store, config, KZ_URAL, received_at=dt.datetime(2024, 4, 3),
                quarantine_dir=tmp_path / "q")
    lines = KZ_URAL.read_bytes().decode("cp1251").splitlines()
    idx = next(i for i, ln in enumerate(lines) if ln.startswith("19071;") and "02.04.2024" in ln)
    fields = lines[idx].split(";")
    fields[4] = str(int(fields[4]) + 25)
    lines[idx] = ";".join(fields)
    corrected = tmp_path / "corrected.csv"
    corrected.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    ingest_file(store, config, corrected, source_id="kazhydromet", quarantine_dir=tmp_path / "q")
    s = api.series(store, "KZ:19071", "stage").set_index("time")["value"]
    t3 = s.index[(s.index.month == 4) & (s.index.day == 3)][0]
    prev = api.previous_values(store, [("KZ:19071", "KZ", t3.to_pydatetime())], "stage",
                               dt.timedelta(hours=48))
    assert prev["value"].tolist() == [int(fields[4])]  # the corrected 2 April reading
    none = api.previous_values(store, [("KZ:19071", "KZ", t3.to_pydatetime())], "stage",
                               dt.timedelta(hours=1))
    assert none.empty
