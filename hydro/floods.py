"""Flood frequency analysis of annual maxima, and thresholds derived from it.

Pure functions over numpy/pandas objects: no file, database or clock access.

Units: the peaks may be in any unit of a positive quantity (discharge in m³/s, stage in cm
above gauge zero, ...).  Every return level comes back **in the unit of the peaks**; no
conversion happens here.  Return periods are in **years** (one peak per year).

Distributions are scipy's (``genextreme``, ``gumbel_r``, ``pearson3``); this module only
*estimates* their parameters:

========  ==========================================  ===============================
dist      scipy distribution (fitted to)              parameters (``fit.params``)
========  ==========================================  ===============================
gev       ``genextreme`` (peaks)                      ``c``, ``loc``, ``scale``
gumbel    ``gumbel_r`` (peaks)                        ``loc``, ``scale``
lp3       ``pearson3`` (log10 of the peaks)           ``skew``, ``loc``, ``scale``
========  ==========================================  ===============================

Mind scipy's sign convention for the GEV shape: ``c = -ξ`` (Hosking's ``k``), so ``c < 0``
is the heavy-tailed (Fréchet-type) case most flood series show.  For log-Pearson III,
``loc``, ``scale`` and ``skew`` are the mean, standard deviation and skew of log10 of the
peaks (scipy's ``pearson3`` is standardised that way).

Methods: ``"lmom"`` (L-moments, Hosking & Wallis 1997), ``"mle"`` (maximum likelihood with
scipy's optimiser, started from the L-moment estimates) and ``"mom"`` (conventional moments;
for ``lp3`` the Bulletin 17B indirect method on log10 of the peaks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special, stats

__all__ = [
    "DISTRIBUTIONS",
    "METHODS",
    "DEFAULT_PERIODS",
    "MIN_PEAKS",
    "B17B_GENERALIZED_SKEW_MSE",
    "FloodFrequencyFit",
    "fit_annual_maxima",
    "annual_maxima",
    "sample_lmoments",
    "b17b_station_skew",
    "b17b_weighted_skew",
    "return_level_table",
    "threshold_table",
    "time_to_threshold",
    "rate_of_rise",
]

Dist = Literal["gev", "gumbel", "lp3"]
Method = Literal["lmom", "mle", "mom"]
CIKind = Literal["parametric", "nonparametric", "b17b"]

DISTRIBUTIONS: Final = ("gev", "gumbel", "lp3")
METHODS: Final = ("lmom", "mle", "mom")
CI_KINDS: Final = ("parametric", "nonparametric", "b17b")
#: return periods (years) of the standard table
DEFAULT_PERIODS: Final = (2, 5, 10, 20, 50, 100)
#: fewest annual peaks accepted; three parameters from fewer is guesswork (17B asks for 10)
MIN_PEAKS: Final = 5
#: mean square error of the generalized skew read from Bulletin 17B's Plate I
B17B_GENERALIZED_SKEW_MSE: Final = 0.302

_SCIPY: Final = {"gev": stats.genextreme, "gumbel": stats.gumbel_r, "lp3": stats.pearson3}
_PARAM_NAMES: Final = {"gev": ("c", "loc", "scale"), "gumbel": ("loc", "scale"),
                       "lp3": ("skew", "loc", "scale")}
_LN2: Final = math.log(2.0)
_LN3: Final = math.log(3.0)
#: bracket of the GEV shape c (= Hosking's k) searched by the L-moment and moment fits
_GEV_C_MIN: Final = -0.999  # c <= -1 has no finite mean
_GEV_C_MIN_MOM: Final = -1.0 / 3.0 + 1e-4  # c <= -1/3 has no finite skew
_GEV_C_MAX: Final = 5.0


# --------------------------------------------------------------------------- checks

def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of "
                         + ", ".join(repr(c) for c in choices))
    return str(value)


def _clean_peaks(peaks: ArrayLike, dist: str) -> np.ndarray:
    """The peaks as a 1-D float array, or a ValueError that says what is wrong with them."""
    labels = peaks.index if isinstance(peaks, pd.Series) else None
    try:
        x = np.asarray(peaks, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("peaks must be numbers (one annual maximum per year)") from None
    if x.ndim != 1:
        raise ValueError(f"peaks must be one-dimensional (one value per year), got shape {x.shape}")

    def where(mask: np.ndarray) -> str:
        pos = np.flatnonzero(mask)
        names = [str(labels[i]) for i in pos[:5]] if labels is not None else [str(i) for i in pos[:5]]
        more = f" and {pos.size - 5} more" if pos.size > 5 else ""
        kind = "years/labels" if labels is not None else "positions"
        return f"{kind} {', '.join(names)}{more}"

    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"peaks contain {int(bad.sum())} missing or infinite value(s) at "
                         f"{where(bad)}; drop years without a peak before fitting")
    if x.size < MIN_PEAKS:
        raise ValueError(f"at least {MIN_PEAKS} annual peaks are needed to fit a flood frequency "
                         f"distribution, got {x.size}")
    if dist == "lp3" and (x <= 0).any():
        raise ValueError(f"log-Pearson III needs positive peaks; {int((x <= 0).sum())} peak(s) "
                         f"<= 0 at {where(x <= 0)} (zero-flow years need Bulletin 17B's "
                         "conditional probability adjustment, not implemented; or use 'gev')")
    if np.ptp(x) == 0:
        raise ValueError(f"all {x.size} peaks are equal ({x[0]:g}): no spread to fit a distribution to")
    return x


def _periods(T: ArrayLike) -> np.ndarray:
    t = np.asarray(T, dtype=float)
    if not np.all(t > 1):  # also catches NaN
        bad = t[~(t > 1)] if t.ndim else t
        raise ValueError(f"return periods must be greater than 1 year, got {np.atleast_1d(bad)[:5]}")
    return t


def _scalar_or_array(a: np.ndarray, like: ArrayLike) -> Any:
    return float(a) if np.ndim(like) == 0 else a


# --------------------------------------------------------------------------- estimators

def sample_lmoments(x: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample L-moments ``l1``, ``l2`` and L-skewness ``t3`` along the last axis.

    Parameters
    ----------
    x : array_like, shape (..., n)
        Samples (n >= 3), any unit; each row is one sample.

    Returns
    -------
    l1, l2, t3 : numpy.ndarray
        Mean and L-scale (unit of ``x``), L-skewness (dimensionless), shape ``x.shape[:-1]``.

    Notes
    -----
    Unbiased probability-weighted moments of the ordered sample
    ``b_r = n^-1 sum_j [(j-1)...(j-r)] / [(n-1)...(n-r)] x_(j)``, then ``l1 = b0``,
    ``l2 = 2 b1 - b0``, ``l3 = 6 b2 - 6 b1 + b0``, ``t3 = l3 / l2``.
    Reference: Hosking, J.R.M. (1990), *J. R. Statist. Soc. B* 52, 105-124;
    Hosking & Wallis (1997), *Regional Frequency Analysis*, ch. 2.
    """
    xs = np.sort(np.asarray(x, dtype=float), axis=-1)
    n = xs.shape[-1]
    if n < 3:
        raise ValueError(f"sample L-moments up to t3 need at least 3 values, got {n}")
    j = np.arange(n, dtype=float)
    b0 = xs.mean(axis=-1)
    b1 = (xs * j).sum(axis=-1) / (n * (n - 1))
    b2 = (xs * (j * (j - 1))).sum(axis=-1) / (n * (n - 1) * (n - 2))
    l2 = 2.0 * b1 - b0
    with np.errstate(divide="ignore", invalid="ignore"):
        t3 = (6.0 * b2 - 6.0 * b1 + b0) / l2
    return b0, l2, t3


