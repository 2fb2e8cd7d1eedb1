"""The Dash application: :func:`create_app` builds it from a configuration.

    from hydro.config import load_config
    from dashboard.app import create_app

    create_app(load_config("config")).run(host="127.0.0.1", port=8050)

Nothing here touches the store at import time; the store is opened by ``create_app`` (or
given to it).  Pages live in ``dashboard/pages`` (Dash Pages); the app shell — navbar with
the language switcher — is defined here.  Bootstrap's CSS is served from
``dashboard/assets`` so the dashboard works on a network without internet access.

Every page takes ``?lang=`` (kk, ru, en), ``?date=`` (the day shown) and ``?asof=`` (what
had been received by then); the navbar's links and the language switch keep them.  The
shell shows the time banners (data old, date outside the stored period, as-of replay) on
every page, sets ``<html lang>`` (in the served HTML and on client-side navigation), and
answers unknown paths with HTTP 404.
"""

from __future__ import annotations

import html as html_text
import importlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import dash
import dash_bootstrap_components as dbc
import flask
from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboard import components as ui
from dashboard import timequery
from dashboard.context import AppContext, attach, current
from dashboard.i18n import LANGUAGE_NAMES, LANGUAGES, query_string, resolve_lang, t, t_or
from dashboard.ids import Shell
from dashboard.provider import DataProvider, make_provider
from hydro.config import Config
from hydro.services.context import Store

PACKAGE_DIR = Path(__file__).resolve().parent
PAGES_DIR = PACKAGE_DIR / "pages"
ASSETS_DIR = PACKAGE_DIR / "assets"
TITLE = "hydrorisk"
#: view modules whose callbacks are registered on each app
VIEW_MODULES = ("dashboard.views.stations", "dashboard.views.station",
                "dashboard.views.bulletin", "dashboard.views.quality",
                "dashboard.views.commission", "dashboard.views.upload",
                "dashboard.views.scenarios", "dashboard.components")
LANG_IDS = {"kk": Shell.LANG_KK, "ru": Shell.LANG_RU, "en": Shell.LANG_EN}


