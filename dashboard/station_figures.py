"""Pure figure builders of the station and reservoir pages: plain values in, a
:class:`plotly.graph_objects.Figure` out; callers pass every text already translated.

A hydrograph is assembled from parts so that each page draws only what it has: the
observed series of each party (hover: value, QC flags, source, revision), horizontal
levels (warning levels, return-period lines, НПУ/ФПУ/УМО), bands (HydroSOS, forecast
intervals), shaded periods (ice, disagreement flags) and extra lines (2024 overlay,
forecasts, rule curves).  The legend sits right of the plot, one entry per element, so
every line is explained and no label is drawn over the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard.figures import PARTY_COLORS

#: colours of the page's elements
LEVEL_COLORS = {"dangerous": "#c62828", "adverse": "#ef8a00", "impact": "#6d4c41",
                "low_water_dangerous": "#7b1fa2"}
RETURN_COLOR = "#5c6bc0"
HYDROSOS_OUTER = "rgba(76, 140, 74, 0.10)"
HYDROSOS_INNER = "rgba(76, 140, 74, 0.20)"
ICE_FILL = "rgba(21, 101, 192, 0.07)"
FLAG_FILL = "rgba(239, 138, 0, 0.18)"
DISAGREE_FILL = "rgba(194, 69, 45, 0.25)"
OVERLAY_COLOR = "#7a7a7a"
FORECAST_COLORS = {"persistence": "#8d6e63", "climatology": "#00897b", "sarimax": "#6a1b9a",
                   "process": "#0277bd"}
RULE_COLORS = ("#2e7d32", "#558b2f", "#1b5e20")
#: WMO HydroSOS status colours (background, text)
HYDROSOS_COLORS = {"low": ("#cd233f", "#ffffff"), "below_normal": ("#ffa885", "#212121"),
                   "normal": ("#e7e2bc", "#212121"), "above_normal": ("#8ecefe", "#212121"),
                   "high": ("#2c7dcd", "#ffffff")}


def _opaque(rgba: str, alpha: float = 0.45) -> str:
    """The legend swatch of a translucent fill: the same colour, more opaque."""
    head, _, _ = rgba.rpartition(",")
    return f"{head}, {alpha})" if rgba.startswith("rgba(") else rgba


@dataclass(frozen=True)
class Observed:
    """One party's observed series: ``custom`` rows are (QC text, source, revision)."""

    name: str
    party: str
    x: Sequence[object]
    y: Sequence[float]
    custom: Sequence[tuple[str, str, int]]
    fill_to_previous: bool = False     # shade the gap to the trace before (disagreement)


@dataclass(frozen=True)
class Level:
    """A horizontal line across the time axis."""

    name: str
    y: float
    color: str
    dash: str = "dash"


@dataclass(frozen=True)
class Band:
    """A shaded band between ``lower`` and ``upper``."""

    name: str
    x: Sequence[object]
    lower: Sequence[float]
    upper: Sequence[float]
    fill: str
    line: str | None = None
    legendgroup: str | None = None


@dataclass(frozen=True)
class Extra:
    """A further line (2024 overlay, a forecast, a rule curve)."""

    name: str
    x: Sequence[object]
    y: Sequence[float]
    color: str
    dash: str = "solid"
    width: float = 1.6
    legendgroup: str | None = None
    markers: bool = False


@dataclass(frozen=True)
class Shade:
    """Shaded time periods (ice, flagged disagreement): one legend entry for all."""

    name: str
    periods: Sequence[tuple[object, object]]
    fill: str


@dataclass(frozen=True)
class HoverTexts:
    qc: str = "QC"
    source: str = "source"
    revision: str = "revision"


