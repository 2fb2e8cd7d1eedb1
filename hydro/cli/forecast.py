"""``hydrorisk forecast run|show|skill|external``: short-range (1-10 day) forecasts at the
gauges, and external ensembles bias-corrected to them, on the terminal.  Argument handling and printing only: the forecasts are made, stored, replayed
and scored by :mod:`hydro.services.forecasts`.

Tables are for people: stations by name and id, dates as ``YYYY-MM-DD`` (local dates of
the daily values), times as ``YYYY-MM-DD HH:MM`` UTC, a blank field as ``—`` (never NaN or
NaT).  A request that cannot be met (unknown gauge, nothing stored) is one line on stderr
and exit status 2.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from hydro.cli.args import (
    config_from_args,
    open_store_for,
    open_store_readonly_for,
    time_arg,
)
from hydro.cli.text import DASH
from hydro.cli.text import number as _num
from hydro.cli.text import percent as _percent
from hydro.cli.text import print_synthetic_note as _synthetic
from hydro.cli.text import station_label as _label
from hydro.cli.text import table as _table
from hydro.errors import HydroriskError

if TYPE_CHECKING:
    import pandas as pd

    from hydro.config import Config

#: how the units are printed
UNIT_TEXT = {"m3/s": "m³/s", "cm": "cm"}
#: the forecasters (hydro.services.forecasts.METHODS, which this module does not import at
#: start-up)
METHOD_CHOICES = ["persistence", "climatology", "sarimax", "process"]


def add_commands(sub) -> None:
    p = sub.add_parser("forecast", help="short-range forecasts at the gauges: run, show, skill, external",
                       description="Daily discharge (and stage, through the rating) 1-10 "
                                   "days ahead at every gauge by persistence, climatology, "
                                   "SARIMAX with the upstream gauges as inputs, and the "
                                   "process model (an ensemble of the snowmelt model and "
                                   "network routing under the weather of past years); "
                                   "stored with their issue time.")
    fs = p.add_subparsers(dest="forecast_command", required=True, metavar="SUBCOMMAND")

    s = fs.add_parser("run", help="issue forecasts from the store and keep them",
                      description="Forecast every gauge (or --station) from what the store "
                                  "had received by --issue-time (default: now) and store the "
                                  "forecasts.")
    s.add_argument("--issue-time", help="UTC, YYYY-MM-DD[THH:MM] (default: now)")
    s.add_argument("--station", action="append", help="gauge id (repeatable; default all)")
    s.add_argument("--horizon", type=int, default=10, help="longest lead, days (default 10)")
    s.add_argument("--method", action="append", choices=METHOD_CHOICES,
                   help="forecaster (repeatable; default all four)")
    s.add_argument("--members", type=int, default=40,
                   help="members of the process-model ensemble (default 40)")
    s.add_argument("--release", action="append", metavar="RESERVOIR=M3S",
                   help="planned release of a reservoir over the horizon, m³/s, e.g. "
                        "RU:IRIKLINSK=900 (repeatable; default: its last outflow persisted)")
    s.add_argument("--on-time", action="store_true",
                   help="count every stored value as received when observed (a replay of "
                        "data loaded after the fact, such as the bundled data)")
    s.set_defaults(func=cmd_run)

    s = fs.add_parser("show", help="the forecast of a gauge, with what was observed",
                      description="The forecast of STATION that was current at --as-of "
                                  "(default: the newest): each lead's valid date, each "
                                  "method's value and 5-95 %% interval, and the observed "
                                  "daily mean where it exists.")
    s.add_argument("station", metavar="STATION", help="gauge id, e.g. KZ:19072")
    s.add_argument("--as-of", help="the forecast current at this UTC time (a replay)")
    s.add_argument("--variable", choices=["discharge", "stage"], default="discharge")
    s.set_defaults(func=cmd_show)

    s = fs.add_parser("skill", help="rolling-origin backtest: skill by gauge and lead",
                      description="Backtest the forecasters on the stored history (issue "
                                  "dates every --every days from --start to --end, each "
                                  "from the data up to its issue date) and print their "
                                  "skill by gauge and lead time; a method that does not "
                                  "beat persistence is marked.")
    s.add_argument("--start", required=True, help="first issue date, YYYY-MM-DD")
    s.add_argument("--end", required=True, help="last issue date, YYYY-MM-DD")
    s.add_argument("--station", action="append", help="gauge id (repeatable; default all)")
    s.add_argument("--horizon", type=int, default=10, help="longest lead, days (default 10)")
    s.add_argument("--every", type=int, default=7, metavar="DAYS",
                   help="days between issue dates (default 7)")
    s.add_argument("--method", action="append", choices=METHOD_CHOICES,
                   help="forecaster (repeatable; default all four; persistence is always "
                        "scored, as the reference)")
    s.add_argument("--members", type=int, default=40,
                   help="members of the process-model ensemble (default 40)")
    s.add_argument("--write", action="store_true",
                   help="keep the skill table in the store: `forecast show` (and the "
                        "dashboard) then mark each method and lead that did not beat "
                        "persistence in it")
    s.set_defaults(func=cmd_skill)

    s = fs.add_parser("external", help="an external ensemble (GloFAS-type CF-NetCDF), "
                                       "bias-corrected to the gauges",
                      description="Read a CF-NetCDF ensemble discharge forecast at the gauges "
                                  "(realization and lead dimensions, e.g. a GloFAS extract), "
                                  "correct it by quantile mapping against the stored discharge "
                                  "(calibrated on a reforecast of the same model), and give "
                                  "per gauge and lead the median, 5-95 % and the probability "
                                  "of reaching each national warning level; stored as "
                                  "forecasts of method 'external-qm'.")
    s.add_argument("forecast", metavar="FORECAST.nc", help="the ensemble forecast file")
    s.add_argument("--reforecast", metavar="REFORECAST.nc",
                   help="the model's reforecast to calibrate on (default: the one of "
                        "config/external_forecasts.toml, else data/gauges/external/)")
    s.add_argument("--station", action="append", help="gauge id (repeatable; default: every "
                                                      "gauge in the file)")
    s.add_argument("--window-days", type=int, default=15, metavar="DAYS",
                   help="calibration window, ± days of the day of year (default 15)")
    s.add_argument("--no-write", action="store_true", help="print only; store nothing")
    s.set_defaults(func=cmd_external)


# --------------------------------------------------------------------------- formatting





def _score(x: Any) -> str:
    v = float(x)
    return DASH if not math.isfinite(v) else f"{v:.2f}"


def _when(t: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    import pandas as pd

    if t is None or pd.isna(t):
        return DASH
    return pd.Timestamp(t).strftime(fmt)






def _gauge(config: Config, station: str) -> None:
    if station not in config.network.gauges:
        raise HydroriskError(f"unknown gauge '{station}'; see `hydrorisk check-config` for "
                             "the gauges of config/basins.toml")


# --------------------------------------------------------------------------- commands

def _release(text: str) -> tuple[str, float]:
    res, _, value = text.partition("=")
    try:
        q = float(value.strip().removesuffix("m3/s").strip())
    except ValueError:
        q = math.nan
    if not res or not math.isfinite(q) or q < 0:
        raise HydroriskError(f"--release '{text}' is not RESERVOIR=M3S (e.g. "
                             "RU:IRIKLINSK=900)")
    return res.strip(), q


def _members(n: int) -> int:
    if n < 1:
        raise HydroriskError(f"--members must be at least 1, got {n}")
    return n


def cmd_run(args: argparse.Namespace) -> int:
    from hydro.services import forecasts

    config = config_from_args(args)
    for s in args.station or []:
        _gauge(config, s)
    releases = dict(_release(text) for text in args.release or [])
    store = open_store_for(config)
    report = forecasts.run(store, config, issue_time=time_arg(args.issue_time),
                           stations=args.station, horizon=args.horizon,
                           methods=args.method or forecasts.METHODS, on_time=args.on_time,
                           releases=releases, members=_members(args.members))
    _synthetic(store)
    print(f"Forecasts as of {report.known_at:%Y-%m-%d %H:%M} UTC, leads 1-{report.horizon} d "
          f"({', '.join(report.methods)}): {len(report.run_ids)} stored at "
          f"{len(report.issue_times)} gauge(s) in {report.seconds:.1f} s")
    rows = []
    for sid in report.stations:
        rows.append([_label(config, sid), _when(report.issue_times[sid]),
                     "; ".join(report.notes.get(sid, []))])
    if rows:
        header = ["gauge", "last observation used (UTC)", "note"]
        if not any(r[2] for r in rows):
            header, rows = header[:2], [r[:2] for r in rows]
        print(_table(header, rows, set()))
    for sid, why in sorted(report.skipped.items()):
        print(f"skipped {_label(config, sid)}: {why}")
    return 0


def _cell(frame: pd.DataFrame, method: str, lead: int, unit: str,
          no_skill: set[tuple[str, int]] | None = None) -> str:
    hit = frame[(frame["method"] == method) & (frame["lead_days"] == lead)]
    if hit.empty:
        return DASH
    r = hit.iloc[0]
    v = _num(r["value"], unit)
    lo, hi = _num(r["lower"], unit), _num(r["upper"], unit)
    mark = " *" if no_skill and (method, lead) in no_skill else ""
    return (v if DASH in (lo, hi) else f"{v} ({lo}-{hi})") + mark


def _skill_marks(store, station: str) -> tuple[set[tuple[str, int]], str]:
    """(method, lead) that did not beat persistence in the newest stored backtest of
    ``station``, and the legend line that says which backtest."""
    from hydro.services import forecasts

    table = forecasts.stored_skill(store, station)
    if table.empty:
        return set(), ("No backtest is stored for this gauge: run `hydrorisk forecast skill "
                       "--write` to mark the methods that do not beat persistence.")
    bad = {(str(m), int(h)) for m, h, b in zip(table["method"], table["lead_days"],
                                               table["beats_persistence"], strict=True)
           if b is not None and not bool(b) and m != "persistence"}
    first = table.iloc[0]
    legend = (f"* = did not beat persistence at this lead in backtest {first['backtest_id']} "
              f"({first['issues']} issue dates {_when(first['period_start'], '%Y-%m-%d')} to "
              f"{_when(first['period_end'], '%Y-%m-%d')}, computed "
              f"{_when(first['computed_at'])} UTC)")
    return bad, legend


def cmd_show(args: argparse.Namespace) -> int:
    from hydro.services import forecasts

    config = config_from_args(args)
    _gauge(config, args.station)
    store = open_store_readonly_for(config)  # only reads: works under another's write lock
    as_of = time_arg(args.as_of)
    frame = forecasts.latest(store, args.station, as_of=as_of, variable=args.variable)
    if frame.empty:
        when = f" by {as_of:%Y-%m-%d %H:%M} UTC" if as_of else ""
        raise HydroriskError(f"no {args.variable} forecast of {args.station} stored{when}; "
                             "issue one with `hydrorisk forecast run`")
    _synthetic(store)
    first = frame.iloc[0]
    unit = str(first["unit"])
    print(f"{_label(config, args.station)}: daily mean {args.variable}, "
          f"{UNIT_TEXT.get(unit, unit)}"
          + (" (through the gauge's rating)" if args.variable == "stage" else ""))
    print(f"Issued for {_when(first['issue_date'], '%Y-%m-%d')} (last observation "
          f"{_when(first['issue_time'])} UTC), from the store as received by "
          f"{_when(first['known_at'])} UTC; computed {_when(first['created_at'])} UTC"
          + (f"; current at {as_of:%Y-%m-%d %H:%M} UTC" if as_of else ""))
    half = 100 * float(first["alpha"]) / 2
    print(f"Each method: forecast ({half:.0f}-{100 - half:.0f} % interval); dates are the "
          "gauge's local dates")
    methods = [m for m in (*forecasts.METHODS, *sorted(set(frame["method"])
                                                          - set(forecasts.METHODS)))
               if m in set(frame["method"])]
    no_skill, legend = _skill_marks(store, args.station)
    rows = []
    for lead in sorted(int(x) for x in frame["lead_days"].unique()):
        at = frame[frame["lead_days"] == lead].iloc[0]
        rows.append([str(lead), _when(at["valid_date"], "%Y-%m-%d"),
                     *[_cell(frame, m, lead, unit, no_skill) for m in methods],
                     _num(at["observed"], unit)])
    print(_table(["lead (d)", "valid date", *methods, "observed"], rows, {0}))
    if "sarimax" in methods:
        print("sarimax: beyond each input's travel time the interval includes the upstream "
              "gauge's own forecast error; a planned release or a persisted reservoir "
              "outflow is taken as known")
    print(legend)
    if "process" in methods:
        print(_process_note(frame))
    notes = frame.drop_duplicates("method")[["method", "note"]]
    for r in notes.itertuples(index=False):
        if isinstance(r.note, str) and r.note:
            print(f"{r.method}: {r.note}")
    return 0


def _process_note(frame: pd.DataFrame) -> str:
    """What the process column is, from its run's parameters."""
    import json

    run = frame[frame["method"] == "process"].iloc[0]
    try:
        p = json.loads(run["parameters"] or "{}")
    except (TypeError, ValueError):
        p = {}
    years = p.get("weather_years") or []
    span = f"{min(years)}-{max(years)}" if years else DASH
    nudge = p.get("nudge") or {}
    ratio = nudge.get("ratio")
    nudged = (f"; scaled to start from the observed discharge (ratio {ratio:.2f} on the "
              f"issue date, fading with the lead)" if isinstance(ratio, float | int)
              and ratio != 1 else "")
    return (f"process: median of {p.get('members', '?')} members of the snowmelt model "
            f"routed through the network from the state on the issue date, each under the "
            f"weather of one past year ({span}), and their 5-95 % band{nudged}")


