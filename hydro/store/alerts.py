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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import Connection

from hydro.errors import HydroriskError
from hydro.store.models import Alert, AlertEvent, Station

#: the columns of :func:`list_alerts`, in order (``state``: open | acknowledged | closed)
ALERT_COLUMNS = ["id", "rule", "station_id", "severity", "value", "threshold", "observed_at",
                 "opened_at", "acknowledged_at", "acknowledged_by", "closed_at", "closed_by",
                 "note", "kind", "escalation_level", "escalated_at", "standing", "known_at",
                 "last_value", "last_observed_at", "peak_value", "peak_at", "state"]
#: the columns of :func:`alert_events`, in order
EVENT_COLUMNS = ["id", "alert_id", "event", "by", "at", "note", "severity", "value",
                 "known_at"]
#: the steps of an alert's life, as ``alert_events.event``
EVENTS = ("opened", "updated", "escalated", "deescalated", "acknowledged", "closed")
#: who the rule engine is, in ``by``
RULES_BY = "rules"
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
    kind: str | None = None
    escalation_level: int = 0
    escalated_at: dt.datetime | None = None
    standing: int = 0
    known_at: dt.datetime | None = None
    last_value: float | None = None
    last_observed_at: dt.datetime | None = None
    peak_value: float | None = None
    peak_at: dt.datetime | None = None

    @property
    def standing_names(self) -> list[str]:
        """The standing of the value it was raised on: ``provisional``, ``qc_flagged``,
        ``ice_affected``, ``single_party`` (see :class:`hydro.alert_rules.Standing`)."""
        from hydro.alert_rules import Standing

        return Standing(int(self.standing or 0)).names

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


def _record(row) -> AlertRecord:
    d = dict(row)
    d["escalation_level"] = int(d.get("escalation_level") or 0)
    d["standing"] = int(d.get("standing") or 0)
    return AlertRecord(**d)


def _get(conn: Connection, alert_id: int) -> AlertRecord:
    t = _ALERTS
    row = conn.execute(select(*(t.c[c] for c in _FIELDS)).where(t.c.id == alert_id)
                       ).mappings().first()
    if row is None:
        raise AlertError(f"alert {alert_id} does not exist")
    return _record(row)


def _event(conn: Connection, alert_id: int, event: str, by: str | None, at: dt.datetime,
           note: str | None, severity: str | None = None, value: float | None = None,
           known_at: dt.datetime | None = None) -> None:
    if severity is None:
        severity = conn.execute(select(_ALERTS.c.severity).where(_ALERTS.c.id == alert_id)
                                ).scalar_one_or_none()
    conn.execute(insert(_EVENTS).values(alert_id=alert_id, event=event, by=by, at=at,
                                        note=note, severity=severity, value=value,
                                        known_at=_naive_utc(known_at)))


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
    return None if row is None else _record(row)


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
        try:
            with conn.begin_nested():
                alert_id = conn.execute(insert(_ALERTS).values(
                    rule=rule, station_id=station_id, severity=severity, value=value,
                    threshold=threshold, observed_at=_naive_utc(observed_at),
                    opened_at=opened, note=note)).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError:
            # opened by someone else (the rules) between the check and the insert
            raise AlertError(f"an alert of rule {rule!r} at {station_id} is still open; "
                             "close it before opening another") from None
        _event(conn, int(alert_id), "opened", by, opened, note, severity=severity,
               value=value)
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


def alerts_version(engine: Engine) -> tuple[int, int, int]:
    """(newest alert id, alert event id, alert evaluation id): changes whenever an alert is
    opened, acknowledged, escalated or closed, or the rules are evaluated (which may update
    an open alert's last and peak values).  The key the dashboard caches the open-alerts
    panel under (:mod:`hydro.services.cache`)."""
    from sqlalchemy import func

    from hydro.store.models import AlertEvaluationRun

    q = select(*(select(func.coalesce(func.max(m.id), 0)).scalar_subquery()
                 for m in (Alert, AlertEvent, AlertEvaluationRun)))
    with engine.connect() as conn:
        row = conn.execute(q).one()
    return int(row[0]), int(row[1]), int(row[2])


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
    for c in ("observed_at", "opened_at", "acknowledged_at", "closed_at", "escalated_at",
              "known_at", "last_observed_at", "peak_at"):
        df[c] = pd.to_datetime(df[c])
    for c in ("value", "threshold", "last_value", "peak_value"):
        df[c] = df[c].astype(float)
    for c in ("id", "escalation_level", "standing"):
        df[c] = df[c].fillna(0).astype("int64")
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
    df["known_at"] = pd.to_datetime(df["known_at"])
    df["value"] = df["value"].astype(float)
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


