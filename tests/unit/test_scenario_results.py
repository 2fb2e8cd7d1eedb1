"""Results of kept scenario runs (hydro.scenario_results), worked by hand: exceedance
probability and days above on a hand-made ensemble, blank (not 0) where a gauge has no
such level, travel time on a two-reach toy network, two runs compared."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydro import scenario_results as SR
from hydro.config import BasinsFile, build_network

NAMES = {"kk": "x", "ru": "x", "en": "x"}

#  day:          1    2    3    4    5
STAGE = np.array([[100, 200, 300, 200, 100],     # member 0: over 250 cm on 1 day
                  [100, 100, 100, 100, 100],     # member 1: never
                  [300, 300, 300, 300, 300]],    # member 2: over 250 cm on all 5 days
                 dtype=float)


def test_exceedance_probability_and_days_by_hand():
    p, days = SR.exceedance(STAGE, 250.0)
    assert p == pytest.approx(2 / 3)               # members 0 and 2 reach 250 cm
    assert days.tolist() == [1.0, 0.0, 5.0]
    p, days = SR.exceedance(STAGE, 300.0)          # "at or above": 300 counts
    assert p == pytest.approx(2 / 3) and days.tolist() == [1.0, 0.0, 5.0]
    p, days = SR.exceedance(STAGE, 250.0, dt_days=0.5)   # half-day steps
    assert days.tolist() == [0.5, 0.0, 2.5]
    p, days = SR.exceedance(STAGE, float("nan"))   # no such level: blank, never 0
    assert np.isnan(p) and np.isnan(days).all()
    with pytest.raises(ValueError, match="members, time"):
        SR.exceedance(STAGE[0], 250.0)


def _stage_dataset() -> xr.DataArray:
    st = np.stack([STAGE, STAGE + 100.0], axis=1)   # (member, node, time)
    return xr.DataArray(st, dims=("member", "node", "time"),
                        coords={"member": [0, 1, 2], "node": ["RU:A", "KZ:B"],
                                "time": pd.date_range("2024-04-01", periods=5)})


def test_exceedance_table_every_level_blank_where_none():
    levels = {
        "RU:A": [SR.Level("RU:A", "ru_nya_oya", "adverse", 150.0, False),
                 SR.Level("RU:A", "ru_nya_oya", "dangerous", 250.0, False)],
        "KZ:B": [SR.Level("KZ:B", "kz_dangerous", "dangerous", 350.0, True)],
    }
    t = SR.exceedance_table(_stage_dataset(), levels)
    ru = t[t.gauge == "RU:A"].set_index("level")
    # adverse 150 cm: member 0 on days 2-4 (3 d), member 1 never, member 2 on 5 days
    assert ru.loc["adverse", "probability"] == pytest.approx(2 / 3)
    assert ru.loc["adverse", "days_mean"] == pytest.approx((3 + 0 + 5) / 3)
    assert ru.loc["dangerous", "days_q50"] == 1.0
    kz = t[t.gauge == "KZ:B"].set_index("level")
    # stage + 100 cm against 350 cm: member 0 on day 3, member 2 on every day
    assert kz.loc["dangerous", "probability"] == pytest.approx(2 / 3)
    assert kz.loc["dangerous", "provisional"]
    # the Kazakh gauge has no adverse level: a row with NaN, and why
    assert np.isnan(kz.loc["adverse", "probability"]) and np.isnan(kz.loc["adverse", "days_mean"])
    assert kz.loc["adverse", "note"] == "no adverse level"


def test_gauge_threshold_levels_takes_every_scheme_in_force(config):
    lv = SR.gauge_threshold_levels(config.thresholds, ["RU:ORSK", "KZ:19072"],
                                   dt.date(2024, 4, 1))
    orsk = {(x.scheme, x.level): x.value_cm for x in lv["RU:ORSK"]}
    assert orsk[("ru_nya_oya", "adverse")] == 360.0 and orsk[("ru_nya_oya", "dangerous")] == 700.0
    # Kushum: Kazhydromet's ОУ 850 cm (hydrology_facts.csv), no adverse level
    kushum = {(x.scheme, x.level): x.value_cm for x in lv["KZ:19072"]}
    assert kushum[("kz_dangerous", "dangerous")] == 850.0
    assert not any(x.level == "adverse" for x in lv["KZ:19072"])


def _toy_network():
    """RU:R3 (reservoir) -> KZ:G2 -> KZ:G1 -> OUT:0, and a side gauge KZ:G4 -> KZ:G1."""
    def gauge(gid):
        return {"id": gid, "basin": "b", "river": "R", "country": "KZ", "names": NAMES,
                "lat": 51.0, "lon": 51.0, "coord_source": "test", "timezone": "Asia/Oral",
                "source": "test",
                "datums": [{"zero": "10 m", "valid_from": "2000-01-01", "status": "estimate"}]}
    res = {"id": "RU:R3", "basin": "b", "river": "R", "country": "RU", "names": NAMES,
           "timezone": "Asia/Yekaterinburg", "source": "test",
           "npu": "118 m", "fpu": "119 m", "umo": "104 m",
           "min_release": "2 m3/s", "max_ramp_per_day": "200 m3/s",
           "storage_table": {"level_unit": "m", "volume_unit": "hm3", "area_unit": "km2",
                             "level": [100, 105, 110, 115, 120],
                             "volume": [0, 20, 80, 180, 320], "area": [0.5, 6, 15, 25, 35]},
           "outlet_capacity": {"level_unit": "m", "discharge_unit": "m3/s",
                               "level": [104, 118, 120], "discharge": [50, 400, 600]}}
    raw = {"basins": [{"id": "b", "names": NAMES, "rivers": ["R"], "outlet": "OUT:0"}],
           "gauges": [gauge("KZ:G1"), gauge("KZ:G2"), gauge("KZ:G4")], "reservoirs": [res],
           "nodes": [{"id": "OUT:0", "kind": "outlet", "basin": "b", "names": NAMES}],
           "reaches": [
               {"id": "r3", "upstream": "RU:R3", "downstream": "KZ:G2",
                "routing": {"method": "muskingum", "k": "2 d", "x": 0.2}},
               {"id": "r2", "upstream": "KZ:G2", "downstream": "KZ:G1",
                "routing": {"method": "lag", "lag": "1.5 d"}},
               {"id": "r4", "upstream": "KZ:G4", "downstream": "KZ:G1",
                "routing": {"method": "lag", "lag": "1 d"}},
               {"id": "r1", "upstream": "KZ:G1", "downstream": "OUT:0",
                "routing": {"method": "lag", "lag": "0.5 d"}}]}
    return build_network(BasinsFile.model_validate(raw), "test")


def test_travel_time_on_a_two_reach_toy_network_by_hand():
    net = _toy_network()
    t = SR.travel_times(net, ["RU:R3"], ["KZ:G2", "KZ:G1", "KZ:G4"]).set_index("gauge")
    # reservoir -> G2: Muskingum K = 2 d; -> G1: 2 d + the lag of 1.5 d = 3.5 d
    assert t.loc["KZ:G2", "travel_time_d"] == pytest.approx(2.0)
    assert t.loc["KZ:G2", "reaches"] == 1
    assert t.loc["KZ:G1", "travel_time_d"] == pytest.approx(3.5)
    assert t.loc["KZ:G1", "reaches"] == 2
    assert "KZ:G4" not in t.index              # on a side branch, not downstream


def test_reservoir_trajectory_and_peaks_quantiles():
    time = pd.date_range("2024-03-01", periods=2)
    level = np.array([[[240.0, 241.0]], [[242.0, 243.0]], [[244.0, 245.0]]])  # (m, r, t)
    ds = xr.Dataset({"level": (("member", "reservoir", "time"), level)},
                    coords={"member": [0, 1, 2], "reservoir": ["R"], "time": time})
    tr = SR.reservoir_trajectory(ds, "R")
    assert tr["level_q50"].tolist() == [242.0, 243.0]
    assert tr["level_q10"].iloc[0] == pytest.approx(240.4)   # linear: 240 + 0.2 * 2
    st = xr.Dataset({"stage": _stage_dataset()})
    pk = SR.peak_quantiles(st, ["RU:A"])
    assert pk.loc["RU:A", "peak_q50"] == 300.0     # member peaks 300, 100, 300


def test_compare_exceedance_differences_and_blanks():
    a = pd.DataFrame([{"gauge": "KZ:B", "scheme": "kz_dangerous", "level": "dangerous",
                       "level_cm": 350.0, "note": "", "probability": 0.5, "days_mean": 2.0},
                      {"gauge": "KZ:B", "scheme": "", "level": "adverse", "level_cm": np.nan,
                       "note": "no adverse level", "probability": np.nan,
                       "days_mean": np.nan}])
    b = a.copy()
    b.loc[0, "probability"] = 0.2
    b.loc[0, "days_mean"] = 1.0
    m = SR.compare_exceedance(a, b).set_index("level")
    assert m.loc["dangerous", "probability_diff"] == pytest.approx(-0.3)
    assert m.loc["dangerous", "days_mean_diff"] == pytest.approx(-1.0)
    assert np.isnan(m.loc["adverse", "probability_diff"])