def _sample_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation (n-1) and bias-adjusted skew G along the last axis."""
    n = x.shape[-1]
    mean = x.mean(axis=-1)
    sd = x.std(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = n * (((x - mean[..., None]) / sd[..., None]) ** 3).sum(axis=-1) / ((n - 1) * (n - 2))
    return mean, sd, g


def b17b_station_skew(log_peaks: ArrayLike) -> float:
    """Bulletin 17B station skew G of the (log10) peaks.

    ``G = n * sum((x - mean)^3) / ((n - 1) (n - 2) s^3)`` with ``s`` the standard deviation
    with divisor ``n - 1``; equal to scipy's ``stats.skew(x, bias=False)``.
    """
    x = np.asarray(log_peaks, dtype=float)
    return float(_sample_moments(x)[2])


def _b17b_mse_station_skew(g: ArrayLike, n: int) -> np.ndarray:
    """Bulletin 17B's approximation of the mean square error of a station skew."""
    a_g = np.abs(np.asarray(g, dtype=float))
    a = np.where(a_g <= 0.9, -0.33 + 0.08 * a_g, -0.52 + 0.30 * a_g)
    b = np.where(a_g <= 1.5, 0.94 - 0.26 * a_g, 0.55)
    return 10.0 ** (a - b * math.log10(n / 10.0))


def b17b_weighted_skew(station_skew: ArrayLike, n: int, regional_skew: float,
                       regional_skew_mse: float = B17B_GENERALIZED_SKEW_MSE) -> Any:
    """Weight a station skew with a generalized (regional) skew as in Bulletin 17B.

    Parameters
    ----------
    station_skew : float or array
        Station skew of log10 of the peaks (:func:`b17b_station_skew`).
    n : int
        Number of years of record.
    regional_skew : float
        Generalized skew for the site (17B's Plate I in the USA; a regional study elsewhere).
    regional_skew_mse : float
        Its mean square error; 0.302 for Plate I.

    Returns
    -------
    float or numpy.ndarray
        ``G_W = (MSE_R G + MSE_G R) / (MSE_R + MSE_G)``.

    Notes
    -----
    ``MSE_G = 10^(A - B log10(n/10))`` with ``A = -0.33 + 0.08|G|`` (|G| <= 0.9) or
    ``-0.52 + 0.30|G|`` (|G| > 0.9), and ``B = 0.94 - 0.26|G|`` (|G| <= 1.5) or ``0.55``.
    Reference: Interagency Advisory Committee on Water Data (1982), *Guidelines for
    Determining Flood Flow Frequency*, Bulletin 17B (weighted skew coefficient; after
    Wallis, Matalas & Slack 1974).
    """
    if not regional_skew_mse > 0:
        raise ValueError(f"regional_skew_mse must be positive, got {regional_skew_mse}")
    g = np.asarray(station_skew, dtype=float)
    mse_g = _b17b_mse_station_skew(g, n)
    gw = (regional_skew_mse * g + mse_g * regional_skew) / (regional_skew_mse + mse_g)
    return _scalar_or_array(gw, station_skew)


