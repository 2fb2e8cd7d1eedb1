"""The ``hydrorisk`` command line.

User errors (bad config, unreadable store, unknown source) print one line to stderr and
exit with status 2; there is no traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hydro.errors import HydroriskError

EXIT_USER_ERROR = 2


def config_from_args(args):
    """The validated config of ``--config`` (or the default folder)."""
    from hydro.config import load_config

    return load_config(args.config)


def open_store_for(config):
    """The store of ``config``, schema created or upgraded, stations synced."""
    from hydro.store.db import open_store

    return open_store(config.store_url, config.network)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


# --------------------------------------------------------------------------- commands

def cmd_check_config(args) -> int:
    config = config_from_args(args)
    net = config.network
    print(f"config {config.root}: OK")
    print(f"  basins      {len(net.basins):4d}  ({', '.join(net.basins)})")
    print(f"  gauges      {len(net.gauges):4d}")
    print(f"  reservoirs  {len(net.reservoirs):4d}")
    print(f"  other nodes {len(net.nodes):4d}  ({sum(n.kind == 'border' for n in net.nodes.values())} border crossings)")
    print(f"  reaches     {len(net.reaches):4d}")
    print(f"  thresholds  {len(config.thresholds):4d}  "
          f"({sum(t.status == 'estimate' for t in config.thresholds)} estimates)")
    print(f"  sources     {len(config.sources.sources):4d}  layouts {len(config.sources.layouts)}")
    print(f"  store       {_safe_url(config.store_url)}")
    return 0


def cmd_init(args) -> int:
    from hydro.store import api

    config = config_from_args(args)
    engine = open_store_for(config)
    print(f"store ready: {_safe_url(config.store_url)}")
    print(f"  stations {len(api.stations(engine))}, observations {api.observation_count(engine)}")
    return 0


def _expand(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*") if f.is_file()
                                and f.suffix.lower() in (".csv", ".txt", ".nc")
                                and ".processing" not in f.parts))
        elif path.exists():
            files.append(path)
        else:
            raise HydroriskError(f"{p}: no such file or folder")
    return files


def _progress(i: int, n: int, name: str, stream=sys.stderr) -> None:
    if not stream.isatty():
        return
    width = 30
    done = int(width * i / max(n, 1))
    stream.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40}")
    stream.flush()
    if i == n:
        stream.write("\n")


def ingest_paths(config, engine, files: list[Path], source: str | None = None,
                 quiet: bool = False):
    from hydro.ingest import ingest_files

    from sqlalchemy.exc import SQLAlchemyError

    results = []
    done = ingest_files(engine, config, files, source_id=source)
    for i, f in enumerate(files, 1):
        try:
            results.append(next(done))
        except SQLAlchemyError as e:  # the file's transaction was rolled back
            raise HydroriskError(f"{f}: the store refused the write, nothing of the file was "
                                 f"stored: {getattr(e, 'orig', e)}") from None
        if not quiet:
            _progress(i, len(files), f.name)
    return results


def print_summary(results, stream=sys.stdout, seconds: float | None = None) -> None:
    """The ingest summary table; ``seconds`` is the wall-clock time (default: the sum of
    the files' times, which overstates it when files were read ahead in a thread)."""
    by = {"loaded": 0, "unchanged": 0, "rejected": 0}
    for r in results:
        by[r.outcome] = by.get(r.outcome, 0) + 1
    rows_read = sum(r.rows_read for r in results)
    rows = sum(r.rows_written for r in results)
    flags = sum(r.flags_raised for r in results)
    secs = sum(r.seconds for r in results) if seconds is None else seconds
    print(f"{'files':>8} {'loaded':>7} {'unchanged':>9} {'quarantined':>11} {'rows read':>10} "
          f"{'rows written':>12} {'flags':>7} {'seconds':>8}", file=stream)
    print(f"{len(results):8d} {by['loaded']:7d} {by['unchanged']:9d} {by['rejected']:11d} "
          f"{rows_read:10d} {rows:12d} {flags:7d} {secs:8.1f}", file=stream)
    for r in results:
        if r.outcome == "rejected":
            print(f"rejected: {r.message}", file=stream)
            if r.quarantined_to:
                print(f"  kept in quarantine: {r.quarantined_to}", file=stream)


def cmd_ingest(args) -> int:
    config = config_from_args(args)
    if args.source:
        try:
            config.source(args.source)
        except KeyError:
            raise HydroriskError(f"unknown source '{args.source}' (see config/sources.toml)") from None
    files = _expand(args.paths)
    if not files:
        raise HydroriskError("no .csv, .txt or .nc files found in the given paths")
    engine = open_store_for(config)
    t0 = time.perf_counter()
    results = ingest_paths(config, engine, files, args.source)
    print_summary(results, seconds=time.perf_counter() - t0)
    return 1 if any(r.outcome == "rejected" for r in results) else 0


def cmd_worker(args) -> int:
    from hydro.worker import run_worker

    config = config_from_args(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    open_store_for(config)  # create the schema before APScheduler creates its own table
    run_worker(str(config.root.resolve()))
    return 0


def cmd_demo(args) -> int:
    from hydro.ingest import bundled_files

    config = config_from_args(args)
    engine = open_store_for(config)
    files = bundled_files(config)
    if not files:
        raise HydroriskError(f"no bundled data under {config.resolve(config.settings.paths.bundled)}")
    print(f"store: {_safe_url(config.store_url)}")
    print(f"ingesting {len(files)} bundled files (SYNTHETIC demonstration data) ...", flush=True)
    t0 = time.perf_counter()
    results = ingest_paths(config, engine, files)
    print_summary(results, seconds=time.perf_counter() - t0)
    engine.dispose()
    base = [sys.executable, "-m", "hydro.cli", "--config", str(config.root.resolve())]
    port = args.port or config.settings.dashboard.port
    host = args.host or config.settings.dashboard.host
    procs = [subprocess.Popen(base + ["worker"]),
             subprocess.Popen(base + ["serve", "--host", host, "--port", str(port)])]
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    rc = 0
    try:
        while not stopping:
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                rc = dead[0].returncode or 1
                print(f"a demo process exited (status {dead[0].returncode}); stopping",
                      file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        print("demo stopped (worker and dashboard)")
    return 0 if stopping else rc


def _time_arg(text: str | None):
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise HydroriskError(f"'{text}' is not a date/time (use YYYY-MM-DD or "
                             "YYYY-MM-DDTHH:MM, UTC)") from None


def cmd_export_netcdf(args) -> int:
    from hydro.readers.netcdf import export_store

    config = config_from_args(args)
    engine = open_store_for(config)
    unknown = [s for s in (args.station or []) if s not in config.network.all_ids()]
    if unknown:
        raise HydroriskError(f"unknown station '{unknown[0]}'")
    try:
        path = export_store(engine, args.out, config, stations=args.station,
                            variables=tuple(args.variable or ("stage", "discharge")),
                            start=_time_arg(args.start), end=_time_arg(args.end),
                            party=args.party, sources=args.source, as_of=_time_arg(args.as_of))
    except ValueError as e:
        raise HydroriskError(str(e)) from None
    print(f"wrote {path} (CF-1.8 timeSeries)")
    return 0


def cmd_qc_check(args) -> int:
    from hydro.ingest import check_store

    config = config_from_args(args)
    engine = open_store_for(config)
    r = check_store(engine, config, stations=args.station, start=_time_arg(args.start),
                    end=_time_arg(args.end))
    flagged = ", ".join(f"{k} {v}" for k, v in sorted(r.flagged.items())) or "none changed"
    print(f"values checked {r.values_checked}; flag changes written as new revisions "
          f"{r.revisions_written}; flags: {flagged}")
    return 0


def cmd_jobs(args) -> int:
    from hydro.store import api

    config = config_from_args(args)
    engine = open_store_for(config)
    status = api.job_status(engine)
    if status.empty:
        print("no job has run yet (start `hydrorisk worker`)")
        return 0
    cols = [c for c in ("job_id", "last_outcome", "last_finished_at", "next_run",
                        "consecutive_failures", "last_error") if c in status.columns]
    print(status[cols].to_string(index=False))
    return 0


def cmd_generate(args) -> int:
    from hydro.synthetic.generate import (
        calibrate_ratings,
        synthesize,
        write_all,
        write_ratings_into_config,
    )

    config = config_from_args(args)
    if args.calibrate_ratings:
        ratings = calibrate_ratings(synthesize(config, args.seed), config)
        write_ratings_into_config(config, ratings)
        print(f"wrote {len(ratings)} synthetic ratings into {config.root / 'basins.toml'}")
        config = config_from_args(args)
    out = Path(args.out) if args.out else config.resolve(config.settings.paths.bundled)
    written = write_all(config, out, args.seed)
    print(f"wrote {len(written)} files of SYNTHETIC demonstration data to {out} "
          f"(seed {args.seed}); hashes in {out / 'MANIFEST.sha256'}")
    return 0


# --------------------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
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
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("ingest", help="load files into the store",
                       description="Load GRDC, agency CSV, reservoir and water-quality files. "
                                   "Each file is one transaction; rejected files are kept in "
                                   "quarantine with the reason.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    s.add_argument("--source", help="source id from config/sources.toml (default: detect)")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("worker", help="run the ingest scheduler (its own process)",
                       description="Run APScheduler with the jobs of config/sources.toml; "
                                   "SIGHUP reloads the config, Ctrl-C stops.")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("demo", help="init + ingest bundled data + worker + dashboard",
                       description="Initialise the store, ingest the bundled SYNTHETIC "
                                   "demonstration data, then run the worker and the dashboard "
                                   "until Ctrl-C stops both.")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    s.set_defaults(func=cmd_demo)

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
    s.set_defaults(func=cmd_export_netcdf)

    s = sub.add_parser("qc-check", help="recompute QC flags of stored values",
                       description="Rerun every QC test over the store (after changing QC "
                                   "limits or ratings); changed flags become new revisions.")
    s.add_argument("--station", action="append")
    s.add_argument("--start")
    s.add_argument("--end")
    s.set_defaults(func=cmd_qc_check)

    s = sub.add_parser("jobs", help="status of the scheduled ingest jobs",
                       description="Last run, outcome, next run and last error of each job.")
    s.set_defaults(func=cmd_jobs)

    s = sub.add_parser("check-config", help="validate the config folder and summarise it",
                       description="Validate every config file; errors name the file and key.")
    s.set_defaults(func=cmd_check_config)

    s = sub.add_parser("generate-demo-data", help="regenerate the synthetic demonstration data",
                       description="Regenerate data/gauges/ from the seeded synthetic generator.")
    s.add_argument("--out", default=None, help="output folder (default: data/gauges)")
    s.add_argument("--seed", type=int, default=DEFAULT_SEED)
    s.add_argument("--calibrate-ratings", action="store_true",
                   help="refit the synthetic ratings in config/basins.toml first")
    s.set_defaults(func=cmd_generate)

    from hydro.quality_cli import add_commands as add_quality_commands

    add_quality_commands(sub)

    from hydro.report_cli import add_commands as add_report_commands

    add_report_commands(sub)

    from hydro.scenario_commands import add_commands as add_scenario_commands

    add_scenario_commands(sub)
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


if __name__ == "__main__":
    sys.exit(main())
