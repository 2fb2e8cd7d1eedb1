"""Relational schema (SQLAlchemy 2 declarative).  Times are naive UTC ``DateTime``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Station(Base):
    """A gauge, reservoir or other network node, mirrored from config/basins.toml."""

    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    basin: Mapped[str] = mapped_column(String(32))
    river: Mapped[str | None] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_kk: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str | None] = mapped_column(String(64))


class IngestRun(Base):
    """One attempt to ingest one file: what it was, what happened and how long it took."""

    __tablename__ = "ingest_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str | None] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # loaded | unchanged | rejected
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    flags_raised: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    quarantined_to: Mapped[str | None] = mapped_column(Text)


class ObservationSeries(Base):
    """One series of observations: a station's variable as reported by one party's source."""

    __tablename__ = "observation_series"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    variable: Mapped[str] = mapped_column(String(16))  # stage, discharge, level, volume, ...
    party: Mapped[str] = mapped_column(String(2))      # KZ or RU: who reported it
    source: Mapped[str] = mapped_column(String(64))    # ingest source id
    unit: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("station_id", "variable", "party", "source", name="uq_series"),
    )


class ObservationSegment(Base):
    """The revisions of one series written by one ingest run, as packed little-endian arrays
    (see :mod:`hydro.store.segments`): corrections add a segment, nothing is overwritten."""

    __tablename__ = "observation_segments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("observation_series.id"))
    ingest_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    t_first: Mapped[dt.datetime] = mapped_column(DateTime)
    t_last: Mapped[dt.datetime] = mapped_column(DateTime)
    n: Mapped[int] = mapped_column(Integer)
    times: Mapped[bytes] = mapped_column(LargeBinary)   # int64 ns since 1970 UTC, or start+step
    values: Mapped[bytes] = mapped_column(LargeBinary)  # float64, NaN = missing
    flags: Mapped[bytes] = mapped_column(LargeBinary)   # int16 (or int32) QC flags
    revisions: Mapped[bytes | None] = mapped_column(LargeBinary)  # int32; NULL = all 1
    phenomena: Mapped[bytes | None] = mapped_column(LargeBinary)  # int8 codes, -1 = none
    phenomena_vocab: Mapped[str | None] = mapped_column(Text)     # JSON list of codes

    __table_args__ = (
        Index("ix_segment_series_time", "series_id", "t_first", "t_last"),
        Index("ix_segment_run", "ingest_run_id"),
    )


class QualitySample(Base):
    """One revision of one water-quality determination; censored values keep their limit."""

    __tablename__ = "quality_samples"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    time: Mapped[dt.datetime] = mapped_column(DateTime)
    parameter: Mapped[str] = mapped_column(String(48))
    value: Mapped[float] = mapped_column(Float)       # the detection limit when censored
    censored: Mapped[bool] = mapped_column(Boolean, default=False)
    unit: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(2))
    source: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ingest_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"))

    __table_args__ = (
        UniqueConstraint("site_id", "time", "parameter", "party", "source", "revision",
                         name="uq_quality_revision"),
        Index("ix_quality_site_time", "site_id", "time"),
    )


class Alert(Base):
    """An alert: rule, station, severity, the value against its threshold, and its life."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    severity: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    observed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    # schema 4: the lifecycle of rule-raised alerts (hydro.services.alert_evaluation)
    #: the rule's kind (stage_level, rate_of_rise, ...); NULL for an alert opened by hand
    kind: Mapped[str | None] = mapped_column(String(32))
    #: how many times it was escalated for staying unacknowledged, and when last
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: standing of the value it was raised on: hydro.alert_rules.Standing bits
    #: (1 provisional, 2 QC-flagged, 4 ice-affected, 8 single party)
    standing: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: when the store received the value it was raised on (what was known when)
    known_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_value: Mapped[float | None] = mapped_column(Float)
    last_observed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    peak_value: Mapped[float | None] = mapped_column(Float)
    peak_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_alert_open", "station_id", "rule", "closed_at"),
        # schema 4: one open alert per rule and station, whoever opens it (the rules and a
        # duty officer at the same moment cannot both succeed)
        Index("uq_alert_open_rule_station", "rule", "station_id", unique=True,
              sqlite_where=text("closed_at IS NULL"),
              postgresql_where=text("closed_at IS NULL")),
    )


class AlertEvent(Base):
    """One step of an alert's life (opened, acknowledged, closed): who, when and why.

    Rows are only ever added: ``alerts`` holds each alert's current state, this table its
    history (see :mod:`hydro.store.alerts`)."""

    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    # opened | updated (severity raised) | escalated | deescalated | acknowledged | closed
    event: Mapped[str] = mapped_column(String(16))
    by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    # schema 4: the alert's severity after the step, the value behind it and when the
    # store had received that value
    severity: Mapped[str | None] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    known_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_alert_event_alert", "alert_id", "id"),)


