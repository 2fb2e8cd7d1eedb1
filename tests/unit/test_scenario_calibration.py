"""Calibration and validation are separate periods: the optimiser never sees the validation
years, whose skill is reported on its own (issue #10, item 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hydro import scenarios as S
from hydro.errors import ConfigError
from hydro.network_sim import local_contributions
from hydro.services import calibration as Cal


def _twin(net):
    """Local inflows of the Tobol made by the model itself on a seeded climate, 2014-2019."""
    days = pd.date_range("2014-01-01", "2019-12-31", freq="D")
    doy = days.day_of_year.to_numpy()
    rng = np.random.default_rng(0)
    temp = {b: 4.0 - 17.0 * np.cos(2 * np.pi * (doy - 20) / 365.25) + rng.normal(0, 3, days.size)
            for b in net.basins}
    precip = {b: rng.gamma(0.8, 1.6, days.size) * (rng.random(days.size) < 0.35)
              for b in net.basins}
    forcing = S.HistoricalForcing(days.to_numpy().astype("datetime64[D]"), temp, precip, True,
                                  "synthetic twin")
    nodes = S.area_nodes(net, ["tobol"])
    t, p = S.node_forcing(net, nodes, forcing, -0.6)
    areas = np.array([net.node(n).local_catchment.to("area") for n in nodes])
    wet = S.autumn_wetness(forcing.dates, p, range(2015, 2018))
    rf, rt = S.snowmelt.season_flags(forcing.dates)
    params = S.snowmelt.SnowParameters().with_values(
        ddf=3.5, c0=0.2, frost_slope=0.3, wetness_slope=0.25, k_quick=5.0 + np.sqrt(areas) / 30)
    res = S.snowmelt.simulate(t, p, params, S.snowmelt.SnowState(), wetness=wet,
                              reset_frost=rf, reset_thaw=rt)
    q = res.runoff_mm * 1000.0 * areas[:, None] * 0.6 / 86400.0
    observed = [n for n in nodes if n in net.gauges or n in net.reservoirs]
    obs = {k: v[0] for k, v in local_contributions(
        net, {n: q[i] for i, n in enumerate(nodes)}, observed).items()}
    return forcing, obs


def _calibrate(net, forcing, obs):
    return S.calibrate(net, "tobol", forcing, obs, calibration_years=(2015, 2017),
                       validation_years=(2018, 2019), lapse_c_per_degree=-0.6,
                       k_quick_area_scale=30.0, fixed={"temp_offset": 0.0, "area_factor": 0.6},
                       popsize=5, maxiter=5)


def test_validation_years_are_held_out_of_the_calibration(config):
    net = config.network
    forcing, obs = _twin(net)
    fit = _calibrate(net, forcing, obs)
    years = pd.DatetimeIndex(forcing.dates).year
    # the validation years' observations spoilt: the same parameters, only their skill moves
    spoilt = {k: np.where(years >= 2018, v * 3.0 + 50.0, v) for k, v in obs.items()}
    other = _calibrate(net, forcing, spoilt)
    assert other.parameters == fit.parameters
    for col in ("nse_calibration", "kge_calibration"):
        assert other.skill.loc["all", col] == pytest.approx(fit.skill.loc["all", col])
    assert fit.skill.loc["all", "nse_validation"] > 0.5       # a two-year validation period
    assert other.skill.loc["all", "nse_validation"] < fit.skill.loc["all", "nse_validation"] - 0.5
    with pytest.raises(ValueError, match="validation years 2017-2019 overlap"):
        S.calibrate(net, "tobol", forcing, obs, calibration_years=(2015, 2017),
                    validation_years=(2017, 2019), lapse_c_per_degree=-0.6,
                    k_quick_area_scale=30.0)
    table = Cal.skill_table({"tobol": fit}, (2015, 2017), (2018, 2019))
    assert list(zip(table["period"], table["years"], strict=True)) == [
        ("calibration", "2015-2017"), ("validation", "2018-2019")]


def test_settings_reject_overlapping_periods():
    raw = {"calibration": {"calibration_years": [2010, 2019], "validation_years": [2019, 2024],
                           "lapse_per_degree_latitude": "-0.6 degC",
                           "k_quick_area_scale": 30.0}}
    with pytest.raises(ConfigError, match="overlap calibration_years 2010-2019"):
        Cal.parse_settings(raw, "_calibration.toml")
    raw["calibration"]["validation_years"] = [2020, 2024]
    s = Cal.parse_settings(raw, "_calibration.toml")
    assert s.period[0] == pd.Timestamp("2009-01-01")     # one spin-up year before 2010
