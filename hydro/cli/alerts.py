"""``hydrorisk alerts list|show|ack|close|evaluate|verify``: the duty officer's alerts on the
terminal.  Argument handling and printing only: the alerts are kept by
:mod:`hydro.services.alerts`, raised and closed by :mod:`hydro.services.alert_evaluation`
and verified by :mod:`hydro.services.alert_verification`.

Tables are for people: stations by name and id, times as ``YYYY-MM-DD HH:MM`` (UTC), a
blank field as ``—`` (never NaN or NaT), severities and states as words, in English,
Russian or Kazakh (``--lang``).  An alert that cannot be changed as asked (unknown, already
closed …) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydro.cli.args import (
    config_from_args,
    open_store_for,
    open_store_readonly_for,
    time_arg,
)
from hydro.errors import HydroriskError
from hydro.services import i18n

if TYPE_CHECKING:
    import pandas as pd

    from hydro.config import Config

LANGS = ("en", "ru", "kk")
#: what ``alerts list --which`` accepts: the service's selections and ``acknowledged``
WHICH_CHOICES = ("open", "unacknowledged", "acknowledged", "closed", "all")
#: blank field
DASH = "—"
#: severities of a warning (not ``info``, the state of the data)
WARNING_SEVERITIES = ("adverse", "low_water_dangerous", "dangerous")

#: every string of ``hydrorisk alerts`` in the three interface languages (station names
#: come from config/; severity, unit and data-standing words from
#: :mod:`hydro.services.notification_text`, so a notification and the terminal agree)
TEXT: dict[str, Mapping[str, str]] = {lang: i18n.in_language("cli.alerts", lang)
                                      for lang in LANGS}  # hydro/locale: cli.alerts.*

#: the warning levels as words, for the verification table
LEVEL_WORDS: Mapping[str, Mapping[str, str]] = i18n.section("cli.level")  # hydro/locale


def _t(lang: str, key: str, **fields: object) -> str:
    return i18n.t(f"cli.alerts.{key}", lang, **fields)


# --------------------------------------------------------------------------- formatting

def when(x: Any) -> str:
    """``YYYY-MM-DD HH:MM`` for a time, ``—`` for none (None, NaT, NaN)."""
    import pandas as pd

    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return DASH
    ts = pd.Timestamp(x)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return f"{ts:%Y-%m-%d %H:%M}"


def _blank(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _number(x: object, digits: int = 2) -> str:
    """A figure for people: at most ``digits`` decimals, no trailing zeros; ``—`` for
    none."""
    if _blank(x):
        return DASH
    v = float(x)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return DASH
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text(x: object) -> str:
    if _blank(x) or x == "":
        return DASH
    return str(x)


def _station_label(config: Config, station_id: str, lang: str) -> str:
    """``Orsk (RU:ORSK)``; the id alone for a station config no longer has."""
    try:
        node = config.network.node(station_id)
    except KeyError:
        return station_id
    return f"{node.names.get(lang)} ({station_id})"


def _kind_of(config: Config, rule: str, station_id: str, kind: object) -> str | None:
    if isinstance(kind, str) and kind:
        return kind
    r = config.alerts.rule(rule, station_id)
    return None if r is None else r.kind


def _words() -> Any:
    from hydro.services import notification_text

    return notification_text


def _unit(kind: str | None) -> str | None:
    """The unit of an alert's value and threshold, by the kind of its rule."""
    if not kind:
        return None
    return _words().KIND_UNITS.get(kind)


def _quantity(x: object, unit: str | None, lang: str) -> str:
    if _blank(x):
        return DASH
    u = _words().unit_word(unit, lang)
    return f"{_number(x)} {u}" if u else _number(x)


def _severity(severity: object, lang: str) -> str:
    return _words().severity_word(str(severity), lang) if isinstance(severity, str) else DASH


def _standing(standing: object, lang: str) -> str:
    """The data's standing when it is not a plain confirmed value; ``""`` otherwise."""
    if _blank(standing):
        return ""
    try:
        bits = int(standing)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        bits = None
    if bits == 0:
        return ""
    return _words().standing_text(bits if bits is not None else standing, lang) or ""


