"""Alerts in the store (hydro.store.alerts, through hydro.services.alerts): open, list,
acknowledge, close, with every step kept as history — on SQLite and, when
HYDRORISK_TEST_PG_URL is set, on PostgreSQL; and the schema-3 upgrade of a store whose
alerts had no history table."""

import datetime as dt
import threading

import pandas as pd
import pytest
from postgres_support import fresh_pg_url
from sqlalchemy import inspect, text

from hydro.services import alerts
from hydro.services.alerts import AlertError

T0 = dt.datetime(2024, 4, 5, 6, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path, config):
    from hydro.store.db import open_store

    url = (f"sqlite:///{tmp_path / 'alerts.sqlite'}" if request.param == "sqlite"
           else fresh_pg_url())
    engine = open_store(url, config.network)
    yield engine
    engine.dispose()


def _open(db, station="KZ:19071", rule="stage-dangerous", **kw):
    args = dict(severity="dangerous", value=812.0, threshold=800.0,
                observed_at=T0 - dt.timedelta(hours=1), note="KZ reading, RU not yet in",
                by="rules", at=T0)
    return alerts.open_alert(db, rule, station, **{**args, **kw})


def test_open_acknowledge_close_keeps_the_history(db):
    a = _open(db)
    assert (a.state, a.rule, a.station_id, a.severity, a.value, a.threshold) == \
        ("open", "stage-dangerous", "KZ:19071", "dangerous", 812.0, 800.0)
    assert a.opened_at == T0 and a.observed_at == T0 - dt.timedelta(hours=1)
    b = _open(db, station="RU:ORSK", severity="adverse", value=None, note=None,
              at=T0 + dt.timedelta(minutes=5))
    listed = alerts.list_alerts(db)
    assert list(listed.columns) == alerts.ALERT_COLUMNS
    assert list(listed["id"]) == [b.id, a.id]                      # newest first
    assert list(listed["state"]) == ["open", "open"]
    assert pd.isna(listed.set_index("id").loc[b.id, "value"])

    ack = alerts.acknowledge(db, a.id, "duty officer Aigerim", note="crews informed",
                             at=T0 + dt.timedelta(minutes=20))
    assert (ack.state, ack.acknowledged_by) == ("acknowledged", "duty officer Aigerim")
    assert list(alerts.list_alerts(db, "unacknowledged")["id"]) == [b.id]
    assert set(alerts.list_alerts(db, "open")["id"]) == {a.id, b.id}

    closed = alerts.close(db, a.id, "duty officer Aigerim", note="level below 800 cm",
                          at=T0 + dt.timedelta(hours=9))
    assert closed.state == "closed" and closed.closed_at == T0 + dt.timedelta(hours=9)
    assert list(alerts.list_alerts(db)["id"]) == [b.id]
    assert list(alerts.list_alerts(db, "closed")["id"]) == [a.id]
    everything = alerts.list_alerts(db, "all").set_index("id")
    assert list(everything["state"].loc[[a.id, b.id]]) == ["closed", "open"]
    assert everything.loc[a.id, "note"] == "KZ reading, RU not yet in"
    assert alerts.list_alerts(db, "all", station_id="RU:ORSK")["id"].tolist() == [b.id]
    assert alerts.list_alerts(db, "all", rule="nope").empty

    h = alerts.history(db, a.id)
    assert list(h.columns) == alerts.EVENT_COLUMNS
    assert list(zip(h["event"], h["by"], h["note"], strict=True)) == [
        ("opened", "rules", "KZ reading, RU not yet in"),
        ("acknowledged", "duty officer Aigerim", "crews informed"),
        ("closed", "duty officer Aigerim", "level below 800 cm")]
    assert list(h["at"]) == [pd.Timestamp(T0), pd.Timestamp(T0 + dt.timedelta(minutes=20)),
                             pd.Timestamp(T0 + dt.timedelta(hours=9))]
    assert len(alerts.history(db)) == 4
    # a closed alert frees its rule and station for a new one
    again = _open(db, at=T0 + dt.timedelta(days=1))
    assert again.id not in (a.id, b.id) and again.state == "open"


def test_acknowledging_a_closed_alert_is_an_error_naming_it(db):
    a = _open(db)
    alerts.close(db, a.id, "officer", at=T0 + dt.timedelta(hours=1))
    with pytest.raises(AlertError, match=rf"alert {a.id} \(rule 'stage-dangerous' at "
                                         r"KZ:19071\) was closed at 2024-04-05 07:00 UTC "
                                         r"by officer; a closed alert cannot be acknowledged"):
        alerts.acknowledge(db, a.id, "officer 2", at=T0 + dt.timedelta(hours=2))
    with pytest.raises(AlertError, match=rf"alert {a.id} .* is already closed"):
        alerts.close(db, a.id, "officer 2", at=T0 + dt.timedelta(hours=2))
    # nothing of the refused steps was written
    assert list(alerts.history(db, a.id)["event"]) == ["opened", "closed"]
    assert alerts.get(db, a.id).acknowledged_at is None


