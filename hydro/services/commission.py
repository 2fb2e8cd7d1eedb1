"""What the bilateral commission looks at each month (issue 13, item 5): the dashboard's
``/commission`` page and the monthly report (PDF and XLSX, in kk, ru or en) of
``hydrorisk report commission``.

* **Border volumes** per month, season and water year against the norm — the border
  accounting of :func:`hydro.balance.border_table` on the representative gauge of each
  border node, norm base period and water-year start from ``config/settings.toml``
  ``[accounting]`` — and the Mann–Kendall/Sen trend of the water-year volumes
  (:func:`hydro.trend.border_trends`).
* **Completeness per party**: per border gauge, party, variable and month, the share of
  the expected daily values present (a day counts when the party reported at least one
  value on that local date; a month in progress is expected up to the day shown).  The
  series expected are each configured party's stage and the discharge of the gauge's
  country, and anything else a party reported there in the period.
* **Shared posts**: both parties' stage at every gauge both report
  (:func:`hydro.store.api.party_disagreement`, current values), with the *disagreement
  periods*: runs of consecutive local days on which QC flagged the parties' readings as
  disagreeing or ``|KZ − RU|`` exceeded the gauge's stage tolerance
  (:func:`hydro.qc.resolve_limits` ``party_tolerance``).
* **Quality at the border sites**: the class under both national systems of each border
  gauge with samples in the year shown, or the year before
  (:mod:`hydro.services.quality_overview`).
* **Exchange log**: :mod:`hydro.services.exchange`.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hydro.balance import AccountingPeriod, border_gauges, border_table
from hydro.config import Config
from hydro.qc import resolve_limits
from hydro.services import exchange, i18n, labels, quality_overview
from hydro.services.context import Store
from hydro.services.exchange import month_bounds, records
from hydro.store import api
from hydro.trend import border_trends

PERIODS: tuple[AccountingPeriod, ...] = ("month", "season", "water_year")
FORMATS = ("pdf", "xlsx")
MEDIA_TYPES = {"pdf": "application/pdf",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LANGUAGES = ("kk", "ru", "en")
LOCALES = {"kk": "kk_KZ", "ru": "ru_RU", "en": "en"}
#: months of completeness and of the shared posts' series shown before the chosen month
WINDOW_MONTHS = 12


# --------------------------------------------------------------------------- data

@dataclass
class CommissionData:
    """Everything the page and the report show for one month."""

    month: str                                   # YYYY-MM
    day: dt.date                                 # the day shown (end of the period)
    volumes: dict[str, pd.DataFrame]             # period -> border_table rows
    trends: pd.DataFrame                         # border_trends of the water years
    completeness: pd.DataFrame                   # see completeness()
    shared: dict[str, pd.DataFrame]              # gauge -> daily KZ, RU, difference, flagged
    periods: pd.DataFrame                        # see disagreement_periods()
    tolerance: dict[str, float]                  # gauge -> stage tolerance, cm
    quality: list[quality_overview.SiteYear]     # border sites, the year of ``day``
    exchange: pd.DataFrame                       # hydro.services.exchange.exchange_log
    synthetic: bool
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> lang -> name
    base_period: tuple[int, int] | None = None   # the norm's (config [accounting])


def border_discharge(store: Store, config: Config, received_by: dt.datetime | None = None,
                     until: dt.date | None = None) -> dict[str, pd.Series]:
    """Daily discharge (m³/s, by local date) of every border node's representative gauge,
    as reported by the gauge's own country (up to the local date ``until``)."""
    net = config.network
    out: dict[str, pd.Series] = {}
    for gauge_id in {bg.gauge_id for bg in border_gauges(net).values()}:
        gauge = net.gauges[gauge_id]
        obs = api.series(store, gauge_id, "discharge", party=gauge.country, as_of=received_by)
        if obs.empty:
            continue
        s = _daily_mean(obs, gauge.timezone)
        if until is not None:
            s = s[s.index <= pd.Timestamp(until)]
        s.name = gauge_id
        out[gauge_id] = s
    return out


