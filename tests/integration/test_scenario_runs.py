"""Kept scenario runs (hydro.services.scenario_runs) on the bundled SYNTHETIC Ural
2024-style season: start and execute a 20-member run, reopen it and its results; cancel
between chunks; compare two runs; "release X from D"; CSV without formula injection; the
PDF summary in Russian with its SYNTHETIC stamp; Iriklinsk's documented 2025 pre-flood
drawdown (201 m³/s, 10–31 March) through the drawdown check; the CLI forms."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hydro.scenarios import DailyReleaseSpec, Plan
from hydro.services import audit
from hydro.services import scenario_runs as R

SCENARIO = "ural-2024-style"
FACTS = Path("/work/shared/reference/hydrology_facts.csv")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, config):
    """A config whose runs go to a temporary folder, and a store."""
    from hydro.store.db import open_store

    tmp = tmp_path_factory.mktemp("lab")
    paths = config.settings.paths.model_copy(update={"runs": str(tmp / "runs")})
    cfg = dataclasses.replace(config, settings=config.settings.model_copy(
        update={"paths": paths}))
    engine = open_store(f"sqlite:///{tmp / 'store.sqlite'}", config.network)
    yield cfg, engine
    engine.dispose()


@pytest.fixture(scope="module")
def done_run(lab):
    cfg, store = lab
    run = R.start_run(cfg, store, SCENARIO, "default", 20, author="forecaster1")
    assert run.status == "queued" and run.chunks_done == 0
    seen = []
    out = R.execute_run(cfg, store, run.run_id, progress=lambda d, n: seen.append((d, n)))
    return out, seen


def test_a_run_is_kept_with_its_inputs_and_reopened(lab, done_run):
    cfg, store = lab
    run, seen = done_run
    assert run.status == "done", run.error
    assert seen[-1][0] == seen[-1][1] == run.chunks_total >= 2     # chunks reported
    assert run.progress == 1.0 and run.finished_at is not None
    path = Path(run.path)
    assert path.parent == Path(cfg.settings.paths.runs) and path.name == f"{run.run_id}.nc"
    # reopened as a colleague would after a reload: the list, the row, the file
    assert run.run_id in [r.run_id for r in R.list_runs(store, SCENARIO)]
    again = R.get_run(store, run.run_id)
    assert again == run
    ds = R.open_run(cfg, again)
    assert ds.sizes["member"] == 20
    assert ds.attrs["seed"] == 20240405 and ds.attrs["members"] == 20
    plan = json.loads(ds.attrs["plan_schedules"])
    assert set(plan["reservoirs"]) == {"RU:IRIKLINSK", "RU:VERKHNEURALSK"}
    assert ds.attrs["model_sha256"] == run.model_hash and len(run.model_hash) == 64
    assert ds.attrs["synthetic"] == "yes"
    summary = R.run_summary(again)
    assert summary["partial"] is False and summary["members"] == 20
    assert summary["gauges"]["KZ:19071"]["p_adverse"] is None      # no adverse level
    assert 0 <= summary["gauges"]["RU:ORSK"]["p_dangerous"] <= 1
    # the act is in the audit log
    ev = [e for e in audit.events(store) if e["target"] == run.run_id]
    assert ev and ev[0]["action"] == "scenario_run" and "done" in ev[0]["detail"]
    assert ev[0]["user_name"] == "forecaster1"
    with pytest.raises(R.RunError, match="not queued"):
        R.execute_run(cfg, store, run.run_id)                       # a run executes once


def test_results_of_a_run(lab, done_run):
    cfg, store = lab
    run, _ = done_run
    res = R.run_results(cfg, store, run.run_id)
    assert res.synthetic and res.banner.startswith("SYNTHETIC")
    assert {"RU:ORSK", "RU:ORENBURG", "KZ:19073", "KZ:19071", "KZ:19072"} <= set(res.gauges)
    assert res.names["KZ:19072"]["en"] == "Ural at Kushum" and res.countries["KZ:19072"] == "KZ"
    fan = res.fan["RU:ORENBURG"]
    assert (fan["stage_q10"] <= fan["stage_q50"] + 1e-9).all()
    assert (fan["stage_q50"] <= fan["stage_q90"] + 1e-9).all()
    assert res.traces["RU:ORENBURG"].shape == (120, 20)
    exc = res.exceedance
    uralsk = exc[(exc.gauge == "KZ:19071") & (exc.level == "adverse")]
    assert len(uralsk) == 1 and np.isnan(uralsk["probability"].iloc[0])   # blank, not 0
    orsk = exc[(exc.gauge == "RU:ORSK") & (exc.level == "dangerous")].iloc[0]
    peaks = R.open_run(cfg, run)["stage"].sel(node="RU:ORSK").max("time").values
    assert orsk["probability"] == pytest.approx(np.mean(peaks >= 700.0))   # ОЯ Orsk 700 cm
    lim = res.reservoir_limits.set_index("reservoir")
    assert lim.loc["RU:IRIKLINSK", "npu_m"] == 245.0 and lim.loc["RU:IRIKLINSK", "fpu_m"] == 246.0
    assert set(res.reservoirs["RU:IRIKLINSK"].columns) >= {"level_q50", "volume_q90",
                                                            "release_q50", "spill_q90"}
    tt = res.travel_times.set_index(["reservoir", "gauge"])
    assert tt.loc[("RU:IRIKLINSK", "RU:ORSK"), "travel_time_d"] < tt.loc[
        ("RU:IRIKLINSK", "KZ:19071"), "travel_time_d"]
    # the reservoirs lower the peaks downstream against the unregulated river
    hp = res.holdout_peaks.set_index("gauge")
    assert hp.loc["RU:ORENBURG", "change_m3s"] < 0
    assert set(res.drawdown["reservoir"]) == {"RU:IRIKLINSK", "RU:VERKHNEURALSK"}


def test_cancel_between_chunks_leaves_no_netcdf(lab):
    cfg, store = lab
    run = R.start_run(cfg, store, SCENARIO, "default", 30, author="forecaster1")
    calls = []

    def cancelled() -> bool:
        return len(calls) >= 1               # after the first chunk

    out = R.execute_run(cfg, store, run.run_id, progress=lambda d, n: calls.append(d),
                        cancelled=cancelled, chunk_members=10)
    assert out.status == "cancelled" and calls == [1]
    assert out.path is None and out.summary is None
    runs = Path(cfg.settings.paths.runs)
    assert not list(runs.glob(f"*{run.run_id}*"))        # neither the file nor a part
    # a queued run cancelled from elsewhere (a colleague, another process) never starts
    queued = R.start_run(cfg, store, SCENARIO, "default", 10, author="forecaster1")
    assert R.request_cancel(store, queued.run_id, "forecaster2").status == "cancelled"
    with pytest.raises(R.RunError, match="cancelled, not queued"):
        R.execute_run(cfg, store, queued.run_id)


def test_compare_two_runs_paired_and_not(lab, done_run):
    cfg, store = lab
    a, _ = done_run
    b = R.execute_run(cfg, store, R.start_run(cfg, store, SCENARIO, "early-prerelease", 20,
                                              author="forecaster1").run_id)
    t = R.compare_runs(cfg, store, a.run_id, b.run_id)
    assert t.paired and t.notes == [] and t.synthetic
    g = t.gauges.set_index("gauge")
    assert {"RU:ORSK", "RU:ORENBURG", "KZ:19073", "KZ:19071", "KZ:19072"} <= set(g.index)
    assert g.loc["KZ:19071", "name_ru"] == "р. Урал – г. Уральск"
    row = g.loc["RU:ORENBURG"]
    assert row["peak_q50_diff"] == pytest.approx(row["peak_q50_b"] - row["peak_q50_a"])
    st = t.storage.set_index("reservoir")
    ds_b = R.open_run(cfg, b)
    assert st.loc["RU:IRIKLINSK", "end_storage_q50_b"] == pytest.approx(
        float(ds_b["volume"].sel(reservoir="RU:IRIKLINSK").isel(time=-1).median()))
    ex = t.exceedance
    assert ex[(ex.gauge == "KZ:19072") & (ex.level == "adverse")]["probability_diff"].isna().all()
    c = R.execute_run(cfg, store, R.start_run(cfg, store, SCENARIO, "default", 20, seed=5,
                                              author="forecaster1").run_id)
    t2 = R.compare_runs(cfg, store, a.run_id, c.run_id)
    assert not t2.paired and "not paired" in t2.notes[0]


def test_quick_release_refuses_negative_and_unitless(lab):
    cfg, store = lab
    day = dt.date(2024, 3, 20)
    for bad, msg in (("-5 m3/s", "must be a finite number >= 0"), ("900", "missing unit"),
                     (-5.0, ">= 0"), ("900 cm", "release:")):
        with pytest.raises(R.RunError, match=msg):
            R.quick_release(cfg, store, SCENARIO, "RU:IRIKLINSK", bad, day, "default", 10,
                            author="forecaster1")
    with pytest.raises(R.RunError, match="outside the season"):
        R.quick_release(cfg, store, SCENARIO, "RU:IRIKLINSK", "900 m3/s", dt.date(2024, 9, 1),
                        "default", 10, author="forecaster1")
    run = R.quick_release(cfg, store, SCENARIO, "RU:IRIKLINSK", "900 m3/s", day, "default", 10,
                          author="forecaster1")
    assert run.kind == "quick_release" and "900 m3/s from 2024-03-20" in run.plan_ref
    spec = json.loads(run.plan_json)["reservoirs"]["RU:IRIKLINSK"]
    assert spec["kind"] == "daily_release" and spec["dates"][-1] == "2024-03-20"
    assert spec["release"][-1] == 900.0
    done = R.execute_run(cfg, store, run.run_id)
    ds = R.open_run(cfg, done)
    rel = ds["release"].sel(reservoir="RU:IRIKLINSK", time="2024-03-25")
    assert float(rel.median()) == pytest.approx(900.0)   # ramp 213 m³/s a day reached it


def test_iriklinsk_2025_pre_flood_drawdown_201_m3s(lab):
    """hydrology_facts.csv: pre_flood_release, Iriklinsk, 201 m3/s, 2025-03-10/31
    (orenburg-news.ru 2025-03-07), against its ordinary minimum release of 15 m3/s
    (release_minimum).  Before the flood (the warm-up starts 27 March) the only
    difference is the release, and evaporation is nil in March, so the reservoir holds
    (201 − 15) m³/s × 17 days (10–26 March) × 0.0864 hm³/(m³/s·d) = 273.2 hm³ less at
    the flood start and has that much more room below НПУ."""
    if FACTS.exists():
        rows = list(csv.reader(FACTS.open(encoding="utf-8")))
        fact = [r for r in rows if r[:2] == ["pre_flood_release", "Iriklinsk reservoir"]]
        assert fact and fact[0][3] == "201" and fact[0][5] == "2025-03-10/31"
    cfg, store = lab
    start = dt.date(2024, 3, 1)

    def plan(dates, release):
        return Plan(description="test", reservoirs={"RU:IRIKLINSK": DailyReleaseSpec(
            kind="daily_release", dates=dates, release_unit="m3/s", release=release)})

    base = R.start_plan_run(cfg, store, SCENARIO, plan([start], [15.0]), "minimum 15 m3/s",
                            10, author="forecaster1")
    practice = R.start_plan_run(
        cfg, store, SCENARIO,
        plan([start, dt.date(2024, 3, 10), dt.date(2024, 4, 1)], [15.0, 201.0, 15.0]),
        "Iriklinsk 2025 practice: 201 m3/s 10-31 March", 10, author="forecaster1")
    res = {}
    for r in (base, practice):
        done = R.execute_run(cfg, store, r.run_id)
        assert done.status == "done", done.error
        dd = R.run_results(cfg, store, r.run_id).drawdown.set_index("reservoir")
        res[r.run_id] = dd.loc["RU:IRIKLINSK"]
    b, p = res[base.run_id], res[practice.run_id]
    assert b["flood_start"] == p["flood_start"] == "2024-03-27"
    expected = (201 - 15) * 17 * 0.0864
    assert b["volume_at_start_hm3"] - p["volume_at_start_hm3"] == pytest.approx(expected, abs=0.5)
    assert p["free_to_npu_hm3"] - b["free_to_npu_hm3"] == pytest.approx(expected, abs=0.5)
    assert p["level_at_start_m"] < b["level_at_start_m"]


def test_csv_has_no_formula_injection(lab):
    cfg, store = lab
    run = R.start_run(cfg, store, SCENARIO, "default", 10, author="=HYPERLINK(\"x\")")
    R.execute_run(cfg, store, run.run_id)
    text = R.run_csv(cfg, store, run.run_id)
    rows = list(csv.DictReader(io.StringIO(text)))
    author = [r for r in rows if r["table"] == "run" and r["variable"] == "author"]
    assert author[0]["note"] == "'=HYPERLINK(\"x\")"
    assert rows[0]["variable"] == "synthetic" and "SYNTHETIC" in rows[0]["note"]
    for r in rows:
        for v in r.values():
            assert not v.startswith(("=", "+", "-", "@", "\t", "\r")), v
    exc = [r for r in rows if r["table"] == "exceedance" and r["site"] == "KZ:19071"
           and r["level"] == "adverse"]
    assert exc[0]["probability"] == "" and exc[0]["note"] == "no adverse level"
    q = [r for r in rows if r["table"] == "quantiles" and r["site"] == "RU:ORSK"
         and r["variable"] == "stage"]
    assert len(q) == 120 and float(q[0]["q10"]) <= float(q[0]["q90"])


def test_pdf_summary_in_russian_with_the_synthetic_stamp(lab, done_run):
    from pypdf import PdfReader

    cfg, store = lab
    run, _ = done_run
    pdf = R.run_summary_pdf(cfg, store, run.run_id, "ru")
    assert pdf[:5] == b"%PDF-"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "СИНТЕТИЧЕСКИЕ" in text                       # the stamp on every page
    assert "Проверка предпаводковой сработки" in text
    assert "р. Урал – г. Уральск" in text
    assert R.run_summary_pdf(cfg, store, run.run_id, "kk")[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="language"):
        R.run_summary_pdf(cfg, store, run.run_id, "de")
    assert R.run_netcdf(cfg, run) == Path(run.path)
    assert xr.open_dataset(R.run_netcdf(cfg, run)).attrs["run_id"] == run.run_id


def test_search_plain_states_its_objective_and_weights(lab):
    cfg, store = lab
    s = R.search_plain(cfg, store, SCENARIO, members=2, maxiter=1)
    assert "per metre of peak stage above the dangerous level" in s.objective
    assert "2700 hm³" in s.objective and "90 %" in s.objective
    w = s.weights.set_index("gauge")
    assert set(w.loc[w.country == "KZ"].index) == {"KZ:19073", "KZ:19071", "KZ:19072"}
    assert (w["weight"] == 1.0).all()
    assert s.best_value <= s.documented_value
    assert Plan.model_validate(json.loads(s.best_plan_json)) == s.best_plan


def test_cli_kept_runs(config_copy, tmp_path, capsys, monkeypatch):
    from hydro.cli import main

    monkeypatch.setenv("HYDRORISK_DB_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    base = ["--config", str(config_copy), "scenario"]
    assert main([*base, "run", SCENARIO, "--keep", "--members", "10"]) == 0
    out = capsys.readouterr().out
    run_id = out.strip().splitlines()[-1].split()[3]
    assert "Ural at Uralsk (Oral)" in out and "KZ:19071" in out
    assert main([*base, "runs", SCENARIO]) == 0
    assert run_id in capsys.readouterr().out
    assert main([*base, "show", run_id]) == 0
    assert "pre-flood drawdown check" in capsys.readouterr().out
    assert main([*base, "compare-runs", run_id, run_id]) == 0
    assert "paired" in capsys.readouterr().out
    pdf, csv_ = tmp_path / "r.pdf", tmp_path / "r.csv"
    assert main([*base, "download", run_id, "--csv", str(csv_), "--pdf", str(pdf),
                 "--lang", "ru"]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-" and csv_.read_text().startswith("table,")
    assert (config_copy.parent / "data" / "runs" / f"{run_id}.nc").exists()


def test_a_saved_plan_runs_by_its_ref(lab):
    from hydro.release_plans import ReservoirSchedule, ScheduleRow
    from hydro.services import release_plans as P

    cfg, store = lab
    saved = P.save_plan(store, cfg, SCENARIO, "lab-test", {"RU:IRIKLINSK": ReservoirSchedule(
        "RU:IRIKLINSK", (ScheduleRow(dt.date(2024, 3, 1), release_m3s=15.0),
                         ScheduleRow(dt.date(2024, 3, 10), release_m3s=201.0)))},
        author="forecaster1")
    run = R.start_run(cfg, store, SCENARIO, saved.ref, 10, author="forecaster1")
    assert run.plan_ref == f"{SCENARIO}/lab-test@1"
    plan = json.loads(run.plan_json)["reservoirs"]
    assert plan["RU:IRIKLINSK"]["kind"] == "daily_release"
    assert plan["RU:VERKHNEURALSK"]["kind"] == "flood_control"     # the default's
    done = R.execute_run(cfg, store, run.run_id)
    rel = R.open_run(cfg, done)["release"].sel(reservoir="RU:IRIKLINSK", time="2024-03-15")
    assert float(rel.median()) == pytest.approx(201.0)
    with pytest.raises(ValueError, match="unknown plan"):
        R.start_run(cfg, store, SCENARIO, "no-such-plan", 10, author="forecaster1")
