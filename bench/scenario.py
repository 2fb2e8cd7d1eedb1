"""Benchmark of the scenario engine (issue #5, part 7).

Prints, for the 2024-style season on the Ural network (10 000 members x 120 days by
default):

1. throughput of the vectorised engine (headwater inflows from the snowmelt model, then
   the network simulation with both reservoirs under the default rule) in
   member-node-steps per second;
2. in the same run, the ratio to a straightforward per-member Python loop over the same
   problem (the same functions called once per member), timed on a subsample of members
   and compared per member-node-step;
3. the ratio to pywr (https://github.com/pywr/pywr) on an equivalent single-reservoir
   problem (Iriklinsk, the same inflow ensemble and daily release schedule) run with
   pywr's own scenario dimension, and how closely the two agree.

Nothing here is a timed assertion; run ``python bench/scenario.py [--members N]``.
Everything is built from the SYNTHETIC demonstration data and forcing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hydro import scenarios as S  # noqa: E402
from hydro.config import load_config  # noqa: E402
from hydro.reservoirs import DailyRelease, operate  # noqa: E402
from hydro.services import scenarios as C  # noqa: E402
from hydro.units import discharge_to_volume, volume_to_discharge  # noqa: E402


def timed(fn, repeat: int = 1):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def engine_vs_loop(ctx, members: int, loop_members: int, chunk: int, repeat: int) -> None:
    net, sc, clim = ctx.config.network, ctx.scenario, ctx.climatology
    days = sc.scenario.days
    t_cold, ds = timed(lambda: C.run_ensemble(net, sc, clim, "default", members=members,
                                              chunk_members=chunk))
    del ds
    t_vec, ds = timed(lambda: C.run_ensemble(net, sc, clim, "default", members=members,
                                             chunk_members=chunk), repeat=repeat)
    nodes = ds.sizes["node"]
    work = members * nodes * days
    pert = S.perturbations(sc.ensemble, days, members)
    schedules = S.plan_schedules(sc, "default", net)

    def loop():
        out = []
        for m in range(loop_members):
            out.append(S.run_members(net, sc, clim, pert.subset(slice(m, m + 1)), schedules))
        return out

    t_loop, runs = timed(loop, repeat=repeat)
    # the loop computes the same members: check
    for m, r in enumerate(runs[:5]):
        np.testing.assert_allclose(r["outflow"].values[0], ds["outflow"].values[m], rtol=1e-9)
    rate_vec = work / t_vec
    rate_loop = loop_members * nodes * days / t_loop
    print(f"Ural network: {nodes} nodes, {days} days, {members} members "
          f"(snowmelt model + network routing + 2 reservoirs under the default rule)")
    print(f"  vectorised engine      {t_vec:8.2f} s   {rate_vec:14,.0f} member-node-steps/s "
          f"(chunks of {chunk} members; best of {repeat}; first, cold run {t_cold:.2f} s)")
    print(f"  per-member Python loop {t_loop:8.2f} s   {rate_loop:14,.0f} member-node-steps/s "
          f"({loop_members} members timed, best of {repeat}; "
          f"{t_loop / loop_members * members:,.0f} s extrapolated for {members})")
    print(f"  ratio vectorised / loop: {rate_vec / rate_loop:,.0f}x")


def pywr_comparison(ctx, members: int) -> None:
    try:
        import pywr
        from pywr.core import Scenario
        from pywr.model import Model
        from pywr.nodes import Catchment, Output, Storage
        from pywr.parameters import (
            AggregatedParameter,
            DataFrameParameter,
            InterpolatedVolumeParameter,
        )
        from pywr.recorders import NumpyArrayNodeRecorder, NumpyArrayStorageRecorder
    except ImportError as e:  # pragma: no cover
        print(f"pywr comparison skipped: pywr is not installed ({e})")
        return
    net, sc, clim = ctx.config.network, ctx.scenario, ctx.climatology
    days = sc.scenario.days
    base = net.reservoirs["RU:IRIKLINSK"]
    # equivalent physics in both: no ramp limit, no minimum release, no evaporation
    res = base.model_copy(update={"max_ramp_per_day": base.max_ramp_per_day.__class__(1e9, "m3/s"),
                                  "min_release": base.min_release.__class__(0.0, "m3/s")})
    pert = S.perturbations(sc.ensemble, days, members)
    inflow = S.headwater_inflows(sc, clim, pert)["RU:IRIKLINSK"]          # (M, T) m3/s
    release = S.prerelease_series(sc.dates, 15.0, 11, 1000.0, 27, 1100.0, 50, 100.0)  # (T,)
    v0 = float(res.storage_table.volume_at(240.91))

    t_ours, ours = timed(lambda: operate(res, inflow, DailyRelease(release), initial_volume_hm3=v0),
                         repeat=3)

    def build():
        model = Model(start=str(sc.dates[0].date()), end=str(sc.dates[-1].date()), timestep=1)
        scen = Scenario(model, "members", size=members)
        frame = pd.DataFrame(discharge_to_volume(inflow.T, 1.0), index=sc.dates)  # hm3/d
        catchment = Catchment(model, "inflow", flow=DataFrameParameter(model, frame, scenario=scen))
        storage = Storage(model, "iriklinsk", max_volume=res.fpu_volume_hm3,
                          min_volume=res.dead_volume_hm3, initial_volume=v0, cost=-10.0)
        # outlet capacity (linear in level) as a function of volume, finely tabulated
        lv = np.linspace(res.umo.to("elevation"), res.fpu.to("elevation"), 400)
        vols = res.storage_table.volume_at(lv)
        caps = discharge_to_volume(res.outlet_capacity.at(lv), 1.0)
        sched = DataFrameParameter(model, pd.Series(discharge_to_volume(release, 1.0),
                                                    index=sc.dates))
        cap = InterpolatedVolumeParameter(model, storage, vols, caps)
        gate = Output(model, "release", cost=-100.0,
                      max_flow=AggregatedParameter(model, [sched, cap], agg_func="min"))
        spill = Output(model, "spill", cost=1000.0)
        catchment.connect(storage)
        storage.connect(gate)
        storage.connect(spill)
        recorders = (NumpyArrayNodeRecorder(model, gate),
                     NumpyArrayStorageRecorder(model, storage, proportional=False))
        return model, recorders

    t_build, (model, (rec_r, rec_v)) = timed(build)
    t_pywr, _ = timed(model.run, repeat=2)
    work = members * days
    rate_ours, rate_pywr = work / t_ours, work / t_pywr
    rel_pywr = volume_to_discharge(np.asarray(rec_r.data).T, 1.0)            # (M, T) m3/s
    vol_pywr = np.asarray(rec_v.data).T
    d_rel = np.abs(rel_pywr - ours.release_m3s).max()
    d_vol = np.abs(vol_pywr - ours.volume_hm3).max()
    print(f"single reservoir (Iriklinsk, {members} members x {days} days, daily release "
          "schedule, outlet capacity by level, spill above ФПУ):")
    print(f"  hydro.reservoirs.operate {t_ours:8.3f} s   {rate_ours:14,.0f} member-steps/s")
    print(f"  pywr {pywr.__version__} (Scenario size {members}) {t_pywr:8.2f} s   "
          f"{rate_pywr:14,.0f} member-steps/s (model.run, best of 2; building the model "
          f"took {t_build:.2f} s more)")
    print(f"  ratio ours / pywr: {rate_ours / rate_pywr:,.0f}x;  largest difference: release "
          f"{d_rel:.3g} m3/s, storage {d_vol:.3g} hm3")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=10_000)
    p.add_argument("--loop-members", type=int, default=100,
                   help="members timed in the per-member loop (default 100)")
    p.add_argument("--chunk", type=int, default=1000, help="members per chunk (default 1000)")
    p.add_argument("--repeat", type=int, default=3, help="timing repeats, best kept (default 3)")
    p.add_argument("--pywr-members", type=int, default=1000,
                   help="members of the pywr comparison (default 1000)")
    args = p.parse_args()
    config = load_config(ROOT / "config")
    ctx = C.context(config, "ural-2024-style")
    print("SYNTHETIC: 2024-style season built on the synthetic demonstration data and forcing")
    engine_vs_loop(ctx, args.members, args.loop_members, args.chunk, args.repeat)
    pywr_comparison(ctx, args.pywr_members)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