def border_accounting(store: Store, config: Config, received_by: dt.datetime | None = None,
                      until: dt.date | None = None
                      ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """(period -> :func:`hydro.balance.border_table`, water-year trends) over the store up
    to the day ``until`` (a period running past it is incomplete: no volume), with the norm
    of ``config/settings.toml`` ``[accounting]``."""
    net = config.network
    acc = config.settings.accounting
    discharge = border_discharge(store, config, received_by, until)
    env = {b: n.environmental_min_flow.to("discharge") for b, n in net.nodes.items()
           if n.kind == "border" and n.environmental_min_flow is not None}
    tables: dict[str, pd.DataFrame] = {}
    for period in PERIODS:
        tables[period] = border_table(
            net, discharge, period=period, environmental_min_m3s=env, missing="skip",
            base_period=tuple(acc.norm_base_period), min_base_fraction=acc.min_base_fraction,
            water_year_start_month=acc.water_year_start_month)
    wy = tables["water_year"]
    trends = border_trends(wy) if not wy.empty else pd.DataFrame()
    return tables, trends


def _local_dates(times: pd.Series, timezone: str) -> pd.DatetimeIndex:
    t = pd.DatetimeIndex(pd.to_datetime(times))
    if t.tz is None:
        t = t.tz_localize("UTC")
    return t.tz_convert(timezone).tz_localize(None).normalize()


def _daily_mean(obs: pd.DataFrame, timezone: str) -> pd.Series:
    """Values averaged per local date (sub-daily readings become one daily value)."""
    values = pd.Series(obs["value"].to_numpy(dtype=float), index=_local_dates(obs["time"],
                                                                               timezone))
    out = values.groupby(level=0).mean()
    out.index.name = "date"
    return out


def _months(end_month: str, n: int) -> list[pd.Period]:
    last = pd.Period(end_month, freq="M")
    return [last - k for k in range(n - 1, -1, -1)]


def completeness(store: Store, config: Config, month: str, day: dt.date | None = None,
                 months: int = WINDOW_MONTHS, received_by: dt.datetime | None = None
                 ) -> pd.DataFrame:
    """Share of the expected daily values present, per border gauge, party, variable and
    month, for the ``months`` months ending with ``month`` (``YYYY-MM``).

    Columns: ``gauge_id, border_ids`` (the border nodes it stands for), ``party,
    variable, month`` (``YYYY-MM``), ``n_days`` (local days with a value), ``n_expected``
    (days of the month, up to ``day`` in the month of ``day``), ``share`` (0–1).
    """
    net = config.network
    periods = _months(month, months)
    start, _ = month_bounds(str(periods[0]))
    _, end = month_bounds(str(periods[-1]))
    by_gauge: dict[str, list[str]] = {}
    for border_id, bg in border_gauges(net).items():
        by_gauge.setdefault(bg.gauge_id, []).append(border_id)
    rows = []
    for gauge_id, borders in by_gauge.items():
        gauge = net.gauges[gauge_id]
        parties = list(gauge.parties) or [gauge.country]
        expected: set[tuple[str, str]] = {(str(p), "stage") for p in parties}
        expected.add((str(gauge.country), "discharge"))
        # a day early and late: local dates of UTC readings cross midnight
        pad = dt.timedelta(days=1)
        frames = {v: api.series(store, gauge_id, v, start - pad, end + pad, as_of=received_by)
                  for v in ("stage", "discharge")}
        for variable, obs in frames.items():
            for party in sorted(set(obs["party"]) if not obs.empty else set()):
                expected.add((str(party), variable))
        for party, variable in sorted(expected):
            obs = frames[variable]
            obs = obs[(obs["party"] == party) & obs["value"].notna()] if not obs.empty else obs
            dates = (pd.DatetimeIndex(_local_dates(obs["time"], gauge.timezone).unique())
                     if not obs.empty else pd.DatetimeIndex([]))
            counts: dict[pd.Period, int] = (
                {pd.Period(str(k), freq="M"): int(v)
                 for k, v in pd.Series(dates.to_period("M")).value_counts().items()}
                if len(dates) else {})
            for per in periods:
                n_exp = per.days_in_month
                if day is not None and per == pd.Period(day, freq="M"):
                    n_exp = day.day
                if day is not None and per > pd.Period(day, freq="M"):
                    n_exp = 0
                n = counts.get(per, 0)
                if day is not None and per == pd.Period(day, freq="M"):
                    n = int(((dates.to_period("M") == per) & (dates.day <= day.day)).sum())
                rows.append({"gauge_id": gauge_id, "border_ids": ", ".join(borders),
                             "party": party, "variable": variable, "month": str(per),
                             "n_days": n, "n_expected": n_exp,
                             "share": (n / n_exp) if n_exp else np.nan})
    return pd.DataFrame(rows, columns=["gauge_id", "border_ids", "party", "variable", "month",
                                       "n_days", "n_expected", "share"])


def shared_gauges(config: Config) -> list[str]:
    """Gauges both parties report (their ``parties`` name KZ and RU), in config order."""
    return [g for g, gauge in config.network.gauges.items()
            if {"KZ", "RU"} <= set(gauge.parties)]


def stage_tolerance(config: Config, gauge_id: str) -> float:
    """The stage difference between the parties QC tolerates at ``gauge_id``, cm."""
    tol = resolve_limits(config, gauge_id, "stage").party_tolerance
    return float(tol) if tol is not None else 5.0


def party_series(store: Store, config: Config, gauge_id: str, start: dt.datetime,
                 end: dt.datetime, received_by: dt.datetime | None = None) -> pd.DataFrame:
    """Both parties' daily stage at ``gauge_id`` by local date: ``KZ``, ``RU``,
    ``difference`` (KZ − RU, cm) and ``flagged`` (QC PARTY_DISAGREE on that day); as
    received by ``received_by`` (naive UTC; None: the current values)."""
    gauge = config.network.gauges[gauge_id]
    frame = api.party_disagreement(store, gauge_id, "stage", start, end, as_of=received_by)
    if frame.empty:
        return pd.DataFrame(columns=["KZ", "RU", "difference", "flagged"])
    frame = frame.copy()
    frame.index = _local_dates(pd.Series(frame.index), gauge.timezone)
    daily = frame.groupby(level=0).agg({"KZ": "mean", "RU": "mean", "flagged": "any"})
    daily["difference"] = daily["KZ"] - daily["RU"]
    daily.index.name = "date"
    return daily[["KZ", "RU", "difference", "flagged"]]


def disagreement_periods(daily: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """Runs of consecutive days with a QC disagreement flag or ``|difference| > tolerance``.

    ``daily``: :func:`party_series`.  Returns ``start, end`` (local dates), ``days``,
    ``max_abs_difference`` (cm), ``mean_difference`` (cm, KZ − RU) and ``flagged_days``.
    """
    columns = ["start", "end", "days", "max_abs_difference", "mean_difference",
               "flagged_days"]
    if daily.empty:
        return pd.DataFrame(columns=columns)
    bad = daily["flagged"].astype(bool) | (daily["difference"].abs() > tolerance)
    days = pd.DatetimeIndex(daily.index[bad.to_numpy()])
    if days.empty:
        return pd.DataFrame(columns=columns)
    day_numbers = days.to_numpy().astype("datetime64[D]").astype(np.int64)
    run = np.concatenate([[0], np.cumsum(np.diff(day_numbers) != 1)])
    rows = []
    for k in np.unique(run):
        sel = days[run == k]
        part = daily.loc[sel]
        rows.append({"start": sel[0].date(), "end": sel[-1].date(), "days": len(sel),
                     "max_abs_difference": float(part["difference"].abs().max()),
                     "mean_difference": float(part["difference"].mean()),
                     "flagged_days": int(part["flagged"].astype(bool).sum())})
    return pd.DataFrame(rows, columns=columns)


def border_sites(config: Config) -> list[str]:
    """The border gauges (representatives of border nodes, or flagged ``border``)."""
    net = config.network
    sites = [bg.gauge_id for bg in border_gauges(net).values()]
    sites += [g for g, gauge in net.gauges.items() if gauge.border]
    return list(dict.fromkeys(sites))


def commission_data(store: Store, config: Config, day: dt.date,
                    received_by: dt.datetime | None = None,
                    months: int = WINDOW_MONTHS) -> CommissionData:
    """Everything for the month of ``day`` (and the ``months`` months up to it), as known
    at ``received_by`` (naive UTC; None: everything stored, the current values)."""
    from hydro.services.observations import holds_bundled_data

    month = f"{day.year:04d}-{day.month:02d}"
    volumes, trends = border_accounting(store, config, received_by, day)
    comp = completeness(store, config, month, day, months, received_by)
    first = pd.Period(month, freq="M") - (months - 1)
    start, _ = month_bounds(str(first))
    end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time())
    shared, periods, tolerance = {}, [], {}
    for g in shared_gauges(config):
        tol = stage_tolerance(config, g)
        daily = party_series(store, config, g, start - dt.timedelta(days=1), end,
                             received_by)
        daily = daily[(daily.index >= pd.Timestamp(start))
                      & (daily.index <= pd.Timestamp(day))] if not daily.empty else daily
        shared[g], tolerance[g] = daily, tol
        p = disagreement_periods(daily, tol)
        if not p.empty:
            periods.append(p.assign(gauge_id=g))
    period_cols = ["gauge_id", "start", "end", "days", "max_abs_difference",
                   "mean_difference", "flagged_days"]
    periods_frame = (pd.concat(periods, ignore_index=True)[period_cols] if periods
                     else pd.DataFrame(columns=period_cols))
    until = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    # the year of ``day``, or the one before where a site has no sample yet this year
    samples = quality_overview.samples(store, border_sites(config), until, received_by)
    samples = samples[samples["time"] >= pd.Timestamp(day.year - 1, 1, 1)]
    rows = quality_overview.classify(samples, config)
    quality = list(quality_overview.latest_year(rows, day.year).values())
    log = exchange.exchange_log(store, config, month, received_by)
    net = config.network
    names = {}
    for table in (net.gauges, net.nodes):
        for key, node in table.items():
            names[key] = {lang: node.names.get(lang) for lang in LANGUAGES}
    return CommissionData(month=month, day=day, volumes=volumes, trends=trends,
                          completeness=comp, shared=shared, periods=periods_frame,
                          tolerance=tolerance, quality=quality, exchange=log,
                          synthetic=holds_bundled_data(store), names=names,
                          base_period=(int(config.settings.accounting.norm_base_period[0]),
                                       int(config.settings.accounting.norm_base_period[1])))


def period_rows(data: CommissionData, day: dt.date | None = None) -> pd.DataFrame:
    """Per border node, the rows of the month, the season and the water year containing
    ``day`` (default the data's day): ``period`` says which."""
    day = day or data.day
    ts = pd.Timestamp(day)
    parts = []
    for period, table in data.volumes.items():
        if table.empty:
            continue
        hit = table[(table["start"] <= ts) & (table["end"] >= ts)]
        parts.append(hit.assign(period=period))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- words

#: the report's words: the keys ``commission.*`` of hydro's gettext catalogs (hydro/locale)
TEXT: Mapping[str, Mapping[str, str]] = i18n.section("commission")


def text(key: str, lang: str, **fields: object) -> str:
    """The report's word ``key`` in ``lang`` (kk, ru, en), ``str.format``-ed with ``fields``."""
    return i18n.t(f"commission.{key}", lang, **fields)


def month_name(month: str, lang: str) -> str:
    """``2019-04`` -> "апрель 2019" (ru), "сәуір 2019" (kk), "April 2019" (en)."""
    from babel.dates import format_date

    start, _ = month_bounds(month)
    return format_date(start.date(), "LLLL yyyy", locale=LOCALES.get(lang, "en"))


def period_label(period: str, label: str, group: object, lang: str) -> str:
    """"month 2019-04", "season 2019 spring flood", "water year 2019/20" in ``lang``."""
    if period == "season":
        year = str(label).split(" ")[0]
        key = f"season.{group}"
        name = text(key, lang) if key in TEXT else str(group)
        return f"{name} {year}"
    if period == "month":
        return month_name(str(label), lang)
    return f"{text('period.' + str(period), lang)} {label}"


def node_name(data: CommissionData, node_id: str, lang: str) -> str:
    return (data.names.get(node_id) or {}).get(lang) or node_id


def _num(value: object, lang: str, decimals: int = 0) -> str:
    """A number for a report cell: decimal comma in kk and ru, thin grouping; "—" for none."""
    from babel.numbers import format_decimal

    if value is None:
        return "—"
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(x):
        return "—"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    out = format_decimal(round(x, decimals), format=pattern, locale=LOCALES.get(lang, "en"),
                         decimal_quantization=True)
    return out.replace("-", "\u2212")


def _party(code: str, lang: str) -> str:
    """A party as the dashboard writes it (КЗ/ҚЗ/KZ, РФ/RU), or the commission."""
    if code == "commission":
        return text("commission", lang)
    return text(f"party.{code}", lang) if code in ("KZ", "RU") else code


@dataclass
class Section:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]]       # numbers stay numbers (XLSX); the PDF formats them
    decimals: list[int | None]  # per column: None for text
    note: str | None = None


