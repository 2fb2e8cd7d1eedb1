"""Station and reservoir pages (issue 13, items 2 and 3) on a temporary store: the service
(:mod:`hydro.services.station_view`) and the view (:mod:`dashboard.views.station`).

The store holds twelve years (2013-2024) of daily values at the border gauge KZ:19073
(Yanvartsevo: stage from both parties, KZ 3 cm above RU except on a few flagged days;
discharge from KZ) with a crest on 20 April 2024, an ice period every winter, one value
revised a day after it arrived, and a few days of Iriklinsk.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert

from hydro.qc import QC
from hydro.store import segments
from hydro.store.db import open_store
from hydro.store.models import IngestRun

GAUGE = "KZ:19073"
RES = "RU:IRIKLINSK"
AS_OF = dt.date(2024, 4, 25)
CREST = dt.datetime(2024, 4, 20, 3, 0)          # 08:00 local (UTC+5)
CREST_Q = 9000.0
RECEIVED = dt.datetime(2025, 1, 1)
REVISED_AT = dt.datetime(2025, 1, 2)
REVISED_TIME = dt.datetime(2024, 4, 10, 3, 0)
#: days on which the parties disagree beyond tolerance (flagged PARTY_DISAGREE)
FLAGGED = [dt.datetime(2024, 4, d, 3, 0) for d in (14, 15, 16)]


def _discharge(day: pd.Timestamp) -> float:
    """A spring flood every year (peak mid-April, higher in later years), low otherwise;
    2024's crest is CREST_Q."""
    doy = day.day_of_year
    peak = 1500.0 + 150.0 * (day.year - 2013)
    q = 200.0 + peak * math.exp(-((doy - 110) / 12.0) ** 2)
    if day.year == 2024:
        q = 200.0 + (CREST_Q - 200.0) * math.exp(-((doy - 111) / 10.0) ** 2)
    return round(q, 3)


def _rows() -> pd.DataFrame:
    rows = []
    days = pd.date_range("2013-01-01", "2024-06-30", freq="D")
    for day in days:
        time = day.to_pydatetime().replace(hour=3)
        q = _discharge(day)
        stage = round(80.0 + 100.0 * (q / 154.8) ** (1 / 1.7), 1)
        ice = day.month in (12, 1, 2)
        flags = int(QC.ICE) if ice else 0
        phen = "ice_cover" if ice else None
        rows.append(dict(station_id=GAUGE, variable="discharge", time=time, value=q,
                         unit="m3/s", party="KZ", source="grdc", qc_flags=0, phenomena=None,
                         revision=1))
        kz_ru = 40.0 if time in FLAGGED else 3.0
        disagree = int(QC.PARTY_DISAGREE) if time in FLAGGED else 0
        rows.append(dict(station_id=GAUGE, variable="stage", time=time, value=stage,
                         unit="cm", party="KZ", source="kazhydromet", qc_flags=flags | disagree,
                         phenomena=phen, revision=1))
        rows.append(dict(station_id=GAUGE, variable="stage", time=time, value=stage - kz_ru,
                         unit="cm", party="RU", source="roshydromet",
                         qc_flags=flags | disagree, phenomena=phen, revision=1))
    for d in range(10):
        time = dt.datetime(2024, 4, 15 + d, 19, 0)
        for variable, value, unit in (("level", 244.0, "m"), ("volume", 3000.0, "hm3"),
                                      ("inflow", 1000.0, "m3/s"), ("outflow", 400.0, "m3/s"),
                                      ("spill", 100.0, "m3/s"),
                                      ("evaporation", 2.0, "m3/s")):
            rows.append(dict(station_id=RES, variable=variable, time=time, value=value,
                             unit=unit, party="RU", source="reservoir", qc_flags=0,
                             phenomena=None, revision=1))
    return pd.DataFrame(rows)


