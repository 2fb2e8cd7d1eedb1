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


def test_concurrent_misses_compute_once():
    import threading
    import time

    lru = cache.LRU()
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "value"

    out = []
    threads = [threading.Thread(target=lambda: out.append(lru.get("k", slow)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == ["value"] * 8 and len(calls) == 1


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
    import re

    from dashboard.app import create_app
    from hydro.services import accounts
    from hydro.services.ingest import ingest_file

    from dash import _callback

    accounts.add_account(store, "cache-viewer", "cache-viewer-Pa55word!", role="viewer")
    # Dash keeps `dash.callback` registrations process-wide until an app's first request
    # takes them: an earlier test's app that never served one leaves its pages router there
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_LIST.clear()
    app = create_app(config, engine=store, provider=provider, secret_key="test-secret")
    client = app.server.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    data = {"name": "cache-viewer", "password": "cache-viewer-Pa55word!"}
    if token:
        data["csrf_token"] = token.group(1)
    assert client.post("/login", data=data).status_code == 302
    csrf = client.get_cookie("_csrf_token")
    headers = {"X-CSRFToken": csrf.value} if csrf else {}
    payload = {"output": ".._pages_content.children..._pages_store.data..",
               "outputs": [{"id": "_pages_content", "property": "children"},
                           {"id": "_pages_store", "property": "data"}],
               "inputs": [{"id": "_pages_location", "property": "pathname",
                           "value": "/station/" + GAUGE},
                          {"id": "_pages_location", "property": "search",
                           "value": "?lang=en&span=all"}],
               "changedPropIds": ["_pages_location.pathname"], "state": []}

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
