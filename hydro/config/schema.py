"""Schemas of the files in ``config/``: what each file may contain, validated with pydantic
models that reject unknown keys.  The objects of the network itself (gauges, reservoirs,
reaches, thresholds) are the domain model in :mod:`hydro.network`; these schemas hold them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from hydro.errors import UnitError
from hydro.network import (
    Basin,
    Discharge,
    Duration,
    Elevation,
    Gauge,
    Names,
    Node,
    Reach,
    Reservoir,
    Stage,
    Strict,
    Threshold,
)
from hydro.units import parse_quantity


class BasinsFile(Strict):
    basins: list[Basin] = Field(min_length=1)
    gauges: list[Gauge] = Field(default_factory=list)
    reservoirs: list[Reservoir] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    reaches: list[Reach] = Field(default_factory=list)



class ThresholdsFile(Strict):
    thresholds: list[Threshold] = Field(default_factory=list)


class Schedule(Strict):
    interval: Duration | None = None
    cron: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Schedule:
        if (self.interval is None) == (self.cron is None):
            raise ValueError("give exactly one of 'interval' or 'cron'")
        if self.interval is not None and self.interval.to("duration") <= 0:
            raise ValueError("interval must be positive")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(self.cron)
            except ValueError as e:
                raise ValueError(f"invalid cron expression {self.cron!r}: {e}") from None
        return self


class Source(Strict):
    """An ingest source: its file format, the reporting party and its folders."""

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    format: Literal["grdc", "agency_csv", "reservoir_csv", "quality_csv", "netcdf"]
    party: Literal["KZ", "RU"]
    description: str = ""
    pattern: str = "*"
    layout: str | None = None
    schedule: Schedule | None = None
    inbox: str | None = None
    archive: str | None = None


class AgencyLayout(Strict):
    """Column mapping of one national agency CSV layout (a new layout is config, not code)."""

    id: str
    delimiter: str = ";"
    decimal: str = ","
    encodings: list[str] = Field(default_factory=lambda: ["utf-8-sig", "cp1251"])
    date_format: str = "%d.%m.%Y"
    columns: dict[str, list[str]]
    units: dict[str, str]

    @model_validator(mode="after")
    def _needed(self) -> AgencyLayout:
        for key in ("station", "date"):
            if key not in self.columns:
                raise ValueError(f"columns needs '{key}'")
        for var in self.units:
            if var not in self.columns:
                raise ValueError(f"units names '{var}' which has no column mapping")
        return self


PhenomenonCode = Literal["ice_cover", "ice_drift", "ice_jam", "frazil", "shore_ice",
                         "ice_on_bank", "open_water"]


class QCLimits(Strict):
    """QC limits of one variable (see hydro.qc): a quantity with a unit of the variable's
    dimension, a duration for flat_for / max_gap / rating_window, a fraction for the
    relative tolerances, or "off"; an absent key keeps the default."""

    min: Any = None
    max: Any = None
    max_change_per_day: Any = None
    flat_for: Any = None
    max_gap: Any = None
    party_tolerance: Any = None
    party_relative_tolerance: Any = None
    duplicate_tolerance: Any = None
    duplicate_relative_tolerance: Any = None
    rating_tolerance: Any = None
    rating_window: Any = None
    note: str = ""


class QCVariables(Strict):
    """Limits per stored variable; each quantity is parsed with its variable's dimension."""

    stage: QCLimits | None = None
    discharge: QCLimits | None = None
    level: QCLimits | None = None
    volume: QCLimits | None = None
    inflow: QCLimits | None = None
    outflow: QCLimits | None = None
    spill: QCLimits | None = None
    evaporation: QCLimits | None = None
    air_temperature: QCLimits | None = None
    precipitation: QCLimits | None = None
    snow_water_equivalent: QCLimits | None = None
    soil_moisture: QCLimits | None = None
    frost_depth: QCLimits | None = None

    @model_validator(mode="after")
    def _units(self) -> QCVariables:
        from hydro.qc import VARIABLE_DIMENSION

        kind = {"flat_for": "duration", "max_gap": "duration", "rating_window": "duration",
                "rating_tolerance": "stage", "party_relative_tolerance": None,
                "duplicate_relative_tolerance": None}
        for var, dim in VARIABLE_DIMENSION.items():
            lim = getattr(self, var)
            if lim is None:
                continue
            update: dict[str, Any] = {}
            for key in QCLimits.model_fields:
                raw = getattr(lim, key)
                if raw is None or key == "note":
                    continue
                if isinstance(raw, str) and raw.strip().lower() == "off":
                    update[key] = "off"
                    continue
                d = kind.get(key, dim)
                if d is None:
                    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw < 1:
                        raise ValueError(f"{var}.{key}: expected a fraction in [0, 1), got {raw!r}")
                    update[key] = float(raw)
                    continue
                try:
                    q = parse_quantity(raw, d)
                    q.to(d)
                except UnitError as e:
                    raise ValueError(f"{var}.{key}: {e}") from None
                update[key] = q
            object.__setattr__(self, var, lim.model_copy(update=update))
        return self


