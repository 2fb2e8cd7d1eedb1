"""The ingest scheduler: APScheduler 3.x in its own process (``hydrorisk worker``).

May import: hydro.services, hydro.store, hydro.config and science.  Never the CLI or the
dashboard.

Job ids derive from config/sources.toml (``ingest:<source id>``), so reloading the config
adds and removes jobs idempotently; missed runs coalesce into one; the job store is the
project's own database.  The job body (:func:`poll_inbox`) is a plain function, testable
without a scheduler.

Reliability:

* **One file, one worker.**  A file is claimed by an atomic rename into
  ``<inbox>/.processing/<host>_<pid>_<name>`` before it is read; a worker that loses the
  race skips it.  A claim left by a worker that died (its process no longer exists on this
  host) is returned to the inbox by the next poll.
* **Bad content vs. a failing store.**  A file that cannot be read is quarantined with the
  reason (:func:`hydro.services.ingest.ingest_file`) and the job carries on.  A failure of the store
  (locked, unreachable, disk full) rolls the file's transaction back, returns the file to
  the inbox and fails the run; :func:`run_ingest_job` retries it with a growing pause
  (:data:`RETRY_ATTEMPTS`, :data:`RETRY_BACKOFF_S`), then the next scheduled run tries again.
* **Status.**  Listeners on the scheduler's events record, per job, the last run, its
  outcome, the last error, the number of consecutive failures and the next run time in the
  store's ``job_status`` table (through :mod:`hydro.store.jobs`; :func:`sync_jobs` records
  the next run of every job it schedules); :func:`hydro.store.api.job_status` reads it for
  the dashboard.  The worker writes no SQL itself: APScheduler's job store keeps its own
  table (``apscheduler_jobs``), which nothing else reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from hydro.config import Config, Source, load_config
from hydro.errors import StoreError
from hydro.services.ingest import IngestResult, ingest_file
from hydro.services.notifications import pid_alive
from hydro.store import Engine, OperationalError
from hydro.store import jobs as job_store
from hydro.units import factor

log = logging.getLogger("hydrorisk.worker")
JOB_PREFIX = "ingest:"
#: the id of the job that enqueues and delivers notifications (hydro.services.notifications)
NOTIFY_JOB = "notify"
#: attempts of one scheduled run before it is recorded as failed
RETRY_ATTEMPTS = 3
#: pause before the second attempt (doubled before each further one), seconds
RETRY_BACKOFF_S = 5.0
#: failures worth retrying: the store or the file system, not the content
RETRYABLE = (OperationalError, StoreError, OSError)

_CLAIM = re.compile(r"^(?P<host>[A-Za-z0-9.-]+)_(?P<pid>\d+)_(?P<name>.+)$")


def job_id(source: Source) -> str:
    return f"{JOB_PREFIX}{source.id}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def recover_claims(inbox: Path) -> list[Path]:
    """Return files claimed by workers that died (on this host) to the inbox."""
    claim_dir = inbox / ".processing"
    if not claim_dir.is_dir():
        return []
    host = socket.gethostname()
    back = []
    for p in sorted(claim_dir.iterdir()):
        m = _CLAIM.match(p.name)
        if not p.is_file() or m is None or m["host"] != host or pid_alive(int(m["pid"])):
            continue
        target = inbox / m["name"]
        if target.exists():
            continue  # a newer copy arrived; leave the claim for an operator
        try:
            os.rename(p, target)
        except FileNotFoundError:
            continue  # another worker recovered it first
        log.warning("%s: returned to the inbox (its worker, pid %s, has died)", target.name,
                    m["pid"])
        back.append(target)
    return back


def poll_inbox(config_dir: str, source_id: str) -> list[IngestResult]:
    """Ingest every file waiting in a source's inbox; archive loaded files, quarantine bad ones.

    A file is first claimed by an atomic rename into ``.processing/`` so two workers never
    process the same file.  If the store fails, the file goes back to the inbox and the
    error propagates (the caller retries).
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
    recover_claims(inbox)
    engine = open_store(config.store_url, config.network)
    results = []
    prefix = f"{socket.gethostname()}_{os.getpid()}_"
    try:
        for path in sorted(p for p in inbox.glob(source.pattern) if p.is_file()):
            claimed = claim_dir / f"{prefix}{path.name}"
            try:
                os.rename(path, claimed)  # atomic: only one worker wins
            except FileNotFoundError:
                continue
            try:
                result = ingest_file(engine, config, claimed, source_id=source.id,
                                     quarantine_dir=qdir, move_rejected=True)
            except BaseException:
                # the store failed: nothing of the file was written; give it back
                if not path.exists():
                    os.rename(claimed, path)
                raise
            if result.outcome == "rejected":
                log.warning("%s rejected: %s", path.name, result.message)
            else:
                archive.mkdir(parents=True, exist_ok=True)
                shutil.move(str(claimed), archive / path.name)
                log.info("%s: %s, %d rows written", path.name, result.outcome,
                         result.rows_written)
            results.append(result)
        if any(r.outcome == "loaded" for r in results):
            evaluate_alerts(engine, config)
            refresh_forecasts(engine, config)
            refresh_outlook(engine, config)
    finally:
        engine.dispose()
    return results


