"""Pure figure builders: plain values in, a :class:`plotly.graph_objects.Figure` out.

No Dash, no data access, no translations looked up here: callers pass the labels.  The map
is a plain lon/lat scatter (no tile or topojson download), so it draws without internet.
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
NETWORK_COLOR = "#9fb7cc"
SYMBOLS = {"gauge": "circle", "reservoir": "diamond"}


@dataclass(frozen=True)
class MapPoint:
    """One station on the map.

    ``state`` is a key of :data:`STATE_COLORS`; ``kind`` ``"gauge"`` or ``"reservoir"``;
    ``hover`` the text shown on hover (may hold ``<br>``).
    """

    lat: float
    lon: float
    state: str
    kind: str
    label: str
    hover: str
    ice: bool = False
    station_id: str = ""


def station_map(points: Sequence[MapPoint],
                segments: Sequence[tuple[tuple[float, float], tuple[float, float]]],
                state_labels: Mapping[str, str],
                network_label: str,
                axis_titles: tuple[str, str] = ("Longitude, °", "Latitude, °"),
                area_labels: Sequence[tuple[float, float, str]] = (),
                height: int = 440) -> go.Figure:
    """Schematic map of the stations coloured by state.

    Parameters
    ----------
    points : sequence of MapPoint
        Stations with coordinates in degrees (WGS 84).
    segments : sequence of ((lat, lon), (lat, lon))
        Straight links of the river network, drawn under the stations.
    state_labels : mapping
        Legend text for each state key.
    network_label : str
        Legend text for the network lines.
    axis_titles : (str, str)
        Titles of the longitude and latitude axes.
    area_labels : sequence of (lat, lon, text)
        Basin names written on the map.
    height : int
        Figure height, px.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace for the network, then one marker trace per state present, in
        :data:`STATE_ORDER`.  Longitude is stretched by 1/cos(mean latitude) so that
        distances look right.
    """
    fig = go.Figure()
    if segments:
        lats: list[float | None] = []
        lons: list[float | None] = []
        for (lat0, lon0), (lat1, lon1) in segments:
            lats += [lat0, lat1, None]
            lons += [lon0, lon1, None]
        fig.add_trace(go.Scatter(x=lons, y=lats, mode="lines", name=network_label,
                                 line={"color": NETWORK_COLOR, "width": 2},
                                 hoverinfo="skip"))
    for state in STATE_ORDER:
        group = [p for p in points if p.state == state]
        if not group:
            continue
        fig.add_trace(go.Scatter(
            x=[p.lon for p in group], y=[p.lat for p in group], mode="markers",
            name=state_labels.get(state, state),
            marker={
                "color": STATE_COLORS.get(state, STATE_COLORS["no_data"]),
                "size": [13 if p.kind == "reservoir" else 11 for p in group],
                "symbol": [SYMBOLS.get(p.kind, "circle") for p in group],
                "line": {"color": [ICE_OUTLINE if p.ice else "white" for p in group],
                         "width": [3 if p.ice else 1 for p in group]},
            },
            text=[p.hover for p in group],
            customdata=[p.station_id for p in group],
            hovertemplate="%{text}<extra></extra>",
        ))
    for lat, lon, text in area_labels:
        fig.add_annotation(x=lon, y=lat, text=text, showarrow=False,
                           font={"size": 13, "color": "#47627a"}, opacity=0.9)
    all_lats = [p.lat for p in points] + [a[0] for a in area_labels]
    mean_lat = sum(all_lats) / len(all_lats) if all_lats else 50.0
    fig.update_layout(
        height=height,
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        plot_bgcolor="#f4f8fb",
        paper_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0,
                "font": {"size": 12}},
        hoverlabel={"align": "left"},
        xaxis={"title": {"text": axis_titles[0]}, "showgrid": True, "gridcolor": "#e3ebf2",
               "zeroline": False, "constrain": "domain"},
        yaxis={"title": {"text": axis_titles[1]}, "showgrid": True, "gridcolor": "#e3ebf2",
               "zeroline": False, "scaleanchor": "x",
               "scaleratio": 1.0 / math.cos(math.radians(mean_lat))},
    )
    return fig
