"""The statements of the ingest (:mod:`hydro.services.ingest`): read the current values a
file meets, write its observations and quality samples, serialise ingests, and record each
run in ``ingest_runs``.

Every function takes the caller's :class:`sqlalchemy.Connection` and runs inside the
caller's transaction: the ingest applies a file whole or not at all, so it opens the
transaction (``engine.begin()``) and passes the connection through; nothing here commits.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, and_, func, insert, select, text, update

from hydro.store import segments
from hydro.store.models import IngestRun, QualitySample

#: PostgreSQL advisory-lock key that serialises ingests ("HYDR")
PG_INGEST_LOCK = 0x48594452

#: columns of :func:`fetch_current`
STATE_COLUMNS = ["station_id", "variable", "time", "party", "source", "value", "unit",
                 "qc_flags", "phenomena", "revision"]


# --------------------------------------------------------------------------- observations

def fetch_current(conn: Connection, stations: list[str], variables: list[str],
                  t0: dt.datetime, t1: dt.datetime) -> pd.DataFrame:
    """Current revision of every stored value of ``stations`` x ``variables`` in [t0, t1]
    (columns :data:`STATE_COLUMNS`; string columns categorical)."""
    if not stations or not variables:
        return pd.DataFrame(columns=STATE_COLUMNS)
    df = segments.read(conn, stations=stations, variables=variables, start=t0, end=t1,
                       categorical=True)
    return df[STATE_COLUMNS]


def insert_observations(conn: Connection, rows: pd.DataFrame, received_at: dt.datetime,
                        run_id: int) -> None:
    """Store planned rows (columns of :data:`STATE_COLUMNS` + ``flags``): one segment per
    series (:mod:`hydro.store.segments`)."""
    segments.write(conn, rows, received_at, run_id)


# --------------------------------------------------------------------------- quality samples

def current_quality(conn: Connection, site: str, party: str, source: str, tmin: dt.datetime,
                    tmax: dt.datetime) -> pd.DataFrame:
    """The current revision of each (time, parameter) of one site, party and source in
    [tmin, tmax]: columns time, parameter, value, censored, revision."""
    q_ = QualitySample
    cur = (select(q_.time, q_.parameter, func.max(q_.revision).label("revision"))
           .where(q_.site_id == site, q_.party == party, q_.source == source,
                  q_.time >= tmin, q_.time <= tmax)
           .group_by(q_.time, q_.parameter).subquery())
    q = (select(q_.time, q_.parameter, q_.value, q_.censored, q_.revision)
         .join(cur, and_(q_.time == cur.c.time, q_.parameter == cur.c.parameter,
                         q_.revision == cur.c.revision))
         .where(q_.site_id == site, q_.party == party, q_.source == source))
    return pd.DataFrame(conn.execute(q).all(),
                        columns=["time", "parameter", "value", "censored", "revision"])


def insert_quality(conn: Connection, records: list[dict]) -> None:
    """Insert quality-sample revisions (dicts of :class:`~hydro.store.models.QualitySample`
    columns)."""
    conn.execute(insert(QualitySample), records)


# --------------------------------------------------------------------------- ingest runs

def lock_for_ingest(conn: Connection) -> None:
    """Serialise ingests: SQLite takes its write lock at the first write (the run row);
    PostgreSQL takes a transaction-scoped advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_INGEST_LOCK})


def count_loaded(conn: Connection, content_hash: str, source: str) -> int:
    """How many runs loaded (or found unchanged) a file of this content from ``source``."""
    return conn.execute(
        select(func.count()).select_from(IngestRun).where(
            IngestRun.content_hash == content_hash,
            IngestRun.outcome.in_(["loaded", "unchanged"]),
            IngestRun.source == source)).scalar_one()


def start_run(conn: Connection, *, path: str, source: str | None, format: str | None,
              content_hash: str, started_at: dt.datetime, rows_read: int) -> int:
    """Record a run that has started (outcome ``running``); its id."""
    run_id = conn.execute(insert(IngestRun).values(
        path=path, source=source, format=format, content_hash=content_hash,
        started_at=started_at, outcome="running", rows_read=rows_read)
    ).inserted_primary_key
    return int(run_id[0])  # type: ignore[index]


def finish_run(conn: Connection, run_id: int, *, finished_at: dt.datetime, outcome: str,
               rows_written: int, flags_raised: int, message: str | None = None,
               rows_read: int | None = None) -> None:
    """Record how a run ended (``rows_read`` only when given)."""
    values = dict(finished_at=finished_at, outcome=outcome, rows_written=rows_written,
                  flags_raised=flags_raised, message=message)
    if rows_read is not None:
        values["rows_read"] = rows_read
    conn.execute(update(IngestRun).where(IngestRun.id == run_id).values(**values))


def record_rejected(conn: Connection, *, path: str, source: str | None, content_hash: str,
                    started_at: dt.datetime, finished_at: dt.datetime, message: str,
                    quarantined_to: str | None) -> int:
    """Record a refused file (outcome ``rejected``, nothing written); the run's id."""
    return conn.execute(insert(IngestRun).values(
        path=path, source=source, format=None, content_hash=content_hash,
        started_at=started_at, finished_at=finished_at, outcome="rejected", rows_read=0,
        rows_written=0, flags_raised=0, message=message,
        quarantined_to=quarantined_to)).inserted_primary_key[0]  # type: ignore[index]
