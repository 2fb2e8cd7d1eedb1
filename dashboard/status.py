"""The stations view model: latest readings + config + :mod:`hydro.warning` -> table rows.

Pure: no database, no clock.  A :class:`~dashboard.provider.DataProvider` supplies the
readings; this module joins them with the network and the warning levels in
``config/`` and asks :mod:`hydro.warning` for every category, so the page only lays out
what is here.

Times are naive UTC (as in the store).  A daily value is labelled by its local date in the
station's time zone; "as of day D" means every station's last value before the end of D,
taken in the easternmost time zone of the network so that no value of D + 1 slips in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from zoneinfo import ZoneInfo

from hydro.config import Config
from hydro.network import Gauge, Names, Network, Reservoir
from hydro.qc import ICE_PHENOMENA, QC
from hydro.warning import (
    LevelMargin,
    ReservoirClassification,
    StageClassification,
    WarningStatus,
    classify_reservoir_level,
    classify_stage,
    is_stale,
    stage_change_per_day,
    worst,
)

#: a 24 h change is shown only when the previous reading is at most this much older
CHANGE_MAX_GAP = dt.timedelta(hours=48)
#: variables read for the stations page
GAUGE_VARIABLES = ("stage", "discharge")
#: a reservoir's "outflow" is its total outflow (controlled release + spill); "spill" is the
#: spill alone, so the page shows release = outflow - spill and spill side by side
RESERVOIR_VARIABLES = ("level", "volume", "inflow", "outflow", "spill")
#: station-level display states beyond the warning categories
SILENT = "silent"
NO_DATA = WarningStatus.NO_DATA.value
#: the order in which the summary counts station states, most urgent first
SUMMARY_ORDER = (
    WarningStatus.DANGEROUS.value,
    WarningStatus.ADVERSE.value,
    WarningStatus.LOW_WATER_DANGEROUS.value,
    WarningStatus.NORMAL.value,
    WarningStatus.NOT_ASSESSED.value,
    SILENT,
    NO_DATA,
)


@dataclass(frozen=True)
class Reading:
    """The last value of one (station, variable, party) up to the as-of cut-off.

    ``value`` is in the canonical unit of the variable (stage cm, level m, volume hm³,
    discharge/inflow/outflow/spill m³/s).  For stage, ``previous_*`` is the reading before it
    (within :data:`CHANGE_MAX_GAP`), for the 24 h change.
    """

    station_id: str
    variable: str
    party: str
    time: dt.datetime
    value: float | None
    qc_flags: int = 0
    phenomena: str | None = None
    source: str = ""
    previous_value: float | None = None
    previous_time: dt.datetime | None = None

    @property
    def ice(self) -> bool:
        return bool(self.qc_flags & QC.ICE) or (self.phenomena in ICE_PHENOMENA)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(time_utc: dt.datetime, timezone: str) -> dt.datetime:
    """Naive UTC -> naive local time in ``timezone``."""
    aware = time_utc.replace(tzinfo=dt.UTC).astimezone(_zone(timezone))
    return aware.replace(tzinfo=None)


def day_end_utc(day: dt.date, timezones: Iterable[str]) -> dt.datetime:
    """The first instant (naive UTC) at which ``day`` has ended in one of ``timezones``.

    Values strictly before it belong to ``day`` or earlier in every zone.  Without zones,
    midnight UTC.
    """
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    ends = [midnight.replace(tzinfo=_zone(z)).astimezone(dt.UTC).replace(tzinfo=None)
            for z in set(timezones)]
    return min(ends, default=midnight)


def network_timezones(network: Network) -> list[str]:
    return sorted({g.timezone for g in network.gauges.values()}
                  | {r.timezone for r in network.reservoirs.values()})


def date_of_last_data(latest_time: dt.datetime | None, timezones: Sequence[str]) -> dt.date | None:
    """The as-of day whose cut-off first includes ``latest_time``."""
    if latest_time is None:
        return None
    day = latest_time.date() - dt.timedelta(days=1)
    while day_end_utc(day, timezones) <= latest_time:
        day += dt.timedelta(days=1)
    return day


def compared_level(classification: StageClassification) -> LevelMargin | None:
    """The level a stage is compared against on the page ("cm remaining").

    :mod:`hydro.warning`'s ``reference``, except where several values of that same level
    (scheme and level) are in force — conflicting published values, each its own entry in
    ``config/thresholds.toml`` — then the one with the smallest margin (the one reached
    first, as :meth:`~hydro.warning.StageClassification.remaining_to`): a stage between
    the two values of a dangerous level is shown past the lower one, matching its
    "dangerous" status, not as cm remaining to the higher one.
    """
    ref = classification.reference
    if ref is None or ref.remaining_cm is None:
        return ref
    same = [m for m in classification.margins
            if m.sets_category and m.scheme == ref.scheme and m.level == ref.level
            and m.remaining_cm is not None]
    return min(same, key=lambda m: (m.remaining_cm, m.value_cm), default=ref)


# --------------------------------------------------------------------------- rows

@dataclass(frozen=True)
class GaugeRow:
    """One gauge as reported by one party."""

    station_id: str
    basin: str
    names: Names
    river: str
    country: str
    party: str
    border: bool
    timezone: str
    lat: float | None
    lon: float | None
    stage_cm: float | None
    time: dt.datetime | None          # naive UTC of the stage (or of the discharge without one)
    change_cm_per_day: float | None
    discharge_m3s: float | None
    discharge_time: dt.datetime | None
    qc_flags: int
    phenomena: str | None
    classification: StageClassification
    silent: bool
    kz_minus_ru_cm: float | None = None

    @property
    def has_data(self) -> bool:
        return self.time is not None

    @property
    def local_time(self) -> dt.datetime | None:
        return to_local(self.time, self.timezone) if self.time is not None else None

    @property
    def discharge_local_date(self) -> dt.date | None:
        if self.discharge_time is None:
            return None
        return to_local(self.discharge_time, self.timezone).date()

    @property
    def ice(self) -> bool:
        return self.classification.ice_affected

    @property
    def state(self) -> str:
        """``"silent"``, ``"no_data"`` or the warning category's value."""
        if not self.has_data:
            return NO_DATA
        if self.silent:
            return SILENT
        return self.classification.status.value

    @property
    def other_flags(self) -> list[str]:
        """QC flag names other than ICE (shown beside the value)."""
        return [f.name for f in QC if f.name and f is not QC.ICE and self.qc_flags & f]


