"""Stations view: every gauge and reservoir, its latest value and warning status.

:func:`render` builds the page from a data provider; :func:`date_href` is the date
picker's callback.  Registered at ``/`` by :mod:`dashboard.pages.stations`.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, quote

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from dashboard import components as ui
from dashboard import format as fmt
from dashboard import geo, timequery
from dashboard.cache import derived, shared_figure
from dashboard.figures import MapPoint, MapTexts, station_map
from dashboard.i18n import query_string, t, t_or
from dashboard.ids import Shell, Stations
from dashboard.plotly_locale import graph_config
from dashboard.provider import DataProvider
from dashboard.status import SUMMARY_ORDER, StationReport, compared_level
from dashboard.views import alerts_panel

#: the reference event: the 2024 spring flood (Orsk levee failure 5 April, peaks mid-April)
FLOOD_2024 = dt.date(2024, 4, 12)
#: where the country names are written on the map: (lat, lon), in empty steppe / taiga
COUNTRY_LABELS = {"RU": (57.3, 56.5), "KZ": (47.6, 63.5)}


def page(provider: DataProvider, lang: str, date: str | None = None,
         asof: str | None = None, now: dt.datetime | None = None) -> html.Div:
    """The whole page: :func:`render` inside a container that an interval re-renders every
    ``[dashboard] refresh`` (not when the URL pins a past day or a knowledge time)."""
    when = timequery.resolve(provider, lang, date, asof, now=now)
    every = provider.config.settings.dashboard.refresh.to("duration") * 86400  # seconds
    off = when.fixed or every <= 0
    note = t("refresh.off", lang) if when.fixed else \
        t("refresh.every", lang, minutes=ui.fmt_number(every / 60, 0 if every % 60 == 0 else 1,
                                                       lang=lang)) if every > 0 else ""
    return html.Div([
        dcc.Interval(id=Stations.REFRESH, interval=int(max(every, 10) * 1000), disabled=off),
        dcc.Store(id=STATUS_FILTER),     # the state the tiles filter the tables to
        *alerts_panel.static_parts(lang),
        html.Div(render(provider, lang, date, now=now, asof=asof), id=Stations.BODY),
        html.Div(note, id=Stations.REFRESH_NOTE, className="refresh-note"),
    ])


def response_state(provider: DataProvider, lang: str, date: str | None,
                   asof: str | None, now: dt.datetime) -> tuple:
    """What the page for ``lang``, ``date`` and ``asof`` shows depends on besides those,
    the stored data and the alerts: the current time, through today's date (the day shown
    by default, the "data are old" banner) and which latest readings are silent at it
    (:meth:`~dashboard.provider.DataProvider.silent_readings`).  Two requests with the
    same URL, data version, alerts version and state get the same page
    (:func:`dashboard.cache.install` keeps its response)."""
    when = timequery.resolve(provider, lang, date, asof, now=now)
    silent = provider.silent_readings(when.day, now, when.received_by)
    return (now.date(), when.day, tuple(sorted(silent)))   # sorted: one text per state


def render(provider: DataProvider, lang: str, date: str | None = None,
           now: dt.datetime | None = None, asof: str | None = None,
           status_filter: str | None = None) -> html.Div:
    """The page for ``lang`` as of ``date`` (ISO day; the newest data when None or invalid;
    the nearest stored day when outside the stored period) and, with ``asof``, as known
    then.  The time banners are the shell's (:mod:`dashboard.timequery`).

    ``now`` (naive UTC) is the current time, used only so that today is not judged as if
    it had ended; the page is otherwise a function of the data.  ``status_filter`` (a
    state of :data:`~dashboard.status.SUMMARY_ORDER`): the tables show only its stations.
    """
    if status_filter not in SUMMARY_ORDER:
        status_filter = None
    when = timequery.resolve(provider, lang, date, asof, now=now)
    first, last = when.first, when.last
    notices: list = []
    if last is None:
        notices.append(dbc.Alert(t("store.empty", lang), color="info"))
    as_of = when.day
    report = provider.station_report(as_of, now=now, received_by=when.received_by)
    basin_names = {b.id: b.names.get(lang) for b in provider.config.network.basins.values()}

    header = html.Div([
        html.H1(t("stations.title", lang), className="page-title"),
        _date_controls(lang, as_of, first, last, asof if when.received_by else None),
    ], className="page-header")
    banner = [ui.synthetic_banner(lang)] if provider.is_synthetic() else []
    # what is drawn from the report alone is built once per report (one per data version,
    # day and knowledge time: dashboard.cache.derived) and language, not per request; the
    # scope keeps apart the reports of other providers, days and knowledge times
    scope = (id(provider), as_of, when.received_by)
    figure = derived(report, "overview_map", (*scope, lang), lambda: shared_figure(station_map(
        _map_points(report, lang), geo.lines(geo.RIVERS), geo.lines(geo.BORDER),
        map_texts(lang), area_labels=_basin_labels(report, basin_names),
    )))
    return html.Div([
        *banner,
        header,
        *notices,
        derived(report, "overview_summary", (*scope, lang, status_filter),
                lambda: ui.summary_row(report, lang, status_filter)),
        dbc.Row([
            dbc.Col([
                html.Div([
                    html.Div(t("map.title", lang), className="section-title"),
                    dcc.Graph(id=Stations.MAP, figure=figure,
                              className="station-map",
                              config=graph_config(lang, scrollZoom=False,
                                                  modeBarButtonsToRemove=["select2d",
                                                                          "lasso2d"])),
                    html.Div(t("map.note", lang), className="cell-note"),
                ], className="panel mb-3", style={"height": "auto"}),
                html.Div(derived(report, "overview_attention", (*scope, lang),
                                 lambda: ui.attention_list(report, lang)), className="panel",
                         style={"height": "auto"}),
            ], lg=7),
            # next to the map: the alerts open at the page's time (refreshed with the body)
            dbc.Col(html.Div(alerts_panel.panel_container(provider, lang, date, asof, now=now),
                             className="panel"), lg=5),
        ], className="mb-3 g-3"),
        html.Div([
            html.Div([html.Div(t("table.gauges", lang), className="section-title"),
                      html.Div(ui.filter_note(status_filter, lang, FILTER_CLEAR),
                               id=FILTER_NOTE, className="filter-note"),
                      ui.export_button(Stations.GAUGE_EXPORT, lang)], className="grid-head"),
            derived(report, "overview_gauges", (*scope, lang, status_filter),
                    lambda: ui.gauge_grid(report, lang, basin_names, status_filter)),
        ], className="panel mb-3"),
        html.Div([
            html.Div([html.Div(t("table.reservoirs", lang), className="section-title"),
                      ui.export_button(Stations.RESERVOIR_EXPORT, lang)],
                     className="grid-head"),
            derived(report, "overview_reservoirs", (*scope, lang, status_filter),
                    lambda: ui.reservoir_grid(report, lang, basin_names, status_filter)),
        ], className="panel mb-3"),
        html.Div([
            html.P(t("notes.levels", lang)),
            html.P(t("notes.markers", lang)),
            html.P(t("notes.reservoirs", lang)),
            html.P(t("notes.silent", lang, days=f"{report.stale_after_days:g}")),
        ], className="footnotes"),
    ], className="stations-page", lang=lang)


#: the date field's format in each language (date-fns tokens, see dcc.DatePickerSingle)
DATE_FORMATS = {"kk": "DD.MM.YYYY", "ru": "DD.MM.YYYY", "en": "YYYY-MM-DD"}


def _date_controls(lang: str, as_of: dt.date, first: dt.date | None,
                   last: dt.date | None, asof: str | None = None) -> html.Div:
    def href(**changes: str | None) -> str:
        return "/" + query_string("", lang=lang, asof=asof, **changes)

    buttons = [dbc.Button(t("asof.latest", lang), id=Stations.LATEST, href=href(date=None),
                          color="secondary", outline=True, size="sm")]
    if first is not None and last is not None and first <= FLOOD_2024 <= last:
        buttons.append(dbc.Button(t("asof.flood2024", lang), id=Stations.FLOOD_2024,
                                  href=href(date=FLOOD_2024.isoformat()),
                                  color="primary", outline=as_of != FLOOD_2024, size="sm"))
    info = [t("asof.help", lang)]
    if first is not None and last is not None:
        info.append(t("asof.period", lang, start=fmt.date(first, lang),
                      end=fmt.date(last, lang)))
    return html.Div([
        dcc.Store(id=Stations.SHOWN_DATE, data=as_of.isoformat()),
        html.Label(t("asof.label", lang), htmlFor=Stations.DATE, className="asof-label"),
        dcc.DatePickerSingle(
            id=Stations.DATE, date=as_of.isoformat(), display_format=DATE_FORMATS[lang],
            month_format="MMMM YYYY", first_day_of_week=1, placeholder=t("date.placeholder", lang),
            min_date_allowed=first.isoformat() if first else None,
            max_date_allowed=last.isoformat() if last else None,
            initial_visible_month=as_of.isoformat()),
        *buttons,
        html.Div(" · ".join(info), className="asof-info"),
    ], className="asof-controls")


def map_texts(lang: str) -> MapTexts:
    """The map's legend, axis and country texts in ``lang``."""
    return MapTexts(
        states={s: ui.state_label(s, lang) for s in ui.SUMMARY_ORDER},
        gauge=t("map.gauge", lang), reservoir=t("map.reservoir", lang),
        ice=t("map.ice", lang), qc=t("map.qc", lang),
        rivers=t("map.rivers", lang), border=t("map.border", lang),
        axis_titles=(t("map.lon", lang), t("map.lat", lang)),
        countries=[(lat, lon, t(f"map.country.{code}", lang))
                   for code, (lat, lon) in COUNTRY_LABELS.items()],
    )


