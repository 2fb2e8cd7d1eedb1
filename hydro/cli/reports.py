"""``hydrorisk report border|reservoir|return-levels|quality``: the commission's tables
(computed by :mod:`hydro.services.reports`), on the terminal or as CSV."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from hydro.cli.args import config_from_args, open_store_for, open_store_readonly_for
from hydro.errors import HydroriskError
from hydro.services import i18n

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


def _context(args, *, writes: bool = False):
    """The config and store of a report command: opened read-only (nothing written, works
    while another process holds the write lock) unless the command ``writes``."""
    config = config_from_args(args)
    return config, (open_store_for(config) if writes else open_store_readonly_for(config))


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
    split = (", outflow = release + spill" if "spill_hm3" in table.columns
             else "; no spill series: outflow is the total, release and spill not split")
    _emit(table, args.csv, f"Water balance of {args.reservoir} per {args.period} (hm3{split})",
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
    if not args.csv:
        # on the terminal the levels keep one decimal, but the AEP (1/T: 0.02, 0.01) would
        # round to 0.0: print it to three significant digits.  The CSV keeps full precision.
        table = table.assign(aep=[f"{p:.3g}" for p in table["aep"]])
    _emit(table, args.csv,
          f"Return levels of annual maximum daily {args.variable} ({unit}) at {args.gauge}: "
          f"{args.dist.upper()} by {args.method}, {table.attrs['n_years']} years {first}-{last}, "
          f"90 % parametric bootstrap limits (1000 samples, seed {table.attrs['seed']})",
          _synthetic_note(engine))
    return 0


#: every string of ``hydrorisk report quality`` in the three interface languages (station
#: names, parameter names and class words come from config/ and hydro.services.labels)
QUALITY_TEXT: dict[str, Mapping[str, str]] = {
    lang: i18n.in_language("cli.quality", lang) for lang in ("en", "ru", "kk")}  # hydro/locale

#: short names accepted by ``--background-class ION=CLASS`` besides the parameter names
ION_ALIASES: dict[str, str] = {
    "mg": "magnesium", "ca": "calcium", "cl": "chloride", "so4": "sulfate",
    "mineralisation": "mineralization", "tds": "mineralization",
}


def background_class_arg(text: str) -> int | tuple[str, int]:
    """One ``--background-class`` value: ``3`` (every ion of natural origin) or ``ION=3``
    (``Mg=3``, ``SO4=2``, ``magnesium=3``)."""
    name, sep, value = text.partition("=")
    if not sep:
        name, value = "", text
    try:
        klass = int(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a class: give N or ION=N (e.g. 3, Mg=3, SO4=2)") from None
    if not sep:
        return klass
    name = name.strip()
    if not name:
        raise argparse.ArgumentTypeError(f"'{text}': the ion is missing (e.g. Mg=3)")
    return ION_ALIASES.get(name.lower(), name), klass


def background_classes(values: list | None) -> int | dict[str, int] | None:
    """The ``--background-class`` values as one class or a mapping ion -> class."""
    if not values:
        return None
    ints = [v for v in values if isinstance(v, int)]
    pairs = [v for v in values if not isinstance(v, int)]
    if ints and pairs or len(ints) > 1:
        raise HydroriskError("--background-class: give one class for every ion of natural "
                             "origin (e.g. 3) or one ION=CLASS per ion (e.g. Mg=3 SO4=2), "
                             "not both")
    if ints:
        return ints[0]
    out: dict[str, int] = {}
    for name, klass in pairs:
        if name in out:
            raise HydroriskError(f"--background-class: {name} given twice")
        out[name] = klass
    return out


def cmd_quality(args) -> int:
    import pandas as pd

    from hydro.services import labels
    from hydro.services.reports import quality_report

    config, engine = _context(args)
    if args.site not in config.network.gauges:
        raise HydroriskError(f"unknown site '{args.site}'")
    try:
        rep = quality_report(engine, config, args.site, args.year,
                             background_classes(args.background_class))
    except ValueError as e:
        raise HydroriskError(str(e)) from None
    lang = args.lang
    t = QUALITY_TEXT[lang]
    names = rep["names"]

    def pname(p: str) -> str:
        return names.get(p, {}).get(lang, p)

    def plist(ps) -> str:
        return ", ".join(pname(p) for p in ps) or "-"

    name = config.network.gauges[args.site].names.get(lang)
    print(t["title"].format(name=name, site=args.site, year=args.year, n=rep["n_samples"]))
    if _synthetic_note(engine):
        print(t["synthetic"])
    for ed, r in rep["kz"].items():
        print(t["kz"].format(edition=ed, klass=labels.quality_display(r, lang),
                             limiting=plist(r.limiting)))
        given = {n: p.background_class for n, p in r.per_parameter.items()
                 if p.background_class is not None}
        if given:
            print(t["background"].format(
                classes=", ".join(f"{pname(n)} {b}" for n, b in given.items()),
                within=plist(n for n, p in r.per_parameter.items() if p.within_background)))
        unjudged = [n for n, p in r.per_parameter.items()
                    if p.natural_origin and p.background_class is None]
        if unjudged:
            print(t["unjudged"].format(ions=plist(unjudged)))
        bounded = [n for n, p in r.per_parameter.items() if p.bounded]
        if bounded:
            print(t["bounded"].format(params=", ".join(
                f"{pname(n)} {r.per_parameter[n].klass}..{r.per_parameter[n].klass_upper}"
                for n in bounded)))
    u = rep["ukizv"]
    print(t["ukizv"].format(klass=labels.quality_display(u, lang), rule=u.critical_rule,
                            crit=plist(u.critical_indicators)))
    for a in u.alternatives:
        print(t["alternative"].format(rule=a.rule, crit=plist(a.critical_indicators),
                                      klass=labels.quality_label(a)[lang]))
    if u.incomplete:
        print(t["incomplete"].format(missing=plist(u.missing), n=u.n_parameters))
    partial = [n for n, sc in u.partial_scores.items() if sc.n_indeterminate]
    if partial or u.indeterminate:
        print(t["indeterminate"].format(params=", ".join(
            [f"{pname(n)} ({u.partial_scores[n].n_indeterminate})" for n in partial]
            + [pname(n) for n in u.indeterminate])))
    if any(r.provisional for r in rep["kz"].values()) or u.provisional:
        print(t["provisional"])
    rows = []
    kz16 = rep["kz"]["kz2016"].per_parameter
    for p, v in sorted(rep["means"].items()):
        sc = u.partial_scores.get(p)
        mean = f"{v:.4g}" if isinstance(v, float) else f"{v.lower:.4g}..{v.limit:.4g}"
        unit = rep["units"].get(p, "")
        rows.append({t["col_parameter"]: pname(p), t["col_unit"]: t.get(unit, unit),
                     t["col_mean"]: mean,
                     t["col_kz2016"]: kz16[p].klass if p in kz16 else "",
                     t["col_exceed"]: f"{sc.frequency:.0f}" if sc else "",
                     t["col_score"]: f"{sc.score:.2f}" if sc else ""})
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


def cmd_bulletin(args) -> int:
    import datetime as dt

    from hydro.services.bulletin import bulletin, default_day, parse_as_of
    from hydro.services.bulletin_output import filename, render
    from hydro.services.observations import holds_bundled_data

    config, engine = _context(args)
    as_of = parse_as_of(args.as_of)
    if args.as_of and as_of is None:
        raise HydroriskError(f"--as-of '{args.as_of}' is not a date or time (YYYY-MM-DD or "
                             "YYYY-MM-DDTHH:MM, UTC)")
    if args.date:
        try:
            day = dt.date.fromisoformat(args.date)
        except ValueError:
            raise HydroriskError(f"--date '{args.date}' is not a date (YYYY-MM-DD)") from None
    else:
        newest = default_day(engine, config)
        if newest is None:
            raise HydroriskError("the store holds no observations; ingest data first")
        day = newest
    frame = bulletin(engine, config, day, as_of=as_of)
    data = render(frame, config, args.lang, args.format, holds_bundled_data(engine),
                  as_of=as_of, made_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
    if args.out is None and args.format == "pdf":
        args.out = filename(day, args.lang, args.format)
    if args.out is None:
        print(data.decode("utf-8-sig"), end="")
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"wrote the bulletin of {day.isoformat()} ({args.lang}, {args.format}, "
          f"{len(frame)} rows) to {out}")
    return 0


def _month_arg(text: str | None) -> str | None:
    if text is None:
        return None
    from hydro.services.exchange import month_bounds

    start, _ = month_bounds(text)  # a HydroriskError names a bad month
    return f"{start.year:04d}-{start.month:02d}"


def cmd_exchange(args) -> int:
    from hydro.services.exchange import exchange_log, records

    config, engine = _context(args)
    month = _month_arg(args.month)
    log = exchange_log(engine, config, month)
    scope = f" of {month} (received then, or holding its values)" if month else ""
    print(f"Deliveries{scope}, newest first, with their acknowledgements")
    note = _synthetic_note(engine)
    if note:
        print(note)
    if log.empty:
        print("no deliveries")
        return 0
    for r in records(log):
        print(f"run {r['run_id']:>5}  {r['received_at']:%Y-%m-%d %H:%M} UTC  "
              f"delivered by {r['party'] or '?':<6} {r['source'] or '-':<16} {r['outcome']:<9} "
              f"{r['rows_written']:>7} rows  {r['file']}")
        if not r["acknowledgements"]:
            print("           not acknowledged")
        for a in r["acknowledgements"]:
            extra = f": {a['note']}" if a["note"] else ""
            print(f"           acknowledged by {a['party']} ({a['acknowledged_by']}) "
                  f"{a['acknowledged_at']:%Y-%m-%d %H:%M} UTC{extra}")
    return 0


def cmd_exchange_ack(args) -> int:
    from hydro.services.exchange import acknowledge

    config, engine = _context(args, writes=True)
    ack_id = acknowledge(engine, config, args.run_id, args.party, args.by, args.note)
    print(f"acknowledgement {ack_id}: run {args.run_id} acknowledged by {args.party} "
          f"({args.by.strip()})")
    return 0


def cmd_commission(args) -> int:
    from hydro.services.commission import filename, monthly_report

    config, engine = _context(args)
    month = _month_arg(args.month)
    assert month is not None
    data = monthly_report(engine, config, month, args.lang, args.format)
    out = Path(args.out or filename(month, args.lang, args.format))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"wrote the commission report of {month} ({args.lang}, {args.format}) to {out}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser("report", aliases=["reports"],
                         help="border accounting, reservoir balance, return levels",
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
    s.add_argument("--background-class", type=background_class_arg, action="append",
                   default=None, metavar="N|ION=N",
                   help="KZ background class for ions of natural origin at this site: one "
                        "class for all of them (e.g. 3), or per ion, repeated "
                        "(--background-class Mg=3 --background-class SO4=2; Mg, Ca, Cl, SO4, "
                        "TDS or the parameter names of config/quality/parameters.toml)")
    s.add_argument("--lang", choices=["kk", "ru", "en"], default="en")
    s.set_defaults(func=cmd_quality)

    s = rsub.add_parser("bulletin", help="the daily gauge and reservoir bulletin (CSV, HTML, PDF)",
                        description="The daily table the agencies publish: each gauge's "
                                    "morning stage, 24 h change, dangerous level(s) and cm "
                                    "remaining, ice phenomena; each reservoir's level against "
                                    "НПУ, inflow, release, spill and free capacity.")
    s.add_argument("--date", help="the day, YYYY-MM-DD (default: the newest stored day)")
    s.add_argument("--as-of", dest="as_of", metavar="TIME",
                   help="knowledge time, UTC (YYYY-MM-DD = the end of that day, or "
                        "YYYY-MM-DDTHH:MM): only what had been received by then")
    s.add_argument("--lang", choices=["kk", "ru", "en"], default="ru")
    s.add_argument("--format", choices=["csv", "html", "pdf"], default="csv")
    s.add_argument("--out", metavar="FILE",
                   help="write here (default: print CSV/HTML; a PDF goes to "
                        "bulletin-DATE-LANG.pdf)")
    s.set_defaults(func=cmd_bulletin)

    s = rsub.add_parser("exchange", help="the exchange log: deliveries and acknowledgements",
                        description="What each party delivered (ingest runs: file, source, "
                                    "party, received time, rows) and the other party's "
                                    "acknowledgements.")
    s.add_argument("--month", metavar="YYYY-MM",
                   help="deliveries received in that month or holding its values")
    s.set_defaults(func=cmd_exchange)

    s = rsub.add_parser("exchange-ack", help="acknowledge a delivery for the other party",
                        description="Store an acknowledgement of delivery RUN_ID (never "
                                    "overwritten); the delivering party cannot acknowledge "
                                    "its own delivery.")
    s.add_argument("run_id", type=int, metavar="RUN_ID", help="ingest run id (report exchange)")
    s.add_argument("--party", required=True, choices=["KZ", "RU", "commission"])
    s.add_argument("--by", required=True, metavar="NAME",
                   help="who acknowledges (no accounts yet: the name as given)")
    s.add_argument("--note", metavar="TEXT")
    s.set_defaults(func=cmd_exchange_ack)

    s = rsub.add_parser("commission", help="the commission's monthly report (PDF or XLSX)",
                        description="Border volumes against the norm with their trend, data "
                                    "completeness per party, disagreement periods at the "
                                    "shared posts, quality at the border sites and the "
                                    "exchange log of one month.")
    s.add_argument("--month", required=True, metavar="YYYY-MM")
    s.add_argument("--lang", choices=["kk", "ru", "en"], default="ru")
    s.add_argument("--format", choices=["pdf", "xlsx"], default="pdf")
    s.add_argument("--out", metavar="FILE",
                   help="default: commission-YYYY-MM-LANG.FORMAT")
    s.set_defaults(func=cmd_commission)
