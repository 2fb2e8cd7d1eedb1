"""Notifications through the outbox (hydro.services.notifications) against a real local SMTP
server (aiosmtpd) and a real HTTP server on loopback: enqueue once, deliver exactly once
per idempotency key through sinks that are down and come back and a delivering process
killed (SIGKILL) at the two moments that matter, retries with backoff, dead letters, and
the schema-5 upgrade of a store that already has alerts.

What "exactly once" means here (hydro/services/notifications.py): the outbox never loses
a message and never sends one twice *unless* the sending process dies after the receiver
accepted the message and before the outbox recorded it; then the message goes again with
the same key.  The acceptance test asserts both numbers: every expected key is received,
and after dedupe on the key each exactly once; the raw count is the number of messages
plus exactly the one repeat that the kill after sending causes (and none for the kill
after claiming).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from conftest import ROOT
from postgres_support import fresh_pg_url
from sqlalchemy import text

from hydro.config import load_config
from hydro.services import alerts, notifications
from hydro.services.sinks import HttpWebhookSink, SmtpSink, verify_signature

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")


# --------------------------------------------------------------------------- receivers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailInbox:
    """aiosmtpd handler keeping every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = MailInbox()
        self.controller = None

    def start(self) -> None:
        self.controller = aiosmtpd_controller.Controller(self.inbox, hostname="127.0.0.1",
                                                         port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class WebhookServer:
    """An HTTP server on loopback recording every POST (headers and JSON); ``status`` is
    what it answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.posts: list[dict] = []
        self.status = 200
        self.httpd: ThreadingHTTPServer | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append({"path": self.path,
                                    "key": self.headers.get("Idempotency-Key"),
                                    "type": self.headers.get("Content-Type"),
                                    "json": json.loads(body.decode("utf-8")),
                                    "status": outer.status,
                                    "raw": body, "headers": dict(self.headers.items())})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.handler = Handler

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@pytest.fixture
def smtp():
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def hook():
    server = WebhookServer(free_port())
    yield server
    server.stop()


# --------------------------------------------------------------------------- deployment

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, monkeypatch):
    """The store of :func:`deployment`: the config's SQLite file, or PostgreSQL through
    HYDRORISK_DB_URL (inherited by the delivering subprocesses)."""
    if request.param == "postgres":
        monkeypatch.setenv("HYDRORISK_DB_URL", fresh_pg_url())
    else:
        monkeypatch.delenv("HYDRORISK_DB_URL", raising=False)
    return request.param


def notifications_toml(smtp_port: int, hook: WebhookServer, **delivery) -> str:
    d = {"interval": '"1 min"', "max_attempts": "5", "first_retry": '"1 s"',
         "max_retry": '"2 s"', "claim_timeout": '"10 min"', "batch": "100",
         "max_event_age": '"2 d"', **delivery}
    return "\n".join(
        ["[delivery]", *(f"{k} = {v}" for k, v in d.items()), "",
         "[sinks.email]", 'host = "127.0.0.1"', f"port = {smtp_port}",
         'from = "alerts@hydro.example.kz"', 'timeout = "5 s"', "",
         "[sinks.webhook]", 'timeout = "5 s"', ""]) + f"""
[[subscribers]]
id = "kz-ural"
name = "Kazhydromet West Kazakhstan, duty officer"
language = "kk"
party = "KZ"
email = "duty-ural@example.kz"
webhook = "{hook.url('/kz')}"
basins = ["ural"]
min_severity = "adverse"

[[subscribers]]
id = "ru-orsk"
name = "Orenburg CGMS, duty forecaster"
language = "ru"
party = "RU"
email = "duty@example.ru"
stations = ["RU:ORSK"]
events = ["opened", "acknowledged", "closed"]

[[subscribers]]
id = "commission"
name = "Joint commission feed"
language = "en"
party = "commission"
webhook = "{hook.url('/commission')}"
parties = ["KZ"]
min_severity = "dangerous"

[[subscribers]]
id = "switched-off"
name = "Nobody"
language = "en"
party = "KZ"
email = "nobody@example.kz"
enabled = false
"""


def deployment(config_copy, smtp_port, hook, **delivery):
    (config_copy / "notifications.toml").write_text(
        notifications_toml(smtp_port, hook, **delivery), encoding="utf-8")
    config = load_config(config_copy)
    from hydro.store.db import open_store

    return config, open_store(config.store_url, config.network)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def make_alerts(store, t0: dt.datetime, rules: str = "") -> dict[str, int]:
    """Four alerts and their events; returns their ids by letter.

    A: Orsk (RU, Ural) dangerous, opened, acknowledged, closed;  B: Uralsk (KZ, Ural)
    adverse;  C: Semey (KZ, Irtysh) info;  D: Kostanay (KZ, Tobol) dangerous."""
    m = dt.timedelta(minutes=1)
    a = alerts.open_alert(store, "orsk-stage" + rules, "RU:ORSK", "dangerous", 812.0, 760.0,
                          observed_at=t0 - 60 * m, note="RU reading", by="rules", at=t0)
    b = alerts.open_alert(store, "uralsk-stage" + rules, "KZ:19071", "adverse", 655.0, 650.0,
                          observed_at=t0, by="rules", at=t0 + m)
    c = alerts.open_alert(store, "semey-silent" + rules, "KZ:11025", "info", by="rules",
                          at=t0 + 2 * m)
    d = alerts.open_alert(store, "kostanay-stage" + rules, "KZ:12008", "dangerous", 530.0, 500.0,
                          by="rules", at=t0 + 3 * m)
    alerts.acknowledge(store, a.id, "duty officer Aigerim", at=t0 + 5 * m)
    alerts.close(store, a.id, "duty officer Aigerim", note="below 760 cm", at=t0 + 30 * m)
    return {"A": a.id, "B": b.id, "C": c.id, "D": d.id}


def expected_rows(store, ids) -> set[tuple[int, str, str, str]]:
    """(alert, event, subscriber, sink) the subscriptions above select, worked out by hand."""
    A, B, D = ids["A"], ids["B"], ids["D"]  # noqa: N806
    return {(A, "opened", "kz-ural", "email"), (A, "opened", "kz-ural", "webhook"),
            (A, "opened", "ru-orsk", "email"),
            (A, "acknowledged", "ru-orsk", "email"),      # kz-ural: not its event kinds
            (A, "closed", "kz-ural", "email"), (A, "closed", "kz-ural", "webhook"),
            (A, "closed", "ru-orsk", "email"),
            (B, "opened", "kz-ural", "email"), (B, "opened", "kz-ural", "webhook"),
            # C (info, Irtysh): nobody; D (dangerous, KZ, Tobol): the commission only
            (D, "opened", "commission", "webhook")}


def outbox_rows(store) -> set[tuple[int, str, str, str]]:
    box = notifications.outbox(store)
    events = alerts.history(store).set_index("id")["event"]
    return {(int(r.alert_id), events.loc[r.alert_event_id], r.subscriber, r.sink)
            for r in box.itertuples()}


# --------------------------------------------------------------------------- enqueue

def test_enqueue_selects_by_subscription_renders_and_never_duplicates(config_copy, hook):
    config, store = deployment(config_copy, free_port(), hook)
    t0 = utcnow() - dt.timedelta(hours=1)
    ids = make_alerts(store, t0)
    n = notifications.enqueue(store, config)
    assert n == 10
    assert outbox_rows(store) == expected_rows(store, ids)
    assert notifications.enqueue(store, config) == 0            # nothing new: nothing added
    box = notifications.outbox(store)
    assert list(box.columns) == notifications.OUTBOX_COLUMNS
    assert set(box["status"]) == {"pending"} and set(box["attempts"]) == {0}
    assert box["idempotency_key"].is_unique
    # rendered at enqueue in the subscriber's language, with the station's name in it
    kk = box[(box.subscriber == "kz-ural") & (box.alert_id == ids["A"])].iloc[0]
    assert kk.language == "kk" and "Жайық – Орск қ." in kk.subject
    assert kk.subject.startswith("[hydrorisk] Жаңа ескерту. Қауіпті")
    ru = box[(box.subscriber == "ru-orsk")].iloc[0]
    assert ru.subject.startswith("[hydrorisk] Новое предупреждение. Опасно: р. Урал – г. Орск")
    # a later change of the alert does not alter what was rendered
    with store.begin() as conn:
        conn.execute(text("UPDATE alerts SET note = 'changed' WHERE id = :i"), {"i": ids["A"]})
    assert notifications.outbox(store).set_index("id").loc[kk.id, "subject"] == kk.subject
    # a new event is picked up on the next pass, and only it
    alerts.open_alert(store, "orsk-rate", "RU:ORSK", "adverse", 60.0, 50.0, by="rules",
                      at=t0 + dt.timedelta(hours=1))
    assert notifications.enqueue(store, config) == 3  # kz-ural x2 + ru-orsk (min info)


def test_old_events_and_two_enqueuers_at_once(backend, config_copy, hook):
    config, store = deployment(config_copy, free_port(), hook)
    make_alerts(store, utcnow() - dt.timedelta(days=3))           # a replay of the past
    assert notifications.enqueue(store, config) == 0
    assert notifications.outbox(store).empty
    make_alerts(store, utcnow(), rules="-now")
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        counts.append(notifications.enqueue(store, config))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(counts) == 10 and len(notifications.outbox(store)) == 10


def test_a_release_change_concerns_the_downstream_party(config):
    concerned = notifications.countries_concerned(config, "RU:IRIKLINSK", "release_change",
                                                  "RU")
    assert concerned == {"RU", "KZ"}       # Iriklinsk's release reaches Uralsk and Atyrau
    assert notifications.countries_concerned(config, "RU:IRIKLINSK", "stage_level",
                                             "RU") == {"RU"}


# --------------------------------------------------------------------------- acceptance

KILLER = r"""
import os, signal, sys
from hydro.config import load_config
from hydro.services import notifications
from hydro.store import notifications as outbox_store
from hydro.store.db import open_store

config = load_config(sys.argv[1])
engine = open_store(config.store_url)

def die(what):
    print(what, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[2] == "after-claim":        # the row is claimed; nothing is sent yet
    real_claim = outbox_store.claim
    def claim(*args):
        row = real_claim(*args)
        if row is not None:
            die(f"killed after claiming {row.id} {row.idempotency_key}")
        return row
    outbox_store.claim = claim
else:                                    # the receiver has it; the outbox does not know
    real_mark = outbox_store.mark_sent
    marked = []
    def mark_sent(engine_, oid, *args):
        marked.append(oid)
        if len(marked) == 2:
            row = notifications.outbox(engine_).set_index("id").loc[oid]
            die(f"killed after sending {oid} {row.idempotency_key}")
        return real_mark(engine_, oid, *args)
    outbox_store.mark_sent = mark_sent
print(notifications.deliver(engine, config).summary(), flush=True)
"""


def run_and_kill(config_dir, mode: str) -> tuple[int, str]:
    """Deliver in a separate process that SIGKILLs itself at ``mode``; (outbox id, key)."""
    proc = subprocess.run([sys.executable, "-c", KILLER, str(config_dir), mode], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9, (proc.returncode, proc.stdout, proc.stderr)
    words = proc.stdout.strip().splitlines()[-1].split()
    assert words[:2] == ["killed", "after"], proc.stdout
    return int(words[3]), words[4]


@pytest.mark.slow
def test_sinks_down_then_up_and_a_killed_worker_deliver_every_alert_exactly_once(
        backend, config_copy, smtp, hook):
    config, store = deployment(config_copy, smtp.port, hook)
    ids = make_alerts(store, utcnow() - dt.timedelta(minutes=40))
    assert notifications.enqueue(store, config) == 10
    box = notifications.outbox(store)
    expected_keys = set(box["idempotency_key"])
    by_key = box.set_index("idempotency_key")

    # 1. both sinks down (nothing listens on either port): nothing is lost or sent
    down = notifications.deliver(store, config)
    assert (down.sent, down.dead) == (0, 0)
    # one attempt per unreachable target; the rest of that target's rows wait untouched
    assert down.retrying == 3 and down.deferred == 7, down   # SMTP, /kz, /commission
    box = notifications.outbox(store)
    assert set(box["status"]) == {"pending"} and box["attempts"].sum() == 3
    assert box["last_error"].str.contains("unreachable").sum() == 3
    assert smtp.inbox.messages == [] and hook.posts == []

    # 2. the sinks come back; the delivering process is killed twice
    smtp.start()
    hook.start()
    time.sleep(2.2)                                         # past the backoff (1 s .. 2 s)
    claimed_id, claimed_key = run_and_kill(config_copy, "after-claim")
    assert notifications.outbox(store).set_index("id").loc[claimed_id, "status"] == "sending"
    sent_id, sent_key = run_and_kill(config_copy, "after-send")
    after_kill = notifications.outbox(store).set_index("id")
    assert after_kill.loc[sent_id, "status"] == "sending"    # accepted, not recorded
    # the 2nd process returned the 1st one's row to the queue (its process is gone)
    assert after_kill.loc[claimed_id, "status"] in ("pending", "sent")

    # 3. the next pass recovers the dead worker's row and finishes
    up = notifications.deliver(store, config)
    assert up.recovered == 1 and up.dead == 0 and up.retrying == 0
    box = notifications.outbox(store)
    assert set(box["status"]) == {"sent"}, box[["id", "status", "last_error"]]
    assert notifications.deliver(store, config).claimed == 0     # nothing left
    assert notifications.enqueue(store, config) == 0

    # what the receivers saw
    mail_keys = [m["X-Hydrorisk-Idempotency-Key"] for m in smtp.inbox.messages]
    hook_keys = [p["key"] for p in hook.posts]
    raw = Counter(mail_keys + hook_keys)
    # after dedupe on the key: every message exactly once, nothing else
    assert set(raw) == expected_keys
    # raw: one repeat, of the message whose sender was killed after the receiver took it
    assert sum(raw.values()) == len(expected_keys) + 1
    assert {k for k, n in raw.items() if n > 1} == {sent_key}
    assert raw[claimed_key] == 1                            # killed before sending: once
    assert len(mail_keys) + len(hook_keys) == 11
    assert len(set(mail_keys)) == 6 and len(set(hook_keys)) == 4

    # the key is on every delivery, the same on the repeat; the text is the one rendered
    with store.connect() as conn:
        bodies = dict(conn.execute(text("SELECT idempotency_key, body FROM "
                                        "notification_outbox")).all())
    for m in smtp.inbox.messages:
        key = m["X-Hydrorisk-Idempotency-Key"]
        oid = int(by_key.loc[key, "id"])
        assert m["Message-ID"] == f"<hydrorisk.{oid}.{key}@hydro.example.kz>"
        assert m["To"] == by_key.loc[key, "recipient"]
        assert m["Subject"] == by_key.loc[key, "subject"]
        assert m.get_content() == bodies[key]
    ids_of = Counter(m["Message-ID"] for m in smtp.inbox.messages)
    assert len(ids_of) == 6                                 # a repeat reuses its Message-ID
    for p in hook.posts:
        assert p["json"]["idempotency_key"] == p["key"]
        assert p["type"] == "application/json; charset=utf-8"
        assert p["path"] == {"kz-ural": "/kz", "commission": "/commission"}[
            p["json"]["subscriber"]]
        assert p["json"]["alert"]["id"] in (ids["A"], ids["B"], ids["D"])
        assert p["json"]["station"]["names"]["en"]
    # each subscriber in their language
    ru = [m for m in smtp.inbox.messages if m["To"] == "duty@example.ru"]
    assert len({m["Message-ID"] for m in ru}) == 3
    assert all("Пост: р. Урал – г. Орск (RU:ORSK)" in m.get_content() for m in ru)
    kk = [m for m in smtp.inbox.messages if m["To"] == "duty-ural@example.kz"]
    assert any("Бекет: Жайық – Орск қ. (RU:ORSK)" in m.get_content() for m in kk)
    en = [p for p in hook.posts if p["json"]["subscriber"] == "commission"]
    assert en and "Tobol at Kostanay" in en[0]["json"]["subject"]
    # the killed attempts are counted
    final = box.set_index("id")
    assert final.loc[sent_id, "attempts"] >= 2 and final.loc[claimed_id, "attempts"] >= 2


@pytest.mark.slow
def test_a_claim_of_a_worker_on_another_host_is_retried_after_the_claim_timeout(
        config_copy, smtp, hook):
    config, store = deployment(config_copy, smtp.port, hook, claim_timeout='"5 min"')
    smtp.start()
    hook.start()
    make_alerts(store, utcnow() - dt.timedelta(minutes=40))
    notifications.enqueue(store, config)
    from hydro.store import notifications as outbox_store

    now = utcnow()
    (oid, _, _), *_ = outbox_store.due(store, now)
    assert outbox_store.claim(store, oid, "elsewhere:1:abc", now) is not None
    first = notifications.deliver(store, config, now=now)
    assert first.recovered == 0 and first.sent == 9      # its claim is honoured for now
    later = notifications.deliver(store, config, now=now + dt.timedelta(minutes=6))
    assert later.recovered == 1 and later.sent == 1
    assert set(notifications.outbox(store)["status"]) == {"sent"}


# --------------------------------------------------------------------------- retries

def test_failures_back_off_then_become_dead_letters_which_can_be_requeued(config_copy, hook):
    config, store = deployment(config_copy, free_port(), hook, max_attempts="3",
                               first_retry='"1 min"', max_retry='"3 min"')
    hook.start()
    hook.status = 503
    alerts.open_alert(store, "kostanay-stage", "KZ:12008", "dangerous", 530.0, 500.0,
                      by="rules", at=utcnow())
    assert notifications.enqueue(store, config) == 1
    t = utcnow()
    webhook_only = {"webhook": HttpWebhookSink(config.notifications.sinks.webhook)}
    r1 = notifications.deliver(store, config, sinks=webhook_only, now=t)
    assert (r1.retrying, r1.dead) == (1, 0) and "HTTP 503" in r1.errors[0]
    row = notifications.outbox(store).iloc[0]
    assert row["next_attempt_at"] == t + dt.timedelta(minutes=1)     # first_retry
    assert notifications.deliver(store, config, sinks=webhook_only,
                                 now=t + dt.timedelta(seconds=59)).claimed == 0  # not due
    r2 = notifications.deliver(store, config, sinks=webhook_only,
                               now=t + dt.timedelta(minutes=1))
    assert r2.retrying == 1
    row = notifications.outbox(store).iloc[0]
    assert row["next_attempt_at"] == t + dt.timedelta(minutes=3)     # doubled
    r3 = notifications.deliver(store, config, sinks=webhook_only,
                               now=t + dt.timedelta(minutes=3))
    assert r3.dead == 1
    dead = notifications.dead_letters(store)
    assert list(dead.columns) == notifications.DEAD_LETTER_COLUMNS
    assert len(dead) == 1 and dead.iloc[0]["attempts"] == 3
    assert "HTTP 503" in dead.iloc[0]["last_error"]
    assert notifications.outbox(store, "dead")["id"].tolist() == [row["id"]]
    assert notifications.deliver(store, config, sinks=webhook_only,
                                 now=t + dt.timedelta(days=1)).claimed == 0
    # an operator fixes the receiver and requeues: sent, with the same key
    hook.status = 200
    assert notifications.requeue(store) == 1
    r4 = notifications.deliver(store, config, sinks=webhook_only, now=utcnow())
    assert r4.sent == 1
    assert [p["key"] for p in hook.posts] == [row["idempotency_key"]] * 4
    assert pd.notna(notifications.dead_letters(store).iloc[0]["requeued_at"])
    with pytest.raises(notifications.NotificationError, match="outbox status: one of"):
        notifications.outbox(store, "lost")


def test_a_permanent_refusal_is_a_dead_letter_at_once(config_copy, hook):
    config, store = deployment(config_copy, free_port(), hook)
    hook.start()
    hook.status = 404
    alerts.open_alert(store, "kostanay-stage", "KZ:12008", "dangerous", 530.0, 500.0,
                      by="rules", at=utcnow())
    notifications.enqueue(store, config)
    r = notifications.deliver(store, config,
                              sinks={"webhook": HttpWebhookSink(
                                  config.notifications.sinks.webhook)})
    assert r.dead == 1 and "HTTP 404" in r.errors[0]
    assert notifications.dead_letters(store).iloc[0]["attempts"] == 1


def test_signed_webhooks_through_the_delivery_pass(config_copy, hook, monkeypatch, caplog):
    """secret_env named but its variable unset: nothing goes out unsigned, one dead letter
    per URL a pass names the variable; once set, every POST verifies and no log line or
    stored error holds the secret."""
    var, secret = "HYDRORISK_TEST_HOOK_SECRET", "n0t-in-any-log-Ақ-Жайық"
    config, store = deployment(config_copy, free_port(), hook)
    path = config_copy / "notifications.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "[sinks.webhook]\n", f'[sinks.webhook]\nsecret_env = "{var}"\n'), encoding="utf-8")
    config = load_config(config_copy)
    assert config.notifications.sinks.webhook.secret_env == var
    hook.start()
    make_alerts(store, utcnow())
    notifications.enqueue(store, config)
    webhook_only = {"webhook": HttpWebhookSink(config.notifications.sinks.webhook)}
    caplog.set_level("DEBUG")
    monkeypatch.delenv(var, raising=False)
    r1 = notifications.deliver(store, config, sinks=webhook_only)
    assert (r1.dead, r1.deferred, hook.posts) == (2, 2, [])    # /kz and /commission
    assert all(f"environment variable {var} is not set or empty" in e for e in r1.errors)
    monkeypatch.setenv(var, secret)
    assert notifications.requeue(store) == 2
    hook.status = 503
    r2 = notifications.deliver(store, config, sinks=webhook_only)
    assert (r2.retrying, r2.deferred) == (2, 2)
    hook.status = 200
    r3 = notifications.deliver(store, config, sinks=webhook_only,
                               now=utcnow() + dt.timedelta(minutes=5))
    assert r3.sent == 4
    assert len(hook.posts) == 6
    assert all(verify_signature(secret, p["headers"], p["raw"]) for p in hook.posts)
    assert not any(verify_signature("another", p["headers"], p["raw"]) for p in hook.posts)
    stored = " ".join(notifications.dead_letters(store)["last_error"].astype(str))
    assert var in stored
    assert var in caplog.text and "HTTP 503" in caplog.text      # the log was captured
    for written in (caplog.text, stored, " ".join(r1.errors + r2.errors)):
        assert secret not in written


def test_a_refused_mailbox_is_permanent_and_a_sink_bug_is_retried(config_copy, smtp, hook):
    class Refusing(MailInbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            if address.startswith("duty@"):
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    smtp.inbox = Refusing()
    smtp.start()
    config, store = deployment(config_copy, smtp.port, hook)
    make_alerts(store, utcnow())
    notifications.enqueue(store, config)
    email_only = {"email": SmtpSink(config.notifications.sinks.email)}
    r = notifications.deliver(store, config, sinks=email_only)
    assert r.sent == 3 and r.dead == 3                     # duty@example.ru does not exist
    assert set(notifications.dead_letters(store)["subscriber"]) == {"ru-orsk"}

    class Broken:
        def send(self, message):
            raise KeyError("a bug")

        def close(self):
            pass

    r = notifications.deliver(store, config, sinks={"webhook": Broken()})
    assert r.retrying == 4 and "KeyError" in r.errors[0]


# --------------------------------------------------------------------------- store

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    return (f"sqlite:///{tmp_path / 'n.sqlite'}" if request.param == "sqlite"
            else fresh_pg_url())


def test_two_workers_claim_each_message_once(db_url, config, tmp_path, hook):
    from hydro.config.notifications import load_notifications
    from hydro.store.db import open_store

    store = open_store(db_url, config.network)
    path = tmp_path / "notifications.toml"
    path.write_text(notifications_toml(free_port(), hook), encoding="utf-8")
    cfg = _with_notifications(config, load_notifications(path, config.network))
    make_alerts(store, utcnow())
    assert notifications.enqueue(store, cfg) == 10
    hook.start()
    reports = []

    def run():
        reports.append(notifications.deliver(
            store, cfg, sinks={"webhook": HttpWebhookSink(cfg.notifications.sinks.webhook)}))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(r.sent for r in reports) == 4
    assert Counter(p["key"] for p in hook.posts).most_common(1)[0][1] == 1
    assert len(hook.posts) == 4
    store.dispose()


def _with_notifications(config, settings):
    """``config`` whose ``notifications`` property answers ``settings``."""

    class Patched(type(config)):
        @property
        def notifications(self):
            return settings

    return Patched(**{f: getattr(config, f) for f in config.__dataclass_fields__})


def test_upgrade_to_schema_5_keeps_alerts_and_sends_none_of_the_past(backend, config_copy,
                                                                     hook):
    from hydro.store.db import SCHEMA_VERSION, current_version, make_engine, open_store

    config, store = deployment(config_copy, free_port(), hook)
    ids = make_alerts(store, utcnow())
    url = config.store_url
    store.dispose()
    # back to schema 4: no notification tables
    raw = make_engine(url)
    with raw.begin() as conn:
        for t in ("notification_dead_letters", "notification_outbox", "notification_enqueued"):
            conn.execute(text(f"DROP TABLE {t}"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES "
                          "(4, '2026-01-01 00:00:00')"))
    assert current_version(raw) == 4
    raw.dispose()

    store = open_store(url, config.network)                        # upgrades
    assert current_version(store) == SCHEMA_VERSION >= 5
    assert set(alerts.list_alerts(store, "all")["id"]) == set(ids.values())
    assert len(alerts.history(store)) == 6
    with store.connect() as conn:
        marks = conn.execute(text("SELECT skipped, COUNT(*) FROM notification_enqueued "
                                  "GROUP BY skipped")).all()
    assert marks == [("before-notifications", 6)]
    assert notifications.enqueue(store, config) == 0              # the past is not mailed
    alerts.open_alert(store, "orsk-rate", "RU:ORSK", "adverse", 60.0, 50.0, by="rules",
                      at=utcnow())
    assert notifications.enqueue(store, config) == 3              # what happens next is
    store.dispose()


# --------------------------------------------------------------------------- worker

def test_the_worker_schedules_and_runs_the_notify_job(config_copy, smtp, hook):
    from hydro.worker import NOTIFY_JOB, build_scheduler, run_notify_job, sync_jobs

    config, store = deployment(config_copy, smtp.port, hook, interval='"30 s"')
    sched = build_scheduler(config, str(config_copy))
    sched.start(paused=True)
    try:
        sync_jobs(sched, config, str(config_copy))
        sync_jobs(sched, config, str(config_copy))                 # idempotent
        jobs = [j for j in sched.get_jobs() if j.id == NOTIFY_JOB]
        assert len(jobs) == 1 and jobs[0].trigger.interval == dt.timedelta(seconds=30)
        # nobody enabled (the shipped file): no job; enabling one brings it back
        ours = (config_copy / "notifications.toml").read_text(encoding="utf-8")
        shutil.copy(ROOT / "config" / "notifications.toml", config_copy)
        sync_jobs(sched, load_config(config_copy), str(config_copy))
        assert sched.get_job(NOTIFY_JOB) is None
        (config_copy / "notifications.toml").write_text(ours, encoding="utf-8")
        sync_jobs(sched, load_config(config_copy), str(config_copy))
        assert sched.get_job(NOTIFY_JOB) is not None
    finally:
        sched.shutdown(wait=False)
    smtp.start()
    hook.start()
    make_alerts(store, utcnow())
    assert run_notify_job(str(config_copy)) == {"enqueued": 10, "sent": 10, "retrying": 0,
                                                "dead": 0, "deferred": 0}
    assert len(smtp.inbox.messages) == 6 and len(hook.posts) == 4
    assert run_notify_job(str(config_copy))["sent"] == 0