@dataclass(frozen=True)
class ReservoirRow:
    """One reservoir.  Flows are daily means, m³/s: ``outflow_m3s`` is the total outflow
    (controlled release + spill) as reported; ``spill_m3s`` the spill of the same day;
    ``release_m3s`` the controlled release, ``outflow - spill``, known only when both were
    reported for the same day (see :func:`release_and_spill`)."""

    station_id: str
    basin: str
    names: Names
    river: str
    country: str
    party: str | None
    timezone: str
    lat: float | None
    lon: float | None
    level_m: float | None
    time: dt.datetime | None
    npu_m: float
    fpu_m: float
    npu_estimated: bool
    fpu_estimated: bool
    volume_hm3: float | None
    volume_from_table: bool
    table_estimated: bool
    npu_volume_hm3: float
    inflow_m3s: float | None
    outflow_m3s: float | None
    classification: ReservoirClassification
    silent: bool
    spill_m3s: float | None = None
    release_m3s: float | None = None

    @property
    def has_data(self) -> bool:
        return self.time is not None

    @property
    def local_time(self) -> dt.datetime | None:
        return to_local(self.time, self.timezone) if self.time is not None else None

    @property
    def percent_of_npu_volume(self) -> float | None:
        if self.volume_hm3 is None or self.npu_volume_hm3 <= 0:
            return None
        return 100.0 * self.volume_hm3 / self.npu_volume_hm3

    @property
    def state(self) -> str:
        if not self.has_data:
            return NO_DATA
        if self.silent:
            return SILENT
        return self.classification.status.value


@dataclass(frozen=True)
class StationState:
    """One station's state for the summary and the map (worst over its parties)."""

    station_id: str
    kind: str                 # gauge | reservoir
    basin: str
    names: Names
    lat: float | None
    lon: float | None
    state: str
    ice: bool
    provisional: bool


