"""Warning status of a gauge reading against the national warning levels.

Pure functions: no file, database or clock access.  Stages are in **cm above gauge zero**
("над нулём поста"), the unit both national services publish their levels in; reservoir
levels are in **m** (Baltic system).

Two national schemes sit side by side at a border gauge:

* Kazakhstan (Kazhydromet) publishes one *dangerous level* per post (ОУ, опасный уровень /
  қауіпті деңгей): scheme ``kz_dangerous``, level ``dangerous``.
* Russia (Roshydromet) publishes НЯ (неблагоприятное явление, *adverse*) and ОЯ (опасное
  явление, *dangerous*): scheme ``ru_nya_oya``, levels ``adverse`` and ``dangerous``; and at
  some posts a low-water ОЯ ("низкая межень"), level ``low_water_dangerous``.

A stage at or above a level has *reached* it (the bulletins' "cm remaining" is then zero
or negative).  Impact marks (scheme ``local_impact`` or level ``impact``: floodplain,
roads, houses) are reported with their margins but never set the category.

The thresholds are any objects with the attributes of :class:`hydro.config.Threshold`
(``scheme``, ``level``, ``value`` with ``.to("stage")``, ``status`` and ``valid_on(day)``).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import total_ordering
from typing import Protocol, TypeGuard

from hydro.units import convert

__all__ = [
    "WarningStatus",
    "LevelMargin",
    "StageClassification",
    "ReservoirClassification",
    "classify_stage",
    "classify_reservoir_level",
    "stage_change_per_day",
    "is_stale",
    "worst",
]

#: threshold levels that set the high-water category, least severe first
HIGH_WATER_LEVELS = ("adverse", "dangerous")
#: threshold level that sets the low-water category
LOW_WATER_LEVEL = "low_water_dangerous"
#: scheme whose marks are informative only
IMPACT_SCHEME = "local_impact"
#: level whose marks are informative only
IMPACT_LEVEL = "impact"
#: threshold status that is official; anything else makes a result provisional
PUBLISHED = "published"


class _Quantity(Protocol):
    def to(self, dimension: str) -> float: ...


class ThresholdLike(Protocol):
    """What :func:`classify_stage` needs of a threshold (see :class:`hydro.config.Threshold`)."""

    @property
    def scheme(self) -> str: ...

    @property
    def level(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def value(self) -> _Quantity: ...

    def valid_on(self, day: dt.date) -> bool: ...


_SEVERITY = {
    "no_data": 0,
    "not_assessed": 1,
    "normal": 2,
    "adverse": 3,
    "low_water_dangerous": 4,
    "dangerous": 5,
}


@total_ordering
class WarningStatus(Enum):
    """Warning category of a station, ordered by severity (``<`` compares severity).

    ``NO_DATA`` < ``NOT_ASSESSED`` < ``NORMAL`` < ``ADVERSE`` < ``LOW_WATER_DANGEROUS`` <
    ``DANGEROUS``.

    * ``NO_DATA``: no reading to classify.
    * ``NOT_ASSESSED``: a reading, but no warning level is in force at the gauge on that
      day, so the reading cannot be called normal.
    * ``NORMAL``: below every adverse/dangerous level and above every low-water level.
    * ``ADVERSE``: at or above an adverse level (RU НЯ), below every dangerous level.
    * ``LOW_WATER_DANGEROUS``: at or below a low-water dangerous level (RU ОЯ низкая
      межень).  It is a dangerous phenomenon, so it outranks ``ADVERSE``, but a flood
      ``DANGEROUS`` sorts first.
    * ``DANGEROUS``: at or above a dangerous level (KZ ОУ or RU ОЯ).
    """

    NO_DATA = "no_data"
    NOT_ASSESSED = "not_assessed"
    NORMAL = "normal"
    ADVERSE = "adverse"
    LOW_WATER_DANGEROUS = "low_water_dangerous"
    DANGEROUS = "dangerous"

    @property
    def severity(self) -> int:
        """Rank of the category: 0 (no data) .. 5 (dangerous)."""
        return _SEVERITY[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, WarningStatus):
            return NotImplemented
        return self.severity < other.severity


def worst(statuses: Iterable[WarningStatus]) -> WarningStatus:
    """The most severe of ``statuses`` (``NO_DATA`` for none)."""
    return max(statuses, default=WarningStatus.NO_DATA)


@dataclass(frozen=True)
class LevelMargin:
    """One warning level in force at a gauge and the stage's distance to it.

    Attributes
    ----------
    scheme, level, status : str
        As in the threshold (``kz_dangerous``/``ru_nya_oya``/...; ``adverse``/...;
        ``published``/``estimate``/``conflicting``/``synthetic``).
    value_cm : float
        The level, cm above gauge zero.
    remaining_cm : float or None
        For a high-water level ``value_cm - stage``; for a low-water level
        ``stage - value_cm`` (how far the stage may fall before reaching it).  Zero or
        negative once reached; ``None`` without a stage.
    reached : bool
        The stage is at or beyond the level (``remaining_cm <= 0``).
    sets_category : bool
        False for impact marks, which are reported but do not set the category.
    threshold : object
        The threshold object itself (set_by, source, note ...).
    """

    scheme: str
    level: str
    value_cm: float
    status: str
    remaining_cm: float | None
    reached: bool
    sets_category: bool
    threshold: object

    @property
    def provisional(self) -> bool:
        """The level is not an official published value (estimate, conflicting, synthetic)."""
        return self.status != PUBLISHED

    @property
    def low_water(self) -> bool:
        return self.level == LOW_WATER_LEVEL


@dataclass(frozen=True)
class StageClassification:
    """Result of :func:`classify_stage`.

    Attributes
    ----------
    status : WarningStatus
        The category.
    stage_cm : float or None
        The stage classified, cm above gauge zero.
    day : datetime.date
        The day whose levels were applied.
    exceeded : LevelMargin or None
        The level that sets the category: the highest reached level of the category (for
        low water, the lowest reached low-water level); ``None`` when none is reached.
    reference : LevelMargin or None
        The level the stage is compared against in a bulletin: the next adverse or
        dangerous level above the stage, or — once all are reached — the highest of them;
        in low water, the low-water level reached.
    next_above : LevelMargin or None
        The next level above the stage, impact marks included.
    margins : tuple of LevelMargin
        Every level in force on ``day``, ordered by value.
    ice_affected : bool
        The stage was read under ice cover, frazil or behind an ice jam: it is categorised,
        but is not comparable with open-water levels.
    provisional : bool
        A level that sets the category is an estimate, conflicting or synthetic, so the
        category is not an official one.
    """

    status: WarningStatus
    stage_cm: float | None
    day: dt.date
    exceeded: LevelMargin | None
    reference: LevelMargin | None
    next_above: LevelMargin | None
    margins: tuple[LevelMargin, ...]
    ice_affected: bool
    provisional: bool

    def remaining_to(self, level: str, scheme: str | None = None) -> float | None:
        """Cm remaining to ``level`` (of ``scheme``, if given): the smallest margin among the
        matching levels, i.e. the one reached first; ``None`` if there is none or no stage."""
        values = [m.remaining_cm for m in self.margins
                  if m.level == level and (scheme is None or m.scheme == scheme)
                  and m.remaining_cm is not None]
        return min(values) if values else None

    @property
    def impacts_reached(self) -> tuple[LevelMargin, ...]:
        """Impact marks (floodplain, roads, houses) at or below the stage."""
        return tuple(m for m in self.margins if not m.sets_category and m.reached)


def _finite(x: float | None) -> TypeGuard[float]:
    """A number that is not NaN."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def classify_stage(stage_cm: float | None, thresholds: Iterable[ThresholdLike], day: dt.date,
                   ice: bool = False) -> StageClassification:
    """Classify a stage against the warning levels in force at a gauge on a day.

    Parameters
    ----------
    stage_cm : float or None
        Stage in cm above gauge zero; ``None`` or NaN gives ``NO_DATA``.
    thresholds : iterable of Threshold
        The gauge's warning levels, any scheme; levels not valid on ``day``
        (``threshold.valid_on(day)`` false) are ignored.
    day : datetime.date
        Local date of the reading; selects the levels in force.
    ice : bool, default False
        The reading is ice-affected (QC ICE flag, or ice cover/jam/frazil reported).

    Returns
    -------
    StageClassification

    Notes
    -----
    A level is reached when the stage is at or above it (low water: at or below it), as
    in the bulletins, where "cm remaining" = level − stage is zero or negative once the
    level is reached.  The category is the most severe reached: a dangerous level of any
    scheme (KZ ОУ, RU ОЯ) gives ``DANGEROUS``, an adverse level (RU НЯ) ``ADVERSE``, a
    low-water dangerous level ``LOW_WATER_DANGEROUS``; below all of them ``NORMAL``; with
    no level in force ``NOT_ASSESSED``.  High water takes precedence over low water should
    inconsistent levels make both reached.  Impact marks (scheme ``local_impact`` or level
    ``impact``) never set the category.  Any category-setting level whose status is not
    ``published`` makes the result provisional.
    """
    valid = [t for t in thresholds if t.valid_on(day)]
    stage = float(stage_cm) if _finite(stage_cm) else None

    margins: list[LevelMargin] = []
    for t in valid:
        value = float(t.value.to("stage"))
        sets = t.scheme != IMPACT_SCHEME and t.level != IMPACT_LEVEL
        if stage is None:
            remaining = None
        elif t.level == LOW_WATER_LEVEL:
            remaining = stage - value
        else:
            remaining = value - stage
        margins.append(LevelMargin(
            scheme=t.scheme, level=t.level, value_cm=value, status=t.status,
            remaining_cm=remaining, reached=remaining is not None and remaining <= 0,
            sets_category=sets, threshold=t))
    # by value; a published level before a provisional one of the same value
    margins.sort(key=lambda m: (m.value_cm, m.provisional, m.scheme, m.level))
    deciding = [m for m in margins if m.sets_category]
    provisional = any(m.provisional for m in deciding)
    high = [m for m in deciding if m.level in HIGH_WATER_LEVELS]
    low = [m for m in deciding if m.level == LOW_WATER_LEVEL]
    upward = [m for m in margins if m.level != LOW_WATER_LEVEL]

    if stage is None:
        return StageClassification(WarningStatus.NO_DATA, None, day, None, None, None,
                                   tuple(margins), False, provisional)

    exceeded: LevelMargin | None = None
    reference: LevelMargin | None = None
    if not deciding:
        status = WarningStatus.NOT_ASSESSED
    else:
        for level in reversed(HIGH_WATER_LEVELS):  # dangerous first
            reached = [m for m in high if m.level == level and m.reached]
            if reached:
                exceeded = max(reached, key=lambda m: (m.value_cm, not m.provisional))
                break
        if exceeded is not None:
            status = WarningStatus(exceeded.level)
        else:
            low_reached = [m for m in low if m.reached]
            if low_reached:
                exceeded = low_reached[0]  # the lowest low-water level reached
                status = WarningStatus.LOW_WATER_DANGEROUS
            else:
                status = WarningStatus.NORMAL
        if status is WarningStatus.LOW_WATER_DANGEROUS:
            reference = exceeded
        else:
            ahead = [m for m in high if not m.reached]
            reference = ahead[0] if ahead else (high[-1] if high else None)
            if reference is None and low:  # only low-water levels at this gauge
                reference = low[-1]
    next_above = next((m for m in upward if not m.reached), None)
    return StageClassification(status, stage, day, exceeded, reference, next_above,
                               tuple(margins), bool(ice), provisional)


