"""``config/notifications.toml``: who is told about alerts, through which sinks, and how
delivery is retried.

The file has three parts (see the shipped ``config/notifications.toml``)::

    [delivery]              how often the worker delivers, retries and gives up
    [sinks.email]           the SMTP server (credentials by environment-variable NAME)
    [sinks.webhook]         the JSON POST sink (timeout; signing secret by variable NAME)
    [[subscribers]]         one per person, duty desk or system: language, party,
                            e-mail and/or webhook, and what they subscribe to

No secret is ever written in the file: ``username_env`` and ``password_env`` name the
environment variables that hold the SMTP credentials (:meth:`EmailSink.credentials` reads
them when a message is sent), and ``secret_env`` the one holding the key webhooks are
signed with (:meth:`WebhookSink.secret`; not given: webhooks go unsigned).  Every failure
is a :class:`~hydro.errors.ConfigError` whose message names the file and the key, e.g.::

    config/notifications.toml: subscribers[id=kz-ural-duty].language: Input should be 'kk', 'ru' or 'en'

May import: the science modules (:mod:`hydro.network`, :mod:`hydro.units`) and
:mod:`hydro.config.files`.  The delivery itself is :mod:`hydro.services.notifications`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from hydro.config.files import read_toml
from hydro.errors import ConfigError, validate
from hydro.network import Duration, Network, Strict
from hydro.units import Quantity, factor

#: severities a subscriber may ask for, least severe first — the same order as
#: :data:`hydro.services.alerts.SEVERITIES` (a test keeps the two equal)
Severity = Literal["info", "adverse", "low_water_dangerous", "dangerous"]
#: the steps of an alert's life a subscriber may be told about (``alert_events.event``)
EventKind = Literal["opened", "updated", "escalated", "deescalated", "acknowledged", "closed"]
#: what a subscriber hears about when the file does not say: an alert opening, growing
#: worse or better, and ending (not every update, not acknowledgements)
DEFAULT_EVENTS: tuple[EventKind, ...] = ("opened", "escalated", "deescalated", "closed")
#: the sinks a message can go through
SINKS = ("email", "webhook")
#: ``claim_timeout`` must be at least this many times the longest sink time-out: one send
#: (connect, TLS, login, MAIL, RCPT, DATA) is several network waits, and a claim taken
#: back while its worker is still sending means the message goes twice
CLAIM_MARGIN = 10

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$|^[^@\s<>,;]+@localhost$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def seconds(q: Quantity) -> float:
    """A duration from the file in seconds."""
    return q.to("duration") / factor("s", "duration")


def _positive(q: Quantity) -> Quantity:
    if q.to("duration") <= 0:
        raise ValueError(f"must be a positive duration, not {q}")
    return q


def _env_name(v: str | None) -> str | None:
    if v is not None and not _ENV_NAME.match(v):
        raise ValueError(f"{v!r} is not an environment-variable name (the file holds the "
                         "NAME of the variable holding the secret, never the secret)")
    return v


class Delivery(Strict):
    """How the outbox is worked off: the worker's interval, the retry schedule (exponential
    backoff from ``first_retry``, doubled after every failure, at most ``max_retry``), the
    attempts after which a message becomes a dead letter, and when a message left
    ``sending`` by a worker that died is retried."""

    interval: Duration = Field(default_factory=lambda: Quantity(1.0, "min"))
    max_attempts: int = Field(default=10, ge=1, le=1000)
    first_retry: Duration = Field(default_factory=lambda: Quantity(1.0, "min"))
    max_retry: Duration = Field(default_factory=lambda: Quantity(1.0, "h"))
    claim_timeout: Duration = Field(default_factory=lambda: Quantity(10.0, "min"))
    batch: int = Field(default=200, ge=1, le=100_000)
    #: events older than this when they are first enqueued are recorded but not sent (a
    #: replay of a past season, or a store that had alerts before notifications existed)
    max_event_age: Duration = Field(default_factory=lambda: Quantity(2.0, "d"))

    check_positive = field_validator("interval", "first_retry", "max_retry", "claim_timeout",
                           "max_event_age")(_positive)

    @model_validator(mode="after")
    def _order(self) -> Delivery:
        if seconds(self.max_retry) < seconds(self.first_retry):
            raise ValueError(f"max_retry ({self.max_retry}) is shorter than first_retry "
                             f"({self.first_retry})")
        return self


class EmailSink(Strict):
    """The SMTP server messages are sent through."""

    enabled: bool = True
    host: str = Field(default="localhost", min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(default="hydrorisk@localhost", alias="from")
    starttls: bool = False
    ssl: bool = False  # SMTP over TLS from the first byte (port 465)
    username_env: str | None = None
    password_env: str | None = None
    timeout: Duration = Field(default_factory=lambda: Quantity(30.0, "s"))

    check_env_names = field_validator("username_env", "password_env")(_env_name)
    check_positive = field_validator("timeout")(_positive)

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        if not _EMAIL.match(v):
            raise ValueError(f"{v!r} is not an e-mail address")
        return v

    @model_validator(mode="after")
    def _tls(self) -> EmailSink:
        if self.ssl and self.starttls:
            raise ValueError("give ssl (TLS from the start) or starttls, not both")
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("give both username_env and password_env, or neither")
        return self

    def credentials(self) -> tuple[str, str] | None:
        """(user, password) from the environment variables named in the file; None when the
        server needs no login.  A :class:`ConfigError` names a variable that is not set."""
        if self.username_env is None or self.password_env is None:
            return None
        missing = [n for n in (self.username_env, self.password_env) if n not in os.environ]
        if missing:
            raise ConfigError(f"sinks.email: environment variable {', '.join(missing)} is not "
                              "set (it holds the SMTP login named in notifications.toml)")
        return os.environ[self.username_env], os.environ[self.password_env]


class WebhookSink(Strict):
    """The JSON POST sink.

    ``secret_env`` names the environment variable holding the key every POST is signed
    with (HMAC-SHA256, see :mod:`hydro.services.sinks`); not given (the default), POSTs go
    unsigned."""

    enabled: bool = True
    timeout: Duration = Field(default_factory=lambda: Quantity(10.0, "s"))
    secret_env: str | None = None

    check_env_names = field_validator("secret_env")(_env_name)
    check_positive = field_validator("timeout")(_positive)

    def secret(self) -> bytes | None:
        """The signing key: the UTF-8 bytes of the variable named by ``secret_env``, read
        when a message is sent; None when the file names no variable (POSTs go unsigned).
        A :class:`ConfigError` names a variable that is not set or empty — never its
        value."""
        if self.secret_env is None:
            return None
        value = os.environ.get(self.secret_env, "")
        if not value:
            raise ConfigError(f"sinks.webhook: environment variable {self.secret_env} is not "
                              "set or empty (it holds the webhook signing secret named by "
                              "secret_env in notifications.toml)")
        return value.encode("utf-8")


class Sinks(Strict):
    email: EmailSink = Field(default_factory=EmailSink)
    webhook: WebhookSink = Field(default_factory=WebhookSink)


class Subscriber(Strict):
    """One recipient of notifications and what they subscribe to.

    Filters (all must match): ``basins`` / ``stations`` — an alert at one of the stations
    or in one of the basins (both empty: everywhere); ``parties`` — stations of these
    countries only (empty: both); ``min_severity``; ``events`` — which steps of an alert's
    life (default :data:`DEFAULT_EVENTS`)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    language: Literal["kk", "ru", "en"]
    party: Literal["KZ", "RU", "commission"]
    email: str | None = None
    webhook: str | None = None
    enabled: bool = True
    basins: list[str] = Field(default_factory=list)
    stations: list[str] = Field(default_factory=list)
    parties: list[Literal["KZ", "RU", "CN"]] = Field(default_factory=list)
    min_severity: Severity = "info"
    events: list[EventKind] = Field(default_factory=lambda: list(DEFAULT_EVENTS), min_length=1)

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL.match(v):
            raise ValueError(f"{v!r} is not an e-mail address")
        return v

    @field_validator("webhook")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http:// or https:// URL")
        return v

    @model_validator(mode="after")
    def _somewhere(self) -> Subscriber:
        if self.email is None and self.webhook is None:
            raise ValueError("give an email address, a webhook URL or both")
        return self

    def sinks(self) -> list[str]:
        """The sinks this subscriber receives through (``email``, ``webhook``)."""
        return [s for s, a in (("email", self.email), ("webhook", self.webhook))
                if a is not None]

    def address(self, sink: str) -> str:
        """The e-mail address or URL of ``sink``."""
        addr = self.email if sink == "email" else self.webhook if sink == "webhook" else None
        if addr is None:
            raise KeyError(f"subscriber {self.id!r} has no {sink} address")
        return addr