def evaluate_alerts(engine: Engine, config: Config) -> None:
    """After an ingest: evaluate the alert rules on what just arrived (incremental, as of
    now; :func:`hydro.services.alert_evaluation.evaluate`).  A failure is logged and does
    not fail the ingest — the files are in; the next evaluation covers everything received
    since the last one recorded, so nothing is skipped."""
    from hydro.services.alert_evaluation import evaluate

    try:
        report = evaluate(engine, config, incremental=True)
    except Exception as e:  # noqa: BLE001 - the ingest stands; the next run catches up
        log.error("alert evaluation after the ingest failed: %s: %s", type(e).__name__, e)
        return
    if report.changed:
        log.info("alerts: %s", report.summary())


def refresh_forecasts(engine: Engine, config: Config) -> None:
    """After an ingest: issue the short-range forecasts of every gauge from what the store
    now holds (:func:`hydro.services.forecasts.run`, stored with their issue time).  A
    failure is logged and does not fail the ingest — the next ingest refreshes them."""
    from hydro.services.forecasts import run

    try:
        report = run(engine, config)
    except Exception as e:  # noqa: BLE001 - the ingest stands; the next refresh catches up
        log.error("forecast refresh after the ingest failed: %s: %s", type(e).__name__, e)
        return
    log.info("forecasts: %s", report.summary())


def refresh_outlook(engine: Engine, config: Config) -> None:
    """After an ingest: issue the seasonal outlook whose scheduled date the newest winter
    predictors make due, once (:func:`hydro.services.outlook.refresh`).  A failure is
    logged and does not fail the ingest."""
    from hydro.services.outlook import refresh

    try:
        report = refresh(engine, config)
    except Exception as e:  # noqa: BLE001 - the ingest stands
        log.error("seasonal outlook after the ingest failed: %s: %s", type(e).__name__, e)
        return
    if report is not None:
        log.info("seasonal outlook of %s: %d issued, %d not", report.issue_date,
                 len(report.outlooks), len(report.skipped))


def run_ingest_job(config_dir: str, source_id: str) -> list[IngestResult]:
    """The scheduled job: :func:`poll_inbox`, retried on a failure of the store."""
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        try:
            return poll_inbox(config_dir, source_id)
        except RETRYABLE as e:
            if attempt == RETRY_ATTEMPTS:
                log.error("ingest %s failed %d times, giving up until the next run: %s",
                          source_id, attempt, e)
                raise
            pause = RETRY_BACKOFF_S * 2 ** (attempt - 1)
            log.warning("ingest %s failed (attempt %d of %d), retrying in %.1f s: %s",
                        source_id, attempt, RETRY_ATTEMPTS, pause, e)
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- job status

