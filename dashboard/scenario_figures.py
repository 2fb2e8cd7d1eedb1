"""Figures of the scenario lab (:mod:`dashboard.views.scenarios`): the fan chart of a
gauge's stage against every threshold scheme, and a reservoir's storage trajectory against
НПУ and ФПУ with its release and spill.

Pure: plotly figures from plain arrays and mappings (what
:func:`hydro.services.scenario_runs.run_results` gives); texts come in already translated.
Units: stage cm above the gauge zero (as the warning levels), discharge m³/s, level m
(Baltic system), volume hm³.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

#: the line colour of a warning level by its severity word in the key (KZ ОУ, RU НЯ/ОЯ …)
LEVEL_COLOURS = {"dangerous": "#c0392b", "oya": "#c0392b", "ou": "#c0392b",
                 "adverse": "#e67e22", "nya": "#e67e22", "flood": "#8e44ad"}
FAN_COLOUR = "rgba(31, 119, 180, 0.20)"
MEDIAN_COLOUR = "#1f4e79"
MEMBER_COLOUR = "rgba(120, 120, 120, 0.35)"
#: most member traces drawn (the fan and the median carry the rest)
MAX_MEMBER_TRACES = 30


def _layout(fig: go.Figure, lang: str, title: str, y_title: str, height: int = 380
            ) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}}, height=height,
        margin={"l": 60, "r": 20, "t": 40, "b": 40}, template="plotly_white",
        separators=", " if lang in ("kk", "ru") else ".,",
        legend={"orientation": "h", "y": -0.15}, hovermode="x unified",
        yaxis_title=y_title,
        # day.month in kk and ru (plotly would write English month names)
        xaxis={"tickformat": "%d.%m" if lang in ("kk", "ru") else "%d %b",
               "hoverformat": "%d.%m.%Y" if lang in ("kk", "ru") else "%Y-%m-%d"})
    return fig


def _level_colour(key: str) -> str:
    low = key.lower()
    return next((c for word, c in LEVEL_COLOURS.items() if word in low), "#555555")


def fan_chart(time: Sequence[Any], q10: Sequence[float], q50: Sequence[float],
              q90: Sequence[float], members: np.ndarray | None,
              levels: Sequence[tuple[str, float]], lang: str, title: str, y_title: str,
              labels: Mapping[str, str]) -> go.Figure:
    """Members (grey; at most :data:`MAX_MEMBER_TRACES` of them), the 10–90 % band and the
    median of a gauge's stage over the season, with a dashed line per warning level
    (``levels``: (label, value in the stage's unit)).

    ``labels``: ``band``, ``median``, ``members`` — the legend words in the page's language.
    """
    fig = go.Figure()
    x = list(time)
    if members is not None and len(members):
        step = max(1, int(np.ceil(len(members) / MAX_MEMBER_TRACES)))
        for k, m in enumerate(members[::step]):
            fig.add_trace(go.Scatter(x=x, y=list(m), mode="lines", hoverinfo="skip",
                                     line={"color": MEMBER_COLOUR, "width": 0.7},
                                     name=labels["members"], legendgroup="members",
                                     showlegend=k == 0))
    fig.add_trace(go.Scatter(x=x, y=list(q90), mode="lines", line={"width": 0},
                             showlegend=False, hoverinfo="skip", name="90 %"))
    fig.add_trace(go.Scatter(x=x, y=list(q10), mode="lines", line={"width": 0},
                             fill="tonexty", fillcolor=FAN_COLOUR, name=labels["band"],
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=list(q50), mode="lines", name=labels["median"],
                             line={"color": MEDIAN_COLOUR, "width": 2.2}))
    for label, value in levels:
        if value is None or not np.isfinite(value):
            continue
        fig.add_hline(y=float(value), line={"color": _level_colour(label), "dash": "dash",
                                            "width": 1.3},
                      annotation_text=label, annotation_position="top left",
                      annotation_font_size=10)
    return _layout(fig, lang, title, y_title)


def storage_chart(time: Sequence[Any], level_q: Mapping[str, Sequence[float]],
                  npu: float | None, fpu: float | None, release: Sequence[float] | None,
                  spill: Sequence[float] | None, lang: str, title: str,
                  labels: Mapping[str, str]) -> go.Figure:
    """A reservoir's level (median and 10–90 %, m) against НПУ and ФПУ, with the median
    release and spill (m³/s) on a second axis.

    ``level_q``: ``q10``, ``q50``, ``q90`` arrays; ``labels``: ``level``, ``band``,
    ``release``, ``spill``, ``npu``, ``fpu``, ``y_level``, ``y_flow``.
    """
    fig = go.Figure()
    x = list(time)
    if "q90" in level_q and "q10" in level_q:
        fig.add_trace(go.Scatter(x=x, y=list(level_q["q90"]), mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=list(level_q["q10"]), mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor=FAN_COLOUR, name=labels["band"],
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=list(level_q["q50"]), mode="lines", name=labels["level"],
                             line={"color": MEDIAN_COLOUR, "width": 2.2}))
    for value, key, colour in ((npu, "npu", "#2c7a2c"), (fpu, "fpu", "#c0392b")):
        if value is not None and np.isfinite(value):
            fig.add_hline(y=float(value), line={"color": colour, "dash": "dash", "width": 1.3},
                          annotation_text=f"{labels[key]} {value:.2f}",
                          annotation_position="top left", annotation_font_size=10)
    if release is not None:
        fig.add_trace(go.Scatter(x=x, y=list(release), mode="lines", name=labels["release"],
                                 yaxis="y2", line={"color": "#ff7f0e", "width": 1.5}))
    if spill is not None and np.nanmax(np.asarray(spill, dtype=float), initial=0.0) > 0:
        fig.add_trace(go.Scatter(x=x, y=list(spill), mode="lines", name=labels["spill"],
                                 yaxis="y2", line={"color": "#d62728", "width": 1.5,
                                                   "dash": "dot"}))
    fig.update_layout(yaxis2={"title": labels["y_flow"], "overlaying": "y", "side": "right",
                              "showgrid": False, "rangemode": "tozero"})
    return _layout(fig, lang, title, labels["y_level"])


__all__ = ["fan_chart", "storage_chart", "MAX_MEMBER_TRACES"]
