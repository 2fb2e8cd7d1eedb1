"""Empirical quantile mapping: bias correction of a model's discharge to a gauge's record.

A model (an external ensemble forecast, e.g. GloFAS) reproduces a river's flow with a
systematic error in its distribution: too much or too little water, peaks too flat.
Quantile mapping replaces each model value by the observed value of the same
non-exceedance probability::

    x_corrected = F_obs^-1( F_model(x) )

with ``F_model`` the empirical distribution of the model's *climatology* (a reforecast
over a period with observations) and ``F_obs`` that of the observations over the same
period.  This is the non-parametric "QUANT" transformation of Gudmundsson et al. (2012),
the best of the methods they compared for precipitation, and the usual post-processing
of the GloFAS reforecasts at gauges (Hersbach et al. 2020; Harrigan et al. 2020).

Rules (every function here)
    * Quantiles are taken at the Hazen plotting positions ``p_i = (i + 0.5) / n``
      (``numpy.quantile(..., method="hazen")``); with ``n_quantiles`` None the model's
      quantiles are its sorted values themselves, so mapping the model climatology gives
      back the observed quantiles at those probabilities exactly.
    * Between quantiles the transfer function is linear (``numpy.interp``).  Tied model
      quantiles (e.g. many zero flows) are merged into one node whose observed value is
      the mean of theirs, so the function stays single-valued and monotone.
    * Beyond the calibration range (a value above the highest model quantile or below
      the lowest) the correction of the extreme quantile is held constant:
      ``"multiplicative"`` (default; the value is scaled by ``obs_q / model_q`` of the
      extreme node, natural for discharge, a flow is never made negative) or
      ``"additive"`` (the difference ``obs_q - model_q`` is added).  A multiplicative
      correction at a model quantile of zero (or so small the ratio overflows) is undefined:
      there the additive rule is used.
    * The result is clipped below at ``lower_bound`` (0 for discharge: a river does not
      flow backwards); NaN stays NaN.
    * The transfer function is monotone non-decreasing, and the identity when the model
      sample equals the observed one.

Season and lead
    A model's bias changes with the season (snowmelt flood, summer low flow) and its lead
    time.  :func:`map_by_window` fits one transfer function per target day of year from
    the model values and observations whose day of year lies within ``± half_width`` days
    (circular, 366-day year; :func:`in_window`); the caller passes one lead's reforecast
    at a time.

Units: any (the model and observed samples in the same unit; discharge m³/s in hydrorisk).

References
    Gudmundsson, L., Bremnes, J. B., Haugen, J. E., Engen-Skaugen, T. (2012). Technical
    Note: Downscaling RCM precipitation to the station scale using statistical
    transformations – a comparison of methods. *Hydrology and Earth System Sciences* 16,
    3383–3390, doi:10.5194/hess-16-3383-2012.
    Hersbach, H., et al. (2020) and Harrigan, S., Zsoter, E., Alfieri, L., et al. (2020).
    GloFAS-ERA5 operational global river discharge reanalysis 1979–present. *Earth System
    Science Data* 12, 2043–2060, doi:10.5194/essd-12-2043-2020 (the GloFAS data, its
    reforecasts and their bias against gauges).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["QuantileMappingError", "QuantileMap", "fit", "in_window", "map_by_window",
           "EXTRAPOLATIONS"]

Extrapolation = Literal["multiplicative", "additive"]
#: the rules for values beyond the calibration range
EXTRAPOLATIONS: tuple[str, ...] = ("multiplicative", "additive")
#: days in the circular day-of-year axis (a leap year: day 366 is next to day 1)
YEAR_DAYS = 366


class QuantileMappingError(ValueError):
    """A sample too small or not finite to fit a transfer function."""


@dataclass(frozen=True)
class QuantileMap:
    """A fitted transfer function: model quantiles ``model_q`` (strictly increasing) ->
    observed quantiles ``obs_q`` (non-decreasing), both in the samples' unit, with the
    non-exceedance probabilities ``probs`` of the nodes and the rule beyond them."""

    model_q: np.ndarray
    obs_q: np.ndarray
    probs: np.ndarray
    extrapolation: Extrapolation = "multiplicative"
    lower_bound: float | None = 0.0

    def __call__(self, values: ArrayLike) -> np.ndarray:
        return self.apply(values)

    def apply(self, values: ArrayLike) -> np.ndarray:
        """Map model ``values`` (any shape; NaN stays NaN) to the observed scale."""
        x = np.asarray(values, dtype=float)
        xq, yq = self.model_q, self.obs_q
        out = np.interp(x, xq, yq)
        hi, lo = x > xq[-1], x < xq[0]
        out = np.where(hi, self._beyond(x, xq[-1], yq[-1]), out)
        out = np.where(lo, self._beyond(x, xq[0], yq[0]), out)
        if self.lower_bound is not None:
            out = np.maximum(out, self.lower_bound)
        return np.where(np.isnan(x), np.nan, out)

    def _beyond(self, x: np.ndarray, xq: float, yq: float) -> np.ndarray:
        if self.extrapolation == "multiplicative" and xq > 0 and yq >= 0:
            with np.errstate(over="ignore"):
                ratio = yq / xq
            if np.isfinite(ratio):
                return x * ratio
        return x + (yq - xq)

    @property
    def n_nodes(self) -> int:
        return int(self.model_q.size)


def _sample(name: str, values: ArrayLike, min_samples: int) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    if np.isinf(a).any():
        raise QuantileMappingError(f"the {name} sample holds an infinite value")
    a = a[~np.isnan(a)]
    if a.size < min_samples:
        raise QuantileMappingError(f"the {name} sample has {a.size} finite value(s); at "
                                   f"least {min_samples} are needed")
    return a


def fit(model: ArrayLike, observed: ArrayLike, *, n_quantiles: int | None = None,
        extrapolation: Extrapolation = "multiplicative", lower_bound: float | None = 0.0,
        min_samples: int = 2) -> QuantileMap:
    """Fit the empirical transfer function from a model climatology to observations.

    Parameters
    ----------
    model : array
        The model's values over the calibration period (e.g. every member of every
        reforecast at one lead and season), in the observations' unit; NaN ignored.
    observed : array
        The observations over the same period, same unit; NaN ignored.
    n_quantiles : int, optional
        Nodes at the Hazen positions of ``n_quantiles`` probabilities (None: one per model
        value — the exact empirical CDF).
    extrapolation : "multiplicative" | "additive"
        The constant correction beyond the extreme nodes (module docs).
    lower_bound : float or None
        Clip mapped values below (0 for discharge; None: no bound).
    min_samples : int
        Fewer finite values in either sample is an error.
    """
    if extrapolation not in EXTRAPOLATIONS:
        raise QuantileMappingError(f"unknown extrapolation '{extrapolation}' (choose "
                                   f"{' or '.join(EXTRAPOLATIONS)})")
    x = _sample("model", model, max(min_samples, 1))
    y = _sample("observed", observed, max(min_samples, 1))
    n = x.size if n_quantiles is None else int(n_quantiles)
    if n < 1:
        raise QuantileMappingError(f"n_quantiles must be at least 1, got {n_quantiles}")
    probs = (np.arange(n) + 0.5) / n
    xq = np.sort(x) if n_quantiles is None else np.quantile(x, probs, method="hazen")
    yq = np.quantile(y, probs, method="hazen")
    # merge tied model nodes: one node per distinct model value, the mean observed value
    uq, start = np.unique(xq, return_index=True)
    if uq.size < xq.size:
        counts = np.diff(np.r_[start, xq.size])
        yq = np.add.reduceat(yq, start) / counts
        probs = np.add.reduceat(probs, start) / counts
        xq = uq
    return QuantileMap(xq, np.maximum.accumulate(yq), probs, extrapolation, lower_bound)


def in_window(doy: ArrayLike, centre: int, half_width: int) -> np.ndarray:
    """Whether each day of year ``doy`` (1..366) lies within ``± half_width`` days of
    ``centre`` on the circular year (31 December is next to 1 January)."""
    d = np.asarray(doy, dtype=int)
    diff = np.abs(d - int(centre)) % YEAR_DAYS
    return np.minimum(diff, YEAR_DAYS - diff) <= int(half_width)


def map_by_window(values: ArrayLike, values_doy: ArrayLike, model: ArrayLike,
                  model_doy: ArrayLike, observed: ArrayLike, observed_doy: ArrayLike, *,
                  half_width: int = 15, n_quantiles: int | None = None,
                  extrapolation: Extrapolation = "multiplicative",
                  lower_bound: float | None = 0.0, min_samples: int = 20) -> np.ndarray:
    """Quantile-map ``values`` with one transfer function per day of year.

    Parameters
    ----------
    values : array (n, ...)
        Model values to correct; the first axis matches ``values_doy`` (e.g. one lead's
        members: (issues, members)).
    values_doy : array (n,)
        Day of year (1..366) each row of ``values`` is valid on.
    model, model_doy : arrays (m,)
        The model climatology (one lead's reforecast values, every member) and the day of
        year each is valid on.
    observed, observed_doy : arrays (k,)
        The observations over the same period and their days of year.
    half_width : int
        Days either side of the target day of year whose values form the samples.
    min_samples : int
        Fewer finite values in a window (model or observed) is a
        :class:`QuantileMappingError` naming the day of year.

    Returns
    -------
    numpy.ndarray
        ``values`` corrected, same shape.
    """
    v = np.asarray(values, dtype=float)
    vd = np.asarray(values_doy, dtype=int)
    if v.ndim == 0 or v.shape[0] != vd.size:
        raise QuantileMappingError("values and values_doy differ in length")
    m, md = np.asarray(model, dtype=float).ravel(), np.asarray(model_doy, dtype=int).ravel()
    o, od = (np.asarray(observed, dtype=float).ravel(),
             np.asarray(observed_doy, dtype=int).ravel())
    if m.size != md.size or o.size != od.size:
        raise QuantileMappingError("a sample and its days of year differ in length")
    out = np.full(v.shape, np.nan)
    for day in np.unique(vd):
        try:
            qm = fit(m[in_window(md, day, half_width)], o[in_window(od, day, half_width)],
                     n_quantiles=n_quantiles, extrapolation=extrapolation,
                     lower_bound=lower_bound, min_samples=min_samples)
        except QuantileMappingError as e:
            raise QuantileMappingError(f"day of year {day} (± {half_width} d): {e}") from None
        rows = vd == day
        out[rows] = qm.apply(v[rows])
    return out
