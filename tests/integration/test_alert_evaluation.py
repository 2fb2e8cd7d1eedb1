"""Alert evaluation end to end (hydro.services.alert_evaluation): the bundled 2024 season
replayed day by day through ingest and evaluation, what was known when (late corrections,
no rewriting), escalation and acknowledgement, listing after an ingest of data/gauges, and
the schema 3 -> 4 upgrade keeping rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT
from postgres_support import fresh_pg_url
from sqlalchemy import inspect, text

from hydro.services import alert_evaluation as ae
from hydro.services import alerts
from hydro.services.alerts import AlertError
from hydro.services.ingest import ingest_file

DATA = ROOT / "data" / "gauges"
AGENCY = DATA / "agency"
#: replayed period: the 2024 spring flood (every bundled crossing falls in April)
FIRST_DAY = dt.date(2024, 3, 20)
LAST_DAY = dt.date(2024, 5, 5)
#: a bulletin reaches the store at 05:00 UTC and the rules run at 06:00 UTC
ARRIVES = dt.time(5, 0)
EVALUATED = dt.time(6, 0)


def _date_of(line: bytes) -> dt.date | None:
    """The date of a data line: third field of the agency layouts, second of the
    reservoir one; None for banner and header lines."""
    fields = line.split(b";")
    for raw in (f.strip().decode("ascii", "replace") for f in fields[1:3]):
        for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
            try:
                return dt.datetime.strptime(raw, fmt).date()
            except ValueError:
                continue
    return None


def _split_daily(path: Path, out: Path, first_day: dt.date) -> dict[dt.date, Path]:
    """One file per day (the daily bulletin), same layout, banner and encoding; the days
    before ``first_day`` go into one history file keyed by ``first_day - 1 day``."""
    raw = path.read_bytes()
    nl = b"\r\n" if b"\r\n" in raw else b"\n"
    lines = raw.split(nl)
    head, rows = [], defaultdict(list)
    for ln in lines:
        day = _date_of(ln)
        if day is None:
            if not rows and ln.strip():
                head.append(ln)
            continue
        rows[max(day, first_day - dt.timedelta(days=1))].append(ln)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for day, body in rows.items():
        p = out / f"{path.stem}_{day:%Y%m%d}{path.suffix}"
        p.write_bytes(nl.join(head + body) + nl)
        files[day] = p
    return files


def _flood_crossings(config) -> dict[str, dt.date]:
    """First 2024 day each gauge's stage (any party) reached its lowest dangerous level,
    from the bundled files themselves."""
    from hydro.readers import read_file

    obs = pd.concat([read_file(p, config).observations for p in AGENCY.glob("*/*2024.csv")])
    obs = obs[obs["variable"] == "stage"]
    out = {}
    for gid, g in obs.groupby("station_id", observed=True):
        levels = [t.value.to("stage") for t in config.thresholds_for(str(gid))
                  if t.level == "dangerous"]
        if not levels:
            continue
        over = g[g["value"] >= min(levels)]
        if len(over):
            out[str(gid)] = over["time"].min().date()
    return out


@pytest.fixture(scope="module")
def season(tmp_path_factory, config):
    """The 2024 season replayed: every agency bulletin and Iriklinsk's daily operations
    ingested on the day they arrive, then the rules evaluated — a duty officer's view."""
    from hydro.store.db import open_store

    tmp = tmp_path_factory.mktemp("season")
    engine = open_store(f"sqlite:///{tmp / 'season.sqlite'}", config.network)
    by_day: dict[dt.date, list[tuple[Path, str | None]]] = defaultdict(list)
    for path in sorted(AGENCY.glob("*/*2024.csv")):
        source = path.parent.name
        for day, p in _split_daily(path, tmp / source, FIRST_DAY).items():
            by_day[day].append((p, source))
    # reservoir operations of day D (end of the local day) arrive on the morning of D + 1
    for day, p in _split_daily(DATA / "reservoirs" / "RU_IRIKLINSK.csv", tmp / "reservoirs",
                               FIRST_DAY).items():
        by_day[day + dt.timedelta(days=1)].append((p, None))
    reports = []
    history = FIRST_DAY - dt.timedelta(days=1)
    day = min(by_day)
    while day <= LAST_DAY:
        for p, source in by_day.get(day, []):
            when = dt.datetime.combine(max(day, history), ARRIVES)
            r = ingest_file(engine, config, p, source_id=source, received_at=when,
                            quarantine_dir=tmp / "q")
            assert r.outcome == "loaded", (p, r.message)
        if day >= FIRST_DAY:
            reports.append(ae.evaluate(engine, config, incremental=True,
                                       as_of=dt.datetime.combine(day, EVALUATED)))
        day += dt.timedelta(days=1)
    yield engine, reports, _flood_crossings(config)
    engine.dispose()


