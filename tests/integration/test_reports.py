"""The report commands compute the commission's tables from the store end to end."""

import os
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT

from hydro.services.ingest import ingest_file

DATA = ROOT / "data" / "gauges"


@pytest.fixture
def loaded(store, config, tmp_path):
    for f in ("grdc/KZ_19073_Q_Day.Cmd.txt", "grdc/KZ_19132_Q_Day.Cmd.txt",
              "reservoirs/RU_IRIKLINSK.csv", "grdc/RU_ORSK_Q_Day.Cmd.txt"):
        assert ingest_file(store, config, DATA / f, quarantine_dir=tmp_path / "q").outcome == "loaded"
    return store


def test_border_report_matches_direct_computation(loaded, config):
    from hydro.balance import border_volumes, daily_series
    from hydro.readers import read_file
    from hydro.services.reports import border_report

    table, trends = border_report(loaded, config, "ural")
    ural = table[table["border_id"] == "BORDER:ural-ru-kz"]
    obs = read_file(DATA / "grdc/KZ_19073_Q_Day.Cmd.txt", config).observations
    direct = border_volumes(daily_series(obs, "Asia/Oral"), base_period=(1991, 2020))
    assert ural["volume_hm3"].tolist() == pytest.approx(direct["volume_hm3"].tolist(), nan_ok=True)
    # the Ilek border has no gauge series loaded: it is skipped, not invented
    assert "BORDER:ilek-kz-ru" not in set(table["border_id"])
    row = trends[trends["border_id"] == "BORDER:ural-ru-kz"].iloc[0]
    assert row["n"] == 14 and row["first_year"] == 2010


def test_reservoir_report_closes(loaded, config):
    from hydro.services.reports import reservoir_report

    t = reservoir_report(loaded, config, "RU:IRIKLINSK")
    assert len(t) >= 179 and not t["flagged"].any()
    assert t["residual_percent"].abs().max() < 0.05


def test_return_level_report(loaded, config):
    from hydro.services.reports import return_level_report

    t = return_level_report(loaded, config, "RU:ORSK", "gev", "lmom")
    assert list(t.index) == [2, 5, 10, 20, 50, 100]
    assert t["return_level"].is_monotonic_increasing
    assert (t["lower"] <= t["return_level"]).all() and (t["return_level"] <= t["upper"]).all()


def test_report_cli(tmp_path):
    env = dict(os.environ, HYDRORISK_DB_URL=f"sqlite:///{tmp_path / 's.sqlite'}")
    def run(*a):
        return subprocess.run([sys.executable, "-m", "hydro.cli", *a], cwd=ROOT, env=env,
                                        capture_output=True, text=True, timeout=300)  # noqa: E731
    r = run("report", "border", "--basin", "ural")
    assert r.returncode == 2 and "no discharge at any border gauge" in r.stderr
    assert run("ingest", str(DATA / "grdc/KZ_19073_Q_Day.Cmd.txt")).returncode == 0
    r = run("report", "border", "--basin", "ural")
    assert r.returncode == 0, r.stderr
    assert "SYNTHETIC" in r.stdout and "Ural: RU-KZ border (BORDER:ural-ru-kz)" in r.stdout
    assert "2023/24" in r.stdout and "Mann-Kendall" in r.stdout
    out = tmp_path / "border.csv"
    assert run("report", "border", "--csv", str(out)).returncode == 0 and out.exists()
    r = run("report", "reservoir", "RU:NOSUCH")
    assert r.returncode == 2 and "unknown reservoir" in r.stderr


