"""The exchange log: what each party delivered (the ingest runs, with the party and period of
the data each one wrote) and the other party's acknowledgements of it.

Acknowledgements (``exchange_acknowledgements``, schema 9) are only ever inserted: nothing
here updates or deletes one.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import pandas as pd
from sqlalchemy import Engine, Table, func, select

from hydro.store.models import (
    ExchangeAcknowledgement,
    IngestRun,
    ObservationSegment,
    ObservationSeries,
    QualitySample,
)

_ACK = cast(Table, ExchangeAcknowledgement.__table__)

DELIVERY_COLUMNS = ["run_id", "path", "source", "format", "outcome", "started_at",
                    "finished_at", "rows_read", "rows_written", "received_at", "data_first",
                    "data_last", "parties"]
ACK_COLUMNS = ["id", "run_id", "acknowledged_by", "party", "acknowledged_at", "note"]


def deliveries(engine: Engine) -> pd.DataFrame:
    """Every ingest run as a delivery, oldest first.

    Columns (:data:`DELIVERY_COLUMNS`): the run's ``run_id, path, source, format, outcome,
    started_at, finished_at, rows_read, rows_written``; ``received_at`` (the receipt time
    recorded with its values, else the run's start), ``data_first`` and ``data_last``
    (the period of the values of its own source it wrote; NaT when it wrote none) and
    ``parties`` (a sorted tuple of the parties of those values; empty when it wrote none).
    Revisions a run adds to another source's values (QC cross flags) are not counted.
    """
    run = IngestRun
    seg, ser, qs = ObservationSegment, ObservationSeries, QualitySample
    with engine.connect() as conn:
        runs = pd.DataFrame(conn.execute(
            select(run.id, run.path, run.source, run.format, run.outcome, run.started_at,
                   run.finished_at, run.rows_read, run.rows_written).order_by(run.id)
        ).fetchall(), columns=DELIVERY_COLUMNS[:9])
        obs = pd.DataFrame(conn.execute(
            select(seg.ingest_run_id, ser.party, func.min(seg.received_at),
                   func.min(seg.t_first), func.max(seg.t_last))
            .join(ser, ser.id == seg.series_id)
            .join(run, run.id == seg.ingest_run_id)
            # a run also re-flags the other source's values it is compared with (QC cross
            # flags add a revision): those are not its delivery
            .where(ser.source == run.source)
            .group_by(seg.ingest_run_id, ser.party)
        ).fetchall(), columns=["run_id", "party", "received_at", "first", "last"])
        qual = pd.DataFrame(conn.execute(
            select(qs.ingest_run_id, qs.party, func.min(qs.received_at), func.min(qs.time),
                   func.max(qs.time))
            .join(run, run.id == qs.ingest_run_id)
            .where(qs.source == run.source)
            .group_by(qs.ingest_run_id, qs.party)
        ).fetchall(), columns=["run_id", "party", "received_at", "first", "last"])
    if runs.empty:
        return pd.DataFrame(columns=DELIVERY_COLUMNS)
    parts = [p for p in (obs, qual) if not p.empty]
    written = pd.concat(parts, ignore_index=True) if parts else obs
    for c in ("received_at", "first", "last"):
        written[c] = pd.to_datetime(written[c])
    by_run = written.groupby("run_id")
    runs["received_at"] = runs["run_id"].map(by_run["received_at"].min())
    runs["received_at"] = pd.to_datetime(runs["received_at"]).fillna(
        pd.to_datetime(runs["started_at"]))
    runs["data_first"] = pd.to_datetime(runs["run_id"].map(by_run["first"].min()))
    runs["data_last"] = pd.to_datetime(runs["run_id"].map(by_run["last"].max()))
    parties: dict[int, tuple[str, ...]] = {}
    for run_id, party in zip(written["run_id"], written["party"], strict=True):
        parties[int(run_id)] = tuple(sorted({*parties.get(int(run_id), ()), str(party)}))
    runs["parties"] = pd.Series([parties.get(int(r), ()) for r in runs["run_id"]],
                                index=runs.index, dtype=object)
    return runs[DELIVERY_COLUMNS]


def run_exists(engine: Engine, run_id: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(IngestRun.id).where(IngestRun.id == run_id)).first() \
            is not None


def acknowledgements(engine: Engine, run_ids: list[int] | None = None) -> pd.DataFrame:
    """Stored acknowledgements (of ``run_ids``, or all), oldest first
    (:data:`ACK_COLUMNS`)."""
    a = ExchangeAcknowledgement
    q = select(a.id, a.ingest_run_id, a.acknowledged_by, a.party, a.acknowledged_at, a.note)
    if run_ids is not None:
        if not run_ids:
            return pd.DataFrame(columns=ACK_COLUMNS)
        q = q.where(a.ingest_run_id.in_([int(r) for r in run_ids]))
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(a.acknowledged_at, a.id)).fetchall()
    out = pd.DataFrame(rows, columns=ACK_COLUMNS)
    out["acknowledged_at"] = pd.to_datetime(out["acknowledged_at"])
    return out


def add_acknowledgement(engine: Engine, run_id: int, acknowledged_by: str, party: str,
                        acknowledged_at: dt.datetime, note: str | None = None) -> int:
    """Insert one acknowledgement (never an update); returns its id."""
    with engine.begin() as conn:
        result = conn.execute(_ACK.insert().values(
            ingest_run_id=int(run_id), acknowledged_by=acknowledged_by, party=party,
            acknowledged_at=acknowledged_at, note=note))
        key = result.inserted_primary_key
        return int(key[0]) if key else 0


def upgrade_exchange(engine: Engine) -> None:
    """Schema 8 -> 9: create ``exchange_acknowledgements`` (no existing row is touched).
    Idempotent."""
    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_ACK])