def cmd_skill(args: argparse.Namespace) -> int:
    from hydro.services import forecasts

    config = config_from_args(args)
    for s in args.station or []:
        _gauge(config, s)
    start, end = time_arg(args.start), time_arg(args.end)
    assert start is not None and end is not None
    # without --write a backtest only reads: it works while another process writes
    store = open_store_for(config) if args.write else open_store_readonly_for(config)
    methods = list(dict.fromkeys(["persistence", *(args.method or forecasts.METHODS)]))
    bt = forecasts.backtest(store, config, start=start, end=end, stations=args.station,
                            horizon=args.horizon, every_days=args.every, methods=methods,
                            members=_members(args.members))
    if bt.empty:
        raise HydroriskError(f"nothing to score between {start:%Y-%m-%d} and {end:%Y-%m-%d}: "
                             "no gauge has discharge with 60 days of history before an "
                             "issue date")
    table = forecasts.skill(bt)
    _synthetic(store)
    n_issues = bt["issue_time"].nunique()
    print(f"Skill of the daily discharge forecasts: {n_issues} issue dates from "
          f"{start:%Y-%m-%d} to {end:%Y-%m-%d}, every {args.every} d, leads 1-{args.horizon} d")
    print("NSE of each method; CRPS in m³/s (of the process ensemble's members; of a point "
          "forecast, its absolute error; 0 perfect); SS = MSE skill score against "
          "persistence (1 perfect, 0 no better than persistence); * = does not beat "
          "persistence")
    others = [m for m in forecasts.METHODS if m != "persistence" and m in set(table["method"])]
    header = ["gauge", "lead (d)", "n", *[f"NSE {m}" for m in ["persistence", *others]],
              *[f"CRPS {m}" for m in ["persistence", *others]],
              *[f"SS {m}" for m in others]]
    rows = []
    for sid, g in table.groupby("station_id", sort=False):
        by = {m: g[g["method"] == m].set_index("lead_days") for m in ["persistence", *others]}
        for lead in sorted(by["persistence"].index):
            row = [_label(config, str(sid)), str(lead),
                   str(int(by["persistence"].loc[lead, "n"]))]
            row += [_score(by[m].loc[lead, "nse"]) if lead in by[m].index else DASH
                    for m in ["persistence", *others]]
            row += [_num(by[m].loc[lead, "crps"]) if lead in by[m].index else DASH
                    for m in ["persistence", *others]]
            for m in others:
                if lead not in by[m].index:
                    row.append(DASH)
                    continue
                r = by[m].loc[lead]
                row.append(_score(r["skill_mse_vs_persistence"])
                           + ("" if bool(r["beats_persistence"]) else " *"))
            rows.append(row)
    print(_table(header, rows, set(range(1, len(header)))))
    if "process" in others:
        crpss = table[table["method"] == "process"]
        print("process vs persistence, CRPS skill score (1 − CRPS/CRPS of persistence) by "
              "lead, median over the gauges: " + ", ".join(
                  f"{h} d {g['skill_crps_vs_persistence'].median():.2f}"
                  for h, g in crpss.groupby("lead_days")))
    for sid, notes in sorted(bt.attrs.get("notes", {}).items()):
        print(f"{_label(config, sid)}: {'; '.join(notes)}")
    if args.write:
        bid = forecasts.save_skill(store, table, start=start, end=end, issues=n_issues)
        print(f"Kept as backtest {bid}: `hydrorisk forecast show` marks a method that did not "
              "beat persistence at a lead in it.")
    return 0


