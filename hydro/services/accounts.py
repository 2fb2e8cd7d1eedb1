"""Dashboard accounts: roles, parties, argon2 password hashes, and the checks the CLI
(``hydrorisk user …``) and the dashboard's login share.

Roles are ordered: ``viewer`` < ``operator`` (acknowledge alerts, upload data, acknowledge
exchanges) < ``forecaster`` (scenarios and release plans) < ``admin`` (accounts, the audit
log).  A user's ``party`` (KZ, RU or ``commission``) is on whose behalf they acknowledge:
:func:`may_acknowledge_for` says whom.  Every change of an account is written to the audit
log (:mod:`hydro.services.audit`).

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106 "low memory"
parameters); :func:`verify_password` rehashes a hash made with older parameters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hydro.errors import HydroriskError
from hydro.services import audit
from hydro.services.context import Store
from hydro.store import accounts as stored

ROLES = ("viewer", "operator", "forecaster", "admin")
PARTIES = ("KZ", "RU", "commission")
MAX_NAME = 200
MIN_PASSWORD = 8
#: the demonstration account ``hydrorisk demo`` creates (password = name)
DEMO_NAME = "demo"
#: passwords of default and demonstration accounts: an account whose password is one of
#: these or its own name is a "default account" (:func:`default_accounts`)
DEFAULT_PASSWORDS = ("demo", "admin", "password", "hydrorisk", "changeme", "12345678")

_HASHER = PasswordHasher()
#: a hash to verify against when the name is unknown, so that a wrong name takes as long
#: as a wrong password (no user enumeration by timing)
_DUMMY_HASH = _HASHER.hash("not a password of anybody")


class AccountError(HydroriskError):
    """A refused account operation (unknown user, bad role or party, short password…)."""


@dataclass(frozen=True)
class Account:
    """An account without its password hash."""

    id: int
    name: str
    role: str
    party: str
    active: bool
    created_at: dt.datetime

    def has_role(self, role: str) -> bool:
        return role_at_least(self.role, role)


def _account(row: stored.UserRow) -> Account:
    return Account(id=row.id, name=row.name, role=row.role, party=row.party,
                   active=row.active, created_at=row.created_at)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# --------------------------------------------------------------------------- rules

def role_rank(role: str) -> int:
    """0 (viewer) … 3 (admin); ValueError for an unknown role."""
    return ROLES.index(role)


def role_at_least(role: str, required: str) -> bool:
    """Whether ``role`` includes ``required`` (admin includes every role)."""
    try:
        return role_rank(role) >= role_rank(required)
    except ValueError:
        return False


def check_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not '{role}'")
    return role


def check_party(party: str) -> str:
    text = (party or "").strip()
    if text.upper() in ("KZ", "RU"):
        return text.upper()
    if text.lower() == "commission":
        return "commission"
    raise AccountError(f"party must be KZ, RU or commission, not '{party}'")


def may_acknowledge_for(account: Account, party: str) -> bool:
    """Whether ``account`` may acknowledge on behalf of ``party``: an operator (or above)
    acknowledges only for their own party (a KZ operator for KZ — a delivery from RU —
    never for RU)."""
    return account.active and account.has_role("operator") and account.party == party


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string ``$argon2id$v=19$…``) of ``password``."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_password(name: str, password: str, allow_weak: bool = False) -> None:
    if allow_weak:
        return
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    if password.lower() == name.lower() or password.lower() in DEFAULT_PASSWORDS:
        raise AccountError("that password is a default one (the name, or a well-known "
                           "default): choose another")


# --------------------------------------------------------------------------- accounts

def list_accounts(store: Store) -> list[Account]:
    return [_account(r) for r in stored.users(store)]


def get_account(store: Store, user_id: int) -> Account | None:
    """The account with ``user_id`` (active or not), or None."""
    row = stored.user_by_id(store, user_id)
    return _account(row) if row is not None else None


def add_account(store: Store, name: str, password: str, role: str = "viewer",
                party: str = "commission", by: str | None = None,
                allow_weak: bool = False) -> Account:
    """Create an account (audit ``user_add``).  ``allow_weak`` lets the demonstration
    account have its well-known password."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise AccountError(f"an account name is 1 to {MAX_NAME} printable characters")
    role, party = check_role(role), check_party(party)
    _check_password(name, password, allow_weak)
    if stored.user_by_name(store, name) is not None:
        raise AccountError(f"an account '{name}' exists already")
    stored.insert_user(store, name, hash_password(password), role, party, _now())
    audit.record(store, "user_add", by, target=name, detail=f"role={role} party={party}")
    row = stored.user_by_name(store, name)
    assert row is not None
    return _account(row)


