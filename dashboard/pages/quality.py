"""Dash Pages registration of the water-quality view at ``/quality`` (see
:mod:`dashboard.views.quality`).

URL query: ``lang`` (kk, ru, en), ``date`` (YYYY-MM-DD: the year shown is its year; the
newest stored day by default), ``asof`` (knowledge time), ``site`` and ``parameter`` (the
site panel's selection), e.g. ``/quality?lang=ru&date=2023-12-31&site=KZ:19073``.
"""

from __future__ import annotations

import dash
from dash import html

from dashboard.context import current
from dashboard.i18n import resolve_lang
from dashboard.views import quality as view

dash.register_page(__name__, path="/quality", name="quality", title="hydrorisk", order=4)


def layout(lang: str | None = None, date: str | None = None, asof: str | None = None,
           site: str | None = None, parameter: str | None = None, **_query: str) -> html.Div:
    """The page for the URL's ``lang``, ``date``, ``asof``, ``site`` and ``parameter`` (other
    keys are ignored)."""
    ctx = current()
    return view.render(ctx.provider, resolve_lang(_one(lang), ctx.default_language),
                       _one(date), _one(asof), now=ctx.now(), site=_one(site),
                       parameter=_one(parameter))


def _one(value: object) -> str | None:
    """A query value given once (Dash passes a list for a repeated key: the last one)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    return value if isinstance(value, str) else None
