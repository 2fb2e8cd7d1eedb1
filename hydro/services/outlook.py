"""Seasonal spring-flood outlook at each gauge, issued from the store as of a date (issue 12,
item 2): the spring flood's volume, peak discharge and peak stage regressed on the winter's
predictors known by the issue date (1 March by default), with prediction intervals, the
probability of exceeding each threshold scheme's level and leave-one-year-out skill.

Predictors of year Y, issue date D (a date of year Y), from the basin-mean series of the
gauge's basin (``BASIN:<basin>``: snow water equivalent, soil moisture, frost depth and
precipitation, ingested like any series — e.g. the bundled ``predictors/basin_means.nc``),
read as the store knew them at D and observed before D (:data:`PREDICTORS`):

=====================  ====  ==========================================================
swe_mm                 mm    snow water equivalent, mean of the last 3 days before D
frost_depth_cm         cm    frost depth, mean of the last 3 days before D
soil_moisture          m³/m³ volumetric soil water, mean of the last 10 days before D
                             (frozen since the autumn: the autumn-wetness index)
winter_precip_mm       mm    precipitation from 1 November of Y-1 to the day before D
autumn_precip_mm       mm    precipitation 1 September - 31 October of Y-1
=====================  ====  ==========================================================

Targets of year Y at a gauge (:data:`TARGETS`), over the season from D to 30 June, from
the gauge's daily local-date means: ``flood_volume`` (hm³, the discharge summed over the
season), ``peak_discharge`` (m³/s) and ``peak_stage`` (cm above gauge zero).  A year
counts when at least 90 % of its season's days have a value (a volume is scaled up for the
missing days).

The model (:mod:`hydro.outlook`): OLS of the target (its logarithm for the volume and the
peak discharge) on predictors chosen by forward selection on BIC among the five, fitted on
the years before Y whose targets the store held at D; the skill is the leave-one-year-out
cross-validation of the *whole* procedure (selection repeated in every fold).  Threshold
levels are those of ``config/thresholds.toml`` in force on D (all schemes but the
low-water ones); for the peak discharge they are converted through the gauge's rating.

Outlooks are stored as forecast runs (method ``outlook``, variable the target, one value
valid on the season's last day; parameters hold the predictors, the model, the
exceedance probabilities and the skill), so an outlook issued in a past season can be
read back and set against what happened.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hydro import outlook as ol
from hydro.config import Config
from hydro.errors import HydroriskError
from hydro.services.context import Store
from hydro.services.forcing import station_daily
from hydro.services.gauges import chosen_gauges
from hydro.store import api
from hydro.store import forecasts as _store

__all__ = ["PREDICTORS", "TARGETS", "METHOD", "ISSUE_DATES", "OutlookError", "GaugeOutlook",
           "OutlookReport", "predictor_table", "target_table", "issue", "stored", "due_issue",
           "refresh"]

#: the stored method name of an outlook
METHOD = "outlook"
#: predictor name -> (stored variable, unit, how it is taken; see the module docs)
PREDICTORS: dict[str, tuple[str, str, str]] = {
    "swe_mm": ("snow_water_equivalent", "mm", "mean of the last 3 days before the issue"),
    "frost_depth_cm": ("frost_depth", "cm", "mean of the last 3 days before the issue"),
    "soil_moisture": ("soil_moisture", "m3/m3", "mean of the last 10 days before the issue"),
    "winter_precip_mm": ("precipitation", "mm", "1 November to the day before the issue"),
    "autumn_precip_mm": ("precipitation", "mm", "1 September to 31 October"),
}
#: target -> (unit, transform, label)
TARGETS: dict[str, tuple[str, ol.Transform, str]] = {
    "flood_volume": ("hm3", "log", "spring-flood volume"),
    "peak_discharge": ("m3/s", "log", "peak discharge"),
    "peak_stage": ("cm", "none", "peak stage"),
}
#: the dates (MM-DD) an outlook is issued on each spring, as both services do: the main one
#: on 1 March and updates as the snow builds and starts to melt
ISSUE_DATES = ("03-01", "03-15", "04-01")
#: the season's last day (MM-DD)
SEASON_END = "06-30"
#: share of a season's days that must have a value for its target to count
MIN_SEASON_COVERAGE = 0.9
#: central 1 - ALPHA prediction interval (5-95 %)
ALPHA = 0.1
#: threshold levels an outlook gives exceedance probabilities for (not the low-water ones)
FLOOD_LEVELS = ("adverse", "dangerous", "impact")
_DAY = pd.Timedelta(days=1)


class OutlookError(HydroriskError):
    """An outlook cannot be issued: the message says what is missing."""


@dataclass
class GaugeOutlook:
    """The outlook of one target at one gauge (units: the target's, see :data:`TARGETS`)."""

    station_id: str
    target: str
    unit: str
    forecast: float
    lower: float
    upper: float
    percentile: float
    exceedance: dict[str, float]
    levels: dict[str, float]
    predictors: dict[str, float]
    coefficients: dict[str, float]
    years: tuple[int, ...]
    climatology_years: int
    loyo_nse: float
    loyo_skill: float
    loyo_coverage: float
    observed: float | None = None
    note: str = ""

    @property
    def beats_climatology(self) -> bool:
        """Whether the cross-validated skill against climatology is positive."""
        return math.isfinite(self.loyo_skill) and self.loyo_skill > 0


@dataclass
class OutlookReport:
    issue_date: dt.date
    known_at: dt.datetime
    outlooks: list[GaugeOutlook] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    run_ids: list[int] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """One row per gauge and target."""
        rows = []
        for o in self.outlooks:
            rows.append({"station_id": o.station_id, "target": o.target, "unit": o.unit,
                         "forecast": o.forecast, "lower": o.lower, "upper": o.upper,
                         "percentile": o.percentile, "loyo_skill": o.loyo_skill,
                         "loyo_nse": o.loyo_nse, "coverage": o.loyo_coverage,
                         "predictors": "+".join(o.predictors), "years": len(o.years),
                         "observed": o.observed,
                         **{f"P>{k}": v for k, v in o.exceedance.items()}})
        return pd.DataFrame(rows)


def _date(value: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise OutlookError(f"{value!r} is not a date (expected YYYY-MM-DD)") from None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _daily(frame: pd.DataFrame, timezone: str, country: str | None) -> pd.Series:
    s = station_daily(frame, timezone, "mean", [country] if country else ())
    if s.empty:
        return s
    return pd.Series(s.to_numpy(dtype=float), index=pd.DatetimeIndex(s.index)).asfreq("D")


def predictor_table(store: Store, config: Config, basin: str, issue_date: dt.date | str, *,
                    as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The predictors (:data:`PREDICTORS`) of ``basin`` for every year of record, each taken
    at the issue date's month and day of its year, from the values observed before that
    day and received by ``as_of`` (None: all stored).  Indexed by year; NaN where the
    series does not cover a predictor's window."""
    day = _date(issue_date)
    station = config.network.basin_station(basin)
    end = _midnight(day)
    variables = sorted({v for v, _, _ in PREDICTORS.values()})
    obs = api.observations(store, stations=[station], variables=variables, end=end,
                           as_of=as_of)
    series = {}
    for var in variables:
        rows = obs[obs["variable"] == var]
        s = _daily(rows, "UTC", None) if not rows.empty else pd.Series(dtype=float)
        series[var] = s[s.index < pd.Timestamp(end)] if not s.empty else s
    years = sorted({t.year for s in series.values() for t in s.index} | set())
    out = []
    for y in years:
        try:
            d = pd.Timestamp(year=y, month=day.month, day=day.day)
        except ValueError:  # 29 February in a common year
            d = pd.Timestamp(year=y, month=3, day=1)
        row: dict[str, Any] = {"year": y}

        def mean_before(var: str, n: int, d: pd.Timestamp = d) -> float:
            s = series[var]
            w = s[(s.index >= d - n * _DAY) & (s.index < d)].dropna()
            return float(w.mean()) if len(w) >= max(1, n // 3 * 2) else math.nan

        def total(var: str, first: pd.Timestamp, last: pd.Timestamp) -> float:
            s = series[var]
            n = (last - first).days + 1
            w = s[(s.index >= first) & (s.index <= last)].dropna()
            if n <= 0 or len(w) < MIN_SEASON_COVERAGE * n:
                return math.nan
            return float(w.sum()) * n / len(w)

        row["swe_mm"] = mean_before("snow_water_equivalent", 3)
        row["frost_depth_cm"] = mean_before("frost_depth", 3)
        row["soil_moisture"] = mean_before("soil_moisture", 10)
        row["winter_precip_mm"] = total("precipitation", pd.Timestamp(year=y - 1, month=11,
                                                                      day=1), d - _DAY)
        row["autumn_precip_mm"] = total("precipitation", pd.Timestamp(year=y - 1, month=9,
                                                                      day=1),
                                        pd.Timestamp(year=y - 1, month=10, day=31))
        out.append(row)
    if not out:
        return pd.DataFrame(columns=list(PREDICTORS), index=pd.Index([], name="year"))
    return pd.DataFrame(out).set_index("year")[list(PREDICTORS)]


def target_table(store: Store, config: Config, station: str, issue_date: dt.date | str, *,
                 end: dt.datetime | None = None, as_of: dt.datetime | None = None
                 ) -> pd.DataFrame:
    """The spring-flood targets (:data:`TARGETS`) of ``station`` for every year whose season
    (the issue date's month and day to 30 June) the store covers: observed by ``end`` and
    received by ``as_of`` (None: all).  Indexed by year; NaN where under 90 % of the season's
    days have a value."""
    day = _date(issue_date)
    node = config.network.gauges.get(station)
    if node is None:
        raise OutlookError(f"unknown gauge {station!r} (outlooks are made at the gauges of "
                           "config/basins.toml)")
    obs = api.observations(store, stations=[station], variables=["discharge", "stage"],
                           end=end, as_of=as_of)
    q = _daily(obs[obs["variable"] == "discharge"], node.timezone, node.country)
    h = _daily(obs[obs["variable"] == "stage"], node.timezone, node.country)
    years = sorted({t.year for s in (q, h) for t in s.index})
    out = []
    for y in years:
        first = pd.Timestamp(year=y, month=day.month, day=min(day.day, 28 if day.month == 2
                                                               else day.day))
        last = pd.Timestamp(f"{y}-{SEASON_END}")
        if end is not None and last > pd.Timestamp(end):
            continue  # the season had not ended by then
        n = (last - first).days + 1
        row: dict[str, Any] = {"year": y}
        wq = q[(q.index >= first) & (q.index <= last)].dropna() if not q.empty else q
        wh = h[(h.index >= first) & (h.index <= last)].dropna() if not h.empty else h
        ok_q = len(wq) >= MIN_SEASON_COVERAGE * n
        row["flood_volume"] = (float(wq.sum()) * n / len(wq) * 86_400 / 1e6) if ok_q else math.nan
        row["peak_discharge"] = float(wq.max()) if ok_q else math.nan
        row["peak_stage"] = float(wh.max()) if len(wh) >= MIN_SEASON_COVERAGE * n else math.nan
        out.append(row)
    if not out:
        return pd.DataFrame(columns=list(TARGETS), index=pd.Index([], name="year"))
    return pd.DataFrame(out).set_index("year")[list(TARGETS)]


def _levels(config: Config, station: str, target: str, day: dt.date) -> dict[str, float]:
    """Threshold levels in force on ``day`` in the target's unit (stage, or discharge
    through the rating in force), by ``scheme:level``."""
    if target == "flood_volume":
        return {}
    gauge = config.network.gauges[station]
    out: dict[str, float] = {}
    for t in config.thresholds_for(station):
        if t.level not in FLOOD_LEVELS or not t.valid_on(day):
            continue
        stage = float(t.value.to("stage"))
        if target == "peak_stage":
            out[f"{t.scheme}:{t.level}"] = stage
        elif gauge.rating is not None:
            q = float(np.asarray(gauge.rating.discharge(np.array([stage])))[0])
            if math.isfinite(q) and q > 0:
                out[f"{t.scheme}:{t.level}"] = q
    return out


def issue(store: Store, config: Config, issue_date: dt.date | str = "2024-03-01", *,
          stations: Iterable[str] | None = None, targets: Sequence[str] = tuple(TARGETS),
          as_of: dt.datetime | None = None, on_time: bool = False, alpha: float = ALPHA,
          write: bool = False) -> OutlookReport:
    """Issue the seasonal outlook of ``issue_date`` at every gauge (or ``stations``).

    Parameters
    ----------
    issue_date : date or str
        The predictors are those observed before this day; the model is fitted on the
        years whose season ended before it.
    as_of : datetime, optional
        Knowledge time (UTC): only values the store had received by then are read.  Default:
        the issue date's midnight UTC, unless ``on_time``.
    on_time : bool
        Count every stored value as received when observed (a replay of data loaded after
        the fact, such as the bundled series): no knowledge-time filter.
    write : bool
        Store the outlooks as forecast runs (method ``outlook``).

    Returns
    -------
    OutlookReport
        Gauges without enough years or without predictor series are in ``skipped`` with
        the reason.
    """
    day = _date(issue_date)
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise OutlookError(f"unknown target(s) {', '.join(unknown)} (known: "
                           f"{', '.join(TARGETS)})")
    chosen = chosen_gauges(config, stations, OutlookError, "outlooks")
    issue_at = _midnight(day)
    known = None if on_time else (as_of.replace(tzinfo=None) if as_of else issue_at)
    report = OutlookReport(issue_date=day, known_at=known or issue_at)
    basins = sorted({config.network.gauges[s].basin for s in chosen})
    tables = {b: predictor_table(store, config, b, day, as_of=known) for b in basins}
    batch: list[tuple[dict[str, Any], pd.DataFrame]] = []
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    late: dict[str, bool] = {}
    for sid in chosen:
        basin = config.network.gauges[sid].basin
        x = tables[basin]
        if day.year not in x.index or x.loc[day.year].isna().all():
            why = (f"no predictors of basin '{basin}' before {day} (ingest the basin-mean "
                   f"series {config.network.basin_station(basin)})")
            if known is not None and basin not in late:
                late[basin] = not predictor_table(store, config, basin, day).empty
            if known is not None and late.get(basin):
                why = (f"the predictors of basin '{basin}' before {day} were received after "
                       f"{known:%Y-%m-%d %H:%M} UTC (for data loaded after the fact, such as "
                       "the bundled series, count them as received when observed: on_time / "
                       "--on-time)")
            report.skipped[sid] = why
            continue
        now = pd.Series(x.loc[day.year], dtype=float)
        candidates = [c for c in PREDICTORS if math.isfinite(float(now.loc[c]))]
        y_all = target_table(store, config, sid, day, end=issue_at, as_of=known)
        after = target_table(store, config, sid, day)  # what happened, for the record
        gauge = config.network.gauges[sid]
        discharge_fit: _Fit | None = None
        wanted = [t for t in TARGETS if t in targets]
        if "peak_stage" in wanted and gauge.rating is not None:
            wanted = [t for t in TARGETS if t in targets or t == "peak_discharge"]
        for target in wanted:
            unit, transform, label = TARGETS[target]
            y = y_all[target].dropna() if target in y_all else pd.Series(dtype=float)
            y = y[y.index < day.year]
            if transform == "log":
                y = y[y > 0]
            y.name = target
            levels = _levels(config, sid, target, day)
            try:
                if target == "peak_stage" and gauge.rating is not None:
                    if discharge_fit is None:
                        raise ol.OutlookError("the peak-discharge outlook it is derived "
                                              "from could not be issued")
                    fit = _through_rating(discharge_fit, gauge.rating, y, levels)
                else:
                    fit = _regress(x, y, candidates, transform, label, now, levels, alpha)
            except ol.OutlookError as e:
                if target in targets:
                    report.skipped[f"{sid} {target}"] = str(e)
                continue
            if target == "peak_discharge":
                discharge_fit = fit
            if target not in targets:
                continue
            observed = None
            if day.year in after.index:
                seen = pd.to_numeric(after[target], errors="coerce").get(day.year, math.nan)
                observed = float(seen) if math.isfinite(float(seen)) else None
            notes = [fit.note] if fit.note else []
            if not fit.skill > 0:
                notes.append("does not beat climatology (leave-one-year-out)")
            g = GaugeOutlook(
                station_id=sid, target=target, unit=unit, forecast=fit.forecast,
                lower=fit.lower, upper=fit.upper,
                percentile=ol.climatology_percentile(fit.forecast, y.to_numpy()),
                exceedance=fit.exceedance, levels=levels, predictors=fit.predictors,
                coefficients=fit.coefficients, years=fit.years, climatology_years=len(y),
                loyo_nse=fit.nse, loyo_skill=fit.skill, loyo_coverage=fit.coverage,
                observed=observed, note="; ".join(notes))
            report.outlooks.append(g)
            if write:
                batch.append(_run(g, day, known or issue_at, created, alpha, fit.transform))
    if write and batch:
        report.run_ids = _store.write_runs(store, batch)
    return report


@dataclass
class _Fit:
    """One target's outlook and its cross-validated skill, in the target's unit."""

    forecast: float
    lower: float
    upper: float
    exceedance: dict[str, float]
    predictors: dict[str, float]
    coefficients: dict[str, float]
    years: tuple[int, ...]
    nse: float
    skill: float
    coverage: float
    transform: str
    outlook: ol.Outlook
    hindcasts: pd.DataFrame
    note: str = ""


def _regress(x: pd.DataFrame, y: pd.Series, candidates: list[str], transform: ol.Transform,
             label: str, now: pd.Series, levels: dict[str, float], alpha: float) -> _Fit:
    """Forward selection, fit and issue (hydro.outlook), with the procedure's LOYO skill."""
    chosen = ol.select_predictors(x, y, candidates=candidates, transform=transform)
    # no predictor improving on the mean (BIC): the climatological outlook, said so
    model = ol.fit_outlook(x, y, columns=chosen, transform=transform)
    out = ol.issue_outlook(model, now, alpha=alpha, thresholds=levels,
                           climatology=y.to_numpy())
    skill = ol.loyo_skill(x, y, columns=candidates, transform=transform,
                          selection="forward", alpha=alpha)
    return _Fit(forecast=out.forecast, lower=out.lower, upper=out.upper,
                exceedance=out.exceedance, predictors=out.predictors,
                coefficients={str(k): float(v) for k, v in model.params.items()},
                years=model.years, nse=skill.nse, skill=skill.skill_vs_climatology,
                coverage=skill.coverage, transform=transform, outlook=out,
                hindcasts=skill.hindcasts,
                note="" if chosen else f"climatology: no predictor improves on the mean "
                f"{label} (BIC)")


def _through_rating(q: _Fit, rating: Any, stage: pd.Series, levels: dict[str, float]) -> _Fit:
    """The peak-stage outlook as the peak-discharge outlook through the gauge's rating: the
    same predictive distribution (a rating is monotone, so P(stage > L) = P(Q > Q(L))), and
    the LOYO skill of the discharge hindcasts turned into stage against the observed peak
    stages (cm)."""
    def to_stage(v: Any) -> np.ndarray:
        return np.asarray(rating.stage(np.asarray(v, dtype=float)), dtype=float)

    exceedance = {k: q.outlook.probability_of_exceeding(
        float(np.asarray(rating.discharge(np.array([v])))[0])) for k, v in levels.items()}
    hind = q.hindcasts.join(stage.rename("stage"), how="inner").dropna(subset=["stage"])
    if len(hind) < ol.MIN_YEARS:
        raise ol.OutlookError(f"only {len(hind)} years have both a peak stage and a "
                              "peak-discharge hindcast")
    o = hind["stage"].to_numpy(dtype=float)
    f = to_stage(hind["forecast"])
    lo, hi = to_stage(hind["lower"]), to_stage(hind["upper"])
    n = o.size
    loo_mean = (o.sum() - o) / (n - 1)
    sse, sse_clim = float(np.sum((f - o) ** 2)), float(np.sum((loo_mean - o) ** 2))
    sse_mean = float(np.sum((o - o.mean()) ** 2))
    return _Fit(forecast=float(to_stage([q.forecast])[0]),
                lower=float(to_stage([q.lower])[0]), upper=float(to_stage([q.upper])[0]),
                exceedance=exceedance, predictors=q.predictors, coefficients=q.coefficients,
                years=tuple(int(v) for v in hind.index),
                nse=1.0 - sse / sse_mean if sse_mean > 0 else math.nan,
                skill=1.0 - sse / sse_clim if sse_clim > 0 else math.nan,
                coverage=float(np.mean((lo <= o) & (o <= hi))), transform=q.transform,
                outlook=q.outlook, hindcasts=hind,
                note="through the rating from the peak-discharge outlook")


def _run(g: GaugeOutlook, day: dt.date, known: dt.datetime, created: dt.datetime,
         alpha: float, transform: str) -> tuple[dict[str, Any], pd.DataFrame]:
    season_end = pd.Timestamp(f"{day.year}-{SEASON_END}")
    params = {"predictors": g.predictors, "coefficients": g.coefficients,
              "transform": transform, "years": list(g.years), "levels": g.levels,
              "exceedance": g.exceedance, "percentile": g.percentile,
              "loyo": {"nse": g.loyo_nse, "skill_vs_climatology": g.loyo_skill,
                       "coverage": g.loyo_coverage}}
    fields = {"station_id": g.station_id, "variable": g.target, "unit": g.unit,
              "method": METHOD, "issue_time": _midnight(day), "issue_date": _midnight(day),
              "known_at": known, "created_at": created,
              "horizon_days": int((season_end - pd.Timestamp(day)).days), "alpha": alpha,
              "parameters": json.dumps(params, sort_keys=True, default=float),
              "note": g.note or None}
    values = pd.DataFrame({"lead_days": [fields["horizon_days"]], "valid_date": [season_end],
                           "value": [g.forecast], "lower": [g.lower], "upper": [g.upper]})
    return fields, values


def stored(store: Store, station: str | None = None, *, as_of: dt.datetime | None = None
           ) -> pd.DataFrame:
    """The stored outlooks (newest issue first), one row per gauge, target and issue:
    station_id, variable (the target), unit, issue_date, known_at, value, lower, upper,
    percentile, exceedance (dict), loyo skill, note."""
    r = _store.runs(store, station, as_of=as_of)
    r = r[r["method"] == METHOD]
    rows = []
    for _, run in r.iterrows():
        p = json.loads(run["parameters"] or "{}")
        values = _store.run_values(store, int(run["id"]))
        v = values.iloc[0] if len(values) else None
        rows.append({"station_id": run["station_id"], "target": run["variable"],
                     "unit": run["unit"], "issue_date": run["issue_date"],
                     "known_at": run["known_at"],
                     "forecast": None if v is None else v["value"],
                     "lower": None if v is None else v["lower"],
                     "upper": None if v is None else v["upper"],
                     "percentile": p.get("percentile"), "exceedance": p.get("exceedance", {}),
                     "loyo_skill": p.get("loyo", {}).get("skill_vs_climatology"),
                     "note": run["note"]})
    return pd.DataFrame(rows)


def due_issue(store: Store, config: Config) -> dt.date | None:
    """The scheduled issue date (:data:`ISSUE_DATES`) the newest basin-mean predictors make
    due: the latest one not after the day following the newest stored snow water
    equivalent; None before the first of the spring or when no predictor is stored."""
    stations = [config.network.basin_station(b) for b in config.network.basins]
    obs = api.observations(store, stations=stations, variables=["snow_water_equivalent"])
    if obs.empty:
        return None
    newest = pd.Timestamp(obs["time"].max()).date() + dt.timedelta(days=1)
    due = [dt.date(newest.year, int(d[:2]), int(d[3:])) for d in ISSUE_DATES]
    due = [d for d in due if d <= newest]
    return max(due) if due and newest <= dt.date(newest.year, 6, 30) else None


def refresh(store: Store, config: Config) -> OutlookReport | None:
    """After an ingest (the worker): issue and store the outlook of the issue date that is
    due (:func:`due_issue`) unless one of that date is stored already.  Returns the report,
    or None when nothing was due."""
    day = due_issue(store, config)
    if day is None:
        return None
    done = _store.runs(store)
    done = done[(done["method"] == METHOD)
                & (pd.to_datetime(done["issue_date"]) == pd.Timestamp(day))]
    if not done.empty:
        return None
    return issue(store, config, day, as_of=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                 write=True)
