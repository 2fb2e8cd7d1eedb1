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

Each store (SQLAlchemy engine) has its own caches, held weakly: a disposed and
collected engine takes its caches with it.  ``HYDRORISK_NO_CACHE=1`` in the environment
(or :func:`set_enabled`) turns caching off, e.g. to measure a baseline (bench/dashboard.py).

Nothing here writes SQL (:mod:`hydro.store.api` reads the version).
"""

from __future__ import annotations

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

__all__ = ["LRU", "CacheStats", "data_version", "memo", "named", "stats", "clear",
           "set_enabled", "enabled", "MAXSIZE"]

T = TypeVar("T")

#: most entries per named cache per store
MAXSIZE: dict[str, int] = {"station_climate": 256, "station_view": 64, "latest_readings": 64,
                           "station_report": 64, "station_page": 128, "responses": 256}
DEFAULT_MAXSIZE = 128

_enabled = os.environ.get("HYDRORISK_NO_CACHE", "").strip().lower() in ("", "0", "false", "no")


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
            self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._data)


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
    at most every :data:`SETTLE` seconds)."""
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
         version: tuple[int, int, int] | None = None) -> T:
    """``compute()``, remembered in ``store``'s cache ``name`` under ``key`` and the store's
    current data version (read here unless given)."""
    if not _enabled:
        return compute()
    if version is None:
        version = data_version(store)
    return _cache(store, name).get((version, key), compute)


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
