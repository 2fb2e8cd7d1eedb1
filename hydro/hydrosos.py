"""WMO HydroSOS status: where a value sits in the climate of its month or day of year.

Pure functions.  Values may be discharge (m³/s) or stage (cm); thresholds come back in the
unit of the series they were computed from (the monthly product: in percent of the
long-term average, as WMO writes them).

Classes, as WMO's HydroSOS reference implementation assigns them (a value equal to a
threshold belongs to the *lower* class):

============  ==============================  ==================
class         range                           ru / kk
============  ==============================  ==================
low           value <= p10                    низкий / төмен
below_normal  p10 < value <= p25              ниже нормы / нормадан төмен
normal        p25 < value <= p75              норма / қалыпты
above_normal  p75 < value <= p90              выше нормы / нормадан жоғары
high          value > p90                     высокий / жоғары
============  ==============================  ==================

Percentiles (:func:`weibull_thresholds`): WMO's rule.  The ``n`` finite reference values
are ranked (tied values share the average of their ranks) and each gets the Weibull
plotting position ``r/(n+1)``.  The threshold for probability ``p`` is interpolated
linearly between the values whose plotting positions are the closest at or below ``p``
and at or above ``p``; a ``p`` that equals a plotting position gives that value; a ``p``
below the smallest position gives the smallest value, above the largest the largest.
This replaces numpy's default linear percentiles (positions ``(r-1)/(n-1)``), which this
module used until issue #10 item 5, together with counting a value equal to p75 or p90 one
class higher.

Monthly product (:func:`monthly_means`, :func:`monthly_thresholds`,
:func:`monthly_status`): exactly WMO's ``status/statuscalc.py`` — the mean of each
calendar month (missing if fewer than 50 % of its days have a value), expressed as a
percentage of that calendar month's mean over the reference years (1991-2020 by default),
classified against the Weibull thresholds of the reference years' percentages.
``tests/reference/test_hydrosos.py`` reproduces WMO's published example (station 33035)
to the last bit of its thresholds and every published category.

Daily product (:func:`percentile_thresholds`, :func:`hydrosos_status`,
:func:`hydrosos_status_series`): this project's variant, so a duty officer sees a status
every day.  For each day of year ``d`` (a 365-day calendar: later days of a leap year move
back one; values of 29 February are left out of the thresholds, so that every year weighs
the same, and classified against 28 February's) all values of every year whose day lies
within ``±window`` days of ``d`` (circularly, so late December pools with early January)
are pooled, and the Weibull thresholds of that pool are taken, with the same class rule.
No further smoothing.  A ±15-day window over 30 years pools ~930 values per day.

Reference: WMO Hydrological Status and Outlook System (HydroSOS), reference
implementation https://github.com/wmo-im/HydroSOS, ``status/statuscalc.py`` (UKCEH,
Katie Facer-Childs and Ezra Kitson; version of commit 4243005f, 2025), see
``tests/reference/data/hydrosos/PROVENANCE.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "HydroSOSStatus",
    "PERCENTILES",
    "REFERENCE_YEARS",
    "weibull_thresholds",
    "percentile_thresholds",
    "hydrosos_status",
    "hydrosos_status_series",
    "monthly_means",
    "monthly_thresholds",
    "monthly_status",
    "noleap_day_of_year",
]

#: percentiles bounding the five classes
PERCENTILES: Final = (10, 25, 75, 90)
_COLUMNS: Final = tuple(f"p{p}" for p in PERCENTILES)
#: the probabilities as WMO writes them (0.1 is the float literal, not 10/100)
_PROBABILITIES: Final = (0.10, 0.25, 0.75, 0.90)
#: WMO's default reference period, inclusive
REFERENCE_YEARS: Final = (1991, 2020)


class HydroSOSStatus(StrEnum):
    """The five HydroSOS status classes, least to most water.

    The value is the code; its name in kk/ru/en is the catalog key ``hydrosos.<value>``
    (:func:`hydro.services.labels.hydrosos_label`)."""

    LOW = "low"
    BELOW_NORMAL = "below_normal"
    NORMAL = "normal"
    ABOVE_NORMAL = "above_normal"
    HIGH = "high"


def weibull_thresholds(values: Sequence[float] | np.ndarray,
                       probabilities: Sequence[float] = _PROBABILITIES) -> np.ndarray:
    """Thresholds at ``probabilities`` by WMO HydroSOS's Weibull-position interpolation.

    Parameters
    ----------
    values : array-like
        The reference values; NaN values are left out.
    probabilities : sequence of float
        Non-exceedance probabilities in (0, 1); default 0.10, 0.25, 0.75, 0.90.

    Returns
    -------
    numpy.ndarray
        One threshold per probability, in the unit of ``values``; all NaN if no value is
        finite.

    Notes
    -----
    Rank the ``n`` finite values 1..n (ties share their average rank, as
    ``pandas.Series.rank``) and give each the plotting position ``r/(n+1)``.  For each
    ``p``: with ``(P_lo, x_lo)`` the largest position ``<= p`` and ``(P_hi, x_hi)`` the
    smallest ``>= p``, the threshold is ``x_lo + (p - P_lo)/(P_hi - P_lo)·(x_hi - x_lo)``;
    ``x_lo`` when ``P_lo == P_hi``; the smallest value when no position is ``<= p``, the
    largest when none is ``>= p``.  The arithmetic is done in that order, on positions
    computed as ``r/(n+1)``, so that the result equals WMO's to the last bit.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    probs = np.asarray(probabilities, dtype=float)
    if x.size == 0:
        return np.full(probs.shape, np.nan)
    uniq, counts = np.unique(x, return_counts=True)
    # average rank of each distinct value: the ranks it occupies are last-count+1 .. last
    last = np.cumsum(counts).astype(float)
    ranks = last - (counts - 1) / 2.0
    positions = ranks / float(x.size + 1)
    out = np.empty(probs.shape)
    for i, p in enumerate(probs):
        lo = int(np.searchsorted(positions, p, side="right")) - 1  # positions[lo] <= p
        hi = int(np.searchsorted(positions, p, side="left"))       # positions[hi] >= p
        if lo < 0:
            out[i] = uniq[hi]
        elif hi >= uniq.size or lo == hi:
            out[i] = uniq[lo]
        else:
            x_lo, x_hi = uniq[lo], uniq[hi]
            out[i] = x_lo + ((p - positions[lo]) / (positions[hi] - positions[lo])) * (x_hi - x_lo)
    return out


