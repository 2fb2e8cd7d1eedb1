"""The ``hydrorisk`` command line: argparse only.

Each module of this package is one group of commands (:mod:`~hydro.cli.data`,
:mod:`~hydro.cli.reports`, :mod:`~hydro.cli.quality`, :mod:`~hydro.cli.scenario`,
:mod:`~hydro.cli.alerts`, :mod:`~hydro.cli.forecast`, :mod:`~hydro.cli.outlook`,
:mod:`~hydro.cli.accounts`); they
share :mod:`~hydro.cli.args` (arguments, config, store) and :mod:`~hydro.cli.text` (how
tables and numbers are printed) and call :mod:`hydro.services`; none imports another command
module (tests/architecture checks it).  May import: hydro.services, hydro.config, the
science modules, hydro.worker (``hydrorisk worker``) and hydro.synthetic (``hydrorisk
generate-demo-data``); never hydro.store or hydro.readers directly.

User errors (bad config, unreadable store, unknown source) print one line to stderr and
exit with status 2; there is no traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys

from hydro.cli.args import EXIT_USER_ERROR, config_from_args, open_store_for  # noqa: F401
from hydro.errors import HydroriskError


def build_parser() -> argparse.ArgumentParser:
    from hydro.cli import data
    from hydro.synthetic import DEFAULT_SEED

    p = argparse.ArgumentParser(
        prog="hydrorisk",
        description="Hydrological risk monitoring for the Ural, Irtysh, Tobol and Ishim "
                    "(Kazakhstan-Russia).")
    p.add_argument("--config", metavar="DIR", default=os.environ.get("HYDRORISK_CONFIG"),
                   help="config folder (default: ./config or $HYDRORISK_CONFIG)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help="create or upgrade the store and load the network",
                       description="Create (or upgrade) the store's schema and mirror the "
                                   "configured stations into it.")
    s.set_defaults(func=data.cmd_init)

    s = sub.add_parser("ingest", help="load files into the store",
                       description="Load GRDC, agency CSV, reservoir and water-quality files. "
                                   "Each file is one transaction; rejected files are kept in "
                                   "quarantine with the reason.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    s.add_argument("--source", help="source id from config/sources.toml (default: detect)")
    s.add_argument("--no-alerts", action="store_true",
                   help="do not evaluate the alert rules of config/alerts.toml afterwards "
                        "(the worker and `hydrorisk alerts evaluate` catch up later)")
    s.set_defaults(func=data.cmd_ingest)

    s = sub.add_parser("worker", help="run the ingest scheduler (its own process)",
                       description="Run APScheduler with the jobs of config/sources.toml; "
                                   "SIGHUP reloads the config, Ctrl-C stops.")
    s.set_defaults(func=data.cmd_worker)

    s = sub.add_parser("demo", help="init + ingest bundled data + worker + dashboard",
                       description="Initialise the store, ingest the bundled SYNTHETIC "
                                   "demonstration data, then run the worker and the dashboard "
                                   "until Ctrl-C stops both.")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    s.set_defaults(func=data.cmd_demo)

    s = sub.add_parser("export-netcdf", help="write stored series as CF-NetCDF for exchange",
                       description="Write current values (or as known at --as-of) as a "
                                   "CF-1.8 timeSeries NetCDF file.")
    s.add_argument("out", metavar="OUT.nc")
    s.add_argument("--station", action="append", help="station id (repeatable; default all)")
    s.add_argument("--variable", action="append", help="stage, discharge, level, ... (repeatable)")
    s.add_argument("--start", help="UTC, YYYY-MM-DD[THH:MM]")
    s.add_argument("--end", help="UTC, YYYY-MM-DD[THH:MM]")
    s.add_argument("--party", choices=["KZ", "RU"])
    s.add_argument("--source", action="append", help="ingest source (repeatable)")
    s.add_argument("--as-of", help="what was known at this UTC time")
    s.set_defaults(func=data.cmd_export_netcdf)

    s = sub.add_parser("qc-check", help="recompute QC flags of stored values",
                       description="Rerun every QC test over the store (after changing QC "
                                   "limits or ratings); changed flags become new revisions.")
    s.add_argument("--station", action="append")
    s.add_argument("--start")
    s.add_argument("--end")
    s.set_defaults(func=data.cmd_qc_check)

    s = sub.add_parser("jobs", help="status of the scheduled ingest jobs",
                       description="Last run, outcome, next run and last error of each job.")
    s.set_defaults(func=data.cmd_jobs)

    s = sub.add_parser("check-config", help="validate the config folder and summarise it",
                       description="Validate every config file; errors name the file and key.")
    s.set_defaults(func=data.cmd_check_config)

    s = sub.add_parser("generate-demo-data", help="regenerate the synthetic demonstration data",
                       description="Regenerate data/gauges/ from the seeded synthetic generator.")
    s.add_argument("--out", default=None, help="output folder (default: data/gauges)")
    s.add_argument("--seed", type=int, default=DEFAULT_SEED)
    s.add_argument("--calibrate-ratings", action="store_true",
                   help="refit the synthetic ratings in config/basins.toml first")
    s.set_defaults(func=data.cmd_generate)

    from hydro.cli.quality import add_commands as add_quality_commands

    add_quality_commands(sub)

    from hydro.cli.reports import add_commands as add_report_commands

    add_report_commands(sub)

    from hydro.cli.scenario import add_commands as add_scenario_commands

    add_scenario_commands(sub)

    from hydro.cli.alerts import add_commands as add_alert_commands

    add_alert_commands(sub)

    from hydro.cli.forecast import add_commands as add_forecast_commands

    add_forecast_commands(sub)

    from hydro.cli.outlook import add_commands as add_outlook_commands

    add_outlook_commands(sub)

    from hydro.cli.accounts import add_commands as add_account_commands

    add_account_commands(sub)
    add_plugin_commands(sub)
    return p


#: entry-point group through which other packages add commands; the dashboard adds
#: ``serve`` this way, so hydro never imports the dashboard (dependency: dashboard -> hydro)
COMMAND_GROUP = "hydrorisk.commands"


def add_plugin_commands(sub) -> None:
    """Let installed packages register subcommands (``add_commands(subparsers)``)."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        ep.load()(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "debug", False):
        args.debug = True
    try:
        return int(args.func(args) or 0)
    except HydroriskError as e:
        if args.debug:
            raise
        print(f"hydrorisk: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
