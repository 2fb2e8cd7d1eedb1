"""Notifications that lose nothing: alert events to subscribers, through an outbox in the
store, by e-mail and webhook, in each subscriber's language.

Two passes, both safe to run at any time, in any number of processes (the worker's
``notify`` job runs them every ``[delivery] interval``):

:func:`enqueue`
    turns every alert event not looked at yet into outbox rows, one per matching
    (subscriber, sink), with the subject and body rendered then in the subscriber's
    language (:mod:`hydro.services.notification_text`).  The event's marker and its rows
    are written in one transaction, and the outbox is unique on (event, subscriber,
    sink): enqueuing twice — or in two processes at once — never duplicates a row.
    Events older than ``max_event_age`` are marked and not sent (a replay of a past
    season mails nobody).
:func:`deliver`
    sends the due rows: claim one row (``pending`` → ``sending``, a conditional update
    only one worker can win), send it, mark it ``sent``.  A failure puts it back to
    ``pending`` with an exponential backoff (``first_retry`` doubled per attempt, at most
    ``max_retry``); after ``max_attempts`` attempts, or at once when the receiver refuses
    it for good (an unknown mailbox, HTTP 404), it becomes ``dead`` with a dead-letter
    record (:func:`dead_letters`; :func:`requeue` sends it again).  A sink that cannot be
    reached is tried once per pass; its other messages wait, untouched.

**Exactly once, and its limit.**  A sink that is down never loses a message: the row stays
in the outbox until it is accepted or declared dead, and nothing else removes it.  A
worker killed while it holds a row (between the claim and marking it sent) leaves it
``sending``; the next pass returns it to ``pending`` — at once when the claimant's process
is gone from this host, otherwise after ``claim_timeout`` — and it is sent again.  If the
worker died *after* the receiver accepted the message but *before* the row was marked
sent, the receiver gets it twice: no protocol can avoid that with SMTP or a plain HTTP
POST (neither can take part in the store's transaction).  Every attempt therefore
carries the same key — ``Idempotency-Key`` header and ``idempotency_key`` in the JSON of a
webhook, a stable ``Message-ID`` of an e-mail (:mod:`hydro.services.sinks`) — and **a
receiver that must show each alert once keeps the keys it has seen and drops a repeat.**
Delivery is at-least-once on the wire and exactly-once for a receiver that dedupes on the
key; ``tests/integration/test_notifications.py`` kills a delivering process at both
moments and checks exactly that (each key accepted once after dedupe; the raw count shows
the one repeat the kill after sending causes).

Everything here is plain Python over :mod:`hydro.store.notifications`; no SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import socket
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hydro.alert_rules import Standing
from hydro.config import Config
from hydro.config.notifications import NotificationsFile, Subscriber, seconds
from hydro.errors import HydroriskError
from hydro.services.alerts import SEVERITIES
from hydro.services.context import Store
from hydro.services.notification_text import render
from hydro.services.sinks import Message, Sink, SinkError, default_sinks
from hydro.store import notifications as _store
from hydro.store.notifications import (
    DEAD_LETTER_COLUMNS,
    OUTBOX_COLUMNS,
    STATUSES,
    EventToNotify,
    OutboxMessage,
)

__all__ = ["DEAD_LETTER_COLUMNS", "OUTBOX_COLUMNS", "STATUSES", "DeliveryReport",
           "NotificationError", "countries_concerned", "dead_letters", "deliver", "enqueue",
           "event_data", "matching_subscribers", "outbox", "requeue"]

log = logging.getLogger("hydrorisk.notifications")


class NotificationError(HydroriskError, ValueError):
    """A notification request is wrong (an unknown status, sink …); the message says what."""


@dataclass
class DeliveryReport:
    """What one :func:`deliver` pass did.

    ``recovered``: rows left ``sending`` by a dead worker, returned to the queue;
    ``claimed``: rows this pass took; ``sent``; ``retrying`` (failed, to be tried again);
    ``dead`` (given up: dead letters); ``deferred`` (not tried: their sink was unreachable
    earlier in the pass); ``lost`` (sent, but another worker had taken the row over
    meanwhile — its receiver may see the key twice); ``errors``: one line per failure."""

    recovered: int = 0
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    deferred: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.sent} sent, {self.retrying} to retry, {self.dead} dead, "
                f"{self.deferred} deferred (sink unreachable), {self.recovered} recovered "
                f"from a dead worker")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _naive(t: dt.datetime | None) -> dt.datetime:
    if t is None:
        return _now()
    return t if t.tzinfo is None else t.astimezone(dt.UTC).replace(tzinfo=None)


def _iso(v: Any) -> Any:
    """A stored value as JSON: times as ISO UTC (``…Z``), NaN as None."""
    if isinstance(v, dt.datetime):
        return _naive(v).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _rank(severity: str) -> int:
    # an unknown severity passes every filter: better one message too many than a miss
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def event_data(ev: EventToNotify, config: Config) -> dict[str, Any]:
    """The plain, JSON-able description of an alert event that is rendered and stored with
    each of its outbox rows (and sent as the JSON of a webhook): ``event`` (every stored
    column: id, kind, at, by, note, the severity and value after the step), ``alert``
    (every stored column: id, rule, the rule's kind, station, severity, value, threshold,
    observed and opened times, note, the data's standing as bits of
    :class:`hydro.alert_rules.Standing` — plus ``standing_codes``, their names — and
    whatever a later schema adds), ``station`` (id, names per language, river, country)
    and ``basin`` (id, names)."""
    alert = {k: _iso(v) for k, v in ev.alert.items()}
    if isinstance(alert.get("standing"), int):
        alert["standing_codes"] = Standing(alert["standing"]).names
    event = {k: _iso(v) for k, v in ev.event.items()}
    event["kind"] = event.pop("event")
    sid = alert["station_id"]
    names = {lang: ev.station.get(f"name_{lang}") for lang in ("kk", "ru", "en")}
    basin_id = ev.station.get("basin")
    river = ev.station.get("river")
    try:
        node = config.network.node(sid)
        names = {lang: node.names.get(lang) for lang in ("kk", "ru", "en")}
        basin_id = node.basin
        river = getattr(node, "river", river)
    except KeyError:
        pass  # a station no longer in the network: its names as the store kept them
    basin: dict[str, Any] = {"id": basin_id}
    if basin_id in config.network.basins:
        bn = config.network.basins[basin_id].names
        basin["names"] = {lang: bn.get(lang) for lang in ("kk", "ru", "en")}
    return {"event": event, "alert": alert,
            "station": {"id": sid, "names": names, "river": river,
                        "country": ev.station.get("country"), "kind": ev.station.get("kind")},
            "basin": basin}


def countries_concerned(config: Config, station_id: str, kind: str | None,
                        country: str | None) -> set[str]:
    """The countries an alert at ``station_id`` concerns: the station's own, and for a
    release change (rule kind ``release_change``) every country downstream of it along the
    network's reaches — the notice goes to the downstream party."""
    out = {country} if country else set()
    if kind != "release_change":
        return out
    node, seen = station_id, {station_id}
    while (reach := config.network.downstream_reach(node)) is not None:
        node = reach.downstream
        if node in seen:  # pragma: no cover - the network is acyclic (validated)
            break
        seen.add(node)
        try:
            c = getattr(config.network.node(node), "country", None)
        except KeyError:
            break
        if c:
            out.add(c)
    return out


