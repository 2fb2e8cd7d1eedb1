"""The dashboard's shell (issue 13, items 8-10): time in the URL and its banners, HTTP 404
for unknown paths, ``<html lang>``, locale formatting, the tables, the refresh interval,
and a scan of the kk and ru pages for English words."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from test_dashboard import DAY, RECEIVED, _obs, build_store, find, texts
from conftest import ROOT

TODAY_FRESH = dt.datetime(2024, 4, 14, 9, 0)     # the test store's newest day is 13 April
TODAY_OLD = dt.datetime(2026, 12, 3, 9, 0)       # two and a half years after the data


@pytest.fixture
def engine(tmp_path, config):
    eng = build_store(tmp_path / "t.sqlite", config.network)
    yield eng
    eng.dispose()


def make_app(engine, config, now: dt.datetime = TODAY_FRESH):
    """An app whose "now" is ``now``, made the current one: Dash (4.x) leaves the first app
    whose layout was read in the thread's context (``dash.get_app``), so several apps in one
    test process need this."""
    from dash._get_app import app_context

    from dashboard.app import create_app

    from auth_support import logged_in

    app = logged_in(create_app(config, engine=engine, clock=lambda: now), engine)
    app_context.set(app)
    return app


@pytest.fixture
def app(engine, config):
    return make_app(engine, config)


def render_page(client, path: str, search: str) -> dict:
    """The Pages router callback's output for a URL, as the browser asks for it."""
    payload = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.search"],
        "state": [],
    }
    resp = client.post("/_dash-update-component", json=payload)
    assert resp.status_code == 200, resp.data[:500]
    return resp.get_json()["response"]["_pages_content"]["children"]


def visible_strings(node) -> list[str]:
    """Every string a user can read in a rendered (JSON) layout: children, titles,
    placeholders, and the grid's header names and cell values."""
    out: list[str] = []

    def walk(n, key=None):
        if isinstance(n, str):
            if key in (None, "children", "title", "placeholder", "headerName",
                       "headerTooltip", "status", "status_note", "station", "basin", "river",
                       "country", "party", "level", "ice") \
                    or (key or "").endswith(("_text", "_title")):
                out.append(n)
        elif isinstance(n, list):
            for x in n:
                walk(x, key)
        elif isinstance(n, dict):
            if "props" in n and "type" in n:
                if "data-grid" in str(n["props"].get("className", "")):
                    # a data grid (dashboard.components.data_grid): every text cell is
                    # shown (a markdown link by its text), "row_class" is a style
                    for row in n["props"].get("rowData") or []:
                        out.extend(re.sub(r"\[((?:\\.|[^\]\\])*)\]\([^)]*\)", r"\1", v)
                                   for k, v in row.items()
                                   if isinstance(v, str) and k != "row_class"
                                   and (k + "_text") not in row)
                for k, v in n["props"].items():
                    if k == "rowData" and "data-grid" in str(n["props"].get("className", "")):
                        continue
                    if k in ("figure", "id", "className", "href", "style", "date",
                             "min_date_allowed", "max_date_allowed", "initial_visible_month",
                             "display_format", "month_format", "data", "csvExportParams"):
                        continue
                    walk(v, k)
            else:
                for k, v in n.items():
                    if k in ("state", "station_id", "id", "className", "field", "colId",
                             "type", "function", "cellClass", "filter"):
                        continue
                    walk(v, k)
    walk(node)
    return out


# --------------------------------------------------------------------------- HTTP, 404, lang

