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
from hydro.services import cache
from hydro.services import observations as api
from hydro.services import station_view
from hydro.services.station_view import GaugeView, ReservoirView
from hydro.services.context import Store as Engine
from hydro.units import VARIABLE_DIMENSION, convert
from hydro.warning import is_stale

if TYPE_CHECKING:
    import pandas as pd

    from hydro.services.alerts import AlertRecord
    from hydro.services.commission import CommissionData
    from hydro.services.uploads import UploadResult

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
                        variables: tuple[str, ...] = GAUGE_VARIABLES + RESERVOIR_VARIABLES,
                        received_by: dt.datetime | None = None) -> list[Reading]:
        """The last reading of each (station, variable, party) strictly before ``cutoff``
        (naive UTC), values in canonical units; stage readings carry the reading before
        them when it is at most :data:`~dashboard.status.CHANGE_MAX_GAP` older.  With
        ``received_by`` (naive UTC), only what had been received by then (as-of replay)."""

    @abstractmethod
    def is_synthetic(self) -> bool:
        """True when any data came from the bundled synthetic demonstration files."""

    def series(self, station_id: str, variable: str, start: dt.datetime,
               end: dt.datetime) -> list[SeriesPoint]:
        """Current values of one station's ``variable`` with ``start <= time < end`` (naive
        UTC), in the canonical unit, sorted by time then party.  Empty by default."""
        return []

    def station_view(self, station_id: str, start: dt.datetime, end: dt.datetime,
                     as_of: dt.date, known_at: dt.datetime | None = None
                     ) -> GaugeView | ReservoirView | None:
        """Everything the station page shows (:mod:`hydro.services.station_view`): a gauge's
        or a reservoir's view of ``start <= time < end`` (naive UTC) as known at
        ``known_at``; None when the provider has no store (the page then draws
        :meth:`series` only)."""
        return None

    # ---------------------------------------------------------------- bulletin, data status
    def bulletin(self, day: dt.date, as_of: dt.datetime | None = None) -> pd.DataFrame | None:
        """The daily bulletin of ``day`` as known at ``as_of``
        (:func:`hydro.services.bulletin.bulletin`); None without a store."""
        return None

    def data_status(self, at: dt.datetime | None = None,
                    received_by: dt.datetime | None = None) -> dict[str, pd.DataFrame] | None:
        """Ingest runs, quarantined files, scheduler jobs and freshness per station and party
        at ``at`` (:mod:`hydro.services.data_status`), as received by ``received_by`` (naive
        UTC; as-of replay); None without a store."""
        return None

    # ---------------------------------------------------------------- water quality
    def quality_samples(self, sites: list[str] | None = None,
                        until: dt.datetime | None = None,
                        as_of: dt.datetime | None = None) -> pd.DataFrame | None:
        """Water-quality results taken before ``until`` as received by ``as_of`` (naive
        UTC; :func:`hydro.services.quality_overview.samples`); None without a store."""
        return None

    # ---------------------------------------------------------------- commission
    def commission(self, day: dt.date, as_of: dt.datetime | None = None) -> CommissionData | None:
        """The commission page's data for the month of ``day`` as known at ``as_of``
        (:func:`hydro.services.commission.commission_data`); None without a store."""
        return None

    def commission_report(self, day: dt.date, lang: str, fmt_: str,
                          as_of: dt.datetime | None = None,
                          made_at: dt.datetime | None = None) -> bytes | None:
        """The monthly commission report (``pdf`` or ``xlsx``) of the month of ``day``;
        None without a store."""
        return None

    def acknowledge_delivery(self, run_id: int, party: str, by: str,
                             note: str | None = None, at: dt.datetime | None = None) -> int:
        """Store ``party``'s acknowledgement of delivery ``run_id`` at ``at`` (naive UTC;
        now by default) (:func:`hydro.services.exchange.acknowledge`; raises its
        ``ExchangeError``)."""
        from hydro.services.exchange import ExchangeError

        raise ExchangeError("unknown_run", "no store: nothing to acknowledge")

    # ---------------------------------------------------------------- uploads
    def uploadable_sources(self, party: str | None, admin: bool = False) -> list[str]:
        """Sources an account of ``party`` may load files for
        (:func:`hydro.services.uploads.uploadable_sources`); none without a store."""
        return []

    def upload_series(self, content: bytes, filename: str | None, source: str, user: str,
                      party: str | None, admin: bool = False,
                      address: str | None = None) -> UploadResult:
        """Check and ingest an uploaded series file
        (:func:`hydro.services.uploads.upload_series`; raises its ``UploadError``)."""
        from hydro.services.uploads import UploadError

        raise UploadError("upload.no_store", "no store: nothing to load into")

    # ---------------------------------------------------------------- alerts (active-alerts panel)
    def open_alerts(self, at: dt.datetime | None = None) -> pd.DataFrame | None:
        """The alerts open at ``at`` (naive UTC; None: now) as they stood then
        (:func:`hydro.services.alerts.open_at`); None without a store."""
        return None

    def alert(self, alert_id: int) -> AlertRecord | None:
        """One alert as stored now (:func:`hydro.services.alerts.get`); None without a store
        or when there is no such alert."""
        return None

    def acknowledge_alert(self, alert_id: int, by: str, note: str | None = None,
                          at: dt.datetime | None = None) -> AlertRecord:
        """``by`` acknowledges the alert at ``at`` (naive UTC; now by default) with
        ``note`` (:func:`hydro.services.alerts.acknowledge`; raises its ``AlertError``)."""
        from hydro.services.alerts import AlertError

        raise AlertError("no store: nothing to acknowledge")

    # ---------------------------------------------------------------- derived
    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        """First and last as-of day that has data."""
        first, last = self.data_period()
        return (date_of_last_data(first, self._timezones),
                date_of_last_data(last, self._timezones))

    def latest_date(self) -> dt.date | None:
        """The as-of day of the newest observation (the page's default date)."""
        return self.date_range()[1]

    def station_report(self, as_of: dt.date, now: dt.datetime | None = None,
                       received_by: dt.datetime | None = None) -> StationReport:
        """Every gauge and reservoir with its latest values and warning status on ``as_of``.

        ``now`` (naive UTC) caps the moment silence is measured at, so that on the current
        day a station is not judged at the end of a day that has not ended.
        ``received_by`` (naive UTC) shows only what had been received by then.
        """
        cutoff = day_end_utc(as_of, self._timezones)
        reference = min(cutoff, now) if now is not None else cutoff
        readings = (self.latest_readings(cutoff) if received_by is None
                    else self.latest_readings(cutoff, received_by=received_by))
        return build_report(self.config, readings, as_of, cutoff, reference)

    def silent_readings(self, as_of: dt.date, now: dt.datetime | None = None,
                        received_by: dt.datetime | None = None) -> frozenset[tuple[str, str, str]]:
        """(station, variable, party) of the latest readings of ``as_of`` that are silent at
        ``now`` (older than ``[dashboard] stale_after_days``): all that ``now`` changes in
        :meth:`station_report`."""
        cutoff = day_end_utc(as_of, self._timezones)
        reference = min(cutoff, now) if now is not None else cutoff
        readings = (self.latest_readings(cutoff) if received_by is None
                    else self.latest_readings(cutoff, received_by=received_by))
        return self._silent(readings, reference)

    def _silent(self, readings: Iterable[Reading], reference: dt.datetime
                ) -> frozenset[tuple[str, str, str]]:
        stale_after = self.config.settings.dashboard.stale_after_days
        return frozenset((r.station_id, r.variable, r.party) for r in readings
                         if is_stale(r.time, reference, stale_after))


