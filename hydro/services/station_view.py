"""Everything the station and reservoir pages show about one station, gathered from the
store and the config in one place (issue 13, items 2 and 3).

The dashboard asks :func:`gauge_view` / :func:`reservoir_view` (through its data provider)
and draws what comes back; nothing here knows of Dash or plotly.  The pure parts — building
a view from observation frames already read (:func:`build_gauge_view`,
:func:`build_reservoir_view`), min-max downsampling (:func:`minmax_indices`), ice periods,
free capacity — take frames and arrays, so they also serve a provider without a store.

Units: stage cm above gauge zero; discharge, inflow, outflow, spill, evaporation m³/s;
reservoir level m (Baltic); volume hm³.  Times are naive UTC; daily products (HydroSOS band,
2024 overlay, forecasts) are labelled by the station's local date and placed at local
midnight converted to UTC.

Methods
    Return levels: annual maxima (calendar years with at least 80 % of their days) of the
    stored daily-mean discharge of the station's own party, fitted with the GEV
    distribution by L-moments (:func:`hydro.floods.fit_annual_maxima`), converted to stage
    through the gauge's rating in force on the as-of day (:meth:`hydro.network.Rating.stage`).
    HydroSOS band: the daily product of :mod:`hydro.hydrosos` (Weibull p10/p25/p75/p90 of a
    ±15-day window over every stored year; WMO's reference period 1991-2020 is not covered
    by the stored record, so the years used are stated with the band).
    Downsampling: per trace, the first and last point and, in each of ``budget // 2`` equal
    buckets of the index, the minimum and the maximum (so every crest and trough survives).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from hydro.alert_rules import days_to_full
from hydro.config import Config
from hydro.floods import MIN_PEAKS, annual_maxima, fit_annual_maxima
from hydro.hydrosos import hydrosos_status, noleap_day_of_year, percentile_thresholds
from hydro.network import Gauge, Reservoir
from hydro.qc import ICE_PHENOMENA, QC, describe
from hydro.services.context import Store
from hydro.store import api
from hydro.units import VARIABLE_DIMENSION, factor

__all__ = ["GAUGE_VARIABLES", "RESERVOIR_VARIABLES", "RETURN_PERIODS", "TRACE_BUDGET",
           "Trace", "ThresholdLine", "ReturnLevels", "HydroSOSBand", "ForecastLine",
           "RuleCurveLine", "ReservoirState", "GaugeView", "ReservoirView",
           "minmax_indices", "ice_periods", "thresholds_on", "return_levels",
           "hydrosos_band", "overlay_2024", "free_capacity", "build_gauge_view",
           "build_reservoir_view", "gauge_view", "reservoir_view", "read_frames",
           "rule_curves", "flagged_periods", "FRAME_COLUMNS", "Climate", "station_climate"]

log = logging.getLogger("hydrorisk.station_view")

GAUGE_VARIABLES: tuple[str, ...] = ("stage", "discharge")
RESERVOIR_VARIABLES: tuple[str, ...] = ("level", "volume", "inflow", "outflow", "spill",
                                        "evaporation")
#: return periods drawn on the hydrographs, years
RETURN_PERIODS: tuple[int, ...] = (2, 10, 50, 100)
#: most points per plotted trace; longer series are min-max downsampled to it
TRACE_BUDGET = 1000
#: the reference season of the overlay
FLOOD_YEAR = 2024
#: most points of a smooth day-of-year curve (HydroSOS band, rule curve) over a window
BAND_POINTS = 400
#: decimals kept of a plotted value (of its canonical unit)
DECIMALS = 3
#: columns of an observation frame as the builders take it
FRAME_COLUMNS = ["time", "value", "unit", "party", "source", "qc_flags", "phenomena",
                 "revision", "received_at"]
#: consecutive ice readings further apart than this start a new ice period
ICE_GAP = pd.Timedelta(days=3)
_DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------- results

@dataclass
class Trace:
    """One plotted series of one party: what the page draws and what the CSV holds.

    ``times`` naive UTC, ``values`` in the canonical unit of ``variable``; ``qc`` the QC flag
    names of each point joined by ``+`` (empty: none), ``source`` and ``revision`` per point.
    ``total`` is the number of points before downsampling (``len(times)`` when none)."""

    variable: str
    party: str
    times: list[dt.datetime]
    values: list[float]
    qc: list[str]
    source: list[str]
    revision: list[int]
    total: int

    @property
    def downsampled(self) -> bool:
        return self.total > len(self.times)

    @property
    def maximum(self) -> float | None:
        return max(self.values) if self.values else None


@dataclass(frozen=True)
class ThresholdLine:
    """A warning level in force on the day shown (cm above gauge zero)."""

    scheme: str
    level: str
    value_cm: float
    status: str
    set_by: str
    source: str
    note: str = ""


@dataclass
class ReturnLevels:
    """Return levels of the annual maximum discharge (m³/s) and, through the rating, stage
    (cm; None without a rating)."""

    dist: str
    method: str
    n: int
    first_year: int
    last_year: int
    periods: tuple[int, ...]
    discharge: tuple[float, ...]
    stage: tuple[float, ...] | None
    rating_status: str | None = None


@dataclass
class HydroSOSBand:
    """The HydroSOS day-of-year thresholds over the shown days, and the as-of day's class."""

    variable: str
    times: list[dt.datetime]
    p10: list[float]
    p25: list[float]
    p75: list[float]
    p90: list[float]
    status: str | None
    value: float | None
    first_year: int
    last_year: int
    n_years: int