def matching_subscribers(ev: EventToNotify, settings: NotificationsFile,
                         already_told: Iterable[str] = (),
                         countries: Iterable[str] | None = None) -> list[Subscriber]:
    """The enabled subscribers ``ev`` goes to: its kind among their ``events``; its station
    or basin among theirs (or they name none); one of the ``countries`` it concerns
    (default: the station's; see :func:`countries_concerned`) among their ``parties`` (or
    they name none); and the severity after the step at least their ``min_severity`` — or
    they were already told about this alert (``already_told``), so whoever heard an alert
    open also hears it de-escalate and close."""
    told = set(already_told)
    kind = ev.event["event"]
    station = ev.alert["station_id"]
    basin = ev.station.get("basin")
    concerned = (set(countries) if countries is not None
                 else {c for c in [ev.station.get("country")] if c})
    severity = str(ev.event.get("severity") or ev.alert["severity"])
    out = []
    for s in settings.subscribers:
        if not s.enabled or kind not in s.events:
            continue
        if (s.stations or s.basins) and station not in s.stations and basin not in s.basins:
            continue
        if s.parties and not concerned & set(s.parties):
            continue
        if _rank(severity) < _rank(s.min_severity) and s.id not in told:
            continue
        out.append(s)
    return out


def enqueue(store: Store, config: Config, *, now: dt.datetime | None = None) -> int:
    """Turn every alert event not looked at yet into outbox rows; the number of rows added.

    One row per matching subscriber and enabled sink (:func:`matching_subscribers`),
    rendered in the subscriber's language with a fresh idempotency key.  An event older
    than ``[delivery] max_event_age`` at ``now`` is marked ``too-old`` and sends nothing.
    Safe to repeat and to run in several processes: each event is enqueued once."""
    settings: NotificationsFile = config.notifications
    now = _naive(now)
    oldest = now - dt.timedelta(seconds=seconds(settings.delivery.max_event_age))
    enabled = {"email": settings.sinks.email.enabled, "webhook": settings.sinks.webhook.enabled}
    added = 0
    for ev in _store.events_to_notify(store):
        at = ev.event.get("at")
        if isinstance(at, dt.datetime) and _naive(at) < oldest:
            _store.record_enqueued(store, ev.id, [], now, skipped="too-old")
            continue
        told = (_store.notified_subscribers(store, int(ev.alert["id"]))
                if ev.event["event"] != "opened" else set())
        countries = countries_concerned(config, ev.alert["station_id"], ev.alert.get("kind"),
                                        ev.station.get("country"))
        subscribers = matching_subscribers(ev, settings, told, countries)
        data = event_data(ev, config) if subscribers else {}
        rows = []
        for s in subscribers:
            for sink in s.sinks():
                if not enabled[sink]:
                    continue
                key = uuid.uuid4().hex
                subject, body = render(data, s.language, key)
                rows.append(dict(alert_id=int(ev.alert["id"]), subscriber=s.id, sink=sink,
                                 recipient=s.address(sink), language=s.language,
                                 subject=subject, body=body,
                                 data=json.dumps(data, ensure_ascii=False),
                                 idempotency_key=key))
        added += _store.record_enqueued(store, ev.id, rows, now)
    if added:
        log.info("enqueued %d notification(s)", added)
    return added


