"""Water-quality view: the class of every site in the year shown under both national
systems side by side (Kazakhstan's unified classification, both editions; Russia's УКИЗВ),
the limiting parameters of each, the provisional and incomplete marks, a map of the classes,
and per site its classes by year, the trend of every parameter and each parameter's
concentrations against its MPC and class limits.

The data come from :mod:`hydro.services.quality_overview` through the data provider; numbers
are written by :mod:`dashboard.format`.  The year shown is that of ``?date=`` (the newest
stored day by default), from the samples taken by the end of that day and, with ``?asof=``,
received by then.  :func:`register_callbacks` adds the site, parameter and year selectors'
callbacks and the download route ``/download/quality.csv?lang=&date=&asof=&scope=``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

import dash
import dash_bootstrap_components as dbc
import flask
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from dashboard import components as ui
from dashboard import format as fmt
from dashboard import geo, timequery
from dashboard.context import AppContext, current
from dashboard.figures import ClassPoint, class_map, concentration_chart
from dashboard.i18n import query_string, resolve_lang, t, t_or
from dashboard.ids import Shell
from dashboard.plotly_locale import graph_config
from dashboard.provider import DataProvider
from dashboard.views.stations import map_texts
from hydro.services import quality_overview as qo
from hydro.services.labels import kz_class_label, quality_label
from hydro.services.quality_overview import SiteYear

PATH = "/quality"
DOWNLOAD_RULE = "/download/quality.csv"
KZ_ORDER = tuple(str(k) for k in range(1, 7))
RU_ORDER = ("1", "2", "3a", "3b", "4a", "4b", "4c", "4d", "5")
ALPHA = 0.05


class QualityPage(StrEnum):
    TITLE = "quality-title"
    YEAR = "quality-year"
    SHOWN_YEAR = "quality-shown-year"
    TABLE = "quality-table"
    CSV = "quality-download-csv"
    CSV_ALL = "quality-download-csv-all"
    MAP_KZ = "quality-map-kz"
    MAP_RU = "quality-map-ru"
    SITE = "quality-site"
    PARAMETER = "quality-parameter"
    SITE_PANEL = "quality-site-panel"
    HISTORY = "quality-history"
    TRENDS = "quality-trends"
    CHART = "quality-chart"


# --------------------------------------------------------------------------- words

def site_name(provider: DataProvider, site_id: str, lang: str) -> str:
    gauge = provider.config.network.gauges.get(site_id)
    return (gauge.names.get(lang) if gauge is not None else None) or site_id


def river_name(provider: DataProvider, site_id: str, lang: str) -> str:
    gauge = provider.config.network.gauges.get(site_id)
    return ui.river_name(gauge.river, lang) if gauge is not None else fmt.DASH


def parameter_name(provider: DataProvider, parameter: str, lang: str) -> str:
    p = provider.config.quality_parameters.get(parameter)
    return (p.names.get(lang) if p is not None else None) or parameter


def unit_text(provider: DataProvider, parameter: str, lang: str) -> str:
    p = provider.config.quality_parameters.get(parameter)
    unit = p.unit if p is not None else ""
    return t_or(f"quality.unit.{unit}", lang, unit)


def _names(provider: DataProvider, parameters: Sequence[str], lang: str) -> str:
    return ", ".join(parameter_name(provider, p, lang) for p in parameters) or fmt.DASH


def concentration(value: float | None, lang: str) -> str:
    """A concentration with about three significant digits in ``lang``'s notation."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.DASH
    magnitude = abs(value)
    if magnitude == 0:
        return fmt.number(0.0, lang)
    decimals = min(6, max(0, 2 - math.floor(math.log10(magnitude))))
    return fmt.number(value, lang, decimals)


def edition_text(edition: str, lang: str) -> str:
    return t(f"quality.edition.{edition}", lang)


def kz_text(row: SiteYear, edition: str, lang: str) -> str:
    r = row.kz[edition]
    text = quality_label(r)[lang]
    if r.bounded:
        text += " … " + kz_class_label(r.klass_upper, edition)[lang]
    return text