@dataclass
class ForecastLine:
    """One stored forecast run (a method and a variable): values and interval by valid day."""

    variable: str
    method: str
    times: list[dt.datetime]
    value: list[float]
    lower: list[float]
    upper: list[float]
    issue_date: dt.date | None
    beats_persistence: bool | None
    note: str = ""


@dataclass
class RuleCurveLine:
    """A target level by day of year found in a scenario plan (m)."""

    label: str                      # "<scenario id> / <plan id>"
    times: list[dt.datetime]
    level_m: list[float]
    source: str = ""
    scenario_names: dict[str, str] = field(default_factory=dict)   # kk/ru/en
    plan: str = ""


@dataclass
class ReservoirState:
    """The reservoir on the as-of day (None where a series is missing)."""

    time: dt.datetime | None
    level_m: float | None
    volume_hm3: float | None          # from the storage table at level_m
    inflow_m3s: float | None
    outflow_m3s: float | None
    spill_m3s: float | None
    free_to_npu_hm3: float | None
    free_to_fpu_hm3: float | None
    days_to_npu: float | None
    days_to_fpu: float | None


@dataclass
class GaugeView:
    station_id: str
    start: dt.datetime
    end: dt.datetime
    known_at: dt.datetime | None
    traces: dict[str, list[Trace]]                 # variable -> one trace per party
    thresholds: list[ThresholdLine] = field(default_factory=list)
    return_levels: ReturnLevels | None = None
    hydrosos: dict[str, HydroSOSBand] = field(default_factory=dict)
    ice: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    overlay: dict[str, Trace] = field(default_factory=dict)
    disagreement: pd.DataFrame | None = None        # time -> KZ, RU, difference, flagged
    disagreement_periods: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    forecasts: list[ForecastLine] = field(default_factory=list)
    outlook: pd.DataFrame | None = None
    revisions: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ReservoirView:
    station_id: str
    start: dt.datetime
    end: dt.datetime
    known_at: dt.datetime | None
    traces: dict[str, list[Trace]]                 # level, volume, inflow, release, spill, ...
    npu_m: float
    fpu_m: float
    umo_m: float
    npu_hm3: float
    fpu_hm3: float
    umo_hm3: float
    state: ReservoirState
    rule_curves: list[RuleCurveLine] = field(default_factory=list)
    revisions: pd.DataFrame | None = None


@dataclass(frozen=True)
class Climate:
    """What a gauge's record up to the end of the shown window gives, whatever the window:
    the daily means of the gauge's own party per variable, their HydroSOS percentile
    thresholds by day of year (None: too few years) and the return levels.  The costly
    part of a station page (the whole record read and fitted); :func:`gauge_view` keeps it
    in :mod:`hydro.services.cache` until the store's data change."""

    daily: dict[str, pd.Series]
    percentiles: dict[str, pd.DataFrame | None]
    return_levels: ReturnLevels | None


# --------------------------------------------------------------------------- pure helpers

