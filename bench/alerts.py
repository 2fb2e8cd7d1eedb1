"""Alert evaluation benchmark: ``--stations`` gauges x ``--years`` years of daily stage.

Builds a temporary project (a copy of ``config/`` with the benchmark gauges appended to
``basins.toml``, an adverse and a dangerous level for each in ``thresholds.toml``, and the
bundled ``alerts.toml``), writes the synthetic series straight into a fresh SQLite store
(one segment per gauge, as the ingest stores them; the ingest itself is bench/ingest.py's
subject), then measures in the same process, side by side:

* **full** -- :func:`hydro.services.alert_evaluation.evaluate` on the store just loaded:
  every rule at every station over the whole record (the backlog: data never evaluated),
  reading the store, vectorised rules and lifecycle, writing the alerts;
  baseline: a plain pandas pass over the same data in memory -- per gauge, the day-to-day
  rise and whether the stage is at or over each of its two levels (``groupby().diff()``
  and two comparisons);
* **incremental** -- one more day (one value per gauge) written, then ``evaluate(...,
  incremental=True)``; baseline: the same plain pandas pass over the data the
  incremental evaluation reads (the ``[evaluation].lookback`` window of every gauge).

The targets of issue 11: full < 2 s, incremental < 100 ms for 1 000 gauges x 10 years.

    python bench/alerts.py                          # 1 000 gauges x 10 years
    python bench/alerts.py --stations 100 --years 2   # a quick run
    python bench/alerts.py --profile 25             # also the 25 costliest functions

Nothing here is a test: run it by hand; it never asserts on time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_CODE = 90001
ADVERSE_CM, DANGEROUS_CM = 600.0, 750.0


def bench_gauges(n: int) -> tuple[str, str]:
    """TOML for ``n`` synthetic gauges (basins.toml) and their levels (thresholds.toml)."""
    gauges, levels = [], []
    for i in range(n):
        gid = f"KZ:{FIRST_CODE + i}"
        gauges.append(f'''
[[gauges]]
id = "{gid}"
basin = "ural"
river = "Ural"
country = "KZ"
names = {{ kk = "Бенч {i}", ru = "Бенч {i}", en = "Bench {i}" }}
lat = 50.0
lon = 55.0
coord_source = "synthetic benchmark gauge"
timezone = "Asia/Oral"
estimated = ["datums"]
source = "bench/alerts.py (synthetic)"
datums = [{{ zero = "100.0 m", valid_from = 1936-01-01, status = "synthetic" }}]
''')
        for level, value in (("adverse", ADVERSE_CM), ("dangerous", DANGEROUS_CM)):
            levels.append(f'''
[[thresholds]]
station = "{gid}"
scheme = "ru_nya_oya"
level = "{level}"
value = "{value:g} cm"
set_by = "bench/alerts.py"
basis = "synthetic benchmark level"
status = "synthetic"
confidence = "none"
source = "bench/alerts.py"
''')
    return "".join(gauges), "".join(levels)


def make_project(workdir: Path, stations: int) -> Path:
    cfg = workdir / "project" / "config"
    shutil.copytree(ROOT / "config", cfg)
    gauges, levels = bench_gauges(stations)
    with open(cfg / "basins.toml", "a", encoding="utf-8") as fh:
        fh.write("\n# --- synthetic benchmark gauges (bench/alerts.py) ---\n" + gauges)
    with open(cfg / "thresholds.toml", "a", encoding="utf-8") as fh:
        fh.write("\n# --- synthetic benchmark levels (bench/alerts.py) ---\n" + levels)
    return cfg


def generate(stations: int, days: pd.DatetimeIndex, seed: int = 20240405) -> pd.DataFrame:
    """Daily stage (cm) per gauge: a spring flood of random size (crossing the levels in
    some years), slow noise, a step of noise from day to day."""
    rng = np.random.default_rng(seed)
    doy = days.day_of_year.to_numpy()
    year = days.year.to_numpy()
    years = np.unique(year)
    frames = []
    for i in range(stations):
        peak = rng.uniform(150, 750, len(years))[np.searchsorted(years, year)]
        centre = rng.uniform(100, 125)
        flood = peak * np.exp(-0.5 * ((doy - centre) / rng.uniform(8, 20)) ** 2)
        stage = np.rint(rng.uniform(120, 250) + flood + rng.normal(0, 3, len(days)))
        frames.append(pd.DataFrame({"station_id": f"KZ:{FIRST_CODE + i}", "time": days,
                                    "value": stage}))
    return pd.concat(frames, ignore_index=True)


def write(engine, df: pd.DataFrame, received_at: dt.datetime) -> None:
    """Store the rows as the ingest would (one segment per gauge, party KZ)."""
    from hydro.store import segments

    rows = df.assign(variable="stage", unit="cm", party="KZ", source="bench", revision=1,
                     phenomena=None, flags=0)
    with engine.begin() as conn:
        segments.write(conn, rows, received_at, None)


def plain_pandas(df: pd.DataFrame) -> float:
    """The baseline: per gauge the day-to-day change and the two level tests."""
    t0 = time.perf_counter()
    d = df.sort_values(["station_id", "time"], kind="stable")
    rise = d.groupby("station_id", sort=False)["value"].diff()
    adverse = d["value"] >= ADVERSE_CM
    dangerous = d["value"] >= DANGEROUS_CM
    _ = (rise >= 50).sum() + adverse.sum() + dangerous.sum()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stations", type=int, default=1000)
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="print the N costliest functions of the full evaluation")
    p.add_argument("--keep", action="store_true", help="keep the temporary project")
    a = p.parse_args(argv)

    from hydro.config import load_config
    from hydro.services import alert_evaluation as ae
    from hydro.store.db import open_store

    work = Path(tempfile.mkdtemp(prefix="hydrorisk-bench-alerts-"))
    try:
        cfg_dir = make_project(work, a.stations)
        config = load_config(cfg_dir)
        days = pd.date_range("2014-01-01 03:00", periods=365 * a.years + a.years // 4,
                             freq="D")
        df = generate(a.stations, days)
        engine = open_store(f"sqlite:///{work / 'bench.sqlite'}", config.network)
        loaded = days[-1].to_pydatetime() + dt.timedelta(hours=2)
        t0 = time.perf_counter()
        write(engine, df, loaded)
        print(f"{a.stations} gauges x {a.years} years: {len(df):,} daily values "
              f"(written in {time.perf_counter() - t0:.1f} s)")
        stations = [f"KZ:{FIRST_CODE + i}" for i in range(a.stations)]

        base_full = plain_pandas(df)
        prof = cProfile.Profile() if a.profile else None
        t0 = time.perf_counter()
        if prof:
            prof.enable()
        full = ae.evaluate(engine, config, as_of=loaded + dt.timedelta(hours=1),
                           stations=stations)
        if prof:
            prof.disable()
        t_full = time.perf_counter() - t0
        print(f"full evaluation        {t_full:8.3f} s   plain pandas {base_full:8.3f} s   "
              f"ratio {t_full / base_full:6.1f}   (target < 2 s)  "
              f"[{len(full.opened)} opened, {len(full.closed)} closed]")

        # one more day: one value per gauge, received the next morning
        nxt = days[-1] + pd.Timedelta(days=1)
        day = pd.DataFrame({"station_id": stations, "time": nxt,
                            "value": df.groupby("station_id", sort=False)["value"].last()
                            .to_numpy() + 1.0})
        write(engine, day, nxt.to_pydatetime() + dt.timedelta(hours=2))
        lookback = dt.timedelta(days=config.alerts.evaluation.lookback.to("duration"))
        window = df[df["time"] >= nxt - lookback]
        base_inc = plain_pandas(pd.concat([window, day], ignore_index=True))
        prof_inc = cProfile.Profile() if a.profile else None
        t0 = time.perf_counter()
        if prof_inc:
            prof_inc.enable()
        inc = ae.evaluate(engine, config, as_of=nxt.to_pydatetime() + dt.timedelta(hours=3),
                          stations=stations, incremental=True)
        if prof_inc:
            prof_inc.disable()
        t_inc = time.perf_counter() - t0
        print(f"incremental (one day)  {t_inc:8.3f} s   plain pandas {base_inc:8.3f} s   "
              f"ratio {t_inc / base_inc:6.1f}   (target < 0.1 s)  "
              f"[{len(inc.stations)} stations; {inc.changed} changes]")
        for what, pr in (("full", prof), ("incremental", prof_inc)):
            if pr:
                out = io.StringIO()
                pstats.Stats(pr, stream=out).sort_stats("cumulative").print_stats(a.profile)
                print(f"--- {what} evaluation ---\n{out.getvalue()}")
        engine.dispose()
    finally:
        if a.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
