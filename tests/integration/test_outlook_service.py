"""The seasonal spring-flood outlook end to end (issue 12, items 1 and 2): the basin-mean
winter predictors ingested from the bundled CF-NetCDF file like any series (revisioned,
QC-flagged), the outlook of 1 March 2024 issued from the store as it stood then, stored and
read back, and printed by ``hydrorisk outlook``.

The 1 March 2024 check of the issue — "the outlook puts the 2024 spring flood above the
90th percentile at the gauges that flooded, with the probability of exceeding the dangerous
level shown" — is asserted on the Ural, whose gauges flooded in 2024 (flood_2024.csv) and
whose synthetic 2024 flood is the largest of the bundled record.  Two known shortfalls are
asserted as they are, so that a change shows: on the Tobol the synthetic 2024 flood is only
the third largest since 2010 (2014 and 2016 were larger), and on the Ishim it depends on
the weather after 1 March (the late warm-up and rain on snow of the generator), so neither
outlook reaches the 90th percentile.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import ROOT

from hydro.cli import main
from hydro.services import outlook as ol

DATA = ROOT / "data" / "gauges"
PREDICTORS = DATA / "predictors" / "basin_means.nc"
CONFIG = str(ROOT / "config")
RECEIVED = dt.datetime(2024, 1, 1)   # the bundled series as if received long before
#: the Ural's gauges that flooded in spring 2024 (flood_2024.csv): Orsk, Orenburg, Ilek
#: (village), Yanvartsevo, Uralsk, Kushum
URAL_FLOODED = ["RU:ORSK", "RU:ORENBURG", "RU:ILEK", "KZ:19073", "KZ:19071", "KZ:19072"]
UNREADABLE = re.compile(r"\bNaN\b|\bNaT\b|\bnan\b|\bNone\b")


def _files(names: list[str]) -> list:
    files = [PREDICTORS]
    for gid in names:
        files.append(DATA / "grdc" / f"{gid.replace(':', '_')}_Q_Day.Cmd.txt")
    for basin in sorted({"ural", "tobol"}):
        files += sorted((DATA / "agency" / "kazhydromet").glob(f"{basin}_*.csv"))
        files += sorted((DATA / "agency" / "roshydromet").glob(f"{basin}_*.csv"))
    return files


@pytest.fixture(scope="module")
def store(tmp_path_factory, config):
    from hydro.services.ingest import ingest_files
    from hydro.store.db import open_store

    tmp = tmp_path_factory.mktemp("outlook")
    engine = open_store(f"sqlite:///{tmp / 'store.sqlite'}", config.network)
    files = _files([*URAL_FLOODED, "RU:KURGAN"])
    for r in ingest_files(engine, config, files, received_at=RECEIVED,
                          quarantine_dir=tmp / "q"):
        assert r.outcome == "loaded", r.message
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def march_2024(store, config):
    return ol.issue(store, config, "2024-03-01", stations=[*URAL_FLOODED, "RU:KURGAN"])


# --------------------------------------------------------------------------- predictors

def test_the_predictor_file_is_cf_and_labelled_synthetic():
    ds = xr.open_dataset(PREDICTORS)
    assert ds.attrs["Conventions"] == "CF-1.8" and ds.attrs["featureType"] == "timeSeries"
    assert "SYNTHETIC" in ds.attrs["title"] and "SYNTHETIC" in ds.attrs["source"]
    assert sorted(ds["station_id"].to_numpy().astype(str)) == [
        "BASIN:irtysh", "BASIN:ishim", "BASIN:tobol", "BASIN:ural"]
    assert ds["snow_water_equivalent"].attrs["standard_name"] == \
        "lwe_thickness_of_surface_snow_amount"
    assert ds["frost_depth"].attrs["units"] == "cm"
    ds.close()


def test_the_predictors_are_stored_like_any_series(store):
    from hydro.store import api

    obs = api.observations(store, stations=["BASIN:ural"])
    days = pd.date_range("2010-01-01", "2024-12-31").size
    counts = obs.groupby("variable").size().to_dict()
    assert set(counts) == {"snow_water_equivalent", "soil_moisture", "frost_depth",
                           "precipitation"}
    assert all(abs(n - days) <= 366 for n in counts.values())
    assert obs["source"].nunique() == 1 and set(obs["party"]) == {"KZ"}
    assert obs.loc[obs["variable"] == "frost_depth", "unit"].iloc[0] == "cm"


def test_a_corrected_predictor_is_a_new_revision_and_a_bad_one_is_flagged(tmp_path, config):
    from hydro.qc import QC
    from hydro.services.ingest import ingest_file
    from hydro.store import api
    from hydro.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 's.sqlite'}", config.network)
    ds = xr.open_dataset(PREDICTORS).load()
    ds.close()
    small = ds.isel(time=slice(0, 40))
    first = tmp_path / "first.nc"
    small.to_netcdf(first)
    assert ingest_file(engine, config, first, received_at=RECEIVED,
                       quarantine_dir=tmp_path / "q").outcome == "loaded"
    fixed = small.copy(deep=True)
    i = int(np.flatnonzero(fixed["station_id"].to_numpy().astype(str) == "BASIN:ural")[0])
    fixed["snow_water_equivalent"][i, 10] = -5.0       # a bad value: below the range
    fixed["frost_depth"][i, 11] = 33.3                  # a correction
    second = tmp_path / "second.nc"
    fixed.to_netcdf(second)
    r = ingest_file(engine, config, second, received_at=RECEIVED + dt.timedelta(days=1),
                    quarantine_dir=tmp_path / "q")
    assert r.outcome == "loaded" and r.rows_written == 2
    t10, t11 = (pd.Timestamp(small["time"].to_numpy()[k]) for k in (10, 11))
    swe = api.observations(engine, stations=["BASIN:ural"],
                           variables=["snow_water_equivalent"])
    bad = swe[swe["time"] == t10].iloc[0]
    assert bad["value"] == -5.0 and int(bad["qc_flags"]) & int(QC.RANGE)
    frost = api.observations(engine, stations=["BASIN:ural"], variables=["frost_depth"],
                             revisions="all")
    assert sorted(frost.loc[frost["time"] == t11, "revision"]) == [1, 2]
    engine.dispose()


def test_an_unknown_basin_is_refused_naming_the_file_and_station(tmp_path, config):
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 's.sqlite'}", config.network)
    ds = xr.open_dataset(PREDICTORS).load()
    ds.close()
    ids = ds["station_id"].to_numpy().astype(str)
    ids[0] = "BASIN:volga"
    ds = ds.assign_coords(station_id=("station", ids.astype(object)))
    bad = tmp_path / "volga.nc"
    ds.isel(time=slice(0, 5)).to_netcdf(bad)
    r = ingest_file(engine, config, bad, quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected"
    assert "volga.nc" in r.message and "BASIN:volga" in r.message
    engine.dispose()


def test_the_predictors_of_a_year_are_taken_from_before_the_issue_date(store, config):
    x = ol.predictor_table(store, config, "ural", "2024-03-01")
    ds = xr.open_dataset(PREDICTORS)
    i = int(np.flatnonzero(ds["station_id"].to_numpy().astype(str) == "BASIN:ural")[0])
    t = pd.DatetimeIndex(ds["time"].to_numpy())

    def series(var: str) -> pd.Series:
        return pd.Series(ds[var].to_numpy()[i], index=t)

    swe, precip = series("snow_water_equivalent"), series("precipitation")
    ds.close()
    assert x.loc[2024, "swe_mm"] == pytest.approx(swe["2024-02-27":"2024-02-29"].mean())
    assert x.loc[2024, "winter_precip_mm"] == pytest.approx(
        precip["2023-11-01":"2024-02-29"].sum())
    assert x.loc[2024, "autumn_precip_mm"] == pytest.approx(
        precip["2023-09-01":"2023-10-31"].sum())
    # nothing of 1 March or later is read: the same table from a store cut there
    later = ol.predictor_table(store, config, "ural", "2024-03-01",
                               as_of=dt.datetime(2024, 3, 1))
    pd.testing.assert_frame_equal(x.loc[[2024]], later.loc[[2024]])


# --------------------------------------------------------------------------- the outlook

def test_the_1_march_2024_outlook_puts_the_ural_flood_above_the_90th_percentile(
        store, config, march_2024):
    by = {(o.station_id, o.target): o for o in march_2024.outlooks}
    for gid in URAL_FLOODED:
        y = ol.target_table(store, config, gid, "2024-03-01")
        for target in ("flood_volume", "peak_discharge", "peak_stage"):
            o = by[(gid, target)]
            record = y.loc[y.index < 2024, target].dropna()
            # the premise: what happened in 2024 was above the 90th percentile of the record
            assert y.loc[2024, target] > np.percentile(record, 90), (gid, target)
            assert o.percentile >= 90, (gid, target, o.percentile)
            assert o.lower <= o.forecast <= o.upper
            assert o.climatology_years >= 12 and np.isfinite(o.loyo_skill)
        stage = by[(gid, "peak_stage")]
        dangerous = [k for k in stage.exceedance if k.endswith(":dangerous")]
        assert dangerous, gid                                       # shown at every gauge
        assert all(0 < stage.exceedance[k] <= 1 for k in dangerous)
    # Orsk: the Russian dangerous level (ОЯ) very likely exceeded, as it was (950 cm)
    assert by[("RU:ORSK", "peak_stage")].exceedance["ru_nya_oya:dangerous"] > 0.5


def test_the_peak_stage_outlook_is_the_discharge_outlook_through_the_rating(config, march_2024):
    by = {(o.station_id, o.target): o for o in march_2024.outlooks}
    for gid in URAL_FLOODED:
        rating = config.network.gauges[gid].rating
        q, h = by[(gid, "peak_discharge")], by[(gid, "peak_stage")]
        assert h.forecast == pytest.approx(float(rating.stage(q.forecast)))
        assert h.upper == pytest.approx(float(rating.stage(q.upper)))
        for k, p in h.exceedance.items():          # P(stage > L) = P(Q > Q(L))
            assert q.exceedance[k] == pytest.approx(p)


def test_known_shortfalls_on_the_tobol(store, config, march_2024):
    kurgan = {o.target: o for o in march_2024.outlooks if o.station_id == "RU:KURGAN"}
    y = ol.target_table(store, config, "RU:KURGAN", "2024-03-01")
    # the synthetic 2024 flood at Kurgan is the third largest of the record, not the first
    assert (y.loc[y.index < 2024, "flood_volume"] > y.loc[2024, "flood_volume"]).sum() == 2
    assert 70 < kurgan["flood_volume"].percentile < 90


def test_knowledge_time_no_predictors_received_by_then(store, config):
    report = ol.issue(store, config, "2024-03-01", stations=["KZ:19071"],
                      as_of=dt.datetime(2023, 12, 1))
    why = report.skipped["KZ:19071"]
    assert not report.outlooks
    assert "were received after 2023-12-01 00:00 UTC" in why and "--on-time" in why


def test_outlooks_are_stored_and_kept_apart_from_short_range_forecasts(tmp_path, config):
    from hydro.services import forecasts as fc
    from hydro.services.ingest import ingest_files
    from hydro.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 's.sqlite'}", config.network)
    files = [PREDICTORS, DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt"]
    for r in ingest_files(engine, config, files, received_at=RECEIVED,
                          quarantine_dir=tmp_path / "q"):
        assert r.outcome == "loaded"
    report = ol.issue(engine, config, "2024-03-01", stations=["KZ:19071"],
                      targets=["flood_volume"], write=True)
    assert len(report.run_ids) == 1
    back = ol.stored(engine, "KZ:19071")
    o = report.outlooks[0]
    assert back.loc[0, "forecast"] == pytest.approx(o.forecast)
    assert back.loc[0, "exceedance"] == o.exceedance
    assert back.loc[0, "loyo_skill"] == pytest.approx(o.loyo_skill)
    assert pd.Timestamp(back.loc[0, "issue_date"]) == pd.Timestamp("2024-03-01")
    assert fc.latest(engine, "KZ:19071").empty    # not a short-range forecast
    assert ol.stored(engine, "KZ:19071", as_of=dt.datetime(2024, 2, 1)).empty
    engine.dispose()


def test_unknown_gauge_or_target_is_refused(store, config):
    with pytest.raises(ol.OutlookError, match="unknown gauge"):
        ol.issue(store, config, stations=["KZ:NOPE"])
    with pytest.raises(ol.OutlookError, match="unknown target"):
        ol.issue(store, config, targets=["peak_volume"])
    with pytest.raises(ol.OutlookError, match="not a date"):
        ol.issue(store, config, "1 March")


def test_the_cli_prints_a_readable_outlook(store, config, capsys, monkeypatch):
    url = str(store.url)
    monkeypatch.setenv("HYDRORISK_DB_URL", url)
    assert main(["--config", CONFIG, "outlook", "issue", "--station", "KZ:19071",
                 "--station", "RU:ORSK"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out
    assert "Ural at Uralsk (Oral) (KZ:19071)" in out and "hm³" in out
    assert "KZ dangerous (ОУ)" in out and "RU dangerous (ОЯ)" in out
    assert "LOYO" in out and not UNREADABLE.search(out)
    assert main(["--config", CONFIG, "outlook", "show"]) == 2       # nothing stored


def test_the_worker_issues_the_outlook_that_falls_due_once(tmp_path, config):
    from hydro.services.ingest import ingest_file
    from hydro.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 's.sqlite'}", config.network)
    ds = xr.open_dataset(PREDICTORS).load()
    ds.close()
    t = pd.DatetimeIndex(ds["time"].to_numpy())
    winter = tmp_path / "to_mid_march.nc"
    ds.isel(time=np.flatnonzero(t < pd.Timestamp("2024-03-16"))).to_netcdf(winter)
    assert ingest_file(engine, config, winter, received_at=RECEIVED,
                       quarantine_dir=tmp_path / "q").outcome == "loaded"
    assert ingest_file(engine, config, DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt",
                       received_at=RECEIVED, quarantine_dir=tmp_path / "q").outcome == "loaded"
    # snow water equivalent up to 15 March: the 15 March update is due
    assert ol.due_issue(engine, config) == dt.date(2024, 3, 15)
    from hydro import worker

    worker.refresh_outlook(engine, config)
    stored = ol.stored(engine, "KZ:19071")
    assert set(pd.to_datetime(stored["issue_date"])) == {pd.Timestamp("2024-03-15")}
    assert ol.refresh(engine, config) is None          # issued once
    engine.dispose()


def test_a_folder_ingest_takes_the_predictors_and_leaves_the_ensemble_forecasts():
    from hydro.services.ingest import expand_paths

    files = expand_paths([DATA])
    assert PREDICTORS in files
    assert not [f for f in files if "external" in f.parts]    # `hydrorisk forecast external`
    assert len([f for f in files if f.suffix == ".nc"]) == 1