def ru_text(row: SiteYear, lang: str) -> str:
    if row.ukizv is None:
        return fmt.DASH
    return f"{quality_label(row.ukizv)[lang]} ({fmt.number(row.ukizv.index, lang, 2)})"


def marks(provider: DataProvider, row: SiteYear, lang: str) -> list[str]:
    """The row's marks (:attr:`SiteYear.marks`) as texts."""
    out = []
    kz = row.kz_in_force
    for m in row.marks:
        if m == "few_samples":
            out.append(t("quality.mark.few_samples", lang, n=row.n_samples,
                         min=qo.MIN_SAMPLES_PER_YEAR))
        elif m == "incomplete" and row.ukizv is not None:
            out.append(t("quality.mark.incomplete", lang,
                         missing=_names(provider, row.ukizv.missing, lang)))
        elif m == "kz_missing":
            out.append(t("quality.mark.kz_missing", lang,
                         missing=_names(provider, kz.missing, lang)))
        elif m == "bounded":
            out.append(t("quality.mark.bounded", lang, low=kz.klass, high=kz.klass_upper))
        else:
            out.append(t(f"quality.mark.{m}", lang))
    return out


# --------------------------------------------------------------------------- the table

def table_headers(lang: str, edition: str, with_year: bool = True) -> list[str]:
    """The class table's column titles (``edition``: the KZ edition in force)."""
    headers = [t("quality.col.site", lang), t("quality.col.river", lang)]
    if with_year:
        headers.append(t("quality.col.year", lang))
    headers += [t("quality.col.samples", lang)]
    headers += [t("quality.col.kz", lang, edition=edition_text(ed, lang)
                  + (f", {t('quality.in_force', lang)}" if ed == edition else ""))
                for ed in qo.KZ_EDITIONS]
    headers += [t("quality.col.kz_limiting", lang, edition=edition_text(edition, lang)),
                t("quality.col.ru", lang), t("quality.col.ru_limiting", lang),
                t("quality.col.critical", lang), t("quality.col.marks", lang)]
    return headers


def table_cells(provider: DataProvider, row: SiteYear, lang: str, with_year: bool = True
                ) -> list[str]:
    """One row of the class table as texts (the page's and the CSV's)."""
    cells = [site_name(provider, row.site_id, lang), river_name(provider, row.site_id, lang)]
    if with_year:
        cells.append(str(row.year))
    cells.append(fmt.number(row.n_samples, lang))
    cells += [kz_text(row, ed, lang) for ed in qo.KZ_EDITIONS]
    cells += [_names(provider, row.kz_in_force.limiting, lang), ru_text(row, lang),
              _names(provider, row.ukizv_limiting, lang),
              _names(provider, row.ukizv.critical_indicators if row.ukizv else (), lang),
              "; ".join(marks(provider, row, lang)) or fmt.DASH]
    return cells


def _class_table(provider: DataProvider, rows: Sequence[SiteYear], lang: str, edition: str,
                 component_id: str, with_site: bool = True) -> html.Div:
    """The class table as a sortable, filterable grid with its CSV export (the year and the
    samples sorted as numbers; a row with incomplete data highlighted)."""
    headers = table_headers(lang, edition)
    keep = list(range(len(headers))) if with_site else list(range(2, len(headers)))
    kz_cols = {4, 5}      # the KZ classes of both editions (table_headers' order)
    columns = [ui.GridColumn(headers[i], f"c{i}", "num" if i in (2, 3) else "text",
                             options={"cellClass": "quality-class"} if i in kz_cols else {})
               for i in keep]
    records = []
    for r in rows:
        cells = table_cells(provider, r, lang)
        record: dict[str, Any] = {f"c{i}": cells[i] for i in keep}
        if 2 in keep:
            record["c2"], record["c2_text"] = r.year, cells[2]
        if 3 in keep:
            record["c3"], record["c3_text"] = r.n_samples, cells[3]
        record["kz_class"] = str(r.kz_in_force.klass)   # not an identifier
        record["row_class"] = "warning" if r.incomplete else None
        records.append(record)
    return ui.data_grid(component_id, columns, records, lang, f"hydrorisk-{component_id}.csv",
                        class_name="quality-table")


