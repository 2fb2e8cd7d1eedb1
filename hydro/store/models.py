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
    String,
    Text,
    UniqueConstraint,
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


class Observation(Base):
    """One revision of one value: corrections add a revision, nothing is overwritten."""

    __tablename__ = "observations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    variable: Mapped[str] = mapped_column(String(16))  # stage, discharge, level, volume, ...
    time: Mapped[dt.datetime] = mapped_column(DateTime)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(2))    # KZ or RU: who reported it
    source: Mapped[str] = mapped_column(String(64))  # ingest source id
    qc_flags: Mapped[int] = mapped_column(Integer, default=0)
    phenomena: Mapped[str | None] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ingest_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"))

    __table_args__ = (
        UniqueConstraint("station_id", "variable", "time", "party", "source", "revision",
                         name="uq_observation_revision"),
        Index("ix_observation_series", "station_id", "variable", "time"),
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

    __table_args__ = (Index("ix_alert_open", "station_id", "rule", "closed_at"),)
