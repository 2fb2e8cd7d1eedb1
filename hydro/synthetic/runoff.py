"""Lateral inflow from a degree-day snowmelt and frozen-soil runoff model (synthetic).

Daily, vectorised over nodes.  For each node with a local catchment:

* precipitation falls as snow below 0.5 °C and accumulates as snow water equivalent (SWE);
* melt = min(SWE, DDF · max(T, 0)) with the degree-day factor DDF = 3.0 mm °C⁻¹ d⁻¹;
* the share of melt and rain that runs off is a *frozen-soil runoff coefficient*:
  c = c₀ + 0.30 · F + 0.25 · (W − 1) + κ · (S − 1) while the soil is frozen, where F is
  the winter's frost index (sum of negative degree-days / 2000 °C·d, capped at 1.2), W the
  autumn wetness (Sep–Oct precipitation relative to its mean), S the winter's snowiness
  (Nov–Mar precipitation relative to its mean), c₀ (default 0.12) and κ (default 0) per
  node — a large κ makes a steppe basin give little in ordinary years and a great deal
  after a snowy winter; after the soil has thawed (150 positive degree-days since
  1 March) c falls to 0.04;
* a fixed 7 % of melt and rain recharges a groundwater store;
* quick flow and baseflow leave linear reservoirs with time constants
  k_q = 6 d + √A / 25 (A in km²) and k_b = 140 d.

References for the structure (not the numbers): Kuchment & Gelfan (1996) on runoff from
frozen soils; the HBV degree-day snow routine (Bergström 1976).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hydro.synthetic.climate import water_year
from hydro.units import runoff_depth_to_discharge

DDF_MM_PER_DEGC_DAY = 3.0
SNOW_THRESHOLD_C = 0.5
RECHARGE_SHARE = 0.07
BASEFLOW_K_DAYS = 140.0
THAW_DEGREE_DAYS = 150.0


def lateral_inflow(days: pd.DatetimeIndex, temp: np.ndarray, precip: np.ndarray,
                   area_km2: np.ndarray, *, base_coeff: np.ndarray | None = None,
                   snow_weight: np.ndarray | None = None,
                   quick_k_days: np.ndarray | None = None,
                   snow_precip: np.ndarray | None = None) -> np.ndarray:
    """Lateral inflow (m³/s) per day and node.

    ``temp`` and ``precip`` have shape (days, nodes) in °C and mm/day; ``area_km2``,
    ``base_coeff`` (c₀, default 0.12) and ``snow_weight`` (κ, default 0) have shape
    (nodes,); ``quick_k_days`` (nodes,) replaces k_q where it is finite; ``snow_precip``
    (days, nodes), where given, is the precipitation the winter snowiness S is measured on
    (default ``precip``: the node's own series).  Returns an array (days, nodes).
    """
    n_days, n_nodes = temp.shape
    month = days.month.to_numpy()
    wy = water_year(days)
    autumn = (month >= 9) & (month <= 10)
    # autumn wetness per water year and node, relative to the node's mean
    # numpy only (pairwise summation), so the bundled files do not depend on pandas' version
    years, year_idx = np.unique(wy, return_inverse=True)
    autumn_total = np.zeros((years.size, n_nodes))
    np.add.at(autumn_total, year_idx, np.where(autumn[:, None], precip, 0.0))
    wetness = (autumn_total / autumn_total.mean(axis=0))[year_idx]
    winter = (month >= 11) | (month <= 3)
    winter_total = np.zeros((years.size, n_nodes))
    snow_p = precip if snow_precip is None else snow_precip
    np.add.at(winter_total, year_idx, np.where(winter[:, None], snow_p, 0.0))
    snowiness = (winter_total / winter_total.mean(axis=0))[year_idx]
    c0 = np.full(n_nodes, 0.12) if base_coeff is None else np.asarray(base_coeff, dtype=float)
    kappa = np.zeros(n_nodes) if snow_weight is None else np.asarray(snow_weight, dtype=float)

    k_quick = 6.0 + np.sqrt(area_km2) / 25.0
    if quick_k_days is not None:
        k_quick = np.where(np.isfinite(quick_k_days), quick_k_days, k_quick)
    a_quick = 1.0 - np.exp(-1.0 / k_quick)
    a_base = 1.0 - np.exp(-1.0 / BASEFLOW_K_DAYS)
    swe = np.zeros(n_nodes)
    frost = np.zeros(n_nodes)
    thaw = np.zeros(n_nodes)
    quick_store = np.zeros(n_nodes)
    base_store = np.full(n_nodes, 40.0)  # mm, a wet start avoids a long spin-up
    runoff_mm = np.empty((n_days, n_nodes))
    first_oct = (days.month == 10) & (days.day == 1)
    first_mar = (days.month == 3) & (days.day == 1)
    for t in range(n_days):
        if first_oct[t]:
            frost[:] = 0.0
        if first_mar[t]:
            thaw[:] = 0.0
        tt = temp[t]
        p = precip[t]
        snow = np.where(tt < SNOW_THRESHOLD_C, p, 0.0)
        rain = p - snow
        swe += snow
        melt = np.minimum(swe, DDF_MM_PER_DEGC_DAY * np.clip(tt, 0.0, None))
        swe -= melt
        frost += np.clip(-tt, 0.0, None)
        if month[t] >= 3 and month[t] <= 9:
            thaw += np.clip(tt, 0.0, None)
        frozen = thaw < THAW_DEGREE_DAYS
        f_index = np.minimum(frost / 2000.0, 1.2)
        coeff_frozen = np.clip(c0 + 0.30 * f_index + 0.25 * (wetness[t] - 1.0)
                               + kappa * (snowiness[t] - 1.0), 0.02, 0.9)
        coeff = np.where(frozen, coeff_frozen, 0.04)
        water = melt + rain
        quick_store += coeff * water
        base_store += RECHARGE_SHARE * water
        q_quick = a_quick * quick_store
        q_base = a_base * base_store
        quick_store -= q_quick
        base_store -= q_base
        runoff_mm[t] = q_quick + q_base
    return runoff_depth_to_discharge(runoff_mm, area_km2[None, :])
