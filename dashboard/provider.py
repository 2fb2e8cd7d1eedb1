"""The data-provider interface between the dashboard and the data.

Pages ask a :class:`DataProvider` for plain values and never see SQL or files.
:class:`StoreProvider` reads the store through :mod:`hydro.store.api`;
:class:`InMemoryProvider` serves readings held in memory (tests, previews).
:func:`make_provider` chooses the implementation.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol, cast

from dashboard.status import (
    CHANGE_MAX_GAP,
    GAUGE_VARIABLES,
    RESERVOIR_VARIABLES,
    Reading,
    StationReport,
    build_report,
    date_of_last_data,
    day_end_utc,
    network_timezones,
)
from hydro.config import Config
from hydro.errors import UnitError
from hydro.services import observations as api
from hydro.services.context import Store as Engine
from hydro.units import VARIABLE_DIMENSION, convert

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)



class SeriesPoint(NamedTuple):
    """One value of a station's series: naive UTC time, canonical unit (see :class:`Reading`)."""

    time: dt.datetime
    value: float
    party: str
    qc_flags: int = 0


class DataProvider(ABC):
    """What the pages may ask of the data.  Subclasses implement the three abstract methods.

    Parameters
    ----------
    config : Config
        The deployment configuration (network, warning levels, dashboard settings).
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._timezones = network_timezones(config.network)

    # ---------------------------------------------------------------- to implement
    @abstractmethod
    def data_period(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """First and last observation time in the data (naive UTC); ``(None, None)`` if empty."""

    @abstractmethod
    def latest_readings(self, cutoff: dt.datetime,
                        variables: tuple[str, ...] = GAUGE_VARIABLES + RESERVOIR_VARIABLES
                        ) -> list[Reading]:
        """The last reading of each (station, variable, party) strictly before ``cutoff``
        (naive UTC), values in canonical units; stage readings carry the reading before
        them when it is at most :data:`~dashboard.status.CHANGE_MAX_GAP` older."""

    @abstractmethod
    def is_synthetic(self) -> bool:
        """True when any data came from the bundled synthetic demonstration files."""

    def series(self, station_id: str, variable: str, start: dt.datetime,
               end: dt.datetime) -> list[SeriesPoint]:
        """Current values of one station's ``variable`` with ``start <= time < end`` (naive
        UTC), in the canonical unit, sorted by time then party.  Empty by default."""
        return []

    # ---------------------------------------------------------------- derived
    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        """First and last as-of day that has data."""
        first, last = self.data_period()
        return (date_of_last_data(first, self._timezones),
                date_of_last_data(last, self._timezones))

    def latest_date(self) -> dt.date | None:
        """The as-of day of the newest observation (the page's default date)."""
        return self.date_range()[1]

    def station_report(self, as_of: dt.date, now: dt.datetime | None = None) -> StationReport:
        """Every gauge and reservoir with its latest values and warning status on ``as_of``.

        ``now`` (naive UTC) caps the moment silence is measured at, so that on the current
        day a station is not judged at the end of a day that has not ended.
        """
        cutoff = day_end_utc(as_of, self._timezones)
        reference = min(cutoff, now) if now is not None else cutoff
        readings = self.latest_readings(cutoff)
        return build_report(self.config, readings, as_of, cutoff, reference)


class StoreProvider(DataProvider):
    """Reads the relational store through :mod:`hydro.store.api`."""

    def __init__(self, config: Config, engine: Engine) -> None:
        super().__init__(config)
        self.engine = engine
        self._synthetic = False  # sticky: nothing is ever deleted from the store

    def data_period(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        first, last = api.data_period(self.engine)
        return _py(first), _py(last)

    def latest_readings(self, cutoff: dt.datetime,
                        variables: tuple[str, ...] = GAUGE_VARIABLES + RESERVOIR_VARIABLES
                        ) -> list[Reading]:
        at = cutoff - dt.timedelta(microseconds=1)
        frame = api.latest(self.engine, variables=variables, at=at)
        stage_keys = [(r.station_id, r.party, r.time) for r in _rows(frame)
                      if r.variable == "stage"]
        before = api.previous_values(self.engine, stage_keys, "stage", CHANGE_MAX_GAP)
        previous = {(r.station_id, r.party): r for r in _previous_rows(before)}
        readings = []
        for row in _rows(frame):
            value = _canonical(row.value, row.unit, row.variable, row.station_id)
            time = _py(row.time)
            if time is None:  # not possible for a stored observation; skip defensively
                continue
            previous_value = previous_time = None
            last = previous.get((row.station_id, row.party)) if row.variable == "stage" else None
            if last is not None:
                previous_value = _canonical(last.value, last.unit, "stage", row.station_id)
                previous_time = _py(last.time)
            readings.append(Reading(
                station_id=row.station_id, variable=row.variable, party=row.party, time=time,
                value=value, qc_flags=int(row.qc_flags or 0),
                phenomena=row.phenomena if isinstance(row.phenomena, str) else None,
                source=row.source, previous_value=previous_value,
                previous_time=previous_time))
        return readings

    def series(self, station_id: str, variable: str, start: dt.datetime,
               end: dt.datetime) -> list[SeriesPoint]:
        frame = api.series(self.engine, station_id, variable, start, end)
        out = []
        for row in cast("Iterable[_SeriesRow]", frame.itertuples(index=False)):
            time = _py(row.time)
            value = _canonical(row.value, str(row.unit), variable, station_id)
            if time is None or value is None or time >= end:
                continue
            out.append(SeriesPoint(time, value, str(row.party), int(row.qc_flags or 0)))
        return sorted(out, key=lambda p: (p.time, p.party))

    def is_synthetic(self) -> bool:
        if self._synthetic:
            return True
        bundled = self.config.settings.paths.bundled
        fragments = {_norm(bundled), _norm(str(self.config.resolve(bundled)))}
        # paths are stored as given (relative or absolute, either slash): try both forms
        candidates = sorted(fragments | {f.replace("/", "\\") for f in fragments})
        self._synthetic = api.ingested_from(self.engine, candidates)
        return self._synthetic


class InMemoryProvider(DataProvider):
    """Serves readings held in memory; ``latest_readings`` honours the cut-off."""

    def __init__(self, config: Config, readings: Iterable[Reading] = (),
                 synthetic: bool = False) -> None:
        super().__init__(config)
        self.readings = list(readings)
        self.synthetic = synthetic

    def data_period(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        times = [r.time for r in self.readings]
        return (min(times), max(times)) if times else (None, None)

    def latest_readings(self, cutoff: dt.datetime,
                        variables: tuple[str, ...] = GAUGE_VARIABLES + RESERVOIR_VARIABLES
                        ) -> list[Reading]:
        last: dict[tuple[str, str, str], Reading] = {}
        for r in self.readings:
            if r.variable in variables and r.time < cutoff:
                key = (r.station_id, r.variable, r.party)
                if key not in last or r.time > last[key].time:
                    last[key] = r
        return list(last.values())

    def series(self, station_id: str, variable: str, start: dt.datetime,
               end: dt.datetime) -> list[SeriesPoint]:
        return sorted((SeriesPoint(r.time, r.value, r.party, r.qc_flags) for r in self.readings
                       if r.station_id == station_id and r.variable == variable
                       and start <= r.time < end and r.value is not None),
                      key=lambda p: (p.time, p.party))

    def is_synthetic(self) -> bool:
        return self.synthetic


def make_provider(config: Config, engine: Engine | None = None) -> DataProvider:
    """The provider for a deployment: the store at ``config.store_url`` (or ``engine``)."""
    if engine is None:
        from hydro.services.context import open_store

        engine = open_store(config)
    return StoreProvider(config, engine)


# --------------------------------------------------------------------------- helpers

class _PreviousRow(Protocol):
    """A row (``itertuples``) of :func:`hydro.services.observations.previous_values`."""

    station_id: str
    party: str
    time: dt.datetime  # a pandas Timestamp
    value: float | None
    unit: str


class _SeriesRow(Protocol):
    """A row (``itertuples``) of :func:`hydro.services.observations.series`."""

    time: dt.datetime  # a pandas Timestamp
    value: float | None
    unit: str
    party: str
    qc_flags: int | None


class _LatestRow(_PreviousRow, Protocol):
    """A row (``itertuples``) of :func:`hydro.services.observations.latest`."""

    variable: str
    qc_flags: int | None
    phenomena: str | float | None  # None or NaN: no phenomenon
    source: str


# pandas-stubs type every field of an itertuples row as any scalar; the columns and their
# types are the ones these observations functions document (the casts say so).
def _rows(frame: pd.DataFrame) -> Iterable[_LatestRow]:
    return cast("Iterable[_LatestRow]", frame.itertuples(index=False))


def _previous_rows(frame: pd.DataFrame) -> Iterable[_PreviousRow]:
    return cast("Iterable[_PreviousRow]", frame.itertuples(index=False))


def _py(value) -> dt.datetime | None:
    """pandas Timestamp / datetime / None -> naive datetime or None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):
        try:
            return value.to_pydatetime()
        except ValueError:  # NaT
            return None
    return value


def _canonical(value, unit: str, variable: str, station_id: str) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    dimension = VARIABLE_DIMENSION.get(variable)
    if dimension is None:
        return float(value)
    try:
        return float(convert(float(value), unit, dimension))
    except UnitError as e:
        log.warning("%s %s: value dropped: %s", station_id, variable, e)
        return None


def _norm(path: str) -> str:
    return str(Path(path).as_posix()).replace("\\", "/").rstrip("/")
