"""The notification outbox: alert events turned into messages, claimed, sent, retried and
given up on — every statement of it.

Tables (:mod:`hydro.store.models`): ``notification_outbox`` (one row per alert event ×
subscriber × sink, unique on the three, so enqueuing twice never duplicates),
``notification_enqueued`` (which alert events the enqueue pass has looked at) and
``notification_dead_letters`` (messages given up on).

The claim protocol, safe on SQLite and PostgreSQL with any number of workers:

1. :func:`recover_claims` returns rows left ``sending`` by a worker that died (its claim is
   older than the claim timeout, or the caller knows its process is gone) to ``pending``.
2. :func:`due` lists ``pending`` rows whose ``next_attempt_at`` has come.
3. :func:`claim` takes one row with ``UPDATE … SET status='sending', claimed_by=<token>,
   attempts=attempts+1 WHERE id=… AND status='pending'``: of two workers, exactly one sees
   a row count of 1.  A worker claims one row at a time, just before sending it, so a
   worker killed at any moment holds at most one row.
4. After the sink answered, :func:`mark_sent` or :func:`mark_failed` change the row only if
   it is still ``sending`` under the same token.

Times are naive UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine, Table, and_, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from hydro.store.models import (
    Alert,
    AlertEvent,
    NotificationDeadLetter,
    NotificationEnqueued,
    NotificationOutbox,
    Station,
)

_OUTBOX = cast(Table, NotificationOutbox.__table__)
_ENQUEUED = cast(Table, NotificationEnqueued.__table__)
_DEAD = cast(Table, NotificationDeadLetter.__table__)
_ALERTS = cast(Table, Alert.__table__)
_EVENTS = cast(Table, AlertEvent.__table__)
_STATIONS = cast(Table, Station.__table__)

#: statuses of an outbox row
STATUSES = ("pending", "sending", "sent", "dead")
#: the columns of :func:`outbox`, in order
OUTBOX_COLUMNS = ["id", "alert_event_id", "alert_id", "subscriber", "sink", "recipient",
                  "language", "subject", "status", "attempts", "next_attempt_at",
                  "last_error", "created_at", "sent_at", "idempotency_key"]
#: the columns of :func:`dead_letters`, in order
DEAD_LETTER_COLUMNS = ["id", "outbox_id", "subscriber", "sink", "attempts", "last_error",
                       "died_at", "requeued_at"]
_STATION_FIELDS = ("basin", "country", "river", "kind", "name_en", "name_ru", "name_kk")


@dataclass(frozen=True)
class EventToNotify:
    """An alert event not enqueued yet, with its alert and station as stored.

    ``alert`` and ``event`` hold every column of their rows (so columns a later schema
    adds — the data's standing, a unit — reach the renderer without a change here);
    ``station`` the station's basin, country, river, kind and names."""

    event: dict[str, Any]
    alert: dict[str, Any]
    station: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.event["id"])


@dataclass(frozen=True)
class OutboxMessage:
    """One claimed outbox row: what to send, to whom, through which sink."""

    id: int
    alert_event_id: int
    alert_id: int
    subscriber: str
    sink: str
    recipient: str
    language: str
    subject: str
    body: str
    data: str
    idempotency_key: str
    attempts: int
    created_at: dt.datetime


