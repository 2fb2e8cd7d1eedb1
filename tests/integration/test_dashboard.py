"""Dashboard below the browser: provider on a real temporary store, page layout, callbacks,
figure builders, translations, and the dependency direction hydro -/-> dash."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT
from sqlalchemy import insert

from hydro.qc import QC
from hydro.store import segments
from hydro.store.db import open_store
from hydro.store.models import IngestRun
from hydro.warning import WarningStatus

DAY = dt.date(2024, 4, 12)            # the as-of day of the test store
RECEIVED = dt.datetime(2024, 4, 13, 6, 0)


def _utc(day: dt.date, hour: int = 3) -> dt.datetime:
    """08:00 local at UTC+5 (the morning observation) is 03:00 UTC."""
    return dt.datetime.combine(day, dt.time(hour))


def _obs(station, variable, day, value, unit, party, source, hour=3, qc=0, phen=None):
    return dict(station_id=station, variable=variable, time=_utc(day, hour), value=value,
                unit=unit, party=party, source=source, qc_flags=qc, phenomena=phen,
                revision=1, received_at=RECEIVED)


D1 = DAY - dt.timedelta(days=1)
#: what the store holds; the expected status is worked out from config/thresholds.toml
TEST_ROWS = [
    # Orenburg: ОЯ 930 -> dangerous; risen 30 cm since the day before; a value of the next
    # day exists and must not show on DAY
    _obs("RU:ORENBURG", "stage", D1, 970, "cm", "RU", "roshydromet"),
    _obs("RU:ORENBURG", "stage", DAY, 1000, "cm", "RU", "roshydromet"),
    _obs("RU:ORENBURG", "stage", DAY + dt.timedelta(days=1), 1100, "cm", "RU", "roshydromet"),
    _obs("RU:ORENBURG", "discharge", DAY, 6500.0, "m3/s", "RU", "grdc", hour=0),
    # Kurgan: НЯ 700 <= 760 < ОЯ 850 -> adverse; impact mark 630 cm reached
    _obs("RU:KURGAN", "stage", DAY, 760, "cm", "RU", "roshydromet"),
    # Cherlak: low-water ОЯ 210 < 400 < НЯ 598 -> normal, read behind an ice jam
    _obs("RU:CHERLAK", "stage", DAY, 400, "cm", "RU", "roshydromet", qc=int(QC.ICE),
         phen="ice_jam"),
    # Orsk: last value ten days before -> silent (stale_after_days = 3)
    _obs("RU:ORSK", "stage", DAY - dt.timedelta(days=10), 500, "cm", "RU", "roshydromet"),
    # Yanvartsevo, border gauge reported by both parties: ОУ 850 -> dangerous, KZ - RU = +5
    _obs("KZ:19073", "stage", DAY, 900, "cm", "KZ", "kazhydromet"),
    _obs("KZ:19073", "stage", DAY, 895, "cm", "RU", "roshydromet"),
    # Kostanay: the estimated ОУ 600 -> dangerous, but provisional
    _obs("KZ:12008", "stage", DAY, 610, "cm", "KZ", "kazhydromet"),
    # Iriklinsk: 245.5 m, above НПУ 245.0 and below ФПУ 246.0; 3400 of 3257 hm³ at НПУ
    _obs("RU:IRIKLINSK", "level", DAY, 245.5, "m", "RU", "reservoir", hour=19),
    _obs("RU:IRIKLINSK", "volume", DAY, 3400.0, "hm3", "RU", "reservoir", hour=19),
    _obs("RU:IRIKLINSK", "inflow", DAY, 1630.0, "m3/s", "RU", "reservoir", hour=19),
    # total outflow 2315 m³/s of which 765 spill (issue 10): release 1550, spill 765
    _obs("RU:IRIKLINSK", "outflow", DAY, 2315.0, "m3/s", "RU", "reservoir", hour=19),
    _obs("RU:IRIKLINSK", "spill", DAY, 765.0, "m3/s", "RU", "reservoir", hour=19),
]
# Iriklinsk's daily values are labelled at local midnight: 19:00 UTC of the day before
TEST_ROWS[-5:] = [dict(r, time=r["time"] - dt.timedelta(days=1)) for r in TEST_ROWS[-5:]]


def build_store(path: Path, network, synthetic: bool = True, rows=TEST_ROWS):
    """A SQLite store at ``path`` holding ``rows`` (and, if ``synthetic``, an ingest run of a
    bundled demonstration file).  Used by the browser test's server too."""
    engine = open_store("sqlite:///" + str(path), network)
    with engine.begin() as conn:
        run_path = ("/srv/hydrorisk/data/gauges/agency/roshydromet/ural_2024.csv" if synthetic
                    else "/srv/hydrorisk/data/inbox/roshydromet/2024-04-12.csv")
        run_id = conn.execute(insert(IngestRun).values(
            path=run_path, source="roshydromet", format="agency_csv", content_hash="0" * 64,
            started_at=RECEIVED, finished_at=RECEIVED, outcome="loaded",
            rows_read=len(rows), rows_written=len(rows))).inserted_primary_key[0]
        segments.write(conn, pd.DataFrame(rows), RECEIVED, run_id)
    return engine


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


