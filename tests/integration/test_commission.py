"""The commission page and its monthly report (issue 13, item 5): border volumes against the
norm, completeness per party, disagreement periods at the shared posts, the exchange log
with its acknowledgements (schema 9), the PDF and XLSX report, the CLI and the page in
kk, ru and en."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from conftest import ROOT
from sqlalchemy import text

from hydro.services.ingest import ingest_file

DATA = ROOT / "data" / "gauges"
CONFIG = str(ROOT / "config")
URAL_FILES = ("grdc/KZ_19073_Q_Day.Cmd.txt", "agency/kazhydromet/ural_2019.csv",
              "agency/roshydromet/ural_2019.csv", "quality/ural.csv")
RECEIVED = dt.datetime(2019, 7, 1, 6, 0)


def load(engine, config, tmp_path, files=URAL_FILES, received_at=RECEIVED):
    runs = []
    for f in files:
        path = f if not isinstance(f, str) else DATA / f
        result = ingest_file(engine, config, path, received_at=received_at,
                             quarantine_dir=tmp_path / "quarantine")
        assert result.outcome == "loaded", (f, result)
        runs.append(result)
    return runs


@pytest.fixture(scope="module")
def ural(tmp_path_factory):
    """A store with the Ural border gauge's discharge, both parties' 2019 stage tables and
    the Ural quality samples (read-only for the tests that use it)."""
    from hydro.config import load_config
    from hydro.store.db import open_store

    config = load_config(CONFIG)
    tmp = tmp_path_factory.mktemp("commission")
    engine = open_store(f"sqlite:///{tmp / 'store.sqlite'}", config.network)
    load(engine, config, tmp)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def april(ural):
    from hydro.config import load_config
    from hydro.services.commission import commission_data

    return commission_data(ural, load_config(CONFIG), dt.date(2019, 4, 30))


# --------------------------------------------------------------------------- volumes

def test_a_month_volume_is_the_sum_of_daily_discharge_times_a_day(april):
    # hand check on the bundled GRDC file of the Ural border gauge (KZ:19073, Yanvartsevo)
    total = 0.0
    days = 0
    for line in (DATA / "grdc/KZ_19073_Q_Day.Cmd.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("2019-04-"):
            total += float(line.split(";")[2]) * 86400.0
            days += 1
    assert days == 30
    month = april.volumes["month"]
    row = month[(month["border_id"] == "BORDER:ural-ru-kz") & (month["label"] == "2019-04")]
    assert len(row) == 1
    assert row["volume_hm3"].iloc[0] == pytest.approx(total / 1e6, rel=1e-9)
    assert row["n_days"].iloc[0] == 30 and row["gauge_id"].iloc[0] == "KZ:19073"
    # the norm comes from the config's base period (too few years here: the whole record)
    assert "1991–2020" in row["norm_basis"].iloc[0]
    # the season and the water year run past the day shown: counted, but no volume
    from hydro.services.commission import period_rows

    rows = period_rows(april).set_index("period")
    assert rows.loc["season", "n_days"] == 61 and pd.isna(rows.loc["season", "volume_hm3"])
    assert rows.loc["water_year", "label"] == "2019/20"
    # trend over the complete water years up to then (Mann-Kendall, Sen)
    trend = april.trends.set_index("border_id").loc["BORDER:ural-ru-kz"]
    assert trend["first_year"] == 2010 and trend["last_year"] == 2018 and trend["n"] == 9


# --------------------------------------------------------------------------- completeness

def test_completeness_of_a_month_with_a_removed_day(tmp_path, store, config):
    from hydro.services.commission import completeness

    raw = (DATA / "agency/kazhydromet/ural_2019.csv").read_bytes().split(b"\r\n")
    kept = [line for line in raw if not (line.startswith(b"19073;")
                                         and b";15.04.2019;" in line)]
    assert len(kept) == len(raw) - 1
    gap = tmp_path / "ural_2019.csv"
    gap.write_bytes(b"\r\n".join(kept))
    load(store, config, tmp_path, [gap, "agency/roshydromet/ural_2019.csv"])
    comp = completeness(store, config, "2019-04", dt.date(2019, 4, 30), months=2)
    at = comp[(comp["gauge_id"] == "KZ:19073") & (comp["variable"] == "stage")]
    kz = at[(at["party"] == "KZ")].set_index("month")
    ru = at[(at["party"] == "RU")].set_index("month")
    assert (kz.loc["2019-04", "n_days"], kz.loc["2019-04", "n_expected"]) == (29, 30)
    assert kz.loc["2019-04", "share"] == pytest.approx(29 / 30)
    assert kz.loc["2019-03", "share"] == 1.0
    assert ru.loc["2019-04", "share"] == 1.0
    # the discharge of the gauge's country is expected, and absent here
    q = comp[(comp["gauge_id"] == "KZ:19073") & (comp["variable"] == "discharge")]
    assert q["party"].tolist() == ["KZ", "KZ"] and (q["share"] == 0).all()
    # a month in progress is expected up to the day shown
    part = completeness(store, config, "2019-04", dt.date(2019, 4, 10), months=1)
    row = part[(part["gauge_id"] == "KZ:19073") & (part["party"] == "RU")
               & (part["variable"] == "stage")].iloc[0]
    assert (row["n_days"], row["n_expected"]) == (10, 10)


# --------------------------------------------------------------------------- shared posts

def test_the_ru_offset_of_spring_2019_is_one_disagreement_period(ural, config):
    from hydro.services.commission import commission_data

    data = commission_data(ural, config, dt.date(2019, 6, 30))
    assert list(data.shared) == ["KZ:19073", "KZ:11041", "KZ:12009", "KZ:11646"]
    daily = data.shared["KZ:19073"]
    assert {"KZ", "RU", "difference", "flagged"} <= set(daily.columns)
    periods = data.periods[data.periods["gauge_id"] == "KZ:19073"]
    # hydro/synthetic/generate.py: RU reads 12 cm higher from 1 March to 31 May 2019
    assert len(periods) == 1, periods
    p = periods.iloc[0]
    assert (p["start"], p["end"], p["days"]) == (dt.date(2019, 3, 1), dt.date(2019, 5, 31), 92)
    assert p["mean_difference"] == pytest.approx(-12, abs=0.5)
    assert p["max_abs_difference"] <= 14 and p["flagged_days"] == 92
    assert data.tolerance["KZ:19073"] == 5.0


def test_disagreement_periods_are_runs_of_consecutive_days():
    from hydro.services.commission import disagreement_periods

    days = pd.date_range("2020-01-01", periods=10, freq="D")
    daily = pd.DataFrame({"KZ": 100.0, "RU": 100.0, "flagged": False}, index=days)
    daily.loc[days[1:3], "RU"] = 93.0          # |diff| 7 > 5
    daily.loc[days[5], "flagged"] = True       # QC flag alone
    daily.loc[days[6], "RU"] = 95.0            # |diff| 5: not above the tolerance
    daily["difference"] = daily["KZ"] - daily["RU"]
    out = disagreement_periods(daily, 5.0)
    assert out[["start", "end", "days"]].values.tolist() == [
        [dt.date(2020, 1, 2), dt.date(2020, 1, 3), 2], [dt.date(2020, 1, 6),
                                                        dt.date(2020, 1, 6), 1]]


# --------------------------------------------------------------------------- exchange

def test_an_acknowledgement_is_stored_listed_refused_to_the_deliverer_never_overwritten(
        tmp_path, store, config):
    from hydro.services.exchange import ExchangeError, acknowledge, exchange_log

    kz_run, ru_run = (r.run_id for r in load(store, config, tmp_path, [
        "agency/kazhydromet/ural_2019.csv", "agency/roshydromet/ural_2019.csv"]))
    log = exchange_log(store, config).set_index("run_id")
    # the RU file also re-flags KZ values (QC cross flags): still RU's delivery alone
    assert log.loc[ru_run, "party"] == "RU" and log.loc[kz_run, "party"] == "KZ"
    assert log.loc[ru_run, "file"] == "ural_2019.csv"
    assert log.loc[ru_run, "source"] == "roshydromet"
    assert log.loc[ru_run, "received_at"] == pd.Timestamp(RECEIVED)
    assert log.loc[ru_run, "rows_written"] > 0 and log.loc[ru_run, "acknowledgements"] == []

    with pytest.raises(ExchangeError) as refused:
        acknowledge(store, config, ru_run, "RU", "A. Petrov")
    assert refused.value.code == "own_delivery" and refused.value.deliverer == "RU"
    for bad, code in ((dict(party="XX", by="x"), "bad_party"),
                      (dict(party="KZ", by="  "), "no_name")):
        with pytest.raises(ExchangeError) as e:
            acknowledge(store, config, ru_run, **bad)
        assert e.value.code == code
    with pytest.raises(ExchangeError) as e:
        acknowledge(store, config, 9999, "KZ", "x")
    assert e.value.code == "unknown_run"

    t1, t2 = dt.datetime(2019, 7, 2, 9), dt.datetime(2019, 7, 3, 10)
    first = acknowledge(store, config, ru_run, "kz", "A. Abenov", "received, 1917 rows", at=t1)
    second = acknowledge(store, config, ru_run, "commission", "S. Secretary", at=t2)
    assert first != second
    acks = exchange_log(store, config, "2019-04").set_index("run_id").loc[
        ru_run, "acknowledgements"]
    assert [(a["party"], a["acknowledged_by"], a["acknowledged_at"], a["note"]) for a in acks] \
        == [("KZ", "A. Abenov", t1, "received, 1917 rows"),
            ("commission", "S. Secretary", t2, None)]
    # as known before the second acknowledgement
    before = exchange_log(store, config, received_by=dt.datetime(2019, 7, 2, 12))
    assert len(before.set_index("run_id").loc[ru_run, "acknowledgements"]) == 1
    # a month with neither receipt nor values of these files lists nothing
    assert exchange_log(store, config, "2021-01").empty
    # stored as they were: a second acknowledgement added a row, changed none
    rows = pd.read_sql(text("SELECT * FROM exchange_acknowledgements ORDER BY id"), store)
    assert rows["acknowledged_by"].tolist() == ["A. Abenov", "S. Secretary"]
    assert rows["ingest_run_id"].tolist() == [ru_run, ru_run]


def test_exchange_commands(tmp_path, store, config, capsys, monkeypatch):
    from hydro.cli import main

    monkeypatch.setenv("HYDRORISK_DB_URL", str(store.url))
    kz_run, = (r.run_id for r in load(store, config, tmp_path,
                                       ["agency/kazhydromet/ural_2019.csv"]))
    assert main(["--config", CONFIG, "report", "exchange-ack", str(kz_run), "--party", "KZ",
                 "--by", "B. Nurlanov"]) == 2
    assert "delivered by KZ" in capsys.readouterr().err
    assert main(["--config", CONFIG, "reports", "exchange-ack", str(kz_run), "--party", "RU",
                 "--by", "I. Ivanov", "--note", "ok"]) == 0
    capsys.readouterr()
    assert main(["--config", CONFIG, "reports", "exchange", "--month", "2019-04"]) == 0
    out = capsys.readouterr().out
    assert "ural_2019.csv" in out and "delivered by KZ" in out
    assert "acknowledged by RU (I. Ivanov)" in out and ": ok" in out
    assert main(["--config", CONFIG, "report", "exchange", "--month", "2019-13"]) == 2
    report = tmp_path / "r.pdf"
    assert main(["--config", CONFIG, "report", "commission", "--month", "2019-04", "--lang",
                 "kk", "--format", "pdf", "--out", str(report)]) == 0
    assert report.read_bytes()[:5] == b"%PDF-"


# --------------------------------------------------------------------------- report files

@pytest.mark.parametrize(("lang", "month", "section"), [
    ("ru", "апрель 2019", "Периоды расхождения сторон на общих постах"),
    ("kk", "сәуір 2019", "Ортақ бекеттердегі тараптар айырмашылығының кезеңдері"),
    ("en", "April 2019", "Periods of disagreement at the shared posts"),
])
def test_the_pdf_report_is_in_the_chosen_language(april, lang, month, section):
    from pypdf import PdfReader

    from hydro.services.commission import render

    data = render(april, lang, "pdf", made_at=dt.datetime(2026, 12, 3, 9))
    assert data[:5] == b"%PDF-"
    text_ = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages)
    text_ = " ".join(text_.split())
    assert month in text_.lower() if lang != "en" else month in text_
    assert section in text_
    assert {"ru": "СИНТЕТИЧЕСКИЕ", "kk": "СИНТЕТИКАЛЫҚ", "en": "SYNTHETIC"}[lang] in text_


def test_the_xlsx_report_opens_and_guards_formula_cells(tmp_path, store, config, april):
    from openpyxl import load_workbook

    from hydro.services.commission import commission_data, render
    from hydro.services.exchange import acknowledge

    evil = tmp_path / "=HYPERLINK(1).csv"
    evil.write_bytes((DATA / "agency/roshydromet/ural_2019.csv").read_bytes())
    run = ingest_file(store, config, evil, source_id="roshydromet", received_at=RECEIVED,
                      quarantine_dir=tmp_path / "q")
    assert run.outcome == "loaded"
    acknowledge(store, config, run.run_id, "KZ", "@admin", "-1+2")
    data = commission_data(store, config, dt.date(2019, 4, 30))
    wb = load_workbook(io.BytesIO(render(data, "ru", "xlsx")))
    assert wb.sheetnames == ["report", "volumes", "trends", "completeness", "periods",
                             "quality", "exchange"]
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert "'=HYPERLINK(1).csv" in values
    assert "апрель 2019" in values
    # a file from outside data/gauges: no SYNTHETIC note; the bundled data have one
    assert not any("СИНТЕТИЧЕСКИЕ" in str(v) for v in values)
    bundled = load_workbook(io.BytesIO(render(april, "kk", "xlsx")))
    assert bundled["report"]["A1"].value.startswith("Трансшекаралық")
    assert any("СИНТЕТИКАЛЫҚ" in str(c.value) for row in bundled["report"].iter_rows()
               for c in row)
    assert not [v for v in values if isinstance(v, str) and v[:1] in "=+-@"]
    # numbers stay numbers
    volumes = [[c.value for c in row] for row in bundled["volumes"].iter_rows()]
    month = next(r for r in volumes if r[1] == "сәуір 2019" or r[1] == "Сәуір 2019")
    assert isinstance(month[3], float) and month[2] == "30/30"


def test_the_xlsx_cell_guard():
    from hydro.services.commission import cell_safe

    assert [cell_safe(v) for v in ("=1+1", "+7", "-2", "@x", "ok", 3.5, -2.0)] == \
        ["'=1+1", "'+7", "'-2", "'@x", "ok", 3.5, -2.0]


# --------------------------------------------------------------------------- schema

def test_a_schema_8_store_is_upgraded_to_9_keeping_its_rows(tmp_path, config):
    from hydro.services.exchange import acknowledge, exchange_log
    from hydro.store.db import SCHEMA_VERSION, current_version, make_engine, open_store

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = open_store(url, config.network)
    run, = (r.run_id for r in load(engine, config, tmp_path,
                                   ["agency/roshydromet/ural_2019.csv"]))
    n_before = pd.read_sql(text("SELECT COUNT(*) AS n FROM observation_segments"), engine)["n"][0]
    engine.dispose()
    raw = make_engine(url)
    with raw.begin() as conn:
        # the tables of schema 9 and after (schema 10: accounts)
        for table in ("audit_events", "users", "exchange_acknowledgements"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES "
                          "(8, '2026-01-01 00:00:00')"))
    assert current_version(raw) == 8
    raw.dispose()
    engine = open_store(url, config.network)
    try:
        assert current_version(engine) == SCHEMA_VERSION >= 9
        assert pd.read_sql(text("SELECT COUNT(*) AS n FROM observation_segments"),
                           engine)["n"][0] == n_before
        assert exchange_log(engine, config)["run_id"].tolist() == [run]
        acknowledge(engine, config, run, "KZ", "A. Abenov")
        assert len(exchange_log(engine, config)["acknowledgements"][0]) == 1
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the page

@pytest.fixture
def app(ural, config):
    from dashboard.app import create_app

    from auth_support import logged_in

    return logged_in(create_app(config, engine=ural, clock=lambda: dt.datetime(2019, 7, 2, 9)),
                     ural)


@pytest.mark.parametrize(("lang", "words"), [
    ("kk", ["Комиссия: шекарадағы су есебі және деректер алмасу", "Сәуір 2019",
            "Деректер алмасу журналы", "Жеткізілімді растау", "Жайық: РФ – ҚР шекарасы"]),
    ("ru", ["Комиссия: учёт стока через границу и обмен данными", "апрель 2019",
            "Журнал обмена данными", "Подтвердить получение", "р. Урал: граница РФ – РК",
            "3\u00a0227,4"]),
    ("en", ["Commission: border accounting and data exchange", "April 2019",
            "Data exchange log", "Acknowledge a delivery", "Ural: RU-KZ border", "3,227.4"]),
])
def test_the_page_renders_in_each_language(app, lang, words):
    from test_dashboard_shell import render_page, visible_strings

    client = app.server.test_client()
    resp = client.get(f"/commission?lang={lang}&date=2019-04-30")
    assert resp.status_code == 200 and f'<html lang="{lang}">' in resp.data.decode()
    layout = render_page(client, "/commission", f"?lang={lang}&date=2019-04-30")
    shown = visible_strings(layout)
    joined = "\n".join(shown)
    for w in words:
        assert w in joined, w
    assert "Traceback" not in joined and "Error" not in joined
    if lang != "en":
        english = {"Commission", "Volume", "Border", "Party", "Delivered by", "Acknowledge",
                   "Complete", "month", "season", "water year", "not acknowledged"}
        assert not [s for s in shown if s.strip() in english]
    # the navbar links the page
    assert "/commission" in json.dumps(client.get("/_dash-layout").get_json())
    # and the downloads
    pdf = client.get(f"/download/commission.pdf?lang={lang}&date=2019-04-30")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    xlsx = client.get(f"/download/commission.xlsx?lang={lang}&date=2019-04-30")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert f"commission-2019-04-{lang}.xlsx" in xlsx.headers["Content-Disposition"]
    assert client.get("/download/commission.doc?lang=ru").status_code == 404


def _json(component) -> str:
    from plotly.utils import PlotlyJSONEncoder

    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


def test_the_acknowledge_action(tmp_path, store, config):
    from dashboard.provider import StoreProvider
    from dashboard.views.commission import acknowledge
    from test_dashboard_shell import visible_strings

    run, = (r.run_id for r in load(store, config, tmp_path,
                                   ["agency/roshydromet/ural_2019.csv"]))
    provider = StoreProvider(config, store)
    state = {"lang": "ru", "day": "2019-04-30", "asof": None}
    message, table = acknowledge(provider, 1, run, "RU", "П. Петров", "", state)
    assert "Отклонено" in _json(message)
    assert "передала сторона RU" in _json(message)
    message, table = acknowledge(provider, 1, run, "KZ", "", "", state)
    assert "укажите имя" in _json(message)
    message, table = acknowledge(provider, 2, run, "KZ", "А. Абенов", "принято", state)
    assert "сохранено" in _json(message)
    shown = visible_strings(json.loads(_json(table)))
    assert any("А. Абенов" in s for s in shown)
    assert provider.commission(dt.date(2019, 4, 30)).exchange["acknowledgements"][0][0][
        "acknowledged_by"] == "А. Абенов"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_english_in_the_kk_and_ru_page(app, lang):
    """The shell tests' scan (every visible text and figure text against the English
    catalog) over the commission page."""
    import re

    from test_dashboard_shell import _figures, english_words, render_page, visible_strings

    client = app.server.test_client()
    english = english_words()
    leaks = set()
    for search in (f"?lang={lang}&date=2019-04-30", f"?lang={lang}&date=2019-06-30"):
        content = render_page(client, "/commission", search)
        figures = json.dumps(_figures(content), ensure_ascii=False)
        strings = visible_strings(content) + re.findall(
            r'"(?:hovertext|text|name|title|ticktext)": "([^"]*)"', figures)
        for s in strings:
            # data, not words: the delivered files' names and the sources' ids
            if re.search(r"\.(csv|txt|nc)$", s) or s in ("kazhydromet", "roshydromet",
                                                         "grdc", "quality"):
                continue
            for word in re.findall(r"[A-Za-z]{3,}", s):
                if word.lower() in english and word not in ("PDF", "XLSX", "SARIMAX"):
                    leaks.add(f"{word}: {s[:120]}")
    assert not leaks, leaks