# --------------------------------------------------------------------------- external



def _range(v: Any, lo: Any, hi: Any, unit: str) -> str:
    a, b, c = _num(v, unit), _num(lo, unit), _num(hi, unit)
    return a if DASH in (b, c) else f"{a} ({b}-{c})"


def cmd_external(args: argparse.Namespace) -> int:
    from hydro.services import external_forecasts as ext

    config = config_from_args(args)
    for s in args.station or []:
        _gauge(config, s)
    store = open_store_readonly_for(config) if args.no_write else open_store_for(config)
    report = ext.run(store, config, args.forecast, reforecast=args.reforecast,
                     stations=args.station, window_days=args.window_days,
                     write=not args.no_write)
    _synthetic(store)
    print(f"External ensemble {report.forecast_file.name} ({report.source})")
    print(f"Bias-corrected by quantile mapping against the stored discharge, calibrated on "
          f"the reforecast {report.reforecast_file.name} (± {args.window_days} days of the "
          f"valid date's day of year); "
          + (f"{len(report.run_ids)} run(s) stored as method '{ext.METHOD}'"
             if report.run_ids else "not stored (--no-write)"))
    print("Per lead: corrected median (5-95 % of the members); raw = the uncorrected "
          "members' median; P = share of members at or over a national warning level on "
          "that date (in brackets: on any date up to it). Dates are UTC dates of the daily "
          "means.")
    for g in report.gauges:
        print()
        m = g.match
        how = ("by id" if m.by == "id"
               else f"nearest to the file's point, {m.distance_km:.1f} km")
        cal = g.calibration
        print(f"{_label(config, g.station)}: file station '{m.file_id}' ({how}); issued "
              f"{g.issue_time:%Y-%m-%d %H:%M} UTC; calibration {cal['start']} to "
              f"{cal['end']} ({len(cal['years'])} years)")
        header = ["lead (d)", "valid date", "discharge m³/s", "raw m³/s", "stage cm"]
        header += [f"P ≥ {lv['level']} {lv['value_cm']:.0f} cm ({lv['scheme']}"
                   + ("" if lv["status"] == "published" else f", {lv['status']}") + ")"
                   for lv in g.levels]
        rows = []
        for k, r in enumerate(g.table.itertuples(index=False)):
            row = [str(r.lead_days), _when(r.valid_date, "%Y-%m-%d"),
                   _range(r.value, r.lower, r.upper, "m3/s"), _num(r.raw_median),
                   _range(r.stage, r.stage_lower, r.stage_upper, "cm")]
            row += [f"{_percent(lv['probability'][k])} ({_percent(lv['probability_within'][k])})"
                    for lv in g.levels]
            rows.append(row)
        print(_table(header, rows, {0}))
        if g.note:
            print(f"note: {g.note}")
    for sid, why in sorted(report.skipped.items()):
        print(f"skipped {_label(config, sid)}: {why}")
    return 0