def minmax_indices(values: Sequence[float] | np.ndarray, budget: int = TRACE_BUDGET
                   ) -> np.ndarray:
    """Indices of the points kept when ``values`` are downsampled to about ``budget``.

    The first and the last point, and the minimum and maximum of each of ``budget // 2``
    equal buckets of the index (NaN ignored), sorted.  All indices when ``len(values) <=
    budget``.  The series' overall maximum and minimum are always kept.
    """
    v = np.asarray(values, dtype=float)
    n = v.size
    if n <= budget or budget < 4:
        return np.arange(n)
    buckets = max(1, (budget - 2) // 2)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    # vectorised over the buckets: each index's bucket, then a stable sort by (bucket,
    # value) puts each bucket's first minimum (and, by -value, first maximum) first
    bucket = np.searchsorted(edges, np.arange(n), side="right") - 1
    nan = np.isnan(v)
    firsts = np.r_[True, bucket[1:] != bucket[:-1]]
    lo = np.flatnonzero(firsts)                       # first index of each non-empty bucket
    # ``bucket`` is sorted, so the sorted order's buckets start where ``firsts`` says
    by_min = np.lexsort((np.where(nan, np.inf, v), bucket))[firsts]
    by_max = np.lexsort((np.where(nan, np.inf, -v), bucket))[firsts]
    all_nan = np.logical_and.reduceat(nan, lo)
    keep = np.r_[0, n - 1, lo[all_nan], by_min[~all_nan], by_max[~all_nan]]
    return np.unique(keep.astype(int))


def _canonical(frame: pd.DataFrame, variable: str) -> np.ndarray:
    values = frame["value"].to_numpy(dtype=float)
    dimension = VARIABLE_DIMENSION.get(variable)
    if dimension is None or frame.empty:
        return values
    units = frame["unit"].astype(str).to_numpy()
    out = values.copy()
    for unit in np.unique(units):
        try:
            out[units == unit] = values[units == unit] * factor(str(unit), dimension)
        except Exception:  # an unknown unit: drop those values rather than show them wrong
            out[units == unit] = np.nan
    return out


@functools.lru_cache(maxsize=4096)
def _qc_text(flags: int) -> str:
    return "+".join(describe(int(flags)))


def _py_times(values: Iterable[Any]) -> list[dt.datetime]:
    return [pd.Timestamp(v).to_pydatetime() for v in values]


def traces_of(frame: pd.DataFrame, variable: str, budget: int | None = TRACE_BUDGET
              ) -> list[Trace]:
    """One :class:`Trace` per party of an observation frame (:data:`FRAME_COLUMNS`), sorted
    by time, values canonical; where a party has several sources at one time the highest
    revision, then the source first in alphabetical order, is kept.  Downsampled to
    ``budget`` points (None: never)."""
    if frame is None or frame.empty:
        return []
    f = frame.assign(value=_canonical(frame, variable))
    f = f[np.isfinite(f["value"].to_numpy(dtype=float))]
    out = []
    for party, g in f.groupby("party", sort=True):
        g = (g.sort_values(["time", "revision", "source"], ascending=[True, False, True])
             .drop_duplicates("time", keep="first"))
        total = len(g)
        if budget is not None:
            g = g.iloc[minmax_indices(g["value"].to_numpy(dtype=float), budget)]
        out.append(Trace(
            variable=variable, party=str(party), times=_py_times(g["time"]),
            values=[round(float(x), DECIMALS) for x in g["value"]],
            qc=[_qc_text(int(q or 0)) for q in g["qc_flags"].fillna(0)],
            source=[str(s) for s in g["source"]],
            revision=[int(r) for r in g["revision"].fillna(1)], total=total))
    return out


def ice_periods(frame: pd.DataFrame, gap: pd.Timedelta = ICE_GAP
                ) -> list[tuple[dt.datetime, dt.datetime]]:
    """Periods (first, last reading; naive UTC) of consecutive ice-affected readings: QC flag
    ICE or an ice phenomenon (:data:`hydro.qc.ICE_PHENOMENA`); readings more than ``gap``
    apart start a new period."""
    if frame is None or frame.empty:
        return []
    flags = frame["qc_flags"].fillna(0).astype(int).to_numpy()
    phen = frame["phenomena"].astype(object).to_numpy() if "phenomena" in frame else None
    iced = (flags & int(QC.ICE)) != 0
    if phen is not None:
        iced |= np.array([isinstance(p, str) and p in ICE_PHENOMENA for p in phen])
    times = pd.DatetimeIndex(pd.to_datetime(frame["time"][iced])).sort_values().unique()
    periods: list[tuple[dt.datetime, dt.datetime]] = []
    if len(times) == 0:
        return periods
    start = prev = times[0]
    for t in times[1:]:
        if t - prev > gap:
            periods.append((start.to_pydatetime(), prev.to_pydatetime()))
            start = t
        prev = t
    periods.append((start.to_pydatetime(), prev.to_pydatetime()))
    return periods


def thresholds_on(config: Config, station_id: str, day: dt.date) -> list[ThresholdLine]:
    """Every warning level of every scheme at ``station_id`` in force on ``day``
    (``config/thresholds.toml``; cm above gauge zero), lowest first."""
    out = [ThresholdLine(scheme=t.scheme, level=str(t.level), value_cm=float(t.value.to("stage")),
                         status=str(t.status), set_by=t.set_by, source=t.source, note=t.note)
           for t in config.thresholds_for(station_id) if t.valid_on(day)]
    return sorted(out, key=lambda x: (x.value_cm, x.scheme, x.level))


def _local_midnight_utc(days: pd.DatetimeIndex, timezone: str) -> list[dt.datetime]:
    idx = pd.DatetimeIndex(days).tz_localize(timezone, nonexistent="shift_forward",
                                             ambiguous=False)
    return _py_times(idx.tz_convert("UTC").tz_localize(None))


def daily_means(frame: pd.DataFrame, variable: str, timezone: str, party: str | None = None
                ) -> pd.Series:
    """Daily means by local date of one party's values (canonical unit)."""
    if frame is None or frame.empty:
        return pd.Series(dtype=float)
    f = frame if party is None else frame[frame["party"] == party]
    if f.empty:
        return pd.Series(dtype=float)
    values = _canonical(f, variable)
    time = pd.DatetimeIndex(pd.to_datetime(f["time"])).tz_localize("UTC")
    local = time.tz_convert(timezone).tz_localize(None).normalize()
    s = pd.Series(values, index=local).dropna()
    return s.groupby(level=0).mean().sort_index()


def return_levels(daily_discharge: pd.Series, rating: Any = None,
                  periods: Sequence[int] = RETURN_PERIODS) -> ReturnLevels | None:
    """GEV (L-moments) return levels of the annual maxima of a daily discharge series,
    and the stages of those discharges through ``rating`` (None without one).  None when
    fewer than :data:`hydro.floods.MIN_PEAKS` complete years."""
    if daily_discharge.empty:
        return None
    peaks = annual_maxima(daily_discharge)
    if len(peaks) < MIN_PEAKS:
        return None
    try:
        fit = fit_annual_maxima(peaks.to_numpy(dtype=float), dist="gev", method="lmom")
    except ValueError as e:
        log.info("no return levels: %s", e)
        return None
    q = tuple(float(v) for v in np.atleast_1d(fit.return_level(np.asarray(periods, float))))
    stage = None if rating is None else tuple(float(v) for v in rating.stage(np.asarray(q)))
    return ReturnLevels(dist="GEV", method="L-moments", n=int(fit.n),
                        first_year=int(peaks.index.min()), last_year=int(peaks.index.max()),
                        periods=tuple(int(p) for p in periods), discharge=q, stage=stage)


def _percentiles(daily: pd.Series, min_years: int = 10) -> pd.DataFrame | None:
    if daily.empty:
        return None
    try:
        return percentile_thresholds(daily, min_years=min_years)
    except ValueError:
        return None


def hydrosos_band(daily: pd.Series, variable: str, start: dt.datetime, end: dt.datetime,
                  as_of: dt.date, timezone: str, min_years: int = 10,
                  thresholds: pd.DataFrame | None = None) -> HydroSOSBand | None:
    """The HydroSOS daily thresholds (:func:`hydro.hydrosos.percentile_thresholds`) of
    ``daily`` over the local days from ``start`` to ``end``, and the class of the as-of
    day's value; None with fewer than ``min_years`` years.  ``thresholds``: those
    percentiles already computed from ``daily``."""
    if daily.empty:
        return None
    p = thresholds if thresholds is not None else _percentiles(daily, min_years)
    if p is None:
        return None
    days = _band_days(start, end)
    doy = np.asarray(noleap_day_of_year(days))
    rows = p.loc[doy].round(2)
    value = daily.get(pd.Timestamp(as_of))
    status = None
    if value is not None and math.isfinite(float(value)):
        s = hydrosos_status(float(value), as_of, p)
        status = None if s is None else str(s)
    return HydroSOSBand(variable=variable, times=_local_midnight_utc(days, timezone),
                        p10=rows["p10"].tolist(), p25=rows["p25"].tolist(),
                        p75=rows["p75"].tolist(), p90=rows["p90"].tolist(), status=status,
                        value=None if value is None else float(value),
                        first_year=int(p.attrs["first_year"]),
                        last_year=int(p.attrs["last_year"]), n_years=int(p.attrs["n_years"]))


def _band_days(start: dt.datetime, end: dt.datetime, most: int = BAND_POINTS
               ) -> pd.DatetimeIndex:
    """The local days from ``start`` to ``end``, thinned to at most about ``most`` evenly
    spaced days (the last kept) for smooth day-of-year curves over long windows."""
    days = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(),
                         freq="D")
    step = max(1, math.ceil(len(days) / most))
    if step == 1:
        return days
    keep = np.unique(np.r_[np.arange(0, len(days), step), len(days) - 1])
    return days[keep]


