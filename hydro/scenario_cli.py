"""``hydrorisk scenario …``: run, compare and search release schedules under flood-season
scenarios, and answer the forecasters' one-step questions.  The I/O edge of
:mod:`hydro.scenarios`, :mod:`hydro.schedules` and :mod:`hydro.network_sim`: it reads the
scenario files, the calibrated model, the bundled series and the forcing, and writes
NetCDF and tables.

Commands (``hydrorisk scenario …``):

* ``list`` — the scenarios in ``config/scenarios/``;
* ``calibrate [--basin B] [--write]`` — calibrate the snowmelt model on the bundled series;
* ``run SCENARIO [--plan P] [--members N] [--chunk N] [--dask [ADDRESS]] [--out F.nc]``;
* ``compare SCENARIO PLAN_A PLAN_B`` — two plans side by side;
* ``search SCENARIO`` — the ``[search]`` over parametrised schedules;
* ``release SCENARIO --reservoir R --release Q --from D`` — stage downstream, and when;
* ``effects SCENARIO`` — unregulated peaks and each reservoir's holdout and effect;
* ``drawdown SCENARIO --reservoir R`` — is the reservoir low enough before the flood?

Wire into :func:`hydro.cli.build_parser` with ``add_commands(sub)``; user errors are
:class:`~hydro.errors.HydroriskError` (one line, exit status 2 in ``hydro.cli``).
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydro import network_sim
from hydro.cli import config_from_args
from hydro.scenario_commands import add_commands  # noqa: F401  (re-exported)
from hydro.config import Config, Network, read_toml
from hydro.errors import ConfigError, HydroriskError
from hydro.scenarios import (
    CalibrationResult,
    EnsemblePerturbations,
    HistoricalForcing,
    ModelFile,
    ScenarioFile,
    SeasonClimatology,
    perturbations,
    plan_schedules,
    run_members,
)

class ScenarioError(HydroriskError, ValueError):
    """A scenario command was asked something the scenario cannot answer."""


#: the synthetic demonstration world's forcing (hydro.synthetic) — a stand-in for the
#: station or reanalysis temperature and precipitation a deployment would supply
DEMO_FORCING_DESCRIPTION = (
    "SYNTHETIC: daily basin temperature and precipitation of the synthetic demonstration "
    "world (hydro.synthetic.climate.basin_climate, seed {seed}), the forcing behind the "
    "bundled data in data/gauges; not observations")


def demo_forcing(config: Config, seed: int | None = None) -> HistoricalForcing:
    """The basin forcing of the bundled synthetic demonstration data (2010–2024)."""
    from hydro.synthetic.climate import CLIMATES, basin_climate
    from hydro.synthetic.generate import DEFAULT_SEED, END, START

    seed = DEFAULT_SEED if seed is None else seed
    days = pd.date_range(START, END, freq="D")
    temp, precip = {}, {}
    for b in sorted(config.network.basins):
        temp[b], precip[b] = basin_climate(
            days, CLIMATES[b], np.random.default_rng([seed, zlib.crc32(b.encode())]))
    return HistoricalForcing(days.to_numpy().astype("datetime64[D]"), temp, precip, True,
                             DEMO_FORCING_DESCRIPTION.format(seed=seed))


def bundled_observations(config: Config, basins: list[str], dates: pd.DatetimeIndex,
                         folder: Path | None = None
                         ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Observed inflow and outflow (m³/s) per gauge and reservoir of ``basins`` from the
    bundled files (GRDC discharge; reservoir operations), on ``dates`` (NaN where missing).
    """
    from hydro.balance import daily_series
    from hydro.readers import read_file

    net = config.network
    root = folder or config.resolve(config.settings.paths.bundled)
    inflow: dict[str, np.ndarray] = {}
    outflow: dict[str, np.ndarray] = {}
    for gid, g in net.gauges.items():
        if g.basin not in basins:
            continue
        path = root / "grdc" / f"{gid.replace(':', '_')}_Q_Day.Cmd.txt"
        if not path.exists():
            continue
        obs = read_file(path, config).observations
        obs = obs[obs["variable"] == "discharge"]
        s = daily_series(obs[["time", "value"]], g.timezone).reindex(dates)
        inflow[gid] = outflow[gid] = s.to_numpy()
    for rid, r in net.reservoirs.items():
        if r.basin not in basins:
            continue
        path = root / "reservoirs" / f"{rid.replace(':', '_')}.csv"
        if not path.exists():
            continue
        obs = read_file(path, config).observations
        for var, table in (("inflow", inflow), ("outflow", outflow)):
            sel = obs[obs["variable"] == var]
            table[rid] = daily_series(sel[["time", "value"]], r.timezone).reindex(dates).to_numpy()
    if not inflow:
        raise ConfigError(f"{root}: no bundled series for basins {', '.join(basins)}")
    return inflow, outflow