def _who(at: object, by: object) -> str:
    stamp = when(at)
    if stamp == DASH:
        return DASH
    return f"{stamp} {by}" if isinstance(by, str) and by else stamp


def _table(rows: list[dict[str, str]], right: tuple[str, ...] = ()) -> str:
    """Rows as a plain-text table: columns left-aligned (those in ``right`` right-aligned,
    for figures), two spaces apart, a header line."""
    if not rows:
        return ""
    columns = list(rows[0])
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}

    def line(cells: dict[str, str]) -> str:
        return "  ".join(cells[c].rjust(width[c]) if c in right else cells[c].ljust(width[c])
                         for c in columns).rstrip()

    return "\n".join([line({c: c for c in columns}), *(line(r) for r in rows)])


def _context(args: argparse.Namespace, *, writes: bool = False):
    """The config and store of an ``alerts`` command: opened read-only (nothing written,
    works while another process holds the write lock) unless the command ``writes``."""
    config = config_from_args(args)
    return config, (open_store_for(config) if writes else open_store_readonly_for(config))


def _synthetic(engine, lang: str) -> None:
    """The note every table prints when it comes from the bundled synthetic data."""
    from hydro.services.observations import holds_bundled_data

    if holds_bundled_data(engine):
        print(_t(lang, "synthetic"))


def _alert_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an alert id (a whole number, "
                                         "as `hydrorisk alerts list` shows)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not an alert id (ids start at 1)")
    return value


# --------------------------------------------------------------------------- list

def _alert_rows(config: Config, alerts: pd.DataFrame, lang: str) -> list[dict[str, str]]:
    rows = []
    for a in alerts.to_dict("records"):
        kind = _kind_of(config, a["rule"], a["station_id"], a.get("kind"))
        unit = _unit(kind)
        rows.append({
            _t(lang, "col.id"): str(a["id"]),
            _t(lang, "col.observed"): when(a["observed_at"]),
            _t(lang, "col.opened"): when(a["opened_at"]),
            _t(lang, "col.station"): _station_label(config, a["station_id"], lang),
            _t(lang, "col.rule"): a["rule"],
            _t(lang, "col.severity"): _severity(a["severity"], lang),
            _t(lang, "col.value"): _quantity(a["value"], unit, lang),
            _t(lang, "col.threshold"): _quantity(a["threshold"], unit, lang),
            _t(lang, "col.peak"): _quantity(a.get("peak_value"), unit, lang),
            _t(lang, "col.data"): _standing(a.get("standing"), lang) or DASH,
            _t(lang, "col.state"): _t(lang, f"state.{a['state']}"),
            _t(lang, "col.acknowledged"): _who(a["acknowledged_at"], a["acknowledged_by"]),
            _t(lang, "col.closed"): _who(a["closed_at"], a["closed_by"]),
        })
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    """``alerts list``: a table of alerts, newest first."""
    import pandas as pd

    from hydro.services import alerts as service

    config, engine = _context(args)
    lang = args.lang
    if args.station is not None:
        try:
            config.network.node(args.station)
        except KeyError:
            raise HydroriskError(f"unknown station '{args.station}' (a station id of "
                                 "config/basins.toml, e.g. RU:ORSK)") from None
    if args.basin is not None and args.basin not in config.network.basins:
        raise HydroriskError(f"unknown basin '{args.basin}' (one of "
                             f"{', '.join(config.network.basins)})")
    since = time_arg(args.since)
    which = "open" if args.which == "acknowledged" else args.which
    table = service.list_alerts(engine, which=which, station_id=args.station, rule=args.rule)
    if args.which == "acknowledged":
        table = table[table["state"] == "acknowledged"]
    basin_of = {sid: config.network.basin_of(sid) for sid in config.network.all_ids()}
    if args.basin is not None:
        table = table[table["station_id"].map(basin_of) == args.basin]
    if since is not None:
        table = table[pd.to_datetime(table["opened_at"]) >= pd.Timestamp(since)]
    print(f"{_t(lang, f'title.{args.which}')}: {_t(lang, 'newest', n=len(table))}")
    _synthetic(engine, lang)
    right = (_t(lang, "col.id"), _t(lang, "col.value"), _t(lang, "col.threshold"),
             _t(lang, "col.peak"))
    if table.empty:
        print(_t(lang, "none"))
    else:
        print(_table(_alert_rows(config, table, lang), right=right))
    if args.which == "open":
        # what the duty officer asks next: when was each station last in warning
        closed = service.list_alerts(engine, which="closed", station_id=args.station,
                                     rule=args.rule)
        closed = closed[closed["severity"].isin(WARNING_SEVERITIES)]
        if args.basin is not None:
            closed = closed[closed["station_id"].map(basin_of) == args.basin]
        if since is not None:
            closed = closed[pd.to_datetime(closed["opened_at"]) >= pd.Timestamp(since)]
        if not closed.empty:
            latest = (closed.sort_values(["observed_at", "id"], ascending=False)
                      .drop_duplicates(["station_id", "rule"]))
            print()
            print(_t(lang, "latest", n=len(latest)))
            print(_table(_alert_rows(config, latest, lang), right=right))
    return 0


