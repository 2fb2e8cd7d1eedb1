"""Station view: one gauge or reservoir — hydrographs against every warning scheme, return
periods, the HydroSOS band, ice, both parties at border gauges, forecasts, the revision
history and a CSV of what is shown (issue 13, items 2 and 3).

:func:`render` builds the page from a data provider, which gathers everything through
:func:`hydro.services.station_view.gauge_view` / ``reservoir_view``; registered at
``/station/<id>`` by :mod:`dashboard.pages.station`.  **Reservoirs are shown by this same
view** (a reservoir id gives the reservoir layout: level against НПУ/ФПУ/УМО and rule
curves, volume, inflow/release/spill, evaporation, free capacity and days to full), so a
click on any map mark and any link ``/station/<id>`` work alike.

URL query: ``lang``; ``date`` (the as-of day, YYYY-MM-DD; the window ends with it);
``asof`` (knowledge time, YYYY-MM-DD or YYYY-MM-DDThh:mm UTC: the series as the store had
received them then); ``span`` (``120``, ``365``, ``1825`` days or ``all``).  Long windows are
min-max downsampled on the server (:func:`hydro.services.station_view.minmax_indices`), so
15 years of daily values reach the browser as about 1000 points per trace.

A provider without a store (:class:`~dashboard.provider.InMemoryProvider`) gets the plain
hydrographs of :meth:`~dashboard.provider.DataProvider.series`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from dashboard import components as ui
from dashboard import format as fmt
from dashboard import station_figures as sf
from dashboard.figures import hydrograph as plain_hydrograph
from dashboard.i18n import query_string, t, t_or
from dashboard.ids import Shell, StationPage
from dashboard.plotly_locale import graph_config
from dashboard.provider import DataProvider
from dashboard.status import day_end_utc, network_timezones
from hydro.network import Gauge, Reservoir
from hydro.services.station_view import (
    ForecastLine,
    GaugeView,
    ReservoirView,
    Trace,
)

#: how far back the hydrographs reach from the as-of day, by ``span``
SPANS: dict[str, int | None] = {"120": 120, "365": 365, "1825": 1825, "all": None}
DEFAULT_SPAN = "120"
#: the plain (no store) view's window
WINDOW = dt.timedelta(days=120)
#: (variable, catalog key of its axis title, component id) per station kind (plain view)
GAUGE_PLOTS = (("stage", "station.stage", StationPage.STAGE),
               ("discharge", "station.discharge", StationPage.DISCHARGE))
RESERVOIR_PLOTS = (("level", "station.level", StationPage.LEVEL),
                   ("inflow", "station.inflow", StationPage.INFLOW),
                   ("outflow", "station.outflow", StationPage.OUTFLOW))
#: columns of the CSV download
CSV_COLUMNS = ["series", "variable", "party", "time_utc", "value", "unit", "qc", "source",
               "revision"]
UNITS = {"stage": "cm", "discharge": "m3/s", "level": "m", "volume": "hm3", "inflow": "m3/s",
         "outflow": "m3/s", "release": "m3/s", "spill": "m3/s", "evaporation": "m3/s"}


# --------------------------------------------------------------------------- parameters

def parse_asof(value: str | None) -> dt.datetime | None:
    """``asof`` → naive UTC datetime: a day means its end (what had arrived by midnight
    UTC after it); raises ValueError for anything else."""
    text = str(value).strip()
    if len(text) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time()) + dt.timedelta(
            days=1)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _as_of(provider: DataProvider, date: str | None) -> dt.date:
    if date:
        try:
            return dt.date.fromisoformat(str(date)[:10])
        except ValueError:
            pass
    return provider.latest_date() or dt.datetime.now(dt.UTC).date()


def window(provider: DataProvider, as_of: dt.date, span: str
           ) -> tuple[dt.datetime, dt.datetime]:
    """(start, end) naive UTC of the shown window: ``span`` days up to the end of the
    as-of day, or the whole record."""
    end = day_end_utc(as_of, network_timezones(provider.config.network))
    days = SPANS.get(span, SPANS[DEFAULT_SPAN])
    if days is None:
        first, _ = provider.data_period()
        start = first if first is not None and first < end else end - dt.timedelta(days=365)
        return start, end
    return end - dt.timedelta(days=days), end


def view_for(provider: DataProvider, station_id: str, date: str | None, asof: str | None,
             span: str | None) -> GaugeView | ReservoirView | None:
    """The service's view for a URL's parameters (the page and the download use it)."""
    as_of = _as_of(provider, date)
    span = span if span in SPANS else DEFAULT_SPAN
    start, end = window(provider, as_of, span)
    known_at = None
    if asof:
        try:
            known_at = parse_asof(asof)
        except ValueError:
            known_at = None
    return provider.station_view(station_id, start, end, as_of, known_at)


# --------------------------------------------------------------------------- page

def render(provider: DataProvider, station_id: str, lang: str, date: str | None = None,
           asof: str | None = None, span: str | None = None) -> html.Div:
    """The page of ``station_id`` in ``lang`` (see the module docs for the parameters).
    An unknown id gives a page that says so."""
    back = dcc.Link(t("station.back", lang), id=StationPage.BACK, className="station-back",
                    href="/" + query_string("", lang=lang, date=date or None))
    net = provider.config.network
    station: Gauge | Reservoir | None = net.gauges.get(station_id) or net.reservoirs.get(
        station_id)
    if station is None:
        return html.Div([
            back,
            dbc.Alert(t("station.unknown", lang, id=station_id), id=StationPage.UNKNOWN,
                      color="warning", className="mt-3"),
        ], className="station-page", lang=lang)

    as_of = _as_of(provider, date)
    span = span if span in SPANS else DEFAULT_SPAN
    start, end = window(provider, as_of, span)
    notices: list = []
    known_at = None
    if asof:
        try:
            known_at = parse_asof(asof)
        except ValueError:
            notices.append(dbc.Alert(t("sv.asof.invalid", lang, value=asof), color="warning"))
    view = provider.station_view(station.id, start, end, as_of, known_at)

    basin = net.basins.get(station.basin)
    facts = [
        (t("col.river", lang), ui.river_name(station.river, lang)),
        (t("station.basin", lang), basin.names.get(lang) if basin else station.basin),
        (t("col.country", lang), t_or(f"country.{station.country}", lang, station.country)),
        (t("station.kind", lang), t(f"station.kind.{station.kind}", lang)),
    ]
    banner = [ui.synthetic_banner(lang)] if provider.is_synthetic() else []
    head = [
        *banner,
        back,
        html.H1(station.names.get(lang), id=StationPage.TITLE, className="page-title mt-2"),
        html.Dl([item for label, value in facts for item in (html.Dt(label), html.Dd(value))],
                id=StationPage.FACTS, className="station-facts"),
        *notices,
    ]
    if view is None:
        body = _plain_panels(provider, station, lang, as_of)
    else:
        params = {"lang": lang, "date": date or None, "asof": asof or None, "span": span}
        controls = _controls(station.id, params, lang, known_at, start, as_of)
        if isinstance(view, GaugeView):
            body = [controls, *_gauge_panels(view, lang, params)]
        else:
            body = [controls, *_reservoir_panels(view, lang, params)]
    return html.Div([*head, *body], className="station-page", lang=lang)


def _href(station_id: str, params: dict[str, str | None], **changes: str | None) -> str:
    merged = {**params, **changes}
    return "/station/" + station_id + query_string(
        "", **{k: v for k, v in merged.items() if v is not None})


def _controls(station_id: str, params: dict, lang: str, known_at: dt.datetime | None,
              start: dt.datetime, as_of: dt.date) -> html.Div:
    span_links = [
        dcc.Link(t(f"sv.span.{key}", lang), href=_href(station_id, params, span=key),
                 className="btn btn-sm " + ("btn-primary" if params["span"] == key
                                            else "btn-outline-secondary"))
        for key in SPANS
    ]
    items: list = [
        html.Span(t("sv.span.label", lang) + ":", className="asof-label"),
        html.Div(span_links, id=StationPage.SPAN, className="btn-group me-3", role="group"),
        dbc.Button(t("sv.download", lang), id=StationPage.DOWNLOAD_BUTTON, size="sm",
                   color="secondary", outline=True),
        dcc.Download(id=StationPage.DOWNLOAD),
    ]
    info = [t("station.period", lang, start=fmt.date(start, lang), end=fmt.date(as_of, lang),
              days=(as_of - start.date()).days)]
    asof_block: list = []
    if known_at is not None:
        asof_block = [html.Span(t("sv.asof.known", lang,
                                  time=fmt.date_time(known_at, lang)),
                                className="badge bg-warning text-dark me-2"),
                      dcc.Link(t("sv.asof.current", lang),
                               href=_href(station_id, params, asof=None))]
    return html.Div([
        html.Div(items, className="asof-controls"),
        html.Div([html.Span(" · ".join(info), className="asof-info-left me-2"), *asof_block],
                 id=StationPage.ASOF),
    ], className="mb-2")


def _qc_label(text: str, lang: str) -> str:
    if not text:
        return t("sv.qc.none", lang)
    return ", ".join(t_or("qc." + name, lang, name) for name in text.split("+"))


def _observed(traces: Sequence[Trace], lang: str, shade_disagreement: bool = False
              ) -> list[sf.Observed]:
    out = []
    for i, tr in enumerate(sorted(traces, key=lambda x: x.party)):
        out.append(sf.Observed(
            name=t_or(f"party.{tr.party}", lang, tr.party), party=tr.party, x=tr.times,
            y=tr.values,
            custom=[(_qc_label(q, lang), _source(s, lang), r) for q, s, r in zip(tr.qc, tr.source,
                                                                   tr.revision, strict=True)],
            fill_to_previous=shade_disagreement and i > 0))
    return out


def _fmt(lang: str, value: float | None, decimals: int = 0) -> str:
    return fmt.number(value, lang, decimals)


def _threshold_levels(view: GaugeView, lang: str) -> list[sf.Level]:
    out = []
    for th in view.thresholds:
        name = t_or(f"level.{th.scheme}.{th.level}", lang,
                    t_or(f"level.generic.{th.level}", lang, th.level))
        label = t("sv.threshold", lang, name=name, value=_fmt(lang, th.value_cm),
                  scheme=t_or(f"sv.scheme.{th.scheme}", lang, th.scheme))
        marker = ui.status_marker(th.status, lang)
        if marker:
            label += f" [{marker}]"
        out.append(sf.Level(label, th.value_cm, sf.LEVEL_COLORS.get(th.level, "#6d4c41"),
                            dash="solid" if th.scheme != "local_impact" else "dot"))
    return out


def _return_lines(view: GaugeView, variable: str, lang: str) -> list[sf.Level]:
    rl = view.return_levels
    if rl is None:
        return []
    values = rl.stage if variable == "stage" else rl.discharge
    if values is None:
        return []
    out = []
    for period, q, y in zip(rl.periods, rl.discharge, values, strict=True):
        label = (t("sv.return_level", lang, T=period, q=ui.fmt_discharge(q))
                 if variable == "stage" else
                 f"{t('sv.return_level.q', lang, T=period)}: {ui.fmt_discharge(q)}")
        out.append(sf.Level(label, y, sf.RETURN_COLOR, dash="dot"))
    return out


def _forecast_parts(lines: Sequence[ForecastLine], variable: str, lang: str
                    ) -> tuple[list[sf.Band], list[sf.Extra]]:
    bands, extras = [], []
    for f in lines:
        if f.variable != variable:
            continue
        method = t_or(f"sv.forecast.{f.method}", lang, f.method)
        name = t("sv.forecast.line", lang, method=method)
        if f.beats_persistence is False:
            name += f" — {t('sv.forecast.not_beating', lang)}"
        color = sf.FORECAST_COLORS.get(f.method, "#455a64")
        if any(math.isfinite(v) for v in f.lower):
            bands.append(sf.Band(t("sv.forecast.band", lang, method=method), f.times, f.lower,
                                 f.upper, fill=_rgba(color, 0.12), legendgroup=f.method))
        extras.append(sf.Extra(name, f.times, f.value, color, dash="dash", legendgroup=f.method,
                               markers=True))
    return bands, extras


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _time_range(view: GaugeView | ReservoirView, extra: Sequence[ForecastLine] = ()
                ) -> tuple[dt.datetime, dt.datetime]:
    end = view.end
    for f in extra:
        if f.times:
            end = max(end, f.times[-1] + dt.timedelta(days=1))
    return view.start, end


def _downsample_note(traces: Sequence[Trace], lang: str) -> list:
    shown = sum(len(tr.times) for tr in traces)
    total = sum(tr.total for tr in traces)
    if total <= shown:
        return []
    return [html.Div(t("sv.downsampled", lang, shown=shown, total=total),
                     className="cell-note")]


GRAPH_IDS = {"stage": StationPage.STAGE_GRAPH, "discharge": StationPage.DISCHARGE_GRAPH}


def _gauge_figure(view: GaugeView, variable: str, lang: str) -> dcc.Graph | html.Div:
    traces = view.traces.get(variable, [])
    if not traces:
        return html.Div(t("station.no_series", lang), className="cell-note")
    return dcc.Graph(id=GRAPH_IDS[variable], figure=gauge_figure(view, variable, lang),
                     config=graph_config(lang))


def gauge_figure(view: GaugeView, variable: str, lang: str):
    """The stage or discharge hydrograph of a gauge's view (a plotly Figure)."""
    traces = view.traces.get(variable, [])
    border = variable == "stage" and len(traces) >= 2
    bands: list[sf.Band] = []
    band = view.hydrosos.get(variable)
    if band is not None:
        bands += [sf.Band(t("sv.hydrosos.outer", lang), band.times, band.p10, band.p90,
                          sf.HYDROSOS_OUTER),
                  sf.Band(t("sv.hydrosos.inner", lang), band.times, band.p25, band.p75,
                          sf.HYDROSOS_INNER)]
    f_bands, f_extras = _forecast_parts(view.forecasts, variable, lang)
    extras: list[sf.Extra] = []
    overlay = view.overlay.get(variable)
    if overlay is not None:
        extras.append(sf.Extra(t("sv.overlay", lang), overlay.times, overlay.values,
                               sf.OVERLAY_COLOR, dash="longdash"))
    shades = [sf.Shade(t("sv.ice", lang), view.ice, sf.ICE_FILL)]
    if border:
        shades.append(sf.Shade(t("sv.disagreement.flagged", lang), view.disagreement_periods,
                               sf.FLAG_FILL))
    levels = _return_lines(view, variable, lang)
    if variable == "stage":
        levels = _threshold_levels(view, lang) + levels
    observed = _observed(traces, lang, shade_disagreement=border)
    fig = sf.hydrograph(
        t(f"station.{variable}", lang), t("station.time", lang),
        _time_range(view, view.forecasts), observed=observed, levels=levels,
        bands=bands + f_bands, extras=extras + f_extras, shades=shades,
        hover=sf.HoverTexts(t("sv.hover.qc", lang), t("sv.hover.source", lang),
                            t("sv.hover.revision", lang)),
        value_format=".0f" if variable == "stage" else ".1f",
        height=420 if variable == "stage" else 380)
    if border:
        fig.add_trace(_legend_only(t("sv.disagreement", lang), sf.DISAGREE_FILL))
    return fig


