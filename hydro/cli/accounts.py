"""``hydrorisk user add|remove|passwd|list|audit``: the dashboard's accounts and the audit
log on the terminal.  Argument handling and printing only: accounts are kept by
:mod:`hydro.services.accounts`, the log by :mod:`hydro.services.audit`.

A password is asked twice on the terminal (never an argument, which would land in the
shell's history and the process list); ``--password-stdin`` reads one line from standard
input instead, for scripts.  A refused change is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from hydro.cli.args import (
    config_from_args,
    open_store_for,
    open_store_readonly_for,
    time_arg,
)
from hydro.cli.text import table
from hydro.errors import HydroriskError


def _store(args: argparse.Namespace, readonly: bool = False):
    """The store (``readonly``: as it is, nothing written — list and audit only read)."""
    config = config_from_args(args)
    return open_store_readonly_for(config) if readonly else open_store_for(config)


def _by() -> str:
    """Who runs the command (the operating-system user), for the audit log."""
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "cli"


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise HydroriskError("the two passwords differ")
    return first


def cmd_add(args: argparse.Namespace) -> int:
    from hydro.services import accounts

    store = _store(args)
    account = accounts.add_account(store, args.name, _password(args), args.role, args.party,
                                   by=_by())
    print(f"account '{account.name}' added: role {account.role}, party {account.party}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from hydro.services import accounts

    accounts.remove_account(_store(args), args.name, by=_by())
    print(f"account '{args.name}' deactivated (it stays in the audit log)")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    from hydro.services import accounts

    accounts.set_password(_store(args), args.name, _password(args), by=_by())
    print(f"password of '{args.name}' changed")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from hydro.services import accounts

    rows = [[a.name, a.role, a.party, "yes" if a.active else "no",
             a.created_at.strftime("%Y-%m-%d %H:%M")]
            for a in accounts.list_accounts(_store(args, readonly=True))]
    if not rows:
        print("No accounts.  Add one: hydrorisk user add NAME --role admin")
        return 0
    print(table(["name", "role", "party", "active", "created (UTC)"], rows, set()))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from hydro.services import audit

    rows = audit.events(_store(args, readonly=True), since=time_arg(args.since),
                        limit=args.limit)
    if args.csv:
        text = audit.to_csv(rows)
        if args.csv == "-":
            sys.stdout.write(text)
        else:
            with open(args.csv, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            os.chmod(args.csv, 0o600)
            print(f"{len(rows)} audit rows written to {args.csv}")
        return 0
    if not rows:
        print("No audit rows.")
        return 0
    print(table(["at (UTC)", "action", "user", "address", "target", "detail"],
                [[r["at"].strftime("%Y-%m-%d %H:%M:%S"), r["action"], r["user_name"] or "—",
                  r["address"] or "—", r["target"] or "—", r["detail"] or ""] for r in rows],
                set()))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from hydro.services.accounts import PARTIES, ROLES

    u = sub.add_parser("user", help="dashboard accounts and the audit log",
                       description="Add, deactivate, list dashboard accounts, change a "
                                   "password, read the audit log.")
    usub = u.add_subparsers(dest="user_command", required=True, metavar="ACTION")

    s = usub.add_parser("add", help="add an account (password asked twice)")
    s.add_argument("name")
    s.add_argument("--role", choices=ROLES, default="viewer",
                   help="viewer < operator (acknowledge, upload) < forecaster (scenarios, "
                        "plans) < admin (accounts, audit log); default viewer")
    s.add_argument("--party", choices=PARTIES, default="commission",
                   help="on whose behalf the account acknowledges (default commission)")
    s.add_argument("--password-stdin", action="store_true",
                   help="read the password from one line of standard input")
    s.set_defaults(func=cmd_add)

    s = usub.add_parser("remove", help="deactivate an account (kept in the audit log)")
    s.add_argument("name")
    s.set_defaults(func=cmd_remove)

    s = usub.add_parser("passwd", help="set an account's password")
    s.add_argument("name")
    s.add_argument("--password-stdin", action="store_true",
                   help="read the password from one line of standard input")
    s.set_defaults(func=cmd_passwd)

    s = usub.add_parser("list", help="list the accounts")
    s.set_defaults(func=cmd_list)

    s = usub.add_parser("audit", help="the audit log, newest first")
    s.add_argument("--since", help="UTC, YYYY-MM-DD[THH:MM]")
    s.add_argument("--limit", type=int, default=None)
    s.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-': standard output)")
    s.set_defaults(func=cmd_audit)