def _build(path, network) -> object:
    engine = open_store("sqlite:///" + str(path), network)
    with engine.begin() as conn:
        run_id = conn.execute(insert(IngestRun).values(
            path="/srv/inbox/test.csv", source="kazhydromet", format="agency_csv",
            content_hash="1" * 64, started_at=RECEIVED, finished_at=RECEIVED,
            outcome="loaded", rows_read=1, rows_written=1)).inserted_primary_key[0]
        segments.write(conn, _rows(), RECEIVED, run_id)
        revised = pd.DataFrame([dict(station_id=GAUGE, variable="stage", time=REVISED_TIME,
                                     value=999.0, unit="cm", party="KZ", source="kazhydromet",
                                     qc_flags=int(QC.SPIKE), phenomena=None, revision=2)])
        segments.write(conn, revised, REVISED_AT, run_id)
    return engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory, config):
    eng = _build(tmp_path_factory.mktemp("station") / "s.sqlite", config.network)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def provider(engine, config):
    from dashboard.provider import StoreProvider

    return StoreProvider(config, engine)


@pytest.fixture(scope="module")
def app(engine, config):
    from dashboard.app import create_app

    from auth_support import logged_in

    return logged_in(create_app(config, engine=engine), engine)


def _json(component) -> str:
    """A component tree as the browser receives it (text searchable, non-ASCII as is)."""
    from plotly.utils import PlotlyJSONEncoder

    return json.dumps(component, cls=PlotlyJSONEncoder, ensure_ascii=False)


def _window(provider, span="120"):
    from dashboard.views.station import window

    return window(provider, AS_OF, span)


@pytest.fixture(scope="module")
def gauge_view(provider):
    start, end = _window(provider)
    return provider.station_view(GAUGE, start, end, AS_OF)


# --------------------------------------------------------------------------- service

def test_thresholds_in_force_on_a_date(config):
    from hydro.services.station_view import thresholds_on

    kurgan = thresholds_on(config, "RU:KURGAN", AS_OF)
    assert [(x.scheme, x.level, x.value_cm) for x in kurgan] == [
        ("local_impact", "impact", 630.0), ("ru_nya_oya", "adverse", 700.0),
        ("ru_nya_oya", "dangerous", 850.0)]
    # a level replaced on 1 May 2024: the old one applies before, the new one from that day
    (old,) = [x for x in config.thresholds_for("RU:ORSK") if x.level == "dangerous"]
    changed = [old.model_copy(update={"valid_to": dt.date(2024, 5, 1)}),
               old.model_copy(update={"valid_from": dt.date(2024, 5, 1),
                                      "value": old.value.__class__(750, "cm")})]

    class Config:
        def thresholds_for(self, station):
            return changed

    assert [x.value_cm for x in thresholds_on(Config(), "RU:ORSK", AS_OF)] == [700.0]
    assert [x.value_cm for x in thresholds_on(Config(), "RU:ORSK", dt.date(2024, 5, 1))] == \
        [750.0]


def test_view_carries_the_levels_of_the_day(gauge_view):
    assert [(x.scheme, x.value_cm, x.status) for x in gauge_view.thresholds] == [
        ("kz_dangerous", 850.0, "conflicting"), ("kz_dangerous", 1250.0, "conflicting")]


def test_return_levels_grow_with_the_return_period(gauge_view, config):
    from hydro.floods import annual_maxima, fit_annual_maxima

    rl = gauge_view.return_levels
    assert (rl.dist, rl.method) == ("GEV", "L-moments")
    assert rl.periods == (2, 10, 50, 100)
    assert all(b > a for a, b in zip(rl.discharge, rl.discharge[1:], strict=False))
    assert all(b > a for a, b in zip(rl.stage, rl.stage[1:], strict=False))
    # the same fit as hydro.floods on the annual maxima of the daily discharge
    days = pd.date_range("2013-01-01", "2024-06-30", freq="D")
    daily = pd.Series([_discharge(d) for d in days], index=days)
    peaks = annual_maxima(daily)
    assert list(peaks.index) == list(range(2013, 2024))      # 2024 is not complete
    fit = fit_annual_maxima(peaks.to_numpy(), dist="gev", method="lmom")
    assert rl.discharge == pytest.approx([float(fit.return_level(T)) for T in rl.periods])
    rating = config.network.gauges[GAUGE].rating
    assert rl.stage == pytest.approx(list(rating.stage(np.asarray(rl.discharge))))


