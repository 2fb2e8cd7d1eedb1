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
* ``drawdown SCENARIO [--reservoir R]`` — is the reservoir (default: each of the
  scenario's) low enough before the flood?
* ``plan list|show|save|export`` — release plans as tables (CSV in and out), their checks
  against each reservoir's physics, and named plans saved in the store, versioned
  (:mod:`hydro.services.release_plans`).

A copied scenario file runs under its file name (a note says so when its ``scenario.id``
differs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hydro.cli.args import cli_user, config_from_args, open_store_for
from hydro.cli.text import station_label

if TYPE_CHECKING:
    import pandas as pd

    from hydro.config import Config
    from hydro.release_plans import ReservoirSchedule
    from hydro.scenarios import ScenarioFile, SeasonClimatology
    from hydro.services.context import Store


@contextmanager
def _opened(config: Config) -> Iterator[Store]:
    """The store of ``config`` (:func:`open_store_for`), disposed of on leaving."""
    store = open_store_for(config)
    try:
        yield store
    finally:
        store.dispose()


@contextmanager
def _plan_store(config: Config, plan_id: str) -> Iterator[Store | None]:
    """The store, read-only, where ``plan_id`` names a saved plan (a version ``@N``, or a
    name that is not a plan of the scenario file); None for a plan of the file."""
    from hydro.cli.args import open_store_readonly_for

    store = (open_store_readonly_for(config)
             if "@" in plan_id or not _is_file_plan(config, plan_id) else None)
    try:
        yield store
    finally:
        if store is not None:
            store.dispose()


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


def _with_names(df: pd.DataFrame, config: object, column: str = "site") -> pd.DataFrame:
    """``df`` with a ``name`` column (the English name of the gauge or reservoir in
    ``column``; blank for sites that are not network nodes) right after ``column``."""
    def name(site: object) -> str:
        try:
            return config.network.node(str(site)).names.en  # type: ignore[attr-defined]
        except (KeyError, AttributeError):
            return ""

    out = df.copy()
    out.insert(list(out.columns).index(column) + 1, "name", [name(v) for v in out[column]])
    return out


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
    for p in S.scenario_paths(config):
        sc = S.load_scenario(config, p)
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
    with _opened(config) as store:
        model, results = Cal.calibrate_model(config, store, args.basin or None,
                                             settings=settings, popsize=args.popsize,
                                             maxiter=args.maxiter, seed=args.seed,
                                             log=lambda m: print(m, file=sys.stderr))
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

    if getattr(args, "keep", False):  # a kept run of the scenario lab
        return run_kept(args)
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
    _print_frame(_with_names(summary(ev), config))
    if "ice_affected" in ds:
        iced = ev["peak_ice_affected"].mean("member").to_series()
        iced = iced[iced > 0]
        if len(iced):
            print("peak stage ice-affected (share of members; stage includes the ice "
                  "backwater): " + ", ".join(f"{station_label(config, str(g))} {100 * v:.0f} %"
                                             for g, v in iced.items()))
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
    from hydro.schedules import compare, evaluate, summary
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
    notes = summary(evs[0])
    if "note" in notes:
        table["note"] = table.merge(notes[["quantity", "site", "note"]],
                                    on=["quantity", "site"], how="left")["note"].fillna("")
    table = _with_names(table, config)
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
        f"{station_label(config, g)} {w:g}" for g, w in search.gauge_weights().items()))
    for line in objective_text(search.reservoir, search.end_storage_target.to("volume"),
                               search.storage_probability):
        print(f"  {line}")
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


def release_arg(text: str) -> float:
    """A release given on the command line, m³/s: a number with its unit ("900 m3/s"),
    not negative; anything else is a :class:`hydro.errors.UnitError` saying what to write."""
    from hydro.errors import UnitError
    from hydro.units import parse_quantity

    q = parse_quantity(text, "discharge").to("discharge")
    if not q >= 0:
        raise UnitError(f"--release {text!r}: a release cannot be negative; give the water "
                        "let out of the reservoir, e.g. \"900 m3/s\"")
    return float(q)