@pytest.fixture
def report(provider):
    return provider.station_report(DAY)


def texts(component) -> list[str]:
    """Every string in a Dash component tree (children and title attributes)."""
    out: list[str] = []

    def walk(node):
        if node is None:
            return
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, (int, float)):
            out.append(str(node))
        elif isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
        elif hasattr(node, "to_plotly_json"):
            props = getattr(node, "__dict__", {})
            walk(props.get("children"))
            if isinstance(props.get("title"), str):
                out.append(props["title"])
    walk(component)
    return out


def find(component, id_) -> typing.Any:
    """The component with ``id_`` in a tree, or None."""
    if isinstance(component, (list, tuple)):
        for x in component:
            hit = find(x, id_)
            if hit is not None:
                return hit
        return None
    if not hasattr(component, "to_plotly_json"):
        return None
    if getattr(component, "id", None) == id_:
        return component
    return find(getattr(component, "children", None), id_)


# --------------------------------------------------------------------------- provider

def test_provider_statuses_on_a_temporary_store(report):
    assert report.state_of("RU:ORENBURG") == "dangerous"
    assert report.state_of("RU:KURGAN") == "adverse"
    assert report.state_of("RU:CHERLAK") == "normal"
    assert report.state_of("RU:ORSK") == "silent"
    assert report.state_of("KZ:19073") == "dangerous"
    assert report.state_of("KZ:12008") == "dangerous"
    assert report.state_of("RU:IRIKLINSK") == "adverse"
    assert report.state_of("KZ:19802") == "no_data"          # Atyrau: nothing in the store
    counts = report.counts()
    assert (counts["dangerous"], counts["adverse"], counts["normal"], counts["silent"],
            counts["ice"]) == (3, 2, 1, 1, 1)
    assert sum(counts[k] for k in counts if k != "ice") == 44  # 34 gauges + 10 reservoirs


def test_provider_rows_carry_values_levels_and_margins(report):
    (oren,) = report.gauge_rows("RU:ORENBURG")
    assert oren.stage_cm == 1000                      # not the next day's 1100
    assert oren.change_cm_per_day == pytest.approx(30.0)
    assert oren.discharge_m3s == pytest.approx(6500.0)
    assert oren.local_time == dt.datetime(2024, 4, 12, 8, 0)   # Asia/Yekaterinburg, UTC+5
    c = oren.classification
    assert c.exceeded.value_cm == 930 and c.reference.remaining_cm == -70
    assert not c.provisional

    (kurgan,) = report.gauge_rows("RU:KURGAN")
    assert kurgan.classification.reference.value_cm == 850
    assert kurgan.classification.reference.remaining_cm == 90
    assert [m.value_cm for m in kurgan.classification.impacts_reached] == [630]

    (cherlak,) = report.gauge_rows("RU:CHERLAK")
    assert cherlak.ice and cherlak.phenomena == "ice_jam"
    assert cherlak.classification.status is WarningStatus.NORMAL

    (orsk,) = report.gauge_rows("RU:ORSK")
    assert orsk.silent and orsk.stage_cm == 500 and orsk.state == "silent"

    (kostanay,) = report.gauge_rows("KZ:12008")
    assert kostanay.classification.provisional
    assert kostanay.classification.exceeded.status == "estimate"


