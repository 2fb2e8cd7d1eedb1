"""Dash Pages registration of the data-status view at ``/data-status`` (see
:mod:`dashboard.views.data_status`).

URL query: ``lang`` (kk, ru, en), ``date`` (YYYY-MM-DD): freshness is measured at the end
of that day (now by default), and ``asof`` (knowledge time: the runs, refused files and
values received by then), e.g. ``/data-status?lang=kk&asof=2024-04-13T06:00``.
"""

from __future__ import annotations

import dash
from dash import html

from dashboard.context import current
from dashboard.i18n import resolve_lang
from dashboard.views import data_status as view

dash.register_page(__name__, path="/data-status", name="data_status", title="hydrorisk",
                   order=6)


def layout(lang: str | None = None, date: str | None = None, asof: str | None = None,
           **_query: str) -> html.Div:
    """The page for the URL's ``lang``, ``date`` and ``asof`` (other keys are ignored)."""
    ctx = current()
    return view.render(ctx.provider, resolve_lang(_one(lang), ctx.default_language),
                       _one(date), now=ctx.now(), asof=_one(asof))


def _one(value: object) -> str | None:
    """A query value given once (Dash passes a list for a repeated key: the last one)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    return value if isinstance(value, str) else None
