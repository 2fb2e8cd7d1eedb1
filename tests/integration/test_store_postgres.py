"""The same store code on PostgreSQL: schema creation, ingest, revisions, queries.

CI (.ci/run) starts a PostgreSQL server on loopback and sets HYDRORISK_TEST_PG_URL;
elsewhere these tests skip unless that variable is set."""

import datetime as dt

import pytest
from conftest import ROOT
from postgres_support import fresh_pg_url

pytestmark = pytest.mark.postgres

DATA = ROOT / "data" / "gauges"


def test_postgres_round_trip(config, tmp_path):
    from hydro.services.ingest import ingest_file
    from hydro.store import api
    from hydro.store.db import SCHEMA_VERSION, current_version, open_store

    url = fresh_pg_url()
    engine = open_store(url, config.network)
    try:
        assert engine.dialect.name == "postgresql"
        assert current_version(engine) == SCHEMA_VERSION
        assert len(api.stations(engine)) == (len(config.network.all_ids())
                                             + len(config.network.basins))  # BASIN:<id>
        kz = ingest_file(engine, config, DATA / "agency" / "kazhydromet" / "ural_2024.csv",
                         received_at=dt.datetime(2025, 1, 1), quarantine_dir=tmp_path)
        ru = ingest_file(engine, config, DATA / "agency" / "roshydromet" / "ural_2024.csv",
                         received_at=dt.datetime(2025, 1, 1), quarantine_dir=tmp_path)
        res = ingest_file(engine, config, DATA / "reservoirs" / "RU_IRIKLINSK.csv",
                          quarantine_dir=tmp_path)
        assert (kz.outcome, ru.outcome, res.outcome) == ("loaded", "loaded", "loaded")
        again = ingest_file(engine, config, DATA / "agency" / "kazhydromet" / "ural_2024.csv",
                            quarantine_dir=tmp_path)
        assert again.outcome == "unchanged"
        s = api.series(engine, "KZ:19073", "stage")
        assert set(s["party"]) == {"KZ", "RU"}
        from hydro.readers import read_file

        expected = read_file(DATA / "agency" / "kazhydromet" / "ural_2024.csv", config).observations
        exp = expected[expected.station_id == "KZ:19071"].set_index("time")["value"]
        got = api.series(engine, "KZ:19071", "stage", party="KZ").set_index("time")["value"]
        assert got.index.equals(exp.index) and (got == exp).all()
        lv = api.series(engine, "RU:IRIKLINSK", "level")
        assert len(lv) == 5479 and lv["value"].max() <= 246.0 + 1e-9
        latest = api.latest(engine)
        assert set(latest[latest.variable == "stage"]["station_id"]) >= {"KZ:19071", "RU:ORSK"}
        # a reopened engine sees the same schema version and does not recreate anything
        engine.dispose()
        engine = open_store(url, config.network)
        assert api.observation_count(engine) == kz.rows_written + ru.rows_written + res.rows_written
    finally:
        engine.dispose()
