"""Read API over the store, used by the dashboard's data provider and by users' notebooks.

Every function takes an :class:`sqlalchemy.Engine` and returns pandas objects with times as
naive UTC timestamps.  "Current" values are the highest revision of each (station,
variable, time, party, source); ``as_of`` restricts to what had been received by then.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

from hydro.store import jobs, segments
from hydro.store.jobs import JOB_STATUS_COLUMNS  # noqa: F401
from hydro.store.models import (
    ForecastRun,
    IngestRun,
    ObservationSegment,
    QualitySample,
    Station,
)


def stations(engine: Engine) -> pd.DataFrame:
    """All stations (gauges, reservoirs, nodes) with names in kk/ru/en and coordinates."""
    with engine.connect() as conn:
        return pd.read_sql(select(Station).order_by(Station.basin, Station.id), conn)


def series(engine: Engine, station_id: str, variable: str, start: dt.datetime | None = None,
           end: dt.datetime | None = None, party: str | None = None,
           as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Observations of one station and variable: time, value, unit, party, source, qc_flags,
    phenomena, revision, received_at — current revisions only (or as known at ``as_of``)."""
    with engine.connect() as conn:
        df = segments.read(conn, stations=[station_id], variables=[variable],
                           parties=None if party is None else [party], start=start, end=end,
                           as_of=as_of)
    df = df.sort_values(["time", "party"], kind="stable").reset_index(drop=True)
    return df[["time", "value", "unit", "party", "source", "qc_flags", "phenomena",
               "revision", "received_at"]]


def latest(engine: Engine, variables: tuple[str, ...] = ("stage", "discharge", "level", "volume"),
           at: dt.datetime | None = None) -> pd.DataFrame:
    """The latest current value per (station, variable, party) at or before ``at``.

    Columns: station_id, variable, party, time, value, unit, qc_flags, phenomena, source,
    revision.  Where two sources of a party report the same latest time, the higher
    revision (then the later source name) wins.
    """
    columns = ["station_id", "variable", "party", "time", "value", "unit", "qc_flags",
               "phenomena", "source", "revision"]
    with engine.connect() as conn:
        df = segments.latest(conn, list(variables), at)
    if df.empty:
        return pd.DataFrame(columns=columns)
    newest = df.groupby(["station_id", "variable", "party"])["time"].transform("max")
    df = df[df["time"] == newest].sort_values(["station_id", "variable", "party", "revision",
                                               "source"])
    return (df.drop_duplicates(["station_id", "variable", "party"], keep="last")[columns]
            .reset_index(drop=True))


def previous_values(engine: Engine, keys: list[tuple[str, str, dt.datetime]], variable: str,
                    max_gap: dt.timedelta) -> pd.DataFrame:
    """For each (station, party, time), the last current value of ``variable`` before that
    time and no more than ``max_gap`` earlier — all keys in one read (e.g. for the 24 h
    change of every gauge on a page).

    Columns: station_id, party, time, value, unit (one row per key that has one).
    """
    columns = ["station_id", "party", "time", "value", "unit"]
    if not keys:
        return pd.DataFrame(columns=columns)
    t_lo = min(t for _, _, t in keys) - max_gap
    t_hi = max(t for _, _, t in keys)
    with engine.connect() as conn:
        df = segments.read(conn, stations=sorted({s for s, _, _ in keys}),
                           variables=[variable], start=t_lo, end=t_hi)
    if df.empty:
        return pd.DataFrame(columns=columns)
    want = pd.DataFrame(keys, columns=["station_id", "party", "at"])
    df = df.merge(want, on=["station_id", "party"])
    df = df[(df["time"] < df["at"]) & (df["time"] >= df["at"] - max_gap)]
    if df.empty:
        return pd.DataFrame(columns=columns)
    df = df.sort_values(["station_id", "party", "at", "time", "source", "revision"])
    return (df.drop_duplicates(["station_id", "party", "at"], keep="last")[columns]
            .reset_index(drop=True))


