"""Scenario runs: load scenario files and the calibrated model, assemble the forcing (from
the source chosen in ``config/scenarios/_forcing.toml``, :mod:`hydro.services.forcing`) and
the season climatology, run ensembles (in this process or on Dask), write runs as NetCDF.

The service behind ``hydrorisk scenario …`` and the dashboard's scenario lab; the science
is in :mod:`hydro.scenarios`, :mod:`hydro.schedules` and :mod:`hydro.network_sim`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from hydro import network_sim
from hydro.config import Config, read_toml
from hydro.errors import ConfigError, HydroriskError
from hydro.network import Network
from hydro.scenarios import (
    EnsemblePerturbations,
    ModelFile,
    ScenarioFile,
    SeasonClimatology,
    perturbations,
    plan_schedules,
    run_members,
)
from hydro.services.context import Store
from hydro.services.forcing import (  # noqa: F401  (demo_forcing: re-exported)
    SCENARIO_DIR,
    ForcingSource,
    demo_forcing,
    load_forcing,
)


class ScenarioError(HydroriskError, ValueError):
    """A scenario command was asked something the scenario cannot answer."""


# =========================================================================== loading

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
        # a copied file: the file name is what the user calls it by (`scenario run
        # <name>`) and keeps its outputs apart from the original's, so it wins
        if not re.fullmatch(SCENARIO_ID_PATTERN, path.stem):
            raise ConfigError(f"{path}: the file name '{path.stem}' cannot be a scenario id "
                              "(lower-case letters, digits, '-' and '_'); rename the file")
        warnings.warn(ScenarioIdNote(
            f"{path}: scenario.id '{sc.id}' differs from the file name; the scenario is "
            f"'{path.stem}' (the file name)"), stacklevel=2)
        sc = sc.model_copy(update={"scenario": sc.scenario.model_copy(
            update={"id": path.stem})})
    return sc


#: what a scenario id (and so a scenario file's name) may be
SCENARIO_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class ScenarioIdNote(UserWarning):
    """A scenario file's ``scenario.id`` differs from its name (a copy): the name is used.
    The CLI prints it as a note; elsewhere it is an ordinary warning."""


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


def context(config: Config, name: str, store: Store | None = None,
            source: ForcingSource | None = None) -> Context:
    """Load a scenario, the model and the forcing (from ``source``, default the configured
    one; a source reading the store uses ``store``, or opens the deployment's); build the
    climatology."""
    from hydro.scenarios import season_climatology
    from hydro.schedules import gauge_levels

    sc = load_scenario(config, name)
    model = load_model(config)
    forcing = load_forcing(config, store, source=source)
    first, last = model.calibration.calibration_years
    v_first, v_last = model.calibration.validation_years
    clim = season_climatology(config.network, sc.scenario.basins, forcing, model,
                              f"{sc.scenario.start:%m-%d}", (first, last),
                              reference_years=tuple(range(v_first, v_last + 1)))
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
                 progress: Callable[[int, int], None] | None = None,
                 seed: int | None = None) -> xr.Dataset:
    """Run the scenario's ensemble under ``plan``, in member chunks.

    Parameters
    ----------
    members : number of members (default: the scenario's)
    chunk_members : members per chunk (default: ``[run].chunk_members``)
    dask : ``None``/``False``: in this process; ``True`` or ``"local"``: a LocalCluster;
        an address (``tcp://host:8786``): that scheduler; or a ``distributed.Client``.
        Default: ``[run].dask``.
    progress : called with (chunks done, chunks) after each chunk
    seed : seed of the member perturbations (default: the scenario's ``[ensemble].seed``)

    Returns
    -------
    xarray.Dataset (member, node, time), identical whichever way it ran: the member
    perturbations are drawn once, before chunking.  ``attrs["seed"]`` is the seed used.
    """
    n = scenario.ensemble.members if members is None else members
    size = chunk_members or scenario.run.chunk_members
    seed = ensemble_seed(scenario, seed)
    pert = perturbations(scenario.ensemble, scenario.scenario.days, n, seed=seed)
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
    ds.attrs["seed"] = seed
    return ds


def ensemble_seed(scenario: ScenarioFile, seed: int | None = None) -> int:
    """The seed an ensemble of ``scenario`` is drawn with: ``seed`` when given, else the
    scenario's ``[ensemble].seed``."""
    return int(scenario.ensemble.seed if seed is None else seed)


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


# =========================================================================== checks

def check_plans(sc: ScenarioFile, *plans: str) -> None:
    for plan in plans:
        if plan not in sc.schedules:
            raise ScenarioError(f"unknown plan '{plan}' of scenario '{sc.id}' "
                                f"(plans: {', '.join(sc.schedules)})")

def season(config: Config, name: str, *plans: str) -> Context:
    """The context of scenario ``name`` with ``plans`` checked against it."""
    ctx = context(config, name)
    check_plans(ctx.scenario, *plans)
    return ctx

def check_reservoir(sc: ScenarioFile, reservoir: str) -> None:
    names = sc.schedules["default"].reservoirs
    if reservoir not in names:
        raise ScenarioError(f"'{reservoir}' is not a reservoir of scenario '{sc.id}' "
                            f"(reservoirs: {', '.join(names)})")

def plan_forcing(ctx: Context, plan: str, net: Network, members: int,
                 seed: int | None = None):
    """Perturbations (drawn with ``seed``, default the scenario's), headwater inflows and
    release schedules of ``plan`` for ``members`` ensemble members, as
    :func:`run_members` takes them."""
    from hydro.scenarios import headwater_inflows

    sc = ctx.scenario
    pert = perturbations(sc.ensemble, sc.scenario.days, members,
                         seed=ensemble_seed(sc, seed))
    return pert, headwater_inflows(sc, ctx.climatology, pert), plan_schedules(sc, plan, net)

def spawning(sc: ScenarioFile) -> tuple[str, str, str] | None:
    s = sc.evaluation.spawning
    return None if s is None else (s.node, s.start, s.end)


@dataclass(frozen=True)
class ScenarioFilesSummary:
    """What ``config/scenarios/`` holds, every file validated."""

    scenarios: list[str]
    model_basins: list[str]
    forcing_source: str
    calibration_years: tuple[int, int]


def check_scenario_files(config: Config) -> ScenarioFilesSummary:
    """Validate every file of ``config/scenarios/`` (scenarios, the calibrated model, the
    forcing choice, the calibration settings) without running anything; the first invalid
    file raises a :class:`ConfigError` naming the file and the key."""
    from hydro.services.calibration import load_settings
    from hydro.services.forcing import load_forcing_source

    names = [load_scenario(config, p).id for p in scenario_paths(config)]
    model = load_model(config)
    forcing = load_forcing_source(config)
    settings = load_settings(config)
    first, last = settings.calibration_years
    return ScenarioFilesSummary(names, sorted(model.parameters), forcing.kind, (first, last))
