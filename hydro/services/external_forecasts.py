"""External ensemble forecasts (issue 12, item 4): a CF-NetCDF ensemble of daily discharge
at the gauges (GloFAS-type), bias-corrected to the national gauges and set against the
national warning levels.

Steps (:func:`run`)
    1. Read the forecast file and the *reforecast* file — the model's climatology
       (:func:`hydro.readers.ensemble_netcdf.read_ensemble`; without ``reforecast`` the one
       of ``config/external_forecasts.toml``, ``[reforecast] path``, else
       :data:`DEFAULT_REFORECAST` under the bundled-data folder).
    2. Per matched gauge and lead: empirical quantile mapping
       (:func:`hydro.quantile_mapping.map_by_window`) of the forecast's members, fitted on
       the reforecast's members at that lead whose valid date has a stored daily
       observation, against the gauge's stored daily discharge over the same years, both
       within ± ``window_days`` days of year of the forecast's valid date.  Only
       observations up to the issue are used.
    3. Corrected discharge (m³/s) and, through the gauge's rating in force on the issue
       date, stage (cm above gauge zero): median and the central 1 − ``alpha`` range
       (5-95 %) of the members per lead; the probability (the fraction of members) of
       reaching each **national** warning level in force on the valid date (Kazhydromet's
       dangerous level ``kz_dangerous``, Roshydromet's НЯ/ОЯ ``ru_nya_oya``; levels of
       both parties and conflicting published values each on its own) — not the model's
       own return periods.
    4. Stored as forecast runs of method :data:`METHOD` (``hydro.store.forecasts``), one for
       discharge and one for stage, ``issue_time`` = the forecast reference time (UTC),
       ``known_at`` = when loaded; the file, its source, the calibration period and the
       exceedance probabilities are in the run's ``parameters``, so :func:`exceedance` and
       :func:`hydro.services.forecasts.latest` replay them.

Dates: the file's daily values are labelled by the UTC date they are the mean of
(:meth:`EnsembleForecast.valid_dates`); the store's daily discharge by local date.  The
5-6 h between them (Kazakhstan, Russia east of the Urals) is ignored: a daily mean.
"""

from __future__ import annotations

import datetime as dt
import json
import time as _time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hydro import quantile_mapping as qm
from hydro.config import Config, read_toml
from hydro.errors import HydroriskError, validate
from hydro.network import Strict
from hydro.readers.ensemble_netcdf import (
    MATCH_TOLERANCE_KM,
    EnsembleForecast,
    StationMatch,
    read_ensemble,
)
from hydro.services import forecasts as _fc
from hydro.services.context import Store
from hydro.warning import HIGH_WATER_LEVELS

__all__ = ["METHOD", "NATIONAL_SCHEMES", "WINDOW_DAYS", "DEFAULT_REFORECAST", "CONFIG_FILE",
           "ExternalForecastError", "GaugeForecast", "ExternalRunReport", "configured_reforecast",
           "correct_members", "run", "exceedance"]

#: the forecast-run method of the corrected external ensemble (≤ 16 characters)
METHOD = "external-qm"
#: the national warning schemes the probabilities are given for
NATIONAL_SCHEMES: tuple[str, ...] = ("kz_dangerous", "ru_nya_oya")
#: half-width of the day-of-year window of the calibration samples, days
WINDOW_DAYS = 15
#: fewest values in a calibration sample (model or observed) for a transfer function
MIN_SAMPLES = 20
#: nodes of the transfer functions: the percentiles 0.5, 1.5 ... 99.5 (Gudmundsson et al.
#: 2012 use percentiles); beyond the extreme ones the correction is held constant
N_QUANTILES = 100
#: central 1 - ALPHA range of the members (5-95 %)
ALPHA = 0.1
#: the deployment's choice of reforecast: config/<CONFIG_FILE>, [reforecast] path = "..."
CONFIG_FILE = "external_forecasts.toml"
#: without it: this file under the bundled-data folder (settings [paths] bundled)
DEFAULT_REFORECAST = "external/glofas_like_reforecast_SYNTHETIC.nc"
_DAY = pd.Timedelta(days=1)


class ExternalForecastError(HydroriskError):
    """An external forecast that cannot be corrected (no reforecast, no gauge ...)."""


