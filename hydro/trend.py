"""Monotonic trend: the Mann–Kendall test with Sen's slope (pure functions).

Units: the slope is in the values' unit per unit of time (hm³/year for annual volumes
indexed by year); the intercept is in the values' unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

#: fewest values the test accepts (with 3 values S has only 4 distinct magnitudes)
MIN_VALUES = 3


@dataclass(frozen=True)
class MannKendall:
    """Result of :func:`mann_kendall` (names follow Gilbert 1987 and pymannkendall)."""

    n: int
    s: float
    var_s: float
    z: float
    p: float
    tau: float
    alpha: float
    trend: Literal["increasing", "decreasing", "no trend"]
    significant: bool
    slope: float
    intercept: float
    t0: float


def _prepare(values: ArrayLike | pd.Series, times: ArrayLike | None
             ) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) without missing values, in time order."""
    if isinstance(values, pd.Series) and times is None:
        idx = values.index
        if pd.api.types.is_integer_dtype(idx) or pd.api.types.is_float_dtype(idx):
            times = idx.to_numpy(dtype=float)
        elif isinstance(idx, pd.PeriodIndex) and idx.freqstr.startswith("Y"):
            times = idx.year.to_numpy(dtype=float)
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {x.shape}")
    t = np.arange(x.size, dtype=float) if times is None else np.asarray(times, dtype=float)
    if t.shape != x.shape:
        raise ValueError(f"times has {t.size} entries but values has {x.size}")
    keep = ~np.isnan(x)
    t, x = t[keep], x[keep]
    if np.isnan(t).any():
        raise ValueError("times contains NaN")
    order = np.argsort(t, kind="stable")
    t, x = t[order], x[order]
    if np.any(np.diff(t) == 0):
        raise ValueError(f"times repeats {t[np.flatnonzero(np.diff(t) == 0)[0]]:g}; one value "
                         "per time")
    if x.size < MIN_VALUES:
        raise ValueError(f"the Mann-Kendall test needs at least {MIN_VALUES} non-missing "
                         f"values, got {x.size}")
    return t, x


def mk_score(x: np.ndarray) -> float:
    """Mann–Kendall S = Σ_{i<j} sign(x_j − x_i) for values in time order."""
    d = x[None, :] - x[:, None]
    return float(np.sign(d[np.triu_indices(x.size, k=1)]).sum())


def mk_variance(x: np.ndarray) -> float:
    """Var(S) under H0 with the tie correction:
    ``[n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18`` over groups of ``t`` equal values."""
    n = x.size
    _, counts = np.unique(x, return_counts=True)
    ties = np.sum(counts * (counts - 1) * (2 * counts + 5))
    return float((n * (n - 1) * (2 * n + 5) - ties) / 18.0)


def sens_slope(values: ArrayLike | pd.Series, times: ArrayLike | None = None
               ) -> tuple[float, float, float]:
    """Theil–Sen slope and the Conover intercept.

    Returns
    -------
    (slope, intercept, t0): ``slope`` = median of ``(x_j − x_i)/(t_j − t_i)`` over all
    pairs ``i < j``; the line is ``x = intercept + slope · (t − t0)`` with ``t0`` the first
    time and ``intercept = median(x) − slope · median(t − t0)`` (Conover 1980, as in
    pymannkendall for equally spaced data).
    """
    t, x = _prepare(values, times)
    return _sen(t, x)