def test_hydrosos_band_ice_and_the_as_of_class(gauge_view):
    band = gauge_view.hydrosos["discharge"]
    assert band.n_years == 12 and (band.first_year, band.last_year) == (2013, 2024)
    assert all(a <= b <= c <= d for a, b, c, d in zip(band.p10, band.p25, band.p75, band.p90,
                                                      strict=True))
    assert band.status == "high"           # 2024 is the highest spring of the record
    # ice: December to February
    ((first, last),) = gauge_view.ice
    assert first == gauge_view.start.replace(hour=3) + dt.timedelta(days=1)
    assert last == dt.datetime(2024, 2, 29, 3, 0)


def test_disagreement_at_a_border_gauge_is_kz_minus_ru(gauge_view):
    d = gauge_view.disagreement
    rows = _rows()
    stage = rows[(rows.variable == "stage") & (rows.time >= gauge_view.start)
                 & (rows.time < gauge_view.end)]
    kz = stage[stage.party == "KZ"].set_index("time")["value"]
    ru = stage[stage.party == "RU"].set_index("time")["value"]
    kz.loc[REVISED_TIME] = 999.0                      # the current revision
    expected = (kz - ru).sort_index()
    got = d["difference"].copy()
    got.index = pd.DatetimeIndex(got.index)
    pd.testing.assert_series_equal(got, expected, check_names=False, check_freq=False,
                                   check_index_type=False)
    assert d.loc[pd.Timestamp(FLAGGED[0]), "flagged"]
    assert d["flagged"].sum() == len(FLAGGED)
    (period,) = gauge_view.disagreement_periods
    assert period == (FLAGGED[0] - dt.timedelta(hours=12), FLAGGED[-1] + dt.timedelta(hours=12))


def test_minmax_downsampling_keeps_every_extreme():
    from hydro.services.station_view import minmax_indices

    rng = np.random.default_rng(1)
    values = rng.normal(size=20_000).cumsum()
    idx = minmax_indices(values, 1000)
    assert len(idx) <= 1000 and idx[0] == 0 and idx[-1] == len(values) - 1
    assert values.argmax() in idx and values.argmin() in idx
    assert np.all(np.diff(idx) > 0)
    assert list(minmax_indices(values[:50], 1000)) == list(range(50))


def test_resampling_keeps_the_2024_crest(provider):
    start, end = _window(provider, "all")
    view = provider.station_view(GAUGE, start, end, AS_OF)
    (q,) = view.traces["discharge"]
    assert q.total > 4000 and q.downsampled and len(q.times) <= 1000
    assert q.maximum == CREST_Q
    assert q.times[q.values.index(CREST_Q)] == CREST
    # the page says so
    from dashboard.views.station import render

    words = _json(render(provider, GAUGE, "en", AS_OF.isoformat(), span="all"))
    assert f"of {q.total} values drawn" in words


def test_as_of_shows_what_was_known_then_and_the_revision_history(provider):
    start, end = _window(provider)
    now = provider.station_view(GAUGE, start, end, AS_OF)
    then = provider.station_view(GAUGE, start, end, AS_OF, known_at=REVISED_AT
                                 - dt.timedelta(hours=1))
    kz_now = next(tr for tr in now.traces["stage"] if tr.party == "KZ")
    kz_then = next(tr for tr in then.traces["stage"] if tr.party == "KZ")
    i = kz_now.times.index(REVISED_TIME)
    assert (kz_now.values[i], kz_now.revision[i], kz_now.qc[i]) == (999.0, 2, "SPIKE")
    assert kz_then.values[i] != 999.0 and kz_then.revision[i] == 1
    rev = now.revisions
    assert list(rev["revision"]) == [1, 2]
    assert set(rev["time"]) == {pd.Timestamp(REVISED_TIME)}
    assert pd.Timestamp(rev["received_at"].iloc[1]) == pd.Timestamp(REVISED_AT)


