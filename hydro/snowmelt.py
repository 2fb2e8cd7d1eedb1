"""Degree-day snowmelt and frozen-soil runoff model (daily, vectorised).

Pure functions over numpy arrays: no file, database or clock access.  Every array has
**time as its last axis**; any leading axes (members, nodes, parameter sets ...) are
computed together, so an ensemble of ten thousand members is one call, not a loop.

Model (one lumped store set per element of the leading axes; daily step)
-------------------------------------------------------------------------
Inputs: air temperature ``T`` (°C), precipitation ``P`` (mm/day).

* Precipitation falls as snow when ``T < t_snow`` (°C) and accumulates as the frozen snow
  water equivalent ``SWE`` (mm).
* Snow-covered fraction of the area (the *areal depletion curve*, linear):
  ``A = min(1, (SWE + L) / swe_full_cover)``; ``swe_full_cover = 0`` (the default) keeps
  the whole area covered while there is any snow.  A shallow, patchy pack melts only
  where it lies, so the late-season melt slows instead of ending abruptly (Liston 2004).
* Melt ``M = min(SWE, A · ddf · max(T − t_melt, 0))`` (mm/day), ``ddf`` the degree-day
  factor (mm °C⁻¹ d⁻¹).
* Meltwater retention (the HBV snow routine, Bergström 1976; Lindström et al. 1997):
  melt and the rain falling on the covered fraction enter the pack's liquid store ``L``
  (mm), which holds up to ``whc · SWE``; the excess leaves the pack.  Below ``t_melt``
  liquid water refreezes at ``refreeze · ddf · (t_melt − T)`` (mm/day).  ``whc = 0``
  (the default) releases melt and rain at once, the model without retention.
* Frost index ``F = min(FDD / frost_norm, frost_cap)`` where ``FDD`` is the sum of
  negative degree-days (°C·d) since 1 October (the depth of soil freezing grows with it).
* Soil thaw: positive degree-days since 1 March, ``TDD``; the soil counts as frozen while
  ``TDD < thaw_degree_days``.
* Runoff coefficient of melt and rain on *frozen* soil
  ``c = clip(c0 + frost_slope · F + wetness_slope · (W − 1) + snow_slope · (S − 1),
  c_min, c_max)``, ``W`` the autumn wetness (Sep–Oct precipitation over its mean, the
  pre-freezing soil moisture), ``S`` the winter's snowiness (Nov–Mar precipitation over
  its mean); on thawed soil ``c = c_thawed``.  Frozen, saturated soil cannot infiltrate:
  a wet autumn and deep frost raise ``c``.  A snowy winter raises it too: the melt of a
  deep pack fills the closed depressions of the steppe and they spill, so the area
  contributing to the river grows with the winter's snow (fill-and-spill; Shook &
  Pomeroy 2011) — a shallow-snow steppe gives little, a snowy one a great deal.
* A share ``recharge`` of melt and rain recharges a groundwater store; the rest
  (``1 − c − recharge``) infiltrates to the soil and evaporates (a loss, reported).
* Quick flow and baseflow leave linear stores: ``Q = (1 − exp(−dt/k)) S``, with
  ``k_quick`` and ``k_base`` in days.

Water balance (mm, exact to rounding, tested):
``Σ P = ΔSWE + ΔL + ΔS_quick + ΔS_base + Σ runoff + Σ loss``.

River ice (:func:`ice_phases`): the degree rule of the synthetic generator
(:mod:`hydro.synthetic.generate`) on the trailing 7-day mean air temperature — freeze-up
in November–January below −4 °C, break-up in March–May above +1 °C, then six days of
ice drift — for the ice backwater the scenario engine adds to open-water stage.

Units: temperature °C, depths mm, rates mm/day, time constants days; convert runoff depth
to discharge with :func:`hydro.units.runoff_depth_to_discharge`.

References
----------
Bergström, S. (1976), *Development and application of a conceptual runoff model for
Scandinavian catchments*, SMHI RHO 7 (the HBV degree-day snow routine).
Kuchment, L.S. & Gelfan, A.N. (1996), The determination of the snowmelt rate and the
meltwater outflow from a snowpack for modelling river runoff generation,
*J. Hydrol.* 179, 23–36; Gelfan, A.N. (2006), Physically based model of heat and water
transfer in frozen soil and its parametrization by basic soil data, *IAHS Publ.* 303
(frozen-soil runoff generation).
Lindström, G., Johansson, B., Persson, M., Gardelin, M. & Bergström, S. (1997),
Development and test of the distributed HBV-96 hydrological model, *J. Hydrol.* 201,
272–288 (liquid-water holding capacity and refreezing of the snowpack).
Shook, K. & Pomeroy, J.W. (2011), Memory effects of depressional storage in Northern
Prairie hydrology, *Hydrol. Process.* 25, 3890–3898 (fill-and-spill: the contributing
area grows with the snowmelt volume).
Liston, G.E. (2004), Representing subgrid snow cover heterogeneities in regional and
global models, *J. Climate* 17, 1381–1397 (snow-cover depletion curves).
Gray, D.M., Toth, B., Zhao, L., Pomeroy, J.W. & Granger, R.J. (2001), Estimating areal
snowmelt infiltration into frozen soils, *Hydrol. Process.* 15, 3095–3111 (infiltration
into frozen soil falls with pre-freezing soil moisture).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "SnowParameters",
    "SnowState",
    "SnowResult",
    "simulate",
    "simulate_time_first",
    "season_flags",
    "ice_phases",
    "CALIBRATED_NAMES",
    "ICE_OPEN",
    "ICE_COVER",
    "ICE_DRIFT",
    "ICE_JAM",
]

#: river ice phase codes of :func:`ice_phases`
ICE_OPEN: Final = 0
ICE_COVER: Final = 1
ICE_DRIFT: Final = 2
ICE_JAM: Final = 3

#: parameters fitted by calibration (see :mod:`hydro.scenarios`); the others are priors
CALIBRATED_NAMES: Final = ("ddf", "c0", "frost_slope", "wetness_slope", "snow_slope")


@dataclass(frozen=True)
class SnowParameters:
    """Parameters of the snowmelt–runoff model (scalars or arrays broadcasting against
    the leading axes of the inputs, e.g. one value per node or per parameter set).

    Attributes
    ----------
    ddf : degree-day factor, mm °C⁻¹ d⁻¹.
    t_snow : rain/snow threshold, °C.
    t_melt : melt threshold, °C.
    c0 : runoff coefficient on frozen soil at zero frost index and normal wetness, 1.
    frost_slope : increase of the frozen-soil runoff coefficient per unit frost index, 1.
    wetness_slope : increase per unit of autumn wetness above normal, 1.
    snow_slope : increase per unit of winter snowiness above normal, 1 (0 = none).
    c_min, c_max : bounds of the frozen-soil coefficient, 1 (``c_max + recharge <= 1``).
    c_thawed : runoff coefficient on thawed soil, 1.
    recharge : share of melt and rain recharging groundwater, 1.
    frost_norm : frost degree-days giving frost index 1, °C·d.
    frost_cap : cap on the frost index, 1.
    thaw_degree_days : positive degree-days after 1 March that thaw the soil, °C·d.
    k_quick : quick-flow time constant, d.
    k_base : baseflow time constant, d.
    whc : liquid-water holding capacity of the snowpack, share of its frozen SWE, 1
        (HBV's CWH, typically 0.1; 0 = no retention).
    refreeze : refreezing coefficient, share of ``ddf`` (HBV's CFR, typically 0.05).
    swe_full_cover : SWE above which the whole area is snow-covered, mm (below it the
        covered fraction falls linearly to zero; 0 = always fully covered).
    """

    ddf: float | np.ndarray = 3.0
    t_snow: float | np.ndarray = 0.5
    t_melt: float | np.ndarray = 0.0
    c0: float | np.ndarray = 0.12
    frost_slope: float | np.ndarray = 0.30
    wetness_slope: float | np.ndarray = 0.25
    snow_slope: float | np.ndarray = 0.0
    c_min: float | np.ndarray = 0.05
    c_max: float | np.ndarray = 0.85
    c_thawed: float | np.ndarray = 0.04
    recharge: float | np.ndarray = 0.07
    frost_norm: float | np.ndarray = 2000.0
    frost_cap: float | np.ndarray = 1.2
    thaw_degree_days: float | np.ndarray = 150.0
    k_quick: float | np.ndarray = 8.0
    k_base: float | np.ndarray = 140.0
    whc: float | np.ndarray = 0.0
    refreeze: float | np.ndarray = 0.0
    swe_full_cover: float | np.ndarray = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = np.asarray(getattr(self, f.name), dtype=float)
            if not np.all(np.isfinite(v)):
                raise ValueError(f"snow parameter {f.name} must be finite, got {v}")
        if np.any(np.asarray(self.ddf) < 0):
            raise ValueError(f"ddf must be >= 0 mm/°C/d, got {self.ddf}")
        for name in ("k_quick", "k_base", "frost_norm"):
            if np.any(np.asarray(getattr(self, name)) <= 0):
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("whc", "refreeze", "swe_full_cover"):
            if np.any(np.asarray(getattr(self, name)) < 0):
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        for name in ("c_min", "c_max", "c_thawed", "recharge"):
            v = np.asarray(getattr(self, name))
            if np.any((v < 0) | (v > 1)):
                raise ValueError(f"{name} must lie in [0, 1], got {v}")
        if np.any(np.asarray(self.c_max) + np.asarray(self.recharge) > 1 + 1e-12):
            raise ValueError("c_max + recharge must not exceed 1 (the loss would be negative)")
        if np.any(np.asarray(self.c_thawed) + np.asarray(self.recharge) > 1 + 1e-12):
            raise ValueError("c_thawed + recharge must not exceed 1")
        if np.any(np.asarray(self.c_min) > np.asarray(self.c_max)):
            raise ValueError("c_min must not exceed c_max")

    def with_values(self, **values: float | np.ndarray) -> SnowParameters:
        """A copy with some parameters replaced (e.g. calibrated values)."""
        unknown = set(values) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown snow parameter(s): {', '.join(sorted(unknown))}")
        return replace(self, **values)

    def as_dict(self) -> dict[str, float | np.ndarray]:
        return asdict(self)


@dataclass(frozen=True)
class SnowState:
    """State of the stores (arrays broadcasting against the leading axes).

    Attributes
    ----------
    swe : frozen snow water equivalent, mm.
    frost_dd : negative degree-days since 1 October, °C·d.
    thaw_dd : positive degree-days since 1 March, °C·d.
    quick : quick-flow store, mm.
    base : groundwater store, mm.
    liquid : liquid water held in the snowpack, mm.
    """

    swe: float | np.ndarray = 0.0
    frost_dd: float | np.ndarray = 0.0
    thaw_dd: float | np.ndarray = 0.0
    quick: float | np.ndarray = 0.0
    base: float | np.ndarray = 40.0
    liquid: float | np.ndarray = 0.0

    def total_storage_mm(self) -> np.ndarray:
        """Water held in the stores (SWE + liquid in the pack + quick + base), mm."""
        return (np.asarray(self.swe) + np.asarray(self.liquid) + np.asarray(self.quick)
                + np.asarray(self.base))


@dataclass(frozen=True)
class SnowResult:
    """Output of :func:`simulate`; arrays have the broadcast leading shape and time last.

    Attributes
    ----------
    runoff_mm : runoff depth, mm/day (quick flow + baseflow).
    melt_mm : snowmelt (frozen SWE turned liquid), mm/day (None without diagnostics).
    loss_mm : melt and rain neither running off nor recharging, mm/day (None without
        diagnostics).
    swe_mm : snow water equivalent (frozen + liquid) at the end of each day, mm (None
        without diagnostics).
    coefficient : runoff coefficient in force each day, 1 (None without diagnostics).
    final : state at the end of the last day.
    liquid_mm : liquid water held in the pack at the end of each day, mm (None without
        diagnostics).
    cover : snow-covered fraction each day, 1 (None without diagnostics).
    """

    runoff_mm: np.ndarray
    melt_mm: np.ndarray
    loss_mm: np.ndarray
    swe_mm: np.ndarray
    coefficient: np.ndarray
    final: SnowState
    liquid_mm: np.ndarray | None = None
    cover: np.ndarray | None = None


def season_flags(dates: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Where the frost sum and the thaw sum restart: 1 October and 1 March.

    Parameters
    ----------
    dates : array of numpy ``datetime64`` (any resolution), one per time step.

    Returns
    -------
    (reset_frost, reset_thaw) : two boolean arrays of the same length.
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    months = d.astype("datetime64[M]")
    month = months.astype(int) % 12 + 1
    first = (d - months.astype("datetime64[D]")).astype(int) == 0
    return first & (month == 10), first & (month == 3)


def simulate(temp_c: ArrayLike, precip_mm: ArrayLike, params: SnowParameters,
             initial: SnowState | None = None, *, wetness: ArrayLike = 1.0,
             snowiness: ArrayLike = 1.0, reset_frost: ArrayLike | None = None, reset_thaw: ArrayLike | None = None,
             dt_days: float = 1.0, diagnostics: bool = True) -> SnowResult:
    """Run the degree-day snowmelt and frozen-soil runoff model.

    Parameters
    ----------
    temp_c : array (..., T)
        Daily mean air temperature, °C.
    precip_mm : array (..., T)
        Precipitation, mm/day.
    params : SnowParameters
        Each field a scalar or an array broadcasting against the leading shape.
    initial : SnowState, optional
        State at the start of the first day (default: no snow, no frost, 40 mm baseflow
        store).
    wetness : array (...,) or (..., T)
        Autumn wetness ``W`` (1 = normal); per step when it changes between seasons.
    snowiness : array (...,) or (..., T)
        Winter snowiness ``S`` (1 = normal), like ``wetness``.
    reset_frost, reset_thaw : boolean arrays (T,), optional
        Steps at whose start the frost sum (1 Oct) and the thaw sum (1 Mar) restart from
        zero; see :func:`season_flags`.  Default: never.
    dt_days : float
        Time step, days (the model is daily; ``dt_days`` scales the degree-days and the
        store outflows).
    diagnostics : bool
        Also return melt, loss, SWE and the runoff coefficient per step (``False`` returns
        only the runoff, for large ensembles).

    Returns
    -------
    SnowResult (arrays with time last)

    Notes
    -----
    Explicit daily update in the order snow/rain split → snow-covered fraction → melt →
    refreezing → retention in the pack → frost and thaw sums → runoff coefficient → store
    inflow → store outflow.  References in the module
    docstring.  :func:`simulate_time_first` is the same with time as the first axis.
    """
    t = np.asarray(temp_c, dtype=float)
    p = np.asarray(precip_mm, dtype=float)
    if t.ndim == 0 or p.ndim == 0:
        raise ValueError("temp_c and precip_mm need a time axis (last axis)")
    w = np.asarray(wetness, dtype=float)
    w_per_step = (w.ndim > 0 and w.shape[-1] == t.shape[-1]
                  and w.ndim == max(t.ndim, p.ndim))
    sn = np.asarray(snowiness, dtype=float)
    s_per_step = (sn.ndim > 0 and sn.shape[-1] == t.shape[-1]
                  and sn.ndim == max(t.ndim, p.ndim))
    res = simulate_time_first(
        np.moveaxis(t, -1, 0), np.moveaxis(p, -1, 0), params, initial,
        wetness=np.moveaxis(w, -1, 0) if w_per_step else w, wetness_per_step=w_per_step,
        snowiness=np.moveaxis(sn, -1, 0) if s_per_step else sn,
        snowiness_per_step=s_per_step,
        reset_frost=reset_frost, reset_thaw=reset_thaw, dt_days=dt_days,
        diagnostics=diagnostics)

    def last(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.moveaxis(a, 0, -1)

    return SnowResult(
        last(res.runoff_mm), last(res.melt_mm), last(res.loss_mm),  # type: ignore[arg-type]
        last(res.swe_mm), last(res.coefficient), res.final,  # type: ignore[arg-type]
        last(res.liquid_mm), last(res.cover))


def simulate_time_first(temp_c: ArrayLike, precip_mm: ArrayLike, params: SnowParameters,
                        initial: SnowState | None = None, *, wetness: ArrayLike = 1.0,
                        wetness_per_step: bool = False, snowiness: ArrayLike = 1.0,
                        snowiness_per_step: bool = False,
                        reset_frost: ArrayLike | None = None,
                        reset_thaw: ArrayLike | None = None, dt_days: float = 1.0,
                        diagnostics: bool = True) -> SnowResult:
    """:func:`simulate` with **time as the first axis** of inputs and outputs.

    ``temp_c`` and ``precip_mm`` are (T, ...); ``wetness`` is (...) or, with
    ``wetness_per_step``, (T, ...); ``snowiness`` likewise with ``snowiness_per_step``.  Every step then reads and writes one contiguous slab,
    the layout for large ensembles.  Returns a :class:`SnowResult` whose arrays are
    (T, ...).
    """
    t = np.asarray(temp_c, dtype=float)
    p = np.asarray(precip_mm, dtype=float)
    if t.ndim == 0 or p.ndim == 0:
        raise ValueError("temp_c and precip_mm need a time axis (first axis)")
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"temp_c and precip_mm differ in length: {t.shape[0]} and {p.shape[0]}")
    if np.any(p < 0):
        raise ValueError("precipitation must not be negative")
    if not dt_days > 0:
        raise ValueError(f"dt_days must be positive, got {dt_days}")
    n_steps = t.shape[0]
    init = initial or SnowState()
    w = np.asarray(wetness, dtype=float)
    sn = np.asarray(snowiness, dtype=float)
    pars = {f.name: np.asarray(getattr(params, f.name), dtype=float) for f in fields(params)}
    lead = np.broadcast_shapes(
        t.shape[1:], p.shape[1:], (w.shape[1:] if wetness_per_step else w.shape),
        (sn.shape[1:] if snowiness_per_step else sn.shape),
        *(v.shape for v in pars.values()),
        *(np.shape(getattr(init, f.name)) for f in fields(init)))
    tt = np.broadcast_to(t, (n_steps, *lead))
    pp = np.broadcast_to(p, (n_steps, *lead))
    rf = (np.zeros(n_steps, bool) if reset_frost is None else np.asarray(reset_frost, bool))
    rt = (np.zeros(n_steps, bool) if reset_thaw is None else np.asarray(reset_thaw, bool))
    if rf.shape != (n_steps,) or rt.shape != (n_steps,):
        raise ValueError(f"reset flags must have shape ({n_steps},)")

    swe = np.array(np.broadcast_to(init.swe, lead), dtype=float)
    frost = np.array(np.broadcast_to(init.frost_dd, lead), dtype=float)
    thaw = np.array(np.broadcast_to(init.thaw_dd, lead), dtype=float)
    quick = np.array(np.broadcast_to(init.quick, lead), dtype=float)
    base = np.array(np.broadcast_to(init.base, lead), dtype=float)
    liquid = np.array(np.broadcast_to(init.liquid, lead), dtype=float)
    for name, arr in (("swe", swe), ("quick", quick), ("base", base), ("liquid", liquid)):
        if np.any(arr < 0):
            raise ValueError(f"initial {name} must not be negative")

    ddf = pars["ddf"] * dt_days
    a_quick = -np.expm1(-dt_days / pars["k_quick"])
    a_base = -np.expm1(-dt_days / pars["k_base"])
    inv_norm = 1.0 / pars["frost_norm"]
    per_step = wetness_per_step or snowiness_per_step
    if not per_step:
        c_const = (pars["c0"] + pars["wetness_slope"] * (np.broadcast_to(w, lead) - 1.0)
                   + pars["snow_slope"] * (np.broadcast_to(sn, lead) - 1.0))
    whc, cfr = pars["whc"], pars["refreeze"] * ddf
    full = pars["swe_full_cover"]
    retention = bool(np.any(whc > 0) or np.any(cfr > 0) or np.any(liquid > 0))
    depletion = bool(np.any(full > 0))
    with np.errstate(over="ignore", divide="ignore"):
        # a subnormal full-cover SWE would make 1/full infinite and 0·inf NaN: below 1e-12 mm
        # it is full cover as soon as there is any snow, as 1e-12 gives
        inv_full = np.where(full > 0, 1.0 / np.maximum(full, 1e-12), 0.0)
    runoff = np.empty((n_steps, *lead))
    diag = [np.empty((n_steps, *lead)) for _ in range(6)] if diagnostics else None
    snow, melt, water, c, tmp, q, cover = (np.empty(lead) for _ in range(7))
    cover[...] = 1.0
    for s in range(n_steps):
        if rf[s]:
            frost[...] = 0.0
        if rt[s]:
            thaw[...] = 0.0
        ts = tt[s]
        ps = pp[s] * dt_days if dt_days != 1.0 else pp[s]   # mm in this step
        # snow / rain
        np.less(ts, pars["t_snow"], out=tmp)
        np.multiply(ps, tmp, out=snow)
        swe += snow
        np.subtract(ps, snow, out=water)                    # rain
        if depletion:                                       # A = min(1, (swe + L) / full)
            np.add(swe, liquid, out=cover)
            cover *= inv_full
            np.minimum(cover, 1.0, out=cover)
            cover[...] = np.where(full > 0, cover, 1.0)
        # melt = min(swe, A ddf max(T - t_melt, 0))
        np.subtract(ts, pars["t_melt"], out=melt)
        np.maximum(melt, 0.0, out=melt)
        melt *= ddf
        if depletion:
            melt *= cover
        np.minimum(swe, melt, out=melt)
        swe -= melt
        if retention:
            # refreezing below t_melt, then melt and the rain on the pack fill the liquid
            # store up to whc * swe; the excess (and rain on bare ground) leaves
            np.subtract(pars["t_melt"], ts, out=tmp)
            np.maximum(tmp, 0.0, out=tmp)
            tmp *= cfr
            np.minimum(tmp, liquid, out=tmp)
            liquid -= tmp
            swe += tmp
            on_pack = water * cover * ((swe > 0) | (liquid > 0))
            liquid += melt + on_pack
            water -= on_pack
            np.multiply(swe, whc, out=tmp)
            np.subtract(liquid, tmp, out=tmp)
            np.maximum(tmp, 0.0, out=tmp)                   # released by the pack
            liquid -= tmp
            water += tmp
        else:
            water += melt                                   # melt + rain
        # frost and thaw sums
        np.negative(ts, out=tmp)
        np.maximum(tmp, 0.0, out=tmp)
        frost += tmp * dt_days if dt_days != 1.0 else tmp
        np.maximum(ts, 0.0, out=tmp)
        thaw += tmp * dt_days if dt_days != 1.0 else tmp
        # runoff coefficient
        np.multiply(frost, inv_norm, out=c)
        np.minimum(c, pars["frost_cap"], out=c)
        c *= pars["frost_slope"]
        if per_step:
            c += (pars["c0"] + pars["wetness_slope"] * ((w[s] if wetness_per_step else w) - 1.0)
                  + pars["snow_slope"] * ((sn[s] if snowiness_per_step else sn) - 1.0))
        else:
            c += c_const
        np.clip(c, pars["c_min"], pars["c_max"], out=c)
        np.less(thaw, pars["thaw_degree_days"], out=tmp)    # still frozen: 1
        # c = frozen ? c : c_thawed
        c -= pars["c_thawed"]
        c *= tmp
        c += pars["c_thawed"]
        # stores: S <- S + in;  Q = a S;  S <- S - Q   (a = 1 - exp(-dt/k))
        np.multiply(c, water, out=tmp)                      # to quick
        quick += tmp
        if diag is not None:
            diag[1][s] = water - tmp - pars["recharge"] * water     # loss
        base += pars["recharge"] * water
        np.multiply(quick, a_quick, out=q)
        quick -= q
        np.multiply(base, a_base, out=tmp)
        base -= tmp
        q += tmp
        runoff[s] = q / dt_days if dt_days != 1.0 else q
        if diag is not None:
            diag[0][s] = melt / dt_days
            diag[1][s] /= dt_days
            diag[2][s] = swe + liquid
            diag[3][s] = c
            diag[4][s] = liquid
            diag[5][s] = cover if depletion else (swe + liquid > 0)
    final = SnowState(swe=swe, frost_dd=frost, thaw_dd=thaw, quick=quick, base=base,
                      liquid=liquid)
    if diag is None:
        return SnowResult(runoff, None, None, None, None, final)  # type: ignore[arg-type]
    return SnowResult(runoff, diag[0], diag[1], diag[2], diag[3], final, diag[4], diag[5])


def ice_phases(temp_c: ArrayLike, months: ArrayLike, *, frozen_at_start: ArrayLike = False,
               history_c: ArrayLike | None = None, window: int = 7,
               freeze_below: float = -4.0, break_above: float = 1.0,
               freeze_months: tuple[int, ...] = (11, 12, 1),
               break_months: tuple[int, ...] = (3, 4, 5), drift_days: int = 6,
               jam_days: ArrayLike = 0) -> np.ndarray:
    """River ice phase per day from air temperature (a degree rule, vectorised).

    The rule of the synthetic generator (:mod:`hydro.synthetic.generate`, ``_ice_phenomena``)
    on the trailing ``window``-day mean air temperature ``T7`` at the gauge: the river
    freezes (ice cover) on the first day of ``freeze_months`` with ``T7 < freeze_below``
    °C and breaks up on the first day of ``break_months`` with ``T7 > break_above`` °C;
    ``drift_days`` of ice drift follow the break-up, the first ``jam_days`` of them behind
    an ice jam.

    Parameters
    ----------
    temp_c : array (..., T)
        Daily mean air temperature at the gauge, °C.
    months : array (T,)
        Calendar month of each day.
    frozen_at_start : bool or array (...)
        Whether the river is under ice before the first day.
    history_c : array (..., H), optional
        Temperature of the days before the first (for the trailing mean); default: the
        mean covers only the days available.
    jam_days : int or array (...)
        Days of the drift behind a jam (0: no jam).

    Returns
    -------
    numpy.ndarray of int8 (..., T): :data:`ICE_OPEN`, :data:`ICE_COVER`,
    :data:`ICE_DRIFT` or :data:`ICE_JAM`.
    """
    t = np.asarray(temp_c, dtype=float)
    mon = np.asarray(months)
    n = t.shape[-1]
    if mon.shape != (n,):
        raise ValueError(f"months must have shape ({n},)")
    hist = (np.zeros((*t.shape[:-1], 0)) if history_c is None
            else np.broadcast_to(np.asarray(history_c, dtype=float),
                                 (*t.shape[:-1], np.shape(history_c)[-1])))
    full = np.concatenate([hist, t], axis=-1)
    h = full.shape[-1] - n
    csum = np.concatenate([np.zeros((*t.shape[:-1], 1)), np.cumsum(full, axis=-1)], axis=-1)
    end = np.arange(h + 1, h + n + 1)
    start = np.maximum(end - window, 0)
    t7 = (csum[..., end] - csum[..., start]) / (end - start)
    lead = t.shape[:-1]
    frozen = np.array(np.broadcast_to(np.asarray(frozen_at_start, bool), lead))
    drift = np.zeros(lead, dtype=int)
    jam = np.broadcast_to(np.asarray(jam_days, dtype=int), lead)
    out = np.zeros((*lead, n), dtype=np.int8)
    freeze_m = np.isin(mon, freeze_months)
    break_m = np.isin(mon, break_months)
    for i in range(n):
        v = t7[..., i]
        start_ice = ~frozen & freeze_m[i] & (v < freeze_below)
        breakup = frozen & break_m[i] & (v > break_above)
        frozen = (frozen | start_ice) & ~breakup
        drift = np.where(breakup, drift_days, drift)
        phase = np.where(frozen, ICE_COVER, ICE_OPEN)
        drifting = ~frozen & (drift > 0)
        behind_jam = drifting & (drift_days - drift < jam)
        phase = np.where(drifting, np.where(behind_jam, ICE_JAM, ICE_DRIFT), phase)
        out[..., i] = phase
        drift = np.where(drifting, drift - 1, drift)
    return out