def test_unknown_paths_answer_404_with_a_localised_page(app):
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/?lang=kk&date=2024-04-12").status_code == 200
    assert client.get("/station/RU:ORENBURG?lang=ru").status_code == 200
    for path in ("/nothing-here", "/station", "/station/", "/stations/x/y", "/404",
                 "/_dash-nothing/../x"):
        resp = client.get(path)
        assert resp.status_code == 404, path
    resp = client.get("/no-such-page?lang=ru")
    assert resp.status_code == 404
    body = resp.data.decode()
    assert "<title>Страница не найдена — hydrorisk</title>" in body
    assert '<html lang="ru">' in body
    # Dash's own routes are not pages and are left alone
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/_dash-dependencies").status_code == 200
    assert client.get("/assets/hydrorisk.css").status_code == 200
    assert client.get("/assets/hydrorisk-lang.js").status_code == 200
    assert client.get("/_favicon.ico").status_code == 200
    # hydrorisk's icon: linked by every page, and where a browser asks by default
    icon = client.get("/assets/favicon.ico")
    assert icon.status_code == 200
    assert icon.data == (ROOT / "dashboard" / "assets" / "favicon.ico").read_bytes()
    assert '/assets/favicon.ico' in client.get("/?lang=ru").get_data(as_text=True)
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/assets/favicon.ico")
    # the page Dash shows there, in the URL's language
    content = json.dumps(render_page(client, "/no-such-page", "?lang=kk&date=2024-04-12"),
                         ensure_ascii=False)
    assert "Бет табылмады" in content and "/?lang=kk&date=2024-04-12" in content


def test_html_lang_follows_the_url(app, engine, config):
    client = app.server.test_client()
    assert '<html lang="en">' in client.get("/").data.decode()     # the configured default
    assert '<html lang="kk">' in client.get("/?lang=kk").data.decode()
    assert '<html lang="ru">' in client.get("/station/RU:ORSK?lang=ru").data.decode()
    assert '<html lang="en">' in client.get("/?lang=xx").data.decode()
    # on client-side navigation, a clientside callback sets document.documentElement.lang
    assert "shell-lang.data" in " ".join(app.callback_map)


# --------------------------------------------------------------------------- time in the URL

def test_absurd_dates_do_not_fail(app):
    client = app.server.test_client()
    for search in ("?date=9999-12-31", "?date=0001-01-01", "?date=2024-02-30",
                   "?date=%00", "?date=2024-04-12&date=9999-12-31", "?asof=9999-12-31",
                   "?asof=0001-01-01T00:00", "?asof=nonsense", "?lang=ru&date=-1"):
        assert client.get("/" + search).status_code == 200, search
        content = render_page(client, "/", search)
        assert "stations-gauge-table" in json.dumps(content), search


def test_a_date_outside_the_stored_period_says_so_and_shows_the_nearest_day(app):
    from dashboard.app import time_banners
    from dashboard.pages import stations

    words = " ".join(texts(time_banners("/", "?date=9999-12-31", "en")))
    assert "9999-12-31 is outside the stored period (2024-04-02 – 2024-04-13)" in words
    assert "Showing the nearest stored day, 2024-04-13." in words
    page = stations.layout(date="9999-12-31")
    assert find(page, "stations-date").date == "2024-04-13"
    # before the period: the first stored day; in Russian with Russian dates
    words = " ".join(texts(time_banners("/", "?lang=ru&date=2000-01-01", "en")))
    assert "Дата 01.01.2000 вне периода данных в хранилище (02.04.2024 – 13.04.2024)" in words
    assert find(stations.layout(date="2000-01-01"), "stations-date").date == "2024-04-02"
    # inside the period: no such banner
    assert not texts(time_banners("/", "?date=2024-04-12", "en"))


def test_old_data_banner_against_an_injected_today(engine, config):
    from dashboard.app import time_banners

    make_app(engine, config, now=TODAY_FRESH)
    assert not texts(time_banners("/", "", "en"))          # 1 day old: fine (3 d allowed)
    make_app(engine, config, now=TODAY_OLD)
    (banner,) = time_banners("/station/RU:ORSK", "?lang=ru", "en")
    assert banner.color == "danger"
    assert "Данные устарели: самые новые значения за 13.04.2024, на 964 сут раньше " \
           "сегодняшнего дня (03.12.2026)." in " ".join(texts(banner))
    # the configured limit
    assert config.settings.dashboard.data_old_after.to("duration") == 3
    make_app(engine, config, now=dt.datetime(2024, 4, 16, 23, 0))   # 3 days: still fine
    assert not texts(time_banners("/", "", "en"))
    make_app(engine, config, now=dt.datetime(2024, 4, 17, 0, 30))   # 4 days: old
    assert "The data are old" in " ".join(texts(time_banners("/", "", "en")))


