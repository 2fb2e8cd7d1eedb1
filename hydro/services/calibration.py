"""Calibration of the snowmelt-runoff model per basin (the workflow behind
``hydrorisk scenario calibrate``); the optimiser is :func:`hydro.scenarios.calibrate`.

What to calibrate on and how is configuration, ``config/scenarios/_calibration.toml``
(:class:`CalibrationSettings`): the calibration and validation years, the spin-up, the
fixed priors, the objective's months and weights, the optimiser's seed, population and
generations, and which stored series to read.  The observations are read from the store
(daily discharge of the gauges, inflow and outflow of the reservoirs:
:func:`observed_flows`); the forcing comes from the configured source
(:mod:`hydro.services.forcing`).  The result is written to ``_model.toml``
(:func:`write_model`), the record of what was used.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from hydro.config import Config, read_toml
from hydro.errors import ConfigError, validate
from hydro.network import Strict, quantity_type
from hydro.scenarios import CalibrationResult, Priors
from hydro.services.context import Store
from hydro.services.forcing import SCENARIO_DIR, load_forcing, station_daily, station_timezone
from hydro.units import Quantity

CALIBRATION_FILE = "_calibration.toml"

#: stored variables read for calibration: gauges give discharge (inflow = outflow),
#: reservoirs their operator's inflow and outflow
GAUGE_VARIABLE = "discharge"
RESERVOIR_VARIABLES = ("inflow", "outflow")

MODEL_HEADER = (
    "# Snowmelt-runoff model (hydro.snowmelt), calibrated per basin by\n"
    "# `hydrorisk scenario calibrate --write` with the settings of _calibration.toml.\n"
    "# Do not edit by hand: recalibrate.\n")
SYNTHETIC_HEADER = (
    "#\n"
    "# SYNTHETIC: calibrated on the bundled synthetic demonstration data and forcing;\n"
    "# recalibrate on the agencies' series and station/reanalysis forcing before any\n"
    "# operational use.\n")


# =========================================================================== settings

Temperature = Annotated[Quantity, quantity_type("temperature")]
YearRange = Annotated[list[int], Field(min_length=2, max_length=2)]


class ObservationSelection(Strict):
    """``[calibration.observations]``: which stored series to read."""

    sources: list[str] | None = Field(
        default=None, description="ingest sources to read, in order of preference "
                                  "(default: every source, alphabetically)")
    party: Literal["KZ", "RU"] | None = Field(
        default=None, description="only this party's series (default: the station's "
                                  "country first, then the other)")


class CalibrationSettings(Strict):
    """``[calibration]`` of ``config/scenarios/_calibration.toml``."""

    calibration_years: YearRange
    validation_years: YearRange
    spin_up_years: int = Field(default=1, ge=0, le=10)
    lapse_per_degree_latitude: Temperature
    k_quick_area_scale: float = Field(gt=0, description="k_quick = k_quick_base + "
                                                        "sqrt(A km²) / this, d")
    priors: Priors = Field(default_factory=dict)
    months: list[int] = Field(default_factory=lambda: [3, 4, 5, 6], min_length=1)
    volume_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    seed: int = Field(default=1, ge=0)
    popsize: int = Field(default=10, ge=2)
    maxiter: int = Field(default=40, ge=1)
    observations: ObservationSelection = ObservationSelection()

    @field_validator("calibration_years", "validation_years")
    @classmethod
    def _range(cls, v: list[int]) -> list[int]:
        if v[0] > v[1]:
            raise ValueError(f"first year {v[0]} is after the last {v[1]}")
        return v

    @field_validator("months")
    @classmethod
    def _months(cls, v: list[int]) -> list[int]:
        bad = [m for m in v if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"month {bad[0]} is not in 1..12")
        return v

    @model_validator(mode="after")
    def _enough(self) -> CalibrationSettings:
        if self.calibration_years[1] - self.calibration_years[0] < 2:
            raise ValueError("calibration_years must span at least 3 years")
        (c0, c1), (v0, v1) = self.calibration_years, self.validation_years
        if c0 <= v1 and v0 <= c1:
            raise ValueError(f"validation_years {v0}-{v1} overlap calibration_years {c0}-{c1}: "
                             "the validation period must be held out of the calibration")
        return self

    @property
    def period(self) -> pd.DatetimeIndex:
        """The days the forcing must cover: spin-up, calibration and validation years."""
        first = min(self.calibration_years[0], self.validation_years[0]) - self.spin_up_years
        last = max(self.calibration_years[1], self.validation_years[1])
        return pd.date_range(f"{first}-01-01", f"{last}-12-31", freq="D")

    @property
    def lapse_text(self) -> str:
        q = self.lapse_per_degree_latitude
        return f"{q.value:g} {q.unit}"


class _CalibrationFile(Strict):
    calibration: CalibrationSettings


def calibration_path(config: Config) -> Path:
    return config.root / SCENARIO_DIR / CALIBRATION_FILE


def parse_settings(raw: Mapping[str, Any], source: str) -> CalibrationSettings:
    """Validate a ``_calibration.toml`` mapping; errors name the file and the key."""
    return validate(_CalibrationFile, raw, source).calibration


def load_settings(config: Config) -> CalibrationSettings:
    """The calibration settings of ``config/scenarios/_calibration.toml``."""
    path = calibration_path(config)
    return parse_settings(read_toml(path), str(path))


# =========================================================================== observations

def observed_flows(store: Store, config: Config, basins: Sequence[str],
                   dates: pd.DatetimeIndex, *, sources: Sequence[str] | None = None,
                   party: str | None = None
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Observed inflow and outflow (m³/s) per gauge and reservoir of ``basins``, daily on
    ``dates`` (local dates of each station; NaN where missing), from the store.

    A gauge's inflow and outflow are its daily discharge; a reservoir's are the operator's
    inflow and outflow.  Sub-daily values are averaged per local date.  ``sources`` (ingest
    source ids, in order of preference) and ``party`` select among several series of one
    station (see :func:`hydro.services.forcing.station_daily`).
    """
    from hydro.store import api

    net = config.network
    gauges = [g for g, x in net.gauges.items() if x.basin in basins]
    reservoirs = [r for r, x in net.reservoirs.items() if x.basin in basins]
    dates = pd.DatetimeIndex(dates)
    start = (dates[0] - pd.Timedelta(days=1)).to_pydatetime()
    end = (dates[-1] + pd.Timedelta(days=2)).to_pydatetime()
    obs = api.observations(store, stations=gauges + reservoirs,
                           variables=[GAUGE_VARIABLE, *RESERVOIR_VARIABLES], start=start,
                           end=end, party=party, sources=list(sources) if sources else None)
    groups = {k: g for k, g in obs.groupby(["station_id", "variable"], observed=True)}

    def daily(sid: str, var: str) -> np.ndarray | None:
        rows = groups.get((sid, var))
        if rows is None or rows.empty:
            return None
        node = net.node(sid)
        s = station_daily(rows, station_timezone(config, sid), "mean",
                          [party or getattr(node, "country", "") or ""], sources or ())
        values = s.reindex(dates).to_numpy(dtype=float)
        return None if np.isnan(values).all() else values

    inflow: dict[str, np.ndarray] = {}
    outflow: dict[str, np.ndarray] = {}
    for gid in gauges:
        q = daily(gid, GAUGE_VARIABLE)
        if q is not None:
            inflow[gid] = outflow[gid] = q
    for rid in reservoirs:
        qi, qo = daily(rid, "inflow"), daily(rid, "outflow")
        if qi is None and qo is None:
            continue
        nan = np.full(len(dates), np.nan)
        inflow[rid] = nan if qi is None else qi
        outflow[rid] = nan if qo is None else qo
    if not inflow:
        which = f" of sources {', '.join(sources)}" if sources else ""
        raise ConfigError(
            f"the store holds no daily discharge, inflow or outflow{which} for basin(s) "
            f"{', '.join(basins)} between {dates[0].date()} and {dates[-1].date()}; load "
            "the series first (`hydrorisk ingest ...`; the bundled demonstration data: "
            "`hydrorisk ingest data/gauges`)")
    return inflow, outflow


