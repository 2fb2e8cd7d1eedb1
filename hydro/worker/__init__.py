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
* **Complete files only.**  A file is taken once it has not changed for ``[ingest]
  settle`` (config/settings.toml): its modification time is at least that old and its
  size and time are the same at the start of the poll and when it is claimed.  Names
  ending in ``.part``, ``.partial``, ``.tmp`` or ``.filepart``, or starting with ``.`` or
  ``~``, are never taken: an uploader writes ``NAME.part`` (or ``.NAME``) and renames it
  to ``NAME`` when done -- the reliable convention (README "Loading real data").
* **One file never blocks the others.**  A name too long for a claim is shortened; a file
  that cannot be kept in quarantine (unwritable folder) is recorded as rejected with that
  reason and moved aside into ``<inbox>/.rejected/``; the rest of the inbox flows.
* **The scheduler survives the store.**  The job store's reads and writes that APScheduler
  does not guard (next run time, job update) are retried on the next wake-up instead of
  killing the scheduler thread; a status row the store refuses is kept and written when
  the store answers again; and :func:`run_worker` restarts a scheduler whose thread died,
  recording it against every job.
* **Bounded stop.**  SIGTERM/SIGINT stop the scheduler without waiting on the job-status
  listener (which used to deadlock with ``shutdown(wait=True)``); a running job finishes
  the file it is in (its transaction commits or rolls back whole) and takes no further
  file; after :data:`STOP_TIMEOUT_S` the process leaves anyway (an unfinished transaction
  is rolled back by the database; the claimed file goes back to the inbox on the next
  start).
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
#: pause before the scheduler asks a failing job store again, seconds
JOBSTORE_RETRY_S = 10.0
#: how long a stopping worker waits for a running job to finish its current file, seconds
STOP_TIMEOUT_S = 60.0
#: names an uploader gives a file it is still writing: never taken
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".filepart", ".crdownload")
#: set when the worker is stopping: a running poll takes no further file
STOPPING = threading.Event()
_running_lock = threading.Lock()
_running: set[int] = set()     # thread ids of ingest jobs running now

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


def _settle_seconds(config: Config) -> float:
    return config.settings.ingest.settle.to("duration") / factor("s", "duration")


def _partial(name: str) -> bool:
    """A name an uploader uses while it writes (never taken)."""
    return name.startswith((".", "~")) or name.lower().endswith(PARTIAL_SUFFIXES)


def waiting_files(inbox: Path, pattern: str, settle: float
                  ) -> tuple[list[tuple[Path, tuple[int, int]]], list[Path]]:
    """(files ready to take with their (size, mtime_ns), files still being written) of an
    inbox.  A file is ready once its size and modification time have not changed for
    ``settle`` seconds: a file changed more recently is looked at again after the rest of
    that interval (one wait per poll, at most ``settle``) and taken if it has not changed
    meanwhile.  Names an uploader uses while writing are never taken."""

    def seen() -> dict[Path, tuple[int, int, float]]:
        out = {}
        for p in sorted(inbox.glob(pattern)):
            if _partial(p.name):
                continue
            try:
                st = p.stat()
            except OSError:
                continue       # gone (taken by another worker, renamed by its uploader)
            if p.is_file():
                out[p] = (st.st_size, st.st_mtime_ns, st.st_mtime)
        return out

    first = again = seen()
    now = time.time()
    young = {p: sig for p, sig in first.items() if now - sig[2] < settle}
    if young:
        wait = max(settle - (now - sig[2]) for sig in young.values())
        if STOPPING.wait(min(max(wait, 0.0), settle)):
            return [], list(young)
        again = seen()
    ready, busy = [], []
    for p, (size, mtime_ns, _) in first.items():
        if p in young and again.get(p, (None, None, None))[:2] != (size, mtime_ns):
            busy.append(p)
            continue
        ready.append((p, (size, mtime_ns)))
    return ready, busy