def test_settings_validation(config):
    from hydro.config.schema import DashboardSettings
    from hydro.errors import ConfigError
    from hydro.errors import validate as check

    assert DashboardSettings().refresh.to("duration") * 86400 == 300
    for bad in ({"refresh": "5 s"}, {"refresh": "-1 min"}, {"data_old_after": "0 d"},
                {"data_old_after": "3"}, {"refresh": "5 kg"}):
        with pytest.raises(ConfigError):
            check(DashboardSettings, bad, "settings.toml")
    assert check(DashboardSettings, {"refresh": "0 min"}, "s").refresh.to("duration") == 0


def test_asof_shows_what_had_been_received_by_then(tmp_path, config):
    """A revision received later is not seen as of before it arrived; nor is a value
    received later."""
    rows = [
        _obs("RU:ORENBURG", "stage", DAY - dt.timedelta(days=1), 970, "cm", "RU",
             "roshydromet"),
        _obs("RU:ORENBURG", "stage", DAY, 1000, "cm", "RU", "roshydromet"),
    ]
    eng = build_store(tmp_path / "asof.sqlite", config.network, rows=rows)
    try:
        import pandas as pd

        from hydro.store import segments

        later = RECEIVED + dt.timedelta(days=1)
        with eng.begin() as conn:   # a correction of DAY's value, received a day later
            segments.write(conn, pd.DataFrame([dict(rows[1], value=1010, revision=2,
                                                    received_at=later)]), later, None)
        from dashboard.provider import StoreProvider

        provider = StoreProvider(config, eng)
        (now_row,) = provider.station_report(DAY).gauge_rows("RU:ORENBURG")
        assert now_row.stage_cm == 1010
        (then,) = provider.station_report(DAY, received_by=RECEIVED).gauge_rows("RU:ORENBURG")
        assert then.stage_cm == 1000 and then.change_cm_per_day == pytest.approx(30)
        before = provider.station_report(DAY, received_by=RECEIVED - dt.timedelta(hours=1))
        assert not before.gauge_rows("RU:ORENBURG")[0].has_data

        from dashboard.app import time_banners
        from dashboard.views.stations import render

        make_app(eng, config)
        page = render(provider, "en", DAY.isoformat(), asof="2024-04-13T06:00")
        orenburg = [r for r in find(page, "stations-gauge-table").rowData
                    if r["station_id"] == "RU:ORENBURG"]
        assert orenburg[0]["stage"] == 1000
        words = " ".join(texts(time_banners("/", "?asof=2024-04-13T06:00", "en")))
        assert "As known at 2024-04-13 06:00 (UTC)" in words
    finally:
        eng.dispose()


def test_navigation_links_keep_lang_date_and_asof(app):
    from dashboard.app import shell_state, time_banners
    from dashboard.views.stations import station_href

    search = "?lang=kk&date=2024-04-12&asof=2024-04-13T06:00"
    s = shell_state("/station/RU:ORSK", search, "en")
    assert s["stations_href"] == "/" + search
    stations = next(link for link in s["nav"] if link["id"] == "shell-nav-stations")
    assert stations["href"] == "/" + search and stations["text"] == "Бекеттер"
    assert s["lang_hrefs"]["ru"] == "/station/RU:ORSK?lang=ru&date=2024-04-12" \
                                    "&asof=2024-04-13T06:00"
    click = {"points": [{"customdata": "RU:ORENBURG"}]}
    assert station_href(click, search) == "/station/RU:ORENBURG" + search
    # the banner's link drops only the knowledge time
    (banner,) = [b for b in time_banners("/x", search, "en") if b.id == "time-asof_shown"]
    link = find(banner.children, None) or banner.children[-1]
    assert link.href == "/x?lang=kk&date=2024-04-12"
    # the grid's station links keep the query too (the page's JS builds them from it)
    from dashboard.pages import stations as page

    grid = find(page.layout(lang="kk", date="2024-04-12", asof="2024-04-13T06:00"),
                "stations-gauge-table")
    assert any(r["station_id"] == "RU:ORENBURG" for r in grid.rowData)


# --------------------------------------------------------------------------- locale

