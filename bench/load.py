"""Load benchmark (issue 15, "Done when"): the overview and the station page under 20 and 50
concurrent clients on loopback WHILE an ingest runs in another process into the same store.

A temporary project (a copy of ``config/``) and SQLite store: the bundled (SYNTHETIC) GRDC
discharge files are loaded first so the pages have something to show; then, per phase, a
``hydrorisk ingest`` child process loads more of the bundled data folder into the same
store while N clients (threads, logged in as a viewer) request, round-robin, the overview
(``/`` HTML and its Dash Pages router callback) and the station page of KZ:19073 (HTML and
router callback) until that ingest has finished.  The dashboard runs in its own child
process (waitress if installed, else Werkzeug's threaded development server; the output
says which), with the caches of :mod:`hydro.services.cache` on: every ingested file
changes the data version, so the pages are recomputed as the data arrive.

Printed per phase: requests served, errors (target 0), p50 and p95 latency, against a
baseline measured side by side on the same server (a plain Flask route returning fixed
bytes, ``/_bench/static``, under the same clients and ingest); and at the end the rows
ingested (current values stored, counted in the store) against the rows in the files (each
file parsed by :func:`hydro.readers.read_file`; target equal).

Exit status: 1 on any error response or a row mismatch; never on timing.

    python bench/load.py
    python bench/load.py --clients 20 50

Nothing here is a test: run it by hand.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(Path(__file__).resolve().parent))

import webbench as wb  # noqa: E402

BUNDLED = ROOT / "data" / "gauges"
PRELOAD = ["grdc"]
#: what each phase ingests while the clients run (in order of --clients)
PHASES = [["agency/kazhydromet", "agency/roshydromet"],
          ["agency/kazhydromet-kk", "reservoirs", "quality"]]
STATION = "KZ:19073"


def make_project(tmp: Path) -> Path:
    cfg = tmp / "project" / "config"
    shutil.copytree(ROOT / "config", cfg)
    return cfg


def files_of(folders: list[str]) -> list[Path]:
    from hydro.services.ingest import expand_paths

    return expand_paths([BUNDLED / f for f in folders])


def rows_in_files(config, files: list[Path]) -> int:
    from hydro.readers import read_file

    return sum(read_file(f, config).rows for f in files)


def stored_rows(config, url: str) -> tuple[int, int]:
    """(values stored: one current value per station, variable, party, source and time,
    and water-quality samples; every stored revision).  A later file can re-flag values
    stored from an earlier one (e.g. the other party's stage now disagrees): that adds a
    revision of a value already stored, not a value."""
    from hydro.services import observations
    from hydro.store import api
    from hydro.store.db import open_store

    engine = open_store(url, config.network)
    try:
        quality = len(api.quality_samples(engine))
        current = len(api.observations(engine))
        return current + quality, observations.observation_count(engine) + quality
    finally:
        engine.dispose()


def ingest_process(cfg_dir: Path, url: str, folders: list[str]) -> subprocess.Popen:
    env = dict(os.environ, HYDRORISK_DB_URL=url)
    exe = Path(sys.executable).with_name("hydrorisk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hydro.cli"]
    return subprocess.Popen([*cmd, "--config", str(cfg_dir), "ingest", "--no-alerts",
                             *[str(BUNDLED / f) for f in folders]],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, nargs="+", default=[20, 50])
    p.add_argument("--workdir", default=None)
    p.add_argument("--settle", type=float, default=0.0,
                   help="HYDRORISK_CACHE_SETTLE of the server: seconds a data version is "
                        "reused (default 0: every request sees the latest ingest)")
    args = p.parse_args(argv)
    if len(args.clients) > len(PHASES):
        raise SystemExit(f"at most {len(PHASES)} phases")

    from hydro.config import load_config
    from hydro.services.ingest import ingest_files
    from hydro.store.db import open_store

    tmp = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="hydro-load-"))
    tmp.mkdir(parents=True, exist_ok=True)
    server = None
    failed = False
    try:
        cfg_dir = make_project(tmp)
        config = load_config(cfg_dir)
        url = f"sqlite:///{tmp / 'load.sqlite'}"
        engine = open_store(url, config.network)
        pre = files_of(PRELOAD)
        for r in ingest_files(engine, config, pre, quarantine_dir=tmp / "quarantine"):
            if r.outcome != "loaded":
                raise SystemExit(f"preload: {r.path}: {r.message}")
        engine.dispose()
        wb.ensure_user(cfg_dir, url)
        server = wb.start_server(cfg_dir, url, use_cache=True, settle=args.settle)
        print("data: bundled SYNTHETIC demonstration data (data/gauges); store: SQLite (WAL), "
              f"preloaded with {', '.join(PRELOAD)} ({len(pre)} files)")
        print(f"server: {wb.server_kind()}, child process, loopback, caches on (data version "
              f"re-read every {args.settle:g} s); ingest: `hydrorisk ingest --no-alerts` in "
              "another process into the same store")
        c0 = wb.Client(server.base)
        page = c0.post(wb.page_payload(f"/station/{STATION}", "?lang=en"))
        c0.s.post(server.base + "/_bench/set-static", data=page.content, headers=c0.headers())

        kinds = ["overview HTML (GET /)", "overview layout (router callback)",
                 f"station HTML (GET /station/{STATION})", "station layout (router callback)"]
        reqs: list[wb.Request] = [
            lambda c: c.get("/?lang=en"),
            lambda c: c.post(wb.page_payload("/", "?lang=en")),
            lambda c: c.get(f"/station/{STATION}?lang=en"),
            lambda c: c.post(wb.page_payload(f"/station/{STATION}", "?lang=en")),
        ]
        static: list[wb.Request] = [lambda c: c.get("/_bench/static")]
        expected, _ = stored_rows(config, url)
        file_rows = rows_in_files(config, pre)
        print()
        print(f"{'':44s}{'served':>7s}{'errors':>7s}{'p50 ms':>9s}{'p95 ms':>9s}"
              f"{'p95 x base':>11s}{'req/s':>8s}")
        for n, folders in zip(args.clients, PHASES, strict=False):
            files = files_of(folders)
            file_rows += rows_in_files(config, files)
            clients = [wb.Client(server.base) for _ in range(n)]
            proc = ingest_process(cfg_dir, url, folders)
            t0 = time.perf_counter()
            # the pages, and the baseline route, alternately while the ingest runs
            results, bases = [], []
            while proc.poll() is None:
                results.append(wb.run(clients, reqs, per_client=len(reqs),
                                      until=lambda p=proc: p.poll() is not None))
                bases.append(wb.run(clients, static, per_client=1))
            seconds = time.perf_counter() - t0
            out = proc.stdout.read() if proc.stdout else ""
            if proc.returncode != 0:
                print(out)
                failed = True
            res, base = wb.Result(), wb.Result()
            for r in results:
                res.latencies += r.latencies
                res.errors += r.errors
                for i, v in r.by_kind.items():
                    res.by_kind.setdefault(i, []).extend(v)
            for r in bases:
                base.latencies += r.latencies
                base.errors += r.errors
            label = f"{n} clients, pages during ingest ({seconds:.0f} s)"
            ratio = res.pct(95) / base.pct(95) if base.latencies else float("nan")
            print(f"{label:44s}{len(res.latencies):7d}{len(res.errors):7d}{res.pct(50):9.0f}"
                  f"{res.pct(95):9.0f}{ratio:11.1f}{len(res.latencies) / seconds:8.1f}")
            for i, name in enumerate(kinds):
                one = wb.Result(latencies=res.by_kind.get(i, []))
                print(f"{'  ' + name:44s}{len(one.latencies):7d}{'':7s}{one.pct(50):9.0f}"
                      f"{one.pct(95):9.0f}")
            print(f"{'  baseline: static JSON route, same time':44s}{len(base.latencies):7d}"
                  f"{len(base.errors):7d}{base.pct(50):9.0f}{base.pct(95):9.0f}{1.0:11.1f}")
            print(f"{'  ingest: ' + ', '.join(folders):44s}"
                  f"{len(files)} files, exit {proc.returncode}")
            for e in (res.errors + base.errors)[:5]:
                print("   error:", e)
            failed |= bool(res.errors or base.errors)
        stored, revisions = stored_rows(config, url)
        print()
        print(f"rows in the files {file_rows:,}; rows ingested (current values stored) "
              f"{stored:,} ({expected:,} of them from the preload before the load); "
              f"{'equal' if stored == file_rows else 'MISMATCH'}")
        print(f"  stored revisions {revisions:,}: {revisions - stored:,} are QC-flag revisions "
              "of values already stored (a later file re-flagged them)")
        failed |= stored != file_rows
        print("targets: 0 errors; rows equal; p95 < 300 ms (20 clients) and < 1 s (50) — "
              "timing never fails the run")
    finally:
        if server is not None:
            server.stop()
        if not args.workdir:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
