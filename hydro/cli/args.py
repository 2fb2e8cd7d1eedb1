"""What every ``hydrorisk`` command shares: the config and store of ``--config``, date
arguments, the exit status of a user error.  Argument handling only."""

from __future__ import annotations

import argparse
import datetime as dt

from hydro.config import Config
from hydro.errors import HydroriskError
from hydro.services import context

EXIT_USER_ERROR = 2


def config_from_args(args: argparse.Namespace) -> Config:
    """The validated config of ``--config`` (or the default folder)."""
    return context.load(getattr(args, "config", None))


def open_store_for(config: Config) -> context.Store:
    """The store of ``config``, schema created or upgraded, stations synced."""
    return context.open_store(config)


def open_store_readonly_for(config: Config) -> context.Store:
    """The existing store of ``config`` for a command that only reads: nothing is written
    (no upgrade, no station sync); a store that needs ``hydrorisk init`` is an error."""
    return context.open_store_readonly(config)


def time_arg(text: str | None) -> dt.datetime | None:
    """A UTC date or date-time given on the command line."""
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise HydroriskError(f"'{text}' is not a date/time (use YYYY-MM-DD or "
                             "YYYY-MM-DDTHH:MM, UTC)") from None


def cli_user() -> str:
    """Who runs a command, for the audit log: ``cli:<operating-system user>``."""
    import getpass

    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "cli"


def audit(config: Config, action: str, target: str | None = None,
          detail: str | None = None, store: context.Store | None = None) -> None:
    """Record ``action`` in the audit log (:func:`hydro.services.audit.record`) as
    :func:`cli_user`; with no ``store`` the config's is opened, and a store that cannot be
    reached only prints a note (the act itself has happened)."""
    import sys

    from hydro.services import audit as audit_log

    try:
        engine = store if store is not None else open_store_for(config)
        audit_log.record(engine, action, cli_user(), target=target, detail=detail)
    except HydroriskError as e:
        print(f"note: not written to the audit log: {e}", file=sys.stderr)