def test_a_forecast_that_does_not_beat_persistence_is_marked(engine, config):
    from dashboard.provider import StoreProvider
    from dashboard.views.station import render
    from hydro.store import forecasts as store_forecasts

    fields = dict(station_id=GAUGE, variable="discharge", unit="m3/s", method="sarimax",
                  issue_time=dt.datetime(2024, 4, 24, 3), issue_date=dt.datetime(2024, 4, 24),
                  known_at=dt.datetime(2024, 4, 24, 6), created_at=dt.datetime(2024, 4, 24, 6),
                  horizon_days=3, alpha=0.1, parameters=json.dumps({"beats_persistence": False}),
                  note=None)
    values = pd.DataFrame({"lead_days": [1, 2, 3],
                           "valid_date": pd.date_range("2024-04-25", periods=3),
                           "value": [5000.0, 4800.0, 4600.0], "lower": [4000.0, 3700.0, 3400.0],
                           "upper": [6000.0, 5900.0, 5800.0]})
    store_forecasts.write_runs(engine, [(fields, values)])
    provider = StoreProvider(config, engine)
    start, end = _window(provider)
    view = provider.station_view(GAUGE, start, end, AS_OF)
    (line,) = view.forecasts
    assert line.beats_persistence is False and line.upper[0] == 6000.0
    page = _json(render(provider, GAUGE, "en", AS_OF.isoformat()))
    assert "Forecast: SARIMAX — does not beat persistence" in page
    assert "SARIMAX: 5–95 % interval" in page


# --------------------------------------------------------------------------- reservoir

def test_reservoir_free_capacity_and_days_to_full(provider, config):
    start, end = _window(provider)
    view = provider.station_view(RES, start, end, AS_OF)
    s = view.state
    # by hand from config/basins.toml's storage table: 244.0 m lies between 243.77 m
    # (2947.03 hm³) and 245.0 m (3257.0 hm³): 2947.03 + (0.23 / 1.23) * 309.97 = 3004.992
    assert s.level_m == 244.0
    assert s.volume_hm3 == pytest.approx(3004.992, abs=1e-3)
    assert s.free_to_npu_hm3 == pytest.approx(3257.0 - 3004.992, abs=1e-3)     # 252.008
    assert s.free_to_fpu_hm3 == pytest.approx(3523.6 - 3004.992, abs=1e-3)     # 518.608
    # net inflow 1000 - 400 = 600 m³/s = 51.84 hm³ a day
    assert s.days_to_npu == pytest.approx(252.008 / 51.84, abs=1e-4)            # 4.861
    assert s.days_to_fpu == pytest.approx(518.608 / 51.84, abs=1e-4)            # 10.004
    assert (view.npu_m, view.fpu_m, view.umo_m) == (245.0, 246.0, 232.0)
    (release,) = view.traces["release"]
    assert set(release.values) == {300.0}                   # outflow 400 − spill 100
    assert {c.label for c in view.rule_curves} >= {"ural-2024-style / rule-curve"}
    curve = next(c for c in view.rule_curves if c.label.endswith("rule-curve"))
    assert all(243.0 <= v <= 245.0 for v in curve.level_m)


def test_reservoir_page_shows_levels_flows_and_state(provider):
    from dashboard.views.station import render

    page = _json(render(provider, RES, "ru", AS_OF.isoformat()))
    for text in ("НПУ (нормальный подпорный уровень)", "ФПУ", "УМО", "Попуск (сброс − холостой)",
                 "Холостой сброс", "Приток", "Испарение", "Свободная ёмкость до НПУ",
                 "252 млн м³", "4,9 сут", "Диспетчерская кривая"):
        assert text in page, text