def _noleap_doy(idx: pd.DatetimeIndex) -> np.ndarray:
    doy = idx.day_of_year.to_numpy()
    feb29 = idx.is_leap_year & (idx.month == 2) & (idx.day == 29)
    late = idx.is_leap_year & (doy >= 60) & ~feb29
    return np.where(feb29, 59, np.where(late, doy - 1, doy))


def noleap_day_of_year(dates: pd.DatetimeIndex | dt.date | pd.Timestamp) -> np.ndarray | int:
    """Day of year on a 365-day calendar (1-365): 29 Feb counts as 28 Feb (59).

    An int for one date, an array for a DatetimeIndex.
    """
    if isinstance(dates, pd.DatetimeIndex):
        return _noleap_doy(dates)
    return int(_noleap_doy(pd.DatetimeIndex([pd.Timestamp(dates)]))[0])


def percentile_thresholds(series: pd.Series, window: int = 15, min_years: int = 10
                          ) -> pd.DataFrame:
    """Day-of-year thresholds p10, p25, p75, p90 of a daily series (Weibull, WMO's rule).

    Parameters
    ----------
    series : pandas.Series
        Daily values (discharge m³/s or stage cm) indexed by local date (DatetimeIndex);
        NaN values and 29 February are left out.
    window : int
        Half-width of the pooling window, days (0-182); 15 pools a month around each day.
    min_years : int
        Fewest distinct years with data required (HydroSOS prefers a 30-year reference).

    Returns
    -------
    pandas.DataFrame
        Index ``day_of_year`` 1-365 (see :func:`noleap_day_of_year`); columns ``p10``,
        ``p25``, ``p75``, ``p90`` in the unit of ``series``, each the
        :func:`weibull_thresholds` of the pooled window; ``attrs`` records the window and
        the years used.

    Raises
    ------
    ValueError
        No DatetimeIndex, a window out of range, or too few years of data.
    """
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("series must be indexed by date (a DatetimeIndex)")
    if not 0 <= int(window) <= 182:
        raise ValueError(f"window must be 0-182 days, got {window}")
    values = np.asarray(series, dtype=float)
    idx = series.index
    ok = np.isfinite(values) & ~((idx.month == 2) & (idx.day == 29))
    years = np.unique(series.index.year[ok])
    if years.size < min_years:
        raise ValueError(f"percentile thresholds need at least {min_years} years with data, "
                         f"got {years.size}; lower min_years only for a provisional climate")
    doy = _noleap_doy(series.index)[ok]
    values = values[ok]
    # group once by day, then pool the days of each window
    order = np.argsort(doy, kind="stable")
    doy_sorted, values_sorted = doy[order], values[order]
    bounds = np.searchsorted(doy_sorted, np.arange(1, 367))
    by_day = [values_sorted[bounds[d]:bounds[d + 1]] for d in range(365)]
    out = np.full((365, len(PERCENTILES)), np.nan)
    for d in range(365):
        days = (d + np.arange(-int(window), int(window) + 1)) % 365
        pool = np.concatenate([by_day[i] for i in days])
        if pool.size:
            out[d] = weibull_thresholds(pool)
    frame = pd.DataFrame(out, columns=list(_COLUMNS),
                         index=pd.Index(np.arange(1, 366), name="day_of_year"))
    frame.attrs.update(window=int(window), first_year=int(years[0]), last_year=int(years[-1]),
                       n_years=int(years.size))
    return frame