# =========================================================================== loading

SCENARIO_DIR = "scenarios"
MODEL_FILE = "_model.toml"


def scenario_paths(config: Config) -> list[Path]:
    """Scenario files: ``config/scenarios/*.toml`` except those starting with ``_``."""
    folder = config.root / SCENARIO_DIR
    return sorted(p for p in folder.glob("*.toml") if not p.name.startswith("_"))


def load_scenario(config: Config, name: str | Path) -> ScenarioFile:
    """A scenario by id (``config/scenarios/<id>.toml``) or path, validated."""
    from hydro.scenarios import parse_scenario

    path = Path(name)
    if not path.suffix:
        path = config.root / SCENARIO_DIR / f"{name}.toml"
        if not path.exists():
            known = ", ".join(p.stem for p in scenario_paths(config)) or "none"
            raise ConfigError(f"{path}: no such scenario (known: {known})")
    sc = parse_scenario(read_toml(path), str(path), config.network)
    if path.stem != sc.id:
        raise ConfigError(f"{path}: scenario.id: '{sc.id}' differs from the file name "
                          f"'{path.stem}'")
    return sc


def load_model(config: Config) -> ModelFile:
    """The calibrated snowmelt model (``config/scenarios/_model.toml``)."""
    from hydro.scenarios import parse_model

    path = config.root / SCENARIO_DIR / MODEL_FILE
    if not path.exists():
        raise ConfigError(f"{path}: file not found; run `hydrorisk scenario calibrate --write`")
    return parse_model(read_toml(path), str(path))


@dataclass
class Context:
    """Everything a scenario command needs, loaded once."""

    config: Config
    scenario: ScenarioFile
    model: ModelFile
    climatology: SeasonClimatology
    levels: dict


def context(config: Config, name: str) -> Context:
    """Load a scenario, the model and the forcing; build the climatology."""
    from hydro.schedules import gauge_levels
    from hydro.scenarios import season_climatology

    sc = load_scenario(config, name)
    model = load_model(config)
    forcing = demo_forcing(config)
    first, last = model.calibration.calibration_years
    clim = season_climatology(config.network, sc.scenario.basins, forcing, model,
                              f"{sc.scenario.start:%m-%d}", (first, last),
                              reference_years=tuple(model.calibration.validation_years))
    gauges = [g for g in network_sim.select_nodes(config.network, sc.scenario.basins)
              if g in config.network.gauges]
    levels = gauge_levels(config.thresholds, gauges, sc.scenario.start)
    return Context(config, sc, model, clim, levels)


# =========================================================================== running

def _run_chunk(network: Network, scenario: ScenarioFile, clim: SeasonClimatology,
               pert: EnsemblePerturbations, plan: str) -> xr.Dataset:
    """One chunk of members (top-level so that Dask can send it to a worker)."""
    schedules = plan_schedules(scenario, plan, network)
    return run_members(network, scenario, clim, pert, schedules)


