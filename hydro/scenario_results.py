"""What a kept scenario run shows: ensemble quantiles of stage, discharge and storage, the
probability of reaching every warning level and the days above it, travel times from the
reservoirs to the gauges, and two runs side by side.

Pure functions over the :class:`xarray.Dataset` of :func:`hydro.network_sim.simulate`
(dimensions member, node, time; reservoir): no file, database or clock access.  Stage in
cm above gauge zero, discharge m³/s, volume hm³, level m (Baltic system), time in days.
A level a gauge does not have is NaN (blank), never 0: a Kazakh gauge has no adverse
level (НЯ is the Russian scheme's), so "0 days above it" would claim a measurement that
was not made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from hydro.network import Network
from hydro.network_sim import downstream_path, travel_time_days

__all__ = [
    "Level",
    "gauge_threshold_levels",
    "member_quantiles",
    "exceedance",
    "exceedance_table",
    "travel_times",
    "reservoir_trajectory",
    "peak_quantiles",
    "compare_exceedance",
]

#: the evaluation's level kinds; every gauge gets a row for each (NaN where it has none)
STANDARD_LEVELS = ("adverse", "dangerous")


@dataclass(frozen=True)
class Level:
    """One warning level of one scheme at a gauge (cm above gauge zero).

    ``scheme`` as in config/thresholds.toml (``kz_dangerous`` = KZ ОУ, ``ru_nya_oya`` = RU
    НЯ/ОЯ, ``local_impact`` = a local impact mark …), ``level`` its kind (``adverse``,
    ``dangerous``, ``impact`` …), ``provisional`` when not published."""

    gauge: str
    scheme: str
    level: str
    value_cm: float
    provisional: bool
    note: str = ""


def gauge_threshold_levels(thresholds: Iterable[Any], gauges: Iterable[str], day: dt.date
                           ) -> dict[str, list[Level]]:
    """Every level of every scheme in force on ``day`` at each of ``gauges`` (config
    :class:`hydro.config.Threshold` objects), lowest first; a gauge without any has an
    empty list."""
    ths = list(thresholds)
    out: dict[str, list[Level]] = {}
    for g in gauges:
        mine = [Level(g, t.scheme, t.level, float(t.value.to("stage")),
                      t.status != "published", t.note)
                for t in ths if t.station == g and t.valid_on(day)]
        out[g] = sorted(mine, key=lambda lv: (lv.value_cm, lv.scheme, lv.level))
    return out


def member_quantiles(da: xr.DataArray, quantiles: Sequence[float] = (0.1, 0.5, 0.9)
                     ) -> xr.DataArray:
    """Quantiles over ``member`` (NaN members skipped), coordinate ``quantile``."""
    return da.quantile(list(quantiles), dim="member", skipna=True)


def exceedance(stage_cm: np.ndarray, level_cm: float, dt_days: float = 1.0
               ) -> tuple[float, np.ndarray]:
    """Probability that a gauge reaches ``level_cm`` and the days at or above it.

    Parameters
    ----------
    stage_cm : (members, T) stage, cm
    level_cm : the level, cm (NaN: the gauge has no such level)
    dt_days : step length, days

    Returns
    -------
    (probability, days) : the share of members with at least one step at or above the
        level (the evaluation's ``>=``, as :func:`hydro.schedules.evaluate`), and each
        member's days at or above it; ``(nan, all-NaN)`` for a NaN level.
    """
    st = np.asarray(stage_cm, dtype=float)
    if st.ndim != 2:
        raise ValueError(f"stage must be (members, time), got shape {st.shape}")
    if not np.isfinite(level_cm):
        return float("nan"), np.full(st.shape[0], np.nan)
    over = st >= level_cm
    return float(over.any(axis=1).mean()), over.sum(axis=1) * float(dt_days)


def exceedance_table(stage: xr.DataArray, levels: Mapping[str, Sequence[Level]],
                     dt_days: float = 1.0) -> pd.DataFrame:
    """The exceedance of every level at every gauge.

    Parameters
    ----------
    stage : (member, node, time) stage, cm; the nodes include the gauges of ``levels``
    levels : gauge -> its :class:`Level` list (:func:`gauge_threshold_levels`)

    Returns
    -------
    pandas.DataFrame
        One row per gauge and level: ``gauge, scheme, level, level_cm, provisional,
        probability`` (0–1), ``days_mean, days_q50, days_q90`` (days at or above) and
        ``note``.  A gauge without an adverse or a dangerous level gets a row for it with
        NaN values and the note "no adverse level" / "no dangerous level".
    """
    rows = []
    for g, lvls in levels.items():
        if g not in stage["node"].values:
            continue
        st = stage.sel(node=g).transpose("member", "time").values
        kinds = {lv.level for lv in lvls}
        for lv in lvls:
            p, days = exceedance(st, lv.value_cm, dt_days)
            rows.append({"gauge": g, "scheme": lv.scheme, "level": lv.level,
                         "level_cm": lv.value_cm, "provisional": lv.provisional,
                         "probability": p, "days_mean": float(np.mean(days)),
                         "days_q50": float(np.quantile(days, 0.5)),
                         "days_q90": float(np.quantile(days, 0.9)), "note": ""})
        for kind in STANDARD_LEVELS:
            if kind not in kinds:
                rows.append({"gauge": g, "scheme": "", "level": kind, "level_cm": np.nan,
                             "provisional": False, "probability": np.nan,
                             "days_mean": np.nan, "days_q50": np.nan, "days_q90": np.nan,
                             "note": f"no {kind} level"})
    cols = ["gauge", "scheme", "level", "level_cm", "provisional", "probability",
            "days_mean", "days_q50", "days_q90", "note"]
    return pd.DataFrame(rows, columns=cols)


def travel_times(network: Network, reservoirs: Sequence[str], gauges: Sequence[str]
                 ) -> pd.DataFrame:
    """Travel time of a release change from each reservoir to each gauge downstream of it.

    Derived from the network's routing (config/basins.toml): the sum over the reaches on
    the path from the reservoir to the gauge of each reach's Muskingum storage constant
    ``K`` (the travel time of the flood wave through a Muskingum reach), or its lag for a
    lag-routed reach (:func:`hydro.network_sim.travel_time_days`).  It is the nominal
    translation time; attenuation spreads the change around it.  A gauge not downstream of
    the reservoir has no row.

    Returns
    -------
    pandas.DataFrame: ``reservoir, gauge, travel_time_d, reaches`` (the number of reaches).
    """
    rows = []
    for r in reservoirs:
        path = downstream_path(network, r)
        below = [reach.downstream for reach in path]
        for g in gauges:
            if g not in below:
                continue
            rows.append({"reservoir": r, "gauge": g,
                         "travel_time_d": travel_time_days(network, r, g),
                         "reaches": below.index(g) + 1})
    return pd.DataFrame(rows, columns=["reservoir", "gauge", "travel_time_d", "reaches"])


def reservoir_trajectory(ds: xr.Dataset, reservoir: str,
                         quantiles: Sequence[float] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
    """Quantiles over the members of a reservoir's level (m), volume (hm³), release and
    spill (m³/s) per day: columns ``<variable>_q10`` … indexed by time."""
    out = {}
    for var in ("level", "volume", "release", "spill"):
        if var not in ds:
            continue
        q = member_quantiles(ds[var].sel(reservoir=reservoir), quantiles)
        for qq in quantiles:
            out[f"{var}_q{int(round(qq * 100)):02d}"] = q.sel(quantile=qq).values
    return pd.DataFrame(out, index=pd.DatetimeIndex(ds["time"].values, name="time"))


def peak_quantiles(ds: xr.Dataset, gauges: Sequence[str],
                   quantiles: Sequence[float] = (0.5, 0.9)) -> pd.DataFrame:
    """Peak stage (cm) over the season per member, its quantiles per gauge: columns
    ``peak_q50`` … indexed by gauge (NaN for a gauge without a rating)."""
    peak = ds["stage"].sel(node=list(gauges)).max("time", skipna=True)
    q = member_quantiles(peak, quantiles)
    return pd.DataFrame({f"peak_q{int(round(qq * 100)):02d}": q.sel(quantile=qq).values
                         for qq in quantiles}, index=pd.Index(list(gauges), name="gauge"))


def compare_exceedance(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Two :func:`exceedance_table` tables side by side on (gauge, scheme, level):
    ``probability_a``, ``probability_b`` and ``probability_diff`` (B − A; NaN where the
    gauge has no such level), and the mean days above under each."""
    key = ["gauge", "scheme", "level", "level_cm", "note"]
    m = a[key + ["probability", "days_mean"]].merge(
        b[key + ["probability", "days_mean"]], on=key, how="outer", suffixes=("_a", "_b"))
    m["probability_diff"] = m["probability_b"] - m["probability_a"]
    m["days_mean_diff"] = m["days_mean_b"] - m["days_mean_a"]
    return m