# --------------------------------------------------------------------------- delivery

def _host() -> str:
    return socket.gethostname()


def claim_token() -> str:
    """``<host>:<pid>:<random>``: who holds a claimed row (to tell a dead worker's)."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claimant_gone(token: str) -> bool:
    """Whether the process named in a claim token is gone (only decidable on this host)."""
    host, _, rest = token.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _host() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return pid != os.getpid() and not pid_alive(pid)


def _backoff(attempts: int, first: float, most: float) -> dt.timedelta:
    return dt.timedelta(seconds=min(most, first * 2 ** max(0, attempts - 1)))


def _message(m: OutboxMessage) -> Message:
    try:
        data = json.loads(m.data) if m.data else {}
    except ValueError:
        data = {}
    return Message(outbox_id=m.id, idempotency_key=m.idempotency_key,
                   subscriber=m.subscriber, recipient=m.recipient, language=m.language,
                   subject=m.subject, body=m.body, created_at=m.created_at, data=data)


def deliver(store: Store, config: Config, *, sinks: Mapping[str, Sink] | None = None,
            now: dt.datetime | None = None, max_batch: int | None = None) -> DeliveryReport:
    """Send what is due in the outbox (at most ``max_batch`` rows, default
    ``[delivery] batch``) and return what happened.

    ``sinks``: the sink per name (default: the enabled ``email`` and ``webhook`` sinks of
    ``notifications.toml``); rows of a sink not given wait.  ``now`` (naive UTC, default
    the clock) decides what is due and is recorded as the time of claims and sends.  See
    the module's docstring for the protocol and what a receiver must do."""
    settings: NotificationsFile = config.notifications
    d = settings.delivery
    now = _naive(now)
    if sinks is None:
        sinks = default_sinks(settings.sinks.email, settings.sinks.webhook)
    report = DeliveryReport()
    report.recovered = _store.recover_claims(
        store, now, dt.timedelta(seconds=seconds(d.claim_timeout)), _claimant_gone)
    limit = max_batch if max_batch is not None else d.batch
    if limit < 1:
        raise NotificationError(f"max_batch must be at least 1, not {limit}")
    token = claim_token()
    first, most = seconds(d.first_retry), seconds(d.max_retry)
    unreachable: set[str] = set()
    try:
        for oid, sink_name, recipient in _store.due(store, now, sinks.keys(), limit):
            target = sink_name if sink_name == "email" else f"{sink_name}:{recipient}"
            if target in unreachable:
                report.deferred += 1
                continue
            row = _store.claim(store, oid, token, now)
            if row is None:
                continue  # another worker took it
            report.claimed += 1
            try:
                sinks[sink_name].send(_message(row))
            except Exception as e:  # noqa: BLE001 - a sink's bug must not stop the pass
                err = e if isinstance(e, SinkError) else SinkError(
                    f"{sink_name}: {type(e).__name__}: {e}")
                if err.unreachable:
                    unreachable.add(target)
                give_up = err.permanent or row.attempts >= d.max_attempts
                retry_at = None if give_up else now + _backoff(row.attempts, first, most)
                status = _store.mark_failed(store, oid, token, now, str(err), retry_at)
                line = (f"outbox {oid} ({row.subscriber}, {sink_name}), attempt "
                        f"{row.attempts}: {err}")
                report.errors.append(line)
                if status == "dead":
                    report.dead += 1
                    log.error("%s — given up, dead letter", line)
                elif status == "pending":
                    report.retrying += 1
                    log.warning("%s — retry at %s", line, retry_at)
                continue
            if _store.mark_sent(store, oid, token, now):
                report.sent += 1
            else:
                report.lost += 1
                log.warning("outbox %d was sent, but its claim had expired and another worker "
                            "took it over: the receiver may get key %s twice", oid,
                            row.idempotency_key)
    finally:
        for s in sinks.values():
            try:
                s.close()
            except Exception as e:  # noqa: BLE001 - closing must not hide the pass's result
                log.warning("closing a sink failed: %s", e)
    return report


# --------------------------------------------------------------------------- reading

def outbox(store: Store, status: str | None = None) -> pd.DataFrame:
    """The outbox, oldest first (columns :data:`OUTBOX_COLUMNS`), or only the rows of one
    ``status`` (``pending``, ``sending``, ``sent``, ``dead``)."""
    if status is not None and status not in STATUSES:
        raise NotificationError(f"outbox status: one of {', '.join(STATUSES)}, not {status!r}")
    return _store.outbox(store, status)


def dead_letters(store: Store) -> pd.DataFrame:
    """Messages given up on, oldest first (columns :data:`DEAD_LETTER_COLUMNS`)."""
    return _store.dead_letters(store)


def requeue(store: Store, outbox_ids: Iterable[int] | None = None,
            now: dt.datetime | None = None) -> int:
    """Send dead messages again (all, or ``outbox_ids``): back to ``pending`` with a fresh
    count of attempts and the same idempotency key.  The number requeued."""
    return _store.requeue_dead(store, outbox_ids, _naive(now))