def test_border_gauge_has_a_row_per_party_with_their_difference(report):
    rows = report.gauge_rows("KZ:19073")
    assert [(r.party, r.stage_cm) for r in rows] == [("KZ", 900), ("RU", 895)]
    assert all(r.kz_minus_ru_cm == 5 for r in rows)
    assert all(r.classification.status is WarningStatus.DANGEROUS for r in rows)
    # a border gauge that only one party reported still lists the silent party
    assert [r.party for r in report.gauge_rows("KZ:11041")] == ["KZ", "RU"]
    assert not any(r.has_data for r in report.gauge_rows("KZ:11041"))


def test_reservoir_row_level_volume_and_percent_of_npu(report):
    r = report.reservoir_row("RU:IRIKLINSK")
    assert r.level_m == pytest.approx(245.5)
    assert (r.npu_m, r.fpu_m) == (245.0, 246.0)
    assert r.volume_hm3 == pytest.approx(3400.0) and not r.volume_from_table
    assert r.percent_of_npu_volume == pytest.approx(100 * 3400 / 3257, rel=1e-3)
    assert (r.inflow_m3s, r.outflow_m3s) == (1630.0, 2315.0)
    assert (r.release_m3s, r.spill_m3s) == (1550.0, 765.0)   # release = outflow - spill
    assert r.classification.to_npu_m == pytest.approx(-0.5)
    assert r.fpu_estimated and r.classification.provisional
    assert r.local_time.date() == DAY


def test_conflicting_values_of_one_level_are_both_listed_with_their_sources(provider):
    """Yanvartsevo's ОУ is published as 850 cm (mgorod.kz) and 1250 cm (arasha.kz): both are
    listed and marked conflicting, each with its source on hover; at 900 cm the status is
    dangerous (provisional) and the cm remaining are to the lower value, reached."""
    from dashboard.views import stations

    grid = find(stations.render(provider, "en", DAY.isoformat()), "stations-gauge-table")
    kz = next(r for r in grid.rowData
              if r["station_id"] == "KZ:19073" and r["party_code"] == "KZ")
    assert kz["level"] == "ОУ 850 · conflicting · ОУ 1250 · conflicting"
    titles = kz["level_title"].split("\n")
    assert any(w.startswith("ОУ 850 cm:") and "mgorod.kz" in w for w in titles)
    assert any(w.startswith("ОУ 1250 cm:") and "arasha.kz" in w for w in titles)
    assert kz["status"] == "Dangerous" and kz["status_note"] == "level not official"
    assert kz["remaining"] == -50 and kz["remaining_text"] == "−50"


def test_reservoir_table_shows_release_and_spill_separately(provider):
    """Regression (issue 10): "Release" showed the total outflow, spill included (Iriklinsk
    2315 m³/s of which 765 spill); spill was shown nowhere."""
    from dashboard.views import stations

    for lang, release, spill in (("en", "Release, m³/s", "Spill, m³/s"),
                                 ("ru", "Попуск, м³/с", "Неуправл. сброс, м³/с"),
                                 ("kk", "Жіберілуі, м³/с", "Төгу, м³/с")):
        grid = find(stations.render(provider, lang, DAY.isoformat()), "stations-reservoir-table")
        header = [c["headerName"] for c in grid.columnDefs]
        assert release in header and spill in header, lang
        fields = [c["field"] for c in grid.columnDefs]
        assert fields[header.index(release)] == "release"
        assert fields[header.index(spill)] == "spill"
        (row,) = [r for r in grid.rowData if r["station_id"] == "RU:IRIKLINSK"]
        assert (row["release"], row["spill"]) == (1550, 765), lang
        assert (row["release_text"], row["spill_text"]) == ("1550", "765"), lang
        assert "2315" not in json.dumps(row)             # the total is not shown as release


