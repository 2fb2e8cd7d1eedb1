"""The scenario lab (issue 14): a forecaster picks a scenario (a 2024-style season), edits
the release schedule of each reservoir, runs the ensemble in the background, and compares
plans at every gauge on both sides of the border.

The page, top to bottom:

1. **Scenario** — scenario, base plan, ensemble size, seed and forcing source; the
   starting state (snow, frost, soil wetness percentiles and their probability; the
   reservoirs' starting levels against НПУ/ФПУ).
2. **Schedule editor** — per reservoir an editable table of date → release (m³/s) or
   target level (m), or a rule the scenario file knows; CSV upload (a bad file gets the
   message naming its line and column) and download; live checks (outlet capacity by
   level, ramp, minimum release, ФПУ, УМО) beside the table; saving as a named plan
   (versioned, never overwritten) with a shareable URL ``/scenarios?plan=<id>&version=N``.
3. **Run** — a Dash background callback (:mod:`dashboard.background`: DiskcacheManager)
   runs the kept run (:func:`hydro.services.scenario_runs.execute_run`) with a progress bar
   and a cancel button; a run is in the store, so ``?run=<id>`` reopens it after a reload
   or for a colleague; the list of recent runs.
4. **Results** of the chosen run — fan chart per gauge against every threshold scheme,
   exceedance probability and days above, storage vs НПУ/ФПУ with release and spill,
   travel times, holdout vs the unregulated flow, the pre-flood drawdown check; downloads
   (NetCDF, CSV, PDF in the page's language) from the protected route
   ``/download/scenario-run/<run_id>.<nc|csv|pdf>?lang=``.
5. **Compare** two runs per gauge; the quick question "release X m³/s from date D"; the
   schedule search with its objective in plain words and units.

Everything goes through :mod:`hydro.services.release_plans` and
:mod:`hydro.services.scenario_runs`.  Roles: viewing needs a login; running, saving plans,
the quick question and the search need ``forecaster`` — declared per callback output with
:func:`dashboard.auth.declare` (checked on the server before a callback runs) and checked
again inside the callbacks with :func:`dashboard.auth.require`.

This module holds the page, the editor and the callbacks; the results, compare and search
views are in :mod:`dashboard.views.scenario_results`, the ids, roles and shared helpers in
:mod:`dashboard.views.scenario_common`.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import flask
import numpy as np
from dash import Input, Output, State, dcc, html, no_update

from dashboard import background
from dashboard import components as ui
from dashboard import format as numfmt
from dashboard.context import AppContext, of_app
from dashboard.i18n import t, t_or
from dashboard.reasons import coded_text
from dashboard.views.scenario_common import (
    DOWNLOAD_FORMATS,
    DOWNLOAD_RULE,
    MEMBERS_MAX,
    MEMBERS_MIN,
    MODES,
    ROLES,
    RUNS_LISTED,
    ScenariosPage,
    _day,
    _name,
    _num,
    _panel,
    _plans,
    _runs,
    _station_name,
    _store,
    _table,
    failure_text,
    page_href,
    schedules_from_json,
    schedules_to_json,
)
from dashboard.views.scenario_results import (
    compare_view,
    fan_figure,
    results_view,
    run_status_view,
    search_view,
)
from hydro.config import Config
from hydro.errors import HydroriskError

log = logging.getLogger(__name__)


# =========================================================================== render

def render(ctx: AppContext, lang: str, scenario: str | None = None, plan: str | None = None,
           version: str | None = None, run: str | None = None,
           members: str | None = None) -> html.Div:
    """The scenario lab for the URL's ``scenario``, ``plan`` (a file plan or a saved plan
    id), ``version`` (of a saved plan), ``run`` (a kept run to show) and ``members`` (the
    ensemble size in the form; the scenario's own when absent or out of range)."""
    config = ctx.config
    store = _store(ctx)
    P = _plans()
    notes: list = []
    try:
        choices = P.scenario_choices(config)
    except HydroriskError as e:
        return html.Div([html.H1(t("sc.title", lang), className="page-title"),
                         dbc.Alert(coded_text(str(e), lang), color="danger")],
                        className="scenarios-page")
    if not choices:
        return html.Div([html.H1(t("sc.title", lang), className="page-title"),
                         dbc.Alert(t("sc.none", lang), color="info")],
                        className="scenarios-page")
    by_id = {c.id: c for c in choices}
    # a saved plan names its scenario: the plan wins over ?scenario=
    plan_ref = plan or "default"
    if plan and "/" in plan:
        plan_ref = plan.split("@", 1)[0] + (f"@{version}" if version and "@" not in plan
                                            else ("@" + plan.split("@", 1)[1]
                                                  if "@" in plan else ""))
        scenario = plan.split("/", 1)[0]
    if scenario and scenario not in by_id:
        notes.append(dbc.Alert(t("sc.unknown_scenario", lang, scenario=scenario),
                               color="warning", id="scenarios-notice"))
        scenario = None
    choice = by_id[scenario] if scenario else choices[0]
    saved_plans = []
    if store is not None:
        try:
            saved_plans = P.list_plans(store, choice.id, latest_only=True)
        except HydroriskError as e:   # the store is older than the plans table
            log.warning("saved plans unavailable: %s", e)
    try:
        schedules = P.plan_table(config, choice.id, plan_ref, store=store)
        saved = P.get_plan(store, plan_ref) if "/" in plan_ref and store is not None else None
    except HydroriskError as e:
        notes.append(dbc.Alert(failure_text("sc.unknown_plan", lang, e, plan=plan_ref),
                               color="warning", id="scenarios-notice"))
        plan_ref, saved = "default", None
        schedules = P.plan_table(config, choice.id, "default", store=store)
    if saved is not None:
        plan_ref = saved.ref
    checks = _safe_checks(config, choice.id, schedules)
    reservoirs = list(choice.reservoirs)
    first = reservoirs[0] if reservoirs else None
    data = schedules_to_json(schedules)
    state = {"lang": lang, "scenario": choice.id, "plan": plan_ref, "base": data,
             "start": choice.start.isoformat(), "days": choice.days}
    banner = [ui.synthetic_banner(lang)] if choice.synthetic else []
    return html.Div([
        *banner,
        html.H1(t("sc.title", lang), id=ScenariosPage.TITLE, className="page-title"),
        html.P(t("sc.intro", lang), className="text-muted"),
        *notes,
        dcc.Store(id=ScenariosPage.LOCATION),
        dcc.Store(id=ScenariosPage.NAVIGATED),
        dcc.Store(id=ScenariosPage.STATE, data=state),
        dcc.Store(id=ScenariosPage.SCHEDULES, data=data),
        dcc.Store(id=ScenariosPage.DIRTY, data=False),
        dcc.Store(id=ScenariosPage.RUN_ID),
        dcc.Store(id=ScenariosPage.RUN_DONE),
        dcc.Store(id=ScenariosPage.URL_SYNC),
        dcc.Store(id=ScenariosPage.MEMBERS_SYNC),
        dcc.Store(id=ScenariosPage.SEARCH_REQUEST),
        _setup_panel(config, choice, choices, saved_plans, plan_ref, saved, lang,
                     _members(members, choice.members)),
        _editor_panel(config, choice, schedules, first, checks, saved, lang),
        _run_panel(ctx, choice, run, lang),
        html.Div(id=ScenariosPage.RESULTS),
        _compare_panel(choice, lang),
    ], className="scenarios-page", lang=lang)


def _members(text: str | None, default: int) -> int:
    """The ensemble size of the URL's ``?members=`` when it is a whole number in
    [:data:`MEMBERS_MIN`, :data:`MEMBERS_MAX`], else ``default`` (the scenario's)."""
    try:
        n = int(str(text).strip())
    except (TypeError, ValueError):
        return default
    return n if MEMBERS_MIN <= n <= MEMBERS_MAX else default


def _safe_checks(config: Config, scenario_id: str, schedules: Mapping[str, Any]
                 ) -> dict[str, list] | str:
    """The live checks, or the error text when the schedules cannot be checked."""
    try:
        return _plans().check(config, scenario_id, schedules)
    except (HydroriskError, ValueError) as e:
        return str(e)


# ---------------------------------------------------------------- 1. scenario and start

def _forcing_options(config: Config, lang: str) -> tuple[list[dict], str]:
    """The forcing sources a run may use: the configured one (``_forcing.toml``) and the
    synthetic demonstration climate (always available); other kinds need their own table
    in ``_forcing.toml`` first."""
    from hydro.services.forcing import FORCING_SOURCES, load_forcing_source

    try:
        source = load_forcing_source(config)
        configured = next(k for k, cls in FORCING_SOURCES.items() if isinstance(source, cls))
    except Exception:  # noqa: BLE001 - the page shows the choice; a run reports the error
        configured = "synthetic"
    kinds = [configured] + (["synthetic"] if configured != "synthetic" else [])
    return ([{"label": t_or(f"sc.forcing.{k}", lang, k)
              + (f" ({t('sc.forcing.configured', lang)})" if k == configured else ""),
              "value": k} for k in kinds], configured)


def _setup_panel(config: Config, choice: Any, choices: Sequence[Any], saved_plans: Sequence[Any],
                 plan_ref: str, saved: Any, lang: str, members: int) -> html.Div:
    scenario_options = [{"label": _name(c.names, lang, c.id), "value": c.id} for c in choices]
    plan_options = [{"label": f"{name} — {t('sc.plan.file', lang)}", "value": name}
                    for name in choice.plans]
    plan_options += [{"label": f"{p.name} v{p.version} — {p.author}", "value": p.ref}
                     for p in saved_plans]
    if saved is not None and saved.ref not in {o["value"] for o in plan_options}:
        plan_options.append({"label": f"{saved.name} v{saved.version} — {saved.author}",
                             "value": saved.ref})
    forcing_options, forcing = _forcing_options(config, lang)
    description = choice.plan_description(plan_ref.split("@")[0], lang) if "/" not in plan_ref else (
        saved.note if saved is not None else "")
    controls = dbc.Row([
        dbc.Col([dbc.Label(t("sc.scenario", lang), html_for=ScenariosPage.SCENARIO),
                 dbc.Select(id=ScenariosPage.SCENARIO, options=scenario_options,
                            value=choice.id)], md=4),
        dbc.Col([dbc.Label(t("sc.plan", lang), html_for=ScenariosPage.PLAN),
                 dbc.Select(id=ScenariosPage.PLAN, options=plan_options, value=plan_ref)],
                md=3),
        dbc.Col([dbc.Label(t("sc.members", lang), html_for=ScenariosPage.MEMBERS),
                 dbc.Input(id=ScenariosPage.MEMBERS, type="number", min=MEMBERS_MIN,
                           max=MEMBERS_MAX, step=1, value=members)], md=1),
        dbc.Col([dbc.Label(t("sc.seed", lang), html_for=ScenariosPage.SEED),
                 dbc.Input(id=ScenariosPage.SEED, type="number", min=0, step=1,
                           placeholder=t("sc.seed.default", lang))], md=2),
        dbc.Col([dbc.Label(t("sc.forcing", lang), html_for=ScenariosPage.FORCING),
                 dbc.Select(id=ScenariosPage.FORCING, options=forcing_options,
                            value=forcing)], md=2),
    ], className="g-2 mb-2")
    period = t("sc.period", lang, start=numfmt.date(choice.start, lang),
               end=numfmt.date(choice.start + dt.timedelta(days=choice.days - 1), lang),
               days=choice.days)
    return _panel(t("sc.setup", lang), [
        controls,
        html.P([period, html.Br(), html.Span(description or "", className="text-muted small",
                                             id="scenarios-plan-description")],
               className="mb-2"),
        _start_state(config, choice, lang),
    ], "scenarios-setup")


def _start_state(config: Config, choice: Any, lang: str) -> html.Div:
    """Snow, frost and soil wetness at the start (percentiles of the calibration years and
    the probability of a start at least as extreme) and the reservoirs' starting levels."""
    from hydro.services.scenarios import load_scenario

    sc = load_scenario(config, choice.id)
    s = sc.season
    exceed = s.exceedance()
    rows = [[t(f"sc.start.{key}", lang), _num(getattr(s, f"{pct}_percentile"), lang, 0),
             _num(exceed[key], lang, 2)]
            for key, pct in (("swe", "swe"), ("frost_dd", "frost"), ("wetness", "wetness"))]
    joint = s.joint_exceedance()
    state = _table([t("sc.start.variable", lang), t("sc.start.percentile", lang),
                    t("sc.start.p_exceed", lang)], rows, [False, True, True],
                   "scenarios-start-state", lang)
    res_rows = []
    for rid, start in sc.reservoirs.items():
        res = config.network.reservoirs.get(rid)
        if res is None:
            continue
        if start.initial_level is not None:
            level = start.initial_level.to("elevation")
        else:
            assert start.initial_volume is not None     # the scenario file gives one of them
            level = res.storage_table.level_at(start.initial_volume.to("volume"))
        release = (start.initial_release.to("discharge") if start.initial_release is not None
                   else None)
        res_rows.append([_station_name(config, rid, lang), _num(level, lang, 2),
                         _num(res.npu.to("elevation"), lang, 2),
                         _num(res.fpu.to("elevation"), lang, 2),
                         _num(res.umo.to("elevation"), lang, 2), _num(release, lang, 0)])
    reservoirs = _table([t("sc.col.reservoir", lang), t("sc.col.level_start", lang),
                         t("sc.col.npu", lang), t("sc.col.fpu", lang), t("sc.col.umo", lang),
                         t("sc.col.release_start", lang)], res_rows,
                        [False, True, True, True, True, True],
                        "scenarios-start-reservoirs", lang)
    return html.Div([
        dbc.Row([
            dbc.Col([html.Div(t("sc.start.title", lang), className="fw-semibold mb-1"), state,
                     html.P(t("sc.start.joint", lang, p=_num(joint, lang, 6),
                              years=_num(1 / joint if joint > 0 else None, lang, 0)),
                            className="small", id="scenarios-start-probability")], lg=5),
            dbc.Col([html.Div(t("sc.start.reservoirs", lang), className="fw-semibold mb-1"),
                     reservoirs], lg=7),
        ]),
    ], id=ScenariosPage.START)


# ---------------------------------------------------------------- 2. schedule editor

def grid_rows(schedule: Any) -> list[dict]:
    """The editor's rows of a schedule table (``date`` ISO, ``value`` m³/s or m)."""
    if schedule is None or schedule.rule is not None:
        return []
    return [{"date": r.date.isoformat(), "value": r.value} for r in schedule.rows]


def grid_columns(mode: str, lang: str) -> list[dict]:
    """Date and value columns; the value's header names its unit."""
    value_key = "sc.col.target_level" if mode == "target_level" else "sc.col.release"
    editable = mode != "rule"
    return [
        {"field": "date", "headerName": t("sc.col.date", lang), "editable": editable,
         "cellEditor": "agTextCellEditor", "minWidth": 170, "flex": 1,
         "checkboxSelection": editable},
        {"field": "value", "headerName": t(value_key, lang), "editable": editable,
         "type": "numericColumn", "cellEditor": "agNumberCellEditor", "minWidth": 150,
         "flex": 1,
         "valueFormatter": {"function": "params.value == null ? '' : String(params.value)"
                            + (".replace('.', ',')" if lang in ("kk", "ru") else "")}},
    ]


def _mode_of(schedule: Any) -> str:
    return "rule" if schedule is None or schedule.rule is not None else schedule.kind


def _rule_options(choice: Any, rid: str | None, lang: str) -> list[dict]:
    names = choice.rules.get(rid, []) if rid else []
    return [{"label": t_or(f"sc.rule.{n}", lang, n), "value": n} for n in names]


def _editor_panel(config: Config, choice: Any, schedules: Mapping[str, Any], rid: str | None,
                  checks: Mapping[str, list] | str, saved: Any, lang: str) -> html.Div:
    if rid is None:
        return _panel(t("sc.editor", lang), [html.P(t("sc.no_reservoirs", lang))],
                      "scenarios-editor")
    schedule = schedules.get(rid)
    mode = _mode_of(schedule)
    reservoir_options = [{"label": f"{_name(n, lang, r)} ({r})", "value": r}
                         for r, n in choice.reservoirs.items()]
    mode_options = [{"label": t(f"sc.mode.{m}", lang), "value": m} for m in MODES]
    grid = dag.AgGrid(
        id=ScenariosPage.GRID, columnDefs=grid_columns(mode, lang),
        rowData=grid_rows(schedule),
        defaultColDef={"resizable": True, "sortable": False},
        dashGridOptions={"domLayout": "autoHeight", "singleClickEdit": True,
                         "stopEditingWhenCellsLoseFocus": True,
                         "rowSelection": "multiple", "suppressRowClickSelection": True,
                         "localeText": ui.grid_locale_text(lang)},
        style={"width": "100%"}, className="ag-theme-alpine schedule-grid")
    upload = dcc.Upload(
        id=ScenariosPage.UPLOAD, multiple=False, max_size=_plans().MAX_UPLOAD_BYTES,
        children=html.Div([t("sc.upload", lang), " ",
                           html.Span(t("sc.upload.format", lang), className="text-muted")]),
        className="upload-box", style={"border": "1px dashed #999", "borderRadius": "4px",
                                       "padding": "6px 10px", "cursor": "pointer"})
    name_default = saved.name if saved is not None else ""
    save_row = dbc.Row([
        dbc.Col([dbc.Label(t("sc.plan_name", lang), html_for=ScenariosPage.PLAN_NAME),
                 dbc.Input(id=ScenariosPage.PLAN_NAME, value=name_default, maxLength=64,
                           placeholder="iriklinsk-early", pattern="[a-z0-9][a-z0-9_-]*")],
                md=3),
        dbc.Col([dbc.Label(t("sc.plan_note", lang), html_for=ScenariosPage.PLAN_NOTE),
                 dbc.Input(id=ScenariosPage.PLAN_NOTE, maxLength=500)], md=6),
        dbc.Col(dbc.Button(t("sc.save", lang), id=ScenariosPage.SAVE, color="primary",
                           className="mt-4"), md=3),
    ], className="g-2")
    left = [
        dbc.Row([
            dbc.Col([dbc.Label(t("sc.reservoir", lang), html_for=ScenariosPage.RESERVOIR),
                     dbc.Select(id=ScenariosPage.RESERVOIR, options=reservoir_options,
                                value=rid)], md=6),
            dbc.Col([dbc.Label(t("sc.mode", lang)),
                     dbc.RadioItems(id=ScenariosPage.MODE, options=mode_options, value=mode,
                                    inline=True)], md=6),
        ], className="g-2 mb-2"),
        html.Div([dbc.Label(t("sc.rule", lang), html_for=ScenariosPage.RULE),
                  dbc.Select(id=ScenariosPage.RULE, options=_rule_options(choice, rid, lang),
                             value=schedule.rule if schedule is not None else None,
                             disabled=mode != "rule")],
                 className="mb-2"),
        grid,
        html.Div([
            dbc.Button(t("sc.add_row", lang), id=ScenariosPage.ADD_ROW, size="sm",
                       color="secondary", outline=True, className="me-1"),
            dbc.Button(t("sc.delete_rows", lang), id=ScenariosPage.DELETE_ROW, size="sm",
                       color="secondary", outline=True, className="me-1"),
            dbc.Button(t("sc.download_csv", lang), id=ScenariosPage.CSV_BUTTON, size="sm",
                       color="primary", outline=True),
            dcc.Download(id=ScenariosPage.CSV_DOWNLOAD),
        ], className="mt-2 mb-2"),
        upload,
        html.Div(id=ScenariosPage.UPLOAD_MESSAGE, className="mt-2"),
    ]
    right = [html.Div(t("sc.checks", lang), className="fw-semibold mb-1"),
             html.Div(checks_view(config, choice, checks, lang), id=ScenariosPage.CHECKS)]
    return _panel(t("sc.editor", lang), [
        dbc.Row([dbc.Col(left, lg=6), dbc.Col(right, lg=6)]),
        html.Hr(),
        save_row,
        html.Div(id=ScenariosPage.SAVE_MESSAGE, className="mt-2"),
    ], "scenarios-editor", t("sc.editor.help", lang))


def issue_message(issue: Any, lang: str) -> str:
    """An issue of the live checks in ``lang`` (:class:`hydro.release_plans.ScheduleIssue`:
    its ``message_key`` with its ``values``; numbers in the page's notation)."""
    v = dict(issue.values)
    until = v.get("until")
    first = numfmt.date(issue.date, lang)
    span = first if not until or until == issue.date.isoformat() else t(
        "sc.issue.span", lang, first=first, last=_day(until, lang), days=v.get("days", ""))
    fields = {"span": span}
    for key, value in v.items():
        if isinstance(value, float | int) and key not in ("days",):
            fields[key] = _num(value, lang, 2 if key.endswith("_m") else 0)
    try:
        return t(issue.message_key, lang, **{**v, **fields})
    except (KeyError, IndexError, ValueError):
        from hydro.release_plans import issue_text

        return issue_text(issue)


def checks_view(config: Config, choice: Any, checks: Mapping[str, list] | str,
                lang: str) -> list:
    """The live checks per reservoir: an issue per line, or "no problems found"."""
    if isinstance(checks, str):
        return [dbc.Alert(coded_text(checks, lang), color="danger",
                          className="py-1 small mb-1")]
    out: list = []
    for rid, issues in checks.items():
        name = _name(choice.reservoirs.get(rid), lang, rid)
        if not issues:
            out.append(html.Div([html.Span("✓ ", className="text-success"),
                                 t("sc.checks.ok", lang, reservoir=name)],
                                className="small mb-1 check-ok"))
            continue
        out.append(html.Div(name, className="small fw-semibold"))
        out.append(html.Ul([html.Li(issue_message(i, lang), className=f"check-{i.kind}")
                            for i in issues], className="small mb-2 check-issues"))
    return out or [html.P(t("sc.checks.none", lang), className="small text-muted")]


# ---------------------------------------------------------------- 3. runs

def _run_label(run: Any, lang: str) -> str:
    """``<plan> · <members> · <author> · <time> · <status>`` of a kept run."""
    when = f"{numfmt.date(run.created_at, lang)} {run.created_at:%H:%M}" \
        if run.created_at else ""
    return (f"{run.plan_ref} · {run.members} {t('sc.members.short', lang)} · "
            f"{run.author} · {when} UTC · {t_or(f'sc.status.{run.status}', lang, run.status)}")


def _run_list(ctx: AppContext, scenario_id: str) -> list:
    store = _store(ctx)
    if store is None:
        return []
    try:
        return list(_runs().list_runs(store, scenario_id))[:RUNS_LISTED]
    except HydroriskError as e:
        log.warning("runs unavailable: %s", e)
        return []


def _run_panel(ctx: AppContext, choice: Any, run: str | None, lang: str) -> html.Div:
    runs = _run_list(ctx, choice.id)
    options = [{"label": _run_label(r, lang), "value": r.run_id} for r in runs]
    if run and run not in {o["value"] for o in options}:
        options.insert(0, {"label": run, "value": run})
    controls = html.Div([
        dbc.Button(t("sc.run", lang), id=ScenariosPage.RUN, color="success", className="me-2"),
        dbc.Button(t("sc.cancel", lang), id=ScenariosPage.CANCEL, color="danger",
                   outline=True, disabled=True, className="me-2"),
        html.Span(t("sc.run.help", lang), className="text-muted small"),
    ], className="mb-2")
    return _panel(t("sc.runs", lang), [
        controls,
        dbc.Progress(id=ScenariosPage.PROGRESS, value=0, label="", striped=True,
                     className="mb-2", style={"height": "22px"}),
        html.Div(id=ScenariosPage.RUN_MESSAGE),
        html.Div(id=ScenariosPage.CANCEL_MESSAGE),
        dbc.Row([
            dbc.Col([dbc.Label(t("sc.run.show", lang), html_for=ScenariosPage.RUN_SELECT),
                     dbc.Select(id=ScenariosPage.RUN_SELECT, options=options,
                                value=run or (options[0]["value"] if options else None),
                                placeholder=t("sc.run.none", lang))], lg=12),
        ], className="g-2"),
        dcc.Interval(id=ScenariosPage.POLL, interval=1500, disabled=True),
        html.Div(id=ScenariosPage.RUNS),
    ], "scenarios-run-panel")


# ---------------------------------------------------------------- 5. compare and questions

def _compare_panel(choice: Any, lang: str) -> html.Div:
    reservoir_options = [{"label": f"{_name(n, lang, r)} ({r})", "value": r}
                         for r, n in choice.reservoirs.items()]
    compare = dbc.Row([
        dbc.Col([dbc.Label(t("sc.compare.a", lang), html_for=ScenariosPage.COMPARE_A),
                 dbc.Select(id=ScenariosPage.COMPARE_A, options=[])], md=5),
        dbc.Col([dbc.Label(t("sc.compare.b", lang), html_for=ScenariosPage.COMPARE_B),
                 dbc.Select(id=ScenariosPage.COMPARE_B, options=[])], md=5),
        dbc.Col(dbc.Button(t("sc.compare.button", lang), id=ScenariosPage.COMPARE,
                           color="primary", className="mt-4"), md=2),
    ], className="g-2 mb-2")
    quick = dbc.Row([
        dbc.Col([dbc.Label(t("sc.reservoir", lang), html_for=ScenariosPage.QUICK_RESERVOIR),
                 dbc.Select(id=ScenariosPage.QUICK_RESERVOIR, options=reservoir_options,
                            value=reservoir_options[0]["value"] if reservoir_options
                            else None)], md=4),
        dbc.Col([dbc.Label(t("sc.quick.release", lang), html_for=ScenariosPage.QUICK_RELEASE),
                 dbc.Input(id=ScenariosPage.QUICK_RELEASE, type="number", min=0, step="any",
                           value=201)], md=3),
        dbc.Col([dbc.Label(t("sc.quick.from", lang), html_for=ScenariosPage.QUICK_DATE),
                 dbc.Input(id=ScenariosPage.QUICK_DATE, type="date",
                           value=(choice.start + dt.timedelta(days=9)).isoformat(),
                           min=choice.start.isoformat(),
                           max=(choice.start + dt.timedelta(days=choice.days - 1)).isoformat())],
                md=3),
        dbc.Col(dbc.Button(t("sc.quick.button", lang), id=ScenariosPage.QUICK,
                           color="success", outline=True, className="mt-4"), md=2),
    ], className="g-2 mb-2")
    return html.Div([
        _panel(t("sc.compare", lang), [
            compare, dcc.Loading(html.Div(id=ScenariosPage.COMPARE_TABLE))],
            "scenarios-compare-panel", t("sc.compare.help", lang)),
        _panel(t("sc.quick", lang), [quick], "scenarios-quick-panel",
               t("sc.quick.help", lang)),
        _panel(t("sc.search", lang), [
            dbc.Button(t("sc.search.button", lang), id=ScenariosPage.SEARCH, color="primary",
                       outline=True),
            dcc.Loading(html.Div(id=ScenariosPage.SEARCH_RESULT, className="mt-2"))],
            "scenarios-search-panel", t("sc.search.help", lang)),
    ])


# =========================================================================== callbacks (pure)

def _reservoir(config: Config, rid: str) -> Any:
    return config.network.reservoirs[rid]


def _new_table(config: Config, rid: str, mode: str, start: dt.date) -> Any:
    """A one-row table to start from when the user switches a reservoir to a table: the
    minimum release (m³/s) or НПУ (m) from the season's first day."""
    from hydro.release_plans import ReservoirSchedule, ScheduleRow

    res = _reservoir(config, rid)
    row = (ScheduleRow(start, release_m3s=float(res.min_release.to("discharge")))
           if mode == "release" else ScheduleRow(start, target_level_m=float(
               res.npu.to("elevation"))))
    return ReservoirSchedule(rid, (row,))


def rows_to_schedule(rid: str, mode: str, rows: Sequence[Mapping[str, Any]], lang: str
                     ) -> Any:
    """The edited grid as a schedule (rows sorted by date; a blank row ignored).

    Raises
    ------
    ValueError
        naming the row (1-based, as the grid shows it) and column of a bad cell: not a
        date, not a number, a negative release, a date given twice.
    """
    from hydro.release_plans import ReservoirSchedule, ScheduleRow

    parsed = []
    for k, row in enumerate(rows, start=1):
        d, v = row.get("date"), row.get("value")
        if (d in (None, "")) and (v in (None, "")):
            continue
        try:
            day = dt.date.fromisoformat(str(d).strip()[:10])
        except ValueError:
            raise ValueError(t("sc.grid.bad_date", lang, row=k, value=d)) from None
        try:
            x = float(str(v).replace(",", ".").replace("\u00a0", "").replace(" ", ""))
        except ValueError:
            raise ValueError(t("sc.grid.bad_number", lang, row=k, value=v)) from None
        if not np.isfinite(x):
            raise ValueError(t("sc.grid.bad_number", lang, row=k, value=v))
        if mode == "release" and x < 0:
            raise ValueError(t("sc.grid.negative", lang, row=k, value=_num(x, lang, 1)))
        parsed.append((day, x, k))
    if not parsed:
        raise ValueError(t("sc.grid.empty", lang))
    parsed.sort()
    for (a, _, _), (b, _, k) in zip(parsed, parsed[1:], strict=False):
        if a == b:
            raise ValueError(t("sc.grid.duplicate", lang, row=k, value=b.isoformat()))
    return ReservoirSchedule(rid, tuple(
        ScheduleRow(day, release_m3s=x) if mode == "release" else ScheduleRow(day, target_level_m=x)
        for day, x, _ in parsed))


def upload_error_text(error: Exception, lang: str) -> list:
    """The message of a refused upload in ``lang``: the file, line and column, then the
    reason — the parser's English text translated by its pattern
    (:func:`dashboard.reasons.coded_text`, as the data-status page does), or quoted as the
    original English (``lang="en"``) when no pattern knows it."""
    from dashboard.reasons import coded_text

    line, column = getattr(error, "line", None), getattr(error, "column", None)
    reason = getattr(error, "reason", None) or str(error)
    where = []
    if line is not None:
        where.append(t("sc.upload.line", lang, line=line))
    if column:
        where.append(t("sc.upload.column", lang, column=column))
    head = t("sc.upload.refused", lang, file=getattr(error, "path", ""))
    return [f"{head} {', '.join(where)}{': ' if where else ' '}", *coded_text(reason, lang)]


def edit_schedules(config: Config, state: Mapping[str, Any], trigger: str | None,
                   reservoir: str | None, mode: str | None, rule: str | None,
                   rows: Sequence[Mapping[str, Any]] | None, selected: Sequence[Mapping] | None,
                   upload: str | None, upload_name: str | None,
                   data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The editor's answer to one change (the editor callback's body).

    ``trigger`` is the id of the component that changed; returns ``rows``, ``columns``,
    ``mode``, ``rule``, ``data`` (the schedules JSON), ``dirty``, ``checks`` (components),
    ``message`` (components or None) — values to leave unchanged are ``no_update``.
    """
    lang = state["lang"]
    choice = next(c for c in _plans().scenario_choices(config) if c.id == state["scenario"])
    schedules = schedules_from_json(data)
    message: Any = None
    rid: str = (reservoir if isinstance(reservoir, str) and reservoir in choice.reservoirs
                else next(iter(choice.reservoirs)))
    current = schedules.get(rid)
    start = dt.date.fromisoformat(state["start"])
    out_mode: Any = no_update
    out_rule: Any = no_update
    try:
        if trigger == ScenariosPage.RESERVOIR:
            pass
        elif trigger == ScenariosPage.MODE:
            if mode == "rule":
                names = choice.rules.get(rid, [])
                chosen = rule if rule in names else (names[0] if names else None)
                if chosen is not None:
                    from hydro.release_plans import ReservoirSchedule

                    schedules[rid] = ReservoirSchedule(rid, rule=chosen)
                    out_rule = chosen
            elif current is None or current.kind != mode:
                schedules[rid] = _new_table(config, rid, str(mode), start)
        elif trigger == ScenariosPage.RULE and rule:
            from hydro.release_plans import ReservoirSchedule

            schedules[rid] = ReservoirSchedule(rid, rule=rule)
            out_mode = "rule"
        elif trigger in (ScenariosPage.GRID, ScenariosPage.ADD_ROW, ScenariosPage.DELETE_ROW):
            table_mode = _mode_of(current) if current is not None else "release"
            if table_mode == "rule":
                table_mode = "release"
            grid = [dict(r) for r in rows or []]
            if trigger == ScenariosPage.ADD_ROW:
                last = max((r for r in grid if r.get("date")), default=None,
                           key=lambda r: str(r["date"]))
                day = (dt.date.fromisoformat(str(last["date"])[:10]) + dt.timedelta(days=1)
                       if last else start)
                grid.append({"date": day.isoformat(),
                             "value": last["value"] if last else None})
            elif trigger == ScenariosPage.DELETE_ROW:
                gone = {(str(r.get("date")), r.get("value")) for r in selected or []}
                grid = [r for r in grid if (str(r.get("date")), r.get("value")) not in gone]
            schedules[rid] = rows_to_schedule(rid, table_mode, grid, lang)
            out_mode = table_mode
        elif trigger == ScenariosPage.UPLOAD and upload:
            content = base64.b64decode(upload.split(",", 1)[1] if "," in upload else upload)
            parsed = _plans().parse_upload(content, upload_name or "upload.csv")
            from hydro.release_plans import ReservoirSchedule

            schedules[rid] = ReservoirSchedule(rid, tuple(parsed))
            out_mode = schedules[rid].kind
            message = dbc.Alert(t("sc.upload.ok", lang, rows=len(parsed),
                                  reservoir=_name(choice.reservoirs[rid], lang, rid)),
                                color="success", className="py-1 small",
                                id="scenarios-upload-ok")
    except HydroriskError as e:
        message = dbc.Alert(upload_error_text(e, lang), color="danger", className="py-1 small",
                            id="scenarios-upload-error")
        return {"rows": no_update, "columns": no_update, "mode": no_update, "rule": no_update,
                "data": no_update, "dirty": no_update, "checks": no_update, "message": message}
    except ValueError as e:
        message = dbc.Alert(str(e), color="danger", className="py-1 small",
                            id="scenarios-grid-error")
        return {"rows": no_update, "columns": no_update, "mode": no_update, "rule": no_update,
                "data": no_update, "dirty": no_update, "checks": no_update, "message": message}
    schedule = schedules.get(rid)
    mode_now = _mode_of(schedule)
    if trigger == ScenariosPage.RESERVOIR:
        out_mode = mode_now
        out_rule = schedule.rule if schedule is not None and schedule.rule else None
    new_data = schedules_to_json(schedules)
    checks = _safe_checks(config, choice.id, schedules)
    return {"rows": grid_rows(schedule), "columns": grid_columns(mode_now, lang),
            "mode": out_mode, "rule": out_rule, "data": new_data,
            "dirty": new_data != state.get("base"),
            "checks": checks_view(config, choice, checks, lang), "message": message}


# =========================================================================== callbacks

def _lang_of(state: Mapping[str, Any] | None) -> str:
    return str((state or {}).get("lang") or "en")


def save_plan(ctx: AppContext, author: str, party: str | None, state: Mapping[str, Any],
              name: str | None, note: str | None, data: Mapping[str, Any] | None) -> Any:
    """Save the edited schedules as the next version of plan ``name``; the message with
    the plan's shareable link (the save callback's body; the caller checked the role)."""
    lang = _lang_of(state)
    P = _plans()
    store = _store(ctx)
    try:
        saved = P.save_plan(store, ctx.config, state["scenario"], (name or "").strip(),
                            schedules_from_json(data), author, (note or "").strip(), party)
    except (HydroriskError, ValueError) as e:
        return dbc.Alert(failure_text("sc.save.failed", lang, e), color="danger",
                         className="py-1", id="scenarios-save-error")
    href = page_href(lang, plan=saved.id, version=str(saved.version))
    return dbc.Alert([t("sc.save.done", lang, plan=saved.id, version=saved.version), " ",
                      html.A(href, href=href, id="scenarios-plan-link")],
                     color="success", className="py-1", id="scenarios-save-done")


def start(ctx: AppContext, author: str, party: str | None, state: Mapping[str, Any],
          trigger: str | None, members: object, seed: object, forcing: str | None,
          data: Mapping[str, Any] | None, dirty: bool, plan_name: str | None,
          quick: tuple[object, object, object]) -> tuple[str | None, Any]:
    """Queue a run (the start callback's body): the page's schedules — the base plan when
    unchanged, else saved first as the next version of the plan named in the form
    (``draft`` when none) so the run's plan has an id — or the quick question's plan.
    Returns (run id, message)."""
    lang = _lang_of(state)
    R = _runs()
    store = _store(ctx)
    try:
        n = int(members)  # type: ignore[call-overload]
        s = int(seed) if seed not in (None, "") else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None, dbc.Alert(t("sc.run.bad_numbers", lang), color="danger", className="py-1")
    if not MEMBERS_MIN <= n <= MEMBERS_MAX:
        return None, dbc.Alert(t("sc.run.members_range", lang, low=MEMBERS_MIN,
                                 high=MEMBERS_MAX), color="danger", className="py-1")
    try:
        if trigger == ScenariosPage.QUICK:
            reservoir, release, day = quick
            try:
                q = float(release)  # type: ignore[arg-type]
                when = dt.date.fromisoformat(str(day))
            except (TypeError, ValueError):
                return None, dbc.Alert(t("sc.quick.bad", lang), color="danger",
                                       className="py-1", id="scenarios-quick-error")
            run = R.quick_release(ctx.config, store, state["scenario"], str(reservoir), q, when,
                                  state["plan"], n, s, author=author, forcing=forcing)
        else:
            plan_ref = state["plan"]
            if dirty:
                plan_ref = _plan_for_run(ctx, state, data, plan_name, author, party, lang)
            run = R.start_run(ctx.config, store, state["scenario"], plan_ref, n, s,
                              author=author, forcing=forcing)
    except (HydroriskError, ValueError) as e:
        return None, dbc.Alert(failure_text("sc.run.failed", lang, e), color="danger",
                               className="py-1", id="scenarios-run-error")
    return run.run_id, dbc.Alert(t("sc.run.started", lang, run=run.run_id, plan=run.plan_ref,
                                   members=run.members), color="info", className="py-1",
                                 id="scenarios-run-started")


def _plan_for_run(ctx: AppContext, state: Mapping[str, Any], data: Mapping[str, Any] | None,
                  plan_name: str | None, author: str, party: str | None, lang: str) -> str:
    """The saved plan a run of edited schedules uses: the latest version of the plan named
    in the form when it holds exactly these schedules, else a new version of it (of
    ``draft`` when no name is given)."""
    P = _plans()
    store = _store(ctx)
    name = (plan_name or "").strip() or "draft"
    schedules = schedules_from_json(data)
    try:
        latest = P.get_plan(store, f"{state['scenario']}/{name}")
    except HydroriskError:
        latest = None
    if latest is not None and schedules_to_json(latest.schedules) == schedules_to_json(schedules):
        return latest.ref
    return P.save_plan(store, ctx.config, state["scenario"], name, schedules, author,
                       t("sc.run.autosave", lang), party).ref


def request_search(ctx: AppContext, author: str, state: Mapping[str, Any],
                   forcing: str | None, clicks: object = None) -> dict[str, Any]:
    """Record that ``author`` asked for the schedule search of the page's scenario (audit
    action ``scenario_run``, target ``search:<scenario>``) and return the request the
    search job starts from (the search callback's trigger; the caller checked the role)."""
    from hydro.services import audit

    store = _store(ctx)
    if store is not None:
        audit.record(store, "scenario_run", author, target=f"search:{state['scenario']}",
                     detail=f"schedule search of {state['scenario']}, forcing "
                            f"{forcing or 'configured'}")
    return {"scenario": state["scenario"], "forcing": forcing, "author": author,
            "clicks": clicks}


def runs_view(ctx: AppContext, state: Mapping[str, Any], run_id: str | None) -> dict[str, Any]:
    """The results area for ``run_id`` and the run lists (the results callback's body):
    ``results``, ``poll_disabled``, ``options`` (runs of the scenario), ``value``."""
    lang = _lang_of(state)
    R = _runs()
    runs = _run_list(ctx, state["scenario"])
    options = [{"label": _run_label(r, lang), "value": r.run_id} for r in runs]
    if not run_id:
        return {"results": [], "poll_disabled": True, "options": options, "value": None}
    store = _store(ctx)
    run = R.get_run(store, run_id) if store is not None else None
    if run is None:
        return {"results": dbc.Alert(t("sc.run.unknown", lang, run=run_id), color="warning",
                                     id="scenarios-run-unknown"),
                "poll_disabled": True, "options": options, "value": run_id}
    if run.status != "done":
        return {"results": run_status_view(run, lang),
                "poll_disabled": run.final, "options": options, "value": run_id}
    try:
        results = R.run_results(ctx.config, store, run_id)
    except (HydroriskError, ValueError) as e:
        return {"results": dbc.Alert(coded_text(str(e), lang), color="danger"),
                "poll_disabled": True,
                "options": options, "value": run_id}
    return {"results": results_view(results, lang), "poll_disabled": True,
            "options": options, "value": run_id}


def download(ctx: AppContext, run_id: str, fmt_: str, lang: str) -> flask.Response:
    """A finished run as NetCDF, CSV or a PDF summary in ``lang`` (any logged-in user)."""
    R = _runs()
    store = _store(ctx)
    if fmt_ not in DOWNLOAD_FORMATS or store is None:
        flask.abort(404)
    run = R.get_run(store, run_id)
    if run is None:
        flask.abort(404)
    try:
        if fmt_ == "nc":
            body = R.run_netcdf(ctx.config, run).read_bytes()
        elif fmt_ == "csv":
            body = R.run_csv(ctx.config, store, run_id).encode("utf-8-sig")
        else:
            body = R.run_summary_pdf(ctx.config, store, run_id, lang)
    except HydroriskError as e:
        return flask.Response(str(e), status=409, mimetype="text/plain")
    response = flask.Response(body, mimetype=DOWNLOAD_FORMATS[fmt_])
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)
    name = f"hydrorisk-run-{safe}" + (f"-{lang}" if fmt_ == "pdf" else "") + f".{fmt_}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


