"""The scheduled ingest job: inbox -> store -> archive; poisoned files to quarantine."""

import shutil

import pandas as pd
import pytest
from conftest import ROOT


@pytest.fixture
def project(config_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{tmp_path / 'w.sqlite'}")
    return config_copy


def test_poll_inbox_archives_and_quarantines(project):
    from hydro.config import load_config
    from hydro.store import api
    from hydro.store.db import open_store
    from hydro.worker import poll_inbox

    root = project.parent
    inbox = root / "data/inbox/kazhydromet"
    inbox.mkdir(parents=True)
    shutil.copy(ROOT / "data/gauges/agency/kazhydromet/tobol_2024.csv", inbox / "tobol_2024.csv")
    (inbox / "poison.csv").write_bytes("Код поста;Дата;Уровень воды, см\r\n12008;01.04.2024;abc\r\n".encode("cp1251"))
    results = poll_inbox(str(project), "kazhydromet")
    assert sorted(r.outcome for r in results) == ["loaded", "rejected"]
    assert not any(p.is_file() for p in inbox.iterdir())
    assert (root / "data/archive/kazhydromet/tobol_2024.csv").exists()
    kept = list((root / "data/quarantine/kazhydromet").glob("*poison.csv"))
    assert len(kept) == 1
    assert "is not a number" in kept[0].with_name(kept[0].name + ".reason.txt").read_text()
    config = load_config(project)
    engine = open_store(config.store_url, config.network)
    assert len(api.series(engine, "KZ:12008", "stage")) == 366
    # the next poll finds nothing and the job keeps running
    assert poll_inbox(str(project), "kazhydromet") == []


def test_jobs_derive_from_config_and_sync_idempotently(project):
    from hydro.config import load_config
    from hydro.worker import build_scheduler, sync_jobs

    config = load_config(project)
    sched = build_scheduler(config, str(project))
    sched.start(paused=True)
    try:
        added, removed = sync_jobs(sched, config, str(project))
        assert set(added) == {f"ingest:{s.id}" for s in config.sources.sources} and removed == []
        again = sync_jobs(sched, config, str(project))
        assert again == ([], [])
        assert all(j.coalesce for j in sched.get_jobs())
        text = (project / "sources.toml").read_text(encoding="utf-8")
        start = text.index('[[sources]]\nid = "quality"')
        (project / "sources.toml").write_text(text[:start] + text[start:].split("\n\n", 1)[1],
                                              encoding="utf-8")
        added, removed = sync_jobs(sched, load_config(project), str(project))
        assert added == [] and removed == ["ingest:quality"]
    finally:
        sched.shutdown(wait=False)


# --------------------------------------------------------------------------- reliability

KZ_FILES = sorted((ROOT / "data/gauges/agency/kazhydromet").glob("*_201[0-4].csv"))
POISON = "Код поста;Дата;Уровень воды, см\r\n12008;01.04.2024;abc\r\n".encode("cp1251")


def _engine(project):
    from hydro.config import load_config
    from hydro.store.db import open_store

    config = load_config(project)
    return open_store(config.store_url, config.network)


def test_store_failure_is_retried_and_the_file_is_not_lost(project, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    import hydro.worker as worker
    from hydro.store import api

    inbox = project.parent / "data/inbox/kazhydromet"
    inbox.mkdir(parents=True)
    shutil.copy(KZ_FILES[0], inbox / KZ_FILES[0].name)
    real = worker.ingest_file
    calls = []

    def flaky(*a, **k):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(*a, **k)

    monkeypatch.setattr(worker, "ingest_file", flaky)
    monkeypatch.setattr(worker, "RETRY_BACKOFF_S", 0.01)
    with caplog.at_level("WARNING", logger="hydrorisk.worker"):
        results = worker.run_ingest_job(str(project), "kazhydromet")
    assert [r.outcome for r in results] == ["loaded"] and len(calls) == 3
    assert sum("retrying" in m for m in caplog.messages) == 2
    assert (project.parent / "data/archive/kazhydromet" / KZ_FILES[0].name).exists()
    assert len(api.ingest_runs(_engine(project))) == 1


def test_a_run_that_keeps_failing_gives_the_file_back(project, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import hydro.worker as worker
    from hydro.store import api

    inbox = project.parent / "data/inbox/kazhydromet"
    inbox.mkdir(parents=True)
    shutil.copy(KZ_FILES[0], inbox / KZ_FILES[0].name)

    def broken(*a, **k):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(worker, "ingest_file", broken)
    monkeypatch.setattr(worker, "RETRY_BACKOFF_S", 0.01)
    with pytest.raises(OperationalError):
        worker.run_ingest_job(str(project), "kazhydromet")
    assert (inbox / KZ_FILES[0].name).exists()                 # back in the inbox
    assert not any((inbox / ".processing").iterdir())
    monkeypatch.undo()
    assert [r.outcome for r in worker.poll_inbox(str(project), "kazhydromet")] == ["loaded"]
    assert api.observation_count(_engine(project)) > 0


def test_claim_of_a_dead_worker_is_recovered(project):
    import socket
    import subprocess
    import sys

    from hydro.worker import poll_inbox

    inbox = project.parent / "data/inbox/kazhydromet"
    (inbox / ".processing").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = inbox / ".processing" / f"{socket.gethostname()}_{dead.pid}_{KZ_FILES[1].name}"
    shutil.copy(KZ_FILES[1], stale)
    results = poll_inbox(str(project), "kazhydromet")
    assert [r.outcome for r in results] == ["loaded"] and not stale.exists()
    assert (project.parent / "data/archive/kazhydromet" / KZ_FILES[1].name).exists()


@pytest.mark.slow
def test_two_workers_never_process_the_same_file(project):
    """Two worker processes poll one inbox at once: every file is ingested exactly once."""
    import json
    import os
    import subprocess
    import sys

    from hydro.store import api

    inbox = project.parent / "data/inbox/kazhydromet"
    inbox.mkdir(parents=True)
    for f in KZ_FILES:
        shutil.copy(f, inbox / f.name)
    _engine(project).dispose()  # schema first, as `hydrorisk worker` does
    code = ("import json, sys; from hydro.worker import poll_inbox; "
            "r = poll_inbox(sys.argv[1], 'kazhydromet'); "
            "print(json.dumps([x.path.rsplit('_', 2)[-2] + '_' + x.path.rsplit('_', 1)[-1] "
            "for x in r]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(project)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ)) for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    done = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    assert not set(done[0]) & set(done[1])
    assert sorted(done[0] + done[1]) == sorted(f.name for f in KZ_FILES)
    runs = api.ingest_runs(_engine(project))
    assert len(runs) == len(KZ_FILES) and (runs["outcome"] == "loaded").all()
    assert sorted(p.name for p in (project.parent / "data/archive/kazhydromet").iterdir()) \
        == sorted(f.name for f in KZ_FILES)


def test_job_status_is_recorded_from_scheduler_events(project):
    import datetime as dt

    from apscheduler.events import (
        EVENT_JOB_ERROR,
        EVENT_JOB_EXECUTED,
        EVENT_JOB_SUBMITTED,
        JobExecutionEvent,
        JobSubmissionEvent,
    )

    from hydro.services.ingest import IngestResult
    from hydro.store import api
    from hydro.worker import JobStatusRecorder

    engine = _engine(project)
    rec = JobStatusRecorder(engine)
    when = dt.datetime(2024, 4, 1, 8)
    rec(JobSubmissionEvent(EVENT_JOB_SUBMITTED, "ingest:grdc", "default", [when]))
    assert api.job_status(engine).iloc[0]["last_outcome"] == "running"
    rec(JobExecutionEvent(EVENT_JOB_ERROR, "ingest:grdc", "default", when,
                          exception=RuntimeError("database is locked"),
                          traceback="Traceback ...\nRuntimeError: database is locked"))
    rec(JobExecutionEvent(EVENT_JOB_ERROR, "ingest:grdc", "default", when,
                          exception=RuntimeError("database is locked")))
    s = api.job_status(engine).iloc[0]
    assert (s["last_outcome"], s["runs"], s["failures"], s["consecutive_failures"]) == \
        ("error", 2, 2, 2)
    assert s["last_error"].startswith("RuntimeError: database is locked")
    rec(JobExecutionEvent(EVENT_JOB_EXECUTED, "ingest:grdc", "default", when,
                          retval=[IngestResult("a", "loaded"), IngestResult("b", "rejected")]))
    s = api.job_status(engine).iloc[0]
    assert (s["last_outcome"], s["runs"], s["failures"], s["consecutive_failures"]) == \
        ("ok", 3, 2, 0)
    assert (s["last_files_loaded"], s["last_files_rejected"]) == (1, 1)
    assert s["last_error"].startswith("RuntimeError")  # the last error stays readable
    assert s["last_success_at"] >= s["last_error_at"]


@pytest.mark.slow
def test_real_scheduler_picks_up_archives_quarantines_and_keeps_running(project, monkeypatch,
                                                                       caplog):
    """A BackgroundScheduler with a 1 s job: files dropped in the inbox are ingested and
    archived, a poisoned file goes to quarantine, a failing run is retried on the next
    tick and logged, and the dashboard can read each job's last run, next run and error."""
    import time

    from sqlalchemy.exc import OperationalError

    import hydro.worker as worker
    from hydro.config import load_config
    from hydro.store import api

    text = (project / "sources.toml").read_text(encoding="utf-8")
    (project / "sources.toml").write_text(
        text.replace('layout = "kazhydromet-ru"\nparty = "KZ"\ndescription = "Kazhydromet daily '
                     'stage tables (Russian headers)"\npattern = "*.csv"\nschedule = '
                     '{ interval = "15 min" }',
                     'layout = "kazhydromet-ru"\nparty = "KZ"\ndescription = "Kazhydromet daily '
                     'stage tables (Russian headers)"\npattern = "*.csv"\nschedule = '
                     '{ interval = "1 s" }'), encoding="utf-8")
    config = load_config(project)
    engine = _engine(project)
    root = project.parent
    inbox = root / "data/inbox/kazhydromet"
    inbox.mkdir(parents=True)
    monkeypatch.setattr(worker, "RETRY_ATTEMPTS", 1)

    def wait_for(cond, what, timeout=30.0):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")

    sched = worker.build_scheduler(config, str(project))
    sched.start(paused=True)
    worker.sync_jobs(sched, config, str(project))
    sched.resume()
    try:
        shutil.copy(KZ_FILES[0], inbox / KZ_FILES[0].name)
        archived = root / "data/archive/kazhydromet"
        wait_for(lambda: (archived / KZ_FILES[0].name).exists(), "the first file archived")
        assert len(api.series(engine, "KZ:12008", "stage")) == 365
        (inbox / "poison.csv").write_bytes(POISON)
        qdir = root / "data/quarantine/kazhydromet"
        wait_for(lambda: qdir.exists() and any(qdir.glob("*poison.csv")), "quarantine")
        # the store fails once: the run is recorded as failed, the next tick succeeds
        real, failed = worker.ingest_file, []

        def once(*a, **k):
            if not failed:
                failed.append(1)
                raise OperationalError("INSERT", {}, Exception("database is locked"))
            return real(*a, **k)

        monkeypatch.setattr(worker, "ingest_file", once)
        with caplog.at_level("ERROR"):
            shutil.copy(KZ_FILES[1], inbox / KZ_FILES[1].name)
            wait_for(lambda: (archived / KZ_FILES[1].name).exists(), "the retried file")
        assert failed and any("database is locked" in m for m in caplog.messages)
        wait_for(lambda: api.job_status(engine).set_index("job_id")
                 .loc["ingest:kazhydromet", "last_outcome"] == "ok", "an ok run")
        st = api.job_status(engine).set_index("job_id").loc["ingest:kazhydromet"]
        assert st["failures"] >= 1 and "database is locked" in st["last_error"]
        assert st["consecutive_failures"] == 0 and st["runs"] >= 4
        assert st["next_run"] > st["last_started_at"] - pd.Timedelta(seconds=2)
        assert st["last_success_at"] >= st["last_error_at"]
        assert sched.get_job("ingest:kazhydromet") is not None
    finally:
        sched.shutdown(wait=True)


def test_netcdf_exchange_source_is_polled(project, config):
    from hydro.readers import read_file
    from hydro.readers.netcdf import write_netcdf
    from hydro.store import api
    from hydro.worker import poll_inbox

    inbox = project.parent / "data/inbox/exchange-nc"
    inbox.mkdir(parents=True)
    obs = read_file(ROOT / "data/gauges/agency/roshydromet/ural_2024.csv", config).observations
    write_netcdf(obs, inbox / "ru_ural_2024.nc", config)
    results = poll_inbox(str(project), "exchange-nc")
    assert [r.outcome for r in results] == ["loaded"]
    s = api.series(_engine(project), "KZ:19073", "stage")
    assert set(s["party"]) == {"RU"} and set(s["source"]) == {"exchange-nc"} and len(s) == 366
