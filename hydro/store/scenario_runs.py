"""The scenario lab's kept runs: every statement on ``scenario_runs`` (schema 12).

A row is inserted queued, then only its status, progress, times, error, NetCDF path and
summary change; rows are never deleted.  The rules (what may follow what, where the
NetCDF goes) are :mod:`hydro.services.scenario_runs`'; this module stores what it is given.
Times are naive UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, cast

from sqlalchemy import Engine, Table, select, update

from hydro.store.models import ScenarioRunRow

_RUNS = cast(Table, ScenarioRunRow.__table__)

#: statuses of a run; the last three are final
STATUSES = ("queued", "running", "done", "failed", "cancelled")
FINAL = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class RunRecord:
    """A stored run (see :class:`hydro.store.models.ScenarioRunRow`)."""

    run_id: str
    scenario_id: str
    plan_ref: str
    plan_json: str
    kind: str
    members: int
    seed: int
    forcing: str
    model_hash: str | None
    status: str
    chunks_done: int
    chunks_total: int
    cancel_requested: bool
    author: str
    note: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None
    path: str | None
    summary: str | None

    @property
    def progress(self) -> float:
        """Share of the member chunks done (0–1; 1 when done)."""
        if self.status == "done":
            return 1.0
        return self.chunks_done / self.chunks_total if self.chunks_total else 0.0

    @property
    def final(self) -> bool:
        return self.status in FINAL


_COLUMNS = [f.name for f in fields(RunRecord)]


def _record(r: Any) -> RunRecord:
    values = {c: getattr(r, c) for c in _COLUMNS}
    values["cancel_requested"] = bool(values["cancel_requested"])
    values["chunks_done"] = int(values["chunks_done"] or 0)
    values["chunks_total"] = int(values["chunks_total"] or 0)
    return RunRecord(**values)


def _select():
    return select(*(getattr(ScenarioRunRow, c) for c in _COLUMNS))


def insert_run(engine: Engine, **values: Any) -> RunRecord:
    """Insert a run (every column of :class:`RunRecord` but the progress ones)."""
    row = {"chunks_done": 0, "chunks_total": 0, "cancel_requested": False, **values}
    unknown = set(row) - set(_COLUMNS)
    if unknown:
        raise ValueError(f"unknown scenario run columns: {', '.join(sorted(unknown))}")
    with engine.begin() as conn:
        conn.execute(_RUNS.insert().values(**row))
    got = get_run(engine, row["run_id"])
    assert got is not None
    return got


def get_run(engine: Engine, run_id: str) -> RunRecord | None:
    with engine.connect() as conn:
        r = conn.execute(_select().where(ScenarioRunRow.run_id == run_id)).first()
    return _record(r) if r is not None else None


def list_runs(engine: Engine, scenario_id: str | None = None,
              limit: int | None = None) -> list[RunRecord]:
    """Runs, newest first (of one scenario when ``scenario_id`` is given)."""
    q = _select().order_by(ScenarioRunRow.created_at.desc(), ScenarioRunRow.run_id)
    if scenario_id is not None:
        q = q.where(ScenarioRunRow.scenario_id == scenario_id)
    if limit is not None:
        q = q.limit(limit)
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(q)]


def update_run(engine: Engine, run_id: str, *, only_if_status: tuple[str, ...] | None = None,
               **values: Any) -> bool:
    """Set columns of a run (status, progress, times, error, path, summary…); with
    ``only_if_status``, only when the run's status is one of those.  Returns whether a row
    changed."""
    unknown = set(values) - set(_COLUMNS)
    if unknown or "run_id" in values:
        raise ValueError(f"cannot update scenario run columns: "
                         f"{', '.join(sorted(unknown | ({'run_id'} & set(values))))}")
    stmt = update(_RUNS).where(_RUNS.c.run_id == run_id).values(**values)
    if only_if_status is not None:
        stmt = stmt.where(_RUNS.c.status.in_(only_if_status))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount > 0


def upgrade_scenario_runs(engine: Engine) -> None:
    """Schema 11 -> 12: create ``scenario_runs`` (no existing row is touched).
    Idempotent; independent of schema 11's tables."""
    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_RUNS])