def test_reservoir_without_spill_shows_the_total_outflow_marked_as_such(config):
    from dashboard.components import reservoir_rows
    from dashboard.provider import InMemoryProvider
    from dashboard.status import Reading

    t0 = _utc(DAY, 19) - dt.timedelta(days=1)
    fake = InMemoryProvider(config, [
        Reading("RU:IRIKLINSK", "level", "RU", t0, 245.5),
        Reading("RU:IRIKLINSK", "outflow", "RU", t0, 2315.0),
        # a spill of another day does not count against this day's outflow
        Reading("RU:IRIKLINSK", "spill", "RU", t0 - dt.timedelta(days=1), 900.0),
    ])
    report = fake.station_report(DAY)
    row = report.reservoir_row("RU:IRIKLINSK")
    assert (row.outflow_m3s, row.release_m3s, row.spill_m3s) == (2315.0, None, None)
    (irik,) = [r for r in reservoir_rows(report, "en", {}) if r["station_id"] == "RU:IRIKLINSK"]
    assert irik["release_text"] == "2315 · total outflow; spill not reported"
    assert irik["spill"] is None and "900" not in json.dumps(irik) and "1550" not in json.dumps(irik)


def test_as_of_a_day_earlier_and_later(provider):
    before = provider.station_report(D1)
    (oren,) = before.gauge_rows("RU:ORENBURG")
    assert oren.stage_cm == 970 and oren.change_cm_per_day is None
    assert before.state_of("RU:KURGAN") == "no_data"
    # at the end of DAY + 3 (18:00 UTC, the day's end at UTC+6): Kurgan's value is 3.6 days
    # old, more than stale_after_days = 3; Orenburg's value of DAY + 1 is 2.6 days old
    later = provider.station_report(DAY + dt.timedelta(days=3))
    assert later.state_of("RU:KURGAN") == "silent"
    assert later.state_of("RU:ORENBURG") == "dangerous"


def test_silence_is_measured_at_now_on_the_current_day(provider):
    # DAY + 4 at 02:00 UTC: Kurgan's last value (DAY 03:00) is 3 days 23 h old -> silent;
    # at the same moment seen as "now" early on DAY + 3 it is not
    assert provider.station_report(DAY + dt.timedelta(days=4)).state_of("RU:KURGAN") == "silent"
    now = _utc(DAY + dt.timedelta(days=3), 2)
    assert provider.station_report(DAY + dt.timedelta(days=3), now=now).state_of(
        "RU:KURGAN") == "adverse"


def test_latest_date_and_synthetic_flag(provider, tmp_path, config):
    from dashboard.provider import StoreProvider

    assert provider.latest_date() == DAY + dt.timedelta(days=1)
    assert provider.date_range()[0] == DAY - dt.timedelta(days=10)
    assert provider.is_synthetic()
    real = build_store(tmp_path / "real.sqlite", config.network, synthetic=False)
    try:
        assert not StoreProvider(config, real).is_synthetic()
    finally:
        real.dispose()


def test_empty_store(tmp_path, config):
    from dashboard.provider import StoreProvider
    from dashboard.views.stations import render

    eng = open_store("sqlite:///" + str(tmp_path / "empty.sqlite"), config.network)
    provider = StoreProvider(config, eng)
    assert provider.latest_date() is None and not provider.is_synthetic()
    page = render(provider, "en", None, now=dt.datetime(2024, 5, 1, 12))
    words = " ".join(texts(page))
    assert "The store holds no observations yet" in words
    rows = find(page, "stations-gauge-table").rowData
    assert any(r["station"] == "Ural at Orenburg" and r["status"] == "No data" for r in rows)
    eng.dispose()


