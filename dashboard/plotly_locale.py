"""The charts in the page's language: plotly.js's own texts (the mode bar's buttons, its
notices) and its date and number notation (month and day names on date axes, the decimal
comma in kk and ru).

    dcc.Graph(figure=fig, config=graph_config(lang))            # {"displaylogo": False, ...}
    dcc.Graph(figure=fig, config=graph_config(lang, scrollZoom=False))

plotly.js looks its texts up by their English wording in the ``locales`` given with the
plot (``config.locales``, no global registration, so nothing depends on script order);
the words are the catalog's ``plotly.*`` keys (:data:`DICTIONARY`), the month and day
names Babel's (CLDR, stand-alone forms: a date axis labels a month, "апрель", not
"апреля").
"""

from __future__ import annotations

import functools
from typing import Any

from babel.dates import get_day_names, get_month_names
from babel.numbers import get_decimal_symbol, get_group_symbol

from dashboard.format import locale as babel_locale
from dashboard.i18n import N_, t

#: plotly.js's English text -> catalog key of its translation
DICTIONARY: dict[str, str] = {
    "Autoscale": N_("plotly.autoscale"),
    "Box Select": N_("plotly.box_select"),
    "Compare data on hover": N_("plotly.compare_hover"),
    "Double-click on legend to isolate one trace": N_("plotly.legend_isolate"),
    "Double-click to zoom back out": N_("plotly.zoom_back"),
    "Download plot": N_("plotly.download"),
    "Download plot as a PNG": N_("plotly.download_png"),
    "Download plot as a png": N_("plotly.download_png"),
    "Download plot as JSON": N_("plotly.download_json"),
    "Lasso Select": N_("plotly.lasso_select"),
    "Pan": N_("plotly.pan"),
    "Produced with Plotly.js": N_("plotly.produced"),
    "Reset axes": N_("plotly.reset_axes"),
    "Reset view": N_("plotly.reset_view"),
    "Reset views": N_("plotly.reset_views"),
    "Share chart": N_("plotly.share"),
    "Share chart...": N_("plotly.share"),
    "Show closest data on hover": N_("plotly.closest_hover"),
    "Snapshot succeeded": N_("plotly.snapshot_done"),
    "Sorry, there was a problem downloading your image!": N_("plotly.download_failed"),
    "Sorry, there was a problem downloading your JSON file!": N_("plotly.download_failed"),
    "Taking snapshot - this may take a few seconds": N_("plotly.snapshot_wait"),
    "Toggle Spike Lines": N_("plotly.spikelines"),
    "Toggle show closest data on hover": N_("plotly.toggle_hover"),
    "Zoom": N_("plotly.zoom"),
    "Zoom in": N_("plotly.zoom_in"),
    "Zoom out": N_("plotly.zoom_out"),
}


@functools.cache
def _locale(lang: str) -> dict[str, Any]:
    loc = babel_locale(lang)
    months = get_month_names("wide", "stand-alone", loc)
    short_months = get_month_names("abbreviated", "stand-alone", loc)
    days = get_day_names("wide", "stand-alone", loc)           # 0 = Monday
    short_days = get_day_names("abbreviated", "stand-alone", loc)
    sunday_first = [6, 0, 1, 2, 3, 4, 5]                       # plotly's weeks: Sunday first
    return {
        "dictionary": {english: t(key, lang) for english, key in DICTIONARY.items()},
        "format": {
            "months": [str(months[m]) for m in range(1, 13)],
            "shortMonths": [str(short_months[m]) for m in range(1, 13)],
            "days": [str(days[d]) for d in sunday_first],
            "shortDays": [str(short_days[d]) for d in sunday_first],
            "decimal": get_decimal_symbol(loc),
            "thousands": get_group_symbol(loc),
        },
    }


def graph_config(lang: str, **options: Any) -> Any:
    """A ``dcc.Graph`` ``config`` for a chart in ``lang``: no plotly logo, plotly's texts
    and notation in ``lang`` (English is plotly's own), and ``options`` (e.g.
    ``scrollZoom=False``).  Typed Any: dash types ``config`` as its own class."""
    config: dict[str, Any] = {"displaylogo": False, **options}
    if lang != "en":
        config["locale"] = lang
        config["locales"] = {lang: _locale(lang)}
    return config
