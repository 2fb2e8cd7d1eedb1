"""Signed webhooks: the HMAC-SHA256 over "<timestamp>.<body>" that HttpWebhookSink adds when
``[sinks.webhook] secret_env`` names a variable, and the receiver's verify_signature.

A loopback HTTP server stands in for the subscriber and records the raw bytes and headers
it received, so the checks run on what went over the wire."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ROOT

from hydro.config.notifications import WebhookSink, load_notifications
from hydro.errors import ConfigError
from hydro.services.sinks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    HttpWebhookSink,
    Message,
    SinkError,
    verify_signature,
    webhook_signature,
)

VAR = "HYDRORISK_TEST_WEBHOOK_SECRET"
SECRET = "s3cret-Жел-tasqyn-0f9e"  # non-ASCII on purpose: the key is its UTF-8 bytes


def hmac_sha256_by_hand(key: bytes, data: bytes) -> str:
    """HMAC-SHA256 written out from RFC 2104 (block 64 bytes, ipad 0x36, opad 0x5c) on
    hashlib alone: an independent construction to check the sink's against."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + data).digest()
    return hashlib.sha256(bytes(b ^ 0x5C for b in key) + inner).hexdigest()


class Receiver:
    """A subscriber's endpoint on loopback: keeps each POST's raw body and headers."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[bytes, object]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append((body, self.headers))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def message(url: str) -> Message:
    return Message(outbox_id=41, idempotency_key="9f1c2e7a", subscriber="kz-ural-duty",
                   recipient=url, language="kk", subject="Қауіпті деңгей: Орал — Кушум",
                   body="Су деңгейі 812 см", created_at=dt.datetime(2026, 4, 2, 6, 0),
                   data={"alert_id": 7, "severity": "dangerous"})


def signed_post(receiver: Receiver, monkeypatch) -> tuple[bytes, object, int, int]:
    """Send one message through a signing sink; (raw body, headers, clock before, after)."""
    monkeypatch.setenv(VAR, SECRET)
    sink = HttpWebhookSink(WebhookSink(secret_env=VAR))
    before = int(time.time())
    sink.send(message(receiver.url))
    after = int(time.time())
    assert len(receiver.posts) == 1
    body, headers = receiver.posts[0]
    return body, headers, before, after


# ----------------------------------------------------------------------- the signature

def test_the_by_hand_hmac_matches_rfc_4231_test_case_2():
    assert hmac_sha256_by_hand(b"Jefe", b"what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_a_hand_worked_signature_of_timestamp_dot_body():
    body = '{"idempotency_key":"9f1c2e7a","text":"Су деңгейі"}'.encode()
    timestamp = 1775109600  # 2026-04-02 06:00:00 UTC
    signed = b"1775109600." + body
    expected = hmac_sha256_by_hand(SECRET.encode("utf-8"), signed)
    assert webhook_signature(SECRET, timestamp, body) == expected
    assert webhook_signature(SECRET.encode("utf-8"), timestamp, body) == expected
    # what is signed is exactly "<timestamp>.<body>": another layout gives another MAC
    assert webhook_signature(SECRET, timestamp, body) != hmac_sha256_by_hand(
        SECRET.encode("utf-8"), body + b"." + b"1775109600")
    headers = {TIMESTAMP_HEADER: "1775109600", SIGNATURE_HEADER: f"sha256={expected}"}
    assert verify_signature(SECRET, headers, body, now=timestamp + 1)


# --------------------------------------------------------------- over the wire, verified

def test_a_signed_post_is_accepted_by_verify_signature(receiver, monkeypatch):
    body, headers, before, after = signed_post(receiver, monkeypatch)
    stamp = int(headers[TIMESTAMP_HEADER])
    assert before <= stamp <= after
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", headers[SIGNATURE_HEADER])
    assert headers[SIGNATURE_HEADER] == "sha256=" + hmac_sha256_by_hand(
        SECRET.encode("utf-8"), str(stamp).encode() + b"." + body)
    assert verify_signature(SECRET, headers, body)                  # the receiver's clock
    assert verify_signature(SECRET.encode("utf-8"), headers, body, now=stamp)
    # a framework's plain dict with lower-cased names works as well
    lowered = {k.lower(): v for k, v in headers.items()}
    assert verify_signature(SECRET, lowered, body, now=stamp)
    payload = json.loads(body.decode("utf-8"))
    assert payload["idempotency_key"] == "9f1c2e7a" == headers["Idempotency-Key"]
    assert payload["subject"] == "Қауіпті деңгей: Орал — Кушум"


def test_tampering_another_secret_and_a_replay_are_rejected(receiver, monkeypatch):
    body, headers, _, _ = signed_post(receiver, monkeypatch)
    stamp = int(headers[TIMESTAMP_HEADER])
    tampered = body.replace(b'"dangerous"', b'"info"')
    assert tampered != body
    assert not verify_signature(SECRET, headers, tampered, now=stamp)
    assert not verify_signature(SECRET, headers, body + b" ", now=stamp)
    assert not verify_signature(SECRET + "x", headers, body, now=stamp)
    assert not verify_signature("", headers, body, now=stamp)
    # a replay: accepted up to the tolerance, refused after it (and far in the future)
    assert verify_signature(SECRET, headers, body, now=stamp + 300)
    assert not verify_signature(SECRET, headers, body, now=stamp + 301)
    assert not verify_signature(SECRET, headers, body, tolerance_s=60, now=stamp + 61)
    assert not verify_signature(SECRET, headers, body, now=stamp - 301)
    # a fresh timestamp pasted onto the old signature does not verify
    moved = {TIMESTAMP_HEADER: str(stamp + 1000), SIGNATURE_HEADER: headers[SIGNATURE_HEADER]}
    assert not verify_signature(SECRET, moved, body, now=stamp + 1000)


@pytest.mark.parametrize("headers", [
    {},
    {TIMESTAMP_HEADER: "1775109600"},
    {SIGNATURE_HEADER: "sha256=" + "0" * 64},
    {TIMESTAMP_HEADER: "1775109600.5", SIGNATURE_HEADER: "sha256=" + "0" * 64},
    {TIMESTAMP_HEADER: "-1775109600", SIGNATURE_HEADER: "sha256=" + "0" * 64},
    {TIMESTAMP_HEADER: "١٧٧٥١٠٩٦٠٠", SIGNATURE_HEADER: "sha256=" + "0" * 64},
], ids=["none", "no-signature", "no-timestamp", "fraction", "negative", "arabic-digits"])
def test_missing_or_malformed_headers_are_rejected_without_raising(headers):
    assert not verify_signature(SECRET, headers, b"{}", now=1775109600)


def test_a_signature_without_its_prefix_or_in_another_encoding_is_rejected():
    body, stamp = b'{"a":1}', 1775109600
    mac = webhook_signature(SECRET, stamp, body)
    good = {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: f"sha256={mac}"}
    assert verify_signature(SECRET, good, body, now=stamp)
    for other in (mac, f"sha1={mac}", f"sha256={mac[:-1]}", f"sha256={mac}ü"):
        assert not verify_signature(SECRET, {**good, SIGNATURE_HEADER: other}, body, now=stamp)
    with pytest.raises(ValueError, match="tolerance_s must not be negative"):
        verify_signature(SECRET, good, body, tolerance_s=-1, now=stamp)


def test_the_readme_receiver_example_verifies_a_real_post(receiver, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Signed webhooks.**"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    lines = [ln for ln in code.group(1).splitlines() if ln.strip()]
    assert len(lines) <= 6
    namespace: dict = {}
    exec(code.group(1), namespace)  # noqa: S102 - our own README's example
    genuine = namespace["genuine"]
    body, headers, _, _ = signed_post(receiver, monkeypatch)
    key = SECRET.encode("utf-8")
    assert genuine(key, headers, body)
    assert not genuine(key, headers, body.replace(b"812", b"813"))
    assert not genuine(b"wrong", headers, body)
    assert not genuine(key, {}, body)


# ------------------------------------------------------------- unsigned, and the secret

def test_without_secret_env_posts_go_unsigned(receiver, monkeypatch):
    monkeypatch.setenv(VAR, SECRET)  # set, but not named by the file: not used
    HttpWebhookSink(WebhookSink()).send(message(receiver.url))
    body, headers = receiver.posts[0]
    assert headers.get(SIGNATURE_HEADER) is None and headers.get(TIMESTAMP_HEADER) is None
    assert json.loads(body)["outbox_id"] == 41
    assert not verify_signature(SECRET, headers, body)


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_a_missing_secret_is_a_permanent_error_naming_the_variable(receiver, monkeypatch,
                                                                    value):
    if value is None:
        monkeypatch.delenv(VAR, raising=False)
    else:
        monkeypatch.setenv(VAR, value)
    monkeypatch.setenv("HYDRORISK_OTHER_SECRET", SECRET)  # a secret elsewhere in the env
    with pytest.raises(SinkError) as caught:
        HttpWebhookSink(WebhookSink(secret_env=VAR)).send(message(receiver.url))
    err = caught.value
    assert err.permanent and err.unreachable
    assert VAR in str(err) and "not set or empty" in str(err)
    assert SECRET not in str(err) and SECRET not in repr(err)
    assert receiver.posts == []  # nothing went out unsigned


def test_the_secret_is_in_no_error_or_repr(receiver, monkeypatch):
    monkeypatch.setenv(VAR, SECRET)
    settings = WebhookSink(secret_env=VAR)
    sink = HttpWebhookSink(settings)
    receiver.status = 404
    with pytest.raises(SinkError) as refused:
        sink.send(message(receiver.url))
    assert refused.value.permanent
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    with pytest.raises(SinkError) as unreachable:
        sink.send(message(closed))
    assert unreachable.value.unreachable
    for text in (str(refused.value), str(unreachable.value), repr(settings), repr(sink),
                 settings.model_dump_json()):
        assert SECRET not in text
    assert settings.secret() == SECRET.encode("utf-8")


# ----------------------------------------------------------------------- the config file

def test_secret_env_is_a_variable_name_in_the_file(tmp_path):
    p = tmp_path / "notifications.toml"
    p.write_text('[sinks.webhook]\nsecret_env = "HYDRORISK_WEBHOOK_SECRET"\n', encoding="utf-8")
    assert load_notifications(p).sinks.webhook.secret_env == "HYDRORISK_WEBHOOK_SECRET"
    p.write_text('[sinks.webhook]\nsecret_env = "hunter2 is my secret"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"notifications\.toml: sinks\.webhook\.secret_env:"
                                          r".*not an environment-variable name"):
        load_notifications(p)


def test_the_shipped_file_leaves_webhooks_unsigned():
    n = load_notifications(ROOT / "config" / "notifications.toml")
    assert n.sinks.webhook.secret_env is None
    assert n.sinks.webhook.secret() is None
    text = (ROOT / "config" / "notifications.toml").read_text(encoding="utf-8")
    assert '# secret_env = "HYDRORISK_WEBHOOK_SECRET"' in text
