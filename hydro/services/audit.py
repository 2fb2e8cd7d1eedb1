"""The audit log: who did what, when, from where — logins (and failed ones), logouts,
acknowledgements, uploads, plan saves, scenario runs and account changes.

:func:`record` is called where the act happens (the dashboard's login and callbacks, the
account commands); rows are only ever added.  :func:`events` reads them back and
:func:`to_csv` writes them for a spreadsheet, with every cell a spreadsheet would read as
a formula prefixed with ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from hydro.services.context import Store
from hydro.store import accounts as stored

#: the audited actions
ACTIONS = ("login", "login_failed", "logout", "alert_ack", "exchange_ack", "upload",
           "plan_save", "scenario_run", "user_add", "user_remove", "user_passwd",
           "forbidden")
COLUMNS = stored.AUDIT_COLUMNS
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record(store: Store, action: str, user: str | None, *, address: str | None = None,
           target: str | None = None, detail: str | None = None,
           at: dt.datetime | None = None) -> int:
    """Add one row (``at``: naive UTC, now by default); returns its id.  Texts are cut to
    the column sizes; ``action`` is one of :data:`ACTIONS`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    when = at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return stored.insert_audit(store, when, action, _cut(user, 200), _cut(address, 64),
                               _cut(target, 200), _cut(detail, 4000))


def _cut(text: str | None, n: int) -> str | None:
    return None if text is None else str(text)[:n]


def events(store: Store, since: dt.datetime | None = None,
           limit: int | None = None) -> list[dict]:
    """Audit rows at or after ``since`` (naive UTC), newest first (keys :data:`COLUMNS`)."""
    return stored.audit_events(store, since, limit)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not evaluate: text starting with ``= + - @``, tab or
    CR gets a leading ``'``."""
    text = "" if value is None else value.isoformat(sep=" ") \
        if isinstance(value, dt.datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([safe_cell(r.get(c)) for c in COLUMNS])
    return out.getvalue()
