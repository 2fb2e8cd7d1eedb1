"""``hydrorisk quality import-table``: install an agency's official classification table
into the deployment's ``config/quality`` (:mod:`hydro.services.water_quality`).  A bad table is
reported as one line naming file, line and field."""

from __future__ import annotations

import argparse

from hydro.cli.args import config_from_args
from hydro.quality_tables import TABLE_FILES


def cmd_import_table(args: argparse.Namespace) -> int:
    """Validate ``args.file`` as a table of ``args.system`` and write it into config/quality."""
    from hydro.services.water_quality import install_table

    config = config_from_args(args)
    report = install_table(config, args.file, system=args.system, out=args.out,
                           force=args.force)
    counts = ", ".join(f"{n} {s}" for s, n in report.status_counts.items())
    unit = "scoring elements" if report.system == "ru-ukizv" else "rows"
    print(f"{args.file}: valid {report.system} table, {report.rows} {unit} ({counts})")
    print(f"written to {report.written}")
    if report.system in ("kz2016", "kz2025"):
        nat = ", ".join(report.natural_origin) or "none (add a natural_origin column)"
        print(f"  ions of natural origin (judged against the background class): {nat}")
    not_official = sum(n for s, n in report.status_counts.items() if s != "official")
    if not_official:
        print(f"  {not_official} {unit} are not official: classes computed from this table "
              "are shown as provisional")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``quality import-table FILE [--system …] [--out …] [--force]``."""
    q = subparsers.add_parser(
        "quality", help="water-quality classification tables",
        description="Manage the tables of the KZ unified classification and of the RU УКИЗВ "
                    "(config/quality/).")
    qsub = q.add_subparsers(dest="quality_command", required=True, metavar="COMMAND")
    s = qsub.add_parser(
        "import-table", help="validate an agency's official table and install it",
        description="Validate a classification table (CSV; TOML for ru-ukizv) and write it "
                    "into config/quality/ (or --out). Errors name the file, line and field. "
                    "Table formats: see hydro/quality_tables.py and config/quality/SOURCES.md.")
    s.add_argument("file", metavar="FILE", help="the agency's table")
    s.add_argument("--system", choices=sorted(TABLE_FILES), default=None,
                   help="kz2016 / kz2025 (KZ class limits), ru (fishery MPC), ru-ukizv "
                        "(УКИЗВ scoring); detected for ru and ru-ukizv")
    s.add_argument("--out", default=None, metavar="PATH",
                   help="where to write it (default: the system's file in config/quality/)")
    s.add_argument("--force", action="store_true", help="replace an existing file")
    s.set_defaults(func=cmd_import_table)