def remove_account(store: Store, name: str, by: str | None = None) -> None:
    """Deactivate ``name`` (audit ``user_remove``): it can no longer log in, and its open
    sessions end at their next request.  The row stays, so the audit log keeps naming it."""
    row = stored.user_by_name(store, name)
    if row is None or not row.active:
        raise AccountError(f"no active account '{name}'")
    stored.update_user(store, name, active=False)
    audit.record(store, "user_remove", by, target=name)


def set_password(store: Store, name: str, password: str, by: str | None = None) -> None:
    """Set ``name``'s password (audit ``user_passwd``); reactivates nothing."""
    row = stored.user_by_name(store, name)
    if row is None:
        raise AccountError(f"no account '{name}'")
    _check_password(name, password)
    stored.update_user(store, name, password_hash=hash_password(password))
    audit.record(store, "user_passwd", by, target=name)


def authenticate(store: Store, name: str, password: str,
                 address: str | None = None) -> Account | None:
    """The active account ``name`` if ``password`` is its password, else None; records
    ``login`` or ``login_failed`` in the audit log."""
    name = (name or "").strip()[:MAX_NAME]
    row = stored.user_by_name(store, name) if name else None
    ok = verify_password(row.password_hash if row else _DUMMY_HASH, password or "")
    if row is None or not ok or not row.active:
        reason = "unknown account" if row is None else \
            "inactive account" if not row.active else "wrong password"
        audit.record(store, "login_failed", name or None, address=address, detail=reason)
        return None
    if _HASHER.check_needs_rehash(row.password_hash):
        stored.update_user(store, name, password_hash=hash_password(password))
    audit.record(store, "login", name, address=address)
    return _account(row)


def default_accounts(store: Store) -> list[str]:
    """The active accounts whose password is a default one (their own name, or one of
    :data:`DEFAULT_PASSWORDS`) — e.g. the demonstration account ``demo``/``demo``.  The
    server refuses to listen beyond loopback while any exists."""
    out = []
    for row in stored.users(store):
        if not row.active:
            continue
        if any(verify_password(row.password_hash, p)
               for p in (row.name, row.name.lower(), *DEFAULT_PASSWORDS)):
            out.append(row.name)
    return out


def ensure_demo_account(store: Store) -> Account:
    """The demonstration admin ``demo``/``demo`` (party commission), created if missing
    and reactivated with that password if removed (``hydrorisk demo`` on loopback only)."""
    row = stored.user_by_name(store, DEMO_NAME)
    if row is None:
        return add_account(store, DEMO_NAME, DEMO_NAME, "admin", "commission", by="demo",
                           allow_weak=True)
    if not row.active or not verify_password(row.password_hash, DEMO_NAME):
        stored.update_user(store, DEMO_NAME, active=True,
                           password_hash=hash_password(DEMO_NAME))
        audit.record(store, "user_passwd", "demo", target=DEMO_NAME,
                     detail="demonstration account reset")
    row = stored.user_by_name(store, DEMO_NAME)
    assert row is not None
    return _account(row)


def demo_account_active(store: Store) -> bool:
    """Whether the demonstration account ``demo`` can log in with the password ``demo``."""
    row = stored.user_by_name(store, DEMO_NAME)
    return row is not None and row.active and verify_password(row.password_hash, DEMO_NAME)


# --------------------------------------------------------------------------- secret key

SECRET_ENV = "HYDRORISK_SECRET_KEY"
SECRET_FILE = "var/secret_key"


def secret_key(config) -> str:
    """The key that signs the dashboard's session cookies: ``$HYDRORISK_SECRET_KEY``, else
    the file ``var/secret_key`` of the deployment (generated on first use, mode 0600).
    Never printed or logged."""
    import os
    import secrets

    from_env = os.environ.get(SECRET_ENV, "").strip()
    if from_env:
        return from_env
    path = config.resolve(SECRET_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        raise AccountError(f"{path} is empty: delete it (a new key is generated) or set "
                           f"{SECRET_ENV}") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key
