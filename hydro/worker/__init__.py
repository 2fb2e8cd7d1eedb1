"""The ingest scheduler: APScheduler 3.x in its own process (``hydrorisk worker``).

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
  outcome, the last error and the number of consecutive failures in the ``job_status``
  table; :func:`hydro.store.api.job_status` reads it with the next run time from the
  APScheduler job store, for the dashboard.
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
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from hydro.config import Config, Source, load_config
from hydro.errors import StoreError
from hydro.services.ingest import IngestResult, ingest_file
from hydro.units import factor

log = logging.getLogger("hydrorisk.worker")
JOB_PREFIX = "ingest:"
#: attempts of one scheduled run before it is recorded as failed
RETRY_ATTEMPTS = 3
#: pause before the second attempt (doubled before each further one), seconds
RETRY_BACKOFF_S = 5.0
#: failures worth retrying: the store or the file system, not the content
RETRYABLE = (OperationalError, StoreError, OSError)

_CLAIM = re.compile(r"^(?P<host>[A-Za-z0-9.-]+)_(?P<pid>\d+)_(?P<name>.+)$")

#: one row per scheduled job, written by the scheduler's event listeners
job_status_table = Table(
    "job_status", MetaData(),
    Column("job_id", String(191), primary_key=True),
    Column("name", String(200)),
    Column("last_started_at", DateTime),       # UTC, when the last run was submitted
    Column("last_finished_at", DateTime),
    Column("last_outcome", String(16)),        # running | ok | error | missed
    Column("last_success_at", DateTime),
    Column("last_error_at", DateTime),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("runs", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_files_loaded", Integer),
    Column("last_files_rejected", Integer),
)


def job_id(source: Source) -> str:
    return f"{JOB_PREFIX}{source.id}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_claims(inbox: Path) -> list[Path]:
    """Return files claimed by workers that died (on this host) to the inbox."""
    claim_dir = inbox / ".processing"
    if not claim_dir.is_dir():
        return []
    host = socket.gethostname()
    back = []
    for p in sorted(claim_dir.iterdir()):
        m = _CLAIM.match(p.name)
        if not p.is_file() or m is None or m["host"] != host or _pid_alive(int(m["pid"])):
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
    finally:
        engine.dispose()
    return results


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
    """APScheduler listener that keeps ``job_status`` up to date (one row per job)."""

    def __init__(self, engine: Engine, scheduler=None) -> None:
        self.engine = engine
        self.scheduler = scheduler
        job_status_table.create(engine, checkfirst=True)

    def _name(self, jid: str) -> str | None:
        if self.scheduler is None:
            return None
        try:
            job = self.scheduler.get_job(jid)
        except Exception:  # the job store may be busy; the name is cosmetic
            return None
        return job.name if job is not None else None

    def _upsert(self, jid: str, values: dict, counters: dict[str, int] | None = None,
                reset: tuple[str, ...] = ()) -> None:
        t = job_status_table
        for _ in range(3):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(select(t).where(t.c.job_id == jid)).mappings().first()
                    if row is None:
                        vals = {"job_id": jid, "consecutive_failures": 0, "runs": 0,
                                "failures": 0, **values}
                        for k, n in (counters or {}).items():
                            vals[k] = n
                        conn.execute(insert(t).values(**vals))
                    else:
                        vals = dict(values)
                        for k, n in (counters or {}).items():
                            vals[k] = (row[k] or 0) + n
                        for k in reset:
                            vals[k] = 0
                        conn.execute(update(t).where(t.c.job_id == jid).values(**vals))
                return
            except IntegrityError:
                continue  # two workers inserted the first row at once: update it instead
            except SQLAlchemyError as e:
                log.error("cannot record the status of job %s: %s", jid, e)
                return

    def __call__(self, event) -> None:
        from apscheduler.events import (
            EVENT_JOB_ERROR,
            EVENT_JOB_EXECUTED,
            EVENT_JOB_MISSED,
            EVENT_JOB_SUBMITTED,
        )

        jid = event.job_id
        now = _utcnow()
        name = {"name": n} if (n := self._name(jid)) else {}
        if event.code == EVENT_JOB_SUBMITTED:
            self._upsert(jid, {"last_started_at": now, "last_outcome": "running", **name})
        elif event.code == EVENT_JOB_EXECUTED:
            results = event.retval if isinstance(event.retval, list) else []
            loaded = sum(1 for r in results if getattr(r, "outcome", "") != "rejected")
            rejected = sum(1 for r in results if getattr(r, "outcome", "") == "rejected")
            self._upsert(jid, {"last_finished_at": now, "last_outcome": "ok",
                               "last_success_at": now, "last_files_loaded": loaded,
                               "last_files_rejected": rejected, **name},
                         counters={"runs": 1}, reset=("consecutive_failures",))
        elif event.code == EVENT_JOB_ERROR:
            exc = event.exception
            tb = event.traceback or ""
            last = tb.strip().splitlines()[-3:] if isinstance(tb, str) else []
            message = f"{type(exc).__name__}: {exc}"
            log.error("job %s failed: %s", jid, message)
            self._upsert(jid, {"last_finished_at": now, "last_outcome": "error",
                               "last_error_at": now,
                               "last_error": message + ("\n" + "\n".join(last) if last else ""),
                               **name},
                         counters={"runs": 1, "failures": 1, "consecutive_failures": 1})
        elif event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run at %s", jid, event.scheduled_run_time)
            self._upsert(jid, {"last_outcome": "missed", **name})


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

    from hydro.store.db import make_engine

    engine = make_engine(config.store_url)  # WAL and busy timeout, as every store engine
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    scheduler.add_listener(JobStatusRecorder(engine, scheduler),
                           EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
                           | EVENT_JOB_MISSED)
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
    return sorted(set(wanted) - existing), removed


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


def default_config_dir(config: Config) -> str:
    return str(Path(config.root).resolve())
