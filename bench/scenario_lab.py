"""Benchmark of the scenario lab's runs (issue #14): time from "start" to the first result
and to all results, for 50 and 1 000 members of the Ural 2024-style season.

Each run goes through the calls the dashboard's scenario page makes
(:mod:`hydro.services.scenario_runs`): ``start_run`` (plan resolved, row queued),
``execute_run`` (member chunks, progress and the first chunk's summary in the store,
NetCDF written, summary, audit row), then ``run_results`` (fan charts, exceedance of
every level, storage quantiles, travel times, holdout against the unregulated river,
drawdown check).  "First result" is the moment the first chunk's summary is in the store
(what a page polling the run shows first); "all results" is when ``run_results``
returns.

The baseline, in the same process, is the bare engine: ``run_ensemble`` over the same
members and chunks without storing or results; the lab's times are printed as ratios to
it.  The season's context (climatology) is built once beforehand, as in a running
server (its cold build is printed too).  Target: 1 000 members under 10 s on 2 cores.

Nothing here is a timed assertion; run ``python bench/scenario_lab.py [--members 50
1000] [--repeat 2]``.  Everything is built from the SYNTHETIC demonstration data and
forcing; runs and the store go to a temporary folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hydro.config import load_config  # noqa: E402
from hydro.services import scenario_runs as R  # noqa: E402
from hydro.services import scenarios as S  # noqa: E402
from hydro.store.db import open_store  # noqa: E402

SCENARIO = "ural-2024-style"


def lab_run(config, store, members: int) -> dict[str, float]:
    """One run as the page makes it; seconds from the start to each milestone."""
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    run = R.start_run(config, store, SCENARIO, "default", members, author="bench")
    marks["queued"] = time.perf_counter() - t0

    def progress(done: int, total: int) -> None:
        if "first" not in marks:
            got = R.get_run(store, run.run_id)          # what a polling page reads
            assert got is not None and got.summary and R.run_summary(got)["partial"]
            marks["first"] = time.perf_counter() - t0

    done = R.execute_run(config, store, run.run_id, progress=progress)
    if done.status != "done":
        raise SystemExit(f"run {run.run_id} {done.status}: {done.error}")
    marks["stored"] = time.perf_counter() - t0
    marks["chunks"] = done.chunks_total
    R.run_results(config, store, run.run_id)
    marks["all"] = time.perf_counter() - t0
    return marks


def baseline(config, ctx, members: int) -> float:
    sc = ctx.scenario
    size = R.chunk_size(members, sc.run.chunk_members)
    t0 = time.perf_counter()
    S.run_ensemble(config.network, sc, ctx.climatology, "default", members=members,
                   chunk_members=size)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, nargs="+", default=[50, 1000])
    ap.add_argument("--repeat", type=int, default=2, help="runs per size (best is printed)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hydrorisk-lab-bench-"))
    base_config = load_config(ROOT / "config")
    paths = base_config.settings.paths.model_copy(update={"runs": str(tmp / "runs")})
    config = dataclasses.replace(base_config, settings=base_config.settings.model_copy(
        update={"paths": paths}))
    store = open_store(f"sqlite:///{tmp / 'bench.sqlite'}", config.network)
    print(f"SYNTHETIC: scenario {SCENARIO} on the synthetic demonstration data; "
          f"{os.cpu_count()} CPUs; runs in {tmp}")
    t0 = time.perf_counter()
    ctx = R.cached_context(config, SCENARIO, store)
    print(f"season context (climatology), cold: {time.perf_counter() - t0:.2f} s "
          "(once per server process and scenario; cached after)")
    lab_run(config, store, 10)      # warm imports (netCDF4, reportlab-free path) once
    for n in args.members:
        runs = [lab_run(config, store, n) for _ in range(args.repeat)]
        best = min(runs, key=lambda m: m["all"])
        base = min(baseline(config, ctx, n) for _ in range(args.repeat))
        size = R.chunk_size(n, ctx.scenario.run.chunk_members)
        print(f"\n{n} members ({int(best['chunks'])} chunks of {size}), best of "
              f"{args.repeat}:")
        print(f"  start -> queued          {best['queued']:7.3f} s")
        print(f"  start -> first result    {best['first']:7.3f} s   (first chunk's summary "
              "in the store)")
        print(f"  start -> run stored      {best['stored']:7.3f} s   (NetCDF + summary + "
              "audit)")
        print(f"  start -> all results     {best['all']:7.3f} s   (run_results)")
        print(f"  baseline run_ensemble    {base:7.3f} s   (same members and chunks, "
              "nothing stored)")
        print(f"  ratios to the baseline:  first result {best['first'] / base:.2f}x, "
              f"all results {best['all'] / base:.2f}x")
        if n >= 1000:
            verdict = "met" if best["all"] < 10 else "MISSED"
            print(f"  target (1 000 members under 10 s to all results): {verdict}")
    store.dispose()


if __name__ == "__main__":
    main()
