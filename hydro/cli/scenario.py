"""``hydrorisk scenario list|calibrate|run|compare|search|release|effects|drawdown``:
arguments and printing; the work is done by :mod:`hydro.services.scenarios` and
:mod:`hydro.services.calibration` (imported when a command runs, so that building the
parser for ``--help`` does not import the scenario engine).

* ``list`` — the scenarios in ``config/scenarios/``;
* ``calibrate [--basin B] [--write]`` — calibrate the snowmelt model on the series in the
  store, with the settings of ``config/scenarios/_calibration.toml``; prints the skill of
  the calibration and the (held-out) validation period per basin;
* ``run SCENARIO [--plan P] [--members N] [--chunk N] [--seed S] [--dask [ADDRESS]]
  [--out F.nc]`` — prints the probability of the start state, the members' weather, the
  ensemble summary (``days_over_adverse`` blank with "no adverse level" at Kazakh gauges)
  and which peaks are ice-affected;

Every command that draws random numbers prints the seed it used (``--seed`` overrides the
scenario's ``[ensemble].seed``; the calibration's and the search's seeds are config).
* ``compare SCENARIO PLAN_A PLAN_B`` — two plans side by side;
* ``search SCENARIO`` — the ``[search]`` over parametrised schedules;
* ``release SCENARIO --reservoir R --release Q --from D`` — stage downstream, and when;
* ``effects SCENARIO`` — unregulated peaks and each reservoir's holdout and effect;
* ``drawdown SCENARIO --reservoir R`` — is the reservoir low enough before the flood?
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hydro.cli.args import config_from_args, open_store_for

if TYPE_CHECKING:
    import pandas as pd

    from hydro.scenarios import ScenarioFile, SeasonClimatology


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
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 40,
                           "display.max_rows", 500):
        print(df.to_string(index=False, na_rep="", float_format=lambda v: floatfmt.format(v)))


def _dask_arg(args: argparse.Namespace) -> str | bool | None:
    return getattr(args, "dask", None)


def _seed(args: argparse.Namespace, sc: ScenarioFile) -> int:
    """The ensemble seed of this run, printed: ``--seed`` or ``[ensemble].seed``."""
    given = getattr(args, "seed", None)
    seed = sc.ensemble.seed if given is None else given
    print(f"ensemble seed {seed} ({'--seed' if given is not None else '[ensemble].seed'})")
    return int(seed)


def cmd_list(args: argparse.Namespace) -> int:
    from hydro.services import scenarios as S

    config = config_from_args(args)
    from hydro.scenarios import parse_scenario

    for p in S.scenario_paths(config):
        sc = parse_scenario(S.read_toml(p), str(p), config.network)
        tag = " [synthetic]" if sc.scenario.synthetic else ""
        print(f"{sc.id}{tag}: {sc.scenario.names.en} — basins {', '.join(sc.scenario.basins)}, "
              f"{sc.scenario.start} + {sc.scenario.days} d, {sc.ensemble.members} members, "
              f"plans: {', '.join(sc.schedules)}; start state: probability "
              f"{sc.season.joint_exceedance():.2g} if independent, weather "
              f"{sc.ensemble.weather}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from hydro.services import calibration as Cal
    from hydro.services import scenarios as S

    config = config_from_args(args)
    settings = Cal.load_settings(config)
    store = open_store_for(config)
    try:
        model, results = Cal.calibrate_model(config, store, args.basin or None,
                                             settings=settings, popsize=args.popsize,
                                             maxiter=args.maxiter, seed=args.seed,
                                             log=lambda m: print(m, file=sys.stderr))
    finally:
        store.dispose()
    rec = model["calibration"]
    cal, val = rec["calibration_years"], rec["validation_years"]
    print(f"snowmelt model calibration on {rec['data']}")
    print(f"  forcing: {rec['forcing']}")
    print(f"  calibration {cal[0]}-{cal[1]}, validation {val[0]}-{val[1]} (held out: not "
          f"used by the optimiser); {rec['method']}")
    for b, r in results.items():
        print(f"\n[{b}] " + ", ".join(f"{k}={v:.4g}" for k, v in r.parameters.items()))
        _print_frame(r.skill.reset_index(), "{:.3f}")
    print("\nskill per basin (area-weighted over the observed nodes, daily local inflow):")
    _print_frame(Cal.skill_table(results, (cal[0], cal[1]), (val[0], val[1])), "{:.3f}")
    if args.write:
        path = config.root / S.SCENARIO_DIR / S.MODEL_FILE
        if path.exists() and args.basin:
            old = S.read_toml(path)
            old["parameters"].update(model["parameters"])
            old["calibration"]["skill"].update(model["calibration"]["skill"])
            model["parameters"], model["calibration"]["skill"] = (old["parameters"],
                                                                  old["calibration"]["skill"])
        Cal.write_model(path, model)
        print(f"\nwritten to {path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from hydro.schedules import evaluate, summary
    from hydro.services import scenarios as S

    config = config_from_args(args)
    ctx = S.season(config, args.scenario, args.plan)
    sc = ctx.scenario
    print(_banner(sc, ctx.climatology))
    seed = _seed(args, sc)
    ds = S.run_ensemble(config.network, sc, ctx.climatology, args.plan, members=args.members,
                        chunk_members=args.chunk, dask=_dask_arg(args), progress=_progress,
                        seed=seed)
    ev = evaluate(ds, ctx.levels, gauges=sc.evaluation.gauges, borders=sc.evaluation.borders,
                  spawning=S.spawning(sc))
    print(f"plan '{args.plan}': {sc.schedules[args.plan].description}")
    print(ds.attrs["start_state_probability"])
    weather = ("each member a historical season of the calibration years"
               if sc.ensemble.weather == "sampled_years" else "the daily normals")
    print(f"weather: {weather} (member 0, the control, the normals)"
          if sc.ensemble.control_member and sc.ensemble.weather == "sampled_years"
          else f"weather: {weather}")
    print(f"{ds.sizes['member']} members x {ds.sizes['node']} nodes x {ds.sizes['time']} days")
    _print_frame(summary(ev))
    if "ice_affected" in ds:
        iced = ev["peak_ice_affected"].mean("member").to_series()
        iced = iced[iced > 0]
        if len(iced):
            print("peak stage ice-affected (share of members; stage includes the ice "
                  "backwater): " + ", ".join(f"{g} {100 * v:.0f} %" for g, v in iced.items()))
    spawn = sc.evaluation.spawning
    if spawn is not None and spawn.minimum_volume is not None:
        need = spawn.minimum_volume.to("volume")
        share = float((ev["spawning_volume"] >= need).mean())
        print(f"spring ecological pulse past {spawn.node} {spawn.start}..{spawn.end}: at least "
              f"{need:.0f} hm3 in {100 * share:.0f} % of members")
    out = (Path(args.out) if args.out
           else config.resolve(f"var/scenarios/{sc.id}-{args.plan}.nc"))
    S.to_netcdf(ds, out)
    print(f"written {out}")
    return 0












def cmd_compare(args: argparse.Namespace) -> int:
    from hydro.schedules import compare, evaluate
    from hydro.services import scenarios as S

    config = config_from_args(args)
    ctx = S.season(config, args.scenario, args.plan_a, args.plan_b)
    sc = ctx.scenario
    print(_banner(sc, ctx.climatology))
    seed = _seed(args, sc)
    evs = []
    for plan in (args.plan_a, args.plan_b):
        ds = S.run_ensemble(config.network, sc, ctx.climatology, plan, members=args.members,
                            chunk_members=args.chunk, dask=_dask_arg(args), progress=_progress,
                            seed=seed)
        evs.append(evaluate(ds, ctx.levels, gauges=sc.evaluation.gauges,
                            borders=sc.evaluation.borders, spawning=S.spawning(sc)))
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
    from hydro.services import scenarios as S

    config = config_from_args(args)
    ctx = S.season(config, args.scenario)
    sc = ctx.scenario
    search = sc.search
    if search is None:
        raise S.ScenarioError(f"scenario '{sc.id}' has no [search] table")
    if args.members or args.maxiter:
        search = search.model_copy(update={
            k: v for k, v in (("members", args.members), ("maxiter", args.maxiter)) if v})
        sc = sc.model_copy(update={"search": search})
    print(_banner(sc, ctx.climatology))
    print(f"search seed {search.seed} ([search].seed), ensemble seed {sc.ensemble.seed} "
          "([ensemble].seed)")
    out = search_schedule(config.network, sc, ctx.climatology, ctx.levels)
    r = out.result
    print(f"search of '{search.reservoir}' ({', '.join(out.varied)}) on {out.members} members: "
          f"{r.evaluations} schedules, {r.generations} generations")
    print("  objective gauges (weight): " + ", ".join(
        f"{g} {w:g}" for g, w in search.gauge_weights().items()))
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
    import pandas as pd

    from hydro import reservoirs as R
    from hydro.schedules import release_from, release_response
    from hydro.services import scenarios as S
    from hydro.units import parse_quantity

    config = config_from_args(args)
    ctx = S.season(config, args.scenario, args.plan)
    net = config.network
    sc = ctx.scenario
    S.check_reservoir(sc, args.reservoir)
    q = parse_quantity(args.release, "discharge").to("discharge")
    start = pd.Timestamp(args.from_date)
    day = (start - sc.dates[0]).days
    if not 0 <= day < len(sc.dates):
        raise S.ScenarioError(f"--from {start.date()} is outside the season of '{sc.id}' "
                            f"({sc.dates[0].date()}..{sc.dates[-1].date()})")
    print(_banner(sc, ctx.climatology))
    pert, lateral, schedules = S.plan_forcing(ctx, args.plan, net, args.members,
                                              seed=_seed(args, sc))
    base = S.run_members(net, sc, ctx.climatology, pert, schedules, lateral=lateral)
    new_release = release_from(base["release"].sel(reservoir=args.reservoir).values, q, day)
    changed = dict(schedules)
    changed[args.reservoir] = R.DailyRelease(new_release)
    new = S.run_members(net, sc, ctx.climatology, pert, changed, lateral=lateral)
    down = {r.downstream for r in S.network_sim.downstream_path(net, args.reservoir)}
    gauges = args.gauges or [g for g in (sc.evaluation.gauges or list(ctx.levels)) if g in down]
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
    from hydro.services import scenarios as S

    config = config_from_args(args)
    ctx = S.season(config, args.scenario, args.plan)
    net = config.network
    sc = ctx.scenario
    print(_banner(sc, ctx.climatology))
    pert, lateral, schedules = S.plan_forcing(ctx, args.plan, net, 1, seed=_seed(args, sc))
    reg = S.run_members(net, sc, ctx.climatology, pert, schedules, lateral=lateral)
    unreg = S.run_members(net, sc, ctx.climatology, pert, {r: PassInflow() for r in schedules},
                        lateral=lateral)
    without = {r: S.run_members(net, sc, ctx.climatology, pert, {**schedules, r: PassInflow()},
                              lateral=lateral) for r in schedules}
    gauges = sc.evaluation.gauges or [g for g in ctx.levels]
    peaks, effects = reservoir_effects(reg, unreg, without, net, gauges)
    print(f"peaks under plan '{args.plan}' and with every reservoir passing its inflow "
          "(control member):")
    _print_frame(peaks)
    print("\neach reservoir's holdout and its effect on the peaks downstream "
          "(negative change = it lowered the peak):")
    _print_frame(effects)
    return 0


def cmd_drawdown(args: argparse.Namespace) -> int:
    from hydro.schedules import drawdown_check
    from hydro.services import scenarios as S

    config = config_from_args(args)
    ctx = S.season(config, args.scenario, args.plan)
    sc = ctx.scenario
    S.check_reservoir(sc, args.reservoir)
    flood_start = args.flood_start or (sc.season.warm_up.start if sc.season.warm_up else None)
    if flood_start is None:
        raise S.ScenarioError("give --flood-start (the scenario has no warm_up)")
    if not sc.dates[0].date() <= flood_start <= sc.dates[-1].date():
        raise S.ScenarioError(f"--flood-start {flood_start} is outside the season of '{sc.id}'")
    print(_banner(sc, ctx.climatology))
    seed = _seed(args, sc)
    ds = S.run_ensemble(config.network, sc, ctx.climatology, args.plan, members=args.members,
                        chunk_members=args.chunk, dask=_dask_arg(args), progress=_progress,
                        seed=seed)
    r = drawdown_check(ds, config.network, args.reservoir, flood_start, args.probability)
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


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    """The command ``name`` of this module, looked up when it runs."""

    def run(args: argparse.Namespace) -> int:
        return globals()[name](args)

    run.__name__ = name
    return run


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``scenario list|calibrate|run|compare|search|release|effects|drawdown``."""
    p = subparsers.add_parser(
        "scenario", help="flood-season scenarios and release schedules",
        description="Run flood-season scenarios (config/scenarios/*.toml) through the network "
                    "and test reservoir release schedules against the gauges downstream.")
    sub = p.add_subparsers(dest="scenario_command", required=True, metavar="COMMAND")

    def common(s: argparse.ArgumentParser, members: bool = True, dask: bool = True) -> None:
        s.add_argument("scenario", metavar="SCENARIO", help="scenario id or path")
        if members:
            s.add_argument("--members", type=int, default=None,
                           help="ensemble members (default: the scenario's)")
            s.add_argument("--chunk", type=int, default=None, metavar="N",
                           help="members per chunk (default: [run].chunk_members)")
            s.add_argument("--seed", type=int, default=None, metavar="S",
                           help="seed of the member perturbations "
                                "(default: the scenario's [ensemble].seed)")
        if dask:
            s.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADDRESS",
                           help="run member chunks on dask.distributed: a scheduler address, "
                                "or a LocalCluster when no address is given")

    s = sub.add_parser("list", help="list the scenarios")
    s.set_defaults(func=_command("cmd_list"))

    s = sub.add_parser("calibrate", help="calibrate the snowmelt model on the series in the "
                                         "store (settings: config/scenarios/_calibration.toml)")
    s.add_argument("--basin", action="append", help="basin (repeatable; default: all)")
    s.add_argument("--popsize", type=int, default=None,
                   help="differential evolution population per parameter "
                        "(default: [calibration].popsize)")
    s.add_argument("--maxiter", type=int, default=None,
                   help="generations (default: [calibration].maxiter)")
    s.add_argument("--seed", type=int, default=None,
                   help="seed of the optimiser (default: [calibration].seed)")
    s.add_argument("--write", action="store_true", help="write config/scenarios/_model.toml")
    s.set_defaults(func=_command("cmd_calibrate"))

    s = sub.add_parser("run", help="run a scenario ensemble under a plan; write NetCDF")
    common(s)
    s.add_argument("--plan", default="default", help="release plan (default: default)")
    s.add_argument("--out", default=None, metavar="FILE.nc",
                   help="NetCDF output (default: var/scenarios/<id>-<plan>.nc in the project)")
    s.set_defaults(func=_command("cmd_run"))

    s = sub.add_parser("compare", help="two release plans side by side")
    common(s)
    s.add_argument("plan_a", metavar="PLAN_A")
    s.add_argument("plan_b", metavar="PLAN_B")
    s.add_argument("--statistic", default="q50", help="mean, q10, q50 or q90 (default q50)")
    s.add_argument("--csv", default=None, metavar="FILE", help="also write the table as CSV")
    s.set_defaults(func=_command("cmd_compare"))

    s = sub.add_parser("search", help="search the [search] schedule family")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--members", type=int, default=None, help="members (default [search].members)")
    s.add_argument("--maxiter", type=int, default=None,
                   help="generations (default [search].maxiter)")
    s.set_defaults(func=_command("cmd_search"))

    s = sub.add_parser("release", help="release Q from a reservoir from a date: stage downstream")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--reservoir", required=True, help="reservoir id, e.g. RU:IRIKLINSK")
    s.add_argument("--release", required=True, metavar="Q", help='release, e.g. "900 m3/s"')
    s.add_argument("--from", dest="from_date", required=True, metavar="DATE",
                   type=dt.date.fromisoformat,
                   help="first day of the new release (YYYY-MM-DD)")
    s.add_argument("--plan", default="default", help="plan before the date (default: default)")
    s.add_argument("--gauges", nargs="*", default=None, help="gauges (default: downstream ones)")
    s.add_argument("--members", type=int, default=1, help="members (default 1: the control)")
    s.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed of the member perturbations (default: [ensemble].seed)")
    s.set_defaults(func=_command("cmd_release"))

    s = sub.add_parser("effects", help="unregulated flows and each reservoir's holdout")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("--plan", default="default")
    s.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed of the member perturbations (default: [ensemble].seed)")
    s.set_defaults(func=_command("cmd_effects"))

    s = sub.add_parser("drawdown", help="is a reservoir low enough before the flood?")
    common(s)
    s.add_argument("--reservoir", required=True)
    s.add_argument("--plan", default="default")
    s.add_argument("--flood-start", default=None, metavar="DATE", type=dt.date.fromisoformat,
                   help="start of the flood (default: the scenario's warm-up start)")
    s.add_argument("--probability", type=float, default=0.9,
                   help="share of members that must be absorbed (default 0.9)")
    s.set_defaults(func=_command("cmd_drawdown"))
