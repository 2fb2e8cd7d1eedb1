"""Short-range forecasts (1-10 days) at every gauge: issued from the store as of a time,
stored with their issue time, replayed, backtested and scored (issue 12, items 3b, 3c, 5, 6).

Three statistical forecasters side by side (:mod:`hydro.short_range`): ``persistence``,
``climatology`` and ``sarimax`` (regression with ARIMA errors on the daily discharge of the
gauges and reservoir outflows directly upstream); and ``process``, the ensemble of the
snowmelt model and network routing of the scenario engine run from the state at the issue
date under the weather of earlier years (:mod:`hydro.services.process_forecast`, on the
pure :mod:`hydro.process_forecast`; item 3a), stored as its median and 5-95 % band with
every member.  The seasonal outlook and external ensembles are not here.

What was known when
    :func:`run` at ``issue_time`` T reads only the values the store had received by T and
    observed by T (the store's as-of read; with ``on_time`` every stored value counts as
    received when it was observed — for a replay of data loaded all at once, such as the
    bundled series).  Each run is stored with the time of the last observation it used
    (``issue_time``), what the store had received (``known_at`` = T) and when it was
    computed (``created_at``); nothing is overwritten, so :func:`latest` with ``as_of``
    shows the forecast that was current then.

Daily series
    The store holds readings at bulletin times per party; each station's variable is
    aggregated to local-day means (:func:`hydro.services.forcing.station_daily`, the
    station's own country first).  Forecasts are for local dates: lead h is valid on the
    issue date (the local date of the last daily value) + h days.

Exogenous inputs
    Walking the network upstream from the gauge through confluences, borders, withdrawals
    and nodes with no data, the first gauges (discharge) and reservoirs (outflow) met are
    the inputs; the lag is the reach travel time summed along the way (Muskingum K, or the
    lag of a lag reach; :func:`hydro.balance.travel_time_days`) rounded half up to whole
    days.  With inputs the model has no constant (:data:`INPUT_TREND`); when they cannot
    be used (too short, gaps that cannot be filled) the SARIMAX is univariate and its note
    says why.

Units: discharge m³/s; stage cm above gauge zero, from the discharge forecast through the
gauge's stage–discharge rating where one is in force on the issue date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import time as _time
import warnings
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hydro import short_range as sr
from hydro.balance import travel_time_days
from hydro.config import Config
from hydro.errors import HydroriskError
from hydro.forecast_skill import sigma_from_interval, skill_by_lead
from hydro.services.context import Store
from hydro.services.forcing import station_daily
from hydro.services.gauges import chosen_gauges
from hydro.store import api
from hydro.store import forecasts as _store

__all__ = ["METHODS", "DEFAULT_HORIZON", "FIT_WINDOW_DAYS", "Input", "ForecastRunReport",
           "upstream_inputs", "daily_series", "run", "latest", "runs", "backtest", "skill",
           "spring_issue_dates", "save_skill", "stored_skill", "refresh"]

log = logging.getLogger("hydrorisk.forecasts")

#: the forecasters, in the order they are shown (the statistical ones, then the process-model
#: ensemble)
METHODS: tuple[str, ...] = (*sr.METHODS, "process")
#: the ensemble forecasters (their members are stored and scored by the ensemble CRPS)
ENSEMBLE_METHODS: tuple[str, ...] = ("process",)
#: longest lead of a refresh, days
DEFAULT_HORIZON = 10
#: the SARIMAX parameters are fitted on this many days before the issue date (three years:
#: three spring floods, and a fit of well under a second per gauge)
FIT_WINDOW_DAYS = 3 * 365
#: the SARIMAX trend with upstream inputs: none (the discharge is carried by the inputs and
#: the AR errors; a reservoir holding its release over the filter window would otherwise
#: duplicate the constant, which statsmodels refuses); a constant without inputs
INPUT_TREND = "n"
#: central 1 - ALPHA prediction intervals (5-95 %)
ALPHA = 0.1
#: unit of each forecast variable
UNITS = {"discharge": "m3/s", "stage": "cm"}
_DAY = pd.Timedelta(days=1)


class ForecastError(HydroriskError):
    """A forecast request that cannot be met (unknown station, nothing stored ...)."""


@dataclass(frozen=True)
class Input:
    """An exogenous input of a gauge's SARIMAX: the daily ``variable`` (discharge of a
    gauge, outflow of a reservoir, m³/s) of ``station``, ``lag_days`` before."""

    station: str
    variable: str
    travel_days: float
    lag_days: int
    reaches: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.station}:{self.variable}"


@dataclass
class ForecastRunReport:
    """What one :func:`run` did."""

    known_at: dt.datetime
    created_at: dt.datetime
    horizon: int
    methods: tuple[str, ...]
    issue_times: dict[str, dt.datetime] = field(default_factory=dict)
    run_ids: list[int] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def stations(self) -> list[str]:
        return sorted(self.issue_times)

    def summary(self) -> str:
        return (f"{len(self.run_ids)} forecast(s) at {len(self.issue_times)} gauge(s) as of "
                f"{self.known_at:%Y-%m-%d %H:%M} UTC, leads 1-{self.horizon} d "
                f"({', '.join(self.methods)}); {len(self.skipped)} gauge(s) skipped; "
                f"{self.seconds:.1f} s")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _naive(t: dt.datetime | None) -> dt.datetime | None:
    if t is not None and t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


# --------------------------------------------------------------------------- network

def upstream_inputs(config: Config, station: str,
                    observed: Collection[str] | None = None) -> list[Input]:
    """The gauges and reservoirs directly upstream of ``station`` with their lags.

    ``observed``: the stations with data (gauges with discharge, reservoirs with outflow);
    a gauge or reservoir not among them is walked through like a confluence (None: every
    gauge and reservoir counts).  Sorted by station id.
    """
    net = config.network
    out: dict[str, Input] = {}
    todo: list[tuple[str, float, tuple[str, ...]]] = [(station, 0.0, ())]
    seen: set[str] = set()
    while todo:
        node, travel, path = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for reach in net.upstream_reaches(node):
            up, t = reach.upstream, travel + travel_time_days([reach])
            reaches = (reach.id, *path)
            kind = ("discharge" if up in net.gauges else "outflow" if up in net.reservoirs
                    else None)
            if kind is not None and (observed is None or up in observed):
                out[up] = Input(up, kind, t, _half_up(t), reaches)
            else:
                todo.append((up, t, reaches))
    return [out[k] for k in sorted(out)]


# --------------------------------------------------------------------------- reading

def _timezones(config: Config) -> dict[str, str]:
    tz = {g.id: g.timezone for g in config.network.gauges.values()}
    for r in config.network.reservoirs.values():
        tz[r.id] = getattr(r, "timezone", None) or next(
            (g.timezone for g in config.network.gauges.values() if g.basin == r.basin), "UTC")
    return tz


def _read(store: Store, config: Config, stations: Sequence[str], variables: Sequence[str],
          end: dt.datetime | None, as_of: dt.datetime | None
          ) -> tuple[dict[tuple[str, str], pd.Series], dict[tuple[str, str], dt.datetime]]:
    """Daily local-date means of each (station, variable) observed by ``end`` and received by
    ``as_of`` (None: every stored value), and the time of the last value of each."""
    df = api.observations(store, stations=list(stations), variables=list(variables),
                          end=end, as_of=as_of)
    tz = _timezones(config)
    daily: dict[tuple[str, str], pd.Series] = {}
    last: dict[tuple[str, str], dt.datetime] = {}
    if df.empty:
        return daily, last
    for (sid, var), rows in df.groupby(["station_id", "variable"], sort=True, observed=True):
        rows = rows[np.isfinite(rows["value"].to_numpy(dtype=float))]
        if rows.empty:
            continue
        node = config.network.node(str(sid))
        country = getattr(node, "country", None)
        s = station_daily(rows, tz.get(str(sid), "UTC"), "mean",
                          [country] if country else ())
        if s.empty:
            continue
        s.index = pd.DatetimeIndex(s.index)
        daily[(str(sid), str(var))] = s.asfreq("D")
        last[(str(sid), str(var))] = pd.Timestamp(rows["time"].max()).to_pydatetime()
    return daily, last


def daily_series(store: Store, config: Config, station: str, variable: str = "discharge", *,
                 end: dt.datetime | None = None, as_of: dt.datetime | None = None
                 ) -> pd.Series:
    """One station's variable as daily local-date means (NaN on missing days), observed by
    ``end`` and received by ``as_of`` (None: all stored)."""
    daily, _ = _read(store, config, [station], [variable], _naive(end), _naive(as_of))
    return daily.get((station, variable), pd.Series(dtype=float))


def _methods(methods: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(methods))
    bad = [m for m in chosen if m not in METHODS]
    if bad or not chosen:
        raise ForecastError(f"unknown method(s) {', '.join(bad) or '(none)'}; choose from "
                            f"{', '.join(METHODS)}")
    return chosen


def _horizon(horizon: int) -> int:
    if not isinstance(horizon, int) or not 1 <= horizon <= sr.MAX_HORIZON:
        raise ForecastError(f"the horizon must be 1..{sr.MAX_HORIZON} days, got {horizon!r}")
    return horizon


# --------------------------------------------------------------------------- forecasting

def _downstream_order(config: Config, stations: Sequence[str]) -> list[str]:
    """``stations`` upstream first (the network's topological order), so each gauge's
    forecast can feed the gauges below it."""
    rank = {n: k for k, n in enumerate(config.network.order)}
    return sorted(stations, key=lambda s: (rank.get(s, len(rank)), s))


def _releases(config: Config, releases: Mapping[str, pd.Series | float] | None
              ) -> dict[str, pd.Series | float]:
    plans = dict(releases or {})
    unknown = [r for r in plans if r not in config.network.reservoirs]
    if unknown:
        raise ForecastError(f"planned release for unknown reservoir(s) {', '.join(unknown)}; "
                            f"reservoirs: {', '.join(config.network.reservoirs)}")
    return plans


def _as_input(frame: pd.DataFrame) -> pd.Series:
    """A SARIMAX forecast frame as a daily series of discharge (>= 0) by valid date."""
    return pd.Series(np.clip(frame["forecast"].to_numpy(dtype=float), 0.0, None),
                     index=pd.DatetimeIndex(frame["valid_time"]))


def _input_sd(frame: pd.DataFrame, alpha: float) -> pd.Series:
    """The standard deviation of a SARIMAX forecast by valid date, from its interval."""
    return pd.Series(sigma_from_interval(frame["lower"], frame["upper"], alpha),
                     index=pd.DatetimeIndex(frame["valid_time"]))


def _widened(frame: pd.DataFrame, model: sr.SarimaxForecaster, used: Sequence[Input],
             how: Mapping[str, str], upstream_sd: Mapping[str, pd.Series], alpha: float
             ) -> pd.DataFrame:
    """``frame``'s interval widened for the inputs whose future is an upstream gauge's own
    forecast (:func:`hydro.short_range.widen_for_forecast_inputs`); planned releases and
    persisted inputs are taken as known."""
    params = model.params if model.params is not None else pd.Series(dtype=float)
    terms = []
    for i in used:
        sd = upstream_sd.get(i.name)
        if how.get(i.name) != "upstream forecast" or sd is None:
            continue
        beta = params.get(sr._column(i.name, i.lag_days))
        if beta is not None and np.isfinite(beta):
            terms.append((float(beta), i.lag_days, sd))
    return sr.widen_for_forecast_inputs(frame, terms, alpha=alpha) if terms else frame


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """statsmodels' estimation and convergence chatter is not the user's business."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="statsmodels")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        yield


def _inputs_frame(config: Config, station: str, daily: dict[tuple[str, str], pd.Series]
                  ) -> tuple[list[Input], pd.DataFrame | None]:
    """The upstream inputs of ``station`` that have data, and their daily series."""
    observed = {s for (s, v) in daily if v in ("discharge", "outflow")}
    inputs = [i for i in upstream_inputs(config, station, observed)
              if (i.station, i.variable) in daily]
    if not inputs:
        return [], None
    frame = pd.concat({i.name: daily[(i.station, i.variable)] for i in inputs}, axis=1)
    return inputs, frame.asfreq("D")


def _planned(inputs: Sequence[Input], issue: pd.Timestamp, horizon: int,
             upstream: Mapping[str, pd.Series], releases: Mapping[str, pd.Series | float]
             ) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """The future values of the inputs after ``issue``: a planned release of a reservoir
    where one is given, else the upstream gauge's own SARIMAX forecast of the same issue
    where there is one (the forecasts cascade down the network), else nothing (the input
    is persisted).  Also says which, per input."""
    days = pd.date_range(issue + _DAY, periods=horizon, freq="D")
    cols: dict[str, pd.Series] = {}
    how: dict[str, str] = {}
    for i in inputs:
        v = pd.Series(np.nan, index=days)
        what = "persisted"
        f = upstream.get(i.name)
        if f is not None and f.reindex(days).notna().any():
            v, what = f.reindex(days).astype(float), "upstream forecast"
        plan = releases.get(i.station) if i.variable == "outflow" else None
        if plan is not None:
            if isinstance(plan, pd.Series):
                p = pd.Series(plan.to_numpy(dtype=float),
                              index=pd.DatetimeIndex(plan.index).normalize()).reindex(days)
            else:  # one release for the whole horizon
                p = pd.Series(float(plan), index=days)
            if p.notna().any():
                v, what = p.combine_first(v), "planned release"
        how[i.name] = what
        if v.notna().any():
            cols[i.name] = v
    return (pd.DataFrame(cols, index=days) if cols else None), how


def _fit(y: pd.Series, inputs: list[Input], x: pd.DataFrame | None, through: pd.Timestamp,
         fit_window_days: int | None
         ) -> tuple[sr.SarimaxForecaster, list[Input], pd.DataFrame | None, str | None]:
    """A SARIMAX fitted on the data up to ``through`` with the upstream inputs, or
    univariate when they cannot be used (the note says why)."""
    note = None
    if inputs:
        lags = {i.name: i.lag_days for i in inputs}
        try:
            model = sr.SarimaxForecaster(lags=lags, trend=INPUT_TREND,
                                         fit_window_days=fit_window_days)
            return model.fit(y, x, through=through), inputs, x, None
        except (sr.ShortRangeError, ValueError, np.linalg.LinAlgError) as e:
            note = f"upstream inputs not used ({e}); univariate"
    model = sr.SarimaxForecaster(fit_window_days=fit_window_days).fit(y, None, through=through)
    return model, [], None, note


def _sarimax_parameters(model: sr.SarimaxForecaster, inputs: list[Input],
                        future: Mapping[str, str]) -> dict[str, Any]:
    params = model.params if model.params is not None else pd.Series(dtype=float)
    return {"order": list(model.order), "trend": model.trend,
            "fit_window_days": model.fit_window_days,
            "fitted_through": None if model.fitted_through is None
            else str(model.fitted_through.date()),
            "params": {str(k): float(v) for k, v in params.items()},
            "inputs": [{"station": i.station, "variable": i.variable,
                        "travel_days": round(i.travel_days, 3), "lag_days": i.lag_days,
                        "reaches": list(i.reaches), "after_lag": future.get(i.name, "persisted")}
                       for i in inputs]}


def _forecast_station(config: Config, station: str, daily: dict[tuple[str, str], pd.Series],
                      methods: Sequence[str], horizon: int, alpha: float,
                      fit_window_days: int | None, upstream: Mapping[str, pd.Series],
                      releases: Mapping[str, pd.Series | float],
                      upstream_sd: Mapping[str, pd.Series] | None = None
                      ) -> tuple[pd.Timestamp, list[tuple[str, pd.DataFrame, dict, str | None]]]:
    """The discharge forecasts of one gauge: its issue date and, per method, (method,
    frame, parameters, note).  Raises ShortRangeError when it has no discharge."""
    y = daily.get((station, "discharge"))
    if y is None or y.dropna().empty:
        raise sr.ShortRangeError("no discharge in the store")
    issue = pd.Timestamp(y.dropna().index[-1])
    y = y.loc[:issue]
    out: list[tuple[str, pd.DataFrame, dict, str | None]] = []
    with _quiet():
        for method in methods:
            if method in ENSEMBLE_METHODS:
                continue  # network-wide, issued by run() (hydro.services.process_forecast)
            try:
                if method == "persistence":
                    out.append((method, sr.persistence_forecast(y, issue, horizon, alpha=alpha),
                                {"window_days": 15}, None))
                elif method == "climatology":
                    out.append((method, sr.climatology_forecast(y, issue, horizon, alpha=alpha),
                                {"window_days": 7,
                                 "history_from": str(y.dropna().index[0].date())}, None))
                else:
                    inputs, x = _inputs_frame(config, station, daily)
                    model, used, x, note = _fit(y, inputs, x, issue, fit_window_days)
                    plan, how = _planned(used, issue, horizon, upstream, releases)
                    frame = model.forecast(y, x, issue, horizon, alpha=alpha, planned=plan)
                    frame = _widened(frame, model, used, how, upstream_sd or {}, alpha)
                    out.append((method, frame, _sarimax_parameters(model, used, how), note))
            except (sr.ShortRangeError, ValueError, np.linalg.LinAlgError) as e:
                out.append((method, pd.DataFrame(), {}, f"{method} not issued: {e}"))
    return issue, out


def _rating(config: Config, station: str, issue: pd.Timestamp) -> Any:
    """The gauge's stage-discharge rating in force on the issue date, or None."""
    rating = config.network.gauges[station].rating
    return None if rating is None or rating.valid_from > issue.date() else rating


def _as_variable(a: np.ndarray, variable: str, rating: Any) -> np.ndarray:
    """Discharge (m³/s) clipped at 0 (a river does not flow backwards), as ``variable``:
    itself, or the stage (cm) through ``rating``."""
    a = np.clip(np.asarray(a, dtype=float), 0.0, None)
    if variable == "discharge":
        return a
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(a), rating.stage(np.nan_to_num(a)), np.nan)


