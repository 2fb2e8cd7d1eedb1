"""Dashboard accounts and the audit log: every statement on ``users`` and ``audit_events``
(schema 10).

Accounts are deactivated, never deleted (the audit log keeps naming them); audit rows are
only ever inserted.  Password hashing and the rules (roles, parties) are
:mod:`hydro.services.accounts`'; this module stores what it is given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine, Table, select

from hydro.store.models import AuditEvent, User

_USERS = cast(Table, User.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)

AUDIT_COLUMNS = ["id", "at", "action", "user_name", "address", "target", "detail"]


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    password_hash: str
    role: str
    party: str
    active: bool
    created_at: dt.datetime


def _row(r) -> UserRow:
    return UserRow(id=int(r.id), name=r.name, password_hash=r.password_hash, role=r.role,
                   party=r.party, active=bool(r.active), created_at=r.created_at)


def _select():
    return select(User.id, User.name, User.password_hash, User.role, User.party, User.active,
                  User.created_at)


def user_by_name(engine: Engine, name: str) -> UserRow | None:
    with engine.connect() as conn:
        r = conn.execute(_select().where(User.name == name)).first()
    return _row(r) if r is not None else None


def user_by_id(engine: Engine, user_id: int) -> UserRow | None:
    with engine.connect() as conn:
        r = conn.execute(_select().where(User.id == int(user_id))).first()
    return _row(r) if r is not None else None


def users(engine: Engine) -> list[UserRow]:
    """Every account (active or not), by name."""
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(_select().order_by(User.name))]


def insert_user(engine: Engine, name: str, password_hash: str, role: str, party: str,
                created_at: dt.datetime) -> int:
    with engine.begin() as conn:
        key = conn.execute(_USERS.insert().values(
            name=name, password_hash=password_hash, role=role, party=party, active=True,
            created_at=created_at)).inserted_primary_key
    return int(key[0]) if key else 0


def update_user(engine: Engine, name: str, **values: object) -> bool:
    """Set ``values`` (password_hash, role, party, active) of account ``name``; whether it
    exists."""
    allowed = {"password_hash", "role", "party", "active"}
    bad = set(values) - allowed
    if bad:
        raise ValueError(f"not an account column: {', '.join(sorted(bad))}")
    with engine.begin() as conn:
        result = conn.execute(_USERS.update().where(User.name == name).values(**values))
    return bool(result.rowcount)


def insert_audit(engine: Engine, at: dt.datetime, action: str, user_name: str | None,
                 address: str | None, target: str | None, detail: str | None) -> int:
    with engine.begin() as conn:
        key = conn.execute(_AUDIT.insert().values(
            at=at, action=action, user_name=user_name, address=address, target=target,
            detail=detail)).inserted_primary_key
    return int(key[0]) if key else 0


def audit_events(engine: Engine, since: dt.datetime | None = None,
                 limit: int | None = None) -> list[dict]:
    """Audit rows (at or after ``since``), newest first (:data:`AUDIT_COLUMNS`)."""
    a = AuditEvent
    q = select(a.id, a.at, a.action, a.user_name, a.address, a.target, a.detail)
    if since is not None:
        q = q.where(a.at >= since)
    q = q.order_by(a.at.desc(), a.id.desc())
    if limit is not None:
        q = q.limit(int(limit))
    with engine.connect() as conn:
        return [dict(zip(AUDIT_COLUMNS, r, strict=True)) for r in conn.execute(q)]


def upgrade_accounts(engine: Engine) -> None:
    """Schema 9 -> 10: create ``users`` and ``audit_events`` (no existing row is touched).
    Idempotent."""
    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_USERS, _AUDIT])