def _bisect(f: Callable[[np.ndarray], np.ndarray], target: np.ndarray, lo: float, hi: float,
            increasing: bool, iters: int = 100) -> np.ndarray:
    """Solve ``f(x) = target`` elementwise for monotone ``f`` on [lo, hi] (vectorised)."""
    target = np.asarray(target, dtype=float)
    a = np.full(target.shape, lo)
    b = np.full(target.shape, hi)
    for _ in range(iters):
        mid = 0.5 * (a + b)
        with np.errstate(all="ignore"):
            above = f(mid) > target
        if not increasing:
            above = ~above
        b = np.where(above, mid, b)
        a = np.where(above, a, mid)
    x = 0.5 * (a + b)
    return np.where(np.isfinite(target), x, np.nan)


def _gev_tau3(c: np.ndarray) -> np.ndarray:
    """L-skewness of the GEV with scipy shape ``c`` (Hosking's k): 2(1-3^-k)/(1-2^-k) - 3."""
    small = np.abs(c) < 1e-8
    cs = np.where(small, 1.0, c)
    ratio = np.expm1(-cs * _LN3) / np.expm1(-cs * _LN2)
    return np.where(small, 2.0 * _LN3 / _LN2 - 3.0, 2.0 * ratio - 3.0)


def _gev_lmom(l1: np.ndarray, l2: np.ndarray, t3: np.ndarray) -> np.ndarray:
    # Exact inversion of t3(k) (Hosking & Wallis 1997, Appendix A) instead of the rational
    # approximation; agrees with it (lmoments3, Hosking's LMOMENTS) to ~1e-7 in k.
    k = _bisect(_gev_tau3, t3, _GEV_C_MIN, _GEV_C_MAX, increasing=False)
    small = np.abs(k) < 1e-7
    ks = np.where(small, 1.0, k)
    g = special.gamma(1.0 + ks)
    scale = np.where(small, l2 / _LN2, l2 * ks / (-np.expm1(-ks * _LN2) * g))
    loc = np.where(small, l1 - np.euler_gamma * scale, l1 - scale * (1.0 - g) / ks)
    return np.stack([k, loc, scale], axis=-1)


def _pe3_tau3(alpha: np.ndarray) -> np.ndarray:
    """|L-skewness| of a Pearson III with gamma shape alpha: 6 I_{1/3}(alpha, 2 alpha) - 3."""
    return 6.0 * special.betainc(alpha, 2.0 * alpha, 1.0 / 3.0) - 3.0


def _pe3_lmom(l1: np.ndarray, l2: np.ndarray, t3: np.ndarray) -> np.ndarray:
    # Hosking & Wallis (1997), Appendix A (Pearson type III), alpha by bisection on log alpha.
    a_t3 = np.abs(t3)
    log_alpha = _bisect(lambda la: _pe3_tau3(np.exp(la)), a_t3, math.log(1e-6), math.log(1e12),
                        increasing=False)
    alpha = np.exp(log_alpha)
    normal = a_t3 < 1e-6
    beta = math.sqrt(math.pi) * l2 * np.exp(special.gammaln(alpha) - special.gammaln(alpha + 0.5))
    scale = np.where(normal, l2 * math.sqrt(math.pi), beta * np.sqrt(alpha))
    skew = np.where(normal, 0.0, np.sign(t3) * 2.0 / np.sqrt(alpha))
    return np.stack([skew, l1, scale], axis=-1)


def _gev_mom(mean: np.ndarray, sd: np.ndarray, g: np.ndarray) -> np.ndarray:
    # The shape matches the sample skew through scipy's own GEV moments (skew decreasing in c).
    skew_of = lambda c: stats.genextreme.stats(c, moments="s")  # noqa: E731
    c = _bisect(skew_of, g, _GEV_C_MIN_MOM, _GEV_C_MAX, increasing=False)
    with np.errstate(all="ignore"):
        m1, v1 = stats.genextreme.stats(c, moments="mv")
    scale = sd / np.sqrt(v1)
    return np.stack([c, mean - scale * m1, scale], axis=-1)