# --------------------------------------------------------------------------- show

def cmd_show(args: argparse.Namespace) -> int:
    """``alerts show ID``: one alert and its history."""
    from hydro.services import alerts as service

    config, engine = _context(args)
    lang = args.lang
    a = service.get(engine, args.id)
    kind = _kind_of(config, a.rule, a.station_id, getattr(a, "kind", None))
    unit = _unit(kind)
    print(_t(lang, "alert", id=a.id, severity=_severity(a.severity, lang),
             state=_t(lang, f"state.{a.state}")))
    _synthetic(engine, lang)
    fields: list[tuple[str, str]] = [("f.station", _station_label(config, a.station_id,
                                                                   lang))]
    try:  # the station's name says its river
        node = config.network.node(a.station_id)
        basin = config.network.basins.get(node.basin)
        fields.append(("f.basin", basin.names.get(lang) if basin is not None
                       else node.basin))
    except KeyError:
        pass
    fields.append(("f.rule", f"{a.rule} ({kind})" if kind and kind != a.rule else a.rule))
    fields.append(("f.value", _quantity(a.value, unit, lang)))
    fields.append(("f.threshold", _quantity(a.threshold, unit, lang)))
    fields.append(("f.observed", when(a.observed_at)))
    last = getattr(a, "last_value", None)
    if not _blank(last):
        fields.append(("f.last", f"{_quantity(last, unit, lang)}, "
                                 f"{when(getattr(a, 'last_observed_at', None))}"))
    peak = getattr(a, "peak_value", None)
    if not _blank(peak):
        fields.append(("f.peak", f"{_quantity(peak, unit, lang)}, "
                                 f"{when(getattr(a, 'peak_at', None))}"))
    standing = _standing(getattr(a, "standing", None), lang)
    if standing:
        fields.append(("f.data", standing))
    fields.append(("f.opened", when(a.opened_at)))
    known = getattr(a, "known_at", None)
    if known is not None:
        fields.append(("f.known", when(known)))
    fields.append(("f.acknowledged", _who(a.acknowledged_at, a.acknowledged_by)))
    fields.append(("f.closed", _who(a.closed_at, a.closed_by)))
    level = getattr(a, "escalation_level", 0) or 0
    if level:
        fields.append(("f.escalated", _t(lang, "escalation", level=level,
                                         at=when(getattr(a, "escalated_at", None)))))
    if a.note:
        fields.append(("f.note", a.note))
    labels = [_t(lang, k) for k, _ in fields]
    width = max(len(x) for x in labels)
    for label, (_, value) in zip(labels, fields, strict=True):
        print(f"  {label:<{width}}  {value}")
    events = service.history(engine, a.id)
    print(f"\n{_t(lang, 'history')}")
    words = _words()
    rows = []
    for e in events.to_dict("records"):
        ev = e["event"]
        key = f"event.{ev}"
        rows.append({
            _t(lang, "col.at"): when(e["at"]),
            _t(lang, "col.event"): words.t(key, lang) if key in words.TEXT else ev,
            _t(lang, "col.severity"): _severity(e.get("severity"), lang),
            _t(lang, "col.value"): _quantity(e.get("value"), unit, lang),
            _t(lang, "col.by"): _text(e["by"]),
            _t(lang, "col.note"): _text(e["note"]),
        })
    print(_table(rows, right=(_t(lang, "col.value"),)))
    return 0


