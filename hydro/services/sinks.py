"""Where notifications go: e-mail over SMTP and a webhook (JSON POST), behind one protocol.

A sink takes a :class:`Message` and either returns (the receiver accepted it: the SMTP
server answered 250 to the message, the web server answered 2xx) or raises
:class:`SinkError`, saying whether trying again can help (``permanent``) and whether the
sink as a whole is unreachable (``unreachable``: the delivery pass then leaves the sink's
other messages for the next pass instead of failing each one).

**Idempotency.**  Every attempt at one outbox row carries the same key,
``Message.idempotency_key`` (random, fixed when the row was enqueued):

* webhook: an ``Idempotency-Key`` header and ``"idempotency_key"`` in the JSON body;
* e-mail: a ``Message-ID`` derived from the outbox id and the key
  (``<hydrorisk.<outbox id>.<key>@<sender's domain>>``) and an ``X-Hydrorisk-Idempotency-Key``
  header.

A receiver that must never show an alert twice keeps the keys it has seen and drops a
repeat: a worker killed after the receiver accepted a message but before the outbox
recorded it as sent sends it again (see :mod:`hydro.services.notifications`).  Mail
programs commonly collapse messages with one Message-ID; a webhook receiver has to do it
itself.

**Webhook signatures.**  With ``secret_env`` in ``[sinks.webhook]`` (the NAME of an
environment variable; its value, as UTF-8 bytes, is the key) every POST carries

* ``X-Hydrorisk-Timestamp``: when this attempt was sent, integer Unix seconds (UTC);
* ``X-Hydrorisk-Signature``: ``sha256=`` and the lower-case hex HMAC-SHA256 of the bytes
  ``<timestamp>.<body>`` — the timestamp header's ASCII digits, one ``.``, then the request
  body exactly as sent (UTF-8 JSON; verify the raw bytes before parsing them).

The signature covers the whole body, ``idempotency_key`` included (the ``Idempotency-Key``
header is a copy of it, not signed: a receiver dropping repeats uses the body's key).  Each
attempt is signed afresh, so a retry an hour later carries a current timestamp.  A
receiver checks both with :func:`verify_signature` (or the same few lines in any
language): a forged POST lacks the key, a replayed one is older than the tolerance
(five minutes by default).  Without ``secret_env`` (the default) POSTs go unsigned, as
before.  A ``secret_env`` whose variable is not set or empty when a message is sent is a
permanent :class:`SinkError` naming the variable; the secret itself never appears in a
message, log line or exception.

May import: hydro.config, hydro.errors and the standard library (smtplib, urllib, hmac,
hashlib).  Never the store.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import json
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.message import Message as MimeHeaders
from typing import Any, Protocol

from hydro.config.notifications import EmailSink, WebhookSink, seconds
from hydro.errors import ConfigError, HydroriskError

USER_AGENT = "hydrorisk-notifications/1"
#: the header with the Unix time (integer seconds, UTC) at which a webhook POST was signed
TIMESTAMP_HEADER = "X-Hydrorisk-Timestamp"
#: the header with ``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``
SIGNATURE_HEADER = "X-Hydrorisk-Signature"
#: how far (s) a signed timestamp may be from the receiver's clock, either way, by default
SIGNATURE_TOLERANCE_S = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class SinkError(HydroriskError, RuntimeError):
    """A sink did not accept a message.

    ``permanent``: the receiver refused it for good (an unknown mailbox, HTTP 4xx other
    than 408/429) — retrying cannot help, the message becomes a dead letter at once.
    ``unreachable``: the sink itself cannot be reached (connection refused, time-out, DNS,
    login failed), so its other messages wait for the next pass."""

    def __init__(self, message: str, *, permanent: bool = False,
                 unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


@dataclass(frozen=True)
class Message:
    """One notification as a sink sends it (rendered when it was enqueued)."""

    outbox_id: int
    idempotency_key: str
    subscriber: str
    recipient: str           # e-mail address or webhook URL
    language: str            # kk | ru | en
    subject: str
    body: str                # plain text in ``language``
    created_at: dt.datetime  # naive UTC: when the notification was enqueued
    data: dict[str, Any] = field(default_factory=dict)  # the alert and event, structured

    def webhook_payload(self) -> dict[str, Any]:
        """The JSON body of a webhook POST."""
        return {"idempotency_key": self.idempotency_key, "outbox_id": self.outbox_id,
                "subscriber": self.subscriber, "language": self.language,
                "subject": self.subject, "text": self.body,
                "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                **self.data}


class Sink(Protocol):
    """What the delivery pass needs of a sink."""

    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise :class:`SinkError`."""

    def close(self) -> None:
        """Release connections held between messages of one pass."""


