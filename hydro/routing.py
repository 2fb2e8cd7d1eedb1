"""Channel routing: linear Muskingum and lag routing.

Units: discharge in any consistent unit (m³/s in this project); ``k``, ``lag`` and ``dt`` in
the same time unit (days in this project).  Pure functions over numpy arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def muskingum(inflow: ArrayLike, k: float, x: float, dt: float,
              initial_outflow: float | None = None) -> np.ndarray:
    """Route an inflow hydrograph through a reach with the linear Muskingum method.

    Parameters
    ----------
    inflow : array of discharge (m³/s), one value per time step.
    k : storage constant, same time unit as ``dt`` (> 0).
    x : weighting factor, 0 <= x <= 0.5.
    dt : time step.
    initial_outflow : outflow at the first step; the first inflow when not given.

    Returns
    -------
    numpy.ndarray of outflow, same length as ``inflow``.

    Notes
    -----
    ``O[t+1] = C0 I[t+1] + C1 I[t] + C2 O[t]`` with ``D = 2k(1-x) + dt``,
    ``C0 = (dt - 2kx)/D``, ``C1 = (dt + 2kx)/D``, ``C2 = (2k(1-x) - dt)/D`` (C0+C1+C2 = 1).
    The coefficients are all non-negative only when ``2kx <= dt <= 2k(1-x)``; use
    :func:`muskingum_cascade` to split a long reach into sub-reaches that satisfy it.
    Reference: McCarthy (1938); Chow, Maidment & Mays, *Applied Hydrology* (1988), §8.4.
    """
    i = np.asarray(inflow, dtype=float)
    if i.ndim != 1:
        raise ValueError(f"inflow must be one-dimensional, got shape {i.shape}")
    if not k > 0:
        raise ValueError(f"k must be positive, got {k}")
    if not 0.0 <= x <= 0.5:
        raise ValueError(f"x must lie in [0, 0.5], got {x}")
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    out = np.empty_like(i)
    if i.size == 0:
        return out
    d = 2.0 * k * (1.0 - x) + dt
    c0 = (dt - 2.0 * k * x) / d
    c1 = (dt + 2.0 * k * x) / d
    c2 = (2.0 * k * (1.0 - x) - dt) / d
    out[0] = i[0] if initial_outflow is None else float(initial_outflow)
    # The recurrence is a first-order IIR filter; scipy.signal.lfilter runs it in C.
    from scipy.signal import lfilter, lfiltic

    forcing = c0 * i[1:] + c1 * i[:-1]
    if forcing.size:
        zi = lfiltic([1.0], [1.0, -c2], y=[out[0]])
        out[1:], _ = lfilter([1.0], [1.0, -c2], forcing, zi=zi)
    return out


def subreach_count(k: float, x: float, dt: float) -> int:
    """Smallest number of equal sub-reaches for which every Muskingum coefficient is >= 0.

    Splitting keeps the total travel time ``k``; each sub-reach has ``k / n``.  Requires
    ``2 (k/n) x <= dt`` (C0 >= 0); ``dt <= 2 (k/n)(1-x)`` (C2 >= 0) may then fail for a
    short reach, in which case one sub-reach is returned and C2 < 0 is accepted.
    """
    return max(1, math.ceil(2.0 * k * x / dt - 1e-12))


def muskingum_cascade(inflow: ArrayLike, k: float, x: float, dt: float) -> np.ndarray:
    """Route through ``subreach_count(k, x, dt)`` identical Muskingum sub-reaches in series."""
    out = np.asarray(inflow, dtype=float)
    n = subreach_count(k, x, dt)
    for _ in range(n):
        out = muskingum(out, k / n, x, dt)
    return out


def lag_route(inflow: ArrayLike, lag: float, dt: float) -> np.ndarray:
    """Translate a hydrograph by ``lag`` (same unit as ``dt``), linearly interpolating a
    fractional lag; the first value is held for the steps before the wave arrives."""
    i = np.asarray(inflow, dtype=float)
    if lag < 0:
        raise ValueError(f"lag must not be negative, got {lag}")
    if i.size == 0 or lag == 0:
        return i.copy()
    steps = lag / dt
    whole = int(math.floor(steps))
    frac = steps - whole
    padded = np.concatenate([np.full(whole + 1, i[0]), i])
    shifted_a = padded[1: 1 + i.size]          # lag of `whole` steps
    shifted_b = padded[0: i.size]              # lag of `whole + 1` steps
    return (1.0 - frac) * shifted_a + frac * shifted_b