def test_refusals_name_what_is_wrong(db):
    a = _open(db)
    alerts.acknowledge(db, a.id, "officer", at=T0 + dt.timedelta(minutes=1))
    with pytest.raises(AlertError, match=rf"alert {a.id} .* already acknowledged by officer"):
        alerts.acknowledge(db, a.id, "someone else", at=T0 + dt.timedelta(minutes=2))
    with pytest.raises(AlertError, match=rf"alert {a.id} .* is still open"):
        _open(db)                                       # one open alert per rule and station
    with pytest.raises(AlertError, match="alert 999 does not exist"):
        alerts.acknowledge(db, 999, "officer")
    with pytest.raises(AlertError, match="alert 999 does not exist"):
        alerts.get(db, 999)
    with pytest.raises(AlertError, match="unknown station 'KZ:00000'"):
        _open(db, station="KZ:00000")
    with pytest.raises(AlertError, match="unknown severity 'catastrophic'"):
        _open(db, station="RU:ORSK", severity="catastrophic")
    with pytest.raises(AlertError, match="value must be a finite number"):
        _open(db, station="RU:ORSK", value=float("nan"))
    with pytest.raises(AlertError, match="by must be a non-empty text"):
        alerts.close(db, a.id, "  ")
    with pytest.raises(AlertError, match="an alert id is a positive whole number"):
        alerts.close(db, 0, "officer")
    with pytest.raises(AlertError, match=rf"alert {a.id} .* cannot be closed at 2024-04-05 "
                                         r"05:00 UTC: it was opened at 2024-04-05 06:00 UTC"):
        alerts.close(db, a.id, "officer", at=T0 - dt.timedelta(hours=1))
    with pytest.raises(AlertError, match="which alerts: one of open, unacknowledged"):
        alerts.list_alerts(db, "recent")
    assert alerts.get(db, a.id).state == "acknowledged"
    assert len(alerts.list_alerts(db, "all")) == 1


def test_aware_times_are_stored_as_utc(db):
    almaty = dt.timezone(dt.timedelta(hours=5))
    a = _open(db, at=dt.datetime(2024, 4, 5, 11, 0, tzinfo=almaty),
              observed_at=dt.datetime(2024, 4, 5, 10, 0, tzinfo=almaty))
    assert (a.opened_at, a.observed_at) == (T0, T0 - dt.timedelta(hours=1))


def test_two_officers_acknowledging_at_once_give_one_acknowledgement(db):
    a = _open(db)
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def ack(who):
        barrier.wait()
        try:
            outcome[who] = alerts.acknowledge(db, a.id, who).acknowledged_by
        except AlertError as e:
            outcome[who] = e

    threads = [threading.Thread(target=ack, args=(w,)) for w in ("Aigerim", "Pavel")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [w for w, r in outcome.items() if r == w]
    losers = [r for r in outcome.values() if isinstance(r, AlertError)]
    assert len(winners) == 1 and len(losers) == 1
    assert f"already acknowledged by {winners[0]}" in str(losers[0])
    assert list(alerts.history(db, a.id)["event"]) == ["opened", "acknowledged"]


# --------------------------------------------------------------------------- upgrade

def test_a_schema_2_store_gets_the_history_of_its_alerts(tmp_path, config):
    """Before schema 3 alerts had no history table: the upgrade makes one and fills it from
    each alert's own columns."""
    from hydro.store.db import SCHEMA_VERSION, current_version, make_engine, open_store

    url = f"sqlite:///{tmp_path / 'v2.sqlite'}"
    eng = open_store(url, config.network)
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE alert_events"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version VALUES (2, '2025-01-01 00:00:00')"))
        conn.execute(text(
            "INSERT INTO alerts (id, rule, station_id, severity, value, threshold, "
            "observed_at, opened_at, acknowledged_at, acknowledged_by, closed_at, closed_by, "
            "note) VALUES "
            "(1, 'r', 'KZ:19071', 'dangerous', 812, 800, NULL, '2024-04-05 06:00:00.000000', "
            "'2024-04-05 06:20:00.000000', 'Aigerim', '2024-04-05 15:00:00.000000', 'Pavel', "
            "'old'), "
            "(2, 'r', 'RU:ORSK', 'adverse', NULL, NULL, NULL, '2024-04-06 06:00:00.000000', "
            "NULL, NULL, NULL, NULL, NULL)"))
    eng.dispose()
    assert current_version(make_engine(url)) == 2

    eng = open_store(url, config.network)                  # upgrades
    try:
        assert current_version(eng) == SCHEMA_VERSION
        h = alerts.history(eng)
        assert list(zip(h["alert_id"], h["event"], h["by"].fillna("-"), strict=True)) == [
            (1, "opened", "-"), (1, "acknowledged", "Aigerim"), (1, "closed", "Pavel"),
            (2, "opened", "-")]
        assert h.loc[0, "note"] == "old"
        assert list(h["at"])[:3] == [pd.Timestamp("2024-04-05 06:00"),
                                     pd.Timestamp("2024-04-05 06:20"),
                                     pd.Timestamp("2024-04-05 15:00")]
        assert alerts.list_alerts(eng)["id"].tolist() == [2]
        alerts.acknowledge(eng, 2, "Aigerim", at=dt.datetime(2024, 4, 6, 7))
        assert list(alerts.history(eng, 2)["event"]) == ["opened", "acknowledged"]
        assert inspect(eng).has_table("alert_events")
    finally:
        eng.dispose()
