"""The worker's job status in the store (hydro.store.jobs): a ``job_status`` table made by
the worker before schema 3 is upgraded in place, and the next run time comes from our own
table, never from APScheduler's (on SQLite and, with HYDRORISK_TEST_PG_URL, PostgreSQL)."""

import datetime as dt

import pandas as pd
import pytest
from postgres_support import fresh_pg_url
from sqlalchemy import inspect, text

#: the table as the worker declared it before schema 3 (hydro/worker/__init__.py,
#: ``job_status_table``), in the DDL SQLAlchemy emitted for it
OLD_JOB_STATUS = """
CREATE TABLE job_status (
    job_id VARCHAR(191) NOT NULL,
    name VARCHAR(200),
    last_started_at {ts},
    last_finished_at {ts},
    last_outcome VARCHAR(16),
    last_success_at {ts},
    last_error_at {ts},
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL,
    runs INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    last_files_loaded INTEGER,
    last_files_rejected INTEGER,
    PRIMARY KEY (job_id)
)
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    return (f"sqlite:///{tmp_path / 'jobs.sqlite'}" if request.param == "sqlite"
            else fresh_pg_url())


def test_job_status_made_by_the_old_worker_is_upgraded_without_losing_rows(url, config):
    from hydro.store import api, jobs
    from hydro.store.db import SCHEMA_VERSION, current_version, make_engine, open_store

    eng = open_store(url, config.network)
    ts = "DATETIME" if eng.dialect.name == "sqlite" else "TIMESTAMP WITHOUT TIME ZONE"
    with eng.begin() as conn:                  # back to a schema-2 store with the old table
        conn.execute(text("DROP TABLE job_status"))
        # (later tables refer to alert_events: PostgreSQL drops their foreign keys with it)
        conn.execute(text("DROP TABLE alert_events"
                          + (" CASCADE" if eng.dialect.name == "postgresql" else "")))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES "
                          "(2, '2025-01-01 00:00:00')"))
        conn.execute(text(OLD_JOB_STATUS.format(ts=ts)))
        conn.execute(text(
            "INSERT INTO job_status (job_id, name, last_started_at, last_finished_at, "
            "last_outcome, last_success_at, last_error_at, last_error, "
            "consecutive_failures, runs, failures, last_files_loaded, last_files_rejected) "
            "VALUES ('ingest:grdc', 'ingest grdc', '2024-04-01 08:00:00', "
            "'2024-04-01 08:01:00', 'error', '2024-03-31 08:01:00', '2024-04-01 08:01:00', "
            "'RuntimeError: database is locked', 2, 10, 3, 4, 1), "
            "('ingest:kazhydromet', NULL, '2024-04-01 09:00:00', NULL, 'running', NULL, "
            "NULL, NULL, 0, 0, 0, NULL, NULL)"))
    eng.dispose()
    assert current_version(make_engine(url)) == 2

    eng = open_store(url, config.network)                                  # upgrades
    try:
        assert current_version(eng) == SCHEMA_VERSION   # 2 -> 3 (job_status) and on
        assert "next_run_at" in {c["name"] for c in inspect(eng).get_columns("job_status")}
        st = api.job_status(eng).set_index("job_id")
        assert list(st.reset_index().columns) == api.JOB_STATUS_COLUMNS
        g = st.loc["ingest:grdc"]
        assert (g["name"], g["last_outcome"], g["consecutive_failures"], g["runs"],
                g["failures"], g["last_files_loaded"], g["last_files_rejected"]) == \
            ("ingest grdc", "error", 2, 10, 3, 4, 1)
        assert g["last_error"] == "RuntimeError: database is locked"
        assert g["last_started_at"] == pd.Timestamp("2024-04-01 08:00")
        assert pd.isna(g["next_run"])               # not known until the worker records it
        assert st.loc["ingest:kazhydromet", "last_outcome"] == "running"
        # the worker's writes work on the upgraded table and add to the old counters
        nxt = dt.datetime(2024, 4, 1, 8, 15, tzinfo=dt.UTC)
        jobs.record_finish(eng, "ingest:grdc", dt.datetime(2024, 4, 1, 8, 2),
                           files_loaded=2, files_rejected=0, next_run=nxt)
        g = api.job_status(eng).set_index("job_id").loc["ingest:grdc"]
        assert (g["last_outcome"], g["runs"], g["failures"], g["consecutive_failures"]) == \
            ("ok", 11, 3, 0)
        assert g["next_run"] == pd.Timestamp("2024-04-01 08:15")          # naive UTC
    finally:
        eng.dispose()


def test_next_runs_are_recorded_and_read_without_apschedulers_table(config_copy, tmp_path,
                                                                      monkeypatch):
    """sync_jobs records each job's next run in job_status; the status reads only our table
    (APScheduler's may be gone, or laid out differently by another APScheduler)."""
    from hydro.config import load_config
    from hydro.store import api
    from hydro.store.db import open_store
    from hydro.worker import build_scheduler, sync_jobs

    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{tmp_path / 'w.sqlite'}")
    config = load_config(config_copy)
    sched = build_scheduler(config, str(config_copy))
    sched.start(paused=True)
    try:
        before = pd.Timestamp.now(tz="UTC").tz_localize(None) - pd.Timedelta(seconds=1)
        added, _ = sync_jobs(sched, config, str(config_copy))
        text_ = (config_copy / "sources.toml").read_text(encoding="utf-8")
        start = text_.index('[[sources]]\nid = "quality"')
        (config_copy / "sources.toml").write_text(
            text_[:start] + text_[start:].split("\n\n", 1)[1], encoding="utf-8")
        _, removed = sync_jobs(sched, load_config(config_copy), str(config_copy))
        want = {j.id: pd.Timestamp(j.next_run_time).tz_convert("UTC").tz_localize(None)
                for j in sched.get_jobs()}
    finally:
        sched.shutdown(wait=False)
    assert removed == ["ingest:quality"]
    engine = open_store(config.store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE apscheduler_jobs"))
        st = api.job_status(engine).set_index("job_id")
        assert set(st.index) == set(added) == set(want) | {"ingest:quality"}
        assert pd.isna(st.loc["ingest:quality", "next_run"])     # will not run again
        for jid in added:
            if jid != "ingest:quality":
                assert st.loc[jid, "next_run"] == want[jid] and want[jid] > before
            assert st.loc[jid, "name"] == f"ingest {jid.removeprefix('ingest:')}"
            assert st.loc[jid, "runs"] == 0 and pd.isna(st.loc[jid, "last_outcome"])
    finally:
        engine.dispose()