def message_id(message: Message, sender: str) -> str:
    """The stable ``Message-ID`` of ``message``: the same on every attempt."""
    domain = sender.rsplit("@", 1)[-1] or "hydrorisk"
    return f"<hydrorisk.{message.outbox_id}.{message.idempotency_key}@{domain}>"


class SmtpSink:
    """E-mail through one SMTP server, one connection reused for a pass (:meth:`close`)."""

    def __init__(self, settings: EmailSink) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        timeout = seconds(s.timeout)
        try:
            creds = s.credentials()
        except ConfigError as e:
            raise SinkError(str(e), unreachable=True) from None
        try:
            conn: smtplib.SMTP
            if s.ssl:
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=timeout,
                                        context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=timeout)
                if s.starttls:
                    conn.starttls(context=ssl.create_default_context())
            if creds is not None:
                conn.login(*creds)
        except smtplib.SMTPAuthenticationError as e:
            raise SinkError(f"SMTP {s.host}:{s.port}: login refused ({e.smtp_code})",
                            unreachable=True) from None
        except (OSError, smtplib.SMTPException) as e:
            raise SinkError(f"SMTP {s.host}:{s.port} unreachable: {e}",
                            unreachable=True) from None
        return conn

    def build(self, message: Message) -> EmailMessage:
        """The e-mail of ``message`` (plain UTF-8 text, a stable Message-ID)."""
        m = EmailMessage()
        m["From"] = self.settings.sender
        m["To"] = message.recipient
        m["Subject"] = message.subject
        m["Date"] = email.utils.format_datetime(message.created_at.replace(tzinfo=dt.UTC))
        m["Message-ID"] = message_id(message, self.settings.sender)
        m["X-Hydrorisk-Idempotency-Key"] = message.idempotency_key
        m["Content-Language"] = message.language
        m["Auto-Submitted"] = "auto-generated"
        m.set_content(message.body)
        return m

    def send(self, message: Message) -> None:
        """Hand the e-mail to the SMTP server; :class:`SinkError` unless it answers 250."""
        mail = self.build(message)
        if self._conn is None:
            self._conn = self._connect()
        s = self.settings
        try:
            refused = self._conn.send_message(mail)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [c for c, _ in e.recipients.values()]
            raise SinkError(f"SMTP {s.host}: recipient {message.recipient} refused "
                            f"({', '.join(map(str, codes))})",
                            permanent=all(c >= 500 for c in codes)) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            raise SinkError(f"SMTP {s.host}: message refused ({e.smtp_code} "
                            f"{e.smtp_error!r})", permanent=e.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPException) as e:
            self._drop()
            raise SinkError(f"SMTP {s.host}:{s.port} failed while sending: {e}",
                            unreachable=True) from None
        if refused:  # pragma: no cover - one recipient: refusal raises above
            raise SinkError(f"SMTP {s.host}: recipient refused: {refused}")

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


