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
import itertools
import json
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import TypeVar

import dash
import flask
import plotly.graph_objects as go

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


_owners: dict[int, tuple[weakref.ref, int]] = {}
_owners_lock = threading.RLock()  # re-entrant: a weakref callback may run inside
_owner_seq = itertools.count(1)
_derived = cache.LRU(maxsize=64)


def _owner_number(owner: object) -> int:
    """A number per owner object, increasing in the order owners are first seen (a newer
    report has a higher one); forgotten when the owner is collected."""
    ident = id(owner)
    with _owners_lock:
        held = _owners.get(ident)
        if held is not None and held[0]() is owner:
            return held[1]

        def gone(ref: weakref.ref, ident: int = ident) -> None:
            with _owners_lock:
                if ident in _owners and _owners[ident][0] is ref:
                    del _owners[ident]

        number = next(_owner_seq)
        _owners[ident] = (weakref.ref(owner, gone), number)
        return number


def derived(owner: object, name: str, key: tuple, build: Callable[[], T]) -> T:
    """``build()`` for ``owner``, under ``name`` and ``key``: built once per owner.

    ``owner`` is a cached, shared and never modified value (the overview's
    :class:`~dashboard.status.StationReport`, one object per data version, day and
    knowledge time): what is drawn from it alone -- the map figure, the tables -- is then
    built once per report and language instead of once per request.  Like every cache
    here it is stale-while-revalidate and single-flight (:meth:`hydro.services.cache.LRU.latest`):
    while one request builds it for a new report, the others get the one built for the
    previous report (recorded as stale) -- so ``key`` must hold whatever tells reports
    apart other than their age (the provider, day, knowledge time).  With the caches off
    it is built every time."""
    if not cache.enabled():
        return build()
    return _derived.latest((name, _hashable(key)), (_owner_number(owner),), build)


class SharedFigure(go.Figure):
    """A plotly figure shared between requests and never modified (see :func:`derived`):
    serialised once.  A plain ``go.Figure`` deep-copies and re-encodes itself every time
    Dash sends it (the overview's map: most of the page's cost)."""

    def to_plotly_json(self) -> dict:
        done = self.__dict__.get("_hydrorisk_json")
        if done is None:
            done = self.__dict__["_hydrorisk_json"] = super().to_plotly_json()
        return done


def shared_figure(figure: go.Figure) -> SharedFigure:
    """``figure`` as a :class:`SharedFigure` (the same traces and layout)."""
    return SharedFigure(figure)


#: the callbacks whose response depends only on the request body and the stored data
_STATION_OUTPUTS = ("_pages_content.children", "station-stage-graph.figure",
                    "station-discharge-graph.figure")
_G_KEY = "hydrorisk_response_key"
_G_COUNTED = "hydrorisk_request_counted"


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


#: the response header that marks data served from an older data version while the newer
#: one was being computed: the data time (UTC, ISO 8601) of the oldest such data
STALE_HEADER = "X-Hydrorisk-Data-As-Of"


def install(app: dash.Dash, provider: DataProvider) -> None:
    """Serve the station page's callback responses from the cache (see the module docs).
    Call it after the login guard is installed.

    Stale-while-revalidate, single-flight (:meth:`hydro.services.cache.LRU.claim`): after
    an ingest the first request for a body renders it afresh; requests for the same body
    meanwhile get the previous version's bytes at once, with :data:`STALE_HEADER` giving
    their data time (any response that used a stale cached value carries it)."""
    engine = getattr(provider, "engine", None)
    if engine is None:
        return
    server = app.server

    def lookup() -> flask.Response | None:
        cache.begin_request()
        cache.request_started()          # under load, refreshes run in the background
        setattr(flask.g, _G_COUNTED, True)
        request = flask.request
        if request.method != "POST" or request.path != "/_dash-update-component":
            return None
        lru = cache.named(engine, "responses")
        body = request.get_data(cache=True)
        if lru is None or not cacheable(body):
            return None
        key = hashlib.sha256(body).hexdigest()
        version = cache.data_version(engine)
        while True:
            entry, mine = lru.claim(key, version)
            if mine:
                setattr(flask.g, _G_KEY, (key, version))
                return None
            if entry is not None:
                return flask.Response(entry.value, mimetype="application/json")
            lru.wait(key)                    # first render of this body: wait for it

    def keep(response: flask.Response) -> flask.Response:
        claimed = getattr(flask.g, _G_KEY, None)
        lru = cache.named(engine, "responses")
        if claimed is not None and lru is not None:
            key, version = claimed
            if response.status_code == 200 and response.mimetype == "application/json" \
                    and not response.is_streamed:
                # rendered from a stale cached value: kept under that value's version
                older = cache.stale_version()
                lru.store(key, version if older is None else min(older, version),
                          response.get_data())
            else:
                lru.release(key)
            setattr(flask.g, _G_KEY, None)
        stale = cache.stale_served()
        if stale is not None:
            response.headers[STALE_HEADER] = stale.isoformat(timespec="seconds") + "Z"
        return response

    def release(_error: BaseException | None) -> None:
        """A request that claimed a render and failed before :func:`keep` gives it up;
        the request is no longer counted as in flight."""
        claimed = getattr(flask.g, _G_KEY, None)
        lru = cache.named(engine, "responses")
        if claimed is not None and lru is not None:
            lru.release(claimed[0])
        if getattr(flask.g, _G_COUNTED, False):
            setattr(flask.g, _G_COUNTED, False)
            cache.request_finished()

    server.before_request(lookup)
    server.after_request(keep)
    server.teardown_request(release)
