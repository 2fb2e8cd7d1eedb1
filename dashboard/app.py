"""The Dash application: :func:`create_app` builds it from a configuration.

    from hydro.config import load_config
    from dashboard.app import create_app

    create_app(load_config("config")).run(host="127.0.0.1", port=8050)

Nothing here touches the store at import time; the store is opened by ``create_app`` (or
given to it).  Pages live in ``dashboard/pages`` (Dash Pages); the app shell — navbar with
the language switcher — is defined here.  Bootstrap's CSS is served from
``dashboard/assets`` so the dashboard works on a network without internet access.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from dashboard.context import AppContext, attach
from dashboard.i18n import LANGUAGE_NAMES, LANGUAGES, query_string, resolve_lang, t
from dashboard.ids import Shell
from dashboard.provider import DataProvider, make_provider
from hydro.config import Config
from hydro.services.context import Store

PACKAGE_DIR = Path(__file__).resolve().parent
PAGES_DIR = PACKAGE_DIR / "pages"
ASSETS_DIR = PACKAGE_DIR / "assets"
TITLE = "hydrorisk"
#: view modules whose callbacks are registered on each app
VIEW_MODULES = ("dashboard.views.stations",)
LANG_IDS = {"kk": Shell.LANG_KK, "ru": Shell.LANG_RU, "en": Shell.LANG_EN}


def create_app(config: Config, engine: Store | None = None,
               provider: DataProvider | None = None) -> dash.Dash:
    """Build the dashboard for ``config``.

    Parameters
    ----------
    config : Config
        The deployment configuration (``load_config(...)``).
    engine : hydro.services.context.Store, optional
        The store; opened from ``config.store_url`` when not given.
    provider : DataProvider, optional
        The data provider; a :class:`~dashboard.provider.StoreProvider` over ``engine`` when
        not given.

    Returns
    -------
    dash.Dash
        Run it with ``app.run(host=..., port=...)``; ``app.server`` is the Flask WSGI app.
    """
    if provider is None:
        provider = make_provider(config, engine)
    app = dash.Dash(
        "dashboard",
        title=TITLE,
        # dash (4.x) annotates update_title as str, though its docstring documents None for
        # "leave the page title alone while callbacks run"
        update_title=None,  # type: ignore[arg-type]
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    attach(app, AppContext(config=config, provider=provider))
    default = config.settings.dashboard.language
    app.layout = shell_layout(default)
    register_shell_callbacks(app, default)
    for name in VIEW_MODULES:
        importlib.import_module(name).register_callbacks(app)
    return app


# --------------------------------------------------------------------------- shell

def shell_layout(lang: str) -> html.Div:
    """Navbar (brand, page links, language switcher) around the Pages container."""
    state = shell_state("/", "", lang)
    lang_links = [
        dcc.Link(LANGUAGE_NAMES[code], id=LANG_IDS[code], href=state["lang_hrefs"][code],
                 className=state["lang_classes"][code], title=LANGUAGE_NAMES[code])
        for code in LANGUAGES
    ]
    # aria-* attributes are not identifiers: they go through the component's **kwargs (Any:
    # mypy checks a **dict against every typed keyword)
    group_attrs: dict[str, Any] = {"aria-label": t("nav.language", lang)}
    navbar = dbc.Navbar(
        dbc.Container([
            html.A(TITLE, href="/", className="navbar-brand brand"),
            html.Span(state["tagline"], id=Shell.TAGLINE, className="navbar-text tagline"),
            html.Div([
                dcc.Link(state["nav_stations"], id=Shell.NAV_STATIONS,
                         href=state["stations_href"], className="nav-page active"),
                html.Div(lang_links, className="lang-switch", role="group", **group_attrs),
            ], className="navbar-right"),
        ], fluid=True),
        color="dark", dark=True, className="app-navbar",
    )
    return html.Div([
        dcc.Location(id=Shell.NAVIGATE, refresh="callback-nav"),
        navbar,
        dbc.Container(dash.page_container, fluid=True, className="page-body"),
    ])


def shell_state(pathname: str | None, search: str | None, default_lang: str) -> dict:
    """Texts and links of the navbar for the current URL (pure; the callback's body)."""
    params = dict(parse_qsl((search or "").lstrip("?")))
    lang = resolve_lang(params.get("lang"), default_lang)
    path = pathname or "/"
    return {
        "lang": lang,
        "tagline": t("app.tagline", lang),
        "nav_stations": t("nav.stations", lang),
        "stations_href": "/" + query_string(search, lang=lang),
        "lang_hrefs": {code: path + query_string(search, lang=code) for code in LANGUAGES},
        "lang_classes": {code: "lang-link active" if code == lang else "lang-link"
                         for code in LANGUAGES},
    }


def register_shell_callbacks(app: dash.Dash, default_lang: str) -> None:
    outputs = [Output(Shell.TAGLINE, "children"), Output(Shell.NAV_STATIONS, "children"),
               Output(Shell.NAV_STATIONS, "href")]
    for code in LANGUAGES:
        outputs += [Output(LANG_IDS[code], "href"), Output(LANG_IDS[code], "className")]

    @app.callback(*outputs, Input(Shell.PAGES_LOCATION, "pathname"),
                  Input(Shell.PAGES_LOCATION, "search"))
    def update_shell(pathname, search):
        s = shell_state(pathname, search, default_lang)
        values = [s["tagline"], s["nav_stations"], s["stations_href"]]
        for code in LANGUAGES:
            values += [s["lang_hrefs"][code], s["lang_classes"][code]]
        return tuple(values)