def test_in_memory_provider_agrees_with_the_store(provider, config):
    from dashboard.provider import InMemoryProvider
    from dashboard.status import day_end_utc, network_timezones

    cutoff = day_end_utc(DAY + dt.timedelta(days=30), network_timezones(config.network))
    fake = InMemoryProvider(config, provider.latest_readings(cutoff))
    # the fake only knows the last readings, so compare as of the last day
    a = provider.station_report(DAY + dt.timedelta(days=1))
    b = fake.station_report(DAY + dt.timedelta(days=1))
    assert [(s.station_id, s.state) for s in a.stations] == \
        [(s.station_id, s.state) for s in b.stations]


def test_stage_that_stopped_is_silent_even_with_fresh_discharge(config):
    from dashboard.provider import InMemoryProvider
    from dashboard.status import Reading

    fake = InMemoryProvider(config, [
        Reading("RU:ORENBURG", "stage", "RU", _utc(DAY - dt.timedelta(days=6)), 1000.0),
        Reading("RU:ORENBURG", "discharge", "RU", _utc(DAY, 0), 6500.0),
        Reading("RU:OMSK", "discharge", "RU", _utc(DAY, 0), 3000.0),   # discharge only
    ])
    report = fake.station_report(DAY)
    assert report.state_of("RU:ORENBURG") == "silent"
    (omsk,) = report.gauge_rows("RU:OMSK")
    assert omsk.has_data and not omsk.silent and omsk.stage_cm is None
    assert omsk.classification.status is WarningStatus.NO_DATA


def test_day_end_and_latest_day_in_local_time():
    from dashboard.status import date_of_last_data, day_end_utc, to_local

    zones = ["Asia/Oral", "Asia/Omsk"]          # UTC+5 and UTC+6 in 2024
    # 12 April ends first in Omsk, at 18:00 UTC
    assert day_end_utc(DAY, zones) == dt.datetime(2024, 4, 12, 18, 0)
    assert day_end_utc(DAY, []) == dt.datetime(2024, 4, 13, 0, 0)
    # a daily value stored at local midnight (19:00 UTC at UTC+5) belongs to the next day
    assert date_of_last_data(dt.datetime(2024, 4, 12, 19, 0), zones) == dt.date(2024, 4, 13)
    assert date_of_last_data(dt.datetime(2024, 4, 12, 3, 0), zones) == DAY
    assert date_of_last_data(None, zones) is None
    assert to_local(dt.datetime(2024, 4, 12, 3, 0), "Asia/Oral") == dt.datetime(2024, 4, 12, 8)


# --------------------------------------------------------------------------- page layout

def test_page_layout_lists_every_station_and_the_status(provider, config):
    from dashboard.views import stations

    page = stations.render(provider, "en", DAY.isoformat())
    gauges = find(page, "stations-gauge-table").rowData
    reservoirs = find(page, "stations-reservoir-table").rowData
    # the page's words: its components' texts, and the grids' cells and hover titles
    words = texts(page) + [v for r in gauges + reservoirs for v in r.values()
                           if isinstance(v, str)]
    words += [w for r in gauges for key in ("level", "status_note", "ice")
              for w in r[key].split(" · ")]
    words += [w for r in gauges for w in r["level_title"].split("\n")]
    joined = " ".join(words)
    for g in config.network.gauges.values():
        assert g.names.en in words, g.id
    for r in config.network.reservoirs.values():
        assert r.names.en in words, r.id
    assert "SYNTHETIC DEMONSTRATION DATA" in joined
    assert "Dangerous" in words and "Adverse" in words and "Silent" in words
    assert "ОЯ 930" in words                  # Orenburg, compared against ОЯ
    assert "est." in words                    # Kostanay's estimated ОУ is marked
    assert "conflicting" in words             # Shagan's conflicting ОУ is marked
    assert "−70" in words and "+30" in words  # cm remaining (exceeded), 24 h change
    assert "+5" in words                      # KZ − RU at Yanvartsevo
    # the provenance of a level is on hover: who set it, from where, since when
    assert any(w.startswith("ОЯ 930 cm: Roshydromet (Orenburg CGMS)") and "in force by" in w
               for w in words)
    assert "ice jam" in words
    assert len(gauges) == 34 + 4              # every gauge, plus a second party at 4 border gauges


