"""The caches of :mod:`hydro.services.cache` (issue 15, "pages fast under load"): the station
page's HydroSOS percentiles and GEV return levels and the overview's latest-state table are
computed once per data version and reused until a new file is ingested, which drops them
(the values then change)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hydro.services import cache
from hydro.services import station_view as sv

ROOT = Path(__file__).resolve().parents[2]
GRDC = ROOT / "data" / "gauges" / "grdc" / "KZ_19073_Q_Day.Cmd.txt"
GAUGE = "KZ:19073"
AS_OF = dt.date(2024, 12, 31)


@pytest.fixture
def provider(store, config):
    from dashboard.provider import StoreProvider
    from hydro.services.ingest import ingest_file

    cache.set_enabled(True)
    r = ingest_file(store, config, GRDC, source_id="grdc")
    assert r.outcome == "loaded"
    return StoreProvider(config, store)


def _window(provider, span="120"):
    from dashboard.views.station import window

    return window(provider, AS_OF, span)


def _corrected(tmp_path: Path) -> Path:
    """The same GRDC file with the 2015 spring crest raised tenfold (a correction)."""
    lines = GRDC.read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    for line in lines:
        if line.startswith("2015-04-2"):
            day, clock, value = line.split(";")
            line = f"{day};{clock};{float(value) * 10:11.3f}\n"
        out.append(line)
    path = tmp_path / "corrected" / GRDC.name
    path.parent.mkdir()
    path.write_text("".join(out), encoding="utf-8")
    return path


def test_climate_is_reused_until_a_file_is_ingested(provider, store, config, tmp_path,
                                                    monkeypatch):
    from hydro.services.ingest import ingest_file

    calls = []
    real = sv.station_climate
    monkeypatch.setattr(sv, "station_climate",
                        lambda *a, **k: calls.append(a[0].id) or real(*a, **k))
    start, end = _window(provider)
    first = provider.station_view(GAUGE, start, end, AS_OF)
    assert first is not None and first.return_levels is not None
    assert "discharge" in first.hydrosos
    # the same page, another span (another view) and a zoom: the climate is not recomputed
    provider.station_view(GAUGE, start, end, AS_OF)
    provider.station_view(GAUGE, *_window(provider, "365"), AS_OF)
    provider.station_view(GAUGE, end - dt.timedelta(days=30), end, AS_OF)
    assert calls == [GAUGE]
    assert cache.stats(store, "station_climate").hits >= 2
    assert cache.stats(store, "station_view").hits >= 1

    before = cache.data_version(store)
    r = ingest_file(store, config, _corrected(tmp_path), source_id="grdc")
    assert r.outcome == "loaded" and r.rows_written > 0
    assert cache.data_version(store) > before

    second = provider.station_view(GAUGE, start, end, AS_OF)
    assert calls == [GAUGE, GAUGE]                      # recomputed once after the ingest
    assert second is not None and second.return_levels is not None
    assert second.return_levels.discharge[-1] > first.return_levels.discharge[-1]
    provider.station_view(GAUGE, start, end, AS_OF)
    assert calls == [GAUGE, GAUGE]


def test_cached_view_equals_the_uncached_one(provider):
    start, end = _window(provider, "all")
    cached = provider.station_view(GAUGE, start, end, AS_OF)
    cache.set_enabled(False)
    try:
        plain = provider.station_view(GAUGE, start, end, AS_OF)
    finally:
        cache.set_enabled(True)
    assert cached is not None and plain is not None
    assert cached.return_levels == plain.return_levels
    assert cached.hydrosos == plain.hydrosos
    assert [(t.times, t.values) for t in cached.traces["discharge"]] == \
        [(t.times, t.values) for t in plain.traces["discharge"]]


def test_overview_table_once_per_data_version(provider, store, config, tmp_path, monkeypatch):
    from dashboard.provider import StoreProvider
    from hydro.services.ingest import ingest_file

    calls = []
    real = StoreProvider._latest_readings
    monkeypatch.setattr(StoreProvider, "_latest_readings",
                        lambda self, *a: calls.append(a[0]) or real(self, *a))
    report = provider.station_report(AS_OF)
    again = provider.station_report(AS_OF)
    assert again is report and len(calls) == 1
    row = next(g for g in report.gauges if g.station_id == GAUGE)

    ingest_file(store, config, _corrected(tmp_path), source_id="grdc")   # 2015 only
    fresh = provider.station_report(AS_OF)
    assert fresh is not report and len(calls) == 2
    assert next(g for g in fresh.gauges if g.station_id == GAUGE) == row   # same latest value
    provider.station_report(AS_OF)
    assert len(calls) == 2


def test_caching_can_be_turned_off(provider, store, monkeypatch):
    from dashboard.provider import StoreProvider

    calls = []
    real = StoreProvider._latest_readings
    monkeypatch.setattr(StoreProvider, "_latest_readings",
                        lambda self, *a: calls.append(a[0]) or real(self, *a))
    cache.set_enabled(False)
    try:
        provider.station_report(AS_OF)
        provider.station_report(AS_OF)
    finally:
        cache.set_enabled(True)
    assert len(calls) == 2


def test_lru_drops_the_oldest():
    lru = cache.LRU(maxsize=2)
    assert [lru.get(k, lambda k=k: k * 10) for k in (1, 2, 1, 3)] == [10, 20, 10, 30]
    assert lru.stats.hits == 1 and lru.stats.misses == 3
    assert lru.get(2, lambda: -1) == -1          # 2 was the least recently used: dropped


def _at_once(ask, n: int = 8) -> tuple[list, int]:
    """``n`` threads each call ``ask(slow)`` at the same moment (``slow`` takes 0.2 s):
    their answers, and how many times ``slow`` ran."""
    import threading
    import time

    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "value"

    out = []
    threads = [threading.Thread(target=lambda: out.append(ask(slow))) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return out, len(calls)


def test_concurrent_misses_compute_once():
    lru = cache.LRU()
    out, calls = _at_once(lambda slow: lru.get("k", slow))
    assert out == ["value"] * 8 and calls == 1


def _viewer_client(store, config, provider, name: str, clock=None):
    """A dashboard app on ``store`` (with ``clock``, if given) and a test client logged in
    as viewer ``name``: (app, client, the CSRF header its POSTs carry)."""
    import re

    from dash import _callback

    from dashboard.app import create_app
    from hydro.services import accounts

    password = f"{name}-Pa55word!"
    accounts.add_account(store, name, password, role="viewer")
    # Dash keeps `dash.callback` registrations process-wide until an app's first request
    # takes them: an earlier test's app that never served one leaves its pages router there
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_LIST.clear()
    app = create_app(config, engine=store, provider=provider, secret_key="test-secret",
                     clock=clock)
    client = app.server.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    data = {"name": name, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    assert client.post("/login", data=data).status_code == 302
    csrf = client.get_cookie("_csrf_token")
    return app, client, ({"X-CSRFToken": csrf.value} if csrf else {})


def _router_payload(path: str, search: str) -> dict:
    """The body of Dash Pages' router callback asking for the page at ``path``."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def _station_page_payload(search: str) -> dict:
    """The body of Dash Pages' router callback asking for the station page."""
    return _router_payload("/station/" + GAUGE, search)


