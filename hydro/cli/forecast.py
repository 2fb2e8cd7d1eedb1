"""``hydrorisk forecast run|show|skill``: short-range (1-10 day) forecasts at the gauges on
the terminal.  Argument handling and printing only: the forecasts are made, stored, replayed
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

from hydro.cli.args import config_from_args, open_store_for, time_arg
from hydro.errors import HydroriskError

if TYPE_CHECKING:
    import pandas as pd

    from hydro.config import Config

DASH = "—"
#: how the units are printed
UNIT_TEXT = {"m3/s": "m³/s", "cm": "cm"}


def add_commands(sub) -> None:
    p = sub.add_parser("forecast", help="short-range forecasts at the gauges: run, show, skill",
                       description="Daily discharge (and stage, through the rating) 1-10 "
                                   "days ahead at every gauge by persistence, climatology "
                                   "and SARIMAX with the upstream gauges as inputs; stored "
                                   "with their issue time.")
    fs = p.add_subparsers(dest="forecast_command", required=True, metavar="SUBCOMMAND")

    s = fs.add_parser("run", help="issue forecasts from the store and keep them",
                      description="Forecast every gauge (or --station) from what the store "
                                  "had received by --issue-time (default: now) and store the "
                                  "forecasts.")
    s.add_argument("--issue-time", help="UTC, YYYY-MM-DD[THH:MM] (default: now)")
    s.add_argument("--station", action="append", help="gauge id (repeatable; default all)")
    s.add_argument("--horizon", type=int, default=10, help="longest lead, days (default 10)")
    s.add_argument("--method", action="append", choices=["persistence", "climatology",
                                                         "sarimax"],
                   help="forecaster (repeatable; default all three)")
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
    s.set_defaults(func=cmd_skill)


# --------------------------------------------------------------------------- formatting

def _label(config: Config, station: str) -> str:
    try:
        node = config.network.node(station)
    except KeyError:
        return station
    return f"{node.names.en} ({station})"


def _num(x: Any, unit: str = "m3/s") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return DASH
    if not math.isfinite(v):
        return DASH
    if unit == "cm" or abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def _score(x: Any) -> str:
    v = float(x)
    return DASH if not math.isfinite(v) else f"{v:.2f}"


def _when(t: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    import pandas as pd

    if t is None or pd.isna(t):
        return DASH
    return pd.Timestamp(t).strftime(fmt)


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def _synthetic(store) -> None:
    from hydro.services.observations import synthetic_note

    note = synthetic_note(store)
    if note:
        print(note)


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
                           releases=releases)
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


def _cell(frame: pd.DataFrame, method: str, lead: int, unit: str) -> str:
    hit = frame[(frame["method"] == method) & (frame["lead_days"] == lead)]
    if hit.empty:
        return DASH
    r = hit.iloc[0]
    v = _num(r["value"], unit)
    lo, hi = _num(r["lower"], unit), _num(r["upper"], unit)
    return v if DASH in (lo, hi) else f"{v} ({lo}-{hi})"


def cmd_show(args: argparse.Namespace) -> int:
    from hydro.services import forecasts

    config = config_from_args(args)
    _gauge(config, args.station)
    store = open_store_for(config)
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
    methods = [m for m in forecasts.METHODS if m in set(frame["method"])]
    rows = []
    for lead in sorted(int(x) for x in frame["lead_days"].unique()):
        at = frame[frame["lead_days"] == lead].iloc[0]
        rows.append([str(lead), _when(at["valid_date"], "%Y-%m-%d"),
                     *[_cell(frame, m, lead, unit) for m in methods],
                     _num(at["observed"], unit)])
    print(_table(["lead (d)", "valid date", *methods, "observed"], rows, {0}))
    if "sarimax" in methods:
        print("sarimax: the interval treats the inputs' future (the upstream forecast, a "
              "planned release, or the last value) as known, so it is too narrow beyond the "
              "shortest lag")
    notes = frame.drop_duplicates("method")[["method", "note"]]
    for r in notes.itertuples(index=False):
        if isinstance(r.note, str) and r.note:
            print(f"{r.method}: {r.note}")
    return 0


def cmd_skill(args: argparse.Namespace) -> int:
    from hydro.services import forecasts

    config = config_from_args(args)
    for s in args.station or []:
        _gauge(config, s)
    start, end = time_arg(args.start), time_arg(args.end)
    assert start is not None and end is not None
    store = open_store_for(config)
    bt = forecasts.backtest(store, config, start=start, end=end, stations=args.station,
                            horizon=args.horizon, every_days=args.every)
    if bt.empty:
        raise HydroriskError(f"nothing to score between {start:%Y-%m-%d} and {end:%Y-%m-%d}: "
                             "no gauge has discharge with 60 days of history before an "
                             "issue date")
    table = forecasts.skill(bt)
    _synthetic(store)
    n_issues = bt["issue_time"].nunique()
    print(f"Skill of the daily discharge forecasts: {n_issues} issue dates from "
          f"{start:%Y-%m-%d} to {end:%Y-%m-%d}, every {args.every} d, leads 1-{args.horizon} d")
    print("NSE of each method; SS = MSE skill score against persistence (1 perfect, 0 no "
          "better than persistence); * = does not beat persistence")
    others = [m for m in forecasts.METHODS if m != "persistence" and m in set(table["method"])]
    header = ["gauge", "lead (d)", "n", *[f"NSE {m}" for m in ["persistence", *others]],
              *[f"SS {m}" for m in others]]
    rows = []
    for sid, g in table.groupby("station_id", sort=False):
        by = {m: g[g["method"] == m].set_index("lead_days") for m in ["persistence", *others]}
        for lead in sorted(by["persistence"].index):
            row = [_label(config, str(sid)), str(lead),
                   str(int(by["persistence"].loc[lead, "n"]))]
            row += [_score(by[m].loc[lead, "nse"]) if lead in by[m].index else DASH
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
    for sid, notes in sorted(bt.attrs.get("notes", {}).items()):
        print(f"{_label(config, sid)}: {'; '.join(notes)}")
    return 0