def test_layout_through_the_app_context_in_russian(app):
    from dashboard.pages import stations

    page = stations.layout(lang="ru", date=DAY.isoformat())
    words = texts(page)
    assert "р. Урал – г. Оренбург" in words
    assert "Опасно" in words and "Молчит" in words
    assert any("СИНТЕТИЧЕСКИЕ" in w for w in words)
    date = find(page, "stations-date")
    assert date.date == DAY.isoformat()


def test_layout_defaults_to_the_latest_date_and_configured_language(app, config):
    from dashboard.pages import stations

    page = stations.layout()
    assert find(page, "stations-date").date == (DAY + dt.timedelta(days=1)).isoformat()
    assert config.settings.dashboard.language == "en"
    assert "State of rivers and reservoirs" in texts(page)
    bad = stations.layout(lang="xx", date="12.04.2024")
    assert find(bad, "stations-date").date == (DAY + dt.timedelta(days=1)).isoformat()
    # the time banners are the shell's, on every page (dashboard.app.time_banners)
    from dashboard.app import time_banners

    assert "'12.04.2024' is not a date (expected YYYY-MM-DD); showing the latest data." \
        in texts(time_banners("/", "?lang=xx&date=12.04.2024", "en"))


def test_flood_2024_button_only_when_the_data_cover_it(provider):
    from dashboard.views import stations

    page = stations.render(provider, "kk", None)
    button = find(page, "stations-flood-2024")
    assert button is not None and button.href == "/?lang=kk&date=2024-04-12"
    assert find(page, "stations-latest").href == "/?lang=kk"


def test_app_serves_the_page_through_dash_pages(app):
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    assert b"<title>hydrorisk</title>" in client.get("/").data
    layout = client.get("/_dash-layout").get_json()
    assert "shell-lang-ru" in json.dumps(layout)
    # the Pages router callback renders the page for a URL, as the browser would ask for it
    payload = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                   {"id": "_pages_location", "property": "search",
                    "value": "?lang=ru&date=2024-04-12"}],
        "changedPropIds": ["_pages_location.search"],
        "state": [],
    }
    resp = client.post("/_dash-update-component", json=payload)
    assert resp.status_code == 200, resp.data[:500]
    content = json.dumps(resp.get_json()["response"]["_pages_content"], ensure_ascii=False)
    assert "р. Урал – г. Оренбург" in content and "Опасно" in content


def test_create_app_opens_the_store_from_config(config, tmp_path, monkeypatch):
    from dashboard.app import create_app

    url = "sqlite:///" + str(tmp_path / "from-config.sqlite")
    monkeypatch.setenv("HYDRORISK_DB_URL", url)
    app = create_app(config)
    assert (tmp_path / "from-config.sqlite").exists()
    from auth_support import logged_in
    from dashboard.provider import StoreProvider

    provider = app.hydrorisk_context.provider
    assert isinstance(provider, StoreProvider)
    logged_in(app, provider.engine)
    assert app.title == "hydrorisk"
    assert app.server.test_client().get("/").status_code == 200


# --------------------------------------------------------------------------- callbacks