class AlertEvaluationRun(Base):
    """One evaluation of the alert rules (:mod:`hydro.services.alert_evaluation`): the
    as-of time it saw the store at, when it ran, full or incremental, and what it did.  The
    incremental mode evaluates the stations with data received since the last run."""

    __tablename__ = "alert_evaluations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    as_of: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime)
    mode: Mapped[str] = mapped_column(String(16))        # full | incremental | replay
    stations: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)
    deescalated: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)


class JobStatus(Base):
    """One row per scheduled job of the worker (:mod:`hydro.worker`): its last run, outcome,
    error, counters and next run, written through :mod:`hydro.store.jobs`.

    Schema 3 took over this table from the worker, which used to declare it itself (the same
    columns, without ``next_run_at``); see :func:`hydro.store.jobs.upgrade_job_status`."""

    __tablename__ = "job_status"
    job_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    last_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # run submitted
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(16))  # running|ok|error|missed
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_files_loaded: Mapped[int | None] = mapped_column(Integer)
    last_files_rejected: Mapped[int | None] = mapped_column(Integer)
    #: when the scheduler will next run the job (NULL: not scheduled any more)
    next_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class NotificationOutbox(Base):
    """One notification to send: an alert event rendered for one subscriber and one sink
    (see :mod:`hydro.store.notifications`).

    Subject, body and the structured ``data`` (JSON) are rendered when the row is enqueued,
    so what is sent — however late — is what was true then.  ``status``: ``pending`` (to
    send at ``next_attempt_at``), ``sending`` (claimed by ``claimed_by`` at
    ``claimed_at``), ``sent`` or ``dead`` (gave up: see :class:`NotificationDeadLetter`).
    ``idempotency_key`` (random, fixed at enqueue) is sent with every attempt so a
    receiver can drop a repeat."""

    __tablename__ = "notification_outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id"))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    subscriber: Mapped[str] = mapped_column(String(64))
    sink: Mapped[str] = mapped_column(String(16))            # email | webhook
    recipient: Mapped[str] = mapped_column(Text)             # address or URL at enqueue
    language: Mapped[str] = mapped_column(String(2))         # kk | ru | en
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)                  # JSON: the alert and event
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))          # pending|sending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(191))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("alert_event_id", "subscriber", "sink", name="uq_outbox_event_sink"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )


class NotificationEnqueued(Base):
    """Which alert events the enqueue pass has turned into outbox rows (``messages`` of
    them; none when nobody subscribes or ``skipped`` says why not): an event is looked at
    once, and a row per event, not a cursor, so an event committed late is not missed."""

    __tablename__ = "notification_enqueued"
    alert_event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id"),
                                                primary_key=True)
    enqueued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[str | None] = mapped_column(String(64))  # too-old | before-notifications


class NotificationDeadLetter(Base):
    """A notification given up on (attempts exhausted, or a permanent refusal): what, to
    whom, after how many attempts and why.  ``requeued_at`` is set when an operator sent it
    back to the outbox."""

    __tablename__ = "notification_dead_letters"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("notification_outbox.id"))
    subscriber: Mapped[str] = mapped_column(String(64))
    sink: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    died_at: Mapped[dt.datetime] = mapped_column(DateTime)
    requeued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_dead_letter_outbox", "outbox_id"),)


# ---------------------------------------------------------------- schema 6: forecasts

class ForecastRun(Base):
    """One forecast of one station's variable by one method (hydro.services.forecasts):
    issued from the data up to ``issue_time`` (the time of the last observation used, UTC)
    as the store knew them at ``known_at``; computed at ``created_at``.  Its values are
    :class:`ForecastValue` rows, one per lead."""

    __tablename__ = "forecast_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    variable: Mapped[str] = mapped_column(String(16))         # discharge | stage
    unit: Mapped[str] = mapped_column(String(16))             # m3/s | cm
    method: Mapped[str] = mapped_column(String(16))           # persistence|climatology|sarimax
    issue_time: Mapped[dt.datetime] = mapped_column(DateTime)  # last observation used (UTC)
    issue_date: Mapped[dt.datetime] = mapped_column(DateTime)  # its local date (midnight)
    known_at: Mapped[dt.datetime] = mapped_column(DateTime)    # the store as received by then
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)  # when it was computed
    horizon_days: Mapped[int] = mapped_column(Integer)
    alpha: Mapped[float] = mapped_column(Float)                # central 1 - alpha intervals
    parameters: Mapped[str | None] = mapped_column(Text)       # JSON: inputs, lags, params
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_forecast_run_station", "station_id", "variable", "method", "issue_time"),
    )


