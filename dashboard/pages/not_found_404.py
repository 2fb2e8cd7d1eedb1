"""The page Dash Pages shows for a path no page has (module name ``not_found_404``).

The HTTP status is set by :func:`dashboard.app.not_found_hook` (404, not Dash's 200); this
module only gives the text, in the URL's language, and a link home that keeps the query.
"""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard.context import current
from dashboard.i18n import query_string, resolve_lang, t

dash.register_page(__name__, path="/404", name="not_found_404", title="hydrorisk")


def layout(lang: str | None = None, **query: str) -> html.Div:
    """"Page not found" in the URL's ``lang``, with a link to the stations page."""
    lang = resolve_lang(lang, current().default_language)
    keep = {k: v for k, v in query.items() if k in ("date", "asof") and isinstance(v, str)}
    return html.Div([
        html.H1(t("notfound.title", lang), className="page-title"),
        html.P(t("notfound.text", lang)),
        dcc.Link(t("notfound.home", lang), href="/" + query_string("", lang=lang, **keep),
                 id="not-found-home"),
    ], className="not-found-page", lang=lang)
