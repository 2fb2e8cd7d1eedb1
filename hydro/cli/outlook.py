"""``hydrorisk outlook issue|show``: the seasonal spring-flood outlook at the gauges, on the
terminal.  Argument handling and printing only: the outlook is made, stored and read back
by :mod:`hydro.services.outlook`.

Tables are for people: gauges by name and id, volumes in hm³, discharge in m³/s, stage in
cm; the leave-one-year-out skill next to every outlook, and a forecast that does not beat
climatology marked.  A request that cannot be met is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

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
    pass

TARGET_CHOICES = ["flood_volume", "peak_discharge", "peak_stage"]
UNIT_TEXT = {"hm3": "hm³", "m3/s": "m³/s", "cm": "cm"}
LABEL = {"flood_volume": "volume", "peak_discharge": "peak Q", "peak_stage": "peak stage"}


def add_commands(sub) -> None:
    p = sub.add_parser("outlook", help="seasonal spring-flood outlook at the gauges (volume, "
                       "peak discharge, peak stage) from the winter's snow and soil",
                       description=__doc__.split("\n\n")[0])
    os_ = p.add_subparsers(dest="outlook_command", required=True)
    s = os_.add_parser("issue", help="issue the outlook of a date from the store",
                       description="Regress each gauge's spring flood on the basin's winter "
                       "predictors (snow water equivalent, frost depth, soil moisture, "
                       "winter and autumn precipitation) known before the issue date, fitted "
                       "on the earlier years; print the forecast with its 5-95 %% interval, "
                       "its percentile in the record, the probability of exceeding each "
                       "warning level and the leave-one-year-out skill.")
    s.add_argument("--date", default="2024-03-01",
                   help="issue date YYYY-MM-DD (default 2024-03-01, the bundled data's "
                        "2024 flood season)")
    s.add_argument("--station", action="append", default=None,
                   help="a gauge id (repeatable; default: every gauge)")
    s.add_argument("--target", action="append", choices=TARGET_CHOICES, default=None,
                   help="what to forecast (repeatable; default: all three)")
    s.add_argument("--as-of", type=time_arg, default=None,
                   help="knowledge time, UTC: read only what the store had received by then "
                        "(default: the issue date's midnight)")
    s.add_argument("--on-time", action="store_true",
                   help="count every stored value as received when observed (a replay of "
                        "data loaded after the fact, such as the bundled series)")
    s.add_argument("--write", action="store_true", help="store the outlook (forecast runs, "
                   "method 'outlook')")
    s.set_defaults(func=cmd_issue)
    s = os_.add_parser("show", help="stored outlooks (newest first)")
    s.add_argument("--station", default=None, help="one gauge id (default: all)")
    s.add_argument("--as-of", type=time_arg, default=None,
                   help="only outlooks computed from what the store had received by then")
    s.set_defaults(func=cmd_show)










#: how the warning levels (scheme:level of config/thresholds.toml) are printed
LEVEL_TEXT = {"kz_dangerous:dangerous": "KZ dangerous (ОУ)",
              "ru_nya_oya:adverse": "RU adverse (НЯ)", "ru_nya_oya:dangerous": "RU dangerous (ОЯ)",
              "local_impact:impact": "local impact"}


def _levels(exceedance: dict[str, float]) -> str:
    if not exceedance:
        return DASH
    return ", ".join(f"{LEVEL_TEXT.get(k, k)} {_percent(v)}" for k, v in exceedance.items())




def cmd_issue(args: argparse.Namespace) -> int:
    from hydro.services import outlook

    config = config_from_args(args)
    # without --write an outlook only reads: it works while another process writes
    store = open_store_for(config) if args.write else open_store_readonly_for(config)
    try:
        report = outlook.issue(store, config, args.date, stations=args.station,
                               targets=args.target or TARGET_CHOICES, as_of=args.as_of,
                               on_time=args.on_time, write=args.write)
    except outlook.OutlookError as e:
        raise HydroriskError(str(e)) from None
    _synthetic(store)
    print(f"Seasonal outlook issued {report.issue_date} (predictors observed before it"
          + (", every stored value counted as received when observed)" if args.on_time else
             f", as received by {report.known_at:%Y-%m-%d %H:%M} UTC)"))
    print("Season: the issue date to 30 June.  Interval 5-95 %; 'pct' is where the forecast "
          "falls among the earlier years; 'LOYO' the leave-one-year-out skill against "
          "climatology (1 perfect, <= 0 no better than the mean of the other years).\n")
    rows = []
    for o in report.outlooks:
        unit = UNIT_TEXT.get(o.unit, o.unit)
        rows.append([_label(config, o.station_id), LABEL[o.target],
                     f"{_num(o.forecast)} {unit}", f"{_num(o.lower)}-{_num(o.upper)}",
                     f"{o.percentile:.0f}", f"{o.loyo_skill:.2f}"
                     + ("" if o.beats_climatology else " (no skill)"),
                     "+".join(o.predictors) or "(climatology)", _levels(o.exceedance),
                     DASH if o.observed is None else f"{_num(o.observed)}"])
    if rows:
        print(_table(["gauge", "target", "forecast", "5-95 %", "pct", "LOYO",
                      "predictors", "P(exceed level)", "observed"], rows, {2, 3, 4, 5, 8}))
    else:
        print("No outlook could be issued.")
    if report.skipped:
        print("\nNot issued:")
        for key, why in report.skipped.items():
            print(f"  {key}: {why}")
    if report.run_ids:
        print(f"\nStored {len(report.run_ids)} outlook(s).")
    print("\n'observed' is what the store holds now for that season (blank while it runs).")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from hydro.services import outlook

    config = config_from_args(args)
    store = open_store_readonly_for(config)  # only reads: works under another's write lock
    frame = outlook.stored(store, args.station, as_of=args.as_of)
    if frame.empty:
        raise HydroriskError("no outlook is stored" + (f" for {args.station}" if args.station
                                                       else "")
                             + "; issue one with `hydrorisk outlook issue --write`")
    _synthetic(store)
    rows = []
    for _, r in frame.iterrows():
        unit = UNIT_TEXT.get(r["unit"], r["unit"])
        skill = r["loyo_skill"]
        rows.append([f"{r['issue_date']:%Y-%m-%d}", _label(config, r["station_id"]),
                     LABEL.get(r["target"], r["target"]), f"{_num(r['forecast'])} {unit}",
                     f"{_num(r['lower'])}-{_num(r['upper'])}",
                     DASH if r["percentile"] is None else f"{r['percentile']:.0f}",
                     DASH if skill is None else f"{skill:.2f}"
                     + ("" if skill is not None and skill > 0 else " (no skill)"),
                     _levels(r["exceedance"])])
    print(_table(["issued", "gauge", "target", "forecast", "5-95 %", "pct", "LOYO",
                  "P(exceed level)"], rows, {3, 4, 5, 6}))
    return 0