def upgrade_alert_lifecycle(engine: Engine) -> None:
    """Schema 3 -> 4, the lifecycle of rule-raised alerts: ``alerts`` gains kind,
    escalation_level, escalated_at, standing, known_at, last_value, last_observed_at,
    peak_value, peak_at; ``alert_events`` gains severity, value, known_at (the events
    already stored get their alert's severity, which never changed before schema 4); the
    table ``alert_evaluations`` is created.  Every row is kept (``ALTER TABLE … ADD
    COLUMN``, on SQLite and PostgreSQL alike).  Idempotent: a column already there is
    left alone."""
    from sqlalchemy import inspect, text

    from hydro.store.models import AlertEvaluationRun, Base

    insp = inspect(engine)
    for table in (_ALERTS, _EVENTS):
        if not insp.has_table(table.name):
            continue
        have = {c["name"] for c in insp.get_columns(table.name)}
        with engine.begin() as conn:
            for col in table.columns:
                if col.name in have:
                    continue
                kind = col.type.compile(dialect=engine.dialect)
                default = ""
                if col.server_default is not None:
                    default = f" DEFAULT {col.server_default.arg} NOT NULL"  # type: ignore[attr-defined]
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {col.name} "
                                  f"{kind}{default}"))
    Base.metadata.create_all(engine, tables=[cast(Table, AlertEvaluationRun.__table__)])
    if "uq_alert_open_rule_station" not in {i["name"] for i in insp.get_indexes("alerts")}:
        index = next(i for i in _ALERTS.indexes if i.name == "uq_alert_open_rule_station")
        try:
            index.create(engine)
        except Exception as err:  # two open alerts of one rule and station already
            raise HydroriskError(
                "cannot upgrade the alerts to schema 4: some rule has two open alerts at one "
                f"station; close one of them and open the store again ({err})") from None
    a, e = _ALERTS, _EVENTS
    with engine.begin() as conn:
        conn.execute(update(e).where(e.c.severity.is_(None)).values(
            severity=select(a.c.severity).where(a.c.id == e.c.alert_id).scalar_subquery()))


# --------------------------------------------------------------------------- rule lifecycle
# The statements of hydro.services.alert_evaluation: each takes the caller's connection
# (one transaction per evaluation) and changes an alert only if it is still open, so a
# duty officer closing an alert while an evaluation runs is never overwritten.

#: PostgreSQL advisory-lock key that serialises alert evaluations ("ALRT")
PG_EVALUATION_LOCK = 0x414C5254


def lock_for_evaluation(conn: Connection) -> None:
    """Serialise evaluations, so two of them (the worker's, a CLI run) never both open an
    alert for the same breach: PostgreSQL takes a transaction-scoped advisory lock;
    SQLite takes its write lock now, with a write that changes nothing."""
    from sqlalchemy import false, text

    from hydro.store.models import AlertEvaluationRun

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_EVALUATION_LOCK})
    else:
        t = cast(Table, AlertEvaluationRun.__table__)
        conn.execute(update(t).where(false()).values(mode="lock"))


def open_rule_alerts(conn: Connection, stations: list[str] | None = None
                     ) -> list[AlertRecord]:
    """Every alert not closed (of ``stations``), oldest first."""
    t = _ALERTS
    q = select(*(t.c[c] for c in _FIELDS)).where(t.c.closed_at.is_(None))
    if stations is not None:
        q = q.where(t.c.station_id.in_(stations))
    return [_record(r) for r in conn.execute(q.order_by(t.c.id)).mappings()]