def _estimate(dist: str, method: str, z: np.ndarray, skew_opts: Mapping[str, Any]
              ) -> tuple[np.ndarray, dict[str, Any]]:
    """Parameters for each row of ``z`` (the fitting space: log10 of the peaks for lp3).

    Vectorised for ``lmom`` and ``mom``; ``mle`` loops (scipy's optimiser).  Rows that
    cannot be fitted come back as NaN.
    """
    info: dict[str, Any] = {}
    if method == "lmom":
        l1, l2, t3 = sample_lmoments(z)
        if dist == "gev":
            p = _gev_lmom(l1, l2, t3)
        elif dist == "gumbel":
            scale = l2 / _LN2
            p = np.stack([l1 - np.euler_gamma * scale, scale], axis=-1)
        else:
            p = _pe3_lmom(l1, l2, t3)
    elif method == "mom":
        mean, sd, g = _sample_moments(z)
        if dist == "gev":
            p = _gev_mom(mean, sd, g)
        elif dist == "gumbel":
            scale = sd * math.sqrt(6.0) / math.pi
            p = np.stack([mean - np.euler_gamma * scale, scale], axis=-1)
        else:
            skew = g
            info["station_skew"] = g
            if skew_opts.get("skew") is not None:
                skew = np.full_like(g, float(skew_opts["skew"]))
            elif skew_opts.get("regional_skew") is not None:
                skew = b17b_weighted_skew(g, z.shape[-1], float(skew_opts["regional_skew"]),
                                          float(skew_opts["regional_skew_mse"]))
                info["weighted_skew"] = skew
            p = np.stack([np.broadcast_to(skew, mean.shape), mean, sd], axis=-1)
    else:
        p = _mle(dist, z, skew_opts)
    p = np.where(np.isfinite(p).all(axis=-1, keepdims=True) & (p[..., -1:] > 0), p, np.nan)
    return p, info


def _mle(dist: str, z: np.ndarray, skew_opts: Mapping[str, Any]) -> np.ndarray:
    rows = np.atleast_2d(z)
    start = skew_opts.get("start")
    if start is None:
        start = _estimate(dist, "mom" if dist == "lp3" else "lmom", rows, {})[0]
    else:
        start = np.broadcast_to(start, (rows.shape[0], len(_PARAM_NAMES[dist])))
    out = np.full(start.shape, np.nan)
    rv = _SCIPY[dist]
    for i, (row, s) in enumerate(zip(rows, start, strict=True)):
        if not np.isfinite(s).all():
            continue
        try:
            with np.errstate(all="ignore"):
                if dist == "gumbel":
                    est = rv.fit(row)
                else:
                    est = rv.fit(row, s[0], loc=s[1], scale=s[2])
                    # keep the start when the optimiser wandered off to something worse
                    if rv.nnlf(est, row) > rv.nnlf(tuple(s), row):
                        est = tuple(s)
        except (ValueError, RuntimeError, FloatingPointError):
            continue
        out[i] = est
    return out.reshape(z.shape[:-1] + (start.shape[-1],))


# --------------------------------------------------------------------------- the fit