# --------------------------------------------------------------------------- ack, close

def cmd_ack(args: argparse.Namespace) -> int:
    """``alerts ack ID --by NAME``."""
    from hydro.services import alerts as service

    config, engine = _context(args, writes=True)
    a = service.acknowledge(engine, args.id, args.by, note=args.note)
    from hydro.cli.args import audit

    audit(config, "alert_ack", target=f"alert {a.id}", detail=f"by={args.by}", store=engine)
    label = _t(args.lang, "alert_ref", id=a.id, rule=a.rule,
               station=_station_label(config, a.station_id, args.lang))
    print(_t(args.lang, "acked", alert=label, by=a.acknowledged_by,
             at=f"{when(a.acknowledged_at)} UTC"))
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    """``alerts close ID --by NAME``."""
    from hydro.services import alerts as service

    config, engine = _context(args, writes=True)
    a = service.close(engine, args.id, args.by, note=args.note)
    label = _t(args.lang, "alert_ref", id=a.id, rule=a.rule,
               station=_station_label(config, a.station_id, args.lang))
    print(_t(args.lang, "closed_msg", alert=label, by=a.closed_by,
             at=f"{when(a.closed_at)} UTC"))
    return 0


# --------------------------------------------------------------------------- evaluate

#: what an evaluation reports, in order (:class:`hydro.services.alert_evaluation.EvaluationReport`)
CHANGES = ("opened", "updated", "escalated", "deescalated", "closed")