def objective_text(reservoir: str, target_hm3: float, probability: float) -> list[str]:
    """The search's objective in plain words, with its units and weights
    (:func:`hydro.schedules.objective`, :class:`hydro.schedules.ObjectiveWeights`)."""
    from hydro.schedules import ObjectiveWeights

    w = ObjectiveWeights()
    return [
        "objective: a flood-damage score in points, lower is better; for each gauge, "
        "averaged over the members and multiplied by the gauge's weight:",
        f"  {w.excess_per_m:g} point per metre the peak stage rises above the dangerous "
        f"level, {w.dangerous_day:g} per day at or above the dangerous level, "
        f"{w.adverse_day:g} per day at or above the adverse level (none for gauges "
        f"without one: the Kazakh scheme), {w.peak_per_m:g} per metre of peak stage "
        "(a tie-breaker);",
        f"  plus {w.storage_penalty:g} points per 100 % shortfall of {reservoir}'s "
        f"end-of-season storage below {target_hm3:.0f} hm3 in {100 * probability:.0f} % of "
        "members (zero when the target is met: the schedule is then 'feasible').",
    ]


def cmd_release(args: argparse.Namespace) -> int:
    import pandas as pd

    from hydro import reservoirs as R
    from hydro.schedules import release_from, release_response
    from hydro.services import scenarios as S

    config = config_from_args(args)
    q = release_arg(args.release)
    ctx = S.season(config, args.scenario, args.plan)
    net = config.network
    sc = ctx.scenario
    S.check_reservoir(sc, args.reservoir)
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
    if args.reservoir:
        S.check_reservoir(sc, args.reservoir)
        reservoirs = [args.reservoir]
    else:       # every reservoir of the scenario, upstream first
        from hydro.services.release_plans import scenario_reservoirs

        reservoirs = scenario_reservoirs(config, sc)
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
    for k, rid in enumerate(reservoirs):
        if k:
            print()
        _print_drawdown(drawdown_check(ds, config.network, rid, flood_start, args.probability),
                        station_label(config, rid), args.plan)
    return 0


