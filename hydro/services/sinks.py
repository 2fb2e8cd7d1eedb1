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

May import: hydro.config, hydro.errors and the standard library (smtplib, urllib).  Never
the store.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

from hydro.config.notifications import EmailSink, WebhookSink, seconds
from hydro.errors import ConfigError, HydroriskError

USER_AGENT = "hydrorisk-notifications/1"


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

        408, 429 and 5xx are worth retrying; another 4xx or a redirect is permanent (the
        URL is wrong: fix the subscriber and requeue the dead letter)."""
        body = json.dumps(message.webhook_payload(), ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(
            message.recipient, data=body, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8",
                     "Idempotency-Key": message.idempotency_key,
                     "User-Agent": USER_AGENT})
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
