"""Kept scenario runs — the scenario lab's service, called by the dashboard and the CLI.

* :func:`start_run` (queued) and :func:`execute_run` (member chunks in this process, or on
  Dask when the scenario's ``[run].dask`` names a cluster; progress in the store; a cancel
  between chunks leaves no NetCDF; the NetCDF written once under ``[paths].runs``);
* :func:`list_runs`, :func:`get_run`, :func:`open_run`, :func:`request_cancel`;
* :func:`run_results` (fan charts, exceedance of every level, storage against НПУ/ФПУ,
  travel times, holdout against the unregulated river, the pre-flood drawdown check) and
  :func:`compare_runs`;
* :func:`quick_release` ("release X m³/s from date D") and :func:`search_plain` (the
  schedule search with its objective in words and units);
* downloads: :func:`run_netcdf`, :func:`run_csv`, :func:`run_summary_pdf`
  (:mod:`hydro.services.scenario_run_outputs`).

A run's plan is resolved when it is started and stored whole (every reservoir's schedule,
the ``default`` plan's where the plan names none), so a run never changes when a plan
file or a saved plan does.  The science is in :mod:`hydro.scenario_results` and
:mod:`hydro.schedules`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from hydro import scenario_results as SR
from hydro.config import Config, read_toml
from hydro.errors import HydroriskError
from hydro.messages import Coded
from hydro.scenarios import DailyReleaseSpec, Plan, ScenarioFile, perturbations
from hydro.services import audit
from hydro.services import scenarios as S
from hydro.services.cache import LRU
from hydro.services.context import Store
from hydro.store import scenario_runs as stored
from hydro.services.scenario_run_results import MAX_TRACES, CompareTable, RunResults
from hydro.store.scenario_runs import RunRecord
from hydro.units import Quantity

__all__ = [
    "RunRecord", "RunResults", "CompareTable", "PlainSearch", "RunError",
    "start_run", "start_plan_run", "execute_run", "request_cancel", "list_runs", "get_run", "open_run",
    "run_results", "compare_runs", "quick_release", "search_plain", "run_netcdf",
    "run_csv", "run_summary_pdf", "cached_context", "resolve_plan", "run_error",
]

#: the name a run's stored plan is given inside the scenario copy it runs
RUN_PLAN = "lab-run"
_QUANTILES = (0.1, 0.5, 0.9)


class RunError(HydroriskError, ValueError):
    """A run cannot be started, executed or read as asked (the message says why)."""


class _Cancelled(Exception):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# =========================================================================== context cache

#: the scenario contexts last built (:func:`cached_context`), least recently used dropped
_CTX = LRU(maxsize=8)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def forcing_kind(config: Config, forcing: str | None = None) -> str:
    """The forcing source a run uses: ``forcing`` or the configured one
    (``config/scenarios/_forcing.toml``)."""
    from hydro.services.forcing import load_forcing_source

    return forcing or load_forcing_source(config).kind


def _forcing_source(config: Config, forcing: str | None):
    from hydro.services.forcing import forcing_path, load_forcing_source, parse_forcing

    configured = load_forcing_source(config)
    if forcing is None or forcing == configured.kind:
        return configured
    path = forcing_path(config)
    raw = read_toml(path) if path.exists() else {}
    raw = {**raw, "forcing": {**raw.get("forcing", {}), "source": forcing}}
    return parse_forcing(raw, f"{path} (forcing {forcing!r} chosen for the run)", config)


def cached_context(config: Config, scenario_id: str, store: Store | None = None,
                   forcing: str | None = None) -> S.Context:
    """:func:`hydro.services.scenarios.context` with the forcing source ``forcing``
    (default: the configured one), cached in this process per (scenario, forcing, and the
    modification times of the scenario, model and forcing files): the climatology takes
    seconds to build."""
    from hydro.services.forcing import forcing_path

    kind = forcing_kind(config, forcing)
    folder = config.root / S.SCENARIO_DIR
    key = (str(config.root), scenario_id, kind, _mtime(folder / f"{scenario_id}.toml"),
           _mtime(folder / S.MODEL_FILE), _mtime(forcing_path(config)))
    hit: S.Context | None = _CTX.peek(key)
    if hit is not None:
        return hit
    ctx = S.context(config, scenario_id, store, source=_forcing_source(config, forcing))
    _CTX.put(key, ctx)
    return ctx


# =========================================================================== plans

def _encode(v: Any) -> Any:
    if isinstance(v, Quantity):
        return f"{v.value!r} {v.unit}"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [_encode(x) for x in v]
    if isinstance(v, dict):
        return {k: _encode(x) for k, x in v.items()}
    if hasattr(type(v), "model_fields"):
        return {k: _encode(getattr(v, k)) for k in type(v).model_fields}
    return v


def plan_to_json(plan: Plan) -> str:
    """A plan as JSON the scenario file's validation reads back (quantities as
    "<number> <unit>", dates ISO)."""
    return json.dumps(_encode(plan), ensure_ascii=False, sort_keys=True)


def plan_from_json(text: str) -> Plan:
    return Plan.model_validate(json.loads(text))


def resolve_plan(config: Config, store: Store, sc: ScenarioFile, plan_ref: str) -> Plan:
    """The plan ``plan_ref`` names, with every reservoir's schedule (the ``default`` plan's
    where it names none): a plan of the scenario file by name, or a saved plan
    ``id@version`` (:func:`hydro.services.release_plans.plan_for_engine`)."""
    if plan_ref in sc.schedules:
        plan = sc.schedules[plan_ref]
    else:
        try:
            from hydro.services.release_plans import plan_for_engine
        except ImportError:
            raise RunError(f"unknown plan '{plan_ref}' of scenario '{sc.id}' (plans: "
                           f"{', '.join(sc.schedules)})") from None
        plan = plan_for_engine(config, store, sc.id, plan_ref)
    default = sc.schedules["default"].reservoirs
    return Plan(description=plan.description, reservoirs={**default, **plan.reservoirs})


def _model_hash(config: Config) -> str | None:
    path = config.root / S.SCENARIO_DIR / S.MODEL_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


# =========================================================================== start, execute

def runs_dir(config: Config) -> Path:
    """Where kept runs are written: ``[paths].runs`` (default ``data/runs``)."""
    return config.resolve(config.settings.paths.runs)


def _check_members(members: int) -> int:
    if isinstance(members, bool) or not isinstance(members, int | np.integer) or members < 1:
        raise RunError(f"members must be a whole number >= 1, got {members!r}")
    if members > 100_000:
        raise RunError(f"members: {members} is more than the lab runs (100 000)")
    return int(members)


def start_run(config: Config, store: Store, scenario_id: str, plan_ref: str, members: int,
              seed: int | None = None, *, author: str, forcing: str | None = None,
              note: str | None = None) -> RunRecord:
    """Record a queued run of ``scenario_id`` under ``plan_ref`` (a plan of the scenario
    file or a saved plan ``id@version``) with ``members`` members drawn with ``seed``
    (default: the scenario's ``[ensemble].seed``) and the forcing source ``forcing``
    (default: the configured one).  The plan is resolved and stored now."""
    sc = S.load_scenario(config, scenario_id)
    plan = resolve_plan(config, store, sc, plan_ref)
    return _start(config, store, sc, plan_ref, plan, members, seed, author=author,
                  forcing=forcing, note=note, kind="run")


def start_plan_run(config: Config, store: Store, scenario_id: str, plan: Plan, plan_ref: str,
                   members: int, seed: int | None = None, *, author: str,
                   forcing: str | None = None, note: str | None = None) -> RunRecord:
    """Record a queued run of a plan given whole (a draft from the schedule editor, say),
    named ``plan_ref`` in the run list; reservoirs it does not name follow ``default``."""
    sc = S.load_scenario(config, scenario_id)
    unknown = set(plan.reservoirs) - set(sc.schedules["default"].reservoirs)
    if unknown:
        raise RunError(f"plan '{plan_ref}': {', '.join(sorted(unknown))} is not a reservoir "
                       f"of scenario '{sc.id}'")
    full = Plan(description=plan.description,
                reservoirs={**sc.schedules["default"].reservoirs, **plan.reservoirs})
    return _start(config, store, sc, plan_ref, full, members, seed, author=author,
                  forcing=forcing, note=note, kind="run")


def _start(config: Config, store: Store, sc: ScenarioFile, plan_ref: str, plan: Plan,
           members: int, seed: int | None, *, author: str, forcing: str | None,
           note: str | None, kind: str) -> RunRecord:
    if not author:
        raise RunError("a run needs an author")
    members = _check_members(members)
    if seed is not None and (isinstance(seed, bool) or int(seed) < 0):
        raise RunError(f"seed must be a whole number >= 0, got {seed!r}")
    kind_f = forcing_kind(config, forcing)
    _forcing_source(config, forcing)   # an unknown or unusable source fails now
    return stored.insert_run(
        store, run_id=secrets.token_urlsafe(12), scenario_id=sc.id, plan_ref=plan_ref,
        plan_json=plan_to_json(plan), kind=kind, members=members,
        seed=S.ensemble_seed(sc, seed), forcing=kind_f, model_hash=_model_hash(config),
        status="queued", author=author, note=note, created_at=_now(), started_at=None,
        finished_at=None, error=None, path=None, summary=None)


#: a run's stored ``error`` when it stopped on a cancel request between member chunks
CANCELLED_BETWEEN_CHUNKS = "cancelled between member chunks"
#: the start of a queued run's stored ``error`` when it was cancelled before it ran
CANCELLED_BY = "cancelled by "


def run_error(run: RunRecord) -> Coded | None:
    """The run's stored ``error`` with its catalog key (``sc.run_error.*``): cancelled
    between member chunks, cancelled by an author before it ran, or failed with the
    engine's (English) message in ``error``; None when the run has no error."""
    text = run.error
    if not text:
        return None
    if text == CANCELLED_BETWEEN_CHUNKS:
        return Coded("sc.run_error.cancelled_chunks", text)
    if text.startswith(CANCELLED_BY):
        return Coded("sc.run_error.cancelled_by", text, author=text[len(CANCELLED_BY):])
    return Coded("sc.run_error.failed", text, error=text)


def chunk_size(members: int, configured: int) -> int:
    """Members per chunk of a lab run: about eight chunks (so progress moves, a cancel
    is heard and the first results come early), at least 10 members, at most the
    scenario's ``[run].chunk_members``."""
    return max(1, min(configured, max(10, math.ceil(members / 8))))


def request_cancel(store: Store, run_id: str, author: str) -> RunRecord:
    """Ask a queued or running run to stop (between member chunks); a queued run is
    cancelled at once."""
    run = _require(store, run_id)
    if run.final:
        return run
    stored.update_run(store, run_id, cancel_requested=True)
    if stored.update_run(store, run_id, only_if_status=("queued",), status="cancelled",
                         finished_at=_now(), error=f"{CANCELLED_BY}{author}"):
        audit.record(store, "scenario_run", author, target=run_id,
                     detail=f"{run.scenario_id} plan {run.plan_ref}: cancelled before it ran")
    return _require(store, run_id)


def execute_run(config: Config, store: Store, run_id: str,
                progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None, *,
                chunk_members: int | None = None) -> RunRecord:
    """Run a queued run and keep it.

    The members are drawn once (as :func:`hydro.services.scenarios.run_ensemble` does)
    and run in chunks of :func:`chunk_size` members; after each chunk the progress is
    written to the store and ``progress(done, chunks)`` called, and after the first the
    run's summary holds that chunk's results (``"partial": true``).  Before each chunk
    ``cancelled()`` and the store's cancel request are checked: a cancelled run ends with
    status ``cancelled`` and no NetCDF.  With ``[run].dask`` set, the chunks run on that
    cluster (:func:`hydro.services.scenarios.dask_client`).  The NetCDF is written once to
    ``[paths].runs/<run_id>.nc`` (never overwritten) with the run's inputs as attributes.
    Every outcome is in the audit log (``scenario_run``).  Returns the final record (a
    failure is recorded with its message, not raised)."""
    run = _require(store, run_id)
    if not stored.update_run(store, run_id, only_if_status=("queued",), status="running",
                             started_at=_now()):
        raise RunError(f"run {run_id} is {run.status}, not queued: a run executes once")
    tmp: Path | None = None
    try:
        ctx = cached_context(config, run.scenario_id, store, run.forcing)
        sc = ctx.scenario.model_copy(update={"schedules": {
            **ctx.scenario.schedules, RUN_PLAN: plan_from_json(run.plan_json)}})
        size = chunk_members or chunk_size(run.members, sc.run.chunk_members)
        n_chunks = math.ceil(run.members / size)
        stored.update_run(store, run_id, chunks_total=n_chunks)

        def stop() -> bool:
            if cancelled is not None and cancelled():
                return True
            now = stored.get_run(store, run_id)
            return bool(now and now.cancel_requested)

        def after_chunk(done: int, total: int, first: xr.Dataset | None) -> None:
            values: dict[str, Any] = {"chunks_done": done}
            if first is not None:
                values["summary"] = json.dumps(_summary(first, ctx, partial=True))
            stored.update_run(store, run_id, **values)
            if progress:
                progress(done, total)

        ds = _run_chunks(config, sc, ctx, run, size, after_chunk, stop)
        if stop():
            raise _Cancelled
        ds.attrs.update(_provenance(run))
        tmp = runs_dir(config) / f".{run_id}.nc.part"
        S.to_netcdf(ds, tmp)
        final = runs_dir(config) / f"{run_id}.nc"
        os.link(tmp, final)           # fails if it exists: a run's file is never replaced
        tmp.unlink()
        tmp = None
        summary = _summary(ds, ctx, partial=False)
        _remember(run_id, ds)
        stored.update_run(store, run_id, status="done", finished_at=_now(),
                          chunks_done=n_chunks, path=str(final), summary=json.dumps(summary))
        detail = f"done, {run.members} members"
    except _Cancelled:
        stored.update_run(store, run_id, status="cancelled", finished_at=_now(),
                          summary=None, error=CANCELLED_BETWEEN_CHUNKS)
        detail = "cancelled"
    except Exception as e:  # the run is recorded as failed, with its message
        stored.update_run(store, run_id, status="failed", finished_at=_now(),
                          error=f"{type(e).__name__}: {e}"[:4000])
        detail = f"failed: {e}"
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
    audit.record(store, "scenario_run", run.author, target=run_id,
                 detail=f"{run.scenario_id} plan {run.plan_ref}, {run.members} members, "
                        f"seed {run.seed}, forcing {run.forcing}: {detail}")
    return _require(store, run_id)


def _run_chunks(config: Config, sc: ScenarioFile, ctx: S.Context, run: RunRecord,
                size: int, after_chunk: Callable[[int, int, xr.Dataset | None], None],
                stop: Callable[[], bool]) -> xr.Dataset:
    n = run.members
    net = config.network
    if sc.run.dask:
        def on_progress(done: int, total: int) -> None:
            after_chunk(done, total, None)
            if stop():
                raise _Cancelled
        if stop():
            raise _Cancelled
        return S.run_ensemble(net, sc, ctx.climatology, RUN_PLAN, members=n,
                              chunk_members=size, dask=sc.run.dask, progress=on_progress,
                              seed=run.seed)
    pert = perturbations(sc.ensemble, sc.scenario.days, n, seed=run.seed)
    chunks = [slice(i, min(i + size, n)) for i in range(0, n, size)]
    parts: list[xr.Dataset] = []
    for i, c in enumerate(chunks):
        if stop():
            raise _Cancelled
        parts.append(S._run_chunk(net, sc, ctx.climatology, pert.subset(c), RUN_PLAN))
        after_chunk(i + 1, len(chunks), parts[0] if i == 0 else None)
    ds = xr.concat(parts, dim="member", data_vars="minimal", coords="minimal",
                   compat="override", join="override") if len(parts) > 1 else parts[0]
    ds = ds.assign_coords(member=np.arange(n))
    ds.attrs.update(members=n, plan=RUN_PLAN, seed=run.seed)
    return ds


def _provenance(run: RunRecord) -> dict[str, Any]:
    return {"run_id": run.run_id, "plan_ref": run.plan_ref, "plan_schedules": run.plan_json,
            "seed": int(run.seed), "members": int(run.members), "forcing_source": run.forcing,
            "model_sha256": run.model_hash or "", "author": run.author,
            "created_utc": run.created_at.isoformat(), "run_kind": run.kind}


def _summary(ds: xr.Dataset, ctx: S.Context, partial: bool) -> dict[str, Any]:
    """The run's small JSON summary: per gauge the peak stage quantiles and the
    probabilities of reaching the adverse and dangerous levels (null where none), per
    reservoir the end-of-season storage median."""
    from hydro.schedules import evaluate

    ev = evaluate(ds, ctx.levels, gauges=_gauges(ds, ctx))
    out: dict[str, Any] = {"partial": partial, "members": int(ds.sizes["member"]),
                           "synthetic": ds.attrs.get("synthetic") == "yes", "gauges": {},
                           "reservoirs": {}}
    for g in ev["gauge"].values:
        e = ev.sel(gauge=g)
        peak = e["peak_stage"].values
        fin = np.isfinite(peak)
        out["gauges"][str(g)] = {
            "peak_q50_cm": _num(np.quantile(peak[fin], 0.5)) if fin.any() else None,
            "peak_q90_cm": _num(np.quantile(peak[fin], 0.9)) if fin.any() else None,
            "p_adverse": _num(e["first_adverse"].notnull().mean())
            if np.isfinite(float(e["adverse"])) else None,
            "p_dangerous": _num(e["first_dangerous"].notnull().mean())
            if np.isfinite(float(e["dangerous"])) else None}
    if "reservoir" in ev.dims:
        for r in ev["reservoir"].values:
            out["reservoirs"][str(r)] = {
                "end_storage_q50_hm3": _num(ev["end_storage"].sel(reservoir=r).median()),
                "max_level_q50_m": _num(ev["max_level"].sel(reservoir=r).median())}
    return out


def _num(v: Any) -> float | None:
    x = float(v)
    return round(x, 4) if math.isfinite(x) else None


def _gauges(ds: xr.Dataset, ctx: S.Context) -> list[str]:
    """The gauges a run reports: those with warning levels in force and a stage (a
    rating) in the run, upstream to downstream, both sides of the border."""
    nodes = [str(n) for n in ds["node"].values]
    return [n for n in nodes if n in ctx.levels
            and bool(np.isfinite(ds["stage"].sel(node=n).isel(member=0).values).any())]


# =========================================================================== reading

def _require(store: Store, run_id: str) -> RunRecord:
    run = stored.get_run(store, run_id)
    if run is None:
        raise RunError(f"no scenario run '{run_id}'")
    return run


def list_runs(store: Store, scenario_id: str | None = None,
              limit: int | None = None) -> list[RunRecord]:
    """Kept runs, newest first."""
    return stored.list_runs(store, scenario_id, limit)


def get_run(store: Store, run_id: str) -> RunRecord | None:
    return stored.get_run(store, run_id)


def run_summary(run: RunRecord) -> dict[str, Any] | None:
    """The stored summary of a run (partial while it runs), or None."""
    return json.loads(run.summary) if run.summary else None


def open_run(config: Config, run: RunRecord) -> xr.Dataset:
    """The NetCDF of a finished run, loaded into memory (the file closed again)."""
    if run.status != "done" or not run.path:
        raise RunError(f"run {run.run_id} is {run.status}: it has no results")
    path = Path(run.path)
    if not path.exists():
        raise RunError(f"{path}: the NetCDF of run {run.run_id} is missing")
    with xr.open_dataset(path) as ds:
        return ds.load()


def run_netcdf(config: Config, run: RunRecord) -> Path:
    """The path of a finished run's NetCDF (for a download)."""
    if run.status != "done" or not run.path or not Path(run.path).exists():
        raise RunError(f"run {run.run_id} is {run.status}: it has no NetCDF")
    return Path(run.path)


# =========================================================================== results

def _names(config: Config, node_id: str) -> dict[str, str]:
    n = config.network.node(node_id).names
    return {"kk": n.kk, "ru": n.ru, "en": n.en}


#: the results last read (:func:`run_results`), least recently used dropped
_RESULTS = LRU(maxsize=8)
#: the datasets of the last runs this process executed, as written to their NetCDF (so
#: the results that follow a run do not read back and decompress the file)
_JUST_RUN = LRU(maxsize=2)


def _remember(run_id: str, ds: xr.Dataset) -> None:
    _JUST_RUN.put(run_id, ds)


def run_results(config: Config, store: Store, run_id: str,
                flood_start: dt.date | None = None) -> RunResults:
    """The results of a finished run (cached in this process: a kept run never changes).
    ``flood_start`` of the drawdown check defaults to the scenario's warm-up start."""
    key = f"{config.root}|{run_id}|{flood_start}"
    hit: RunResults | None = _RESULTS.peek(key)
    if hit is not None:
        return hit
    run = _require(store, run_id)
    ds: xr.Dataset | None = _JUST_RUN.peek(run_id)
    if ds is None or run.status != "done":
        ds = open_run(config, run)
    res = _results(config, store, run, ds, flood_start)
    _RESULTS.put(key, res)
    return res


def _results(config: Config, store: Store, run: RunRecord, ds: xr.Dataset,
             flood_start: dt.date | None) -> RunResults:
    from hydro.schedules import drawdown_check, evaluate, summary

    net = config.network
    ctx = cached_context(config, run.scenario_id, store, run.forcing)
    sc = ctx.scenario
    gauges = _gauges(ds, ctx)
    res_ids = [str(r) for r in ds["reservoir"].values]
    names = {n: _names(config, n) for n in [*gauges, *res_ids]}
    countries = {n: str(net.node(n).country) for n in names}
    dt_days = float(ds.attrs.get("time_step_days", 1.0))
    times = pd.DatetimeIndex(ds["time"].values, name="time")
    fan, traces = {}, {}
    st_q = SR.member_quantiles(ds["stage"].sel(node=gauges), _QUANTILES)
    q_q = SR.member_quantiles(ds["outflow"].sel(node=gauges), _QUANTILES)
    for g in gauges:
        cols = {}
        for qq in _QUANTILES:
            tag = f"q{int(round(qq * 100)):02d}"
            cols[f"stage_{tag}"] = st_q.sel(quantile=qq, node=g).values
            cols[f"discharge_{tag}"] = q_q.sel(quantile=qq, node=g).values
        fan[g] = pd.DataFrame(cols, index=times)
        m = min(MAX_TRACES, ds.sizes["member"])
        traces[g] = pd.DataFrame(ds["stage"].sel(node=g).isel(member=slice(0, m)).values.T,
                                 index=times, columns=list(range(m)))
    levels = SR.gauge_threshold_levels(config.thresholds, gauges, sc.scenario.start)
    exc = SR.exceedance_table(ds["stage"], levels, dt_days)
    ev = evaluate(ds, ctx.levels, gauges=gauges, spawning=S.spawning(sc))
    reservoirs = {r: SR.reservoir_trajectory(ds, r, _QUANTILES) for r in res_ids}
    limits = []
    for r in res_ids:
        rr = net.reservoirs[r]
        e = ev.sel(reservoir=r)
        limits.append({
            "reservoir": r, "npu_m": rr.npu.to("elevation"), "fpu_m": rr.fpu.to("elevation"),
            "umo_m": rr.umo.to("elevation"), "npu_volume_hm3": rr.npu_volume_hm3,
            "fpu_volume_hm3": rr.fpu_volume_hm3,
            "end_storage_q10_hm3": float(e["end_storage"].quantile(0.1)),
            "end_storage_q50_hm3": float(e["end_storage"].quantile(0.5)),
            "end_storage_q90_hm3": float(e["end_storage"].quantile(0.9)),
            "max_level_q50_m": float(e["max_level"].quantile(0.5)),
            "max_level_q90_m": float(e["max_level"].quantile(0.9)),
            "p_above_npu": float((e["max_level"] > rr.npu.to("elevation") + 1e-9).mean()),
            "p_above_fpu": float((e["max_level"] > rr.fpu.to("elevation") + 1e-9).mean()),
            "spill_volume_q50_hm3": float(e["spill_volume"].quantile(0.5)),
            "spill_volume_q90_hm3": float(e["spill_volume"].quantile(0.9)),
        })
    hold = pd.DataFrame([{"reservoir": r,
                          **{f"holdout_q{int(q * 100):02d}_hm3":
                             float(ev["holdout"].sel(reservoir=r).quantile(q))
                             for q in _QUANTILES}} for r in res_ids])
    peaks, effects = _holdout(config, ctx, run, gauges, ds.isel(member=[0]))
    notes: list[str] = []
    start = flood_start or (sc.season.warm_up.start if sc.season.warm_up else None)
    rows = []
    if start is None:
        notes.append(Coded("sc.note.drawdown_no_warmup",
                           "drawdown check: the scenario has no warm-up; give a flood start"))
    else:
        for r in res_ids:
            try:
                rows.append(drawdown_check(ds, net, r, start))
            except ValueError as e:
                notes.append(Coded("sc.note.drawdown_failed", f"drawdown check of {r}: {e}",
                                   reservoir=r, error=str(e)))
    synthetic = ds.attrs.get("synthetic") == "yes"
    banner = (f"SYNTHETIC scenario '{sc.id}': built on the synthetic demonstration data and "
              "forcing; a demonstration of the method, not a forecast." if synthetic
              else f"scenario '{sc.id}'")
    return RunResults(
        run=run, synthetic=synthetic, banner=banner, gauges=gauges, names=names,
        countries=countries, fan=fan, traces=traces, levels=levels, exceedance=exc,
        reservoirs=reservoirs, reservoir_limits=pd.DataFrame(limits),
        travel_times=SR.travel_times(net, res_ids, gauges), holdout_peaks=peaks,
        holdout_effects=effects, holdout=hold, drawdown=pd.DataFrame(rows),
        summary=summary(ev), notes=notes)


#: the holdout tables last computed (:func:`_holdout`), least recently used dropped
_HOLD = LRU(maxsize=16)


def _holdout(config: Config, ctx: S.Context, run: RunRecord, gauges: list[str],
             regulated: xr.Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`hydro.schedules.reservoir_effects` for the control member (member 0) of the
    run (``regulated``, taken from the run): against the river with every reservoir
    passing its inflow, and with each reservoir alone passing it — one-member runs on the
    same perturbations (member 0 of the run's draw), cached per (scenario, plan, members,
    seed, forcing).  Member 0 only, because the unregulated river has to be run again for
    it: the holdout table per reservoir covers every member."""
    from hydro.network_sim import PassInflow
    from hydro.scenarios import headwater_inflows, plan_schedules, run_members
    from hydro.schedules import reservoir_effects

    key = (run.scenario_id, hashlib.sha256(run.plan_json.encode()).hexdigest(), run.members,
           run.seed, run.forcing, tuple(gauges))
    hit: tuple[pd.DataFrame, pd.DataFrame] | None = _HOLD.peek(key)
    if hit is not None:
        return hit
    net = config.network
    sc = ctx.scenario.model_copy(update={"schedules": {
        **ctx.scenario.schedules, RUN_PLAN: plan_from_json(run.plan_json)}})
    pert = perturbations(sc.ensemble, sc.scenario.days, run.members,
                         seed=run.seed).subset(slice(0, 1))
    lateral = headwater_inflows(sc, ctx.climatology, pert)
    sched = plan_schedules(sc, RUN_PLAN, net)
    reg = regulated.assign_coords(member=[0])
    unreg = run_members(net, sc, ctx.climatology, pert, {r: PassInflow() for r in sched},
                        lateral=lateral)
    without = {r: run_members(net, sc, ctx.climatology, pert, {**sched, r: PassInflow()},
                              lateral=lateral) for r in sched}
    out = reservoir_effects(reg, unreg, without, net, gauges)
    _HOLD.put(key, out)
    return out


# =========================================================================== compare

def compare_runs(config: Config, store: Store, run_a: str, run_b: str) -> CompareTable:
    """Compare two finished runs at every gauge and reservoir."""
    from hydro.schedules import evaluate

    ra, rb = run_results(config, store, run_a), run_results(config, store, run_b)
    a, b = ra.run, rb.run
    notes: list[str] = []
    if a.scenario_id != b.scenario_id:
        notes.append(Coded("sc.note.different_scenarios",
                           f"different scenarios ({a.scenario_id} and {b.scenario_id}): the "
                           "difference mixes the season with the plan",
                           a=a.scenario_id, b=b.scenario_id))
    if a.members != b.members or a.seed != b.seed:
        notes.append(Coded("sc.note.not_paired",
                           f"not paired: A has {a.members} members (seed {a.seed}), B "
                           f"{b.members} members (seed {b.seed}); the members saw different "
                           "weather, so differences include sampling noise",
                           members_a=a.members, seed_a=a.seed, members_b=b.members,
                           seed_b=b.seed))
    if a.forcing != b.forcing:
        notes.append(Coded("sc.note.different_forcing",
                           f"different forcing sources ({a.forcing} and {b.forcing})",
                           a=a.forcing, b=b.forcing))
    paired = not notes
    gauges = [g for g in ra.gauges if g in rb.gauges]
    ds_a, ds_b = open_run(config, a), open_run(config, b)
    pa, pb = SR.peak_quantiles(ds_a, gauges), SR.peak_quantiles(ds_b, gauges)
    rows = []
    for i, g in enumerate(gauges):
        row: dict[str, Any] = {"gauge": g, "country": ra.countries[g],
                               **{f"name_{k}": v for k, v in ra.names[g].items()}}
        for q in ("q50", "q90"):
            row[f"peak_{q}_a"] = float(pa[f"peak_{q}"].to_numpy()[i])
            row[f"peak_{q}_b"] = float(pb[f"peak_{q}"].to_numpy()[i])
            row[f"peak_{q}_diff"] = row[f"peak_{q}_b"] - row[f"peak_{q}_a"]
        rows.append(row)
    exc = SR.compare_exceedance(ra.exceedance[ra.exceedance["gauge"].isin(gauges)],
                                rb.exceedance[rb.exceedance["gauge"].isin(gauges)])
    storage = []
    ctx = cached_context(config, a.scenario_id, store, a.forcing)
    ev_a = evaluate(ds_a, ctx.levels, gauges=gauges)
    ev_b = evaluate(ds_b, ctx.levels, gauges=gauges)
    for r in [str(x) for x in ev_a["reservoir"].values if x in ev_b["reservoir"].values]:
        sa = float(ev_a["end_storage"].sel(reservoir=r).median())
        sb = float(ev_b["end_storage"].sel(reservoir=r).median())
        storage.append({"reservoir": r, "country": str(config.network.node(r).country),
                        **{f"name_{k}": v for k, v in _names(config, r).items()},
                        "end_storage_q50_a": sa, "end_storage_q50_b": sb,
                        "end_storage_q50_diff": sb - sa})
    return CompareTable(a, b, pd.DataFrame(rows), exc, pd.DataFrame(storage), paired, notes,
                        ra.synthetic or rb.synthetic)


# =========================================================================== quick release

def release_value(release: float | str | Quantity) -> float:
    """A release in m³/s from ``"900 m3/s"`` (any discharge unit), a Quantity, or a number
    taken as m³/s; a text without a unit, a negative or non-finite value is refused."""
    from hydro.units import UnitError, parse_quantity

    if isinstance(release, Quantity):
        q = float(release.to("discharge"))
    elif isinstance(release, str):
        try:
            q = float(parse_quantity(release, "discharge").to("discharge"))
        except UnitError as e:
            raise RunError(f"release: {e}") from None
    elif isinstance(release, bool) or not isinstance(release, int | float | np.number):
        raise RunError(f"release: expected a discharge such as \"900 m3/s\", got {release!r}")
    else:
        q = float(release)
    if not math.isfinite(q) or q < 0:
        raise RunError(f"release: {q:g} m3/s — a release must be a finite number >= 0")
    return q


def quick_release(config: Config, store: Store, scenario_id: str, reservoir: str,
                  release_m3s: float | str | Quantity, from_date: dt.date, base_plan: str,
                  members: int, seed: int | None = None, *, author: str,
                  forcing: str | None = None) -> RunRecord:
    """"Release X m³/s from date D": a queued run of a new plan, ``base_plan`` with
    ``reservoir`` releasing ``release_m3s`` from ``from_date`` to the season's end.

    Before D the reservoir keeps the base plan's release: exactly, when the base is a
    daily release table; for a rule that reacts to the inflow (flood control, rule curve,
    target level, passing the inflow), as the control member (member 0) of the base plan
    released it, day by day — the rule frozen into a table, so every member releases the
    control's release before D.  The reservoir's physics (outlet capacity, ramp limit,
    minimum release, dead storage, spill above ФПУ) still apply to every member."""
    sc = S.load_scenario(config, scenario_id)
    q = release_value(release_m3s)
    try:
        S.check_reservoir(sc, reservoir)
    except S.ScenarioError as e:
        raise RunError(str(e)) from None
    dates = sc.dates
    day = (pd.Timestamp(from_date) - dates[0]).days
    if not 0 <= day < len(dates):
        raise RunError(f"from {from_date}: outside the season of '{sc.id}' "
                       f"({dates[0].date()}..{dates[-1].date()})")
    base = resolve_plan(config, store, sc, base_plan)
    spec = base.reservoirs[reservoir]
    if isinstance(spec, DailyReleaseSpec):
        from hydro.units import factor

        f = factor(spec.release_unit, "discharge")
        keep = [(d, v * f) for d, v in zip(spec.dates, spec.release, strict=True)
                if d < from_date]
        table = [*keep, (from_date, q)]
    else:
        released = _control_release(config, store, sc, base, reservoir, members, seed,
                                     forcing)
        table = [(dates[i].date(), float(released[i])) for i in range(day)]
        table.append((from_date, q))
    compact = [table[0]] + [t for prev, t in zip(table, table[1:], strict=False)
                            if t[1] != prev[1]]
    new = DailyReleaseSpec(kind="daily_release", dates=[d for d, _ in compact],
                           release_unit="m3/s", release=[round(v, 3) for _, v in compact])
    plan = Plan(description=f"{base.description} Then {q:g} m³/s from {reservoir} from "
                            f"{from_date} (quick question).",
                reservoirs={**base.reservoirs, reservoir: new})
    ref = f"{base_plan} + {reservoir} {q:g} m3/s from {from_date}"
    return _start(config, store, sc, ref, plan, members, seed, author=author,
                  forcing=forcing, note=f"release {q:g} m3/s from {from_date}",
                  kind="quick_release")


def _control_release(config: Config, store: Store, sc: ScenarioFile, plan: Plan,
                     reservoir: str, members: int, seed: int | None,
                     forcing: str | None) -> np.ndarray:
    from hydro.scenarios import plan_schedules, run_members

    ctx = cached_context(config, sc.id, store, forcing)
    sc2 = ctx.scenario.model_copy(update={"schedules": {**ctx.scenario.schedules,
                                                         RUN_PLAN: plan}})
    pert = perturbations(sc2.ensemble, sc2.scenario.days, _check_members(members),
                         seed=S.ensemble_seed(sc2, seed)).subset(slice(0, 1))
    ds = run_members(config.network, sc2, ctx.climatology, pert,
                     plan_schedules(sc2, RUN_PLAN, config.network))
    return ds["release"].sel(reservoir=reservoir, member=0).values


# =========================================================================== search

@dataclass
class PlainSearch:
    """The schedule search (:func:`hydro.scenarios.search_schedule`) explained.

    objective : the objective in words, with units (English; ``terms`` carry the numbers)
    terms : (what, weight, unit) of each term of the objective
    weights : per scored gauge: ``gauge, country, name_kk/ru/en, weight``
    reservoir, varied, members, seed, evaluations, generations : what was searched how
    documented_value, best_value : the objective of the documented schedule and of the
        best found (points; lower is better)
    feasible : the best meets the end-of-season storage target
    best_plan : the template plan with the best schedule (a :class:`Plan`, to save or run)
    best_plan_json : the same as JSON (:func:`plan_to_json`)
    """

    objective: str
    terms: list[tuple[str, float, str]]
    weights: pd.DataFrame
    reservoir: str
    varied: tuple[str, ...]
    members: int
    seed: int
    evaluations: int
    generations: int
    documented_value: float
    best_value: float
    feasible: bool
    best_plan: Plan
    best_plan_json: str
    storage_target_hm3: float
    storage_probability: float


def objective_words(storage_target_hm3: float, probability: float) -> tuple[
        str, list[tuple[str, float, str]]]:
    """The objective of :func:`hydro.schedules.objective` in words and units (the
    default :class:`hydro.schedules.ObjectiveWeights`)."""
    from hydro.schedules import ObjectiveWeights

    w = ObjectiveWeights()
    terms = [("peak stage above the dangerous level", w.excess_per_m, "points per m"),
             ("day at or above the dangerous level", w.dangerous_day, "points per day"),
             ("day at or above the adverse level", w.adverse_day, "points per day"),
             ("peak stage (tie-break)", w.peak_per_m, "points per m"),
             ("shortfall of end-of-season storage below the target", w.storage_penalty,
              "points per 100 % of the target")]
    text = (
        f"Lower is better. Points = the sum over the scored gauges of the gauge's weight × "
        f"the mean over the members of: {w.excess_per_m:g} point per metre of peak stage "
        f"above the dangerous level, {w.dangerous_day:g} per day at or above the dangerous "
        f"level, {w.adverse_day:g} per day at or above the adverse level (a gauge without "
        f"such a level, e.g. a Kazakh gauge without an adverse level, scores nothing for "
        f"it) and {w.peak_per_m:g} per metre of peak stage; plus {w.storage_penalty:g} × the "
        f"shortfall, as a share of the target, of the storage that "
        f"{100 * probability:.0f} % of the members keep at the season's end below "
        f"{storage_target_hm3:.0f} hm³. So 1 point = 1 m of peak above the dangerous level "
        f"at a gauge of weight 1 = 10 days over it; missing the storage target by 1 % "
        f"costs 10 points.")
    return text, terms


def search_plain(config: Config, store: Store, scenario_id: str, *,
                 members: int | None = None, maxiter: int | None = None,
                 forcing: str | None = None) -> PlainSearch:
    """Run the scenario's ``[search]`` (its reservoir's prerelease schedule) with the
    objective weighing each Kazakh and Russian gauge as ``[search].weights`` says (1 where
    not given), and explain it."""
    from hydro.scenarios import search_schedule

    ctx = cached_context(config, scenario_id, store, forcing)
    sc = ctx.scenario
    cfg = sc.search
    if cfg is None:
        raise RunError(f"scenario '{sc.id}' has no [search] table")
    upd = {k: v for k, v in (("members", members), ("maxiter", maxiter)) if v}
    if upd:
        cfg = cfg.model_copy(update=upd)
        sc = sc.model_copy(update={"search": cfg})
    out = search_schedule(config.network, sc, ctx.climatology, ctx.levels)
    target = float(cfg.end_storage_target.to("volume"))
    text, terms = objective_words(target, cfg.storage_probability)
    weights = pd.DataFrame([{"gauge": g, "country": str(config.network.node(g).country),
                             **{f"name_{k}": v for k, v in _names(config, g).items()},
                             "weight": w} for g, w in cfg.gauge_weights().items()])
    template = sc.schedules[cfg.template]
    best = Plan(description=f"Searched: {template.description}",
                reservoirs={**template.reservoirs, cfg.reservoir: out.best})
    r = out.result
    return PlainSearch(text, terms, weights, cfg.reservoir, out.varied, out.members, cfg.seed,
                       r.evaluations, r.generations, float(r.start_values[0]), float(r.value),
                       bool(r.feasible), best, plan_to_json(best), target,
                       cfg.storage_probability)


# =========================================================================== downloads

def run_csv(config: Config, store: Store, run_id: str) -> str:
    """The run's gauge quantiles and exceedance table as CSV
    (:func:`hydro.services.scenario_run_outputs.to_csv`)."""
    from hydro.services.scenario_run_outputs import to_csv

    return to_csv(run_results(config, store, run_id))


def run_summary_pdf(config: Config, store: Store, run_id: str, lang: str) -> bytes:
    """A PDF summary of the run for the commission in ``lang`` (kk, ru, en)
    (:func:`hydro.services.scenario_run_outputs.to_pdf`)."""
    from hydro.services.scenario_run_outputs import to_pdf

    return to_pdf(run_results(config, store, run_id), lang)