def test_format_numbers_and_dates_per_locale():
    from dashboard import format as fmt

    assert fmt.number(1234.5, "ru", 1) == "1234,5"
    assert fmt.number(1234.5, "kk", 1, group=True) == "1\xa0234,5"
    assert fmt.number(1234.5, "en", 1, group=True) == "1,234.5"
    assert fmt.number(-0.004, "ru", 2) == "0,00"
    assert fmt.number(-40, "kk") == "\u221240"
    assert fmt.number(31, "en", signed=True) == "+31"
    assert fmt.number(None, "ru") == fmt.number(float("nan"), "ru") == "—"
    assert fmt.date(dt.date(2024, 4, 12), "ru") == "12.04.2024"
    assert fmt.date(dt.date(2024, 4, 12), "kk") == "12.04.2024"
    assert fmt.date(dt.date(2024, 4, 12), "en") == "2024-04-12"
    assert fmt.date(dt.date(2024, 4, 12), "ru", "long") == "12 апреля 2024\u202fг."
    assert fmt.date(dt.date(2024, 4, 12), "kk", "long") == "2024\u202fж. 12 сәуір"
    assert fmt.date_time(dt.datetime(2024, 4, 12, 8, 0), "ru") == "12.04.2024 08:00"
    assert fmt.date_time(dt.datetime(2024, 4, 12), "en") == "2024-04-12"


def test_decimal_comma_in_ru_and_kk_pages(app):
    client = app.server.test_client()
    for lang in ("ru", "kk"):
        content = render_page(client, "/", f"?lang={lang}&date=2024-04-12")
        grid = _find_json(content, "stations-reservoir-table")
        (irik,) = [r for r in grid["props"]["rowData"] if r["station_id"] == "RU:IRIKLINSK"]
        assert irik["level_m_text"] == "245,50" and irik["npu_text"] == "245,00", lang
        assert irik["level_m"] == 245.5            # the value sorted, filtered and exported
        words = " ".join(visible_strings(content))
        assert "245.50" not in words and "245,50" in words
    content = render_page(client, "/", "?lang=en&date=2024-04-12")
    grid = _find_json(content, "stations-reservoir-table")
    (irik,) = [r for r in grid["props"]["rowData"] if r["station_id"] == "RU:IRIKLINSK"]
    assert irik["level_m_text"] == "245.50"


def test_date_picker_is_localised(app):
    from dashboard.pages import stations

    for lang, shown in (("ru", "DD.MM.YYYY"), ("kk", "DD.MM.YYYY"), ("en", "YYYY-MM-DD")):
        picker = find(stations.layout(lang=lang), "stations-date")
        assert picker.display_format == shown and picker.month_format == "MMMM YYYY"
        assert picker.first_day_of_week == 1
    client = app.server.test_client()
    for name in ("datefns-locale-kk.js", "datefns-locale-ru.js"):
        js = client.get("/assets/" + name).data.decode()
        assert "window.dateFns" in js and "console.log" not in js
    assert "апреля" in client.get("/assets/datefns-locale-ru.js").data.decode()
    assert "сәуір" in client.get("/assets/datefns-locale-kk.js").data.decode()


def _find_json(node, id_):
    if isinstance(node, list):
        for x in node:
            hit = _find_json(x, id_)
            if hit is not None:
                return hit
        return None
    if not isinstance(node, dict):
        return None
    props = node.get("props", {})
    if props.get("id") == id_:
        return node
    return _find_json(props.get("children"), id_)


# --------------------------------------------------------------------------- tables, refresh

def test_tables_are_sortable_filterable_grids_with_csv_export(app):
    from dashboard.pages import stations

    page = stations.layout(lang="ru", date="2024-04-12")
    for grid_id, button_id in (("stations-gauge-table", "stations-gauge-export"),
                               ("stations-reservoir-table", "stations-reservoir-export")):
        grid = find(page, grid_id)
        assert type(grid).__name__ == "AgGrid"
        assert grid.defaultColDef["sortable"] and grid.defaultColDef["filter"]
        assert grid.csvExportParams["fileName"].endswith(".csv")
        assert grid.csvExportParams.get("allColumns") is not True   # the visible columns
        headers = [c["headerName"] for c in grid.columnDefs]
        assert all(re.search("[а-яА-ЯёЁ]", h) or h in ("НЯ", "ОЯ") for h in headers), headers
        assert find(page, button_id) is not None
    gauges = find(page, "stations-gauge-table")
    assert "Пост" in [c["headerName"] for c in gauges.columnDefs]
    assert gauges.dashGridOptions["localeText"]["contains"] == "Содержит"
    # the export button asks the grid for a CSV of the rows the filters leave
    cb = " ".join(app.callback_map)
    assert "stations-gauge-table.exportDataAsCsv" in cb