def _dangerous_at(engine, station: str) -> dt.datetime | None:
    """When the stage-level alert of ``station`` first stood at dangerous in the season."""
    a = alerts.list_alerts(engine, "all", station_id=station, rule="stage-level")
    a = a[a["observed_at"] >= pd.Timestamp(FIRST_DAY)]
    times = []
    for aid in a["id"]:
        h = alerts.history(engine, int(aid))
        d = h[(h["severity"] == "dangerous") & h["event"].isin(["opened", "updated"])]
        times += list(d["at"])
    return min(times).to_pydatetime() if times else None


def _first(engine, station: str, rule: str) -> dt.datetime | None:
    a = alerts.list_alerts(engine, "all", station_id=station, rule=rule)
    a = a[a["observed_at"] >= pd.Timestamp(FIRST_DAY)]
    return None if a.empty else a["opened_at"].min().to_pydatetime()


@pytest.mark.slow
def test_replayed_season_warns_no_later_than_each_crossing(season, config):
    engine, reports, crossings = season
    flooded = {g: d for g, d in crossings.items() if FIRST_DAY <= d <= LAST_DAY}
    # the gauges the issue names are among them
    assert {"RU:ORSK", "RU:ORENBURG", "RU:KURGAN", "KZ:11410"} <= set(flooded)
    rows = []
    for g, crossed in sorted(flooded.items(), key=lambda x: x[1]):
        dangerous = _dangerous_at(engine, g)
        rise = _first(engine, g, "rate-of-rise")
        adverse = _first(engine, g, "stage-level")
        rows.append((g, config.network.gauges[g].names.en, crossed, adverse, dangerous, rise))
    print("\nstation                 gauge                          crossed     "
          "first stage-level alert  dangerous at       rate-of-rise from")
    for g, name, crossed, adverse, dangerous, rise in rows:
        print(f"{g:23} {name:30} {crossed}  {adverse:%Y-%m-%d %H:%M}       "
              f"{dangerous:%Y-%m-%d %H:%M}   "
              f"{'-' if rise is None else f'{rise:%Y-%m-%d %H:%M}'}")
    for g, _, crossed, _, dangerous, _ in rows:
        assert dangerous is not None, f"{g}: no dangerous-level alert"
        assert dangerous.date() <= crossed, f"{g}: dangerous alert {dangerous} after {crossed}"
    # rate-of-rise alerts come earlier where the data allow: at every gauge the issue
    # names, and at most flooded gauges
    early = {g for g, _, crossed, _, _, rise in rows if rise is not None and rise.date() < crossed}
    assert {"RU:ORSK", "RU:ORENBURG", "RU:KURGAN", "KZ:11410"} <= early
    assert len(early) >= 0.7 * len(rows)
    assert all(r.as_of.time() == EVALUATED for r in reports)


