"""Flood-season scenarios: validated definitions, the snowmelt model's calibration on the
bundled history, and seeded ensembles of headwater inflows routed through the network.

Pure functions: no file, database or clock access (reading and writing files is done by
:mod:`hydro.services.scenarios`).  Temperatures in °C, depths in mm, discharge in m³/s, volumes
in hm³, stage in cm above gauge zero, levels in m (Baltic system), time steps in days.

A scenario (``config/scenarios/<id>.toml``, validated by :func:`parse_scenario`) describes a
season from its start date (normally 1 March) for a number of days:

* the state of the catchments at the start, each as a percentile of its distribution over
  the calibration years: snow water equivalent (``swe_percentile``), the frost index
  (``frost_percentile``: deep frost raises the runoff coefficient) and the autumn wetness
  (``wetness_percentile``: a wet autumn before freezing raises it too).  Each percentile
  is a probability (``1 − p/100`` of a start at least as extreme); :func:`start_probability`
  gives them, their joint probability under independence and how many calibration years
  came as high, and every run carries that line;
* the weather: each member's daily temperature and precipitation — a whole historical
  season drawn (seeded) from the calibration years of the forcing record
  (``[ensemble] weather = "sampled_years"``, the default; the control member keeps the
  normals) or the smoothed daily normals for every member (``"climatology"``) — plus a
  *warm-up* (an anomaly ramped in over a few days, held for a while) and a *rain-on-snow*
  spell;
* an ensemble of ``members`` seeded members perturbing the snow water equivalent
  (lognormal multiplier), the melt onset (the warm-up and rain-on-snow dates shift by a
  whole number of days) and the rain-on-snow depth (gamma multiplier), optionally with
  AR(1) temperature anomalies;
* the river ice (``[ice]``): the degree rule of :func:`hydro.snowmelt.ice_phases` on each
  member's temperature at the gauges, the ice backwater added to the stages (+18 cm under
  ice cover, +45 cm more behind a jam) and the ice-affected days marked in the run
  (``ice_phase``, ``ice_affected``; :func:`apply_ice`);
* reservoir start levels, release schedules (``[schedules.<plan>]``: for each reservoir a
  release rule chosen by its ``kind`` from the registry :data:`RULES` — ``pass_inflow``,
  ``daily_release``, ``target_level``, ``rule_curve``, ``prerelease``, ``flood_control``;
  a new rule is one class decorated with :func:`release_rule`), what to evaluate
  (``[evaluation]``), the schedule search (``[search]``, with a ``weights`` table by gauge,
  Kazakh gauges among them) and how to run (``[run]``).

The snowmelt–runoff model is :mod:`hydro.snowmelt`; its parameters per basin are
calibrated by :func:`calibrate` against local inflows derived from the bundled discharge
(:func:`derive_local_inflow`) on the calibration years only — the validation years are a
separate, held-out period whose skill is reported on its own — and stored in
``config/scenarios/_model.toml``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal, TypeVar, get_args

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike
from pydantic import (
    AfterValidator,
    Field,
    SerializeAsAny,
    WrapValidator,
    field_validator,
    model_validator,
)
from scipy import stats

from hydro import network_sim, snowmelt
from hydro.errors import ConfigError, UnitError, validate
from hydro.network import Names, Network, Strict, climate_latitude, quantity_type
from hydro.units import Quantity, factor, parse_quantity, runoff_depth_to_discharge

__all__ = [
    "ScenarioFile",
    "ModelFile",
    "parse_scenario",
    "parse_model",
    "HistoricalForcing",
    "SeasonClimatology",
    "CalibrationResult",
    "EnsemblePerturbations",
    "derive_local_inflow",
    "node_forcing",
    "calibrate",
    "season_climatology",
    "perturbations",
    "season_inputs",
    "headwater_inflows",
    "build_schedule",
    "RULES",
    "ReleaseRule",
    "release_rule",
    "plan_schedules",
    "initial_volumes",
    "evaporation_climatology",
    "run_members",
    "prerelease_series",
    "prerelease_vector",
    "prerelease_spec",
    "search_schedule",
    "ScheduleSearch",
    "area_nodes",
    "local_area",
    "autumn_wetness",
    "winter_snowiness",
    "season_snowiness",
    "start_probability",
    "StartProbability",
    "gauge_ice_phases",
    "apply_ice",
    "FloodControlSpec",
    "CALIBRATION_BOUNDS",
    "MONTH_DAY",
]

MONTH_DAY: Final = r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
#: latitude of the reference point of each basin's forcing (°N); node temperatures shift
#: by ``lapse_per_degree_latitude`` per degree north of it
REFERENCE_LATITUDE: Final = 52.0


# =========================================================================== config models

Discharge = Annotated[Quantity, quantity_type("discharge")]
Duration = Annotated[Quantity, quantity_type("duration")]
Temperature = Annotated[Quantity, quantity_type("temperature")]
Depth = Annotated[Quantity, quantity_type("depth")]
Elevation = Annotated[Quantity, quantity_type("elevation")]
Volume = Annotated[Quantity, quantity_type("volume")]
Percentile = Annotated[float, Field(gt=0.0, lt=100.0)]


class ScenarioHeader(Strict):
    """``[scenario]``: identity, basins, the season's start and length."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    names: Names
    description: str = ""
    basins: list[str] = Field(min_length=1)
    start: dt.date
    days: int = Field(ge=2, le=366)
    synthetic: bool = Field(description="forcing or data behind the scenario are synthetic; "
                                        "every figure made from it is labelled so")


class WarmUp(Strict):
    """A warm spell: ``anomaly`` added to the climatological temperature, ramped in
    linearly over ``ramp`` from ``start`` and held to ``start + duration``."""

    start: dt.date
    ramp: Duration = Field(default_factory=lambda: parse_quantity("4 d", "duration"))
    duration: Duration
    anomaly: Temperature


class RainOnSnow(Strict):
    """Rain of ``depth`` per day on every day from ``start`` for ``duration``."""

    start: dt.date
    duration: Duration
    depth: Depth


class Season(Strict):
    """``[season]``: state at the start (percentiles over the calibration years) and the
    weather anomalies."""

    swe_percentile: Percentile
    frost_percentile: Percentile
    wetness_percentile: Percentile
    warm_up: WarmUp | None = None
    rain_on_snow: RainOnSnow | None = None

    def exceedance(self) -> dict[str, float]:
        """Probability of a start at least as extreme as each percentile, under the
        distribution fitted to the calibration years: ``1 − percentile/100`` (for the snow
        water equivalent, the frost index and the autumn wetness)."""
        return {"swe": 1.0 - self.swe_percentile / 100.0,
                "frost_dd": 1.0 - self.frost_percentile / 100.0,
                "wetness": 1.0 - self.wetness_percentile / 100.0}

    def joint_exceedance(self) -> float:
        """Probability of a start at least as extreme in all three at once **if they were
        independent** (the product of :meth:`exceedance`).  They need not be (a wet autumn and
        a snowy, hard winter may go together), so it is an order of magnitude to quote
        beside the empirical count of :func:`start_probability`, not a return period."""
        return math.prod(self.exceedance().values())


class Ensemble(Strict):
    """``[ensemble]``: size, seed and the perturbations of the members."""

    members: int = Field(ge=1, le=10_000_000)
    seed: int = Field(ge=0)
    swe_cv: float = Field(default=0.0, ge=0.0, le=2.0)
    melt_onset_sd: Duration = Field(default_factory=lambda: parse_quantity("0 d", "duration"))
    rain_on_snow_cv: float = Field(default=0.0, ge=0.0, le=5.0)
    temperature_sd: Temperature = Field(
        default_factory=lambda: parse_quantity("0 degC", "temperature"))
    temperature_memory: Duration = Field(
        default_factory=lambda: parse_quantity("5 d", "duration"))
    control_member: bool = True
    weather: Literal["sampled_years", "climatology"] = Field(
        default="sampled_years",
        description="daily weather of the members: 'sampled_years' draws for each member a "
                    "whole historical season (its daily temperature anomalies and "
                    "precipitation) from the calibration years of the forcing record; "
                    "'climatology' gives every member the smoothed daily normals")

    @model_validator(mode="after")
    def _check(self) -> Ensemble:
        if self.melt_onset_sd.to("duration") < 0 or self.temperature_sd.to("temperature") < 0:
            raise ValueError("melt_onset_sd and temperature_sd must not be negative")
        if self.temperature_memory.to("duration") <= 0:
            raise ValueError("temperature_memory must be positive")
        return self


class Ice(Strict):
    """``[ice]``: the ice backwater on scenario stage.

    The river ice phase at each gauge follows the degree rule of
    :func:`hydro.snowmelt.ice_phases` (the synthetic generator's) on the member's air
    temperature at the gauge; under ice cover the stage is raised by ``cover_backwater``
    and, on the first ``jam_days`` of the drift at the ``jam_gauges``, by a further
    ``jam_backwater`` (as :mod:`hydro.synthetic.generate` does: 18 cm and 45 cm, see
    docs/synthetic-data.md).  ``enabled = false`` gives open-water stages.
    """

    enabled: bool = True
    cover_backwater: Annotated[Quantity, quantity_type("stage")] = Field(
        default_factory=lambda: parse_quantity("18 cm", "stage"))
    jam_backwater: Annotated[Quantity, quantity_type("stage")] = Field(
        default_factory=lambda: parse_quantity("45 cm", "stage"))
    jam_gauges: list[str] = Field(default_factory=list)
    jam_days: int = Field(default=2, ge=0, le=30)


class ReservoirStart(Strict):
    """``[reservoirs."<id>"]``: state at the start (a level or a volume) and its source."""

    initial_level: Elevation | None = None
    initial_volume: Volume | None = None
    initial_release: Discharge | None = None
    source: str = ""

    @model_validator(mode="after")
    def _one(self) -> ReservoirStart:
        if (self.initial_level is None) == (self.initial_volume is None):
            raise ValueError("give exactly one of initial_level or initial_volume")
        return self


# --------------------------------------------------------------------------- release rules
#
# A reservoir's schedule in a plan (``[schedules.<plan>.reservoirs."<id>"]``) is a release
# rule chosen by its ``kind``.  Each rule is one class: its fields are what the scenario
# file gives, :meth:`ReleaseRule.build` turns it into what :func:`hydro.network_sim.simulate`
# takes, and the :func:`release_rule` decorator registers it in :data:`RULES`, from which
# validation (:data:`ScheduleSpec`: the class its ``kind`` names) and :func:`build_schedule`
# come.  A new rule is one new decorated class.

#: schedule kind -> release rule class (filled by :func:`release_rule`)
RULES: dict[str, type[ReleaseRule]] = {}


def release_rule(cls: type[ReleaseRuleT]) -> type[ReleaseRuleT]:
    """Register a :class:`ReleaseRule` subclass under its ``kind`` (the ``Literal`` of its
    ``kind`` field)."""
    annotation = cls.model_fields["kind"].annotation
    kinds = get_args(annotation)
    if len(kinds) != 1 or not isinstance(kinds[0], str):
        raise TypeError(f"{cls.__name__}.kind must be a Literal of one string")
    kind = kinds[0]
    if kind in RULES and RULES[kind] is not cls:
        raise ValueError(f"release rule kind '{kind}' is already registered "
                         f"({RULES[kind].__name__})")
    RULES[kind] = cls
    return cls


class ReleaseRule(Strict):
    """Base class of the release rules (see :data:`RULES`)."""

    def build(self, dates: pd.DatetimeIndex, *, reservoir: Any = None) -> Any:
        """The :mod:`hydro.reservoirs` schedule (or :class:`hydro.network_sim.PassInflow`)
        of this rule over ``dates``; ``reservoir`` is the :class:`hydro.network.Reservoir`
        it is for (rules that need its storage table or limits use it)."""
        raise NotImplementedError

    def season_dates(self) -> list[dt.date]:
        """The calendar dates the rule names (checked to lie inside the season)."""
        return []


ReleaseRuleT = TypeVar("ReleaseRuleT", bound=ReleaseRule)