@dataclass
class GaugeForecast:
    """The corrected forecast of one gauge for one issue.

    ``table``: one row per lead — ``lead_days``, ``valid_date``, ``raw_median`` (the
    uncorrected members' median), ``value``/``lower``/``upper`` (corrected discharge,
    median and 5-95 %, m³/s), ``stage``/``stage_lower``/``stage_upper`` (cm, NaN without a
    rating).  ``levels``: per national level ``scheme``, ``level``, ``value_cm``,
    ``status``, ``probability`` (of being at or over it on each lead's valid date; NaN where
    the level is not in force) and ``probability_within`` (of reaching it on any valid date
    up to each lead: the fraction of members that do).
    ``members``: (lead, member) corrected discharge, m³/s.
    """

    station: str
    match: StationMatch
    issue_time: dt.datetime
    issue_date: pd.Timestamp
    table: pd.DataFrame
    levels: list[dict[str, Any]]
    members: np.ndarray
    calibration: dict[str, Any]
    note: str | None = None


@dataclass
class ExternalRunReport:
    """What one :func:`run` did."""

    forecast_file: Path
    reforecast_file: Path
    source: str
    known_at: dt.datetime
    gauges: list[GaugeForecast] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    run_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- config

class _Reforecast(Strict):
    path: str


class _ExternalFile(Strict):
    reforecast: _Reforecast


def configured_reforecast(config: Config) -> Path:
    """The deployment's reforecast file: ``config/external_forecasts.toml``
    (``[reforecast] path``, relative to the project root), else :data:`DEFAULT_REFORECAST`
    under the bundled-data folder."""
    project = config.root.parent
    cfg = config.root / CONFIG_FILE
    if cfg.exists():
        parsed = validate(_ExternalFile, read_toml(cfg), str(cfg))
        p = Path(parsed.reforecast.path)
        return p if p.is_absolute() else project / p
    bundled = Path(config.settings.paths.bundled)
    return (bundled if bundled.is_absolute() else project / bundled) / DEFAULT_REFORECAST


# --------------------------------------------------------------------------- correction

def _doy(dates: np.ndarray) -> np.ndarray:
    return pd.DatetimeIndex(np.asarray(dates).ravel().astype("datetime64[ns]")).day_of_year \
        .to_numpy().reshape(np.shape(dates))