@dataclass(frozen=True)
class ReservoirClassification:
    """Result of :func:`classify_reservoir_level`.

    Attributes
    ----------
    status : WarningStatus
        ``DANGEROUS`` at or above ФПУ, ``ADVERSE`` above НПУ (forced storage in use),
        ``NORMAL`` at or below НПУ, ``NO_DATA`` without a level.
    level_m : float or None
        Water level, m (Baltic system).
    to_npu_m, to_fpu_m : float or None
        НПУ − level and ФПУ − level, m (negative once exceeded).
    provisional : bool
        НПУ or ФПУ is an estimate.
    """

    status: WarningStatus
    level_m: float | None
    to_npu_m: float | None
    to_fpu_m: float | None
    provisional: bool


def classify_reservoir_level(level_m: float | None, npu_m: float, fpu_m: float,
                             provisional: bool = False) -> ReservoirClassification:
    """Classify a reservoir water level against its normal and forced retaining levels.

    Parameters
    ----------
    level_m : float or None
        Water level, m (Baltic system); ``None`` or NaN gives ``NO_DATA``.
    npu_m : float
        Normal retaining level (НПУ), m.
    fpu_m : float
        Forced retaining level (ФПУ), m; ``fpu_m >= npu_m``.
    provisional : bool, default False
        Pass True when НПУ or ФПУ is an estimate; it is carried to the result.

    Returns
    -------
    ReservoirClassification

    Notes
    -----
    Above НПУ the reservoir is using its flood-control (forced) storage, which the
    operator must report; at ФПУ the forced storage is exhausted and the dam's design
    limit is reached.  Filling up to НПУ exactly is normal operation.
    """
    if fpu_m < npu_m:
        raise ValueError(f"ФПУ {fpu_m:g} m is below НПУ {npu_m:g} m; expected НПУ <= ФПУ")
    if not _finite(level_m):
        return ReservoirClassification(WarningStatus.NO_DATA, None, None, None, provisional)
    level = float(level_m)
    if level >= fpu_m:
        status = WarningStatus.DANGEROUS
    elif level > npu_m:
        status = WarningStatus.ADVERSE
    else:
        status = WarningStatus.NORMAL
    return ReservoirClassification(status, level, npu_m - level, fpu_m - level, provisional)