@dataclass
class Report:
    lang: str
    month: str
    title: str
    subtitle: str
    knowledge: str
    synthetic: str | None
    sections: list[Section]


def report(data: CommissionData, lang: str, received_by: dt.datetime | None = None,
           made_at: dt.datetime | None = None) -> Report:
    """The monthly report's tables in ``lang`` (numbers kept as numbers)."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    sections = []
    # volumes: the month, its season and its water year at every border node
    rows: list[list[Any]] = []
    per = period_rows(data)
    if not per.empty:
        for border_id, part in per.groupby("border_id", sort=False):
            for r in records(part):
                rows.append([node_name(data, str(border_id), lang),
                             period_label(r["period"], r["label"], r["group"], lang),
                             f"{int(r['n_days'])}/{int(r['n_expected'])}",
                             _nan(r["volume_hm3"]), _nan(r["norm_hm3"]), _nan(r["percent_of_norm"]),
                             _nan(r["exceedance_percent"])])
    y0, y1 = data.base_period or (None, None)
    sections.append(Section(
        "volumes", text("sec.volumes", lang),
        [text(k, lang) for k in ("col.border", "col.period", "col.days", "col.volume",
                                 "col.norm", "col.pct", "col.exceed")],
        rows, [None, None, None, 1, 1, 0, 0],
        text("norm.note", lang, y0=y0 or "", y1=y1 or "") if y0 else None))
    trows = []
    for r in records(data.trends) if not data.trends.empty else []:
        trend = r["trend"] if isinstance(r["trend"], str) else "none"
        trows.append([node_name(data, str(r["border_id"]), lang),
                      f"{r['first_year']}–{r['last_year']}" if r['first_year'] else "",
                      int(r["n"]), text("trend." + trend, lang), _nan(r["slope_per_year"]),
                      _nan(r["p"])])
    sections.append(Section(
        "trends", text("sec.trends", lang),
        [text("col.border", lang), text("col.years", lang), "n"]
        + [text(k, lang) for k in ("col.trend", "col.slope", "col.p")],
        trows, [None, None, 0, None, 1, 3]))
    comp = data.completeness[data.completeness["month"] == data.month]
    crows = [[node_name(data, str(r["gauge_id"]), lang), _party(str(r["party"]), lang),
              text("var." + r["variable"], lang),
              f"{int(r['n_days'])}/{int(r['n_expected'])}",
              _nan(100.0 * r["share"] if r["n_expected"] else np.nan)]
             for r in records(comp)]
    sections.append(Section(
        "completeness", text("sec.completeness", lang),
        [text(k, lang) for k in ("col.gauge", "col.party", "col.variable", "col.days",
                                 "col.share")], crows, [None, None, None, None, 0]))
    start, end = month_bounds(data.month)
    per_rows = []
    for r in records(data.periods):
        if pd.Timestamp(r["end"]) < pd.Timestamp(start) \
                or pd.Timestamp(r["start"]) >= pd.Timestamp(end):
            continue
        per_rows.append([node_name(data, str(r["gauge_id"]), lang), str(r["start"]),
                         str(r["end"]), int(r["days"]), float(r["max_abs_difference"]),
                         float(r["mean_difference"]), int(r["flagged_days"])])
    tol = sorted(set(data.tolerance.values()))
    sections.append(Section(
        "periods", text("sec.periods", lang),
        [text(k, lang) for k in ("col.gauge", "col.from", "col.to", "col.days", "col.maxdiff",
                                 "col.meandiff", "col.flagged")],
        per_rows, [None, None, None, 0, 0, 1, 0],
        text("tol.note", lang, tol=", ".join(_num(x, lang) for x in tol)) if tol else None))
    qrows = []
    for q in data.quality:
        kz = q.kz_in_force
        qrows.append([node_name(data, q.site_id, lang), q.year, q.n_samples,
                      labels.quality_display(kz, lang),
                      labels.quality_display(q.ukizv, lang) if q.ukizv is not None else "—",
                      ", ".join(text("mark." + m, lang) for m in q.marks)])
    sections.append(Section(
        "quality", text("sec.quality", lang),
        [text(k, lang) for k in ("col.site", "col.year", "col.samples", "col.kz", "col.ru",
                                 "col.marks")], qrows, [None, 0, 0, None, None, None]))
    erows = []
    for r in records(data.exchange):
        acks = "; ".join(
            f"{_party(a['party'], lang)}: {a['acknowledged_by']}, "
            f"{a['acknowledged_at']:%Y-%m-%d %H:%M}" + (f" ({a['note']})" if a["note"] else "")
            for a in r["acknowledgements"]) or text("not_acknowledged", lang)
        erows.append([int(r["run_id"]), r["file"], r["source"] or "",
                      _party(r["party"], lang) if r["party"] else "",
                      f"{pd.Timestamp(r['received_at']):%Y-%m-%d %H:%M}", int(r['rows_written']),
                      acks])
    sections.append(Section(
        "exchange", text("sec.exchange", lang),
        [text(k, lang) for k in ("col.run", "col.file", "col.source", "col.delivered_by",
                                 "col.received", "col.rows", "col.ack")],
        erows, [0, None, None, None, None, 0, None]))
    made = made_at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    knowledge = (text("asof", lang, time=f"{received_by:%Y-%m-%d %H:%M}") if received_by
                 else text("made", lang, time=f"{made:%Y-%m-%d %H:%M}"))
    return Report(lang=lang, month=data.month, title=text("title", lang),
                  subtitle=month_name(data.month, lang), knowledge=knowledge,
                  synthetic=text("synthetic", lang) if data.synthetic else None,
                  sections=sections)


def _nan(value: object) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


# --------------------------------------------------------------------------- files

def cell_safe(value: object) -> object:
    """A spreadsheet cell that is never run as a formula: text starting with ``=``, ``+``,
    ``-``, ``@`` (or a tab, a carriage return) gets a leading apostrophe
    (:func:`hydro.services.quality_overview.csv_safe`)."""
    return quality_overview.csv_safe(value)


def to_xlsx(doc: Report) -> bytes:
    """One sheet per section (openpyxl); every text cell guarded by :func:`cell_safe`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = wb.active
    assert first is not None
    first.title = "report"
    first.append([cell_safe(doc.title)])
    first["A1"].font = Font(bold=True, size=14)
    first.append([cell_safe(doc.subtitle)])
    first.append([cell_safe(doc.knowledge)])
    if doc.synthetic:
        first.append([cell_safe(doc.synthetic)])
        first.cell(row=first.max_row, column=1).font = Font(bold=True, color="A00000")
    for s in doc.sections:
        first.append([])
        first.append([cell_safe(s.title)])
        first.cell(row=first.max_row, column=1).font = Font(bold=True)
        ws = wb.create_sheet(s.key)
        if doc.synthetic:
            ws.append([cell_safe(text("stamp", doc.lang))])
        ws.append([cell_safe(s.title)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        ws.append([cell_safe(h) for h in s.headers])
        for c in range(1, len(s.headers) + 1):
            ws.cell(row=ws.max_row, column=c).font = Font(bold=True)
        for row in s.rows:
            ws.append([cell_safe(v) for v in row])
        if not s.rows:
            ws.append([cell_safe(text("none", doc.lang))])
        if s.note:
            ws.append([cell_safe(s.note)])
        for c, h in enumerate(s.headers, start=1):
            width = max([len(str(h))] + [len(str(r[c - 1])) for r in s.rows[:200]])
            ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = \
                min(60, max(8, width + 2))
    wb.properties.title = f"{doc.title} — {doc.subtitle}"
    wb.properties.creator = "hydrorisk"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_pdf(doc: Report) -> bytes:
    """The report as an A4 landscape PDF: ReportLab with the bulletin's DejaVu Sans (it has
    the Cyrillic and Kazakh letters), a SYNTHETIC stamp on every page of demonstration
    data."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    from hydro.services.bulletin_output import FONT, FONT_BOLD, _register_fonts

    _register_fonts()
    e = html.escape
    base = ParagraphStyle("base", fontName=FONT, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=base, fontName=FONT_BOLD, fontSize=7.5, leading=9)
    cell = ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9)
    title = ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=14, leading=18)
    sub = ParagraphStyle("sub", parent=base, fontName=FONT_BOLD, fontSize=11, leading=14)
    h2 = ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=10.5, leading=13,
                        spaceBefore=8, spaceAfter=3)
    warn = ParagraphStyle("warn", parent=base, fontName=FONT_BOLD, fontSize=9, leading=11,
                          textColor=colors.HexColor("#a00000"),
                          borderColor=colors.HexColor("#a00000"), borderWidth=1,
                          borderPadding=4, spaceBefore=4, spaceAfter=6)
    story: list = [Paragraph(e(doc.title), title), Paragraph(e(doc.subtitle), sub),
                   Paragraph(e(doc.knowledge), base)]
    if doc.synthetic:
        story.append(Paragraph(e(doc.synthetic), warn))
    width = landscape(A4)[0] - 20 * mm
    for s in doc.sections:
        story.append(Paragraph(e(s.title), h2))
        if not s.rows:
            story.append(Paragraph(e(text("none", doc.lang)), base))
        else:
            data: list[list] = [[Paragraph(e(h), head) for h in s.headers]]
            for row in s.rows:
                data.append([Paragraph(e(_num(v, doc.lang, d) if d is not None
                                         else ("" if v is None else str(v))), cell)
                             for v, d in zip(row, s.decimals, strict=True)])
            widths = _widths(s, width)
            t = RLTable(data, colWidths=widths, repeatRows=1)
            t.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]))
            story.append(t)
        if s.note:
            story.append(Spacer(1, 1.5 * mm))
            story.append(Paragraph(e(s.note), base))
    stamp = text("stamp", doc.lang) if doc.synthetic else None
    footer = f"{doc.title} — {doc.subtitle}"

    def decorate(canvas, _doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawRightString(landscape(A4)[0] - 10 * mm, 6 * mm,
                               f"{footer} — {canvas.getPageNumber()}")
        if stamp:
            canvas.setFont(FONT_BOLD, 60)
            canvas.setFillColor(colors.Color(0.8, 0, 0, alpha=0.12))
            canvas.translate(landscape(A4)[0] / 2, landscape(A4)[1] / 2)
            canvas.rotate(25)
            canvas.drawCentredString(0, 0, stamp)
        canvas.restoreState()

    buf = io.BytesIO()
    pdf = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=10 * mm,
                            rightMargin=10 * mm, topMargin=10 * mm, bottomMargin=12 * mm,
                            title=footer, author="hydrorisk", lang=doc.lang)
    pdf.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buf.getvalue()


def _widths(s: Section, width: float) -> list[float]:
    """Text columns wider than number columns (the first, a name, widest)."""
    weights = [2.4 if i == 0 else (1.0 if d is not None else 1.6)
               for i, d in enumerate(s.decimals)]
    if s.key == "exchange":
        weights = [0.6, 2.2, 1.1, 0.9, 1.4, 0.8, 3.5]
    total = sum(weights)
    return [width * w / total for w in weights]


def render(data: CommissionData, lang: str, fmt_: str,
           received_by: dt.datetime | None = None, made_at: dt.datetime | None = None
           ) -> bytes:
    """The monthly report of ``data`` as ``pdf`` or ``xlsx`` in ``lang``."""
    if fmt_ not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt_!r}")
    doc = report(data, lang, received_by, made_at)
    return to_pdf(doc) if fmt_ == "pdf" else to_xlsx(doc)


def monthly_report(store: Store, config: Config, month: str, lang: str, fmt_: str,
                   received_by: dt.datetime | None = None,
                   made_at: dt.datetime | None = None) -> bytes:
    """``hydrorisk report commission``: the report of ``month`` (``YYYY-MM``; its last day,
    or the newest stored day within it)."""
    start, end = month_bounds(month)
    day = (end - dt.timedelta(days=1)).date()
    data = commission_data(store, config, day, received_by)
    return render(data, lang, fmt_, received_by, made_at)


def filename(month: str, lang: str, fmt_: str) -> str:
    return f"commission-{month}-{lang}.{fmt_}"
