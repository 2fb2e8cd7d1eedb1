"""Goodness-of-fit metrics of simulated (or forecast) against observed series.

Pure functions.  ``sim`` and ``obs`` are 1-D, in the same unit (any: m³/s, cm ...); pairs
where either is NaN are dropped first.  Two pandas Series must share their index (align
them first); other inputs are paired by position.

========  ======================================  ======================  ==========
metric    formula                                 perfect / reference     unit
========  ======================================  ======================  ==========
nse       1 - Σ(s-o)² / Σ(o-ō)²                   1 / 0 = the obs mean     —
kge       1 - √((r-1)² + (a-1)² + (β-1)²)         1                        —
pbias     100 Σ(s-o) / Σo                         0; > 0 overestimates     %
rmse      √(mean((s-o)²))                         0                        of the data
========  ======================================  ======================  ==========
"""

from __future__ import annotations

import math
from typing import Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["nse", "kge", "pbias", "rmse", "paired"]

KGE_VERSIONS: Final = (2009, 2012)


def paired(sim: ArrayLike, obs: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``sim`` and ``obs`` as float arrays with NaN pairs dropped; checks shape and length.

    Raises
    ------
    ValueError
        Not 1-D, different lengths, Series with different indexes, or no pair left.
    """
    if isinstance(sim, pd.Series) and isinstance(obs, pd.Series) and not sim.index.equals(obs.index):
        raise ValueError("sim and obs are Series with different indexes; align them first "
                         "(e.g. sim, obs = sim.align(obs, join='inner'))")
    s = np.asarray(sim, dtype=float)
    o = np.asarray(obs, dtype=float)
    if s.ndim != 1 or o.ndim != 1:
        raise ValueError(f"sim and obs must be one-dimensional, got shapes {s.shape} and {o.shape}")
    if s.size != o.size:
        raise ValueError(f"sim and obs differ in length: {s.size} and {o.size}")
    keep = ~(np.isnan(s) | np.isnan(o))
    if not keep.any():
        raise ValueError(f"no pair of sim and obs without NaN (of {s.size} given)")
    s, o = s[keep], o[keep]
    if not (np.isfinite(s).all() and np.isfinite(o).all()):
        raise ValueError("sim and obs must not contain infinite values")
    return s, o


def _check_variable(o: np.ndarray, metric: str) -> None:
    if np.ptp(o) == 0:
        raise ValueError(f"{metric} is undefined for constant obs (all {o.size} values are {o[0]:g})")


def nse(sim: ArrayLike, obs: ArrayLike) -> float:
    """Nash-Sutcliffe efficiency.

    Parameters
    ----------
    sim, obs : array_like
        Simulated and observed values, same unit and length.

    Returns
    -------
    float
        ``1 - Σ(sim - obs)² / Σ(obs - mean(obs))²`` in (-inf, 1]; 1 is a perfect fit, 0 is
        no better than the mean of the observations.

    Notes
    -----
    Nash, J.E. & Sutcliffe, J.V. (1970), River flow forecasting through conceptual models
    part I, *J. Hydrol.* 10, 282-290.
    """
    s, o = paired(sim, obs)
    _check_variable(o, "NSE")
    return float(1.0 - np.sum((s - o) ** 2) / np.sum((o - o.mean()) ** 2))


def kge(sim: ArrayLike, obs: ArrayLike, version: Literal[2009, 2012] = 2009,
        components: bool = False) -> float | dict[str, float]:
    """Kling-Gupta efficiency.

    Parameters
    ----------
    sim, obs : array_like
        Simulated and observed values, same unit and length.
    version : {2009, 2012}
        2009: variability term ``a = σ_sim / σ_obs`` (Gupta et al. 2009).
        2012: ``a = CV_sim / CV_obs`` with ``CV = σ/μ`` (Kling et al. 2012), so that bias
        and variability do not cross-correlate.
    components : bool
        Return a dict with ``kge``, ``r``, ``alpha`` (2009) or ``gamma`` (2012), ``beta``.

    Returns
    -------
    float or dict
        ``1 - √((r - 1)² + (a - 1)² + (β - 1)²)`` with ``r`` Pearson's correlation and
        ``β = μ_sim / μ_obs``; 1 is perfect.  (A constant sim, such as the mean of
        the observations, has no correlation and raises.)

    Raises
    ------
    ValueError
        Constant obs or sim (correlation undefined), zero mean obs, unknown version.

    Notes
    -----
    Standard deviations with divisor n (the ratio does not depend on it).
    Gupta, H.V., Kling, H., Yilmaz, K.K. & Martinez, G.F. (2009), *J. Hydrol.* 377, 80-91;
    Kling, H., Fuchs, M. & Paulin, M. (2012), *J. Hydrol.* 424-425, 264-277.
    """
    if version not in KGE_VERSIONS:
        raise ValueError(f"unknown KGE version {version!r}; choose 2009 (Gupta et al.) or "
                         "2012 (Kling et al.)")
    s, o = paired(sim, obs)
    _check_variable(o, "KGE")
    if np.ptp(s) == 0:
        raise ValueError(f"KGE is undefined for constant sim (all {s.size} values are {s[0]:g}): "
                         "no correlation")
    mu_o, mu_s = o.mean(), s.mean()
    if mu_o == 0:
        raise ValueError("KGE is undefined when the mean of obs is 0 (bias ratio)")
    sd_o, sd_s = o.std(), s.std()
    r = float(np.corrcoef(s, o)[0, 1])
    beta = float(mu_s / mu_o)
    if version == 2009:
        var_name, var = "alpha", float(sd_s / sd_o)
    else:
        if mu_s == 0:
            raise ValueError("KGE 2012 is undefined when the mean of sim is 0 (CV ratio)")
        var_name, var = "gamma", float((sd_s / mu_s) / (sd_o / mu_o))
    # hypot, not the square root of a sum of squares: with a mean of obs near 0 the
    # ratios reach 1e160 and their squares overflow (KGE is then hugely negative, not an
    # error)
    value = 1.0 - math.hypot(r - 1.0, var - 1.0, beta - 1.0)
    if components:
        return {"kge": value, "r": r, var_name: var, "beta": beta}
    return value


def pbias(sim: ArrayLike, obs: ArrayLike) -> float:
    """Percent bias, **positive when sim overestimates**.

    Parameters
    ----------
    sim, obs : array_like
        Simulated and observed values, same unit and length.

    Returns
    -------
    float
        ``100 Σ(sim - obs) / Σ obs``, %.  +10 means the simulated total is 10 % too high.

    Notes
    -----
    This is the *opposite sign* of Moriasi et al. (2007, *Trans. ASABE* 50, 885-900:
    ``100 Σ(obs - sim)/Σ obs``, positive = underestimation); their rating thresholds apply
    to the absolute value.  The convention here matches hydroGOF's ``pbias``.
    """
    s, o = paired(sim, obs)
    total = o.sum()
    if total == 0:
        raise ValueError("PBIAS is undefined when obs sum to 0")
    return float(100.0 * np.sum(s - o) / total)


def rmse(sim: ArrayLike, obs: ArrayLike) -> float:
    """Root mean square error, in the unit of the data: ``√(mean((sim - obs)²))``."""
    s, o = paired(sim, obs)
    return float(np.sqrt(np.mean((s - o) ** 2)))
