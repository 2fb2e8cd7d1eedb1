"""Dash Pages registration of the commission view at ``/commission`` (see
:mod:`dashboard.views.commission`).

URL query: ``lang`` (kk, ru, en), ``date`` (YYYY-MM-DD: the month of that day is shown, up
to that day; the newest stored day by default) and ``asof`` (knowledge time), e.g.
``/commission?lang=ru&date=2019-04-30``.
"""

from __future__ import annotations

import dash
from dash import html

from dashboard.context import current
from dashboard.i18n import resolve_lang
from dashboard.views import commission as view

dash.register_page(__name__, path="/commission", name="commission", title="hydrorisk",
                   order=4)


def layout(lang: str | None = None, date: str | None = None, asof: str | None = None,
           **_query: str) -> html.Div:
    """The page for the URL's ``lang``, ``date`` and ``asof`` (other keys are ignored)."""
    ctx = current()
    return view.render(ctx.provider, resolve_lang(_one(lang), ctx.default_language),
                       _one(date), _one(asof), now=ctx.now())


def _one(value: object) -> str | None:
    """A query value given once (Dash passes a list for a repeated key: the last one)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    return value if isinstance(value, str) else None