def _legend_only(name: str, color: str):
    import plotly.graph_objects as go

    return go.Scatter(x=[None], y=[None], mode="markers", name=name, hoverinfo="skip",
                      marker={"symbol": "square", "size": 12, "color": color})


def _panel(title: str, body: Any, component_id: str) -> html.Div:
    children = [html.Div(title, className="section-title")]
    children += list(body) if isinstance(body, (list, tuple)) else [body]
    return html.Div(children, id=component_id, className="panel mb-3")


def _gauge_panels(view: GaugeView, lang: str, params: dict) -> list:
    panels: list = []
    status = []
    for variable, band in view.hydrosos.items():
        if band.status:
            colors = sf.HYDROSOS_COLORS.get(band.status, ("#e0e0e0", "#212121"))
            status.append(html.Span(t("sv.hydrosos.today", lang,
                                      variable=t(f"sv.var.{variable}", lang),
                                      status=t_or(f"sv.hydrosos.{band.status}", lang,
                                                  band.status)),
                                    className=f"badge hydrosos-{band.status} me-2",
                                    style={"backgroundColor": colors[0], "color": colors[1]}))
    if status:
        panels.append(html.Div(status, id=StationPage.STATUS, className="mb-2"))
    for variable, component_id in (("stage", StationPage.STAGE),
                                   ("discharge", StationPage.DISCHARGE)):
        body = [_gauge_figure(view, variable, lang),
                *_downsample_note(view.traces.get(variable, []), lang)]
        panels.append(_panel(t(f"station.{variable}", lang), body, component_id))
    if view.disagreement is not None and len(view.disagreement):
        d = view.disagreement.dropna(subset=["difference"])
        if len(d):
            largest = d["difference"].iloc[int(d["difference"].abs().to_numpy().argmax())]
            panels.append(html.Div(t("sv.disagreement.summary", lang,
                                     last=fmt.number(float(d["difference"].iloc[-1]), lang,
                                                     signed=True),
                                     max=fmt.number(float(largest), lang, signed=True),
                                     flagged=int(d["flagged"].sum())),
                                   id=StationPage.DISAGREEMENT, className="cell-note mb-3"))
    panels.append(_forecast_panel(view, lang))
    panels.append(_outlook_panel(view, lang))
    panels.append(_revisions_panel(view, lang, params))
    panels.append(_methods_note(view, lang))
    return panels