class QCStation(QCVariables):
    """Limits of one station, overriding the defaults."""

    station: str


class QCSettings(Strict):
    defaults: QCVariables = Field(default_factory=QCVariables)
    stations: list[QCStation] = Field(default_factory=list)


class SourcesFile(Strict):
    phenomena: dict[str, PhenomenonCode] = Field(default_factory=dict)
    layouts: list[AgencyLayout] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    qc: QCSettings = Field(default_factory=QCSettings)


class QualityParameter(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    unit: str
    names: Names

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        from hydro.units import dimension_of

        try:
            dim = dimension_of(v)
        except UnitError as e:
            raise ValueError(str(e)) from None
        if dim not in ("concentration", "ph", "temperature", "dimensionless"):
            raise ValueError(f"unit '{v}' is not a concentration, pH or temperature unit")
        return v


class QualityParametersFile(Strict):
    parameters: list[QualityParameter] = Field(min_length=1)


class StoreSettings(Strict):
    url: str = "sqlite:///var/hydrorisk.sqlite"


class PathSettings(Strict):
    inbox: str = "data/inbox"
    archive: str = "data/archive"
    quarantine: str = "data/quarantine"
    bundled: str = "data/gauges"
    #: kept scenario-lab runs, one NetCDF per run (hydro.services.scenario_runs)
    runs: str = "data/runs"
    #: series files uploaded through the dashboard, per source (hydro.services.uploads)
    uploads: str = "data/uploads"


class DashboardSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    language: Literal["kk", "ru", "en"] = "en"
    stale_after_days: float = Field(default=3.0, gt=0)
    #: a banner on every page when the newest data are older than this before today
    data_old_after: Duration = Field(default_factory=lambda: parse_quantity("3 d", "duration"))
    #: the overview reloads itself this often; zero: never
    refresh: Duration = Field(default_factory=lambda: parse_quantity("5 min", "duration"))

    @field_validator("data_old_after")
    @classmethod
    def _positive(cls, v: Any) -> Any:
        if v.to("duration") <= 0:
            raise ValueError("data_old_after must be positive")
        return v

    @field_validator("refresh")
    @classmethod
    def _refresh(cls, v: Any) -> Any:
        if v.to("duration") < 0:
            raise ValueError("refresh must not be negative")
        if 0 < v.to("duration") * 86400 < 10:  # canonical duration: days
            raise ValueError("refresh must be at least 10 s (or 0: never)")
        return v


class AccountingSettings(Strict):
    """How the commission's border accounting is done (hydro.balance)."""

    norm_base_period: tuple[int, int] = (1991, 2020)
    min_base_fraction: float = Field(default=0.8, gt=0, le=1)
    water_year_start_month: int = Field(default=3, ge=1, le=12)

    @field_validator("norm_base_period")
    @classmethod
    def _ordered(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] > v[1]:
            raise ValueError(f"norm_base_period {list(v)}: the first year is after the last")
        return v


def _duration(text: str) -> Any:
    return parse_quantity(text, "duration")


class IngestSettings(Strict):
    """What the readers accept (hydro.readers.common.TimeWindow) and how the worker takes
    files from an inbox (hydro.worker)."""

    #: a date before 1 January of this year is refused as a typo (01.04.1024)
    earliest_year: int = Field(default=1900, ge=1678, le=2200)
    #: a time later than the ingest time plus this is refused (01.04.3024, 2099)
    future_tolerance: Duration = Field(default_factory=lambda: _duration("2 d"))
    #: a file in an inbox is taken only once its size and mtime have not changed for this
    #: long (files named *.part, *.tmp or starting with '.' are never taken)
    settle: Duration = Field(default_factory=lambda: _duration("2 s"))
    #: the longest pause between the worker's retries after a failure of the store
    max_backoff: Duration = Field(default_factory=lambda: _duration("5 min"))


class SettingsFile(Strict):
    accounting: AccountingSettings = AccountingSettings()
    ingest: IngestSettings = IngestSettings()
    store: StoreSettings = StoreSettings()
    paths: PathSettings = PathSettings()
    dashboard: DashboardSettings = DashboardSettings()


# --------------------------------------------------------------------------- alerts.toml

AlertKind = Literal["stage_level", "low_water", "rate_of_rise", "reservoir_full",
                    "spill_started", "release_change", "silent", "qc_burst",
                    "balance_residual", "pollution_class", "border_min_flow",
                    "forecast_crossing"]
AlertSeverity = Literal["info", "adverse", "low_water_dangerous", "dangerous"]

#: which nodes each kind of rule applies to (``gauge``, ``reservoir``, ``border``)
ALERT_KIND_NODES: dict[str, tuple[str, ...]] = {
    "stage_level": ("gauge",), "low_water": ("gauge",), "rate_of_rise": ("gauge",),
    "reservoir_full": ("reservoir",), "spill_started": ("reservoir",),
    "release_change": ("reservoir",), "silent": ("gauge", "reservoir"),
    "qc_burst": ("gauge", "reservoir"), "balance_residual": ("reservoir",),
    "pollution_class": ("gauge",), "border_min_flow": ("border",),
    "forecast_crossing": ("gauge",),
}
#: severity of a rule that does not set one (stage_level and low_water take the level's)
ALERT_DEFAULT_SEVERITY: dict[str, str] = {
    "stage_level": "dangerous", "low_water": "low_water_dangerous", "rate_of_rise": "adverse",
    "reservoir_full": "adverse", "spill_started": "adverse", "release_change": "adverse",
    "silent": "info", "qc_burst": "info", "balance_residual": "info",
    "pollution_class": "adverse", "border_min_flow": "adverse", "forecast_crossing": "adverse",
}
#: the dimension of a rule's hysteresis band, by kind (kinds not listed take none)
_BAND_DIMENSION = {"stage_level": "stage", "low_water": "stage", "rate_of_rise": "stage",
                   "reservoir_full": "elevation", "spill_started": "discharge",
                   "border_min_flow": "discharge", "forecast_crossing": "stage"}
#: the parameters each kind needs (all of them) or may take
_KIND_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stage_level": ((), ("schemes",)),
    "low_water": ((), ("schemes",)),
    "rate_of_rise": (("rise",), ("over", "max_gap")),
    "reservoir_full": ((), ("within", "days_to_full")),
    "spill_started": ((), ("min_spill",)),
    "release_change": ((), ("min_change", "min_change_percent", "percent_floor", "window")),
    "silent": ((), ("interval",)),
    "qc_burst": (("count", "window"), ()),
    "balance_residual": ((), ("tolerance_percent",)),
    "pollution_class": ((), ("norm_class", "edition")),
    "border_min_flow": ((), ("min_flow",)),
    "forecast_crossing": (("within_days",), ("schemes",)),
}
_PARAMS = sorted({p for need, may in _KIND_PARAMS.values() for p in (*need, *may)})