# --------------------------------------------------------------------------- the maps

def _points(provider: DataProvider, shown: dict[str, SiteYear], lang: str, system: str
            ) -> list[ClassPoint]:
    out = []
    for site, r in sorted(shown.items()):
        gauge = provider.config.network.gauges.get(site)
        if gauge is None:
            continue
        name = site_name(provider, site, lang)
        if system == "kz":
            klass: str | None = str(r.kz_in_force.klass)
        else:
            klass = r.ukizv.klass if r.ukizv is not None else None
        hover = "<br>".join([
            f"<b>{name}</b> ({r.year})",
            f"{t('quality.col.kz', lang, edition=edition_text(r.kz_edition, lang))}: "
            f"{kz_text(r, r.kz_edition, lang)}",
            f"{t('quality.col.ru', lang)}: {ru_text(r, lang)}",
            *marks(provider, r, lang)])
        out.append(ClassPoint(gauge.lat, gauge.lon, f"{system}:{klass}" if klass else None,
                              name, hover, site, r.incomplete))
    return out


def class_maps(provider: DataProvider, shown: dict[str, SiteYear], lang: str, edition: str
               ) -> dbc.Row:
    """Two maps of the sites side by side, coloured by KZ class and by УКИЗВ class."""
    from hydro.quality_tables import UKIZV_CLASSES

    texts = map_texts(lang)
    common: dict[str, Any] = {"rivers": geo.lines(geo.RIVERS), "border": geo.lines(geo.BORDER),
              "texts": texts, "flagged_label": t("quality.map.flagged", lang),
              "no_class_label": t("quality.map.no_class", lang)}
    kz_labels = {f"kz:{k}": kz_class_label(int(k), edition)[lang] for k in KZ_ORDER}
    names: dict[str, str] = {}
    for r in shown.values():
        if r.ukizv is not None:
            names[f"ru:{r.ukizv.klass}"] = quality_label(r.ukizv)[lang]
    ru_labels = {f"ru:{k}": names.get(f"ru:{k}", k) for k in UKIZV_CLASSES}
    kz_fig = class_map(_points(provider, shown, lang, "kz"), [f"kz:{k}" for k in KZ_ORDER],
                       kz_labels, **common)
    ru_fig = class_map(_points(provider, shown, lang, "ru"), [f"ru:{k}" for k in RU_ORDER],
                       ru_labels, **common)
    return dbc.Row([
        dbc.Col(html.Div([
            html.Div(t("quality.map.kz", lang, edition=edition_text(edition, lang)),
                     className="section-title"),
            dcc.Graph(id=QualityPage.MAP_KZ, figure=kz_fig, config=graph_config(lang)),
        ], className="panel mb-3"), xl=6, lg=12),
        dbc.Col(html.Div([
            html.Div(t("quality.map.ru", lang), className="section-title"),
            dcc.Graph(id=QualityPage.MAP_RU, figure=ru_fig, config=graph_config(lang)),
        ], className="panel mb-3"), xl=6, lg=12),
    ], className="quality-maps")


# --------------------------------------------------------------------------- the page