@dataclass(frozen=True, eq=False)
class FloodFrequencyFit:
    """A distribution fitted to annual maxima; build it with :func:`fit_annual_maxima`.

    Attributes
    ----------
    dist, method : str
        As passed to :func:`fit_annual_maxima`.
    params : Mapping[str, float]
        scipy's parameters (see the module docstring); for ``lp3`` they describe log10 of
        the peaks.
    n : int
        Number of annual peaks.
    peaks : numpy.ndarray
        The peaks fitted (read-only), unit of the input.
    info : Mapping[str, float]
        Diagnostics: ``station_skew`` and ``weighted_skew``/``adopted_skew`` for ``lp3``.
    """

    dist: str
    method: str
    params: Mapping[str, float]
    n: int
    peaks: np.ndarray = field(repr=False)
    info: Mapping[str, float] = field(default_factory=dict, repr=False)
    _skew_opts: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def frozen(self) -> Any:
        """The fitted scipy distribution (of log10 of the peaks for ``lp3``)."""
        return _SCIPY[self.dist](**self.params)

    def _to_value(self, z: np.ndarray) -> np.ndarray:
        return np.power(10.0, z) if self.dist == "lp3" else z

    def return_level(self, T: ArrayLike) -> Any:
        """Value exceeded on average once in ``T`` years (AEP ``1/T``), unit of the peaks.

        Parameters
        ----------
        T : float or array_like
            Return period(s) in years, each > 1.

        Returns
        -------
        float or numpy.ndarray
            ``F^-1(1 - 1/T)``; same shape as ``T``.
        """
        t = _periods(T)
        return _scalar_or_array(self._to_value(self.frozen.isf(1.0 / t)), T)

    def return_period(self, value: ArrayLike) -> Any:
        """Return period in years of ``value`` (unit of the peaks): ``1 / (1 - F(value))``.

        A value at or below the distribution's lower end gives 1; above a bounded upper
        end (GEV with ``c > 0``) it gives ``inf``.
        """
        v = np.asarray(value, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.dist == "lp3":
                z = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), -np.inf)
            else:
                z = v
            t = 1.0 / self.frozen.sf(z)
        t = np.where(np.isnan(v), np.nan, t)
        return _scalar_or_array(t, value)

    def confidence_interval(self, T: ArrayLike, level: float = 0.9, n_boot: int = 1000,
                            seed: int | np.random.Generator = 0,
                            kind: CIKind = "parametric") -> pd.DataFrame:
        """Confidence interval of the return levels.

        Parameters
        ----------
        T : float or array_like
            Return period(s), years (> 1).
        level : float
            Two-sided confidence level, e.g. 0.9 for the 5 % and 95 % limits.
        n_boot : int
            Bootstrap replicates (ignored by ``kind="b17b"``).
        seed : int or numpy.random.Generator
            Seed of the bootstrap (default 0): the same data and seed give the same
            limits on every run.  ``None`` is refused: an unseeded draw is an input nobody
            can repeat.  The seed used is in ``.attrs["seed"]`` of the result.
        kind : {"parametric", "nonparametric", "b17b"}
            ``"parametric"`` (default): ``n_boot`` samples of size ``n`` drawn from the
            fitted distribution, each refitted with the same dist and method.
            ``"nonparametric"``: the peaks resampled with replacement, each refitted.
            ``"b17b"``: Bulletin 17B's non-central-t approximation (Appendix 9), only for
            ``lp3``/``mom``.

        Returns
        -------
        pandas.DataFrame
            Index ``return_period`` (years); columns ``lower``, ``return_level``, ``upper``
            in the unit of the peaks.  ``attrs`` holds ``level``, ``kind``, ``n_boot`` and
            ``failed`` (replicates that could not be fitted and were left out).

        Notes
        -----
        Bootstrap limits are percentiles of the refitted return levels (Efron & Tibshirani
        1993, ch. 13).  ``lmom`` and ``mom`` refits are vectorised (1000 replicates take a
        few tens of milliseconds); ``mle`` refits each replicate with scipy's optimiser and
        takes about 10-50 ms per replicate.  With a fixed ``skew`` (lp3) every replicate
        keeps that skew; with a ``regional_skew`` each replicate's station skew is
        re-weighted.  The parametric bootstrap is preferred for short records: resampling
        24 peaks cannot produce a value above the largest one.

        ``"b17b"``: ``K_U,L = (K ± sqrt(K² - a b)) / a``, ``a = 1 - z²/(2(n-1))``,
        ``b = K² - z²/n``, ``z`` the standard normal quantile at ``(1 + level)/2`` and ``K``
        the Pearson III frequency factor; limits ``10^(mean + K_U,L s)``.  Reference:
        Interagency Advisory Committee on Water Data (1982), Bulletin 17B, Appendix 9.
        """
        t = np.atleast_1d(_periods(T))
        if not 0 < level < 1:
            raise ValueError(f"level must lie in (0, 1), got {level}")
        _check_choice("confidence interval kind", kind, CI_KINDS)
        estimate = np.atleast_1d(self.return_level(t))
        failed = 0
        if kind == "b17b":
            lower, upper = self._b17b_limits(t, level)
            n_used = 0
        else:
            if int(n_boot) < 10:
                raise ValueError(f"n_boot must be at least 10, got {n_boot}")
            if seed is None:
                raise ValueError("seed is required (an int or a numpy Generator): an "
                                 "unseeded bootstrap gives different limits on every run")
            rng = np.random.default_rng(seed)
            z = self._z()
            if kind == "parametric":
                sample = self.frozen.rvs(size=(int(n_boot), self.n), random_state=rng)
            else:
                sample = z[rng.integers(0, self.n, size=(int(n_boot), self.n))]
            opts = dict(self._skew_opts)
            if self.method == "mle":
                opts["start"] = np.array([self.params[k] for k in _PARAM_NAMES[self.dist]])
            p, _ = _estimate(self.dist, self.method, sample, opts)
            ok = np.isfinite(p).all(axis=1)
            failed = int((~ok).sum())
            if ok.sum() < 10:
                raise ValueError(f"only {int(ok.sum())} of {n_boot} bootstrap replicates could be "
                                 "fitted; the record is too short or degenerate for this method")
            p = p[ok]
            args = [p[:, i, None] for i in range(p.shape[1])]
            with np.errstate(all="ignore"):
                q = self._to_value(_SCIPY[self.dist].isf(1.0 / t[None, :], *args))
            alpha = (1.0 - level) / 2.0
            lower, upper = np.nanquantile(q, [alpha, 1.0 - alpha], axis=0)
            n_used = int(n_boot)
        out = pd.DataFrame({"lower": lower, "return_level": estimate, "upper": upper},
                           index=pd.Index(t, name="return_period"))
        out.attrs.update(level=level, kind=kind, n_boot=n_used, failed=failed,
                         seed=seed if isinstance(seed, int) else None)
        return out

    def _z(self) -> np.ndarray:
        return np.log10(self.peaks) if self.dist == "lp3" else self.peaks

    def _b17b_limits(self, t: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        if (self.dist, self.method) != ("lp3", "mom"):
            raise ValueError("kind='b17b' confidence limits apply only to dist='lp3', "
                             f"method='mom' (this fit is {self.dist!r}/{self.method!r})")
        zq = stats.norm.ppf(0.5 + level / 2.0)
        n = self.n
        a = 1.0 - zq**2 / (2.0 * (n - 1))
        if a <= 0:
            raise ValueError(f"Bulletin 17B limits need n > 1 + z²/2 years; {n} is too few at "
                             f"level {level}")
        k = stats.pearson3.ppf(1.0 - 1.0 / t, self.params["skew"])
        b = k**2 - zq**2 / n
        root = np.sqrt(k**2 - a * b)
        mean, sd = self.params["loc"], self.params["scale"]
        return (np.power(10.0, mean + (k - root) / a * sd),
                np.power(10.0, mean + (k + root) / a * sd))


def fit_annual_maxima(peaks: ArrayLike, dist: Dist = "gev", method: Method = "lmom", *,
                      skew: float | None = None, regional_skew: float | None = None,
                      regional_skew_mse: float = B17B_GENERALIZED_SKEW_MSE) -> FloodFrequencyFit:
    """Fit a flood frequency distribution to annual maximum peaks.

    Parameters
    ----------
    peaks : array_like or pandas.Series
        One maximum per year (at least :data:`MIN_PEAKS`), in any unit (m³/s, cm, ...);
        return levels come back in the same unit.  No missing values: drop years without a
        peak first (:func:`annual_maxima` does).  Positive for ``lp3``.
    dist : {"gev", "gumbel", "lp3"}
        Generalized extreme value, Gumbel (EV1), or log-Pearson type III.
    method : {"lmom", "mle", "mom"}
        L-moments (default: robust for short records), maximum likelihood, or method of
        moments (for ``lp3`` the Bulletin 17B indirect method: moments of log10 of the
        peaks).
    skew : float, optional
        ``lp3``/``mom`` only: adopted skew of the log10 peaks used instead of the station
        skew (e.g. a weighted skew from a published analysis).
    regional_skew : float, optional
        ``lp3``/``mom`` only: generalized skew weighted with the station skew as in
        Bulletin 17B (:func:`b17b_weighted_skew`).
    regional_skew_mse : float
        Mean square error of ``regional_skew`` (0.302 for 17B's Plate I).

    Returns
    -------
    FloodFrequencyFit
        With ``return_level(T)``, ``return_period(value)``, ``confidence_interval(...)``,
        ``params``, ``dist``, ``method``, ``n``.

    Raises
    ------
    ValueError
        Fewer than 5 peaks, missing or infinite values, all peaks equal, non-positive peaks
        for ``lp3``, an unknown ``dist`` or ``method``, skew options outside lp3/mom, or a
        fit that does not converge.

    Notes
    -----
    *L-moments*: sample L-moments from unbiased probability-weighted moments; GEV shape from
    the exact inversion of ``t3 = 2(1 - 3^-k)/(1 - 2^-k) - 3``; Gumbel ``scale = l2/ln 2``,
    ``loc = l1 - γ scale``; Pearson III (on log10 of the peaks for lp3) from
    ``|t3| = 6 I_1/3(α, 2α) - 3``, ``skew = ±2/√α``.  Hosking, J.R.M. & Wallis, J.R. (1997),
    *Regional Frequency Analysis: An Approach Based on L-Moments*, Cambridge Univ. Press,
    Appendix A; Hosking, Wallis & Wood (1985), *Technometrics* 27, 251-261.

    *Maximum likelihood*: scipy's ``fit`` started from the L-moment (gev) or moment (lp3)
    estimates; the start is kept if the optimiser ends at a worse likelihood.  GEV MLE is
    erratic for fewer than ~30 peaks (Martins & Stedinger 2000, *Water Resour. Res.* 36,
    737-744): prefer ``lmom`` there.

    *Moments*: Gumbel ``scale = s √6/π``, ``loc = mean - γ scale`` (Chow, Maidment & Mays
    1988, *Applied Hydrology* §12.2); GEV shape matched to the sample skew through scipy's
    GEV moments.  The sample skew is the bias-adjusted

    ``G = n Σ(x - x̄)³ / ((n - 1)(n - 2) s³)``,  ``s² = Σ(x - x̄)²/(n - 1)``

    i.e. ``G = g √(n(n-1))/(n-2)`` with ``g = m3/m2^1.5`` the moment ratio with divisor ``n``
    (Bulletin 17B's station skew; scipy ``stats.skew(x, bias=False)``).  For ``lp3`` the moments are
    those of ``log10(peaks)`` and the quantile is ``10^(mean + K(G, p) s)`` with ``K`` the
    Pearson III frequency factor (scipy ``pearson3.ppf``).  Interagency Advisory Committee on
    Water Data (1982), *Guidelines for Determining Flood Flow Frequency*, Bulletin 17B,
    U.S. Geological Survey.  Not implemented from 17B: low-outlier (Grubbs-Beck) and
    historic-peak adjustments, the conditional probability adjustment for zero flows, and
    the expected-probability adjustment.
    """
    _check_choice("dist", dist, DISTRIBUTIONS)
    _check_choice("method", method, METHODS)
    if (skew is not None or regional_skew is not None) and (dist, method) != ("lp3", "mom"):
        raise ValueError("skew and regional_skew apply only to dist='lp3', method='mom' "
                         f"(Bulletin 17B), not {dist!r}/{method!r}")
    if skew is not None and regional_skew is not None:
        raise ValueError("give either an adopted skew or a regional_skew to weight, not both")
    for name, v in (("skew", skew), ("regional_skew", regional_skew)):
        if v is not None and not math.isfinite(float(v)):
            raise ValueError(f"{name} must be a finite number, got {v}")
    x = _clean_peaks(peaks, dist)
    z = np.log10(x) if dist == "lp3" else x
    opts = {"skew": skew, "regional_skew": regional_skew, "regional_skew_mse": regional_skew_mse}
    p, info = _estimate(dist, method, z, opts)
    if not np.isfinite(p).all():
        raise ValueError(f"the {dist} fit by {method!r} did not converge for these {x.size} peaks; "
                         "try method='lmom'")
    params = dict(zip(_PARAM_NAMES[dist], (float(v) for v in p), strict=True))
    diag = {k: float(v) for k, v in info.items()}
    if skew is not None:
        diag["adopted_skew"] = float(skew)
    peaks_ro = x.copy()
    peaks_ro.flags.writeable = False
    return FloodFrequencyFit(dist, method, MappingProxyType(params), int(x.size), peaks_ro,
                             MappingProxyType(diag), MappingProxyType(opts))


# --------------------------------------------------------------------------- tables

def annual_maxima(series: pd.Series, start_month: int = 1, min_fraction: float = 0.8
                  ) -> pd.Series:
    """Annual maxima of a daily series, skipping years with too many gaps.

    Parameters
    ----------
    series : pandas.Series
        Daily values (any unit) indexed by the station's **local** date (a DatetimeIndex).
    start_month : int
        First month of the year used (1: calendar year; 10: a water year starting in October,
        labelled by the year in which it ends).
    min_fraction : float
        Fewest valid days, as a fraction of the days in that year, for a year to count.

    Returns
    -------
    pandas.Series
        Maximum per year (unit of ``series``), indexed by year; incomplete years omitted.
    """
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("series must be indexed by date (a DatetimeIndex)")
    if not 1 <= start_month <= 12:
        raise ValueError(f"start_month must be 1-12, got {start_month}")
    idx = series.index
    year = idx.year + (1 if start_month > 1 else 0) * (idx.month >= start_month)
    values = pd.Series(np.asarray(series, dtype=float), index=idx)
    groups = values.groupby(np.asarray(year))
    count = groups.count()
    first = pd.to_datetime({"year": count.index - (1 if start_month > 1 else 0),
                            "month": start_month, "day": 1})
    days = (first + pd.DateOffset(years=1) - first).dt.days.to_numpy()
    keep = count.to_numpy() >= min_fraction * days
    out = groups.max()[keep]
    out.index.name = "year"
    out.name = series.name
    return out


def return_level_table(fit: FloodFrequencyFit, periods: ArrayLike = DEFAULT_PERIODS,
                       level: float | None = None, n_boot: int = 1000,
                       seed: int | np.random.Generator = 0,
                       kind: CIKind = "parametric") -> pd.DataFrame:
    """Return levels for the standard return periods.

    Parameters
    ----------
    fit : FloodFrequencyFit
    periods : array_like
        Return periods, years (> 1); default 2, 5, 10, 20, 50, 100.
    level : float, optional
        Adds ``lower``/``upper`` confidence limits (see
        :meth:`FloodFrequencyFit.confidence_interval`) when given.
    n_boot, seed, kind :
        Passed to :meth:`FloodFrequencyFit.confidence_interval`.

    Returns
    -------
    pandas.DataFrame
        Index ``return_period`` (years); columns ``aep`` (annual exceedance probability
        ``1/T``), ``return_level`` (unit of the peaks) and optionally ``lower``, ``upper``.
    """
    t = np.atleast_1d(_periods(periods))
    out = pd.DataFrame({"aep": 1.0 / t, "return_level": np.atleast_1d(fit.return_level(t))},
                       index=pd.Index(np.asarray(periods).reshape(-1), name="return_period"))
    if level is not None:
        ci = fit.confidence_interval(t, level=level, n_boot=n_boot, seed=seed, kind=kind)
        out["lower"] = ci["lower"].to_numpy()
        out["upper"] = ci["upper"].to_numpy()
        out.attrs.update(ci.attrs)
    out.attrs.update(dist=fit.dist, method=fit.method, n=fit.n)
    return out


def threshold_table(fits: FloodFrequencyFit | Mapping[str, FloodFrequencyFit],
                    periods: ArrayLike = DEFAULT_PERIODS) -> pd.DataFrame:
    """Return-period thresholds per gauge, one row per (gauge, period).

    Parameters
    ----------
    fits : FloodFrequencyFit or mapping station_id -> FloodFrequencyFit
        One fit, or one per gauge.
    periods : array_like
        Return periods, years (> 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``station_id`` (missing for a single fit), ``name`` (``"T100"`` ...),
        ``return_period`` (years), ``aep``, ``value`` (unit of that gauge's peaks), ``dist``,
        ``method``, ``n_years``.
    """
    items = [(None, fits)] if isinstance(fits, FloodFrequencyFit) else list(fits.items())
    t = np.atleast_1d(_periods(periods))
    rows = []
    for station, fit in items:
        levels = np.atleast_1d(fit.return_level(t))
        for period, value in zip(t, levels, strict=True):
            rows.append({"station_id": station, "name": f"T{period:g}",
                         "return_period": float(period), "aep": 1.0 / period,
                         "value": float(value), "dist": fit.dist, "method": fit.method,
                         "n_years": fit.n})
    return pd.DataFrame(rows, columns=["station_id", "name", "return_period", "aep", "value",
                                       "dist", "method", "n_years"])


# --------------------------------------------------------------------------- forecast traces

def _as_time_numbers(times: ArrayLike) -> tuple[np.ndarray, bool, bool]:
    """Times as float numbers (ns since the epoch for datetimes), is-datetime, is-tz-aware."""
    arr = times if isinstance(times, (pd.DatetimeIndex, pd.Series)) else np.asarray(times)
    if isinstance(arr, (pd.DatetimeIndex, pd.Series)) or arr.dtype.kind in "Mo":
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(arr))
        except (TypeError, ValueError):
            raise ValueError("trace_times must be numbers or datetimes") from None
        aware = idx.tz is not None
        if aware:
            idx = idx.tz_convert("UTC").tz_localize(None)
        return idx.as_unit("ns").asi8.astype(float), True, aware
    try:
        return np.asarray(times, dtype=float), False, False
    except (TypeError, ValueError):
        raise ValueError("trace_times must be numbers or datetimes") from None