class AlertRule(Strict):
    """One alert rule of ``config/alerts.toml``: a default (neither ``station`` nor
    ``basin``), a basin's or a station's.  For each station, a rule id set for the
    station replaces the basin's, which replaces the default (whole rules, not keys)."""

    id: str = Field(pattern=r"^[a-z0-9_-]+$", max_length=64)
    kind: AlertKind
    station: str | None = None
    basin: str | None = None
    enabled: bool = True
    severity: AlertSeverity | None = None
    hysteresis: Any = None
    persistence: int = Field(default=1, ge=1)
    escalation_after: Duration | None = None
    require_confirmed: bool = False
    notify: Literal["station", "downstream"] = "station"
    note: str = ""
    # parameters of particular kinds (see _KIND_PARAMS)
    schemes: list[Literal["kz_dangerous", "ru_nya_oya", "return_period", "percentile"]] | None = None
    rise: Stage | None = None
    over: Duration | None = None
    max_gap: Duration | None = None
    within: Elevation | None = None
    days_to_full: Duration | None = None
    min_spill: Discharge | None = None
    min_change: Discharge | None = None
    min_change_percent: float | None = Field(default=None, gt=0)
    percent_floor: Discharge | None = None   # release_change: the smallest change the
    # percentage criterion counts (a 50 % change of a 10 m3/s release is no notice)
    window: Duration | None = None
    interval: Duration | None = None
    count: int | None = Field(default=None, ge=1)
    tolerance_percent: float | None = Field(default=None, gt=0)
    norm_class: int | None = Field(default=None, ge=1, le=5)
    edition: Literal["kz2016", "kz2025"] | None = None
    min_flow: Discharge | None = None
    within_days: Duration | None = None

    @model_validator(mode="after")
    def _kind(self) -> AlertRule:
        if self.station is not None and self.basin is not None:
            raise ValueError("give 'station' or 'basin', not both")
        need, may = _KIND_PARAMS[self.kind]
        for p in _PARAMS:
            given = getattr(self, p) is not None
            if p in need and not given:
                raise ValueError(f"a rule of kind '{self.kind}' needs '{p}'")
            if given and p not in need and p not in may:
                raise ValueError(f"'{p}' does not apply to a rule of kind '{self.kind}'")
        if self.kind == "reservoir_full" and self.within is None and self.days_to_full is None:
            raise ValueError("a rule of kind 'reservoir_full' needs 'within' (a margin below "
                             "ФПУ, e.g. \"50 cm\") or 'days_to_full' (e.g. \"5 d\") or both")
        if (self.kind == "release_change" and self.min_change is None
                and self.min_change_percent is None):
            raise ValueError("a rule of kind 'release_change' needs 'min_change' (e.g. "
                             "\"50 m3/s\") or 'min_change_percent' or both")
        if self.kind in ("stage_level", "low_water") and self.severity is not None:
            raise ValueError(f"a '{self.kind}' rule takes its severity from each warning "
                             "level (adverse, dangerous, low_water_dangerous); remove 'severity'")
        if self.hysteresis is not None:
            dim = _BAND_DIMENSION.get(self.kind)
            if dim is None:
                raise ValueError(f"'hysteresis' does not apply to a rule of kind '{self.kind}' "
                                 "(use 'persistence')")
            try:
                q = parse_quantity(self.hysteresis, dim)
                q.to(dim)
            except UnitError as e:
                raise ValueError(f"hysteresis: {e}") from None
            if q.value < 0:
                raise ValueError("hysteresis must not be negative")
            object.__setattr__(self, "hysteresis", q)
        for key in ("over", "max_gap", "window", "interval", "days_to_full", "within_days",
                    "escalation_after"):
            q = getattr(self, key)
            if q is not None and q.to("duration") <= 0:
                raise ValueError(f"{key} must be positive")
        return self

    @property
    def scope(self) -> str:
        """``station RU:ORSK``, ``basin ural`` or ``default``."""
        if self.station:
            return f"station {self.station}"
        return f"basin {self.basin}" if self.basin else "default"

    @property
    def effective_severity(self) -> str:
        return self.severity or ALERT_DEFAULT_SEVERITY[self.kind]

    def band(self, dimension: str) -> float:
        """The hysteresis band in the canonical unit of ``dimension`` (0 without one)."""
        return 0.0 if self.hysteresis is None else float(self.hysteresis.to(dimension))


class AlertEvaluation(Strict):
    """``[evaluation]``: how much history an evaluation reads and how alerts escalate."""

    lookback: Duration = Field(default_factory=lambda: parse_quantity("60 d", "duration"))
    escalation_after: Duration | None = Field(
        default_factory=lambda: parse_quantity("12 h", "duration"))
    max_escalations: int = Field(default=2, ge=0)

    @model_validator(mode="after")
    def _positive(self) -> AlertEvaluation:
        if self.lookback.to("duration") <= 0:
            raise ValueError("lookback must be positive")
        if self.escalation_after is not None and self.escalation_after.to("duration") <= 0:
            raise ValueError("escalation_after must be positive")
        return self


class AlertsFile(Strict):
    evaluation: AlertEvaluation = Field(default_factory=AlertEvaluation)
    rules: list[AlertRule] = Field(default_factory=list)