# =========================================================================== calibration

def _months_text(months: Sequence[int]) -> str:
    ms = list(months)
    if ms == list(range(ms[0], ms[-1] + 1)) and len(ms) > 1:
        return f"{calendar.month_name[ms[0]]}-{calendar.month_name[ms[-1]]}"
    return ", ".join(calendar.month_name[m] for m in ms)


def calibrate_model(config: Config, store: Store, basins: list[str] | None = None, *,
                    settings: CalibrationSettings | None = None, popsize: int | None = None,
                    maxiter: int | None = None, seed: int | None = None,
                    log: Callable[[str], None] = print
                    ) -> tuple[dict, dict[str, CalibrationResult]]:
    """Calibrate the snowmelt model per basin on the observations in ``store``.

    ``settings`` default to ``config/scenarios/_calibration.toml``; ``popsize``,
    ``maxiter`` and ``seed`` override theirs.  Returns the ``_model.toml`` content (a
    dict) and the per-basin :class:`hydro.scenarios.CalibrationResult`.
    """
    from hydro.scenarios import calibrate, derive_local_inflow
    from hydro.services.observations import holds_bundled_data

    cfg = settings or load_settings(config)
    popsize = cfg.popsize if popsize is None else popsize
    maxiter = cfg.maxiter if maxiter is None else maxiter
    seed = cfg.seed if seed is None else seed
    net = config.network
    basins = basins or sorted(net.basins)
    unknown = [b for b in basins if b not in net.basins]
    if unknown:
        raise ConfigError(f"unknown basin '{unknown[0]}' (known: {', '.join(net.basins)})")
    forcing = load_forcing(config, store, cfg.period)
    dates = pd.DatetimeIndex(forcing.dates)
    lapse = cfg.lapse_per_degree_latitude.to("temperature")
    sel = cfg.observations
    cal, val = cfg.calibration_years, cfg.validation_years
    results = {}
    for b in basins:
        qi, qo = observed_flows(store, config, [b], dates, sources=sel.sources, party=sel.party)
        local = derive_local_inflow(net, qi, qo, [b])
        log(f"calibrating {b}: {len(local)} observed nodes ...")
        results[b] = calibrate(net, b, forcing, local,
                               calibration_years=(cal[0], cal[1]),
                               validation_years=(val[0], val[1]),
                               lapse_c_per_degree=lapse,
                               k_quick_area_scale=cfg.k_quick_area_scale, priors=cfg.priors,
                               months=cfg.months, volume_weight=cfg.volume_weight,
                               popsize=popsize, maxiter=maxiter, seed=seed)
    bundled = holds_bundled_data(store)
    which = f" (sources {', '.join(sel.sources)})" if sel.sources else ""
    data = (("bundled SYNTHETIC demonstration series (data/gauges) " if bundled else "series ")
            + f"read from the store{which}: daily discharge of the gauges, inflow and "
            "outflow of the reservoirs; local inflow = inflow minus routed observed outflow "
            "upstream")
    months = _months_text(cfg.months)
    vw = cfg.volume_weight
    model = {
        "lapse_per_degree_latitude": cfg.lapse_text,
        "k_quick_area_scale": cfg.k_quick_area_scale,
        "priors": dict(cfg.priors),
        "parameters": {b: {k: round(v, 4) for k, v in r.parameters.items()}
                       for b, r in results.items()},
        "calibration": {
            "data": data,
            "forcing": forcing.description,
            "calibration_years": list(cfg.calibration_years),
            "validation_years": list(cfg.validation_years),
            "method": (f"differential evolution (scipy, seed {seed}, popsize {popsize}, at "
                       f"most {maxiter} generations) maximising, area-weighted over the "
                       f"observed nodes, {1 - vw:g} x KGE (2009) of daily local inflow in "
                       f"{months} + {vw:g} x NSE of the {months} volume from year to year"),
            "synthetic": bool(forcing.synthetic or bundled),
            "skill": {b: {k: round(float(r.skill.at["all", k]), 3)  # type: ignore[arg-type]  # pandas-stubs: .at is any scalar
                          for k in ("nse_calibration", "kge_calibration", "nse_validation",
                                    "kge_validation")}
                      for b, r in results.items()},
        },
    }
    return model, results


def skill_table(results: Mapping[str, CalibrationResult], calibration_years: tuple[int, int],
                validation_years: tuple[int, int]) -> pd.DataFrame:
    """Skill per basin and period: one row per (basin, period) with the years, NSE and KGE
    (area-weighted over the observed nodes, the ``"all"`` row of each result)."""
    rows = []
    for b, r in results.items():
        for label, years in (("calibration", calibration_years), ("validation", validation_years)):
            rows.append({"basin": b, "period": label, "years": f"{years[0]}-{years[1]}",
                         "nse": float(r.skill.at["all", f"nse_{label}"]),  # type: ignore[arg-type]
                         "kge": float(r.skill.at["all", f"kge_{label}"])})  # type: ignore[arg-type]
    return pd.DataFrame(rows)


def write_model(path: Path, model: dict) -> None:
    """Write ``_model.toml``: the header comment, then the model as TOML (tomli-w)."""
    import tomli_w

    header = MODEL_HEADER
    if model.get("calibration", {}).get("synthetic"):
        header += SYNTHETIC_HEADER
    path.write_text(header + "\n" + tomli_w.dumps(model), encoding="utf-8")