def _claim_name(prefix: str, name: str) -> str:
    """The claim's file name: ``<host>_<pid>_<name>``, the name shortened when too long."""
    from hydro.services.ingest import short_name

    return prefix + short_name(name, 240 - len(prefix.encode("utf-8")))


def _set_aside(claimed: Path, inbox: Path, name: str, reason: str) -> None:
    """A rejected file quarantine could not take: into ``<inbox>/.rejected/`` with its
    reason (left in its claim if even that fails; a later start returns it)."""
    from hydro.services.ingest import short_name

    aside = inbox / ".rejected"
    try:
        aside.mkdir(exist_ok=True)
        target = aside / short_name(name, 229)
        os.rename(claimed, target)
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n",
                                                                 encoding="utf-8")
    except OSError as e:
        log.error("%s: cannot set the rejected file aside: %s", name, e)


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
    settle = _settle_seconds(config)
    ready, busy = waiting_files(inbox, source.pattern, settle)
    for p in busy:
        log.info("%s: still being written (changed less than %.0f s ago), taken later",
                 p.name, settle)
    if not ready:
        return []
    engine = open_store(config.store_url, config.network)
    results: list[IngestResult] = []
    prefix = f"{socket.gethostname()}_{os.getpid()}_"
    try:
        for path, seen in ready:
            if STOPPING.is_set():
                log.info("stopping: %d files left in the inbox of %s for the next start",
                         len(ready) - len(results), source_id)
                break
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if (st.st_size, st.st_mtime_ns) != seen:
                log.info("%s: changed while waiting, taken later", path.name)
                continue
            claimed = claim_dir / _claim_name(prefix, path.name)
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
                if claimed.exists():      # quarantine could not take it
                    _set_aside(claimed, inbox, path.name, result.message)
            else:
                archive.mkdir(parents=True, exist_ok=True)
                shutil.move(str(claimed), archive / path.name)
                log.info("%s: %s, %d rows written", path.name, result.outcome,
                         result.rows_written)
            results.append(result)
        if any(r.outcome == "loaded" for r in results) and not STOPPING.is_set():
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
    """After an ingest: reissue the short-range forecasts of the basins that received data
    since the last refresh (:func:`hydro.services.forecasts.refresh`, stored with their
    issue time).  A failure is logged and does not fail the ingest — the next ingest
    refreshes them."""
    from hydro.services.forecasts import refresh

    try:
        report = refresh(engine, config)
    except Exception as e:  # noqa: BLE001 - the ingest stands; the next refresh catches up
        log.error("forecast refresh after the ingest failed: %s: %s", type(e).__name__, e)
        return
    if report is not None:
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
    """The scheduled job: :func:`poll_inbox`, retried on a failure of the store with a
    growing pause (at most ``[ingest] max_backoff``); the last failure is raised, so the
    scheduler's listener records it (``hydrorisk jobs`` shows ``error``)."""
    me = threading.get_ident()
    with _running_lock:
        _running.add(me)
    try:
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return poll_inbox(config_dir, source_id)
            except RETRYABLE as e:
                if attempt == RETRY_ATTEMPTS or STOPPING.is_set():
                    log.error("ingest %s failed %d times, giving up until the next run: %s",
                              source_id, attempt, e)
                    raise
                pause = min(RETRY_BACKOFF_S * 2 ** (attempt - 1), _max_backoff(config_dir))
                log.warning("ingest %s failed (attempt %d of %d), retrying in %.1f s: %s",
                            source_id, attempt, RETRY_ATTEMPTS, pause, e)
                if STOPPING.wait(pause):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        with _running_lock:
            _running.discard(me)


def _max_backoff(config_dir: str) -> float:
    try:
        config = load_config(config_dir)
    except Exception:  # noqa: BLE001 - the default then
        return 300.0
    return config.settings.ingest.max_backoff.to("duration") / factor("s", "duration")


def running_jobs() -> int:
    """How many ingest jobs are running now (in this process)."""
    with _running_lock:
        return len(_running)


# --------------------------------------------------------------------------- job status

