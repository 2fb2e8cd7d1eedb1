"""The ingest scheduler: APScheduler 3.x in its own process (``hydrorisk worker``).

Job ids derive from config/sources.toml (``ingest:<source id>``), so reloading the config
adds and removes jobs idempotently; missed runs coalesce into one; the job store is the
project's own database.  The job body (:func:`poll_inbox`) is a plain function, testable
without a scheduler.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
from pathlib import Path

from hydro.config import Config, Source, load_config
from hydro.ingest import IngestResult, ingest_file

log = logging.getLogger("hydrorisk.worker")
JOB_PREFIX = "ingest:"


def job_id(source: Source) -> str:
    return f"{JOB_PREFIX}{source.id}"


def poll_inbox(config_dir: str, source_id: str) -> list[IngestResult]:
    """Ingest every file waiting in a source's inbox; archive loaded files, quarantine bad ones.

    A file is first claimed by an atomic rename into ``.processing/`` so two workers never
    process the same file.
    """
    from hydro.store.db import open_store

    config = load_config(config_dir)
    source = config.source(source_id)
    inbox = config.resolve(source.inbox or f"{config.settings.paths.inbox}/{source.id}")
    archive = config.resolve(source.archive or f"{config.settings.paths.archive}/{source.id}")
    qdir = config.resolve(config.settings.paths.quarantine) / source.id
    claim_dir = inbox / ".processing"
    inbox.mkdir(parents=True, exist_ok=True)
    claim_dir.mkdir(exist_ok=True)
    engine = open_store(config.store_url, config.network)
    results = []
    try:
        for path in sorted(p for p in inbox.glob(source.pattern) if p.is_file()):
            claimed = claim_dir / f"{os.getpid()}_{path.name}"
            try:
                os.rename(path, claimed)  # atomic: only one worker wins
            except FileNotFoundError:
                continue
            result = ingest_file(engine, config, claimed, source_id=source.id,
                                 quarantine_dir=qdir, move_rejected=True)
            if result.outcome == "rejected":
                log.warning("%s rejected: %s", path.name, result.message)
            else:
                archive.mkdir(parents=True, exist_ok=True)
                shutil.move(str(claimed), archive / path.name)
                log.info("%s: %s, %d rows written", path.name, result.outcome,
                         result.rows_written)
            results.append(result)
    finally:
        engine.dispose()
    return results


def build_scheduler(config: Config, config_dir: str):
    """A BackgroundScheduler whose SQLAlchemy job store lives in the project's database."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=config.store_url,
                                                 tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    return scheduler


def sync_jobs(scheduler, config: Config, config_dir: str) -> tuple[list[str], list[str]]:
    """Add/replace one job per scheduled source and remove stale ones; (added, removed)."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    wanted = {}
    for src in config.sources.sources:
        if src.schedule is None:
            continue
        if src.schedule.cron:
            trigger = CronTrigger.from_crontab(src.schedule.cron, timezone="UTC")
        else:
            trigger = IntervalTrigger(seconds=src.schedule.interval.to("duration") * 86400)
        wanted[job_id(src)] = (src, trigger)
    existing = {j.id for j in scheduler.get_jobs() if j.id.startswith(JOB_PREFIX)}
    removed = sorted(existing - set(wanted))
    for jid in removed:
        scheduler.remove_job(jid)
    for jid, (src, trigger) in wanted.items():
        scheduler.add_job(poll_inbox, trigger=trigger, id=jid, name=f"ingest {src.id}",
                          args=[config_dir, src.id], replace_existing=True)
    return sorted(set(wanted) - existing), removed


def job_status(scheduler) -> list[dict]:
    """Id, name and next run of every job (for the dashboard and the CLI)."""
    return [{"id": j.id, "name": j.name, "next_run": j.next_run_time} for j in scheduler.get_jobs()]


def run_worker(config_dir: str, stop: threading.Event | None = None) -> None:
    """Run the scheduler until SIGINT/SIGTERM (or ``stop`` is set); reload config on SIGHUP."""
    config = load_config(config_dir)
    scheduler = build_scheduler(config, config_dir)
    scheduler.start(paused=True)
    added, removed = sync_jobs(scheduler, config, config_dir)
    scheduler.resume()
    log.info("worker started: %d jobs (%s)", len(scheduler.get_jobs()),
             ", ".join(j.id for j in scheduler.get_jobs()))
    stop = stop or threading.Event()

    def _stop(*_):
        stop.set()

    def _reload(*_):
        try:
            new = load_config(config_dir)
            a, r = sync_jobs(scheduler, new, config_dir)
            log.info("config reloaded: added %s, removed %s", a, r)
        except Exception as e:  # keep running on a bad reload
            log.error("config reload failed, keeping the old jobs: %s", e)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, _reload)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)
        log.info("worker stopped")


def default_config_dir(config: Config) -> str:
    return str(Path(config.root).resolve())
