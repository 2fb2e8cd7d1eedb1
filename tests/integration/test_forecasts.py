"""Short-range forecasts end to end (issue 12, items 3b/3c, 5, 6): issued from the store as
of a time, stored with their issue time, replayed, shown and scored — on the bundled
daily discharge of the Ural below the border (Yanvartsevo KZ:19073 and the Shagan KZ:19198
feed Uralsk KZ:19071, which feeds Kushum KZ:19072)."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from sqlalchemy import text

from hydro.cli import main
from hydro.services import forecasts as fc

DATA = ROOT / "data" / "gauges"
CONFIG = str(ROOT / "config")
URAL = ["KZ_19073", "KZ_19198", "KZ_19071", "KZ_19072"]
T = dt.datetime(2024, 4, 10, 6)          # issue time (UTC): the morning of 10 April
RECEIVED = dt.datetime(2024, 1, 1)       # the bundled series as if received long before
UNREADABLE = re.compile(r"\bNaN\b|\bNaT\b|\bnan\b|\bNone\b|\d{2}:\d{2}:\d{2}\.\d+|"
                        r"\d{4}-\d{2}-\d{2}T\d{2}|\+00:00")


def grdc(name: str):
    return DATA / "grdc" / f"{name}_Q_Day.Cmd.txt"


def ural_store(tmp_path, config, names=URAL):
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}", config.network)
    for n in names:
        assert ingest_file(store, config, grdc(n), received_at=RECEIVED,
                           quarantine_dir=tmp_path / "q").outcome == "loaded"
    return store


@pytest.fixture(scope="module")
def ural(tmp_path_factory, config):
    store = ural_store(tmp_path_factory.mktemp("ural"), config)
    yield store
    store.dispose()


def values(frame: pd.DataFrame) -> pd.DataFrame:
    return (frame[["variable", "method", "lead_days", "valid_date", "value", "lower", "upper"]]
            .sort_values(["variable", "method", "lead_days"]).reset_index(drop=True))


# --------------------------------------------------------------------------- network

def travel(config, *reach_ids: str) -> float:
    from hydro.balance import travel_time_days

    reaches = {r.id: r for r in config.network.reaches}
    return travel_time_days([reaches[r] for r in reach_ids])


def test_the_inputs_are_the_gauges_directly_upstream_lagged_by_the_travel_time(config):
    # Uralsk -> Kushum canal (Muskingum K) -> Kushum (lag reach): K + lag, rounded half up
    t = travel(config, "19071--kushum-canal", "kushum-canal--19072")
    kushum = fc.upstream_inputs(config, "KZ:19072")
    assert [(i.station, i.variable, i.lag_days) for i in kushum] == \
        [("KZ:19071", "discharge", int(t + 0.5))]
    assert kushum[0].travel_days == pytest.approx(t)
    assert kushum[0].reaches == ("19071--kushum-canal", "kushum-canal--19072")
    uralsk = {i.station: i.lag_days for i in fc.upstream_inputs(config, "KZ:19071")}
    assert uralsk == {"KZ:19073": int(travel(config, "19073--19071") + 0.5),
                      "KZ:19198": int(travel(config, "19198--19071") + 0.5)}
    # a reservoir is an input by its outflow
    orsk = {i.station: i.variable for i in fc.upstream_inputs(config, "RU:ORSK")}
    assert orsk == {"RU:IRIKLINSK": "outflow", "KZ:19132": "discharge"}
    # a gauge without data is walked through like a confluence
    yanv = fc.upstream_inputs(config, "KZ:19073", observed={"RU:ORENBURG"})
    t = travel(config, "orenburg--ural-sakmara", "ural-sakmara--ilek", "ilek--ural-ilek",
               "ural-ilek--ural-ru-kz", "ural-ru-kz--19073")
    assert [(i.station, i.lag_days) for i in yanv] == [("RU:ORENBURG", int(t + 0.5))]


# --------------------------------------------------------------------------- store

def test_a_run_is_stored_with_its_issue_time_and_read_back(ural, config):
    report = fc.run(ural, config, issue_time=T, stations=["KZ:19072", "KZ:19071"])
    assert report.stations == ["KZ:19071", "KZ:19072"] and not report.skipped
    # the last value used: the daily mean of 10 April (local midnight = 9 April 19:00 UTC)
    assert report.issue_times["KZ:19072"] == dt.datetime(2024, 4, 9, 19)
    # 2 gauges x 4 methods x (discharge + stage through the rating)
    assert len(report.run_ids) == 16
    f = fc.latest(ural, "KZ:19072", as_of=T)
    assert set(f["method"]) == {"persistence", "climatology", "sarimax", "process"}
    assert set(f["variable"]) == {"discharge", "stage"}
    q = f[f["variable"] == "discharge"]
    assert sorted(q["lead_days"].unique()) == list(range(1, 11))
    assert (q["issue_date"] == pd.Timestamp("2024-04-10")).all()
    assert (q["valid_date"] == q["issue_date"] + pd.to_timedelta(q["lead_days"], "D")).all()
    assert (q["known_at"] == pd.Timestamp(T)).all()
    assert ((q["lower"] <= q["value"]) & (q["value"] <= q["upper"])).all()
    # persistence is the last daily value; the observed daily mean is there to compare
    daily = fc.daily_series(ural, config, "KZ:19072")
    pers = q[q["method"] == "persistence"]
    assert pers["value"].tolist() == pytest.approx([daily[pd.Timestamp("2024-04-10")]] * 10)
    assert pers["observed"].tolist() == pytest.approx(
        daily.reindex(pd.DatetimeIndex(pers["valid_date"])).tolist())
    # stage is the discharge through the gauge's rating
    rating = config.network.gauges["KZ:19072"].rating
    h = f[(f["variable"] == "stage") & (f["method"] == "sarimax")]["value"].to_numpy()
    qs = q[q["method"] == "sarimax"]["value"].to_numpy()
    assert h == pytest.approx(rating.stage(qs))
    runs = fc.runs(ural, "KZ:19072")
    sar = runs[(runs["method"] == "sarimax") & (runs["variable"] == "discharge")].iloc[0]
    params = json.loads(sar["parameters"])
    [uralsk] = fc.upstream_inputs(config, "KZ:19072")
    # Uralsk was forecast in the same run, upstream first: beyond the lag its forecast is
    # Kushum's input
    assert params["inputs"] == [{"station": "KZ:19071", "variable": "discharge",
                                 "lag_days": uralsk.lag_days,
                                 "travel_days": round(uralsk.travel_days, 3),
                                 "reaches": list(uralsk.reaches),
                                 "after_lag": "upstream forecast"}]
    assert f"KZ:19071:discharge@lag{uralsk.lag_days}d" in params["params"]


def test_replay_shows_the_forecast_that_was_current_and_nothing_received_later(tmp_path,
                                                                              config):
    from hydro.services.ingest import ingest_file

    store = ural_store(tmp_path, config, ["KZ_19071", "KZ_19072"])
    first = fc.run(store, config, issue_time=T, stations=["KZ:19072"])
    before = values(fc.latest(store, "KZ:19072", as_of=T + dt.timedelta(hours=1)))
    # a correction of March and early April at Kushum and Uralsk arrives on 11 April
    for name in ("KZ_19071", "KZ_19072"):
        lines = grdc(name).read_text(encoding="utf-8").splitlines()
        changed = [re.sub(r";(\s*)([0-9.]+)$", lambda m: f";{m[1]}{float(m[2]) * 1.5:.3f}", x)
                   if re.match(r"2024-0(3-|4-0)", x) else x for x in lines]
        path = tmp_path / grdc(name).name
        path.write_text("\n".join(changed) + "\n", encoding="utf-8")
        r = ingest_file(store, config, path, received_at=dt.datetime(2024, 4, 11, 9),
                        quarantine_dir=tmp_path / "q")
        assert r.outcome == "loaded" and r.rows_written > 0
    # no look-ahead: issued again as of T, the forecast is the same
    again = fc.run(store, config, issue_time=T, stations=["KZ:19072"])
    assert again.issue_times == first.issue_times
    rerun = fc.runs(store, "KZ:19072")
    assert len(rerun) == 16
    a, b = (values(fc.latest(store, "KZ:19072", as_of=T)), before)
    pd.testing.assert_frame_equal(a, b)
    # a later run sees the correction and is the newest forecast ...
    later = fc.run(store, config, issue_time=dt.datetime(2024, 4, 12, 6), stations=["KZ:19072"])
    assert later.issue_times["KZ:19072"] == dt.datetime(2024, 4, 11, 19)
    newest = values(fc.latest(store, "KZ:19072"))
    assert not newest["value"].equals(before["value"])
    # ... but the replay at T + 1 h still shows what was current then
    pd.testing.assert_frame_equal(values(fc.latest(store, "KZ:19072",
                                                   as_of=T + dt.timedelta(hours=1))), before)
    assert fc.latest(store, "KZ:19072", as_of=dt.datetime(2024, 4, 10, 5)).empty
    store.dispose()


def test_a_schema_5_store_is_upgraded_keeping_its_rows(tmp_path, config):
    from hydro.store.db import SCHEMA_VERSION, current_version, make_engine, open_store

    store = ural_store(tmp_path, config, ["KZ_19072"])
    url = str(store.url)
    n_before = pd.read_sql("SELECT COUNT(*) AS n FROM observation_segments", store)["n"][0]
    store.dispose()
    raw = make_engine(url)
    with raw.begin() as conn:
        conn.execute(text("DROP TABLE exchange_acknowledgements"))
        conn.execute(text("DROP TABLE forecast_skill"))
        conn.execute(text("DROP TABLE forecast_members"))
        conn.execute(text("DROP TABLE forecast_values"))
        conn.execute(text("DROP TABLE forecast_runs"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES "
                          "(5, '2026-01-01 00:00:00')"))
    assert current_version(raw) == 5
    raw.dispose()
    store = open_store(url, config.network)
    assert current_version(store) == SCHEMA_VERSION
    assert pd.read_sql("SELECT COUNT(*) AS n FROM observation_segments", store)["n"][0] \
        == n_before
    assert fc.run(store, config, issue_time=T, stations=["KZ:19072"]).run_ids
    assert len(fc.latest(store, "KZ:19072")) == 80
    store.dispose()


def test_a_schema_6_store_is_upgraded_to_keep_ensemble_members(tmp_path, config):
    from hydro.store import forecasts as stored
    from hydro.store.db import SCHEMA_VERSION, current_version, make_engine, open_store

    store = ural_store(tmp_path, config, ["KZ_19072"])
    old = fc.run(store, config, issue_time=T, stations=["KZ:19072"],
                 methods=["persistence"]).run_ids
    url = str(store.url)
    store.dispose()
    raw = make_engine(url)
    with raw.begin() as conn:
        conn.execute(text("DROP TABLE exchange_acknowledgements"))
        conn.execute(text("DROP TABLE forecast_skill"))
        conn.execute(text("DROP TABLE forecast_members"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES "
                          "(6, '2026-01-01 00:00:00')"))
    assert current_version(raw) == 6
    raw.dispose()
    store = open_store(url, config.network)
    assert current_version(store) == SCHEMA_VERSION
    assert fc.runs(store, "KZ:19072")["id"].tolist() == sorted(old, reverse=True)
    report = fc.run(store, config, issue_time=T, stations=["KZ:19072"], methods=["process"],
                    members=12)
    assert len(report.run_ids) == 2
    m = stored.members(store, report.run_ids)
    assert len(m) == 2 * 10 * 12
    assert stored.members(store, old).empty
    store.dispose()


def test_gauges_without_discharge_are_skipped_and_unknown_ones_refused(ural, config):
    report = fc.run(ural, config, issue_time=T, stations=["RU:ORSK"], write=False)
    assert report.skipped == {"RU:ORSK": "no discharge in the store up to 2024-04-10 06:00 UTC"}
    with pytest.raises(fc.ForecastError, match="unknown gauge"):
        fc.run(ural, config, stations=["KZ:99999"])
    with pytest.raises(fc.ForecastError, match="unknown method"):
        fc.run(ural, config, methods=["neural"])


def test_a_planned_release_is_the_reservoirs_future_outflow(tmp_path, config):
    from hydro.services.ingest import ingest_file

    store = ural_store(tmp_path, config, ["RU_ORSK", "KZ_19132"])
    assert ingest_file(store, config, DATA / "reservoirs" / "RU_IRIKLINSK.csv",
                       received_at=RECEIVED, quarantine_dir=tmp_path / "q").outcome == "loaded"

    def orsk(**kw) -> tuple[pd.Series, dict]:
        fc.run(store, config, issue_time=T, stations=["RU:ORSK"], methods=["sarimax"], **kw)
        f = fc.latest(store, "RU:ORSK", variable="discharge")
        run = fc.runs(store, "RU:ORSK").iloc[0]
        return f.set_index("lead_days")["value"], json.loads(run["parameters"])

    kept, p_kept = orsk()
    outflow = fc.daily_series(store, config, "RU:IRIKLINSK", "outflow", end=T).dropna()
    more, p_more = orsk(releases={"RU:IRIKLINSK": float(outflow.iloc[-1]) + 500.0})
    how = {i["station"]: i["after_lag"] for i in p_more["inputs"]}
    assert how["RU:IRIKLINSK"] == "planned release"
    assert {i["station"]: i["after_lag"] for i in p_kept["inputs"]}["RU:IRIKLINSK"] == \
        "persisted"
    lag = next(i["lag_days"] for i in p_more["inputs"] if i["station"] == "RU:IRIKLINSK")
    # the release reaches Orsk after the travel time: the same forecast before, more after
    assert more.loc[:lag].tolist() == pytest.approx(kept.loc[:lag].tolist())
    assert (more.loc[lag + 1:] > kept.loc[lag + 1:] + 100).all()
    with pytest.raises(fc.ForecastError, match="unknown reservoir"):
        fc.run(store, config, issue_time=T, releases={"RU:ORSK": 5.0})
    store.dispose()


# --------------------------------------------------------------------------- backtest

def test_backtest_of_a_spring_sarimax_beats_persistence_at_kushum(ural, config):
    bt = fc.backtest(ural, config, start="2024-03-15", end="2024-05-31",
                     stations=["KZ:19071", "KZ:19072"], horizon=10, every_days=5)
    assert set(bt["station_id"]) == {"KZ:19071", "KZ:19072"}
    assert set(bt["method"]) == {"persistence", "climatology", "sarimax", "process"}
    assert bt["issue_time"].nunique() == 16
    assert (bt["valid_time"] > bt["issue_time"]).all()
    table = fc.skill(bt)
    assert {"station_id", "method", "lead_days", "n", "nse", "kge", "crps",
            "skill_mse_vs_persistence", "skill_mse_vs_climatology",
            "beats_persistence"} <= set(table.columns)
    assert len(table) == 2 * 4 * 10
    k = table[(table["station_id"] == "KZ:19072")].set_index(["method", "lead_days"])
    # Uralsk, two days upstream, carries Kushum's flood: SARIMAX beats persistence at
    # every lead up to 10 days, by far at lead 3
    assert k.loc[("sarimax", 3), "skill_mse_vs_persistence"] > 0.5
    assert k.xs("sarimax")["beats_persistence"].all()
    # the process ensemble (the snowmelt model routed from the issue date's state) beats
    # persistence at every lead, by its ensemble CRPS too; its members are in the backtest
    assert k.xs("process")["beats_persistence"].all()
    assert (k.xs("process")["skill_crps_vs_persistence"] > 0.5).all()
    assert (k.xs("process")["skill_crps_vs_climatology"] > 0.5).all()
    proc = bt[bt["method"] == "process"]
    assert proc["member"].nunique() == 40 and bt[bt["method"] != "process"]["member"].isna().all()
    # climatology does not beat persistence in the flood season at these leads
    assert not k.xs("climatology")["beats_persistence"].any()
    assert not k.xs("persistence")["beats_persistence"].any()


# --------------------------------------------------------------------------- CLI

def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--config", CONFIG, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_store(tmp_path, config, monkeypatch):
    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    store = ural_store(tmp_path, config, ["KZ_19071", "KZ_19072"])
    yield store
    store.dispose()


def test_forecast_run_show_and_skill_on_the_terminal(cli_store, capsys):
    code, out, err = cli(capsys, "forecast", "run", "--issue-time", "2024-04-10T06:00",
                         "--station", "KZ:19072", "--station", "KZ:19071")
    assert code == 0, err
    assert "SYNTHETIC" in out
    assert "16 stored at 2 gauge(s)" in out
    assert "Ural at Kushum (KZ:19072)" in out and "2024-04-09 19:00" in out
    assert not UNREADABLE.search(out)

    code, out, err = cli(capsys, "forecast", "show", "KZ:19072")
    assert code == 0, err
    assert "Ural at Kushum (KZ:19072): daily mean discharge, m³/s" in out
    assert "Issued for 2024-04-10" in out
    header = next(x for x in out.splitlines() if x.startswith("lead (d)"))
    assert re.split(r"\s{2,}", header) == ["lead (d)", "valid date", "persistence",
                                           "climatology", "sarimax", "process", "observed"]
    assert "process: median of 40 members of the snowmelt model" in out
    rows = [x for x in out.splitlines() if re.match(r"\s+\d+\s+2024-04-", x)]
    assert len(rows) == 10 and rows[0].split()[1] == "2024-04-11"
    assert not UNREADABLE.search(out)

    code, out, err = cli(capsys, "forecast", "show", "KZ:19072", "--variable", "stage",
                         "--as-of", "2024-04-10T07:00")
    assert code == 0, err
    assert "stage, cm (through the gauge's rating)" in out
    assert "current at 2024-04-10 07:00 UTC" in out

    code, out, err = cli(capsys, "forecast", "skill", "--start", "2024-04-01", "--end",
                         "2024-04-30", "--station", "KZ:19072", "--horizon", "5",
                         "--every", "5")
    assert code == 0, err
    assert "6 issue dates from 2024-04-01 to 2024-04-30, every 5 d, leads 1-5 d" in out
    rows = [x for x in out.splitlines() if x.startswith("Ural at Kushum (KZ:19072)")]
    assert len(rows) == 5
    cells = re.split(r"\s{2,}", rows[2])
    # ... SS climatology, SS sarimax, SS process
    assert cells[1] == "3" and not cells[-2].endswith("*")     # SARIMAX beats persistence
    assert not cells[-1].endswith("*")                         # so does the process model
    assert cells[-3].endswith("*")                             # climatology does not
    assert "CRPS process" in out and "CRPS skill score" in out
    assert not UNREADABLE.search(out)


@pytest.mark.parametrize("args, message", [
    (["forecast", "show", "XX:1"], "unknown gauge 'XX:1'"),
    (["forecast", "show", "KZ:19072", "--as-of", "2020-01-01"], "no discharge forecast of "
     "KZ:19072 stored by 2020-01-01 00:00 UTC"),
    (["forecast", "run", "--issue-time", "yesterday"], "'yesterday' is not a date/time"),
    (["forecast", "run", "--horizon", "99", "--station", "KZ:19072"], "horizon must be"),
    (["forecast", "skill", "--start", "2024-05-01", "--end", "2024-04-01"], "before it starts"),
])
def test_forecast_errors_are_one_line_with_exit_status_2(cli_store, capsys, args, message):
    code, out, err = cli(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("hydrorisk: error: ") and message in err


# --------------------------------------------------------------------------- worker

def test_the_worker_refreshes_the_forecasts_after_an_ingest_and_survives_a_failure(
        tmp_path, config, monkeypatch, caplog):
    from hydro import worker
    from hydro.services.ingest import ingest_file

    store = ural_store(tmp_path, config, ["KZ_19072"])
    worker.refresh_forecasts(store, config)                 # as of now: the end of 2024
    runs = fc.runs(store)
    assert set(runs["station_id"]) == {"KZ:19072"}           # the only gauge with discharge
    assert (runs["issue_time"] == dt.datetime(2024, 12, 30, 19)).all()
    # nothing new arrived: nothing is reissued
    assert fc.refresh(store, config) is None
    assert len(fc.runs(store)) == len(runs)
    # a Tobol file arrives: only the Tobol's gauges are reissued (incremental, by basin)
    assert ingest_file(store, config, grdc("RU_KURGAN"),
                       quarantine_dir=tmp_path / "q").outcome == "loaded"
    report = fc.refresh(store, config)
    assert report is not None and set(report.issue_times) == {"RU:KURGAN"}
    assert set(report.skipped) == {g for g, x in config.network.gauges.items()
                                   if x.basin == "tobol"} - {"RU:KURGAN"}

    def broken(*a, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fc, "run", broken)
    assert ingest_file(store, config, grdc("KZ_19071"),
                       quarantine_dir=tmp_path / "q").outcome == "loaded"
    worker.refresh_forecasts(store, config)                 # logged, not raised
    assert "forecast refresh after the ingest failed: RuntimeError: disk full" in caplog.text
    store.dispose()


# --------------------------------------------------------------------------- process model

@pytest.fixture(scope="module")
def orsk_store(tmp_path_factory, config):
    from hydro.services.ingest import ingest_file

    tmp = tmp_path_factory.mktemp("orsk")
    store = ural_store(tmp, config, ["RU_ORSK", "KZ_19071", "KZ_19072"])
    assert ingest_file(store, config, DATA / "reservoirs" / "RU_IRIKLINSK.csv",
                       received_at=RECEIVED, quarantine_dir=tmp / "q").outcome == "loaded"
    yield store
    store.dispose()


def test_the_process_ensemble_is_stored_with_its_members(orsk_store, config):
    from hydro.store import forecasts as stored

    report = fc.run(orsk_store, config, issue_time=T, stations=["RU:ORSK", "KZ:19072"],
                    methods=["process"], members=20)
    assert report.stations == ["KZ:19072", "RU:ORSK"] and not report.notes
    runs = fc.runs(orsk_store).set_index(["station_id", "variable"])
    f = fc.latest(orsk_store, "KZ:19072", as_of=T)
    for sid in ("KZ:19072", "RU:ORSK"):
        for variable in ("discharge", "stage"):
            run_id = int(runs.loc[(sid, variable), "id"])
            m = stored.members(orsk_store, run_id)
            assert len(m) == 20 * 10 and set(m["member"]) == set(range(20))
            wide = m.pivot(index="member", columns="lead_days", values="value").to_numpy()
            assert np.isfinite(wide).all() and (wide >= 0).all()
            if sid == "KZ:19072":
                v = f[f["variable"] == variable].sort_values("lead_days")
                # the stored value is the members' median, the band their 5-95 % quantiles
                assert v["value"].to_numpy() == pytest.approx(np.median(wide, axis=0))
                assert v["lower"].to_numpy() == pytest.approx(np.quantile(wide, 0.05, axis=0))
                assert v["upper"].to_numpy() == pytest.approx(np.quantile(wide, 0.95, axis=0))
                assert ((v["lower"] <= v["value"]) & (v["value"] <= v["upper"])).all()
    q = f[f["variable"] == "discharge"].set_index("lead_days")
    # Kushum's flood is rising on 10 April: the model carries it (observed 2360 .. 4890)
    assert q.loc[1, "value"] == pytest.approx(q.loc[1, "observed"], rel=0.1)
    assert q.loc[10, "value"] == pytest.approx(q.loc[10, "observed"], rel=0.2)
    rating = config.network.gauges["KZ:19072"].rating
    stage = f[f["variable"] == "stage"].sort_values("lead_days")["value"].to_numpy()
    assert stage == pytest.approx(rating.stage(q["value"].to_numpy()), rel=1e-6)
    params = json.loads(runs.loc[("RU:ORSK", "discharge"), "parameters"])
    assert params["members"] == 20 and params["seed"] == 20240410
    assert params["reservoirs"]["RU:IRIKLINSK"]["release"] == "last observed outflow held"
    assert max(params["weather_years"]) < 2024          # only years before the issue


def test_the_process_ensemble_is_deterministic_and_follows_a_planned_release(orsk_store,
                                                                             config):
    def orsk(**kw) -> np.ndarray:
        report = fc.run(orsk_store, config, issue_time=T, stations=["RU:ORSK"],
                        methods=["process"], members=12, write=False, **kw)
        assert not report.notes
        from hydro.services import process_forecast as pfs

        daily, _ = fc._read(orsk_store, config, ["RU:ORSK", "RU:IRIKLINSK"],
                            ["discharge", *pfs.RESERVOIR_VARIABLES], T, T)
        issue = pd.Timestamp(daily[("RU:ORSK", "discharge")].dropna().index[-1])
        state = pfs.prepare(config, orsk_store, ["ural"], [issue])
        ens, notes = pfs.forecast_gauges(config, state, {"RU:ORSK": issue}, daily, 10,
                                         members=12, **kw)
        assert not notes
        return ens["RU:ORSK"].members

    a, b = orsk(), orsk()
    assert np.array_equal(a, b)
    outflow = fc.daily_series(orsk_store, config, "RU:IRIKLINSK", "outflow", end=T).dropna()
    # Iriklinsk is near ФПУ on 10 April 2024, releasing what its outlets can: hold back
    # 500 m³/s of it
    less = orsk(releases={"RU:IRIKLINSK": float(outflow.iloc[-1]) - 500.0})
    held = np.median(a - less, axis=0)
    assert (held[1:] > 0).all()
    # about the release held back, routed (K = 1 d) and scaled by the nudging ratio at Orsk
    assert 0.3 * 500 < held[-1] < 1.5 * 500


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                             marks=pytest.mark.postgres)])
def test_ensemble_members_round_trip_and_go_with_their_run(backend, tmp_path, config):
    from hydro.store import forecasts as stored
    from hydro.store.db import open_store

    if backend == "postgres":
        from postgres_support import fresh_pg_url

        url = fresh_pg_url()
    else:
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url, config.network)
    try:
        fields = {"station_id": "KZ:19072", "variable": "discharge", "unit": "m3/s",
                  "method": "process", "issue_time": dt.datetime(2024, 4, 9, 19),
                  "issue_date": dt.datetime(2024, 4, 10), "known_at": T,
                  "created_at": T, "horizon_days": 2, "alpha": 0.1, "parameters": None,
                  "note": None}
        days = pd.to_datetime(["2024-04-11", "2024-04-12"])
        members = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.5]])   # (M, H)
        values = pd.DataFrame({"lead_days": [1, 2], "valid_date": days,
                               "value": np.nanmedian(members, axis=0),
                               "lower": [1.2, 2.2], "upper": [4.8, 6.4]})
        rows = pd.DataFrame({"lead_days": np.tile([1, 2], 3), "member": np.repeat([0, 1, 2], 2),
                             "value": members.reshape(-1)})
        point = {**fields, "method": "persistence"}
        ids = stored.write_runs(store, [(fields, values, rows), (point, values),
                                        (point, values, None)])
        got = stored.members(store, ids[0])
        assert got.columns.tolist() == stored.MEMBER_COLUMNS
        assert got["member"].tolist() == [0, 1, 2, 0, 1, 2]           # by lead, then member
        wide = got.pivot(index="member", columns="lead_days", values="value").to_numpy()
        np.testing.assert_array_equal(wide, members)                  # NaN kept as NULL
        assert stored.members(store, ids[1:]).empty
        assert len(stored.members(store, ids)) == 6
        from sqlalchemy import text as sql

        with store.begin() as conn:        # deleting a run deletes its members (cascade)
            conn.execute(sql("DELETE FROM forecast_values WHERE run_id = :i"), {"i": ids[0]})
            conn.execute(sql("DELETE FROM forecast_runs WHERE id = :i"), {"i": ids[0]})
        assert stored.members(store, ids[0]).empty
    finally:
        store.dispose()


def test_a_stored_backtest_marks_what_does_not_beat_persistence(cli_store, capsys):
    from hydro.store.db import SCHEMA_VERSION

    assert SCHEMA_VERSION >= 8  # forecast_skill is schema 8
    code, out, err = cli(capsys, "forecast", "run", "--issue-time", "2024-04-10T06:00",
                         "--station", "KZ:19072", "--station", "KZ:19071",
                         "--method", "persistence", "--method", "climatology",
                         "--method", "sarimax")
    assert code == 0, err
    code, out, err = cli(capsys, "forecast", "show", "KZ:19072")
    assert code == 0 and "No backtest is stored for this gauge" in out
    code, out, err = cli(capsys, "forecast", "skill", "--start", "2024-03-20", "--end",
                         "2024-05-10", "--every", "10", "--horizon", "5", "--station",
                         "KZ:19072", "--station", "KZ:19071", "--method", "climatology",
                         "--method", "sarimax", "--write")
    assert code == 0, err
    assert "Kept as backtest 1" in out
    kept = fc.stored_skill(cli_store, "KZ:19072")
    assert set(kept["method"]) == {"persistence", "climatology", "sarimax"}
    assert set(kept["lead_days"]) == {1, 2, 3, 4, 5}
    # climatology never beats persistence in a flood spring; SARIMAX does (test above)
    clim = kept[kept["method"] == "climatology"]
    assert not clim["beats_persistence"].any()
    assert kept[kept["method"] == "sarimax"]["beats_persistence"].all()
    assert {"nse", "crps", "skill_mse_vs_persistence"} <= set(kept.columns)
    code, out, err = cli(capsys, "forecast", "show", "KZ:19072")
    assert code == 0, err
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.strip()[:1].isdigit()}
    for lead in ("1", "5"):
        cells = lines[lead]
        assert cells.count(" *") == 1        # the climatology cell, not SARIMAX
    assert "* = did not beat persistence at this lead in backtest 1" in out
    assert not UNREADABLE.search(out)