def events_to_notify(engine: Engine, limit: int | None = None) -> list[EventToNotify]:
    """Alert events the enqueue pass has not looked at yet, oldest first."""
    e, a, s, q = _EVENTS, _ALERTS, _STATIONS, _ENQUEUED
    done = select(q.c.alert_event_id).where(q.c.alert_event_id == e.c.id).exists()
    stmt = (select(*(c.label(f"e__{c.name}") for c in e.c),
                   *(c.label(f"a__{c.name}") for c in a.c),
                   *(s.c[f].label(f"s__{f}") for f in _STATION_FIELDS))
            .select_from(e.join(a, a.c.id == e.c.alert_id)
                         .outerjoin(s, s.c.id == a.c.station_id))
            .where(~done).order_by(e.c.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    out = []
    with engine.connect() as conn:
        for row in conn.execute(stmt).mappings():
            parts: dict[str, dict[str, Any]] = {"e": {}, "a": {}, "s": {}}
            for k, v in row.items():
                prefix, name = k.split("__", 1)
                parts[prefix][name] = v
            out.append(EventToNotify(event=parts["e"], alert=parts["a"], station=parts["s"]))
    return out


def record_enqueued(engine: Engine, event_id: int, messages: Sequence[dict[str, Any]],
                    now: dt.datetime, skipped: str | None = None) -> int:
    """Write the outbox rows of one alert event and mark the event enqueued, in one
    transaction; the number of rows written.

    ``messages``: dicts with subscriber, sink, recipient, language, subject, body, data and
    idempotency_key.  Each row starts ``pending``, due at ``now``.  When another process
    enqueued the event first (the marker or an outbox row already exists), nothing is
    written and 0 is returned."""
    rows = [dict(m, alert_event_id=event_id, status="pending", attempts=0,
                 next_attempt_at=now, created_at=now) for m in messages]
    try:
        with engine.begin() as conn:
            conn.execute(insert(_ENQUEUED).values(alert_event_id=event_id, enqueued_at=now,
                                                  messages=len(rows), skipped=skipped))
            if rows:
                conn.execute(insert(_OUTBOX), rows)
    except IntegrityError:
        return 0  # enqueued by someone else meanwhile: the unique keys kept it single
    return len(rows)


def notified_subscribers(engine: Engine, alert_id: int) -> set[str]:
    """Subscribers that have a message about any event of ``alert_id`` in the outbox."""
    t = _OUTBOX
    with engine.connect() as conn:
        return set(conn.execute(select(t.c.subscriber).where(t.c.alert_id == alert_id)
                                .distinct()).scalars())


def recover_claims(engine: Engine, now: dt.datetime, claim_timeout: dt.timedelta,
                   claimant_gone: Callable[[str], bool] | None = None) -> int:
    """Return rows left ``sending`` to ``pending`` (due now) when their claim is older than
    ``claim_timeout`` or ``claimant_gone(claimed_by)`` says the claiming process no longer
    exists; the number of rows returned.  Their ``attempts`` keep the interrupted one."""
    t = _OUTBOX
    back = 0
    with engine.begin() as conn:
        back += conn.execute(
            update(t).where(t.c.status == "sending", t.c.claimed_at < now - claim_timeout)
            .values(status="pending", next_attempt_at=now, claimed_by=None,
                    last_error="claim expired: the worker sending it stopped")).rowcount
    if claimant_gone is None:
        return back
    with engine.connect() as conn:
        held = conn.execute(select(t.c.id, t.c.claimed_by).where(t.c.status == "sending")
                            ).all()
    for oid, who in held:
        if who is None or not claimant_gone(who):
            continue
        with engine.begin() as conn:
            back += conn.execute(
                update(t).where(t.c.id == oid, t.c.status == "sending", t.c.claimed_by == who)
                .values(status="pending", next_attempt_at=now, claimed_by=None,
                        last_error=f"the worker sending it ({who}) died")).rowcount
    return back


def due(engine: Engine, now: dt.datetime, sinks: Iterable[str] | None = None,
        limit: int = 200) -> list[tuple[int, str, str]]:
    """(id, sink, recipient) of ``pending`` rows due at ``now``, the longest waiting
    first."""
    t = _OUTBOX
    q = select(t.c.id, t.c.sink, t.c.recipient).where(t.c.status == "pending", t.c.next_attempt_at <= now)
    if sinks is not None:
        q = q.where(t.c.sink.in_(list(sinks)))
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(t.c.next_attempt_at, t.c.id).limit(limit)).all()
    return [(int(i), str(s), str(r)) for i, s, r in rows]


_MESSAGE_FIELDS = [f for f in OutboxMessage.__dataclass_fields__]


def claim(engine: Engine, outbox_id: int, token: str, now: dt.datetime
          ) -> OutboxMessage | None:
    """Take the row for sending under ``token`` (one more attempt); None when another
    worker took it first or it is no longer due."""
    t = _OUTBOX
    with engine.begin() as conn:
        got = conn.execute(
            update(t).where(t.c.id == outbox_id, t.c.status == "pending",
                            t.c.next_attempt_at <= now)
            .values(status="sending", claimed_by=token, claimed_at=now,
                    attempts=t.c.attempts + 1)).rowcount
        if got != 1:
            return None
        row = conn.execute(select(*(t.c[f] for f in _MESSAGE_FIELDS))
                           .where(t.c.id == outbox_id)).mappings().one()
    return OutboxMessage(**row)


def mark_sent(engine: Engine, outbox_id: int, token: str, now: dt.datetime) -> bool:
    """Record that the row claimed under ``token`` was accepted by its sink; False when the
    claim was lost meanwhile (it expired and another worker took the row)."""
    t = _OUTBOX
    with engine.begin() as conn:
        return bool(conn.execute(
            update(t).where(t.c.id == outbox_id, t.c.status == "sending",
                            t.c.claimed_by == token)
            .values(status="sent", sent_at=now, last_error=None, claimed_by=None)).rowcount)


def mark_failed(engine: Engine, outbox_id: int, token: str, now: dt.datetime, error: str,
                retry_at: dt.datetime | None) -> str | None:
    """Record a failed attempt of the row claimed under ``token``: back to ``pending`` due
    at ``retry_at``, or — ``retry_at`` None — ``dead`` with a dead-letter record.  The new
    status, or None when the claim was lost meanwhile."""
    t = _OUTBOX
    mine = and_(t.c.id == outbox_id, t.c.status == "sending", t.c.claimed_by == token)
    with engine.begin() as conn:
        if retry_at is not None:
            n = conn.execute(update(t).where(mine).values(
                status="pending", next_attempt_at=retry_at, last_error=error,
                claimed_by=None)).rowcount
            return "pending" if n else None
        n = conn.execute(update(t).where(mine).values(status="dead", last_error=error,
                                                     claimed_by=None)).rowcount
        if not n:
            return None
        row = conn.execute(select(t.c.subscriber, t.c.sink, t.c.attempts)
                           .where(t.c.id == outbox_id)).one()
        conn.execute(insert(_DEAD).values(outbox_id=outbox_id, subscriber=row.subscriber,
                                          sink=row.sink, attempts=row.attempts,
                                          last_error=error, died_at=now))
        return "dead"


def requeue_dead(engine: Engine, outbox_ids: Iterable[int] | None, now: dt.datetime) -> int:
    """Send dead messages (all, or ``outbox_ids``) back to ``pending`` with a fresh count
    of attempts, due now, keeping their idempotency keys; their dead-letter records get
    ``requeued_at``.  The number requeued."""
    t, d = _OUTBOX, _DEAD
    cond = t.c.status == "dead"
    ids = None if outbox_ids is None else [int(i) for i in outbox_ids]
    if ids is not None:
        cond = and_(cond, t.c.id.in_(ids))
    with engine.begin() as conn:
        chosen = list(conn.execute(select(t.c.id).where(cond)).scalars())
        if not chosen:
            return 0
        conn.execute(update(t).where(t.c.id.in_(chosen), t.c.status == "dead")
                     .values(status="pending", attempts=0, next_attempt_at=now))
        conn.execute(update(d).where(d.c.outbox_id.in_(chosen), d.c.requeued_at.is_(None))
                     .values(requeued_at=now))
    return len(chosen)


def outbox(engine: Engine, status: str | None = None) -> pd.DataFrame:
    """Outbox rows as a frame (columns :data:`OUTBOX_COLUMNS`), oldest first."""
    t = _OUTBOX
    q = select(*(t.c[c] for c in OUTBOX_COLUMNS))
    if status is not None:
        q = q.where(t.c.status == status)
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(t.c.id)).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=OUTBOX_COLUMNS)
    for c in ("next_attempt_at", "created_at", "sent_at"):
        df[c] = pd.to_datetime(df[c])
    for c in ("id", "alert_event_id", "alert_id", "attempts"):
        df[c] = df[c].astype("int64")
    return df