@dataclass(frozen=True)
class StationReport:
    as_of: dt.date
    cutoff: dt.datetime
    reference_time: dt.datetime
    stale_after_days: float
    gauges: list[GaugeRow]
    reservoirs: list[ReservoirRow]
    stations: list[StationState]
    basins: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of stations in each state of :data:`SUMMARY_ORDER`, plus ``"ice"``."""
        out = {key: 0 for key in SUMMARY_ORDER}
        for s in self.stations:
            out[s.state] += 1
        out["ice"] = sum(1 for s in self.stations if s.ice)
        return out

    def state_of(self, station_id: str) -> str:
        for s in self.stations:
            if s.station_id == station_id:
                return s.state
        raise KeyError(station_id)

    def gauge_rows(self, station_id: str) -> list[GaugeRow]:
        return [r for r in self.gauges if r.station_id == station_id]

    def reservoir_row(self, station_id: str) -> ReservoirRow:
        for r in self.reservoirs:
            if r.station_id == station_id:
                return r
        raise KeyError(station_id)

    def attention(self) -> list[StationState]:
        """Stations at a warning level, or silent, most urgent first (config order within)."""
        rank = {key: i for i, key in enumerate(SUMMARY_ORDER)}
        urgent = {WarningStatus.DANGEROUS.value, WarningStatus.LOW_WATER_DANGEROUS.value,
                  WarningStatus.ADVERSE.value, SILENT}
        picked = [s for s in self.stations if s.state in urgent]
        return sorted(picked, key=lambda s: rank[s.state])


# --------------------------------------------------------------------------- building

def _gauge_rows(g: Gauge, readings: dict[tuple[str, str], Reading], config: Config,
                reference_time: dt.datetime, as_of: dt.date) -> list[GaugeRow]:
    stale_after = config.settings.dashboard.stale_after_days
    reported = {party for (var, party) in readings}
    parties = sorted(set(g.parties) | reported, key=lambda p: (p != g.country, p)) or [g.country]
    thresholds = config.thresholds_for(g.id)
    rows: list[GaugeRow] = []
    for party in parties:
        stage = readings.get(("stage", party))
        discharge = readings.get(("discharge", party))
        main = stage or discharge
        change = None
        if stage is not None and stage.previous_time is not None \
                and stage.time - stage.previous_time <= CHANGE_MAX_GAP:
            hours = (stage.time - stage.previous_time) / dt.timedelta(hours=1)
            if hours > 0:
                change = stage_change_per_day(stage.previous_value, stage.value, hours)
        # levels in force on the local date of the reading (the as-of day without one)
        day = to_local(stage.time, g.timezone).date() if stage is not None else as_of
        classification = classify_stage(stage.value if stage else None, thresholds, day,
                                        ice=stage.ice if stage else False)
        # the status rests on the stage: a station whose stage stopped is silent even if a
        # discharge series (e.g. a GRDC export) goes on
        last = main.time if main is not None else None
        rows.append(GaugeRow(
            station_id=g.id, basin=g.basin, names=g.names, river=g.river, country=g.country,
            party=party, border=g.border, timezone=g.timezone, lat=g.lat, lon=g.lon,
            stage_cm=stage.value if stage else None,
            time=main.time if main else None,
            change_cm_per_day=change,
            discharge_m3s=discharge.value if discharge else None,
            discharge_time=discharge.time if discharge else None,
            qc_flags=stage.qc_flags if stage else 0,
            phenomena=stage.phenomena if stage else None,
            classification=classification,
            silent=last is not None and is_stale(last, reference_time, stale_after),
        ))
    stages = {r.party: r.stage_cm for r in rows if r.stage_cm is not None}
    if "KZ" in stages and "RU" in stages:
        diff = stages["KZ"] - stages["RU"]
        rows = [replace(r, kz_minus_ru_cm=diff) for r in rows]
    return rows


def release_and_spill(outflow: Reading | None, spill: Reading | None
                      ) -> tuple[float | None, float | None]:
    """(controlled release, spill) in m³/s from the last total outflow and spill readings.

    The spill counts only when it is of the same time (day) as the outflow; then the release
    is ``outflow - spill``.  Without a spill of that day the release is unknown (``None``):
    the total outflow is not passed off as the release.  A spill without any outflow reading
    is returned as it is.
    """
    if spill is None or spill.value is None:
        return None, None
    if outflow is None:
        return None, spill.value
    if outflow.time != spill.time:
        return None, None
    if outflow.value is None:
        return None, spill.value
    return outflow.value - spill.value, spill.value


def _reservoir_row(r: Reservoir, readings: dict[tuple[str, str], Reading], config: Config,
                   reference_time: dt.datetime) -> ReservoirRow:
    parties = sorted({p for (_, p) in readings}, key=lambda p: (p != r.country, p))
    party = parties[0] if parties else None

    def get(var: str) -> Reading | None:
        return readings.get((var, party)) if party else None

    level, volume = get("level"), get("volume")
    inflow, outflow, spill = get("inflow"), get("outflow"), get("spill")
    release_m3s, spill_m3s = release_and_spill(outflow, spill)
    npu, fpu = r.npu.to("elevation"), r.fpu.to("elevation")
    estimated = set(r.estimated)
    vol = volume.value if volume is not None else None
    from_table = False
    if vol is None and level is not None and level.value is not None:
        vol = float(r.storage_table.volume_at(level.value))
        from_table = True
    present = [x for x in (level, volume, inflow, outflow, spill) if x is not None]
    # the status rests on the level: silence is measured on it (or on what there is)
    main = level or volume or (max(present, key=lambda x: x.time) if present else None)
    last = main.time if main is not None else None
    return ReservoirRow(
        station_id=r.id, basin=r.basin, names=r.names, river=r.river, country=r.country,
        party=party, timezone=r.timezone, lat=r.lat, lon=r.lon,
        level_m=level.value if level else None,
        time=main.time if main is not None else None,
        npu_m=npu, fpu_m=fpu,
        npu_estimated="npu" in estimated, fpu_estimated="fpu" in estimated,
        volume_hm3=vol, volume_from_table=from_table,
        table_estimated="storage_table" in estimated,
        npu_volume_hm3=r.npu_volume_hm3,
        inflow_m3s=inflow.value if inflow else None,
        outflow_m3s=outflow.value if outflow else None,
        classification=classify_reservoir_level(
            level.value if level else None, npu, fpu,
            provisional=bool({"npu", "fpu"} & estimated)),
        silent=last is not None and is_stale(last, reference_time,
                                             config.settings.dashboard.stale_after_days),
        spill_m3s=spill_m3s, release_m3s=release_m3s,
    )


def _gauge_state(g: Gauge, rows: list[GaugeRow]) -> StationState:
    live = [r for r in rows if r.has_data and not r.silent]
    if live:
        state = worst(r.classification.status for r in live).value
    elif any(r.has_data for r in rows):
        state = SILENT
    else:
        state = NO_DATA
    return StationState(g.id, "gauge", g.basin, g.names, g.lat, g.lon, state,
                        ice=any(r.ice for r in live),
                        provisional=any(r.classification.provisional for r in live))


def build_report(config: Config, readings: Iterable[Reading], as_of: dt.date,
                 cutoff: dt.datetime, reference_time: dt.datetime | None = None
                 ) -> StationReport:
    """Rows for every gauge and reservoir of the network, in config order.

    Parameters
    ----------
    config : Config
        Network, warning levels and ``settings.dashboard.stale_after_days``.
    readings : iterable of Reading
        The last value of each (station, variable, party) before ``cutoff``.
    as_of : datetime.date
        The day shown.
    cutoff : datetime
        End of ``as_of`` (naive UTC), see :func:`day_end_utc`.
    reference_time : datetime, optional
        The moment a station's silence is measured at (naive UTC); ``cutoff`` by default.
        Pass the current time when ``as_of`` is today.
    """
    reference = reference_time if reference_time is not None else cutoff
    by_station: dict[str, dict[tuple[str, str], Reading]] = {}
    for rd in readings:
        by_station.setdefault(rd.station_id, {})[(rd.variable, rd.party)] = rd
    net = config.network
    gauges: list[GaugeRow] = []
    stations: list[StationState] = []
    reservoirs: list[ReservoirRow] = []
    for basin in net.basins:
        for g in (g for g in net.gauges.values() if g.basin == basin):
            rows = _gauge_rows(g, by_station.get(g.id, {}), config, reference, as_of)
            gauges.extend(rows)
            stations.append(_gauge_state(g, rows))
        for r in (r for r in net.reservoirs.values() if r.basin == basin):
            row = _reservoir_row(r, by_station.get(r.id, {}), config, reference)
            reservoirs.append(row)
            stations.append(StationState(r.id, "reservoir", r.basin, r.names, r.lat, r.lon,
                                         row.state, ice=False,
                                         provisional=row.classification.provisional))
    return StationReport(as_of, cutoff, reference, config.settings.dashboard.stale_after_days,
                         gauges, reservoirs, stations, list(net.basins))


def schematic_segments(network: Network) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Straight ((lat, lon), (lat, lon)) links between located nodes along the reaches.

    Nodes without coordinates (confluences, border points) are passed through: a gauge
    upstream of an unlocated confluence is linked to the next located node downstream.
    """
    downstream = {r.upstream: r.downstream for r in network.reaches}

    def where(node_id: str) -> tuple[float, float] | None:
        node = network.node(node_id)
        lat, lon = getattr(node, "lat", None), getattr(node, "lon", None)
        return (lat, lon) if lat is not None and lon is not None else None

    segments = []
    for node_id in network.all_ids():
        start = where(node_id)
        if start is None:
            continue
        nxt = downstream.get(node_id)
        seen = {node_id}
        while nxt is not None and nxt not in seen:
            seen.add(nxt)
            end = where(nxt)
            if end is not None:
                segments.append((start, end))
                break
            nxt = downstream.get(nxt)
    return segments
