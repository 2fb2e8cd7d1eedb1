"""Alerts in the store: open one, list them, acknowledge and close them, with their history.

``alerts`` holds each alert's current state (rule, station, severity, the value against its
threshold, when it was opened, acknowledged and closed, and by whom); ``alert_events``
holds its history, one row per step (``opened``, ``acknowledged``, ``closed``) with who,
when and a note.  No row is ever deleted: a closed alert stays readable with its history.

State changes are checked inside their transaction and made with a conditional update, so
two duty officers acknowledging (or closing) one alert at the same moment get one success
and one :class:`AlertError` naming the alert, never two acknowledgements.

Times are naive UTC (aware times are converted).  What opens an alert (the rules, their
hysteresis, notifications) is not here: see :mod:`hydro.services.alerts`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

import pandas as pd
from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.engine import Connection

from hydro.errors import HydroriskError
from hydro.store.models import Alert, AlertEvent, Station

#: the columns of :func:`list_alerts`, in order (``state``: open | acknowledged | closed)
ALERT_COLUMNS = ["id", "rule", "station_id", "severity", "value", "threshold", "observed_at",
                 "opened_at", "acknowledged_at", "acknowledged_by", "closed_at", "closed_by",
                 "note", "state"]
#: the columns of :func:`alert_events`, in order
EVENT_COLUMNS = ["id", "alert_id", "event", "by", "at", "note"]
#: what :func:`list_alerts` can select: not closed (open or acknowledged), open and not
#: acknowledged yet, closed, or every alert
WHICH = ("open", "unacknowledged", "closed", "all")


class AlertError(HydroriskError, ValueError):
    """An alert cannot be changed as asked (unknown, already closed, …); the message names
    the alert."""


@dataclass(frozen=True)
class AlertRecord:
    """One alert as stored (times naive UTC)."""

    id: int
    rule: str
    station_id: str
    severity: str
    value: float | None
    threshold: float | None
    observed_at: dt.datetime | None
    opened_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    closed_at: dt.datetime | None
    closed_by: str | None
    note: str | None

    @property
    def state(self) -> str:
        """``closed``, ``acknowledged`` or ``open``."""
        if self.closed_at is not None:
            return "closed"
        return "acknowledged" if self.acknowledged_at is not None else "open"

    def describe(self) -> str:
        """``alert 7 (rule 'stage-dangerous' at KZ:19071)``, for messages."""
        return f"alert {self.id} (rule {self.rule!r} at {self.station_id})"


_FIELDS = ALERT_COLUMNS[:-1]
_ALERTS = cast(Table, Alert.__table__)
_EVENTS = cast(Table, AlertEvent.__table__)


def _naive_utc(t: dt.datetime | None) -> dt.datetime | None:
    if t is None or t.tzinfo is None:
        return t
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def _get(conn: Connection, alert_id: int) -> AlertRecord:
    t = _ALERTS
    row = conn.execute(select(*(t.c[c] for c in _FIELDS)).where(t.c.id == alert_id)
                       ).mappings().first()
    if row is None:
        raise AlertError(f"alert {alert_id} does not exist")
    return AlertRecord(**row)


def _event(conn: Connection, alert_id: int, event: str, by: str | None, at: dt.datetime,
           note: str | None) -> None:
    conn.execute(insert(_EVENTS).values(alert_id=alert_id, event=event, by=by,
                                                     at=at, note=note))


def _stamp(when: dt.datetime | None) -> str:
    return "?" if when is None else f"{when:%Y-%m-%d %H:%M} UTC"


def get_alert(engine: Engine, alert_id: int) -> AlertRecord:
    """The alert ``alert_id``; :class:`AlertError` if there is none."""
    with engine.connect() as conn:
        return _get(conn, alert_id)


def find_open(engine: Engine, rule: str, station_id: str) -> AlertRecord | None:
    """The alert of ``rule`` at ``station_id`` that is not closed, if any."""
    with engine.connect() as conn:
        return _find_open(conn, rule, station_id)


def _find_open(conn: Connection, rule: str, station_id: str) -> AlertRecord | None:
    t = _ALERTS
    row = conn.execute(select(*(t.c[c] for c in _FIELDS))
                       .where(t.c.rule == rule, t.c.station_id == station_id,
                              t.c.closed_at.is_(None))
                       .order_by(t.c.id).limit(1)).mappings().first()
    return None if row is None else AlertRecord(**row)


def open_alert(engine: Engine, *, rule: str, station_id: str, severity: str,
               value: float | None, threshold: float | None,
               observed_at: dt.datetime | None, opened_at: dt.datetime,
               note: str | None = None, by: str | None = None) -> AlertRecord:
    """Open an alert and record the ``opened`` event (``by``: who or what opened it).

    :class:`AlertError` when the station is unknown or an alert of the same rule at the
    same station is still open (one open alert per rule and station)."""
    opened = _naive_utc(opened_at)
    assert opened is not None
    with engine.begin() as conn:
        if conn.execute(select(Station.id).where(Station.id == station_id)).first() is None:
            raise AlertError(f"cannot open an alert of rule {rule!r}: unknown station "
                             f"{station_id!r}")
        same = _find_open(conn, rule, station_id)
        if same is not None:
            raise AlertError(f"{same.describe()} is still open (since "
                             f"{_stamp(same.opened_at)}); close it before opening another")
        alert_id = conn.execute(insert(_ALERTS).values(
            rule=rule, station_id=station_id, severity=severity, value=value,
            threshold=threshold, observed_at=_naive_utc(observed_at), opened_at=opened,
            note=note)).inserted_primary_key[0]  # type: ignore[index]
        _event(conn, int(alert_id), "opened", by, opened, note)
        return _get(conn, int(alert_id))


def _why_not(a: AlertRecord, action: str, at: dt.datetime) -> str:
    """Why ``a`` cannot be acknowledged/closed at ``at`` (the conditional update changed
    nothing)."""
    if a.closed_at is not None:
        by = f" by {a.closed_by}" if a.closed_by else ""
        if action == "close":
            return f"{a.describe()} is already closed (at {_stamp(a.closed_at)}{by})"
        return (f"{a.describe()} was closed at {_stamp(a.closed_at)}{by}; a closed alert "
                "cannot be acknowledged")
    if action == "acknowledge" and a.acknowledged_at is not None:
        return (f"{a.describe()} was already acknowledged by {a.acknowledged_by} at "
                f"{_stamp(a.acknowledged_at)}")
    if at < a.opened_at:
        return (f"{a.describe()} cannot be {action}d at {_stamp(at)}: it was opened at "
                f"{_stamp(a.opened_at)}")
    return f"{a.describe()} changed while it was being {action}d; try again"


def acknowledge(engine: Engine, alert_id: int, by: str, at: dt.datetime,
                note: str | None = None) -> AlertRecord:
    """Record that ``by`` acknowledged the alert at ``at``.

    :class:`AlertError` naming the alert when it does not exist, is closed, was already
    acknowledged or was opened after ``at``; nothing is written then."""
    when = _naive_utc(at)
    assert when is not None
    t = _ALERTS
    with engine.begin() as conn:
        # the update is the check: of two officers acknowledging at once, one changes it
        done = conn.execute(update(t).where(t.c.id == alert_id, t.c.closed_at.is_(None),
                                            t.c.acknowledged_at.is_(None),
                                            t.c.opened_at <= when)
                            .values(acknowledged_at=when, acknowledged_by=by)).rowcount
        if not done:
            raise AlertError(_why_not(_get(conn, alert_id), "acknowledge", when))
        _event(conn, alert_id, "acknowledged", by, when, note)
        return _get(conn, alert_id)


def close(engine: Engine, alert_id: int, by: str, at: dt.datetime,
          note: str | None = None) -> AlertRecord:
    """Record that ``by`` closed the alert at ``at`` (acknowledged or not).

    :class:`AlertError` naming the alert when it does not exist, is already closed or was
    opened after ``at``; nothing is written then."""
    when = _naive_utc(at)
    assert when is not None
    t = _ALERTS
    with engine.begin() as conn:
        done = conn.execute(update(t).where(t.c.id == alert_id, t.c.closed_at.is_(None),
                                            t.c.opened_at <= when)
                            .values(closed_at=when, closed_by=by)).rowcount
        if not done:
            raise AlertError(_why_not(_get(conn, alert_id), "close", when))
        _event(conn, alert_id, "closed", by, when, note)
        return _get(conn, alert_id)


def list_alerts(engine: Engine, which: str = "open", station_id: str | None = None,
                rule: str | None = None) -> pd.DataFrame:
    """Alerts as a frame (columns :data:`ALERT_COLUMNS`), newest first.

    ``which`` (:data:`WHICH`): ``open`` — not closed (acknowledged or not);
    ``unacknowledged`` — open and nobody has acknowledged it yet; ``closed``; ``all``."""
    if which not in WHICH:
        raise ValueError(f"which must be one of {', '.join(WHICH)}, not {which!r}")
    t = _ALERTS
    q = select(*(t.c[c] for c in _FIELDS))
    if which in ("open", "unacknowledged"):
        q = q.where(t.c.closed_at.is_(None))
    if which == "unacknowledged":
        q = q.where(t.c.acknowledged_at.is_(None))
    if which == "closed":
        q = q.where(t.c.closed_at.is_not(None))
    if station_id is not None:
        q = q.where(t.c.station_id == station_id)
    if rule is not None:
        q = q.where(t.c.rule == rule)
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(t.c.opened_at.desc(), t.c.id.desc())).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=_FIELDS)
    for c in ("observed_at", "opened_at", "acknowledged_at", "closed_at"):
        df[c] = pd.to_datetime(df[c])
    for c in ("value", "threshold"):
        df[c] = df[c].astype(float)
    df["id"] = df["id"].astype("int64")
    df["state"] = pd.Series(
        ["closed" if pd.notna(c) else "acknowledged" if pd.notna(a) else "open"
         for c, a in zip(df["closed_at"], df["acknowledged_at"], strict=True)],
        index=df.index, dtype=object)
    return df[ALERT_COLUMNS]


def alert_events(engine: Engine, alert_id: int | None = None) -> pd.DataFrame:
    """The history of one alert (or of all), oldest first: columns :data:`EVENT_COLUMNS`."""
    t = _EVENTS
    q = select(*(t.c[c] for c in EVENT_COLUMNS))
    if alert_id is not None:
        q = q.where(t.c.alert_id == alert_id)
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(t.c.alert_id, t.c.id)).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=EVENT_COLUMNS)
    df["at"] = pd.to_datetime(df["at"])
    for c in ("id", "alert_id"):
        df[c] = df[c].astype("int64")
    return df


# --------------------------------------------------------------------------- upgrade

def upgrade_alert_events(engine: Engine) -> None:
    """Schema 2 -> 3, alerts: create ``alert_events`` and give every alert already stored
    its history from its own columns (opened; acknowledged and closed where they are set).
    Idempotent: an alert that already has an event of a kind does not get it again."""
    from sqlalchemy import and_, exists, literal

    from hydro.store.models import Base

    Base.metadata.create_all(engine, tables=[_ALERTS, _EVENTS])
    a, e = _ALERTS, _EVENTS
    steps = [("opened", a.c.opened_at, None, a.c.note),
             ("acknowledged", a.c.acknowledged_at, a.c.acknowledged_by, None),
             ("closed", a.c.closed_at, a.c.closed_by, None)]
    with engine.begin() as conn:
        for event, at, by, note in steps:
            have = exists().where(and_(e.c.alert_id == a.c.id, e.c.event == event))
            q = (select(a.c.id, literal(event), by if by is not None else literal(None),
                        at, note if note is not None else literal(None))
                 .where(at.is_not(None), ~have).order_by(a.c.id))
            conn.execute(insert(e).from_select(["alert_id", "event", "by", "at", "note"], q))