#: replace ``?run=`` in the address bar without reloading (a reload reopens the run)
URL_SYNC_JS = """
function(run) {
    if (!run) { return window.dash_clientside.no_update; }
    const url = new URL(window.location.href);
    if (url.searchParams.get('run') !== run) {
        url.searchParams.set('run', run);
        window.history.replaceState(window.history.state, '', url.toString());
    }
    return run;
}
"""


#: replace ``?members=`` in the address bar (a valid size only) so a reload keeps it
MEMBERS_SYNC_JS = """
function(members) {
    const n = Number(members);
    if (!Number.isInteger(n) || n < MIN || n > MAX) {
        return window.dash_clientside.no_update;
    }
    const url = new URL(window.location.href);
    if (url.searchParams.get('members') !== String(n)) {
        url.searchParams.set('members', String(n));
        window.history.replaceState(window.history.state, '', url.toString());
    }
    return n;
}
""".replace("MIN", str(MEMBERS_MIN)).replace("MAX", str(MEMBERS_MAX))


NAVIGATE_JS = """
function(href) {
    if (href) { window.location.assign(href); }
    return href || window.dash_clientside.no_update;
}
"""


def register_callbacks(app: dash.Dash) -> None:
    """The lab's callbacks (roles declared per output, :data:`ROLES`), its background job
    manager (:mod:`dashboard.background`) and the download route."""
    from dashboard import auth

    for pattern, role in ROLES.items():
        auth.declare(app, pattern, auth.READ if role == "read" else role)

    S = ScenariosPage

    @app.callback(Output(S.LOCATION, "data"), Input(S.SCENARIO, "value"),
                  Input(S.PLAN, "value"), State(S.STATE, "data"), State(S.MEMBERS, "value"),
                  prevent_initial_call=True)
    def on_choose(scenario, plan, state, members):
        # from what differs from the rendered page, not from the trigger alone; another
        # plan of the same scenario keeps the ensemble size the form holds
        lang = _lang_of(state)
        if scenario and scenario != state.get("scenario"):
            return page_href(lang, scenario=scenario)
        if plan and plan != state.get("plan"):
            size = _members(str(members), 0) if members not in (None, "") else 0
            return page_href(lang, scenario=state.get("scenario"), plan=plan,
                             members=str(size) if size else None)
        return no_update

    @app.callback(
        Output(S.GRID, "rowData"), Output(S.GRID, "columnDefs"), Output(S.MODE, "value"),
        Output(S.RULE, "value"), Output(S.RULE, "options"), Output(S.RULE, "disabled"),
        Output(S.SCHEDULES, "data"),
        Output(S.DIRTY, "data"), Output(S.CHECKS, "children"),
        Output(S.UPLOAD_MESSAGE, "children"), Output(S.UPLOAD, "contents"),
        Input(S.RESERVOIR, "value"), Input(S.MODE, "value"), Input(S.RULE, "value"),
        Input(S.GRID, "cellValueChanged"), Input(S.ADD_ROW, "n_clicks"),
        Input(S.DELETE_ROW, "n_clicks"), Input(S.UPLOAD, "contents"),
        State(S.UPLOAD, "filename"), State(S.GRID, "rowData"), State(S.GRID, "selectedRows"),
        State(S.SCHEDULES, "data"), State(S.STATE, "data"), prevent_initial_call=True)
    def on_edit(reservoir, mode, rule, _changed, _add, _delete, upload, filename, rows,
                selected, data, state):
        ctx = of_app(app)
        trigger = dash.ctx.triggered_id
        out = edit_schedules(ctx.config, state, trigger, reservoir, mode, rule, rows, selected,
                             upload, filename, data)
        choice = next(c for c in _plans().scenario_choices(ctx.config)
                      if c.id == state["scenario"])
        options = _rule_options(choice, reservoir, _lang_of(state)) \
            if trigger == S.RESERVOIR else no_update
        disabled = no_update if out["columns"] is no_update else not out["columns"][0]["editable"]
        return (out["rows"], out["columns"], out["mode"], out["rule"], options, disabled,
                out["data"],
                out["dirty"], out["checks"], out["message"],
                None if trigger == S.UPLOAD else no_update)

    @app.callback(Output(S.CSV_DOWNLOAD, "data"), Input(S.CSV_BUTTON, "n_clicks"),
                  State(S.RESERVOIR, "value"), State(S.SCHEDULES, "data"),
                  State(S.STATE, "data"), prevent_initial_call=True)
    def on_csv(_n, reservoir, data, state):
        schedule = schedules_from_json(data).get(reservoir)
        if schedule is None or schedule.rule is not None:
            return no_update
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(reservoir))
        return {"content": _plans().export_csv(schedule),
                "filename": f"{state['scenario']}-{safe}.csv", "type": "text/csv"}

    @app.callback(Output(S.SAVE_MESSAGE, "children"), Input(S.SAVE, "n_clicks"),
                  State(S.PLAN_NAME, "value"), State(S.PLAN_NOTE, "value"),
                  State(S.SCHEDULES, "data"), State(S.STATE, "data"),
                  prevent_initial_call=True)
    def on_save(_n, name, note, data, state):
        account = auth.require("forecaster")
        return save_plan(of_app(app), account.name, account.party, state, name, note, data)

    @app.callback(Output(S.RUN_ID, "data"), Output(S.RUN_MESSAGE, "children"),
                  Input(S.RUN, "n_clicks"), Input(S.QUICK, "n_clicks"),
                  State(S.MEMBERS, "value"), State(S.SEED, "value"), State(S.FORCING, "value"),
                  State(S.SCHEDULES, "data"), State(S.DIRTY, "data"), State(S.PLAN_NAME, "value"),
                  State(S.QUICK_RESERVOIR, "value"), State(S.QUICK_RELEASE, "value"),
                  State(S.QUICK_DATE, "value"), State(S.STATE, "data"),
                  prevent_initial_call=True)
    def on_start(_run, _quick, members, seed, forcing, data, dirty, plan_name, q_res, q_rel,
                 q_day, state):
        account = auth.require("forecaster")
        run_id, message = start(of_app(app), account.name, account.party, state,
                                dash.ctx.triggered_id, members, seed, forcing, data,
                                bool(dirty), plan_name, (q_res, q_rel, q_day))
        return (run_id if run_id else no_update), message

    @app.callback(
        Output(S.RUN_DONE, "data"), Input(S.RUN_ID, "data"),
        background=True, manager=background.manager(of_app(app).config),
        progress=[Output(S.PROGRESS, "value"), Output(S.PROGRESS, "label")],
        running=[(Output(S.RUN, "disabled"), True, False),
                 (Output(S.QUICK, "disabled"), True, False),
                 (Output(S.CANCEL, "disabled"), False, True)],
        prevent_initial_call=True)
    def on_execute(set_progress, run_id):
        # a job process forked from the server: the role was checked on the request that
        # started it (ROLES: forecaster); the store's pooled connections are the parent's
        ctx = of_app(app)
        store = _store(ctx)
        if not run_id or store is None:
            return no_update
        dispose = getattr(store, "dispose", None)
        if callable(dispose):
            dispose(close=False)
        set_progress((0, "0 %"))

        def progress(done: int, total: int) -> None:
            pct = round(100 * done / total) if total else 0
            set_progress((pct, f"{done}/{total} · {pct} %"))

        run = _runs().execute_run(ctx.config, store, run_id, progress)
        return {"run_id": run_id, "status": run.status}

    @app.callback(Output(S.CANCEL_MESSAGE, "children"), Input(S.CANCEL, "n_clicks"),
                  State(S.RUN_ID, "data"), State(S.STATE, "data"), prevent_initial_call=True)
    def on_cancel(_n, run_id, state):
        account = auth.require("forecaster")
        if not run_id:
            return no_update
        _runs().request_cancel(_store(of_app(app)), run_id, account.name)
        return dbc.Alert(t("sc.cancel.requested", _lang_of(state)), color="warning",
                         className="py-1", id="scenarios-cancel-requested")

    @app.callback(
        Output(S.RESULTS, "children"), Output(S.POLL, "disabled"),
        Output(S.RUN_SELECT, "options"), Output(S.RUN_SELECT, "value"),
        Output(S.COMPARE_A, "options"), Output(S.COMPARE_B, "options"),
        Input(S.RUN_DONE, "data"), Input(S.RUN_SELECT, "value"), Input(S.POLL, "n_intervals"),
        State(S.STATE, "data"))
    def on_results(done, selected, _tick, state):
        run_id = done["run_id"] if dash.ctx.triggered_id == S.RUN_DONE and done else selected
        out = runs_view(of_app(app), state, run_id)
        finished = [o for o in out["options"]]
        return (out["results"], out["poll_disabled"], out["options"], out["value"], finished,
                finished)

    app.clientside_callback(URL_SYNC_JS, Output(S.URL_SYNC, "data"),
                            Input(S.RUN_SELECT, "value"))
    app.clientside_callback(MEMBERS_SYNC_JS, Output(S.MEMBERS_SYNC, "data"),
                            Input(S.MEMBERS, "value"), prevent_initial_call=True)
    # a full load of the chosen scenario or plan (a dcc.Location(refresh=True) here went
    # back to its first URL once the address had been replaced with ?run=)
    app.clientside_callback(NAVIGATE_JS, Output(S.NAVIGATED, "data"),
                            Input(S.LOCATION, "data"), prevent_initial_call=True)

    @app.callback(Output(S.FAN, "figure"), Input(S.GAUGE, "value"),
                  State(S.RUN_SELECT, "value"), State(S.STATE, "data"),
                  prevent_initial_call=True)
    def on_gauge(gauge, run_id, state):
        ctx = of_app(app)
        if not gauge or not run_id:
            return no_update
        results = _runs().run_results(ctx.config, _store(ctx), run_id)
        if gauge not in results.fan:
            return no_update
        return fan_figure(results, gauge, _lang_of(state))

    @app.callback(Output(S.COMPARE_TABLE, "children"), Input(S.COMPARE, "n_clicks"),
                  State(S.COMPARE_A, "value"), State(S.COMPARE_B, "value"),
                  State(S.STATE, "data"), prevent_initial_call=True)
    def on_compare(_n, a, b, state):
        lang = _lang_of(state)
        if not a or not b:
            return dbc.Alert(t("sc.compare.choose", lang), color="info", className="py-1")
        ctx = of_app(app)
        try:
            table = _runs().compare_runs(ctx.config, _store(ctx), a, b)
        except (HydroriskError, ValueError) as e:
            return dbc.Alert(coded_text(str(e), lang), color="danger", className="py-1",
                             id="scenarios-compare-error")
        return compare_view(table, lang)

    @app.callback(Output(S.SEARCH_REQUEST, "data"), Input(S.SEARCH, "n_clicks"),
                  State(S.STATE, "data"), State(S.FORCING, "value"),
                  prevent_initial_call=True)
    def on_search_request(n, state, forcing):
        # on the request (the logged-in account is known here, not in the job): audited
        account = auth.require("forecaster")
        return request_search(of_app(app), account.name, state, forcing, n)

    @app.callback(Output(S.SEARCH_RESULT, "children"), Input(S.SEARCH_REQUEST, "data"),
                  State(S.STATE, "data"), State(S.FORCING, "value"),
                  background=True, manager=background.manager(of_app(app).config),
                  running=[(Output(S.SEARCH, "disabled"), True, False)],
                  prevent_initial_call=True)
    def on_search(_request, state, forcing):
        # a background job: the role (forecaster) was checked on the request that asked
        # for it (on_search_request, which wrote the audit record)
        ctx = of_app(app)
        store = _store(ctx)
        dispose = getattr(store, "dispose", None)
        if callable(dispose):
            dispose(close=False)
        lang = _lang_of(state)
        try:
            out = _runs().search_plain(ctx.config, store, state["scenario"], forcing=forcing)
        except (HydroriskError, ValueError) as e:
            return dbc.Alert(coded_text(str(e), lang), color="danger", className="py-1")
        return search_view(ctx.config, state["scenario"], out, lang)

    def serve(run_id: str, fmt_: str) -> flask.Response:
        lang = flask.request.args.get("lang") or of_app(app).default_language
        return download(of_app(app), run_id, fmt_, lang if lang in ("kk", "ru", "en") else "en")

    app.server.add_url_rule(DOWNLOAD_RULE, "scenario_run_download", serve)


__all__ = ["ScenariosPage", "ROLES", "render", "register_callbacks", "edit_schedules",
           "rows_to_schedule", "save_plan", "start", "runs_view", "results_view",
           "compare_view", "search_view", "download", "checks_view", "issue_message",
           "upload_error_text", "grid_rows", "grid_columns", "page_href", "request_search"]
