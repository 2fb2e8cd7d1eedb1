"""Synthetic daily climate per basin: air temperature (°C) and precipitation (mm/day).

A sinusoidal annual cycle plus AR(1) anomalies; winter precipitation scaled by a per-season
factor so that some winters are snowy and some are not.  The 2023/24 season is forced to be
2024-like, after the causes reported in ../shared/reference/SOURCES.md: a wet autumn 2023,
a cold (deep-frost) and snowy winter and a fast warm-up at the end of March 2024.
"""

from __future__ import annotations

from dataclasses import dataclass

import zlib

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BasinClimate:
    """Parameters of one basin's synthetic climate (all synthetic, chosen to give a
    steppe snowmelt regime; the Irtysh headwaters are mountain-fed and melt later)."""

    mean_temp_c: float          # annual mean air temperature
    amplitude_c: float          # half the difference between July and January means
    coldest_doy: int            # day of year of the coldest mean day
    anomaly_sd_c: float         # sd of the AR(1) daily anomaly
    annual_precip_mm: float     # mean annual precipitation
    winter_share: float         # share of precipitation falling Nov-Mar


CLIMATES: dict[str, BasinClimate] = {
    "ural": BasinClimate(4.5, 17.5, 20, 4.0, 420.0, 0.38),
    "irtysh": BasinClimate(2.0, 18.5, 18, 4.0, 560.0, 0.40),
    "tobol": BasinClimate(2.5, 18.5, 20, 4.5, 380.0, 0.36),
    "ishim": BasinClimate(2.0, 19.0, 20, 4.5, 360.0, 0.36),
}

#: Season (water year starting 1 Oct of the previous year) -> multiplier on winter precipitation.
#: 2024 (Oct 2023 - Sep 2024) is the reference flood season.
FLOOD_SEASON = 2024

#: the 2023/24 season per basin: (winter precipitation multiplier, Sep-Oct 2023
#: precipitation multiplier, winter temperature shift °C).  After SOURCES.md: snow water
#: reserves in North Kazakhstan 57 % above the mean and nearly double on the Tobol in
#: Kostanay (Kazhydromet), a March forecast of Iriklinsk inflow up to ~300 % of the norm,
#: a wet autumn and hard frosts everywhere; the Irtysh did not flood.
FLOOD_SEASON_FORCING: dict[str, tuple[float, float, float]] = {
    "ural": (1.6, 1.6, -2.5),
    "tobol": (1.9, 1.7, -2.5),
    "ishim": (1.6, 1.8, -2.5),
    "irtysh": (1.2, 1.3, -1.5),
}

#: the fast warm-up of 2024 (start date, temperature rise °C reached after 4 days, end date)
WARM_SPELL_2024 = ("2024-03-26", 9.0, "2024-04-12")

#: basins whose 2024 warm-up came later than :data:`WARM_SPELL_2024`: the upper Ishim's
#: snow melted in early April (Sergeevka's inflow peaked on 8 Apr and Petropavl crested on
#: 17-19 Apr 2024, flood_2024.csv / hydrology_facts.csv); with the warm-up of 26 Mar the
#: synthetic Sergeevka inflow peaked on 3 Apr and Petropavl on 13 Apr
WARM_SPELL_2024_BY_BASIN: dict[str, tuple[str, float, str]] = {
    "ishim": ("2024-03-31", 9.0, "2024-04-17"),
}


def water_year(index: pd.DatetimeIndex) -> np.ndarray:
    """Water year (1 Oct - 30 Sep) labelled by the calendar year in which it ends."""
    return (index.year + (index.month >= 10)).to_numpy()