def flagged_periods(disagreement: pd.DataFrame | None, gap: pd.Timedelta = 1.5 * _DAY
                    ) -> list[tuple[dt.datetime, dt.datetime]]:
    """Runs of readings whose parties disagree beyond tolerance (``flagged``), as (first,
    last) naive UTC, each widened by half a day; readings more than ``gap`` apart start a
    new run."""
    if disagreement is None or disagreement.empty:
        return []
    times = pd.DatetimeIndex(disagreement.index[disagreement["flagged"].astype(bool)])
    out: list[tuple[dt.datetime, dt.datetime]] = []
    if len(times) == 0:
        return out
    half = pd.Timedelta(hours=12)
    start = prev = times[0]
    for t in times[1:]:
        if t - prev > gap:
            out.append(((start - half).to_pydatetime(), (prev + half).to_pydatetime()))
            start = t
        prev = t
    out.append(((start - half).to_pydatetime(), (prev + half).to_pydatetime()))
    return out


def overlay_2024(daily: pd.Series, variable: str, start: dt.datetime, end: dt.datetime,
                 timezone: str, year: int = FLOOD_YEAR) -> Trace | None:
    """The season of ``year`` on the shown days' calendar: the shown window moved by whole
    years so that its last day falls in ``year``; each shown local day carries the daily
    mean of the corresponding day then (29 February skipped where the other year has
    none).  None when the window is longer than a year, already ends in ``year``, or
    nothing is stored then."""
    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    offset = year - e.year
    if daily.empty or (e - s).days > 366 or offset == 0:
        return None
    keep_days, values = [], []
    for d in pd.date_range(s, e, freq="D"):
        try:
            same = pd.Timestamp(year=d.year + offset, month=d.month, day=d.day)
        except ValueError:      # 29 February against a common year
            continue
        v = daily.get(same)
        if v is not None and math.isfinite(float(v)):
            keep_days.append(d)
            values.append(float(v))
    if not values:
        return None
    times = _local_midnight_utc(pd.DatetimeIndex(keep_days), timezone)
    return Trace(variable=variable, party=str(year), times=times, values=values,
                 qc=[""] * len(values), source=["daily mean"] * len(values),
                 revision=[0] * len(values), total=len(values))