def dead_letters(engine: Engine) -> pd.DataFrame:
    """Dead-letter records (columns :data:`DEAD_LETTER_COLUMNS`), oldest first."""
    d = _DEAD
    with engine.connect() as conn:
        rows = conn.execute(select(*(d.c[c] for c in DEAD_LETTER_COLUMNS))
                            .order_by(d.c.id)).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=DEAD_LETTER_COLUMNS)
    for c in ("died_at", "requeued_at"):
        df[c] = pd.to_datetime(df[c])
    for c in ("id", "outbox_id", "attempts"):
        df[c] = df[c].astype("int64")
    return df


# --------------------------------------------------------------------------- upgrade

def upgrade_notifications(engine: Engine) -> None:
    """Schema 4 -> 5: create the outbox, the enqueue markers and the dead letters, and
    mark every alert event already stored as looked at (``skipped =
    'before-notifications'``), so upgrading never mails out a store's whole history.
    Idempotent."""
    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_OUTBOX, _ENQUEUED, _DEAD])
    e, q = _EVENTS, _ENQUEUED
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    done = select(q.c.alert_event_id).where(q.c.alert_event_id == e.c.id).exists()
    with engine.begin() as conn:
        conn.execute(insert(q).from_select(
            ["alert_event_id", "enqueued_at", "messages", "skipped"],
            select(e.c.id, literal(now), literal(0), literal("before-notifications"))
            .where(~done).order_by(e.c.id)))
