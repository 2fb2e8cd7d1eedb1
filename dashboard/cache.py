"""Pages rendered once per data version (:mod:`hydro.services.cache`), and the station
page's callback responses kept as the bytes sent.

A page whose layout depends only on its URL and the stored data (the station page: no
"now", no user) is rendered once per URL and data version and the component tree is
shared by the requests that follow (Dash only serialises it; the pages never modify a
layout after returning it).  A provider without a store (tests, previews) renders every
time.

:func:`install` goes further for the station page: the response of Dash's router callback
for a ``/station/...`` URL and of its hydrographs' zoom callback depends only on the
request's body (the URL, the zoom range) and the stored data, so the JSON bytes are kept
per body and data version and sent again without rendering or encoding.  It is installed
after the login guard (:mod:`dashboard.auth`): a request is authenticated and authorised
before a cached response is looked up, and the response still passes every
``after_request`` hook (session, CSRF cookie).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from typing import TypeVar

import dash
import flask

from dashboard.provider import DataProvider
from hydro.services import cache

T = TypeVar("T")


def _hashable(value: object) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    return value if isinstance(value, Hashable) else repr(value)


def page(provider: DataProvider, name: str, key: tuple, render: Callable[[], T]) -> T:
    """``render()`` remembered under ``name`` and ``key`` (the URL's parameters) until the
    provider's store changes."""
    engine = getattr(provider, "engine", None)
    if engine is None:
        return render()
    return cache.memo(engine, name, _hashable(key), render)


#: the callbacks whose response depends only on the request body and the stored data
_STATION_OUTPUTS = ("_pages_content.children", "station-stage-graph.figure",
                    "station-discharge-graph.figure")
_G_KEY = "hydrorisk_response_key"


def cacheable(body: bytes) -> bool:
    """Whether a ``/_dash-update-component`` body asks for the station page's layout (Dash
    Pages' router for a ``/station/...`` path) or one of its hydrographs' zoom."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    output = str(payload.get("output", ""))
    if not any(o in output for o in _STATION_OUTPUTS):
        return False
    values = [x.get("value") for key in ("inputs", "state")
              for x in payload.get(key) or [] if isinstance(x, dict)
              and x.get("id") == "_pages_location" and x.get("property") == "pathname"]
    return any(isinstance(v, str) and v.startswith("/station/") for v in values)


def install(app: dash.Dash, provider: DataProvider) -> None:
    """Serve the station page's callback responses from the cache (see the module docs).
    Call it after the login guard is installed."""
    engine = getattr(provider, "engine", None)
    if engine is None:
        return
    server = app.server

    def lookup() -> flask.Response | None:
        request = flask.request
        if request.method != "POST" or request.path != "/_dash-update-component":
            return None
        lru = cache.named(engine, "responses")
        body = request.get_data(cache=True)
        if lru is None or not cacheable(body):
            return None
        key = (cache.data_version(engine), hashlib.sha256(body).hexdigest())
        hit = lru.peek(key)
        if hit is not None:
            return flask.Response(hit, mimetype="application/json")
        setattr(flask.g, _G_KEY, key)
        return None

    def keep(response: flask.Response) -> flask.Response:
        key = getattr(flask.g, _G_KEY, None)
        lru = cache.named(engine, "responses")
        if key is not None and lru is not None and response.status_code == 200 \
                and response.mimetype == "application/json" and not response.is_streamed:
            lru.put(key, response.get_data())
        return response

    server.before_request(lookup)
    server.after_request(keep)