class JobStatusRecorder:
    """APScheduler listener that keeps the store's ``job_status`` up to date (one row per
    job, through :mod:`hydro.store.jobs`): the outcome of each run, and the job's name and
    next run time as the scheduler knows them."""

    def __init__(self, engine: Engine, scheduler=None) -> None:
        self.engine = engine
        self.scheduler = scheduler
        #: set when the scheduler is shutting down: the scheduler is then not asked for the
        #: next run (its lock is held by shutdown, which waits for the running job, whose
        #: end calls this listener: the deadlock of shutdown(wait=True))
        self.stopping = False
        #: status writes the store refused (locked, restarting), written when it answers
        self._pending: list[tuple[str, tuple, dict]] = []
        self._lock = threading.Lock()

    def _write(self, what: str, *args, **kw) -> None:
        getattr(job_store, what)(self.engine, *args, **kw)

    def flush(self) -> bool:
        """Write the status rows the store refused before, oldest first; whether none is
        left."""
        with self._lock:
            while self._pending:
                what, args, kw = self._pending[0]
                try:
                    self._write(what, *args, **kw)
                except StoreError:
                    return False
                self._pending.pop(0)
        return True

    def record(self, what: str, *args, **kw) -> None:
        """``hydro.store.jobs.<what>(engine, *args, **kw)``, kept for later when the store
        refuses it (a failure is never lost because the store was down when it happened)."""
        if not self.flush():
            with self._lock:
                self._pending.append((what, args, kw))
            return
        try:
            self._write(what, *args, **kw)
        except StoreError as e:
            log.error("%s (kept; written when the store answers)", e)
            with self._lock:
                self._pending.append((what, args, kw))

    def _schedule(self, jid: str) -> dict:
        """``name`` and ``next_run`` of the job for the store (nothing when unknown)."""
        if self.scheduler is None or self.stopping:
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
        if event.code == EVENT_JOB_SUBMITTED:
            self.record("record_start", jid, now, **sched)
        elif event.code == EVENT_JOB_EXECUTED:
            results = event.retval if isinstance(event.retval, list) else []
            rejected = sum(1 for r in results if getattr(r, "outcome", "") == "rejected")
            self.record("record_finish", jid, now, files_loaded=len(results) - rejected,
                        files_rejected=rejected, **sched)
        elif event.code == EVENT_JOB_ERROR:
            exc = event.exception
            tb = event.traceback or ""
            last = tb.strip().splitlines()[-3:] if isinstance(tb, str) else []
            message = f"{type(exc).__name__}: {exc}"
            log.error("job %s failed: %s", jid, message)
            self.record("record_error", jid, now,
                        message + ("\n" + "\n".join(last) if last else ""), **sched)
        elif event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run at %s", jid, event.scheduled_run_time)
            self.record("record_missed", jid, **sched)


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

    class ResilientJobStore(SQLAlchemyJobStore):
        """APScheduler guards ``get_due_jobs`` against a failing store but not the calls
        after it: a locked or restarting database there used to kill the scheduler thread
        silently.  Here they are logged and retried at the next wake-up (a job whose next
        run could not be saved runs again then: polling an inbox twice is harmless)."""

        def update_job(self, job):
            try:
                super().update_job(job)
            except OperationalError as e:
                log.error("the job store could not save the next run of %s (retried): %s",
                          job.id, getattr(e, "orig", e))

        def get_next_run_time(self):
            try:
                return super().get_next_run_time()
            except OperationalError as e:
                log.error("the job store cannot be read (retried in %.0f s): %s",
                          scheduler.jobstore_retry_interval, getattr(e, "orig", e))
                return dt.datetime.now(dt.UTC) + dt.timedelta(
                    seconds=scheduler.jobstore_retry_interval)

    scheduler = BackgroundScheduler(
        jobstores={"default": ResilientJobStore(engine=engine, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC", jobstore_retry_interval=JOBSTORE_RETRY_S,
    )
    recorder = JobStatusRecorder(engine, scheduler)
    scheduler.add_listener(recorder, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED
                           | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    scheduler.hydrorisk_recorder = recorder
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


def _scheduler_alive(scheduler) -> bool:
    thread = getattr(scheduler, "_thread", None)
    return thread is None or thread.is_alive()


def _stop_scheduler(scheduler) -> None:
    """Shut ``scheduler`` down without waiting on its jobs (they see :data:`STOPPING`)."""
    recorder = getattr(scheduler, "hydrorisk_recorder", None)
    if recorder is not None:
        recorder.stopping = True
    try:
        scheduler.shutdown(wait=False)
    except Exception as e:  # noqa: BLE001 - stopping anyway (not running, store gone)
        log.error("scheduler shutdown: %s: %s", type(e).__name__, e)


def _start_scheduler(config_dir: str):
    config = load_config(config_dir)
    scheduler = build_scheduler(config, config_dir)
    scheduler.start(paused=True)
    sync_jobs(scheduler, config, config_dir)
    scheduler.resume()
    return scheduler


def run_worker(config_dir: str, stop: threading.Event | None = None,
               stop_timeout: float | None = None) -> bool:
    """Run the scheduler until SIGINT/SIGTERM (or ``stop`` is set); reload config on SIGHUP.

    A scheduler whose thread died (or that cannot be started while the store is down) is
    started again, with a growing pause, and its failure recorded against every job.  On
    stop, a running job finishes its current file and takes no further one; the worker
    waits for it at most ``stop_timeout`` seconds (:data:`STOP_TIMEOUT_S`).  Returns
    whether every job had ended (False: the caller should leave at once)."""
    STOPPING.clear()
    stop = stop or threading.Event()
    timeout = STOP_TIMEOUT_S if stop_timeout is None else stop_timeout
    scheduler = None
    pause = 1.0

    def _stop(*_):
        stop.set()
        STOPPING.set()

    def _reload(*_):
        if scheduler is None:
            return
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
        while not stop.is_set():
            if scheduler is None or not _scheduler_alive(scheduler):
                if scheduler is not None:
                    log.error("the scheduler thread stopped; starting it again")
                    _record_scheduler_failure(scheduler, "the scheduler thread stopped "
                                              "(store failure?); restarted")
                    _stop_scheduler(scheduler)
                    scheduler = None
                try:
                    scheduler = _start_scheduler(config_dir)
                    pause = 1.0
                    log.info("worker started: %d jobs (%s)", len(scheduler.get_jobs()),
                             ", ".join(j.id for j in scheduler.get_jobs()))
                except Exception as e:  # noqa: BLE001 - the store may come back
                    log.error("cannot start the scheduler (retrying in %.0f s): %s: %s",
                              pause, type(e).__name__, e)
                    if stop.wait(pause):
                        break
                    pause = min(pause * 2, _max_backoff(config_dir))
                    continue
            recorder = getattr(scheduler, "hydrorisk_recorder", None)
            if recorder is not None:
                recorder.flush()
            stop.wait(1.0)
    finally:
        STOPPING.set()
        if scheduler is not None:
            _stop_scheduler(scheduler)
        end = time.monotonic() + timeout
        while running_jobs() and time.monotonic() < end:
            time.sleep(0.1)
        clean = running_jobs() == 0
        if scheduler is not None:
            recorder = getattr(scheduler, "hydrorisk_recorder", None)
            if recorder is not None and not recorder.flush():
                log.error("job status not recorded: the store does not answer")
        if clean:
            STOPPING.clear()
            log.info("worker stopped")
        else:
            log.error("worker stopped with a job still running after %.0f s (its "
                      "transaction is rolled back, its file returns to the inbox at the "
                      "next start)", timeout)
    return clean


def _record_scheduler_failure(scheduler, message: str) -> None:
    recorder = getattr(scheduler, "hydrorisk_recorder", None)
    if recorder is None:
        return
    try:
        jobs = [j.id for j in scheduler.get_jobs()]
    except Exception:  # noqa: BLE001 - the job store is what failed
        jobs = []
    for jid in jobs:
        recorder.record("record_error", jid, _utcnow(), message)
