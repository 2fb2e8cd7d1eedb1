"""Dash Pages registration of the station view at ``/station/<id>`` (see
:mod:`dashboard.views.station`).

URL query: ``lang`` (kk, ru, en), ``date`` (YYYY-MM-DD, the as-of day), ``asof`` (knowledge
time: the series as received by then) and ``span`` (``120``, ``365``, ``1825`` or ``all``),
e.g. ``/station/RU:ORENBURG?lang=ru&date=2024-04-12&asof=2024-04-13``.  Reservoir ids get the
reservoir layout of the same view.
"""

from __future__ import annotations

from urllib.parse import unquote

import dash
from dash import html

from dashboard import cache as page_cache
from dashboard.context import current
from dashboard.i18n import resolve_lang
from dashboard.views import station as view

dash.register_page(__name__, path_template="/station/<station_id>", name="station",
                   title="hydrorisk", order=1)


def layout(station_id: str | None = None, lang: str | None = None, date: str | None = None,
           asof: str | None = None, span: str | None = None, **_query: str) -> html.Div:
    """The page for the URL's station id, ``lang``, ``date``, ``asof`` and ``span`` (other
    keys are ignored)."""
    ctx = current()
    sid, language = unquote(station_id or ""), resolve_lang(lang, ctx.default_language)
    # rendered once per URL and data version (dashboard.cache; issue 15, fast under load)
    return page_cache.page(ctx.provider, "station_page", (sid, language, date, asof, span),
                           lambda: view.render(ctx.provider, sid, language, date, asof=asof,
                                               span=span))