def free_capacity(reservoir: Reservoir, level_m: float | None
                  ) -> tuple[float | None, float | None, float | None]:
    """(volume at ``level_m``, room to НПУ, room to ФПУ), hm³, from the storage table;
    negative room means above that level."""
    if level_m is None or not math.isfinite(level_m):
        return None, None, None
    v = float(reservoir.storage_table.volume_at(level_m))
    return v, reservoir.npu_volume_hm3 - v, reservoir.fpu_volume_hm3 - v


def _last(trace_list: list[Trace]) -> tuple[dt.datetime | None, float | None]:
    best: tuple[dt.datetime | None, float | None] = (None, None)
    for tr in trace_list:
        if tr.times and (best[0] is None or tr.times[-1] > best[0]):
            best = (tr.times[-1], tr.values[-1])
    return best


def _release_traces(outflow: list[Trace], spill: list[Trace]) -> list[Trace]:
    """Controlled release = outflow − spill at the times both have (spill 0 where none)."""
    out = []
    spills = {tr.party: dict(zip(tr.times, tr.values, strict=True)) for tr in spill}
    for tr in outflow:
        sp = spills.get(tr.party, {})
        out.append(Trace(variable="release", party=tr.party, times=list(tr.times),
                         values=[v - sp.get(t, 0.0) for t, v in zip(tr.times, tr.values,
                                                                    strict=True)],
                         qc=list(tr.qc), source=list(tr.source), revision=list(tr.revision),
                         total=tr.total))
    return out


def _disagreement(frame: pd.DataFrame) -> pd.DataFrame:
    """Both parties' stage side by side (as :func:`hydro.store.api.party_disagreement`)."""
    if frame.empty or frame["party"].nunique() < 2:
        return pd.DataFrame(columns=["KZ", "RU", "difference", "flagged"])
    f = frame.assign(value=_canonical(frame, "stage"))
    wide = f.pivot_table(index="time", columns="party", values="value", aggfunc="mean")
    flags = (f.assign(x=(f["qc_flags"].fillna(0).astype(int) & int(QC.PARTY_DISAGREE)) != 0)
             .groupby("time")["x"].any())
    out = pd.DataFrame({"KZ": wide.get("KZ"), "RU": wide.get("RU")})
    out["difference"] = out["KZ"] - out["RU"]
    out["flagged"] = flags.reindex(out.index).fillna(False).astype(bool)
    return out


# --------------------------------------------------------------------------- builders

def station_climate(gauge: Gauge, history: Mapping[str, pd.DataFrame], as_of: dt.date
                    ) -> Climate:
    """The :class:`Climate` of ``gauge`` from its record up to the shown window's end
    (``history``: variable -> observation frame); the rating is the one in force on
    ``as_of``."""
    party = gauge.country
    daily = {v: daily_means(history[v], v, gauge.timezone, party)
             for v in GAUGE_VARIABLES if v in history}
    rating = gauge.rating if gauge.rating is not None and gauge.rating.valid_from <= as_of \
        else None
    levels = None
    if "discharge" in daily:
        levels = return_levels(daily["discharge"], rating)
        if levels is not None and rating is not None:
            levels.rating_status = str(rating.status)
    return Climate(daily=daily, percentiles={v: _percentiles(s) for v, s in daily.items()},
                   return_levels=levels)


