"""The status of the worker's scheduled jobs (table ``job_status``): written by the worker's
scheduler listeners (:mod:`hydro.worker`), read by ``hydrorisk jobs`` and the dashboard.

One row per job: last run, its outcome, the last error, counters and the next run time.
The next run time is recorded by the worker whenever it (re)schedules jobs or a job runs,
so readers never look into APScheduler's own table (``apscheduler_jobs``), whose layout
is APScheduler's private business.

Every function takes an :class:`sqlalchemy.Engine` and runs in its own short transaction.
A failure of the store is raised as :class:`hydro.errors.StoreError` (the worker logs it
and carries on: a status row is never worth stopping a job for).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Final, cast

import pandas as pd
from sqlalchemy import Engine, Table, inspect, insert, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hydro.errors import StoreError
from hydro.store.models import JobStatus


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


#: pass as ``next_run`` to leave the recorded next run time as it is
KEEP: Final = _Keep()

#: the columns of :func:`job_status`, in order (``next_run``: the recorded next run time)
JOB_STATUS_COLUMNS = ["job_id", "name", "last_started_at", "last_finished_at", "last_outcome",
                      "last_success_at", "last_error_at", "last_error", "consecutive_failures",
                      "runs", "failures", "last_files_loaded", "last_files_rejected",
                      "next_run"]

_COUNTERS = ("consecutive_failures", "runs", "failures")
_TABLE = cast(Table, JobStatus.__table__)


def _naive_utc(t: dt.datetime | None) -> dt.datetime | None:
    """A time as naive UTC (how the store keeps times); aware times are converted."""
    if t is None or t.tzinfo is None:
        return t
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def _upsert(engine: Engine, job_id: str, values: Mapping[str, object],
            counters: Mapping[str, int] | None = None, reset: tuple[str, ...] = ()) -> None:
    """Insert or update the row of ``job_id``: set ``values``, add ``counters``, zero
    ``reset``.  Two workers inserting a job's first row at once: the loser updates it."""
    t = _TABLE
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                row = conn.execute(select(t).where(t.c.job_id == job_id)).mappings().first()
                if row is None:
                    vals: dict[str, object] = {"job_id": job_id, **{c: 0 for c in _COUNTERS},
                                               **values}
                    for k, n in (counters or {}).items():
                        vals[k] = n
                    conn.execute(insert(t).values(**vals))
                else:
                    vals = dict(values)
                    for k, n in (counters or {}).items():
                        vals[k] = (row[k] or 0) + n
                    for k in reset:
                        vals[k] = 0
                    if vals:
                        conn.execute(update(t).where(t.c.job_id == job_id).values(**vals))
            return
        except IntegrityError as e:
            if attempt == 2:
                raise StoreError(f"cannot record the status of job {job_id}: {e.orig}") from None
            continue  # the first row was inserted by another worker: update it instead
        except SQLAlchemyError as e:
            raise StoreError(f"cannot record the status of job {job_id}: "
                             f"{getattr(e, 'orig', None) or e}") from None


def _common(name: str | None, next_run: dt.datetime | None | _Keep) -> dict[str, object]:
    vals: dict[str, object] = {}
    if name is not None:
        vals["name"] = name
    if not isinstance(next_run, _Keep):
        vals["next_run_at"] = _naive_utc(next_run)
    return vals


def record_start(engine: Engine, job_id: str, at: dt.datetime, *, name: str | None = None,
                 next_run: dt.datetime | None | _Keep = KEEP) -> None:
    """A run of ``job_id`` was submitted at ``at``: outcome ``running``.

    ``name`` (None: keep) and ``next_run`` (:data:`KEEP`: keep; None: not scheduled) as
    the scheduler knows them; times naive UTC or aware."""
    _upsert(engine, job_id, {"last_started_at": _naive_utc(at), "last_outcome": "running",
                             **_common(name, next_run)})


