"""What a page needs from the app it runs in: the configuration and the data provider.

:func:`dashboard.app.create_app` attaches an :class:`AppContext` to the Dash app; page
layouts and callbacks fetch it with :func:`current`, so no module holds global state and
several apps (tests) can live in one process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dash

from dashboard.provider import DataProvider
from dashboard.timequery import Clock, utcnow
from hydro.config import Config

_ATTRIBUTE = "hydrorisk_context"


@dataclass(frozen=True)
class AppContext:
    config: Config
    provider: DataProvider
    clock: Clock = utcnow      # the current time, naive UTC (injected by tests)

    def now(self) -> dt.datetime:
        return self.clock()

    @property
    def default_language(self) -> str:
        return self.config.settings.dashboard.language


def attach(app: dash.Dash, context: AppContext) -> None:
    setattr(app, _ATTRIBUTE, context)
    # the Dash app of this Flask server, for requests: a process may hold several apps
    # (tests), and dash.get_app() is the thread's first, not this request's
    app.server.extensions["hydrorisk_dash_app"] = app


def of_app(app: dash.Dash) -> AppContext:
    """The context :func:`attach` gave ``app`` (for the callbacks and routes a view
    registers on its app)."""
    return getattr(app, _ATTRIBUTE)


def serving_app() -> dash.Dash:
    """The Dash app of the current Flask app context -- the one serving the request, or
    the one whose ``app_context()`` a task runs in (a cache refresh in the background
    carries it: :mod:`hydro.services.cache`) -- as :func:`attach` registered it on its
    server; ``dash.get_app()`` (the thread's first app) only outside any app context."""
    import flask

    if flask.has_app_context():
        app = flask.current_app.extensions.get("hydrorisk_dash_app")
        if app is not None:
            return app
    return dash.get_app()


def current() -> AppContext:
    """The context of the app serving the current request or task (:func:`serving_app`)."""
    context = getattr(serving_app(), _ATTRIBUTE, None)
    if context is None:
        raise RuntimeError(
            "this Dash app has no hydrorisk context; create it with "
            "dashboard.app.create_app(config)"
        )
    return context


def acting_user(name_input: object, role: str = "operator") -> str | None:
    """Who is acting (acknowledging an alert …): in a request, the logged-in account's name
    — the page's "your name" field is ignored — and the request ends with HTTP 403 (audited)
    unless the account has ``role`` (:func:`dashboard.auth.require`, so the callback is
    guarded on the server whatever the page shows).  Outside a request (functions called
    directly), the name field, stripped; None when it is empty."""
    import flask

    from dashboard import auth

    if flask.has_request_context():
        return auth.require(role).name
    if not isinstance(name_input, str):
        return None
    return name_input.strip() or None
