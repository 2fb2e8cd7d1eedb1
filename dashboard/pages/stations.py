"""Dash Pages registration of the stations view at ``/`` (see :mod:`dashboard.views.stations`).

URL query: ``lang`` (kk, ru, en), ``date`` (YYYY-MM-DD, the as-of day; the newest data
by default) and ``asof`` (knowledge time: only what had been received by then), so a view
can be shared as a link, e.g. ``/?lang=ru&date=2024-04-12&asof=2024-04-13T06:00``.
"""

from __future__ import annotations

import dash
from dash import html

from dashboard.context import current
from dashboard.i18n import resolve_lang
from dashboard.views import stations as view

dash.register_page(__name__, path="/", name="stations", title="hydrorisk", order=0)


def layout(lang: str | None = None, date: str | None = None, asof: str | None = None,
           **_query: str) -> html.Div:
    """The page for the URL's ``lang``, ``date`` and ``asof`` (other keys are ignored)."""
    ctx = current()
    return view.page(ctx.provider, resolve_lang(lang, ctx.default_language), _one(date),
                     _one(asof), now=ctx.now())


def _one(value: object) -> str | None:
    """A query value given once (Dash passes a list for a repeated key: the last one)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    return value if isinstance(value, str) else None