def _map_points(report: StationReport, lang: str) -> list[MapPoint]:
    points = []
    for s in report.stations:
        if s.lat is None or s.lon is None:
            continue
        lines = [f"<b>{s.names.get(lang)}</b>", ui.state_label(s.state, lang)]
        flags: list[str] = []
        if s.kind == "gauge":
            for row in report.gauge_rows(s.station_id):
                for flag in (row.other_flags if row.has_data and not row.silent else []):
                    text = t_or("qc." + flag, lang, flag)
                    if text not in flags:
                        flags.append(text)
                if row.stage_cm is None:
                    continue
                text = (f"{t_or('party.' + row.party, lang, row.party)}: "
                        f"{t('unit.cm_value', lang, value=ui.fmt_number(row.stage_cm, lang=lang))} "
                        f"({ui.fmt_local(row.local_time, lang=lang)})")
                ref = compared_level(row.classification)
                if ref is not None:
                    text += (f"; {ui.level_name(ref, lang)} {ui.fmt_number(ref.value_cm, lang=lang)}: "
                             f"{ui.fmt_number(ref.remaining_cm, signed=True, lang=lang)}")
                lines.append(text)
        else:
            res = report.reservoir_row(s.station_id)
            if res.level_m is not None:
                lines.append(t("attention.reservoir", lang, level=ui.fmt_number(res.level_m, 2, lang=lang),
                               npu=ui.fmt_number(res.npu_m, 2, lang=lang)))
        if s.ice:
            lines.append(t("cell.ice_affected", lang))
        points.append(MapPoint(lat=s.lat, lon=s.lon, state=s.state, kind=s.kind,
                               label=s.names.get(lang), hover="<br>".join(lines), ice=s.ice,
                               station_id=s.station_id, qc=tuple(flags)))
    return points