def _print_drawdown(r: dict, label: str, plan: str) -> None:
    print(f"pre-flood drawdown check of {label} under plan '{plan}', flood from "
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


# --------------------------------------------------------------------------- plans

def _rows_text(sch: ReservoirSchedule) -> list[str]:
    """A schedule as aligned lines: the table (date, value) or the rule it follows."""
    from hydro.cli.text import table

    if sch.rule is not None:
        return [f"  follows the rule of plan '{sch.rule}'"
                if sch.rule != "pass_inflow" else "  passes its inflow (pass_inflow)"]
    rows = sch.rows
    head = ["from", "release m3/s"] if rows[0].kind == "release" else ["date",
                                                                        "target level m"]
    body = [[r.date.isoformat(), f"{r.value:g}" if r.kind == "release"
             else f"{r.value:.2f}"] for r in rows]
    return ["  " + ln for ln in table(head, body, {1}).splitlines()]


def cmd_plan_list(args: argparse.Namespace) -> int:
    from hydro.cli.args import open_store_readonly_for
    from hydro.services import release_plans as P

    config = config_from_args(args)
    choices = [c for c in P.scenario_choices(config)
               if args.scenario is None or c.id == args.scenario]
    if args.scenario is not None and not choices:
        raise P.PlanError(f"unknown scenario '{args.scenario}' (known: "
                          f"{', '.join(c.id for c in P.scenario_choices(config))})")
    store = open_store_readonly_for(config)
    try:
        saved = P.list_plans(store, args.scenario)
    finally:
        store.dispose()
    for c in choices:
        tag = " [SYNTHETIC]" if c.synthetic else ""
        print(f"{c.id}{tag}: {c.names['en']}")
        print("  reservoirs: " + ", ".join(f"{n['en']} ({r})" for r, n in c.reservoirs.items()))
        print("  plans of the scenario file (id <scenario>/<plan>):")
        for name, desc in c.plans.items():
            short = desc if len(desc) <= 90 else desc[:87] + "..."
            print(f"    {c.id}/{name}: {short}")
        mine = [p for p in saved if p.scenario_id == c.id]
        print("  saved plans:" + ("" if mine else " none"))
        for p in mine:
            print(f"    {p.ref}  {p.created_at:%Y-%m-%d %H:%M} UTC  by {p.author}"
                  + (f" ({p.party})" if p.party else "") + (f"  {p.note}" if p.note else ""))
    return 0


def cmd_plan_show(args: argparse.Namespace) -> int:
    from hydro.services import release_plans as P

    config = config_from_args(args)
    if "/" not in args.plan and not args.scenario:
        raise P.PlanError(f"'{args.plan}': give a plan id <scenario>/<plan>[@<version>], or "
                          "--scenario SCENARIO with a plan name")
    plan_id = args.plan if "/" in args.plan else f"{args.scenario}/{args.plan}"
    with _plan_store(config, plan_id) as store:
        scenario_id, ref, tables = P.tables_by_id(config, plan_id, store)
        saved = P.get_plan(store, ref) if store is not None else None
    choice = next(c for c in P.scenario_choices(config) if c.id == scenario_id)
    if choice.synthetic:
        print(f"SYNTHETIC scenario '{scenario_id}': checks on the synthetic demonstration "
              "season, not a forecast.")
    print(f"plan {scenario_id}/{ref}" if "/" not in ref else f"plan {ref}")
    if saved is not None:
        print(f"  saved {saved.created_at:%Y-%m-%d %H:%M} UTC by {saved.author}"
              + (f" ({saved.party})" if saved.party else "")
              + (f": {saved.note}" if saved.note else ""))
    issues = P.check(config, scenario_id, tables)
    for rid, sch in tables.items():
        print(f"\n{station_label(config, rid)}")
        for line in _rows_text(sch):
            print(line)
        found = issues.get(rid, [])
        print("  checks (control member of the season, from the scenario's start level): "
              + ("no problem found" if not found else f"{len(found)} found"))
        for i in found:
            print(f"    - [{i.kind}] {i.text_en}")
    return 0


def _is_file_plan(config: object, plan_id: str) -> bool:
    from hydro.services import release_plans as P

    scenario_id, _, name = plan_id.partition("/")
    for c in P.scenario_choices(config):  # type: ignore[arg-type]
        if c.id == scenario_id:
            return name in c.plans
    return False


def cmd_plan_save(args: argparse.Namespace) -> int:
    from hydro.release_plans import ReservoirSchedule
    from hydro.services import release_plans as P

    config = config_from_args(args)
    reservoirs = args.reservoir or []
    files = args.csv or []
    if len(reservoirs) != len(files):
        raise P.PlanError("give one --csv FILE after each --reservoir R "
                          f"({len(reservoirs)} reservoirs, {len(files)} files)")
    if not reservoirs:
        raise P.PlanError("give at least one --reservoir R --csv FILE")
    with _opened(config) as store:
        schedules: dict[str, ReservoirSchedule] = {}
        try:       # a new version starts from the latest one: unchanged reservoirs kept
            schedules.update(P.get_plan(store, f"{args.scenario}/{args.name}").schedules)
            carried = [r for r in schedules if r not in reservoirs]
        except P.PlanError:
            carried = []
        for rid, path in zip(reservoirs, files, strict=True):
            schedules[rid] = ReservoirSchedule(rid, tuple(P.read_csv_file(path)))
        saved = P.save_plan(store, config, args.scenario, args.name, schedules,
                            author=args.author or cli_user(), note=args.note or "",
                            party=args.party)
        issues = P.check(config, args.scenario, {r: schedules[r] for r in reservoirs})
    print(f"saved {saved.ref} by {saved.author} at {saved.created_at:%Y-%m-%d %H:%M} UTC")
    if carried:
        print("  kept from the previous version: "
              + ", ".join(station_label(config, r) for r in carried))
    for rid in reservoirs:
        found = issues.get(rid, [])
        print(f"  {station_label(config, rid)}: {len(schedules[rid].rows)} rows; checks: "
              + ("no problem found" if not found else f"{len(found)} found"))
        for i in found:
            print(f"    - [{i.kind}] {i.text_en}")
    print(f"run it with: hydrorisk scenario plan show {saved.ref}")
    return 0


def cmd_plan_export(args: argparse.Namespace) -> int:
    from hydro.services import release_plans as P

    config = config_from_args(args)
    with _plan_store(config, args.plan_id) as store:
        _, ref, tables = P.tables_by_id(config, args.plan_id, store)
    if args.reservoir not in tables:
        raise P.PlanError(f"'{args.reservoir}' is not a reservoir of plan {args.plan_id} "
                          f"(reservoirs: {', '.join(tables)})")
    text = P.export_csv(tables[args.reservoir])
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"written {args.out} ({station_label(config, args.reservoir)}, plan {ref})")
    else:
        sys.stdout.write(text)
    return 0


