"""Reservoir routing and operation: level-pool routing and a release-schedule simulator.

Two tools, both pure functions over numpy arrays (no I/O, no clock):

* :func:`level_pool_route` — uncontrolled (ungated) level-pool routing by the
  storage-indication method, for a storage–outflow relation given as two monotone arrays.
* :func:`operate` — a gated reservoir following a release schedule (:class:`DailyRelease`,
  :class:`TargetLevel` or :class:`RuleCurve`) under its physical limits from
  :class:`hydro.config.Reservoir` (outlet capacity by level, uncontrolled spill above ФПУ,
  minimum environmental release, ramp limit, dead storage), vectorised over ensemble
  members, with an exact daily mass balance and a record of every step where the schedule
  could not be honoured (:class:`Deviations`).

Units: discharge m³/s, volume hm³, level m (Baltic system), evaporation mm/day, time in
days unless stated.  Conversions go through :mod:`hydro.units` only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hydro.units import (
    convert,
    convert_to,
    discharge_to_volume,
    runoff_depth_to_discharge,
    volume_to_discharge,
)

if TYPE_CHECKING:  # pragma: no cover
    from hydro.network import Reservoir

__all__ = [
    "DailyRelease",
    "Deviations",
    "FloodControl",
    "LevelPoolResult",
    "OperationResult",
    "Reason",
    "ReleaseSchedule",
    "RuleCurve",
    "TargetLevel",
    "level_pool_route",
    "operate",
    "unregulated",
]


# --------------------------------------------------------------------------- level-pool routing

@dataclass(frozen=True)
class LevelPoolResult:
    """Result of :func:`level_pool_route`.

    Attributes
    ----------
    outflow : outflow (m³/s), same shape as the inflow.
    storage : storage at each time, in the unit the storage table was given in.
    """

    outflow: np.ndarray
    storage: np.ndarray


def level_pool_route(inflow: ArrayLike, dt: float, storage: ArrayLike, outflow: ArrayLike,
                     initial_storage: float | ArrayLike, *, dt_unit: str = "d",
                     storage_unit: str = "hm3") -> LevelPoolResult:
    """Route a hydrograph through a level-pool reservoir by the storage-indication method.

    Parameters
    ----------
    inflow : inflow (m³/s) at equally spaced times, shape ``(T,)`` or ``(members, T)``.
    dt : time step, in ``dt_unit`` (days by default).
    storage, outflow : the storage–outflow relation as two arrays of equal length (>= 2):
        storage strictly increasing (in ``storage_unit``, hm³ by default), outflow (m³/s)
        non-decreasing.  Linear interpolation between points.
    initial_storage : storage at the first time (scalar, or one per member), within the table.
    dt_unit : unit of ``dt`` (any duration unit of :mod:`hydro.units`: d, h, min, s).
    storage_unit : unit of ``storage`` and ``initial_storage`` (hm3, m3, km3, …).

    Returns
    -------
    LevelPoolResult with ``outflow`` (m³/s) and ``storage`` (``storage_unit``), one value per
    inflow time; the first values are the initial state.

    Raises
    ------
    ValueError
        for malformed tables, or when the storage-indication value leaves the table (the
        table is too short for this flood, or ``dt`` is too long for the relation).

    Notes
    -----
    Continuity over a step with the trapezoidal rule,
    ``(S[j+1] - S[j]) / dt = (I[j] + I[j+1]) / 2 - (O[j] + O[j+1]) / 2``, is rearranged so
    that the unknowns are on the left::

        2 S[j+1]/dt + O[j+1] = I[j] + I[j+1] + 2 S[j]/dt - O[j]

    ``O[j+1]`` is read from the storage-indication curve ``O`` versus ``2S/dt + O`` (linear
    interpolation) and ``S[j+1]`` follows from the same equation, so the discrete mass
    balance closes exactly.  Only inflows up to ``j+1`` are used (no look-ahead); the
    outflow is a single-valued function of storage (an ungated outlet).

    References
    ----------
    Chow, V.T., Maidment, D.R. & Mays, L.W. (1988) Applied Hydrology, McGraw-Hill, §8.2.
    Ponce, V.M. (1989) Engineering Hydrology: Principles and Practices, Prentice Hall
    (storage-indication reservoir routing).
    """
    i = np.asarray(inflow, dtype=float)
    if i.ndim not in (1, 2) or i.shape[-1] == 0:
        raise ValueError(f"inflow must have shape (T,) or (members, T) with T >= 1, got {i.shape}")
    if not np.isfinite(i).all():
        raise ValueError("inflow must be finite")
    s_tab = np.asarray(storage, dtype=float)
    o_tab = np.asarray(outflow, dtype=float)
    if s_tab.ndim != 1 or s_tab.shape != o_tab.shape or s_tab.size < 2:
        raise ValueError(
            f"storage and outflow must be 1-D arrays of the same length >= 2, got "
            f"{s_tab.shape} and {o_tab.shape}"
        )
    if np.any(np.diff(s_tab) <= 0):
        k = int(np.flatnonzero(np.diff(s_tab) <= 0)[0])
        raise ValueError(f"storage is not strictly increasing: storage[{k}]={s_tab[k]:g} then "
                         f"storage[{k + 1}]={s_tab[k + 1]:g}")
    if np.any(np.diff(o_tab) < 0):
        k = int(np.flatnonzero(np.diff(o_tab) < 0)[0])
        raise ValueError(f"outflow decreases with storage: outflow[{k}]={o_tab[k]:g} then "
                         f"outflow[{k + 1}]={o_tab[k + 1]:g}")
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    dt_days = float(convert(float(dt), dt_unit, "duration"))
    s_hm3 = convert(s_tab, storage_unit, "volume")
    # storage-indication curve N(O) = 2S/dt + O, both in m³/s
    n_tab = 2.0 * volume_to_discharge(s_hm3, dt_days) + o_tab

    one_d = i.ndim == 1
    i2 = i[None, :] if one_d else i
    members, steps = i2.shape
    s0 = np.broadcast_to(np.asarray(initial_storage, dtype=float), (members,)).copy()
    if np.any(s0 < s_tab[0]) or np.any(s0 > s_tab[-1]):
        raise ValueError(
            f"initial_storage {s0.min():g}..{s0.max():g} {storage_unit} lies outside the table "
            f"{s_tab[0]:g}..{s_tab[-1]:g} {storage_unit}"
        )
    tol_n = 1e-12 * float(np.abs(n_tab).max())
    out = np.empty((members, steps))
    sto = np.empty((members, steps))
    out[:, 0] = np.interp(s0, s_tab, o_tab)
    sto[:, 0] = convert(s0, storage_unit, "volume")
    for j in range(steps - 1):
        # 2S/dt - O at the start of the step, plus the two inflows
        n_next = (i2[:, j] + i2[:, j + 1]
                  + 2.0 * volume_to_discharge(sto[:, j], dt_days) - out[:, j])
        # values outside the table by rounding only are put back on its ends
        n_next = np.where(np.abs(n_next - n_tab[0]) <= tol_n, np.maximum(n_next, n_tab[0]), n_next)
        n_next = np.where(np.abs(n_next - n_tab[-1]) <= tol_n, np.minimum(n_next, n_tab[-1]), n_next)
        if np.any(n_next > n_tab[-1]) or np.any(n_next < n_tab[0]):
            above = bool(np.any(n_next > n_tab[-1]))
            raise ValueError(
                f"step {j + 1}: storage-indication value 2S/dt+O = "
                f"{(n_next.max() if above else n_next.min()):.6g} m³/s is "
                f"{'above the top' if above else 'below the bottom'} of the table "
                f"({n_tab[-1] if above else n_tab[0]:.6g} m³/s); "
                + ("extend the storage-outflow table to larger storages" if above else
                   "use a shorter dt (the outflow exceeds 2S/dt at low storage)")
            )
        o_next = np.interp(n_next, n_tab, o_tab)
        out[:, j + 1] = o_next
        sto[:, j + 1] = 0.5 * discharge_to_volume(n_next - o_next, dt_days)
    sto_user = convert_to(sto, "hm3", storage_unit, "volume")
    if one_d:
        return LevelPoolResult(out[0], sto_user[0])
    return LevelPoolResult(out, sto_user)


# --------------------------------------------------------------------------- release schedules

@dataclass(frozen=True)
class DailyRelease:
    """Requested controlled release per time step (m³/s): shape ``(T,)`` or ``(members, T)``."""

    release_m3s: np.ndarray


@dataclass(frozen=True)
class TargetLevel:
    """Reach these levels (m) by the end of these steps (0-based indices); piecewise-linear.

    Before the first index the target moves linearly from the initial level; after the last
    index the last level is held.
    """

    day_index: np.ndarray
    level_m: np.ndarray


@dataclass(frozen=True)
class RuleCurve:
    """Target level (m) by day of year (1..366), piecewise-linear and periodic.

    The curve repeats every 365 days (leap days are not modelled separately; a knot at day
    366 coincides with day 1 of the next cycle and must then have the same level).
    """

    day_of_year: np.ndarray
    level_m: np.ndarray

    def level_on(self, day_of_year: ArrayLike) -> np.ndarray:
        """Target level (m) on ``day_of_year`` (1..366, any real number wraps every 365 days)."""
        return _rule_curve_levels(self, np.asarray(day_of_year, dtype=float))


@dataclass(frozen=True)
class FloodControl:
    """A dispatcher's flood-control rule: hold a small release in ordinary times, release
    in advance when the forecast flood will not fit in the free capacity, cut back once
    the inflow recedes.

    Each step the requested release (m³/s) is the largest of

    * ``base_release_m3s`` — the ordinary release (scalar, ``(T,)`` or ``(members, T)``;
      the reservoir's minimum release when not given);
    * the *flood release*: the mean forecast inflow over the next ``horizon_days`` minus
      what the free capacity below ``flood_level_m`` can absorb over that horizon,
      ``R = mean(F[t : t+N]) - E - (V_flood - V) / (N Δt)``; it is positive only when the
      forecast volume exceeds the free capacity (or the level is above ``flood_level_m``),
      so it starts the pre-release before the flood arrives and falls as the forecast
      inflow recedes;
    * with a ``guide`` rule curve, the release that brings a level *above* the guide back
      down to it in one step (winter drawdown, the end of a flood); a level below the
      guide is not refilled by this term (the reservoir fills by holding ``base``).

    The reservoir's physics then apply as for every schedule in :func:`operate`: ramp limit,
    minimum release, outlet capacity at the current level, dead storage, spill above ФПУ.

    ``inflow_forecast_m3s`` is the forecast inflow per step (``(T,)`` or ``(members, T)``,
    m³/s); ``None`` means *perfect foresight*: the inflow given to :func:`operate` itself
    (what the synthetic generator uses: a real dispatcher has a forecast, not the future).
    ``flood_level_m`` defaults to НПУ and must lie in [УМО, ФПУ].  Steps beyond the end of
    the series repeat the last forecast value.
    """

    horizon_days: float = 10.0
    base_release_m3s: float | np.ndarray | None = None
    flood_level_m: float | None = None
    inflow_forecast_m3s: np.ndarray | None = None
    guide: RuleCurve | None = None


ReleaseSchedule = DailyRelease | TargetLevel | RuleCurve | FloodControl


def unregulated(inflow_m3s: ArrayLike) -> DailyRelease:
    """The "pass the inflow" schedule: request a release equal to the inflow at every step.

    The request is still subject to the reservoir's physics in :func:`operate` — outlet
    capacity at the current level, the ramp limit, the minimum release and dead storage —
    so the outflow equals the inflow only where those allow, and the volume then changes
    only by evaporation (and by spill above ФПУ).
    """
    return DailyRelease(np.asarray(inflow_m3s, dtype=float))


# --------------------------------------------------------------------------- deviations

class Reason(enum.IntFlag):
    """Why a requested release was not honoured (bit flags; several may apply at one step).

    The member's name is the code; its description in kk/ru/en is the catalog key
    ``reservoir.reason.<name>`` (:func:`hydro.services.labels.reason_text`)."""

    OUTLET_CAPACITY = 1  #: cut to the outlet capacity at the level at the start of the step
    MIN_RELEASE = 2      #: raised to the minimum environmental release
    RAMP = 4             #: limited by max_ramp_per_day from the previous step's release
    DEAD_STORAGE = 8     #: cut to keep the volume >= dead storage (no release below УМО)
    FORCED_SPILL = 16    #: uncontrolled spill above ФПУ


@dataclass(frozen=True)
class Deviations:
    """Where and why the schedule could not be honoured.

    Attributes
    ----------
    flags : ``uint8`` array ``(members, T)`` of :class:`Reason` bits (0 = honoured).
    """

    flags: np.ndarray

    def mask(self, reason: Reason) -> np.ndarray:
        """Boolean ``(members, T)`` array: where ``reason`` applied."""
        return (self.flags & int(reason)) != 0

    def reasons(self, member: int, step: int) -> list[Reason]:
        """The reasons that applied to one member at one step."""
        value = int(self.flags[member, step])
        return [r for r in Reason if value & int(r)]

    def any(self) -> bool:
        """True when any step of any member deviated from the schedule."""
        return bool(self.flags.any())

    def summary(self) -> pd.DataFrame:
        """One row per reason that occurred: reason, members affected, first step, count.

        ``reason`` is the :class:`Reason` member's name (the code; the words for it are made
        where the rows are shown, :func:`hydro.services.labels.deviation_summary`), ``count``
        the number of (member, step) pairs, ``first_step`` the earliest step in any member.
        """
        rows = []
        for r in Reason:
            m = self.mask(r)
            if not m.any():
                continue
            steps = np.flatnonzero(m.any(axis=0))
            row = {"reason": r.name, "members_affected": int(m.any(axis=1).sum()),
                   "first_step": int(steps[0]), "count": int(m.sum())}
            rows.append(row)
        return pd.DataFrame(rows, columns=["reason", "members_affected", "first_step", "count"])


@dataclass(frozen=True)
class OperationResult:
    """Result of :func:`operate`; every array has shape ``(members, T)``.

    Attributes
    ----------
    release_m3s : controlled release (gates, turbines, outlets), mean over the step, m³/s.
    spill_m3s : uncontrolled spill above ФПУ, m³/s.
    outflow_m3s : release + spill, m³/s.
    volume_hm3 : volume at the end of each step, hm³.
    level_m : level at the end of each step, m.
    evaporation_m3s : evaporation from the water surface, m³/s.
    requested_m3s : release the schedule asked for (clipped at 0), m³/s.
    inflow_m3s : the inflow, m³/s.
    initial_volume_hm3 : volume at the start of the first step, one per member, hm³.
    dt_days : time step, days.
    deviations : :class:`Deviations`.
    """

    release_m3s: np.ndarray
    spill_m3s: np.ndarray
    outflow_m3s: np.ndarray
    volume_hm3: np.ndarray
    level_m: np.ndarray
    evaporation_m3s: np.ndarray
    requested_m3s: np.ndarray
    inflow_m3s: np.ndarray
    initial_volume_hm3: np.ndarray
    dt_days: float
    deviations: Deviations

    def balance_residual_hm3(self) -> np.ndarray:
        """``V[t] - V[t-1] - (I - O - E) dt`` per member and step, hm³ (zero up to rounding)."""
        prev = np.concatenate([self.initial_volume_hm3[:, None], self.volume_hm3[:, :-1]], axis=1)
        net = self.inflow_m3s - self.outflow_m3s - self.evaporation_m3s
        return self.volume_hm3 - prev - discharge_to_volume(net, self.dt_days)


# --------------------------------------------------------------------------- operation

def _as_members_by_time(a: ArrayLike, members: int, steps: int, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1 and arr.shape[0] == steps:
        return np.broadcast_to(arr, (members, steps))
    if arr.ndim == 2 and arr.shape == (members, steps):
        return arr
    if arr.ndim == 2 and arr.shape == (1, steps):
        return np.broadcast_to(arr, (members, steps))
    raise ValueError(f"{name} must have shape ({steps},) or ({members}, {steps}), got {arr.shape}")


def _per_member(value: float | ArrayLike, members: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(members, float(arr))
    if arr.shape == (members,):
        return arr.astype(float, copy=True)
    raise ValueError(f"{name} must be a scalar or have shape ({members},), got {arr.shape}")


def _check_levels(levels: np.ndarray, res: Reservoir, what: str) -> None:
    umo, fpu = res.umo.to("elevation"), res.fpu.to("elevation")
    if not np.isfinite(levels).all():
        raise ValueError(f"{what}: levels must be finite")
    lo, hi = float(levels.min()), float(levels.max())
    if lo < umo - 1e-9:
        raise ValueError(f"{what}: target level {lo:g} m is below УМО {umo:g} m of {res.id}")
    if hi > fpu + 1e-9:
        raise ValueError(f"{what}: target level {hi:g} m is above ФПУ {fpu:g} m of {res.id}")


def _rule_curve_levels(curve: RuleCurve, doy: np.ndarray) -> np.ndarray:
    """Periodic (365-day) piecewise-linear interpolation of a rule curve at day-of-year ``doy``."""
    d = np.asarray(curve.day_of_year, dtype=float)
    lv = np.asarray(curve.level_m, dtype=float)
    if d.ndim != 1 or d.shape != lv.shape or d.size < 1:
        raise ValueError("RuleCurve.day_of_year and level_m must be 1-D arrays of the same length")
    if np.any(d < 1) or np.any(d > 366):
        raise ValueError(f"RuleCurve.day_of_year must lie in 1..366, got {d.min():g}..{d.max():g}")
    if np.any(np.diff(d) <= 0):
        raise ValueError("RuleCurve.day_of_year must be strictly increasing")
    xp = np.concatenate([d - 365.0, d, d + 365.0])
    fp = np.concatenate([lv, lv, lv])
    xu, first = np.unique(xp, return_index=True)
    if xu.size != xp.size:
        # a knot at 366 coincides with day 1 of the next cycle: levels must agree
        for v in xu:
            same = fp[xp == v]
            if np.ptp(same) > 1e-9:
                raise ValueError(f"RuleCurve: day 366 and day 1 give different levels "
                                 f"({same.min():g} and {same.max():g} m)")
    x = (np.asarray(doy, dtype=float) - 1.0) % 365.0 + 1.0
    return np.interp(x, xu, fp[first])


@dataclass(frozen=True)
class _FloodPlan:
    base: np.ndarray                  # (T, members) ordinary release, m³/s
    mean_forecast: np.ndarray         # (T, members) mean forecast inflow over the horizon, m³/s
    horizon_steps: float
    v_flood: float                    # hm³ at flood_level_m
    guide_volume: np.ndarray | None   # (T,) hm³


def _flood_plan(fc: FloodControl, reservoir: Reservoir, inflow: np.ndarray,
                start_day_of_year: int, dt_days: float) -> _FloodPlan:
    members, steps = inflow.shape
    if not fc.horizon_days > 0:
        raise ValueError(f"FloodControl.horizon_days must be positive, got {fc.horizon_days}")
    n = max(1, int(round(fc.horizon_days / dt_days)))
    base_value = (reservoir.min_release.to("discharge") if fc.base_release_m3s is None
                  else fc.base_release_m3s)
    base_arr = np.asarray(base_value, dtype=float)
    base = (np.full((members, steps), float(base_arr)) if base_arr.ndim == 0
            else _as_members_by_time(base_arr, members, steps, "FloodControl.base_release_m3s"))
    if not np.isfinite(base).all() or np.any(base < 0):
        raise ValueError("FloodControl.base_release_m3s must be finite and >= 0")
    if fc.inflow_forecast_m3s is None:
        fcst = inflow
    else:
        fcst = _as_members_by_time(fc.inflow_forecast_m3s, members, steps,
                                   "FloodControl.inflow_forecast_m3s")
        if not np.isfinite(fcst).all() or np.any(fcst < 0):
            raise ValueError("FloodControl.inflow_forecast_m3s must be finite and >= 0")
    padded = np.concatenate([fcst, np.repeat(fcst[:, -1:], n - 1, axis=1)], axis=1)
    csum = np.concatenate([np.zeros((members, 1)), np.cumsum(padded, axis=1)], axis=1)
    mean_fcst = (csum[:, n:n + steps] - csum[:, :steps]) / n
    level = reservoir.npu.to("elevation") if fc.flood_level_m is None else float(fc.flood_level_m)
    _check_levels(np.array([level]), reservoir, "FloodControl.flood_level_m")
    guide = None
    if fc.guide is not None:
        lv = np.asarray(fc.guide.level_m, dtype=float)
        _check_levels(lv, reservoir, "FloodControl.guide")
        doy_end = start_day_of_year + (np.arange(steps) + 1.0) * dt_days
        guide = np.asarray(reservoir.storage_table.volume_at(_rule_curve_levels(fc.guide, doy_end)),
                           dtype=float)
    return _FloodPlan(np.ascontiguousarray(base.T), np.ascontiguousarray(mean_fcst.T), float(n),
                      float(reservoir.storage_table.volume_at(level)), guide)


def operate(reservoir: Reservoir, inflow_m3s: ArrayLike, schedule: ReleaseSchedule, *,
            start_day_of_year: int = 1, dt_days: float = 1.0,
            initial_volume_hm3: float | ArrayLike | None = None,
            evaporation_mm_per_day: ArrayLike | None = None,
            initial_release_m3s: float | ArrayLike | None = None) -> OperationResult:
    """Simulate a reservoir following a release schedule, for many ensemble members at once.

    Parameters
    ----------
    reservoir : :class:`hydro.config.Reservoir` (storage table, НПУ/ФПУ/УМО, outlet capacity
        by level, minimum release, maximum ramp per day).
    inflow_m3s : inflow (m³/s, >= 0), shape ``(T,)`` or ``(members, T)``; the mean over each step.
    schedule : :class:`DailyRelease` (a requested release per step), :class:`TargetLevel`
        (levels to reach by given steps), :class:`RuleCurve` (target level by day of year)
        or :class:`FloodControl` (minimum release, pre-release ahead of a forecast flood).
    start_day_of_year : day of year (1..366) of the first step (used by :class:`RuleCurve`).
    dt_days : step length in days (1 = daily).
    initial_volume_hm3 : volume at the start (scalar or one per member) within [dead, ФПУ]
        volume; the НПУ volume when not given.
    evaporation_mm_per_day : open-water evaporation rate (mm/day, >= 0), ``(T,)`` or
        ``(members, T)``; none when not given.
    initial_release_m3s : release in the step before the first (scalar or per member); it
        anchors the ramp limit of the first step.  When not given, the first step has no
        ramp limit.

    Returns
    -------
    OperationResult (arrays ``(members, T)``) with release, spill, outflow, end-of-step volume
    and level, evaporation, the requested release and the :class:`Deviations`.

    Notes
    -----
    Each step, for all members at once (explicit in the level: capacity and surface area are
    taken at the level at the start of the step; no look-ahead beyond the step's inflow):

    1. Evaporation ``E = A(h) · e`` (area × rate, via :func:`hydro.units.runoff_depth_to_discharge`),
       limited to the water above dead storage.
    2. Requested release ``R``: the schedule's value (:class:`DailyRelease`), or for a target
       level the release that lands the end-of-step volume on the target,
       ``R = I - E + (V - V_target) / Δt``; clipped at 0 (no pumping).
    3. Limits, in order of increasing priority (a later one overrides an earlier one):
       ramp ``|R - R_prev| <= max_ramp_per_day · Δt`` (RAMP) → minimum environmental release
       (MIN_RELEASE; it overrides the ramp) → outlet capacity at the current level
       (OUTLET_CAPACITY) → dead storage: nothing is released that would take the volume
       below the УМО volume (DEAD_STORAGE; water that is not there wins over the minimum
       release).
    4. Volume ``V' = V + (I - R - E) Δt``; anything above the ФПУ volume leaves as
       uncontrolled spill ``(V' - V_ФПУ)/Δt`` (FORCED_SPILL) and ``V' = V_ФПУ``.  The
       schedule is not overridden to avoid this: a flood-safety rule belongs in the schedule.

    Mass balance ``V[t] = V[t-1] + (I - release - spill - E) Δt`` (hm³ via
    :func:`hydro.units.discharge_to_volume`) closes to rounding (see
    :meth:`OperationResult.balance_residual_hm3`) and the volume stays in [dead, ФПУ].

    References
    ----------
    Loucks, D.P. & van Beek, E. (2017) Water Resource Systems Planning and Management,
    Springer (reservoir simulation by mass balance under release rules).
    """
    i = np.asarray(inflow_m3s, dtype=float)
    if i.ndim == 1:
        i = i[None, :]
    if i.ndim != 2 or i.shape[1] == 0:
        raise ValueError(f"inflow_m3s must have shape (T,) or (members, T), got {i.shape}")
    if not np.isfinite(i).all():
        raise ValueError("inflow_m3s must be finite (fill gaps before operating)")
    if np.any(i < 0):
        raise ValueError(f"inflow_m3s must not be negative (min {i.min():g} m³/s); "
                         "take withdrawals from the reservoir through the release instead")
    if not dt_days > 0:
        raise ValueError(f"dt_days must be positive, got {dt_days}")
    if not 1 <= start_day_of_year <= 366:
        raise ValueError(f"start_day_of_year must lie in 1..366, got {start_day_of_year}")
    members, steps = i.shape
    table = reservoir.storage_table
    v_dead = reservoir.dead_volume_hm3
    v_fpu = reservoir.fpu_volume_hm3
    min_rel = reservoir.min_release.to("discharge")
    ramp = reservoir.max_ramp_per_day.to("discharge") * dt_days
    conv = float(discharge_to_volume(1.0, dt_days))  # hm³ per (m³/s over one step)

    v0 = _per_member(reservoir.npu_volume_hm3 if initial_volume_hm3 is None
                     else initial_volume_hm3, members, "initial_volume_hm3")
    tol_v = 1e-9 * max(1.0, v_fpu)
    if np.any(v0 < v_dead - tol_v) or np.any(v0 > v_fpu + tol_v):
        raise ValueError(
            f"initial_volume_hm3 {v0.min():g}..{v0.max():g} hm³ lies outside "
            f"[dead {v_dead:g}, ФПУ {v_fpu:g}] hm³ of {reservoir.id}"
        )
    v0 = np.clip(v0, v_dead, v_fpu)

    if evaporation_mm_per_day is None:
        evap_rate = None
    else:
        evap_rate = _as_members_by_time(evaporation_mm_per_day, members, steps,
                                        "evaporation_mm_per_day")
        if not np.isfinite(evap_rate).all() or np.any(evap_rate < 0):
            raise ValueError("evaporation_mm_per_day must be finite and >= 0")

    prev = None if initial_release_m3s is None else _per_member(
        initial_release_m3s, members, "initial_release_m3s")
    if prev is not None and (not np.isfinite(prev).all() or np.any(prev < 0)):
        raise ValueError("initial_release_m3s must be finite and >= 0")

    # the schedule as a per-step request (m³/s) or a per-step target volume (hm³), (T, members)
    is_target = isinstance(schedule, TargetLevel | RuleCurve)
    flood: _FloodPlan | None = None
    if isinstance(schedule, FloodControl):
        flood = _flood_plan(schedule, reservoir, i, start_day_of_year, dt_days)
        plan = flood.base
    elif isinstance(schedule, DailyRelease):
        plan = _as_members_by_time(schedule.release_m3s, members, steps,
                                   "DailyRelease.release_m3s").T
        if not np.isfinite(plan).all():
            raise ValueError("DailyRelease.release_m3s must be finite")
    elif isinstance(schedule, TargetLevel):
        d = np.asarray(schedule.day_index, dtype=float)
        lv = np.asarray(schedule.level_m, dtype=float)
        if d.ndim != 1 or d.shape != lv.shape or d.size < 1:
            raise ValueError("TargetLevel.day_index and level_m must be 1-D arrays of the same length")
        if np.any(d < 0) or np.any(np.diff(d) <= 0):
            raise ValueError("TargetLevel.day_index must be >= 0 and strictly increasing")
        _check_levels(lv, reservoir, "TargetLevel")
        tt = np.arange(steps, dtype=float)
        base = np.interp(tt, d, lv)                        # (T,)
        h0 = table.level_at(v0)                            # (members,)
        frac = (tt + 1.0) / (d[0] + 1.0)                   # before the first knot
        lead = h0[None, :] + (lv[0] - h0[None, :]) * frac[:, None]
        levels = np.where((tt < d[0])[:, None], lead, base[:, None])
        plan = table.volume_at(levels)
    elif isinstance(schedule, RuleCurve):
        lv = np.asarray(schedule.level_m, dtype=float)
        _check_levels(lv, reservoir, "RuleCurve")
        doy_end = start_day_of_year + (np.arange(steps) + 1.0) * dt_days
        levels = _rule_curve_levels(schedule, doy_end)     # (T,)
        plan = np.broadcast_to(table.volume_at(levels)[:, None], (steps, members))
    else:
        raise TypeError(f"schedule must be DailyRelease, TargetLevel, RuleCurve or FloodControl, "
                        f"got {type(schedule).__name__}")

    it = np.ascontiguousarray(i.T)                         # (T, members)
    et = None if evap_rate is None else np.ascontiguousarray(evap_rate.T)
    rel = np.empty((steps, members))
    spl = np.empty((steps, members))
    vol = np.empty((steps, members))
    eva = np.empty((steps, members))
    req_out = np.empty((steps, members))
    flags = np.zeros((steps, members), dtype=np.uint8)

    def changed(new: np.ndarray, old: np.ndarray) -> np.ndarray:
        return np.abs(new - old) > 1e-9 * (1.0 + np.abs(old))

    v = v0.copy()
    for t in range(steps):
        q_in = it[t]
        level = table.level_at(v)
        cap = reservoir.outlet_capacity.at(level)
        above_dead = (v - v_dead) / conv                   # m³/s that would empty to УМО
        if et is None:
            e = np.zeros(members)
        else:
            e = runoff_depth_to_discharge(et[t], table.area_at(level))
            e = np.minimum(e, q_in + above_dead)
        if is_target:
            req = q_in - e + (v - plan[t]) / conv
        elif flood is not None:
            req = np.maximum(plan[t], flood.mean_forecast[t] - e
                             - (flood.v_flood - v) / (flood.horizon_steps * conv))
            if flood.guide_volume is not None:
                req = np.maximum(req, q_in - e + (v - flood.guide_volume[t]) / conv)
        else:
            req = plan[t]
        req = np.maximum(req, 0.0)
        req_out[t] = req
        r = req
        f = flags[t]
        if prev is not None:
            new = np.clip(r, prev - ramp, prev + ramp)
            f |= np.where(changed(new, r), np.uint8(Reason.RAMP), np.uint8(0))
            r = new
        new = np.maximum(r, min_rel)
        f |= np.where(changed(new, r), np.uint8(Reason.MIN_RELEASE), np.uint8(0))
        r = new
        new = np.minimum(r, cap)
        f |= np.where(changed(new, r), np.uint8(Reason.OUTLET_CAPACITY), np.uint8(0))
        r = new
        new = np.maximum(np.minimum(r, q_in - e + above_dead), 0.0)
        f |= np.where(changed(new, r), np.uint8(Reason.DEAD_STORAGE), np.uint8(0))
        r = new
        v_new = v + (q_in - r - e) * conv
        s = np.maximum(v_new - v_fpu, 0.0) / conv
        f |= np.where(s > 1e-9, np.uint8(Reason.FORCED_SPILL), np.uint8(0))
        v_new = np.clip(v_new - s * conv, v_dead, v_fpu)   # clip removes rounding only
        rel[t], spl[t], vol[t], eva[t] = r, s, v_new, e
        prev = r
        v = v_new

    def mt(a: np.ndarray) -> np.ndarray:
        return a.T  # a (members, T) view of the (T, members) work array, no copy

    volume = mt(vol)
    release, spill = mt(rel), mt(spl)
    return OperationResult(
        release_m3s=release,
        spill_m3s=spill,
        outflow_m3s=release + spill,
        volume_hm3=volume,
        level_m=table.level_at(volume),
        evaporation_m3s=mt(eva),
        requested_m3s=mt(req_out),
        inflow_m3s=np.array(i),  # a copy: the caller may reuse its array
        initial_volume_hm3=v0,
        dt_days=float(dt_days),
        deviations=Deviations(mt(flags)),
    )