def correct_members(members: np.ndarray, valid_dates: np.ndarray, lead_days: np.ndarray,
                    reforecast: np.ndarray, reforecast_valid: np.ndarray,
                    reforecast_lead_days: np.ndarray, observed: pd.Series, *,
                    window_days: int = WINDOW_DAYS,
                    extrapolation: qm.Extrapolation = "multiplicative",
                    exclude_years: Iterable[int] = (), through: pd.Timestamp | None = None,
                    n_quantiles: int | None = N_QUANTILES, min_samples: int = MIN_SAMPLES
                    ) -> tuple[np.ndarray, dict[str, Any]]:
    """Quantile-map one gauge's ensemble to its observed discharge, lead by lead.

    Parameters
    ----------
    members : array (issue, lead, member)
        The forecast's discharge, m³/s.
    valid_dates : array (issue, lead) of datetime64[D]
        The date each lead's daily value is the mean of.
    lead_days : array (lead,)
        The forecast's leads, days; each must be a lead of the reforecast.
    reforecast, reforecast_valid, reforecast_lead_days
        The model climatology of this gauge: (issue, lead, member) m³/s, its valid dates
        (issue, lead) and leads.
    observed : Series
        The gauge's daily discharge (m³/s) by date.
    exclude_years : iterable of int
        Calibration years left out (valid dates in them; a leave-one-year-out test).
    through : Timestamp, optional
        Use only observations (and reforecast values valid) up to this date.

    Returns
    -------
    (corrected, calibration)
        Corrected members, same shape; the calibration: the period of the pairs used
        (``start``, ``end``), ``years``, ``window_days``, samples per lead.
    """
    index = pd.DatetimeIndex(observed.index).normalize()
    obs = pd.Series(np.asarray(observed, dtype=float), index=index).dropna()
    obs = obs[~obs.index.duplicated()]
    if through is not None:
        obs = obs.loc[:through]
    skip = set(int(y) for y in exclude_years)
    out = np.full(np.shape(members), np.nan)
    used: set[int] = set()
    first, last = None, None
    n_model: dict[int, int] = {}
    n_obs = 0
    for j, lead in enumerate(np.asarray(lead_days, dtype=int)):
        hit = np.flatnonzero(np.asarray(reforecast_lead_days, dtype=int) == lead)
        if not hit.size:
            raise ExternalForecastError(f"the reforecast has no lead {lead} d (it has "
                                        f"{', '.join(map(str, reforecast_lead_days))})")
        k = int(hit[0])
        vdates = pd.DatetimeIndex(np.asarray(reforecast_valid[:, k]).astype("datetime64[ns]"))
        keep = vdates.isin(obs.index) & ~vdates.year.isin(list(skip))
        if through is not None:
            keep &= vdates <= through
        model = np.asarray(reforecast[keep, k, :], dtype=float)
        mdoy = np.repeat(vdates[keep].day_of_year.to_numpy(), model.shape[1])
        years = sorted(set(vdates[keep].year))
        oi = pd.DatetimeIndex(obs.index)
        o = obs[oi.year.isin(years)]
        if keep.any():
            used.update(years)
            lo, hi = vdates[keep].min(), vdates[keep].max()
            first = lo if first is None else min(first, lo)
            last = hi if last is None else max(last, hi)
        try:
            out[:, j, :] = qm.map_by_window(
                np.asarray(members[:, j, :], dtype=float), _doy(valid_dates[:, j]),
                model.ravel(), mdoy, o.to_numpy(), pd.DatetimeIndex(o.index).day_of_year.to_numpy(),
                half_width=window_days, n_quantiles=n_quantiles, extrapolation=extrapolation,
                min_samples=min_samples)
        except qm.QuantileMappingError as e:
            raise ExternalForecastError(f"lead {lead} d: {e} (reforecast pairs with an "
                                        f"observation: {int(keep.sum())} issue(s) in "
                                        f"{len(years)} year(s))") from None
        n_model[int(lead)] = int(np.isfinite(model).sum())
        n_obs = max(n_obs, int(o.size))
    calibration = {"start": None if first is None else str(first.date()),
                   "end": None if last is None else str(last.date()),
                   "years": sorted(used), "window_days": window_days,
                   "n_quantiles": n_quantiles,
                   "extrapolation": extrapolation,
                   "model_values_by_lead": n_model, "observed_days": n_obs}
    return out, calibration