def _day(day_of_year: int | dt.date | pd.Timestamp) -> int:
    if isinstance(day_of_year, (dt.date, pd.Timestamp)):
        return int(noleap_day_of_year(pd.Timestamp(day_of_year)))
    d = int(day_of_year)
    if not 1 <= d <= 366:
        raise ValueError(f"day_of_year must be 1-366 or a date, got {day_of_year}")
    return min(d, 365)


def _classify(value: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Class index 0-4 (-1 for NaN) of values against rows [p10, p25, p75, p90].

    WMO's rule: a value equal to a threshold is in the lower class.
    """
    p10, p25, p75, p90 = (p[..., i] for i in range(4))
    cls = np.select([value <= p10, value <= p25, value <= p75, value <= p90], [0, 1, 2, 3], 4)
    return np.where(np.isnan(value) | np.isnan(p10), -1, cls)


_BY_INDEX: Final = list(HydroSOSStatus)


def hydrosos_status(value: float, day_of_year: int | dt.date | pd.Timestamp,
                    percentiles: pd.DataFrame) -> HydroSOSStatus | None:
    """HydroSOS class of one value (a value equal to a threshold is in the lower class).

    Parameters
    ----------
    value : float
        Today's value, unit of the series the percentiles came from.
    day_of_year : int or date
        1-366 on the 365-day calendar of :func:`noleap_day_of_year` (366 counts as 365), or
        a date, which is converted (preferred: no leap-year ambiguity).
    percentiles : pandas.DataFrame
        From :func:`percentile_thresholds`.

    Returns
    -------
    HydroSOSStatus or None
        ``None`` if the value is NaN or the percentiles for that day are missing.
    """
    p = percentiles.loc[_day(day_of_year), list(_COLUMNS)].to_numpy(dtype=float)
    cls = int(_classify(np.asarray(float(value)), p))
    return None if cls < 0 else _BY_INDEX[cls]


def hydrosos_status_series(series: pd.Series, percentiles: pd.DataFrame) -> pd.Series:
    """HydroSOS class of every value of a daily series (DatetimeIndex); None where unknown."""
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("series must be indexed by date (a DatetimeIndex)")
    doy = _noleap_doy(series.index)
    p = percentiles.loc[doy, list(_COLUMNS)].to_numpy(dtype=float)
    cls = _classify(np.asarray(series, dtype=float), p)
    return pd.Series([None if c < 0 else _BY_INDEX[c] for c in cls], index=series.index,
                     dtype=object, name=series.name)


# --------------------------------------------------------------------------- monthly (WMO)

def monthly_means(series: pd.Series, min_completeness: float = 50.0) -> pd.Series:
    """Mean of each calendar month of a daily series, as WMO HydroSOS computes it.

    Parameters
    ----------
    series : pandas.Series
        Daily values indexed by date (DatetimeIndex); NaN is a missing day.
    min_completeness : float
        Percent of a month's days that must have a value; below it the mean is NaN
        (WMO: 50).  The days counted are those of the month between the series' first and
        last date (WMO fills the dates in between and counts them).

    Returns
    -------
    pandas.Series
        Indexed by the first day of each month (DatetimeIndex named ``month``), in the
        unit of ``series``.
    """
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("series must be indexed by date (a DatetimeIndex)")
    if series.empty:
        return pd.Series([], index=pd.DatetimeIndex([], name="month"), dtype=float)
    days = series.index.normalize()
    values = pd.Series(np.asarray(series, dtype=float), index=days).groupby(level=0).mean()
    full_index = pd.date_range(days.min(), days.max(), freq="D")
    full = values.reindex(full_index)
    grouped = full.groupby(full_index.to_period("M"))
    percent = grouped.count() / grouped.size() * 100.0
    means = grouped.mean().where(percent >= min_completeness)
    start = pd.PeriodIndex(means.index).to_timestamp()
    return pd.Series(means.to_numpy(dtype=float), index=pd.DatetimeIndex(start, name="month"),
                     name=series.name)


def monthly_thresholds(monthly: pd.Series, first_year: int = REFERENCE_YEARS[0],
                       last_year: int = REFERENCE_YEARS[1]) -> pd.DataFrame:
    """Long-term average and WMO thresholds of each calendar month over a reference period.

    Parameters
    ----------
    monthly : pandas.Series
        From :func:`monthly_means`.
    first_year, last_year : int
        Reference period, inclusive (WMO: 1991-2020).

    Returns
    -------
    pandas.DataFrame
        Index ``month`` 1-12; ``lta`` the mean of the reference years' monthly means (unit
        of the series), ``p10``, ``p25``, ``p75``, ``p90`` the :func:`weibull_thresholds` of
        the reference years' values in percent of ``lta`` (as in WMO's ``statusBands``),
        ``n`` the number of reference years with a value.

    Raises
    ------
    ValueError
        A calendar month has no value in the reference period (WMO skips such a file).
    """
    if first_year > last_year:
        raise ValueError(f"first_year {first_year} is after last_year {last_year}")
    years = pd.DatetimeIndex(monthly.index).year
    ref = monthly[(years >= first_year) & (years <= last_year)]
    ref_months = pd.DatetimeIndex(ref.index).month
    rows = []
    for m in range(1, 13):
        values = ref[ref_months == m].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError(f"month {m} has no value in {first_year}-{last_year}")
        lta = float(values.mean())
        rows.append([lta, *weibull_thresholds(values / lta * 100.0), values.size])
    frame = pd.DataFrame(rows, columns=["lta", *_COLUMNS, "n"],
                         index=pd.Index(np.arange(1, 13), name="month"))
    frame["n"] = frame["n"].astype(int)
    frame.attrs.update(first_year=int(first_year), last_year=int(last_year))
    return frame


def monthly_status(monthly: pd.Series, thresholds: pd.DataFrame) -> pd.DataFrame:
    """HydroSOS class of each monthly mean (WMO: a value equal to a threshold goes lower).

    Parameters
    ----------
    monthly : pandas.Series
        From :func:`monthly_means`.
    thresholds : pandas.DataFrame
        From :func:`monthly_thresholds`.

    Returns
    -------
    pandas.DataFrame
        Index as ``monthly``; ``mean`` (unit of the series), ``percent_of_average``
        (``mean`` in percent of its calendar month's ``lta``) and ``status``
        (:class:`HydroSOSStatus`, None where the mean is missing).
    """
    month = pd.DatetimeIndex(monthly.index).month
    lta = thresholds["lta"].reindex(month).to_numpy(dtype=float)
    percent = np.asarray(monthly, dtype=float) / lta * 100.0
    p = thresholds.loc[month, list(_COLUMNS)].to_numpy(dtype=float)
    cls = _classify(percent, p)
    return pd.DataFrame({"mean": np.asarray(monthly, dtype=float),
                         "percent_of_average": percent,
                         "status": pd.Series([None if c < 0 else _BY_INDEX[c] for c in cls],
                                             index=monthly.index, dtype=object)},
                        index=monthly.index)
