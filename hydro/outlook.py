"""Seasonal spring-flood outlook: a linear regression of a flood characteristic on the
winter's predictors, with prediction intervals, exceedance probabilities and honest
leave-one-year-out skill (pure functions).

The predictors of a year are values known by the issue date (1 March by default): e.g.
basin snow water equivalent on 1 March (mm), an autumn wetness index (—), frost depth (cm),
November-February precipitation (mm).  The target of a year is the spring flood's volume
(hm³), peak discharge (m³/s) or peak stage (cm above gauge zero).  Both are tables indexed
by **year** (int); the caller picks the columns and converts units beforehand — this
module only regresses, so every output is in the target's unit.

The model is ordinary least squares (statsmodels ``OLS``) of ``g(target)`` on the
predictors and an intercept, ``g`` the identity (``transform="none"``) or the natural
logarithm (``transform="log"``, for a skewed positive target such as a volume).  In log
space the point forecast is back-transformed with ``exp``: it is the predictive **median**
in the target's unit, not the mean (no smearing correction), and the interval bounds are
the back-transformed bounds.

Predictor selection is either **fixed** (the caller's columns, chosen before looking at the
skill) or **forward** stepwise by BIC.  In :func:`loyo_skill` forward selection is repeated
inside every leave-one-year-out fold, on the other years only, so the skill reported is the
skill of the whole procedure, not of one set chosen on all years (which would overstate it;
Hastie, Tibshirani & Friedman 2009, *The Elements of Statistical Learning*, 2nd ed., §7.10.2).

References: the regression forecast of spring-flood volume from snow and soil predictors
is the method of both national services (Popov, E.G. 1963, *Hydrological Forecasts*,
Gidrometeoizdat; WMO 2009, *Guide to Hydrological Practices* vol. II, WMO-No. 168, §6.3);
the prediction interval is the OLS one (Montgomery, Peck & Vining 2012, *Introduction to
Linear Regression Analysis*, 5th ed., §3.5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import stats

from hydro.errors import HydroriskError
from hydro.metrics import nse

__all__ = [
    "OutlookError",
    "TooFewYearsError",
    "OutlookModel",
    "Outlook",
    "LoyoSkill",
    "fit_outlook",
    "issue_outlook",
    "select_predictors",
    "loyo_skill",
    "climatology_percentile",
]

Transform = Literal["none", "log"]
Selection = Literal["fixed", "forward"]
TRANSFORMS: Final = ("none", "log")
SELECTIONS: Final = ("fixed", "forward")
#: fewest years a regression is fitted on
MIN_YEARS: Final = 8
#: fewest residual degrees of freedom (years − predictors − 1) a regression is fitted with
MIN_RESIDUAL_DF: Final = 3


class OutlookError(HydroriskError, ValueError):
    """An outlook cannot be computed from the data given; the message says what to fix."""


class TooFewYearsError(OutlookError):
    """Too few complete years (predictors and target) to fit or cross-validate."""


# ----------------------------------------------------------------------------- helpers

def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OutlookError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def _forward(y: np.ndarray, transform: str) -> np.ndarray:
    return np.log(y) if transform == "log" else y


def _backward(z: np.ndarray | float, transform: str) -> Any:
    return np.exp(z) if transform == "log" else z


def _table(predictors: pd.DataFrame, target: pd.Series, columns: Sequence[str],
           transform: str) -> tuple[pd.DataFrame, pd.Series]:
    """The complete years: predictors ``columns`` and the target, both without NaN."""
    _check_choice("transform", transform, TRANSFORMS)
    missing = [c for c in columns if c not in predictors.columns]
    if missing:
        raise OutlookError(f"no predictor column {', '.join(map(repr, missing))}; the table "
                           f"has {', '.join(map(str, predictors.columns)) or 'none'}")
    if predictors.index.has_duplicates or target.index.has_duplicates:
        raise OutlookError("predictors and target must have one row per year (duplicated "
                           "years in the index)")
    x = predictors.loc[:, list(columns)].astype(float)
    y = target.astype(float).rename("target")
    years = x.index.intersection(y.index)
    x, y = x.loc[years], y.loc[years]
    keep = x.notna().all(axis=1) & y.notna()
    x, y = x.loc[keep].sort_index(), y.loc[keep].sort_index()
    if transform == "log" and (y <= 0).any():
        bad = y[y <= 0]
        raise OutlookError(f"transform='log' needs a positive target; year {bad.index[0]} has "
                           f"{bad.iloc[0]:g}; use transform='none'")
    return x, y


def _need_years(n: int, n_predictors: int, min_years: int, what: str) -> None:
    need = max(min_years, n_predictors + 1 + MIN_RESIDUAL_DF)
    if n < need:
        raise TooFewYearsError(
            f"{what} needs at least {need} complete years (predictors and target without "
            f"gaps) for {n_predictors} predictor(s), got {n}; add years or use fewer "
            "predictors")


def _design(x: pd.DataFrame) -> pd.DataFrame:
    return sm.add_constant(x, has_constant="add")


# ----------------------------------------------------------------------------- results

@dataclass(frozen=True, eq=False)
class OutlookModel:
    """A fitted regression outlook.

    Attributes
    ----------
    predictors : tuple of str
        The predictor columns, in the order of ``params`` after ``const``.
    transform : {"none", "log"}
        ``g`` applied to the target before fitting.
    years : tuple of int
        The years fitted on.
    params, bse : pandas.Series
        Coefficients and their standard errors, in the transformed space
        (``const`` first).
    scale : float
        Residual variance ``SSR / (n − p)`` in the transformed space.
    df_resid : float
        Residual degrees of freedom ``n − p``.
    rsquared, rsquared_adj : float
        In the transformed space.
    climatology : numpy.ndarray
        The target of the years fitted on, sorted, in the target's unit.
    result : statsmodels RegressionResults
        The statsmodels fit (not compared, not printed).
    """

    predictors: tuple[str, ...]
    transform: Transform
    years: tuple[int, ...]
    params: pd.Series
    bse: pd.Series
    scale: float
    df_resid: float
    rsquared: float
    rsquared_adj: float
    climatology: np.ndarray = field(repr=False)
    result: Any = field(repr=False, compare=False)


@dataclass(frozen=True)
class Outlook:
    """One issued outlook.

    Attributes
    ----------
    forecast : float
        Point forecast in the target's unit (the predictive median when ``transform`` is
        ``"log"``, the mean otherwise).
    lower, upper : float
        Central ``1 − alpha`` prediction interval (statsmodels ``obs_ci``), target's unit.
    alpha : float
    percentile : float
        Where the point forecast falls in the climatology, % (see
        :func:`climatology_percentile`).
    exceedance : dict
        Threshold name → probability (0..1) that the target exceeds it.
    mean_transformed, se_obs_transformed, df_resid : float
        The predictive t-distribution in the transformed space: location, scale
        ``√(se_mean² + s²)`` and degrees of freedom.
    predictors : dict
        The predictor values used, by name.
    transform : {"none", "log"}
    """

    forecast: float
    lower: float
    upper: float
    alpha: float
    percentile: float
    exceedance: dict[str, float]
    mean_transformed: float
    se_obs_transformed: float
    df_resid: float
    predictors: dict[str, float]
    transform: Transform

    def probability_of_exceeding(self, value: float) -> float:
        """P(target > ``value``), ``value`` in the target's unit, from the predictive
        t-distribution of the OLS forecast (in the transformed space when transformed)."""
        return _exceedance(value, self.mean_transformed, self.se_obs_transformed,
                           self.df_resid, self.transform)


@dataclass(frozen=True, eq=False)
class LoyoSkill:
    """Leave-one-year-out cross-validated skill of an outlook procedure.

    Attributes
    ----------
    hindcasts : pandas.DataFrame
        Indexed by year: ``observed``, ``forecast``, ``lower``, ``upper`` (target's unit),
        ``climatology`` (mean of the other years) and ``predictors`` (the set used, as a
        ``+``-joined string).
    nse : float
        Nash-Sutcliffe efficiency of the hindcasts (reference: the mean of all years).
    skill_vs_climatology : float
        ``1 − Σ(f − o)² / Σ(c − o)²`` with ``c`` the mean of the *other* years — the
        climatology a forecaster would have had; 1 perfect, ≤ 0 no skill.
    coverage : float
        Fraction of years whose observation is inside the hindcast interval.
    alpha : float
    selection : {"fixed", "forward"}
    predictor_frequency : dict
        Predictor → fraction of folds it was used in.
    """

    hindcasts: pd.DataFrame
    nse: float
    skill_vs_climatology: float
    coverage: float
    alpha: float
    selection: Selection
    predictor_frequency: dict[str, float]


# ----------------------------------------------------------------------------- API

def fit_outlook(predictors: pd.DataFrame, target: pd.Series, *,
                columns: Sequence[str] | None = None, transform: Transform = "none",
                min_years: int = MIN_YEARS) -> OutlookModel:
    """Fit the regression of ``g(target)`` on the predictors (OLS with an intercept).

    Parameters
    ----------
    predictors : pandas.DataFrame
        Indexed by year, one column per predictor known by the issue date (e.g. SWE on
        1 March in mm, frost depth in cm).  Years without a target are ignored here, so the
        table may include the year being forecast.
    target : pandas.Series
        Indexed by year: spring-flood volume (hm³), peak discharge (m³/s) or peak stage (cm).
    columns : sequence of str, optional
        The predictors to use (all columns when None).
    transform : {"none", "log"}
        Regress the target itself or its natural logarithm (target must then be > 0).
    min_years : int
        Fewest complete years accepted (at least predictors + 1 + 3 are always needed).

    Returns
    -------
    OutlookModel

    Raises
    ------
    TooFewYearsError
        Too few complete years (a year with any predictor or the target missing is dropped).
    OutlookError
        Unknown column or transform, a non-positive target with ``"log"``, or predictors
        that are constant or linearly dependent over the years.
    """
    cols = tuple(predictors.columns if columns is None else columns)
    x, y = _table(predictors, target, cols, transform)
    _need_years(len(y), len(cols), min_years, f"the outlook of {target.name or 'the target'}")
    design = _design(x)
    rank = np.linalg.matrix_rank(design.to_numpy())
    if rank < design.shape[1]:
        raise OutlookError(f"predictors {', '.join(cols)} are constant or linearly dependent "
                           f"over the {len(y)} years {y.index.min()}-{y.index.max()}; drop one")
    z = pd.Series(_forward(y.to_numpy(), transform), index=y.index)
    result = sm.OLS(z, design).fit()
    return OutlookModel(predictors=cols, transform=transform,
                        years=tuple(int(v) for v in y.index),
                        params=result.params.copy(), bse=result.bse.copy(),
                        scale=float(result.scale), df_resid=float(result.df_resid),
                        rsquared=float(result.rsquared), rsquared_adj=float(result.rsquared_adj),
                        climatology=np.sort(y.to_numpy()), result=result)


def _exceedance(value: float, mean: float, se: float, df: float, transform: str) -> float:
    if transform == "log" and value <= 0:
        return 1.0
    z = float(_forward(np.asarray(value, dtype=float), transform))
    return float(stats.t.sf((z - mean) / se, df))


def climatology_percentile(value: float, climatology: ArrayLike) -> float:
    """Percentage of the climatological values at or below ``value`` (0-100).

    ``100 · #{c ≤ value} / n``: the forecast is higher than or equal to this percentage of
    the years of record (scipy ``percentileofscore(kind="weak")``, the empirical CDF).
    """
    c = np.asarray(climatology, dtype=float)
    c = c[np.isfinite(c)]
    if c.size == 0:
        raise OutlookError("the climatology has no finite value")
    return float(stats.percentileofscore(c, value, kind="weak"))


def issue_outlook(model: OutlookModel, predictors: Mapping[str, float] | pd.Series, *,
                  alpha: float = 0.1, thresholds: Mapping[str, float] | None = None,
                  climatology: ArrayLike | None = None) -> Outlook:
    """Issue the outlook for one year from its predictor values.

    Parameters
    ----------
    model : OutlookModel
        From :func:`fit_outlook`.
    predictors : mapping or pandas.Series
        The year's predictor values by name, in the units they were fitted in; extra names
        are ignored.
    alpha : float
        Central ``1 − alpha`` prediction interval (0.1: 5-95 %).
    thresholds : mapping, optional
        Name → value in the target's unit (e.g. ``{"kz_dangerous": 850}`` for a peak stage
        in cm, taken from the gauge's threshold schemes); the probability of exceeding each
        is returned.
    climatology : array_like, optional
        The target's climatological values for the percentile (a longer record than the
        predictors' may be given); the years fitted on by default.

    Returns
    -------
    Outlook

    Notes
    -----
    The predictive distribution of ``g(target)`` is Student's t with ``n − p`` degrees of
    freedom, location ``x₀ᵀβ̂`` and scale ``√(s² (1 + x₀ᵀ(XᵀX)⁻¹x₀))`` (Montgomery, Peck &
    Vining 2012, §3.5); the interval is statsmodels'
    ``get_prediction(...).summary_frame(alpha)`` ``obs_ci``, back-transformed, and
    ``P(target > v) = 1 − T_{n−p}((g(v) − x₀ᵀβ̂) / scale)``.
    """
    if not 0 < alpha < 1:
        raise OutlookError(f"alpha must be in (0, 1) (0.1 for a 5-95 % interval), got {alpha}")
    values: dict[str, float] = {}
    for name in model.predictors:
        if name not in predictors:
            raise OutlookError(f"predictor {name!r} has no value for the outlook; the model "
                               f"uses {', '.join(model.predictors)}")
        v = float(predictors[name])
        if not math.isfinite(v):
            raise OutlookError(f"predictor {name!r} is {v} for the outlook; it must be known "
                               "by the issue date")
        values[name] = v
    exog = pd.DataFrame([{"const": 1.0, **values}], columns=list(model.params.index))
    frame = model.result.get_prediction(exog).summary_frame(alpha=alpha)
    mean = float(frame["mean"].iloc[0])
    se_obs = math.sqrt(float(frame["mean_se"].iloc[0]) ** 2 + model.scale)
    forecast = float(_backward(mean, model.transform))
    lower = float(_backward(float(frame["obs_ci_lower"].iloc[0]), model.transform))
    upper = float(_backward(float(frame["obs_ci_upper"].iloc[0]), model.transform))
    clim = model.climatology if climatology is None else climatology
    return Outlook(
        forecast=forecast, lower=lower, upper=upper, alpha=alpha,
        percentile=climatology_percentile(forecast, clim),
        exceedance={str(k): _exceedance(float(v), mean, se_obs, model.df_resid, model.transform)
                    for k, v in (thresholds or {}).items()},
        mean_transformed=mean, se_obs_transformed=se_obs, df_resid=model.df_resid,
        predictors=values, transform=model.transform)


def select_predictors(predictors: pd.DataFrame, target: pd.Series, *,
                      candidates: Sequence[str] | None = None, transform: Transform = "none",
                      max_predictors: int = 3, min_years: int = MIN_YEARS) -> tuple[str, ...]:
    """Forward stepwise selection by BIC.

    Starting from the intercept-only model, add the candidate that lowers the BIC most;
    stop when none lowers it, ``max_predictors`` are in, or the years would not support
    another predictor (see :func:`fit_outlook`).  Every model is fitted on the years
    complete for *all* candidates, so their BICs compare.

    Returns
    -------
    tuple of str
        The chosen predictors in the order they entered (possibly empty: climatology).

    Notes
    -----
    Schwarz, G. (1978), Estimating the dimension of a model, *Ann. Statist.* 6, 461-464.
    Selection on all years and skill on the same years overstate skill; use
    :func:`loyo_skill` with ``selection="forward"`` to assess the procedure.
    """
    cands = tuple(predictors.columns if candidates is None else candidates)
    if max_predictors < 0:
        raise OutlookError(f"max_predictors must be >= 0, got {max_predictors}")
    x, y = _table(predictors, target, cands, transform)
    _need_years(len(y), 0, min_years, "predictor selection")
    z = pd.Series(_forward(y.to_numpy(), transform), index=y.index)
    chosen: list[str] = []
    best = float(sm.OLS(z, np.ones((len(z), 1))).fit().bic)
    while len(chosen) < max_predictors:
        if len(y) < max(min_years, len(chosen) + 2 + MIN_RESIDUAL_DF):
            break
        trial: list[tuple[float, str]] = []
        for c in cands:
            if c in chosen:
                continue
            design = _design(x[[*chosen, c]])
            if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
                continue
            trial.append((float(sm.OLS(z, design).fit().bic), c))
        if not trial:
            break
        bic, c = min(trial)
        if bic >= best:
            break
        best = bic
        chosen.append(c)
    return tuple(chosen)


def loyo_skill(predictors: pd.DataFrame, target: pd.Series, *,
               columns: Sequence[str] | None = None, transform: Transform = "none",
               selection: Selection = "fixed", max_predictors: int = 3, alpha: float = 0.1,
               min_years: int = MIN_YEARS) -> LoyoSkill:
    """Leave-one-year-out cross-validated skill of the outlook procedure.

    For each year, the model is fitted on the other years only — with ``selection =
    "forward"`` the predictors are also *selected* on the other years only, among
    ``columns`` — and that year is hindcast from its predictors.

    Parameters
    ----------
    predictors, target, columns, transform, min_years :
        As for :func:`fit_outlook` (``columns`` are the candidates when selecting).
    selection : {"fixed", "forward"}
        ``"fixed"``: always ``columns``; ``"forward"``: :func:`select_predictors` in each
        fold (a fold choosing no predictor hindcasts the mean of the other years).
    max_predictors : int
        For forward selection.
    alpha : float
        Interval of the hindcasts.

    Returns
    -------
    LoyoSkill

    Raises
    ------
    TooFewYearsError
        When a fold (all complete years but one) is too short to fit.

    Notes
    -----
    NSE (Nash & Sutcliffe 1970) and the MSE skill score against the leave-one-out
    climatological mean (Murphy 1988, *Mon. Wea. Rev.* 116, 2417-2424).  Because the
    leave-one-out mean is further from each year than the all-years mean,
    ``skill_vs_climatology = 1 − (1 − NSE)((n − 1)/n)²`` — slightly above NSE.
    Cross-validation of regression forecasts: Michaelsen, J. (1987), *J. Climate Appl.
    Meteor.* 26, 1589-1600.
    """
    _check_choice("selection", selection, SELECTIONS)
    if not 0 < alpha < 1:
        raise OutlookError(f"alpha must be in (0, 1), got {alpha}")
    cols = tuple(predictors.columns if columns is None else columns)
    x, y = _table(predictors, target, cols, transform)
    n_fixed = len(cols) if selection == "fixed" else 0
    _need_years(len(y) - 1, n_fixed, min_years,
                f"leave-one-year-out skill of {target.name or 'the target'} (each fold)")
    rows = []
    used: dict[str, int] = dict.fromkeys(cols, 0)
    for year in y.index:
        x_train, y_train = x.drop(index=year), y.drop(index=year)
        if selection == "forward":
            chosen = select_predictors(x_train, y_train, candidates=cols, transform=transform,
                                       max_predictors=max_predictors, min_years=min_years)
        else:
            chosen = cols
        for c in chosen:
            used[c] += 1
        clim = float(y_train.mean())
        if chosen:
            model = fit_outlook(x_train, y_train, columns=chosen, transform=transform,
                                min_years=min_years)
            out = issue_outlook(model, x.loc[year], alpha=alpha)
            f, lo, hi = out.forecast, out.lower, out.upper
        else:  # intercept only: the t interval of a new draw around the mean
            z = _forward(y_train.to_numpy(), transform)
            n = z.size
            half = stats.t.ppf(1 - alpha / 2, n - 1) * z.std(ddof=1) * math.sqrt(1 + 1 / n)
            f = float(_backward(z.mean(), transform))
            lo = float(_backward(z.mean() - half, transform))
            hi = float(_backward(z.mean() + half, transform))
        rows.append({"year": year, "observed": float(y.loc[year]), "forecast": f, "lower": lo,
                     "upper": hi, "climatology": clim, "predictors": "+".join(chosen)})
    hind = pd.DataFrame(rows).set_index("year")
    o = hind["observed"].to_numpy()
    f_all = hind["forecast"].to_numpy()
    sse = float(np.sum((f_all - o) ** 2))
    sse_clim = float(np.sum((hind["climatology"].to_numpy() - o) ** 2))
    inside = (hind["lower"] <= hind["observed"]) & (hind["observed"] <= hind["upper"])
    return LoyoSkill(hindcasts=hind, nse=nse(f_all, o),
                     skill_vs_climatology=1.0 - sse / sse_clim if sse_clim > 0 else math.nan,
                     coverage=float(inside.mean()), alpha=alpha, selection=selection,
                     predictor_frequency={c: k / len(y) for c, k in used.items()})