def _quantiles(a: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, alpha/2 and 1 - alpha/2 quantiles of each row's finite members."""
    with np.errstate(all="ignore"):
        q = np.nanquantile(a, [0.5, alpha / 2, 1 - alpha / 2], axis=-1)
    return q[0], q[1], q[2]


def _national_levels(config: Config, station: str) -> list[Any]:
    return [t for t in config.thresholds_for(station)
            if t.scheme in NATIONAL_SCHEMES and t.level in HIGH_WATER_LEVELS]


def _gauge_forecast(config: Config, fc: EnsembleForecast, ref: EnsembleForecast, sid: str,
                    i: int, observed: pd.Series, window_days: int, alpha: float
                    ) -> GaugeForecast:
    issue_time = pd.Timestamp(fc.reference_times[i]).to_pydatetime()
    issue_date = pd.Timestamp(fc.issue_dates()[i])
    valid = fc.valid_dates()[i:i + 1]
    raw = fc.station_values(sid)[i:i + 1]
    corrected, calibration = correct_members(
        raw, valid, fc.lead_days, ref.station_values(sid), ref.valid_dates(), ref.lead_days,
        observed, window_days=window_days, through=issue_date)
    calibration["reforecast"] = ref.path.name
    members = corrected[0]
    med, lo, hi = _quantiles(members, alpha)
    table = pd.DataFrame({"lead_days": fc.lead_days.astype(int),
                          "valid_date": pd.DatetimeIndex(valid[0].astype("datetime64[ns]")),
                          "raw_median": np.nanmedian(raw[0], axis=-1),
                          "value": med, "lower": lo, "upper": hi})
    rating = config.network.gauges[sid].rating
    levels: list[dict[str, Any]] = []
    note = None
    if rating is None or rating.valid_from > issue_date.date():
        table["stage"] = table["stage_lower"] = table["stage_upper"] = np.nan
        note = "no stage-discharge rating in force: no stage, no warning-level probabilities"
    else:
        with np.errstate(invalid="ignore"):
            stage = np.where(np.isfinite(members), rating.stage(np.nan_to_num(members)), np.nan)
        table["stage"], table["stage_lower"], table["stage_upper"] = _quantiles(stage, alpha)
        days = [d.date() for d in table["valid_date"]]
        finite = np.isfinite(stage).sum(axis=1)
        for t in _national_levels(config, sid):
            v = float(t.value.to("stage"))
            in_force = np.array([t.valid_on(d) for d in days], dtype=bool)
            with np.errstate(invalid="ignore", divide="ignore"):
                over = (stage >= v) & in_force[:, None]
                p = over.sum(axis=1) / finite
                within = np.logical_or.accumulate(over, axis=0).sum(axis=1) / stage.shape[1]
            levels.append({"scheme": t.scheme, "level": t.level, "value_cm": v,
                           "status": t.status, "probability": np.where(in_force, p, np.nan),
                           "probability_within": within})
        if not levels:
            note = "no national warning level at this gauge"
    return GaugeForecast(sid, next(m for m in fc.matches if m.gauge == sid), issue_time,
                         issue_date, table, levels, members, calibration, note)


def _rounded(a: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(p) else round(float(p), 4) for p in a]


def _runs(config: Config, fc: EnsembleForecast, g: GaugeForecast, known: dt.datetime,
          created: dt.datetime, alpha: float) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    m = g.match
    params = {
        "file": fc.path.name, "source": fc.describe(), "variable": fc.variable,
        "members": fc.n_members,
        "station_match": {"file_station": m.file_id, "by": m.by,
                          "distance_km": None if m.distance_km is None
                          else round(m.distance_km, 2)},
        "bias_correction": {"method": "empirical quantile mapping (Gudmundsson et al. 2012), "
                                      "per lead and day-of-year window",
                            **g.calibration},
        "raw_median_m3s": [round(float(x), 3) for x in g.table["raw_median"]],
        "exceedance": [{"scheme": lv["scheme"], "level": lv["level"],
                        "value_cm": lv["value_cm"], "status": lv["status"],
                        "probability": _rounded(lv["probability"]),
                        "probability_within": _rounded(lv["probability_within"])}
                       for lv in g.levels],
    }
    cal = g.calibration
    note = (f"external ensemble ({fc.n_members} members, {fc.path.name}) bias-corrected by "
            f"quantile mapping to the gauge's record {cal['start']} to {cal['end']}"
            + (f"; {g.note}" if g.note else ""))
    frame = pd.DataFrame({"lead_days": g.table["lead_days"],
                          "valid_time": g.table["valid_date"], "forecast": g.table["value"],
                          "lower": g.table["lower"], "upper": g.table["upper"]})
    out = []
    for variable in ("discharge", "stage"):
        values, extra = _fc._values(frame, variable, config, g.station, g.issue_date)
        if extra is None:
            continue
        fields = {"station_id": g.station, "variable": variable,
                  "unit": _fc.UNITS[variable], "method": METHOD, "issue_time": g.issue_time,
                  "issue_date": g.issue_date.to_pydatetime(), "known_at": known,
                  "created_at": created, "horizon_days": int(g.table["lead_days"].max()),
                  "alpha": alpha, "parameters": json.dumps({**params, **extra}, sort_keys=True),
                  "note": note}
        out.append((fields, values))
    return out


def _read(path: str | Path, config: Config, what: str) -> EnsembleForecast:
    p = Path(path)
    if not p.exists():
        raise ExternalForecastError(f"{what} file {p} does not exist")
    return read_ensemble(p, config, tolerance_km=MATCH_TOLERANCE_KM)


def run(store: Store, config: Config, forecast: str | Path, *,
        reforecast: str | Path | None = None, stations: Iterable[str] | None = None,
        window_days: int = WINDOW_DAYS, alpha: float = ALPHA, write: bool = True,
        known_at: dt.datetime | None = None) -> ExternalRunReport:
    """Correct an external ensemble forecast file at its gauges and store it (module docs).

    Parameters
    ----------
    forecast : path
        The CF-NetCDF ensemble forecast (one or more issues).
    reforecast : path, optional
        The model climatology to calibrate on (default :func:`configured_reforecast`).
    stations : iterable of str, optional
        Only these gauges (each must be in the file).
    known_at : datetime, optional
        When the forecast was received (UTC; default now): the runs' ``known_at``.
    write : bool
        Store the runs (False: compute and return only).
    """
    t0 = _time.perf_counter()
    created = _fc._utcnow()
    known = _fc._naive(known_at) or created
    ref_path = Path(reforecast) if reforecast is not None else configured_reforecast(config)
    if reforecast is None and not ref_path.exists():
        raise ExternalForecastError(
            f"no reforecast given and the configured one, {ref_path}, does not exist: give "
            f"one (--reforecast) or set [reforecast] path in config/{CONFIG_FILE}")
    fc = _read(forecast, config, "forecast")
    ref = _read(ref_path, config, "reforecast")
    chosen = list(dict.fromkeys(stations)) if stations is not None else list(fc.stations)
    missing = [s for s in chosen if s not in fc.stations]
    if missing:
        raise ExternalForecastError(f"gauge(s) {', '.join(missing)} not in {fc.path.name} "
                                    f"(it has {', '.join(fc.stations)})")
    report = ExternalRunReport(fc.path, ref.path, fc.describe(), known)
    batch: list[tuple[dict[str, Any], pd.DataFrame]] = []
    for sid in chosen:
        if sid not in ref.stations:
            report.skipped[sid] = f"not in the reforecast {ref.path.name}"
            continue
        first = pd.Timestamp(fc.reference_times.min()).to_pydatetime()
        observed = _fc.daily_series(store, config, sid, "discharge", end=first, as_of=known)
        if observed.dropna().empty:
            report.skipped[sid] = "no stored discharge to calibrate on"
            continue
        for i in range(len(fc.reference_times)):
            try:
                g = _gauge_forecast(config, fc, ref, sid, i, observed, window_days, alpha)
            except ExternalForecastError as e:
                report.skipped[sid] = str(e)
                break
            report.gauges.append(g)
            batch.extend(_runs(config, fc, g, known, created, alpha))
    if write and batch:
        report.run_ids = _fc._store.write_runs(store, batch)
    report.seconds = _time.perf_counter() - t0
    return report


# --------------------------------------------------------------------------- reading back

def exceedance(store: Store, station: str, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The probabilities of reaching each national level of the external forecast of
    ``station`` current at ``as_of`` (default: the newest; a replay as
    :func:`hydro.services.forecasts.latest`): one row per (level, lead) — ``issue_time``,
    ``known_at``, ``scheme``, ``level``, ``value_cm``, ``status``, ``lead_days``,
    ``valid_date``, ``probability`` (on that date), ``probability_within`` (on any date up
    to it)."""
    cols = ["issue_time", "known_at", "scheme", "level", "value_cm", "status", "lead_days",
            "valid_date", "probability", "probability_within"]
    runs = _fc.runs(store, station, as_of=as_of)
    runs = runs[(runs["method"] == METHOD) & (runs["variable"] == "stage")]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    newest = runs.sort_values(["issue_time", "known_at", "id"]).iloc[-1]
    frame = _fc.latest(store, station, as_of=as_of, variable="stage", observed=False)
    frame = frame[(frame["method"] == METHOD) & (frame["id"] == newest["id"])]
    params = json.loads(newest["parameters"] or "{}")
    rows = []
    dates = list(pd.DatetimeIndex(frame["valid_date"]))
    leads = [int(x) for x in frame["lead_days"]]
    for lv in params.get("exceedance", []):
        for lead, day, p, w in zip(leads, dates, lv["probability"],
                                   lv.get("probability_within", lv["probability"]),
                                   strict=False):
            rows.append([newest["issue_time"], newest["known_at"], lv["scheme"], lv["level"],
                         lv["value_cm"], lv["status"], lead, day,
                         np.nan if p is None else float(p), np.nan if w is None else float(w)])
    return pd.DataFrame(rows, columns=cols)