class NotificationsFile(Strict):
    """The whole of ``config/notifications.toml``."""

    delivery: Delivery = Field(default_factory=Delivery)
    sinks: Sinks = Field(default_factory=Sinks)
    subscribers: list[Subscriber] = Field(default_factory=list)

    def subscriber(self, subscriber_id: str) -> Subscriber:
        for s in self.subscribers:
            if s.id == subscriber_id:
                return s
        raise KeyError(subscriber_id)


def load_notifications(path: Path, network: Network | None = None) -> NotificationsFile:
    """Read and validate ``path``; a missing file means no subscribers (nothing is sent).

    With ``network``, every basin and station a subscriber names must exist in it; the
    claim timeout must be :data:`CLAIM_MARGIN` times the longest sink time-out.  Every
    failure is a :class:`ConfigError` naming the file and the key."""
    if not path.exists():
        return NotificationsFile()
    raw = read_toml(path)
    parsed: NotificationsFile = validate(NotificationsFile, raw, path)
    d, sinks = parsed.delivery, parsed.sinks
    longest = max([seconds(x.timeout) for x in (sinks.email, sinks.webhook) if x.enabled],
                  default=0.0)
    if seconds(d.claim_timeout) < CLAIM_MARGIN * longest:
        raise ConfigError(
            f"{path}: delivery.claim_timeout: {d.claim_timeout} is too short for a sink "
            f"time-out of {longest:g} s (give at least {CLAIM_MARGIN} times it): a slow send "
            "would be taken for a dead worker's and sent twice")
    seen: set[str] = set()
    for s in parsed.subscribers:
        where = f"{path}: subscribers[id={s.id}]"
        if s.id in seen:
            raise ConfigError(f"{where}.id: duplicate id '{s.id}'")
        seen.add(s.id)
        if network is None:
            continue
        for b in s.basins:
            if b not in network.basins:
                raise ConfigError(f"{where}.basins: unknown basin '{b}' (known: "
                                  f"{', '.join(sorted(network.basins))})")
        known = set(network.all_ids())
        for st in s.stations:
            if st not in known:
                raise ConfigError(f"{where}.stations: unknown station '{st}'")
    return parsed