# ---------------------------------------------------------------- kept runs (the scenario lab)
# ``run --keep``, ``runs``, ``show``, ``compare-runs``, ``download``: through
# hydro.services.scenario_runs, the dashboard's service.

def _kept_frame(df, floatfmt: str = "{:.1f}") -> None:
    import pandas as pd

    with pd.option_context("display.width", 220, "display.max_columns", 40,
                           "display.max_rows", 500):
        print(df.to_string(index=False, na_rep="", float_format=lambda v: floatfmt.format(v)))


def run_kept(args: argparse.Namespace) -> int:
    """``scenario run SCENARIO --keep``: start and execute a kept run; print its id."""
    from hydro.services import scenario_runs as R
    from hydro.services import scenarios as S

    config = config_from_args(args)
    with _opened(config) as store:
        sc = S.load_scenario(config, args.scenario)
        members = args.members or sc.ensemble.members
        run = R.start_run(config, store, sc.id, args.plan, members, args.seed,
                          author=cli_user(), forcing=getattr(args, "forcing", None))
        print(f"run {run.run_id}: {sc.id}, plan {run.plan_ref}, {run.members} members, "
              f"seed {run.seed}, forcing {run.forcing}")
        run = R.execute_run(config, store, run.run_id, progress=_progress,
                            chunk_members=args.chunk)
        if run.status != "done":
            print(f"run {run.run_id} {run.status}: {run.error}", file=sys.stderr)
            return 1
        _kept_show(config, store, run.run_id)
        print(f"kept as run {run.run_id} ({run.path})")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from hydro.services import scenario_runs as R

    config = config_from_args(args)
    with _opened(config) as store:
        runs = R.list_runs(store, args.scenario)
    if not runs:
        print("no kept runs" + (f" of {args.scenario}" if args.scenario else ""))
        return 0
    for r in runs:
        print(f"{r.run_id}  {r.created_at:%Y-%m-%d %H:%M} UTC  {r.status:<9} "
              f"{100 * r.progress:3.0f} %  {r.scenario_id}  plan {r.plan_ref}  "
              f"{r.members} members  seed {r.seed}  by {r.author}"
              + (f"  — {r.error}" if r.error else ""))
    return 0


def _kept_show(config, store, run_id: str) -> None:
    from hydro.services import scenario_runs as R

    run = R.get_run(store, run_id)
    if run is None:
        raise R.RunError(f"no scenario run '{run_id}'")
    print(f"run {run.run_id}: {run.scenario_id}, plan {run.plan_ref} ({run.kind}), "
          f"{run.members} members, seed {run.seed}, forcing {run.forcing}, by {run.author} "
          f"{run.created_at:%Y-%m-%d %H:%M} UTC: {run.status}"
          + (f" ({run.error})" if run.error else ""))
    if run.status != "done":
        print(f"  progress: chunk {run.chunks_done}/{run.chunks_total}")
        return
    res = R.run_results(config, store, run_id)
    print(res.banner)
    exc = res.exceedance.copy()
    exc.insert(1, "name", [res.names[g]["en"] for g in exc["gauge"]])
    exc["probability"] = 100 * exc["probability"]
    print("\nprobability of reaching each level (%) and days at or above it "
          "(blank: the gauge has no such level):")
    _kept_frame(exc.drop(columns=["days_q50"]))
    lim = res.reservoir_limits.copy()
    lim.insert(1, "name", [res.names[r]["en"] for r in lim["reservoir"]])
    print("\nreservoirs (levels m, volumes hm3):")
    _kept_frame(lim, "{:.2f}")
    tt = res.travel_times.copy()
    tt["gauge name"] = [res.names[g]["en"] for g in tt["gauge"]]
    print("\ntravel time from each reservoir to each gauge (sum of Muskingum K and lags, d):")
    _kept_frame(tt)
    print("\nholdout against the unregulated river (control member):")
    _kept_frame(res.holdout_peaks)
    if len(res.drawdown):
        print("\npre-flood drawdown check:")
        _kept_frame(res.drawdown, "{:.2f}")
    for n in res.notes:
        print(f"note: {n}")


