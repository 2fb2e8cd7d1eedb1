"""Pure figure builders: plain values in, a :class:`plotly.graph_objects.Figure` out.

No Dash, no data access, no translations looked up here: callers pass the labels.  The map
draws the shipped GeoJSON rivers and border as cartesian lon/lat traces (no geo subplot, no
tile or topojson download), so it draws without internet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

#: colour of each station state (warning category, silent, no data)
STATE_COLORS: dict[str, str] = {
    "dangerous": "#c62828",
    "adverse": "#ef8a00",
    "low_water_dangerous": "#7b1fa2",
    "normal": "#2e7d32",
    "not_assessed": "#5b7f9e",
    "silent": "#6d6d6d",
    "no_data": "#b8b8b8",
}
#: legend and drawing order, most urgent last so that it is drawn on top
STATE_ORDER: tuple[str, ...] = ("no_data", "silent", "not_assessed", "normal",
                                "low_water_dangerous", "adverse", "dangerous")
ICE_OUTLINE = "#1565c0"
SYMBOLS = {"gauge": "circle", "reservoir": "diamond"}


@dataclass(frozen=True)
class MapPoint:
    """One station on the map.

    ``state`` is a key of :data:`STATE_COLORS`; ``kind`` ``"gauge"`` or ``"reservoir"``;
    ``hover`` the text shown on hover (may hold ``<br>``); ``qc`` the QC flags of its last
    values other than ice (already translated; empty when none).
    """

    lat: float
    lon: float
    state: str
    kind: str
    label: str
    hover: str
    ice: bool = False
    station_id: str = ""
    qc: tuple[str, ...] = ()


@dataclass(frozen=True)
class MapTexts:
    """Every text of the map, already translated: the legend explains every mark."""

    states: Mapping[str, str]
    gauge: str = "Gauge"
    reservoir: str = "Reservoir"
    ice: str = "Ice"
    qc: str = "QC flag"
    rivers: str = "Rivers"
    border: str = "Kazakhstan-Russia border"
    axis_titles: tuple[str, str] = ("", "")
    #: (lat, lon, text): country names written on the map
    countries: Sequence[tuple[float, float, str]] = ()


Polyline = Sequence[tuple[float, float]]  # (lon, lat) points

RIVER_COLOR = "#6ea6d3"
BORDER_COLOR = "#9c2f4a"
QC_COLOR = "#fbc02d"
#: where the small ice and QC marks sit beside their station, degrees (lon, lat)
ICE_OFFSET = (0.32, 0.22)
QC_OFFSET = (-0.32, 0.22)
LEGEND_NEUTRAL = "#ffffff"


def _line_xy(lines: Sequence[Polyline]) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for line in lines:
        for lon, lat in line:
            xs.append(lon)
            ys.append(lat)
        xs.append(None)
        ys.append(None)
    return xs, ys


def station_map(points: Sequence[MapPoint],
                rivers: Sequence[Polyline],
                border: Sequence[Polyline],
                texts: MapTexts,
                area_labels: Sequence[tuple[float, float, str]] = (),
                height: int = 500) -> go.Figure:
    """Map of the stations coloured by state over the rivers and the KZ-RU border.

    Parameters
    ----------
    points : sequence of MapPoint
        Stations with coordinates in degrees (WGS 84).
    rivers, border : sequence of polylines
        (lon, lat) lines drawn under the stations (``dashboard.geo.lines``).
    texts : MapTexts
        Legend and axis texts.
    area_labels : sequence of (lat, lon, text)
        Basin names written on the map.
    height : int
        Figure height, px.

    Returns
    -------
    plotly.graph_objects.Figure
        Cartesian traces only (no geo subplot, so plotly fetches no topojson and no tiles):
        the rivers, the border, one marker trace per state present in :data:`STATE_ORDER`
        (circle: gauge, diamond: reservoir; the fill is always the state's colour), a
        legend entry per station symbol, then small ice and QC marks beside their station.
        Every station mark carries its id in ``customdata`` (a click opens the station).
        Longitude is stretched by 1/cos(mean latitude) so that distances look right.
    """
    fig = go.Figure()
    if rivers:
        xs, ys = _line_xy(rivers)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=texts.rivers,
                                 line={"color": RIVER_COLOR, "width": 1.4},
                                 hoverinfo="skip", meta="rivers"))
    if border:
        xs, ys = _line_xy(border)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=texts.border,
                                 line={"color": BORDER_COLOR, "width": 1.6, "dash": "dash"},
                                 hoverinfo="skip", meta="border"))
    for state in STATE_ORDER:
        group = [p for p in points if p.state == state]
        if not group:
            continue
        fig.add_trace(go.Scatter(
            x=[p.lon for p in group], y=[p.lat for p in group], mode="markers",
            name=texts.states.get(state, state), meta="state:" + state,
            marker={
                "color": STATE_COLORS.get(state, STATE_COLORS["no_data"]),
                "size": [14 if p.kind == "reservoir" else 11 for p in group],
                "symbol": [SYMBOLS.get(p.kind, "circle") for p in group],
                "line": {"color": "#ffffff", "width": 1.2},
                "opacity": 1.0,
            },
            text=[p.hover for p in group],
            customdata=[p.station_id for p in group],
            hovertemplate="%{text}<extra></extra>",
        ))
    kinds = sorted({p.kind for p in points}, key=lambda k: (k != "gauge", k))
    for kind in kinds:
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", meta="kind:" + kind,
            name=texts.reservoir if kind == "reservoir" else texts.gauge,
            marker={"color": LEGEND_NEUTRAL, "size": 12, "symbol": SYMBOLS.get(kind, "circle"),
                    "line": {"color": "#47627a", "width": 1.5}},
            hoverinfo="skip"))
    iced = [p for p in points if p.ice]
    if iced:
        fig.add_trace(go.Scatter(
            x=[p.lon + ICE_OFFSET[0] for p in iced], y=[p.lat + ICE_OFFSET[1] for p in iced],
            mode="markers", name=texts.ice, meta="ice",
            marker={"color": ICE_OUTLINE, "size": 9, "symbol": "asterisk-open",
                    "line": {"color": ICE_OUTLINE, "width": 2}},
            text=[p.hover for p in iced], customdata=[p.station_id for p in iced],
            hovertemplate="%{text}<extra></extra>"))
    flagged = [p for p in points if p.qc]
    if flagged:
        fig.add_trace(go.Scatter(
            x=[p.lon + QC_OFFSET[0] for p in flagged], y=[p.lat + QC_OFFSET[1] for p in flagged],
            mode="markers", name=texts.qc, meta="qc",
            marker={"color": QC_COLOR, "size": 9, "symbol": "triangle-up",
                    "line": {"color": "#5d4300", "width": 1}},
            text=[f"{p.hover}<br>{texts.qc}: {', '.join(p.qc)}" for p in flagged],
            customdata=[p.station_id for p in flagged],
            hovertemplate="%{text}<extra></extra>"))
    for lat, lon, text in area_labels:
        fig.add_annotation(x=lon, y=lat, text=text, showarrow=False,
                           font={"size": 13, "color": "#47627a"}, opacity=0.9)
    for lat, lon, text in texts.countries:
        fig.add_annotation(x=lon, y=lat, text=text, showarrow=False,
                           font={"size": 12, "color": "#8a7d86"}, opacity=0.9)
    lats = [p.lat for p in points] + [a[0] for a in area_labels]
    lons = [p.lon for p in points] + [a[1] for a in area_labels]
    mean_lat = (min(lats) + max(lats)) / 2 if lats else 52.0
    x_range = [min(lons) - 1.0, max(lons) + 1.0] if lons else [46.0, 88.0]
    y_range = [min(lats) - 0.8, max(lats) + 0.8] if lats else [45.0, 60.0]
    fig.update_layout(
        height=height,
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        plot_bgcolor="#f7f5ef",
        paper_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.1, "x": 0,
                "font": {"size": 12}, "itemclick": False, "itemdoubleclick": False},
        hoverlabel={"align": "left"},
        clickmode="event",
        xaxis={"title": {"text": texts.axis_titles[0]}, "showgrid": True,
               "gridcolor": "#e6e2d6", "zeroline": False, "constrain": "domain",
               "range": x_range, "ticksuffix": "°"},
        yaxis={"title": {"text": texts.axis_titles[1]}, "showgrid": True,
               "gridcolor": "#e6e2d6", "zeroline": False, "scaleanchor": "x",
               "scaleratio": 1.0 / math.cos(math.radians(mean_lat)), "range": y_range,
               "ticksuffix": "°"},
    )
    return fig


#: line colour of each reporting party on a hydrograph
PARTY_COLORS = {"KZ": "#1f6fb2", "RU": "#c2452d"}


def hydrograph(series: Mapping[str, Sequence[tuple[object, float]]], y_title: str,
               party_labels: Mapping[str, str], time_title: str = "",
               time_range: tuple[object, object] | None = None,
               height: int = 300) -> go.Figure:
    """One line per reporting party of a station's series.

    Parameters
    ----------
    series : mapping party -> sequence of (time, value)
        Values in the unit named by ``y_title``, sorted by time.
    y_title, time_title : str
        Axis titles.
    party_labels : mapping
        Legend text of each party.
    time_range : (start, end), optional
        The time axis' range (the window asked for, even where the data are shorter).
    height : int
        Figure height, px.
    """
    fig = go.Figure()
    for party in sorted(series):
        points = series[party]
        fig.add_trace(go.Scatter(
            x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
            name=party_labels.get(party, party),
            line={"color": PARTY_COLORS.get(party, "#47627a"), "width": 2},
            marker={"size": 4}))
    fig.update_layout(
        height=height, margin={"l": 60, "r": 10, "t": 10, "b": 40},
        plot_bgcolor="#f4f8fb", paper_bgcolor="white", hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        xaxis={"title": {"text": time_title}, "gridcolor": "#e3ebf2",
               **({"range": list(time_range)} if time_range is not None else {})},
        yaxis={"title": {"text": y_title}, "gridcolor": "#e3ebf2", "zeroline": False},
    )
    return fig


# --------------------------------------------------------------------------- water quality

@dataclass(frozen=True)
class ClassPoint:
    """One water-quality site on the class map: ``klass`` is a key of the ``colors`` given
    to :func:`class_map` (None: no class); ``flagged`` draws the "incomplete" mark beside
    it."""

    lat: float
    lon: float
    klass: str | None
    label: str
    hover: str
    site_id: str = ""
    flagged: bool = False


#: KZ classes 1-6 and the УКИЗВ classes, from clean (blue) to extremely dirty (dark red)
QUALITY_COLORS: dict[str, str] = {
    "kz:1": "#1565c0", "kz:2": "#2e7d32", "kz:3": "#9ccc65", "kz:4": "#fbc02d",
    "kz:5": "#ef6c00", "kz:6": "#b71c1c",
    "ru:1": "#1565c0", "ru:2": "#2e7d32", "ru:3a": "#9ccc65", "ru:3b": "#d4e157",
    "ru:4a": "#fbc02d", "ru:4b": "#ffa000", "ru:4c": "#ef6c00", "ru:4d": "#d84315",
    "ru:5": "#b71c1c",
}
NO_CLASS_COLOR = "#b8b8b8"
FLAG_COLOR = "#5d4300"


def class_map(points: Sequence[ClassPoint], order: Sequence[str],
              class_labels: Mapping[str, str], rivers: Sequence[Polyline],
              border: Sequence[Polyline], texts: MapTexts, flagged_label: str,
              no_class_label: str, height: int = 430) -> go.Figure:
    """Map of water-quality sites coloured by class, on :func:`station_map`'s offline base
    (rivers, border, country names, the same projection); ``station_map`` itself is not
    changed.

    ``order`` lists the class keys (keys of :data:`QUALITY_COLORS`) best to worst, one
    legend entry each for those present; ``class_labels`` their legend texts.  A flagged
    point gets a small triangle beside it (legend: ``flagged_label``).  Every site mark
    carries its id in ``customdata``.
    """
    fig = station_map([], rivers, border, texts, height=height)
    for key in [*order, None]:
        group = [p for p in points if p.klass == key]
        if not group:
            continue
        fig.add_trace(go.Scatter(
            x=[p.lon for p in group], y=[p.lat for p in group], mode="markers",
            name=class_labels.get(key, key) if key is not None else no_class_label,
            meta=f"class:{key}",
            marker={"color": QUALITY_COLORS.get(key, NO_CLASS_COLOR) if key else NO_CLASS_COLOR,
                    "size": 15, "symbol": "circle",
                    "line": {"color": "#ffffff", "width": 1.4}},
            text=[p.hover for p in group], customdata=[p.site_id for p in group],
            hovertemplate="%{text}<extra></extra>"))
    flagged = [p for p in points if p.flagged]
    if flagged:
        fig.add_trace(go.Scatter(
            x=[p.lon + QC_OFFSET[0] for p in flagged], y=[p.lat + QC_OFFSET[1] for p in flagged],
            mode="markers", name=flagged_label, meta="flagged",
            marker={"color": QC_COLOR, "size": 9, "symbol": "triangle-up",
                    "line": {"color": FLAG_COLOR, "width": 1}},
            text=[p.hover for p in flagged], customdata=[p.site_id for p in flagged],
            hovertemplate="%{text}<extra></extra>"))
    if points:
        lats = [p.lat for p in points]
        lons = [p.lon for p in points]
        mean_lat = (min(lats) + max(lats)) / 2
        fig.update_layout(
            xaxis={"range": [min(lons) - 1.5, max(lons) + 1.5]},
            yaxis={"range": [min(lats) - 1.0, max(lats) + 1.0],
                   "scaleratio": 1.0 / math.cos(math.radians(mean_lat))})
    return fig


def concentration_chart(times: Sequence[object], values: Sequence[float | None],
                        censored: Sequence[bool], y_title: str, series_label: str,
                        censored_label: str,
                        lines: Sequence[tuple[float, str, str, str]] = (),
                        log_y: bool = False, height: int = 440) -> go.Figure:
    """One parameter's concentrations over time against its limits.

    ``lines`` are ``(value, label, colour, dash)`` horizontal lines (the MPC, the class
    limits), each a legend entry; results below a detection limit are drawn at the limit with an open marker
    (legend: ``censored_label``).
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=list(times), y=list(values), mode="lines+markers", name=series_label,
        line={"color": "#1f6fb2", "width": 1.5}, marker={"size": 5}))
    cx = [t for t, c in zip(times, censored, strict=True) if c]
    cy = [v for v, c in zip(values, censored, strict=True) if c]
    if cx:
        fig.add_trace(go.Scatter(
            x=cx, y=cy, mode="markers", name=censored_label,
            # an open symbol is drawn in the marker's colour
            marker={"color": "#c2452d", "size": 8, "symbol": "circle-open",
                    "line": {"width": 1.5}}))
    if times:
        # limits as line traces named in the legend (not shapes: those would need log10
        # coordinates on a log axis, and close limits' labels would write over each other)
        span = [min(times), max(times)]  # type: ignore[type-var]
        for value, label, color, dash in lines:
            fig.add_trace(go.Scatter(
                x=span, y=[value, value], mode="lines", name=label, meta="limit",
                line={"color": color, "width": 1.3, "dash": dash},
                hovertemplate=f"{label}<extra></extra>"))
    fig.update_layout(
        height=height, margin={"l": 60, "r": 10, "t": 10, "b": 40},
        plot_bgcolor="#f4f8fb", paper_bgcolor="white", hovermode="closest",
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0,
                "font": {"size": 11}},
        xaxis={"gridcolor": "#e3ebf2"},
        yaxis={"title": {"text": y_title}, "gridcolor": "#e3ebf2", "zeroline": False,
               **({"type": "log", "dtick": 1} if log_y else {})},
    )
    return fig