class HttpWebhookSink:
    """A JSON POST per message (``Idempotency-Key`` header); 2xx is success."""

    def __init__(self, settings: WebhookSink) -> None:
        self.settings = settings

    def send(self, message: Message) -> None:
        """POST ``message`` to its URL; :class:`SinkError` unless the answer is 2xx.

        With ``secret_env`` configured the POST is signed (``X-Hydrorisk-Timestamp``,
        ``X-Hydrorisk-Signature``: see the module docstring); a variable that is not set or
        empty is a permanent :class:`SinkError` naming it (the sink as a whole is unusable
        until it is set, so the other messages to that URL wait: ``unreachable``).

        408, 429 and 5xx are worth retrying; another 4xx or a redirect is permanent (the
        URL is wrong: fix the subscriber and requeue the dead letter)."""
        try:
            secret = self.settings.secret()
        except ConfigError as e:
            raise SinkError(str(e), permanent=True, unreachable=True) from None
        body = json.dumps(message.webhook_payload(), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Idempotency-Key": message.idempotency_key,
                   "User-Agent": USER_AGENT}
        if secret is not None:
            timestamp = int(time.time())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = "sha256=" + webhook_signature(secret, timestamp, body)
        req = urllib.request.Request(message.recipient, data=body, method="POST",
                                     headers=headers)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=seconds(self.settings.timeout)) as resp:
                status = resp.status
        except urllib.error.HTTPError as e:
            status = e.code
            e.close()
        except (urllib.error.URLError, OSError) as e:  # TimeoutError is an OSError
            reason = getattr(e, "reason", e)
            raise SinkError(f"webhook {message.recipient} unreachable: {reason}",
                            unreachable=True) from None
        if 200 <= status < 300:
            return
        retry = status in (408, 429) or status >= 500
        raise SinkError(f"webhook {message.recipient} answered HTTP {status}",
                        permanent=not retry, unreachable=status >= 500)

    def close(self) -> None:
        """Nothing is kept open between messages."""


def webhook_signature(secret: bytes | str, timestamp: int, body: bytes) -> str:
    """The lower-case hex HMAC-SHA256, keyed with ``secret`` (a str: its UTF-8 bytes), of
    the bytes ``<timestamp>.<body>``: ``timestamp`` (integer Unix seconds) in decimal ASCII,
    one ``.``, then ``body`` exactly as sent.  ``X-Hydrorisk-Signature`` is ``sha256=`` and
    this.  (HMAC: RFC 2104; SHA-256: FIPS 180-4.)"""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, str] | MimeHeaders, name: str) -> str | None:
    """``name`` from ``headers``, whatever the case of the keys (a plain dict from a web
    framework may hold them lower-cased; http.server's headers ignore case already)."""
    value = headers.get(name)
    if value is not None:
        return str(value)
    lower = name.lower()
    for key, v in headers.items():
        if key.lower() == lower:
            return str(v)
    return None


def verify_signature(secret: bytes | str, headers: Mapping[str, str] | MimeHeaders,
                     body: bytes, tolerance_s: float = SIGNATURE_TOLERANCE_S,
                     now: float | None = None) -> bool:
    """True when a received webhook POST is genuine: ``headers`` (any case of the names)
    carry an ``X-Hydrorisk-Timestamp`` at most ``tolerance_s`` seconds from ``now`` (Unix
    seconds; default: this machine's clock) in either direction, and an
    ``X-Hydrorisk-Signature`` equal to ``sha256=`` + :func:`webhook_signature` of
    ``secret``, that timestamp and ``body`` — the raw request bytes, before any JSON
    parsing.  False for a missing or malformed header, a stale or future timestamp (a
    replay), a changed body or another secret.  The signatures are compared in constant
    time (:func:`hmac.compare_digest`).  Pure: no I/O, never raises for what a sender put
    in the headers (a negative ``tolerance_s`` is a ValueError)."""
    if tolerance_s < 0:
        raise ValueError(f"tolerance_s must not be negative, not {tolerance_s}")
    stamp = _header(headers, TIMESTAMP_HEADER)
    received = _header(headers, SIGNATURE_HEADER)
    if stamp is None or received is None or not _TIMESTAMP.fullmatch(stamp.strip()):
        return False
    timestamp = int(stamp.strip())
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance_s:
        return False
    expected = "sha256=" + webhook_signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"),
                               received.strip().encode("utf-8", "replace"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect of a POST is an error here (urllib would turn it into a GET)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def default_sinks(email: EmailSink, webhook: WebhookSink) -> dict[str, Sink]:
    """The enabled sinks of ``notifications.toml`` by name (``email``, ``webhook``)."""
    sinks: dict[str, Sink] = {}
    if email.enabled:
        sinks["email"] = SmtpSink(email)
    if webhook.enabled:
        sinks["webhook"] = HttpWebhookSink(webhook)
    return sinks
