"""The overview page's active-alerts panel (issue 13, item 1): the alerts open at the page's
``?date=``/``?asof=`` in a store built from the bundled Ural files and evaluated through
the 2024 flood, acknowledging (note and who) through the dialog's callback, refusals,
"new since your last look", and the status tiles that filter the tables — in kk, ru, en."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import ROOT
from test_dashboard import find, texts
from test_dashboard_shell import make_app, visible_strings

from hydro.services import alert_evaluation as ae
from hydro.services import alerts

DATA = ROOT / "data" / "gauges"
#: the Ural files: both agencies' 2024 bulletins and Iriklinsk's operations
URAL = [(DATA / "agency" / "kazhydromet" / "ural_2024.csv", "kazhydromet"),
        (DATA / "agency" / "roshydromet" / "ural_2024.csv", "roshydromet"),
        (DATA / "reservoirs" / "RU_IRIKLINSK.csv", None)]
#: the rules run on these mornings (UTC) as the data would have arrived (on time)
EVALUATIONS = [dt.datetime(2024, 4, d, 6) for d in (1, 5, 9, 11, 12)]
NOW = dt.datetime(2026, 12, 3, 9, 0)
DAY = "2024-04-12"
LANGS = ("kk", "ru", "en")
ACK_TEXT = {"kk": "Растады", "ru": "Подтвердил(а)", "en": "Acknowledged by"}


@pytest.fixture(scope="module")
def ural(tmp_path_factory, config):
    """The Ural 2024 season loaded, then the rules evaluated on five April mornings."""
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    tmp = tmp_path_factory.mktemp("alerts-panel")
    engine = open_store(f"sqlite:///{tmp / 'ural.sqlite'}", config.network)
    for path, source in URAL:
        r = ingest_file(engine, config, path, source_id=source,
                        received_at=dt.datetime(2024, 1, 1), quarantine_dir=tmp / "q")
        assert r.outcome == "loaded", (path, r.message)
    for when in EVALUATIONS:
        ae.evaluate(engine, config, as_of=when, on_time=True)
    yield engine
    engine.dispose()


@pytest.fixture
def app(ural, config):
    return make_app(ural, config, now=NOW)


def _day_end(config) -> dt.datetime:
    from dashboard.status import day_end_utc, network_timezones

    return day_end_utc(dt.date(2024, 4, 12), network_timezones(config.network))


def _open_on_12_april(engine, config, end: dt.datetime | None = None) -> set[int]:
    """The alerts open at the end of 12 April (or at ``end``), from the stored lifecycle
    itself."""
    df = alerts.list_alerts(engine, "all")
    end = end or _day_end(config)
    keep = (df["opened_at"] <= end) & (df["closed_at"].isna() | (df["closed_at"] > end))
    return {int(i) for i in df.loc[keep, "id"]}


def _text(node) -> str:
    return " ".join(str(x) for x in texts(node))


def _item_ids(node) -> set[int]:
    """The ids of the alerts listed in a panel."""
    out: set[int] = set()

    def walk(n):
        if isinstance(n, (list, tuple)):
            for x in n:
                walk(x)
        elif hasattr(n, "to_plotly_json"):
            m = re.fullmatch(r"alert-(\d+)", str(getattr(n, "id", "")))
            if m:
                out.add(int(m.group(1)))
            walk(getattr(n, "children", None))
    walk(node)
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_the_panel_lists_the_alerts_open_on_12_april_2024(app, ural, config, lang):
    from dashboard.views import alerts_panel as ap
    from dashboard.views import stations

    expected = _open_on_12_april(ural, config)
    assert len(expected) >= 5
    # the rules are still running at 06:00 on 12 April: every one of them is open now too
    provider = app.hydrorisk_context.provider
    content = ap.panel(provider, lang, DAY, now=NOW)
    assert _item_ids(content) == expected
    text = _text(content)
    orsk = config.network.node("RU:ORSK").names.get(lang)
    assert orsk in text
    from dashboard.i18n import t

    assert t("status.dangerous", lang) in text
    assert t("alerts.kind.stage_level", lang) in text
    assert t("alerts.open_at", lang, time=ap.utc(_day_end(config), lang),
             n=len(expected)) in text
    # escalation: nobody acknowledged Orsk's alert (opened 1 April): escalated, level 2
    assert t("alerts.escalated", lang, level=2,
             time=ap.utc(dt.datetime(2024, 4, 5, 6), lang)) in text
    # the data's standing: Orsk read under ice; the rest confirmed
    assert t("alerts.standing.ice_affected", lang) in text
    assert t("alerts.standing.confirmed", lang) in text
    if lang != "en":        # no English word in the kk and ru panel
        from test_dashboard_shell import english_words

        english = english_words()
        leaks = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() in english]
        assert not leaks, leaks
    # the page itself carries the panel next to the map, and the dialog outside the body
    page = stations.page(provider, lang, DAY, now=NOW)
    assert find(page, ap.AlertsPanel.PANEL) is not None
    assert find(page, ap.AlertsPanel.MODAL) is not None
    assert find(find(page, "stations-body"), ap.AlertsPanel.MODAL) is None
    # 10 April: those opened on the 11th and 12th not yet, those closed on the 12th still
    earlier = ap.panel(provider, lang, "2024-04-10", now=NOW)
    from dashboard.status import day_end_utc, network_timezones

    end_10 = day_end_utc(dt.date(2024, 4, 10), network_timezones(config.network))
    assert _item_ids(earlier) == _open_on_12_april(ural, config, end_10) != expected
    # as known on the morning of 5 April (before that day's evaluation)
    asof = ap.panel(provider, lang, DAY, asof="2024-04-05T05:00", now=NOW)
    assert _item_ids(asof) == _open_on_12_april(ural, config, dt.datetime(2024, 4, 5, 5))
    assert _item_ids(asof) and not _item_ids(asof) >= expected


def test_the_panel_time_follows_date_and_asof(app, config):
    from dashboard import timequery
    from dashboard.views import alerts_panel as ap

    provider = app.hydrorisk_context.provider
    latest = timequery.resolve(provider, "en", None, None, now=NOW)
    assert ap.panel_time(provider, latest) is None                 # open now
    day = timequery.resolve(provider, "en", DAY, None, now=NOW)
    assert ap.panel_time(provider, day) == _day_end(config)
    both = timequery.resolve(provider, "en", DAY, "2024-04-12T03:00", now=NOW)
    assert ap.panel_time(provider, both) == dt.datetime(2024, 4, 12, 3, 0)


@pytest.mark.parametrize("lang, station", [("kk", "KZ:19071"), ("ru", "KZ:19072"),
                                           ("en", "RU:ORENBURG")])
def test_acknowledging_through_the_dialog_stores_note_and_who_and_shows_it(
        app, ural, lang, station):
    from dashboard.views import alerts_panel as ap

    (alert_id,) = [a.id for a in alerts.list_alerts(ural, "open").itertuples()
                   if a.station_id == station and a.rule == "rate-of-rise"]
    search = f"?lang={lang}&date={DAY}"
    # "Acknowledge…" on the alert opens the dialog on it
    is_open, target, title, what, _msg = ap.open_dialog(
        [1], None, search, triggered={"type": ap.ACK_BUTTON, "alert": alert_id})
    assert is_open and target == alert_id and f"{alert_id}" in title
    assert app.hydrorisk_context.config.network.node(station).names.get(lang) in what
    message, done, still_open, note = ap.confirm_ack(1, alert_id, "  A. Seitov ",
                                                     "Called the Orsk post", search)
    assert message == "" and still_open is False and note == ""
    stored = alerts.get(ural, alert_id)
    assert stored.acknowledged_by == "A. Seitov" and stored.acknowledged_at == NOW
    events = alerts.history(ural, alert_id)
    ack = events[events["event"] == "acknowledged"]
    assert list(ack["by"]) == ["A. Seitov"] and list(ack["note"]) == ["Called the Orsk post"]
    # the panel shows it: acknowledged (after the day shown), by whom, the note
    content = ap.refresh_panel(None, None, done, search)
    item = find(content, f"alert-{alert_id}")
    text = _text(item)
    assert "A. Seitov" in text and "Called the Orsk post" in text
    assert "alert-acknowledged" in item.className
    assert find(item, {"type": ap.ACK_BUTTON, "alert": alert_id}) is None
    assert done["message"] in _text(content)                   # the confirmation
    # shown "now" (no date in the URL): acknowledged, not "after the time shown"
    now_text = _text(find(ap.refresh_panel(None, None, None, f"?lang={lang}"),
                          f"alert-{alert_id}"))
    assert ACK_TEXT[lang] in now_text


@pytest.mark.parametrize("lang", LANGS)
def test_acknowledging_is_refused_without_a_name_or_for_a_closed_alert(app, ural, lang):
    from dashboard.i18n import t
    from dashboard.views import alerts_panel as ap

    search = f"?lang={lang}&date={DAY}"
    candidates = [a for a in alerts.list_alerts(ural, "unacknowledged").itertuples()]
    target = candidates[0].id
    for name in ("", "   ", None):
        message, done, still_open, _ = ap.confirm_ack(1, target, name, "note", search)
        assert still_open is True and done is dash_no_update()
        assert t("alerts.ack.no_name", lang) in _text(message)
    assert alerts.get(ural, target).acknowledged_at is None
    # a closed alert (closed by a person after 12 April): refused, nothing written
    closed = candidates[1].id
    alerts.close(ural, closed, by="B. Ivanov", at=dt.datetime(2026, 1, 1))
    message, done, still_open, _ = ap.confirm_ack(1, closed, "A. Seitov", "", search)
    assert still_open is True
    assert t("alerts.ack.closed", lang, id=closed,
             time=ap.utc(dt.datetime(2026, 1, 1), lang)) in _text(message)
    assert alerts.get(ural, closed).acknowledged_at is None
    # the panel of 12 April still lists it (open then), as closed since, with no button
    item = find(ap.refresh_panel(None, None, None, search), f"alert-{closed}")
    assert t("alerts.closed_later", lang, time=ap.utc(dt.datetime(2026, 1, 1), lang)) \
        in _text(item)
    assert find(item, {"type": ap.ACK_BUTTON, "alert": closed}) is None


def dash_no_update():
    from dash import no_update

    return no_update


@pytest.mark.parametrize("lang", LANGS)
def test_new_since_your_last_look(app, ural, config, lang):
    from dashboard.i18n import t
    from dashboard.views import alerts_panel as ap

    provider = app.hydrorisk_context.provider
    frame = provider.open_alerts(_day_end(config))
    look = dt.datetime(2024, 4, 10, 12, 0)
    # opened or escalated after the last look, counted from the stored alerts
    expected = {int(a.id) for a in frame.itertuples()
                if a.opened_at > look or (a.escalated_at_at is not None
                                          and str(a.escalated_at_at) != "NaT"
                                          and a.escalated_at_at > look)}
    assert 0 < len(expected) < len(frame)
    assert ap.new_ids(frame, look) == expected
    content = ap.refresh_panel(None, look.isoformat(), None, f"?lang={lang}&date={DAY}")
    text = _text(content)
    assert t("alerts.new.count", lang, time=ap.utc(look, lang), n=len(expected)) in text
    for aid in expected:
        item = find(content, f"alert-{aid}")
        assert "alert-is-new" in item.className
        assert t("alerts.new.badge", lang) in _text(item)
    # a later look: nothing new; none kept yet: the first-look text
    later = ap.refresh_panel(None, "2024-04-12T23:00:00", None, f"?lang={lang}&date={DAY}")
    assert t("alerts.new.count", lang, time=ap.utc(dt.datetime(2024, 4, 12, 23), lang),
             n=0) in _text(later)
    first = ap.refresh_panel(None, None, None, f"?lang={lang}&date={DAY}")
    assert t("alerts.new.first", lang) in _text(first)
    # "Mark as seen": the last look becomes now; a first visit starts it; else unchanged
    assert ap.mark_seen(1, None, look.isoformat(),
                        triggered=ap.AlertsPanel.MARK_SEEN) == NOW.isoformat()
    assert ap.mark_seen(None, "x", None, triggered=ap.AlertsPanel.STAMP) == NOW.isoformat()
    assert ap.mark_seen(None, "x", look.isoformat(),
                        triggered=ap.AlertsPanel.STAMP) is dash_no_update()


def _post(client, output: str, outputs: list[dict] | dict, inputs: list[dict], state: list[dict],
          changed: str) -> dict:
    resp = client.post("/_dash-update-component", json={
        "output": output, "outputs": outputs, "inputs": inputs, "state": state,
        "changedPropIds": [changed]})
    assert resp.status_code in (200, 204), resp.data[:500]
    return resp.get_json()["response"] if resp.status_code == 200 else {}


@pytest.mark.parametrize("lang", LANGS)
def test_a_tile_click_filters_the_tables_to_its_state(app, lang):
    """A click on the "Dangerous" tile (a real callback request) -> the filter; the filter ->
    both grids' filterModel on their hidden state column, the tile marked, a note; the same
    tile again clears it."""
    from dashboard.i18n import t
    from dashboard.status import SUMMARY_ORDER
    from dashboard.views import stations as view

    from auth_support import logged_in

    client = logged_in(app, app.hydrorisk_context.provider.engine,
                       role="viewer").server.test_client()
    search = f"?lang={lang}&date={DAY}"

    def click(tile: str, current: str | None) -> str | None:
        inputs = [{"id": f"summary-{s}", "property": "n_clicks",
                   "value": 1 if f"summary-{s}" == tile else 0} for s in SUMMARY_ORDER]
        inputs.append({"id": view.FILTER_CLEAR, "property": "n_clicks",
                       "value": 1 if tile == view.FILTER_CLEAR else 0})
        out = _post(client, f"{view.STATUS_FILTER}.data",
                    {"id": view.STATUS_FILTER, "property": "data"}, inputs,
                    [{"id": view.STATUS_FILTER, "property": "data", "value": current}],
                    f"{tile}.n_clicks")
        return out[view.STATUS_FILTER]["data"]

    assert click("summary-dangerous", None) == "dangerous"
    assert click("summary-dangerous", "dangerous") is None           # again: cleared
    assert click("summary-adverse", "dangerous") == "adverse"
    assert click(view.FILTER_CLEAR, "adverse") is None

    out = _post(client, "..stations-gauge-table.filterModel...stations-reservoir-table."
                        "filterModel...stations-summary.className...stations-filter-note."
                        "children..",
                [{"id": "stations-gauge-table", "property": "filterModel"},
                 {"id": "stations-reservoir-table", "property": "filterModel"},
                 {"id": "stations-summary", "property": "className"},
                 {"id": view.FILTER_NOTE, "property": "children"}],
                [{"id": view.STATUS_FILTER, "property": "data", "value": "dangerous"}],
                [{"id": "_pages_location", "property": "search", "value": search}],
                f"{view.STATUS_FILTER}.data")
    model = {"state": {"filterType": "text", "type": "equals", "filter": "dangerous"}}
    assert out["stations-gauge-table"]["filterModel"] == model
    assert out["stations-reservoir-table"]["filterModel"] == model
    assert "filter-dangerous" in out["stations-summary"]["className"]
    note = " ".join(visible_strings(out[view.FILTER_NOTE]["children"]))
    assert t("filter.active", lang, state=t("status.dangerous", lang)) in note
    assert view.toggle_filter(None, "dangerous") is None

    # rendered with the filter (a refresh keeps it): the grids filter on a hidden column
    # that every row fills, and some gauges are dangerous on 12 April
    provider = app.hydrorisk_context.provider
    page = view.render(provider, lang, DAY, now=NOW, status_filter="dangerous")
    grid = find(page, "stations-gauge-table")
    assert grid.filterModel == model
    (col,) = [c for c in grid.columnDefs if c["field"] == "state"]
    assert col["hide"] is True
    assert any(r["state"] == "dangerous" for r in grid.rowData)
    assert "filter-dangerous" in find(page, "stations-summary").className
    assert find(view.render(provider, lang, DAY, now=NOW), "stations-gauge-table"
                ).filterModel == {}


def test_the_callbacks_are_registered(app):
    cb = " ".join(app.callback_map)
    for needle in ("alerts-panel-list.children", "alerts-last-look.data",
                   "alerts-ack-done.data", "stations-status-filter.data",
                   "stations-gauge-table.filterModel"):
        assert needle in cb, needle