def _forecast_panel(view: GaugeView, lang: str) -> html.Div:
    if not view.forecasts:
        return _panel(t("sv.forecast.title", lang),
                      html.Div(t("sv.forecast.none", lang), className="cell-note"),
                      StationPage.FORECASTS)
    items = []
    seen = set()
    for f in view.forecasts:
        if f.method in seen:
            continue
        seen.add(f.method)
        method = t_or(f"sv.forecast.{f.method}", lang, f.method)
        text = t("sv.forecast.issued", lang,
                 date=f.issue_date.isoformat() if f.issue_date else "—", method=method)
        if f.beats_persistence is False:
            text += f" — {t('sv.forecast.not_beating', lang)}"
        items.append(html.Li(text, className="forecast-not-beating"
                             if f.beats_persistence is False else None))
    return _panel(t("sv.forecast.title", lang), html.Ul(items, className="mb-0"),
                  StationPage.FORECASTS)


def _outlook_panel(view: GaugeView, lang: str) -> html.Div:
    frame = view.outlook
    if frame is None or frame.empty:
        return _panel(t("sv.outlook.title", lang),
                      html.Div(t("sv.outlook.none", lang), className="cell-note"),
                      StationPage.OUTLOOK)
    columns = [ui.GridColumn(t("sv.col.target", lang), "target"),
               ui.GridColumn(t("sv.col.forecast", lang), "forecast", "num"),
               ui.GridColumn(t("sv.col.interval", lang), "interval"),
               ui.GridColumn(t("sv.col.issue", lang), "issue", "time"),
               ui.GridColumn(t("sv.col.skill", lang), "skill", "num")]
    rows = []
    for r in frame.itertuples(index=False):
        decimals = 0
        skill = _num(getattr(r, "loyo_skill", None))
        issue = getattr(r, "issue_date", None)
        issued = pd.Timestamp(issue).date().isoformat() if issue is not None else None
        rows.append({
            "target": t_or(f"sv.outlook.{r.target}", lang, str(r.target)),
            "forecast": _num(r.forecast), "forecast_text": _fmt(lang, _num(r.forecast), decimals),
            "interval": f"{_fmt(lang, _num(r.lower), decimals)} – "
                        f"{_fmt(lang, _num(r.upper), decimals)}",
            "issue": issued, "issue_text": issued or "—",
            "skill": skill, "skill_text": _fmt(lang, skill, 2)})
    return _panel(t("sv.outlook.title", lang),
                  ui.data_grid(f"{StationPage.OUTLOOK}-table", columns, rows, lang,
                               f"hydrorisk-outlook-{view.station_id}.csv"),
                  StationPage.OUTLOOK)