def cmd_show(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with _opened(config) as store:
        _kept_show(config, store, args.run_id)
    return 0


def cmd_compare_runs(args: argparse.Namespace) -> int:
    from hydro.services import scenario_runs as R

    config = config_from_args(args)
    with _opened(config) as store:
        t = R.compare_runs(config, store, args.run_a, args.run_b)
    if t.synthetic:
        print("SYNTHETIC: runs of a synthetic scenario; a demonstration of the method, not a "
              "forecast.")
    print(f"A = {t.run_a.run_id} (plan {t.run_a.plan_ref}), B = {t.run_b.run_id} "
          f"(plan {t.run_b.plan_ref}); "
          + ("paired: same scenario, members and seed" if t.paired else "NOT paired"))
    for n in t.notes:
        print(f"note: {n}")
    print("\npeak stage, cm (median and 90 % of the members), B − A:")
    _kept_frame(t.gauges.drop(columns=["name_kk", "name_ru"]))
    print("\nprobability of reaching each level, B − A (blank: no such level):")
    _kept_frame(t.exceedance, "{:.2f}")
    print("\nwater left in storage at the season's end (median, hm3), B − A:")
    _kept_frame(t.storage.drop(columns=["name_kk", "name_ru"]))
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from hydro.services import scenario_runs as R

    config = config_from_args(args)
    with _opened(config) as store:
        run = R.get_run(store, args.run_id)
        if run is None:
            raise R.RunError(f"no scenario run '{args.run_id}'")
        if not (args.csv or args.pdf or args.netcdf):
            raise R.RunError("give --csv FILE, --pdf FILE and/or --netcdf FILE")
        if args.csv:
            Path(args.csv).write_text(R.run_csv(config, store, run.run_id), encoding="utf-8")
            print(f"written {args.csv}")
        if args.pdf:
            Path(args.pdf).write_bytes(R.run_summary_pdf(config, store, run.run_id,
                                                         args.lang))
            print(f"written {args.pdf} ({args.lang})")
        if args.netcdf:
            import shutil

            shutil.copyfile(R.run_netcdf(config, run), args.netcdf)
            print(f"written {args.netcdf}")
    return 0


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    """The command ``name`` of this module, looked up when it runs."""

    def run(args: argparse.Namespace) -> int:
        import warnings

        from hydro.services.scenarios import ScenarioIdNote

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioIdNote)
            try:
                return globals()[name](args)
            finally:
                seen = set()
                for w in caught:
                    if issubclass(w.category, ScenarioIdNote) and str(w.message) not in seen:
                        seen.add(str(w.message))
                        print(f"note: {w.message}", file=sys.stderr)
                    elif not issubclass(w.category, ScenarioIdNote):
                        warnings.showwarning(w.message, w.category, w.filename, w.lineno)

    run.__name__ = name
    return run