@pytest.mark.slow
def test_replay_lifecycle_at_orsk_escalates_deescalates_and_closes(season):
    engine, _, _ = season
    a = alerts.list_alerts(engine, "all", station_id="RU:ORSK", rule="stage-level")
    a = a[a["observed_at"] >= pd.Timestamp(FIRST_DAY)]
    assert len(a) == 1                             # one alert for the whole flood
    h = alerts.history(engine, int(a["id"].iloc[0]))
    steps = list(zip(h["event"], h["severity"], strict=True))
    assert steps[0] == ("opened", "adverse") and ("updated", "dangerous") in steps
    assert ("deescalated", "adverse") in steps and steps[-1][0] == "closed"
    assert "escalated" in set(h["event"])          # nobody acknowledged it
    assert (h["at"].dt.time == EVALUATED).all()    # every step stamped with its evaluation
    assert h["known_at"].dropna().dt.time.eq(ARRIVES).all()
    rec = alerts.get(engine, int(a["id"].iloc[0]))
    assert rec.kind == "stage_level" and rec.peak_value == 950.0


@pytest.mark.slow
def test_replay_marks_standing_and_sends_release_notices_downstream(season):
    engine, _, _ = season
    # Petropavl's dangerous level is one of two conflicting published values
    a = alerts.list_alerts(engine, "all", station_id="KZ:11410", rule="stage-level")
    a = a[a["observed_at"] >= pd.Timestamp(FIRST_DAY)]
    assert (a["standing"] & 1).astype(bool).any() and "provisional" in " ".join(a["note"])
    notices = alerts.list_alerts(engine, "all", station_id="RU:IRIKLINSK",
                                 rule="release-change")
    notices = notices[notices["observed_at"] >= pd.Timestamp(FIRST_DAY)]
    assert len(notices) >= 1
    assert notices["note"].str.contains("downstream party \\(KZ\\)").all()


# --------------------------------------------------------------------------- known when

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path, config):
    """A fresh store on SQLite and, with HYDRORISK_TEST_PG_URL, on PostgreSQL."""
    from hydro.store.db import open_store

    url = (f"sqlite:///{tmp_path / 'alerts.sqlite'}" if request.param == "sqlite"
           else fresh_pg_url())
    engine = open_store(url, config.network)
    yield engine
    engine.dispose()


KZ_URAL = AGENCY / "kazhydromet" / "ural_2024.csv"


def _ural_until(tmp_path: Path, last: dt.date, change: tuple[str, dt.date, int] | None = None,
                name: str = "ural.csv") -> Path:
    """The KZ Ural bulletin file up to ``last``; ``change`` = (post, day, stage cm)."""
    raw = KZ_URAL.read_bytes().split(b"\r\n")
    keep = []
    for ln in raw:
        d = _date_of(ln)
        if d is not None and d > last:
            continue
        if change is not None and d == change[1] and ln.startswith(change[0].encode() + b";"):
            f = ln.split(b";")
            f[4] = str(change[2]).encode()
            ln = b";".join(f)
        keep.append(ln)
    p = tmp_path / name
    # a trailing line end per name: a file of the same content would be skipped whole
    p.write_bytes(b"\r\n".join(keep) + b"\r\n" * (len(name) % 7))
    return p


def _kz_stages(post: str) -> dict[dt.date, int]:
    """The 08:00 stage of a Kazhydromet Ural post in the bundled 2024 file, by date."""
    out = {}
    for ln in KZ_URAL.read_bytes().split(b"\r\n"):
        d = _date_of(ln)
        if d is not None and ln.startswith(post.encode() + b";"):
            out[d] = int(ln.split(b";")[4])
    return out


def _first_crossing(post: str, level: int) -> dt.date:
    return min(d for d, v in _kz_stages(post).items() if v >= level)


