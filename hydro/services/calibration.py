"""Calibration of the snowmelt-runoff model per basin (the workflow behind
``hydrorisk scenario calibrate``); the optimiser is :func:`hydro.scenarios.calibrate`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from hydro.config import Config
from hydro.scenarios import CalibrationResult
from hydro.services.scenarios import bundled_observations, demo_forcing

#: fixed (prior) settings of the model, written into _model.toml with the calibration
MODEL_PRIORS = {
    "lapse_per_degree_latitude": "-0.6 degC",   # °C per degree north (steppe, winter-spring)
}
K_QUICK_AREA_SCALE = 30.0                     # k_quick = k_quick_base + sqrt(A km2) / this, d
CALIBRATION_YEARS = (2011, 2023)   # 2010 is spin-up (the record starts on 1 January 2010)
VALIDATION_YEARS = (2024, 2024)    # the reference flood, held out


def calibrate_model(config: Config, basins: list[str] | None = None, *, popsize: int = 10,
                    maxiter: int = 40, log: Callable[[str], None] = print
                    ) -> tuple[dict, dict[str, CalibrationResult]]:
    """Calibrate the snowmelt model per basin on the bundled series.

    Returns the ``_model.toml`` content (a dict) and the per-basin
    :class:`hydro.scenarios.CalibrationResult`.
    """
    from hydro.scenarios import calibrate, derive_local_inflow
    from hydro.units import parse_quantity

    net = config.network
    basins = basins or sorted(net.basins)
    forcing = demo_forcing(config)
    dates = pd.DatetimeIndex(forcing.dates)
    lapse = parse_quantity(MODEL_PRIORS["lapse_per_degree_latitude"],
                           "temperature").to("temperature")
    results = {}
    for b in basins:
        qi, qo = bundled_observations(config, [b], dates)
        local = derive_local_inflow(net, qi, qo, [b])
        log(f"calibrating {b}: {len(local)} observed nodes ...")
        results[b] = calibrate(net, b, forcing, local, calibration_years=CALIBRATION_YEARS,
                               validation_years=VALIDATION_YEARS, lapse_c_per_degree=lapse,
                               k_quick_area_scale=K_QUICK_AREA_SCALE,
                               popsize=popsize, maxiter=maxiter, seed=1)
    model = {
        "lapse_per_degree_latitude": MODEL_PRIORS["lapse_per_degree_latitude"],
        "k_quick_area_scale": K_QUICK_AREA_SCALE,
        "priors": {},
        "parameters": {b: {k: round(v, 4) for k, v in r.parameters.items()}
                       for b, r in results.items()},
        "calibration": {
            "data": "bundled SYNTHETIC demonstration series, data/gauges (GRDC discharge, "
                    "reservoir operations); local inflow = inflow minus routed observed "
                    "outflow upstream",
            "forcing": forcing.description,
            "calibration_years": list(CALIBRATION_YEARS),
            "validation_years": list(VALIDATION_YEARS),
            "method": (f"differential evolution (scipy, seed 1, popsize {popsize}, at most "
                       f"{maxiter} generations) maximising, area-weighted over the observed "
                       "nodes, 0.5 x KGE "
                       "(2009) of daily local inflow in March-June + 0.5 x NSE of the "
                       "March-June volume from year to year"),
            "synthetic": True,
            "skill": {b: {k: round(float(r.skill.loc["all", k]), 3)
                          for k in ("nse_calibration", "kge_calibration", "nse_validation",
                                    "kge_validation")}
                      for b, r in results.items()},
        },
    }
    return model, results


def write_model(path: Path, model: dict) -> None:
    """Write ``_model.toml`` (a small, fixed structure)."""
    def val(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        "# Snowmelt-runoff model (hydro.snowmelt), calibrated per basin by",
        "# `hydrorisk scenario calibrate --write`.  Do not edit by hand: recalibrate.",
        "#",
        "# SYNTHETIC: calibrated on the bundled synthetic demonstration data and forcing;",
        "# recalibrate on the agencies' series and station/reanalysis forcing before any",
        "# operational use.",
        "",
        f"lapse_per_degree_latitude = {val(model['lapse_per_degree_latitude'])}",
        f"k_quick_area_scale = {val(model['k_quick_area_scale'])}",
        "priors = {}",
        "",
    ]
    for b, p in model["parameters"].items():
        lines.append(f"[parameters.{b}]")
        lines += [f"{k} = {val(v)}" for k, v in p.items()]
        lines.append("")
    cal = model["calibration"]
    lines.append("[calibration]")
    for k in ("data", "forcing", "calibration_years", "validation_years", "method", "synthetic"):
        lines.append(f"{k} = {val(cal[k])}")
    lines.append("")
    for b, sk in cal["skill"].items():
        lines.append(f"[calibration.skill.{b}]")
        lines += [f"{k} = {val(v)}" for k, v in sk.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
