"""Skill of forecasts by lead time, against persistence and climatology (pure functions).

Scores here are *negatively oriented* (0 is perfect) except NSE and KGE (1 is perfect):

==============  ================================================  ==================
score           formula                                           unit
==============  ================================================  ==================
MAE             mean |f − o|                                      of the data
RMSE            √ mean (f − o)²                                   of the data
CRPS            ∫ (F(x) − 1{x ≥ o})² dx  (F: predictive CDF)       of the data
skill score     1 − score / score_ref                             — (1 perfect, 0 =
                                                                  the reference)
==============  ================================================  ==================

The CRPS of a point forecast (a one-member ensemble) is its absolute error, so MAE is the
CRPS of the deterministic forecasts and the two can be compared (Hersbach 2000).

The skill table (:func:`skill_by_lead`) takes the tidy backtest frame produced by
:func:`hydro.short_range.rolling_origin_backtest` (columns ``issue_time``, ``lead_days``,
``method``, ``forecast``, ``observed``, optionally ``lower``/``upper`` and ``member``), and
compares every method with the references **on the same (issue_time, lead_days) pairs**:
a pair is scored only when every method, the references included, has a forecast and the
observation exists.  A method "beats persistence" at a lead when its skill score against
persistence is strictly positive; with the default score, the mean squared error, that
skill score is the persistence index of Kitanidis & Bras (1980).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal

import numpy as np
import pandas as pd
import properscoring  # type: ignore[import-untyped]
from numpy.typing import ArrayLike
from scipy import stats

from hydro.metrics import kge, nse

__all__ = [
    "crps_ensemble",
    "crps_gaussian",
    "mae",
    "skill_score",
    "skill_by_lead",
    "sigma_from_interval",
]

#: scores the skill table can base ``beats_persistence`` on
SCORES: Final = ("mse", "mae", "crps")
Score = Literal["mse", "mae", "crps"]
#: columns :func:`skill_by_lead` requires
REQUIRED_COLUMNS: Final = ("issue_time", "lead_days", "method", "forecast", "observed")

_INV_SQRT_PI: Final = 1.0 / math.sqrt(math.pi)


def crps_ensemble(observations: ArrayLike, ensemble: ArrayLike, axis: int = -1) -> np.ndarray:
    """Continuous ranked probability score of an ensemble (empirical CDF of its members).

    Parameters
    ----------
    observations : array_like
        Observed values, any unit (m³/s, cm ...); shape of ``ensemble`` without ``axis``.
    ensemble : array_like
        Members along ``axis``, same unit as the observations.  NaN members are ignored.
    axis : int
        The member axis of ``ensemble``.

    Returns
    -------
    numpy.ndarray
        CRPS ≥ 0 in the unit of the data, one per observation (0-d for a scalar); NaN where
        the observation is NaN or every member is NaN.

    Notes
    -----
    ``CRPS = E|X − y| − ½ E|X − X'|`` with X, X' independent draws from the members
    (Gneiting & Raftery 2007, eq. 21): the CRPS of the ensemble's empirical CDF, not the
    "fair" (unbiased for the underlying distribution) variant of Ferro (2014).  A
    one-member ensemble scores its absolute error.  Computed by ``properscoring``
    (The Climate Corporation; Hersbach 2000's integral, exact for a step CDF).
    Gneiting, T. & Raftery, A.E. (2007), *J. Amer. Statist. Assoc.* 102, 359-378.
    """
    obs = np.asarray(observations, dtype=float)
    ens = np.asarray(ensemble, dtype=float)
    if ens.ndim == 0:
        raise ValueError("ensemble must have a member axis (got a scalar); pass [value] for "
                         "a one-member ensemble")
    ens = np.moveaxis(ens, axis, -1)
    if ens.shape[:-1] != obs.shape:
        raise ValueError(f"observations of shape {obs.shape} do not match the ensemble of "
                         f"shape {ens.shape[:-1]} (+ {ens.shape[-1]} members on axis {axis})")
    if ens.shape[-1] == 0:
        raise ValueError("the ensemble has no member")
    return np.asarray(properscoring.crps_ensemble(obs, ens, axis=-1), dtype=float)


def crps_gaussian(observations: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """CRPS of a Gaussian predictive distribution N(mu, sigma²), in closed form.

    Parameters
    ----------
    observations, mu : array_like
        Observed values and predictive means, same unit (broadcast together).
    sigma : array_like
        Predictive standard deviations, same unit, ≥ 0; ``sigma = 0`` gives ``|obs − mu|``.

    Returns
    -------
    numpy.ndarray
        CRPS ≥ 0 in the unit of the data.

    Notes
    -----
    ``CRPS = σ [z (2Φ(z) − 1) + 2φ(z) − 1/√π]`` with ``z = (y − μ)/σ`` (Gneiting, Raftery,
    Westveld & Goldman 2005, *Mon. Wea. Rev.* 133, 1098-1118, eq. 5; Gneiting & Raftery
    2007, *J. Amer. Statist. Assoc.* 102, 359-378).
    """
    y, m, s = np.broadcast_arrays(np.asarray(observations, dtype=float),
                                  np.asarray(mu, dtype=float), np.asarray(sigma, dtype=float))
    if np.any(s < 0):
        raise ValueError(f"sigma must be >= 0, got a minimum of {np.nanmin(s):g}")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (y - m) / s
        # σ z written as y − μ, so a tiny σ (z overflowing) still gives |y − μ|
        crps = ((y - m) * (2.0 * stats.norm.cdf(z) - 1.0)
                + s * (2.0 * stats.norm.pdf(z) - _INV_SQRT_PI))
    return np.asarray(np.where(s == 0, np.abs(y - m), crps), dtype=float)


def sigma_from_interval(lower: ArrayLike, upper: ArrayLike, alpha: float) -> np.ndarray:
    """Standard deviation of the Gaussian whose central ``1 − alpha`` interval is
    ``[lower, upper]``: ``(upper − lower) / (2 z_{1−alpha/2})``, in the unit of the bounds."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    return np.asarray((hi - lo) / (2.0 * stats.norm.ppf(1.0 - alpha / 2.0)), dtype=float)


def mae(forecast: ArrayLike, observed: ArrayLike) -> float:
    """Mean absolute error ``mean |forecast − observed|`` in the unit of the data; NaN pairs
    are dropped (NaN if none is left)."""
    f = np.asarray(forecast, dtype=float)
    o = np.asarray(observed, dtype=float)
    if f.shape != o.shape:
        raise ValueError(f"forecast and observed differ in shape: {f.shape} and {o.shape}")
    keep = ~(np.isnan(f) | np.isnan(o))
    return float(np.mean(np.abs(f[keep] - o[keep]))) if keep.any() else math.nan


def skill_score(score: ArrayLike, reference_score: ArrayLike) -> np.ndarray:
    """Skill score ``1 − score / reference_score`` of a negatively oriented score (MSE, MAE,
    CRPS ...): 1 is perfect, 0 is no better than the reference, < 0 worse.

    Returns NaN where the reference score is 0 (a perfect reference leaves no room for
    skill) or either score is NaN.

    Notes
    -----
    Murphy, A.H. (1988), Skill scores based on the mean square error and their
    relationships to the correlation coefficient, *Mon. Wea. Rev.* 116, 2417-2424;
    Wilks, D.S. (2011), *Statistical Methods in the Atmospheric Sciences*, 3rd ed., §8.1.5.
    """
    s = np.asarray(score, dtype=float)
    r = np.asarray(reference_score, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - s / r
    return np.asarray(np.where(r == 0, np.nan, out), dtype=float)


def _safe(metric: object, sim: np.ndarray, obs: np.ndarray) -> float:
    """NSE or KGE, or NaN where it is undefined (constant obs or sim, too few pairs)."""
    if sim.size < 2:
        return math.nan
    try:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return float(metric(sim, obs))  # type: ignore[operator]
    except (ValueError, ArithmeticError):  # undefined, or overflow on degenerate data
        return math.nan


def _point_and_crps(frame: pd.DataFrame, interval_alpha: float | None) -> pd.DataFrame:
    """One row per (method, issue_time, lead_days): the point forecast and its CRPS.

    Rows with a ``member`` (not NaN) are ensemble members: the point forecast is the
    ensemble mean and the CRPS the ensemble's (:func:`crps_ensemble`, all the groups of a
    member count at once); the other rows are point forecasts (CRPS: the absolute error,
    or the Gaussian CRPS of their interval with ``interval_alpha``)."""
    keys = ["method", "issue_time", "lead_days"]
    parts = []
    if "member" in frame.columns:
        is_member = frame["member"].notna().to_numpy()
        ens = frame[is_member]
        frame = frame[~is_member]
        if len(ens):
            wide = ens.pivot_table(index=keys, columns="member", values="forecast",
                                   aggfunc="first")
            obs = ens.groupby(keys, sort=True)["observed"].first().reindex(wide.index)
            members = wide.to_numpy(dtype=float)
            has = np.isfinite(members).any(axis=1)
            o = obs.to_numpy(dtype=float)
            crps = np.full(len(o), math.nan)
            if has.any():
                crps[has] = crps_ensemble(o[has], members[has])
            with np.errstate(invalid="ignore"):
                point = np.where(has, np.nanmean(np.where(has[:, None], members, 0.0),
                                                 axis=1), math.nan)
            parts.append(pd.DataFrame({**{k: wide.index.get_level_values(k) for k in keys},
                                       "forecast": point, "observed": o, "crps": crps}))
    if len(frame) or not parts:
        out = frame[[*keys, "forecast", "observed"]].copy()
        f = out["forecast"].to_numpy(dtype=float)
        o = out["observed"].to_numpy(dtype=float)
        scores = np.abs(f - o)
        if interval_alpha is not None and {"lower", "upper"} <= set(frame.columns):
            sigma = sigma_from_interval(frame["lower"], frame["upper"], interval_alpha)
            has_sigma = np.isfinite(sigma) & (sigma >= 0)
            scores = np.where(has_sigma,
                              crps_gaussian(o, f, np.where(has_sigma, sigma, 0.0)), scores)
        out["crps"] = scores
        if out.duplicated(keys).any():
            raise ValueError("the backtest has several rows for one (method, issue_time, "
                             "lead_days); ensemble members need a 'member' column")
        parts.insert(0, out)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def skill_by_lead(backtest: pd.DataFrame, *,
                  references: Sequence[str] = ("persistence", "climatology"),
                  score: Score = "mse", interval_alpha: float | None = None) -> pd.DataFrame:
    """Skill of every forecasting method by lead time, against the reference methods.

    Parameters
    ----------
    backtest : pandas.DataFrame
        Tidy rolling-origin backtest: ``issue_time``, ``lead_days`` (int, days),
        ``method`` (str), ``forecast`` and ``observed`` (same unit, e.g. m³/s or cm);
        optionally ``lower``/``upper`` (a central prediction interval) and ``member``
        (ensemble member id: then one row per member, the point forecast is the ensemble
        mean and the CRPS is the ensemble CRPS; NaN on the rows of point forecasts, so
        ensembles and deterministic methods can share one frame).  Must contain every
        reference method.
    references : sequence of str
        The reference methods; ``"persistence"`` must be among them for
        ``beats_persistence``.
    score : {"mse", "mae", "crps"}
        The score whose skill against persistence decides ``beats_persistence``.
    interval_alpha : float, optional
        When given, point-forecast rows with ``lower``/``upper`` are scored by the CRPS of
        the Gaussian whose central ``1 − interval_alpha`` interval they are (mean =
        ``forecast``); otherwise the CRPS of a non-ensemble row is its absolute error (the
        CRPS of a one-member ensemble), so an ensemble's ``skill_crps_vs_persistence``
        compares its CRPS with persistence's mean absolute error.

    Returns
    -------
    pandas.DataFrame
        One row per (``method``, ``lead_days``) with ``n`` (pairs scored), ``nse``,
        ``kge`` (2009), ``mae``, ``rmse``, ``mse``, ``crps`` (unit of the data), for each
        reference ``r``: ``skill_mse_vs_r``, ``skill_mae_vs_r``, ``skill_crps_vs_r``
        (1 − score/score_r), and ``beats_persistence`` (bool: the ``score`` skill against
        persistence is > 0; False for persistence itself and where undefined).

    Raises
    ------
    ValueError
        A column or reference method is missing, or ``score`` is unknown.

    Notes
    -----
    Every method is scored on the pairs that all methods share (the intersection), so the
    skill scores compare like with like.  NSE uses the mean of the verifying observations
    at that lead; the skill against the *climatology* method uses the climatology the
    forecaster had at issue time, which is the honest reference (Murphy 1988).
    Kitanidis, P.K. & Bras, R.L. (1980), Real-time forecasting with a conceptual
    hydrologic model 2, *Water Resour. Res.* 16, 1034-1044 (persistence index).
    """
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in backtest.columns]
    if missing:
        raise ValueError(f"the backtest lacks the column(s) {', '.join(missing)}; it needs "
                         f"{', '.join(REQUIRED_COLUMNS)}")
    methods = sorted(backtest["method"].unique())
    absent = [r for r in references if r not in methods]
    if absent:
        raise ValueError(f"reference method(s) {', '.join(absent)} not in the backtest "
                         f"(methods: {', '.join(map(str, methods)) or 'none'})")
    points = _point_and_crps(backtest, interval_alpha)
    points = points[np.isfinite(points["forecast"]) & np.isfinite(points["observed"])]
    # keep only the (issue_time, lead_days) pairs every method has
    counts = points.groupby(["issue_time", "lead_days"])["method"].nunique()
    common = counts[counts == len(methods)].index
    points = points.set_index(["issue_time", "lead_days"]).loc[
        lambda d: d.index.isin(common)].reset_index()

    rows: list[dict[str, object]] = []
    for (method, lead), g in points.groupby(["method", "lead_days"], sort=True):
        f = g["forecast"].to_numpy(dtype=float)
        o = g["observed"].to_numpy(dtype=float)
        err = f - o
        rows.append({"method": method, "lead_days": int(lead), "n": int(f.size),
                     "nse": _safe(nse, f, o), "kge": _safe(kge, f, o),
                     "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
                     "mse": float(np.mean(err ** 2)), "crps": float(np.mean(g["crps"]))})
    columns = ["method", "lead_days", "n", "nse", "kge", "mae", "rmse", "mse", "crps"]
    table = pd.DataFrame(rows, columns=columns)
    for ref in references:
        ref_scores = table[table["method"] == ref].set_index("lead_days")
        for name in ("mse", "mae", "crps"):
            ref_col = table["lead_days"].map(ref_scores[name])
            table[f"skill_{name}_vs_{ref}"] = skill_score(table[name], ref_col)
    if "persistence" in references:
        skill = table[f"skill_{score}_vs_persistence"].to_numpy(dtype=float)
        table["beats_persistence"] = np.nan_to_num(skill, nan=-1.0) > 0
    else:
        table["beats_persistence"] = False
    return table.reset_index(drop=True)