def data_period(engine: Engine) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Earliest and latest observation time in the store."""
    with engine.connect() as conn:
        return segments.period(conn)


def data_version(engine: Engine) -> tuple[int, int, int]:
    """(newest observation segment id, newest ingest run id, newest forecast run id): changes
    whenever a value is stored (every write adds a segment; nothing is updated in place), a
    file is ingested or a forecast or outlook is stored.  Three primary-key maxima in one
    statement; the key of :mod:`hydro.services.cache`."""
    q = select(*(select(func.coalesce(func.max(m.id), 0)).scalar_subquery()
                 for m in (ObservationSegment, IngestRun, ForecastRun)))
    with engine.connect() as conn:
        row = conn.execute(q).one()
    return int(row[0]), int(row[1]), int(row[2])


def observation_count(engine: Engine) -> int:
    """Number of stored observation revisions."""
    with engine.connect() as conn:
        return segments.count(conn)


def quality_samples(engine: Engine, site_id: str | None = None) -> pd.DataFrame:
    """Current water-quality samples: site_id, time, parameter, value, censored, unit, party."""
    qs = QualitySample
    cur = (select(qs.site_id, qs.time, qs.parameter, qs.party, qs.source,
                  func.max(qs.revision).label("revision"))
           .group_by(qs.site_id, qs.time, qs.parameter, qs.party, qs.source).subquery())
    q = (select(qs.site_id, qs.time, qs.parameter, qs.value, qs.censored, qs.unit, qs.party,
                qs.source, qs.revision)
         .join(cur, and_(qs.site_id == cur.c.site_id, qs.time == cur.c.time,
                         qs.parameter == cur.c.parameter, qs.party == cur.c.party,
                         qs.source == cur.c.source, qs.revision == cur.c.revision)))
    if site_id is not None:
        q = q.where(qs.site_id == site_id)
    with engine.connect() as conn:
        return pd.read_sql(q.order_by(qs.site_id, qs.time, qs.parameter), conn)


def ingest_runs(engine: Engine, limit: int = 100) -> pd.DataFrame:
    """The most recent ingest runs, newest first."""
    with engine.connect() as conn:
        return pd.read_sql(select(IngestRun).order_by(IngestRun.id.desc()).limit(limit), conn)


def observations(engine: Engine, stations: list[str] | None = None,
                 variables: tuple[str, ...] | list[str] | None = None,
                 start: dt.datetime | None = None, end: dt.datetime | None = None,
                 party: str | None = None, sources: list[str] | None = None,
                 as_of: dt.datetime | None = None, revisions: str = "current"
                 ) -> pd.DataFrame:
    """Current observations of many stations and variables (or as known at ``as_of``).

    Columns: station_id, variable, time, value, unit, party, source, qc_flags, phenomena,
    revision, received_at, ingest_run_id; ordered by station, variable, party, source and
    time.  ``revisions="all"`` returns every stored revision instead (who reported what,
    when: the audit view).  The selection :func:`hydro.readers.netcdf.export_store`
    writes as CF-NetCDF.
    """
    if revisions not in ("current", "all"):
        raise ValueError(f"revisions must be 'current' or 'all', not {revisions!r}")
    with engine.connect() as conn:
        df = segments.read(conn, stations=stations, variables=variables,
                           parties=None if party is None else [party], sources=sources,
                           start=start, end=end, as_of=as_of, current=revisions == "current")
    return df.sort_values(["station_id", "variable", "party", "source", "time", "revision"],
                          kind="stable").reset_index(drop=True)


def party_disagreement(engine: Engine, station_id: str, variable: str = "stage",
                       start: dt.datetime | None = None, end: dt.datetime | None = None,
                       as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Both parties' readings of one gauge side by side, and their difference.

    Indexed by time; columns ``KZ``, ``RU`` (current values; where a party has several
    sources, their mean), ``difference`` (KZ - RU) and ``flagged`` (True where QC raised
    PARTY_DISAGREE on either reading: the difference exceeds the station's tolerance, see
    :mod:`hydro.qc`).  Empty when fewer than two parties report the gauge.  ``as_of``
    (naive UTC): the values and flags as known then (received by that time).
    """
    from hydro.qc import QC

    s = series(engine, station_id, variable, start=start, end=end, as_of=as_of)
    if s.empty or s["party"].nunique() < 2:
        return pd.DataFrame(columns=["KZ", "RU", "difference", "flagged"])
    wide = s.pivot_table(index="time", columns="party", values="value", aggfunc="mean")
    flags = (s.assign(f=(s["qc_flags"] & int(QC.PARTY_DISAGREE)) != 0)
             .groupby("time")["f"].any())
    out = pd.DataFrame({"KZ": wide.get("KZ"), "RU": wide.get("RU")})
    out["difference"] = out["KZ"] - out["RU"]
    out["flagged"] = flags.reindex(out.index).fillna(False).astype(bool)
    return out


def flag_counts(engine: Engine, start: dt.datetime | None = None,
                end: dt.datetime | None = None) -> pd.DataFrame:
    """How many current values carry each QC flag, per station, variable and party.

    Columns: station_id, variable, party, flag (a :class:`hydro.qc.QC` name), count — for a
    "which station is sending nonsense?" view.
    """
    from hydro.qc import QC

    with engine.connect() as conn:
        df = segments.read(conn, start=start, end=end)
    df = df[df["qc_flags"] != 0]
    rows = []
    for flag in QC:
        hit = df[(df["qc_flags"] & int(flag)) != 0]
        if len(hit):
            c = hit.groupby(["station_id", "variable", "party"]).size().rename("count")
            rows.append(c.reset_index().assign(flag=flag.name))
    if not rows:
        return pd.DataFrame(columns=["station_id", "variable", "party", "flag", "count"])
    return (pd.concat(rows, ignore_index=True)[["station_id", "variable", "party", "flag",
                                                "count"]]
            .sort_values(["station_id", "variable", "party", "flag"]).reset_index(drop=True))


def job_status(engine: Engine) -> pd.DataFrame:
    """Status of every scheduled job, for the dashboard: one row per job.

    Columns (:data:`JOB_STATUS_COLUMNS`): job_id, name, last_started_at, last_finished_at,
    last_outcome (running | ok | error | missed), last_success_at, last_error_at,
    last_error, consecutive_failures, runs, failures, last_files_loaded,
    last_files_rejected, next_run — times naive UTC.  All recorded by the worker in the
    store's ``job_status`` table (:mod:`hydro.store.jobs`), the next run time whenever the
    worker schedules or runs a job; a job that has not run yet has only its id, name and
    next run; a job no longer scheduled has no next run.  Empty when no worker has ever
    run.
    """
    return jobs.job_status(engine)


def ingested_from(engine: Engine, path_fragments: list[str]) -> bool:
    """Whether any file whose path contains one of ``path_fragments`` was loaded (not
    rejected) — e.g. to tell that the store holds the bundled synthetic data."""

    if not path_fragments:
        return False
    q = (select(IngestRun.id)
         .where(IngestRun.outcome != "rejected",
                or_(*[IngestRun.path.contains(f, autoescape=True) for f in path_fragments]))
         .limit(1))
    with engine.connect() as conn:
        return conn.execute(q).first() is not None