def _change_line(config: Config, change: str, a: Any, lang: str,
                 at: dt.datetime | None = None) -> str:
    """One alert an evaluation changed: ``opened  #12  Dangerous  Orsk (RU:ORSK) ...``
    (``at``: the evaluation's time, for a replay)."""
    kind = _kind_of(config, a.rule, a.station_id, getattr(a, "kind", None))
    unit = _unit(kind)
    figure = _quantity(a.value, unit, lang)
    extra = []
    if not _blank(a.threshold):
        extra.append(f"{_t(lang, 'col.threshold')} {_quantity(a.threshold, unit, lang)}")
    standing = _standing(getattr(a, "standing", None), lang)
    if standing:
        extra.append(standing)
    if extra:
        figure += f" ({'; '.join(extra)})"
    head = f"  {when(at)}" if at is not None else ""
    return (f"{head}  {_t(lang, f'change.{change}'):<10} #{a.id:<5} "
            f"{_severity(a.severity, lang):<20} {_station_label(config, a.station_id, lang)}"
            f"  {a.rule}  {figure}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``alerts evaluate [--as-of T] [--station S]`` or ``--replay START END``."""
    from hydro.services import alert_evaluation
    from hydro.services import alerts as service

    config, engine = _context(args, writes=True)
    lang = args.lang
    stations = args.station or None
    for sid in stations or []:
        try:
            config.network.node(sid)
        except KeyError:
            raise HydroriskError(f"unknown station '{sid}' (a station id of "
                                 "config/basins.toml, e.g. RU:ORSK)") from None
    if args.replay:
        if args.as_of:
            raise HydroriskError("give --as-of or --replay START END, not both")
        start, end = (time_arg(x) for x in args.replay)
        assert start is not None and end is not None
        if end < start:
            raise HydroriskError(f"--replay: the end {args.replay[1]} is before the start "
                                 f"{args.replay[0]}")
        step = None if args.step is None else dt.timedelta(hours=args.step)
        reports = alert_evaluation.replay(engine, config, start, end, step, stations=stations,
                                          on_time=args.on_time)
        totals = {c: sum(len(getattr(r, c)) for r in reports) for c in CHANGES}
        print(_t(lang, "replay", start=when(start), end=when(end), runs=len(reports),
                 **totals))
        _synthetic(engine, lang)
        for r in reports:  # escalations are counted above, not listed: every step
            for change in CHANGES:  # an alert stays unacknowledged would repeat it
                if change == "escalated":
                    continue
                for a in getattr(r, change):
                    print(_change_line(config, change, a, lang, at=r.as_of))
        if not any(totals.values()) and not args.on_time:
            print(_t(lang, "hint_on_time"))
    else:
        if args.on_time:
            raise HydroriskError("--on-time applies to --replay only")
        report = alert_evaluation.evaluate(engine, config, as_of=time_arg(args.as_of),
                                           stations=stations)
        print(_t(lang, "eval", as_of=f"{when(report.as_of)} UTC",
                 **{c: len(getattr(report, c)) for c in CHANGES}))
        _synthetic(engine, lang)
        for change in CHANGES:
            for a in getattr(report, change):
                print(_change_line(config, change, a, lang))
    for note in _notes(reports if args.replay else [report]):
        print(f"  ({note})")
    print(_t(lang, "now_open", n=len(service.list_alerts(engine, which="open"))))
    return 0


def _notes(reports: list[Any]) -> list[str]:
    """The evaluations' notes (rules that cannot be evaluated …), each once."""
    return list(dict.fromkeys(n for r in reports for n in (getattr(r, "notes", None) or [])))


# --------------------------------------------------------------------------- verify

def cmd_verify(args: argparse.Namespace) -> int:
    """``alerts verify --start --end``: hits, misses, false alarms and lead times."""
    from hydro.services.alert_verification import verify

    config, engine = _context(args)
    lang = args.lang
    start, end = time_arg(args.start), time_arg(args.end)
    assert start is not None and end is not None
    if args.tolerance < 0:
        raise HydroriskError(f"--tolerance must be zero or more days, not {args.tolerance}")
    table = verify(engine, config, start=start, end=end, station=args.station,
                   rule=args.rule, tolerance=dt.timedelta(days=args.tolerance), lang=lang)
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=False)
        print(_t(lang, "wrote", n=len(table), path=args.csv))
        return 0
    lo, hi = table.attrs["period"]
    tol = f"{_number(args.tolerance)} {_t(lang, 'day' if args.tolerance == 1 else 'days')}"
    print(_t(lang, "verify.title", start=when(lo), end=when(hi), tol=tol))
    _synthetic(engine, lang)
    if table.empty:
        print(_t(lang, "verify.none"))
        return 0
    rows = []
    for r in table.to_dict("records"):
        level = LEVEL_WORDS.get(r["level"], {}).get(lang, r["level"])
        scheme = f" ({r['scheme']})" if r["scheme"] else ""
        rows.append({
            _t(lang, "v.station"): f"{r['station_name']} ({r['station']})",
            _t(lang, "v.rule"): r["rule"],
            _t(lang, "v.level"): f"{level} {_quantity(r['threshold_cm'], 'cm', lang)}{scheme}",
            _t(lang, "v.days"): str(r["readings"]),
            _t(lang, "v.crossings"): str(r["crossings"]),
            _t(lang, "v.alerts"): str(r["alerts"]),
            _t(lang, "v.hits"): str(r["hits"]),
            _t(lang, "v.misses"): str(r["misses"]),
            _t(lang, "v.false_alarms"): str(r["false_alarms"]),
            _t(lang, "v.pod"): _fraction(r["pod"]),
            _t(lang, "v.far"): _fraction(r["far"]),
            _t(lang, "v.csi"): _fraction(r["csi"]),
            _t(lang, "v.lead"): _lead(r["median_lead_days"]),
            _t(lang, "v.late"): str(r["late"]),
            _t(lang, "v.first"): _lead(r["first_warning_days"]),
        })
    figures = tuple(_t(lang, f"v.{k}") for k in (
        "days", "crossings", "alerts", "hits", "misses", "false_alarms", "pod", "far", "csi",
        "lead", "late", "first"))
    print(_table(rows, right=figures))
    print()
    print(_t(lang, "verify.notes"))
    return 0


def _lead(days: object) -> str:
    """A lead time in days to two decimals (−0.04 d is an hour late: not "0")."""
    if _blank(days):
        return DASH
    return f"{float(days):+.2f}".replace("+", "")  # type: ignore[arg-type]


def _fraction(x: object) -> str:
    if _blank(x):
        return DASH
    return f"{float(x):.2f}"  # type: ignore[arg-type]


# --------------------------------------------------------------------------- parser