class JobStatusRecorder:
    """APScheduler listener that keeps the store's ``job_status`` up to date (one row per
    job, through :mod:`hydro.store.jobs`): the outcome of each run, and the job's name and
    next run time as the scheduler knows them."""

    def __init__(self, engine: Engine, scheduler=None) -> None:
        self.engine = engine
        self.scheduler = scheduler

    def _schedule(self, jid: str) -> dict:
        """``name`` and ``next_run`` of the job for the store (nothing when unknown)."""
        if self.scheduler is None:
            return {}
        try:
            job = self.scheduler.get_job(jid)
        except Exception:  # the job store may be busy; keep what was recorded
            return {}
        if job is None:  # removed, or its trigger has no further run
            return {"next_run": None}
        return {"name": job.name, "next_run": getattr(job, "next_run_time", None)}

    def __call__(self, event) -> None:
        from apscheduler.events import (
            EVENT_JOB_ERROR,
            EVENT_JOB_EXECUTED,
            EVENT_JOB_MISSED,
            EVENT_JOB_SUBMITTED,
        )

        jid = event.job_id
        now = _utcnow()
        sched = self._schedule(jid)
        try:
            if event.code == EVENT_JOB_SUBMITTED:
                job_store.record_start(self.engine, jid, now, **sched)
            elif event.code == EVENT_JOB_EXECUTED:
                results = event.retval if isinstance(event.retval, list) else []
                rejected = sum(1 for r in results if getattr(r, "outcome", "") == "rejected")
                job_store.record_finish(self.engine, jid, now,
                                        files_loaded=len(results) - rejected,
                                        files_rejected=rejected, **sched)
            elif event.code == EVENT_JOB_ERROR:
                exc = event.exception
                tb = event.traceback or ""
                last = tb.strip().splitlines()[-3:] if isinstance(tb, str) else []
                message = f"{type(exc).__name__}: {exc}"
                log.error("job %s failed: %s", jid, message)
                job_store.record_error(self.engine, jid, now,
                                       message + ("\n" + "\n".join(last) if last else ""),
                                       **sched)
            elif event.code == EVENT_JOB_MISSED:
                log.warning("job %s missed its run at %s", jid, event.scheduled_run_time)
                job_store.record_missed(self.engine, jid, **sched)
        except StoreError as e:  # a status row is not worth failing the job for
            log.error("%s", e)


def record_schedule(scheduler, engine: Engine, removed: Iterable[str] = ()) -> None:
    """Record the name and next run time of every ingest job of ``scheduler`` and of its
    ``notify`` job (and that the ``removed`` ones will not run again) in the store's
    ``job_status``."""
    jobs = [(j.id, j.name, getattr(j, "next_run_time", None)) for j in scheduler.get_jobs()
            if j.id.startswith(JOB_PREFIX) or j.id == NOTIFY_JOB]
    try:
        job_store.record_schedule(engine, jobs, removed)
    except StoreError as e:  # the schedule itself stands; the status catches up next run
        log.error("%s", e)


def run_notify_job(config_dir: str) -> dict[str, int]:
    """The scheduled ``notify`` job: enqueue new alert events as notifications, then
    deliver what is due (:mod:`hydro.services.notifications`); the counts of the pass."""
    from hydro.services import notifications
    from hydro.store.db import open_store

    config = load_config(config_dir)
    engine = open_store(config.store_url)
    try:
        enqueued = notifications.enqueue(engine, config)
        report = notifications.deliver(engine, config)
    finally:
        engine.dispose()
    if enqueued or report.claimed or report.recovered:
        log.info("notify: %d enqueued; %s", enqueued, report.summary())
    return {"enqueued": enqueued, "sent": report.sent, "retrying": report.retrying,
            "dead": report.dead, "deferred": report.deferred}


