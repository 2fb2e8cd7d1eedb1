"""The bundled synthetic data: labelled synthetic, reproducible, physically consistent, and
2024 a 2024-style flood year."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

DATA = ROOT / "data" / "gauges"
FLOODED_2024 = ["RU:ORSK", "RU:ORENBURG", "RU:KURGAN", "KZ:11410", "RU:ISHIM", "KZ:12008"]


def test_every_file_says_synthetic():
    files = [p for p in DATA.rglob("*") if p.is_file() and p.name not in ("MANIFEST.sha256",)
             and p.suffix in (".csv", ".txt")]
    assert len(files) > 100
    for p in files:
        head = p.read_bytes()[:1000]  # the English banner is ASCII in every encoding
        assert b"SYNTHETIC DEMONSTRATION DATA" in head, p
    netcdf = sorted(DATA.rglob("*.nc"))
    assert len(netcdf) == 3           # the basin-mean predictors, the external ensembles
    for p in netcdf:
        import xarray as xr

        with xr.open_dataset(p) as ds:
            assert "SYNTHETIC" in ds.attrs["title"] and "SYNTHETIC" in ds.attrs["source"], p


def test_manifest_matches_files():
    lines = (DATA / "MANIFEST.sha256").read_text().splitlines()
    assert len(lines) > 100
    for line in lines:
        digest, rel = line.split("  ", 1)
        assert hashlib.sha256((DATA / rel).read_bytes()).hexdigest() == digest, rel


@pytest.mark.slow
def test_generator_reproduces_bundled_files(tmp_path, config):
    from hydro.synthetic.generate import DEFAULT_SEED, write_all

    write_all(config, tmp_path, DEFAULT_SEED)
    assert (tmp_path / "MANIFEST.sha256").read_text() == (DATA / "MANIFEST.sha256").read_text()


def _reservoir(path):
    return pd.read_csv(path, sep=";", comment="#", parse_dates=["date"])


@pytest.mark.parametrize("res_id", [
    "RU:VERKHNEURALSK", "RU:IRIKLINSK", "KZ:BUKHTARMA", "KZ:UST-KAMENOGORSK-RES", "KZ:SHULBA",
    "KZ:VERKHNETOBOLSK", "KZ:KARATOMAR", "KZ:ASTANA-RES", "KZ:SERGEEVKA",
    "KZ:PETROPAVLOVSK-RES"])
def test_reservoir_mass_balance_and_capacity(config, res_id):
    res = config.network.reservoirs[res_id]
    df = _reservoir(DATA / "reservoirs" / f"{res_id.replace(':', '_')}.csv")
    day_hm3 = 86400 / 1e6
    dv = df["volume_hm3"].diff().iloc[1:]
    net = (df["inflow_m3s"] - df["outflow_m3s"] - df["evaporation_m3s"]).iloc[1:] * day_hm3
    throughput = (df["inflow_m3s"].iloc[1:].sum()) * day_hm3
    residual = float((dv - net).abs().sum())
    assert residual < 0.01 * throughput, (residual, throughput)
    # whole record: storage change equals net inflow to rounding
    assert abs(float(dv.sum() - net.sum())) < 0.001 * throughput
    assert df["volume_hm3"].min() >= res.dead_volume_hm3 - 0.01
    assert df["volume_hm3"].max() <= res.fpu_volume_hm3 + 0.01
    # level and volume agree through the storage table
    lv = res.storage_table.level_at(df["volume_hm3"].to_numpy())
    assert np.allclose(lv, df["level_m"], atol=0.002)
    assert (df["spill_m3s"] <= df["outflow_m3s"] + 1e-6).all()


def test_discharge_follows_network(config):
    """Upstream routed + lateral: the volume at the outlet gauges exceeds that upstream."""
    from hydro.readers import read_file

    def annual_volume(gid):
        b = read_file(DATA / "grdc" / f"{gid.replace(':', '_')}_Q_Day.Cmd.txt", config)
        return b.observations["value"].mean()

    assert annual_volume("KZ:19071") > annual_volume("RU:ORENBURG") > annual_volume("RU:ORSK")
    assert annual_volume("RU:OMSK") > annual_volume("KZ:11025")
    assert annual_volume("RU:KURGAN") > annual_volume("KZ:12008")
    assert annual_volume("RU:ISHIM") > annual_volume("KZ:11410")


@pytest.fixture(scope="module")
def annual_max_stage(config):
    from hydro.readers import read_file

    frames = [read_file(p, config).observations for p in sorted((DATA / "agency").glob("*/*.csv"))]
    obs = pd.concat(frames)
    obs = obs[obs["variable"] == "stage"]
    # one party per gauge: its own country's service
    obs = obs[obs["party"] == obs["station_id"].str[:2]]
    return obs.groupby(["station_id", obs["time"].dt.year])["value"].max().unstack(0)


@pytest.mark.parametrize("gauge", FLOODED_2024)
def test_2024_exceeds_dangerous_level_where_it_flooded(config, annual_max_stage, gauge):
    dangerous = [t.value.to("stage") for t in config.thresholds_for(gauge) if t.level == "dangerous"]
    assert dangerous, gauge
    level = min(dangerous)
    peaks = annual_max_stage[gauge]
    assert peaks.loc[2024] > level
    others = peaks.drop(2024)
    assert len(others) == 14
    assert (others < level).sum() >= 10, others[others >= level]


def test_regime_is_snowmelt_spring_flood(config):
    from hydro.readers import read_file

    b = read_file(DATA / "grdc" / "KZ_19071_Q_Day.Cmd.txt", config).observations
    q = b.set_index("time")["value"]
    peak_months = q.groupby(q.index.year).idxmax().dt.month
    assert peak_months.isin([3, 4, 5]).mean() >= 0.8
    monthly = q.groupby(q.index.month).mean()
    assert monthly.loc[[1, 2]].mean() < 0.25 * monthly.loc[[4, 5]].mean()