def test_export_callback():
    from dashboard.views.stations import export_csv

    assert export_csv(1) is True
    assert export_csv(None) is False


def test_refresh_interval_on_for_latest_off_for_a_pinned_day(app, engine, config):
    from dashboard.pages import stations

    latest = find(stations.layout(), "stations-refresh")
    assert latest.disabled is False and latest.interval == 5 * 60 * 1000
    assert "The page refreshes every 5 min." in texts(stations.layout())
    assert find(stations.layout(date="2024-04-10"), "stations-refresh").disabled is True
    assert find(stations.layout(asof="2024-04-13"), "stations-refresh").disabled is True
    # the latest day named explicitly is still "now"
    assert find(stations.layout(date="2024-04-13"), "stations-refresh").disabled is False
    from dashboard.views.stations import refresh_body

    body = refresh_body(3, "?lang=ru&date=2024-04-12")
    assert "Состояние рек и водохранилищ" in texts(body)


# --------------------------------------------------------------------------- English leaks

def english_words() -> set[str]:
    """Words of the English catalog texts that are not also kk or ru words (proper
    nouns shared by all three, like "hydrorisk" or "GSHHG", drop out)."""
    from dashboard.i18n import CATALOG

    def words(text: str) -> set[str]:
        return {w.lower() for w in re.findall(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}", "", text))}

    en, other = set(), set()
    for entry in CATALOG.values():
        en |= words(entry["en"])
        other |= words(entry["kk"]) | words(entry["ru"])
    return en - other


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_english_in_kk_and_ru_pages(app, engine, config, lang):
    client = make_app(engine, config, now=TODAY_OLD).server.test_client()
    english = english_words()
    assert {"station", "dangerous", "remaining", "page"} <= english
    leaks: dict[str, set[str]] = {}   # page -> the texts with an English word
    pages = [("/", f"?lang={lang}"), ("/", f"?lang={lang}&date=2024-04-12"),
             ("/", f"?lang={lang}&date=2024-04-12&asof=2024-04-13"),
             ("/no-such-page", f"?lang={lang}")]
    from dashboard.app import shell_state, time_banners

    for path, search in pages:
        content = render_page(client, path, search)
        strings = visible_strings(content)
        strings += [str(x) for x in texts(time_banners(path, search + "&date=9999-12-31",
                                                       "en"))]
        state = shell_state(path, search, "en")
        strings += [state["tagline"]] + [link["text"] for link in state["nav"]]
        figures = json.dumps(_figures(content), ensure_ascii=False)
        for text in strings + re.findall(r'"(?:hovertext|text|name|title)": "([^"]*)"',
                                         figures):
            # a cited source (file, web address, publication) is quoted as cited
            scanned = re.sub(r"(источник|дереккөз): [^\n]*", "", text)
            for word in re.findall(r"[A-Za-z]{3,}", scanned):
                if word.lower() in english:
                    leaks.setdefault(path + search, set()).add(f"{word}: {scanned[:160]}")
                    break
    assert not leaks, leaks


def _figures(node) -> list:
    out = []
    if isinstance(node, list):
        for x in node:
            out += _figures(x)
    elif isinstance(node, dict):
        props = node.get("props", {})
        if "figure" in props:
            out.append(props["figure"])
        for v in props.values():
            if isinstance(v, (list, dict)):
                out += _figures(v)
    return out


def test_a_page_can_say_its_path_names_nothing(app, monkeypatch):
    """A page registered with ``exists=`` answers 404 for a path naming nothing."""
    import dash

    (station,) = [p for p in dash.page_registry.values()
                  if p.get("path_template") == "/station/<station_id>"]
    monkeypatch.setitem(station, "exists", lambda station_id: station_id == "RU:ORSK")
    client = app.server.test_client()
    assert client.get("/station/RU:ORSK").status_code == 200
    assert client.get("/station/RU%3AORSK").status_code == 200
    assert client.get("/station/NOWHERE?lang=kk").status_code == 404