def _basin_labels(report: StationReport, basin_names: dict[str, str]
                  ) -> list[tuple[float, float, str]]:
    """Each basin's name near the middle of its stations, nudged off the markers."""
    labels = []
    for basin in report.basins:
        coords = [(s.lat, s.lon) for s in report.stations
                  if s.basin == basin and s.lat is not None and s.lon is not None]
        if coords:
            lat = max(c[0] for c in coords) + 0.6
            lon = sum(c[1] for c in coords) / len(coords)
            labels.append((lat, lon, basin_names.get(basin, basin)))
    return labels


# --------------------------------------------------------------------------- callbacks

def date_href(date: str | None, search: str | None, shown: str | None = None):
    """Date picker -> the URL for that day (language and other query kept).

    No navigation when the day is the one already shown (``shown``, the page's as-of day)
    or already in the URL: the picker reports its value when it mounts, too.
    """
    if not date:
        return no_update
    day = str(date)[:10]
    if day == shown or dict(parse_qsl((search or "").lstrip("?"))).get("date") == day:
        return no_update
    return "/" + query_string(search, date=day)


def station_href(click: dict | None, search: str | None):
    """A click on a station mark -> ``/station/<id>`` (the query, language and date, kept)."""
    points = (click or {}).get("points") or []
    station_id = points[0].get("customdata") if points else None
    if not isinstance(station_id, str) or not station_id:
        return no_update                      # a river or border line, or nothing
    return "/station/" + quote(station_id, safe=":") + query_string(search)