def _escape(text: str) -> str:
    """``text`` safe inside a hovertemplate: no HTML, no ``%{`` field opening."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("%{", "% {"))


def hydrograph(y_title: str, time_title: str, time_range: tuple[object, object], *,
               observed: Sequence[Observed] = (), levels: Sequence[Level] = (),
               bands: Sequence[Band] = (), extras: Sequence[Extra] = (),
               shades: Sequence[Shade] = (), hover: HoverTexts = HoverTexts(),
               value_format: str = ".0f", height: int = 380) -> go.Figure:
    """A station hydrograph from its parts (see the module docs).

    Bands go at the bottom, then shaded periods, levels, extra lines and the observed
    series on top.  Level lines span ``time_range``; their names (value included) are
    their legend entries.
    """
    fig = go.Figure()
    for b in bands:
        fig.add_trace(go.Scatter(x=list(b.x), y=list(b.lower), mode="lines",
                                 line={"width": 0}, hoverinfo="skip", showlegend=False,
                                 legendgroup=b.legendgroup or b.name, meta="band-lower"))
        fig.add_trace(go.Scatter(x=list(b.x), y=list(b.upper), mode="lines", name=b.name,
                                 fill="tonexty", fillcolor=b.fill,
                                 line={"width": 1 if b.line else 0, "color": b.line or b.fill},
                                 hoverinfo="skip", legendgroup=b.legendgroup or b.name,
                                 meta="band"))
    shapes = []     # one layout update: add_vrect validates the whole list on every call
    for s in shades:
        shapes += [{"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1,
                    "y0": 0, "y1": 1, "fillcolor": s.fill, "line": {"width": 0},
                    "layer": "below"} for x0, x1 in s.periods]
        if s.periods:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=s.name,
                                     marker={"symbol": "square", "size": 12,
                                             "color": _opaque(s.fill)},
                                     hoverinfo="skip", meta="shade"))
    x0, x1 = time_range
    for lv in levels:
        fig.add_trace(go.Scatter(x=[x0, x1], y=[lv.y, lv.y], mode="lines", name=lv.name,
                                 line={"color": lv.color, "width": 1.4, "dash": lv.dash},
                                 hovertemplate=f"{lv.name}<extra></extra>", meta="level"))
    for e in extras:
        fig.add_trace(go.Scatter(x=list(e.x), y=list(e.y),
                                 mode="lines+markers" if e.markers else "lines", name=e.name,
                                 line={"color": e.color, "width": e.width, "dash": e.dash},
                                 marker={"size": 4}, legendgroup=e.legendgroup,
                                 hovertemplate=f"%{{y:{value_format}}}<extra>{e.name}</extra>",
                                 meta="extra"))
    template = (f"%{{y:{value_format}}}<br>{hover.qc}: %{{customdata[0]}}<br>"
                f"{hover.source}: %{{customdata[1]}}<br>{hover.revision}: %{{customdata[2]}}"
                "<extra>%{fullData.name}</extra>")
    for o in observed:
        color = PARTY_COLORS.get(o.party, "#47627a")
        sources = {c[1] for c in o.custom}
        revisions = {c[2] for c in o.custom}
        if len(sources) == 1 and len(revisions) == 1:
            # one source and revision throughout (the usual case): written once in the
            # template, only the QC flags per point (a third of the bytes of a long series)
            (source,), (revision,) = sources, revisions
            custom: dict = {"text": [c[0] for c in o.custom], "hovertemplate": (
                f"%{{y:{value_format}}}<br>{hover.qc}: %{{text}}<br>{hover.source}: "
                f"{_escape(str(source))}<br>{hover.revision}: {revision}"
                "<extra>%{fullData.name}</extra>")}
        else:
            custom = {"customdata": [list(c) for c in o.custom], "hovertemplate": template}
        fig.add_trace(go.Scatter(
            x=list(o.x), y=list(o.y), mode="lines+markers" if len(o.x) <= 400 else "lines",
            name=o.name, line={"color": color, "width": 2}, marker={"size": 4}, **custom,
            fill="tonexty" if o.fill_to_previous else None,
            fillcolor=DISAGREE_FILL if o.fill_to_previous else None, meta="observed:" + o.party,
            legendrank=1))                   # the observed series head the legend
    entries = sum(1 for tr in fig.data if tr.showlegend is not False)
    height = max(height, 70 + 19 * entries)  # every legend entry visible, no scrolling
    fig.update_layout(
        shapes=shapes,
        height=height, margin={"l": 64, "r": 10, "t": 34, "b": 44},
        plot_bgcolor="#f7f9fb", paper_bgcolor="white", hovermode="closest",
        hoverlabel={"align": "left"},
        legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top",
                "font": {"size": 11}, "bgcolor": "rgba(255,255,255,0.9)",
                "tracegroupgap": 2},
        # a date axis always: plotly guesses the type from the first trace, and a legend-only
        # entry (a shaded period's x=[None]) made it linear, drawing nothing
        xaxis={"title": {"text": time_title}, "gridcolor": "#e3ebf2", "type": "date",
               "range": [x0, x1], "automargin": True},
        yaxis={"title": {"text": y_title}, "gridcolor": "#e3ebf2", "zeroline": False,
               "automargin": True},
    )
    return fig
