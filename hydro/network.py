"""The domain model that science takes as input: basins, gauges, reservoirs, reaches,
ratings and warning thresholds, and the validated :class:`Network` that joins them.

No file parsing happens here: :mod:`hydro.config` reads ``config/basins.toml`` and
``config/thresholds.toml`` and builds these objects; tests and notebooks may build them
directly.  Each object checks its own invariants (a storage table strictly increasing,
УМО < НПУ <= ФПУ, a Muskingum reach with K and X) when it is constructed; a violation is
a pydantic ``ValidationError`` or a :class:`~hydro.errors.ConfigError`.

Units: stage in cm above gauge zero, elevation in m (Baltic system), discharge m³/s,
volume hm³, area km² (:mod:`hydro.units` converts each quantity once, at its boundary).
"""

from __future__ import annotations

import datetime as dt
import graphlib
import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hydro.errors import ConfigError, UnitError
from hydro.units import Quantity, factor, parse_quantity

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
Temperature = Annotated[Quantity, quantity_type("temperature")]


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
    quick_flow_time: Duration | None = None   # the snowmelt model's k_quick for the local
    # catchment where the area rule does not fit (e.g. short mountain rivers), d
    temperature_offset: Temperature | None = None   # the snowmelt model's air-temperature
    # shift for the local catchment against its basin's forcing, beyond the latitude rule
    # (e.g. mountain headwaters higher than the basin's reference point), °C
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
    climate_lat: float | None = Field(default=None, ge=-90, le=90)   # the latitude the
    # synthetic world and the scenario model take for the local catchment's temperature
    # (default: lat); see climate_latitude
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
    quick_flow_time: Duration | None = None   # the snowmelt model's k_quick for the local
    # catchment where the area rule does not fit (e.g. short mountain rivers), d
    temperature_offset: Temperature | None = None   # the snowmelt model's air-temperature
    # shift for the local catchment against its basin's forcing, beyond the latitude rule
    # (e.g. mountain headwaters higher than the basin's reference point), °C
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
    quick_flow_time: Duration | None = None   # the snowmelt model's k_quick for the local
    # catchment where the area rule does not fit (e.g. short mountain rivers), d
    temperature_offset: Temperature | None = None   # the snowmelt model's air-temperature
    # shift for the local catchment against its basin's forcing, beyond the latitude rule
    # (e.g. mountain headwaters higher than the basin's reference point), °C
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



def _f(unit: str, dim: str) -> float:
    return factor(unit, dim)


def _check_unit(unit: str, dimension: str, key: str) -> None:
    if not unit:
        raise ValueError(f"missing unit: '{key}' is empty")
    try:
        factor(unit, dimension)
    except UnitError as e:
        raise ValueError(f"{key}: {e}") from None


def climate_latitude(node: object) -> float | None:
    """The latitude (°N) that sets a node's local-catchment temperature in the synthetic
    world and the scenario model: its ``climate_lat`` where set, else its ``lat`` (None:
    no latitude shift).  ``climate_lat`` keeps the calibrated climate of reservoirs whose
    map coordinates were added after the calibration (config/basins.toml)."""
    lat = getattr(node, "climate_lat", None)
    return lat if lat is not None else getattr(node, "lat", None)


#: prefix of the station ids of basin-mean series (:meth:`Network.basin_station`)
BASIN_STATION_PREFIX = "BASIN:"
#: time zone of basin-mean series: daily values of gridded products (ERA5-Land) are UTC days
BASIN_STATION_TIMEZONE = "UTC"


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

    def basin_station(self, basin_id: str) -> str:
        """The store's station id of ``basin_id``'s basin-mean series (snow water
        equivalent, soil moisture, frost depth, precipitation: the winter predictors of the
        seasonal outlook), e.g. ``BASIN:ural``."""
        if basin_id not in self.basins:
            raise KeyError(basin_id)
        return f"{BASIN_STATION_PREFIX}{basin_id}"

    def basin_of_station(self, station_id: str) -> str | None:
        """The basin whose basin-mean series ``station_id`` names (None for a node)."""
        if station_id.startswith(BASIN_STATION_PREFIX):
            basin = station_id[len(BASIN_STATION_PREFIX):]
            return basin if basin in self.basins else None
        return None



def build_network(raw: Any, path: object = "network") -> Network:
    """Join basins, gauges, reservoirs, nodes and reaches into a :class:`Network`.

    ``raw`` has the lists ``basins``, ``gauges``, ``reservoirs``, ``nodes`` and ``reaches``
    (a validated ``basins.toml``, or any object with those attributes); ``path`` names
    where they came from in error messages.  Cross-object checks: unique ids, known
    references, one downstream reach per node, no cycles (:class:`ConfigError`)."""
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