def latest_per_rule(conn: Connection, stations: list[str] | None = None
                    ) -> dict[tuple[str, str], AlertRecord]:
    """The most recent alert (closed or not) of each (rule, station)."""
    from sqlalchemy import func

    t = _ALERTS
    newest = select(func.max(t.c.id).label("id")).group_by(t.c.rule, t.c.station_id)
    if stations is not None:
        newest = newest.where(t.c.station_id.in_(stations))
    q = select(*(t.c[c] for c in _FIELDS)).where(t.c.id.in_(newest.scalar_subquery()))
    return {(r.rule, r.station_id): r for r in map(_record, conn.execute(q).mappings())}


def raise_alert(conn: Connection, *, rule: str, kind: str, station_id: str, severity: str,
                value: float | None, threshold: float | None, observed_at: dt.datetime,
                opened_at: dt.datetime, known_at: dt.datetime | None, standing: int,
                peak_value: float | None, peak_at: dt.datetime | None,
                note: str | None, last_observed_at: dt.datetime | None = None) -> int:
    """Open an alert for a rule (``by`` the rule engine) with its ``opened`` event; its id.
    ``value`` is the latest value in breach (observed at ``last_observed_at``, default
    ``observed_at``, the reading that opened it)."""
    alert_id = conn.execute(insert(_ALERTS).values(
        rule=rule, kind=kind, station_id=station_id, severity=severity, value=value,
        threshold=threshold, observed_at=_naive_utc(observed_at),
        opened_at=_naive_utc(opened_at), known_at=_naive_utc(known_at), standing=standing,
        escalation_level=0, last_value=value,
        last_observed_at=_naive_utc(last_observed_at or observed_at),
        peak_value=peak_value, peak_at=_naive_utc(peak_at), note=note)
    ).inserted_primary_key[0]  # type: ignore[index]
    _event(conn, int(alert_id), "opened", RULES_BY, _naive_utc(opened_at),  # type: ignore[arg-type]
           note, severity=severity, value=value, known_at=known_at)
    return int(alert_id)


def record_past_alerts(conn: Connection, alerts: list[dict]) -> list[int]:
    """Open and at once close many alerts (breaches that had already ended when their data
    arrived: a backlog, a correction), each with its ``opened`` and ``closed`` events, in
    a few statements; their ids in the order given.

    Each dict has the columns of :func:`raise_alert` (rule, kind, station_id, severity,
    value, threshold, observed_at, opened_at, known_at, standing, peak_value, peak_at,
    last_observed_at, note) and ``closed_note``, ``closed_value``, ``closed_known_at``."""
    if not alerts:
        return []
    t = _ALERTS
    cols = ("rule", "kind", "station_id", "severity", "value", "threshold", "observed_at",
            "opened_at", "known_at", "standing", "peak_value", "peak_at", "last_observed_at",
            "note")
    rows = []
    for a in alerts:
        r = {c: a.get(c) for c in cols}
        for c in ("observed_at", "opened_at", "known_at", "peak_at", "last_observed_at"):
            r[c] = _naive_utc(r[c])
        r.update(last_value=a.get("value"), escalation_level=0, closed_at=r["opened_at"],
                 closed_by=RULES_BY)
        rows.append(r)
    ids = [int(i) for i in conn.execute(
        insert(t).returning(t.c.id, sort_by_parameter_order=True), rows).scalars()]
    events = []
    for aid, a, r in zip(ids, alerts, rows, strict=True):
        events.append(dict(alert_id=aid, event="opened", by=RULES_BY, at=r["opened_at"],
                           note=r["note"], severity=r["severity"], value=r["value"],
                           known_at=r["known_at"]))
        events.append(dict(alert_id=aid, event="closed", by=RULES_BY, at=r["opened_at"],
                           note=a.get("closed_note"), severity=r["severity"],
                           value=a.get("closed_value"),
                           known_at=_naive_utc(a.get("closed_known_at"))))
    conn.execute(insert(_EVENTS), events)
    return ids