def test_station_page_rendered_once_per_data_version(provider, store, config, tmp_path,
                                                     monkeypatch):
    from dashboard import cache as page_cache
    from dashboard.views import station as view
    from hydro.services.ingest import ingest_file

    calls = []
    real = view.render
    monkeypatch.setattr(view, "render", lambda *a, **k: calls.append(a[1]) or real(*a, **k))

    def page():
        return page_cache.page(provider, "station_page", (GAUGE, "en", None, None, None),
                               lambda: view.render(provider, GAUGE, "en"))

    first = page()
    assert page() is first and len(calls) == 1
    ingest_file(store, config, _corrected(tmp_path), source_id="grdc")
    assert page() is not first and len(calls) == 2


def test_station_page_response_served_from_cache_until_an_ingest(provider, store, config,
                                                                 tmp_path):
    from hydro.services.ingest import ingest_file

    app, client, headers = _viewer_client(store, config, provider, "cache-viewer")
    payload = _station_page_payload("?lang=en&span=all")

    def post():
        r = client.post("/_dash-update-component", json=payload, headers=headers)
        assert r.status_code == 200, r.data[:300]
        return r.get_data()

    first = post()
    hits = cache.stats(store, "responses").hits
    assert post() == first and cache.stats(store, "responses").hits == hits + 1
    ingest_file(store, config, _corrected(tmp_path), source_id="grdc")
    assert post() != first                 # the corrected 2015 crest moves the return levels
    anonymous = app.server.test_client()   # no session: the cache is behind the login guard
    r = anonymous.post("/_dash-update-component", json=payload)
    assert r.status_code in (401, 403) and r.get_data() != first