def _sen(t: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    i, j = np.triu_indices(x.size, k=1)
    slope = float(np.median((x[j] - x[i]) / (t[j] - t[i])))
    t0 = float(t[0])
    intercept = float(np.median(x) - slope * np.median(t - t0))
    return slope, intercept, t0


def mann_kendall(values: ArrayLike | pd.Series, times: ArrayLike | None = None,
                 alpha: float = 0.05) -> MannKendall:
    """Mann–Kendall test for a monotonic trend, with Sen's slope.

    Parameters
    ----------
    values : the series (e.g. annual border volumes in hm³).  Missing values are dropped.
    times : time of each value (e.g. the years).  By default a Series' numeric index (or
        the years of an annual PeriodIndex), otherwise 0, 1, 2, ...  Only the order
        matters for the test; the slope uses the actual times, so gaps are handled.
    alpha : two-sided significance level.

    Returns
    -------
    :class:`MannKendall` with ``s``, ``var_s`` (tie-corrected), ``z`` (continuity-
    corrected), two-sided ``p``, ``tau = S / (n(n−1)/2)``, ``trend``, ``significant``
    (p < alpha), ``slope`` (per unit of ``times``), ``intercept`` (value at ``t0``) and
    ``t0``.

    Notes
    -----
    ``Z = (S − sign(S)) / sqrt(Var S)`` (0 when S = 0), ``p = 2 (1 − Φ(|Z|))``.  No
    correction for serial correlation (the "original" test).  With no ties ``tau``
    equals Kendall's tau of (times, values), ``scipy.stats.kendalltau``.
    References: Mann (1945); Kendall (1975); Gilbert, *Statistical Methods for
    Environmental Pollution Monitoring* (1987), §16.4; Sen (1968); Hussain & Mahmud,
    pyMannKendall (2019).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    t, x = _prepare(values, times)
    n = x.size
    s = mk_score(x)
    var_s = mk_variance(x)
    if s > 0:
        z = (s - 1) / np.sqrt(var_s)
    elif s < 0:
        z = (s + 1) / np.sqrt(var_s)
    else:
        z = 0.0
    p = float(2.0 * stats.norm.sf(abs(z)))
    significant = bool(p < alpha)
    trend: Literal["increasing", "decreasing", "no trend"] = (
        "no trend" if not significant else ("increasing" if z > 0 else "decreasing"))
    slope, intercept, t0 = _sen(t, x)
    return MannKendall(n, s, var_s, float(z), p, s / (0.5 * n * (n - 1)), alpha, trend,
                       significant, slope, intercept, t0)


def border_trends(table: pd.DataFrame, value: str = "volume_hm3", alpha: float = 0.05,
                  by: Sequence[str] = ("border_id", "gauge_id")) -> pd.DataFrame:
    """Mann–Kendall and Sen's slope of annual volumes per border node.

    Parameters
    ----------
    table : water-year rows as returned by :func:`hydro.balance.border_table` (or
        :func:`hydro.balance.border_volumes`, then ``by=()``), with ``year`` and ``value``.
        Rows with a missing value (incomplete years) are left out.
    value : the column to test (hm³ by default).
    alpha : two-sided significance level.
    by : columns identifying one series.

    Returns
    -------
    One row per series: ``first_year, last_year, n, s, var_s, z, p, tau, trend,
    significant, slope_per_year`` (``value``'s unit per year), ``intercept`` (the value
    of the Sen line at ``first_year``) and ``note`` (why a test was not made).
    """
    rows = []
    groups = table.groupby(list(by), sort=False) if by else [((), table)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        series = sub.set_index("year")[value].dropna()
        row = dict(zip(by, key, strict=True))
        row.update(first_year=int(series.index.min()) if len(series) else None,
                   last_year=int(series.index.max()) if len(series) else None,
                   n=int(series.size))
        try:
            r = mann_kendall(series, alpha=alpha)
        except ValueError as e:
            row.update(s=np.nan, var_s=np.nan, z=np.nan, p=np.nan, tau=np.nan, trend=None,
                       significant=None, slope_per_year=np.nan, intercept=np.nan, note=str(e))
        else:
            row.update(s=r.s, var_s=r.var_s, z=r.z, p=r.p, tau=r.tau, trend=r.trend,
                       significant=r.significant, slope_per_year=r.slope,
                       intercept=r.intercept, note="")
        rows.append(row)
    return pd.DataFrame(rows)
