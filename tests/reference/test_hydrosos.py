"""HydroSOS status (hydro.hydrosos) against WMO's reference implementation.

Published values: WMO HydroSOS example station 33035 (wmo-im/HydroSOS, commit 4243005f,
``status/statuscalc.py``): its status bands (thresholds in percent of the 1991-2020
average) and its monthly categories, for January, April, July and December — see
tests/reference/data/hydrosos/PROVENANCE.md.  Hand-worked cases check the Weibull
r/(n+1) interpolation and the lower-class boundary rule on their own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hydro.hydrosos import (
    HydroSOSStatus,
    hydrosos_status,
    monthly_means,
    monthly_status,
    monthly_thresholds,
    percentile_thresholds,
    weibull_thresholds,
)

DATA = Path(__file__).parent / "data" / "hydrosos"
MONTHS = (1, 4, 7, 12)
_BY_CATEGORY = dict(enumerate(HydroSOSStatus, start=1))  # WMO 1 = low .. 5 = high


def _daily_33035() -> pd.Series:
    """The extract back as a daily series (only the four months; other days absent)."""
    dates, values = [], []
    for line in (DATA / "33035_daily_jan_apr_jul_dec.csv").read_text().splitlines()[2:]:
        month, *fields = line.split(",")
        start = pd.Timestamp(f"{month}-01")
        assert len(fields) == start.days_in_month, month
        dates += list(pd.date_range(start, periods=len(fields), freq="D"))
        values += [float(v) if v else np.nan for v in fields]
    return pd.Series(values, index=pd.DatetimeIndex(dates), name="33035")


@pytest.fixture(scope="module")
def wmo_33035():
    # the months between the extracted ones come out NaN (no day); the four months count
    # exactly their own days, blanks included, as WMO's script does on the full file
    monthly = monthly_means(_daily_33035())
    return monthly[pd.DatetimeIndex(monthly.index).month.isin(MONTHS)]


def _thresholds_four_months(monthly: pd.Series) -> pd.DataFrame:
    # monthly_thresholds wants all twelve months; fill the eight absent ones with a dummy
    # that cannot touch the four compared (each calendar month is computed on its own)
    years = range(1991, 2021)
    dummy = pd.Series(1.0, index=pd.DatetimeIndex(
        [pd.Timestamp(y, m, 1) for y in years for m in range(1, 13) if m not in MONTHS]))
    return monthly_thresholds(pd.concat([monthly, dummy]).sort_index(), 1991, 2020)


def test_wmo_33035_status_bands_reproduced(wmo_33035):
    bands = pd.read_csv(DATA / "33035_status_bands.csv", index_col="month")
    ours = _thresholds_four_months(wmo_33035).loc[list(MONTHS)]
    for ours_col, wmo_col in zip(["p10", "p25", "p75", "p90"], ["0.1", "0.25", "0.75", "0.9"],
                                 strict=True):
        np.testing.assert_allclose(ours[ours_col].to_numpy(), bands[wmo_col].to_numpy(),
                                   rtol=1e-13, atol=0, err_msg=ours_col)
    assert list(ours["n"]) == [29, 29, 29, 29]  # 1991-2020 without 2009
    # max/median/min of the reference percentages: the same monthly means and average
    ref = wmo_33035[(wmo_33035.index.year >= 1991) & (wmo_33035.index.year <= 2020)]
    for m in MONTHS:
        pct = ref[ref.index.month == m].dropna() / ours.loc[m, "lta"] * 100
        np.testing.assert_allclose([pct.max(), pct.median(), pct.min()],
                                   bands.loc[m, ["max", "median", "min"]].to_numpy(dtype=float),
                                   rtol=1e-13, atol=1e-15)


def test_wmo_33035_every_published_category_reproduced(wmo_33035):
    published = pd.read_csv(DATA / "33035_categories.csv", parse_dates=["date"])
    status = monthly_status(wmo_33035, _thresholds_four_months(wmo_33035))
    ours = status.loc[pd.DatetimeIndex(published["date"]), "status"]
    expected = [_BY_CATEGORY[c] for c in published["category"]]
    assert list(ours) == expected  # all 23: 2016-01 .. 2021-07, Jan/Apr/Jul/Dec


def test_wmo_33035_missing_months():
    daily = _daily_33035()
    jan = monthly_means(daily["2009-01-01":"2009-01-31"])
    assert np.isnan(jan.iloc[0])  # 11 of 31 days: below WMO's 50 %
    jul = monthly_means(daily["2013-07-01":"2013-07-31"])
    assert jul.iloc[0] == pytest.approx(np.nanmean(daily["2013-07"]))  # 21 of 31 days
    assert jul.index[0] == pd.Timestamp("2013-07-01") and jul.index.name == "month"


# --------------------------------------------------------------------------- hand-worked

def test_weibull_interpolation_hand_worked():
    # n = 9 values 10..90: positions r/10 = 0.1 .. 0.9, so every target is a position
    x = np.arange(10.0, 100.0, 10.0)
    np.testing.assert_allclose(weibull_thresholds(x), [10.0, 25.0, 75.0, 90.0])
    #   p25: positions 0.2 (20) and 0.3 (30) -> 20 + (0.25-0.2)/(0.1)*10 = 25
    # n = 4 values [4, 1, 3, 2] (order irrelevant): positions r/5 = .2 .4 .6 .8
    #   p10 < 0.2 -> smallest, 1;  p25: 1 + (0.25-0.2)/0.2*(2-1) = 1.25
    #   p75: 3 + (0.75-0.6)/0.2*(4-3) = 3.75;  p90 > 0.8 -> largest, 4
    np.testing.assert_allclose(weibull_thresholds([4.0, 1.0, 3.0, 2.0, np.nan]),
                               [1.0, 1.25, 3.75, 4.0])
    # numpy's default (linear, (r-1)/(n-1)) would give 1.3, 1.75, 3.25, 3.7
    # ties share the average rank: [1, 2, 2, 5] -> ranks 1, 2.5, 2.5, 4 -> positions
    #   .2, .5, .5, .8;  p25: 1 + (0.25-0.2)/(0.5-0.2)*(2-1) = 1.1666...
    #   p75: 2 + (0.75-0.5)/(0.8-0.5)*(5-2) = 4.5
    np.testing.assert_allclose(weibull_thresholds([1.0, 2.0, 2.0, 5.0]),
                               [1.0, 1.0 + 0.05 / 0.3, 4.5, 5.0])
    assert np.isnan(weibull_thresholds([np.nan])).all()


def test_value_equal_to_a_threshold_is_in_the_lower_class():
    # 19 years, each year constant at its value 1..19, window 0: on every day the pool is
    # 1..19, positions r/20, so p10 = 2 (r=2), p25 = 5 (r=5), p75 = 15, p90 = 18 exactly
    idx = pd.date_range("2001-01-01", "2019-12-31", freq="D")
    s = pd.Series(idx.year - 2000, index=idx, dtype=float)
    p = percentile_thresholds(s, window=0)
    assert tuple(p.loc[100]) == (2.0, 5.0, 15.0, 18.0)
    cases = {2.0: HydroSOSStatus.LOW, 2.5: HydroSOSStatus.BELOW_NORMAL,
             5.0: HydroSOSStatus.BELOW_NORMAL, 5.5: HydroSOSStatus.NORMAL,
             15.0: HydroSOSStatus.NORMAL, 15.5: HydroSOSStatus.ABOVE_NORMAL,
             18.0: HydroSOSStatus.ABOVE_NORMAL, 18.5: HydroSOSStatus.HIGH}
    for value, expected in cases.items():
        assert hydrosos_status(value, 100, p) is expected, value
    # the monthly product, same rule: a reference month exactly at p90 is above normal
    monthly = pd.Series(np.repeat(np.arange(1.0, 20.0), 12),  # 1991 all 1, ..., 2009 all 19
                        index=pd.date_range("1991-01-01", periods=19 * 12, freq="MS"))
    t = monthly_thresholds(monthly, 1991, 2009)
    status = monthly_status(monthly, t)
    # lta = 10, so 18 -> 180 % = p90 exactly; 19 -> 190 % > p90
    assert t.loc[3, "p90"] == 180.0
    assert status.loc["2008-03-01", "status"] is HydroSOSStatus.ABOVE_NORMAL
    assert status.loc["2009-03-01", "status"] is HydroSOSStatus.HIGH
    assert status.loc["1992-03-01", "status"] is HydroSOSStatus.LOW  # 20 % = p10


def test_monthly_thresholds_need_every_month():
    monthly = pd.Series(1.0, index=pd.date_range("1991-01-01", periods=11, freq="MS"))
    with pytest.raises(ValueError, match="month 12 has no value in 1991-2020"):
        monthly_thresholds(monthly)