def test_a_late_correction_opens_and_closes_with_its_own_time(db, config, tmp_path):
    """Uralsk (KZ:19071, dangerous 850 cm) the day before its first reading at 850 cm in
    the bundled data (day D, whose file holds readings up to D). A correction to D − 1
    arriving at noon puts that day at 860 cm: the alert opens at the evaluation after the
    correction, stamped then; the evaluation before it is untouched; nobody acknowledges
    it, so it escalates after 6 h; when the correction is withdrawn it closes, again with
    its own time."""
    q = tmp_path / "q"
    stages = _kz_stages("19071")
    day = _first_crossing("19071", 850) - dt.timedelta(days=1)
    fixed = day - dt.timedelta(days=1)
    assert stages[day] < 850 and stages[fixed] < 850
    d0 = dt.datetime.combine(day, dt.time())

    def at(hours: float) -> dt.datetime:
        return d0 + dt.timedelta(hours=hours)

    ingest_file(db, config, _ural_until(tmp_path, day), source_id="kazhydromet",
                received_at=at(5), quarantine_dir=q)
    r0 = ae.evaluate(db, config, as_of=at(6), stations=["KZ:19071"])
    assert not [a for a in r0.opened if a.rule == "stage-level"]
    ingest_file(db, config, _ural_until(tmp_path, day, ("19071", fixed, 860), "corrected.csv"),
                source_id="kazhydromet", received_at=at(12), quarantine_dir=q)
    r1 = ae.evaluate(db, config, as_of=at(13), incremental=True)
    (a,) = [a for a in r1.opened if a.rule == "stage-level" and a.station_id == "KZ:19071"]
    assert a.opened_at == at(13)
    assert a.observed_at.date() == fixed and a.severity == "dangerous"
    assert a.known_at == at(12)
    # what was known at 06:00 still reads the same: no dangerous alert then
    assert a.opened_at > r0.as_of
    with pytest.raises(AlertError, match=f"already evaluated at {at(13):%Y-%m-%d %H:%M} UTC"):
        ae.evaluate(db, config, as_of=at(12))
    r2 = ae.evaluate(db, config, as_of=at(19.5), incremental=True)
    assert a.id in [x.id for x in r2.escalated]
    assert alerts.get(db, a.id).escalation_level == 1
    alerts.acknowledge(db, a.id, "duty officer", at=at(19.75))
    r3 = ae.evaluate(db, config, as_of=at(25.5), incremental=True)
    assert a.id not in [x.id for x in r3.escalated]   # acknowledged: no further escalation
    # the correction is withdrawn (the original value, as a further revision)
    ingest_file(db, config, _ural_until(tmp_path, day, ("19071", fixed, stages[fixed]),
                                        "withdrawn.csv"),
                source_id="kazhydromet", received_at=at(26), quarantine_dir=q)
    r4 = ae.evaluate(db, config, as_of=at(27), incremental=True)
    assert a.id in [x.id for x in r4.closed]
    h = alerts.history(db, a.id)
    assert list(h["event"]) == ["opened", "escalated", "acknowledged", "closed"]
    assert list(h["at"]) == [pd.Timestamp(at(x)) for x in (13, 19.5, 19.75, 27)]


def test_one_open_alert_per_rule_and_station_and_a_hand_closed_alert_stays_closed(
        db, config, tmp_path):
    ingest_file(db, config, _ural_until(tmp_path, dt.date(2024, 4, 22)),
                source_id="kazhydromet", received_at=dt.datetime(2024, 4, 22, 5),
                quarantine_dir=tmp_path / "q")
    ae.evaluate(db, config, as_of=dt.datetime(2024, 4, 22, 6))
    ae.evaluate(db, config, as_of=dt.datetime(2024, 4, 22, 7))
    open_ = alerts.list_alerts(db, "open")
    assert not open_.duplicated(["rule", "station_id"]).any()
    uralsk = open_[(open_["station_id"] == "KZ:19071") & (open_["rule"] == "stage-level")]
    assert len(uralsk) == 1
    alerts.close(db, int(uralsk["id"].iloc[0]), "duty officer",
                 at=dt.datetime(2024, 4, 22, 8))
    r = ae.evaluate(db, config, as_of=dt.datetime(2024, 4, 22, 9))
    assert not [a for a in r.opened if a.station_id == "KZ:19071" and a.rule == "stage-level"]