def time_to_threshold(trace_times: ArrayLike, trace_values: ArrayLike, level: float,
                      rising: bool = True) -> Any:
    """First time a forecast trace reaches ``level``, interpolating linearly between steps.

    Parameters
    ----------
    trace_times : array_like
        Strictly increasing times: numbers (e.g. hours since the forecast) or datetimes.
    trace_values : array_like
        Forecast values at those times (same unit as ``level``: cm, m³/s ...); NaN steps are
        skipped (no crossing is interpolated across them).
    level : float
        Threshold.
    rising : bool
        True: first time the trace is ``>= level``; False: first time ``<= level`` (low water).

    Returns
    -------
    float, pandas.Timestamp or None
        The time, of the kind given (timezone-aware input comes back in UTC); the first
        time if the trace starts at or beyond the level; ``None`` if it never reaches it.
    """
    t, is_datetime, aware = _as_time_numbers(trace_times)
    v = np.asarray(trace_values, dtype=float)
    if t.ndim != 1 or t.shape != v.shape:
        raise ValueError(f"trace_times and trace_values must be 1-D of equal length, got "
                         f"{t.shape} and {v.shape}")
    if not math.isfinite(level):
        raise ValueError(f"level must be a finite number, got {level}")
    if t.size and not np.all(np.diff(t) > 0):
        raise ValueError("trace_times must be strictly increasing")
    s = v - level if rising else level - v
    reached = np.flatnonzero(s >= 0)
    if reached.size == 0:
        return None
    i = int(reached[0])
    when = t[i]
    if i > 0 and np.isfinite(s[i - 1]):  # s[i-1] < 0 <= s[i]: interpolate
        when = t[i - 1] + (t[i] - t[i - 1]) * (-s[i - 1]) / (s[i] - s[i - 1])
    if is_datetime:
        stamp = pd.Timestamp(int(round(when)), unit="ns")
        return stamp.tz_localize("UTC") if aware else stamp
    return float(when)


def rate_of_rise(series: pd.Series) -> pd.Series:
    """Rate of change between consecutive readings, in units of the series per day.

    Parameters
    ----------
    series : pandas.Series
        Values (cm, m³/s ...) indexed by time (DatetimeIndex, increasing, any spacing).

    Returns
    -------
    pandas.Series
        ``(v[i] - v[i-1]) / (t[i] - t[i-1])`` in unit/day, negative when falling; NaN at the
        first reading and next to missing values.
    """
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("series must be indexed by time (a DatetimeIndex)")
    if not series.index.is_monotonic_increasing or series.index.has_duplicates:
        raise ValueError("series index must be strictly increasing (sort it, drop duplicates)")
    days = series.index.to_series().diff() / pd.Timedelta(days=1)
    out = pd.Series(np.asarray(series, dtype=float), index=series.index).diff() / days
    out.name = series.name
    return out