class ForecastValue(Base):
    """One lead of a forecast run: the daily value (and its interval) on ``valid_date``,
    a local date (midnight), ``lead_days`` after the run's issue date."""

    __tablename__ = "forecast_values"
    run_id: Mapped[int] = mapped_column(ForeignKey("forecast_runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    lead_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    valid_date: Mapped[dt.datetime] = mapped_column(DateTime)
    value: Mapped[float | None] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)


# ---------------------------------------------------------------- schema 7: ensemble members

class ForecastMember(Base):
    """One member of an ensemble forecast run (the process model, method ``process``) at
    one lead: its daily value (m³/s or cm, the run's unit).  The run's
    :class:`ForecastValue` rows hold the ensemble's median and its quantile band."""

    __tablename__ = "forecast_members"
    run_id: Mapped[int] = mapped_column(ForeignKey("forecast_runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    lead_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    member: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


# ---------------------------------------------------------------- schema 8: forecast skill

class ForecastSkill(Base):
    """One line of a stored backtest's skill table (hydro.services.forecasts.save_skill):
    the skill of one method at one gauge and lead over the backtest ``backtest_id`` (issue
    dates from ``period_start`` to ``period_end``).  ``beats_persistence`` is what every
    view marks; ``scores`` holds the table's numbers (NSE, KGE, CRPS, skill scores) as
    JSON.  Rows are never updated: a new backtest adds its own."""

    __tablename__ = "forecast_skill"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    backtest_id: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    period_start: Mapped[dt.datetime] = mapped_column(DateTime)
    period_end: Mapped[dt.datetime] = mapped_column(DateTime)
    issues: Mapped[int] = mapped_column(Integer)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    variable: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    lead_days: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    beats_persistence: Mapped[bool | None] = mapped_column(Boolean)
    scores: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_forecast_skill_station", "station_id", "computed_at"),)


# ---------------------------------------------------------------- schema 9: exchange log

class ExchangeAcknowledgement(Base):
    """One party's acknowledgement of a delivery (an ingest run) of the other party's data:
    who (``acknowledged_by``, a name until accounts exist), for which party (KZ, RU or
    ``commission``), when and with what note.  Rows are never updated or deleted: a second
    acknowledgement of the same run adds its own row (hydro.store.exchange)."""

    __tablename__ = "exchange_acknowledgements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ingest_run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"))
    acknowledged_by: Mapped[str] = mapped_column(String(200))
    party: Mapped[str] = mapped_column(String(16))
    acknowledged_at: Mapped[dt.datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_exchange_ack_run", "ingest_run_id", "acknowledged_at"),)


# ---------------------------------------------------------------- schema 10: accounts

class User(Base):
    """A dashboard account (hydro.store.accounts): its name, argon2 password hash, role
    (viewer, operator, forecaster, admin), party (KZ, RU or ``commission``), whether it may
    log in, and when it was created.  A removed account is deactivated, never deleted, so
    the audit log keeps naming it."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditEvent(Base):
    """One audited act (hydro.services.audit): when, which action (``login``,
    ``login_failed``, ``logout``, ``alert_ack``, ``exchange_ack``, ``upload``, ``plan_save``,
    ``scenario_run``, ``user_add``…), by which account name (as typed, for a failed login),
    from which address, on what, and details.  Rows are only ever inserted."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(32))
    user_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_events_at", "at"),)


# ---------------------------------------------------------------- schema 12: scenario runs

class ScenarioRunRow(Base):
    """One kept run of the scenario lab (hydro.store.scenario_runs): which scenario, plan
    (a file plan's name or a saved plan ``id@version``) and the plan's schedules as JSON,
    members, seed, forcing source and model file hash; who started it and when; its status
    (queued, running, done, failed, cancelled) and progress in member chunks; the path of
    its NetCDF and a small JSON summary.  A row is never deleted; its NetCDF is written
    once and never overwritten."""

    __tablename__ = "scenario_runs"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(64), index=True)
    plan_ref: Mapped[str] = mapped_column(String(200))
    plan_json: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="run")  # run | quick_release
    members: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    forcing: Mapped[str] = mapped_column(String(32))
    model_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_scenario_runs_created", "created_at"),)


# ---------------------------------------------------------------- schema 11: release plans

class ReleasePlanRow(Base):
    """One version of a named release plan of the scenario lab (hydro.store.plans): the
    scenario it belongs to, its name (URL-safe; the plan id is ``<scenario>/<name>``) and
    version (1, 2, …: saving the same name adds a version, none is ever overwritten or
    deleted), who saved it (account name and party), when (naive UTC), a note, and the
    reservoirs' schedules as JSON (hydro.release_plans.ReservoirSchedule.to_json)."""

    __tablename__ = "release_plans"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scenario_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    party: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    schedules: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("scenario_id", "name", "version",
                                       name="uq_release_plans_version"),
                      Index("ix_release_plans_scenario", "scenario_id", "name"))