def build_gauge_view(config: Config, gauge: Gauge, frames: Mapping[str, pd.DataFrame],
                     start: dt.datetime, end: dt.datetime, as_of: dt.date, *,
                     history: Mapping[str, pd.DataFrame] | None = None,
                     reference: Mapping[str, pd.DataFrame] | None = None,
                     known_at: dt.datetime | None = None,
                     budget: int | None = TRACE_BUDGET,
                     climate: Climate | None = None) -> GaugeView:
    """A gauge's view from observation frames already read (``frames``: variable -> the
    shown window; ``history``: variable -> the record up to the window's end, for return
    levels and HydroSOS, unless ``climate`` (:func:`station_climate`) gives them already;
    ``reference``: variable -> the values of :data:`FLOOD_YEAR` for the overlay, default
    ``history``)."""
    history = history or {}
    reference = history if reference is None else reference
    view = GaugeView(station_id=gauge.id, start=start, end=end, known_at=known_at,
                     traces={v: traces_of(frames.get(v, pd.DataFrame(columns=FRAME_COLUMNS)),
                                          v, budget) for v in GAUGE_VARIABLES})
    view.thresholds = thresholds_on(config, gauge.id, as_of)
    stage = frames.get("stage")
    if stage is not None and not stage.empty:
        view.ice = ice_periods(stage)
        if stage["party"].nunique() >= 2:
            view.disagreement = _disagreement(stage)
            view.disagreement_periods = flagged_periods(view.disagreement)
    party = gauge.country
    if climate is None:
        climate = station_climate(gauge, history, as_of)
    # a copy: the climate may be shared by other requests (hydro.services.cache)
    view.return_levels = (None if climate.return_levels is None
                          else replace(climate.return_levels))
    for v, s in climate.daily.items():
        p = climate.percentiles.get(v)
        if p is None:
            continue
        band = hydrosos_band(s, v, start, end, as_of, gauge.timezone, thresholds=p)
        if band is not None:
            view.hydrosos[v] = band
    for v in GAUGE_VARIABLES:
        if v in reference:
            ov = overlay_2024(daily_means(reference[v], v, gauge.timezone, party), v, start,
                              end, gauge.timezone)
            if ov is not None:
                view.overlay[v] = ov
    return view


def build_reservoir_view(reservoir: Reservoir, frames: Mapping[str, pd.DataFrame],
                         start: dt.datetime, end: dt.datetime, *,
                         known_at: dt.datetime | None = None,
                         rule_curve_specs: Sequence[tuple[Any, ...]] = (),
                         budget: int | None = TRACE_BUDGET) -> ReservoirView:
    """A reservoir's view from observation frames already read (variable -> frame).
    ``rule_curve_specs``: (label, :class:`hydro.reservoirs.RuleCurve`, source[, scenario
    names by language]) as :func:`rule_curves` gives them."""
    empty = pd.DataFrame(columns=FRAME_COLUMNS)
    full = {v: traces_of(frames.get(v, empty), v, None) for v in RESERVOIR_VARIABLES}
    traces = {v: full[v] for v in ("level", "volume", "inflow", "outflow", "spill",
                                   "evaporation")}
    traces["release"] = _release_traces(full["outflow"], full["spill"])
    t_level, level = _last(full["level"])
    _, inflow = _last(full["inflow"])
    _, outflow = _last(full["outflow"])
    _, spill = _last(full["spill"])
    volume, to_npu, to_fpu = free_capacity(reservoir, level)
    d_npu = d_fpu = None
    if volume is not None and inflow is not None and outflow is not None:
        d_npu, d_fpu = (float(days_to_full(np.array([volume]), np.array([inflow]),
                                           np.array([outflow]), target)[0])
                        for target in (reservoir.npu_volume_hm3, reservoir.fpu_volume_hm3))
    state = ReservoirState(time=t_level, level_m=level, volume_hm3=volume, inflow_m3s=inflow,
                           outflow_m3s=outflow, spill_m3s=spill, free_to_npu_hm3=to_npu,
                           free_to_fpu_hm3=to_fpu, days_to_npu=d_npu, days_to_fpu=d_fpu)
    if budget is not None:
        traces = {v: [_downsample(tr, budget) for tr in trs] for v, trs in traces.items()}
    days = _band_days(start, end)
    curves = []
    for spec in rule_curve_specs:
        label, curve, source = spec[0], spec[1], spec[2]
        names = spec[3] if len(spec) > 3 else {}
        doy = np.asarray(noleap_day_of_year(days), dtype=float)
        curves.append(RuleCurveLine(label=label, scenario_names=dict(names),
                                    plan=label.split(" / ")[-1],
                                    times=_local_midnight_utc(days, reservoir.timezone),
                                    level_m=[round(float(x), DECIMALS)
                                             for x in curve.level_on(doy)],
                                    source=source))
    umo = reservoir.umo.to("elevation")
    return ReservoirView(station_id=reservoir.id, start=start, end=end, known_at=known_at,
                         traces=traces, npu_m=reservoir.npu.to("elevation"),
                         fpu_m=reservoir.fpu.to("elevation"), umo_m=umo,
                         npu_hm3=reservoir.npu_volume_hm3, fpu_hm3=reservoir.fpu_volume_hm3,
                         umo_hm3=reservoir.dead_volume_hm3, state=state, rule_curves=curves)


