"""Reports over the store: the I/O edge that feeds the pure science of hydro.balance,
hydro.trend and hydro.floods with series from the store.

Used by ``hydrorisk report ...`` and by notebooks; every table says which party's series
it was computed from.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hydro.balance import (
    AccountingPeriod,
    Period,
    border_gauges,
    border_table,
    daily_series,
    reservoir_balance,
)
from hydro.config import Config
from hydro.floods import Dist, Method, annual_maxima, fit_annual_maxima, return_level_table
from hydro.store import Engine, api
from hydro.trend import border_trends

#: seed of the return-level bootstrap unless one is given (printed with every report)
DEFAULT_BOOTSTRAP_SEED = 20240405


def discharge_series(engine: Engine, config: Config, gauge_id: str,
                     party: str | None = None) -> pd.Series:
    """Daily discharge (m³/s) of a gauge by local date, as reported by ``party`` (default:
    the gauge's own country)."""
    gauge = config.network.gauges[gauge_id]
    party = party or gauge.country
    obs = api.series(engine, gauge_id, "discharge", party=party)
    if obs.empty:
        return pd.Series(dtype=float, name=gauge_id)
    s = daily_series(obs, gauge.timezone, party=party)
    s.name = gauge_id
    return s


def border_report(engine: Engine, config: Config, basin: str | None = None,
                  period: AccountingPeriod = "water_year") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(volume table, Mann–Kendall trends) for the border nodes of ``basin`` (or all)."""
    net = config.network
    acc = config.settings.accounting
    gauges = border_gauges(net)
    wanted = {b: g for b, g in gauges.items()
              if basin is None or net.nodes[b].basin == basin}
    discharge = {}
    for g in {bg.gauge_id for bg in wanted.values()}:
        s = discharge_series(engine, config, g)
        if len(s):
            discharge[g] = s
    env = {b: n.environmental_min_flow.to("discharge") for b, n in net.nodes.items()
           if n.kind == "border" and n.environmental_min_flow is not None}
    table = border_table(net, discharge, period=period, environmental_min_m3s=env,
                         missing="skip", base_period=tuple(acc.norm_base_period),
                         min_base_fraction=acc.min_base_fraction,
                         water_year_start_month=acc.water_year_start_month)
    if not table.empty:
        table = table[table["border_id"].isin(wanted)].reset_index(drop=True)
    trends = pd.DataFrame()
    if period == "water_year" and not table.empty:
        trends = border_trends(table)
    return table, trends


def reservoir_report(engine: Engine, config: Config, reservoir_id: str,
                     period: Period = "month") -> pd.DataFrame:
    """Water balance of one reservoir from its stored series (hm³ and % of throughput).

    ``outflow_hm3`` is the total outflow; with a stored ``spill`` series it is split into
    ``release_hm3`` (controlled release) and ``spill_hm3`` beside it."""
    res = config.network.reservoirs[reservoir_id]
    series = {}
    for var in ("volume", "inflow", "outflow", "spill", "evaporation"):
        obs = api.series(engine, reservoir_id, var)
        if not obs.empty:
            series[var] = daily_series(obs, res.timezone)
    missing = [v for v in ("volume", "inflow", "outflow") if v not in series]
    if missing:
        raise ValueError(f"no {', '.join(missing)} series for {reservoir_id} in the store")
    return reservoir_balance(series["volume"], series["inflow"], series["outflow"],
                             evaporation=series.get("evaporation"), period=period,
                             tolerance_percent=res.balance_tolerance_percent,
                             spill=series.get("spill"))


def return_level_report(engine: Engine, config: Config, gauge_id: str, dist: Dist = "gev",
                        method: Method = "lmom", variable: str = "discharge",
                        seed: int = DEFAULT_BOOTSTRAP_SEED) -> pd.DataFrame:
    """Return levels (2–100 years) of a gauge's annual maxima of daily values, with 90 %
    parametric-bootstrap limits drawn with ``seed`` (in ``.attrs["seed"]``): the same
    store and seed give the same table on every run."""
    gauge = config.network.gauges[gauge_id]
    obs = api.series(engine, gauge_id, variable, party=gauge.country)
    if obs.empty:
        raise ValueError(f"no {variable} series for {gauge_id} in the store")
    if variable == "stage":
        obs = obs[(obs["qc_flags"] & 1) == 0]  # ice-affected stages are not open-water peaks
    daily = daily_series(obs, gauge.timezone, party=gauge.country)
    peaks = annual_maxima(daily)
    fit = fit_annual_maxima(peaks.to_numpy(), dist=dist, method=method)
    table = return_level_table(fit, level=0.9, seed=seed)
    table.attrs["seed"] = seed
    table.attrs["n_years"] = len(peaks)
    table.attrs["years"] = (int(peaks.index.min()), int(peaks.index.max()))
    return table


def quality_report(engine: Engine, config: Config, site_id: str, year: int,
                   background_class: int | Mapping[str, int] | None = None) -> dict:
    """Pollution class of a site over a calendar year under both national systems.

    ``background_class`` is the site's KZ background class for ions of natural origin: one
    class for all of them, or a mapping parameter -> class (e.g. ``{"magnesium": 3,
    "sulfate": 2}``); ions left out of the mapping are judged on the class limits alone.

    Returns a dict with the samples' period means, ``units`` (parameter -> canonical unit
    of every known parameter from ``config/quality/parameters.toml``; pH in pH units),
    ``names`` (parameter -> {kk, ru, en}), ``kz`` (KzClassResult per edition) and ``ukizv`` (UkizvResult); every
    result says whether it is provisional, and the УКИЗВ whether it is incomplete.
    """
    from hydro.quality import classify_kz, period_mean, samples_from_long, ukizv

    q = api.quality_samples(engine, site_id)
    if q.empty:
        raise ValueError(f"no water-quality samples for {site_id} in the store")
    q = q[q["time"].dt.year == year]
    if q.empty:
        raise ValueError(f"no water-quality samples for {site_id} in {year}")
    long = pd.DataFrame({
        "time": q["time"], "parameter": q["parameter"],
        "value": [f"<{v:g}" if c else v for v, c in zip(q["value"], q["censored"], strict=True)],
    })
    samples = samples_from_long(long)
    means = period_mean(samples)
    # the deployment's tables (those of ``config``), never the environment's or the bundled
    kz = {ed: classify_kz(means, edition=ed, background_class=background_class,
                          table=config.quality_table(ed))
          for ed in ("kz2016", "kz2025")}
    u = ukizv(samples, mpc=config.quality_table("ru"), scoring=config.quality_table("ru-ukizv"))
    params = config.quality_parameters
    return {"site": site_id, "year": year, "n_samples": len(samples), "means": means,
            "units": {p: q.unit for p, q in params.items()},
            "names": {p: {lang: q.names.get(lang) for lang in ("kk", "ru", "en")}
                      for p, q in params.items()},
            "background_class": background_class, "kz": kz, "ukizv": u}