def _until(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def page_data(provider: DataProvider, lang: str, date: str | None, asof: str | None,
              now: dt.datetime | None = None
              ) -> tuple[timequery.When, list[SiteYear], pd.DataFrame | None]:
    """(the resolved time, every site-year classified, the samples) for the URL's time."""
    when = quality_time(provider, lang, date, asof, now)
    frame = provider.quality_samples(until=_until(when.day), as_of=when.received_by)
    rows = qo.classify(frame, provider.config) if frame is not None else []
    return when, rows, frame


def quality_time(provider: DataProvider, lang: str, date: str | None, asof: str | None,
                 now: dt.datetime | None = None) -> timequery.When:
    """:func:`dashboard.timequery.resolve`, but a valid ``date`` up to today is kept as
    asked: the samples' years need not lie in the period of the stored gauge series."""
    when = timequery.resolve(provider, lang, date, asof, now=now)
    day = timequery.parse_day(date) if date else None
    today = (now or timequery.utcnow()).date()
    if day is not None and day != when.day and day <= today:
        return dataclasses.replace(when, day=day)
    return when


def render(provider: DataProvider, lang: str, date: str | None = None,
           asof: str | None = None, now: dt.datetime | None = None,
           site: str | None = None, parameter: str | None = None) -> html.Div:
    """The water-quality page for ``lang``, the year of ``date`` (ISO; the newest stored day
    by default) and the knowledge time ``asof``; ``site`` and ``parameter`` pre-select the
    site panel."""
    when, rows, frame = page_data(provider, lang, date, asof, now)
    day = when.day
    banner = [ui.synthetic_banner(lang)] if provider.is_synthetic() else []
    title = html.H1(t("quality.title", lang), id=QualityPage.TITLE, className="page-title")
    if not rows or frame is None:
        return html.Div([*banner, title,
                         dbc.Alert(t("quality.none", lang), color="info")],
                        className="quality-page", lang=lang)
    shown = qo.latest_year(rows, day.year)
    # the year of the date, or the newest year with samples before it
    year = max((r.year for r in shown.values()), default=day.year)
    years = sorted({r.year for r in rows}, reverse=True)
    edition = qo.kz_edition(year)
    ordered = sorted(shown.values(), key=lambda r: (_basin_order(provider, r.site_id),
                                                    r.site_id))
    asof_kept = asof if when.received_by else None
    header = html.Div([
        title,
        html.Div([
            dcc.Store(id=QualityPage.SHOWN_YEAR, data=year),
            html.Label(t("quality.year", lang), htmlFor=QualityPage.YEAR,
                       className="asof-label"),
            dcc.Dropdown(id=QualityPage.YEAR, options=[{"label": str(y), "value": y}
                                                       for y in years],
                         value=year if year in years else None, clearable=False,
                         searchable=False, style={"width": "7rem"}),
            html.Span(t("quality.download", lang), className="ms-3 me-1"),
            html.A(t("quality.csv.year", lang, year=year), id=QualityPage.CSV,
                   href=download_href(lang, day, asof_kept), download="",
                   className="btn btn-sm btn-outline-primary me-1"),
            html.A(t("quality.csv.all", lang), id=QualityPage.CSV_ALL,
                   href=download_href(lang, day, asof_kept, scope="all"), download="",
                   className="btn btn-sm btn-outline-primary me-1"),
        ], className="asof-controls d-flex align-items-center flex-wrap gap-1"),
    ], className="page-header")
    first_site = site if site in shown else (ordered[0].site_id if ordered else None)
    return html.Div([
        *banner,
        header,
        html.P(t("quality.subtitle", lang, year=year, date=fmt.date(day, lang)),
               className="bulletin-subtitle"),
        dbc.Alert(t("quality.note.tables", lang), color="secondary", className="small"),
        html.Div([
            html.Div(t("quality.table", lang, year=year), className="section-title"),
            _class_table(provider, ordered, lang, edition, QualityPage.TABLE),
            html.P(t("quality.note.method", lang, min=qo.MIN_SAMPLES_PER_YEAR),
                   className="cell-note"),
        ], className="panel mb-3"),
        class_maps(provider, shown, lang, edition),
        html.Div([
            html.Div(t("quality.site.title", lang), className="section-title"),
            html.Div([
                html.Label(t("quality.site.select", lang), htmlFor=QualityPage.SITE,
                           className="asof-label"),
                dcc.Dropdown(id=QualityPage.SITE, clearable=False,
                             options=[{"label": f"{site_name(provider, r.site_id, lang)} "
                                                f"({river_name(provider, r.site_id, lang)})",
                                       "value": r.site_id} for r in ordered],
                             value=first_site, style={"minWidth": "22rem"}),
                html.Label(t("quality.param.select", lang), htmlFor=QualityPage.PARAMETER,
                           className="asof-label ms-3"),
                dcc.Dropdown(id=QualityPage.PARAMETER, clearable=False,
                             options=_parameter_options(provider, frame, lang),
                             value=_default_parameter(shown.get(first_site or ""), parameter,
                                                      frame),
                             style={"minWidth": "16rem"}),
            ], className="asof-controls d-flex align-items-center flex-wrap gap-1"),
            dcc.Loading(html.Div(
                site_panel(provider, lang, rows, frame, first_site,
                           _default_parameter(shown.get(first_site or ""), parameter, frame),
                           edition),
                id=QualityPage.SITE_PANEL)),
        ], className="panel mb-3"),
    ], className="quality-page", lang=lang)


def _basin_order(provider: DataProvider, site_id: str) -> str:
    gauge = provider.config.network.gauges.get(site_id)
    return gauge.basin if gauge is not None else "~"


def _parameter_options(provider: DataProvider, frame: pd.DataFrame, lang: str) -> list[dict]:
    names = sorted(set(frame["parameter"]), key=lambda p: parameter_name(provider, p, lang))
    return [{"label": parameter_name(provider, p, lang), "value": p} for p in names]


def _default_parameter(row: SiteYear | None, asked: str | None, frame: pd.DataFrame) -> str:
    """The parameter asked for, else the limiting one of the site's year shown."""
    known = set(frame["parameter"])
    if asked in known:
        return str(asked)
    if row is not None:
        for p in (*row.kz_in_force.limiting, *row.ukizv_limiting):
            if p in known:
                return p
    return sorted(known)[0] if known else ""


# --------------------------------------------------------------------------- site panel

def site_panel(provider: DataProvider, lang: str, rows: Sequence[SiteYear],
               frame: pd.DataFrame, site: str | None, parameter: str | None,
               edition: str) -> list:
    """One site's classes by year, its trends and a parameter's concentrations."""
    if not site:
        return []
    site_rows = sorted((r for r in rows if r.site_id == site), key=lambda r: -r.year)
    site_frame = frame[frame["site_id"] == site]
    history = _class_table(provider, site_rows, lang, edition, QualityPage.HISTORY,
                           with_site=False)
    complete = [r.year for r in site_rows if not r.few_samples]
    trends = qo.parameter_trends(site_frame, alpha=ALPHA, complete_years=complete)
    return [
        dbc.Row([
            dbc.Col([html.H2(t("quality.chart", lang), className="h6 mt-3"),
                     _chart(provider, lang, site_frame, parameter or "", edition)], xl=7),
            dbc.Col([html.H2(t("quality.trends", lang), className="h6 mt-3"),
                     _trend_table(provider, lang, trends),
                     html.P(t("quality.trends.help", lang, min=qo.MIN_SAMPLES_PER_YEAR,
                              alpha=fmt.number(ALPHA, lang, 2)), className="cell-note")],
                    xl=5),
        ]),
        html.H2(t("quality.history", lang), className="h6 mt-3"),
        history,
    ]


def _trend_table(provider: DataProvider, lang: str, trends: Sequence[qo.ParameterTrend]
                 ) -> html.Div:
    """The trends as a sortable, filterable grid (sorted by p; a significant rise red, a
    significant fall -- or a rise of dissolved oxygen -- blue)."""
    columns = [ui.GridColumn(t("quality.col.parameter", lang), "parameter"),
               ui.GridColumn(t("quality.col.years", lang), "years"),
               ui.GridColumn(t("quality.col.trend", lang), "trend"),
               ui.GridColumn(t("quality.col.slope", lang), "slope", "num"),
               ui.GridColumn(t("quality.col.p", lang), "p", "num")]
    rows = []
    for tr in sorted(trends, key=lambda x: (x.p if x.p is not None else 2.0)):
        name = parameter_name(provider, tr.parameter, lang) + (" *" if tr.censored else "")
        years = (f"{tr.first_year}–{tr.last_year} ({tr.n_years})"
                 if tr.first_year is not None else fmt.DASH)
        if tr.trend is None:
            trend = t("quality.trend.not_tested", lang, n=tr.n_years, min=qo.MIN_TREND_YEARS)
        elif tr.significant:
            trend = t(f"quality.trend.{tr.trend}", lang)
        else:
            trend = t("quality.trend.none", lang)
        slope = (f"{concentration(tr.slope_per_year, lang)} "
                 f"{unit_text(provider, tr.parameter, lang)}"
                 if tr.slope_per_year is not None else fmt.DASH)
        if tr.slope_per_year is not None and tr.slope_per_year > 0:
            slope = "+" + slope
        p = fmt.number(tr.p, lang, 3) if tr.p is not None else fmt.DASH
        cls = None
        if tr.significant:
            cls = "danger" if tr.trend == "increasing" and tr.parameter != \
                "dissolved_oxygen" else "info"
        rows.append({"parameter": name, "years": years, "trend": trend,
                     "slope": tr.slope_per_year, "slope_text": slope,
                     "p": tr.p, "p_text": p, "row_class": cls})
    return ui.data_grid(QualityPage.TRENDS, columns, rows, lang,
                        f"hydrorisk-{QualityPage.TRENDS}.csv", class_name="quality-trends")


def _chart(provider: DataProvider, lang: str, site_frame: pd.DataFrame, parameter: str,
           edition: str) -> Any:
    data = site_frame[site_frame["parameter"] == parameter]
    if data.empty:
        return html.Div(t("quality.chart.none", lang), id=QualityPage.CHART,
                        className="cell-note")
    lim = qo.limits(provider.config, parameter)
    lines: list[tuple[float, str, str, str]] = []
    if lim.mpc is not None:
        lines.append((lim.mpc, f"{t('quality.chart.mpc', lang)} "
                               f"{concentration(lim.mpc, lang)}", "#c62828", "dash"))
    values = data["value"].astype(float)
    top = float(values.max())
    for direction, limits in lim.kz.get(edition, []):
        above = False
        for i, value in enumerate(limits, start=1):
            if direction == "max" and value > top:
                if above:
                    break    # one limit above every value is enough
                above = True
            words = kz_class_label(i, edition)[lang].split()
            label = words[-1] if lang == "en" else words[0]   # "class 3" / "3 класс"
            text = t("quality.chart.class_limit", lang, klass=label)
            lines.append((value, f"{text} {concentration(value, lang)}", "#6d6d6d", "dot"))
    positive = values[values > 0]
    log_axis = bool(len(positive) == len(values) and parameter != "pH"
                    and float(positive.max()) / float(positive.min()) > 20)
    unit = unit_text(provider, parameter, lang)
    fig = concentration_chart(
        list(pd.to_datetime(data["time"])), [float(v) for v in data["value"]],
        [bool(c) for c in data["censored"]],
        f"{parameter_name(provider, parameter, lang)}, {unit}",
        t("quality.chart.series", lang), t("quality.chart.censored", lang), lines,
        log_y=log_axis)
    fig.update_layout(separators=", " if lang in ("ru", "kk") else ".,")
    return html.Div([
        dcc.Graph(figure=fig, config=graph_config(lang)),
        html.P(t("quality.chart.help", lang, edition=edition_text(edition, lang)),
               className="cell-note"),
    ], id=QualityPage.CHART)


# --------------------------------------------------------------------------- CSV

def download_href(lang: str, day: dt.date, asof: str | None, scope: str | None = None) -> str:
    return DOWNLOAD_RULE + query_string("", lang=lang, date=day.isoformat(),
                                        asof=asof or None, scope=scope)


def csv_text(provider: DataProvider, rows: Sequence[SiteYear], lang: str, year: int,
             scope: str = "year") -> str:
    """The class table as CSV: the year shown (each site's latest year up to it) or, with
    ``scope="all"``, every site and year; text cells guarded against formula injection
    (:func:`hydro.services.quality_overview.to_csv`)."""
    year = max((r.year for r in qo.latest_year(rows, year).values()), default=year)
    edition = qo.kz_edition(year)
    if scope == "all":
        chosen = sorted(rows, key=lambda r: (r.site_id, r.year))
    else:
        chosen = sorted(qo.latest_year(rows, year).values(), key=lambda r: r.site_id)
    return qo.to_csv(table_headers(lang, edition),
                     (table_cells(provider, r, lang) for r in chosen))


def download(context: AppContext, args: dict[str, str]) -> flask.Response:
    """The CSV for a download request (``args``: lang, date, asof, scope)."""
    provider = context.provider
    lang = resolve_lang(args.get("lang"), context.default_language)
    when, rows, _ = page_data(provider, lang, args.get("date"), args.get("asof"),
                              context.now())
    if not rows:
        flask.abort(404)
    scope = "all" if args.get("scope") == "all" else "year"
    data = csv_text(provider, rows, lang, when.day.year, scope)
    name = f"water-quality_{'all' if scope == 'all' else when.day.year}_{lang}.csv"
    response = flask.Response(data.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --------------------------------------------------------------------------- callbacks

def year_href(year: int | None, search: str | None, shown: int | None = None):
    """Year selector -> ``/quality`` on the last day of that year (language, as-of kept)."""
    if not year or year == shown:
        return no_update
    return PATH + query_string(search, date=f"{int(year)}-12-31")


def update_site_panel(site: str | None, parameter: str | None, search: str | None) -> list:
    """The site panel for the selectors' values and the URL's time."""
    ctx = current()
    params = dict(parse_qsl((search or "").lstrip("?")))
    lang = resolve_lang(params.get("lang"), ctx.default_language)
    when = quality_time(ctx.provider, lang, params.get("date"), params.get("asof"),
                        now=ctx.now())
    frame = ctx.provider.quality_samples(sites=[site] if site else None,
                                         until=_until(when.day), as_of=when.received_by)
    if frame is None or not site:
        return []
    rows = qo.classify(frame, ctx.provider.config)
    edition = qo.kz_edition(max((r.year for r in rows if r.year <= when.day.year),
                                default=when.day.year))
    return site_panel(ctx.provider, lang, rows, frame, site, parameter, edition)


def site_from_click(kz_click: dict | None, ru_click: dict | None):
    """A click on a site of either map selects it."""
    trigger = dash.ctx.triggered_id if dash.ctx.triggered else None
    click = ru_click if trigger == QualityPage.MAP_RU else kz_click
    try:
        site = click["points"][0]["customdata"]  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        return no_update
    return site or no_update


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(Shell.NAVIGATE, "href", allow_duplicate=True),
        Input(QualityPage.YEAR, "value"),
        State(Shell.PAGES_LOCATION, "search"),
        State(QualityPage.SHOWN_YEAR, "data"),
        prevent_initial_call=True,
    )(year_href)
    app.callback(
        Output(QualityPage.SITE_PANEL, "children"),
        Input(QualityPage.SITE, "value"),
        Input(QualityPage.PARAMETER, "value"),
        State(Shell.PAGES_LOCATION, "search"),
        prevent_initial_call=True,
    )(update_site_panel)
    app.callback(
        Output(QualityPage.SITE, "value"),
        Input(QualityPage.MAP_KZ, "clickData"),
        Input(QualityPage.MAP_RU, "clickData"),
        prevent_initial_call=True,
    )(site_from_click)

    def serve() -> flask.Response:
        from dashboard.context import of_app

        return download(of_app(app), dict(flask.request.args))

    app.server.add_url_rule(DOWNLOAD_RULE, "quality_download", serve)


__all__ = ["QualityPage", "csv_text", "download", "download_href", "page_data", "render",
           "register_callbacks", "site_panel", "table_cells", "table_headers"]
