"""The ``hydrorisk scenario ...`` command line: argument definitions only.

Kept apart from :mod:`hydro.scenario_cli` (which imports the scenario engine: numpy,
pandas, xarray, scipy.signal) so that building the ``hydrorisk`` parser — done for every
command, ``--help`` included — does not pay for importing the engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    """``hydro.scenario_cli.<name>``, imported when the command runs."""

    def run(args: argparse.Namespace) -> int:
        from hydro import scenario_cli

        return getattr(scenario_cli, name)(args)

    run.__name__ = name
    return run


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``scenario list|calibrate|run|compare|search|release|effects|drawdown``."""
    p = subparsers.add_parser(
        "scenario", help="flood-season scenarios and release schedules",
        description="Run flood-season scenarios (config/scenarios/*.toml) through the network "
                    "and test reservoir release schedules against the gauges downstream.")
    sub = p.add_subparsers(dest="scenario_command", required=True, metavar="COMMAND")

    def common(s: argparse.ArgumentParser, members: bool = True, dask: bool = True) -> None:
        s.add_argument("scenario", metavar="SCENARIO", help="scenario id or path")
        if members:
            s.add_argument("--members", type=int, default=None,
                           help="ensemble members (default: the scenario's)")
            s.add_argument("--chunk", type=int, default=None, metavar="N",
                           help="members per chunk (default: [run].chunk_members)")
        if dask:
            s.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADDRESS",
                           help="run member chunks on dask.distributed: a scheduler address, "
                                "or a LocalCluster when no address is given")

    s = sub.add_parser("list", help="list the scenarios")
    s.set_defaults(func=_command("cmd_list"))

    s = sub.add_parser("calibrate", help="calibrate the snowmelt model on the bundled series")
    s.add_argument("--basin", action="append", help="basin (repeatable; default: all)")
    s.add_argument("--popsize", type=int, default=10,
                   help="differential evolution population per parameter (default 10)")
    s.add_argument("--maxiter", type=int, default=40, help="generations (default 40)")
    s.add_argument("--write", action="store_true", help="write config/scenarios/_model.toml")
    s.set_defaults(func=_command("cmd_calibrate"))

    s = sub.add_parser("run", help="run a scenario ensemble under a plan; write NetCDF")
    common(s)
    s.add_argument("--plan", default="default", help="release plan (default: default)")
    s.add_argument("--out", default=None, metavar="FILE.nc",
                   help="NetCDF output (default: var/scenarios/<id>-<plan>.nc in the project)")
    s.set_defaults(func=_command("cmd_run"))

    s = sub.add_parser("compare", help="two release plans side by side")
    common(s)
    s.add_argument("plan_a", metavar="PLAN_A")
    s.add_argument("plan_b", metavar="PLAN_B")
    s.add_argument("--statistic", default="q50", help="mean, q10, q50 or q90 (default q50)")
    s.add_argument("--csv", default=None, metavar="FILE", help="also write the table as CSV")
    s.set_defaults(func=_command("cmd_compare"))

    s = sub.add_parser("search", help="search the [search] schedule family")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--members", type=int, default=None, help="members (default [search].members)")
    s.add_argument("--maxiter", type=int, default=None,
                   help="generations (default [search].maxiter)")
    s.set_defaults(func=_command("cmd_search"))

    s = sub.add_parser("release", help="release Q from a reservoir from a date: stage downstream")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--reservoir", required=True, help="reservoir id, e.g. RU:IRIKLINSK")
    s.add_argument("--release", required=True, metavar="Q", help='release, e.g. "900 m3/s"')
    s.add_argument("--from", dest="from_date", required=True, metavar="DATE",
                   type=dt.date.fromisoformat,
                   help="first day of the new release (YYYY-MM-DD)")
    s.add_argument("--plan", default="default", help="plan before the date (default: default)")
    s.add_argument("--gauges", nargs="*", default=None, help="gauges (default: downstream ones)")
    s.add_argument("--members", type=int, default=1, help="members (default 1: the control)")
    s.set_defaults(func=_command("cmd_release"))

    s = sub.add_parser("effects", help="unregulated flows and each reservoir's holdout")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--plan", default="default")
    s.set_defaults(func=_command("cmd_effects"))

    s = sub.add_parser("drawdown", help="is a reservoir low enough before the flood?")
    common(s)
    s.add_argument("--reservoir", required=True)
    s.add_argument("--plan", default="default")
    s.add_argument("--flood-start", default=None, metavar="DATE", type=dt.date.fromisoformat,
                   help="start of the flood (default: the scenario's warm-up start)")
    s.add_argument("--probability", type=float, default=0.9,
                   help="share of members that must be absorbed (default 0.9)")
    s.set_defaults(func=_command("cmd_drawdown"))