class StoreProvider(DataProvider):
    """Reads the relational store through :mod:`hydro.store.api`."""

    def __init__(self, config: Config, engine: Engine) -> None:
        super().__init__(config)
        self.engine = engine
        self._synthetic = False  # sticky: nothing is ever deleted from the store

    def data_period(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        # once per data version (every page asks for it, some several times)
        first, last = cache.memo(self.engine, "data_period", None,
                                 lambda: api.data_period(self.engine))
        return _py(first), _py(last)

    def station_report(self, as_of: dt.date, now: dt.datetime | None = None,
                       received_by: dt.datetime | None = None) -> StationReport:
        # the latest-state table is built once per data version (an ingest changes it), day
        # and knowledge time (:mod:`hydro.services.cache`), and shared between requests (the
        # pages never modify it).  The wall clock is not in the key: ``now`` matters only
        # through which readings are silent at it, so the key holds that set instead (on a
        # past day, or until a reading ages past stale_after_days, it never changes); the
        # report's reference_time is that of the request that built it
        cutoff = day_end_utc(as_of, self._timezones)
        reference = min(cutoff, now) if now is not None else cutoff
        version = cache.data_version(self.engine)
        seen = cache.stale_count()
        readings = self._cached_readings(cutoff, GAUGE_VARIABLES + RESERVOIR_VARIABLES,
                                         received_by, version)
        # readings served stale (being recomputed by another request): the report is of
        # their version, not the current one
        version = cache.stale_version(seen) or version
        silent = self._silent(readings, reference)
        return cache.memo(self.engine, "station_report", (as_of, received_by, silent),
                          lambda: build_report(self.config, readings, as_of, cutoff, reference),
                          version=version)

    def latest_readings(self, cutoff: dt.datetime,
                        variables: tuple[str, ...] = GAUGE_VARIABLES + RESERVOIR_VARIABLES,
                        received_by: dt.datetime | None = None) -> list[Reading]:
        return list(self._cached_readings(cutoff, variables, received_by,
                                          cache.data_version(self.engine)))

    def _cached_readings(self, cutoff: dt.datetime, variables: tuple[str, ...],
                         received_by: dt.datetime | None, version: tuple[int, int, int]
                         ) -> list[Reading]:
        # once per data version (hydro.services.cache); Readings are frozen: safe to share
        return cache.memo(self.engine, "latest_readings", (cutoff, variables, received_by),
                          lambda: self._latest_readings(cutoff, variables, received_by),
                          version=version)

    def _latest_readings(self, cutoff: dt.datetime, variables: tuple[str, ...],
                         received_by: dt.datetime | None) -> list[Reading]:
        at = cutoff - dt.timedelta(microseconds=1)
        if received_by is not None:
            return self._latest_known(at, variables, received_by)
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

    def _latest_known(self, at: dt.datetime, variables: tuple[str, ...],
                      received_by: dt.datetime) -> list[Reading]:
        """:meth:`latest_readings` as known at ``received_by`` (one read of the last 400
        days; the stage change from the value before, as in the current view)."""
        frame = api.latest_known(self.engine, variables, at, received_by)
        if frame.empty:
            return []
        frame = frame.sort_values(["station_id", "variable", "party", "time", "revision",
                                   "source"], kind="stable")
        readings = []
        for (station_id, variable, party), group in frame.groupby(
                ["station_id", "variable", "party"], sort=False):
            rows = list(_rows(group))
            row = rows[-1]
            time = _py(row.time)
            if time is None:
                continue
            previous_value = previous_time = None
            if variable == "stage":
                times = [_py(r.time) for r in rows]
                earlier = [(t0, r) for t0, r in zip(times, rows, strict=True)
                           if t0 is not None and t0 < time]
                if earlier and time - earlier[-1][0] <= CHANGE_MAX_GAP:
                    previous_time, before = earlier[-1]
                    previous_value = _canonical(before.value, before.unit, "stage",
                                                str(station_id))
            readings.append(Reading(
                station_id=str(station_id), variable=str(variable), party=str(party),
                time=time, value=_canonical(row.value, row.unit, str(variable),
                                            str(station_id)),
                qc_flags=int(row.qc_flags or 0),
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

    def station_view(self, station_id: str, start: dt.datetime, end: dt.datetime,
                     as_of: dt.date, known_at: dt.datetime | None = None
                     ) -> GaugeView | ReservoirView | None:
        # once per data version (observations, ingest runs, forecasts: hydro.services.cache);
        # the pages draw the view and never modify it
        return cache.memo(self.engine, "station_view", (station_id, start, end, as_of, known_at),
                          lambda: self._station_view(station_id, start, end, as_of, known_at))

    def _station_view(self, station_id: str, start: dt.datetime, end: dt.datetime,
                      as_of: dt.date, known_at: dt.datetime | None
                      ) -> GaugeView | ReservoirView | None:
        net = self.config.network
        if station_id in net.gauges:
            return station_view.gauge_view(self.engine, self.config, station_id, start, end,
                                           as_of, known_at=known_at)
        if station_id in net.reservoirs:
            return station_view.reservoir_view(self.engine, self.config, station_id, start,
                                               end, known_at=known_at)
        return None

    def bulletin(self, day: dt.date, as_of: dt.datetime | None = None) -> pd.DataFrame | None:
        from hydro.services.bulletin import bulletin

        return bulletin(self.engine, self.config, day, as_of=as_of)

    def data_status(self, at: dt.datetime | None = None,
                    received_by: dt.datetime | None = None) -> dict[str, pd.DataFrame] | None:
        from hydro.services import data_status as ds

        return {"runs": ds.ingest_runs(self.engine, received_by=received_by),
                "quarantined": ds.quarantined(self.engine, self.config,
                                              received_by=received_by),
                "jobs": ds.jobs(self.engine),
                "freshness": ds.freshness(self.engine, self.config, at, received_by)}

    def quality_samples(self, sites: list[str] | None = None,
                        until: dt.datetime | None = None,
                        as_of: dt.datetime | None = None) -> pd.DataFrame | None:
        from hydro.services import quality_overview

        return quality_overview.samples(self.engine, sites, until, as_of)

    def commission(self, day: dt.date, as_of: dt.datetime | None = None) -> CommissionData | None:
        from hydro.services.commission import commission_data

        return commission_data(self.engine, self.config, day, received_by=as_of)

    def commission_report(self, day: dt.date, lang: str, fmt_: str,
                          as_of: dt.datetime | None = None,
                          made_at: dt.datetime | None = None) -> bytes | None:
        from hydro.services.commission import commission_data, render

        data = commission_data(self.engine, self.config, day, received_by=as_of)
        return render(data, lang, fmt_, received_by=as_of, made_at=made_at)

    def acknowledge_delivery(self, run_id: int, party: str, by: str,
                             note: str | None = None, at: dt.datetime | None = None) -> int:
        from hydro.services.exchange import acknowledge

        return acknowledge(self.engine, self.config, run_id, party, by, note, at=at)

    def uploadable_sources(self, party: str | None, admin: bool = False) -> list[str]:
        from hydro.services.uploads import uploadable_sources

        return uploadable_sources(self.config, party, admin)

    def upload_series(self, content: bytes, filename: str | None, source: str, user: str,
                      party: str | None, admin: bool = False,
                      address: str | None = None) -> UploadResult:
        from hydro.services.uploads import upload_series

        return upload_series(self.engine, self.config, content, filename, source, user,
                             party, admin, address=address)

    def open_alerts(self, at: dt.datetime | None = None) -> pd.DataFrame | None:
        from hydro.services import alerts

        # once per alerts version (any alert opened, acknowledged, escalated or closed, or
        # an evaluation), never stale: an acknowledgement shows on the acknowledger's next
        # look.  A copy: the caller may add columns
        return cache.memo(self.engine, "open_alerts", at,
                          lambda: alerts.open_at(self.engine, at),
                          version=alerts.version(self.engine), stale_ok=False).copy()

    def alert(self, alert_id: int) -> AlertRecord | None:
        from hydro.services import alerts

        try:
            return alerts.get(self.engine, alert_id)
        except alerts.AlertError:
            return None

    def acknowledge_alert(self, alert_id: int, by: str, note: str | None = None,
                          at: dt.datetime | None = None) -> AlertRecord:
        from hydro.services import alerts

        return alerts.acknowledge(self.engine, alert_id, by, note, at=at)

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
                        variables: tuple[str, ...] = GAUGE_VARIABLES + RESERVOIR_VARIABLES,
                        received_by: dt.datetime | None = None) -> list[Reading]:
        # readings held in memory carry no receipt time: ``received_by`` changes nothing
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
