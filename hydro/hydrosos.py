"""WMO HydroSOS-style status of a gauge: where today's value sits in its day-of-year climate.

Pure functions.  Values may be discharge (m³/s) or stage (cm); percentiles come back in the
unit of the series they were computed from.

Classes (percentiles of the same day of year in the reference record):

============  ==============================  ==================
class         range                           ru / kk
============  ==============================  ==================
low           value <= p10                    низкий / төмен
below_normal  p10 < value <= p25              ниже нормы / нормадан төмен
normal        p25 < value < p75               норма / қалыпты
above_normal  p75 <= value < p90              выше нормы / нормадан жоғары
high          value >= p90                    высокий / жоғары
============  ==============================  ==================

Method: for each day of year ``d`` (a 365-day calendar: later days of a leap year move back
one; values of 29 February are left out of the percentiles, so that every year weighs the
same, and classified against 28 February's) all values of every year whose day
lies within ``±window`` days of ``d`` (circularly, so late December pools with early
January) are pooled, and the percentiles of that pool are taken (numpy's default linear
interpolation between order statistics).  No further smoothing.  A ±15-day window over
30 years pools ~930 values per day.

Reference: WMO Hydrological Status and Outlook System (HydroSOS), whose status categories
are these five percentile classes of the historical record (HydroSOS applies them to
monthly mean flows).  The daily, pooled-window variant is this project's choice, so a
duty officer sees a status every day.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "HydroSOSStatus",
    "LABELS",
    "PERCENTILES",
    "percentile_thresholds",
    "hydrosos_status",
    "hydrosos_status_series",
    "noleap_day_of_year",
]

#: percentiles bounding the five classes
PERCENTILES: Final = (10, 25, 75, 90)
_COLUMNS: Final = tuple(f"p{p}" for p in PERCENTILES)


class HydroSOSStatus(StrEnum):
    """The five HydroSOS status classes, least to most water."""

    LOW = "low"
    BELOW_NORMAL = "below_normal"
    NORMAL = "normal"
    ABOVE_NORMAL = "above_normal"
    HIGH = "high"


#: user-visible names of the classes, per language
LABELS: Final[dict[str, dict[HydroSOSStatus, str]]] = {
    "en": {HydroSOSStatus.LOW: "low", HydroSOSStatus.BELOW_NORMAL: "below normal",
           HydroSOSStatus.NORMAL: "normal", HydroSOSStatus.ABOVE_NORMAL: "above normal",
           HydroSOSStatus.HIGH: "high"},
    "ru": {HydroSOSStatus.LOW: "низкий", HydroSOSStatus.BELOW_NORMAL: "ниже нормы",
           HydroSOSStatus.NORMAL: "норма", HydroSOSStatus.ABOVE_NORMAL: "выше нормы",
           HydroSOSStatus.HIGH: "высокий"},
    "kk": {HydroSOSStatus.LOW: "төмен", HydroSOSStatus.BELOW_NORMAL: "нормадан төмен",
           HydroSOSStatus.NORMAL: "қалыпты", HydroSOSStatus.ABOVE_NORMAL: "нормадан жоғары",
           HydroSOSStatus.HIGH: "жоғары"},
}


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
    """Day-of-year percentiles p10, p25, p75, p90 of a daily series.

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
        ``p25``, ``p75``, ``p90`` in the unit of ``series``; ``attrs`` records the window and
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
            out[d] = np.percentile(pool, PERCENTILES)
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
    """Class index 0-4 (-1 for NaN) of values against rows [p10, p25, p75, p90]."""
    p10, p25, p75, p90 = (p[..., i] for i in range(4))
    cls = np.select([value <= p10, value <= p25, value < p75, value < p90], [0, 1, 2, 3], 4)
    return np.where(np.isnan(value) | np.isnan(p10), -1, cls)


_BY_INDEX: Final = list(HydroSOSStatus)


def hydrosos_status(value: float, day_of_year: int | dt.date | pd.Timestamp,
                    percentiles: pd.DataFrame) -> HydroSOSStatus | None:
    """HydroSOS class of one value.

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
