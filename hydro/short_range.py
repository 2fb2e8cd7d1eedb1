"""Short-range (1-10 day) statistical forecasts at a gauge from daily series (pure functions).

Three forecasters side by side, all returning the same tidy frame (one row per lead):

* :func:`persistence_forecast` — the last observation, for every lead;
* :func:`climatology_forecast` — the day-of-year mean of the history, with its quantiles;
* :func:`sarimax_forecast` (and :class:`SarimaxForecaster`) — a linear state-space model
  (SARIMAX, statsmodels) of the gauge's series with lagged upstream gauges and reservoir
  releases as exogenous inputs, the lags given by the caller (from the network's travel
  times).

:func:`rolling_origin_backtest` issues all three for each issue date of a period using only
data up to the issue date, and returns the tidy frame that
:func:`hydro.forecast_skill.skill_by_lead` scores.

Conventions
-----------
* Series are **daily**, indexed by date (a ``DatetimeIndex`` of local dates, as the store's
  daily values are labelled); they are regularised to a daily frequency, a missing day is
  NaN.  Discharge in m³/s (stage in cm works the same: the methods are unit-agnostic, and
  the forecast, bounds and observations are in the unit of ``target``).
* ``issue_time`` is the date of the last daily value the forecaster may use; lead ``h``
  (days, 1..H) is valid on ``issue_time + h`` days.  Nothing dated after ``issue_time`` is
  read, except a *planned* release schedule passed explicitly.
* Intervals are central ``1 − alpha`` prediction intervals (``alpha = 0.1``: 5-95 %).

Output columns: ``issue_time``, ``lead_days``, ``valid_time``, ``forecast``, ``lower``,
``upper``, ``method`` (``"persistence"``, ``"climatology"``, ``"sarimax"``); the backtest
adds ``observed``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.statespace.sarimax import SARIMAX

from hydro.errors import HydroriskError

__all__ = [
    "ShortRangeError",
    "widen_for_forecast_inputs",
    "OUTPUT_COLUMNS",
    "persistence_forecast",
    "climatology_forecast",
    "lagged_inputs",
    "future_inputs",
    "SarimaxForecaster",
    "sarimax_forecast",
    "rolling_origin_backtest",
]

#: columns of every forecast frame, in order
OUTPUT_COLUMNS: Final = ("issue_time", "lead_days", "valid_time", "forecast", "lower", "upper",
                         "method")
#: longest lead the forecasters accept (days)
MAX_HORIZON: Final = 30
#: fewest days of history the climatology and the SARIMAX fit accept
MIN_HISTORY_DAYS: Final = 60
#: fewest h-day changes for a seasonal persistence interval before all seasons are used
MIN_CHANGES: Final = 20
DAY: Final = pd.Timedelta(days=1)


class ShortRangeError(HydroriskError, ValueError):
    """A short-range forecast cannot be made from the data given; the message says why."""


# ----------------------------------------------------------------------------- helpers

def _daily(series: pd.Series | pd.DataFrame, name: str) -> Any:
    """``series`` on a regular daily DatetimeIndex (missing days NaN), sorted."""
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ShortRangeError(f"{name} must be indexed by date (a DatetimeIndex), got "
                              f"{type(series.index).__name__}")
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise ShortRangeError(f"{name} has more than one value on {dup.date()}; one daily "
                              "value per date is expected")
    s = series.sort_index()
    index = pd.DatetimeIndex(s.index)
    if len(s) and (index != index.normalize()).any():
        raise ShortRangeError(f"{name} must hold daily values labelled by date (midnight); "
                              "aggregate sub-daily data to daily means first")
    return s.asfreq("D") if len(s) else s


def _issue(issue_time: object) -> pd.Timestamp:
    t = pd.Timestamp(issue_time)  # type: ignore[arg-type]
    if t != t.normalize():
        raise ShortRangeError(f"issue_time {t} must be a date (the last daily value used)")
    return t


def _check_horizon(horizon: int) -> None:
    if not (isinstance(horizon, int | np.integer) and 1 <= horizon <= MAX_HORIZON):
        raise ShortRangeError(f"horizon must be an integer number of days in 1..{MAX_HORIZON}, "
                              f"got {horizon!r}")


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ShortRangeError(f"alpha must be in (0, 1) (0.1 for a 5-95 % interval), got {alpha}")


def _frame(issue: pd.Timestamp, forecast: np.ndarray, lower: np.ndarray, upper: np.ndarray,
           method: str) -> pd.DataFrame:
    h = np.arange(1, forecast.size + 1)
    return pd.DataFrame({"issue_time": issue, "lead_days": h, "valid_time": issue + h * DAY,
                         "forecast": forecast, "lower": lower, "upper": upper,
                         "method": method}, columns=list(OUTPUT_COLUMNS))


def _up_to(series: pd.Series, issue: pd.Timestamp, name: str) -> pd.Series:
    s = _daily(series, name).loc[:issue]
    if s.dropna().empty:
        raise ShortRangeError(f"{name} has no value on or before the issue date {issue.date()}")
    return s


def day_of_year_365(index: pd.DatetimeIndex) -> np.ndarray:
    """Day of year 1..365 with 29 February sharing 28 February's day (59) and the later days
    of a leap year shifted back one, so 1 March is day 60 in every year."""
    doy = index.day_of_year.to_numpy()
    late = index.is_leap_year & (doy >= 60)
    return np.where(late, doy - 1, doy)


def _circular_distance(a: np.ndarray, b: np.ndarray, period: int = 365) -> np.ndarray:
    d = np.abs(a - b) % period
    return np.minimum(d, period - d)


# ----------------------------------------------------------------------------- baselines

def persistence_forecast(target: pd.Series, issue_time: object, horizon: int, *,
                         alpha: float = 0.1, window_days: int | None = 15) -> pd.DataFrame:
    """Persistence: the last observation on or before ``issue_time``, for every lead.

    Parameters
    ----------
    target : pandas.Series
        Daily discharge (m³/s) or stage (cm) at the gauge, indexed by date.
    issue_time : date-like
        The date of the last value used.
    horizon : int
        Longest lead H, days (1..30).
    alpha : float
        The interval is the central ``1 − alpha`` interval.
    window_days : int or None
        The interval for lead h adds to the last value the empirical ``alpha/2`` and
        ``1 − alpha/2`` quantiles of the h-day changes ``Q(t + h) − Q(t)`` in the history
        (up to ``issue_time``), taken over start dates within ± ``window_days`` of the
        issue date's day of year in every past year (all start dates when None, or when
        the window holds fewer than 20 changes).

    Returns
    -------
    pandas.DataFrame
        :data:`OUTPUT_COLUMNS`, ``method = "persistence"``; same unit as ``target``.

    Notes
    -----
    If the issue date's own value is missing the last earlier value is persisted.  The
    reference forecast of hydrological skill scores (Kitanidis & Bras 1980, *Water Resour.
    Res.* 16, 1034-1044); empirical intervals from the history's own changes (Wilks 2011,
    *Statistical Methods in the Atmospheric Sciences*, §7.1).
    """
    issue = _issue(issue_time)
    _check_horizon(horizon)
    _check_alpha(alpha)
    s = _up_to(target, issue, "target")
    last = float(s.dropna().iloc[-1])
    forecast = np.full(horizon, last)
    lower = np.full(horizon, math.nan)
    upper = np.full(horizon, math.nan)
    values = s.to_numpy(dtype=float)
    doy = day_of_year_365(pd.DatetimeIndex(s.index))
    issue_doy = day_of_year_365(pd.DatetimeIndex([issue]))[0]
    for h in range(1, horizon + 1):
        if values.size <= h:
            break
        change = values[h:] - values[:-h]
        start_doy = doy[:-h]
        ok = np.isfinite(change)
        if window_days is not None:
            seasonal = ok & (_circular_distance(start_doy, issue_doy) <= window_days)
            if seasonal.sum() >= MIN_CHANGES:
                ok = seasonal
        if ok.any():
            q_lo, q_hi = np.quantile(change[ok], [alpha / 2.0, 1.0 - alpha / 2.0])
            lower[h - 1], upper[h - 1] = last + q_lo, last + q_hi
    return _frame(issue, forecast, lower, upper, "persistence")


def climatology_forecast(target: pd.Series, issue_time: object, horizon: int, *,
                         alpha: float = 0.1, window_days: int = 7) -> pd.DataFrame:
    """Climatology: the day-of-year mean of the history, with its quantiles as the interval.

    Parameters
    ----------
    target : pandas.Series
        Daily discharge (m³/s) or stage (cm), indexed by date; only values on or before
        ``issue_time`` are used.
    issue_time : date-like
        The date of the last value used.
    horizon : int
        Longest lead H, days (1..30).
    alpha : float
        The interval is the empirical ``alpha/2`` and ``1 − alpha/2`` quantiles.
    window_days : int
        Values within ± ``window_days`` of the valid date's day of year (circular, 365-day
        year with 29 February sharing 28 February's day) in every year of the history form
        the sample; 0 takes the same calendar day only.

    Returns
    -------
    pandas.DataFrame
        :data:`OUTPUT_COLUMNS`, ``method = "climatology"``; same unit as ``target``.

    Raises
    ------
    ShortRangeError
        Fewer than 60 days of history, or no value near a valid date's day of year.

    Notes
    -----
    A moving-window day-of-year climatology, the usual reference forecast of skill
    scores (WMO 2012, *Guidelines on Ensemble Prediction Systems and Forecasting*, WMO-No.
    1091; Wilks 2011, §8.1.5).
    """
    issue = _issue(issue_time)
    _check_horizon(horizon)
    _check_alpha(alpha)
    if window_days < 0:
        raise ShortRangeError(f"window_days must be >= 0, got {window_days}")
    s = _up_to(target, issue, "target").dropna()
    if len(s) < MIN_HISTORY_DAYS:
        raise ShortRangeError(f"climatology needs at least {MIN_HISTORY_DAYS} days of history "
                              f"before {issue.date()}, got {len(s)}")
    values = s.to_numpy(dtype=float)
    doy = day_of_year_365(pd.DatetimeIndex(s.index))
    valid = pd.DatetimeIndex(issue + np.arange(1, horizon + 1) * DAY)
    forecast = np.empty(horizon)
    lower = np.empty(horizon)
    upper = np.empty(horizon)
    for i, d in enumerate(day_of_year_365(valid)):
        sample = values[_circular_distance(doy, d) <= window_days]
        if sample.size == 0:
            raise ShortRangeError(f"no value within {window_days} days of day-of-year {d} "
                                  f"({valid[i].date()}) in the history; widen window_days")
        forecast[i] = sample.mean()
        lower[i], upper[i] = np.quantile(sample, [alpha / 2.0, 1.0 - alpha / 2.0])
    return _frame(issue, forecast, lower, upper, "climatology")


# ----------------------------------------------------------------------------- SARIMAX

def _normalise_lags(lags: Mapping[str, int | Sequence[int]] | None) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for name, lag in (lags or {}).items():
        values = (lag,) if isinstance(lag, int | np.integer) else tuple(lag)
        if not values or any(not isinstance(v, int | np.integer) or v < 0 for v in values):
            raise ShortRangeError(f"lags of input {name!r} must be integers >= 0 (days), "
                                  f"got {lag!r}")
        out[str(name)] = tuple(int(v) for v in values)
    return out


def _column(name: str, lag: int) -> str:
    return f"{name}@lag{lag}d"


def lagged_inputs(inputs: pd.DataFrame, lags: Mapping[str, int | Sequence[int]]) -> pd.DataFrame:
    """The exogenous regressors: column ``"<input>@lag<k>d"`` on day t is input(t − k).

    Parameters
    ----------
    inputs : pandas.DataFrame
        Daily upstream discharges (m³/s) and reservoir releases (m³/s), one column per
        input, indexed by date.  Gaps are filled forward (the last earlier value: no look
        ahead); values before an input's first observation stay NaN.
    lags : mapping
        Input column → lag in days (int ≥ 0) or a sequence of lags (one regressor each),
        e.g. the reach travel times from the network.
    """
    lag_map = _normalise_lags(lags)
    missing = [c for c in lag_map if c not in inputs.columns]
    if missing:
        raise ShortRangeError(f"no input column for lagged input(s) {', '.join(missing)}; "
                              f"columns are {', '.join(map(str, inputs.columns)) or 'none'}")
    daily = _daily(inputs, "inputs").ffill()
    cols = {_column(name, k): daily[name].shift(k) for name, ks in lag_map.items() for k in ks}
    return pd.DataFrame(cols, index=daily.index)


def future_inputs(inputs: pd.DataFrame, issue_time: object, horizon: int,
                  planned: pd.DataFrame | None = None) -> pd.DataFrame:
    """The inputs extended past ``issue_time`` by ``horizon`` days, as known at issue time.

    Values on or before ``issue_time`` are the observations (gaps filled forward).  After
    it, a column of ``planned`` (e.g. a reservoir's planned release schedule, m³/s) is used
    where it has a value; any other future value is the input's last value on or before
    ``issue_time`` (persistence).  Rows dated after ``issue_time`` in ``inputs`` are ignored.
    """
    issue = _issue(issue_time)
    known = _daily(inputs, "inputs").loc[:issue].ffill()
    index = pd.date_range(known.index[0] if len(known) else issue, issue + horizon * DAY,
                          freq="D")
    future = index > issue
    ext = known.reindex(index)
    ext.loc[~future] = ext.loc[~future].ffill()
    last = ext.loc[~future].iloc[-1]
    for col in ext.columns:
        ext.loc[future, col] = last[col]
    if planned is not None:
        unknown = [c for c in planned.columns if c not in ext.columns]
        if unknown:
            raise ShortRangeError(f"planned schedule for unknown input(s) "
                                  f"{', '.join(map(str, unknown))}")
        plan = _daily(planned, "planned").reindex(index[future])
        for col in plan.columns:
            has = plan[col].notna()
            ext.loc[plan.index[has], col] = plan.loc[has, col]
    return ext


@dataclass(frozen=True, eq=False)
class SarimaxForecaster:
    """A SARIMAX model of a gauge's daily series with lagged inputs as regressors.

    ``y_t = c + Σ_j β_j u_j(t − k_j) + η_t`` with ``η_t`` an ARIMA(p, d, q) process
    (regression with ARIMA errors, statsmodels ``SARIMAX``; Durbin & Koopman 2012,
    *Time Series Analysis by State Space Methods*, 2nd ed., §3.6).

    Attributes
    ----------
    lags : mapping
        Input name → lag(s) in days (see :func:`lagged_inputs`); empty for a univariate
        ARIMA.
    order : (p, d, q)
        The ARIMA order of the errors; (1, 0, 0) by default.
    trend : str
        statsmodels trend: ``"c"`` (constant, the default), ``"n"``, ``"t"``, ``"ct"``.
    fit_window_days : int or None
        Fit on the last this many days before the fit date (all when None).
    filter_window_days : int
        The state at issue time is filtered from this many days before it (the fitted
        parameters are kept); enough for a short-memory model, and it keeps a backtest fast.
    params : pandas.Series or None
        The fitted parameters (``None`` until :meth:`fit`); names as statsmodels gives them
        (``const``, ``<input>@lag<k>d``, ``ar.L1``, ``sigma2`` ...).
    fitted_through : pandas.Timestamp or None
        The last date of the data the parameters were fitted on.
    """

    lags: Mapping[str, int | Sequence[int]] = field(default_factory=dict)
    order: tuple[int, int, int] = (1, 0, 0)
    trend: str = "c"
    fit_window_days: int | None = None
    filter_window_days: int = 180
    params: pd.Series | None = None
    fitted_through: pd.Timestamp | None = None

    def _design(self, target: pd.Series, inputs: pd.DataFrame | None, end: pd.Timestamp,
                window: int | None) -> tuple[pd.Series, pd.DataFrame | None]:
        lag_map = _normalise_lags(self.lags)
        y = _up_to(target, end, "target")
        if window is not None:
            y = y.loc[end - (window - 1) * DAY:]
        if not lag_map:
            return y.astype(float), None
        if inputs is None:
            raise ShortRangeError("lags are given but no inputs; pass the upstream series")
        # inputs up to the end only, a silent input keeps its last value (no look-ahead)
        x = lagged_inputs(_daily(inputs, "inputs").loc[:end], lag_map).reindex(y.index).ffill()
        complete = x.notna().all(axis=1)
        if not complete.any():
            raise ShortRangeError(f"no day up to {end.date()} has every lagged input; the "
                                  "inputs start too late or hold no value")
        first = pd.Timestamp(x.index[int(np.argmax(complete.to_numpy()))])
        y, x = y.loc[first:], x.loc[first:]
        if x.isna().any().any():
            bad = x.columns[x.isna().any()].tolist()
            raise ShortRangeError(f"lagged input(s) {', '.join(bad)} have gaps after "
                                  f"{first.date()} that cannot be filled forward")
        return y.astype(float), x.astype(float)

    def _model(self, y: pd.Series, x: pd.DataFrame | None) -> SARIMAX:
        return SARIMAX(y, exog=x, order=self.order, trend=self.trend)

    def fit(self, target: pd.Series, inputs: pd.DataFrame | None = None,
            through: object | None = None) -> SarimaxForecaster:
        """A copy with parameters fitted by maximum likelihood on the data up to
        ``through`` (the last date of ``target`` when None).

        Raises
        ------
        ShortRangeError
            Fewer than 60 usable days, or inputs missing for the lags.
        """
        end = _issue(through) if through is not None else _daily(target, "target").index[-1]
        y, x = self._design(target, inputs, end, self.fit_window_days)
        if y.notna().sum() < MIN_HISTORY_DAYS:
            raise ShortRangeError(f"SARIMAX needs at least {MIN_HISTORY_DAYS} observed days up "
                                  f"to {end.date()} (with every lagged input), got "
                                  f"{int(y.notna().sum())}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = self._model(y, x).fit(disp=False)
        return replace(self, params=result.params.copy(), fitted_through=end)

    def forecast(self, target: pd.Series, inputs: pd.DataFrame | None, issue_time: object,
                 horizon: int, *, alpha: float = 0.1,
                 planned: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast leads 1..``horizon`` from the data up to ``issue_time``.

        Parameters
        ----------
        target, inputs : pandas.Series, pandas.DataFrame
            As given to :meth:`fit`; nothing dated after ``issue_time`` is read.
        issue_time : date-like
            Must not be earlier than ``fitted_through`` (no parameter fitted on the future).
        horizon : int
            Longest lead H, days.
        alpha : float
            Central ``1 − alpha`` prediction intervals.
        planned : pandas.DataFrame, optional
            Planned future values of some inputs (e.g. a release schedule, m³/s), dated
            after ``issue_time``.

        Returns
        -------
        pandas.DataFrame
            :data:`OUTPUT_COLUMNS`, ``method = "sarimax"``; unit of ``target``.

        Notes
        -----
        The regressor ``u(t − k)`` for lead ``h`` is *observed* when ``h ≤ k`` (it is dated
        on or before the issue date); when ``h > k`` it is the planned value if ``planned``
        gives one, else the input's last value at issue time (persistence).  The intervals
        are the state-space model's (Kalman filter forecast variance) and treat those future
        regressors as known; :func:`widen_for_forecast_inputs` adds the error of an input
        whose future is itself a forecast.
        """
        if self.params is None or self.fitted_through is None:
            raise ShortRangeError("the SARIMAX forecaster is not fitted; call fit() first")
        issue = _issue(issue_time)
        _check_horizon(horizon)
        _check_alpha(alpha)
        if issue < self.fitted_through:
            raise ShortRangeError(f"issue date {issue.date()} is before the end of the fit "
                                  f"period {self.fitted_through.date()}: the parameters would "
                                  "have seen the future; refit on data up to the issue date")
        y, x = self._design(target, inputs, issue, self.filter_window_days)
        future_x = None
        if x is not None and inputs is not None:
            ext = future_inputs(inputs, issue, horizon, planned)
            future_x = lagged_inputs(ext, self.lags).loc[issue + DAY:issue + horizon * DAY]
            future_x = future_x[x.columns]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = self._model(y, x).filter(self.params)
            pred = result.get_forecast(steps=horizon, exog=future_x)
        mean = np.asarray(pred.predicted_mean, dtype=float)
        ci = np.asarray(pred.conf_int(alpha=alpha), dtype=float)
        return _frame(issue, mean, ci[:, 0], ci[:, 1], "sarimax")


def widen_for_forecast_inputs(frame: pd.DataFrame, inputs: Sequence[tuple[float, int, pd.Series]],
                              *, alpha: float = 0.1) -> pd.DataFrame:
    """Widen a SARIMAX forecast's interval for inputs whose future is itself a forecast.

    :meth:`SarimaxForecaster.forecast` treats the future regressors as known, so beyond an
    input's lag its interval leaves out the input's own uncertainty.  For an input entering
    as ``β · u(t − k)`` whose value on day ``t − k`` is a forecast with standard deviation
    ``σ_u(t − k)``, the forecast variance on day ``t`` grows by ``β² σ_u(t − k)²``
    (first-order propagation, the input's error independent of the model's and of the
    other inputs'):  ``σ(t)² = σ_model(t)² + Σ_j β_j² σ_uj(t − k_j)²``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A forecast frame (:data:`OUTPUT_COLUMNS`) with a central ``1 − alpha`` interval.
    inputs : sequence of (β, k, σ_u)
        Per lagged regressor: its coefficient, lag in days and the standard deviation of
        the input's forecast by valid date (days not in it — observed — add nothing).
    alpha : float
        The frame's interval level.

    Returns
    -------
    pandas.DataFrame
        ``frame`` with ``lower``/``upper`` widened symmetrically about ``forecast``.
    """
    _check_alpha(alpha)
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    out = frame.copy()
    valid = pd.DatetimeIndex(out["valid_time"])
    f = out["forecast"].to_numpy(dtype=float)
    half = (out["upper"].to_numpy(dtype=float) - out["lower"].to_numpy(dtype=float)) / 2.0
    var = (half / z) ** 2
    for beta, lag, sd in inputs:
        s = pd.Series(np.asarray(sd, dtype=float), index=pd.DatetimeIndex(sd.index))
        extra = s.reindex(valid - int(lag) * DAY).to_numpy(dtype=float)
        var = var + np.where(np.isfinite(extra), (float(beta) * extra) ** 2, 0.0)
    half = z * np.sqrt(var)
    out["lower"], out["upper"] = f - half, f + half
    return out


def sarimax_forecast(target: pd.Series, inputs: pd.DataFrame | None, issue_time: object,
                     horizon: int, *, lags: Mapping[str, int | Sequence[int]] | None = None,
                     order: tuple[int, int, int] = (1, 0, 0), trend: str = "c",
                     alpha: float = 0.1, planned: pd.DataFrame | None = None,
                     fit_window_days: int | None = None) -> pd.DataFrame:
    """Fit a :class:`SarimaxForecaster` on the data up to ``issue_time`` and forecast leads
    1..``horizon`` (m³/s or the unit of ``target``); see :meth:`SarimaxForecaster.forecast`
    for how future inputs are handled."""
    model = SarimaxForecaster(lags=dict(lags or {}), order=order, trend=trend,
                              fit_window_days=fit_window_days)
    fitted = model.fit(target, inputs, through=issue_time)
    return fitted.forecast(target, inputs, issue_time, horizon, alpha=alpha, planned=planned)


# ----------------------------------------------------------------------------- backtest

METHODS: Final = ("persistence", "climatology", "sarimax")


def rolling_origin_backtest(target: pd.Series, issue_times: Iterable[object], horizon: int, *,
                            methods: Sequence[str] = METHODS,
                            inputs: pd.DataFrame | None = None,
                            lags: Mapping[str, int | Sequence[int]] | None = None,
                            order: tuple[int, int, int] = (1, 0, 0), trend: str = "c",
                            alpha: float = 0.1, refit_every: int | None = None,
                            fit_window_days: int | None = None,
                            climatology_window_days: int = 7) -> pd.DataFrame:
    """Rolling-origin backtest: forecasts for leads 1..H issued on each issue date from the
    data up to that date only, set against what was observed.

    Parameters
    ----------
    target : pandas.Series
        Daily discharge (m³/s) or stage (cm) at the gauge, indexed by date.
    issue_times : iterable of date-like
        The issue dates (sorted here).
    horizon : int
        Longest lead H, days.
    methods : sequence of str
        Any of ``"persistence"``, ``"climatology"``, ``"sarimax"``.
    inputs, lags, order, trend, fit_window_days :
        The SARIMAX inputs and model (see :class:`SarimaxForecaster`).
    alpha : float
        Central ``1 − alpha`` prediction intervals.
    refit_every : int or None
        SARIMAX parameters are fitted on the data up to the first issue date and, when an
        int n is given, refitted on the data up to every n-th issue date after it; in
        between, the fitted parameters filter the new data (no parameter ever sees data
        after the issue date it is used for).
    climatology_window_days : int
        Day-of-year window of the climatology (see :func:`climatology_forecast`).

    Returns
    -------
    pandas.DataFrame
        ``issue_time``, ``lead_days``, ``valid_time``, ``forecast``, ``observed``,
        ``lower``, ``upper``, ``method``; ``observed`` is the target on the valid date
        (NaN if missing or beyond the record).

    Notes
    -----
    Rolling-origin evaluation (Tashman 2000, Out-of-sample tests of forecasting accuracy,
    *Int. J. Forecasting* 16, 437-450).  Planned releases are not used: inputs beyond their
    lag are persisted, as an operational forecast without a release plan would.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ShortRangeError(f"unknown method(s) {', '.join(unknown)}; choose from "
                              f"{', '.join(METHODS)}")
    if refit_every is not None and refit_every < 1:
        raise ShortRangeError(f"refit_every must be >= 1 or None, got {refit_every}")
    _check_horizon(horizon)
    issues = sorted({_issue(t) for t in issue_times})
    if not issues:
        raise ShortRangeError("no issue date given")
    frames: list[pd.DataFrame] = []
    model = SarimaxForecaster(lags=dict(lags or {}), order=order, trend=trend,
                              fit_window_days=fit_window_days)
    for i, issue in enumerate(issues):
        if "persistence" in methods:
            frames.append(persistence_forecast(target, issue, horizon, alpha=alpha))
        if "climatology" in methods:
            frames.append(climatology_forecast(target, issue, horizon, alpha=alpha,
                                               window_days=climatology_window_days))
        if "sarimax" in methods:
            if model.params is None or (refit_every is not None and i % refit_every == 0):
                model = model.fit(target, inputs, through=issue)
            frames.append(model.forecast(target, inputs, issue, horizon, alpha=alpha))
    out = pd.concat(frames, ignore_index=True)
    observed = _daily(target, "target")
    out["observed"] = observed.reindex(pd.DatetimeIndex(out["valid_time"])).to_numpy(dtype=float)
    return out[["issue_time", "lead_days", "valid_time", "forecast", "observed", "lower",
                "upper", "method"]]
