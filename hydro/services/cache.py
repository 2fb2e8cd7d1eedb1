"""Caches of what does not change between requests, dropped when the store's data change.

The key of every entry starts with the store's *data version*
(:func:`hydro.store.api.data_version`: the newest observation segment id, ingest run id
and forecast run id, three primary-key maxima read in one statement).  Every stored value
adds a segment and nothing is updated in place, so an ingest (or a QC re-check, which
writes new revisions, or a stored forecast or outlook) changes the version and the next
request computes afresh; until then the entries are reused.  Entries of an older version
are never read again and age out of the LRU.

    from hydro.services import cache

    value = cache.memo(store, "station_climate", (station_id, end, known_at), compute)

Stale-while-revalidate, single-flight (:meth:`LRU.latest`, which :func:`memo` uses): each
key keeps only its newest computed entry, with the data version it was computed for and
its *data time* (when that computation started, UTC).  A request whose data version is
newer than the entry computes the new entry itself -- unless another request is already
computing that key, in which case it is served the previous entry at once (counted as a
stale hit and recorded for the request, :func:`stale_served`, so the page can say which
data it shows) instead of waiting or computing it again.  With no previous entry it waits
for that computation.  One computation per key at a time, whatever the number of clients;
and once a newer entry is stored nothing older is ever served (entries only move forward).
Under load (other requests in flight: :func:`busy`, counted by the dashboard) the caller
that finds a key out of date does not compute it either: the refresh runs in a background
thread with the caller's context, and every request is served the previous entry until
the new one is stored.  During a burst of ingests 20 clients therefore cost one
recomputation at a time, not 20, and no request waits for one; a single client (or a
test) computes inline and always sees the newest data on its next request.  Under load a
key is also refreshed at most once per :data:`REFRESH_SPACING` seconds (its entry's data
time is that recent: it is served, counted stale): a burst of ingests (a file every 0.1 s)
would otherwise keep the server recomputing the same pages back to back, each one
outdated before it is finished, and starve the requests it is meant to serve.  The pages
then lag the store by at most that long plus one computation, and say so
(:func:`stale_served`).

Each store (SQLAlchemy engine) has its own caches, held weakly: a disposed and
collected engine takes its caches with it.  ``HYDRORISK_NO_CACHE=1`` in the environment
(or :func:`set_enabled`) turns caching off, e.g. to measure a baseline (bench/dashboard.py).

Nothing here writes SQL (:mod:`hydro.store.api` reads the version).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from hydro.services.context import Store
from hydro.store import api

__all__ = ["LRU", "CacheStats", "Entry", "data_version", "memo", "named", "stats", "clear",
           "set_enabled", "enabled", "MAXSIZE", "begin_request", "stale_served", "note_stale",
           "REFRESH_SPACING", "pin_version", "end_request"]

T = TypeVar("T")

#: most entries per named cache per store
MAXSIZE: dict[str, int] = {"station_climate": 256, "station_view": 64, "latest_readings": 64,
                           "station_report": 64, "station_page": 128, "responses": 256,
                           "open_alerts": 64}
DEFAULT_MAXSIZE = 128

_enabled = os.environ.get("HYDRORISK_NO_CACHE", "").strip().lower() in ("", "0", "false", "no")

#: under load (:func:`busy`), the fewest seconds between two refreshes of one key:
#: ``HYDRORISK_CACHE_REFRESH`` sets it (0: refresh on every new data version)
REFRESH_SPACING = float(os.environ.get("HYDRORISK_CACHE_REFRESH", "1") or 0)


def set_enabled(on: bool) -> None:
    """Turn every cache on or off (off: :func:`memo` always computes)."""
    global _enabled
    _enabled = bool(on)


def enabled() -> bool:
    return _enabled


@dataclass
class CacheStats:
    """Counts of one named cache of one store since it was created (or cleared)."""

    hits: int = 0
    misses: int = 0
    #: hits served an older data version's entry while the new one was being computed
    stale: int = 0


@dataclass(frozen=True)
class Entry:
    """A key's newest computed value: the data version it was computed for and its data
    time (naive UTC: when the computation started, i.e. the data it shows are the store's
    as of then)."""

    version: Any
    value: Any
    data_time: dt.datetime


#: the stale entries served in the current request (or thread's task): a list shared by
#: the contexts copied from the request's (Dash runs each callback in a copy, and what a
#: copy sets is not seen outside it; what it appends to this list is)
_stale: contextvars.ContextVar[list[Entry] | None] = contextvars.ContextVar(
    "hydrorisk_stale", default=None)


#: the data version a read-only request was pinned to (:func:`pin_version`): (store, version)
_pinned: contextvars.ContextVar[tuple[Any, Any] | None] = contextvars.ContextVar(
    "hydrorisk_pinned", default=None)


def begin_request() -> None:
    """Forget the stale entries recorded and the version pinned so far in this context
    (call at a request's start: server threads are reused)."""
    _stale.set([])
    _pinned.set(None)


def end_request() -> None:
    """Unpin the data version (call when a request ends: the thread, or a test calling
    the app in its own thread, goes on to read other versions)."""
    _pinned.set(None)


def pin_version(store: Store, version: Any) -> None:
    """Read ``store``'s data version once for the rest of this request (or task): a
    read-only request -- a page -- then shows one version throughout and asks the store
    for it once instead of once per cached part.  Never for a request that writes (its
    own writes would not be seen)."""
    _pinned.set((store, version))


#: set in a background refresh: the values it builds on are waited for, never stale
_in_refresh: contextvars.ContextVar[bool] = contextvars.ContextVar("hydrorisk_refresh",
                                                                 default=False)

_in_flight = 0
_in_flight_lock = threading.Lock()


def request_started() -> None:
    """A request is being served (the dashboard counts them: :func:`busy`)."""
    global _in_flight
    with _in_flight_lock:
        _in_flight += 1


def request_finished() -> None:
    global _in_flight
    with _in_flight_lock:
        _in_flight = max(0, _in_flight - 1)


def busy() -> bool:
    """Whether other requests are being served besides the caller's: then a key's
    refresh runs in the background and the caller, too, is served the previous entry."""
    return _in_flight > 1


def _recent(entry: Entry) -> bool:
    """Whether, under load, ``entry`` is too recent to be refreshed yet
    (:data:`REFRESH_SPACING`)."""
    if REFRESH_SPACING <= 0 or not busy():
        return False
    return (_utcnow() - entry.data_time).total_seconds() < REFRESH_SPACING


def note_stale(entry: Entry) -> None:
    """Record that this request was served ``entry`` although it is not current
    (:func:`stale_served`; the caches do, and so does a caller that chose an older entry
    itself)."""
    seen = _stale.get()
    if seen is None:
        seen = []
        _stale.set(seen)
    seen.append(entry)


def stale_served() -> dt.datetime | None:
    """The oldest data time of the stale entries served in this context since
    :func:`begin_request`, or None when everything served was current."""
    seen = _stale.get() or []
    return min(e.data_time for e in seen) if seen else None


def stale_version(since: int = 0) -> Any | None:
    """The oldest data version among the stale entries served in this context (those
    after the first ``since`` of them), or None.  A value computed from a stale entry is
    kept under that version, not the newer one asked for, so it is recomputed."""
    seen = (_stale.get() or [])[since:]
    return min(e.version for e in seen) if seen else None


def stale_count() -> int:
    """How many stale entries this context has been served so far (for ``since``)."""
    return len(_stale.get() or [])


class LRU:
    """A thread-safe least-recently-used mapping of at most ``maxsize`` entries.

    The computation of a missing entry runs outside the lock (one slow entry never blocks
    the others) and once: threads asking for a key already being computed wait for that
    result instead of computing it again (20 clients opening the same page after an ingest
    cost one computation, not 20).  If that computation fails, each waiter computes.
    """

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._running: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.stats = CacheStats()
        # stale-while-revalidate: key -> newest Entry; keys being computed -> done event
        self._latest: OrderedDict[Hashable, Entry] = OrderedDict()
        self._refreshing: dict[Hashable, threading.Event] = {}

    # ------------------------------------------------------------ versioned entries

    def _fresh(self, key: Hashable, version: Any) -> Entry | None:
        """The entry of ``key`` if it is of ``version`` or newer (lock held)."""
        entry = self._latest.get(key)
        if entry is not None and entry.version >= version:
            self._latest.move_to_end(key)
            return entry
        return None

    def claim(self, key: Hashable, version: Any,
              spaced: bool = True) -> tuple[Entry | None, bool]:
        """Look ``key`` up for a request of data ``version`` without blocking:

        * ``(entry, False)``: a current entry (a hit), or -- while another caller is
          computing the key, or (``spaced``) under load while the previous entry is less
          than :data:`REFRESH_SPACING` seconds old -- the previous one (a stale hit,
          recorded for :func:`stale_served`);
        * ``(entry_or_None, True)``: the caller must compute the value, then
          :meth:`store` it (or :meth:`release` the claim if it fails); the entry returned
          is the previous one, if any, for information;
        * ``(None, False)``: another caller is computing and there is nothing to serve
          meanwhile: :meth:`wait` for it and ask again.
        """
        with self._lock:
            fresh = self._fresh(key, version)
            if fresh is not None:
                self.stats.hits += 1
                return fresh, False
            previous = self._latest.get(key)
            if key in self._refreshing or (spaced and previous is not None and _recent(previous)):
                if previous is not None:
                    self.stats.hits += 1
                    self.stats.stale += 1
                    note_stale(previous)
                    return previous, False
                return None, False
            self._refreshing[key] = threading.Event()
            self.stats.misses += 1
            return previous, True

    def newest(self, key: Hashable) -> Entry | None:
        """The newest entry of ``key``, of whatever version (not counted)."""
        with self._lock:
            return self._latest.get(key)

    def wait(self, key: Hashable, timeout: float | None = None) -> None:
        """Until nobody is computing ``key`` (or ``timeout`` seconds)."""
        with self._lock:
            running = self._refreshing.get(key)
        if running is not None:
            running.wait(timeout)

    def store(self, key: Hashable, version: Any, value: Any,
              data_time: dt.datetime | None = None) -> Entry:
        """Keep ``value`` as ``key``'s entry of ``version`` -- unless a newer one is already
        kept (entries only move forward) -- and release the caller's claim."""
        entry = Entry(version, value, data_time or _utcnow())
        with self._lock:
            kept = self._latest.get(key)
            if kept is None or not kept.version > version:
                self._latest[key] = kept = entry
            self._latest.move_to_end(key)
            while len(self._latest) > self.maxsize:
                self._latest.popitem(last=False)
            done = self._refreshing.pop(key, None)
        if done is not None:
            done.set()
        return kept

    def release(self, key: Hashable) -> None:
        """Give up a claim without storing (the computation failed)."""
        with self._lock:
            done = self._refreshing.pop(key, None)
        if done is not None:
            done.set()

    def latest(self, key: Hashable, version: Any, compute: Callable[[], T],
               stale_ok: bool = True) -> T:
        """``key``'s value for data ``version``, stale-while-revalidate and single-flight
        (see the module docs): computed here if nobody is computing it, else the previous
        entry, else the other caller's result.  ``stale_ok=False``: never the previous
        entry -- wait for the other caller's result (for what a user has just changed,
        e.g. the alert they acknowledged)."""
        if _in_refresh.get():
            stale_ok = False      # a background refresh builds on current values only
        while True:
            if not stale_ok:
                with self._lock:
                    fresh = self._fresh(key, version)
                    running = key in self._refreshing
                    if fresh is not None:
                        self.stats.hits += 1
                        return fresh.value
                if running:
                    self.wait(key)
                    continue
            entry, mine = self.claim(key, version, spaced=stale_ok)
            if not mine:
                if entry is not None:
                    return entry.value
                self.wait(key)
                continue
            if entry is not None and stale_ok and busy():
                # under load nobody pays for the refresh: it runs in the background (with
                # this request's context) and this request, too, gets the previous entry
                self._refresh_in_background(key, version, compute)
                with self._lock:
                    self.stats.stale += 1
                note_stale(entry)
                return entry.value
            return self._compute(key, version, compute)

    def _refresh_in_background(self, key: Hashable, version: Any,
                               compute: Callable[[], Any]) -> None:
        """Compute ``key`` (claimed by the caller) in a daemon thread; a failure is logged
        and releases the claim (the next request tries again)."""
        ctx = contextvars.copy_context()

        def job() -> None:
            _in_refresh.set(True)
            _stale.set([])           # its own record, not the request's
            self._compute(key, version, compute)

        def run() -> None:
            try:
                ctx.run(job)
            except Exception:  # noqa: BLE001 - logged; the next request computes again
                import logging

                logging.getLogger("hydrorisk.cache").exception(
                    "background refresh of %r failed", key)

        threading.Thread(target=run, name="hydrorisk-cache-refresh", daemon=True).start()

    def _compute(self, key: Hashable, version: Any, compute: Callable[[], T]) -> T:
        """Run ``compute`` for a claimed key and keep its value (see :meth:`latest`)."""
        started = _utcnow()
        seen = stale_count()
        try:
            value = compute()
        except BaseException:
            self.release(key)
            raise
        # built on an older entry served stale (another caller was computing it): kept
        # under that older version, so the next caller recomputes it on current data
        older = stale_version(seen)
        if older is not None and older < version:
            self.store(key, older, value, started)
            return value
        return self.store(key, version, value, started).value

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.stats.hits += 1
                return self._data[key]
            running = self._running.get(key)
            if running is None:
                done = self._running[key] = threading.Event()
        if running is not None:            # another thread computes it: wait for it
            running.wait()
            with self._lock:
                if key in self._data:
                    self.stats.hits += 1
                    return self._data[key]
                self.stats.misses += 1
            return compute()               # that computation failed
        try:
            with self._lock:
                self.stats.misses += 1
            value = compute()
            with self._lock:
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._running.pop(key, None)
            done.set()

    def peek(self, key: Hashable) -> Any | None:
        """The entry of ``key`` (counted as a hit) or None (counted as a miss)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.stats.hits += 1
                return self._data[key]
            self.stats.misses += 1
            return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._latest.clear()
            self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._data) + len(self._latest)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


_stores: weakref.WeakKeyDictionary[Any, dict[str, LRU]] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def _cache(store: Store, name: str) -> LRU:
    with _stores_lock:
        named = _stores.setdefault(store, {})
        lru = named.get(name)
        if lru is None:
            lru = named[name] = LRU(MAXSIZE.get(name, DEFAULT_MAXSIZE))
        return lru


#: seconds a data version read is reused before the store is asked again (0: every call).
#: ``HYDRORISK_CACHE_SETTLE`` sets it: during a burst of ingests (a file every 0.1 s) the
#: pages are then recomputed at most once per this many seconds, and lag the store by as
#: much.  0 by default: an ingest is seen by the next request.
SETTLE = float(os.environ.get("HYDRORISK_CACHE_SETTLE", "0") or 0)
_versions: weakref.WeakKeyDictionary[Any, tuple[float, tuple[int, int, int]]] = \
    weakref.WeakKeyDictionary()


def data_version(store: Store) -> tuple[int, int, int]:
    """(newest observation segment id, ingest run id, forecast run id) of ``store`` (read
    at most every :data:`SETTLE` seconds; once per request pinned by :func:`pin_version`)."""
    pinned = _pinned.get()
    if pinned is not None and pinned[0] is store:
        return pinned[1]
    if SETTLE <= 0:
        return api.data_version(store)
    now = time.monotonic()
    seen = _versions.get(store)
    if seen is not None and now - seen[0] < SETTLE:
        return seen[1]
    version = api.data_version(store)
    _versions[store] = (now, version)
    return version


def memo(store: Store, name: str, key: Hashable, compute: Callable[[], T],
         version: Any | None = None, stale_ok: bool = True) -> T:
    """``compute()``, remembered in ``store``'s cache ``name`` under ``key`` for the store's
    current data version (read here unless given: another version, e.g. the alerts', may
    be given instead); stale-while-revalidate and single-flight (:meth:`LRU.latest`)."""
    if not _enabled:
        return compute()
    if version is None:
        version = data_version(store)
    return _cache(store, name).latest(key, version, compute, stale_ok=stale_ok)


def named(store: Store, name: str) -> LRU | None:
    """``store``'s cache ``name`` (None when caching is off), for callers that look up and
    store in two steps (a response cached after it is sent)."""
    return _cache(store, name) if _enabled else None


def stats(store: Store, name: str) -> CacheStats:
    """Hits and misses of ``store``'s cache ``name``."""
    return _cache(store, name).stats


def clear(store: Store | None = None) -> None:
    """Empty the caches of ``store`` (of every store when None)."""
    with _stores_lock:
        targets = [_stores.get(store, {})] if store is not None else list(_stores.values())
    for named in targets:
        for lru in named.values():
            lru.clear()
