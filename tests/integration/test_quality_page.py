"""The water-quality page (issue 13, item 4): the class of every site and year under both
national systems, as ``hydrorisk report quality`` gives it, the limiting parameters, the
provisional and incomplete marks, the trends, the class map, the CSV download (guarded
against spreadsheet formulas) and the page in kk, ru and en — on a store of the bundled
water-quality files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from conftest import ROOT

from hydro.services import quality_overview as qo
from hydro.services.labels import quality_display

QUALITY = ROOT / "data" / "gauges" / "quality"
RECEIVED = dt.datetime(2025, 1, 10)       # the bundled samples as if received then
NOW = dt.datetime(2025, 3, 1, 9, 0)       # "today" of the app under test


def quality_store(path, config, files, received=RECEIVED):
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    store = open_store(f"sqlite:///{path / 'store.sqlite'}", config.network)
    for f in files:
        assert ingest_file(store, config, f, received_at=received,
                           quarantine_dir=path / "q").outcome == "loaded", f
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory, config):
    eng = quality_store(tmp_path_factory.mktemp("quality"), config,
                        sorted(QUALITY.glob("*.csv")))
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def rows(store, config):
    return qo.site_years(store, config)


@pytest.fixture(scope="module")
def app(store, config):
    from dashboard.app import create_app

    from auth_support import logged_in

    return logged_in(create_app(config, engine=store, clock=lambda: NOW), store)


def render_page(client, path: str, search: str):
    from test_dashboard_shell import render_page as render

    return render(client, path, search)


# --------------------------------------------------------------------------- the service

def test_every_site_and_year_is_classified(rows, config):
    sites = {r.site_id for r in rows}
    assert len(sites) == 11 and sites <= set(config.network.gauges)
    assert {r.year for r in rows} == set(range(2010, 2025))
    assert len(rows) == 11 * 15
    assert all(r.n_samples == 12 for r in rows)        # monthly samples


def test_classes_are_those_of_the_quality_report(store, config, rows):
    """The page's data service gives the classes ``hydrorisk report quality`` prints."""
    from hydro.services.reports import quality_report

    by_key = {(r.site_id, r.year): r for r in rows}
    checked = 0
    for (site, year), r in sorted(by_key.items()):
        if year not in (2010, 2017, 2024):
            continue
        rep = quality_report(store, config, site, year)
        assert r.n_samples == rep["n_samples"]
        for ed in qo.KZ_EDITIONS:
            assert r.kz[ed].klass == rep["kz"][ed].klass, (site, year, ed)
            assert r.kz[ed].klass_upper == rep["kz"][ed].klass_upper
            assert r.kz[ed].limiting == rep["kz"][ed].limiting
            assert r.kz[ed].provisional == rep["kz"][ed].provisional
        u, ru = r.ukizv, rep["ukizv"]
        assert u is not None
        assert (u.klass, u.index, u.critical_indicators, u.incomplete, u.provisional) == \
            (ru.klass, pytest.approx(ru.index), ru.critical_indicators, ru.incomplete,
             ru.provisional)
        checked += 1
    assert checked == 33


def test_the_cli_prints_the_same_class(store, rows, capsys, monkeypatch):
    """``hydrorisk report quality`` on the same store prints the page's classes."""
    from hydro.cli import main

    monkeypatch.setenv("HYDRORISK_DB_URL", str(store.url))
    for site, year in (("KZ:19073", 2023), ("RU:CHERLAK", 2015)):
        r = next(x for x in rows if x.site_id == site and x.year == year)
        code = main(["--config", str(ROOT / "config"), "report", "quality", site,
                     "--year", str(year), "--lang", "ru"])
        out = capsys.readouterr().out
        assert code == 0
        assert quality_display(r.kz["kz2016"], "ru") in out
        assert quality_display(r.kz["kz2025"], "ru") in out
        assert r.ukizv is not None and quality_display(r.ukizv, "ru") in out


def test_the_limiting_parameter_has_the_worst_class_or_score(rows):
    for r in rows:
        for ed, kz in r.kz.items():
            counted = {n: p.klass for n, p in kz.per_parameter.items() if p.counted}
            if kz.klass > 1:
                assert kz.limiting, (r.site_id, r.year, ed)
                assert all(counted[n] == max(counted.values()) == kz.klass
                           for n in kz.limiting)
                assert not [n for n, k in counted.items()
                            if k == kz.klass and n not in kz.limiting]
        u = r.ukizv
        assert u is not None
        scores = {n: s.score for n, s in u.partial_scores.items()}
        assert r.ukizv_limiting, (r.site_id, r.year)
        assert all(scores[n] == pytest.approx(max(scores.values())) for n in r.ukizv_limiting)
        assert not [n for n, s in scores.items()
                    if s < max(scores.values()) - 1e-12 and n in r.ukizv_limiting]