def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``alerts list|show|ack|close|evaluate|verify``."""
    al = subparsers.add_parser(
        "alerts", help="list, acknowledge, close, evaluate and verify alerts",
        description="The alerts of the rules in config/alerts.toml: list them, show one "
                    "with its history, acknowledge or close it, run the rules now or "
                    "replay a past season, and verify the alerts against the observed "
                    "crossings of the warning levels.")
    asub = al.add_subparsers(dest="alerts_command", required=True, metavar="COMMAND")

    def lang(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lang", choices=LANGS, default="en",
                       help="language of names, words and headings (default en)")

    s = asub.add_parser("list", help="alerts, newest first",
                        description="Alerts newest first, with station names, severities "
                                    "and who acknowledged or closed them (times UTC).")
    s.add_argument("--which", choices=WHICH_CHOICES, default="open",
                   help="open (not closed, the default), unacknowledged, acknowledged, "
                        "closed or all")
    s.add_argument("--station", help="station id, e.g. RU:ORSK")
    s.add_argument("--basin", help="ural, irtysh, tobol or ishim")
    s.add_argument("--rule", help="rule id of config/alerts.toml, e.g. stage-level")
    s.add_argument("--since", help="opened at or after this UTC time (YYYY-MM-DD[THH:MM])")
    lang(s)
    s.set_defaults(func=cmd_list)

    s = asub.add_parser("show", help="one alert and its history",
                        description="One alert: station, rule, value against threshold, the "
                                    "data's standing, and every step of its life.")
    s.add_argument("id", type=_alert_id, metavar="ID")
    lang(s)
    s.set_defaults(func=cmd_show)

    for name, func, helptext in (("ack", cmd_ack, "acknowledge an alert"),
                                 ("close", cmd_close, "close an alert")):
        s = asub.add_parser(name, help=helptext,
                            description=f"{helptext[0].upper()}{helptext[1:]} (now, UTC), "
                                        "recorded with your name and an optional note.")
        s.add_argument("id", type=_alert_id, metavar="ID")
        s.add_argument("--by", required=True, metavar="NAME", help="who you are")
        s.add_argument("--note", help="why, or what was done")
        lang(s)
        s.set_defaults(func=func)

    s = asub.add_parser("evaluate", help="run the alert rules now, or replay a period",
                        description="Run the rules of config/alerts.toml over the store as "
                                    "known at --as-of (default now), or replay a past period "
                                    "as a duty officer would have seen it.")
    s.add_argument("--as-of", help="evaluate what the store had received by this UTC time")
    s.add_argument("--station", action="append",
                   help="only this station (repeatable; default all)")
    s.add_argument("--replay", nargs=2, metavar=("START", "END"),
                   help="replay the evaluations from START to END (UTC) into this store "
                        "(use a fresh copy: history is never rewritten): one whenever data "
                        "arrived, as the worker does after each ingest, or every --step hours")
    s.add_argument("--step", type=float, metavar="HOURS",
                   help="with --replay: evaluate every HOURS instead of on each arrival")
    s.add_argument("--on-time", action="store_true",
                   help="with --replay: count every stored value as received when it was "
                        "observed (a store loaded after the fact, e.g. the bundled data): "
                        "what the data would have raised, not what was shown then")
    lang(s)
    s.set_defaults(func=cmd_evaluate)

    s = asub.add_parser("verify", help="hits, misses, false alarms and lead times",
                        description="Verify the level alerts of every gauge against the "
                                    "observed crossings of its warning levels over a period: "
                                    "hits, misses, false alarms, POD, FAR, CSI and lead time.")
    s.add_argument("--start", required=True, help="UTC, YYYY-MM-DD[THH:MM]")
    s.add_argument("--end", required=True,
                   help="UTC, YYYY-MM-DD[THH:MM] (a date includes the whole day)")
    s.add_argument("--station", help="only this gauge")
    s.add_argument("--rule", help="only this rule id")
    s.add_argument("--tolerance", type=float, default=1.0, metavar="DAYS",
                   help="how long before a crossing an alert may have closed and still "
                        "count (days, default 1)")
    s.add_argument("--csv", metavar="FILE", help="write the table as CSV instead")
    lang(s)
    s.set_defaults(func=cmd_verify)
