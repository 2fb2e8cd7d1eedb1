"""Saved release plans of the scenario lab: every statement on ``release_plans`` (schema 11).

A plan is named within its scenario; saving a name again adds the next version, and no
row is ever updated or deleted.  The schedules are stored as the JSON text the service
gives (:meth:`hydro.release_plans.ReservoirSchedule.to_json` per reservoir); this module
neither parses nor validates them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine, Table, func, select
from sqlalchemy.exc import IntegrityError

from hydro.store.models import ReleasePlanRow

_PLANS = cast(Table, ReleasePlanRow.__table__)


@dataclass(frozen=True)
class PlanVersion:
    """Which version of which plan, saved by whom and when (``created_at`` naive UTC).

    ``id`` is ``<scenario>/<name>`` and :attr:`ref` ``<id>@<version>``."""

    scenario_id: str
    name: str
    version: int
    author: str
    party: str | None
    created_at: dt.datetime

    @property
    def id(self) -> str:
        return f"{self.scenario_id}/{self.name}"

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class StoredPlan(PlanVersion):
    """One row of ``release_plans``."""

    note: str | None
    schedules_json: str


def _row(r) -> StoredPlan:
    return StoredPlan(scenario_id=r.scenario_id, name=r.name, version=int(r.version),
                      author=r.author, party=r.party, created_at=r.created_at, note=r.note,
                      schedules_json=r.schedules)


def _select():
    p = ReleasePlanRow
    return select(p.scenario_id, p.name, p.version, p.author, p.party, p.created_at, p.note,
                  p.schedules)


def insert_plan(engine: Engine, scenario_id: str, name: str, author: str, party: str | None,
                created_at: dt.datetime, note: str | None, schedules_json: str) -> int:
    """Add the next version of plan ``name`` of ``scenario_id`` (1 for a new name); returns
    the version.  Two concurrent saves of one name get consecutive versions (the unique
    constraint refuses a duplicate, and the loser retries with the next number)."""
    for _ in range(5):
        try:
            with engine.begin() as conn:
                latest = conn.execute(
                    select(func.max(ReleasePlanRow.version)).where(
                        ReleasePlanRow.scenario_id == scenario_id,
                        ReleasePlanRow.name == name)).scalar()
                version = int(latest or 0) + 1
                conn.execute(_PLANS.insert().values(
                    scenario_id=scenario_id, name=name, version=version, author=author,
                    party=party, created_at=created_at, note=note, schedules=schedules_json))
            return version
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a version of plan {scenario_id}/{name}")


def plan(engine: Engine, scenario_id: str, name: str, version: int | None = None
         ) -> StoredPlan | None:
    """One version of a plan (the latest when ``version`` is None), or None."""
    p = ReleasePlanRow
    q = _select().where(p.scenario_id == scenario_id, p.name == name)
    q = q.where(p.version == int(version)) if version is not None else q.order_by(
        p.version.desc()).limit(1)
    with engine.connect() as conn:
        r = conn.execute(q).first()
    return _row(r) if r is not None else None


def plans(engine: Engine, scenario_id: str | None = None) -> list[StoredPlan]:
    """Every version of every plan (of ``scenario_id``), by scenario, name and version."""
    p = ReleasePlanRow
    q = _select()
    if scenario_id is not None:
        q = q.where(p.scenario_id == scenario_id)
    q = q.order_by(p.scenario_id, p.name, p.version)
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(q)]


def upgrade_release_plans(engine: Engine) -> None:
    """Schema 10 -> 11: create ``release_plans`` (no existing row is touched).
    Idempotent."""
    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_PLANS])
