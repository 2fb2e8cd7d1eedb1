"""Release plans of the scenario lab: what the dashboard's schedule editor and
``hydrorisk scenario plan …`` both call.

* :func:`scenario_choices` — the scenarios, their plans and reservoirs (with names);
* :func:`plan_table` — a plan (of the scenario file, or saved) as one schedule table or
  rule per reservoir (:class:`hydro.release_plans.ReservoirSchedule`);
* :func:`check` — live checks of edited schedules against each reservoir's outlet
  capacity by level, ramp limit, minimum release, ФПУ and УМО;
* :func:`save_plan`, :func:`list_plans`, :func:`get_plan` — named plans in the store,
  versioned, never overwritten (an audit record ``plan_save`` for each save);
* :func:`plan_for_engine`, :func:`scenario_with_plan` — a plan (file or saved) as the
  engine's :class:`hydro.scenarios.Plan`, and a scenario that runs it;
* :func:`parse_upload`, :func:`export_csv` — CSV in and out.

A plan reference (``plan_ref``) is a plan name of the scenario file (``default``,
``early-prerelease`` …) or a saved plan's id ``<scenario>/<name>``, optionally with
``@<version>`` (the latest version without).  Both are URL-safe: names are lower-case
letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Final

import numpy as np

from hydro import release_plans as RP
from hydro.config import Config
from hydro.errors import HydroriskError, IngestError
from hydro.release_plans import ReservoirSchedule, ScheduleIssue, ScheduleRow
from hydro.scenarios import Plan, ScenarioFile
from hydro.services.context import Store
from hydro.store.plans import PlanVersion

__all__ = [
    "PlanError",
    "ScenarioChoice",
    "SavedPlan",
    "NAME_PATTERN",
    "MAX_UPLOAD_BYTES",
    "scenario_choices",
    "scenario_reservoirs",
    "plan_table",
    "check",
    "save_plan",
    "list_plans",
    "get_plan",
    "plan_for_engine",
    "scenario_with_plan",
    "parse_upload",
    "export_csv",
    "read_csv_file",
    "tables_by_id",
    "control_inflow",
]

#: a saved plan's name: URL-safe, as scenario ids are
NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,63}$"
#: largest upload accepted (the parser's own limit)
MAX_UPLOAD_BYTES: Final = RP.MAX_BYTES


class PlanError(HydroriskError, ValueError):
    """A plan request that cannot be met: unknown scenario, plan, version or reservoir, a
    bad name, or a schedule the engine cannot take."""


# =========================================================================== choices

@dataclass(frozen=True)
class ScenarioChoice:
    """A scenario as the lab offers it.

    Attributes
    ----------
    id, names : the scenario's id and its names ``{"kk", "ru", "en"}``
    basins : basin ids; start : first day; days : season length; members : ensemble size
    synthetic : the scenario (its forcing/data) is synthetic — label every figure so
    plans : the scenario file's plan names (``default`` first) and their descriptions
        (``description``, the CLI's)
    plan_descriptions : plan name -> its description ``{"kk", "ru", "en"}`` (each language
        the plan's ``descriptions`` give, else its ``description``)
    reservoirs : reservoir id -> names ``{"kk", "ru", "en"}``, in network order
    rules : reservoir id -> the rule names it can follow (plans of the file naming it,
        ``default`` first, then ``pass_inflow``)
    """

    id: str
    names: dict[str, str]
    basins: list[str]
    start: dt.date
    days: int
    members: int
    synthetic: bool
    plans: dict[str, str]
    reservoirs: dict[str, dict[str, str]]
    rules: dict[str, list[str]] = field(default_factory=dict)
    plan_descriptions: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def plan_names(self) -> list[str]:
        return list(self.plans)

    def plan_description(self, plan: str, lang: str) -> str:
        """The description of the file plan ``plan`` in ``lang`` ("" if unknown)."""
        described = self.plan_descriptions.get(plan)
        if described:
            return described.get(lang) or described.get("en") or self.plans.get(plan, "")
        return self.plans.get(plan, "")


def _names(n: Any) -> dict[str, str]:
    return {"kk": n.kk, "ru": n.ru, "en": n.en}


def _scenario(config: Config, scenario_id: str) -> ScenarioFile:
    from hydro.errors import ConfigError
    from hydro.services.scenarios import load_scenario

    if not re.fullmatch(NAME_PATTERN, scenario_id or ""):
        raise PlanError(f"'{scenario_id}' is not a scenario id")
    try:
        return load_scenario(config, scenario_id)
    except ConfigError as e:
        raise PlanError(str(e)) from None


def scenario_reservoirs(config: Config, sc: ScenarioFile) -> list[str]:
    """The reservoirs of the scenario's basins, in network (upstream-first) order."""
    from hydro.network_sim import select_nodes

    net = config.network
    return [n for n in select_nodes(net, sc.scenario.basins) if n in net.reservoirs]


def _rules(sc: ScenarioFile, rid: str) -> list[str]:
    return [p for p, plan in sc.schedules.items() if rid in plan.reservoirs] + [RP.PASS_INFLOW]


def scenario_choices(config: Config) -> list[ScenarioChoice]:
    """Every scenario of ``config/scenarios/``, validated (the first invalid file raises)."""
    from hydro.services.scenarios import load_scenario, scenario_paths

    out = []
    for path in scenario_paths(config):
        sc = load_scenario(config, path)
        res = scenario_reservoirs(config, sc)
        plans = {"default": sc.schedules["default"].description,
                 **{k: p.description for k, p in sc.schedules.items() if k != "default"}}
        out.append(ScenarioChoice(
            id=sc.id, names=_names(sc.scenario.names), basins=list(sc.scenario.basins),
            start=sc.scenario.start, days=sc.scenario.days, members=sc.ensemble.members,
            synthetic=sc.scenario.synthetic, plans=plans,
            reservoirs={r: _names(config.network.reservoirs[r].names) for r in res},
            rules={r: _rules(sc, r) for r in res},
            plan_descriptions={k: {lang: p.description_in(lang) for lang in ("kk", "ru", "en")}
                               for k, p in sc.schedules.items()}))
    return out


# =========================================================================== tables

def _is_saved_ref(plan_ref: str) -> bool:
    return "/" in plan_ref


def _saved_of(store: Store | None, sc: ScenarioFile, plan_ref: str) -> SavedPlan:
    """The saved plan ``plan_ref`` of scenario ``sc`` (refused: no store, or a plan of
    another scenario)."""
    if store is None:
        raise PlanError(f"'{plan_ref}' is a saved plan: the store is needed to read it")
    saved = get_plan(store, plan_ref)
    if saved.scenario_id != sc.id:
        raise PlanError(f"plan '{saved.id}' belongs to scenario '{saved.scenario_id}', "
                        f"not '{sc.id}'")
    return saved


def _file_plan(sc: ScenarioFile, plan_name: str) -> Plan:
    """The plan ``plan_name`` of the scenario file (refused: no such plan)."""
    if plan_name not in sc.schedules:
        raise PlanError(f"unknown plan '{plan_name}' of scenario '{sc.id}' "
                        f"(plans: {', '.join(sc.schedules)})")
    return sc.schedules[plan_name]


def plan_table(config: Config, scenario_id: str, plan_name: str = "default", *,
               store: Store | None = None) -> dict[str, ReservoirSchedule]:
    """The schedules of a plan, one per reservoir of the scenario (network order).

    ``plan_name`` is a plan of the scenario file — each reservoir's spec as a table
    (``daily_release``, ``target_level``, and ``prerelease`` as the dates its release
    changes) or as a rule (``rule`` = the plan it comes from: the plan's own, or
    ``default`` for reservoirs the plan does not name) — or a saved plan id
    ``<scenario>/<name>[@<version>]`` (needs ``store``), whose reservoirs not saved follow
    ``default`` likewise."""
    sc = _scenario(config, scenario_id)
    res = scenario_reservoirs(config, sc)
    if _is_saved_ref(plan_name):
        saved = _saved_of(store, sc, plan_name)
        base = plan_table(config, scenario_id, "default")
        return {r: saved.schedules.get(r, base[r]) for r in res}
    own = _file_plan(sc, plan_name).reservoirs
    default = sc.schedules["default"].reservoirs
    out = {}
    for r in res:
        src, spec = (plan_name, own[r]) if r in own else ("default", default[r])
        out[r] = RP.from_spec(spec, sc.dates, reservoir=r, plan=src)
    return out


def tables_by_id(config: Config, plan_id: str, store: Store | None = None
                 ) -> tuple[str, str, dict[str, ReservoirSchedule]]:
    """``(scenario id, plan ref, schedules)`` of a plan named by one id: a saved plan's
    ``<scenario>/<name>[@<version>]`` (latest version without) or a file plan as
    ``<scenario>/<plan>`` (e.g. ``ural-2024-style/early-prerelease``)."""
    m = _REF.match(plan_id or "")
    if not m:
        raise PlanError(f"'{plan_id}' is not a plan id (<scenario>/<plan>[@<version>])")
    scenario_id, name, version = m.group(1), m.group(2), m.group(3)
    sc = _scenario(config, scenario_id)
    if name in sc.schedules and version is None:
        return sc.id, name, plan_table(config, sc.id, name)
    if store is None:
        raise PlanError(f"'{plan_id}' is not a plan of the scenario file (plans: "
                        f"{', '.join(sc.schedules)}); a saved plan needs the store")
    saved = get_plan(store, plan_id)
    return sc.id, saved.ref, plan_table(config, sc.id, saved.ref, store=store)


def _file_rules(sc: ScenarioFile) -> dict[str, dict[str, Any]]:
    return {p: dict(plan.reservoirs) for p, plan in sc.schedules.items()}


# =========================================================================== checks

_INFLOW_CACHE: dict[tuple[str, str, tuple[int, ...]], dict[str, np.ndarray]] = {}
_INFLOW_LOCK = threading.Lock()


def control_inflow(config: Config, scenario_id: str) -> dict[str, np.ndarray]:
    """Daily inflow (m³/s, shape (days,)) of each reservoir of the scenario in its control
    member (member 0: the season the scenario describes, unperturbed, on the normal
    weather) under the ``default`` plan; kept per config folder and version of the scenario,
    network, model and forcing-choice files (a fraction of a second the first time,
    nothing after; a forcing source that reads the store is not re-read for new data until
    one of those files changes or the process restarts)."""
    from hydro.scenarios import perturbations, plan_schedules, run_members
    from hydro.services import scenarios as S
    from hydro.services.forcing import SCENARIO_DIR

    files = [config.root / SCENARIO_DIR / f"{scenario_id}.toml", config.root / "basins.toml",
             config.root / SCENARIO_DIR / "_model.toml", config.root / SCENARIO_DIR / "_forcing.toml"]
    key = (str(config.root.resolve()), scenario_id,
           tuple(f.stat().st_mtime_ns if f.exists() else 0 for f in files))
    with _INFLOW_LOCK:
        if key in _INFLOW_CACHE:
            return _INFLOW_CACHE[key]
    ctx = S.context(config, scenario_id)
    sc = ctx.scenario
    pert = perturbations(sc.ensemble, sc.scenario.days, 1)
    ds = run_members(config.network, sc, ctx.climatology, pert,
                     plan_schedules(sc, "default", config.network))
    q = ds["reservoir_inflow"].isel(member=0)
    out = {str(r): np.asarray(q.sel(reservoir=r).values, dtype=float)
           for r in q["reservoir"].values}
    with _INFLOW_LOCK:
        if len(_INFLOW_CACHE) >= 16:
            _INFLOW_CACHE.clear()
        _INFLOW_CACHE[key] = out
    return out


def check(config: Config, scenario_id: str, schedules: Mapping[str, ReservoirSchedule]
          ) -> dict[str, list[ScheduleIssue]]:
    """Live checks of ``schedules`` (reservoir id -> schedule), per reservoir
    (:func:`hydro.release_plans.check_schedule`).

    Each reservoir is operated from the scenario's start volume and start release on the
    inflow of the scenario's **control member** (member 0) under the ``default`` plan —
    not a climatological median: the plan is meant for the season the scenario
    describes (a 2024-style flood), and the median season would hide exactly the
    capacity, ramp and ФПУ problems of that flood.  The ensemble's spread is what a run
    shows; the checks are about whether the schedule itself can be followed.  A reservoir
    below another gets the inflow the upstream one releases under ``default``.
    """
    from hydro.scenarios import initial_volumes

    sc = _scenario(config, scenario_id)
    res_ids = scenario_reservoirs(config, sc)
    unknown = [r for r in schedules if r not in res_ids]
    if unknown:
        raise PlanError(f"'{unknown[0]}' is not a reservoir of scenario '{sc.id}' "
                        f"(reservoirs: {', '.join(res_ids)})")
    inflow = control_inflow(config, sc.id)
    start = initial_volumes(sc, config.network)
    rules = _file_rules(sc)
    from hydro.scenarios import evaporation_climatology

    evap = evaporation_climatology(sc.dates)
    out: dict[str, list[ScheduleIssue]] = {}
    for rid, sch in schedules.items():
        res = config.network.reservoirs[rid]
        st = sc.reservoirs.get(rid)
        q0 = (st.initial_release.to("discharge") if st is not None
              and st.initial_release is not None else None)
        spec = None
        if sch.rule is not None and sch.rule != RP.PASS_INFLOW:
            spec = rules.get(sch.rule, {}).get(rid)
            if spec is None:
                raise PlanError(f"{rid}: unknown rule '{sch.rule}' (known: "
                                f"{', '.join(_rules(sc, rid))})")
        elif sch.rule == RP.PASS_INFLOW:
            from hydro.scenarios import PassInflowSpec

            spec = PassInflowSpec(kind="pass_inflow")
        out[rid] = RP.check_schedule(
            sch, res, sc.dates, start.get(rid, res.npu_volume_hm3), inflow[rid],
            initial_release_m3s=q0, rule_spec=spec, evaporation_mm_per_day=evap)
    return out


# =========================================================================== saved plans

@dataclass(frozen=True)
class SavedPlan(PlanVersion):
    """One version of a saved plan.

    ``id`` is ``<scenario>/<name>`` and :attr:`ref` ``<id>@<version>`` (URL-safe, for a
    shareable link); ``created_at`` is naive UTC; ``schedules`` maps reservoir id to its
    schedule (only the reservoirs saved: the others follow ``default``)."""

    note: str
    schedules: dict[str, ReservoirSchedule]


def _saved(row: Any) -> SavedPlan:
    data = json.loads(row.schedules_json)
    return SavedPlan(scenario_id=row.scenario_id, name=row.name, version=row.version,
                     author=row.author, party=row.party, created_at=row.created_at,
                     note=row.note or "",
                     schedules={r: ReservoirSchedule.from_json(r, v) for r, v in data.items()})


def _validate_schedules(config: Config, sc: ScenarioFile,
                        schedules: Mapping[str, ReservoirSchedule]) -> Plan:
    """The engine plan of ``schedules`` (refuses unknown reservoirs and rules, negative or
    non-finite releases, and anything the engine's specs refuse)."""
    res_ids = scenario_reservoirs(config, sc)
    if not schedules:
        raise PlanError("a plan needs the schedule of at least one reservoir")
    for rid, sch in schedules.items():
        if rid not in res_ids:
            raise PlanError(f"'{rid}' is not a reservoir of scenario '{sc.id}' "
                            f"(reservoirs: {', '.join(res_ids)})")
        if not isinstance(sch, ReservoirSchedule):
            raise PlanError(f"{rid}: a schedule must be a ReservoirSchedule, got "
                            f"{type(sch).__name__}")
        if sch.reservoir != rid:
            raise PlanError(f"schedule of '{sch.reservoir}' given for '{rid}'")
        for r in sch.rows:
            if r.release_m3s is not None and not (np.isfinite(r.release_m3s)
                                                  and r.release_m3s >= 0):
                raise PlanError(f"{rid}, {r.date}: a release must be a number >= 0 m3/s, "
                                f"got {r.release_m3s}")
    try:
        return RP.to_plan(schedules, "validation", sc.schedules["default"], _file_rules(sc))
    except ValueError as e:
        raise PlanError(str(e).removeprefix("Value error, ")) from None


def save_plan(store: Store, config: Config, scenario_id: str, name: str,
              schedules: Mapping[str, ReservoirSchedule], author: str, note: str = "",
              party: str | None = None) -> SavedPlan:
    """Save ``schedules`` as the next version of plan ``name`` of the scenario (version 1
    for a new name; earlier versions stay as they were) and write the audit record
    ``plan_save`` (target: the plan's ``id@version``).  ``name`` is URL-safe
    (:data:`NAME_PATTERN`) and not a plan name of the scenario file; ``author`` is the
    account (or OS user) name."""
    from hydro.services import audit
    from hydro.store import plans as stored

    sc = _scenario(config, scenario_id)
    if not re.fullmatch(NAME_PATTERN, name or ""):
        raise PlanError(f"plan name '{name}': use 1–64 lower-case letters, digits, '-' or '_', "
                        "starting with a letter or digit")
    if name in sc.schedules:
        raise PlanError(f"'{name}' is a plan of the scenario file {sc.id}.toml; choose "
                        "another name")
    if not (author or "").strip():
        raise PlanError("a saved plan needs an author")
    _validate_schedules(config, sc, schedules)
    payload = json.dumps({r: s.to_json() for r, s in schedules.items()}, ensure_ascii=False,
                         sort_keys=True)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    version = stored.insert_plan(store, sc.id, name, author.strip(), party, now,
                                 note or None, payload)
    saved = SavedPlan(sc.id, name, version, author.strip(), party, now, note or "",
                      dict(schedules))
    kinds = ", ".join(f"{r} {s.kind}" + (f" ({len(s.rows)} rows)" if s.rows else
                                          f" '{s.rule}'") for r, s in schedules.items())
    audit.record(store, "plan_save", author.strip(), target=saved.ref,
                 detail=f"party={party or ''}; {kinds}; note: {note or ''}")
    return saved


def list_plans(store: Store, scenario_id: str | None = None, *,
               latest_only: bool = False) -> list[SavedPlan]:
    """Saved plans (every version, or only each name's latest), by scenario, name and
    version."""
    from hydro.store import plans as stored

    rows = [_saved(r) for r in stored.plans(store, scenario_id)]
    if latest_only:
        last: dict[str, SavedPlan] = {}
        for p in rows:
            last[p.id] = p
        rows = list(last.values())
    return rows


_REF = re.compile(r"^([a-z0-9][a-z0-9_-]*)/([a-z0-9][a-z0-9_-]*)(?:@([0-9]+))?$")


def get_plan(store: Store, plan_id: str, version: int | None = None) -> SavedPlan:
    """A saved plan by id ``<scenario>/<name>`` (or ``…@<version>``); the latest version
    unless ``version`` (or ``@version``) is given."""
    from hydro.store import plans as stored

    m = _REF.match(plan_id or "")
    if not m:
        raise PlanError(f"'{plan_id}' is not a plan id (<scenario>/<name>[@<version>])")
    scenario_id, name, v = m.group(1), m.group(2), m.group(3)
    if v is not None:
        if version is not None and int(v) != int(version):
            raise PlanError(f"'{plan_id}' and version {version} disagree")
        version = int(v)
    row = stored.plan(store, scenario_id, name, version)
    if row is None:
        known = sorted({f"{p.scenario_id}/{p.name}" for p in stored.plans(store, scenario_id)})
        what = f"version {version} of plan" if version is not None else "saved plan"
        raise PlanError(f"no {what} '{scenario_id}/{name}'"
                        + (f" (saved plans: {', '.join(known)})" if known else ""))
    return _saved(row)


def plan_for_engine(config: Config, store: Store | None, scenario_id: str,
                    plan_ref: str) -> Plan:
    """The engine's :class:`hydro.scenarios.Plan` of ``plan_ref``: a plan of the scenario
    file as it is, or a saved plan's tables as ``daily_release``/``target_level`` specs
    (units m3/s and m), its rules resolved from the file, and the reservoirs it does not
    name following ``default``."""
    sc = _scenario(config, scenario_id)
    if not _is_saved_ref(plan_ref):
        return _file_plan(sc, plan_ref)
    saved = _saved_of(store, sc, plan_ref)
    plan = _validate_schedules(config, sc, saved.schedules)
    desc = (f"saved plan {saved.ref} by {saved.author}, {saved.created_at:%Y-%m-%d %H:%M} UTC"
            + (f": {saved.note}" if saved.note else ""))
    return plan.model_copy(update={"description": desc})


def scenario_with_plan(scenario: ScenarioFile, plan_ref: str, plan: Plan) -> ScenarioFile:
    """``scenario`` with ``plan`` added under the key ``plan_ref``, so that
    :func:`hydro.services.scenarios.run_ensemble` (``plan=plan_ref``) runs it."""
    return scenario.model_copy(update={"schedules": {**scenario.schedules, plan_ref: plan}})


# =========================================================================== CSV in and out

def _display_name(filename: str) -> str:
    """The file's base name for messages only (never opened): no folders, printable."""
    base = PurePath(str(filename).replace("\\", "/")).name or "upload"
    return re.sub(r"[^\w.\- ()]", "_", base)[:100]


def parse_upload(content: bytes, filename: str) -> list[ScheduleRow]:
    """Read an uploaded schedule file (``.csv``, UTF-8 or Windows-1251 text; see
    :func:`hydro.release_plans.parse_schedule_csv`).  The file name is used in messages
    only, never as a path.

    Raises
    ------
    hydro.errors.IngestError
        the file is too large (:data:`MAX_UPLOAD_BYTES`), not CSV (by its name or its
        content: a spreadsheet workbook, a binary file), or its rows are invalid (line and
        column named).
    """
    name = _display_name(filename)
    if len(content) > MAX_UPLOAD_BYTES:
        raise IngestError(name, f"the file has {len(content)} bytes, more than the limit of "
                                f"{MAX_UPLOAD_BYTES} bytes for a schedule")
    suffix = PurePath(name).suffix.lower()
    if content[:4] == b"PK\x03\x04" or content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise IngestError(name, "this is a spreadsheet workbook, not CSV; save the sheet as "
                                "CSV (date,release_m3s) and upload that")
    if suffix != ".csv":
        got = f"'{suffix}'" if suffix else "a file without extension"
        raise IngestError(name, f"only CSV files are accepted (.csv), not {got}")
    if b"\x00" in content:
        raise IngestError(name, "the file is binary, not CSV text")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1251")
        except UnicodeDecodeError:
            raise IngestError(name, "the file is not text (UTF-8 or Windows-1251)") from None
    return RP.parse_schedule_csv(text, name)


def export_csv(schedule: ReservoirSchedule) -> str:
    """The CSV of a schedule table (a rule has none: :class:`PlanError`)."""
    if schedule.rule is not None:
        raise PlanError(f"{schedule.reservoir} follows the rule '{schedule.rule}', which has "
                        "no table to export")
    return RP.schedule_csv(schedule.rows)


def read_csv_file(path: str | Path) -> list[ScheduleRow]:
    """A schedule table from a CSV file on disk (the CLI's ``--csv``), with the same checks
    as an upload."""
    p = Path(path)
    try:
        content = p.read_bytes()
    except OSError as e:
        raise IngestError(p, f"cannot read: {e.strerror or e}") from None
    rows = parse_upload(content, p.name if p.suffix else p.name + ".csv")
    return rows
