"""Schema 13 (hydro.store.source_labels): values ingested without ``--source`` before
issue 15 were stored under their format's name (``reservoir``, ``netcdf``); they now carry
the configured source's (``reservoirs``, ``exchange-nc``).  An old store migrates with every
value identical, no duplicate series, and where a station's series was held under both
labels the newest received revision is the current value.

The hand-worked case (SYNTHETIC reservoir table of Sergeevka, KZ:SERGEEVKA):
  Jan 1  the whole table under the old label ``reservoir``        (A, revision 1 everywhere)
  Feb 1  the table under ``reservoirs`` with level on 2020-05-01 = 130.000 m   (B)
  Mar 1  the table under ``reservoir`` with level on 2020-05-02 = 131.000 m    (C)
After the upgrade: one level series; 2020-05-01 is 130.000 (B, newest), 2020-05-02 is
131.000 (C, newest), every other day its value in A; as known on Feb 15, 2020-05-02 is A's.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest
from conftest import ROOT
from sqlalchemy import delete, func, insert, select, text

from hydro.store import api
from hydro.store.models import IngestRun, ObservationSeries, QualitySample, SchemaVersion

RES = ROOT / "data" / "gauges" / "reservoirs"
NC = ROOT / "data" / "gauges" / "predictors" / "basin_means.nc"
JAN, FEB, MAR = dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1), dt.datetime(2024, 3, 1)
D1, D2 = "2020-05-01", "2020-05-02"


def _edited(tmp_path, name: str, day: str, level: str):
    """A copy of the Sergeevka table with the level of ``day`` replaced (a correction)."""
    src = RES / "KZ_SERGEEVKA.csv"
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    hit = [i for i, x in enumerate(lines) if x.startswith(f"KZ:SERGEEVKA;{day};")]
    assert len(hit) == 1
    cells = lines[hit[0]].split(";")
    cells[2] = level
    lines[hit[0]] = ";".join(cells)
    out = tmp_path / name / "KZ_SERGEEVKA.csv"
    out.parent.mkdir()
    out.write_text("".join(lines), encoding="utf-8")
    return out


def _day(frame: pd.DataFrame) -> pd.Series:
    """The local date (Asia/Almaty, the reservoir's time zone) of each row's UTC time."""
    return (frame["time"].dt.tz_localize("UTC").dt.tz_convert("Asia/Almaty")
            .dt.strftime("%Y-%m-%d"))


def _value(frame: pd.DataFrame, day: str) -> float:
    hit = frame[(frame["variable"] == "level") & (_day(frame) == day)]
    assert len(hit) == 1, hit
    return float(hit["value"].iloc[0])


def _file_level(day: str) -> float:
    """The level of ``day`` in the bundled Sergeevka table (m)."""
    for line in (RES / "KZ_SERGEEVKA.csv").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"KZ:SERGEEVKA;{day};"):
            return float(line.split(";")[2])
    raise AssertionError(day)


def _relabel(engine, frm: str, to: str) -> None:
    """Every series and ingest run of source ``frm`` under ``to`` (today's ingest refuses
    an unconfigured source, so an old store is made by relabelling a new one)."""
    with engine.begin() as conn:
        for table in ("observation_series", "ingest_runs"):
            conn.execute(text(f"UPDATE {table} SET source = :to WHERE source = :frm"),
                         {"to": to, "frm": frm})


@pytest.fixture
def old_store(tmp_path, config):
    """A store holding the old labels (as an old hydrorisk wrote them) and the new one for
    the same reservoir, stamped schema 12."""
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 'old.sqlite'}", config.network)
    q = tmp_path / "q"
    b = _edited(tmp_path, "b", D1, "130.000")
    c = _edited(tmp_path, "c", D2, "131.000")
    shutil.copy(RES / "RU_IRIKLINSK.csv", tmp_path / "RU_IRIKLINSK.csv")

    def load(path, at):
        r = ingest_file(engine, config, path, received_at=at, quarantine_dir=q)
        assert r.outcome == "loaded", r.message

    load(RES / "KZ_SERGEEVKA.csv", JAN)                            # A
    load(tmp_path / "RU_IRIKLINSK.csv", JAN)
    load(NC, JAN)
    _relabel(engine, "reservoirs", "reservoir")
    _relabel(engine, "exchange-nc", "netcdf")
    load(b, FEB)                                                    # B, new label
    _relabel(engine, "reservoirs", "tmp")                           # C, a revision of A
    _relabel(engine, "reservoir", "reservoirs")
    load(c, MAR)
    _relabel(engine, "reservoirs", "reservoir")
    _relabel(engine, "tmp", "reservoirs")
    with engine.begin() as conn:
        # a water-quality determination under both labels (old Jan 5, new Feb 5) and one
        # only under the old label
        base = dict(site_id="KZ:19073", parameter="nitrate", censored=False, unit="mg/l",
                    party="KZ", ingest_run_id=None)
        t1, t2 = dt.datetime(2023, 6, 1), dt.datetime(2023, 7, 1)
        conn.execute(insert(QualitySample), [
            dict(base, time=t1, value=1.0, source="netcdf", revision=1,
                 received_at=dt.datetime(2024, 1, 5)),
            dict(base, time=t1, value=2.0, source="exchange-nc", revision=1,
                 received_at=dt.datetime(2024, 2, 5)),
            dict(base, time=t2, value=3.0, source="netcdf", revision=1,
                 received_at=dt.datetime(2024, 1, 5)),
        ])
        # a new store is stamped with the newest version only: step back to 12
        conn.execute(delete(SchemaVersion).where(SchemaVersion.version > 12))
        conn.execute(insert(SchemaVersion).values(version=12, applied_at=JAN))
    yield engine
    engine.dispose()


def test_an_old_store_migrates_merging_the_two_labels(old_store, config):
    from hydro.store.db import SCHEMA_VERSION, current_version, open_store

    before_all = api.observations(old_store, revisions="all")
    before_cur = api.observations(old_store)
    assert set(before_all["source"]) == {"reservoir", "reservoirs", "netcdf"}
    assert current_version(old_store) == 12

    url = old_store.url.render_as_string(hide_password=False)
    engine = open_store(url, config.network)          # upgrade 12 -> 13
    try:
        assert current_version(engine) == SCHEMA_VERSION == 13
        after_all = api.observations(engine, revisions="all")
        after_cur = api.observations(engine)
        # no old label anywhere
        assert set(after_all["source"]) == {"reservoirs", "exchange-nc"}
        with engine.connect() as conn:
            runs = set(conn.execute(select(IngestRun.source)).scalars())
            assert runs == {"reservoirs", "exchange-nc"}
            # one series per station, variable and party: nothing shown twice
            dup = conn.execute(select(ObservationSeries.station_id, ObservationSeries.variable,
                                      ObservationSeries.party, func.count())
                               .group_by(ObservationSeries.station_id,
                                         ObservationSeries.variable, ObservationSeries.party)
                               .having(func.count() > 1)).all()
            assert dup == []
        # nothing lost: every stored revision is still there
        assert len(after_all) == len(before_all)
        key = ["station_id", "variable", "time", "received_at", "value"]
        pd.testing.assert_frame_equal(
            before_all[key].sort_values(key).reset_index(drop=True),
            after_all[key].sort_values(key).reset_index(drop=True))
        # the series held only under an old label: values identical, only relabelled
        for sid in ("RU:IRIKLINSK",):
            b = before_cur[before_cur["station_id"] == sid].drop(columns="source")
            a = after_cur[after_cur["station_id"] == sid].drop(columns="source")
            pd.testing.assert_frame_equal(b.reset_index(drop=True), a.reset_index(drop=True))
        nc_before = before_cur[before_cur["source"] == "netcdf"].drop(columns="source")
        nc_after = after_cur[after_cur["source"] == "exchange-nc"].drop(columns="source")
        pd.testing.assert_frame_equal(nc_before.reset_index(drop=True),
                                      nc_after.reset_index(drop=True))
        # Sergeevka: one current value per day, the newest received
        serg = after_cur[after_cur["station_id"] == "KZ:SERGEEVKA"]
        assert not serg.duplicated(["variable", "time"]).any()
        assert _value(serg, D1) == 130.0          # B (Feb) over A (Jan)
        assert _value(serg, D2) == 131.0          # C (Mar) over B's copy of A (Feb)
        a_jan = api.observations(engine, stations=["KZ:SERGEEVKA"], as_of=JAN)
        assert _value(a_jan, D1) == _file_level(D1)      # what was known on Jan 1: A
        assert _value(a_jan, D2) == _file_level(D2)
        feb = api.observations(engine, stations=["KZ:SERGEEVKA"],
                               as_of=dt.datetime(2024, 2, 15))
        assert _value(feb, D1) == 130.0
        assert _value(feb, D2) == _value(a_jan, D2)
        # every other day and variable: the value of A
        other = serg[~_day(serg).isin([D1, D2])
                     | (serg["variable"] != "level")]
        merged = other.merge(a_jan, on=["variable", "time"], suffixes=("", "_a"))
        assert len(merged) == len(other)
        assert (merged["value"].fillna(-1) == merged["value_a"].fillna(-1)).all()
        # revisions renumbered in received order: 1 (Jan), 2 (Feb), 3 (Mar) on D2
        revs = after_all[(after_all["station_id"] == "KZ:SERGEEVKA")
                         & (after_all["variable"] == "level")
                         & (_day(after_all) == D2)]
        assert list(revs.sort_values("received_at")["revision"]) == list(range(1, len(revs) + 1))
        assert revs.sort_values("received_at")["received_at"].iloc[-1] == MAR
        # quality: both labels merged, newest (Feb, exchange-nc) current
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT time, source, revision, value FROM quality_samples "
                "ORDER BY time, revision")).all()
        assert [(r.source, r.revision, r.value) for r in rows] == [
            ("exchange-nc", 1, 1.0), ("exchange-nc", 2, 2.0), ("exchange-nc", 1, 3.0)]
    finally:
        engine.dispose()


def test_the_upgrade_is_idempotent_and_leaves_a_new_store_alone(store):
    from hydro.store.source_labels import upgrade_source_labels

    assert upgrade_source_labels(store) == {"series_renamed": 0, "series_merged": 0,
                                            "quality_rows": 0, "ingest_runs": 0}


def test_a_file_loaded_again_today_is_not_stored_a_second_time(old_store, config, tmp_path):
    """After the upgrade a plain ``hydrorisk ingest`` (source from config: reservoirs) of a
    file an old hydrorisk stored under ``reservoir`` finds it: unchanged, no new series."""
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    engine = open_store(old_store.url.render_as_string(hide_password=False), config.network)
    try:
        fix = tmp_path / "fix"
        fix.mkdir()
        (fix / "RU_IRIKLINSK.csv").write_text(
            (tmp_path / "RU_IRIKLINSK.csv").read_text(encoding="utf-8"), encoding="utf-8")
        r = ingest_file(engine, config, fix / "RU_IRIKLINSK.csv", quarantine_dir=tmp_path / "q")
        assert r.outcome == "unchanged", r.message     # same values, same source: no copy
        with engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(ObservationSeries)
                             .where(ObservationSeries.station_id == "RU:IRIKLINSK")).scalar()
        variables = api.observations(engine, stations=["RU:IRIKLINSK"])["variable"].nunique()
        assert n == variables
    finally:
        engine.dispose()