def stage_change_per_day(prev_cm: float | None, cur_cm: float | None, hours: float) -> float | None:
    """Rate of change of stage between two readings, cm/day (negative when falling).

    Parameters
    ----------
    prev_cm, cur_cm : float or None
        Earlier and later stage, cm above gauge zero.
    hours : float
        Time between the two readings, h; must be positive.

    Returns
    -------
    float or None
        ``(cur_cm - prev_cm) / hours`` expressed per day; ``None`` if either stage is
        missing.  For two readings 24 h apart it is the bulletins' "change over 24 h".
    """
    if not (isinstance(hours, numbers.Real) and math.isfinite(hours)) or hours <= 0:
        raise ValueError(f"hours between readings must be a positive number, got {hours!r}")
    if not (_finite(prev_cm) and _finite(cur_cm)):
        return None
    days = convert(float(hours), "h", "duration")
    return (float(cur_cm) - float(prev_cm)) / days


def is_stale(last_time: dt.datetime | None, reference_time: dt.datetime,
             stale_after_days: float) -> bool:
    """True when the last value is older than ``stale_after_days`` at ``reference_time``.

    Parameters
    ----------
    last_time : datetime or None
        Time of the station's last value (``None``: never reported, so stale).
    reference_time : datetime
        The moment the age is measured at (same time zone convention as ``last_time``).
    stale_after_days : float
        Age in days beyond which a station is *silent*; must be positive.
    """
    if stale_after_days <= 0:
        raise ValueError(f"stale_after_days must be positive, got {stale_after_days!r}")
    if last_time is None:
        return True
    age_days = (reference_time - last_time) / dt.timedelta(days=1)
    return age_days > stale_after_days