def test_date_picker_callback_navigates_keeping_the_language():
    from dash import no_update

    from dashboard.views.stations import date_href

    assert date_href("2024-04-10", "?lang=ru") == "/?lang=ru&date=2024-04-10"
    assert date_href("2024-04-10T00:00:00", "?lang=ru&date=2024-04-12") == \
        "/?lang=ru&date=2024-04-10"
    assert date_href("2024-04-12", "?date=2024-04-12") is no_update
    # the picker reporting the day the page already shows (the latest, no date in the URL)
    assert date_href("2024-12-31", "?lang=ru", "2024-12-31") is no_update
    assert date_href("2024-12-30", "?lang=ru", "2024-12-31") == "/?lang=ru&date=2024-12-30"
    assert date_href(None, "?lang=ru") is no_update


def test_shell_callback_switches_language_and_keeps_the_date():
    from dashboard.app import shell_state

    s = shell_state("/", "?lang=kk&date=2024-04-12", "en")
    assert s["lang"] == "kk"
    assert s["tagline"] == "Трансшекаралық өзендер: Жайық, Ертіс, Тобыл, Есіл"
    assert s["lang_hrefs"]["ru"] == "/?lang=ru&date=2024-04-12"
    assert s["lang_classes"] == {"kk": "lang-link active", "ru": "lang-link", "en": "lang-link"}
    assert shell_state("/", "", "ru")["nav_stations"] == "Посты"
    assert shell_state(None, "?lang=de", "en")["lang"] == "en"


def test_registered_callbacks(app):
    outputs = " ".join(app.callback_map)
    assert "shell-navigate.href" in outputs
    assert "shell-lang-ru.href" in outputs


# --------------------------------------------------------------------------- figures

def test_station_map_figure_builder():
    from dashboard.figures import STATE_COLORS, MapPoint, MapTexts, station_map

    points = [
        MapPoint(51.77, 55.10, "dangerous", "gauge", "Orenburg", "<b>Orenburg</b>",
                 station_id="RU:ORENBURG"),
        MapPoint(55.45, 65.34, "adverse", "gauge", "Kurgan", "Kurgan", ice=True,
                 station_id="RU:KURGAN", qc=("скачок",)),
        MapPoint(51.68, 58.63, "adverse", "reservoir", "Iriklinsk", "Iriklinsk",
                 station_id="RU:IRIKLINSK"),
        MapPoint(51.20, 58.57, "silent", "gauge", "Orsk", "Orsk", station_id="RU:ORSK"),
    ]
    texts = MapTexts(states={"dangerous": "Опасно", "adverse": "Неблагоприятно",
                             "silent": "Молчит"},
                     gauge="Гидропост", reservoir="Водохранилище", ice="Влияние льда",
                     qc="Флаг", rivers="Реки", border="Граница РК–РФ",
                     countries=[(57.0, 56.0, "РОССИЯ")])
    fig = station_map(points, [((58.57, 51.2), (55.10, 51.77))],
                      [((50.0, 51.0), (55.0, 50.5))], texts,
                      area_labels=[(52.5, 56.0, "Урал")])
    names = [tr.name for tr in fig.data]
    assert names == ["Реки", "Граница РК–РФ", "Молчит", "Неблагоприятно", "Опасно",
                     "Гидропост", "Водохранилище", "Влияние льда", "Флаг"]  # urgent on top
    adverse = fig.data[3]
    assert list(adverse.marker.symbol) == ["circle", "diamond"]
    assert adverse.marker.color == STATE_COLORS["adverse"]
    # ice no longer hides the status colour: a white outline, and a separate ice mark
    assert adverse.marker.line.color == "#ffffff"
    ice = fig.data[7]
    assert list(ice.customdata) == ["RU:KURGAN"] and ice.x[0] != 65.34
    assert "скачок" in fig.data[8].text[0]
    assert list(fig.data[0].x) == [58.57, 55.10, None]
    assert all(tr.type == "scatter" for tr in fig.data)                # no tiles, no geo
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio > 1.5
    assert [a.text for a in fig.layout.annotations] == ["Урал", "РОССИЯ"]


def test_station_map_with_nothing_to_show():
    from dashboard.figures import MapTexts, station_map

    fig = station_map([], [], [], MapTexts(states={}))
    assert len(fig.data) == 0