# --------------------------------------------------------------------------- view

def test_csv_download_parses_back_to_the_shown_series(app, provider):
    from dashboard.views.station import download_csv, render

    search = f"?lang=en&date={AS_OF.isoformat()}"
    with app.server.test_request_context():
        sent = download_csv(1, "/station/" + GAUGE, search)
    frame = pd.read_csv(io.StringIO(sent["content"]))
    assert sent["filename"].startswith("KZ_19073_") and sent["filename"].endswith(".csv")
    page = render(provider, GAUGE, "en", AS_OF.isoformat())
    figures = _figures(page)
    shown = [(variable, tr) for variable, fig in zip(("stage", "discharge"), figures[:2],
                                                     strict=True)
             for tr in fig.data if str(tr.meta or "").startswith("observed:")]
    assert len(shown) == 3                              # KZ and RU stage, KZ discharge
    for variable, fig_trace in shown:
        party = fig_trace.meta.split(":")[1]
        rows = frame[(frame.series == "observed") & (frame.variable == variable)
                     & (frame.party == party)]
        assert list(pd.to_datetime(rows.time_utc)) == list(pd.to_datetime(fig_trace.x))
        assert list(rows.value) == pytest.approx(list(fig_trace.y))


def _figures(component) -> list:
    out = []

    def walk(node):
        if isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
        elif hasattr(node, "to_plotly_json"):
            if type(node).__name__ == "Graph":
                out.append(node.figure)
            walk(getattr(node, "children", None))
    walk(component)
    return out


def test_hover_carries_qc_source_and_revision(provider):
    from dashboard.views.station import render

    (stage, _) = _figures(render(provider, GAUGE, "en", AS_OF.isoformat()))
    kz = next(tr for tr in stage.data if tr.meta == "observed:KZ")
    i = list(kz.x).index(REVISED_TIME)
    assert list(kz.customdata[i]) == ["spike", "Kazhydromet", 2]
    assert "QC: %{customdata[0]}" in kz.hovertemplate
    legend = [tr.name for tr in stage.data if tr.showlegend is not False]
    assert "ОУ 850 cm (KZ) [conflicting]" in legend
    assert any(name.startswith("100-year flood") for name in legend)
    assert "HydroSOS normal (p25–p75)" in legend and "Ice phenomena" in legend
    assert "KZ − RU disagreement (shaded)" in legend
    assert "Parties disagree (QC flag)" in legend


@pytest.mark.parametrize("lang, text", [("kk", "«XX:NOPE» бекеті конфигурацияда жоқ."),
                                        ("ru", "Поста «XX:NOPE» нет в конфигурации."),
                                        ("en", "There is no station 'XX:NOPE'")])
def test_unknown_station_says_so_in_the_language(provider, lang, text):
    from dashboard.views.station import render

    page = _json(render(provider, "XX:NOPE", lang))
    assert text in page and "station-unknown" in page


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


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_pages_render_in_every_language(app, lang):
    from dashboard.i18n import CATALOG

    for station in (GAUGE, RES):
        content = _page(app, "/station/" + station, f"?lang={lang}&date={AS_OF.isoformat()}")
        assert "Traceback" not in content
        assert CATALOG["sv.revisions.title"][lang] in content
        if lang != "en":   # none of this page's own English texts leak into kk or ru
            leaks = [e["en"] for k, e in CATALOG.items()
                     if k.startswith(("sv.", "res.")) and e["en"] != e[lang]
                     and len(e["en"]) > 12 and "{" not in e["en"] and e["en"] in content]
            assert leaks == [], leaks


