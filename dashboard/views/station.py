"""Station view (minimal): who the station is and its recent hydrographs.

:func:`render` builds the page for one gauge or reservoir from a data provider (which reads
through :mod:`hydro.services`); registered at ``/station/<id>`` by
:mod:`dashboard.pages.station`.  The full station page (thresholds, revisions, forecasts,
download) is issue 13, item 2.
"""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import components as ui
from dashboard.figures import hydrograph
from dashboard.i18n import query_string, t, t_or
from dashboard.ids import StationPage
from dashboard.provider import DataProvider
from dashboard.status import day_end_utc, network_timezones
from hydro.network import Gauge, Reservoir

#: how far back the hydrographs reach from the as-of day
WINDOW = dt.timedelta(days=120)
#: (variable, catalog key of its axis title, component id) per station kind
GAUGE_PLOTS = (("stage", "station.stage", StationPage.STAGE),
               ("discharge", "station.discharge", StationPage.DISCHARGE))
RESERVOIR_PLOTS = (("level", "station.level", StationPage.LEVEL),
                   ("inflow", "station.inflow", StationPage.INFLOW),
                   ("outflow", "station.outflow", StationPage.OUTFLOW))


def render(provider: DataProvider, station_id: str, lang: str,
           date: str | None = None) -> html.Div:
    """The page of ``station_id`` in ``lang`` up to the as-of ``date`` (ISO day; the newest
    data when None or invalid).  An unknown id gives a page that says so."""
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
    end = day_end_utc(as_of, network_timezones(net))
    start = end - WINDOW
    basin = net.basins.get(station.basin)
    facts = [
        (t("col.river", lang), ui.river_name(station.river, lang)),
        (t("station.basin", lang), basin.names.get(lang) if basin else station.basin),
        (t("col.country", lang), t_or(f"country.{station.country}", lang, station.country)),
        (t("station.kind", lang), t(f"station.kind.{station.kind}", lang)),
    ]
    plots = GAUGE_PLOTS if isinstance(station, Gauge) else RESERVOIR_PLOTS
    panels = []
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
                figure=hydrograph(by_party, t(title_key, lang),
                                  {code: t_or(f"party.{code}", lang, code) for code in by_party},
                                  time_title=t("station.time", lang),
                                  time_range=(start, end)),
                config={"displaylogo": False})
        panels.append(html.Div([html.Div(t(title_key, lang), className="section-title"), body],
                               id=component_id, className="panel mb-3"))
    banner = [ui.synthetic_banner(lang)] if provider.is_synthetic() else []
    return html.Div([
        *banner,
        back,
        html.H1(station.names.get(lang), id=StationPage.TITLE, className="page-title mt-2"),
        html.Dl([item for label, value in facts
                 for item in (html.Dt(label), html.Dd(value))],
                id=StationPage.FACTS, className="station-facts"),
        html.Div(t("station.period", lang, start=start.date().isoformat(),
                   end=as_of.isoformat(), days=WINDOW.days), className="asof-info-left"),
        *panels,
    ], className="station-page", lang=lang)


def _as_of(provider: DataProvider, date: str | None) -> dt.date:
    if date:
        try:
            return dt.date.fromisoformat(str(date)[:10])
        except ValueError:
            pass
    return provider.latest_date() or dt.datetime.now(dt.UTC).date()