def _add_plan_commands(sub: argparse._SubParsersAction) -> None:
    """``scenario plan list|show|save|export`` (release plans; see README "Release plans")."""
    p = sub.add_parser(
        "plan", help="release plans: tables, checks, saved versions, CSV",
        description="Release plans of a scenario as tables (date -> release in m3/s or "
                    "target level in m), checked against each reservoir's outlet capacity "
                    "by level, ramp limit, minimum release, ФПУ and УМО; named plans saved "
                    "in the store, versioned (never overwritten).  A plan id is "
                    "<scenario>/<plan> (a plan of the scenario file) or "
                    "<scenario>/<name>[@<version>] (a saved plan).")
    ps = p.add_subparsers(dest="plan_command", required=True, metavar="COMMAND")

    s = ps.add_parser("list", help="the scenarios' plans and the saved plans")
    s.add_argument("scenario", metavar="SCENARIO", nargs="?", default=None)
    s.set_defaults(func=_command("cmd_plan_list"))

    s = ps.add_parser("show", help="a plan's tables and their checks")
    s.add_argument("plan", metavar="PLAN",
                   help="plan id (<scenario>/<plan>[@<version>]), or a plan name with "
                        "--scenario")
    s.add_argument("--scenario", default=None, help="scenario of a plan given by name")
    s.set_defaults(func=_command("cmd_plan_show"))

    s = ps.add_parser("save", help="save a plan (a new version if the name exists)")
    s.add_argument("scenario", metavar="SCENARIO")
    s.add_argument("name", metavar="NAME", help="plan name: lower-case letters, digits, - _")
    s.add_argument("--reservoir", action="append", metavar="R",
                   help="reservoir id (repeatable; each followed by its --csv)")
    s.add_argument("--csv", action="append", metavar="FILE",
                   help="its schedule: date,release_m3s or date,target_level_m")
    s.add_argument("--note", default="", help="what the plan is for")
    s.add_argument("--author", default=None, help="default: cli:<operating-system user>")
    s.add_argument("--party", default=None, choices=["KZ", "RU", "commission"])
    s.set_defaults(func=_command("cmd_plan_save"))

    s = ps.add_parser("export", help="one reservoir's table of a plan as CSV")
    s.add_argument("plan_id", metavar="PLAN_ID", help="<scenario>/<plan>[@<version>]")
    s.add_argument("--reservoir", required=True, metavar="R")
    s.add_argument("--out", default=None, metavar="FILE", help="default: standard output")
    s.set_defaults(func=_command("cmd_plan_export"))


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``scenario list|calibrate|run|compare|search|release|effects|drawdown``."""
    p = subparsers.add_parser(
        "scenario", help="flood-season scenarios and release schedules",
        description="Run flood-season scenarios (config/scenarios/*.toml) through the network "
                    "and test reservoir release schedules against the gauges downstream.")
    sub = p.add_subparsers(dest="scenario_command", required=True, metavar="COMMAND")
    _add_plan_commands(sub)
    _add_run_commands(sub)   # runs, show, compare-runs, download (kept runs)

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
    s.add_argument("--keep", action="store_true",
                   help="keep the run in the store (the scenario lab's runs; prints its id; "
                        "--plan may be a saved plan id@version)")
    s.add_argument("--forcing", default=None, metavar="SOURCE",
                   help="with --keep: forcing source (default: config/scenarios/_forcing.toml)")
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
    s.add_argument("--reservoir", default=None,
                   help="reservoir id (default: every reservoir of the scenario)")
    s.add_argument("--plan", default="default")
    s.add_argument("--flood-start", default=None, metavar="DATE", type=dt.date.fromisoformat,
                   help="start of the flood (default: the scenario's warm-up start)")
    s.add_argument("--probability", type=float, default=0.9,
                   help="share of members that must be absorbed (default 0.9)")
    s.set_defaults(func=_command("cmd_drawdown"))


def _add_run_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``scenario runs|show|compare-runs|download``."""
    s = sub.add_parser("runs", help="the kept scenario runs, newest first")
    s.add_argument("scenario", metavar="SCENARIO", nargs="?", default=None)
    s.set_defaults(func=_command("cmd_runs"))

    s = sub.add_parser("show", help="a kept run: inputs, status and results")
    s.add_argument("run_id", metavar="RUN_ID")
    s.set_defaults(func=_command("cmd_show"))

    s = sub.add_parser("compare-runs", help="two kept runs side by side (B − A)")
    s.add_argument("run_a", metavar="RUN_A")
    s.add_argument("run_b", metavar="RUN_B")
    s.set_defaults(func=_command("cmd_compare_runs"))

    s = sub.add_parser("download", help="a kept run as CSV, PDF summary or NetCDF")
    s.add_argument("run_id", metavar="RUN_ID")
    s.add_argument("--csv", default=None, metavar="FILE")
    s.add_argument("--pdf", default=None, metavar="FILE")
    s.add_argument("--netcdf", default=None, metavar="FILE")
    s.add_argument("--lang", default="en", choices=["kk", "ru", "en"],
                   help="language of the PDF (default en)")
    s.set_defaults(func=_command("cmd_download"))
