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
    # a report only reads: with no store yet it asks for `hydrorisk init`, creating nothing
    r = run("report", "border", "--basin", "ural")
    assert r.returncode == 2 and "create it with `hydrorisk init`" in r.stderr
    assert not (tmp_path / "s.sqlite").exists()
    assert run("init").returncode == 0
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
    direct = classify_kz(period_mean(samples), edition="kz2016",
                         table=config.quality_table("kz2016"))
    assert rep["n_samples"] == 12
    assert rep["kz"]["kz2016"].klass == direct.klass
    assert rep["kz"]["kz2016"].limiting == direct.limiting
    assert rep["ukizv"].index == pytest.approx(
        ukizv(samples, mpc=config.quality_table("ru"),
              scoring=config.quality_table("ru-ukizv")).index)
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


def test_reservoir_report_splits_outflow_into_release_and_spill(loaded, config, tmp_path):
    """Regression (issue 10): the balance carried the total outflow only; the spill (a part
    of it) now has its own column beside the controlled release."""
    from hydro.services.reports import reservoir_report
    from hydro.units import discharge_to_volume

    # Sergeevka spills in the 2024 flood of the bundled world; Iriklinsk no longer does (the
    # dispatcher's rule keeps it below ФПУ since the Ural recalibration)
    assert ingest_file(loaded, config, DATA / "reservoirs/KZ_SERGEEVKA.csv",
                       quarantine_dir=tmp_path / "q").outcome == "loaded"
    raw = pd.read_csv(DATA / "reservoirs/KZ_SERGEEVKA.csv", sep=";", comment="#",
                      index_col="date", parse_dates=True)
    day = reservoir_report(loaded, config, "KZ:SERGEEVKA", "day")
    cols = list(day.columns)
    assert cols[cols.index("outflow_hm3"):cols.index("outflow_hm3") + 3] == \
        ["outflow_hm3", "release_hm3", "spill_hm3"]
    spilling = raw.index[raw["spill_m3s"] > 0]     # the 2024 flood (dates follow the data)
    assert len(spilling), "the demonstration data have no spill at Sergeevka"
    row, q = day.loc[spilling[0]], raw.loc[spilling[0]]
    assert row["spill_hm3"] == pytest.approx(discharge_to_volume(q["spill_m3s"], days=1.0))
    assert row["release_hm3"] == pytest.approx(
        discharge_to_volume(q["outflow_m3s"] - q["spill_m3s"], days=1.0))
    assert row["spill_hm3"] > 0 and row["release_hm3"] > 0
    full = day.dropna(subset=["outflow_hm3"])
    assert full["spill_hm3"].notna().all()
    assert (full["release_hm3"] + full["spill_hm3"]).to_numpy() == \
        pytest.approx(full["outflow_hm3"].to_numpy())
    month = reservoir_report(loaded, config, "KZ:SERGEEVKA", "month")
    m = pd.Period(spilling[0], "M")
    sums = month.loc[m]
    in_month = day[(day.index >= m.start_time) & (day.index <= m.end_time)]
    assert sums["spill_hm3"] == pytest.approx(in_month["spill_hm3"].sum()) and sums["spill_hm3"] > 0
    assert sums["release_hm3"] + sums["spill_hm3"] == pytest.approx(sums["outflow_hm3"])
    # the balance itself is unchanged by the split
    assert not month["flagged"].any()


def test_report_cli_prints_aep_with_significant_digits_and_the_spill(tmp_path):
    """Regression (issue 10): `report return-levels` printed AEP 0.0 for the 50- and 100-year
    levels; the CSV keeps full precision.  `report reservoir` shows the spill column."""
    env = dict(os.environ, HYDRORISK_DB_URL=f"sqlite:///{tmp_path / 's.sqlite'}")
    assert _cli(env, "ingest", str(DATA / "grdc/RU_ORSK_Q_Day.Cmd.txt"),
                str(DATA / "reservoirs/RU_IRIKLINSK.csv")).returncode == 0
    r = _cli(env, "report", "return-levels", "RU:ORSK")
    assert r.returncode == 0, r.stderr
    aep = {int(line.split()[0]): line.split()[1] for line in r.stdout.splitlines()
           if line.split() and line.split()[0] in {"2", "5", "10", "20", "50", "100"}}
    assert aep == {2: "0.5", 5: "0.2", 10: "0.1", 20: "0.05", 50: "0.02", 100: "0.01"}
    out = tmp_path / "rl.csv"
    assert _cli(env, "report", "return-levels", "RU:ORSK", "--csv", str(out)).returncode == 0
    csv = pd.read_csv(out, index_col="return_period")
    assert csv["aep"].tolist() == [1 / 2, 1 / 5, 1 / 10, 1 / 20, 1 / 50, 1 / 100]
    assert (csv["return_level"] != csv["return_level"].round(1)).any()   # not rounded
    r = _cli(env, "report", "reservoir", "RU:IRIKLINSK")
    assert r.returncode == 0, r.stderr
    assert "outflow = release + spill" in r.stdout
    assert "release_hm3" in r.stdout and "spill_hm3" in r.stdout


