"""Scenarios: validated definitions, calibrated snowmelt model, seeded ensembles, schedule
evaluation and search, and the forecasters' one-step questions, on the bundled (synthetic)
Ural network."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydro import scenarios as S
from hydro import schedules as SC
from hydro.errors import ConfigError
from hydro.network_sim import PassInflow, mass_balance, select_nodes, simulate
from hydro.services import scenarios as C

ROOT = Path(__file__).resolve().parents[2]
URAL = ROOT / "config" / "scenarios" / "ural-2024-style.toml"


@pytest.fixture(scope="module")
def ctx(config):
    return C.context(config, "ural-2024-style")


@pytest.fixture(scope="module")
def control(ctx):
    """Headwater inflows of the control member (member 0) of the 2024-style season."""
    sc = ctx.scenario
    pert = S.perturbations(sc.ensemble, sc.scenario.days, 1)
    return pert, S.headwater_inflows(sc, ctx.climatology, pert)


def _run(ctx, pert, lateral, plan):
    sc = ctx.scenario
    return S.run_members(ctx.config.network, sc, ctx.climatology, pert,
                         S.plan_schedules(sc, plan, ctx.config.network), lateral=lateral)


def _orsk_peak(ctx, ds):
    ev = SC.evaluate(ds, ctx.levels, gauges=["RU:ORSK"])
    return ev["peak_stage"].sel(gauge="RU:ORSK").values


# --------------------------------------------------------------------------- config

def test_bundled_scenarios_and_model_validate(config):
    paths = C.scenario_paths(config)
    assert URAL in paths
    for p in paths:
        sc = C.load_scenario(config, p)
        assert sc.id == p.stem
        assert "default" in sc.schedules
    model = C.load_model(config)
    assert model.calibration.synthetic
    assert set(model.parameters) == set(config.network.basins)


def _raw():
    with open(URAL, "rb") as fh:
        return tomllib.load(fh)


@pytest.mark.parametrize("edit,key,message", [
    (lambda r: r["season"].update(swe_percentil=90), "season.swe_percentil", "unknown key"),
    (lambda r: r["season"]["warm_up"].update(anomaly=9), "season.warm_up.anomaly",
     "missing unit"),
    (lambda r: r["season"].update(swe_percentile=100), "season.swe_percentile", "less than 100"),
    (lambda r: r["reservoirs"].update({"RU:NOWHERE": {"initial_level": "240 m"}}),
     'reservoirs."RU:NOWHERE"', "unknown node 'RU:NOWHERE'"),
    (lambda r: r["scenario"].update(basins=["volga"]), "scenario.basins", "unknown basin 'volga'"),
    (lambda r: r["schedules"]["early-prerelease"]["reservoirs"]["RU:IRIKLINSK"].update(
        kind="prerelase"), 'schedules.early-prerelease.reservoirs."RU:IRIKLINSK"', "prerelase"),
    (lambda r: r["schedules"]["early-prerelease"]["reservoirs"]["RU:IRIKLINSK"].update(
        refill_start="2024-09-01"),
     'schedules.early-prerelease.reservoirs."RU:IRIKLINSK"', "outside the season"),
    (lambda r: r["schedules"]["early-prerelease"]["reservoirs"]["RU:IRIKLINSK"].update(
        flood_start="2024-03-05"), 'schedules.early-prerelease.reservoirs."RU:IRIKLINSK"',
     "prerelease_start <= flood_start"),
    (lambda r: r["schedules"].pop("default"), "schedules", "'default' plan is required"),
    (lambda r: r["search"].update(template="default"), "search.template", "kind 'prerelease'"),
    (lambda r: r["search"]["vary"].update(flood_release=["900 m3/s", "300 m3/s"]),
     "search.vary.flood_release", "not below"),
    (lambda r: r["evaluation"].update(gauges=["BORDER:ural-ru-kz"]), "evaluation.gauges",
     "is a border, not a gauge"),
])
def test_scenario_errors_name_file_and_key(config, edit, key, message):
    raw = _raw()
    edit(raw)
    with pytest.raises(ConfigError) as err:
        S.parse_scenario(raw, "config/scenarios/ural-2024-style.toml", config.network)
    text = str(err.value)
    assert text.startswith("config/scenarios/ural-2024-style.toml: ")
    assert f": {key}" in text and message in text, text


def test_model_file_rejects_unknown_prior():
    raw = tomllib.loads((ROOT / "config/scenarios/_model.toml").read_text(encoding="utf-8"))
    raw["priors"] = {"ddf": 3.0}
    with pytest.raises(ConfigError, match="_model.toml: priors: unknown or calibrated"):
        S.parse_model(raw, "config/scenarios/_model.toml")


def test_unknown_scenario_lists_the_known_ones(config):
    with pytest.raises(ConfigError, match="no such scenario.*ural-2024-style"):
        C.load_scenario(config, "volga-2025")


# --------------------------------------------------------------------------- ensembles

def test_perturbations_are_seeded_and_member_0_is_the_control(ctx):
    ens = ctx.scenario.ensemble
    a = S.perturbations(ens, 120, 2000)
    b = S.perturbations(ens, 120, 2000)
    np.testing.assert_array_equal(a.swe_factor, b.swe_factor)
    np.testing.assert_array_equal(a.temp_anomaly_c, b.temp_anomaly_c)
    assert a.swe_factor[0] == 1 and a.onset_shift_days[0] == 0 and a.rain_factor[0] == 1
    assert not a.temp_anomaly_c[0].any()
    # lognormal with mean 1 and the configured CV; gamma with mean 1
    assert a.swe_factor[1:].mean() == pytest.approx(1.0, abs=0.02)
    assert a.swe_factor[1:].std() == pytest.approx(ens.swe_cv, rel=0.1)
    assert a.rain_factor[1:].mean() == pytest.approx(1.0, abs=0.05)
    assert np.abs(a.onset_shift_days).max() > 0
    assert a.temp_anomaly_c[1:].std() == pytest.approx(ens.temperature_sd.to("temperature"),
                                                       rel=0.1)
    sub = a.subset(slice(10, 20))
    np.testing.assert_array_equal(sub.swe_factor, a.swe_factor[10:20])


@pytest.mark.parametrize("m", [1, 12, 255, 256, 257, 700])
def test_a_smaller_ensemble_repeats_the_first_members_of_a_larger_one(ctx, m):
    """Member i does not depend on how many members are drawn (the searched schedule is
    checked on the members it was searched on)."""
    ens = ctx.scenario.ensemble
    big, small = S.perturbations(ens, 90, 1000), S.perturbations(ens, 90, m)
    for f in ("swe_factor", "onset_shift_days", "rain_factor", "temp_anomaly_c", "weather_draw"):
        np.testing.assert_array_equal(getattr(small, f), getattr(big, f)[:m], err_msg=f)


def test_percentiles_are_monotone_and_invertible(ctx):
    clim = ctx.climatology
    for var in ("swe", "frost_dd", "wetness"):
        lo, hi = clim.percentile(var, 20), clim.percentile(var, 95)
        assert (hi > lo).all()
        np.testing.assert_allclose(clim.percentile_of(var, hi), 95.0, rtol=1e-9)
    first, last = ctx.model.calibration.calibration_years  # the climatology of the calibration
    assert clim.years == tuple(range(first, last + 1))


def test_deep_frost_wet_autumn_and_snow_raise_the_flood(ctx):
    sc = ctx.scenario
    pert = S.perturbations(sc.ensemble, sc.scenario.days, 1)
    season = sc.season

    def volume(**changes):
        s = sc.model_copy(update={"season": season.model_copy(update=changes)})
        lat = S.headwater_inflows(s, ctx.climatology, pert)
        return sum(v.sum() for v in lat.values())

    base = volume(swe_percentile=50.0, frost_percentile=50.0, wetness_percentile=50.0)
    assert volume(swe_percentile=95.0, frost_percentile=50.0, wetness_percentile=50.0) > base
    assert volume(swe_percentile=50.0, frost_percentile=97.0, wetness_percentile=50.0) > base
    assert volume(swe_percentile=50.0, frost_percentile=50.0, wetness_percentile=97.0) > base


def test_headwater_inflows_are_positive_and_finite(control):
    _, lateral = control
    for q in lateral.values():
        assert q.shape == (1, 120)
        assert np.isfinite(q).all() and (q >= 0).all()


# --------------------------------------------------------------------------- the checks

def test_2024_style_default_schedule_puts_orsk_over_dangerous(ctx, control):
    pert, lateral = control
    ds = _run(ctx, pert, lateral, "default")
    assert ctx.levels["RU:ORSK"].dangerous == 700.0
    assert _orsk_peak(ctx, ds)[0] > 700.0
    ev = SC.evaluate(ds, ctx.levels, gauges=["RU:ORSK"])
    assert not pd.isna(ev["first_dangerous"].sel(gauge="RU:ORSK").values[0])
    assert ds.attrs["synthetic"] == "yes"
    assert float(abs(mass_balance(ds)["relative_residual"]).max()) < 1e-9


def test_earlier_prerelease_lowers_the_orsk_peak(ctx, control):
    pert, lateral = control
    default = _orsk_peak(ctx, _run(ctx, pert, lateral, "default"))
    early = _orsk_peak(ctx, _run(ctx, pert, lateral, "early-prerelease"))
    assert early[0] < default[0] - 50.0   # by more than half a metre


def test_search_finds_a_schedule_at_least_as_good(ctx, config):
    sc = ctx.scenario
    out = S.search_schedule(config.network, sc, ctx.climatology, ctx.levels)
    r = out.result
    assert r.value <= r.start_values[0]
    assert r.feasible
    # simulate the documented and the found schedule on the search's members
    pert = S.perturbations(sc.ensemble, sc.scenario.days, out.members)
    lateral = S.headwater_inflows(sc, ctx.climatology, pert)
    net = config.network
    found = dict(S.plan_schedules(sc, sc.search.template, net))
    found[sc.search.reservoir] = S.build_schedule(out.best, sc.dates)
    ds_found = S.run_members(net, sc, ctx.climatology, pert, found, lateral=lateral)
    ds_doc = _run(ctx, pert, lateral, sc.search.template)
    ds_default = _run(ctx, pert, lateral, "default")
    assert _orsk_peak(ctx, ds_found).mean() <= _orsk_peak(ctx, ds_doc).mean()
    assert _orsk_peak(ctx, ds_doc).mean() < _orsk_peak(ctx, ds_default).mean()
    target = sc.search.end_storage_target.to("volume")
    end = ds_found["volume"].sel(reservoir=sc.search.reservoir).values[:, -1]
    assert np.quantile(end, 1 - sc.search.storage_probability) >= target - 1e-6


# --------------------------------------------------------------------------- evaluation

def test_evaluate_counts_by_hand(config):
    net = config.network
    t = 30
    wave = np.r_[np.full(5, 100.0), np.linspace(100, 6000, 10), np.linspace(6000, 100, 15)]
    lateral = {"KZ:19132": wave}
    ds = simulate(net, lateral, start="2024-03-25",
                  schedules={"RU:IRIKLINSK": PassInflow(), "RU:VERKHNEURALSK": PassInflow()})
    levels = SC.gauge_levels(config.thresholds, ["RU:ORSK", "KZ:19071"],
                             pd.Timestamp("2024-04-01").date())
    assert levels["RU:ORSK"] == SC.GaugeLevels(360.0, 700.0, False)
    assert np.isnan(levels["KZ:19071"].adverse) and levels["KZ:19071"].dangerous == 850.0
    ev = SC.evaluate(ds, levels, gauges=["RU:ORSK", "KZ:19071"],
                     spawning=("KZ:19071", "04-01", "04-10"))
    h = ds["stage"].sel(node="RU:ORSK").values[0]
    times = ds["time"].values
    assert ev["peak_stage"].sel(gauge="RU:ORSK").item() == pytest.approx(h.max())
    assert ev["days_over_dangerous"].sel(gauge="RU:ORSK").item() == (h >= 700).sum()
    assert ev["days_over_adverse"].sel(gauge="RU:ORSK").item() == (h >= 360).sum()
    assert ev["first_dangerous"].sel(gauge="RU:ORSK").values[0] == times[np.argmax(h >= 700)]
    assert pd.isna(ev["first_adverse"].sel(gauge="KZ:19071").values[0])  # no KZ adverse level
    q = ds["outflow"].sel(node="KZ:19071").values[0]
    window = (pd.DatetimeIndex(times) >= "2024-04-01") & (pd.DatetimeIndex(times) <= "2024-04-10")
    assert ev["spawning_volume"].item() == pytest.approx(q[window].sum() * 0.0864)
    border = ds["outflow"].sel(node="BORDER:ural-ru-kz").values[0]
    assert ev["border_volume"].sel(border="BORDER:ural-ru-kz").item() == pytest.approx(
        border.sum() * 0.0864)
    assert t == ds.sizes["time"]


def test_compare_side_by_side(ctx, control):
    pert, lateral = control
    evs = [SC.evaluate(_run(ctx, pert, lateral, p), ctx.levels, gauges=["RU:ORSK", "KZ:19073"],
                       spawning=("KZ:19071", "04-15", "05-31"))
           for p in ("default", "early-prerelease")]
    table = SC.compare(*evs, names=("default", "early-prerelease"))
    row = table[(table.quantity == "peak_stage") & (table.site == "RU:ORSK")].iloc[0]
    assert row["early-prerelease − default"] == pytest.approx(
        row["early-prerelease"] - row["default"])
    assert row["early-prerelease − default"] < 0
    assert {"spill_volume", "end_storage", "border_volume",
            "spawning_volume"} <= set(table.quantity)
    # Yanvartsevo has a KZ dangerous level but no adverse one
    summ = SC.summary(evs[0]).set_index(["quantity", "site"])
    assert np.isnan(summ.loc[("peak_stage", "KZ:19073"), "p_adverse"])
    assert 0.0 <= summ.loc[("peak_stage", "KZ:19073"), "p_dangerous"] <= 1.0


# --------------------------------------------------------------------------- questions

def test_release_question_travel_time_and_levels(ctx, control, config):
    from hydro import reservoirs as R

    pert, lateral = control
    sc = ctx.scenario
    net = config.network
    base = _run(ctx, pert, lateral, "default")
    day = 19  # 2024-03-20
    rel = SC.release_from(base["release"].sel(reservoir="RU:IRIKLINSK").values, 1200.0, day)
    before = base["release"].sel(reservoir="RU:IRIKLINSK").values[:, :day]
    np.testing.assert_array_equal(rel[:, :day], before)
    assert (rel[:, day:] == 1200.0).all()
    sched = {**S.plan_schedules(sc, "default", net), "RU:IRIKLINSK": R.DailyRelease(rel)}
    new = S.run_members(net, sc, ctx.climatology, pert, sched, lateral=lateral)
    table = SC.release_response(base, new, net, ctx.levels, "RU:IRIKLINSK",
                                ["RU:ORSK", "RU:ORENBURG", "KZ:19071"], "2024-03-20",
                                config.thresholds).set_index("gauge")
    assert table.loc["RU:ORSK", "travel_time_d"] == pytest.approx(1.0)
    # Orsk -> Orenburg: the reach's Muskingum K (config/basins.toml; set to 7 d for the 2024
    # crest travel times, it was 2.5 d)
    reach = next(r for r in net.reaches if r.id == "orsk--orenburg")
    assert table.loc["RU:ORENBURG", "travel_time_d"] == pytest.approx(
        1.0 + reach.routing.k.to("duration"))
    arrivals = pd.to_datetime(table["arrival"])
    assert arrivals.is_monotonic_increasing and arrivals.iloc[0] >= pd.Timestamp("2024-03-20")
    assert table.loc["RU:ORSK", "peak_change_cm"] < 0     # releasing early lowers the crest
    assert table.loc["RU:ORSK", "category_at_peak"] in ("dangerous", "adverse", "normal")
    assert table.loc["RU:ORSK", "dangerous_cm"] == 700.0


def test_reservoir_effects_and_holdout(ctx, control, config):
    pert, lateral = control
    sc = ctx.scenario
    net = config.network
    sched = S.plan_schedules(sc, "default", net)
    reg = _run(ctx, pert, lateral, "default")
    unreg = _run(ctx, pert, lateral, "unregulated")
    without = {r: S.run_members(net, sc, ctx.climatology, pert, {**sched, r: PassInflow()},
                                lateral=lateral) for r in sched}
    peaks, effects = SC.reservoir_effects(reg, unreg, without, net, ["RU:ORSK", "KZ:19071"])
    orsk = peaks.set_index("gauge").loc["RU:ORSK"]
    assert orsk["peak_unregulated_m3s"] > orsk["peak_regulated_m3s"]
    e = effects.set_index(["reservoir", "gauge"])
    assert bool(e.loc[("RU:IRIKLINSK", "KZ:19071"), "across_border"])
    assert not bool(e.loc[("RU:IRIKLINSK", "RU:ORSK"), "across_border"])
    assert e.loc[("RU:IRIKLINSK", "KZ:19071"), "change_m3s"] < 0
    inflow = reg["reservoir_inflow"].sel(reservoir="RU:IRIKLINSK").values[0]
    outflow = reg["outflow"].sel(node="RU:IRIKLINSK").values[0]
    assert e.loc[("RU:IRIKLINSK", "RU:ORSK"), "holdout_season_hm3"] == pytest.approx(
        ((inflow - outflow) * 0.0864).sum())


def test_drawdown_check(ctx, config):
    sc = ctx.scenario
    net = config.network
    pert = S.perturbations(sc.ensemble, sc.scenario.days, 10)
    ds = S.run_members(net, sc, ctx.climatology, pert, S.plan_schedules(sc, "default", net))
    r = SC.drawdown_check(ds, net, "RU:IRIKLINSK", "2024-03-27", 0.9)
    assert not r["ok"] and r["p_absorbed"] < 0.9        # 2024-style: the rule is not enough
    assert r["required_level_m"] < r["level_at_start_m"]
    assert r["extra_space_hm3"] > 0
    # a small flood is absorbed
    calm = sc.model_copy(update={"season": sc.season.model_copy(update={
        "swe_percentile": 10.0, "frost_percentile": 10.0, "wetness_percentile": 10.0,
        "warm_up": None, "rain_on_snow": None})})
    ds2 = S.run_members(net, calm, ctx.climatology, pert, S.plan_schedules(calm, "default", net))
    r2 = SC.drawdown_check(ds2, net, "RU:IRIKLINSK", "2024-03-27", 0.9)
    assert r2["ok"] and r2["extra_space_hm3"] == 0.0


# --------------------------------------------------------------------------- calibration

def test_calibration_recovers_a_synthetic_twin(config):
    """Local inflows made by the model itself are fitted back with near-perfect skill."""
    net = config.network
    days = pd.date_range("2015-01-01", "2018-12-31", freq="D")
    doy = days.day_of_year.to_numpy()
    rng = np.random.default_rng(0)
    temp = {b: 4.0 - 17.0 * np.cos(2 * np.pi * (doy - 20) / 365.25) + rng.normal(0, 3, days.size)
            for b in net.basins}
    precip = {b: rng.gamma(0.8, 1.6, days.size) * (rng.random(days.size) < 0.35)
              for b in net.basins}
    forcing = S.HistoricalForcing(days.to_numpy().astype("datetime64[D]"), temp, precip, True,
                                  "synthetic twin")
    truth = {"ddf": 3.5, "c0": 0.2, "frost_slope": 0.3, "wetness_slope": 0.25,
             "k_quick_base": 5.0, "area_factor": 0.6, "temp_offset": 0.0}
    nodes = S.area_nodes(net, ["tobol"])
    t, p = S.node_forcing(net, nodes, forcing, -0.6)
    areas = np.array([net.node(n).local_catchment.to("area") for n in nodes])
    wet = S.autumn_wetness(forcing.dates, p, range(2016, 2019))
    rf, rt = S.snowmelt.season_flags(forcing.dates)
    params = S.snowmelt.SnowParameters().with_values(
        ddf=truth["ddf"], c0=truth["c0"], frost_slope=truth["frost_slope"],
        wetness_slope=truth["wetness_slope"], k_quick=truth["k_quick_base"] + np.sqrt(areas) / 30)
    res = S.snowmelt.simulate(t, p, params, S.snowmelt.SnowState(), wetness=wet,
                              reset_frost=rf, reset_thaw=rt)
    q = res.runoff_mm * 1000.0 * areas[:, None] * truth["area_factor"] / 86400.0
    observed = [n for n in nodes if n in net.gauges or n in net.reservoirs]
    from hydro.network_sim import local_contributions

    obs = {k: v[0] for k, v in local_contributions(
        net, {n: q[i] for i, n in enumerate(nodes)}, observed).items()}
    r = S.calibrate(net, "tobol", forcing, obs, calibration_years=(2016, 2017),
                    validation_years=(2018, 2018), lapse_c_per_degree=-0.6,
                    k_quick_area_scale=30.0, fixed={"temp_offset": 0.0, "area_factor": 0.6},
                    popsize=8, maxiter=12)
    assert r.skill.loc["all", "nse_calibration"] > 0.9
    assert r.skill.loc["all", "nse_validation"] > 0.85


# --------------------------------------------------------------------------- output and CLI

def test_netcdf_round_trip(ctx, control, tmp_path):
    pert, lateral = control
    ds = _run(ctx, pert, lateral, "default")
    path = C.to_netcdf(ds, tmp_path / "run.nc")
    with xr.open_dataset(path) as back:
        assert back["stage"].attrs["units"] == "cm"
        assert back["outflow"].attrs["units"] == "m3 s-1"
        assert back.attrs["synthetic"] == "yes"
        np.testing.assert_allclose(back["outflow"].values, ds["outflow"].values)
        assert list(back["node"].values) == list(ds["node"].values)


def _cli(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--config", default=str(ROOT / "config"))
    sub = p.add_subparsers(dest="command", required=True)
    from hydro.cli.scenario import add_commands

    add_commands(sub)
    args = p.parse_args(argv)
    return args.func(args)


def test_cli_run_writes_netcdf_and_labels_synthetic(tmp_path, capsys):
    out = tmp_path / "ural.nc"
    assert _cli(["scenario", "run", "ural-2024-style", "--members", "3", "--chunk", "2",
                 "--out", str(out)]) == 0
    text = capsys.readouterr()
    assert "SYNTHETIC" in text.out and "RU:ORSK" in text.out
    assert "chunk 2/2" in text.err
    with xr.open_dataset(out) as ds:
        assert ds.sizes["member"] == 3


def test_cli_release_question(capsys):
    assert _cli(["scenario", "release", "ural-2024-style", "--reservoir", "RU:IRIKLINSK",
                 "--release", "900 m3/s", "--from", "2024-03-20"]) == 0
    out = capsys.readouterr().out
    for name in ("Ural at Orsk", "Ural at Orenburg", "Ural at Uralsk"):
        assert name in out


@pytest.mark.parametrize("name", ["ural-2024-style", "tobol-2024-style"])
def test_every_bundled_scenario_runs_and_conserves_mass(config, name):
    c = C.context(config, name)
    sc = c.scenario
    pert = S.perturbations(sc.ensemble, sc.scenario.days, 3)
    for plan in sc.schedules:
        ds = S.run_members(config.network, sc, c.climatology, pert,
                           S.plan_schedules(sc, plan, config.network))
        assert float(abs(mass_balance(ds)["relative_residual"]).max()) < 1e-9, plan
        assert np.isfinite(ds["stage"].sel(node=sc.evaluation.gauges).values).all()


def test_basin_selection(config):
    assert all(config.network.basin_of(n) == "ural" for n in select_nodes(config.network, ["ural"]))


def test_cli_user_errors_are_one_line_errors():
    with pytest.raises(C.ScenarioError, match="unknown plan 'nope'.*plans: default"):
        _cli(["scenario", "run", "ural-2024-style", "--plan", "nope", "--members", "1"])
    with pytest.raises(C.ScenarioError, match="outside the season"):
        _cli(["scenario", "release", "ural-2024-style", "--reservoir", "RU:IRIKLINSK",
              "--release", "900 m3/s", "--from", "2024-12-01"])
    with pytest.raises(C.ScenarioError, match="not a reservoir of scenario"):
        _cli(["scenario", "drawdown", "ural-2024-style", "--reservoir", "KZ:SERGEEVKA"])


# --------------------------------------------------------------------------- issue #10 item 3

def test_members_draw_whole_historical_seasons(ctx):
    sc, clim = ctx.scenario, ctx.climatology
    assert sc.ensemble.weather == "sampled_years"
    assert clim.weather_years == clim.years            # every calibration season is whole
    a = S.perturbations(sc.ensemble, sc.scenario.days, 8)
    b = S.perturbations(sc.ensemble, sc.scenario.days, 8)
    np.testing.assert_array_equal(a.weather_draw, b.weather_draw)   # the seed reproduces them
    other = S.perturbations(sc.ensemble, sc.scenario.days, 8, seed=sc.ensemble.seed + 1)
    assert not np.array_equal(a.weather_years(clim), other.weather_years(clim))
    years = a.weather_years(clim)
    assert years[0] == -1 and (years[1:] >= 0).all()   # member 0, the control: the normals
    temp, precip, _, _ = S.season_inputs(sc, clim, a)                 # (T, M, N)
    node = 0
    basin = clim.basins[node]
    # members differ from day to day, and from the normals
    assert np.std(np.diff(precip[:, 1:, node], axis=0)) > 0.5
    assert not np.allclose(precip[:, 1, node], precip[:, 2, node]) or years[1] == years[2]
    assert np.std(precip[:, 1:, node], axis=1).mean() > 0.3
    # a member's precipitation is its historical season's (+ the scenario's rain on snow)
    m = 3
    y = clim.weather_years[years[m]]
    start = pd.Timestamp(f"{y}-{sc.scenario.start:%m-%d}")
    hist = clim.weather_precip_mm[basin][years[m], :sc.scenario.days]
    np.testing.assert_allclose(hist[:20], precip[:20, m, node])     # before the rain-on-snow
    assert start.year == y
    # ...and its temperature the normals plus that season's anomaly (+ the scenario's)
    clim_only = sc.model_copy(update={"ensemble": sc.ensemble.model_copy(
        update={"weather": "climatology"})})
    c = S.perturbations(clim_only.ensemble, sc.scenario.days, 8)
    assert not np.isfinite(c.weather_draw).any()
    np.testing.assert_array_equal(c.swe_factor, a.swe_factor)       # other draws unchanged
    np.testing.assert_array_equal(c.temp_anomaly_c, a.temp_anomaly_c)
    t_c, p_c, _, _ = S.season_inputs(clim_only, clim, c)
    # (the AR(1) noise is the normals' members' only: a historical season has its own)
    assert np.abs(c.temp_anomaly_c[m]).max() > 0.5
    np.testing.assert_allclose(temp[:, m, node] - (t_c[:, m, node] - c.temp_anomaly_c[m]),
                               clim.weather_temp_anom_c[basin][years[m], :sc.scenario.days])
    # the old behaviour: every member the normal precipitation every day (but rain on snow)
    np.testing.assert_allclose(p_c[:20, 1, node], p_c[:20, 5, node])
    np.testing.assert_array_equal(temp[:, 0], t_c[:, 0])                # the control


# --------------------------------------------------------------------------- issue #10 item 4

def test_start_state_has_its_probability(ctx):
    sc, clim = ctx.scenario, ctx.climatology
    p = S.start_probability(sc, clim)
    assert list(p.table.index) == ["swe", "frost_dd", "wetness"]
    np.testing.assert_allclose(p.table["p_exceed"], [0.05, 0.03, 0.03])
    assert p.joint_independent == pytest.approx(0.05 * 0.03 * 0.03)
    assert p.years == len(clim.years)
    assert (p.table["years_at_or_above"] <= 2).all() and p.joint_years <= 1
    text = p.text()
    assert "4.5e-05 if independent" in text and "one season in about 22,000" in text
    # a median start: about half the calibration years at least as high
    median = sc.model_copy(update={"season": sc.season.model_copy(update={
        "swe_percentile": 50.0, "frost_percentile": 50.0, "wetness_percentile": 50.0})})
    pm = S.start_probability(median, clim)
    assert pm.joint_independent == pytest.approx(0.125)
    for k in pm.table["years_at_or_above"]:
        assert 3 <= k <= p.years - 3
    # the description of the bundled scenario states the same joint probability
    assert f"{sc.season.joint_exceedance():.2g}" in sc.scenario.description


# --------------------------------------------------------------------------- issue #10 item 5

def test_ice_backwater_on_scenario_stages(ctx, config):
    sc, clim = ctx.scenario, ctx.climatology
    net = config.network
    pert = S.perturbations(sc.ensemble, sc.scenario.days, 3)
    lateral = S.headwater_inflows(sc, clim, pert)
    sched = S.plan_schedules(sc, "default", net)
    iced = S.run_members(net, sc, clim, pert, sched, lateral=lateral)
    open_water = sc.model_copy(update={"ice": sc.ice.model_copy(update={"enabled": False})})
    free = S.run_members(net, open_water, clim, pert, sched, lateral=lateral)
    assert "ice_phase" not in free
    phase = iced["ice_phase"].sel(node="RU:ORSK").values
    rise = (iced["stage"] - free["stage"]).sel(node="RU:ORSK").values
    # on 1 March the Ural is under ice (as in most calibration years), later it is open
    assert clim.ice_at_start["RU:ORSK"] >= 0.5
    assert (phase[:, 0] == 1).all() and (phase[:, -1] == 0).all()
    np.testing.assert_allclose(rise[phase == 1], 18.0)
    np.testing.assert_allclose(rise[phase == 3], 18.0 + 45.0)
    np.testing.assert_allclose(rise[(phase == 0) | (phase == 2)], 0.0)
    # break-up: two days behind a jam at Orsk, then the drift; no jam where none configured
    for m in range(3):
        p = phase[m]
        first = np.flatnonzero(p != 1)[0]
        assert list(p[first:first + 6]) == [3, 3, 2, 2, 2, 2]
        assert iced["ice_affected"].sel(node="RU:ORSK").values[m, first + 5]
    assert not (iced["ice_phase"].sel(node="KZ:19071").values == 3).any()
    assert (iced["ice_phase"].sel(node="KZ:19071").values == 1).any()
    # the control member breaks up with the warm-up (27 March, +9 °C ramped over 4 days)
    brk = pd.Timestamp(iced["time"].values[np.flatnonzero(phase[0] != 1)[0]])
    assert pd.Timestamp("2024-03-20") <= brk <= pd.Timestamp("2024-04-05")
    # the run is still mass-conservative (ice changes stage, not flow)
    assert float(abs(mass_balance(iced)["relative_residual"]).max()) < 1e-9
    np.testing.assert_array_equal(iced["outflow"].values, free["outflow"].values)
    ev = SC.evaluate(iced, ctx.levels, gauges=["RU:ORSK", "KZ:19071"])
    assert ev["peak_ice_affected"].dtype == bool


# --------------------------------------------------------------------------- issue #10 item 7

def test_search_weighs_kazakh_gauges_as_configured(ctx, config):
    sc = ctx.scenario
    assert sc.search.gauges == ["RU:ORSK", "RU:ORENBURG", "KZ:19073", "KZ:19071", "KZ:19072"]
    assert sc.search.gauge_weights()["KZ:19071"] == 1.0
    pert = S.perturbations(sc.ensemble, sc.scenario.days, 2)
    ds = _run(ctx, pert, S.headwater_inflows(sc, ctx.climatology, pert), "early-prerelease")
    ev = SC.evaluate(ds, ctx.levels, gauges=sc.search.gauges)
    # no Kazakh gauge has an adverse level: no days over it (NaN, not 0)
    for g in ("KZ:19073", "KZ:19071", "KZ:19072"):
        assert np.isnan(ev["days_over_adverse"].sel(gauge=g).values).all()
        assert np.isfinite(ev["days_over_dangerous"].sel(gauge=g).values).all()
    assert np.isfinite(ev["days_over_adverse"].sel(gauge="RU:ORSK").values).all()
    summ = SC.summary(ev).set_index(["quantity", "site"])
    assert np.isnan(summ.loc[("days_over_adverse", "KZ:19071"), "q50"])
    assert summ.loc[("days_over_adverse", "KZ:19071"), "note"] == "no adverse level"
    assert pd.isna(summ.loc[("days_over_adverse", "RU:ORSK"), "note"])
    # the objective weighs each gauge: a Kazakh gauge's weight changes it by its own term
    args = (sc.search.reservoir, 2700.0, 0.9)
    ru = SC.objective(ev, ["RU:ORSK", "RU:ORENBURG"], *args)
    kz_only = SC.objective(ev, sc.search.gauges, *args, gauge_weights=[0, 0, 1, 1, 1])
    both = SC.objective(ev, sc.search.gauges, *args, gauge_weights=[1, 1, 1, 1, 1])
    double = SC.objective(ev, sc.search.gauges, *args, gauge_weights=[1, 1, 2, 2, 2])
    assert np.isfinite(kz_only).all() and (kz_only > 0).all()
    storage = SC.objective(ev, [], *args)            # the storage penalty alone
    np.testing.assert_allclose(both, ru + kz_only - storage)
    np.testing.assert_allclose(double - both, kz_only - storage)


@pytest.mark.parametrize("weights,key,message", [
    ({"KZ:99999": 1.0}, 'search.weights."KZ:99999"', "unknown node 'KZ:99999'"),
    ({"BORDER:ural-ru-kz": 1.0}, 'search.weights."BORDER:ural-ru-kz"', "is a border, not a gauge"),
    ({"KZ:19071": -1.0}, "search.weights", "must be a number >= 0"),
    ({"RU:ORSK": 0.0, "RU:ORENBURG": 0.0, "KZ:19071": 0.0}, "search.weights", "weight 0"),
])
def test_search_weights_are_validated_against_the_network(config, weights, key, message):
    raw = _raw()
    raw["search"]["weights"] = weights
    if "RU:ORSK" in weights:
        raw["search"]["objective_gauges"] = ["RU:ORSK"]
    with pytest.raises(ConfigError) as err:
        S.parse_scenario(raw, "config/scenarios/ural-2024-style.toml", config.network)
    assert f": {key}" in str(err.value) and message in str(err.value), str(err.value)


def test_ensemble_weather_and_ice_are_validated(config):
    raw = _raw()
    raw["ensemble"]["weather"] = "stochastic"
    with pytest.raises(ConfigError, match="ensemble.weather"):
        S.parse_scenario(raw, "s.toml", config.network)
    raw = _raw()
    raw["ice"]["jam_gauges"] = ["KZ:RIVERLESS"]
    with pytest.raises(ConfigError, match="ice.jam_gauges: unknown node 'KZ:RIVERLESS'"):
        S.parse_scenario(raw, "s.toml", config.network)
    raw = _raw()
    raw["ice"]["cover_backwater"] = 18
    with pytest.raises(ConfigError, match="ice.cover_backwater"):
        S.parse_scenario(raw, "s.toml", config.network)


def test_cli_run_prints_the_start_probability_and_the_weather(tmp_path, capsys):
    assert _cli(["scenario", "run", "ural-2024-style", "--members", "3",
                 "--out", str(tmp_path / "r.nc")]) == 0
    out = capsys.readouterr().out
    assert "start state: snow water equivalent 95th percentile (P[exceed] 0.05" in out
    assert "all three at once: probability 4.5e-05 if independent" in out
    assert "weather: each member a historical season of the calibration years" in out
    days_kz = [ln for ln in out.splitlines() if ln.strip().startswith("days_over_adverse")
               and "KZ:" in ln]
    assert days_kz and all("no adverse level" in ln and " 0.0 " not in ln for ln in days_kz)
    with xr.open_dataset(tmp_path / "r.nc") as ds:
        assert ds.attrs["start_state_probability"].startswith("start state:")
        assert ds.attrs["weather"] == "sampled_years"
        assert "ice_phase" in ds and "ice_affected" in ds


# --------------------------------------------------------------------------- issue #10 item 2

def test_a_model_with_retention_and_snow_cover_depletion_runs_the_scenario(ctx, config):
    from hydro.services.forcing import load_forcing

    sc = ctx.scenario
    settings_priors = {"whc": 0.1, "refreeze": 0.05, "swe_full_cover": 30.0}
    model = ctx.model.model_copy(update={"priors": settings_priors})
    clim = S.season_climatology(config.network, sc.scenario.basins, load_forcing(config), model,
                                "03-01", tuple(ctx.model.calibration.calibration_years))
    assert float(np.asarray(clim.params.whc).min()) == 0.1
    assert clim.start_state["liquid"].shape == clim.start_state["swe"].shape
    pert = S.perturbations(sc.ensemble, sc.scenario.days, 2)
    ds = S.run_members(config.network, sc, clim, pert,
                       S.plan_schedules(sc, "default", config.network))
    assert float(abs(mass_balance(ds)["relative_residual"]).max()) < 1e-9
    base = S.headwater_inflows(sc, ctx.climatology, pert)
    held = S.headwater_inflows(sc, clim, pert)
    # the same season: the flood volume is of the same order
    total = sum(v.sum() for v in base.values())
    assert 0.5 < sum(v.sum() for v in held.values()) / total < 1.5


# ------------------------------------------------ the scenarios follow the bundled world

@pytest.mark.parametrize("name", ["ural-2024-style", "tobol-2024-style"])
def test_start_state_and_default_plan_are_those_of_the_bundled_world(config, name):
    """Each scenario starts its reservoirs where the bundled synthetic series stand on the
    start day, and its `default` plan is the generator's rule
    (hydro.synthetic.simulate.schedule_for): a scenario that drifts from the world it was
    written for (the world was regenerated) fails here rather than in a forecaster's hands."""
    from hydro.reservoirs import FloodControl
    from hydro.synthetic.simulate import schedule_for

    sc = C.load_scenario(config, name)
    day = pd.Timestamp(sc.scenario.start)
    for rid, start in sc.reservoirs.items():
        series = pd.read_csv(ROOT / "data" / "gauges" / "reservoirs" / f"{rid.replace(':', '_')}.csv",
                             comment="#", sep=";", parse_dates=["date"]).set_index("date")
        row = series.loc[day]
        assert start.initial_level.to("elevation") == pytest.approx(row["level_m"], abs=0.01), rid
        assert start.initial_release.to("discharge") == pytest.approx(row["outflow_m3s"], abs=1.0), rid
        rule = schedule_for(config.network.reservoirs[rid])
        assert isinstance(rule, FloodControl), rid
        spec = sc.schedules["default"].reservoirs[rid]
        assert spec.kind == "flood_control", rid
        assert spec.horizon.to("duration") == rule.horizon_days
        assert spec.base_release.to("discharge") == rule.base_release_m3s
        assert spec.flood_level.to("elevation") == pytest.approx(rule.flood_level_m, abs=0.005)
        np.testing.assert_array_equal(spec.guide_day_of_year, rule.guide.day_of_year)
        np.testing.assert_allclose(spec.guide_level, rule.guide.level_m, atol=0.005)