def test_overview_response_kept_per_data_alerts_and_what_now_changes(
        provider, store, config, tmp_path, monkeypatch):
    """The overview's router response is kept as bytes -- the same bytes the page renders
    with the caches off -- until the data, the alerts or what the clock decides (today,
    the silent readings) change; a minute later on the same state it is still served."""
    from hydro.services import alerts
    from hydro.services.ingest import ingest_file

    now = [dt.datetime(2026, 3, 1, 12, 0)]        # long after the data: every reading silent
    _, client, headers = _viewer_client(store, config, provider, "overview-viewer",
                                        clock=lambda: now[0])
    payload = _router_payload("/", "?lang=ru")

    def post():
        r = client.post("/_dash-update-component", json=payload, headers=headers)
        assert r.status_code == 200, r.data[:300]
        return r.get_data()

    first = post()
    stats = cache.stats(store, "responses")
    hits, misses = stats.hits, stats.misses
    now[0] += dt.timedelta(minutes=1)
    assert post() == first and (stats.hits, stats.misses) == (hits + 1, misses)
    cache.set_enabled(False)
    try:
        assert post() == first                 # what is kept is what the page renders
    finally:
        cache.set_enabled(True)

    real = alerts.version
    monkeypatch.setattr(alerts, "version", lambda s: (*real(s)[:2], real(s)[2] + 1))
    assert post() == first and stats.misses == misses + 1    # another alerts version
    # the clock moves on to where another reading is silent (this store has one series:
    # its silence cannot change, so the provider's answer stands in for a second one's)
    silent = provider.silent_readings
    monkeypatch.setattr(provider, "silent_readings", lambda day, at, known: (
        silent(day, at, known) | ({("KZ:19066", "stage", "KZ")} if at.year > 2026 else set())))
    now[0] += dt.timedelta(days=366)
    post()
    assert stats.misses == misses + 2
    now[0] += dt.timedelta(minutes=1)
    post()
    assert stats.misses == misses + 2
    ingest_file(store, config, _corrected(tmp_path), source_id="grdc")
    post()
    assert stats.misses == misses + 3                       # another data version


# --------------------------------------------------------------------------- stale-while-revalidate
# (issue 15, item 4: after an ingest the clients are not all recomputing the same page:
# one computes, the others get the previous version's result, marked with its data time)

def _blocking(value, started, release, calls):
    def compute():
        calls.append(value)
        started.set()
        assert release.wait(10)
        return value
    return compute


def test_concurrent_requests_of_a_new_version_compute_once_and_get_the_old_meanwhile():
    import threading

    lru = cache.LRU()
    assert lru.latest("overview", (1, 0, 0), lambda: "v1") == "v1"
    started, release, calls = threading.Event(), threading.Event(), []
    # one request finds version 2 and computes it (slowly)
    first: list = []
    t = threading.Thread(target=lambda: first.append(
        lru.latest("overview", (2, 0, 0), _blocking("v2", started, release, calls))))
    t.start()
    assert started.wait(10)
    # 12 more requests of version 2 meanwhile: none computes, each gets v1 at once, and
    # each request is told it was served data of v1's time
    out, marks = [], []

    def request():
        cache.begin_request()
        out.append(lru.latest("overview", (2, 0, 0), lambda: calls.append("again") or "x"))
        marks.append(cache.stale_served())

    others = [threading.Thread(target=request) for _ in range(12)]
    for o in others:
        o.start()
    for o in others:
        o.join(10)
    assert out == ["v1"] * 12 and calls == ["v2"]
    assert lru.stats.stale == 12 and all(m is not None for m in marks)
    release.set()
    t.join(10)
    assert first == ["v2"]
    # ready: nothing older is served again, whatever version a late request read
    cache.begin_request()
    assert lru.latest("overview", (2, 0, 0), lambda: "x") == "v2"
    assert lru.latest("overview", (1, 0, 0), lambda: "x") == "v2"
    assert cache.stale_served() is None and calls == ["v2"]