def test_the_2024_season_is_overlaid_on_an_earlier_spring(provider):
    from dashboard.views.station import window

    as_of = dt.date(2023, 4, 25)
    start, end = window(provider, as_of, "120")
    view = provider.station_view(GAUGE, start, end, as_of)
    overlay = view.overlay["discharge"]
    assert overlay.party == "2024"
    # 20 April 2024's daily mean (the crest) drawn at 20 April 2023, local midnight (UTC+5)
    i = overlay.times.index(dt.datetime(2023, 4, 19, 19, 0))
    assert overlay.values[i] == CREST_Q
    assert len(overlay.times) == 121            # 26 Dec 2022 - 25 Apr 2023 as 2023-2024
    assert overlay.values[0] == _discharge(pd.Timestamp("2023-12-26"))
    # a window that holds 2024 itself shows no overlay
    assert provider.station_view(GAUGE, *window(provider, AS_OF, "120"), AS_OF).overlay == {}


def test_zooming_redraws_the_range_at_full_resolution(app):
    from dashboard.views.station import resample_on_zoom, zoom_range

    assert zoom_range({"xaxis.autorange": True}) is True
    assert zoom_range({"dragmode": "pan"}) is None
    search = f"?lang=en&date={AS_OF.isoformat()}&span=all"
    zoom = {"xaxis.range[0]": "2024-03-01 00:00", "xaxis.range[1]": "2024-05-01 00:00"}
    with app.server.test_request_context():
        fig = resample_on_zoom("discharge")(zoom, "/station/" + GAUGE, search)
        # the default window is drawn in full already: nothing to do
        assert resample_on_zoom("discharge")(zoom, "/station/" + GAUGE,
                                             f"?date={AS_OF.isoformat()}") is dash_no_update()
    (q,) = [tr for tr in fig.data if tr.meta == "observed:KZ"]
    days = pd.date_range("2024-03-01", AS_OF, freq="D")  # the zoom, up to the as-of day
    assert len(q.x) == len(days)                         # every value of the range
    assert max(q.y) == CREST_Q
    assert list(fig.layout.xaxis.range) == [dt.datetime(2024, 3, 1), dt.datetime(2024, 5, 1)]


def dash_no_update():
    from dash import no_update

    return no_update


def _quoted_english(node):
    """The texts of the components marked ``lang="en"`` in a rendered (JSON) layout."""
    if isinstance(node, list):
        for x in node:
            yield from _quoted_english(x)
    elif isinstance(node, dict):
        props = node.get("props") if "type" in node else None
        if isinstance(props, dict) and props.get("lang") == "en" \
                and isinstance(props.get("children"), str):
            yield props["children"]
        for value in node.values():
            yield from _quoted_english(value)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_english_on_the_station_pages_in_kk_and_ru(app, lang):
    """The English-word scan of tests/integration/test_dashboard_shell.py over the station
    and reservoir pages, figures (legend names, hover texts, axis titles) included; a
    cited provenance (scenario rule source) is quoted as cited."""
    import re

    from test_dashboard_shell import english_words, render_page, visible_strings

    english = english_words()
    client = app.server.test_client()
    leaks = {}
    for path in ("/station/" + GAUGE, "/station/" + RES):
        content = render_page(client, path, f"?lang={lang}&date={AS_OF.isoformat()}")
        figures = json.dumps(content, ensure_ascii=False)
        strings = visible_strings(content) + re.findall(
            r'"(?:hovertemplate|text|name|title)": "([^"]*)"', figures)
        # the cited provenance is quoted as English (<q lang="en">) after its Kazakh or
        # Russian lead-in (dashboard/views/station.py: _rule_note)
        quoted = set(_quoted_english(content))
        for text in strings:
            if text in quoted:
                continue
            scanned = re.sub(r"(сценарийінің жоспарынан|из плана сценария)[^\n]*", "", text)
            scanned = re.sub(r"%\{[^}]*\}|<[^>]*>|«[^»]*»", "", scanned)   # ids as typed
            for word in re.findall(r"[A-Za-z]{3,}", scanned):
                if word.lower() in english:
                    leaks.setdefault(path, set()).add(f"{word}: {scanned[:120]}")
                    break
    assert not leaks, leaks
