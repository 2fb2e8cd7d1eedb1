"""``hydrorisk serve``: registered with hydro's CLI through the ``hydrorisk.commands``
entry point (pyproject.toml), so the dependency runs dashboard -> hydro only."""

from __future__ import annotations

import argparse

from hydro.services.context import load, open_store


def cmd_serve(args: argparse.Namespace) -> int:
    from dashboard.app import create_app

    config = load(args.config)
    engine = open_store(config)
    host = args.host or config.settings.dashboard.host
    port = args.port or config.settings.dashboard.port
    app = create_app(config, engine)
    print(f"hydrorisk dashboard on http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    app.run(host=host, port=port, debug=args.debug)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="run the dashboard",
                       description="Serve the Dash dashboard (default http://127.0.0.1:8050).")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    s.set_defaults(func=cmd_serve)
