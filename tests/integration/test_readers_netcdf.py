"""CF-NetCDF exchange files: written from readers or the store, read back at ingest,
CF attributes in place, foreign CF files accepted, broken files refused clearly."""

import datetime as dt
import re

import netCDF4  # noqa: F401  (a core dependency: without it these tests must fail)
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import ROOT

DATA = ROOT / "data" / "gauges"
FILES = [DATA / "agency" / "kazhydromet" / "ural_2024.csv",
         DATA / "agency" / "roshydromet" / "ural_2024.csv",
         DATA / "grdc" / "KZ_19073_Q_Day.Cmd.txt",
         DATA / "reservoirs" / "RU_IRIKLINSK.csv"]
COLS = ["station_id", "variable", "time", "value", "party", "phenomena", "qc_flags"]


def _canonical(df):
    out = df[COLS].copy()
    out["time"] = pd.to_datetime(out["time"]).astype("datetime64[ns]")
    out["phenomena"] = out["phenomena"].astype(object).where(out["phenomena"].notna(), None)
    out["qc_flags"] = out["qc_flags"].astype(int)
    for col in ("station_id", "variable", "party"):  # str dtype differs by pandas version
        out[col] = out[col].astype(str).astype(object)
    return out.sort_values(["station_id", "variable", "party", "time"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def observations(config):
    from hydro.readers import read_file

    return pd.concat([read_file(p, config).observations for p in FILES], ignore_index=True)


def test_round_trip_reader_to_netcdf_to_reader(config, observations, tmp_path):
    from hydro.readers import read_file
    from hydro.readers.netcdf import write_netcdf

    path = write_netcdf(observations, tmp_path / "ural_2024.nc", config)
    batch = read_file(path, config)
    assert batch.format == "netcdf"
    pd.testing.assert_frame_equal(_canonical(batch.observations), _canonical(observations))
    # values are bit-for-bit the same, including reservoir levels with three decimals
    assert (batch.observations["unit"].isin(["cm", "m3/s", "m", "hm3"])).all()


def test_cf_attributes(config, observations, tmp_path):
    from hydro.readers.netcdf import write_netcdf

    path = write_netcdf(observations, tmp_path / "x.nc", config)
    with xr.open_dataset(path) as ds:
        assert ds.attrs["Conventions"] == "CF-1.8" and ds.attrs["featureType"] == "timeSeries"
        assert ds["series_id"].attrs["cf_role"] == "timeseries_id"
        assert ds["stage"].dims == ("station", "time")
        assert ds["stage"].attrs["standard_name"] == "water_surface_height_above_reference_datum"
        assert ds["stage"].attrs["units"] == "cm"
        assert ds["discharge"].attrs["standard_name"] == "water_volume_transport_in_river_channel"
        assert ds["discharge"].attrs["units"] == "m3 s-1"
        assert ds["level"].attrs["units"] == "m"
        assert ds["lat"].attrs == {"standard_name": "latitude", "units": "degrees_north"}
        assert ds["time"].encoding["units"].startswith("minutes since 1970-01-01")
        assert "stage_qc" in ds["stage"].attrs["ancillary_variables"]
        assert ds["stage_qc"].attrs["flag_meanings"].split()[0] == "ice"
        assert list(ds["stage_qc"].attrs["flag_masks"][:2]) == [1, 2]
        # a border gauge reported by both parties: two series, one station id
        both = ds["station_id"].values == "KZ:19073"
        assert sorted(ds["party"].values[both]) == ["KZ", "RU"]
        assert len(set(ds["series_id"].values)) == ds.sizes["station"]


def test_store_export_round_trip(store, config, tmp_path):
    """Ingest files, export the store selection, ingest the export into a new store."""
    from hydro.services.exports import export_store
    from hydro.services.ingest import ingest_file
    from hydro.store import api
    from hydro.store.db import open_store

    for p in FILES[:3]:
        assert ingest_file(store, config, p, quarantine_dir=tmp_path / "q").outcome == "loaded"
    path = export_store(store, tmp_path / "export.nc", config,
                        stations=["KZ:19073", "KZ:19071"], variables=("stage", "discharge"))
    other = open_store(f"sqlite:///{tmp_path / 'other.sqlite'}", config.network)
    r = ingest_file(other, config, path, quarantine_dir=tmp_path / "q")
    assert r.outcome == "loaded", r.message
    a = api.observations(store, stations=["KZ:19073", "KZ:19071"])
    b = api.observations(other)
    keep = ["station_id", "variable", "time", "value", "party", "phenomena", "qc_flags"]
    assert len(a) == len(b) == r.rows_written
    pd.testing.assert_frame_equal(_canonical(a[keep]), _canonical(b[keep]))
    # re-ingesting the export changes nothing
    again = ingest_file(other, config, path, quarantine_dir=tmp_path / "q")
    assert again.outcome == "unchanged"
    other.dispose()


def test_foreign_cf_file_with_standard_names_and_other_units(config, tmp_path):
    """A partner's CF file: no party variable, stage in metres under a standard name,
    discharge in 'm3/s', the post code as the timeseries id."""
    from hydro.readers import read_file

    t = pd.date_range("2024-04-01 03:00", periods=3, freq="D")
    ds = xr.Dataset(
        {"wl": (("station", "time"), np.array([[4.12, 4.30, 4.55]]),
                {"standard_name": "water_surface_height_above_reference_datum",
                 "units": "m"}),
         "q": (("station", "time"), np.array([[812.5, np.nan, 901.0]]),
               {"standard_name": "water_volume_transport_in_river_channel", "units": "m3/s"})},
        coords={"time": ("time", t), "platform": ("station", ["19071"],
                                                  {"cf_role": "timeseries_id"})},
        attrs={"Conventions": "CF-1.8", "featureType": "timeSeries", "reporting_party": "KZ"})
    path = tmp_path / "partner.nc"
    ds.to_netcdf(path)
    obs = read_file(path, config).observations
    st = obs[obs["variable"] == "stage"]
    assert st["value"].tolist() == pytest.approx([412.0, 430.0, 455.0])
    assert (st["unit"] == "cm").all() and (obs["station_id"] == "KZ:19071").all()
    q = obs[obs["variable"] == "discharge"]
    assert q["value"].tolist() == [812.5, 901.0] and (obs["party"] == "KZ").all()


def _nc(tmp_path, name, **change):
    t = pd.date_range("2024-04-01 03:00", periods=3, freq="D")
    var = change.pop("var", {"stage": (("station", "time"), np.array([[410.0, 420.0, 430.0]]),
                                       {"units": change.pop("units", "cm")})})
    coords = {"time": ("time", change.pop("time", t)),
              "station_id": ("station", [change.pop("code", "KZ:19071")],
                             {} if change.pop("no_role", False)
                             else {"cf_role": "timeseries_id"})}
    ds = xr.Dataset(var, coords=coords)
    path = tmp_path / name
    ds.to_netcdf(path)
    return path


@pytest.mark.parametrize("case, message", [
    ("garbage", r"garbage\.nc: not a readable NetCDF file"),
    ("truncated", r"truncated\.nc: not a readable NetCDF file"),
    ("empty", r"empty\.nc: the file is empty"),
    ("wrong unit", r"column 'stage': units 'K': unknown unit 'K' for stage"),
    ("metres for discharge", r"column 'discharge': units 'm': unit 'm' is a unit of "
                             r"elevation, not of discharge"),
    ("no units", r"column 'stage': no units attribute"),
    ("unknown station", r"column 'station_id\[0\]': unknown station 'KZ:99999'"),
    ("no cf_role", r"no variable with cf_role = 'timeseries_id'"),
    ("time backwards", r"column 'time': time is not strictly increasing at index 2"),
])
def test_broken_netcdf_is_quarantined_and_store_untouched(store, config, tmp_path, case,
                                                          message):
    from hydro.services.ingest import ingest_file
    from hydro.store import api

    good = _nc(tmp_path, "good.nc")
    if case == "garbage":
        path = tmp_path / "garbage.nc"
        path.write_bytes(b"this is not netcdf\n" * 10)
    elif case == "truncated":
        path = tmp_path / "truncated.nc"
        path.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    elif case == "empty":
        path = tmp_path / "empty.nc"
        path.write_bytes(b"")
    elif case == "wrong unit":
        path = _nc(tmp_path, "bad.nc", units="K")
    elif case == "metres for discharge":
        path = _nc(tmp_path, "bad.nc", var={"discharge": (("station", "time"),
                                                          np.ones((1, 3)), {"units": "m"})})
    elif case == "no units":
        path = _nc(tmp_path, "bad.nc", var={"stage": (("station", "time"), np.ones((1, 3)))})
    elif case == "unknown station":
        path = _nc(tmp_path, "bad.nc", code="KZ:99999")
    elif case == "no cf_role":
        path = _nc(tmp_path, "bad.nc", no_role=True)
    else:
        path = _nc(tmp_path, "bad.nc", time=pd.to_datetime(
            ["2024-04-01", "2024-04-03", "2024-04-02"]))
    r = ingest_file(store, config, path, quarantine_dir=tmp_path / "q")
    assert r.outcome == "rejected"
    assert re.search(message, r.message), r.message
    assert api.observation_count(store) == 0
    assert len(list((tmp_path / "q").glob(f"*_{path.name}"))) == 1


def test_to_dataset_refuses_two_sources_for_one_series(config):
    from hydro.readers.netcdf import to_dataset

    t = dt.datetime(2024, 4, 1, 3)
    df = pd.DataFrame({"station_id": ["KZ:19071"] * 2, "variable": ["stage"] * 2,
                       "time": [t, t], "value": [1.0, 2.0], "party": ["KZ", "KZ"]})
    with pytest.raises(ValueError, match="two values at 2024-04-01 03:00:00"):
        to_dataset(df, config)
