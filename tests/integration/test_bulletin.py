"""The daily bulletin and the data-status page (issue 13, items 6 and 7) on a small store
built from bundled files: the Ural's 2024 agency tables of both parties, Iriklinsk's
operations, and one refused file."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from conftest import ROOT

from hydro.services import bulletin_output as bo
from hydro.services.bulletin import bulletin, default_day, parse_as_of
from hydro.services.data_status import freshness, freshness_by_party, ingest_runs, quarantined

DATA = ROOT / "data" / "gauges"
KZ_FILE = DATA / "agency" / "kazhydromet" / "ural_2024.csv"
RU_FILE = DATA / "agency" / "roshydromet" / "ural_2024.csv"
IRIKLINSK = DATA / "reservoirs" / "RU_IRIKLINSK.csv"
RECEIVED = dt.datetime(2024, 1, 1)
DAY = dt.date(2024, 4, 21)


def agency_rows(path, code: str) -> list[list[str]]:
    """The rows of one post in a bundled agency CSV (cp1251), as text fields."""
    rows = []
    for line in path.read_bytes().decode("cp1251").splitlines():
        fields = line.split(";")
        if fields[0] == code:
            rows.append(fields)
    return rows


@pytest.fixture(scope="module")
def ural(tmp_path_factory, config):
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    tmp = tmp_path_factory.mktemp("bulletin")
    store = open_store(f"sqlite:///{tmp / 'store.sqlite'}", config.network)
    for path in (KZ_FILE, RU_FILE, IRIKLINSK):
        assert ingest_file(store, config, path, received_at=RECEIVED,
                           quarantine_dir=tmp / "q").outcome == "loaded"
    bad = tmp / "bad.csv"
    bad.write_text("station;date;level_m\nRU:NOWHERE;2024-04-01;1\n", encoding="utf-8")
    rejected = ingest_file(store, config, bad, quarantine_dir=tmp / "q")
    assert rejected.outcome == "rejected"
    store.rejected = rejected  # type: ignore[attr-defined]
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def frame(ural, config):
    return bulletin(ural, config, DAY)


def row(frame, station, party=None):
    part = frame[frame["station_id"] == station]
    if party:
        part = part[part["party"] == party]
    assert len(part) == 1, part
    return part.iloc[0]


# --------------------------------------------------------------------------- service

def test_uralsk_morning_stage_and_24h_change_match_the_bundled_file(frame):
    fields = {f[2]: f for f in agency_rows(KZ_FILE, "19071")}
    today, before = fields["21.04.2024"], fields["20.04.2024"]
    assert today[3] == "08:00"
    r = row(frame, "KZ:19071", "KZ")
    assert r["stage_cm"] == float(today[4])
    assert r["previous_cm"] == float(before[4])
    assert r["change_cm"] == float(today[4]) - float(before[4])
    assert r["local_time"] == dt.datetime(2024, 4, 21, 8, 0)
    # KZ scheme: one dangerous level ОУ 850 cm (config/thresholds.toml); cm remaining =
    # level - stage, negative once exceeded
    assert r["scheme"] == "kz_dangerous" and r["dangerous_cm"] == 850
    assert pd.isna(r["adverse_cm"])
    assert r["remaining_cm"] == 850 - r["stage_cm"]
    assert r["status"] == ("dangerous" if r["stage_cm"] >= 850 else "normal")


def test_russian_gauge_has_nya_and_oya(frame, config):
    r = row(frame, "RU:ORENBURG", "RU")
    levels = {t.level: float(t.value.to("stage")) for t in config.thresholds_for("RU:ORENBURG")
              if t.scheme == "ru_nya_oya"}
    assert r["scheme"] == "ru_nya_oya"
    assert r["dangerous_cm"] == levels["dangerous"] and r["adverse_cm"] == levels["adverse"]
    assert r["remaining_cm"] == levels["dangerous"] - r["stage_cm"]
    assert r["remaining_adverse_cm"] == levels["adverse"] - r["stage_cm"]


def test_border_gauge_has_a_row_per_party(frame):
    parties = set(frame[frame["station_id"] == "KZ:19073"]["party"])
    assert parties == {"KZ", "RU"}


def test_ice_phenomena_are_carried(ural, config):
    # a winter morning: the bundled Uralsk reading is under ice cover
    fields = {f[2]: f for f in agency_rows(KZ_FILE, "19071")}
    assert fields["15.01.2024"][7] == "ледостав"
    r = row(bulletin(ural, config, dt.date(2024, 1, 15)), "KZ:19071", "KZ")
    assert r["phenomena"] == "ice_cover" and r["ice"]


def test_rows_are_grouped_by_basin_and_river_and_ordered_downstream(frame, config):
    ural_gauges = frame[(frame["kind"] == "gauge") & (frame["river"] == "Ural")]
    ids = list(dict.fromkeys(ural_gauges["station_id"]))
    order = [i for i in config.network.order if i in ids]
    assert ids == order
    assert ids.index("RU:ORENBURG") < ids.index("KZ:19071") < ids.index("KZ:19072")
    basins = list(dict.fromkeys(frame["basin"]))
    assert basins == [b for b in config.network.basins if b in basins]


def test_reservoir_free_capacity_from_its_storage_table(frame, config):
    r = row(frame, "RU:IRIKLINSK")
    res = config.network.reservoirs["RU:IRIKLINSK"]
    data = pd.read_csv(IRIKLINSK, sep=";", comment="#")
    day = data[data["date"] == DAY.isoformat()].iloc[0]
    assert r["level_m"] == pytest.approx(day["level_m"])
    assert r["volume_hm3"] == pytest.approx(day["volume_hm3"])
    npu_volume = float(res.storage_table.volume_at(float(res.npu.to("elevation"))))
    assert r["npu_volume_hm3"] == pytest.approx(npu_volume)
    assert r["free_capacity_hm3"] == pytest.approx(npu_volume - day["volume_hm3"])
    assert r["inflow_m3s"] == pytest.approx(day["inflow_m3s"])
    assert r["spill_m3s"] == pytest.approx(day["spill_m3s"])
    assert r["release_m3s"] == pytest.approx(day["outflow_m3s"] - day["spill_m3s"])
    assert r["npu_m"] == float(res.npu.to("elevation"))


def test_knowledge_time_before_the_data_arrived_gives_no_values(ural, config):
    early = bulletin(ural, config, DAY, as_of=RECEIVED - dt.timedelta(days=1))
    assert early["stage_cm"].isna().all() and early["level_m"].isna().all()
    assert parse_as_of("2024-04-21") == dt.datetime(2024, 4, 22)
    assert parse_as_of("2024-04-21T06:00+05:00") == dt.datetime(2024, 4, 21, 1)
    assert parse_as_of("nope") is None


def test_default_day_is_the_newest_stored_day(ural, config):
    assert default_day(ural, config) == dt.date(2024, 12, 31)


# --------------------------------------------------------------------------- files

def test_csv_is_utf8_with_bom_semicolons_and_reads_back(frame, config):
    data = bo.render(frame, config, "ru", "csv", synthetic=True)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig")
    assert "Уровень, см" in back.columns and "Свободная ёмкость, млн м³" in back.columns
    uralsk = back[back["Река – пост"] == "р. Урал – г. Уральск"].iloc[0]
    r = row(frame, "KZ:19071", "KZ")
    assert uralsk["Уровень, см"] == r["stage_cm"]
    assert uralsk["Изменение за сутки, см"] == r["change_cm"]
    iriklinsk = back[back["Река – пост"] == "Ириклинское водохранилище"].iloc[0]
    assert iriklinsk["Свободная ёмкость, млн м³"] == pytest.approx(
        row(frame, "RU:IRIKLINSK")["free_capacity_hm3"], abs=0.06)
    assert len(back) == len(frame)


def test_pdf_is_a_pdf_with_the_gauge_name_in_cyrillic_and_the_synthetic_mark(frame, config):
    pypdf = pytest.importorskip("pypdf")
    data = bo.render(frame, config, "ru", "pdf", synthetic=True)
    assert data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "р. Урал – г. Уральск" in text
    assert "СИНТЕТИЧЕСКИЕ" in text
    kk = bo.render(frame, config, "kk", "pdf", synthetic=False)
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(kk)).pages)
                    .split())
    assert "Жайық – Орал қ." in text and "Қауіпті деңгей" in text
    assert "СИНТЕТИКАЛЫҚ" not in text
    en = bo.render(frame, config, "en", "pdf", synthetic=True)
    assert "SYNTHETIC" in "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(en)).pages)


def test_html_names_its_language_and_has_both_tables(frame, config):
    page = bo.render(frame, config, "kk", "html", synthetic=True).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="kk">' in page
    assert "bulletin-gauges" in page and "bulletin-reservoirs" in page
    assert "Жайық – Орал қ." in page


def test_cli_writes_the_bulletin(ural, config, tmp_path, monkeypatch, capsys):
    from hydro.cli import main

    url = str(ural.url)
    monkeypatch.setenv("HYDRORISK_DB_URL", url)
    out = tmp_path / "b.pdf"
    assert main(["--config", str(ROOT / "config"), "report", "bulletin", "--date",
                 DAY.isoformat(), "--lang", "ru", "--format", "pdf", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert main(["--config", str(ROOT / "config"), "report", "bulletin", "--date",
                 DAY.isoformat(), "--lang", "en", "--format", "csv"]) == 0
    printed = capsys.readouterr().out
    assert "Ural at Uralsk (Oral)" in printed and "Stage, cm" in printed


# --------------------------------------------------------------------------- data status

def test_data_status_services(ural, config):
    runs = ingest_runs(ural)
    assert list(runs["outcome"][:1]) == ["rejected"]          # latest first
    assert set(runs["file"]) >= {"ural_2024.csv", "RU_IRIKLINSK.csv", "bad.csv"}
    q = quarantined(ural, config)
    bad = q[q["file"] == "bad.csv"].iloc[0]
    assert bad["reason"] and bad["reason"] in ural.rejected.message  # type: ignore[attr-defined]
    assert bad["quarantined_to"].endswith("_bad.csv")
    fresh = freshness(ural, config, at=dt.datetime(2024, 4, 22))
    uralsk = fresh[(fresh["station_id"] == "KZ:19071") & (fresh["party"] == "KZ")].iloc[0]
    assert uralsk["reported"] and not uralsk["silent"] and uralsk["age_days"] < 1.5
    irtysh = fresh[fresh["basin"] == "irtysh"]
    assert not irtysh["reported"].any() and irtysh["silent"].all()   # not loaded here
    summary = freshness_by_party(fresh).set_index("party")
    assert summary.loc["KZ", "stations"] > summary.loc["KZ", "silent"] > 0


# --------------------------------------------------------------------------- pages

@pytest.fixture(scope="module")
def app(ural, config):
    from dashboard.app import create_app

    from auth_support import logged_in

    return logged_in(create_app(config, engine=ural, clock=lambda: dt.datetime(2025, 1, 2, 12)),
                     ural)


def _texts(component) -> str:
    """Every string and attribute of a Dash component tree, as one text (a data grid's
    rows included: the string cells of its ``rowData``)."""
    out: list[str] = []

    def walk(node):
        if isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
        elif hasattr(node, "to_plotly_json"):
            for key, value in node.to_plotly_json()["props"].items():
                if key == "children":
                    walk(value)
                elif key == "rowData":
                    out.extend(str(v) for row in value for v in row.values()
                               if isinstance(v, str))
                elif isinstance(value, str):
                    out.append(value)
        elif node is not None:
            out.append(str(node))
    walk(component)
    return "\n".join(out)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_pages_render_in_every_language(app, lang):
    from dashboard.pages import bulletin as bulletin_page
    from dashboard.pages import data_status as data_status_page

    page = _texts(bulletin_page.layout(lang=lang, date=DAY.isoformat()))
    assert bo.text("title", lang) in page
    assert {"kk": "Жайық – Орал қ.", "ru": "р. Урал – г. Уральск",
            "en": "Ural at Uralsk (Oral)"}[lang] in page
    assert f"/download/bulletin.pdf?lang={lang}&date=2024-04-21" in page
    status = _texts(data_status_page.layout(lang=lang))
    assert "bad.csv" in status
    # the reason is shown, in the page's language (dashboard/reasons.py)
    assert {"kk": "«volume_hm3» бағаны жоқ", "ru": "нет столбца «volume_hm3»",
            "en": "missing column 'volume_hm3'"}[lang] in status


def test_page_and_downloads_through_the_server(app):
    client = app.server.test_client()
    for path in ("/bulletin?lang=ru", "/data-status?lang=kk"):
        assert client.get(path).status_code == 200, path
    pdf = client.get(f"/download/bulletin.pdf?lang=ru&date={DAY.isoformat()}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "bulletin-2024-04-21-ru.pdf" in pdf.headers["Content-Disposition"]
    csv = client.get(f"/download/bulletin.csv?lang=kk&date={DAY.isoformat()}")
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    assert client.get("/download/bulletin.xlsx").status_code == 404
    layout = json.dumps(client.get("/_dash-layout").get_json(), ensure_ascii=False)
    assert "shell-nav-bulletin" in layout and "shell-nav-data-status" in layout


def test_new_catalog_keys_have_every_language():
    from dashboard.i18n import CATALOG, missing_translations

    assert not [m for m in missing_translations()
                if m.split(":")[0].startswith(("ds.", "bulletin.", "nav."))]
    assert "nav.bulletin" in CATALOG and "nav.data_status" in CATALOG
    for entry in bo.TEXT.values():
        assert all(entry.get(lang) for lang in bo.LANGUAGES)