def _sync_notify_job(scheduler, config: Config, config_dir: str) -> list[str]:
    """(Re)schedule the ``notify`` job every ``[delivery] interval`` of notifications.toml
    while a subscriber is enabled, and remove it when none is; the ids removed.

    Without the job nothing is lost: alert events wait in the store and the outbox keeps
    its rows; the first run after a subscriber is enabled enqueues the events younger than
    ``max_event_age`` and sends what is due."""
    from apscheduler.triggers.interval import IntervalTrigger

    from hydro.config.notifications import seconds

    settings = config.notifications
    if not any(s.enabled for s in settings.subscribers):
        if scheduler.get_job(NOTIFY_JOB) is None:
            return []
        scheduler.remove_job(NOTIFY_JOB)
        return [NOTIFY_JOB]
    scheduler.add_job(run_notify_job, trigger=IntervalTrigger(
                          seconds=seconds(settings.delivery.interval)),
                      id=NOTIFY_JOB, name="notify subscribers", args=[config_dir],
                      replace_existing=True)
    return []


def build_scheduler(config: Config, config_dir: str):
    """A BackgroundScheduler whose SQLAlchemy job store lives in the project's database,
    with :class:`JobStatusRecorder` listening to its job events."""
    from apscheduler.events import (
        EVENT_JOB_ERROR,
        EVENT_JOB_EXECUTED,
        EVENT_JOB_MISSED,
        EVENT_JOB_SUBMITTED,
    )
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from hydro.store.db import open_store

    # WAL and busy timeout, as every store engine; the schema (job_status) made or upgraded
    engine = open_store(config.store_url)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    scheduler.add_listener(JobStatusRecorder(engine, scheduler),
                           EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
                           | EVENT_JOB_MISSED)
    return scheduler


def sync_jobs(scheduler, config: Config, config_dir: str, engine: Engine | None = None
              ) -> tuple[list[str], list[str]]:
    """Add/replace one job per scheduled source and remove stale ones; (added, removed)
    of those.  The ``notify`` job is scheduled too while a subscriber of
    notifications.toml is enabled (:func:`_sync_notify_job`).

    The next run of every job (and that removed ones will not run again) is recorded in the
    store's ``job_status`` (``engine``, default: the store of ``config``) when the
    scheduler has been started (a scheduler not started yet has no run times)."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    wanted = {}
    for src in config.sources.sources:
        if src.schedule is None:
            continue
        if src.schedule.cron:
            trigger = CronTrigger.from_crontab(src.schedule.cron, timezone="UTC")
        elif src.schedule.interval is not None:
            trigger = IntervalTrigger(seconds=src.schedule.interval.to("duration")
                                      / factor("s", "duration"))
        else:  # pragma: no cover - Schedule requires one of the two
            continue
        wanted[job_id(src)] = (src, trigger)
    existing = {j.id for j in scheduler.get_jobs() if j.id.startswith(JOB_PREFIX)}
    removed = sorted(existing - set(wanted))
    for jid in removed:
        scheduler.remove_job(jid)
    for jid, (src, trigger) in wanted.items():
        scheduler.add_job(run_ingest_job, trigger=trigger, id=jid, name=f"ingest {src.id}",
                          args=[config_dir, src.id], replace_existing=True)
    gone = removed + _sync_notify_job(scheduler, config, config_dir)
    if scheduler.running:
        _record_with(engine, config, lambda e: record_schedule(scheduler, e, gone))
    return sorted(set(wanted) - existing), removed


def _record_with(engine: Engine | None, config: Config, write) -> None:
    """``write(engine)``, with the store of ``config`` opened for it when ``engine`` is None."""
    if engine is not None:
        write(engine)
        return
    from hydro.store.db import open_store

    try:
        own = open_store(config.store_url)
    except StoreError as e:
        log.error("cannot record the job schedule: %s", e)
        return
    try:
        write(own)
    finally:
        own.dispose()


def job_status(scheduler) -> list[dict]:
    """Id, name and next run of every job of a running scheduler (see also
    :func:`hydro.store.api.job_status`, which reads the recorded status from the store)."""
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