def _quality_store(tmp_path, drop=()):
    """A store with the demonstration water-quality series of KZ:19073, 2023 (without the
    parameters in ``drop``); returns the environment for the CLI."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HYDRORISK_DB_URL=f"sqlite:///{tmp_path / 's.sqlite'}")
    raw = pd.read_csv(DATA / "quality/ural.csv", sep=";", comment="#", dtype=str)
    rows = raw[(raw.site == "KZ:19073") & raw.date.str.startswith("2023")
               & ~raw.parameter.isin(drop)]
    f = tmp_path / "quality_kz19073_2023.csv"
    rows.to_csv(f, sep=";", index=False)
    r = _cli(env, "ingest", str(f))
    assert r.returncode == 0, r.stderr
    return env


def test_quality_report_units_and_languages(tmp_path):
    """Issue 10.7: the "mean (mg/l)" column held pH too, and --lang translated only names
    and class words.  Units now come per parameter from parameters.toml, and every heading,
    column name and note is in the language asked for."""
    from hydro.cli.reports import QUALITY_TEXT

    assert set(QUALITY_TEXT) == {"kk", "ru", "en"}
    assert set(QUALITY_TEXT["ru"]) == set(QUALITY_TEXT["kk"]) == set(QUALITY_TEXT["en"])
    env = _quality_store(tmp_path)
    out = {lang: _cli(env, "report", "quality", "KZ:19073", "--year", "2023", "--lang", lang)
           for lang in ("en", "ru", "kk")}
    for lang, r in out.items():
        assert r.returncode == 0, (lang, r.stderr)
    en, ru, kk = (out[lang].stdout for lang in ("en", "ru", "kk"))
    assert "mean (mg/l)" not in en
    header = next(x for x in en.splitlines() if "parameter" in x and "unit" in x)
    assert header.split()[:3] == ["parameter", "unit", "mean"]
    ph = next(x for x in en.splitlines() if x.strip().startswith("pH "))
    assert "pH units" in ph and "mg/l" not in ph
    assert "mg/l" in next(x for x in en.splitlines() if x.strip().startswith("Magnesium"))
    assert "mgO2/l" in next(x for x in en.splitlines() if x.strip().startswith("BOD5"))
    english = ("Water quality", "KZ unified classification", "limiting", "critical indicators",
               "provisional", "parameter", "unit", "mean", "exceed MPC", "score", "NOTE",
               "samples", "ions of natural origin", "mg/l", "pH units")
    for text in (ru, kk):
        for word in english:
            assert word not in text, word
    for word in ("Качество воды", "Единая классификация РК", "лимитирующие показатели",
                 "критические показатели", "предварительно", "показатель", "ед. изм.",
                 "среднее", "превышение ПДК (% проб)", "ед. pH", "мг/л", "Магний"):
        assert word in ru, word
    for word in ("Су сапасы", "бірыңғай жіктемесі", "шектеуші көрсеткіштер", "алдын ала",
                 "көрсеткіш", "өлш. бірл.", "орташа", "pH бірл.", "мг/л"):
        assert word in kk, word


def test_quality_report_per_ion_background_classes(tmp_path, store, config):
    from hydro.services.reports import quality_report

    env = _quality_store(tmp_path)
    r = _cli(env, "report", "quality", "KZ:19073", "--year", "2023",
             "--background-class", "Mg=3", "--background-class", "SO4=2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    kz16 = next(x for x in lines if "(kz2016)" in x)
    assert kz16.endswith("limiting: Suspended solids")       # magnesium within its background
    assert lines[lines.index(kz16) + 1].strip() == (
        "background class: Sulfate 2, Magnesium 3; within background (not counted): "
        "Sulfate, Magnesium")
    assert "(no background class given): Chloride, Calcium, Mineralization" in r.stdout
    single = _cli(env, "report", "quality", "KZ:19073", "--year", "2023",
                  "--background-class", "3")
    assert single.returncode == 0 and "Sulfate 3, Chloride 3, Magnesium 3" in single.stdout
    for bad, message in ((["3", "Mg=2"], "not both"), (["Cu=3"], "not an ion of natural"),
                         (["Mg=x"], "is not a class")):
        args = [a for b in bad for a in ("--background-class", b)]
        e = _cli(env, "report", "quality", "KZ:19073", "--year", "2023", *args)
        assert e.returncode == 2 and message in e.stderr and "Traceback" not in e.stderr
    # the service takes the same mapping
    ingest_file(store, config, DATA / "quality/ural.csv", quarantine_dir=tmp_path / "q")
    rep = quality_report(store, config, "KZ:19073", 2023, {"magnesium": 3, "sulfate": 2})
    p = rep["kz"]["kz2016"].per_parameter
    assert p["magnesium"].background_class == 3 and p["sulfate"].background_class == 2
    assert p["chloride"].background_class is None
    assert rep["units"]["pH"] == "pH" and rep["units"]["BOD5"] == "mgO2/l"


def test_quality_report_marks_an_incomplete_ukizv(tmp_path):
    """Issue 10.6: without mandatory ingredients the УКИЗВ is marked incomplete with the
    missing list, in every language; with all of them it is not."""
    env = _quality_store(tmp_path / "incomplete", drop=("nitrite", "copper"))
    text = {lang: _cli(env, "report", "quality", "KZ:19073", "--year", "2023", "--lang",
                       lang).stdout for lang in ("en", "ru", "kk")}
    en = next(x for x in text["en"].splitlines() if "УКИЗВ (RD" in x)
    assert "(provisional; incomplete: mandatory ingredients missing)" in en
    assert ("INCOMPLETE: mandatory ingredients not analysed: Nitrite, Copper; the index is "
            "averaged over the 14 ingredients analysed") in text["en"]
    assert "(предварительно; неполный: нет обязательных ингредиентов)" in text["ru"]
    assert "НЕПОЛНЫЙ: не проанализированы обязательные ингредиенты: Нитриты, Медь" in text["ru"]
    assert "(алдын ала; толық емес: міндетті ингредиенттер жоқ)" in text["kk"]
    assert "ТОЛЫҚ ЕМЕС: міндетті ингредиенттер талданбаған: Нитриттер, Мыс" in text["kk"]
    env = _quality_store(tmp_path)
    full = _cli(env, "report", "quality", "KZ:19073", "--year", "2023").stdout
    assert "incomplete" not in full.lower()
