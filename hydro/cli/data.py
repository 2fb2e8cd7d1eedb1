"""``hydrorisk init|ingest|worker|demo|export-netcdf|qc-check|jobs|check-config|
generate-demo-data``: the store and its data.  Argument handling and printing only; the
work is done by :mod:`hydro.services` (and the worker process, :mod:`hydro.worker`)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hydro.cli.args import (
    config_from_args,
    open_store_for,
    open_store_readonly_for,
    time_arg,
)
from hydro.errors import HydroriskError
from hydro.services import context


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
    from hydro.services.scenarios import check_scenario_files

    sc = check_scenario_files(config)
    print(f"  scenarios   {len(sc.scenarios):4d}  ({', '.join(sc.scenarios)}); model for "
          f"{', '.join(sc.model_basins)}; forcing: {sc.forcing_source}; calibration "
          f"{sc.calibration_years[0]}-{sc.calibration_years[1]}")
    print(f"  store       {context.safe_url(config.store_url)}")
    return 0


def cmd_init(args) -> int:
    from hydro.services import observations

    config = config_from_args(args)
    engine = open_store_for(config)
    print(f"store ready: {context.safe_url(config.store_url)}")
    print(f"  stations {len(observations.stations(engine))}, "
          f"observations {observations.observation_count(engine)}")
    return 0




def _progress(i: int, n: int, name: str, stream=None) -> None:
    # sys.stderr looked up at each call, not bound when the module was imported (a test
    # runner, or anyone, may have replaced it since)
    stream = sys.stderr if stream is None else stream
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
    """Ingest ``files`` with a progress bar on a terminal (:func:`services.ingest.ingest_paths`)."""
    from hydro.services.ingest import ingest_paths as _ingest

    return _ingest(config, engine, files, source,
                   progress=None if quiet else lambda i, n, f: _progress(i, n, f.name))


def print_summary(results, stream=None, seconds: float | None = None) -> None:
    """The ingest summary table; ``seconds`` is the wall-clock time (default: the sum of
    the files' times, which overstates it when files were read ahead in a thread)."""
    stream = sys.stdout if stream is None else stream  # looked up now, not at import
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
    sources: dict[str, int] = {}
    for r in results:
        if r.outcome != "rejected" and r.source:
            sources[r.source] = sources.get(r.source, 0) + 1
    if sources:
        print("stored under source " + ", ".join(
            f"{s} ({n} file{'s' if n != 1 else ''})" for s, n in sorted(sources.items()))
            + " (config/sources.toml; another with --source)", file=stream)
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
    from hydro.services.ingest import expand_paths

    files = expand_paths(args.paths)
    if not files:
        raise HydroriskError("no .csv, .txt or .nc files found in the given paths")
    engine = open_store_for(config)
    t0 = time.perf_counter()
    results = ingest_paths(config, engine, files, args.source)
    print_summary(results, seconds=time.perf_counter() - t0)
    if not args.no_alerts and any(r.outcome == "loaded" for r in results):
        evaluate_alerts_after_ingest(config, engine)
    return 1 if any(r.outcome == "rejected" for r in results) else 0


def evaluate_alerts_after_ingest(config, engine) -> None:
    """Run the alert rules on what was just loaded, as the worker does after an ingest
    (incremental, as of now), and say in one line what changed."""
    from hydro.services import alerts
    from hydro.services.alert_evaluation import evaluate

    t0 = time.perf_counter()
    report = evaluate(engine, config, incremental=True)
    past = sum(1 for a in report.opened if a.closed_at is not None)
    n_open = len(alerts.list_alerts(engine, which="open"))
    print(f"alerts ({time.perf_counter() - t0:.1f} s): {report.summary()}"
          + (f"; {past} of the opened had already ended (breaches in the past data)"
             if past else "")
          + f"; open now: {n_open} — `hydrorisk alerts list`")


def cmd_worker(args) -> int:
    from hydro.worker import run_worker

    config = config_from_args(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    open_store_for(config)  # create the schema before APScheduler creates its own table
    if not run_worker(str(config.root.resolve())):
        # a job still ran after the stop timeout: leave now (its transaction is rolled
        # back; the claimed file returns to the inbox at the next start)
        logging.shutdown()
        os._exit(1)
    return 0


def cmd_demo(args) -> int:
    from hydro.services.ingest import bundled_files

    config = config_from_args(args)
    engine = open_store_for(config)
    files = bundled_files(config)
    if not files:
        raise HydroriskError(f"no bundled data under {config.resolve(config.settings.paths.bundled)}")
    print(f"store: {context.safe_url(config.store_url)}")
    print(f"ingesting {len(files)} bundled files (SYNTHETIC demonstration data) ...", flush=True)
    t0 = time.perf_counter()
    results = ingest_paths(config, engine, files)
    print_summary(results, seconds=time.perf_counter() - t0)
    if any(r.outcome == "loaded" for r in results):
        evaluate_alerts_after_ingest(config, engine)
    port = args.port or config.settings.dashboard.port
    host = args.host or config.settings.dashboard.host
    # the demonstration account (admin demo/demo): `hydrorisk serve` refuses any address
    # but loopback while it exists
    from hydro.services.accounts import DEMO_NAME, ensure_demo_account

    ensure_demo_account(engine)
    print(f"log in as '{DEMO_NAME}' with the password '{DEMO_NAME}' (an administrator of "
          f"this demonstration; the dashboard serves only 127.0.0.1 while it exists)")
    engine.dispose()
    base = [sys.executable, "-m", "hydro.cli", "--config", str(config.root.resolve())]
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




def cmd_export_netcdf(args) -> int:
    from hydro.services.exports import export_store

    config = config_from_args(args)
    engine = open_store_readonly_for(config)
    unknown = [s for s in (args.station or []) if s not in config.network.all_ids()]
    if unknown:
        raise HydroriskError(f"unknown station '{unknown[0]}'")
    try:
        path = export_store(engine, args.out, config, stations=args.station,
                            variables=tuple(args.variable or ("stage", "discharge")),
                            start=time_arg(args.start), end=time_arg(args.end),
                            party=args.party, sources=args.source, as_of=time_arg(args.as_of))
    except ValueError as e:
        raise HydroriskError(str(e)) from None
    print(f"wrote {path} (CF-1.8 timeSeries)")
    return 0


def cmd_qc_check(args) -> int:
    from hydro.services.ingest import check_store

    config = config_from_args(args)
    engine = open_store_for(config)
    r = check_store(engine, config, stations=args.station, start=time_arg(args.start),
                    end=time_arg(args.end))
    flagged = ", ".join(f"{k} {v}" for k, v in sorted(r.flagged.items())) or "none changed"
    print(f"values checked {r.values_checked}; flag changes written as new revisions "
          f"{r.revisions_written}; flags: {flagged}")
    return 0


def cmd_jobs(args) -> int:
    from hydro.services import jobs

    config = config_from_args(args)
    engine = open_store_readonly_for(config)  # read only: works while a writer holds the lock
    status = jobs.job_status(engine)
    if status.empty:
        print("no job has run yet (start `hydrorisk worker`)")
        return 0
    cols = [c for c in ("job_id", "last_outcome", "last_finished_at", "next_run",
                        "consecutive_failures", "last_error") if c in status.columns]
    shown = status[cols].astype(object).where(status[cols].notna(), "-")  # never run yet
    print(shown.to_string(index=False))
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