def test_every_class_on_the_bundled_tables_is_provisional(rows):
    assert all(r.marks == ("tables",) for r in rows)
    assert all(r.provisional and not r.incomplete for r in rows)


FEW = """site;date;parameter;value;unit
KZ:19073;2025-03-02;BOD5;4.1;mgO2/l
KZ:19073;2025-03-02;COD;31;mgO/l
KZ:19073;2025-03-02;oil_products;0.4;mg/l
KZ:19073;2025-03-02;copper;<0.001;mg/l
KZ:19073;2025-07-09;BOD5;2.2;mgO2/l
KZ:19073;2025-07-09;COD;18;mgO/l
KZ:19073;2025-07-09;oil_products;0.03;mg/l
KZ:19073;2025-07-09;copper;0.004;mg/l
"""


def test_a_year_with_few_samples_or_missing_parameters_is_marked(tmp_path, config):
    path = tmp_path / "few.csv"
    path.write_text(FEW, encoding="utf-8")
    eng = quality_store(tmp_path, config, [path], received=dt.datetime(2025, 12, 1))
    try:
        (r,) = qo.site_years(eng, config)
    finally:
        eng.dispose()
    assert (r.site_id, r.year, r.n_samples) == ("KZ:19073", 2025, 2)
    assert r.few_samples and r.provisional and r.incomplete
    assert r.kz_edition == "kz2025"
    assert {"few_samples", "incomplete", "kz_missing", "tables"} <= set(r.marks)
    assert r.ukizv is not None and "dissolved_oxygen" in r.ukizv.missing
    assert "dissolved_oxygen" in r.kz_in_force.missing
    # the limiting KZ parameter of the year's means: oil products (0.215 mg/l) in class 3
    assert r.kz_in_force.limiting == ("oil_products",)
    # and no trend is tested on fewer than MIN_TREND_YEARS years
    trends = qo.parameter_trends(_frame(FEW))
    assert all(tr.trend is None and "fewer than" in tr.note for tr in trends)


def _frame(text: str):
    import pandas as pd

    raw = pd.read_csv(io.StringIO(text), sep=";")
    censored = raw["value"].astype(str).str.startswith("<")
    return pd.DataFrame({"site_id": raw["site"], "time": pd.to_datetime(raw["date"]),
                         "parameter": raw["parameter"],
                         "value": raw["value"].astype(str).str.lstrip("<").astype(float),
                         "censored": censored})


def test_trends_per_parameter(store, config):
    frame = qo.samples(store, ["KZ:19073"])
    trends = {tr.parameter: tr for tr in qo.parameter_trends(frame)}
    assert len(trends) == 19
    for tr in trends.values():
        assert tr.n_years == 15 and (tr.first_year, tr.last_year) == (2010, 2024)
        assert tr.trend in ("increasing", "decreasing", "no trend")
        assert tr.significant == (tr.p is not None and tr.p < 0.05)
    assert trends["oil_products"].censored        # results below a detection limit
    # the same test as hydro.trend on the annual means
    from hydro.trend import mann_kendall

    means = qo.annual_means(frame)["BOD5"]
    mk = mann_kendall(means.to_numpy(), times=means.index.to_numpy(dtype=float))
    assert trends["BOD5"].p == pytest.approx(mk.p)
    assert trends["BOD5"].slope_per_year == pytest.approx(mk.slope)


def test_as_of_and_until(store, config):
    # samples taken up to mid-April 2024: four that year
    until = dt.datetime(2024, 4, 15)
    rows = qo.site_years(store, config, until=until)
    r2024 = [r for r in rows if r.year == 2024]
    assert len(r2024) == 11 and all(r.n_samples in (3, 4) for r in r2024)
    # received before the bundled files were: nothing known
    assert qo.site_years(store, config, as_of=RECEIVED - dt.timedelta(days=1)) == []
    known = qo.site_years(store, config, until=until, as_of=RECEIVED)
    assert [(r.site_id, r.year, r.kz_in_force.klass) for r in known] == \
        [(r.site_id, r.year, r.kz_in_force.klass) for r in rows]


# --------------------------------------------------------------------------- CSV