def track_alert(conn: Connection, alert_id: int, *, at: dt.datetime,
                last_value: float | None, last_observed_at: dt.datetime | None,
                peak_value: float | None, peak_at: dt.datetime | None,
                event: str | None = None, severity: str | None = None,
                threshold: float | None = None, standing: int | None = None,
                known_at: dt.datetime | None = None, note: str | None = None) -> bool:
    """Follow an open alert: its last and peak values; with ``event`` (``updated``: the
    severity raised, ``deescalated``: lowered) its new severity, threshold and standing,
    recorded as an event.  False when the alert was closed meanwhile (nothing written)."""
    values: dict = dict(last_value=last_value, last_observed_at=_naive_utc(last_observed_at),
                        peak_value=peak_value, peak_at=_naive_utc(peak_at))
    if event is not None:
        if event not in ("updated", "deescalated"):
            raise ValueError(f"event must be 'updated' or 'deescalated', not {event!r}")
        values.update(severity=severity, threshold=threshold, value=last_value)
        if standing is not None:
            values["standing"] = standing
    t = _ALERTS
    done = conn.execute(update(t).where(t.c.id == alert_id, t.c.closed_at.is_(None))
                        .values(**values)).rowcount
    if done and event is not None:
        _event(conn, alert_id, event, RULES_BY, _naive_utc(at), note,  # type: ignore[arg-type]
               severity=severity, value=last_value, known_at=known_at)
    return bool(done)


def escalate_alert(conn: Connection, alert_id: int, level: int, at: dt.datetime,
                   note: str | None = None) -> bool:
    """Escalate an alert nobody has acknowledged to ``level``; False when it was
    acknowledged, closed or escalated meanwhile."""
    t = _ALERTS
    done = conn.execute(update(t).where(t.c.id == alert_id, t.c.closed_at.is_(None),
                                        t.c.acknowledged_at.is_(None),
                                        t.c.escalation_level < level)
                        .values(escalation_level=level, escalated_at=_naive_utc(at))).rowcount
    if done:
        _event(conn, alert_id, "escalated", RULES_BY, _naive_utc(at), note)  # type: ignore[arg-type]
    return bool(done)


def close_by_rule(conn: Connection, alert_id: int, at: dt.datetime,
                  value: float | None = None, known_at: dt.datetime | None = None,
                  note: str | None = None) -> bool:
    """Close an alert whose condition has ended (``closed_by`` the rule engine); False when
    somebody closed it meanwhile."""
    t = _ALERTS
    done = conn.execute(update(t).where(t.c.id == alert_id, t.c.closed_at.is_(None))
                        .values(closed_at=_naive_utc(at), closed_by=RULES_BY)).rowcount
    if done:
        _event(conn, alert_id, "closed", RULES_BY, _naive_utc(at), note,  # type: ignore[arg-type]
               value=value, known_at=known_at)
    return bool(done)


def get_many(conn: Connection, ids: list[int]) -> list[AlertRecord]:
    """The alerts ``ids`` as stored now, in the order given."""
    if not ids:
        return []
    t = _ALERTS
    rows = {r.id: r for r in map(_record, conn.execute(
        select(*(t.c[c] for c in _FIELDS)).where(t.c.id.in_(ids))).mappings())}
    return [rows[i] for i in ids if i in rows]


def record_evaluation(conn: Connection, *, as_of: dt.datetime, started_at: dt.datetime,
                      finished_at: dt.datetime, mode: str, stations: int,
                      counts: dict[str, int]) -> None:
    """Record one evaluation (``counts``: opened, updated, escalated, deescalated, closed)."""
    from hydro.store.models import AlertEvaluationRun

    conn.execute(insert(cast(Table, AlertEvaluationRun.__table__)).values(
        as_of=_naive_utc(as_of), started_at=started_at, finished_at=finished_at, mode=mode,
        stations=stations, **{k: int(counts.get(k, 0)) for k in
                              ("opened", "updated", "escalated", "deescalated", "closed")}))


def last_evaluation(engine: Engine) -> dt.datetime | None:
    """The as-of time of the latest evaluation recorded (None: never evaluated)."""
    with engine.connect() as conn:
        return last_evaluation_in(conn)


def last_evaluation_in(conn: Connection) -> dt.datetime | None:
    """:func:`last_evaluation` inside the caller's transaction."""
    from sqlalchemy import func

    from hydro.store.models import AlertEvaluationRun

    return conn.execute(select(func.max(AlertEvaluationRun.as_of))).scalar_one_or_none()