def test_quality_import_table_cli(tmp_path):
    env = dict(os.environ, HYDRORISK_DB_URL=f"sqlite:///{tmp_path / 's.sqlite'}")
    bad = tmp_path / "table.csv"
    bad.write_text("parameter,unit\nmercuryy,mg/l\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "hydro.cli", "quality", "import-table", str(bad),
                        "--system", "kz2016", "--out", str(tmp_path / "out.csv")], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert str(bad) in r.stderr and len(r.stderr.strip().splitlines()) == 1
    good = ROOT / "config" / "quality" / "kz2016_classes.csv"
    r = subprocess.run([sys.executable, "-m", "hydro.cli", "quality", "import-table", str(good),
                        "--system", "kz2016", "--out", str(tmp_path / "out.csv")], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.csv").exists()


def test_quality_report_both_systems(store, config, tmp_path):
    from hydro.quality import classify_kz, period_mean, samples_from_long, ukizv
    from hydro.services.reports import quality_report

    ingest_file(store, config, DATA / "quality/ural.csv", quarantine_dir=tmp_path / "q")
    rep = quality_report(store, config, "KZ:19073", 2023)
    raw = pd.read_csv(DATA / "quality/ural.csv", sep=";", comment="#", dtype=str)
    rows = raw[(raw.site == "KZ:19073") & raw.date.str.startswith("2023")]
    samples = samples_from_long(rows.drop(columns=["site"]))
    direct = classify_kz(period_mean(samples), edition="kz2016")
    assert rep["n_samples"] == 12
    assert rep["kz"]["kz2016"].klass == direct.klass
    assert rep["kz"]["kz2016"].limiting == direct.limiting
    assert rep["ukizv"].index == pytest.approx(ukizv(samples).index)
    assert rep["kz"]["kz2016"].provisional and rep["ukizv"].provisional
    with pytest.raises(ValueError, match="no water-quality samples for KZ:19073 in 1990"):
        quality_report(store, config, "KZ:19073", 1990)


def _cli(env, *args):
    return subprocess.run([sys.executable, "-m", "hydro.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_return_levels_report_is_reproducible_and_prints_its_seed(tmp_path):
    """Regression (issue 9): two runs on the same store gave 100-year limits of 5305-23079
    and 5504-22402; the bootstrap is now seeded and the seed printed."""
    env = dict(os.environ, HYDRORISK_DB_URL=f"sqlite:///{tmp_path / 's.sqlite'}")
    assert _cli(env, "ingest", str(DATA / "grdc/RU_ORSK_Q_Day.Cmd.txt")).returncode == 0
    a = _cli(env, "report", "return-levels", "RU:ORSK")
    b = _cli(env, "report", "return-levels", "RU:ORSK")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert "seed 20240405" in a.stdout
    c = _cli(env, "report", "return-levels", "RU:ORSK", "--seed", "7")
    assert "seed 7" in c.stdout and c.stdout != a.stdout


def test_report_quality_classifies_with_the_tables_of_the_given_config(tmp_path, config_copy):
    """Regression (issue 9): `hydrorisk --config OTHER report quality` classified with the
    tables of $HYDRORISK_CONFIG (or the working directory), not those of OTHER."""
    table = config_copy / "quality" / "kz2016_classes.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    stricter = []
    for line in lines:
        cells = line.split(",")
        if (not line.startswith("#") and len(cells) > 8 and cells[2] == "max"
                and cells[0] != "pH"):
            cells[3:8] = ["0.0001", "0.0002", "0.0003", "0.0004", "0.0005"]  # all class 6
        stricter.append(",".join(cells))
    table.write_text("\n".join(stricter) + "\n", encoding="utf-8")
    env = dict(os.environ, HYDRORISK_DB_URL=f"sqlite:///{tmp_path / 's.sqlite'}",
               HYDRORISK_CONFIG=str(ROOT / "config"))
    assert _cli(env, "ingest", str(DATA / "quality/ural.csv")).returncode == 0
    default = _cli(env, "report", "quality", "KZ:19073", "--year", "2023")
    other = _cli(env, "--config", str(config_copy), "report", "quality", "KZ:19073",
                 "--year", "2023")
    assert default.returncode == 0 and other.returncode == 0, default.stderr + other.stderr

    def kz2016_line(out: str) -> str:
        return next(x for x in out.splitlines() if "(kz2016)" in x)

    assert "class 6" not in kz2016_line(default.stdout).lower()
    assert kz2016_line(other.stdout) != kz2016_line(default.stdout)