def record_finish(engine: Engine, job_id: str, at: dt.datetime, *, files_loaded: int,
                  files_rejected: int, name: str | None = None,
                  next_run: dt.datetime | None | _Keep = KEEP) -> None:
    """A run of ``job_id`` succeeded at ``at``: outcome ``ok``, one more run, the
    consecutive failures back to 0 (the last error stays readable)."""
    when = _naive_utc(at)
    _upsert(engine, job_id, {"last_finished_at": when, "last_outcome": "ok",
                             "last_success_at": when, "last_files_loaded": files_loaded,
                             "last_files_rejected": files_rejected, **_common(name, next_run)},
            counters={"runs": 1}, reset=("consecutive_failures",))


def record_error(engine: Engine, job_id: str, at: dt.datetime, error: str, *,
                 name: str | None = None, next_run: dt.datetime | None | _Keep = KEEP) -> None:
    """A run of ``job_id`` failed at ``at`` with ``error``: outcome ``error``, one more
    run, failure and consecutive failure."""
    when = _naive_utc(at)
    _upsert(engine, job_id, {"last_finished_at": when, "last_outcome": "error",
                             "last_error_at": when, "last_error": error,
                             **_common(name, next_run)},
            counters={"runs": 1, "failures": 1, "consecutive_failures": 1})


def record_missed(engine: Engine, job_id: str, *, name: str | None = None,
                  next_run: dt.datetime | None | _Keep = KEEP) -> None:
    """A scheduled run of ``job_id`` was missed (the worker was down past its grace time)."""
    _upsert(engine, job_id, {"last_outcome": "missed", **_common(name, next_run)})


def record_schedule(engine: Engine,
                    jobs: Iterable[tuple[str, str | None, dt.datetime | None]],
                    removed: Iterable[str] = ()) -> None:
    """The worker (re)scheduled its jobs: record each ``(job_id, name, next_run)`` (a job
    that never ran gets a row with just these), and that each of ``removed`` will not run
    again (its next run becomes NULL; its history stays)."""
    for jid, name, next_run in jobs:
        _upsert(engine, jid, _common(name, next_run))
    gone = list(removed)
    if gone:
        t = _TABLE
        try:
            with engine.begin() as conn:
                conn.execute(update(t).where(t.c.job_id.in_(gone)).values(next_run_at=None))
        except SQLAlchemyError as e:
            raise StoreError(f"cannot record the removal of jobs {', '.join(gone)}: "
                             f"{getattr(e, 'orig', None) or e}") from None


def job_status(engine: Engine) -> pd.DataFrame:
    """One row per job, columns :data:`JOB_STATUS_COLUMNS` (times naive UTC), by job id."""
    t = _TABLE
    cols = [t.c[c] for c in JOB_STATUS_COLUMNS[:-1]] + [t.c.next_run_at.label("next_run")]
    with engine.connect() as conn:
        out = pd.read_sql(select(*cols).order_by(t.c.job_id), conn)
    for col in ("last_started_at", "last_finished_at", "last_success_at", "last_error_at",
                "next_run"):
        out[col] = pd.to_datetime(out[col])
    for col in _COUNTERS:
        out[col] = out[col].fillna(0).astype(int)
    return out[JOB_STATUS_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- upgrade

def upgrade_job_status(engine: Engine) -> None:
    """Schema 2 -> 3, ``job_status``: a table created by the worker before schema 3 (its
    own declaration: the same columns without ``next_run_at``) gains the column, keeping
    every row; a store without the table gets it.  Idempotent."""
    insp = inspect(engine)
    if not insp.has_table(JobStatus.__tablename__):
        _TABLE.create(engine, checkfirst=True)
        return
    have = {c["name"] for c in insp.get_columns(JobStatus.__tablename__)}
    if "next_run_at" in have:
        return
    kind = _TABLE.c.next_run_at.type.compile(dialect=engine.dialect)
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {JobStatus.__tablename__} ADD COLUMN next_run_at {kind}"))