def _downsample(tr: Trace, budget: int) -> Trace:
    idx = minmax_indices(tr.values, budget)
    if len(idx) == len(tr.values):
        return tr
    pick = idx.tolist()
    return Trace(variable=tr.variable, party=tr.party, times=[tr.times[i] for i in pick],
                 values=[tr.values[i] for i in pick], qc=[tr.qc[i] for i in pick],
                 source=[tr.source[i] for i in pick],
                 revision=[tr.revision[i] for i in pick], total=tr.total)


# --------------------------------------------------------------------------- store edge

def read_frames(store: Store, station_id: str, variables: Sequence[str],
                start: dt.datetime | None, end: dt.datetime | None,
                known_at: dt.datetime | None = None) -> dict[str, pd.DataFrame]:
    """Current observations (or as known at ``known_at``) with ``start <= time < end``, one
    frame per variable (:data:`FRAME_COLUMNS`)."""
    df = api.observations(store, stations=[station_id], variables=list(variables),
                          start=start, end=end, as_of=known_at)
    if end is not None and not df.empty:
        df = df[pd.to_datetime(df["time"]) < pd.Timestamp(end)]
    return {str(v): g[FRAME_COLUMNS].reset_index(drop=True)
            for v, g in df.groupby("variable", sort=False)}


def revision_history(store: Store, station_id: str, variables: Sequence[str],
                     start: dt.datetime, end: dt.datetime, limit: int = 200) -> pd.DataFrame:
    """Every stored revision of the values in the window that were revised (more than one
    revision of one station, variable, party, source and time): variable, time, party,
    source, revision, value, unit, qc (names), received_at; newest observation first, at
    most ``limit`` rows."""
    cols = ["variable", "time", "party", "source", "revision", "value", "unit", "qc",
            "received_at"]
    df = api.observations(store, stations=[station_id], variables=list(variables),
                          start=start, end=end, revisions="all")
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df[pd.to_datetime(df["time"]) < pd.Timestamp(end)]
    keys = ["variable", "party", "source", "time"]
    n = df.groupby(keys)["revision"].transform("nunique")
    df = df[n > 1]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df.assign(qc=[_qc_text(int(q or 0)) for q in df["qc_flags"].fillna(0)])
    df = df.sort_values(["time", "variable", "party", "source", "revision"],
                        ascending=[False, True, True, True, True])
    return df[cols].head(limit).reset_index(drop=True)


def _forecast_lines(store: Store, gauge: Gauge, as_of: dt.datetime) -> list[ForecastLine]:
    from hydro.services import forecasts

    try:
        frame = forecasts.latest(store, gauge.id, as_of=as_of, observed=False)
    except Exception as e:  # a forecast store of an older schema must not break the page
        log.warning("%s: forecasts not read: %s", gauge.id, e)
        return []
    if frame is None or frame.empty:
        return []
    out = []
    for (variable, method), g in frame.groupby(["variable", "method"], sort=True):
        g = g.sort_values("lead_days")
        params: dict[str, Any] = {}
        raw = g["parameters"].iloc[0]
        if isinstance(raw, str) and raw:
            try:
                params = json.loads(raw)
            except ValueError:
                params = {}
        note = g["note"].iloc[0] if isinstance(g["note"].iloc[0], str) else ""
        beats = params.get("beats_persistence") if isinstance(params, dict) else None
        if beats is None and "persistence" in note.lower() and (
                "not beat" in note.lower() or "does not" in note.lower()):
            beats = False
        issue = g["issue_date"].iloc[0]
        days = pd.DatetimeIndex(pd.to_datetime(g["valid_date"]))
        out.append(ForecastLine(
            variable=str(variable), method=str(method),
            times=_local_midnight_utc(days, gauge.timezone),
            value=[float(x) for x in g["value"]],
            lower=[float(x) if x is not None and math.isfinite(float(x)) else math.nan
                   for x in g["lower"]],
            upper=[float(x) if x is not None and math.isfinite(float(x)) else math.nan
                   for x in g["upper"]],
            issue_date=None if issue is None else pd.Timestamp(issue).date(),
            beats_persistence=None if beats is None else bool(beats), note=note))
    return out


def _outlook(store: Store, station_id: str, as_of: dt.datetime) -> pd.DataFrame | None:
    from hydro.services import outlook

    try:
        frame = outlook.stored(store, station_id, as_of=as_of)
    except Exception as e:
        log.warning("%s: outlook not read: %s", station_id, e)
        return None
    if frame is None or frame.empty:
        return None
    newest = frame["issue_date"].max()
    return frame[frame["issue_date"] == newest].reset_index(drop=True)