def _ts(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value)


def _num(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _revisions_panel(view: GaugeView | ReservoirView, lang: str, params: dict) -> html.Div:
    frame = view.revisions
    if frame is None or frame.empty:
        return _panel(t("sv.revisions.title", lang),
                      html.Div(t("sv.revisions.none", lang), className="cell-note"),
                      StationPage.REVISIONS)
    columns = [ui.GridColumn(t("sv.col.time", lang), "time", "time"),
               ui.GridColumn(t("sv.col.variable", lang), "variable"),
               ui.GridColumn(t("sv.col.party", lang), "party"),
               ui.GridColumn(t("sv.col.source", lang), "source"),
               ui.GridColumn(t("sv.col.revision", lang), "revision", "num"),
               ui.GridColumn(t("sv.col.value", lang), "value", "num"),
               ui.GridColumn(t("sv.col.unit", lang), "unit"),
               ui.GridColumn(t("sv.col.qc", lang), "qc"),
               ui.GridColumn(t("sv.col.received", lang), "received", "time"),
               ui.GridColumn("", "asof", "link", options={"sortable": False, "filter": False})]
    rows = []
    for r in frame.itertuples(index=False):
        time = _ts(r.time).to_pydatetime()
        received = _ts(r.received_at)
        value = _num(r.value)
        rows.append({
            "time": time.isoformat(), "time_text": fmt.date_time(time, lang),
            "variable": t_or(f"sv.var.{r.variable}", lang, str(r.variable)),
            "party": t_or(f"party.{r.party}", lang, str(r.party)),
            "source": _source(str(r.source), lang),
            "revision": _num(r.revision), "revision_text": str(r.revision),
            "value": value, "value_text": _fmt(lang, value, 2), "unit": str(r.unit),
            "qc": _qc_label(str(r.qc), lang),
            "received": received.isoformat(),
            "received_text": f"{fmt.date(received, lang)} {received:%H:%M:%S}",
            "asof": ui.link_cell(t("sv.revisions.show", lang), _href(
                view.station_id, params, asof=received.strftime("%Y-%m-%dT%H:%M:%S")))})
    return _panel(t("sv.revisions.title", lang),
                  ui.data_grid(f"{StationPage.REVISIONS}-table", columns, rows, lang,
                               f"hydrorisk-revisions-{view.station_id}.csv"),
                  StationPage.REVISIONS)


def _methods_note(view: GaugeView, lang: str) -> html.Div:
    notes = []
    rl = view.return_levels
    if rl is not None:
        rating = t_or(f"marker.{rl.rating_status}", lang, rl.rating_status or "—")
        notes.append(html.P(t("sv.return_levels.note", lang, n=rl.n, first=rl.first_year,
                              last=rl.last_year, status=rating)))
    else:
        notes.append(html.P(t("sv.return_levels.none", lang)))
    band = next(iter(view.hydrosos.values()), None)
    if band is not None:
        notes.append(html.P(t("sv.hydrosos.note", lang, n=band.n_years, first=band.first_year,
                              last=band.last_year)))
    return html.Div(notes, id=StationPage.METHODS, className="footnotes")


# --------------------------------------------------------------------------- reservoir

def _reservoir_panels(view: ReservoirView, lang: str, params: dict) -> list:
    s = view.state

    def room(value: float | None) -> str:
        if value is None:
            return "—"
        if value < 0:
            return t("res.above", lang, value=_fmt(lang, -value))
        return t("res.hm3", lang, value=_fmt(lang, value))

    def days(value: float | None) -> str:
        if value is None or math.isnan(value):
            return "—"
        if math.isinf(value):
            return t("res.not_filling", lang)
        return t("res.days", lang, value=_fmt(lang, value, 1 if value < 10 else 0))

    facts = [
        (t("res.level_now", lang), "—" if s.level_m is None else
         t("res.m", lang, value=_fmt(lang, s.level_m, 2))),
        (t("res.volume_now", lang), "—" if s.volume_hm3 is None else
         t("res.hm3", lang, value=_fmt(lang, s.volume_hm3))),
        (t("res.free_npu", lang), room(s.free_to_npu_hm3)),
        (t("res.free_fpu", lang), room(s.free_to_fpu_hm3)),
        (t("res.days_npu", lang), days(s.days_to_npu)),
        (t("res.days_fpu", lang), days(s.days_to_fpu)),
    ]
    state = html.Dl([x for label, value in facts for x in (html.Dt(label), html.Dd(value))],
                    id=StationPage.RESERVOIR_STATE, className="station-facts")
    hover = sf.HoverTexts(t("sv.hover.qc", lang), t("sv.hover.source", lang),
                          t("sv.hover.revision", lang))
    time_range = _time_range(view)
    time_title = t("station.time", lang)
    panels: list = [state]

    level_traces = view.traces.get("level", [])
    levels = [sf.Level(f"{t('res.fpu', lang)}: {_fmt(lang, view.fpu_m, 2)}", view.fpu_m, "#c62828"),
              sf.Level(f"{t('res.npu', lang)}: {_fmt(lang, view.npu_m, 2)}", view.npu_m, "#ef8a00"),
              sf.Level(f"{t('res.umo', lang)}: {_fmt(lang, view.umo_m, 2)}", view.umo_m, "#5b7f9e")]
    curves = [sf.Extra(t("res.rule", lang, label=_rule_label(c, lang)), c.times, c.level_m,
                       sf.RULE_COLORS[i % len(sf.RULE_COLORS)], dash="dashdot")
              for i, c in enumerate(view.rule_curves)]
    panels.append(_panel(t("station.level", lang), [
        _figure_or_note(level_traces, lang, lambda: sf.hydrograph(
            t("station.level", lang), time_title, time_range,
            observed=_observed(level_traces, lang), levels=levels, extras=curves,
            hover=hover, value_format=".2f", height=400)),
        *_downsample_note(level_traces, lang),
        *[html.Div(_rule_note(c, lang), className="cell-note") for c in view.rule_curves],
    ], StationPage.LEVEL))

    vol = view.traces.get("volume", [])
    vlevels = [sf.Level(f"{t('res.fpu', lang)}: {_fmt(lang, view.fpu_hm3)}", view.fpu_hm3, "#c62828"),
               sf.Level(f"{t('res.npu', lang)}: {_fmt(lang, view.npu_hm3)}", view.npu_hm3, "#ef8a00"),
               sf.Level(f"{t('res.umo', lang)}: {_fmt(lang, view.umo_hm3)}", view.umo_hm3, "#5b7f9e")]
    panels.append(_panel(t("res.volume", lang), [
        _figure_or_note(vol, lang, lambda: sf.hydrograph(
            t("res.volume", lang), time_title, time_range, observed=_observed(vol, lang),
            levels=vlevels, hover=hover, height=340)),
        *_downsample_note(vol, lang)], StationPage.VOLUME))

    flow_names = {"inflow": ("res.inflow", "#1f6fb2"), "release": ("res.release", "#2e7d32"),
                  "spill": ("res.spill", "#c62828")}
    flows = [sf.Extra(t(key, lang), tr.times, tr.values, color, width=2)
             for variable, (key, color) in flow_names.items()
             for tr in view.traces.get(variable, [])]
    flow_traces = [tr for v in flow_names for tr in view.traces.get(v, [])]
    panels.append(_panel(t("res.flows", lang), [
        _figure_or_note(flow_traces, lang, lambda: sf.hydrograph(
            t("res.flows", lang), time_title, time_range, extras=flows, value_format=".0f",
            height=360)),
        *_downsample_note(flow_traces, lang)], StationPage.FLOWS))

    evap = view.traces.get("evaporation", [])
    panels.append(_panel(t("res.evaporation", lang), [
        _figure_or_note(evap, lang, lambda: sf.hydrograph(
            t("res.evaporation", lang), time_title, time_range,
            extras=[sf.Extra(t("res.evaporation.line", lang), tr.times, tr.values, "#8d6e63")
                    for tr in evap], value_format=".1f", height=260))],
        StationPage.EVAPORATION))
    panels.append(_revisions_panel(view, lang, params))
    panels.append(html.Div(html.P(t("res.note", lang)), id=StationPage.METHODS,
                           className="footnotes"))
    return panels


def _rule_label(curve, lang: str) -> str:
    """The plan id quoted as typed on the command line (``hydrorisk scenario run ...
    --plan <id>``); short, so that the legend leaves the plot its width."""
    return f"«{curve.plan}»"     # the scenario's name is in the note under the graph


def _source(source: str, lang: str) -> str:
    return t_or(f"sv.source.{source}", lang, source)


def _rule_note(curve, lang: str) -> list:
    """The rule curve's origin: the plan and scenario in ``lang``; the plan's ``source``
    (a provenance note of config/scenarios, written in English there) quoted as English
    (``lang="en"``) on kk and ru pages."""
    name = curve.scenario_names.get(lang) or curve.label.split(" / ")[0]
    if not curve.source:
        return [t("res.rule.note", lang, plan=curve.plan, source="—", name=name)]
    if lang == "en":
        return [t("res.rule.note", lang, plan=curve.plan, source=curve.source, name=name)]
    mark = "\x00"
    before, _, after = t("res.rule.note", lang, plan=curve.plan, source=mark,
                         name=name).partition(mark)
    return [before, html.Q(curve.source, lang="en"), after]


def _figure_or_note(traces: Sequence[Trace], lang: str, build) -> dcc.Graph | html.Div:
    if not traces or not any(tr.times for tr in traces):
        return html.Div(t("station.no_series", lang), className="cell-note")
    return dcc.Graph(figure=build(), config=graph_config(lang))


# --------------------------------------------------------------------------- plain view

def _plain_panels(provider: DataProvider, station: Gauge | Reservoir, lang: str,
                  as_of: dt.date) -> list:
    """Hydrographs from :meth:`DataProvider.series` only (a provider without a store)."""
    end = day_end_utc(as_of, network_timezones(provider.config.network))
    start = end - WINDOW
    plots = GAUGE_PLOTS if isinstance(station, Gauge) else RESERVOIR_PLOTS
    panels: list = [html.Div(t("station.period", lang, start=fmt.date(start, lang),
                                end=fmt.date(as_of, lang), days=WINDOW.days),
                             className="asof-info-left")]
    for variable, title_key, component_id in plots:
        points = provider.series(station.id, variable, start, end)
        body: html.Div | dcc.Graph
        if not points:
            body = html.Div(t("station.no_series", lang), className="cell-note")
        else:
            by_party: dict[str, list[tuple[object, float]]] = {}
            for p in points:
                by_party.setdefault(p.party, []).append((p.time, p.value))
            body = dcc.Graph(
                figure=plain_hydrograph(by_party, t(title_key, lang),
                                        {c: t_or(f"party.{c}", lang, c) for c in by_party},
                                        time_title=t("station.time", lang),
                                        time_range=(start, end)),
                config=graph_config(lang))
        panels.append(html.Div([html.Div(t(title_key, lang), className="section-title"), body],
                               id=component_id, className="panel mb-3"))
    return panels


# --------------------------------------------------------------------------- download

def shown_frame(view: GaugeView | ReservoirView) -> pd.DataFrame:
    """Every plotted data point of the page: the observed series (as drawn: downsampled
    where the page says so), the 2024 overlay and the forecasts; :data:`CSV_COLUMNS`."""
    rows: list[dict] = []

    def add(series: str, tr: Trace) -> None:
        for time, value, qc, source, rev in zip(tr.times, tr.values, tr.qc, tr.source,
                                                tr.revision, strict=True):
            rows.append({"series": series, "variable": tr.variable, "party": tr.party,
                         "time_utc": pd.Timestamp(time).isoformat(), "value": value,
                         "unit": UNITS.get(tr.variable, ""), "qc": qc, "source": source,
                         "revision": rev})

    for trs in view.traces.values():
        for tr in trs:
            add("observed", tr)
    if isinstance(view, GaugeView):
        for tr in view.overlay.values():
            add("overlay_2024", tr)
        for f in view.forecasts:
            for time, value in zip(f.times, f.value, strict=True):
                rows.append({"series": f"forecast:{f.method}", "variable": f.variable,
                             "party": "", "time_utc": pd.Timestamp(time).isoformat(),
                             "value": value, "unit": UNITS.get(f.variable, ""), "qc": "",
                             "source": f"issued {f.issue_date}", "revision": 0})
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def csv_text(view: GaugeView | ReservoirView) -> str:
    buf = io.StringIO()
    shown_frame(view).to_csv(buf, index=False)
    return buf.getvalue()


def download_csv(n_clicks: int | None, pathname: str | None, search: str | None):
    """The download button's callback: the CSV of the page at ``pathname``/``search``."""
    from dashboard.context import current

    if not n_clicks or not pathname or not pathname.startswith("/station/"):
        return no_update
    ctx = current()
    station_id = unquote(pathname[len("/station/"):])
    params = dict(parse_qsl((search or "").lstrip("?")))
    view = view_for(ctx.provider, station_id, params.get("date"), params.get("asof"),
                    params.get("span"))
    if view is None:
        return no_update
    name = f"{station_id.replace(':', '_')}_{view.start:%Y%m%d}_{view.end:%Y%m%d}.csv"
    return {"content": csv_text(view), "filename": name, "type": "text/csv",
            "base64": False}


def zoom_range(relayout: dict | None) -> tuple[dt.datetime, dt.datetime] | None | bool:
    """The time range a zoom or pan asked for (naive UTC); True for "reset the axes";
    None when the event is not about the time axis."""
    if not relayout:
        return None
    if relayout.get("xaxis.autorange") or relayout.get("autosize"):
        return True
    lo = relayout.get("xaxis.range[0]")
    hi = relayout.get("xaxis.range[1]")
    if lo is None and isinstance(relayout.get("xaxis.range"), list):
        lo, hi = relayout["xaxis.range"][:2]
    if lo is None or hi is None:
        return None
    try:
        a, b = pd.Timestamp(lo).to_pydatetime(), pd.Timestamp(hi).to_pydatetime()
    except ValueError:
        return None
    return (a, b) if a < b else None


def resample_on_zoom(variable: str):
    """The callback that re-draws ``variable``'s hydrograph for the zoomed time range from
    the server, downsampled to the trace budget again (so zooming into 15 years of daily
    values shows every value once the range is short enough): an equivalent of
    plotly-resampler without its per-session figure cache."""

    def callback(relayout: dict | None, pathname: str | None, search: str | None):
        from dashboard.context import current

        asked = zoom_range(relayout)
        if asked is None or not pathname or not pathname.startswith("/station/"):
            return no_update
        params = dict(parse_qsl((search or "").lstrip("?")))
        if params.get("span", DEFAULT_SPAN) == DEFAULT_SPAN:
            return no_update              # 120 days: every value is already drawn
        ctx = current()
        provider = ctx.provider
        station_id = unquote(pathname[len("/station/"):])
        lang = params.get("lang") or ctx.default_language
        as_of = _as_of(provider, params.get("date"))
        start, end = window(provider, as_of, params.get("span", DEFAULT_SPAN))
        if isinstance(asked, tuple):
            start, end = max(start, asked[0]), min(end, asked[1])
            if start >= end:
                return no_update
        known_at = None
        if params.get("asof"):
            try:
                known_at = parse_asof(params["asof"])
            except ValueError:
                known_at = None
        view = provider.station_view(station_id, start, end, as_of, known_at)
        if not isinstance(view, GaugeView) or not view.traces.get(variable):
            return no_update
        fig = gauge_figure(view, variable, lang if lang in ("kk", "ru", "en") else "en")
        if isinstance(asked, tuple):
            fig.update_layout(xaxis={"range": [asked[0], asked[1]]})
        return fig

    return callback


def register_callbacks(app: dash.Dash) -> None:
    for variable, graph_id in GRAPH_IDS.items():
        app.callback(
            Output(graph_id, "figure"),
            Input(graph_id, "relayoutData"),
            State(Shell.PAGES_LOCATION, "pathname"),
            State(Shell.PAGES_LOCATION, "search"),
            prevent_initial_call=True,
        )(resample_on_zoom(variable))
    app.callback(
        Output(StationPage.DOWNLOAD, "data"),
        Input(StationPage.DOWNLOAD_BUTTON, "n_clicks"),
        State(Shell.PAGES_LOCATION, "pathname"),
        State(Shell.PAGES_LOCATION, "search"),
        prevent_initial_call=True,
    )(download_csv)