@release_rule
class PassInflowSpec(ReleaseRule):
    """The reservoir passes its inflow (the river without it)."""

    kind: Literal["pass_inflow"]

    def build(self, dates: pd.DatetimeIndex, *, reservoir: Any = None) -> Any:
        return network_sim.PassInflow()


@release_rule
class DailyReleaseSpec(ReleaseRule):
    """Piecewise-constant release: ``release[i]`` from ``dates[i]`` until the next date."""

    kind: Literal["daily_release"]
    dates: list[dt.date] = Field(min_length=1)
    release_unit: str
    release: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> DailyReleaseSpec:
        _unit(self.release_unit, "discharge", "release_unit")
        if len(self.dates) != len(self.release):
            raise ValueError(f"dates and release differ in length ({len(self.dates)} and "
                             f"{len(self.release)})")
        if any(b <= a for a, b in zip(self.dates, self.dates[1:], strict=False)):
            raise ValueError("dates must be strictly increasing")
        if min(self.release) < 0:
            raise ValueError("release must not be negative")
        return self

    def build(self, dates: pd.DatetimeIndex, *, reservoir: Any = None) -> Any:
        from hydro import reservoirs as R

        f = factor(self.release_unit, "discharge")
        return R.DailyRelease(_piecewise(dates, self.dates, np.asarray(self.release) * f))


@release_rule
class TargetLevelSpec(ReleaseRule):
    """Levels to reach on given dates (linear in between)."""

    kind: Literal["target_level"]
    dates: list[dt.date] = Field(min_length=1)
    level_unit: str
    level: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> TargetLevelSpec:
        _unit(self.level_unit, "elevation", "level_unit")
        if len(self.dates) != len(self.level):
            raise ValueError("dates and level differ in length")
        if any(b <= a for a, b in zip(self.dates, self.dates[1:], strict=False)):
            raise ValueError("dates must be strictly increasing")
        return self

    def build(self, dates: pd.DatetimeIndex, *, reservoir: Any = None) -> Any:
        from hydro import reservoirs as R

        f = factor(self.level_unit, "elevation")
        idx = np.array([(pd.Timestamp(d) - dates[0]).days for d in self.dates], dtype=float)
        return R.TargetLevel(idx, np.asarray(self.level, dtype=float) * f)

    def season_dates(self) -> list[dt.date]:
        return list(self.dates)


@release_rule
class RuleCurveSpec(ReleaseRule):
    """Target level by day of year (the operating rule, linear between knots)."""

    kind: Literal["rule_curve"]
    day_of_year: list[int] = Field(min_length=2)
    level_unit: str
    level: list[float] = Field(min_length=2)
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> RuleCurveSpec:
        _unit(self.level_unit, "elevation", "level_unit")
        if len(self.day_of_year) != len(self.level):
            raise ValueError("day_of_year and level differ in length")
        if any(b <= a for a, b in zip(self.day_of_year, self.day_of_year[1:], strict=False)):
            raise ValueError("day_of_year must be strictly increasing")
        if self.day_of_year[0] < 1 or self.day_of_year[-1] > 366:
            raise ValueError("day_of_year must lie in 1..366")
        return self

    def build(self, dates: pd.DatetimeIndex, *, reservoir: Any = None) -> Any:
        from hydro import reservoirs as R

        f = factor(self.level_unit, "elevation")
        return R.RuleCurve(np.asarray(self.day_of_year, dtype=float),
                           np.asarray(self.level, dtype=float) * f)


@release_rule
class PrereleaseSpec(ReleaseRule):
    """The parametrised flood schedule (a daily release in four phases):

    ``base_release`` until ``prerelease_start``; ``prerelease_release`` (drawing the
    reservoir down ahead of the flood) until ``flood_start``; ``flood_release`` (holding
    the flood back) until ``refill_start``; then ``refill_release``.  The reservoir's
    physics (outlet capacity, ramp limit, minimum release, dead storage, spill above
    ФПУ) is enforced by :func:`hydro.reservoirs.operate`.
    """

    kind: Literal["prerelease"]
    base_release: Discharge
    prerelease_start: dt.date
    prerelease_release: Discharge
    flood_start: dt.date
    flood_release: Discharge
    refill_start: dt.date
    refill_release: Discharge

    @model_validator(mode="after")
    def _check(self) -> PrereleaseSpec:
        if not self.prerelease_start <= self.flood_start <= self.refill_start:
            raise ValueError("dates must satisfy prerelease_start <= flood_start <= refill_start")
        for k in ("base_release", "prerelease_release", "flood_release", "refill_release"):
            if getattr(self, k).to("discharge") < 0:
                raise ValueError(f"{k} must not be negative")
        return self

    def build(self, dates: pd.DatetimeIndex, *, reservoir: Any = None) -> Any:
        from hydro import reservoirs as R

        return R.DailyRelease(prerelease_series(
            dates, self.base_release.to("discharge"), _day(dates, self.prerelease_start),
            self.prerelease_release.to("discharge"), _day(dates, self.flood_start),
            self.flood_release.to("discharge"), _day(dates, self.refill_start),
            self.refill_release.to("discharge")))

    def season_dates(self) -> list[dt.date]:
        return [self.prerelease_start, self.flood_start, self.refill_start]


@release_rule
class FloodControlSpec(ReleaseRule):
    """The dispatcher's flood-control rule (:class:`hydro.reservoirs.FloodControl`): hold
    ``base_release`` (default: the reservoir's minimum release) in ordinary times; release
    ahead when the inflow forecast over ``horizon`` will not fit below ``flood_level``
    (default НПУ); with a guide curve (``guide_day_of_year``/``guide_level``), bring a
    level above it back down.  The forecast is each member's own inflow (*perfect
    foresight* within the member: the best a dispatcher with a perfect forecast could do;
    the ensemble spread is the forecast uncertainty)."""

    kind: Literal["flood_control"]
    horizon: Duration = Field(default_factory=lambda: parse_quantity("10 d", "duration"))
    base_release: Discharge | None = None
    flood_level: Elevation | None = None
    guide_day_of_year: list[int] | None = None
    guide_level_unit: str = "m"
    guide_level: list[float] | None = None
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> FloodControlSpec:
        if self.horizon.to("duration") <= 0:
            raise ValueError("horizon must be positive")
        if self.base_release is not None and self.base_release.to("discharge") < 0:
            raise ValueError("base_release must not be negative")
        if (self.guide_day_of_year is None) != (self.guide_level is None):
            raise ValueError("give both guide_day_of_year and guide_level, or neither")
        if self.guide_day_of_year is not None and self.guide_level is not None:
            _unit(self.guide_level_unit, "elevation", "guide_level_unit")
            d = self.guide_day_of_year
            if len(d) != len(self.guide_level) or len(d) < 2:
                raise ValueError("guide_day_of_year and guide_level need the same length (>= 2)")
            if any(b <= a for a, b in zip(d, d[1:], strict=False)) or d[0] < 1 or d[-1] > 366:
                raise ValueError("guide_day_of_year must increase strictly within 1..366")
        return self

    def build(self, dates: pd.DatetimeIndex, *, reservoir: Any = None) -> Any:
        from hydro import reservoirs as R

        guide = None
        if self.guide_day_of_year is not None and self.guide_level is not None:
            f = factor(self.guide_level_unit, "elevation")
            guide = R.RuleCurve(np.asarray(self.guide_day_of_year, dtype=float),
                                np.asarray(self.guide_level, dtype=float) * f)
        return R.FloodControl(
            horizon_days=self.horizon.to("duration"),
            base_release_m3s=None if self.base_release is None
            else self.base_release.to("discharge"),
            flood_level_m=None if self.flood_level is None else self.flood_level.to("elevation"),
            guide=guide)


def _dispatch_rule(value: Any, handler: Any) -> Any:
    """Validate a schedule with the rule class its ``kind`` names (looked up in
    :data:`RULES` when the file is read, so a rule registered anywhere is known); an
    unknown or missing ``kind`` is an error listing the registered ones."""
    if isinstance(value, ReleaseRule):
        return value
    known = ", ".join(sorted(RULES))
    if not isinstance(value, Mapping):
        raise ValueError(f"a schedule is a table with a kind (known kinds: {known})")
    kind = value.get("kind")
    if kind is None:
        raise ValueError(f"a schedule needs a kind (known kinds: {known})")
    if not isinstance(kind, str) or kind not in RULES:
        raise ValueError(f"unknown schedule kind '{kind}' (known kinds: {known})")
    # a ValidationError raised here keeps its locations, prefixed with this value's
    return RULES[kind].model_validate(value)


#: a schedule of a plan: any rule of :data:`RULES`, chosen by its ``kind`` (serialised
#: with the fields of its own class)
ScheduleSpec = Annotated[SerializeAsAny[ReleaseRule], WrapValidator(_dispatch_rule)]


