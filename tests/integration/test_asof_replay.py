"""``?asof=`` on the pages that ignored it (issue 13, item 8): the commission page's shared
posts and the data-status page show only what had been received by the knowledge time.

The store: the Kazhydromet 2019 Ural table received on 2 May 2019 06:00, the Roshydromet
one on 10 May 2019 06:00, and a refused file ingested now (wall clock).  As of 5 May 2019
the RU readings at the shared posts are unknown, so no disagreement can be seen; the RU
delivery and the refused file are not among the ingest runs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ROOT

from hydro.services.ingest import ingest_file

DATA = ROOT / "data" / "gauges"
KZ_RECEIVED = dt.datetime(2019, 5, 2, 6)
RU_RECEIVED = dt.datetime(2019, 5, 10, 6)
BETWEEN = dt.datetime(2019, 5, 5, 12)
DAY = dt.date(2019, 4, 30)


@pytest.fixture(scope="module")
def replay_store(tmp_path_factory):
    from hydro.config import load_config
    from hydro.store.db import open_store

    config = load_config(str(ROOT / "config"))
    tmp = tmp_path_factory.mktemp("asof")
    engine = open_store(f"sqlite:///{tmp / 'store.sqlite'}", config.network)
    for name, received in (("kazhydromet", KZ_RECEIVED), ("roshydromet", RU_RECEIVED)):
        result = ingest_file(engine, config, DATA / "agency" / name / "ural_2019.csv",
                             received_at=received, quarantine_dir=tmp / "quarantine")
        assert result.outcome == "loaded", result
    bad = tmp / "late_bad.csv"
    bad.write_text("station;date;level_m\nRU:NOWHERE;2019-04-01;1\n", encoding="utf-8")
    assert ingest_file(engine, config, bad, quarantine_dir=tmp / "quarantine").outcome \
        == "rejected"
    yield engine, config
    engine.dispose()


# --------------------------------------------------------------------------- commission

def test_shared_posts_as_known_before_the_ru_delivery_show_no_ru_values(replay_store):
    from hydro.services.commission import commission_data

    engine, config = replay_store
    now = commission_data(engine, config, DAY)
    # hydro/synthetic/generate.py: RU reads 12 cm higher from 1 March 2019 at KZ:19073
    assert now.shared["KZ:19073"]["RU"].notna().sum() >= 30
    assert not now.periods[now.periods["gauge_id"] == "KZ:19073"].empty

    then = commission_data(engine, config, DAY, received_by=BETWEEN)
    daily = then.shared["KZ:19073"]
    assert daily.empty or daily["RU"].isna().all(), daily.head()
    assert then.periods.empty
    after = commission_data(engine, config, DAY, received_by=RU_RECEIVED)
    assert after.shared["KZ:19073"]["RU"].notna().sum() == \
        now.shared["KZ:19073"]["RU"].notna().sum()


def test_commission_page_as_of_lists_no_disagreement_period(replay_store):
    from auth_support import logged_in
    from test_dashboard_shell import render_page, visible_strings

    from dashboard.app import create_app

    engine, config = replay_store
    app = logged_in(create_app(config, engine=engine,
                               clock=lambda: dt.datetime(2019, 7, 2, 9)), engine)
    client = app.server.test_client()
    def periods_text(search: str) -> str:
        layout = render_page(client, "/commission", search)
        return "\n".join(visible_strings(_find(layout, "commission-periods")))

    assert "01.03.2019" in periods_text("?lang=ru&date=2019-04-30")
    assert "01.03.2019" not in periods_text("?lang=ru&date=2019-04-30&asof=2019-05-05T12:00")


def _find(node, id_):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == id_:
            return node
        for value in node.values():
            if (hit := _find(value, id_)) is not None:
                return hit
    elif isinstance(node, list):
        for value in node:
            if (hit := _find(value, id_)) is not None:
                return hit
    return None


# --------------------------------------------------------------------------- data status

def test_ingest_runs_and_refused_files_as_known_then(replay_store):
    from hydro.services.data_status import freshness, ingest_runs, quarantined

    engine, config = replay_store
    assert len(ingest_runs(engine)) == 3
    runs = ingest_runs(engine, received_by=BETWEEN)
    assert list(runs["source"]) == ["kazhydromet"], runs
    assert len(ingest_runs(engine, received_by=RU_RECEIVED)) == 2
    assert "late_bad.csv" in set(quarantined(engine, config)["file"])
    assert quarantined(engine, config, received_by=RU_RECEIVED).empty

    at = dt.datetime(2019, 5, 1)
    orsk_now = freshness(engine, config, at)
    orsk_then = freshness(engine, config, at, received_by=BETWEEN)
    def reported(frame, party):
        rows = frame[(frame["station_id"] == "KZ:19073") & (frame["party"] == party)]
        return bool(rows["reported"].any())
    assert reported(orsk_now, "RU") and reported(orsk_now, "KZ")
    assert reported(orsk_then, "KZ") and not reported(orsk_then, "RU")


def test_data_status_page_follows_asof(replay_store):
    from test_bulletin import _texts

    from dashboard.provider import StoreProvider
    from dashboard.views import data_status as view

    engine, config = replay_store
    provider = StoreProvider(config, engine)
    now = dt.datetime(2019, 7, 2, 9)
    everything = _texts(view.render(provider, "en", now=now))
    assert "late_bad.csv" in everything and "Kazhydromet" in everything \
        and "Roshydromet" in everything
    then = _texts(view.render(provider, "en", now=now, asof="2019-05-05T12:00"))
    assert "Kazhydromet" in then
    assert "Roshydromet" not in then and "late_bad.csv" not in then