def test_csv_cells_cannot_be_formulas():
    assert qo.csv_safe("=1+2") == "'=1+2"
    assert qo.csv_safe("+7") == "'+7" and qo.csv_safe("-3") == "'-3"
    assert qo.csv_safe("@SUM(A1)") == "'@SUM(A1)" and qo.csv_safe("\t=x") == "'\t=x"
    assert qo.csv_safe("class 3") == "class 3" and qo.csv_safe(3) == 3
    text = qo.to_csv(["=h"], [["=HYPERLINK(\"http://x\")", "ok", "−0,5", 4]])
    assert text.startswith("\ufeff")
    cells = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert cells == [["'=h"], ["'=HYPERLINK(\"http://x\")", "ok", "−0,5", "4"]]


def test_the_download_is_the_table_shown_with_formulas_guarded(app, monkeypatch):
    from dashboard.views import quality as view

    client = app.server.test_client()
    resp = client.get("/download/quality.csv?lang=ru&date=2023-06-30")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0] == view.table_headers("ru", "kz2016")
    assert len(rows) == 1 + 11 and {r[2] for r in rows[1:]} == {"2023"}
    assert {r[3] for r in rows[1:]} == {"6"}              # samples up to 30 June
    everything = client.get("/download/quality.csv?lang=en&date=2023-06-30&scope=all")
    assert len(list(csv.reader(io.StringIO(everything.data.decode().lstrip("\ufeff"))))) \
        == 1 + 11 * 14                                    # 2010 .. 2023
    # a site name that a spreadsheet would run is written as text
    monkeypatch.setattr(view, "site_name", lambda provider, site, lang: "=cmd|' /C calc'!A0")
    monkeypatch.setattr(view, "river_name", lambda provider, site, lang: "@SUM(1+1)")
    resp = client.get("/download/quality.csv?lang=kk&date=2023-06-30")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8").lstrip("\ufeff"))))
    assert {r[0] for r in rows[1:]} == {"'=cmd|' /C calc'!A0"}
    assert {r[1] for r in rows[1:]} == {"'@SUM(1+1)"}
    assert not [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@")]


# --------------------------------------------------------------------------- the page

def _texts(node) -> str:
    return json.dumps(node, ensure_ascii=False)


@pytest.mark.parametrize("lang, title, klass, mark", [
    ("kk", "Су сапасы: екі ұлттық жүйе бойынша класс", "сынып", "кестелер ресми емес"),
    ("ru", "Качество воды: класс по обеим национальным системам", "класс",
     "таблицы не официальные"),
    ("en", "Water quality: class under both national systems", "class",
     "tables not official"),
])
def test_the_page_renders_in_each_language(app, lang, title, klass, mark):
    client = app.server.test_client()
    resp = client.get(f"/quality?lang={lang}")
    assert resp.status_code == 200
    assert f'<html lang="{lang}">' in resp.data.decode()
    content = render_page(client, "/quality", f"?lang={lang}&date=2023-06-30")
    text = _texts(content)
    assert title in text and mark in text and klass in text
    assert "Traceback" not in text and "Error" not in text
    for cid in ("quality-table", "quality-map-kz", "quality-map-ru", "quality-site",
                "quality-site-panel", "quality-trends", "quality-chart", "quality-history",
                "quality-download-csv"):
        assert f'"{cid}"' in text, cid
    # the CSV link keeps the language and the date
    assert f"/download/quality.csv?lang={lang}&date=2023-06-30" in text
    # the default date: the newest day, whose year has data
    text = _texts(render_page(client, "/quality", f"?lang={lang}"))
    assert "2024" in text


def test_the_navbar_links_the_page_in_each_language(app):
    from dashboard.app import shell_state

    names = {"kk": "Су сапасы", "ru": "Качество воды", "en": "Water quality"}
    for lang, name in names.items():
        state = shell_state("/quality", f"?lang={lang}&date=2023-06-30", "en")
        link = next(x for x in state["nav"] if x["id"] == "shell-nav-quality")
        assert link["text"] == name
        assert link["href"] == f"/quality?lang={lang}&date=2023-06-30"
        assert "active" in link["className"]


def _find(node, cid):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == cid:
            return node
        for v in node.get("props", node).values():
            found = _find(v, cid)
            if found is not None:
                return found
    elif isinstance(node, list):
        for x in node:
            found = _find(x, cid)
            if found is not None:
                return found
    return None


def test_the_map_colours_every_site_by_class(app):
    client = app.server.test_client()
    content = render_page(client, "/quality", "?lang=ru&date=2023-06-30")
    kz = _find(content, "quality-map-kz")["props"]["figure"]
    traces = {tr.get("meta"): tr for tr in kz["data"]}
    assert {"rivers", "border"} <= set(traces)                # the offline base map
    classes = [tr for m, tr in traces.items() if str(m).startswith("class:kz:")]
    sites = [s for tr in classes for s in tr["customdata"]]
    assert len(sites) == 11 and len(set(sites)) == 11
    ru = _find(content, "quality-map-ru")["props"]["figure"]
    assert sum(len(tr["customdata"]) for tr in ru["data"]
               if str(tr.get("meta")).startswith("class:ru:")) == 11


def test_the_site_selector_shows_the_parameter_against_its_limits(app):
    client = app.server.test_client()
    payload = {
        "output": "quality-site-panel.children",
        "outputs": {"id": "quality-site-panel", "property": "children"},
        "inputs": [{"id": "quality-site", "property": "value", "value": "RU:ORSK"},
                   {"id": "quality-parameter", "property": "value", "value": "BOD5"}],
        "state": [{"id": "_pages_location", "property": "search",
                   "value": "?lang=ru&date=2023-06-30"}],
        "changedPropIds": ["quality-site.value"],
    }
    resp = client.post("/_dash-update-component", json=payload)
    assert resp.status_code == 200, resp.data[:500]
    panel = resp.get_json()["response"]["quality-site-panel"]["children"]
    chart = _find(panel, "quality-chart")
    fig = next(n["props"]["figure"] for n in chart["props"]["children"]
               if isinstance(n, dict) and "figure" in n.get("props", {}))
    limits = {tr["name"]: tr["y"][0] for tr in fig["data"] if tr.get("meta") == "limit"}
    assert limits["ПДК рыбохоз. 2,00"] == 2.0               # the fishery MPC of BOD5
    assert limits["граница 1 класса 2,00"] == 2.0           # KZ 2016: class 1 up to 2
    assert len(fig["data"][0]["x"]) == 13 * 12 + 6          # 2010 .. June 2023
    trends = _texts(_find(panel, "quality-trends"))
    assert "Взвешенные вещества" in trends and "2010–2023" in trends


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_english_on_the_kk_and_ru_page(app, lang):
    from test_dashboard_shell import english_words, visible_strings

    english = english_words()
    client = app.server.test_client()
    content = render_page(client, "/quality", f"?lang={lang}&date=2023-06-30")
    leaks = set()
    figures = [_find(content, "quality-map-kz"), _find(content, "quality-map-ru")]
    strings = visible_strings(content) + re.findall(
        r'"(?:text|name)": "([^"]*)"', _texts([f["props"]["figure"] for f in figures]))
    for text in strings:
        scanned = re.sub(r"«hydrorisk[^»]*»|config/quality", "", text)
        for word in re.findall(r"[A-Za-z]{3,}", scanned):
            if word.lower() in english:
                leaks.add(text[:100])
    assert not leaks, leaks


def test_asof_before_the_samples_arrived_shows_none_and_the_year_selector_navigates(app):
    from dashboard.views.quality import year_href

    client = app.server.test_client()
    text = _texts(render_page(client, "/quality",
                              "?lang=en&date=2023-06-30&asof=2025-01-09"))
    assert "The store holds no water-quality samples up to this date." in text
    assert "quality-table" not in text
    text = _texts(render_page(client, "/quality", "?lang=en&date=2023-06-30&asof=2025-01-11"))
    assert '"quality-table"' in text
    assert year_href(2019, "?lang=kk&date=2023-06-30&asof=2025-01-11", 2023) == \
        "/quality?lang=kk&date=2019-12-31&asof=2025-01-11"
    assert year_href(2023, "?lang=kk", 2023) is dash_no_update()


def dash_no_update():
    from dash import no_update

    return no_update


def test_without_a_store_the_page_says_so(config):
    from dashboard.provider import InMemoryProvider
    from dashboard.views.quality import render

    page = render(InMemoryProvider(config), "ru", now=NOW)
    assert "В хранилище нет проб качества воды по эту дату." in str(page)


def test_every_mark_unit_and_trend_word_has_a_translation(config):
    from dashboard.i18n import CATALOG

    need = {f"quality.mark.{m}" for m in qo.MARKS}
    need |= {f"quality.unit.{p.unit}" for p in config.quality_parameters.values()}
    need |= {f"quality.trend.{w}" for w in ("increasing", "decreasing", "none", "not_tested")}
    need |= {f"quality.edition.{ed}" for ed in qo.KZ_EDITIONS}
    assert sorted(need - set(CATALOG)) == []
    for p in config.quality_parameters.values():
        assert all(p.names.get(lang) for lang in ("kk", "ru", "en")), p