def test_schematic_segments_pass_through_unlocated_nodes(config):
    from dashboard.status import schematic_segments

    segs = schematic_segments(config.network)
    net = config.network
    orenburg = (net.gauges["RU:ORENBURG"].lat, net.gauges["RU:ORENBURG"].lon)
    ilek = (net.gauges["RU:ILEK"].lat, net.gauges["RU:ILEK"].lon)
    assert (orenburg, ilek) in segs        # through the unlocated Ural–Sakmara confluence
    assert all(None not in a + b for a, b in segs)


# --------------------------------------------------------------------------- formatting

def test_number_formatting():
    from dashboard.components import fmt_discharge, fmt_local, fmt_number

    assert fmt_number(-40) == "−40" and fmt_number(31, signed=True) == "+31"
    assert fmt_number(-0.2) == "0" and fmt_number(None) == "—"
    assert fmt_number(245.5, 2) == "245.50"
    assert (fmt_discharge(6500.4), fmt_discharge(48.09), fmt_discharge(0.123)) == \
        ("6500", "48.1", "0.12")
    assert fmt_local(dt.datetime(2024, 4, 12, 8, 0)) == "2024-04-12 08:00"
    assert fmt_local(dt.datetime(2024, 4, 12)) == "2024-04-12"


# --------------------------------------------------------------------------- i18n

def test_every_catalog_key_has_all_three_languages():
    from dashboard.i18n import CATALOG, LANGUAGES, missing_translations

    assert missing_translations() == []
    assert all(set(entry) == set(LANGUAGES) for entry in CATALOG.values())
    assert missing_translations({"x": {"kk": "a", "ru": " ", "en": "c"}}) == ["x:ru"]


def test_every_code_the_page_can_show_has_a_translation(config):
    from dashboard.i18n import CATALOG
    from dashboard.status import SUMMARY_ORDER
    from hydro.config import PhenomenonCode

    keys = set(CATALOG)
    need = {f"status.{s}" for s in SUMMARY_ORDER}
    need |= {f"status.{s.value}" for s in WarningStatus}
    need |= {f"phen.{p}" for p in typing.get_args(PhenomenonCode)}
    need |= {f"qc.{f.name}" for f in QC}
    net = config.network
    need |= {f"river.{n.river}" for n in [*net.gauges.values(), *net.reservoirs.values()]}
    need |= {f"country.{n.country}" for n in [*net.gauges.values(), *net.reservoirs.values()]}
    need |= {f"level.{t.scheme}.{t.level}" for t in config.thresholds}
    assert sorted(need - keys) == []


def test_t_and_query_helpers():
    from dashboard.i18n import query_string, resolve_lang, t

    assert t("status.dangerous", "kk") == "Қауіпті"
    assert t("summary.title", "ru", n=44) == "Число постов (всего 44)"
    with pytest.raises(KeyError, match="no translation for 'nope'"):
        t("nope", "en")
    assert resolve_lang("RU", "en") == "ru" and resolve_lang(None, "kk") == "kk"
    assert query_string("?lang=ru&date=2024-04-12", date=None) == "?lang=ru"
    assert query_string("", lang="kk", date="2024-04-12") == "?lang=kk&date=2024-04-12"
    assert query_string(None) == ""


# --------------------------------------------------------------------------- dependencies

def test_hydro_does_not_import_dash_and_importing_the_app_opens_no_store(tmp_path):
    db = tmp_path / "never.sqlite"
    code = (
        "import hydro, hydro.config, hydro.store.api, hydro.warning, sys\n"
        "assert 'dash' not in sys.modules, 'hydro imported dash'\n"
        "import dashboard, dashboard.status, dashboard.provider\n"
        "assert 'dash' not in sys.modules, 'the provider layer imported dash'\n"
        "import dashboard.app\n"
        "assert 'dash' in sys.modules\n"
    )
    env = dict(os.environ, HYDRORISK_DB_URL="sqlite:///" + str(db))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not db.exists()
