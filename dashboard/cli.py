"""``hydrorisk serve``: registered with hydro's CLI through the ``hydrorisk.commands``
entry point (pyproject.toml), so the dependency runs dashboard -> hydro only.

The dashboard is served by waitress (a production WSGI server, pure Python, on every
platform).  ``hydrorisk --debug serve`` runs Flask's development server with the Werkzeug
debugger instead, and only on a loopback address: the debugger executes code for whoever
reaches it.  The server refuses to listen on any other address while a default or
demonstration account exists (``demo``/``demo``, or any account whose password is its name
or a well-known default: :func:`hydro.services.accounts.default_accounts`).  The store's
password and the session key never appear in what is printed.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys

from hydro.services.context import load, open_store, safe_url

EXIT_REFUSED = 2
THREADS = 8


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def trusted_proxies() -> int:
    """How many reverse proxies in front set ``X-Forwarded-For/-Proto/-Host``
    (``HYDRORISK_PROXIES``, default 0: none trusted)."""
    import os

    try:
        return max(0, int(os.environ.get("HYDRORISK_PROXIES", "0") or 0))
    except ValueError:
        return 0


def refusal(host: str, debug: bool, defaults: list[str]) -> str | None:
    """Why the dashboard must not listen on ``host`` (None when it may)."""
    if is_loopback(host):
        return None
    if debug:
        return (f"refusing --debug on {host}: the Werkzeug debugger runs code for anyone who "
                "reaches it; use it on 127.0.0.1 only (omit --debug to serve the network "
                "with waitress)")
    if defaults:
        return (f"refusing to listen on {host}: default or demonstration account(s) exist "
                f"({', '.join(sorted(defaults))}); remove them (hydrorisk user remove NAME) "
                "or set a real password (hydrorisk user passwd NAME), or serve on 127.0.0.1")
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    from dashboard.app import create_app
    from hydro.services import accounts

    config = load(args.config)
    engine = open_store(config)
    host = args.host or config.settings.dashboard.host
    port = args.port or config.settings.dashboard.port
    debug = bool(getattr(args, "debug", False))
    problem = refusal(host, debug, [] if is_loopback(host) else
                      accounts.default_accounts(engine))
    if problem:
        print(f"hydrorisk: error: {problem}", file=sys.stderr)
        return EXIT_REFUSED
    if not accounts.list_accounts(engine):
        print("note: there are no accounts yet, so nobody can log in: "
              "hydrorisk user add NAME --role admin", file=sys.stderr)
    app = create_app(config, engine)
    proxies = trusted_proxies()
    if proxies:
        # behind a reverse proxy: the client's address (login rate limit, audit log) and
        # the scheme come from its X-Forwarded-* headers
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.server.wsgi_app = ProxyFix(app.server.wsgi_app,
                                       x_for=proxies, x_proto=proxies, x_host=proxies)
    print(f"store: {safe_url(config.store_url)}")
    print(f"hydrorisk dashboard on http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    if debug:
        print("debug: Flask's development server with the Werkzeug debugger (loopback only)",
              flush=True)
        app.run(host=host, port=port, debug=True)
        return 0
    import waitress

    waitress.serve(app.server, host=host, port=port, threads=THREADS, ident="hydrorisk")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="run the dashboard (waitress)",
                       description="Serve the Dash dashboard with waitress (default "
                                   "http://127.0.0.1:8050).  Every page needs a login "
                                   "(hydrorisk user add).  Beyond loopback it refuses to "
                                   "start while a default or demo account exists.")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    # also accepted before the command (hydrorisk --debug serve); SUPPRESS keeps that one
    s.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="Flask's development server with the debugger; loopback only")
    s.set_defaults(func=cmd_serve)
