"""Load and validate the deployment configuration in ``config/``.

Every file is parsed with :mod:`tomllib` and validated with pydantic models that reject
unknown keys (``extra="forbid"``), so a misspelt key fails at start-up instead of silently
using a default.  Semantic checks that span objects (unknown node in a reach, a cycle in
the network, duplicate ids) follow.  Every failure is a :class:`~hydro.errors.ConfigError`
whose message names the file and the key, for example::

    config/basins.toml: reaches[id=ural-orsk-orenburg].downstream: unknown node 'RU:ORENBRG'
"""

from __future__ import annotations

import datetime as dt
import graphlib
import itertools
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hydro.errors import ConfigError, UnitError
from hydro.units import Quantity, parse_quantity

Country = Literal["KZ", "RU", "CN"]
Status = Literal["published", "estimate", "synthetic", "conflicting"]


def _check_timezone(v: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{v}' (use an IANA name such as 'Asia/Oral')") from None
    return v


TimeZone = Annotated[str, AfterValidator(_check_timezone)]


def quantity_type(dimension: str):
    """A pydantic validator turning \"<number> <unit>\" into a Quantity of ``dimension``."""

    def parse(v: Any) -> Quantity:
        if isinstance(v, Quantity):
            return v
        try:
            return parse_quantity(v, dimension)
        except UnitError as e:
            raise ValueError(str(e)) from None

    return BeforeValidator(parse)


Stage = Annotated[Quantity, quantity_type("stage")]
Elevation = Annotated[Quantity, quantity_type("elevation")]
Discharge = Annotated[Quantity, quantity_type("discharge")]
Volume = Annotated[Quantity, quantity_type("volume")]
Area = Annotated[Quantity, quantity_type("area")]
Length = Annotated[Quantity, quantity_type("length")]
Duration = Annotated[Quantity, quantity_type("duration")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Names(Strict):
    """A name in each of the three interface languages."""

    kk: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return getattr(self, lang, self.en)


class Datum(Strict):
    """Gauge zero: elevation of the zero of the staff gauge, valid over a period."""

    zero: Elevation
    system: Literal["Baltic 1977", "Baltic"] = "Baltic 1977"
    valid_from: dt.date
    valid_to: dt.date | None = None
    status: Status
    note: str = ""

    @model_validator(mode="after")
    def _period(self) -> Datum:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is not after valid_from {self.valid_from}")
        return self


class Rating(Strict):
    """Stage–discharge rating ``Q = a * ((h - h0) / 100 cm) ** b`` (h in cm above gauge zero)."""

    form: Literal["power"] = "power"
    a: Discharge
    b: float = Field(gt=0.5, lt=4.0)
    h0: Stage
    valid_from: dt.date
    status: Status
    note: str = ""

    def discharge(self, stage_cm):
        """Discharge in m³/s for stage in cm above gauge zero (0 below the cease-to-flow stage)."""
        h = (np.asarray(stage_cm, dtype=float) - self.h0.to("stage")) / 100.0
        return self.a.to("discharge") * np.clip(h, 0.0, None) ** self.b

    def stage(self, discharge_m3s):
        """Stage in cm above gauge zero for a discharge in m³/s (inverse rating)."""
        q = np.clip(np.asarray(discharge_m3s, dtype=float), 0.0, None)
        return self.h0.to("stage") + 100.0 * (q / self.a.to("discharge")) ** (1.0 / self.b)


class Gauge(Strict):
    id: str = Field(pattern=r"^(KZ|RU):[A-Za-z0-9_-]+$")
    kind: Literal["gauge"] = "gauge"
    basin: str
    river: str
    country: Literal["KZ", "RU"]
    names: Names
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    coord_source: str
    post_code: str | None = None
    timezone: TimeZone
    parties: list[Literal["KZ", "RU"]] = Field(default_factory=list)
    local_catchment: Area | None = None
    datums: list[Datum] = Field(min_length=1)
    rating: Rating | None = None
    border: bool = False
    estimated: list[str] = Field(default_factory=list)
    source: str

    @field_validator("datums")
    @classmethod
    def _datums_do_not_overlap(cls, v: list[Datum]) -> list[Datum]:
        ordered = sorted(v, key=lambda d: d.valid_from)
        for a, b in itertools.pairwise(ordered):
            if a.valid_to is None or a.valid_to > b.valid_from:
                raise ValueError(
                    f"datum periods overlap: {a.valid_from}..{a.valid_to or 'open'} and "
                    f"{b.valid_from}..{b.valid_to or 'open'}"
                )
        return ordered

    def datum_on(self, day: dt.date) -> Datum | None:
        for d in self.datums:
            if d.valid_from <= day and (d.valid_to is None or day < d.valid_to):
                return d
        return None

    @property
    def reporting_parties(self) -> list[str]:
        return list(self.parties) or [self.country]


class StorageTable(Strict):
    """Level–volume–area table of a reservoir (strictly increasing in all three)."""

    level_unit: str
    volume_unit: str
    area_unit: str
    level: list[float] = Field(min_length=2)
    volume: list[float] = Field(min_length=2)
    area: list[float] = Field(min_length=2)

    @model_validator(mode="after")
    def _check(self) -> StorageTable:
        for unit, dim, key in ((self.level_unit, "elevation", "level_unit"),
                               (self.volume_unit, "volume", "volume_unit"),
                               (self.area_unit, "area", "area_unit")):
            _check_unit(unit, dim, key)
        n = len(self.level)
        if len(self.volume) != n or len(self.area) != n:
            raise ValueError(
                f"level, volume and area must have the same length "
                f"(got {n}, {len(self.volume)}, {len(self.area)})"
            )
        for key in ("level", "volume"):
            arr = np.asarray(getattr(self, key))
            bad = np.flatnonzero(np.diff(arr) <= 0)
            if bad.size:
                i = int(bad[0])
                raise ValueError(
                    f"{key} is not strictly increasing: {key}[{i}]={arr[i]:g} then "
                    f"{key}[{i + 1}]={arr[i + 1]:g}"
                )
        if min(self.volume) < 0 or min(self.area) < 0:
            raise ValueError("volume and area must not be negative")
        return self

    @cached_property
    def levels_m(self) -> np.ndarray:
        return np.asarray(self.level) * _f(self.level_unit, "elevation")

    @cached_property
    def volumes_hm3(self) -> np.ndarray:
        return np.asarray(self.volume) * _f(self.volume_unit, "volume")

    @cached_property
    def areas_km2(self) -> np.ndarray:
        return np.asarray(self.area) * _f(self.area_unit, "area")

    def volume_at(self, level_m):
        return np.interp(level_m, self.levels_m, self.volumes_hm3)

    def level_at(self, volume_hm3):
        return np.interp(volume_hm3, self.volumes_hm3, self.levels_m)

    def area_at(self, level_m):
        return np.interp(level_m, self.levels_m, self.areas_km2)


class OutletCapacity(Strict):
    """Maximum controlled release (gates, turbines, bottom outlets) as a function of level."""

    level_unit: str
    discharge_unit: str
    level: list[float] = Field(min_length=2)
    discharge: list[float] = Field(min_length=2)

    @model_validator(mode="after")
    def _check(self) -> OutletCapacity:
        _check_unit(self.level_unit, "elevation", "level_unit")
        _check_unit(self.discharge_unit, "discharge", "discharge_unit")
        if len(self.level) != len(self.discharge):
            raise ValueError("level and discharge must have the same length")
        if any(np.diff(self.level) <= 0):
            raise ValueError("level is not strictly increasing")
        neg = [q for q in self.discharge if q < 0]
        if neg:
            raise ValueError(f"negative capacity {neg[0]:g} {self.discharge_unit}")
        if any(np.diff(self.discharge) < 0):
            raise ValueError("capacity decreases with rising level")
        return self

    def at(self, level_m):
        lv = np.asarray(self.level) * _f(self.level_unit, "elevation")
        q = np.asarray(self.discharge) * _f(self.discharge_unit, "discharge")
        return np.interp(level_m, lv, q)


class Reservoir(Strict):
    id: str = Field(pattern=r"^(KZ|RU):[A-Za-z0-9_-]+$")
    kind: Literal["reservoir"] = "reservoir"
    basin: str
    river: str
    country: Literal["KZ", "RU"]
    names: Names
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    coord_source: str = ""
    timezone: TimeZone
    storage_table: StorageTable
    npu: Elevation
    fpu: Elevation
    umo: Elevation
    outlet_capacity: OutletCapacity
    spillway_crest: Elevation | None = None
    min_release: Discharge
    max_ramp_per_day: Discharge
    local_catchment: Area | None = None
    balance_tolerance_percent: float = Field(default=1.0, gt=0)
    estimated: list[str] = Field(default_factory=list)
    source: str

    @model_validator(mode="after")
    def _levels(self) -> Reservoir:
        umo, npu, fpu = self.umo.to("elevation"), self.npu.to("elevation"), self.fpu.to("elevation")
        if not umo < npu <= fpu:
            raise ValueError(f"levels must satisfy УМО < НПУ <= ФПУ (got {umo:g}, {npu:g}, {fpu:g} m)")
        lv = self.storage_table.levels_m
        if umo < lv[0] or fpu > lv[-1]:
            raise ValueError(
                f"storage_table covers {lv[0]:g}..{lv[-1]:g} m but УМО..ФПУ is {umo:g}..{fpu:g} m"
            )
        if self.min_release.value < 0 or self.max_ramp_per_day.value <= 0:
            raise ValueError("min_release must be >= 0 and max_ramp_per_day > 0")
        return self

    @property
    def dead_volume_hm3(self) -> float:
        return float(self.storage_table.volume_at(self.umo.to("elevation")))

    @property
    def npu_volume_hm3(self) -> float:
        return float(self.storage_table.volume_at(self.npu.to("elevation")))

    @property
    def fpu_volume_hm3(self) -> float:
        return float(self.storage_table.volume_at(self.fpu.to("elevation")))


class Node(Strict):
    """A network node that is neither gauge nor reservoir."""

    id: str = Field(pattern=r"^[A-Za-z]+:[A-Za-z0-9_-]+$")
    kind: Literal["confluence", "border", "withdrawal", "outlet", "inflow"]
    basin: str
    names: Names
    country: Country | None = None
    from_country: Country | None = None
    to_country: Country | None = None
    lat: float | None = None
    lon: float | None = None
    local_catchment: Area | None = None
    withdrawal: Discharge | None = None
    environmental_min_flow: Discharge | None = None
    estimated: list[str] = Field(default_factory=list)
    source: str = ""

    @model_validator(mode="after")
    def _kind_fields(self) -> Node:
        if self.kind == "border" and not (self.from_country and self.to_country):
            raise ValueError("a border node needs from_country and to_country")
        if self.kind == "withdrawal" and self.withdrawal is None:
            raise ValueError("a withdrawal node needs 'withdrawal' (a discharge)")
        return self


class Routing(Strict):
    method: Literal["muskingum", "lag"]
    k: Duration | None = None
    x: float | None = Field(default=None, ge=0.0, le=0.5)
    lag: Duration | None = None

    @model_validator(mode="after")
    def _params(self) -> Routing:
        if self.method == "muskingum" and (self.k is None or self.x is None):
            raise ValueError("muskingum routing needs k (a duration) and x")
        if self.method == "lag" and self.lag is None:
            raise ValueError("lag routing needs lag (a duration)")
        if self.k is not None and self.k.value <= 0:
            raise ValueError("k must be positive")
        if self.lag is not None and self.lag.value < 0:
            raise ValueError("lag must not be negative")
        return self


class Reach(Strict):
    id: str
    upstream: str
    downstream: str
    length: Length | None = None
    routing: Routing
    estimated: list[str] = Field(default_factory=list)
    source: str = ""


class Basin(Strict):
    id: str
    names: Names
    rivers: list[str] = Field(min_length=1)
    outlet: str


class BasinsFile(Strict):
    basins: list[Basin] = Field(min_length=1)
    gauges: list[Gauge] = Field(default_factory=list)
    reservoirs: list[Reservoir] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    reaches: list[Reach] = Field(default_factory=list)


ThresholdLevel = Literal["adverse", "dangerous", "impact", "low_water_dangerous"]


class Threshold(Strict):
    """One warning level of one scheme at one gauge, with who set it and from when."""

    station: str
    scheme: Literal["kz_dangerous", "ru_nya_oya", "local_impact", "return_period", "percentile"]
    level: ThresholdLevel
    value: Stage
    set_by: str
    basis: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    in_force_by: dt.date | None = None
    status: Status
    confidence: Literal["high", "medium-high", "medium", "low-medium", "low", "none"]
    source: str
    note: str = ""
    return_period_years: float | None = None

    @model_validator(mode="after")
    def _period(self) -> Threshold:
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is not after valid_from {self.valid_from}")
        return self

    def valid_on(self, day: dt.date) -> bool:
        """Whether the level applies on ``day`` (an unknown start applies from the beginning)."""
        return ((self.valid_from is None or day >= self.valid_from)
                and (self.valid_to is None or day < self.valid_to))


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


# --------------------------------------------------------------------------- loading

def _f(unit: str, dim: str) -> float:
    from hydro.units import factor

    return factor(unit, dim)


def _check_unit(unit: str, dimension: str, key: str) -> None:
    from hydro.units import factor

    if not unit:
        raise ValueError(f"missing unit: '{key}' is empty")
    try:
        factor(unit, dimension)
    except UnitError as e:
        raise ValueError(f"{key}: {e}") from None


def read_toml(path: Path) -> dict:
    """Parse a TOML file; a missing or malformed file is a ConfigError naming it."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def _loc_to_key(raw: dict, loc: Iterable[Any]) -> str:
    """Render a pydantic error location, naming list items by their id where they have one."""
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int):
            ident = None
            if isinstance(node, list) and 0 <= item < len(node) and isinstance(node[item], dict):
                ident = (node[item].get("id") or node[item].get("station")
                         or node[item].get("name"))
            parts[-1] = f"{parts[-1]}[id={ident}]" if ident and parts else (
                f"{parts[-1]}[{item}]" if parts else f"[{item}]")
            node = node[item] if isinstance(node, list) and 0 <= item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def _validate(model: type[BaseModel], raw: dict, path: Path):
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            loc = [x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-"))]
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (misspelt?)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            lines.append(f"{path}: {_loc_to_key(raw, loc) or '<top>'}: {msg}")
        raise ConfigError("\n".join(lines)) from None


@dataclass(frozen=True)
class Network:
    """The validated basin network: nodes by id and reaches in topological order."""

    basins: dict[str, Basin]
    gauges: dict[str, Gauge]
    reservoirs: dict[str, Reservoir]
    nodes: dict[str, Node]
    reaches: list[Reach]
    order: tuple[str, ...]

    def node(self, node_id: str) -> Gauge | Reservoir | Node:
        for table in (self.gauges, self.reservoirs, self.nodes):
            if node_id in table:
                return table[node_id]
        raise KeyError(node_id)

    def all_ids(self) -> list[str]:
        return [*self.gauges, *self.reservoirs, *self.nodes]

    def upstream_reaches(self, node_id: str) -> list[Reach]:
        return [r for r in self.reaches if r.downstream == node_id]

    def downstream_reach(self, node_id: str) -> Reach | None:
        for r in self.reaches:
            if r.upstream == node_id:
                return r
        return None

    def basin_of(self, node_id: str) -> str:
        return self.node(node_id).basin

    def border_nodes(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "border"]


@dataclass(frozen=True)
class Config:
    """Everything in ``config/``, validated."""

    root: Path
    settings: SettingsFile
    network: Network
    thresholds: list[Threshold]
    sources: SourcesFile
    quality_parameters: dict[str, QualityParameter]

    def thresholds_for(self, station: str) -> list[Threshold]:
        return [t for t in self.thresholds if t.station == station]

    def layout(self, layout_id: str) -> AgencyLayout:
        for lay in self.sources.layouts:
            if lay.id == layout_id:
                return lay
        raise KeyError(layout_id)

    def source(self, source_id: str) -> Source:
        for s in self.sources.sources:
            if s.id == source_id:
                return s
        raise KeyError(source_id)

    @property
    def project_root(self) -> Path:
        return self.root.parent

    def resolve(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.project_root / p

    @property
    def store_url(self) -> str:
        url = os.environ.get("HYDRORISK_DB_URL") or self.settings.store.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url.removeprefix("sqlite:///")
            if rel and rel != ":memory:":
                url = "sqlite:///" + str(self.resolve(rel))
        return url


def build_network(raw: BasinsFile, path: Path) -> Network:
    """Cross-object checks: unique ids, known references, one outflow per node, no cycles."""
    seen: dict[str, str] = {}
    for section in ("gauges", "reservoirs", "nodes", "reaches", "basins"):
        for obj in getattr(raw, section):
            if obj.id in seen:
                raise ConfigError(
                    f"{path}: {section}[id={obj.id}].id: duplicate id '{obj.id}' "
                    f"(also used in {seen[obj.id]})"
                )
            seen[obj.id] = section
    basins = {b.id: b for b in raw.basins}
    gauges = {g.id: g for g in raw.gauges}
    reservoirs = {r.id: r for r in raw.reservoirs}
    nodes = {n.id: n for n in raw.nodes}
    node_ids = set(gauges) | set(reservoirs) | set(nodes)
    for section in ("gauges", "reservoirs", "nodes"):
        for obj in getattr(raw, section):
            if obj.basin not in basins:
                raise ConfigError(f"{path}: {section}[id={obj.id}].basin: unknown basin '{obj.basin}'")
            unknown = [f for f in obj.estimated if f not in type(obj).model_fields]
            if unknown:
                raise ConfigError(
                    f"{path}: {section}[id={obj.id}].estimated: names unknown field '{unknown[0]}'"
                )
    for b in raw.basins:
        if b.outlet not in node_ids:
            raise ConfigError(f"{path}: basins[id={b.id}].outlet: unknown node '{b.outlet}'")
    downstream_of: dict[str, str] = {}
    sorter: graphlib.TopologicalSorter = graphlib.TopologicalSorter()
    for nid in node_ids:
        sorter.add(nid)
    for r in raw.reaches:
        for end in ("upstream", "downstream"):
            ref = getattr(r, end)
            if ref not in node_ids:
                raise ConfigError(f"{path}: reaches[id={r.id}].{end}: unknown node '{ref}'")
        if r.upstream == r.downstream:
            raise ConfigError(f"{path}: reaches[id={r.id}]: a reach cannot join a node to itself")
        if r.upstream in downstream_of:
            raise ConfigError(
                f"{path}: reaches[id={r.id}].upstream: node '{r.upstream}' already drains "
                f"through reach '{downstream_of[r.upstream]}' (one downstream reach per node)"
            )
        downstream_of[r.upstream] = r.id
        sorter.add(r.downstream, r.upstream)
    try:
        order = tuple(sorter.static_order())
    except graphlib.CycleError as e:
        cycle = " -> ".join(e.args[1])
        raise ConfigError(f"{path}: reaches: the network has a cycle: {cycle}") from None
    return Network(basins, gauges, reservoirs, nodes, list(raw.reaches), order)


def default_config_dir() -> Path:
    env = os.environ.get("HYDRORISK_CONFIG")
    if env:
        return Path(env)
    here = Path.cwd() / "config"
    if (here / "basins.toml").exists():
        return here
    return Path(__file__).resolve().parent.parent / "config"


def load_config(config_dir: str | Path | None = None) -> Config:
    """Load and validate every file in the config folder; raise :class:`ConfigError`."""
    root = Path(config_dir) if config_dir is not None else default_config_dir()
    if not root.is_dir():
        raise ConfigError(f"{root}: config folder not found (set HYDRORISK_CONFIG or --config)")
    settings_path = root / "settings.toml"
    settings = (_validate(SettingsFile, read_toml(settings_path), settings_path)
                if settings_path.exists() else SettingsFile())
    basins_path = root / "basins.toml"
    basins_raw = _validate(BasinsFile, read_toml(basins_path), basins_path)
    network = build_network(basins_raw, basins_path)

    thr_path = root / "thresholds.toml"
    thr = _validate(ThresholdsFile, read_toml(thr_path), thr_path)
    gauge_ids = set(network.gauges) | set(network.reservoirs)
    for t in thr.thresholds:
        if t.station not in gauge_ids:
            raise ConfigError(
                f"{thr_path}: thresholds[station={t.station}].station: unknown station '{t.station}'"
            )
    src_path = root / "sources.toml"
    sources = _validate(SourcesFile, read_toml(src_path), src_path)
    layout_ids = [lay.id for lay in sources.layouts]
    if len(set(layout_ids)) != len(layout_ids):
        dup = next(x for x in layout_ids if layout_ids.count(x) > 1)
        raise ConfigError(f"{src_path}: layouts[id={dup}].id: duplicate id '{dup}'")
    source_ids = [s.id for s in sources.sources]
    if len(set(source_ids)) != len(source_ids):
        dup = next(x for x in source_ids if source_ids.count(x) > 1)
        raise ConfigError(f"{src_path}: sources[id={dup}].id: duplicate id '{dup}'")
    for s in sources.sources:
        if s.format == "agency_csv" and s.layout not in layout_ids:
            raise ConfigError(
                f"{src_path}: sources[id={s.id}].layout: unknown layout '{s.layout}' "
                f"(known: {', '.join(layout_ids) or 'none'})"
            )
    seen_qc: set[str] = set()
    for q in sources.qc.stations:
        where = f"{src_path}: qc.stations[station={q.station}].station"
        if q.station not in gauge_ids:
            raise ConfigError(f"{where}: unknown station '{q.station}'")
        if q.station in seen_qc:
            raise ConfigError(f"{where}: duplicate entry for '{q.station}'")
        seen_qc.add(q.station)
    qp_path = root / "quality" / "parameters.toml"
    qp = _validate(QualityParametersFile, read_toml(qp_path), qp_path)
    params: dict[str, QualityParameter] = {}
    for p in qp.parameters:
        if p.name in params:
            raise ConfigError(f"{qp_path}: parameters[id={p.name}].name: duplicate name '{p.name}'")
        params[p.name] = p
    return Config(root, settings, network, list(thr.thresholds), sources, params)