class Plan(Strict):
    """``[schedules.<plan>]``: a release plan, one schedule per reservoir (reservoirs not
    named follow the ``default`` plan).

    ``descriptions = { kk = "…", ru = "…", en = "…" }`` (the shape of the scenario's
    ``names``) gives the description in each interface language; ``description`` (one
    language, read by the CLI and the reports) is the fallback and defaults to the English
    of ``descriptions``.  A plan gives at least one of them."""

    description: str = ""
    descriptions: Names | None = None
    reservoirs: dict[str, ScheduleSpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _description_fallback(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data.get("description"):
            described = data.get("descriptions")
            en = (described.get("en") if isinstance(described, Mapping)
                  else getattr(described, "en", None))
            if not en:
                raise ValueError("a plan needs 'description' or 'descriptions' "
                                 "{ kk = …, ru = …, en = … }")
            data = {**data, "description": en}
        return data

    def description_in(self, lang: str) -> str:
        """The description in ``lang`` (``kk``, ``ru``, ``en``); ``description`` when the
        plan has no ``descriptions``."""
        return self.descriptions.get(lang) if self.descriptions is not None \
            else self.description


class SpawningWindow(Strict):
    """The spring ecological pulse: volume passing ``node`` from ``start`` to ``end``
    (month-day, inclusive), and optionally the volume the fishery needs."""

    node: str
    start: str = Field(pattern=MONTH_DAY)
    end: str = Field(pattern=MONTH_DAY)
    minimum_volume: Volume | None = None
    source: str = ""


class Evaluation(Strict):
    """``[evaluation]``: where and what to evaluate."""

    gauges: list[str] | None = None
    borders: list[str] | None = None
    spawning: SpawningWindow | None = None
    end_storage_target: dict[str, Volume] = Field(default_factory=dict)


class Search(Strict):
    """``[search]``: the schedule search (see :func:`hydro.schedules.search`)."""

    reservoir: str
    template: str
    vary: dict[str, list[str]] = Field(min_length=1)
    objective_gauges: list[str] = Field(min_length=1)
    weights: dict[str, float] = Field(
        default_factory=dict,
        description="weight of each gauge's exceedance in the objective (default 1); a gauge "
                    "named here and not in objective_gauges is scored too")
    end_storage_target: Volume
    storage_probability: float = Field(default=0.9, gt=0.0, le=1.0)
    members: int = Field(default=20, ge=1)
    maxiter: int = Field(default=30, ge=1)
    popsize: int = Field(default=8, ge=2)
    seed: int = Field(default=1, ge=0)

    @field_validator("vary")
    @classmethod
    def _pairs(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        allowed = {"prerelease_start", "prerelease_release", "flood_start", "flood_release",
                   "refill_start", "refill_release", "base_release"}
        for k, pair in v.items():
            if k not in allowed:
                raise ValueError(f"cannot vary '{k}' (choose from {', '.join(sorted(allowed))})")
            if len(pair) != 2:
                raise ValueError(f"vary.{k} needs [lower, upper]")
        return v

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        for g, w in v.items():
            if not (math.isfinite(w) and w >= 0):
                raise ValueError(f"weight of '{g}' must be a number >= 0, got {w}")
        return v

    @property
    def gauges(self) -> list[str]:
        """The gauges the objective scores: ``objective_gauges`` then those only in
        ``weights``."""
        return [*self.objective_gauges, *(g for g in self.weights
                                          if g not in self.objective_gauges)]

    def gauge_weights(self) -> dict[str, float]:
        """Weight of each scored gauge (1 where not given)."""
        return {g: float(self.weights.get(g, 1.0)) for g in self.gauges}


class Run(Strict):
    """``[run]``: how to execute: member chunk size and an optional Dask scheduler."""

    chunk_members: int = Field(default=1000, ge=1)
    dask: str | None = None


class ScenarioFile(Strict):
    """One scenario file (``config/scenarios/<id>.toml``)."""

    scenario: ScenarioHeader
    season: Season
    ensemble: Ensemble
    reservoirs: dict[str, ReservoirStart] = Field(default_factory=dict)
    schedules: dict[str, Plan] = Field(min_length=1)
    evaluation: Evaluation = Evaluation()
    search: Search | None = None
    ice: Ice = Ice()
    run: Run = Run()

    @property
    def id(self) -> str:
        return self.scenario.id

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.scenario.start, periods=self.scenario.days, freq="D")


class BasinParameters(Strict):
    """Calibrated parameters of one basin: those of :class:`hydro.snowmelt.SnowParameters`
    named in :data:`hydro.snowmelt.CALIBRATED_NAMES`, ``k_quick_base`` (d; ``k_quick =
    k_quick_base + sqrt(A)/k_quick_area_scale``), ``area_factor`` (multiplier on the local
    catchment area: the share that drains to the river — endorheic steppe depressions do
    not — and any bias of the precipitation forcing) and ``temp_offset`` (°C added to the
    forcing temperature: its bias, e.g. for mountain headwaters)."""

    ddf: float = Field(gt=0)
    c0: float = Field(ge=0, le=1)
    frost_slope: float = Field(ge=0, le=2)
    wetness_slope: float = Field(ge=0, le=2)
    snow_slope: float = Field(default=0.0, ge=0, le=2)
    k_quick_base: float = Field(gt=0)
    area_factor: float = Field(default=1.0, gt=0, le=2.0)
    temp_offset: float = Field(default=0.0, ge=-10.0, le=10.0)


class CalibrationRecord(Strict):
    """Provenance and skill of a calibration."""

    data: str
    forcing: str
    calibration_years: list[int] = Field(min_length=2, max_length=2)
    validation_years: list[int] = Field(min_length=2, max_length=2)
    method: str
    synthetic: bool
    skill: dict[str, dict[str, float]] = Field(default_factory=dict)


def _check_priors(v: dict[str, float]) -> dict[str, float]:
    names = set(snowmelt.SnowParameters.__dataclass_fields__)
    bad = [k for k in v if k not in names or k in snowmelt.CALIBRATED_NAMES]
    if bad:
        raise ValueError(f"unknown or calibrated parameter '{bad[0]}' in priors")
    return v


#: fixed (not calibrated) parameters of :class:`hydro.snowmelt.SnowParameters` by name
Priors = Annotated[dict[str, float], AfterValidator(_check_priors)]


class ModelFile(Strict):
    """``config/scenarios/_model.toml``: the snowmelt model, calibrated per basin."""

    lapse_per_degree_latitude: Temperature
    k_quick_area_scale: float = Field(
        gt=0, description="k_quick = k_quick_base + sqrt(A km²) / this, d")
    priors: Priors = Field(default_factory=dict)
    parameters: dict[str, BasinParameters]
    calibration: CalibrationRecord

    def snow_parameters(self, basin: str, areas_km2: ArrayLike) -> snowmelt.SnowParameters:
        """Parameters for the nodes of ``basin`` with local areas ``areas_km2`` (km²)."""
        if basin not in self.parameters:
            raise ConfigError(f"no calibrated snowmelt parameters for basin '{basin}' "
                              f"(have: {', '.join(self.parameters)}); run "
                              "`hydrorisk scenario calibrate`")
        p = self.parameters[basin]
        area = np.asarray(areas_km2, dtype=float)
        k_quick = p.k_quick_base + np.sqrt(area) / self.k_quick_area_scale
        return snowmelt.SnowParameters(**self.priors).with_values(
            ddf=p.ddf, c0=p.c0, frost_slope=p.frost_slope, wetness_slope=p.wetness_slope,
            snow_slope=p.snow_slope, k_quick=k_quick)


def _unit(unit: str, dimension: str, key: str) -> None:
    try:
        factor(unit, dimension)
    except UnitError as e:
        raise ValueError(f"{key}: {e}") from None


def parse_scenario(raw: Mapping[str, Any], source: str, network: Network) -> ScenarioFile:
    """Validate a scenario mapping (the parsed TOML) against the schema and the network.

    Parameters
    ----------
    raw : mapping
        The parsed file.
    source : str
        Where it came from (a path), used in error messages.
    network : Network
        To check node, reservoir and basin ids.

    Raises
    ------
    hydro.errors.ConfigError
        Message ``<source>: <key>: <what is wrong>``, one line per problem.
    """
    sc: ScenarioFile = validate(ScenarioFile, raw, source)
    errors: list[str] = []
    for b in sc.scenario.basins:
        if b not in network.basins:
            errors.append(f"{source}: scenario.basins: unknown basin '{b}' "
                          f"(known: {', '.join(network.basins)})")
    if errors:
        raise ConfigError("\n".join(errors))
    nodes = set(network_sim.select_nodes(network, sc.scenario.basins))
    res_ids = [n for n in nodes if n in network.reservoirs]

    def check_node(nid: str, key: str, kinds: tuple[str, ...] | None = None) -> None:
        if nid not in nodes:
            errors.append(f"{source}: {key}: unknown node '{nid}' (not in basins "
                          f"{', '.join(sc.scenario.basins)})")
        elif kinds and network.node(nid).kind not in kinds:
            errors.append(f"{source}: {key}: '{nid}' is a {network.node(nid).kind}, not a "
                          f"{' or '.join(kinds)}")

    for rid in sc.reservoirs:
        check_node(rid, f'reservoirs."{rid}"', ("reservoir",))
    if "default" not in sc.schedules:
        errors.append(f"{source}: schedules: a 'default' plan is required (the current rule)")
    for name, plan in sc.schedules.items():
        for rid in plan.reservoirs:
            check_node(rid, f'schedules.{name}.reservoirs."{rid}"', ("reservoir",))
    if "default" in sc.schedules:
        missing = [r for r in res_ids if r not in sc.schedules["default"].reservoirs]
        if missing:
            errors.append(f"{source}: schedules.default.reservoirs: no schedule for reservoir "
                          f"'{missing[0]}'")
    for key in ("gauges", "borders"):
        for nid in getattr(sc.evaluation, key) or []:
            check_node(nid, f"evaluation.{key}", ("gauge",) if key == "gauges" else ("border",))
    if sc.evaluation.spawning is not None:
        check_node(sc.evaluation.spawning.node, "evaluation.spawning.node")
    for g in sc.ice.jam_gauges:
        check_node(g, "ice.jam_gauges", ("gauge",))
    for rid in sc.evaluation.end_storage_target:
        check_node(rid, f'evaluation.end_storage_target."{rid}"', ("reservoir",))
    if sc.search is not None:
        s = sc.search
        check_node(s.reservoir, "search.reservoir", ("reservoir",))
        for g in s.objective_gauges:
            check_node(g, "search.objective_gauges", ("gauge",))
        for g in s.weights:
            check_node(g, f'search.weights."{g}"', ("gauge",))
        if s.weights and not any(w > 0 for w in s.gauge_weights().values()):
            errors.append(f"{source}: search.weights: every gauge has weight 0")
        tmpl = sc.schedules.get(s.template)
        if tmpl is None:
            errors.append(f"{source}: search.template: unknown plan '{s.template}' "
                          f"(plans: {', '.join(sc.schedules)})")
        elif not isinstance(tmpl.reservoirs.get(s.reservoir), PrereleaseSpec):
            errors.append(f"{source}: search.template: plan '{s.template}' must give "
                          f"'{s.reservoir}' a schedule of kind 'prerelease'")
        for k, (lo, hi) in s.vary.items():
            try:
                lo_v, hi_v = _search_bound(k, lo), _search_bound(k, hi)
            except ValueError as e:
                errors.append(f"{source}: search.vary.{k}: {e}")
                continue
            if not lo_v < hi_v:
                errors.append(f"{source}: search.vary.{k}: lower bound {lo} is not below {hi}")
    for name, plan in sc.schedules.items():
        for rid, spec in plan.reservoirs.items():
            for d in spec.season_dates():
                if not sc.dates[0].date() <= d <= sc.dates[-1].date():
                    errors.append(f'{source}: schedules.{name}.reservoirs."{rid}": date {d} is '
                                  f"outside the season {sc.dates[0].date()}..{sc.dates[-1].date()}")
                    break
    if errors:
        raise ConfigError("\n".join(errors))
    return sc


def _search_bound(key: str, text: str) -> float:
    """A search bound as a number: dates as ordinal days, releases in m³/s."""
    if key.endswith("_start"):
        try:
            return float(dt.date.fromisoformat(str(text)).toordinal())
        except ValueError:
            raise ValueError(f"'{text}' is not a date (YYYY-MM-DD)") from None
    try:
        return parse_quantity(text, "discharge").to("discharge")
    except UnitError as e:
        raise ValueError(str(e)) from None


def parse_model(raw: Mapping[str, Any], source: str) -> ModelFile:
    """Validate ``_model.toml`` (see :class:`ModelFile`); errors name the file and key."""
    return validate(ModelFile, raw, source)


# =========================================================================== forcing

@dataclass(frozen=True)
class HistoricalForcing:
    """Daily basin forcing over a history.

    Attributes
    ----------
    dates : array (D,) of datetime64[D]
    temp_c : mapping basin -> array (D,), °C, at the reference latitude
    precip_mm : mapping basin -> array (D,), mm/day
    synthetic : whether the forcing is synthetic
    description : where it comes from
    """

    dates: np.ndarray
    temp_c: Mapping[str, np.ndarray]
    precip_mm: Mapping[str, np.ndarray]
    synthetic: bool
    description: str

    def __post_init__(self) -> None:
        n = len(self.dates)
        for name, table in (("temp_c", self.temp_c), ("precip_mm", self.precip_mm)):
            for b, a in table.items():
                if np.shape(a) != (n,):
                    raise ValueError(f"{name}[{b}] has shape {np.shape(a)}, expected ({n},)")


def local_area(network: Network, node_id: str) -> float:
    """Local catchment of a node, km² (0 when not configured)."""
    a = getattr(network.node(node_id), "local_catchment", None)
    return 0.0 if a is None else a.to("area")


def quick_flow_times(network: Network, nodes: Sequence[str]) -> np.ndarray:
    """Per node the configured quick-flow time constant ``quick_flow_time`` (d), NaN where
    none is given (there ``k_quick = k_quick_base + sqrt(A)/k_quick_area_scale``)."""
    out = []
    for n in nodes:
        k = getattr(network.node(n), "quick_flow_time", None)
        out.append(np.nan if k is None else float(k.to("duration")))
    return np.array(out, dtype=float)


def temperature_offsets(network: Network, nodes: Sequence[str]) -> np.ndarray:
    """Per node the configured ``temperature_offset`` (°C, added to the node's air
    temperature on top of the latitude shift), 0 where none is given.  Like
    ``quick_flow_time``, a property of the local catchment a modeller sets from its
    elevation where the basin's forcing point does not represent it."""
    out = []
    for n in nodes:
        t = getattr(network.node(n), "temperature_offset", None)
        out.append(0.0 if t is None else float(t.to("temperature")))
    return np.array(out, dtype=float)


def area_nodes(network: Network, basins: Iterable[str]) -> list[str]:
    """Nodes of ``basins`` with a local catchment (they receive lateral inflow)."""
    return [n for n in network_sim.select_nodes(network, basins)
            if getattr(network.node(n), "local_catchment", None) is not None]


def node_forcing(network: Network, nodes: Sequence[str], forcing: HistoricalForcing,
                 lapse_c_per_degree: float) -> tuple[np.ndarray, np.ndarray]:
    """Temperature (°C) and precipitation (mm/day) per node, arrays (N, D).

    A node takes its basin's forcing, its temperature shifted by ``lapse_c_per_degree``
    per degree of latitude north of :data:`REFERENCE_LATITUDE` (nodes without
    coordinates take the basin's) and by its configured ``temperature_offset`` (e.g. the
    elevation of mountain headwaters; see :func:`temperature_offsets`).  The calibration,
    the season normals and start states, and so every member's forcing, all take the node
    temperatures from here.
    """
    temps, precs = [], []
    extra = temperature_offsets(network, nodes)
    for n, t_off in zip(nodes, extra, strict=True):
        node = network.node(n)
        lat = climate_latitude(node)
        off = lapse_c_per_degree * (lat - REFERENCE_LATITUDE) if lat is not None else 0.0
        off += float(t_off)
        temps.append(np.asarray(forcing.temp_c[node.basin]) + off)
        precs.append(np.asarray(forcing.precip_mm[node.basin]))
    return np.array(temps), np.array(precs)


def _water_year(dates: np.ndarray) -> np.ndarray:
    idx = pd.DatetimeIndex(dates)
    return (idx.year + (idx.month >= 10)).to_numpy()


def autumn_wetness(dates: np.ndarray, precip: np.ndarray, years: Sequence[int] | None = None
                   ) -> np.ndarray:
    """Autumn wetness ``W`` per step (..., D): Sep–Oct precipitation of the water year's
    autumn over its mean (over ``years`` when given), 1 = normal."""
    idx = pd.DatetimeIndex(dates)
    wy = _water_year(dates)
    autumn = np.asarray((idx.month == 9) | (idx.month == 10))
    p = np.asarray(precip, dtype=float)
    uniq = np.unique(wy)
    totals = np.stack([p[..., (wy == y) & autumn].sum(axis=-1) for y in uniq], axis=-1)
    has = np.array([((wy == y) & autumn).any() for y in uniq])
    base = has if years is None else has & np.isin(uniq, list(years))
    mean = totals[..., base].mean(axis=-1, keepdims=True)
    ratio = np.where(has, totals / np.where(mean > 0, mean, 1.0), 1.0)
    return ratio[..., np.searchsorted(uniq, wy)]


def winter_snowiness(dates: np.ndarray, precip: np.ndarray, years: Sequence[int] | None = None
                     ) -> np.ndarray:
    """Winter snowiness ``S`` per step (..., D): Nov–Mar precipitation of the water year
    over its mean (over ``years``, the calendar years in which the winters end, when
    given), 1 = normal."""
    idx = pd.DatetimeIndex(dates)
    wy = _water_year(dates)
    winter = np.asarray((idx.month >= 11) | (idx.month <= 3))
    p = np.asarray(precip, dtype=float)
    uniq = np.unique(wy)
    totals = np.stack([p[..., (wy == y) & winter].sum(axis=-1) for y in uniq], axis=-1)
    has = np.array([((wy == y) & winter).any() for y in uniq])
    base = has if years is None else has & np.isin(uniq, list(years))
    if not base.any():
        base = has
    mean = totals[..., base].mean(axis=-1, keepdims=True)
    ratio = np.where(has, totals / np.where(mean > 0, mean, 1.0), 1.0)
    return ratio[..., np.searchsorted(uniq, wy)]


# =========================================================================== calibration

def derive_local_inflow(network: Network, observed_inflow: Mapping[str, ArrayLike],
                        observed_outflow: Mapping[str, ArrayLike], basins: Iterable[str],
                        dt_days: float = 1.0) -> dict[str, np.ndarray]:
    """Local inflow of each observed node, from observed series.

    ``local[n] = inflow[n] − Σ_u route(outflow[u])`` over the nearest observed nodes ``u``
    upstream, each routed through the reaches between (withdrawals on the way take their
    configured rate).  For a gauge, inflow = outflow = its discharge; for a reservoir the
    operator's inflow and outflow.  The counterpart of
    :func:`hydro.network_sim.local_contributions`.

    Parameters
    ----------
    observed_inflow, observed_outflow : mapping node id -> array (T,), m³/s
    basins : basins to walk
    dt_days : time step, days

    Returns
    -------
    dict node id -> array (T,), m³/s (may be negative where the data disagree)
    """
    obs_in = {k: np.asarray(v, dtype=float) for k, v in observed_inflow.items()}
    obs_out = {k: np.asarray(v, dtype=float) for k, v in observed_outflow.items()}
    if set(obs_in) != set(obs_out):
        raise ValueError("observed_inflow and observed_outflow must name the same nodes")
    carried: dict[str, np.ndarray] = {}
    local: dict[str, np.ndarray] = {}
    n_t = len(next(iter(obs_in.values()))) if obs_in else 0
    for nid in network_sim.select_nodes(network, basins):
        up = np.zeros(n_t)
        for r in network.upstream_reaches(nid):
            if r.id in carried:
                up = up + carried.pop(r.id)
        if nid in obs_in:
            local[nid] = obs_in[nid] - up
            out = obs_out[nid]
        elif nid in network.nodes and network.nodes[nid].kind == "withdrawal":
            out = up - np.minimum(network_sim.withdrawal_rate(network, nid), np.maximum(up, 0.0))
        else:
            out = up
        down = network.downstream_reach(nid)
        if down is not None:
            carried[down.id] = network_sim.route(out, down.routing, dt_days).outflow
    return local


@dataclass(frozen=True)
class CalibrationResult:
    """Calibrated parameters of one basin and their skill.

    Attributes
    ----------
    basin : str
    parameters : dict name -> value (``ddf``, ``c0``, ``frost_slope``, ``wetness_slope``,
        ``snow_slope``,
        ``k_quick_base``)
    skill : pandas.DataFrame
        Per observed node (and ``"all"``, the area-weighted mean): NSE and KGE of daily
        local inflow in the calibration and validation years, spring (Mar–Jun) days.
    objective : float
        The calibration objective at the optimum (see :func:`calibrate`).
    evaluations : int
        Parameter sets tried.
    """

    basin: str
    parameters: dict[str, float]
    skill: pd.DataFrame
    objective: float
    evaluations: int


#: search box of the calibrated parameters (ddf mm/°C/d, c0, frost_slope, wetness_slope,
#: snow_slope,
#: k_quick_base d, area_factor, temp_offset °C)
CALIBRATION_BOUNDS: Final[dict[str, tuple[float, float]]] = {
    "ddf": (1.0, 7.0),
    "c0": (0.0, 0.5),
    "frost_slope": (0.0, 1.0),
    "wetness_slope": (0.0, 0.8),
    "snow_slope": (0.0, 1.0),
    "k_quick_base": (1.0, 15.0),
    # not below a quarter: a smaller draining share must be made up by a runoff coefficient
    # that sits at c_max in every wet spring, and a coefficient stuck at its cap cannot
    # rise in a wetter, colder, snowier one — the calibration years (2011–2019 of the
    # demonstration world) then fit as well but the big floods come out at half size
    "area_factor": (0.25, 1.5),
    "temp_offset": (-6.0, 2.0),
}


def _vector_kge(sim: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """KGE (2009) along the last axis of ``sim`` (..., n) against ``obs`` (n,)."""
    mu_o, sd_o = obs.mean(), obs.std()
    mu_s, sd_s = sim.mean(axis=-1), sim.std(axis=-1)
    cov = ((sim - mu_s[..., None]) * (obs - mu_o)).mean(axis=-1)
    r = cov / np.where(sd_s > 0, sd_s * sd_o, np.inf)
    return 1.0 - np.sqrt((r - 1) ** 2 + (sd_s / sd_o - 1) ** 2 + (mu_s / mu_o - 1) ** 2)


def calibrate(network: Network, basin: str, forcing: HistoricalForcing,
              observed_local: Mapping[str, ArrayLike], *, calibration_years: tuple[int, int],
              validation_years: tuple[int, int], lapse_c_per_degree: float,
              k_quick_area_scale: float, priors: Mapping[str, float] | None = None,
              months: Sequence[int] = (3, 4, 5, 6), volume_weight: float = 0.5,
              fixed: Mapping[str, float] | None = None, popsize: int = 10, maxiter: int = 40,
              seed: int = 1) -> CalibrationResult:
    """Calibrate the snowmelt model of one basin on observed local inflows.

    Parameters
    ----------
    network : Network
    basin : str
    forcing : HistoricalForcing
        Daily forcing covering the calibration and validation years (and a spin-up).
    observed_local : mapping node id -> array (D,)
        Local inflow per observed node (m³/s) on ``forcing.dates``, e.g. from
        :func:`derive_local_inflow`; NaN where missing.
    calibration_years, validation_years : (first, last) calendar years, inclusive
    lapse_c_per_degree : °C per degree of latitude (node temperature shift)
    k_quick_area_scale : ``k_quick = k_quick_base + sqrt(A) / k_quick_area_scale``, d
    priors : fixed parameters of :class:`hydro.snowmelt.SnowParameters`
    months : calendar months scored (default March–June, the spring flood)
    volume_weight : weight of the year-to-year term (see Notes), 0–1
    fixed : parameters held at given values instead of calibrated
    popsize, maxiter, seed : of :func:`scipy.optimize.differential_evolution`

    Returns
    -------
    CalibrationResult

    Notes
    -----
    Objective, area-weighted over the observed nodes: ``(1 − volume_weight)`` × the
    Kling–Gupta efficiency (Gupta et al. 2009) of daily local inflow on the ``months`` of
    the calibration years + ``volume_weight`` × the Nash–Sutcliffe efficiency of the
    seasonal (``months``) volume from year to year — the second term makes the frozen-soil
    parameters explain why one spring floods and another does not.  The search is
    differential evolution (Storn & Price 1997; scipy, seeded, Sobol initial population,
    no gradient polish) over :data:`CALIBRATION_BOUNDS`; each generation's parameter sets
    run as one vectorised simulation.
    Skill is reported with :func:`hydro.metrics.nse` and :func:`hydro.metrics.kge`, for
    the calibration years and, separately, the validation years: these take no part in
    the objective nor in the autumn-wetness normal (the model runs through them only to
    carry its state), so their skill is a held-out test (give periods that do not
    overlap).
    """
    from hydro.metrics import kge, nse

    (c0, c1), (v0, v1) = calibration_years, validation_years
    if c0 <= v1 and v0 <= c1:
        raise ValueError(f"validation years {v0}-{v1} overlap calibration years {c0}-{c1}")
    nodes = area_nodes(network, [basin])
    units = [n for n in observed_local if network.basin_of(n) == basin]
    if not units:
        raise ValueError(f"no observed local inflow in basin '{basin}'")
    temp, precip = node_forcing(network, nodes, forcing, lapse_c_per_degree)
    areas = np.array([local_area(network, n) for n in nodes])
    wet = autumn_wetness(forcing.dates, precip,
                         range(calibration_years[0], calibration_years[1] + 1))
    snowy = winter_snowiness(forcing.dates, precip,
                             range(calibration_years[0], calibration_years[1] + 1))
    reset_f, reset_t = snowmelt.season_flags(forcing.dates)
    idx = pd.DatetimeIndex(forcing.dates)
    in_months = np.isin(idx.month, list(months))
    cal = in_months & (idx.year >= calibration_years[0]) & (idx.year <= calibration_years[1])
    val = in_months & (idx.year >= validation_years[0]) & (idx.year <= validation_years[1])
    obs = {u: np.asarray(observed_local[u], dtype=float) for u in units}
    # the area draining to each observed node (its local contributions' nodes)
    unit_area = {u: float(v.sum()) for u, v in network_sim.local_contributions(
        network, {n: np.full((1, 1), a) for n, a in zip(nodes, areas, strict=True)}, units,
    ).items()}
    weights = np.array([unit_area.get(u, 0.0) for u in units])
    weights = weights / weights.sum()
    base = snowmelt.SnowParameters(**dict(priors or {}))
    k_fixed = quick_flow_times(network, nodes)
    names = list(CALIBRATION_BOUNDS)

    def run(sets: np.ndarray) -> dict[str, np.ndarray]:
        # sets (P, 5) -> local contributions per unit (P, D)
        col = {k: sets[:, i][:, None] for i, k in enumerate(names)}
        params = base.with_values(
            ddf=col["ddf"], c0=col["c0"], frost_slope=col["frost_slope"],
            wetness_slope=col["wetness_slope"], snow_slope=col["snow_slope"],
            k_quick=np.where(np.isnan(k_fixed)[None, :],
                             col["k_quick_base"] + np.sqrt(areas)[None, :] / k_quick_area_scale,
                             k_fixed[None, :]))
        res = snowmelt.simulate(temp[None] + col["temp_offset"][:, :, None], precip[None],
                                params, snowmelt.SnowState(), wetness=wet[None],
                                snowiness=snowy[None],
                                reset_frost=reset_f, reset_thaw=reset_t)
        q = runoff_depth_to_discharge(res.runoff_mm,
                                      areas[None, :, None] * col["area_factor"][:, :, None])
        lat = {n: q[:, i] for i, n in enumerate(nodes)}
        return network_sim.local_contributions(network, lat, units)

    cal_years = np.unique(idx.year[cal])
    year_of = idx.year.to_numpy()

    def seasonal_volumes(q: np.ndarray, ok: np.ndarray) -> np.ndarray:
        # (…, D) -> (…, years): sum over the scored days of each calibration year
        return np.stack([q[..., ok & (year_of == y)].sum(axis=-1) for y in cal_years], axis=-1)

    def score(sets: np.ndarray, batch: int = 48) -> np.ndarray:
        total = np.zeros(len(sets))
        for b0 in range(0, len(sets), batch):  # batches bound the memory (P, N, D)
            sims = run(sets[b0:b0 + batch])
            for w, u in zip(weights, units, strict=True):
                ok = cal & np.isfinite(obs[u])
                daily = _vector_kge(sims[u][:, ok], obs[u][ok])
                vs, vo = seasonal_volumes(sims[u], ok), seasonal_volumes(obs[u], ok)
                vol_nse = 1.0 - ((vs - vo) ** 2).sum(axis=-1) / ((vo - vo.mean()) ** 2).sum()
                total[b0:b0 + batch] += w * (volume_weight * vol_nse + (1 - volume_weight) * daily)
        return np.nan_to_num(total, nan=-np.inf)

    fixed = dict(fixed or {})
    unknown = set(fixed) - set(names)
    if unknown:
        raise ValueError(f"cannot fix unknown parameter(s) {', '.join(sorted(unknown))}")
    free = [k for k in names if k not in fixed]
    evaluations = 0

    def full(x: np.ndarray) -> np.ndarray:
        sets = np.empty((x.shape[0], len(names)))
        for i, k in enumerate(names):
            sets[:, i] = fixed[k] if k in fixed else x[:, free.index(k)]
        return sets

    def negative(x: np.ndarray) -> np.ndarray:
        nonlocal evaluations
        cand = x.T  # (S, free)
        evaluations += len(cand)
        return -score(full(cand), batch=len(cand))

    from scipy.optimize import differential_evolution

    result = differential_evolution(
        negative, [CALIBRATION_BOUNDS[k] for k in free], seed=seed, popsize=popsize,
        maxiter=maxiter, vectorized=True, updating="deferred", polish=False, tol=1e-4,
        init="sobol")
    best = full(np.asarray(result.x, dtype=float)[None, :])[0]
    best_score = float(-result.fun)
    sims = run(best[None])
    rows = []
    for u in units:
        row: dict[str, Any] = {"node": u, "area_km2": unit_area.get(u, 0.0)}
        for label, mask in (("calibration", cal), ("validation", val)):
            ok = mask & np.isfinite(obs[u])
            s_u, o_u = sims[u][0, ok], obs[u][ok]
            try:
                row[f"nse_{label}"] = nse(s_u, o_u)
                row[f"kge_{label}"] = float(kge(s_u, o_u))  # type: ignore[arg-type]
            except ValueError:
                row[f"nse_{label}"] = row[f"kge_{label}"] = float("nan")
        rows.append(row)
    skill = pd.DataFrame(rows).set_index("node")
    w = skill["area_km2"] / skill["area_km2"].sum()
    skill.loc["all"] = {"area_km2": float(skill["area_km2"].sum()),
                        **{c: float((skill[c] * w).sum()) for c in skill.columns
                           if c != "area_km2"}}
    return CalibrationResult(basin, {k: float(v) for k, v in zip(names, best, strict=True)},
                             skill, best_score, evaluations)


# =========================================================================== climatology

@dataclass(frozen=True)
class SeasonClimatology:
    """What the calibration years say about a season start, per node.

    Attributes
    ----------
    nodes : node ids (N) with a local catchment
    basins : basin of each node
    areas_km2 : array (N,), draining area (local catchment × the basin's ``area_factor``), km²
    normal_temp_c : array (N, 366), smoothed mean temperature by day of year (with the
        basin's ``temp_offset``), °C
    normal_precip_mm : array (N, 366), smoothed mean precipitation by day of year, mm/day
    start_state : mapping ``swe``, ``frost_dd``, ``thaw_dd``, ``quick``, ``base``,
        ``wetness`` -> array (Y, N) of the state at the start of the season's first day in
        each calibration year
    years : the years (Y)
    params : snowmelt.SnowParameters for the nodes (arrays (N,))
    synthetic : whether the forcing behind it is synthetic
    description : provenance
    reference_state : year -> the start state of a reference year (e.g. 2024)
    lapse_c_per_degree : node temperature shift per degree of latitude north of
        :data:`REFERENCE_LATITUDE`, °C
    basin_normal_temp_c : basin -> array (366,), smoothed mean forcing temperature by day
        of year at the reference latitude (no ``temp_offset``), °C
    weather_years : the calibration years whose whole season (366 days from the start)
        the record holds: the pool of ``weather = "sampled_years"`` (Y')
    weather_temp_anom_c : basin -> array (Y', 366), each pooled season's daily forcing
        temperature minus the basin normal, °C
    weather_precip_mm : basin -> array (Y', 366), each pooled season's daily
        precipitation, mm/day
    ice_at_start : gauge -> share of the calibration years in which the river is under
        ice at the gauge on the season's first day (:func:`hydro.snowmelt.ice_phases` on
        the forcing temperature)
    """

    nodes: tuple[str, ...]
    basins: tuple[str, ...]
    areas_km2: np.ndarray
    normal_temp_c: np.ndarray
    normal_precip_mm: np.ndarray
    start_state: Mapping[str, np.ndarray]
    years: tuple[int, ...]
    params: snowmelt.SnowParameters
    synthetic: bool
    description: str
    reference_state: Mapping[int, Mapping[str, np.ndarray]] = field(default_factory=dict)
    lapse_c_per_degree: float = 0.0
    basin_normal_temp_c: Mapping[str, np.ndarray] = field(default_factory=dict)
    weather_years: tuple[int, ...] = ()
    weather_temp_anom_c: Mapping[str, np.ndarray] = field(default_factory=dict)
    weather_precip_mm: Mapping[str, np.ndarray] = field(default_factory=dict)
    ice_at_start: Mapping[str, float] = field(default_factory=dict)

    def percentile(self, variable: str, pct: float) -> np.ndarray:
        """Per-node value of ``variable`` at percentile ``pct`` (0–100) of a distribution
        fitted to the calibration years: lognormal for ``swe`` and ``wetness``, normal for
        ``frost_dd`` (method of moments; extrapolates beyond the sampled years)."""
        x = np.asarray(self.start_state[variable], dtype=float)
        z = stats.norm.ppf(pct / 100.0)
        if variable in ("swe", "wetness", "snowiness"):
            lx = np.log(np.maximum(x, 1e-6))
            return np.exp(lx.mean(axis=0) + z * lx.std(axis=0, ddof=1))
        return np.maximum(x.mean(axis=0) + z * x.std(axis=0, ddof=1), 0.0)

    def percentile_of(self, variable: str, value: ArrayLike) -> np.ndarray:
        """Inverse of :meth:`percentile`: where ``value`` (N,) sits, 0–100."""
        x = np.asarray(self.start_state[variable], dtype=float)
        v = np.asarray(value, dtype=float)
        if variable in ("swe", "wetness", "snowiness"):
            lx = np.log(np.maximum(x, 1e-6))
            z = (np.log(np.maximum(v, 1e-6)) - lx.mean(axis=0)) / lx.std(axis=0, ddof=1)
        else:
            z = (v - x.mean(axis=0)) / x.std(axis=0, ddof=1)
        return 100.0 * stats.norm.cdf(z)


def season_climatology(network: Network, basins: Sequence[str], forcing: HistoricalForcing,
                       model: ModelFile, start_month_day: str, years: tuple[int, int],
                       reference_years: Sequence[int] = ()) -> SeasonClimatology:
    """Normals and start-of-season states of the calibration ``years`` (inclusive).

    The calibrated model runs over the whole forcing; its state on ``start_month_day``
    (``"MM-DD"``) of each year forms the samples the scenario percentiles are taken from.
    ``reference_years`` (e.g. 2024) are kept apart, to say where a past season sits.
    The daily normals are smoothed with a 31-day centred circular running mean.
    """
    nodes = area_nodes(network, basins)
    node_basins = tuple(network.basin_of(n) for n in nodes)
    lapse = model.lapse_per_degree_latitude.to("temperature")
    temp, precip = node_forcing(network, nodes, forcing, lapse)
    areas = np.array([local_area(network, n) for n in nodes])
    params = _node_parameters(model, nodes, node_basins, areas)
    k_fixed = quick_flow_times(network, nodes)
    if np.isfinite(k_fixed).any():
        params = params.with_values(k_quick=np.where(np.isfinite(k_fixed), k_fixed,
                                                     np.asarray(params.k_quick, dtype=float)))
    for b in set(node_basins):
        model.snow_parameters(b, 1.0)  # a clear error for a basin without parameters
    temp = temp + np.array([model.parameters[b].temp_offset for b in node_basins])[:, None]
    effective = areas * np.array([model.parameters[b].area_factor for b in node_basins])
    year_range = range(years[0], years[1] + 1)
    wet = autumn_wetness(forcing.dates, precip, year_range)
    snowy = winter_snowiness(forcing.dates, precip, year_range)
    reset_f, reset_t = snowmelt.season_flags(forcing.dates)
    idx = pd.DatetimeIndex(forcing.dates)
    samples: dict[str, list[np.ndarray]] = {k: [] for k in ("swe", "frost_dd", "thaw_dd",
                                                             "quick", "base", "wetness",
                                                             "liquid", "snowiness")}
    ref: dict[int, dict[str, np.ndarray]] = {}
    kept: list[int] = []
    # run the model from the first day, stopping at the season start of each year to read
    # the state (the state at the start of that day)
    month, day = (int(x) for x in start_month_day.split("-"))
    starts = [int(i) for i in np.flatnonzero((idx.month == month) & (idx.day == day)) if i > 0]
    state = snowmelt.SnowState()
    prev = 0
    for i in starts:
        res = snowmelt.simulate(temp[:, prev:i], precip[:, prev:i], params, state,
                                wetness=wet[:, prev:i], snowiness=snowy[:, prev:i],
                                reset_frost=reset_f[prev:i],
                                reset_thaw=reset_t[prev:i], diagnostics=False)
        state, prev = res.final, i
        y = int(idx[i].year)
        if idx[0] > pd.Timestamp(y - 1, 10, 1):
            continue  # no full winter before it
        raw = {"swe": state.swe, "frost_dd": state.frost_dd, "thaw_dd": state.thaw_dd,
               "quick": state.quick, "base": state.base, "wetness": wet[:, i],
               "liquid": state.liquid, "snowiness": snowy[:, i]}
        values: dict[str, np.ndarray] = {
            k: np.array(np.broadcast_to(v, (len(nodes),)), dtype=float) for k, v in raw.items()}
        if reset_t[i]:
            values["thaw_dd"] = np.zeros(len(nodes))  # the thaw sum restarts that day
        if reset_f[i]:
            values["frost_dd"] = np.zeros(len(nodes))
        if y in year_range:
            kept.append(y)
            for k, v in values.items():
                samples[k].append(v)
        if y in reference_years:
            ref[y] = values
    if len(kept) < 3:
        raise ValueError(f"only {len(kept)} calibration years with a full winter before "
                         f"{start_month_day}; need at least 3")
    sel = np.isin(idx.year, list(year_range))
    doy = idx.day_of_year.to_numpy()
    normal_t = np.stack([_doy_mean(temp[i, sel], doy[sel]) for i in range(len(nodes))])
    normal_p = np.stack([_doy_mean(precip[i, sel], doy[sel]) for i in range(len(nodes))])
    # whole historical seasons for the members' weather, and the river ice at the start
    season_basins = sorted(set(node_basins) | set(basins))
    basin_normal = {b: _doy_mean(np.asarray(forcing.temp_c[b], float)[sel], doy[sel])
                    for b in season_basins}
    start_of = {int(idx[i].year): i for i in starts}
    pool = [y for y in kept if start_of[y] + WEATHER_DAYS <= len(idx)]
    anom_t: dict[str, np.ndarray] = {}
    hist_p: dict[str, np.ndarray] = {}
    for b in season_basins:
        t_b = np.asarray(forcing.temp_c[b], float) - basin_normal[b][doy - 1]
        p_b = np.asarray(forcing.precip_mm[b], float)
        anom_t[b] = np.array([t_b[start_of[y]:start_of[y] + WEATHER_DAYS] for y in pool]
                             ).reshape(len(pool), WEATHER_DAYS)
        hist_p[b] = np.array([p_b[start_of[y]:start_of[y] + WEATHER_DAYS] for y in pool]
                             ).reshape(len(pool), WEATHER_DAYS)
    ice_start = _ice_at_start(network, season_basins, forcing, lapse,
                              [start_of[y] for y in kept])
    return SeasonClimatology(tuple(nodes), node_basins, effective, normal_t, normal_p,
                             {k: np.stack(v) for k, v in samples.items()}, tuple(kept), params,
                             forcing.synthetic, forcing.description, ref, lapse, basin_normal,
                             tuple(pool), anom_t, hist_p, ice_start)


#: days of each historical season kept for ``weather = "sampled_years"`` (a scenario is at
#: most 366 days long)
WEATHER_DAYS: Final = 366


def _gauge_latitude(network: Network, gauge: str) -> float:
    lat = getattr(network.node(gauge), "lat", None)
    return REFERENCE_LATITUDE if lat is None else float(lat)


def _ice_at_start(network: Network, basins: Sequence[str], forcing: HistoricalForcing,
                  lapse: float, start_index: Sequence[int]) -> dict[str, float]:
    """Share of the seasons starting at ``start_index`` with ice at each gauge of
    ``basins`` on the first day (the ice rule run over the whole record)."""
    gauges = [g for g in network_sim.select_nodes(network, basins) if g in network.gauges]
    if not gauges or not start_index:
        return {}
    t = np.stack([np.asarray(forcing.temp_c[network.node(g).basin], float)
                  + lapse * (_gauge_latitude(network, g) - REFERENCE_LATITUDE) for g in gauges])
    months = pd.DatetimeIndex(forcing.dates).month.to_numpy()
    phase = snowmelt.ice_phases(t, months)
    # the phase of the day before the start: the state the season begins in
    at = np.array([max(i - 1, 0) for i in start_index])
    return {g: float((phase[k, at] == snowmelt.ICE_COVER).mean()) for k, g in enumerate(gauges)}


#: the start-state variables with a percentile in ``[season]``
START_VARIABLES: Final = {"swe": ("snow water equivalent", "swe_percentile"),
                          "frost_dd": ("frost index", "frost_percentile"),
                          "wetness": ("autumn wetness", "wetness_percentile")}


@dataclass(frozen=True)
class StartProbability:
    """How probable a scenario's start state is (:func:`start_probability`).

    Attributes
    ----------
    table : one row per start variable (``swe``, ``frost_dd``, ``wetness``): ``percentile``,
        ``value`` (area-weighted mean over the nodes), ``p_exceed`` (fitted: 1 −
        percentile/100), ``years_at_or_above`` (calibration years whose own start was at
        least as high, area-weighted) and ``years``
    joint_independent : probability of all three at least as extreme under independence
    joint_years : calibration years with all three at least as high together
    years : calibration years
    """

    table: pd.DataFrame
    joint_independent: float
    joint_years: int
    years: int

    def text(self) -> str:
        """One line for a run's output and attributes."""
        parts = [f"{START_VARIABLES[str(v)][0]} {r.percentile:g}th percentile "
                 f"(P[exceed] {r.p_exceed:.3g}; {int(r.years_at_or_above)} of {self.years} "
                 "calibration years as high)" for v, r in self.table.iterrows()]
        p = self.joint_independent
        return (f"start state: {'; '.join(parts)}; all three at once: probability "
                f"{p:.2g} if independent (one season in about {float(f'{1 / p:.2g}'):,.0f}), "
                f"{self.joint_years} of {self.years} calibration years")


def start_probability(scenario: ScenarioFile, clim: SeasonClimatology) -> StartProbability:
    """The probability attached to the scenario's start-state percentiles: per variable
    the fitted exceedance probability and the empirical count of calibration years at
    least as high, and the joint probability of the stacked start under independence with
    the empirical count of years that had all three."""
    s = scenario.season
    w = np.asarray(clim.areas_km2, dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(w.shape, 1.0 / max(len(w), 1))
    rows = {}
    high = np.ones(len(clim.years), dtype=bool)
    for var, (_, key) in START_VARIABLES.items():
        pct = float(getattr(s, key))
        chosen = float(clim.percentile(var, pct) @ w)
        sample = np.asarray(clim.start_state[var], dtype=float) @ w               # (Y,)
        at_or_above = sample >= chosen * (1 - 1e-12)
        high &= at_or_above
        rows[var] = {"percentile": pct, "value": chosen, "p_exceed": 1.0 - pct / 100.0,
                     "years_at_or_above": int(at_or_above.sum()), "years": len(sample)}
    return StartProbability(pd.DataFrame.from_dict(rows, orient="index"),
                            s.joint_exceedance(), int(high.sum()), len(clim.years))


def _node_parameters(model: ModelFile, nodes: Sequence[str], node_basins: Sequence[str],
                     areas: np.ndarray) -> snowmelt.SnowParameters:
    per_node = [model.snow_parameters(b, a) for b, a in zip(node_basins, areas, strict=True)]
    values = {k: np.array([float(np.asarray(getattr(p, k))) for p in per_node])
              for k in snowmelt.SnowParameters.__dataclass_fields__}
    return snowmelt.SnowParameters(**values)


def _doy_mean(x: np.ndarray, doy: np.ndarray, window: int = 31) -> np.ndarray:
    sums = np.bincount(doy - 1, weights=x, minlength=366)[:366]
    counts = np.bincount(doy - 1, minlength=366)[:366].astype(float)
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    mean = pd.Series(mean).interpolate(limit_direction="both").to_numpy()
    pad = window // 2
    ext = np.r_[mean[-pad:], mean, mean[:pad]]
    return np.convolve(ext, np.ones(window) / window, mode="valid")


# =========================================================================== ensembles

@dataclass(frozen=True)
class EnsemblePerturbations:
    """Seeded perturbations of every member (drawn once, so any chunking of the members
    gives the same members).

    Attributes
    ----------
    swe_factor : (M,) multiplier on snow water equivalent, 1
    onset_shift_days : (M,) integer shift of the warm-up and rain-on-snow dates, d
    rain_factor : (M,) multiplier on the rain-on-snow depth, 1
    temp_anomaly_c : (M, T) AR(1) temperature anomaly, °C
    weather_draw : (M,) uniform draw in [0, 1) choosing each member's historical season
        from :attr:`SeasonClimatology.weather_years` (season ``floor(draw · Y')``); NaN:
        the climatological normals (the control member, ``weather = "climatology"``)
    """

    swe_factor: np.ndarray
    onset_shift_days: np.ndarray
    rain_factor: np.ndarray
    temp_anomaly_c: np.ndarray
    weather_draw: np.ndarray | None = None

    @property
    def members(self) -> int:
        return int(self.swe_factor.shape[0])

    def subset(self, members: slice | np.ndarray) -> EnsemblePerturbations:
        return EnsemblePerturbations(self.swe_factor[members], self.onset_shift_days[members],
                                     self.rain_factor[members], self.temp_anomaly_c[members],
                                     None if self.weather_draw is None
                                     else self.weather_draw[members])

    def weather_years(self, clim: SeasonClimatology) -> np.ndarray:
        """Index into ``clim.weather_years`` of each member's season, -1 for the normals."""
        if self.weather_draw is None:
            return np.full(self.members, -1)
        n = len(clim.weather_years)
        ok = np.isfinite(self.weather_draw)
        if ok.any() and n == 0:
            raise ValueError("weather = 'sampled_years' needs whole historical seasons in "
                             "the forcing record, and it holds none for this start; use "
                             "[ensemble] weather = 'climatology'")
        idx = np.floor(np.nan_to_num(self.weather_draw) * max(n, 1)).astype(int)
        return np.where(ok, np.minimum(idx, max(n - 1, 0)), -1)


#: members per independent random stream of :func:`perturbations`
_MEMBER_BLOCK: Final = 256


def _draw_block(ensemble: Ensemble, days: int, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One block of :data:`_MEMBER_BLOCK` members' perturbations (see :func:`perturbations`)."""
    m = _MEMBER_BLOCK
    cv = ensemble.swe_cv
    sigma = math.sqrt(math.log1p(cv * cv))
    swe = np.exp(rng.normal(-0.5 * sigma * sigma, sigma, m)) if cv > 0 else np.ones(m)
    sd_onset = ensemble.melt_onset_sd.to("duration")
    onset = np.rint(rng.normal(0.0, sd_onset, m)).astype(int) if sd_onset > 0 else np.zeros(m, int)
    rcv = ensemble.rain_on_snow_cv
    rain = rng.gamma(1.0 / rcv**2, rcv**2, m) if rcv > 0 else np.ones(m)
    sd_t = ensemble.temperature_sd.to("temperature")
    if sd_t > 0:
        phi = math.exp(-1.0 / ensemble.temperature_memory.to("duration"))
        eps = rng.normal(0.0, sd_t * math.sqrt(1 - phi * phi), (m, days))
        from scipy.signal import lfilter

        zi = (phi * rng.normal(0.0, sd_t, m))[:, None]
        anom = lfilter([1.0], [1.0, -phi], eps, axis=-1, zi=zi)[0]
    else:
        anom = np.zeros((m, days))
    weather = (rng.random(m) if ensemble.weather == "sampled_years"
               else np.full(m, np.nan))
    return swe, onset, rain, anom, weather


def perturbations(ensemble: Ensemble, days: int, members: int | None = None,
                  seed: int | None = None) -> EnsemblePerturbations:
    """Draw the member perturbations of ``ensemble`` with ``seed`` (default: the scenario's
    ``[ensemble].seed``); member 0 is the unperturbed control when ``control_member``.
    The draws depend on the seed and ``days`` only, and member ``i`` is the same whatever
    the number of members drawn: members are drawn in blocks of :data:`_MEMBER_BLOCK`, each
    block from its own stream (``numpy.random.SeedSequence(seed).spawn``), so a run with 12
    members repeats the first 12 of a run with 1 000 (a searched schedule can be checked on
    the members it was searched on).

    SWE: lognormal with mean 1 and coefficient of variation ``swe_cv``; melt onset: normal
    with sd ``melt_onset_sd`` rounded to whole days; rain-on-snow: gamma with mean 1 and
    CV ``rain_on_snow_cv``; temperature: AR(1) with sd ``temperature_sd`` and
    e-folding memory ``temperature_memory``; weather (``weather = "sampled_years"``): a
    uniform draw per member choosing a whole historical season (drawn after the other
    perturbations, so they do not depend on the choice of weather).
    """
    m = ensemble.members if members is None else members
    root = np.random.SeedSequence(ensemble.seed if seed is None else seed)
    n_blocks = -(-m // _MEMBER_BLOCK)
    blocks = [_draw_block(ensemble, days, np.random.default_rng(child))
              for child in root.spawn(max(n_blocks, 1))]
    swe, onset, rain, anom, weather = (np.concatenate(parts)[:m] for parts in zip(*blocks, strict=True))
    if ensemble.control_member and m > 0:
        swe[0], onset[0], rain[0], anom[0], weather[0] = 1.0, 0, 1.0, 0.0, np.nan
    return EnsemblePerturbations(swe, onset, rain, anom, weather)


def _anomalies(scenario: ScenarioFile, pert: EnsemblePerturbations
               ) -> tuple[np.ndarray, np.ndarray]:
    """The scenario's temperature anomaly (AR(1) + warm-up, °C) and extra precipitation
    (rain-on-snow, mm/day) of each member, arrays (M, T)."""
    dates = scenario.dates
    day = (dates - dates[0]).days.to_numpy()[None, :] - pert.onset_shift_days[:, None]  # (M,T)
    s = scenario.season
    t_anom = np.array(pert.temp_anomaly_c, dtype=float)                                 # (M,T)
    if s.warm_up is not None:
        w = s.warm_up
        d0 = (pd.Timestamp(w.start) - dates[0]).days
        ramp = max(w.ramp.to("duration"), 1e-9)
        dur = w.duration.to("duration")
        frac = np.clip((day - d0 + 1) / ramp, 0.0, 1.0) * ((day >= d0) & (day < d0 + dur))
        t_anom += w.anomaly.to("temperature") * frac
    p_extra = np.zeros_like(t_anom)
    if s.rain_on_snow is not None:
        r = s.rain_on_snow
        d0 = (pd.Timestamp(r.start) - dates[0]).days
        on = (day >= d0) & (day < d0 + r.duration.to("duration"))
        p_extra = r.depth.to("depth") * pert.rain_factor[:, None] * on
    return t_anom, p_extra


def _sampled_weather(clim: SeasonClimatology, pert: EnsemblePerturbations, basin: str,
                     days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each member's historical temperature anomaly and precipitation in ``basin`` (M, T),
    and which members have one (M,); None when no member samples the record."""
    year = pert.weather_years(clim)
    ok = year >= 0
    if not ok.any():
        return None
    if days > WEATHER_DAYS:
        raise ValueError(f"a season of {days} days is longer than the sampled seasons")
    i = np.maximum(year, 0)
    t = np.where(ok[:, None], clim.weather_temp_anom_c[basin][i, :days], 0.0)
    p = np.where(ok[:, None], clim.weather_precip_mm[basin][i, :days], np.nan)
    return t, p, ok


def season_inputs(scenario: ScenarioFile, clim: SeasonClimatology,
                  pert: EnsemblePerturbations
                  ) -> tuple[np.ndarray, np.ndarray, snowmelt.SnowState, np.ndarray]:
    """Forcing and start state of each member, **time first**: temperature (°C) and
    precipitation (mm/day) as arrays (T, M, N), the state (M, N) and the wetness (M, N).

    A member's weather is the smoothed daily normals, or (``weather = "sampled_years"``)
    the normal temperature plus the daily anomalies of its historical season and that
    season's daily precipitation; the scenario's warm-up and rain-on-snow come on top.
    The AR(1) anomalies (``temperature_sd``) are added only to members on the normals: a
    historical season has its own day-to-day variability, and adding the AR(1) noise to
    it would count that variability twice.
    """
    dates = scenario.dates
    doy = np.minimum(dates.day_of_year.to_numpy(), 366) - 1
    m = pert.members
    s = scenario.season
    t_anom, p_extra = _anomalies(scenario, pert)
    temp = clim.normal_temp_c[:, doy].T[:, None, :] + t_anom.T[:, :, None]               # (T,M,N)
    precip = clim.normal_precip_mm[:, doy].T[:, None, :] + p_extra.T[:, :, None]
    if pert.weather_draw is not None and np.isfinite(pert.weather_draw).any():
        for b in sorted(set(clim.basins)):
            got = _sampled_weather(clim, pert, b, len(dates))
            if got is None:
                continue
            t_y, p_y, ok = got
            cols = np.array([i for i, nb in enumerate(clim.basins) if nb == b])
            # a historical season brings its own day-to-day anomalies: the AR(1) noise is
            # taken off its members (it would count that variability twice)
            ar1 = np.where(ok[:, None], pert.temp_anomaly_c, 0.0)                       # (M,T)
            temp[:, :, cols] += (t_y - ar1).T[:, :, None]
            hist = (p_y.T + p_extra.T)[:, :, None]                                    # (T,M,1)
            precip[:, :, cols] = np.where(ok[None, :, None], hist, precip[:, :, cols])
    n = len(clim.nodes)
    swe = clim.percentile("swe", s.swe_percentile)[None, :] * pert.swe_factor[:, None]
    frost = np.broadcast_to(clim.percentile("frost_dd", s.frost_percentile), (m, n))
    wet = np.broadcast_to(clim.percentile("wetness", s.wetness_percentile), (m, n))
    quick = np.broadcast_to(np.median(clim.start_state["quick"], axis=0), (m, n))
    base = np.broadcast_to(np.median(clim.start_state["base"], axis=0), (m, n))
    thaw = np.broadcast_to(np.median(clim.start_state["thaw_dd"], axis=0), (m, n))
    liquid = (np.broadcast_to(np.median(clim.start_state["liquid"], axis=0), (m, n))
              if "liquid" in clim.start_state else np.zeros((m, n)))
    state = snowmelt.SnowState(swe=swe, frost_dd=np.array(frost), thaw_dd=np.array(thaw),
                               quick=np.array(quick), base=np.array(base),
                               liquid=np.array(liquid))
    return temp, precip, state, np.array(wet)


def season_snowiness(scenario: ScenarioFile, clim: SeasonClimatology,
                     pert: EnsemblePerturbations) -> np.ndarray:
    """Winter snowiness ``S`` of each member (M, N): the snowiness of the calibration
    years at the scenario's ``swe_percentile`` (the snow on the ground and the winter's
    snowfall are one quantity's two measures), times the member's snow factor; 1 where
    the climatology holds no snowiness."""
    m, n = pert.members, len(clim.nodes)
    if "snowiness" not in clim.start_state:
        return np.ones((m, n))
    snowy = clim.percentile("snowiness", scenario.season.swe_percentile)
    return np.array(snowy[None, :] * pert.swe_factor[:, None])


def headwater_inflows(scenario: ScenarioFile, clim: SeasonClimatology,
                      pert: EnsemblePerturbations) -> dict[str, np.ndarray]:
    """Lateral inflow (m³/s) of every node with a local catchment, arrays (M, T)."""
    temp, precip, state, wet = season_inputs(scenario, clim, pert)
    snowy = season_snowiness(scenario, clim, pert)
    reset_f, reset_t = snowmelt.season_flags(scenario.dates.to_numpy())
    res = snowmelt.simulate_time_first(temp, precip, clim.params, state, wetness=wet,
                                       snowiness=snowy,
                                       reset_frost=reset_f, reset_thaw=reset_t,
                                       diagnostics=False)
    runoff = res.runoff_mm                                                              # (T,M,N)
    return {n: np.ascontiguousarray(
                runoff_depth_to_discharge(runoff[:, :, i], clim.areas_km2[i]).T)
            for i, n in enumerate(clim.nodes)}


# =========================================================================== schedules

def build_schedule(spec: ReleaseRule, dates: pd.DatetimeIndex, reservoir: Any = None) -> Any:
    """A :mod:`hydro.reservoirs` schedule (or :class:`hydro.network_sim.PassInflow`) from
    a validated release rule (any class of :data:`RULES`), over ``dates``."""
    if not isinstance(spec, ReleaseRule):
        raise TypeError(f"not a release rule: {spec!r} (known kinds: {', '.join(sorted(RULES))})")
    return spec.build(dates, reservoir=reservoir)


def _day(dates: pd.DatetimeIndex, d: dt.date) -> float:
    return float((pd.Timestamp(d) - dates[0]).days)


def _piecewise(dates: pd.DatetimeIndex, starts: Sequence[dt.date], values: np.ndarray
               ) -> np.ndarray:
    day = (dates - dates[0]).days.to_numpy()
    at = np.array([(pd.Timestamp(d) - dates[0]).days for d in starts])
    pos = np.searchsorted(at, day, side="right") - 1
    return np.where(pos >= 0, values[np.clip(pos, 0, None)], values[0])


def prerelease_series(dates: pd.DatetimeIndex, base: ArrayLike, pre_start: ArrayLike,
                      pre: ArrayLike, flood_start: ArrayLike, flood: ArrayLike,
                      refill_start: ArrayLike, refill: ArrayLike) -> np.ndarray:
    """Release (m³/s) of the four-phase schedule for one or many parameter sets.

    Parameters are scalars or arrays (K,); start days are step indices (days after the
    first date, fractional values round down).  Returns (T,) or (K, T).
    """
    day = (dates - dates[0]).days.to_numpy().astype(float)
    arrs = [np.asarray(a, dtype=float) for a in (base, pre_start, pre, flood_start, flood,
                                                 refill_start, refill)]
    scalar = all(a.ndim == 0 for a in arrs)
    b, s1, q1, s2, q2, s3, q3 = (np.atleast_1d(a)[:, None] for a in arrs)
    out = np.where(day >= np.floor(s3), q3,
                   np.where(day >= np.floor(s2), q2, np.where(day >= np.floor(s1), q1, b)))
    return out[0] if scalar else out


def plan_schedules(scenario: ScenarioFile, plan: str, network: Network) -> dict[str, Any]:
    """Schedules of every reservoir in the scenario's basins under ``plan`` (reservoirs the
    plan does not name follow ``default``)."""
    if plan not in scenario.schedules:
        raise ValueError(f"unknown plan '{plan}' (plans: {', '.join(scenario.schedules)})")
    res = [n for n in network_sim.select_nodes(network, scenario.scenario.basins)
           if n in network.reservoirs]
    specs = {**scenario.schedules["default"].reservoirs, **scenario.schedules[plan].reservoirs}
    return {r: build_schedule(specs[r], scenario.dates, network.reservoirs[r]) for r in res}


def initial_volumes(scenario: ScenarioFile, network: Network) -> dict[str, float]:
    """Start volume (hm³) of each reservoir named under ``[reservoirs]``."""
    out = {}
    for rid, st in scenario.reservoirs.items():
        res = network.reservoirs[rid]
        if st.initial_volume is not None:
            out[rid] = st.initial_volume.to("volume")
        elif st.initial_level is not None:
            out[rid] = float(res.storage_table.volume_at(st.initial_level.to("elevation")))
    return out


def evaporation_climatology(dates: pd.DatetimeIndex, peak_mm_per_day: float = 5.0
                            ) -> np.ndarray:
    """Open-water evaporation, mm/day: none from November to March, a half-sine from
    1 April to 1 November peaking at ``peak_mm_per_day`` in mid-July (steppe reservoirs;
    an estimate, the order of the pan evaporation of the region)."""
    doy = dates.day_of_year.to_numpy()
    e = peak_mm_per_day * np.sin(np.pi * (doy - 91) / (305 - 91))
    return np.where((doy >= 91) & (doy <= 305), np.clip(e, 0.0, None), 0.0)


def run_members(network: Network, scenario: ScenarioFile, clim: SeasonClimatology,
                pert: EnsemblePerturbations, schedules: Mapping[str, Any],
                lateral: Mapping[str, np.ndarray] | None = None) -> xr.Dataset:
    """Headwater inflows → network simulation for the members in ``pert``.

    Returns the :func:`hydro.network_sim.simulate` Dataset with the scenario's provenance
    in its attributes (``synthetic`` is ``"yes"`` when the scenario is).
    """
    lat = dict(lateral) if lateral is not None else headwater_inflows(scenario, clim, pert)
    ds: xr.Dataset = network_sim.simulate(
        network, lat, start=scenario.scenario.start, schedules=schedules,
        initial_volume_hm3=initial_volumes(scenario, network),
        initial_release_m3s={r: st.initial_release.to("discharge")
                             for r, st in scenario.reservoirs.items()
                             if st.initial_release is not None},
        evaporation_mm_per_day=evaporation_climatology(scenario.dates),
        basins=scenario.scenario.basins)
    synthetic = scenario.scenario.synthetic or clim.synthetic
    ds.attrs.update({
        "title": f"hydrorisk scenario {scenario.id}",
        "scenario": scenario.id,
        "synthetic": "yes" if synthetic else "no",
        "comment": ("SYNTHETIC: built from the synthetic demonstration forcing and data; not "
                    "a forecast of the real rivers" if synthetic else ""),
        "forcing": clim.description,
        "weather": scenario.ensemble.weather,
        "start_state_probability": start_probability(scenario, clim).text(),
    })
    return apply_ice(ds, network, scenario, clim, pert)


#: meanings of the ``ice_phase`` codes (:func:`hydro.snowmelt.ice_phases`)
ICE_PHASES: Final = ("open_water", "ice_cover", "ice_drift", "ice_jam")


def gauge_ice_phases(network: Network, scenario: ScenarioFile, clim: SeasonClimatology,
                     pert: EnsemblePerturbations, gauges: Sequence[str]) -> np.ndarray:
    """River ice phase (:func:`hydro.snowmelt.ice_phases`) of each member at each gauge,
    array (M, G, T) of int8.

    The gauge's air temperature is its basin's normal forcing temperature shifted by the
    model's lapse rate for its latitude, plus the member's anomalies (its historical
    season, the warm-up, the AR(1) anomaly) — the temperature the ice rule of the
    synthetic generator reads (without the snowmelt model's ``temp_offset``, a bias term of
    runoff generation).  The river is under ice before the start when it was in at least
    half the calibration years (:attr:`SeasonClimatology.ice_at_start`); the trailing mean
    of the first days reads the normals of the days before the start.
    """
    dates = scenario.dates
    n_t = len(dates)
    hist_dates = pd.date_range(end=dates[0] - pd.Timedelta(days=1), periods=6, freq="D")
    doy = np.minimum(dates.day_of_year.to_numpy(), 366) - 1
    hdoy = np.minimum(hist_dates.day_of_year.to_numpy(), 366) - 1
    t_anom, _ = _anomalies(scenario, pert)
    months = dates.month.to_numpy()
    out = np.zeros((pert.members, len(gauges), n_t), dtype=np.int8)
    sampled: dict[str, Any] = {}
    for k, g in enumerate(gauges):
        basin = network.node(g).basin
        if basin not in clim.basin_normal_temp_c:
            continue
        if basin not in sampled:
            sampled[basin] = (_sampled_weather(clim, pert, basin, n_t)
                              if basin in clim.weather_temp_anom_c else None)
        shift = clim.lapse_c_per_degree * (_gauge_latitude(network, g) - REFERENCE_LATITUDE)
        normal = clim.basin_normal_temp_c[basin] + shift
        t = normal[doy][None, :] + t_anom
        if sampled[basin] is not None:
            t = t + sampled[basin][0]
        jam = scenario.ice.jam_days if g in scenario.ice.jam_gauges else 0
        out[:, k, :] = snowmelt.ice_phases(
            t, months, frozen_at_start=clim.ice_at_start.get(g, 0.0) >= 0.5,
            history_c=normal[hdoy], jam_days=jam)
    return out


def apply_ice(ds: xr.Dataset, network: Network, scenario: ScenarioFile,
              clim: SeasonClimatology, pert: EnsemblePerturbations) -> xr.Dataset:
    """Add the ice backwater to the gauges' stage (``[ice]``) and mark the ice-affected
    days: ``ice_phase`` (member, node, time; codes of :data:`ICE_PHASES`, open water at
    nodes that are not gauges) and ``ice_affected`` (any ice: cover, drift or jam).

    Stage under ice cover is ``cover_backwater`` above the open-water stage of the rating,
    and behind a jam ``cover_backwater + jam_backwater`` (as the synthetic generator makes
    them); ice drift without a jam leaves it as it is.  The members of ``ds`` may be
    several copies of ``pert``'s (candidate schedules × members, as the schedule search
    runs them).
    """
    if not scenario.ice.enabled or not clim.basin_normal_temp_c:
        return ds
    nodes = [str(n) for n in ds["node"].values]
    gauges = [n for n in nodes if n in network.gauges]
    phases = np.zeros((ds.sizes["member"], len(nodes), ds.sizes["time"]), dtype=np.int8)
    if gauges:
        ph = gauge_ice_phases(network, scenario, clim, pert, gauges)
        reps, rest = divmod(ds.sizes["member"], pert.members)
        if rest:
            raise ValueError(f"{ds.sizes['member']} members are not copies of "
                             f"{pert.members} perturbed members")
        ph = np.tile(ph, (reps, 1, 1))
        phases[:, [nodes.index(g) for g in gauges], :] = ph
    cover = scenario.ice.cover_backwater.to("stage")
    jam = scenario.ice.jam_backwater.to("stage")
    under = (phases == snowmelt.ICE_COVER) | (phases == snowmelt.ICE_JAM)
    rise = np.where(under, cover, 0.0) + np.where(phases == snowmelt.ICE_JAM, jam, 0.0)
    stage = ds["stage"]
    ds["stage"] = (stage + rise).assign_attrs(
        {**stage.attrs, "long_name": "stage above gauge zero (from the rating, with the ice "
                                     "backwater)",
         "comment": f"ice backwater: +{cover:g} cm under ice cover, +{cover + jam:g} cm "
                    "behind a jam (see ice_phase)"})
    ds["ice_phase"] = (("member", "node", "time"), phases, {
        "long_name": "river ice phase at the gauge (hydro.snowmelt.ice_phases)",
        "flag_values": np.arange(len(ICE_PHASES), dtype=np.int8),
        "flag_meanings": " ".join(ICE_PHASES)})
    ds["ice_affected"] = (("member", "node", "time"), phases != snowmelt.ICE_OPEN, {
        "long_name": "stage affected by ice (cover, drift or jam): not comparable with "
                     "open-water levels"})
    return ds


# =========================================================================== search

#: order of the prerelease parameters in a search vector
PRERELEASE_KEYS: Final = ("base_release", "prerelease_start", "prerelease_release",
                          "flood_start", "flood_release", "refill_start", "refill_release")


def prerelease_vector(spec: PrereleaseSpec, dates: pd.DatetimeIndex) -> dict[str, float]:
    """The schedule's parameters as numbers: releases in m³/s, dates as step indices."""
    out = {}
    for k in PRERELEASE_KEYS:
        v = getattr(spec, k)
        out[k] = _day(dates, v) if k.endswith("_start") else v.to("discharge")
    return out


def prerelease_spec(values: Mapping[str, float], dates: pd.DatetimeIndex) -> PrereleaseSpec:
    """Inverse of :func:`prerelease_vector` (dates rounded down to whole days)."""
    kw: dict[str, Any] = {"kind": "prerelease"}
    for k in PRERELEASE_KEYS:
        v = float(values[k])
        if k.endswith("_start"):
            kw[k] = (dates[0] + pd.Timedelta(days=int(np.floor(v)))).date()
        else:
            kw[k] = f"{round(v, 1):g} m3/s"
    days = sorted(kw[k] for k in ("prerelease_start", "flood_start", "refill_start"))
    kw["prerelease_start"], kw["flood_start"], kw["refill_start"] = days
    return PrereleaseSpec.model_validate(kw)


@dataclass(frozen=True)
class ScheduleSearch:
    """Outcome of :func:`search_schedule`.

    Attributes
    ----------
    best : the best schedule found (a :class:`PrereleaseSpec`)
    template : the documented schedule the search started from
    result : :class:`hydro.schedules.SearchResult` (objective values)
    varied : names of the parameters searched
    members : ensemble members used
    """

    best: PrereleaseSpec
    template: PrereleaseSpec
    result: Any
    varied: tuple[str, ...]
    members: int


def search_schedule(network: Network, scenario: ScenarioFile, clim: SeasonClimatology,
                    levels: Mapping[str, Any], pert: EnsemblePerturbations | None = None
                    ) -> ScheduleSearch:
    """Search the ``[search]`` reservoir's prerelease schedule (see
    :func:`hydro.schedules.search` and :func:`hydro.schedules.objective`).

    The objective scores the ``objective_gauges`` and the gauges of ``[search.weights]``,
    Russian and Kazakh alike, each with its weight (1 where not given); a gauge without an
    adverse level (the Kazakh scheme has none) scores its dangerous-level terms only.

    The first ``search.members`` members of the ensemble are simulated once for their
    headwater inflows; every generation of candidate schedules is then one network run
    with candidates × members as the member axis.
    """
    from hydro import reservoirs as R
    from hydro import schedules as S

    if scenario.search is None:
        raise ValueError(f"scenario '{scenario.id}' has no [search] table")
    cfg = scenario.search
    dates = scenario.dates
    n_m = min(cfg.members, scenario.ensemble.members)
    pert = (pert or perturbations(scenario.ensemble, len(dates))).subset(slice(0, n_m))
    lateral = headwater_inflows(scenario, clim, pert)
    template = scenario.schedules[cfg.template].reservoirs[cfg.reservoir]
    assert isinstance(template, PrereleaseSpec)
    base = prerelease_vector(template, dates)
    varied = tuple(k for k in PRERELEASE_KEYS if k in cfg.vary)
    start_ord = float(dates[0].date().toordinal())
    bounds = []
    for k in varied:
        lo, hi = (_search_bound(k, x) for x in cfg.vary[k])
        if k.endswith("_start"):
            lo, hi = lo - start_ord, hi - start_ord
        bounds.append((lo, hi))
    x0 = np.array([min(max(base[k], lo), hi) for k, (lo, hi) in zip(varied, bounds, strict=True)])
    others = plan_schedules(scenario, cfg.template, network)
    target = cfg.end_storage_target.to("volume")
    weights = S.ObjectiveWeights()
    gauges = cfg.gauges
    gauge_weights = [cfg.gauge_weights()[g] for g in gauges]

    def batch(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(x)
        vals = {key: np.full(k, base[key]) for key in PRERELEASE_KEYS}
        for i, key in enumerate(varied):
            vals[key] = x[:, i]
        starts = np.sort(np.stack([vals["prerelease_start"], vals["flood_start"],
                                   vals["refill_start"]]), axis=0)
        rel = prerelease_series(dates, vals["base_release"], starts[0], vals["prerelease_release"],
                                starts[1], vals["flood_release"], starts[2], vals["refill_release"])
        sched = dict(others)
        sched[cfg.reservoir] = R.DailyRelease(np.repeat(rel, n_m, axis=0))
        lat = {n: np.tile(v, (k, 1)) for n, v in lateral.items()}
        ds = run_members(network, scenario, clim, pert, sched, lateral=lat)
        ev = S.evaluate(ds, levels, gauges=gauges)
        j = S.objective(ev, gauges, cfg.reservoir, target, cfg.storage_probability,
                        weights, groups=k, gauge_weights=gauge_weights)
        j0 = S.objective(ev, gauges, cfg.reservoir, target, cfg.storage_probability,
                         S.ObjectiveWeights(storage_penalty=0.0), groups=k,
                         gauge_weights=gauge_weights)
        return j, j - j0

    integrality = [k.endswith("_start") for k in varied]
    result = S.search(batch, bounds, [x0], seed=cfg.seed, maxiter=cfg.maxiter,
                      popsize=cfg.popsize, integrality=integrality)
    best_vals = dict(base)
    best_vals.update(dict(zip(varied, result.x, strict=True)))
    return ScheduleSearch(prerelease_spec(best_vals, dates), template, result, varied, n_m)