def gauge_view(store: Store, config: Config, station_id: str, start: dt.datetime,
               end: dt.datetime, as_of: dt.date, *, known_at: dt.datetime | None = None,
               budget: int | None = TRACE_BUDGET) -> GaugeView:
    """Everything the station page shows of a gauge over ``start <= time < end`` (naive
    UTC), the warning levels of ``as_of``, as the store knew it at ``known_at`` (default:
    now).  Raises KeyError for an id that is not a gauge."""
    from hydro.services import cache

    gauge = config.network.gauges[station_id]
    frames = read_frames(store, station_id, GAUGE_VARIABLES, start, end, known_at)

    def climate() -> Climate:
        history = read_frames(store, station_id, GAUGE_VARIABLES, None, end, known_at)
        return station_climate(gauge, history, as_of)

    # the whole record is read and fitted once per station, window end, knowledge time
    # and data version (an ingest changes the version: the next request recomputes)
    clim = cache.memo(store, "station_climate", (station_id, end, as_of, known_at), climate)
    reference: dict[str, pd.DataFrame] = {}   # no overlay unless read below
    offset = FLOOD_YEAR - end.year
    if offset != 0 and (end - start).days <= 366:
        # the 2024 season for the overlay (as known at known_at, like everything shown)
        shift = pd.DateOffset(years=offset)
        reference = read_frames(store, station_id, GAUGE_VARIABLES,
                                (pd.Timestamp(start) + shift - _DAY).to_pydatetime(),
                                (pd.Timestamp(end) + shift + _DAY).to_pydatetime(), known_at)
    view = build_gauge_view(config, gauge, frames, start, end, as_of, reference=reference,
                            known_at=known_at, budget=budget, climate=clim)
    if view.disagreement is not None and known_at is None:
        view.disagreement = api.party_disagreement(store, station_id, "stage", start, end)
    view.disagreement_periods = flagged_periods(view.disagreement)
    cut = known_at or end
    view.forecasts = _forecast_lines(store, gauge, cut)
    view.outlook = _outlook(store, station_id, cut)
    view.revisions = revision_history(store, station_id, GAUGE_VARIABLES, start, end)
    return view


def rule_curves(config: Config, reservoir_id: str
                ) -> list[tuple[str, Any, str, dict[str, str]]]:
    """(label ``scenario / plan``, :class:`hydro.reservoirs.RuleCurve`, source, the
    scenario's names in kk/ru/en) of every
    rule curve (``kind = "rule_curve"``) and flood-control guide curve given for
    ``reservoir_id`` in the scenario files."""
    from hydro import reservoirs as R
    from hydro.units import factor as unit_factor

    try:
        from hydro.services.scenarios import load_scenario, scenario_paths

        paths = scenario_paths(config)
    except Exception as e:
        log.warning("scenarios not read: %s", e)
        return []
    out: list[tuple[str, Any, str, dict[str, str]]] = []
    for path in paths:
        try:
            sc = load_scenario(config, path)
        except Exception as e:
            log.warning("%s: not read: %s", path, e)
            continue
        for plan_id, plan in sc.schedules.items():
            spec: Any = plan.reservoirs.get(reservoir_id)   # a rule of any kind
            if spec is None:
                continue
            label = f"{sc.id} / {plan_id}"
            names = {lang: sc.scenario.names.get(lang) for lang in ("kk", "ru", "en")}
            kind = getattr(spec, "kind", "")
            if kind == "rule_curve":
                f = unit_factor(spec.level_unit, "elevation")
                out.append((label, R.RuleCurve(np.asarray(spec.day_of_year, dtype=float),
                                               np.asarray(spec.level, dtype=float) * f),
                            getattr(spec, "source", ""), names))
            elif getattr(spec, "guide_day_of_year", None):
                f = unit_factor(spec.guide_level_unit, "elevation")
                out.append((label, R.RuleCurve(np.asarray(spec.guide_day_of_year, dtype=float),
                                               np.asarray(spec.guide_level, dtype=float) * f),
                            getattr(spec, "source", ""), names))
    # the same curve in several plans: keep the first label
    seen: set[tuple[float, ...]] = set()
    unique = []
    for entry in out:
        curve = entry[1]
        key = (*curve.day_of_year.tolist(), *curve.level_m.tolist())
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique


def reservoir_view(store: Store, config: Config, station_id: str, start: dt.datetime,
                   end: dt.datetime, *, known_at: dt.datetime | None = None,
                   budget: int | None = TRACE_BUDGET) -> ReservoirView:
    """Everything the station page shows of a reservoir over ``start <= time < end``.
    Raises KeyError for an id that is not a reservoir."""
    res = config.network.reservoirs[station_id]
    frames = read_frames(store, station_id, RESERVOIR_VARIABLES, start, end, known_at)
    view = build_reservoir_view(res, frames, start, end, known_at=known_at,
                                rule_curve_specs=rule_curves(config, station_id),
                                budget=budget)
    view.revisions = revision_history(store, station_id, RESERVOIR_VARIABLES, start, end)
    return view
