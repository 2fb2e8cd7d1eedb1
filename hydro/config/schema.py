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
    Duration,
    Gauge,
    Names,
    Node,
    Reach,
    Reservoir,
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


class DashboardSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    language: Literal["kk", "ru", "en"] = "en"
    stale_after_days: float = Field(default=3.0, gt=0)


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


class SettingsFile(Strict):
    accounting: AccountingSettings = AccountingSettings()
    store: StoreSettings = StoreSettings()
    paths: PathSettings = PathSettings()
    dashboard: DashboardSettings = DashboardSettings()