def create_app(config: Config, engine: Store | None = None,
               provider: DataProvider | None = None,
               clock: timequery.Clock | None = None, secret_key: str | None = None,
               demo: bool | None = None) -> dash.Dash:
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
    clock : callable, optional
        Returns the current time, naive UTC (default: the machine's); tests inject "today".
    secret_key : str, optional
        Signs the session cookies (default: ``$HYDRORISK_SECRET_KEY`` or the generated
        ``var/secret_key``, :func:`hydro.services.accounts.secret_key`).
    demo : bool, optional
        Whether the login page tells how to log in to the demonstration (default: whether
        the ``demo``/``demo`` account exists).  Every route and callback needs a login
        (:mod:`dashboard.auth`).

    Returns
    -------
    dash.Dash
        Run it with ``app.run(host=..., port=...)``; ``app.server`` is the Flask WSGI app.
    """
    if provider is None:
        provider = make_provider(config, engine)
    default = config.settings.dashboard.language
    app = HydroDash(
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
    app.default_lang = default
    attach(app, AppContext(config=config, provider=provider,
                           clock=clock or timequery.utcnow))
    app.layout = shell_layout(default)
    register_shell_callbacks(app, default)
    # login, CSRF and roles first: an unauthenticated request gets the login page, not a 404
    from dashboard import auth
    from hydro.services.accounts import secret_key as deployment_secret_key

    store = engine if engine is not None else getattr(provider, "engine", None)
    if store is None:
        from hydro.services.context import open_store

        store = open_store(config)
    auth.install(app, store, secret_key or deployment_secret_key(config), demo=demo,
                 default_lang=default)
    from dashboard import cache as page_cache
    from dashboard.views import stations as stations_view

    # after the login guard: the overview's and the station page's responses
    page_cache.install(app, provider, clock=clock or timequery.utcnow, pages=(
        page_cache.CachedPage("/", state=stations_view.response_state, alerts=True),
        page_cache.STATION_PAGE))
    app.server.before_request(not_found_hook(app))
    for name in VIEW_MODULES:
        importlib.import_module(name).register_callbacks(app)
    return app


class HydroDash(dash.Dash):
    """Dash with ``<html lang>`` set from the request's ``?lang=`` in the served HTML."""

    default_lang = "en"

    def interpolate_index(self, *args: Any, **kwargs: Any) -> Any:
        index = super().interpolate_index(*args, **kwargs)
        lang = request_lang(self.default_lang)
        return re.sub(r"<html[^>]*>", f'<html lang="{lang}">', index, count=1)


def request_lang(default: str) -> str:
    """The language of the current HTTP request's ``?lang=`` (``default`` outside one)."""
    if not flask.has_request_context():
        return resolve_lang(None, default)
    return resolve_lang(flask.request.args.get("lang"), default)


# --------------------------------------------------------------------------- 404

def page_paths() -> list[tuple[re.Pattern[str], dict]]:
    """A pattern for the path of every registered page (``/station/<id>``: one segment,
    captured by name), with the page."""
    out = []
    for page in dash.page_registry.values():
        if page["module"].split(".")[-1] == "not_found_404":
            continue
        template = page.get("path_template") or page["path"]
        pattern, at = "", 0
        for m in re.finditer(r"<([^>]+)>", template.strip("/")):
            pattern += re.escape(template.strip("/")[at:m.start()]) + f"(?P<{m.group(1)}>[^/]+)"
            at = m.end()
        pattern += re.escape(template.strip("/")[at:])
        out.append((re.compile("^" + pattern + "$"), page))
    return out


def is_page(path: str) -> bool:
    """Whether ``path`` is a registered page's path (trailing slash ignored).

    A page registered with ``exists=<callable>`` (``dash.register_page`` keeps extra
    keywords) is asked whether its path variables name something that exists, e.g.
    ``exists=lambda station_id: ...`` for ``/station/<station_id>``.
    """
    stripped = path.strip("/")
    for pattern, page in page_paths():
        m = pattern.match(stripped)
        if m is None:
            continue
        exists = page.get("exists")
        if callable(exists):
            from urllib.parse import unquote

            try:
                return bool(exists(**{k: unquote(v) for k, v in m.groupdict().items()}))
            except Exception:  # noqa: BLE001 - a failing check is not a missing page
                return True
        return True
    return False


def not_found_hook(app: dash.Dash):
    """A Flask ``before_request`` hook: a GET of a path that is no page and no Dash or Flask
    route answers 404 with the localised "page not found" page (Dash would answer 200)."""

    def hook():
        request = flask.request
        if request.method not in ("GET", "HEAD"):
            return None
        rule = request.url_rule
        if rule is not None and rule.rule not in ("/", "/<path:path>"):
            return None     # a route of its own: Dash's (/_dash-layout, /assets/...), a download
        if is_page(request.path):
            return None
        lang = request_lang(getattr(app, "default_lang", "en"))
        index = app.index()
        title = html_text.escape(f"{t('notfound.title', lang)} — {TITLE}")
        index = re.sub(r"<title>.*?</title>", f"<title>{title}</title>", index, count=1,
                       flags=re.S)
        return flask.Response(index, status=404, mimetype="text/html")

    return hook


# --------------------------------------------------------------------------- shell

def nav_pages() -> list[dict]:
    """The pages the navbar links: every registered page without path variables, in
    their ``order`` (the station page, reached from a station, is not one of them)."""
    pages = [p for p in dash.page_registry.values()
             if not p.get("path_template") and p["module"].split(".")[-1] != "not_found_404"]
    return sorted(pages, key=lambda p: (p.get("order") if p.get("order") is not None else 99,
                                        p["path"]))


def nav_id(page: dict) -> str:
    return f"shell-nav-{page['name']}".replace(" ", "-").replace("_", "-")


def shell_layout(lang: str) -> html.Div:
    """Navbar (brand, page links, language switcher), the time banners and the Pages
    container."""
    state = shell_state("/", "", lang)
    lang_links = [
        dcc.Link(LANGUAGE_NAMES[code], id=LANG_IDS[code], href=state["lang_hrefs"][code],
                 className=state["lang_classes"][code], title=LANGUAGE_NAMES[code])
        for code in LANGUAGES
    ]
    nav_links = [dcc.Link(link["text"], id=link["id"], href=link["href"],
                          className=link["className"]) for link in state["nav"]]
    # aria-* attributes are not identifiers: they go through the component's **kwargs (Any:
    # mypy checks a **dict against every typed keyword)
    group_attrs: dict[str, Any] = {"aria-label": t("nav.language", lang)}
    navbar = dbc.Navbar(
        dbc.Container([
            html.A(TITLE, href="/", className="navbar-brand brand"),
            html.Span(state["tagline"], id=Shell.TAGLINE, className="navbar-text tagline"),
            html.Div([
                html.Div(nav_links, className="nav-pages"),
                html.Div(lang_links, id=Shell.LANG_SWITCH, className="lang-switch",
                         role="group", **group_attrs),
                html.Div(id="shell-user", className="user-box"),   # dashboard.auth.user_box
            ], className="navbar-right"),
        ], fluid=True),
        color="dark", dark=True, className="app-navbar",
    )
    return html.Div([
        dcc.Location(id=Shell.NAVIGATE, refresh="callback-nav"),
        dcc.Store(id=Shell.DEFAULT_LANG, data=lang),
        dcc.Store(id=Shell.LANG),
        navbar,
        dbc.Container([html.Div(id=Shell.TIME_BANNERS, className="time-banners"),
                       dash.page_container], fluid=True, className="page-body"),
    ])


def shell_state(pathname: str | None, search: str | None, default_lang: str) -> dict:
    """Texts and links of the navbar for the current URL (pure; the callback's body).

    Every link keeps the query (``lang``, ``date``, ``asof``); the language links change
    only ``lang``.
    """
    params = dict(parse_qsl((search or "").lstrip("?")))
    lang = resolve_lang(params.get("lang"), default_lang)
    path = pathname or "/"
    keep = query_string(search, lang=lang)
    nav = []
    for page in nav_pages():
        active = path.rstrip("/") == page["path"].rstrip("/")
        nav.append({"id": nav_id(page), "href": page["path"] + keep,
                    "text": t_or(f"nav.{page['name']}", lang, str(page["name"])),
                    "className": "nav-page active" if active else "nav-page"})
    return {
        "lang": lang,
        "tagline": t("app.tagline", lang),
        "language_label": t("nav.language", lang),
        "nav_stations": t("nav.stations", lang),
        "stations_href": "/" + keep,
        "nav": nav,
        "lang_hrefs": {code: path + query_string(search, lang=code) for code in LANGUAGES},
        "lang_classes": {code: "lang-link active" if code == lang else "lang-link"
                         for code in LANGUAGES},
    }


def time_banners(pathname: str | None, search: str | None, default_lang: str) -> list:
    """The time banners of the current URL (:func:`dashboard.timequery.resolve`)."""
    params = dict(parse_qsl((search or "").lstrip("?")))
    lang = resolve_lang(params.get("lang"), default_lang)
    ctx = current()
    when = timequery.resolve(ctx.provider, lang, params.get("date"), params.get("asof"),
                             now=ctx.now())
    return ui.time_banners(when.notices, lang, search, pathname or "/")


def register_shell_callbacks(app: dash.Dash, default_lang: str) -> None:
    pages = nav_pages()
    outputs = [Output(Shell.TAGLINE, "children")]
    for page in pages:
        outputs += [Output(nav_id(page), "children"), Output(nav_id(page), "href"),
                    Output(nav_id(page), "className")]
    for code in LANGUAGES:
        outputs += [Output(LANG_IDS[code], "href"), Output(LANG_IDS[code], "className")]
    outputs.append(Output(Shell.TIME_BANNERS, "children"))
    outputs.append(Output(Shell.LANG_SWITCH, "aria-label"))

    @app.callback(*outputs, Input(Shell.PAGES_LOCATION, "pathname"),
                  Input(Shell.PAGES_LOCATION, "search"))
    def update_shell(pathname, search):
        s = shell_state(pathname, search, default_lang)
        values = [s["tagline"]]
        for link in s["nav"]:
            values += [link["text"], link["href"], link["className"]]
        for code in LANGUAGES:
            values += [s["lang_hrefs"][code], s["lang_classes"][code]]
        values.append(time_banners(pathname, search, default_lang))
        values.append(s["language_label"])
        return tuple(values)

    # <html lang> and the date picker's month and day names follow the URL's language on
    # client-side navigation (assets/hydrorisk-lang.js)
    app.clientside_callback(
        ClientsideFunction(namespace="hydrorisk", function_name="setLanguage"),
        Output(Shell.LANG, "data"),
        Input(Shell.PAGES_LOCATION, "search"),
        State(Shell.DEFAULT_LANG, "data"),
    )
