"""Alerts for the CLI and the dashboard: open one, list them, acknowledge and close them,
and read an alert's history.

Storage only (:mod:`hydro.store.alerts`): the rules that open and close alerts, their
hysteresis and notifications come later.  Every function checks its arguments and raises
:class:`AlertError` (a :class:`~hydro.errors.HydroriskError`, printed by the CLI as one
line) naming the alert or the argument that is wrong — for example acknowledging an alert
that is already closed.  Times are naive UTC (aware times are converted); ``at`` defaults
to now.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from hydro.services.context import Store
from hydro.store import alerts as _store
from hydro.store.alerts import ALERT_COLUMNS, EVENT_COLUMNS, WHICH, AlertError, AlertRecord

__all__ = ["ALERT_COLUMNS", "EVENT_COLUMNS", "SEVERITIES", "WHICH", "AlertError",
           "AlertRecord", "OPEN_AT_COLUMNS", "acknowledge", "close", "get", "history",
           "list_alerts", "open_alert", "open_at"]

#: severities an alert may have, least severe first: ``info`` for the state of the data
#: (a silent station, nonsense values), the others as the warning categories of
#: :class:`hydro.warning.WarningStatus`
SEVERITIES = ("info", "adverse", "low_water_dangerous", "dangerous")
#: longest rule name, station id and name of a person (the columns' widths)
_MAX = {"rule": 64, "station": 64, "by": 64}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _text(what: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AlertError(f"{what} must be a non-empty text, not {value!r}")
    value = value.strip()
    if len(value) > limit:
        raise AlertError(f"{what} {value[:20]!r}… is longer than {limit} characters")
    return value


def _note(note: object) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise AlertError(f"a note must be a text, not {note!r}")
    return note.strip() or None


def _number(what: str, value: object) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AlertError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(x):
        raise AlertError(f"{what} must be a finite number, not {value!r}")
    return x


def _id(alert_id: object) -> int:
    if isinstance(alert_id, bool) or not isinstance(alert_id, int) or alert_id < 1:
        raise AlertError(f"an alert id is a positive whole number, not {alert_id!r}")
    return alert_id


def open_alert(store: Store, rule: str, station_id: str, severity: str,
               value: float | None = None, threshold: float | None = None,
               observed_at: dt.datetime | None = None, note: str | None = None,
               by: str | None = None, at: dt.datetime | None = None) -> AlertRecord:
    """Open an alert of ``rule`` at ``station_id``: ``value`` (observed at ``observed_at``)
    against ``threshold``, with a ``note`` on what the data stands on (e.g. "KZ reading,
    not yet confirmed by RU"); ``by`` the person or rule engine that opened it.

    One open alert per rule and station: opening a second is an :class:`AlertError`
    naming the open one (so is an unknown station or severity)."""
    severity = _text("severity", severity, 16)
    if severity not in SEVERITIES:
        raise AlertError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})")
    return _store.open_alert(
        store, rule=_text("rule", rule, _MAX["rule"]),
        station_id=_text("station", station_id, _MAX["station"]), severity=severity,
        value=_number("value", value), threshold=_number("threshold", threshold),
        observed_at=observed_at, opened_at=at or _now(), note=_note(note),
        by=None if by is None else _text("by", by, _MAX["by"]))


def acknowledge(store: Store, alert_id: int, by: str, note: str | None = None,
                at: dt.datetime | None = None) -> AlertRecord:
    """``by`` acknowledges the alert (at ``at``, default now), with an optional note.

    An :class:`AlertError` naming the alert when it is unknown, closed or already
    acknowledged."""
    return _store.acknowledge(store, _id(alert_id), _text("by", by, _MAX["by"]),
                              at or _now(), _note(note))


def close(store: Store, alert_id: int, by: str, note: str | None = None,
          at: dt.datetime | None = None) -> AlertRecord:
    """``by`` closes the alert (at ``at``, default now), acknowledged or not; it stays
    readable with its history.  An :class:`AlertError` naming the alert when it is unknown
    or already closed."""
    return _store.close(store, _id(alert_id), _text("by", by, _MAX["by"]), at or _now(),
                        _note(note))


def get(store: Store, alert_id: int) -> AlertRecord:
    """One alert; an :class:`AlertError` when there is none."""
    return _store.get_alert(store, _id(alert_id))


def version(store: Store) -> tuple[int, int, int]:
    """What changes whenever any alert does (:func:`hydro.store.alerts.alerts_version`)."""
    return _store.alerts_version(store)


def list_alerts(store: Store, which: str = "open", station_id: str | None = None,
                rule: str | None = None) -> pd.DataFrame:
    """Alerts newest first (columns :data:`ALERT_COLUMNS`; ``state`` is open, acknowledged
    or closed).  ``which``: ``open`` (not closed), ``unacknowledged`` (new: nobody has
    acknowledged it), ``closed`` or ``all``."""
    if which not in WHICH:
        raise AlertError(f"which alerts: one of {', '.join(WHICH)}, not {which!r}")
    return _store.list_alerts(store, which, station_id=station_id, rule=rule)


def history(store: Store, alert_id: int | None = None) -> pd.DataFrame:
    """Who opened, acknowledged and closed an alert (or every alert), when and why: columns
    :data:`EVENT_COLUMNS`, oldest first."""
    return _store.alert_events(store, None if alert_id is None else _id(alert_id))


# --------------------------------------------------------------------------- as of a time
#: extra columns of :func:`open_at`
OPEN_AT_COLUMNS = ["severity_at", "escalation_at", "escalated_at_at", "ack_note"]


def open_at(store: Store, at: dt.datetime | None = None) -> pd.DataFrame:
    """The alerts open at ``at`` (opened by then, not closed by then; ``None``: open now),
    newest first, as they stood then — what a duty officer's panel showed at ``at``.

    Columns :data:`ALERT_COLUMNS` (as stored now: ``state``, ``closed_at`` and
    ``acknowledged_at`` may lie after ``at``) and :data:`OPEN_AT_COLUMNS`: the severity and
    escalation level at ``at`` and when it was last escalated by then (from the alert's
    history), and the note of its acknowledgement (whenever it was made)."""
    import re

    when = None if at is None else (at if at.tzinfo is None
                                    else at.astimezone(dt.UTC).replace(tzinfo=None))
    df = list_alerts(store, "open" if when is None else "all")
    if when is not None:
        df = df[(df["opened_at"] <= when)
                & (df["closed_at"].isna() | (df["closed_at"] > when))]
    df = df.reset_index(drop=True)
    events = _store.alert_events(store) if len(df) else pd.DataFrame(columns=EVENT_COLUMNS)
    events = events[events["alert_id"].isin(df["id"])]
    level_re = re.compile(r"escalation level (\d+)")
    severity, level, escalated, ack = [], [], [], []
    for a in df.itertuples(index=False):
        ev = events[events["alert_id"] == a.id]
        then = ev if when is None else ev[ev["at"] <= when]
        with_severity = then[then["event"].isin(("opened", "updated", "deescalated"))
                             & then["severity"].notna()]
        severity.append(str(with_severity["severity"].iloc[-1]) if len(with_severity)
                        else a.severity)
        esc = then[then["event"] == "escalated"]
        if len(esc) == 0:
            level.append(0)
            escalated.append(pd.NaT)
        else:
            m = level_re.search(str(esc["note"].iloc[-1] or ""))
            level.append(int(m.group(1)) if m else len(esc))
            escalated.append(esc["at"].iloc[-1])
        acks = ev[ev["event"] == "acknowledged"]
        ack.append(acks["note"].iloc[-1] if len(acks) else None)
    df["severity_at"] = pd.Series(severity, index=df.index, dtype=object)
    df["escalation_at"] = pd.Series(level, index=df.index, dtype="int64")
    df["escalated_at_at"] = pd.to_datetime(pd.Series(escalated, index=df.index))
    df["ack_note"] = pd.Series(ack, index=df.index, dtype=object)
    return df[ALERT_COLUMNS + OPEN_AT_COLUMNS]