def test_without_a_previous_result_the_others_wait_for_the_one_computation():
    lru = cache.LRU()
    out, calls = _at_once(lambda slow: lru.latest("k", (1,), slow), 10)
    assert out == ["value"] * 10 and calls == 1


def test_a_failed_computation_lets_the_next_request_compute():
    lru = cache.LRU()

    def boom():
        raise RuntimeError("store unreachable")

    with pytest.raises(RuntimeError):
        lru.latest("k", (1,), boom)
    assert lru.latest("k", (1,), lambda: "ok") == "ok"


def test_a_stale_result_is_never_served_after_the_new_one_is_ready():
    """A writer computes versions 1..200 one after another while 6 readers ask with the
    newest version they know of; each reader notes the newest version already stored
    before it asks, and must never get anything older."""
    import threading

    lru = cache.LRU()
    stored = [0]            # newest version whose computation has returned
    current = [1]           # the store's data version now
    stop = threading.Event()
    bad: list = []

    def writer():
        for v in range(1, 201):
            current[0] = v
            got = lru.latest("k", (v,), lambda v=v: v)
            stored[0] = max(stored[0], got)
        stop.set()

    def reader():
        while not stop.is_set():
            ready = stored[0]
            got = lru.latest("k", (current[0],), lambda: current[0])
            if got < ready:
                bad.append((got, ready))

    threads = [threading.Thread(target=writer), *(threading.Thread(target=reader)
                                                  for _ in range(6))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not bad, bad[:5]
    assert lru.latest("k", (200,), lambda: -1) == 200


def test_a_value_built_on_a_stale_one_is_recomputed_once_the_new_one_is_ready():
    """The overview table is built on the latest readings: if the readings it got were the
    previous version's (another request was computing them), the table is kept under that
    version, so the next request builds it again on the new readings."""
    import threading

    inner, outer = cache.LRU(), cache.LRU()
    inner.latest("readings", (1,), lambda: "r1")
    started, release, calls = threading.Event(), threading.Event(), []
    t = threading.Thread(target=lambda: inner.latest(
        "readings", (2,), _blocking("r2", started, release, calls)))
    t.start()
    assert started.wait(10)

    def table():
        return "table(" + inner.latest("readings", (2,), lambda: "never") + ")"

    assert outer.latest("report", (2,), table) == "table(r1)"      # built on stale r1
    release.set()
    t.join(10)
    assert outer.latest("report", (2,), table) == "table(r2)"      # rebuilt, not kept


def test_the_station_page_response_is_served_stale_while_another_renders_it(
        provider, store, config, tmp_path):
    """Over HTTP: while one request renders the station page of a new data version, the
    same request body gets the previous bytes at once, with their data time in
    X-Hydrorisk-Data-As-Of; once rendered, the new bytes, unmarked."""
    import hashlib
    import json

    from dashboard.cache import STALE_HEADER
    from hydro.services.ingest import ingest_file

    _, client, headers = _viewer_client(store, config, provider, "swr-viewer")
    body = json.dumps(_station_page_payload("?lang=en")).encode()

    def post():
        r = client.post("/_dash-update-component", data=body, headers=headers,
                        content_type="application/json")
        assert r.status_code == 200, r.data[:300]
        return r

    first = post()
    assert STALE_HEADER not in first.headers
    ingest_file(store, config, _corrected(tmp_path), source_id="grdc")
    lru = cache.named(store, "responses")
    key = hashlib.sha256(body).hexdigest()
    entry, mine = lru.claim(key, (cache.data_version(store),))  # "another request" renders
    assert mine and entry is not None and entry.value == first.get_data()
    try:
        stale = post()
        assert stale.get_data() == first.get_data()
        assert stale.headers[STALE_HEADER] == entry.data_time.isoformat(
            timespec="seconds") + "Z"
    finally:
        lru.release(key)                # that render failed: the next request renders
    fresh = post()
    assert fresh.get_data() != first.get_data() and STALE_HEADER not in fresh.headers
    assert post().get_data() == fresh.get_data()


def test_under_load_the_refresh_runs_in_the_background(monkeypatch):
    """With other requests in flight nobody waits for a refresh: the request that finds
    the entry out of date gets the previous one too, one background computation stores the
    new one, and from then on only the new one is served."""
    import threading

    monkeypatch.setattr(cache, "REFRESH_SPACING", 0.0)

    lru = cache.LRU()
    assert lru.latest("overview", (1,), lambda: "v1") == "v1"
    started, release, calls = threading.Event(), threading.Event(), []
    cache.request_started()
    cache.request_started()                       # this request and another one
    try:
        cache.begin_request()
        assert lru.latest("overview", (2,), _blocking("v2", started, release, calls)) == "v1"
        assert started.wait(10) and cache.stale_served() is not None
        assert [lru.latest("overview", (2,), lambda: "x") for _ in range(5)] == ["v1"] * 5
        release.set()
        for _ in range(200):                      # the background computation stores v2
            if lru.latest("overview", (2,), lambda: "x") == "v2":
                break
            threading.Event().wait(0.05)
        assert lru.latest("overview", (2,), lambda: "x") == "v2" and calls == ["v2"]
    finally:
        release.set()
        cache.request_finished()
        cache.request_finished()
    assert not cache.busy()


def test_under_load_a_key_is_refreshed_at_most_once_per_spacing(monkeypatch):
    """Under load an entry computed less than REFRESH_SPACING seconds ago is served (marked
    stale) for a newer data version without a refresh; an older one is refreshed.  Without
    load (one request) the newest data are computed at once whatever the entry's age."""
    monkeypatch.setattr(cache, "REFRESH_SPACING", 60.0)
    lru = cache.LRU()
    calls: list[str] = []

    def compute(value):
        return lambda: calls.append(value) or value

    assert lru.latest("overview", (1,), compute("v1")) == "v1"
    cache.request_started()
    cache.request_started()                       # this request and another one
    try:
        cache.begin_request()
        assert lru.latest("overview", (2,), compute("v2")) == "v1" and calls == ["v1"]
        assert cache.stale_served() is not None
        entry, mine = lru.claim("overview", (2,))
        assert not mine and entry is not None and entry.value == "v1"
        assert lru.latest("overview", (2,), compute("v2"), stale_ok=False) == "v2"
        lru.store("overview", (2,), "v2", data_time=dt.datetime(2000, 1, 1))   # long ago
        entry, mine = lru.claim("overview", (3,))
        assert mine and entry is not None and entry.value == "v2"
        lru.release("overview")
    finally:
        cache.request_finished()
        cache.request_finished()
    assert lru.latest("overview", (4,), compute("v4")) == "v4"  # one request: computed


def test_a_pinned_request_reads_the_data_version_once(provider, store, config, tmp_path,
                                                      monkeypatch):
    """A page request pins the data version it started with: later reads in the request
    neither ask the store again nor see an ingest made meanwhile; the next request does."""
    from hydro.services.ingest import ingest_file
    from hydro.store import api

    cache.begin_request()
    first = cache.data_version(store)
    cache.pin_version(store, first)
    ingest_file(store, config, _corrected(tmp_path), source_id="grdc")
    asked = []
    real = api.data_version
    monkeypatch.setattr(api, "data_version", lambda s: asked.append(s) or real(s))
    assert cache.data_version(store) == first and asked == []
    cache.begin_request()                                  # the next request
    assert cache.data_version(store) > first and asked == [store]


def test_a_stale_value_served_inside_a_copied_context_is_seen_by_the_request():
    """Dash runs each callback in a copy of the request's context: a stale value served
    there is still seen by the request (its response is marked, and not kept as current)."""
    import contextvars

    lru = cache.LRU()
    assert lru.latest("part", (1,), lambda: "v1") == "v1"
    cache.begin_request()
    cache.request_started()
    cache.request_started()                       # under load: the stale value is served
    try:
        inside = contextvars.copy_context().run(lambda: lru.latest("part", (2,), lambda: "v2"))
        assert inside == "v1"
        assert cache.stale_served() is not None and cache.stale_version() == (1,)
    finally:
        cache.request_finished()
        cache.request_finished()
        cache.begin_request()