def stations_received(engine: Engine, after: dt.datetime | None, until: dt.datetime
                      ) -> dict[str, dt.datetime]:
    """Stations with observations the store received in ``(after, until]``, each with the
    earliest observation time among them — what an incremental evaluation looks at.
    Reads segment metadata only."""
    from sqlalchemy import func

    from hydro.store.models import ObservationSegment, ObservationSeries

    s, g = ObservationSeries, ObservationSegment
    q = (select(s.station_id, func.min(g.t_first)).join(g, g.series_id == s.id)
         .where(g.received_at <= _naive_utc(until)).group_by(s.station_id))
    if after is not None:
        q = q.where(g.received_at > _naive_utc(after))
    with engine.connect() as conn:
        return {sid: t for sid, t in conn.execute(q)}


def rule_observations(engine: Engine, stations: list[str], variables: list[str] | None,
                      start: dt.datetime | None, end: dt.datetime,
                      as_of: dt.datetime | None) -> pd.DataFrame:
    """Current observations of ``stations`` x ``variables`` (None: every variable) with
    time in [start, end], as
    the store knew them at ``as_of`` (None: everything stored), unsorted, string columns
    categorical (:func:`hydro.store.segments.read`)."""
    from hydro.store import segments

    with engine.connect() as conn:
        return segments.read(conn, stations=stations, variables=variables,
                             start=_naive_utc(start), end=_naive_utc(end),
                             as_of=_naive_utc(as_of), categorical=True)


def last_reading_times(engine: Engine, as_of: dt.datetime,
                       stations: list[str] | None = None) -> dict[str, dt.datetime]:
    """Time of each station's latest observation (any variable, any party) received by
    ``as_of`` and not after it — from segment metadata, without decoding values.  A
    segment reaching past ``as_of`` (a forecast or a clock error) counts up to ``as_of``."""
    from sqlalchemy import func

    from hydro.store.models import ObservationSegment, ObservationSeries

    s, g = ObservationSeries, ObservationSegment
    when = _naive_utc(as_of)
    assert when is not None
    q = (select(s.station_id, func.max(g.t_last), func.min(g.t_first))
         .join(g, g.series_id == s.id).where(g.received_at <= when, g.t_first <= when)
         .group_by(s.station_id))
    if stations is not None:
        q = q.where(s.station_id.in_(stations))
    with engine.connect() as conn:
        return {sid: min(last, when) for sid, last, _ in conn.execute(q)}


def quality_samples_as_of(engine: Engine, sites: list[str], as_of: dt.datetime,
                          start: dt.datetime | None = None, received: bool = True
                          ) -> pd.DataFrame:
    """Water-quality samples of ``sites`` as the store knew them at ``as_of`` (the highest
    revision received by then, sampled by then; ``received=False``: every revision stored,
    sampled by then): site_id, time, parameter, value, censored, received_at."""
    from sqlalchemy import and_, func

    from hydro.store.models import QualitySample

    qs = QualitySample
    when = _naive_utc(as_of)
    known = [qs.time <= when, qs.site_id.in_(sites)]
    if received:
        known.append(qs.received_at <= when)
    if start is not None:
        known.append(qs.time >= _naive_utc(start))
    cur = (select(qs.site_id, qs.time, qs.parameter, qs.party, qs.source,
                  func.max(qs.revision).label("revision"))
           .where(*known).group_by(qs.site_id, qs.time, qs.parameter, qs.party, qs.source)
           .subquery())
    q = (select(qs.site_id, qs.time, qs.parameter, qs.value, qs.censored, qs.received_at)
         .join(cur, and_(qs.site_id == cur.c.site_id, qs.time == cur.c.time,
                         qs.parameter == cur.c.parameter, qs.party == cur.c.party,
                         qs.source == cur.c.source, qs.revision == cur.c.revision)))
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(qs.site_id, qs.time)).all()
    return pd.DataFrame([tuple(r) for r in rows],
                        columns=["site_id", "time", "parameter", "value", "censored",
                                 "received_at"])