def refresh_body(n_intervals: int | None, search: str | None,
                 status_filter: str | None = None):
    """The interval's tick -> the page re-rendered for the URL (the shell's banners follow
    the URL, not the tick), the tables still filtered to the tile's state."""
    from dashboard.context import current
    from dashboard.i18n import resolve_lang

    if not n_intervals:
        return no_update
    ctx = current()
    params = dict(parse_qsl((search or "").lstrip("?")))
    return render(ctx.provider, resolve_lang(params.get("lang"), ctx.default_language),
                  params.get("date"), now=ctx.now(), asof=params.get("asof"),
                  status_filter=status_filter)


# --------------------------------------------------------------------------- tile filters

#: component ids of the status-tile filter (this view's own)
STATUS_FILTER = "stations-status-filter"   # dcc.Store: the state filtered, or None
FILTER_NOTE = "stations-filter-note"       # "Tables filtered: …" above the gauge grid
FILTER_CLEAR = "stations-filter-clear"     # its "Show all" button
TILE_IDS = {f"summary-{state}": state for state in SUMMARY_ORDER}


def toggle_filter(clicked: str | None, current: str | None) -> str | None:
    """A status tile clicked -> the state to filter to: that state, or none when it is the
    one already filtered (or "Show all" was clicked: ``clicked`` None)."""
    if clicked is None or clicked not in SUMMARY_ORDER or clicked == current:
        return None
    return clicked


def tile_click(*args):
    """Tiles' and "Show all"'s clicks (then the current filter) -> the new filter."""
    *_clicks, current = args
    try:
        triggered, value = dash.ctx.triggered_id, dash.ctx.triggered[0].get("value")
    except Exception:  # noqa: BLE001 - outside a callback
        return no_update
    if not value:
        return no_update        # tiles re-inserted by a refresh, not a click
    if triggered == FILTER_CLEAR:
        return None
    return toggle_filter(TILE_IDS.get(str(triggered)), current)


def apply_filter(state: str | None, search: str | None):
    """The filter -> both grids' filterModel, the tiles' container class (the active tile
    marked) and the "Tables filtered" note."""
    from dashboard.context import current
    from dashboard.i18n import resolve_lang

    if state not in SUMMARY_ORDER:
        state = None
    lang = resolve_lang(dict(parse_qsl((search or "").lstrip("?"))).get("lang"),
                        current().default_language)
    model = ui.status_filter_model(state)
    return model, model, ui.summary_class(state), ui.filter_note(state, lang, FILTER_CLEAR)


def export_csv(n_clicks: int | None) -> bool:
    """An export button's click -> the grid writes a CSV of the rows its filters leave, in
    their sort order (ag-grid's ``exportDataAsCsv``)."""
    return bool(n_clicks)


def register_callbacks(app: dash.Dash) -> None:
    for button, grid in ((Stations.GAUGE_EXPORT, Stations.GAUGE_TABLE),
                         (Stations.RESERVOIR_EXPORT, Stations.RESERVOIR_TABLE)):
        app.callback(Output(grid, "exportDataAsCsv"), Input(button, "n_clicks"),
                     prevent_initial_call=True)(export_csv)
    app.callback(
        Output(Stations.BODY, "children"),
        Input(Stations.REFRESH, "n_intervals"),
        State(Shell.PAGES_LOCATION, "search"),
        State(STATUS_FILTER, "data"),
        prevent_initial_call=True,
    )(refresh_body)
    app.callback(
        Output(STATUS_FILTER, "data"),
        *(Input(tile, "n_clicks") for tile in TILE_IDS),
        Input(FILTER_CLEAR, "n_clicks"),
        State(STATUS_FILTER, "data"),
        prevent_initial_call=True,
    )(tile_click)
    app.callback(
        Output(Stations.GAUGE_TABLE, "filterModel"),
        Output(Stations.RESERVOIR_TABLE, "filterModel"),
        Output(Stations.SUMMARY, "className"),
        Output(FILTER_NOTE, "children"),
        Input(STATUS_FILTER, "data"),
        State(Shell.PAGES_LOCATION, "search"),
        prevent_initial_call=True,
    )(apply_filter)
    alerts_panel.register_callbacks(app)
    app.callback(
        Output(Shell.NAVIGATE, "href"),
        Input(Stations.DATE, "date"),
        State(Shell.PAGES_LOCATION, "search"),
        State(Stations.SHOWN_DATE, "data"),
        prevent_initial_call=True,
    )(date_href)
    app.callback(
        Output(Shell.NAVIGATE, "href", allow_duplicate=True),
        Input(Stations.MAP, "clickData"),
        State(Shell.PAGES_LOCATION, "search"),
        prevent_initial_call=True,
    )(station_href)
