"""Dash Pages registration of the upload view at ``/upload`` (see
:mod:`dashboard.views.upload`).  URL query: ``lang`` (kk, ru, en)."""

from __future__ import annotations

import dash
from dash import html

from dashboard.context import current
from dashboard.i18n import resolve_lang
from dashboard.views import upload as view

dash.register_page(__name__, path="/upload", name="upload", title="hydrorisk", order=8)


def layout(lang: str | None = None, **_query: str) -> html.Div:
    """The page for the URL's ``lang`` and the logged-in account."""
    from dashboard import auth

    ctx = current()
    if isinstance(lang, list):
        lang = lang[-1] if lang else None
    return view.render(ctx.provider, resolve_lang(lang if isinstance(lang, str) else None,
                                                  ctx.default_language),
                       auth.current_account())
