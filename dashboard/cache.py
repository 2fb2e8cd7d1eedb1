"""Pages rendered once per data version (:mod:`hydro.services.cache`), and the callback
responses of the overview and the station page kept as the bytes sent.

A page whose layout depends only on its URL and the stored data (the station page: no
"now", no user) is rendered once per URL and data version and the component tree is
shared by the requests that follow (Dash only serialises it; the pages never modify a
layout after returning it).  A provider without a store (tests, previews) renders every
time.

:func:`install` goes further for the pages listed as :class:`CachedPage`: the response of
Dash's router callback for a ``/station/...`` URL and of its hydrographs' zoom callback
depends only on the request's body (the URL, the zoom range) and the stored data, so the
JSON bytes are kept per body and data version and sent again without rendering or
encoding.  The overview (``/``) also depends on the alerts and on the current time --
through today's date and which readings are silent at it, its
:attr:`CachedPage.state` -- so its responses are kept per body, state, data version and
alerts version.  No page kept this way shows anything of the user (the same bytes are
right for every user allowed to see the page).  It is installed
after the login guard (:mod:`dashboard.auth`): a request is authenticated and authorised
before a cached response is looked up, and the response still passes every
``after_request`` hook (session, CSRF cookie).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast
from urllib.parse import parse_qsl

import dash
import flask
import plotly.graph_objects as go

from dashboard.i18n import resolve_lang
from dashboard.provider import DataProvider
from dashboard.timequery import utcnow
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
    """``figure`` itself, made a :class:`SharedFigure` (the caller hands it over and no
    longer modifies it).  Its class is changed in place rather than the figure copied:
    ``SharedFigure(figure)`` would validate every trace again (a third of the overview
    map's cost); :class:`SharedFigure` adds no state, only the serialisation kept."""
    if type(figure) is not go.Figure:
        return SharedFigure(figure)
    figure.__class__ = SharedFigure
    return cast(SharedFigure, figure)


#: the callbacks whose response can be kept: Dash Pages' router (a page's layout) and the
#: station page's hydrograph zoom
_ROUTER_OUTPUT = "_pages_content.children"
_ZOOM_OUTPUTS = ("station-stage-graph.figure", "station-discharge-graph.figure")
_G_KEY = "hydrorisk_response_key"
_G_COUNTED = "hydrorisk_request_counted"

#: ``state(provider, lang, date, asof, now)``: what a page shows depends on besides its URL,
#: the stored data and (``alerts``) the alerts -- e.g. the current time
PageState = Callable[[DataProvider, str, str | None, str | None, dt.datetime], Hashable]


@dataclass(frozen=True)
class CachedPage:
    """A page whose router-callback responses :func:`install` keeps as bytes.

    ``prefix``: the URL paths (``"/station/"``: every station page; ``"/"`` alone: that
    path only).  ``state``: what else the page depends on (None: nothing -- the URL and
    the stored data decide it).  ``alerts``: the page shows the alerts (kept per alerts
    version too).  ``zoom``: the station page's hydrograph zoom callbacks are kept too."""

    prefix: str
    state: PageState | None = None
    alerts: bool = False
    zoom: bool = False

    def matches(self, path: str) -> bool:
        if self.prefix != "/" and self.prefix.endswith("/"):
            return path.startswith(self.prefix)
        return path == self.prefix


#: the station page: a function of its URL and the stored data
STATION_PAGE = CachedPage("/station/", zoom=True)


def _location(payload: dict) -> tuple[str | None, str]:
    """(pathname, search) of the ``_pages_location`` inputs or states of a callback body."""
    found: dict[str, object] = {}
    for part in ("inputs", "state"):
        for x in payload.get(part) or []:
            if isinstance(x, dict) and x.get("id") == "_pages_location":
                found.setdefault(str(x.get("property")), x.get("value"))
    path, search = found.get("pathname"), found.get("search")
    return (path if isinstance(path, str) else None,
            search if isinstance(search, str) else "")


def cached_page(body: bytes, pages: Sequence[CachedPage] = (STATION_PAGE,)
                ) -> tuple[CachedPage, str] | None:
    """The page of ``pages`` (and its URL's query) whose kept response a
    ``/_dash-update-component`` body asks for: Dash Pages' router for its path, or a
    station hydrograph's zoom; None for any other callback."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    output = str(payload.get("output", ""))
    path, search = _location(payload)
    if path is None:
        return None
    for page in pages:
        if page.matches(path) and (_ROUTER_OUTPUT in output
                                    or (page.zoom and any(o in output for o in _ZOOM_OUTPUTS))):
            return page, search
    return None


#: the response header that marks data served from an older data version while the newer
#: one was being computed: the data time (UTC, ISO 8601) of the oldest such data
STALE_HEADER = "X-Hydrorisk-Data-As-Of"


def install(app: dash.Dash, provider: DataProvider,
            pages: Sequence[CachedPage] = (STATION_PAGE,),
            clock: Callable[[], dt.datetime] | None = None) -> None:
    """Serve the router-callback responses of ``pages`` (and the station page's zoom) from
    the cache (see the module docs).  Call it after the login guard is installed.
    ``clock``: the current time, naive UTC (the app's; for :attr:`CachedPage.state`).

    A response is kept under its request body and the page's state, for the data version
    (and the alerts version, for a page that shows alerts).  Stale-while-revalidate,
    single-flight (:meth:`hydro.services.cache.LRU.claim`): after an ingest the first
    request for a body renders it afresh; requests for the same body meanwhile get the
    previous version's bytes at once, with :data:`STALE_HEADER` giving their data time (any
    response that used a stale cached value carries it)."""
    engine = getattr(provider, "engine", None)
    if engine is None:
        return
    server = app.server
    now = clock or utcnow
    state_keys = cache.LRU(maxsize=256)      # request body -> key of its newest state

    def lookup() -> flask.Response | None:
        cache.begin_request()
        cache.request_started()          # under load, refreshes run in the background
        setattr(flask.g, _G_COUNTED, True)
        request = flask.request
        if request.method != "POST" or request.path != "/_dash-update-component":
            return None
        lru = cache.named(engine, "responses")
        body = request.get_data(cache=True)
        found = cached_page(body, pages) if lru is not None else None
        if lru is None or found is None:
            return None
        page, search = found
        digest = hashlib.sha256(body)
        body_key = digest.hexdigest()
        data = cache.data_version(engine)
        cache.pin_version(engine, data)      # a page only reads: one version throughout
        extra: tuple = ()
        if page.alerts:
            from hydro.services import alerts

            extra = (alerts.version(engine),)
        if page.state is not None:
            query = dict(parse_qsl(search.lstrip("?")))
            lang = resolve_lang(query.get("lang"), provider.config.settings.dashboard.language)
            try:
                state = page.state(provider, lang, query.get("date"), query.get("asof"), now())
            except Exception:  # noqa: BLE001 - the page itself will report it: not kept
                return None
            digest.update(repr(state).encode())
        key = digest.hexdigest()
        version = (data, *extra)
        while True:
            entry, mine = lru.claim(key, version)
            if mine:
                setattr(flask.g, _G_KEY, (key, version, utcnow(), body_key))
                return None
            if entry is not None:
                return flask.Response(entry.value, mimetype="application/json")
            # another request renders this body's first response in a new state (new
            # readings, or the clock, changed which are silent): under load, the response
            # of its previous state is served meanwhile, marked stale like any other
            other = state_keys.peek(body_key) if cache.busy() else None
            previous = lru.newest(other) if other is not None else None
            if previous is not None:
                cache.note_stale(previous)
                return flask.Response(previous.value, mimetype="application/json")
            lru.wait(key)                    # first render of this body: wait for it

    def keep(response: flask.Response) -> flask.Response:
        claimed = getattr(flask.g, _G_KEY, None)
        lru = cache.named(engine, "responses")
        if claimed is not None and lru is not None:
            key, version, started, body_key = claimed
            if response.status_code == 200 and response.mimetype == "application/json" \
                    and not response.is_streamed:
                # rendered from a stale cached value (of an older data version): kept
                # under that version, so that the next request renders it afresh
                older = cache.stale_version()
                if older is not None and older < version[0]:
                    version = (older, *version[1:])
                lru.store(key, version, response.get_data(), data_time=started)
                if key != body_key:
                    state_keys.put(body_key, key)     # the body's newest state
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
        cache.end_request()
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