def run_ensemble(network: Network, scenario: ScenarioFile, clim: SeasonClimatology,
                 plan: str = "default", *, members: int | None = None,
                 chunk_members: int | None = None, dask: object = None,
                 progress: Callable[[int, int], None] | None = None) -> xr.Dataset:
    """Run the scenario's ensemble under ``plan``, in member chunks.

    Parameters
    ----------
    members : number of members (default: the scenario's)
    chunk_members : members per chunk (default: ``[run].chunk_members``)
    dask : ``None``/``False``: in this process; ``True`` or ``"local"``: a LocalCluster;
        an address (``tcp://host:8786``): that scheduler; or a ``distributed.Client``.
        Default: ``[run].dask``.
    progress : called with (chunks done, chunks) after each chunk

    Returns
    -------
    xarray.Dataset (member, node, time), identical whichever way it ran: the member
    perturbations are drawn once, before chunking.
    """
    n = scenario.ensemble.members if members is None else members
    size = chunk_members or scenario.run.chunk_members
    pert = perturbations(scenario.ensemble, scenario.scenario.days, n)
    chunks = [slice(i, min(i + size, n)) for i in range(0, n, size)]
    target = scenario.run.dask if dask is None else dask
    parts: list[xr.Dataset] = []
    if not target:
        for i, c in enumerate(chunks):
            parts.append(_run_chunk(network, scenario, clim, pert.subset(c), plan))
            if progress:
                progress(i + 1, len(chunks))
    else:
        with dask_client(target) as client:
            shared = client.scatter([network, scenario, clim], broadcast=True)
            futures = [client.submit(_run_chunk, shared[0], shared[1], shared[2],
                                     pert.subset(c), plan, pure=False) for c in chunks]
            index = {f.key: i for i, f in enumerate(futures)}
            from distributed import as_completed

            done_parts: dict[int, xr.Dataset] = {}
            for done, fut in enumerate(as_completed(futures), start=1):
                done_parts[index[fut.key]] = fut.result()
                if progress:
                    progress(done, len(chunks))
            parts = [done_parts[i] for i in range(len(chunks))]
    ds = xr.concat(parts, dim="member", data_vars="minimal", coords="minimal",
                   compat="override", join="override")
    ds = ds.assign_coords(member=np.arange(n))
    ds.attrs["members"] = n
    ds.attrs["plan"] = plan
    return ds


