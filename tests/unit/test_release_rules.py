"""Release rules behind a registry: kind -> rule class; validation and dispatch come from
the registry, so a new rule is one new class."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest

from hydro import network_sim
from hydro import reservoirs as R
from hydro import scenarios as S
from hydro.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p for p in (ROOT / "config" / "scenarios").glob("*.toml")
                   if not p.name.startswith("_"))
URAL = ROOT / "config" / "scenarios" / "ural-2024-style.toml"
DATES = pd.date_range("2024-03-01", periods=10, freq="D")


def _raw(path: Path = URAL) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def test_registry_holds_every_rule_with_its_own_build():
    assert set(S.RULES) == {"pass_inflow", "daily_release", "target_level", "rule_curve",
                            "prerelease", "flood_control"}
    for kind, cls in S.RULES.items():
        assert issubclass(cls, S.ReleaseRule)
        assert cls.model_fields["kind"].annotation == Literal[kind]
        assert cls.build is not S.ReleaseRule.build, kind


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_bundled_scenario_validates_and_builds_every_plan(config, path):
    sc = S.parse_scenario(_raw(path), str(path), config.network)
    kinds = {spec.kind for plan in sc.schedules.values() for spec in plan.reservoirs.values()}
    assert kinds <= set(S.RULES)
    for plan in sc.schedules:
        built = S.plan_schedules(sc, plan, config.network)
        assert built and all(v is not None for v in built.values())


def test_each_rule_builds_what_the_reservoir_model_takes():
    d = S.RULES["daily_release"].model_validate(
        {"kind": "daily_release", "dates": ["2024-03-01", "2024-03-04"],
         "release_unit": "m3/s", "release": [10.0, 30.0]})
    out = S.build_schedule(d, DATES)
    assert isinstance(out, R.DailyRelease)
    np.testing.assert_array_equal(out.release_m3s, [10, 10, 10, 30, 30, 30, 30, 30, 30, 30])
    t = S.RULES["target_level"].model_validate(
        {"kind": "target_level", "dates": ["2024-03-03", "2024-03-08"], "level_unit": "cm",
         "level": [24000.0, 24100.0]})
    out = S.build_schedule(t, DATES)
    assert isinstance(out, R.TargetLevel)
    np.testing.assert_allclose(out.day_index, [2.0, 7.0])
    np.testing.assert_allclose(out.level_m, [240.0, 241.0])
    assert t.season_dates() == [pd.Timestamp("2024-03-03").date(),
                                pd.Timestamp("2024-03-08").date()]
    c = S.RULES["rule_curve"].model_validate(
        {"kind": "rule_curve", "day_of_year": [1, 200], "level_unit": "m",
         "level": [240.0, 245.0]})
    assert isinstance(S.build_schedule(c, DATES), R.RuleCurve)
    p = S.RULES["prerelease"].model_validate(
        {"kind": "prerelease", "base_release": "10 m3/s", "prerelease_start": "2024-03-03",
         "prerelease_release": "100 m3/s", "flood_start": "2024-03-05",
         "flood_release": "50 m3/s", "refill_start": "2024-03-08", "refill_release": "5 m3/s"})
    np.testing.assert_array_equal(S.build_schedule(p, DATES).release_m3s,
                                  [10, 10, 100, 100, 50, 50, 50, 5, 5, 5])
    assert len(p.season_dates()) == 3
    assert isinstance(S.build_schedule(S.RULES["pass_inflow"](kind="pass_inflow"), DATES),
                      network_sim.PassInflow)
    with pytest.raises(TypeError, match="not a release rule"):
        S.build_schedule({"kind": "pass_inflow"}, DATES)  # type: ignore[arg-type]


@pytest.mark.parametrize("spec,message", [
    ({"kind": "prerelase"}, "unknown schedule kind 'prerelase'"),
    ({"release": [1.0]}, "a schedule needs a kind"),
    ("pass_inflow", "a schedule is a table with a kind"),
])
def test_unknown_kind_lists_the_known_kinds(config, spec, message):
    raw = _raw()
    raw["schedules"]["early-prerelease"]["reservoirs"]["RU:IRIKLINSK"] = spec
    with pytest.raises(ConfigError) as err:
        S.parse_scenario(raw, "config/scenarios/ural-2024-style.toml", config.network)
    text = str(err.value)
    assert text.startswith("config/scenarios/ural-2024-style.toml: "
                           'schedules.early-prerelease.reservoirs."RU:IRIKLINSK": ')
    assert message in text
    assert ("known kinds: daily_release, flood_control, pass_inflow, prerelease, rule_curve, "
            "target_level" in text)


def test_flood_control_rule_builds_the_dispatcher_rule(config):
    f = S.RULES["flood_control"].model_validate(
        {"kind": "flood_control", "horizon": "12 d", "base_release": "20 m3/s",
         "flood_level": "244.5 m", "guide_day_of_year": [1, 75, 152],
         "guide_level": [243.0, 240.9, 245.0]})
    out = S.build_schedule(f, DATES, config.network.reservoirs["RU:IRIKLINSK"])
    assert isinstance(out, R.FloodControl)
    assert out.horizon_days == 12.0 and out.base_release_m3s == 20.0
    assert out.flood_level_m == 244.5 and out.inflow_forecast_m3s is None  # perfect foresight
    assert out.guide is not None
    np.testing.assert_allclose(out.guide.level_m, [243.0, 240.9, 245.0])
    bare = S.build_schedule(S.RULES["flood_control"].model_validate({"kind": "flood_control"}),
                            DATES)
    assert bare.horizon_days == 10.0 and bare.base_release_m3s is None and bare.guide is None
    for bad, message in (({"horizon": "0 d"}, "horizon must be positive"),
                         ({"guide_level": [240.0, 241.0]}, "give both guide_day_of_year"),
                         ({"base_release": "-1 m3/s"}, "must not be negative")):
        with pytest.raises(ValueError, match=message):
            S.RULES["flood_control"].model_validate({"kind": "flood_control", **bad})


def test_flood_control_plan_runs_iriklinsk_in_the_ural_scenario(config):
    from hydro.network_sim import mass_balance

    sc = S.parse_scenario(_raw(), str(URAL), config.network)
    spec = sc.schedules["flood-control"].reservoirs["RU:IRIKLINSK"]
    assert spec.kind == "flood_control"
    sched = S.plan_schedules(sc, "flood-control", config.network)
    assert isinstance(sched["RU:IRIKLINSK"], R.FloodControl)
    days = 60
    t = np.arange(days)
    lateral = {n: np.full((2, days), 30.0) for n in ("RU:IRIKLINSK", "RU:VERKHNEURALSK")}
    lateral["RU:IRIKLINSK"] = 30.0 + 2500.0 * np.exp(-0.5 * ((t - 35) / 6.0) ** 2)[None, :] \
        * np.array([[1.0], [2.0]])
    ds = network_sim.simulate(config.network, lateral, start=sc.scenario.start, schedules=sched,
                              initial_volume_hm3=S.initial_volumes(sc, config.network),
                              basins=["ural"])
    assert float(abs(mass_balance(ds)["relative_residual"]).max()) < 1e-9
    rel = ds["release"].sel(reservoir="RU:IRIKLINSK").values
    # the bigger flood is released ahead of its crest, harder than the smaller one
    assert rel[1, :35].max() > rel[0, :35].max()


def test_errors_inside_a_rule_keep_their_key(config):
    raw = _raw()
    raw["schedules"]["early-prerelease"]["reservoirs"]["RU:IRIKLINSK"]["flood_release"] = "5"
    with pytest.raises(ConfigError, match=r'reservoirs\."RU:IRIKLINSK"\.flood_release: '
                                          "missing unit"):
        S.parse_scenario(raw, "s.toml", config.network)


@pytest.fixture
def constant_rule():
    """A new rule, defined outside hydro.scenarios: one decorated class."""

    @S.release_rule
    class ConstantRelease(S.ReleaseRule):
        kind: Literal["constant_release_test"]
        release: S.Discharge
        since: str = "2024-03-01"

        def build(self, dates, *, reservoir=None):
            q = np.full(len(dates), self.release.to("discharge"))
            q[dates < pd.Timestamp(self.since)] = 0.0
            return R.DailyRelease(q)

        def season_dates(self):
            return [pd.Timestamp(self.since).date()]

    yield ConstantRelease
    S.RULES.pop("constant_release_test", None)


def test_a_new_rule_is_one_class(config, constant_rule):
    raw = _raw()
    raw["schedules"]["unregulated"]["reservoirs"]["RU:IRIKLINSK"] = {
        "kind": "constant_release_test", "release": "0.4 hm3/d"}
    sc = S.parse_scenario(raw, "s.toml", config.network)
    spec = sc.schedules["unregulated"].reservoirs["RU:IRIKLINSK"]
    assert isinstance(spec, constant_rule)
    built = S.plan_schedules(sc, "unregulated", config.network)["RU:IRIKLINSK"]
    np.testing.assert_allclose(built.release_m3s, 0.4e6 / 86400.0)
    # it serialises with its own fields and takes part in the season check of dates
    assert sc.model_dump()["schedules"]["unregulated"]["reservoirs"]["RU:IRIKLINSK"][
        "kind"] == "constant_release_test"
    raw["schedules"]["unregulated"]["reservoirs"]["RU:IRIKLINSK"]["since"] = "2025-01-01"
    with pytest.raises(ConfigError, match="outside the season"):
        S.parse_scenario(raw, "s.toml", config.network)
    # and the error for an unknown kind now lists it
    raw["schedules"]["unregulated"]["reservoirs"]["RU:IRIKLINSK"] = {"kind": "nope"}
    with pytest.raises(ConfigError, match="constant_release_test"):
        S.parse_scenario(raw, "s.toml", config.network)


def test_registering_checks_the_kind():
    with pytest.raises(ValueError, match="already registered"):
        @S.release_rule
        class Another(S.ReleaseRule):
            kind: Literal["pass_inflow"]
    with pytest.raises(TypeError, match="Literal of one string"):
        @S.release_rule
        class Loose(S.ReleaseRule):
            kind: str
    assert S.RULES["pass_inflow"] is S.PassInflowSpec