def test_an_incremental_evaluation_looks_only_at_stations_with_new_data(store, config,
                                                                          tmp_path):
    ingest_file(store, config, _ural_until(tmp_path, dt.date(2024, 4, 10)),
                source_id="kazhydromet", received_at=dt.datetime(2024, 4, 10, 5),
                quarantine_dir=tmp_path / "q")
    full = ae.evaluate(store, config, as_of=dt.datetime(2024, 4, 10, 6))
    assert len(full.stations) > 30                         # every station with rules
    again = ae.evaluate(store, config, as_of=dt.datetime(2024, 4, 10, 7), incremental=True)
    assert again.stations == [] and again.changed == 0
    ingest_file(store, config, _ural_until(tmp_path, dt.date(2024, 4, 11), name="d11.csv"),
                source_id="kazhydromet", received_at=dt.datetime(2024, 4, 11, 5),
                quarantine_dir=tmp_path / "q")
    inc = ae.evaluate(store, config, as_of=dt.datetime(2024, 4, 11, 6), incremental=True)
    assert set(inc.stations) <= {g.id for g in config.network.gauges.values()
                                 if g.basin == "ural"} | {n for n in config.network.nodes}
    assert "KZ:19071" in inc.stations


@pytest.mark.slow
def test_after_ingesting_data_gauges_the_2024_alerts_are_listed(tmp_path, config):
    """``hydrorisk ingest data/gauges`` then an evaluation (what the worker does after an
    ingest): the flood of 2024 is on record at every gauge that crossed its dangerous
    level — learnt from the backlog, so opened and closed at once."""
    from hydro.services.ingest import bundled_files
    from hydro.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 'all.sqlite'}", config.network)
    for f in bundled_files(config):
        assert ingest_file(engine, config, f, quarantine_dir=tmp_path / "q").outcome == "loaded"
    report = ae.evaluate(engine, config, incremental=True)
    assert report.opened
    listed = alerts.list_alerts(engine, "all", rule="stage-level")
    in_2024 = listed[listed["observed_at"].dt.year == 2024]
    dangerous = set(in_2024[in_2024["severity"] == "dangerous"]["station_id"])
    crossings = _flood_crossings(config)
    assert {"RU:ORSK", "RU:ORENBURG", "RU:KURGAN", "KZ:11410"} <= dangerous
    assert set(crossings) <= dangerous
    orsk = in_2024[(in_2024["station_id"] == "RU:ORSK") & (in_2024["severity"] == "dangerous")]
    assert orsk["note"].str.contains("learnt after it had ended").all()
    assert (orsk["peak_value"] == 950.0).all()
    engine.dispose()


# --------------------------------------------------------------------------- upgrade

