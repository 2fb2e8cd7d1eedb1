"""hydro.short_range: persistence and climatology worked by hand, SARIMAX recovering a
simulated model's coefficients, no look-ahead, and a routed-upstream example where the
model beats persistence at lead >= 3 days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hydro.forecast_skill import skill_by_lead
from hydro.short_range import (
    OUTPUT_COLUMNS,
    SarimaxForecaster,
    ShortRangeError,
    climatology_forecast,
    day_of_year_365,
    future_inputs,
    lagged_inputs,
    persistence_forecast,
    rolling_origin_backtest,
    sarimax_forecast,
)

START = pd.Timestamp("2020-01-01")


def daily(values, start=START, name="q") -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float),
                     index=pd.date_range(start, periods=len(values), freq="D"), name=name)


def simulate(n: int = 500, lag: int = 3, beta: float = 0.8, phi: float = 0.6, c: float = 4.0,
             seed: int = 12) -> tuple[pd.Series, pd.DataFrame]:
    """Upstream discharge u (m³/s): base flow plus seeded flood pulses (gamma-shaped
    hydrographs) plus noise.  Downstream y_t = β u(t − lag) + η_t with
    η_t = c + φ η_{t−1} + ε_t, ε ~ N(0, 2²): the SARIMAX(1, 0, 0) regression-with-AR-errors
    form, trend "c" (statsmodels puts the trend in the error equation)."""
    rng = np.random.default_rng(seed)
    u = 50.0 + rng.normal(0, 2.0, n)
    shape = np.arange(25.0) ** 2 * np.exp(-np.arange(25.0) / 2.5)
    shape /= shape.max()
    for start in rng.choice(n - 25, size=n // 30, replace=False):
        u[start:start + 25] += rng.uniform(40, 200) * shape
    eta = np.empty(n)
    eta[0] = c / (1 - phi)
    eps = rng.normal(0, 2.0, n)
    for t in range(1, n):
        eta[t] = c + phi * eta[t - 1] + eps[t]
    y = np.full(n, np.nan)
    y[lag:] = beta * u[:-lag] + eta[lag:]
    upstream = pd.DataFrame({"up": u}, index=pd.date_range(START, periods=n, freq="D"))
    return daily(y).iloc[lag:], upstream


# ---------------------------------------------------------------- persistence


def test_persistence_of_a_constant_series_is_exact_with_a_zero_width_interval():
    q = daily(np.full(400, 123.0))
    fc = persistence_forecast(q, "2021-01-20", 5)
    assert list(fc.columns) == list(OUTPUT_COLUMNS)
    assert (fc["forecast"] == 123.0).all() and (fc["lower"] == 123.0).all()
    assert (fc["upper"] == 123.0).all()
    assert list(fc["lead_days"]) == [1, 2, 3, 4, 5]
    assert fc["valid_time"].iloc[0] == pd.Timestamp("2021-01-21")


def test_persistence_uses_the_last_value_on_or_before_the_issue_date():
    q = daily([1.0, 2.0, 3.0, np.nan, 99.0])
    fc = persistence_forecast(q, START + pd.Timedelta(days=3), 2)
    assert (fc["forecast"] == 3.0).all()  # the issue day is missing; 99 is the future


def test_persistence_interval_is_the_quantiles_of_past_h_day_changes():
    # a ramp of +1 per day: every h-day change is h, so the interval is [last + h, last + h]
    q = daily(np.arange(100.0))
    fc = persistence_forecast(q, START + pd.Timedelta(days=99), 3, window_days=None)
    np.testing.assert_allclose(fc["lower"], [100.0, 101.0, 102.0])
    np.testing.assert_allclose(fc["upper"], [100.0, 101.0, 102.0])


# ---------------------------------------------------------------- climatology


def test_day_of_year_365_puts_1_march_on_day_60_in_every_year():
    idx = pd.DatetimeIndex(["2023-03-01", "2024-03-01", "2024-02-29", "2024-02-28",
                            "2024-12-31"])
    np.testing.assert_array_equal(day_of_year_365(idx), [60, 60, 59, 59, 365])


def test_climatology_is_the_day_of_year_mean_and_quantiles_worked_by_hand():
    """Years 2019-2023 hold the constant values 1..5: every day-of-year sample holds 15
    values (± 7 days) of each year, so the mean is 3 and the 5 % and 95 % quantiles are 1
    and 5 (numpy linear quantiles of 75 values)."""
    idx = pd.date_range("2019-01-01", "2023-12-31", freq="D")
    q = pd.Series(idx.year - 2018.0, index=idx)
    fc = climatology_forecast(q, "2023-12-31", 3)
    np.testing.assert_allclose(fc["forecast"], 3.0)
    np.testing.assert_allclose(fc["lower"], 1.0)
    np.testing.assert_allclose(fc["upper"], 5.0)


def test_climatology_of_a_repeating_seasonal_cycle_is_that_cycle():
    idx = pd.date_range("2015-01-01", "2022-12-31", freq="D")
    doy = day_of_year_365(idx)
    q = pd.Series(100 + 50 * np.sin(2 * np.pi * doy / 365), index=idx)
    fc = climatology_forecast(q, "2022-04-10", 4, window_days=0)
    expected = 100 + 50 * np.sin(2 * np.pi * day_of_year_365(pd.DatetimeIndex(fc["valid_time"]))
                                 / 365)
    np.testing.assert_allclose(fc["forecast"], expected)


def test_climatology_refuses_a_short_history():
    with pytest.raises(ShortRangeError, match="at least 60 days of history"):
        climatology_forecast(daily(np.ones(30)), START + pd.Timedelta(days=29), 3)


# ---------------------------------------------------------------- inputs


def test_lagged_inputs_shift_each_input_by_its_lags():
    up = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [10.0, np.nan, 30, 40]},
                      index=pd.date_range(START, periods=4, freq="D"))
    x = lagged_inputs(up, {"a": [1, 2], "b": 0})
    assert list(x.columns) == ["a@lag1d", "a@lag2d", "b@lag0d"]
    np.testing.assert_array_equal(x["a@lag2d"].to_numpy(), [np.nan, np.nan, 1, 2])
    np.testing.assert_array_equal(x["b@lag0d"].to_numpy(), [10, 10, 30, 40])  # gap filled forward


def test_future_inputs_persist_the_last_value_unless_a_plan_is_given():
    up = pd.DataFrame({"gauge": [5.0, 6.0, 7.0, 99.0], "release": [100.0, 100, 120, 999]},
                      index=pd.date_range(START, periods=4, freq="D"))
    issue = START + pd.Timedelta(days=2)
    plan = pd.DataFrame({"release": [300.0]}, index=[issue + pd.Timedelta(days=2)])
    ext = future_inputs(up, issue, 3, planned=plan)
    future = ext.loc[issue + pd.Timedelta(days=1):]
    np.testing.assert_array_equal(future["gauge"], [7.0, 7.0, 7.0])  # 99 is not known yet
    np.testing.assert_array_equal(future["release"], [120.0, 300.0, 120.0])


# ---------------------------------------------------------------- SARIMAX


def test_sarimax_recovers_the_coefficients_of_a_simulated_model():
    """Simulated with β = 0.8 on u(t − 3), AR(1) errors φ = 0.6, c = 4, σ² = 4."""
    y, up = simulate(n=700)
    model = SarimaxForecaster(lags={"up": 3}).fit(y, up)
    p = model.params
    assert p["up@lag3d"] == pytest.approx(0.8, abs=0.03)
    assert p["ar.L1"] == pytest.approx(0.6, abs=0.08)
    assert p["intercept"] == pytest.approx(4.0, abs=1.0)
    assert p["sigma2"] == pytest.approx(4.0, rel=0.15)


def test_sarimax_forecasts_do_not_read_data_after_the_issue_date():
    y, up = simulate(n=300)
    issue = y.index[200]
    a = sarimax_forecast(y, up, issue, 5, lags={"up": 3})
    y2, up2 = y.copy(), up.copy()
    y2.loc[issue + pd.Timedelta(days=1):] = 1e6
    up2.loc[issue + pd.Timedelta(days=1):] = -1e6
    b = sarimax_forecast(y2, up2, issue, 5, lags={"up": 3})
    pd.testing.assert_frame_equal(a, b)
    for fn in (persistence_forecast, climatology_forecast):
        pd.testing.assert_frame_equal(fn(y, issue, 5), fn(y2, issue, 5))


def test_sarimax_uses_the_known_lagged_input_up_to_the_lag_then_a_planned_release():
    y, up = simulate(n=300)
    issue = y.index[200]
    fitted = SarimaxForecaster(lags={"up": 2}).fit(y, up, through=issue)
    base = fitted.forecast(y, up, issue, 4)
    plan = pd.DataFrame({"up": 500.0}, index=pd.date_range(issue + pd.Timedelta(days=1),
                                                           periods=4, freq="D"))
    planned = fitted.forecast(y, up, issue, 4, planned=plan)
    diff = (planned["forecast"] - base["forecast"]).to_numpy()
    # leads 1-2 see u(T−1), u(T): observed, unchanged; lead 3 sees the plan on T+1, +β Δu
    np.testing.assert_allclose(diff[:2], 0.0, atol=1e-9)
    du = 500.0 - up["up"].loc[issue]
    assert diff[2] == pytest.approx(fitted.params["up@lag2d"] * du, rel=1e-6)
    assert (base["lower"] < base["forecast"]).all() and (base["forecast"] < base["upper"]).all()


def test_sarimax_refuses_to_forecast_with_parameters_fitted_on_the_future():
    y, up = simulate(n=300)
    fitted = SarimaxForecaster(lags={"up": 3}).fit(y, up)
    with pytest.raises(ShortRangeError, match="before the end of the fit period"):
        fitted.forecast(y, up, y.index[100], 3)
    with pytest.raises(ShortRangeError, match="not fitted"):
        SarimaxForecaster().forecast(y, None, y.index[100], 3)
    with pytest.raises(ShortRangeError, match="at least 60 observed days"):
        SarimaxForecaster(lags={"up": 3}).fit(y.iloc[:40], up)
    with pytest.raises(ShortRangeError, match="no input column for lagged input"):
        SarimaxForecaster(lags={"upstream": 3}).fit(y, up)
    with pytest.raises(ShortRangeError, match=r"horizon must be an integer number of days"):
        persistence_forecast(y, y.index[100], 0)


def test_routed_upstream_model_beats_persistence_at_lead_3_and_beyond():
    """Rolling-origin backtest on the simulated routed reach: at lead ≤ 3 the model sees
    the upstream flood already on its way; persistence does not."""
    y, up = simulate(n=520, seed=7)
    issues = y.index[400:515:3]
    bt = rolling_origin_backtest(y, issues, 5, inputs=up, lags={"up": 3})
    assert set(bt.columns) == {"issue_time", "lead_days", "valid_time", "forecast", "observed",
                               "lower", "upper", "method"}
    row = bt[(bt["method"] == "sarimax") & (bt["issue_time"] == issues[0])
             & (bt["lead_days"] == 2)].iloc[0]
    assert row["observed"] == y.loc[issues[0] + pd.Timedelta(days=2)]
    table = skill_by_lead(bt).set_index(["method", "lead_days"])
    for lead in (3, 4, 5):
        assert table.loc[("sarimax", lead), "beats_persistence"], table.loc["sarimax"]
    assert table.loc[("sarimax", 3), "skill_mse_vs_persistence"] > 0.3
    assert table.loc[("sarimax", 3), "skill_mse_vs_climatology"] > 0.3


def test_an_input_forecast_widens_the_interval_by_beta_squared_sigma_squared():
    """Hand-worked: model σ 10 m³/s on every lead (90 % interval ± 1.645·10); one input with
    β = 0.8 and lag 2 d whose forecast has σ 30 m³/s on the days after the issue.  Leads 1-2
    use observed input values (issue day and before): unchanged; from lead 3 the variance is
    10² + (0.8·30)² = 676, σ = 26."""
    from scipy import stats

    from hydro import short_range as sr

    issue = pd.Timestamp("2024-04-10")
    z = stats.norm.ppf(0.95)
    lead = np.arange(1, 6)
    frame = pd.DataFrame({"issue_time": issue, "lead_days": lead,
                          "valid_time": issue + pd.to_timedelta(lead, "D"),
                          "forecast": 1000.0, "lower": 1000.0 - z * 10, "upper": 1000.0 + z * 10,
                          "method": "sarimax"})
    sd = pd.Series(30.0, index=pd.date_range(issue + pd.Timedelta(days=1), periods=5))
    out = sr.widen_for_forecast_inputs(frame, [(0.8, 2, sd)], alpha=0.1)
    half = (out["upper"] - out["lower"]).to_numpy() / 2
    assert half[:2] == pytest.approx([z * 10] * 2)
    assert half[2:] == pytest.approx([z * 26] * 3)
    assert (out["forecast"] == frame["forecast"]).all()
    # no input terms: unchanged
    pd.testing.assert_frame_equal(sr.widen_for_forecast_inputs(frame, [], alpha=0.1), frame)
