"""Units: the one place where conversion factors live.

Every quantity crossing a module boundary is in a *canonical unit* of its dimension:

============  ==========  ===========================================
dimension     canonical   accepted aliases (converted once, here)
============  ==========  ===========================================
stage         cm          mm, m (above gauge zero)
elevation     m           cm (Baltic height system)
discharge     m3/s        l/s, m3/d, hm3/d
volume        hm3         m3, km3, mln m3 (= hm3)
area          km2         m2, ha
length        km          m
duration      d           h, s, min
depth         mm          cm, m (snow water equivalent, runoff)
concentration mg/l        mg/dm3, ug/l, g/m3
============  ==========  ===========================================

Science code asks for a canonical unit and calls :func:`convert` at its top; no bare
factor such as ``86.4`` appears anywhere else.  (After xclim's ``core/units.py``.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from hydro.errors import UnitError

SECONDS_PER_DAY: Final = 86_400.0
M3_PER_HM3: Final = 1.0e6

#: dimension -> canonical unit
CANONICAL: Final[dict[str, str]] = {
    "stage": "cm",
    "elevation": "m",
    "discharge": "m3/s",
    "volume": "hm3",
    "area": "km2",
    "length": "km",
    "duration": "d",
    "depth": "mm",
    "concentration": "mg/l",
    "dimensionless": "1",
    "temperature": "degC",
    "ph": "pH",
    "soil_depth": "cm",
}

#: the dimension of each variable the store holds (observations.variable)
VARIABLE_DIMENSION: Final[dict[str, str]] = {
    "stage": "stage",
    "discharge": "discharge",
    "level": "elevation",
    "volume": "volume",
    "inflow": "discharge",
    "outflow": "discharge",
    "spill": "discharge",
    "evaporation": "discharge",
    # meteorological forcing of the scenario engine (daily; see hydro.services.forcing)
    "air_temperature": "temperature",   # daily mean air temperature, degC
    "precipitation": "depth",           # daily total precipitation, mm
    # winter predictors of the seasonal outlook (daily basin means; see hydro.services.outlook)
    "snow_water_equivalent": "depth",   # snow water equivalent on the ground, mm
    "soil_moisture": "dimensionless",   # volumetric soil water of the top layer, m3 m-3
    "frost_depth": "soil_depth",        # depth of frozen soil, cm below the surface
}

# unit -> (dimension, factor to canonical).  Aliases are lower-cased and stripped.
_UNITS: Final[dict[str, tuple[str, float]]] = {
    # stage (height above gauge zero)
    "cm": ("stage", 1.0),
    "mm_stage": ("stage", 0.1),
    # elevation
    "m": ("elevation", 1.0),
    "m bs": ("elevation", 1.0),
    "m_bs": ("elevation", 1.0),
    # discharge
    "m3/s": ("discharge", 1.0),
    "m³/s": ("discharge", 1.0),
    "l/s": ("discharge", 1.0e-3),
    "m3/d": ("discharge", 1.0 / SECONDS_PER_DAY),
    "hm3/d": ("discharge", M3_PER_HM3 / SECONDS_PER_DAY),
    # volume
    "hm3": ("volume", 1.0),
    "mln m3": ("volume", 1.0),
    "million m3": ("volume", 1.0),
    "m3": ("volume", 1.0 / M3_PER_HM3),
    "km3": ("volume", 1000.0),
    # area
    "km2": ("area", 1.0),
    "km²": ("area", 1.0),
    "m2": ("area", 1.0e-6),
    "ha": ("area", 1.0e-2),
    # length
    "km": ("length", 1.0),
    # duration
    "d": ("duration", 1.0),
    "day": ("duration", 1.0),
    "days": ("duration", 1.0),
    "h": ("duration", 1.0 / 24.0),
    "min": ("duration", 1.0 / 1440.0),
    "s": ("duration", 1.0 / SECONDS_PER_DAY),
    # depth of water (snow water equivalent, runoff)
    "mm": ("depth", 1.0),
    # concentration
    "mg/l": ("concentration", 1.0),
    "mg/dm3": ("concentration", 1.0),
    "g/m3": ("concentration", 1.0),
    "ug/l": ("concentration", 1.0e-3),
    "µg/l": ("concentration", 1.0e-3),
    "mgo2/l": ("concentration", 1.0),
    "mgo/l": ("concentration", 1.0),
    "mgo2/dm3": ("concentration", 1.0),
    "mgo/dm3": ("concentration", 1.0),
    "1": ("dimensionless", 1.0),
    "degc": ("temperature", 1.0),
    "ph": ("ph", 1.0),
}

# Units that are ambiguous between dimensions; the caller names the dimension.
_AMBIGUOUS: Final[dict[tuple[str, str], float]] = {
    ("m", "stage"): 100.0,  # m above gauge zero -> cm
    ("mm", "stage"): 0.1,
    ("cm", "elevation"): 0.01,
    ("m", "length"): 1.0e-3,
    ("cm", "depth"): 10.0,
    ("m", "depth"): 1000.0,
    ("cm", "soil_depth"): 1.0,
    ("mm", "soil_depth"): 0.1,
    ("m", "soil_depth"): 100.0,
}


def _key(unit: str) -> str:
    return unit.strip().lower().replace("³", "3").replace("²", "2")


def dimension_of(unit: str) -> str:
    """Return the dimension a unit belongs to (``"m"`` reads as elevation)."""
    try:
        return _UNITS[_key(unit)][0]
    except KeyError:
        raise UnitError(f"unknown unit '{unit}'; known units: {', '.join(sorted(_UNITS))}") from None


def factor(unit: str, dimension: str) -> float:
    """Factor that converts a value in ``unit`` to the canonical unit of ``dimension``."""
    if dimension not in CANONICAL:
        raise UnitError(f"unknown dimension '{dimension}'")
    k = _key(unit)
    if (k, dimension) in _AMBIGUOUS:
        return _AMBIGUOUS[(k, dimension)]
    if k not in _UNITS:
        raise UnitError(f"unknown unit '{unit}' for {dimension} (expected {CANONICAL[dimension]})")
    dim, f = _UNITS[k]
    if dim != dimension:
        raise UnitError(
            f"unit '{unit}' is a unit of {dim}, not of {dimension} "
            f"(expected something convertible to {CANONICAL[dimension]})"
        )
    return f


def convert(value, unit: str, dimension: str):
    """Convert ``value`` (scalar or array) from ``unit`` to the canonical unit of ``dimension``."""
    return value * factor(unit, dimension)


def convert_to(value, unit: str, target: str, dimension: str):
    """Convert ``value`` from ``unit`` to ``target``, both units of ``dimension``."""
    return value * factor(unit, dimension) / factor(target, dimension)


def discharge_to_volume(discharge_m3s, days: float = 1.0):
    """Volume in hm³ passed by a discharge in m³/s sustained for ``days`` days."""
    return discharge_m3s * SECONDS_PER_DAY * days / M3_PER_HM3


def volume_to_discharge(volume_hm3, days: float = 1.0):
    """Mean discharge in m³/s that passes ``volume_hm3`` hm³ in ``days`` days."""
    return volume_hm3 * M3_PER_HM3 / (SECONDS_PER_DAY * days)


def runoff_depth_to_discharge(depth_mm, area_km2):
    """Discharge in m³/s from a runoff depth in mm/day over ``area_km2`` km²."""
    # 1 mm over 1 km² = 1000 m³
    return depth_mm * 1000.0 * area_km2 / SECONDS_PER_DAY


_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*?)?\s*$")


@dataclass(frozen=True)
class Quantity:
    """A number with a unit, as written in config files (``"245.0 m"``)."""

    value: float
    unit: str

    def to(self, dimension: str) -> float:
        """Value in the canonical unit of ``dimension``."""
        return float(convert(self.value, self.unit, dimension))

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


def parse_quantity(text: object, dimension: str) -> Quantity:
    """Parse ``"<number> <unit>"``; a bare number is rejected as *missing unit*."""
    if isinstance(text, bool):
        raise UnitError(f"expected '<number> <unit>', got {text!r}")
    if isinstance(text, (int, float)):
        raise UnitError(
            f"missing unit: got the bare number {text!r}; write it as "
            f"\"{text} {CANONICAL[dimension]}\""
        )
    if not isinstance(text, str):
        raise UnitError(f"expected '<number> <unit>', got {text!r}")
    m = _QUANTITY.match(text)
    if not m:
        raise UnitError(f"cannot read quantity {text!r}; expected '<number> <unit>'")
    number, unit = m.group(1), m.group(2)
    if not unit:
        raise UnitError(
            f"missing unit in {text!r}; write it as \"{number} {CANONICAL[dimension]}\""
        )
    factor(unit, dimension)  # validates the unit against the dimension
    return Quantity(float(number), unit)