def _values(frame: pd.DataFrame, variable: str, config: Config, station: str,
            issue: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """Discharge (clipped at 0: a river does not flow backwards) or, through the rating in
    force on the issue date, stage; None when there is no such rating."""
    v = pd.DataFrame({"lead_days": frame["lead_days"].astype(int),
                      "valid_date": pd.DatetimeIndex(frame["valid_time"])})
    srcs = (("value", "forecast"), ("lower", "lower"), ("upper", "upper"))
    if variable == "discharge":
        for c, src in srcs:
            v[c] = _as_variable(frame[src].to_numpy(dtype=float), variable, None)
        return v, {}
    rating = _rating(config, station, issue)
    if rating is None:
        return v, None
    for c, src in srcs:
        v[c] = _as_variable(frame[src].to_numpy(dtype=float), variable, rating)
    return v, {"from": "discharge", "rating": {
        "a_m3s": rating.a.to("discharge"), "b": rating.b, "h0_cm": rating.h0.to("stage"),
        "valid_from": str(rating.valid_from), "status": str(rating.status)}}


def _member_rows(members: np.ndarray, variable: str, config: Config, station: str,
                 issue: pd.Timestamp) -> pd.DataFrame:
    """An ensemble's members (M, H) of discharge as the stored rows (lead_days, member,
    value) of ``variable`` (through the same rating as :func:`_values`)."""
    rating = _rating(config, station, issue) if variable == "stage" else None
    a = _as_variable(members, variable, rating)
    m, h = a.shape
    return pd.DataFrame({"lead_days": np.tile(np.arange(1, h + 1), m),
                         "member": np.repeat(np.arange(m), h), "value": a.reshape(-1)})


def _process(store: Store, config: Config, chosen: Sequence[str],
             daily: dict[tuple[str, str], pd.Series], horizon: int, alpha: float,
             plans: Mapping[str, pd.Series | float], members: int, end: dt.datetime | None,
             as_of: dt.datetime | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The process ensembles of the gauges of ``chosen`` with discharge (each from its own
    issue date), and per gauge without one the reason."""
    from hydro.services import process_forecast as pfs

    issues = {}
    for sid in chosen:
        y = daily.get((sid, "discharge"))
        if y is not None and not y.dropna().empty:
            issues[sid] = pd.Timestamp(y.dropna().index[-1])
    if not issues:
        return {}, {}
    basins = pfs.basins_of(config, issues)
    extra, _ = _read(store, config, _reservoirs_of(config, basins),
                     list(pfs.RESERVOIR_VARIABLES), end, as_of)
    try:
        state = pfs.prepare(config, store, basins, set(issues.values()))
    except (HydroriskError, ValueError, KeyError) as e:
        return {}, {s: f"process not issued: {e}" for s in issues}
    return pfs.forecast_gauges(config, state, issues, {**daily, **extra}, horizon,
                               releases=plans, members=members, alpha=alpha)


def _reservoirs_of(config: Config, basins: Sequence[str]) -> list[str]:
    """The reservoirs of ``basins``, in the network's order."""
    wanted = set(basins)
    return [n for n in config.network.order
            if n in config.network.reservoirs and config.network.basin_of(n) in wanted]


def run(store: Store, config: Config, *, issue_time: dt.datetime | None = None,
        stations: Iterable[str] | None = None, methods: Iterable[str] = METHODS,
        horizon: int = DEFAULT_HORIZON, on_time: bool = False, alpha: float = ALPHA,
        fit_window_days: int | None = FIT_WINDOW_DAYS,
        releases: Mapping[str, pd.Series | float] | None = None, write: bool = True,
        members: int = 40) -> ForecastRunReport:
    """Forecast every gauge's (or ``stations``') daily discharge, and stage through its
    rating, for leads 1..``horizon`` days by each of ``methods``, from what the store knew
    at ``issue_time`` (default: now), and store the runs.

    Parameters
    ----------
    issue_time : datetime, optional
        UTC (naive, or aware and converted).  Values observed after it, or received after
        it (unless ``on_time``), are not read.
    on_time : bool
        Count every stored value as received when it was observed (a replay of data loaded
        after the fact, such as the bundled series).
    releases : mapping, optional
        Planned release schedules: reservoir id -> daily outflow (m³/s) by local date, or
        one outflow for the whole horizon; the SARIMAX of the gauges below takes it as the
        reservoir's future outflow (else the last outflow is persisted), and the process
        model releases it (else it holds the last observed outflow).
    members : int
        Members of the process-model ensemble (method ``process``).
    write : bool
        Store the runs (False: compute only, e.g. for a benchmark).

    Returns
    -------
    ForecastRunReport
        Per gauge the issue time (the last discharge observation used, UTC); gauges without
        discharge are in ``skipped`` with the reason, methods that could not be issued in
        ``notes``.
    """
    chosen = chosen_gauges(config, stations, ForecastError, "forecasts")
    meths = _methods(methods)
    _horizon(horizon)
    t0 = _time.perf_counter()
    created = _utcnow()
    known = _naive(issue_time) or created
    report = ForecastRunReport(known_at=known, created_at=created, horizon=horizon,
                               methods=meths)
    need = set(chosen)
    if "sarimax" in meths:
        for s in chosen:
            need.update(i.station for i in upstream_inputs(config, s))
    daily, last = _read(store, config, sorted(need), ["discharge", "outflow"], known,
                        None if on_time else known)
    plans = _releases(config, releases)
    batch: list[tuple[dict[str, Any], pd.DataFrame, pd.DataFrame | None]] = []
    upstream: dict[str, pd.Series] = {}
    upstream_sd: dict[str, pd.Series] = {}
    ensembles: dict[str, Any] = {}
    if "process" in meths:
        ensembles, why = _process(store, config, chosen, daily, horizon, alpha, plans,
                                  members, known, None if on_time else known)
        for sid, why_not in why.items():
            report.notes.setdefault(sid, []).append(why_not)
    for sid in _downstream_order(config, chosen):
        try:
            issue, results = _forecast_station(config, sid, daily, meths, horizon, alpha,
                                               fit_window_days, upstream, plans,
                                               upstream_sd)
        except sr.ShortRangeError as e:
            report.skipped[sid] = f"{e} up to {known:%Y-%m-%d %H:%M} UTC"
            continue
        issue_time_used = last[(sid, "discharge")]
        if sid in ensembles:
            from hydro.services.process_forecast import frame as ensemble_frame

            ens = ensembles[sid]
            results.append(("process", ensemble_frame(ens, alpha), ens.parameters, None))
        for method, frame, params, note in results:
            if note:
                report.notes.setdefault(sid, []).append(note)
            if frame.empty:
                continue
            if method == "sarimax":
                upstream[f"{sid}:discharge"] = _as_input(frame)
                upstream_sd[f"{sid}:discharge"] = _input_sd(frame, alpha)
            for variable in ("discharge", "stage"):
                values, extra = _values(frame, variable, config, sid, issue)
                if extra is None:
                    continue
                rows = (_member_rows(ensembles[sid].members, variable, config, sid, issue)
                        if method in ENSEMBLE_METHODS else None)
                fields = {"station_id": sid, "variable": variable,
                          "unit": UNITS[variable], "method": method,
                          "issue_time": issue_time_used, "issue_date": issue.to_pydatetime(),
                          "known_at": known, "created_at": created,
                          "horizon_days": horizon, "alpha": alpha,
                          "parameters": json.dumps({**params, **extra}, sort_keys=True),
                          "note": note}
                batch.append((fields, values, rows))
        report.issue_times[sid] = issue_time_used
    if write and batch:
        report.run_ids = _store.write_runs(store, batch)
    elif batch:
        report.run_ids = [-1] * len(batch)
    report.seconds = _time.perf_counter() - t0
    return report


def refresh(store: Store, config: Config, *, now: dt.datetime | None = None
            ) -> ForecastRunReport | None:
    """After an ingest (the worker): reissue the forecasts of the basins that received data
    since the last refresh — every gauge of such a basin, so the forecasts still cascade
    down its rivers — or of every gauge when none was issued yet.  None when nothing new
    arrived.  A basin's mean series (``BASIN:<id>``) do not count: they are the outlook's."""
    from hydro.store.alerts import stations_received

    known = _naive(now) or _utcnow()
    previous = _store.runs(store, limit=200)
    previous = previous[previous["method"] != "outlook"]
    last = None if previous.empty else pd.Timestamp(previous["known_at"].max()).to_pydatetime()
    if last is None:
        return run(store, config, issue_time=known)
    received = stations_received(store, last, known)
    net = config.network
    basins = {net.node(s).basin for s in received
              if s in net.gauges or s in net.reservoirs or s in net.nodes}
    if not basins:
        return None
    chosen = [g for g, gauge in net.gauges.items() if gauge.basin in basins]
    return run(store, config, issue_time=known, stations=chosen)


# --------------------------------------------------------------------------- reading back

def runs(store: Store, station: str | None = None, *, as_of: dt.datetime | None = None,
         limit: int | None = None) -> pd.DataFrame:
    """The stored forecast runs (newest issue first): id, station_id, variable, unit, method,
    issue_time, issue_date, known_at, created_at, horizon_days, alpha, parameters, note."""
    return _store.runs(store, station, as_of=_naive(as_of), limit=limit)


def latest(store: Store, station: str, as_of: dt.datetime | None = None, *,
           variable: str | None = None, observed: bool = True) -> pd.DataFrame:
    """The forecast of ``station`` that was current at ``as_of`` (default: the newest) —
    the runs of the latest issue among those computed from what the store had received by
    then (a later run, even of the same data, is not seen: a replay) — one row per
    (variable, method, lead).

    Columns: :data:`hydro.store.forecasts.VALUE_COLUMNS` (run id, station, variable, unit,
    method, issue_time, issue_date, known_at, created_at, ..., lead_days, valid_date, value,
    lower, upper) and, with ``observed``, ``observed``: the daily local-date mean of the
    values stored now on the valid date (NaN where none), to set the forecast against what
    happened.
    """
    frame = _store.current(store, station, as_of=_naive(as_of), variable=variable)
    if not observed:
        return frame
    frame = frame.assign(observed=np.nan)
    if frame.empty:
        return frame
    tz = "UTC"
    st = api.stations(store)
    hit = st[st["id"] == station]
    if len(hit) and isinstance(hit["timezone"].iloc[0], str):
        tz = hit["timezone"].iloc[0]
    for var in frame["variable"].unique():
        lo = pd.Timestamp(frame["valid_date"].min()) - 2 * _DAY
        hi = pd.Timestamp(frame["valid_date"].max()) + 2 * _DAY
        rows = api.observations(store, stations=[station], variables=[str(var)],
                                start=lo.to_pydatetime(), end=hi.to_pydatetime())
        rows = rows.assign(station_id=station)
        s = station_daily(rows, tz, "mean") if not rows.empty else pd.Series(dtype=float)
        if s.empty:
            continue
        sel = frame["variable"] == var
        frame.loc[sel, "observed"] = (pd.Series(s.to_numpy(dtype=float),
                                                index=pd.DatetimeIndex(s.index))
                                      .reindex(pd.DatetimeIndex(frame.loc[sel, "valid_date"]))
                                      .to_numpy())
    return frame


# --------------------------------------------------------------------------- backtest, skill

def spring_issue_dates(years: Iterable[int], every_days: int = 5, start: str = "03-15",
                       end: str = "05-31") -> list[pd.Timestamp]:
    """Issue dates every ``every_days`` days from ``start`` to ``end`` (MM-DD) of each year:
    the spring-flood season of the plains rivers."""
    out: list[pd.Timestamp] = []
    for y in years:
        out.extend(pd.date_range(f"{y}-{start}", f"{y}-{end}", freq=f"{every_days}D"))
    return out


def backtest(store: Store, config: Config, *, start: dt.date | dt.datetime | str,
             end: dt.date | dt.datetime | str, stations: Iterable[str] | None = None,
             horizon: int = DEFAULT_HORIZON, every_days: int = 7,
             methods: Iterable[str] = METHODS, alpha: float = ALPHA,
             fit_window_days: int | None = FIT_WINDOW_DAYS,
             refit_every: int | None = None, members: int = 40) -> pd.DataFrame:
    """Rolling-origin backtest of the daily discharge forecasts on the stored history.

    Issue dates (local dates) every ``every_days`` days from ``start`` to ``end``; each
    forecast uses only the daily values up to its issue date (the current revisions stored
    now: a correction received later is used, as the record stands).  The SARIMAX
    parameters of each gauge are fitted at its first issue date (and again every
    ``refit_every`` issue dates), on the ``fit_window_days`` before it; in between they
    filter the new data.  As in :func:`run`, the gauges are forecast upstream first and
    an upstream gauge's SARIMAX forecast is the future of the inputs below it.  The
    process ensemble (``members`` members) runs the network once per issue date, from the
    reservoirs' operations and the gauges' discharge up to that date.

    Returns
    -------
    pandas.DataFrame
        ``station_id``, ``variable`` (``discharge``), ``issue_time`` (the issue date),
        ``lead_days``, ``valid_time``, ``forecast``, ``observed``, ``lower``, ``upper``,
        ``method`` (m³/s), ``member`` (the ensemble member of a ``process`` row, one row
        per member; NaN for the point forecasts); ``attrs["notes"]`` {station: why a
        method was left out}.
    """
    chosen = chosen_gauges(config, stations, ForecastError, "forecasts")
    meths = _methods(methods)
    _horizon(horizon)
    if every_days < 1:
        raise ForecastError(f"--every must be at least 1 day, got {every_days}")
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if hi < lo:
        raise ForecastError(f"the backtest ends ({hi.date()}) before it starts ({lo.date()})")
    issues = list(pd.date_range(lo, hi, freq=f"{every_days}D"))
    return _backtest(store, config, chosen, issues, horizon, meths, alpha, fit_window_days,
                     refit_every, members=members)


def _backtest(store: Store, config: Config, chosen: list[str], issues: list[pd.Timestamp],
              horizon: int, meths: tuple[str, ...], alpha: float,
              fit_window_days: int | None, refit_every: int | None,
              daily: dict[tuple[str, str], pd.Series] | None = None,
              members: int = 40) -> pd.DataFrame:
    """Every issue date, every gauge upstream first, as :func:`run` would have issued them
    (the SARIMAX of a gauge takes the forecast of the gauges above it issued the same day as
    their future), from the daily values up to the issue date only."""
    if daily is None:
        need = set(chosen)
        for s in chosen:
            need.update(i.station for i in upstream_inputs(config, s))
        daily, _ = _read(store, config, sorted(need), ["discharge", "outflow"], None, None)
    order = _downstream_order(config, chosen)
    notes: dict[str, list[str]] = {}
    frames: list[pd.DataFrame] = []
    models: dict[str, tuple[sr.SarimaxForecaster, list[Input], pd.DataFrame | None]] = {}
    fitted_at: dict[str, int] = {}
    ys: dict[str, pd.Series] = {}
    for sid in order:
        y = daily.get((sid, "discharge"))
        if y is None or y.dropna().empty:
            notes.setdefault(sid, []).append("no discharge in the store")
        else:
            ys[sid] = y
    ens_state = None
    if "process" in meths and ys:
        from hydro.services import process_forecast as pfs

        basins = pfs.basins_of(config, ys)
        extra, _ = _read(store, config, _reservoirs_of(config, basins),
                         list(pfs.RESERVOIR_VARIABLES), None, None)
        daily = {**daily, **extra}
        try:
            ens_state = pfs.prepare(config, store, basins, issues)
        except (HydroriskError, ValueError, KeyError) as e:
            for sid in ys:
                notes.setdefault(sid, []).append(f"process not issued: {e}")
    with _quiet():
        for k, issue in enumerate(issues):
            upstream: dict[str, pd.Series] = {}
            upstream_sd: dict[str, pd.Series] = {}
            due_now = {sid: issue for sid, y in ys.items()
                       if y.dropna().index[0] + sr.MIN_HISTORY_DAYS * _DAY <= issue
                       <= y.dropna().index[-1]}
            ensembles: dict[str, Any] = {}
            if ens_state is not None and due_now:
                ensembles, why = pfs.forecast_gauges(config, ens_state, due_now, daily,
                                                     horizon, members=members, alpha=alpha)
                for sid, why_not in why.items():
                    if why_not not in notes.get(sid, []):
                        notes.setdefault(sid, []).append(why_not)
            for sid, y in ys.items():
                if sid not in due_now:
                    continue
                out: list[pd.DataFrame] = []
                try:
                    if "persistence" in meths:
                        out.append(sr.persistence_forecast(y, issue, horizon, alpha=alpha))
                    if "climatology" in meths:
                        out.append(sr.climatology_forecast(y, issue, horizon, alpha=alpha))
                    if "sarimax" in meths:
                        due = (sid not in models or (refit_every is not None
                                                     and k - fitted_at[sid] >= refit_every))
                        if due:
                            inputs, x = _inputs_frame(config, sid, daily)
                            model, used, x, note = _fit(y, inputs, x, issue, fit_window_days)
                            if note and note not in notes.get(sid, []):
                                notes.setdefault(sid, []).append(note)
                            models[sid], fitted_at[sid] = (model, used, x), k
                        model, used, x = models[sid]
                        plan, how = _planned(used, issue, horizon, upstream, {})
                        frame = model.forecast(y, x, issue, horizon, alpha=alpha, planned=plan)
                        frame = _widened(frame, model, used, how, upstream_sd, alpha)
                        upstream[f"{sid}:discharge"] = _as_input(frame)
                        upstream_sd[f"{sid}:discharge"] = _input_sd(frame, alpha)
                        out.append(frame)
                except (sr.ShortRangeError, ValueError, np.linalg.LinAlgError) as e:
                    notes.setdefault(sid, []).append(f"{issue.date()}: {e}")
                    continue
                if sid in ensembles:
                    ens = ensembles[sid]
                    m, h = ens.members.shape
                    out.append(pd.DataFrame({
                        "issue_time": issue, "lead_days": np.tile(np.arange(1, h + 1), m),
                        "valid_time": np.tile(ens.dates.to_numpy(), m),
                        "forecast": ens.members.reshape(-1), "lower": np.nan,
                        "upper": np.nan, "method": "process",
                        "member": np.repeat(np.arange(m), h).astype(float)}))
                bt = pd.concat(out, ignore_index=True)
                if "member" not in bt.columns:
                    bt["member"] = np.nan
                bt["observed"] = y.reindex(pd.DatetimeIndex(bt["valid_time"])).to_numpy(
                    dtype=float)
                frames.append(bt.assign(station_id=sid, variable="discharge"))
    columns = ["station_id", "variable", "issue_time", "lead_days", "valid_time", "forecast",
               "observed", "lower", "upper", "method", "member"]
    result = (pd.concat(frames, ignore_index=True)[columns] if frames
              else pd.DataFrame(columns=columns))
    result = result.sort_values(["station_id", "method", "issue_time", "lead_days", "member"],
                                kind="stable").reset_index(drop=True)
    result.attrs["notes"] = notes
    return result


def skill(backtest: pd.DataFrame, *, score: str = "mse") -> pd.DataFrame:
    """The skill table by gauge, method and lead (:func:`hydro.forecast_skill.skill_by_lead`
    per station, against persistence and climatology): ``station_id``, ``method``,
    ``lead_days``, ``n``, ``nse``, ``kge``, ``mae``, ``rmse``, ``mse``, ``crps``, the skill
    scores ``skill_<score>_vs_<reference>`` and ``beats_persistence`` (the ``score`` skill
    against persistence > 0)."""
    tables = []
    for sid, g in backtest.groupby("station_id", sort=True):
        refs = [r for r in ("persistence", "climatology") if r in set(g["method"])]
        if "persistence" not in refs:
            continue
        t = skill_by_lead(g, references=refs, score=score)  # type: ignore[arg-type]
        tables.append(t.assign(station_id=sid))
    if not tables:
        return pd.DataFrame(columns=["station_id", "method", "lead_days", "n",
                                     "beats_persistence"])
    out = pd.concat(tables, ignore_index=True)
    return out[["station_id", *[c for c in out.columns if c != "station_id"]]]


# --------------------------------------------------------------------------- stored skill

def save_skill(store: Store, table: pd.DataFrame, *, start: dt.date | dt.datetime | str,
               end: dt.date | dt.datetime | str, issues: int, variable: str = "discharge"
               ) -> int:
    """Keep a backtest's skill table (:func:`skill`) in the store, so that every view of a
    forecast can mark a method that did not beat persistence at a lead
    (:func:`stored_skill`).  Returns the backtest's id."""
    computed = _utcnow()
    lo, hi = pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()
    numeric = [c for c in table.columns if c not in ("station_id", "method", "lead_days", "n",
                                                    "beats_persistence")]
    rows = []
    for r in table.to_dict("records"):
        beats = r.get("beats_persistence")
        scores = {c: (None if r[c] is None or not np.isfinite(float(r[c])) else float(r[c]))
                  for c in numeric if isinstance(r[c], int | float | np.number) or r[c] is None}
        rows.append({"computed_at": computed, "period_start": lo, "period_end": hi,
                     "issues": int(issues), "station_id": r["station_id"],
                     "variable": variable, "method": r["method"],
                     "lead_days": int(r["lead_days"]), "n": int(r["n"]),
                     "beats_persistence": None if beats is None or pd.isna(beats)
                     else bool(beats),
                     "scores": json.dumps(scores, sort_keys=True)})
    return _store.write_skill(store, rows)


def stored_skill(store: Store, station: str | None = None, *, variable: str = "discharge",
                 as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The newest stored backtest's skill lines of each station (or ``station``): backtest
    id, when computed, its period and number of issue dates, station, method, lead, n,
    ``beats_persistence`` and the scores (NSE, KGE, CRPS, skill scores) as columns."""
    frame = _store.skill(store, station, variable=variable, as_of=_naive(as_of))
    if frame.empty:
        return frame.drop(columns="scores")
    scores = pd.DataFrame([json.loads(t) for t in frame["scores"]], index=frame.index)
    return pd.concat([frame.drop(columns="scores"), scores], axis=1)
