"""Short-range forecast skill and refresh time on the bundled data (issue 12).

Loads the bundled daily discharge and reservoir operations (``data/gauges/grdc`` and
``data/gauges/reservoirs``: the series the forecasts read; ``--all`` loads the whole of
``data/gauges``) into a temporary SQLite store, then

* **skill** -- a rolling-origin backtest of the four forecasters (persistence,
  climatology, SARIMAX and the process-model ensemble, the latter with
  :data:`PROCESS_MEMBERS` members instead of the 40 of a refresh)
  (:func:`hydro.services.forecasts.backtest`) at every gauge for the spring seasons
  2020-2024: issue dates every 5 days from 15 March to 31 May of each year (16 a season,
  80 in all), leads 1-10 days, SARIMAX fitted at each season's first issue date on the
  three years before it; printed as the MSE skill score of each method against
  persistence and against climatology by gauge and lead (``*``: not better than the
  reference), the share of gauges where SARIMAX and the process model beat persistence
  at lead >= 3, and the CRPS (ensemble CRPS of the process members; absolute error of the
  point forecasts) with its skill score against persistence and climatology;
* **refresh** -- :func:`hydro.services.forecasts.run` for every gauge as of 10 April 2024
  06:00 UTC (read the store, fit and forecast, write the runs), against a plain pandas
  baseline in the same process: the same daily discharge read and aggregated to local
  days with ``groupby``, and a persistence and day-of-year climatology forecast per
  gauge.  Target of issue 12: a full-network refresh under 60 s on 2 cores.  The refresh
  runs all four methods (the process model with 40 members, the worker's default); the
  process model alone is timed too.

    python bench/forecast_skill.py                  # every gauge, springs 2020-2024
    python bench/forecast_skill.py --years 2024 --stations KZ:19072 KZ:19071

Nothing here is a test: run it by hand; it never asserts on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ISSUE = dt.datetime(2024, 4, 10, 6)
EVERY_DAYS = 5
#: members of the process ensemble in the backtest (a refresh has 40)
PROCESS_MEMBERS = 20


def load(tmp: Path, everything: bool):
    from hydro.config import load_config
    from hydro.services.ingest import bundled_files, ingest_paths
    from hydro.store.db import open_store

    config = load_config(ROOT / "config")
    store = open_store(f"sqlite:///{tmp / 'bench.sqlite'}", config.network)
    files = [f for f in bundled_files(config)
             if everything or f.parent.name in ("grdc", "reservoirs")]
    t0 = time.perf_counter()
    results = ingest_paths(config, store, files)
    print(f"loaded {sum(r.outcome == 'loaded' for r in results)} of {len(files)} bundled "
          f"files in {time.perf_counter() - t0:.1f} s")
    return config, store


def pandas_baseline(store, config, stations: list[str], horizon: int = 10) -> int:
    """Plain pandas: the daily discharge of every gauge by local date, and a persistence
    and day-of-year climatology forecast of each."""
    from hydro.store import api

    obs = api.observations(store, stations=stations, variables=["discharge"],
                           end=ISSUE, as_of=None)
    n = 0
    for sid, g in obs.groupby("station_id", sort=True):
        tz = config.network.gauges[sid].timezone
        local = (pd.DatetimeIndex(g["time"]).tz_localize("UTC").tz_convert(tz)
                 .tz_localize(None).normalize())
        daily = g["value"].groupby(local).mean()
        last_day, last = daily.index[-1], float(daily.iloc[-1])
        valid = pd.date_range(last_day + pd.Timedelta(days=1), periods=horizon)
        clim = daily.groupby(daily.index.dayofyear).mean()
        frame = pd.DataFrame({"persistence": last,
                              "climatology": clim.reindex(valid.dayofyear).to_numpy()},
                             index=valid)
        n += len(frame)
    return n


def skill_table(store, config, stations: list[str] | None, years: list[int]) -> pd.DataFrame:
    from hydro.services import forecasts as fc

    frames = []
    for y in years:
        t0 = time.perf_counter()
        bt = fc.backtest(store, config, start=f"{y}-03-15", end=f"{y}-05-31",
                         stations=stations, horizon=10, every_days=EVERY_DAYS,
                         members=PROCESS_MEMBERS)
        for sid, notes in bt.attrs.get("notes", {}).items():
            print(f"  {y} {sid}: {'; '.join(notes)}")
        print(f"  spring {y}: {bt['issue_time'].nunique()} issue dates x "
              f"{bt['station_id'].nunique()} gauges in {time.perf_counter() - t0:.1f} s")
        frames.append(bt)
    return fc.skill(pd.concat(frames, ignore_index=True))


def label(config, sid: str) -> str:
    return f"{config.network.gauges[sid].names.en} ({sid})"


def print_block(config, table: pd.DataFrame, reference: str, methods: list[str],
                score: str = "mse") -> None:
    col = f"skill_{score}_vs_{reference}"
    leads = sorted(table["lead_days"].unique())
    width = max(len(label(config, s)) for s in table["station_id"].unique())
    print(f"\n{score.upper()} skill score against {reference} by lead (days); * = not better "
          f"than {reference}")
    print(f"{'gauge':<{width}}  {'method':<11}" + "".join(f"{h:>9}" for h in leads))
    for sid, g in table.groupby("station_id", sort=True):
        for m in methods:
            r = g[g["method"] == m].set_index("lead_days")
            cells = []
            for h in leads:
                v = float(r[col].get(h, np.nan))
                mark = "" if np.isfinite(v) and v > 0 else "*"
                cells.append(f"{v:7.2f}{mark}" if np.isfinite(v) and abs(v) < 1000
                             else f"{'<-999' if np.isfinite(v) else '—':>7}{mark}")
            print(f"{label(config, sid):<{width}}  {m:<11}" + "".join(f"{c:>9}" for c in cells))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--years", type=int, nargs="+", default=[2020, 2021, 2022, 2023, 2024])
    p.add_argument("--stations", nargs="+", default=None, help="gauge ids (default: all)")
    p.add_argument("--all", action="store_true", help="load the whole of data/gauges")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    from hydro.services import forecasts as fc

    tmp = Path(tempfile.mkdtemp(prefix="hydrorisk-bench-forecast-"))
    try:
        config, store = load(tmp, args.all)
        stations = args.stations or list(config.network.gauges)

        print(f"\nRolling-origin backtest, springs {args.years[0]}-{args.years[-1]}: issue "
              f"every {EVERY_DAYS} d from 15 March to 31 May, leads 1-10 d, "
              f"{len(stations)} gauges")
        t0 = time.perf_counter()
        table = skill_table(store, config, args.stations, args.years)
        print(f"backtest and scoring: {time.perf_counter() - t0:.1f} s")
        print(f"(the process model: {PROCESS_MEMBERS} members per issue in this backtest)")
        print_block(config, table, "persistence", ["climatology", "sarimax", "process"])
        print_block(config, table, "climatology", ["persistence", "sarimax", "process"])
        print_block(config, table, "persistence", ["climatology", "sarimax", "process"],
                    score="crps")
        print_block(config, table, "climatology", ["persistence", "sarimax", "process"],
                    score="crps")

        for name, method in (("SARIMAX", "sarimax"), ("the process model", "process")):
            sar = table[table["method"] == method]
            if sar.empty:
                print(f"\n{name}: no forecast")
                continue
            at3 = sar[sar["lead_days"] >= 3].groupby("station_id")["beats_persistence"]
            n = sar["station_id"].nunique()
            every = int(at3.all().sum())
            print(f"\n{name} beats persistence (MSE) at every lead 3-10 d at {every} of {n} "
                  f"gauges ({every / n:.0%}); by lead: " + ", ".join(
                      f"{h} d {int(g['beats_persistence'].sum())}/{len(g)}"
                      for h, g in sar.groupby("lead_days")))
            not3 = sorted(sar[(sar["lead_days"] == 3) & ~sar["beats_persistence"]]
                          ["station_id"])
            print("not better than persistence at lead 3: "
                  + (", ".join(label(config, s) for s in not3) or "none"))
            for col, what in (("skill_mse_vs_persistence", "MSE skill vs persistence"),
                              ("skill_crps_vs_persistence", "CRPS skill vs persistence"),
                              ("skill_crps_vs_climatology", "CRPS skill vs climatology")):
                print(f"median {what} by lead, {name}: " + ", ".join(
                    f"{h} d {g[col].median():.2f}" for h, g in sar.groupby("lead_days")))
        crps = table.groupby(["method", "lead_days"])["crps"].median().unstack("lead_days")
        print("\nmedian CRPS over the gauges (m³/s) by lead:")
        print(crps.round(1).to_string())

        print(f"\nFull-network refresh as of {ISSUE:%Y-%m-%d %H:%M} UTC "
              f"({len(stations)} gauges, leads 1-10 d, four methods with a 40-member process "
              f"ensemble, discharge + stage, members stored)")
        t0 = time.perf_counter()
        report = fc.run(store, config, issue_time=ISSUE, stations=stations, on_time=True)
        t_run = time.perf_counter() - t0
        t0 = time.perf_counter()
        pandas_baseline(store, config, stations)
        t_base = time.perf_counter() - t0
        t0 = time.perf_counter()
        proc = fc.run(store, config, issue_time=ISSUE, stations=stations, on_time=True,
                      methods=["process"])
        t_proc = time.perf_counter() - t0
        print(f"  hydrorisk forecast run: {t_run:6.2f} s  ({len(report.run_ids)} runs stored, "
              f"{len(report.skipped)} gauges skipped)")
        print(f"  of which process alone: {t_proc:6.2f} s  ({len(proc.run_ids)} runs stored "
              f"with their members)")
        print(f"  plain pandas baseline : {t_base:6.2f} s  (read + daily means + persistence "
              f"and climatology only)")
        print(f"  ratio                 : {t_run / t_base:6.1f} x   (target: refresh < 60 s)")
        store.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