def basin_climate(days: pd.DatetimeIndex, clim: BasinClimate, rng: np.random.Generator,
                  flood_season: tuple[float, float, float] = (1.5, 1.5, -2.5),
                  warm_spell: tuple[str, float, str] = WARM_SPELL_2024
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Daily temperature (°C) and precipitation (mm/day) for ``days``; ``flood_season`` is
    the 2023/24 forcing (see :data:`FLOOD_SEASON_FORCING`), ``warm_spell`` the 2024
    warm-up (:data:`WARM_SPELL_2024`, or the basin's in :data:`WARM_SPELL_2024_BY_BASIN`)."""
    n = days.size
    doy = days.day_of_year.to_numpy()
    seasonal = clim.mean_temp_c - clim.amplitude_c * np.cos(2 * np.pi * (doy - clim.coldest_doy) / 365.25)
    # AR(1) anomaly with a 5-day memory
    phi = np.exp(-1 / 5)
    eps = rng.normal(0.0, clim.anomaly_sd_c * np.sqrt(1 - phi**2), n)
    anom = np.empty(n)
    anom[0] = eps[0]
    for t in range(1, n):
        anom[t] = phi * anom[t - 1] + eps[t]
    temp = seasonal + anom

    wy = water_year(days)
    month = days.month.to_numpy()
    winter = (month >= 11) | (month <= 3)
    autumn = (month >= 9) & (month <= 10)
    seasons = np.unique(wy)
    # per-season winter multiplier (lognormal) and autumn wetness
    winter_factor = dict(zip(seasons, np.exp(rng.normal(-0.05, 0.28, seasons.size)), strict=True))
    autumn_factor = dict(zip(seasons, np.exp(rng.normal(0.0, 0.35, seasons.size)), strict=True))
    cold_shift = dict(zip(seasons, rng.normal(0.0, 1.5, seasons.size), strict=True))
    if FLOOD_SEASON in winter_factor:
        # snow water reserves far above the mean, a wet autumn 2023, hard frosts
        winter_factor[FLOOD_SEASON], autumn_factor[FLOOD_SEASON], cold_shift[FLOOD_SEASON] = (
            flood_season)
    wf = np.array([winter_factor[y] for y in wy])
    af = np.array([autumn_factor[y] for y in wy])
    cs = np.array([cold_shift[y] for y in wy])
    temp = temp + np.where(winter, cs, 0.0)

    # fast warm-up at the end of March 2024 (and a rain-on-snow spell)
    w_start, w_rise, w_end = warm_spell
    warm = (days >= pd.Timestamp(w_start)) & (days <= pd.Timestamp(w_end))
    ramp = np.clip((days - pd.Timestamp(w_start)).days.to_numpy() / 4.0, 0, 1)
    temp = temp + np.where(warm, w_rise * ramp, 0.0)
    # the warm spell is not a cold snap: clip the AR noise at its start
    wet_days = rng.random(n) < 0.32
    amount = rng.gamma(0.8, 1.0, n)
    mean_daily = clim.annual_precip_mm / 365.25
    share = np.where(winter, clim.winter_share / (5 / 12), (1 - clim.winter_share) / (7 / 12))
    scale = mean_daily * share / (0.32 * 0.8)
    precip = np.where(wet_days, amount * scale, 0.0)
    precip = precip * np.where(winter, wf, 1.0) * np.where(autumn, af, 1.0)
    rain_on_snow = (days >= pd.Timestamp("2024-03-30")) & (days <= pd.Timestamp("2024-04-03"))
    precip = precip + np.where(rain_on_snow, 6.0, 0.0)
    return temp, precip


def demo_basin_climate(basin_id: str, days: pd.DatetimeIndex, seed: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The daily temperature (°C) and precipitation (mm/day) of basin ``basin_id`` in the
    synthetic demonstration world drawn with ``seed``: :func:`basin_climate` with the
    basin's climate, 2023/24 forcing and 2024 warm-up.  The generator and the scenario
    model's synthetic forcing both take it from here, so the model is calibrated and
    validated on the very weather behind the bundled series."""
    return basin_climate(days, CLIMATES[basin_id],
                         np.random.default_rng([seed, zlib.crc32(basin_id.encode())]),
                         FLOOD_SEASON_FORCING[basin_id],
                         WARM_SPELL_2024_BY_BASIN.get(basin_id, WARM_SPELL_2024))
