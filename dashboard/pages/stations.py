"""Dash Pages registration of the stations view at ``/`` (see :mod:`dashboard.views.stations`).

URL query: ``lang`` (kk, ru, en) and ``date`` (YYYY-MM-DD, the as-of day; the newest data
by default), so a view can be shared as a link, e.g. ``/?lang=ru&date=2024-04-12``.
"""

from __future__ import annotations

import dash
from dash import html

from dashboard.context import current
from dashboard.i18n import resolve_lang
from dashboard.views import stations as view

dash.register_page(__name__, path="/", name="stations", title="hydrorisk", order=0)


def layout(lang: str | None = None, date: str | None = None, **_query: str) -> html.Div:
    """The page for the URL's ``lang`` and ``date`` (other query keys are ignored)."""
    ctx = current()
    return view.render(ctx.provider, resolve_lang(lang, ctx.default_language), date,
                       now=view.utcnow())