@contextmanager
def dask_client(address: object):
    """A dask.distributed Client: ``address`` itself when it is a Client; a scheduler
    address (``tcp://host:8786``); or, for ``True``/``"local"``, a LocalCluster of up to
    four single-threaded worker processes (closed again on exit)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--dask needs dask.distributed: "
                          "pip install 'dask[distributed]'") from None
    if isinstance(address, Client):
        yield address
        return
    if address is True or address == "local":
        import os

        cluster = LocalCluster(n_workers=max(1, min(4, os.cpu_count() or 1)),
                               threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
    else:
        client = Client(str(address))
        try:
            yield client
        finally:
            client.close()


def to_netcdf(ds: xr.Dataset, path: Path) -> Path:
    """Write a run as CF-NetCDF (booleans as bytes; compressed where the engine can)."""
    out = ds.copy()
    if "terminal" in out.coords:
        out = out.assign_coords(terminal=out["terminal"].astype("i1").assign_attrs(
            long_name="node has no downstream reach in the run", flag_values="0 1"))
    for name in out.data_vars:
        if out[name].dtype == bool:
            out[name] = out[name].astype("i1")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        encoding = {v: {"zlib": True, "complevel": 4} for v in out.data_vars
                    if out[v].dtype.kind == "f"}
        out.to_netcdf(path, engine="netcdf4", encoding=encoding)
    except (ImportError, ValueError):
        out.to_netcdf(path)
    return path


# =========================================================================== calibration

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


# =========================================================================== commands

def _banner(sc: ScenarioFile, clim: SeasonClimatology) -> str:
    if sc.scenario.synthetic or clim.synthetic:
        return (f"SYNTHETIC scenario '{sc.id}': built on the synthetic demonstration data and "
                "forcing; a demonstration of the method, not a forecast.")
    return f"scenario '{sc.id}'"


def _progress(done: int, total: int) -> None:
    bar = "#" * int(30 * done / total)
    print(f"\r  members: chunk {done}/{total} [{bar:<30}]", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def _print_frame(df: pd.DataFrame, floatfmt: str = "{:.1f}") -> None:
    with pd.option_context("display.width", 200, "display.max_columns", 40,
                           "display.max_rows", 500):
        print(df.to_string(index=False, na_rep="", float_format=lambda v: floatfmt.format(v)))


def _dask_arg(args: argparse.Namespace) -> str | bool | None:
    return getattr(args, "dask", None)


def cmd_list(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    from hydro.scenarios import parse_scenario

    for p in scenario_paths(config):
        sc = parse_scenario(read_toml(p), str(p), config.network)
        tag = " [synthetic]" if sc.scenario.synthetic else ""
        print(f"{sc.id}{tag}: {sc.scenario.names.en} — basins {', '.join(sc.scenario.basins)}, "
              f"{sc.scenario.start} + {sc.scenario.days} d, {sc.ensemble.members} members, "
              f"plans: {', '.join(sc.schedules)}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    model, results = calibrate_model(config, args.basin or None, popsize=args.popsize,
                                     maxiter=args.maxiter,
                                     log=lambda m: print(m, file=sys.stderr))
    print("snowmelt model calibration on the bundled SYNTHETIC series "
          f"(calibration {CALIBRATION_YEARS[0]}-{CALIBRATION_YEARS[1]}, validation "
          f"{VALIDATION_YEARS[0]}; daily local inflow, March-June)")
    for b, r in results.items():
        print(f"\n[{b}] " + ", ".join(f"{k}={v:.4g}" for k, v in r.parameters.items()))
        _print_frame(r.skill.reset_index(), "{:.3f}")
    if args.write:
        path = config.root / SCENARIO_DIR / MODEL_FILE
        if path.exists() and args.basin:
            old = read_toml(path)
            old["parameters"].update(model["parameters"])
            old["calibration"]["skill"].update(model["calibration"]["skill"])
            model["parameters"], model["calibration"]["skill"] = (old["parameters"],
                                                                  old["calibration"]["skill"])
        write_model(path, model)
        print(f"\nwritten to {path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from hydro.schedules import evaluate, summary

    config, ctx = _season(args, args.plan)
    sc = ctx.scenario
    print(_banner(sc, ctx.climatology))
    ds = run_ensemble(config.network, sc, ctx.climatology, args.plan, members=args.members,
                      chunk_members=args.chunk, dask=_dask_arg(args), progress=_progress)
    ev = evaluate(ds, ctx.levels, gauges=sc.evaluation.gauges, borders=sc.evaluation.borders,
                  spawning=_spawning(sc))
    print(f"plan '{args.plan}': {sc.schedules[args.plan].description}")
    print(f"{ds.sizes['member']} members x {ds.sizes['node']} nodes x {ds.sizes['time']} days")
    _print_frame(summary(ev))
    spawn = sc.evaluation.spawning
    if spawn is not None and spawn.minimum_volume is not None:
        need = spawn.minimum_volume.to("volume")
        share = float((ev["spawning_volume"] >= need).mean())
        print(f"spring ecological pulse past {spawn.node} {spawn.start}..{spawn.end}: at least "
              f"{need:.0f} hm3 in {100 * share:.0f} % of members")
    out = (Path(args.out) if args.out
           else config.resolve(f"var/scenarios/{sc.id}-{args.plan}.nc"))
    to_netcdf(ds, out)
    print(f"written {out}")
    return 0


def _check_plans(sc: ScenarioFile, *plans: str) -> None:
    for plan in plans:
        if plan not in sc.schedules:
            raise ScenarioError(f"unknown plan '{plan}' of scenario '{sc.id}' "
                                f"(plans: {', '.join(sc.schedules)})")


def _season(args: argparse.Namespace, *plans: str) -> tuple[Config, Context]:
    """The config and the context of the scenario named on the command line, with the
    plans checked against it."""
    config = config_from_args(args)
    ctx = context(config, args.scenario)
    _check_plans(ctx.scenario, *plans)
    return config, ctx


def _check_reservoir(sc: ScenarioFile, reservoir: str) -> None:
    names = sc.schedules["default"].reservoirs
    if reservoir not in names:
        raise ScenarioError(f"'{reservoir}' is not a reservoir of scenario '{sc.id}' "
                            f"(reservoirs: {', '.join(names)})")


def _plan_forcing(ctx: Context, plan: str, net: Network, members: int):
    """Perturbations, headwater inflows and release schedules of ``plan`` for ``members``
    ensemble members, as :func:`run_members` takes them."""
    from hydro.scenarios import headwater_inflows

    sc = ctx.scenario
    pert = perturbations(sc.ensemble, sc.scenario.days, members)
    return pert, headwater_inflows(sc, ctx.climatology, pert), plan_schedules(sc, plan, net)


def _spawning(sc: ScenarioFile) -> tuple[str, str, str] | None:
    s = sc.evaluation.spawning
    return None if s is None else (s.node, s.start, s.end)


def cmd_compare(args: argparse.Namespace) -> int:
    from hydro.schedules import compare, evaluate

    config, ctx = _season(args, args.plan_a, args.plan_b)
    sc = ctx.scenario
    print(_banner(sc, ctx.climatology))
    evs = []
    for plan in (args.plan_a, args.plan_b):
        ds = run_ensemble(config.network, sc, ctx.climatology, plan, members=args.members,
                          chunk_members=args.chunk, dask=_dask_arg(args), progress=_progress)
        evs.append(evaluate(ds, ctx.levels, gauges=sc.evaluation.gauges,
                            borders=sc.evaluation.borders, spawning=_spawning(sc)))
    table = compare(evs[0], evs[1], (args.plan_a, args.plan_b), statistic=args.statistic)
    print(f"{args.plan_a}: {sc.schedules[args.plan_a].description}")
    print(f"{args.plan_b}: {sc.schedules[args.plan_b].description}")
    print(f"ensemble {args.statistic} of {evs[0].sizes['member']} members:")
    _print_frame(table)
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"written {args.csv}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from hydro.scenarios import search_schedule

    config, ctx = _season(args)
    sc = ctx.scenario
    search = sc.search
    if search is None:
        raise ScenarioError(f"scenario '{sc.id}' has no [search] table")
    if args.members or args.maxiter:
        search = search.model_copy(update={
            k: v for k, v in (("members", args.members), ("maxiter", args.maxiter)) if v})
        sc = sc.model_copy(update={"search": search})
    print(_banner(sc, ctx.climatology))
    out = search_schedule(config.network, sc, ctx.climatology, ctx.levels)
    r = out.result
    print(f"search of '{search.reservoir}' ({', '.join(out.varied)}) on {out.members} members: "
          f"{r.evaluations} schedules, {r.generations} generations")
    print(f"  objective of the documented schedule '{search.template}': {r.start_values[0]:.4f}")
    print(f"  objective of the best schedule found:            {r.value:.4f}"
          f"  ({'meets' if r.feasible else 'MISSES'} the end-of-season storage target)")
    print(f'  best schedule (paste as [schedules.searched.reservoirs."{search.reservoir}"]):')
    for line in spec_toml(out.best):
        print(f"    {line}")
    return 0


def spec_toml(spec: object) -> list[str]:
    """TOML lines of a schedule spec (quantities as "<number> <unit>", dates bare)."""
    from hydro.units import Quantity

    lines = []
    for k in type(spec).model_fields:  # type: ignore[attr-defined]
        v = getattr(spec, k)
        if isinstance(v, Quantity):
            lines.append(f'{k} = "{v.value:g} {v.unit}"')
        elif isinstance(v, str):
            lines.append(f'{k} = "{v}"')
        else:
            lines.append(f"{k} = {v}")
    return lines


def cmd_release(args: argparse.Namespace) -> int:
    from hydro import reservoirs as R
    from hydro.schedules import release_from, release_response
    from hydro.units import parse_quantity

    config, ctx = _season(args, args.plan)
    net = config.network
    sc = ctx.scenario
    _check_reservoir(sc, args.reservoir)
    q = parse_quantity(args.release, "discharge").to("discharge")
    start = pd.Timestamp(args.from_date)
    day = (start - sc.dates[0]).days
    if not 0 <= day < len(sc.dates):
        raise ScenarioError(f"--from {start.date()} is outside the season of '{sc.id}' "
                            f"({sc.dates[0].date()}..{sc.dates[-1].date()})")
    pert, lateral, schedules = _plan_forcing(ctx, args.plan, net, args.members)
    base = run_members(net, sc, ctx.climatology, pert, schedules, lateral=lateral)
    new_release = release_from(base["release"].sel(reservoir=args.reservoir).values, q, day)
    changed = dict(schedules)
    changed[args.reservoir] = R.DailyRelease(new_release)
    new = run_members(net, sc, ctx.climatology, pert, changed, lateral=lateral)
    down = {r.downstream for r in network_sim.downstream_path(net, args.reservoir)}
    gauges = args.gauges or [g for g in (sc.evaluation.gauges or list(ctx.levels)) if g in down]
    print(_banner(sc, ctx.climatology))
    print(f"release {q:g} m3/s from {args.reservoir} from {start.date()} (before: plan "
          f"'{args.plan}'); member 0 (control) of the season:")
    table = release_response(base, new, net, ctx.levels, args.reservoir, gauges, start,
                             config.thresholds)
    _print_frame(table)
    flags = new["deviation_flags"].sel(reservoir=args.reservoir, member=0).values[day:]
    if flags.any():
        got = new["release"].sel(reservoir=args.reservoir, member=0).values[day:]
        print(f"note: the reservoir could not release {q:g} m3/s on {int((flags > 0).sum())} of "
              f"{flags.size} days (outlet capacity, ramp, dead storage or forced spill); "
              f"actual release {got.min():.0f}..{got.max():.0f} m3/s")
    return 0


def cmd_effects(args: argparse.Namespace) -> int:
    from hydro.network_sim import PassInflow
    from hydro.schedules import reservoir_effects

    config, ctx = _season(args, args.plan)
    net = config.network
    sc = ctx.scenario
    pert, lateral, schedules = _plan_forcing(ctx, args.plan, net, 1)
    reg = run_members(net, sc, ctx.climatology, pert, schedules, lateral=lateral)
    unreg = run_members(net, sc, ctx.climatology, pert, {r: PassInflow() for r in schedules},
                        lateral=lateral)
    without = {r: run_members(net, sc, ctx.climatology, pert, {**schedules, r: PassInflow()},
                              lateral=lateral) for r in schedules}
    gauges = sc.evaluation.gauges or [g for g in ctx.levels]
    peaks, effects = reservoir_effects(reg, unreg, without, net, gauges)
    print(_banner(sc, ctx.climatology))
    print(f"peaks under plan '{args.plan}' and with every reservoir passing its inflow "
          "(control member):")
    _print_frame(peaks)
    print("\neach reservoir's holdout and its effect on the peaks downstream "
          "(negative change = it lowered the peak):")
    _print_frame(effects)
    return 0


def cmd_drawdown(args: argparse.Namespace) -> int:
    from hydro.schedules import drawdown_check

    config, ctx = _season(args, args.plan)
    sc = ctx.scenario
    _check_reservoir(sc, args.reservoir)
    flood_start = args.flood_start or (sc.season.warm_up.start if sc.season.warm_up else None)
    if flood_start is None:
        raise ScenarioError("give --flood-start (the scenario has no warm_up)")
    if not sc.dates[0].date() <= flood_start <= sc.dates[-1].date():
        raise ScenarioError(f"--flood-start {flood_start} is outside the season of '{sc.id}'")
    ds = run_ensemble(config.network, sc, ctx.climatology, args.plan, members=args.members,
                      chunk_members=args.chunk, dask=_dask_arg(args), progress=_progress)
    r = drawdown_check(ds, config.network, args.reservoir, flood_start, args.probability)
    print(_banner(sc, ctx.climatology))
    print(f"pre-flood drawdown check of {args.reservoir} under plan '{args.plan}', flood from "
          f"{r['flood_start']}, {r['members']} members of the outlook:")
    print(f"  level at the flood start        {r['level_at_start_m']:.2f} m "
          f"({r['volume_at_start_hm3']:.0f} hm3; {r['free_to_npu_hm3']:.0f} hm3 free to НПУ)")
    print(f"  flood inflow from then on       {r['flood_volume_hm3']:.0f} hm3 (median)")
    print(f"  members absorbing the flood     {100 * r['p_absorbed']:.0f} % "
          "(level at or below НПУ, no spill)")
    verdict = "YES" if r["ok"] else "NO"
    print(f"  low enough under the rule?      {verdict} (needs {100 * r['probability']:.0f} %)")
    if not r["ok"]:
        print(f"  extra space needed ({100 * r['probability']:.0f} % of members): "
              f"{r['extra_space_hm3']:.0f} hm3 -> draw down to {r['required_level_m']:.2f} m "
              f"by {r['flood_start']}" + (" (dead storage reached: the reservoir alone cannot "
                                          "absorb it)" if r["dead_storage_reached"] else ""))
    return 0