@pytest.mark.parametrize("backend", ["sqlite",
                                     pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_schema_3_store_is_upgraded_keeping_its_alerts(tmp_path, config, backend):
    from hydro.store.db import SCHEMA_VERSION, current_version, make_engine, open_store

    url = f"sqlite:///{tmp_path / 'v3.sqlite'}" if backend == "sqlite" else fresh_pg_url()
    eng = open_store(url, config.network)
    new_alert_cols = ["kind", "escalation_level", "escalated_at", "standing", "known_at",
                      "last_value", "last_observed_at", "peak_value", "peak_at"]
    with eng.begin() as conn:
        for t in ("notification_dead_letters", "notification_outbox", "notification_enqueued",
                  "alert_evaluations"):
            conn.execute(text(f"DROP TABLE IF EXISTS {t}"))
        for c in new_alert_cols:
            conn.execute(text(f"ALTER TABLE alerts DROP COLUMN {c}"))
        for c in ("severity", "value", "known_at"):
            conn.execute(text(f"ALTER TABLE alert_events DROP COLUMN {c}"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version VALUES (3, '2025-01-01 00:00:00')"))
        conn.execute(text(
            "INSERT INTO alerts (rule, station_id, severity, value, threshold, observed_at, "
            "opened_at, acknowledged_at, acknowledged_by, closed_at, closed_by, note) VALUES "
            "('r', 'KZ:19071', 'dangerous', 812, 800, NULL, '2024-04-05 06:00:00', "
            "NULL, NULL, NULL, NULL, 'kept')"))
        aid = conn.execute(text("SELECT max(id) FROM alerts")).scalar_one()
        conn.execute(text("INSERT INTO alert_events (alert_id, event, by, at, note) VALUES "
                          f"({aid}, 'opened', 'Aigerim', '2024-04-05 06:00:00', 'kept')"))
    eng.dispose()
    assert current_version(make_engine(url)) == 3

    eng = open_store(url, config.network)
    try:
        assert current_version(eng) == SCHEMA_VERSION >= 4
        cols = {c["name"] for c in inspect(eng).get_columns("alerts")}
        assert set(new_alert_cols) <= cols
        assert inspect(eng).has_table("alert_evaluations")
        a = alerts.get(eng, aid)
        assert (a.rule, a.value, a.note, a.standing, a.escalation_level, a.kind) == \
            ("r", 812.0, "kept", 0, 0, None)
        h = alerts.history(eng, aid)
        assert list(zip(h["event"], h["by"], h["severity"], strict=True)) == [
            ("opened", "Aigerim", "dangerous")]
        # an alert opened by hand is not the rules' to close
        r = ae.evaluate(eng, config, as_of=dt.datetime(2024, 4, 6))
        assert aid not in [x.id for x in r.closed] and alerts.get(eng, aid).state == "open"
    finally:
        eng.dispose()


def test_the_worker_evaluates_the_rules_after_an_ingest(config_copy, tmp_path, monkeypatch):
    """poll_inbox (the scheduled ingest job) runs an incremental evaluation once files are
    loaded: a backlog of 2024 bulletins puts Uralsk's dangerous level on record, on the
    day of its first reading at 850 cm."""
    import shutil

    from hydro.store.alerts import last_evaluation
    from hydro.store.db import open_store
    from hydro.worker import poll_inbox

    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    monkeypatch.setenv("HYDRORISK_DB_URL", url)
    inbox = config_copy.parent / "data" / "inbox" / "kazhydromet"
    inbox.mkdir(parents=True)
    shutil.copy(KZ_URAL, inbox / "ural_2024.csv")
    assert [r.outcome for r in poll_inbox(str(config_copy), "kazhydromet")] == ["loaded"]
    from hydro.config import load_config

    engine = open_store(url, load_config(config_copy).network)
    try:
        assert last_evaluation(engine) is not None
        got = alerts.list_alerts(engine, "all", station_id="KZ:19071", rule="stage-level")
        assert (got["observed_at"].dt.date == _first_crossing("19071", 850)).any()
        assert (got["severity"] == "dangerous").all()
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- every kind

KINDS_TOML = """
[evaluation]
lookback = "30 d"
escalation_after = "12 h"

[[rules]]
id = "stage"
kind = "stage_level"

[[rules]]
id = "stage"
kind = "stage_level"
station = "KZ:11410"
require_confirmed = true

[[rules]]
id = "full"
kind = "reservoir_full"
within = "50 cm"
severity = "dangerous"

[[rules]]
id = "spill"
kind = "spill_started"
min_spill = "1 m3/s"

[[rules]]
id = "release"
kind = "release_change"
min_change = "50 m3/s"
notify = "downstream"

[[rules]]
id = "balance"
kind = "balance_residual"
tolerance_percent = 5

[[rules]]
id = "border"
kind = "border_min_flow"
station = "BORDER:ural-ru-kz"
min_flow = "40 m3/s"
persistence = 2

[[rules]]
id = "pollution"
kind = "pollution_class"
station = "KZ:19073"
norm_class = 2

[[rules]]
id = "forecast"
kind = "forecast_crossing"
within_days = "5 d"
"""


def _write(engine, rows: list[tuple[str, str, str, float]], unit_of: dict[str, str],
           received: dt.datetime, party: str = "RU") -> None:
    """Store hand-made values (station, variable, time, value) as one ingest would."""
    from hydro.store import segments

    df = pd.DataFrame(rows, columns=["station_id", "variable", "time", "value"])
    df["time"] = pd.to_datetime(df["time"])
    df = df.assign(unit=df["variable"].map(unit_of), party=party, source="test", revision=1,
                   phenomena=None, flags=0)
    with engine.begin() as conn:
        segments.write(conn, df, received, None)


def test_every_rule_kind_on_hand_made_data(config_copy, tmp_path):
    """Iriklinsk (ФПУ 246 m) rising into its forced storage, spilling and raising its
    release; the Ural at Yanvartsevo below 40 m3/s at the border; a polluted sample at
    Yanvartsevo against a norm of class 2; Petropavl over its only (conflicting) dangerous
    level under a rule that requires confirmed values; and a forecast rule with no
    forecasts."""
    from hydro.config import load_config
    from hydro.store.db import open_store

    (config_copy / "alerts.toml").write_text(KINDS_TOML, encoding="utf-8")
    cfg = load_config(config_copy)
    engine = open_store(f"sqlite:///{tmp_path / 'kinds.sqlite'}", cfg.network)
    res = cfg.network.reservoirs["RU:IRIKLINSK"]
    days = [f"2024-04-0{d} 19:00" for d in range(1, 6)]
    level = [245.0, 245.3, 245.6, 245.7, 245.4]            # within 50 cm of 246 m from day 3
    volume = [float(res.storage_table.volume_at(x)) for x in level]
    inflow = [500.0, 900.0, 900.0, 600.0, 300.0]
    spill = [0.0, 0.0, 30.0, 30.0, 0.0]                    # spill from day 3 to day 4
    outflow = [100.0, 100.0, 230.0, 230.0, 200.0]          # release 100, 100, 200, 200, 200
    rows = []
    for i, t in enumerate(days):
        for var, vals in (("level", level), ("volume", volume), ("inflow", inflow),
                          ("outflow", outflow), ("spill", spill)):
            rows.append(("RU:IRIKLINSK", var, t, vals[i]))
    # Yanvartsevo discharge: 60, 35, 30, 45 m3/s (two days below 40 opens, 45 closes)
    for d, q in zip((1, 2, 3, 4), (60.0, 35.0, 30.0, 45.0), strict=True):
        rows.append(("KZ:19073", "discharge", f"2024-04-0{d} 03:00", q))
    # Petropavl over 980 cm, its dangerous level — one of two conflicting published ones
    for d, h in zip((1, 2, 3), (900.0, 990.0, 1000.0), strict=True):
        rows.append(("KZ:11410", "stage", f"2024-04-0{d} 03:00", h))
    units = {"level": "m", "volume": "hm3", "inflow": "m3/s", "outflow": "m3/s",
             "spill": "m3/s", "discharge": "m3/s", "stage": "cm"}
    _write(engine, rows, units, dt.datetime(2024, 4, 6))
    qfile = tmp_path / "quality.csv"
    qfile.write_text("# SYNTHETIC test sample\nsite;date;parameter;value;unit\n"
                     "KZ:19073;2024-04-02;ammonium_ion;4.5;mg/l\n"
                     "KZ:19073;2024-04-02;dissolved_oxygen;3.0;mg/l\n", encoding="utf-8")
    r = ingest_file(engine, cfg, qfile, received_at=dt.datetime(2024, 4, 6),
                    quarantine_dir=tmp_path / "q")
    assert r.outcome == "loaded", r.message
    rep = ae.evaluate(engine, cfg, as_of=dt.datetime(2024, 4, 6, 6))
    got = alerts.list_alerts(engine, "all").set_index("rule")
    # reservoir_full: opened at day 3 (245.6 m, 40 cm below ФПУ), closed at day 5 (245.4)
    full = got.loc["full"]
    assert (full["observed_at"], full["severity"]) == (pd.Timestamp(days[2]), "dangerous")
    assert "peak level 245.70 m, 30 cm below ФПУ 246.00 m" in full["note"]
    # spill_started: day 3; release_change: +100 m3/s at day 3, for the downstream party
    assert got.loc["spill", "observed_at"] == pd.Timestamp(days[2])
    assert got.loc["release", "observed_at"] == pd.Timestamp(days[2])
    assert got.loc["release", "value"] == 100.0
    assert got.loc["release", "threshold"] == 50.0          # the limit in m3/s, not a score
    assert "downstream party (KZ)" in got.loc["release", "note"]
    # border_min_flow: opened at the second day below 40 m3/s, at the border node
    border = got.loc["border"]
    assert (border["station_id"], border["observed_at"], border["peak_value"]) == \
        ("BORDER:ural-ru-kz", pd.Timestamp("2024-04-03 03:00"), 30.0)
    # pollution_class: the sample's class is above the norm (2)
    assert got.loc["pollution", "station_id"] == "KZ:19073"
    assert got.loc["pollution", "value"] > 2
    # balance_residual: volume and flows made up independently do not balance
    assert got.loc["balance", "station_id"] == "RU:IRIKLINSK"
    # require_confirmed: Petropavl's only dangerous level is conflicting -> no alert
    assert "stage" not in got.index
    assert ae.FORECAST_NOTE in rep.notes
    # the ended breaches were learnt at once: opened and closed in this evaluation
    assert got.loc["spill", "state"] == "closed" and got.loc["full", "state"] == "closed"
    engine.dispose()


FORECAST_TOML = """
[evaluation]
lookback = "30 d"
escalation_after = "12 h"

[[rules]]
id = "forecast"
kind = "forecast_crossing"
within_days = "5 d"
"""


def test_a_forecast_crossing_alert_reads_the_stored_forecasts_as_of_its_time(config_copy,
                                                                               tmp_path):
    """Uralsk (KZ:19071, ОУ 850 cm): a SARIMAX stage forecast issued on 15 April at 03:00
    reaches 900 cm at lead 3 — a dangerous forecast-crossing alert stamped with the issue;
    a run computed after the evaluation's time is not seen; with no forecast at all the
    rule says so in a note."""
    import numpy as np

    from hydro.config import load_config
    from hydro.store import forecasts as fstore
    from hydro.store.db import open_store

    (config_copy / "alerts.toml").write_text(FORECAST_TOML, encoding="utf-8")
    cfg = load_config(config_copy)
    engine = open_store(f"sqlite:///{tmp_path / 'fc.sqlite'}", cfg.network)
    empty = ae.evaluate(engine, cfg, as_of=dt.datetime(2024, 4, 14, 6))
    assert ae.FORECAST_NOTE in empty.notes and not empty.opened

    def run(issued: dt.datetime, known: dt.datetime, peak: float) -> None:
        leads = np.arange(1, 11)
        stage = np.r_[800.0, 850.0, peak, 870.0, 840.0, 820.0, 800.0, 790.0, 780.0, 770.0]
        days = pd.Timestamp(issued.date()) + pd.to_timedelta(leads, "D")
        fstore.write_runs(engine, [({
            "station_id": "KZ:19071", "variable": "stage", "unit": "cm", "method": "sarimax",
            "issue_time": issued, "issue_date": pd.Timestamp(issued.date()),
            "known_at": known, "created_at": known, "horizon_days": 10, "alpha": 0.1,
            "parameters": None, "note": "hand-made"},
            pd.DataFrame({"lead_days": leads, "valid_date": days, "value": stage,
                          "lower": stage - 50, "upper": stage + 50}))])

    run(dt.datetime(2024, 4, 15, 3), dt.datetime(2024, 4, 15, 4), 900.0)
    # computed later from later data: not seen at 06:00
    run(dt.datetime(2024, 4, 15, 9), dt.datetime(2024, 4, 15, 10), 990.0)
    rep = ae.evaluate(engine, cfg, as_of=dt.datetime(2024, 4, 15, 6))
    assert ae.FORECAST_NOTE not in rep.notes
    got = alerts.list_alerts(engine, "all").set_index("rule")
    a = got.loc["forecast"]
    assert (a["station_id"], a["severity"]) == ("KZ:19071", "dangerous")
    assert a["observed_at"] == pd.Timestamp("2024-04-15 03:00")
    assert (a["value"], a["threshold"]) == (900.0, 850.0)
    assert "forecast (sarimax) to reach 900 cm within 5 d" in a["note"]
    assert "provisional" in a["note"]            # a forecast is not an observation
    engine.dispose()
