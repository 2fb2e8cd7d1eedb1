"""``hydrorisk report border|reservoir|return-levels|quality``: the commission's tables
(computed by :mod:`hydro.services.reports`), on the terminal or as CSV."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hydro.cli.args import config_from_args, open_store_for
from hydro.errors import HydroriskError

if TYPE_CHECKING:
    import pandas as pd


def _emit(table: pd.DataFrame, csv: str | None, title: str, note: str | None = None) -> None:
    import pandas as pd

    if csv:
        Path(csv).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(csv, index=True)
        print(f"wrote {len(table)} rows to {csv}")
        return
    print(title)
    if note:
        print(note)
    with pd.option_context("display.max_rows", 500, "display.width", 200,
                           "display.max_columns", 30, "display.float_format", "{:,.1f}".format):
        print(table.to_string())


def _context(args):
    config = config_from_args(args)
    return config, open_store_for(config)


def _synthetic_note(engine) -> str | None:
    from hydro.services.observations import synthetic_note

    return synthetic_note(engine)


def cmd_border(args) -> int:
    import pandas as pd

    from hydro.services.reports import border_report

    config, engine = _context(args)
    if args.basin and args.basin not in config.network.basins:
        raise HydroriskError(f"unknown basin '{args.basin}' (one of {', '.join(config.network.basins)})")
    table, trends = border_report(engine, config, args.basin, args.period)
    if table.empty:
        raise HydroriskError("no discharge at any border gauge in the store; ingest data first")
    if args.csv:
        _emit(table, args.csv, "")
    else:
        print(f"Volume crossing each border per {args.period.replace('_', ' ')} (hm3)")
        note = _synthetic_note(engine)
        if note:
            print(note)
        cols = [c for c in ("label", "n_days", "volume_hm3", "norm_hm3", "percent_of_norm",
                            "percentile", "low_water") if c in table.columns]
        for (border, gauge), part in table.groupby(["border_id", "gauge_id"], sort=False):
            node = config.network.nodes[border]
            print(f"\n{node.names.en} ({border}), measured at {gauge}; "
                  f"norm: {part['norm_basis'].iloc[0]}")
            with pd.option_context("display.width", 200, "display.float_format",
                                   "{:,.1f}".format):
                print(part[cols].to_string(index=False))
    if not trends.empty and not args.csv:
        print("\nTrend of annual volumes (Mann-Kendall, Sen's slope in hm3/year):")
        keep = [c for c in ("border_id", "gauge_id", "first_year", "last_year", "n", "tau", "p",
                            "trend", "slope_per_year") if c in trends.columns]
        print(trends[keep].to_string(index=False))
    return 0


def cmd_reservoir(args) -> int:
    from hydro.services.reports import reservoir_report

    config, engine = _context(args)
    if args.reservoir not in config.network.reservoirs:
        raise HydroriskError(f"unknown reservoir '{args.reservoir}' "
                             f"(one of {', '.join(config.network.reservoirs)})")
    try:
        table = reservoir_report(engine, config, args.reservoir, args.period)
    except ValueError as e:
        raise HydroriskError(str(e)) from None
    _emit(table, args.csv, f"Water balance of {args.reservoir} per {args.period} (hm3)",
          _synthetic_note(engine))
    return 0


def cmd_return_levels(args) -> int:
    from hydro.services.reports import DEFAULT_BOOTSTRAP_SEED, return_level_report

    if args.seed is None:
        args.seed = DEFAULT_BOOTSTRAP_SEED
    config, engine = _context(args)
    if args.gauge not in config.network.gauges:
        raise HydroriskError(f"unknown gauge '{args.gauge}'")
    try:
        table = return_level_report(engine, config, args.gauge, args.dist, args.method,
                                    args.variable, seed=args.seed)
    except ValueError as e:
        raise HydroriskError(str(e)) from None
    first, last = table.attrs["years"]
    unit = "cm" if args.variable == "stage" else "m3/s"
    _emit(table, args.csv,
          f"Return levels of annual maximum daily {args.variable} ({unit}) at {args.gauge}: "
          f"{args.dist.upper()} by {args.method}, {table.attrs['n_years']} years {first}-{last}, "
          f"90 % parametric bootstrap limits (1000 samples, seed {table.attrs['seed']})",
          _synthetic_note(engine))
    return 0


def cmd_quality(args) -> int:
    import pandas as pd

    from hydro.services.reports import quality_report

    config, engine = _context(args)
    if args.site not in config.network.gauges:
        raise HydroriskError(f"unknown site '{args.site}'")
    try:
        rep = quality_report(engine, config, args.site, args.year, args.background_class)
    except ValueError as e:
        raise HydroriskError(str(e)) from None
    lang = args.lang
    name = config.network.gauges[args.site].names.get(lang)
    print(f"Water quality at {name} ({args.site}), {args.year}: {rep['n_samples']} samples")
    note = _synthetic_note(engine)
    if note:
        print(note)
    for ed, r in rep["kz"].items():
        limiting = ", ".join(r.limiting) or "-"
        print(f"  KZ unified classification ({ed}): {r.display(lang)}; limiting: {limiting}")
    u = rep["ukizv"]
    crit = ", ".join(u.critical_indicators) or "-"
    print(f"  RU УКИЗВ (RD 52.24.643-2002): {u.display(lang)}; critical indicators: {crit}")
    if any(r.provisional for r in rep["kz"].values()) or u.provisional:
        print("  provisional: computed from table rows that are not the official tables "
              "(see config/quality/SOURCES.md; install official ones with "
              "`hydrorisk quality import-table`)")
    rows = []
    kz16 = rep["kz"]["kz2016"].per_parameter
    for p, v in sorted(rep["means"].items()):
        sc = u.partial_scores.get(p)
        mean = f"{v:.4g}" if isinstance(v, float) else f"{v.lower:.4g}..{v.limit:.4g}"
        rows.append({"parameter": p, "mean (mg/l)": mean,
                     "kz2016 class": kz16[p].klass if p in kz16 else "",
                     "exceed MPC (% of samples)": f"{sc.frequency:.0f}" if sc else "",
                     "score": f"{sc.score:.2f}" if sc else ""})
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser("report", help="border accounting, reservoir balance, return levels",
                         description="Tables computed from the store (print, or --csv FILE).")
    rsub = rep.add_subparsers(dest="report", required=True, metavar="REPORT")

    s = rsub.add_parser("border", help="volume crossing each border node against its norm",
                        description="Volume crossing each border node per month, season or "
                                    "water year against its norm and percentile, with the "
                                    "Mann-Kendall trend of annual volumes.")
    s.add_argument("--basin", help="ural, irtysh, tobol or ishim (default: all)")
    s.add_argument("--period", choices=["month", "season", "water_year"], default="water_year")
    s.add_argument("--csv", metavar="FILE")
    s.set_defaults(func=cmd_border)

    s = rsub.add_parser("reservoir", help="water balance of a reservoir",
                        description="Storage change against inflow - outflow - evaporation; "
                                    "residual in hm3 and % of throughput, flagged above the "
                                    "reservoir's tolerance.")
    s.add_argument("reservoir", help="reservoir id, e.g. RU:IRIKLINSK")
    s.add_argument("--period", choices=["day", "month"], default="month")
    s.add_argument("--csv", metavar="FILE")
    s.set_defaults(func=cmd_reservoir)

    s = rsub.add_parser("return-levels", help="flood frequency of a gauge's annual maxima",
                        description="Fit annual maxima (GEV, Gumbel or log-Pearson III) and "
                                    "print the 2-100 year return levels with 90 % limits.")
    s.add_argument("gauge", help="gauge id, e.g. KZ:19071")
    s.add_argument("--dist", choices=["gev", "gumbel", "lp3"], default="gev")
    s.add_argument("--method", choices=["lmom", "mle", "mom"], default="lmom")
    s.add_argument("--variable", choices=["discharge", "stage"], default="discharge")
    s.add_argument("--seed", type=int, default=None,
                   help="seed of the bootstrap limits (default: the report's fixed seed, "
                        "printed with the table)")
    s.add_argument("--csv", metavar="FILE")
    s.set_defaults(func=cmd_return_levels)

    s = rsub.add_parser("quality", help="pollution class of a site under both national systems",
                        description="Kazakhstan's unified classification (2016 and 2025 "
                                    "editions) and Russia's УКИЗВ for one site and year.")
    s.add_argument("site", help="site (gauge) id, e.g. KZ:19073")
    s.add_argument("--year", type=int, required=True)
    s.add_argument("--background-class", type=int, default=None,
                   help="KZ background class for ions of natural origin at this site")
    s.add_argument("--lang", choices=["kk", "ru", "en"], default="en")
    s.set_defaults(func=cmd_quality)


