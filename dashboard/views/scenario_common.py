"""Shared parts of the scenario lab's views (:mod:`dashboard.views.scenarios`,
:mod:`dashboard.views.scenario_results`): the component ids, the role of each callback
output, number and name formatting, small table and panel builders, and the services the
lab calls (:mod:`hydro.services.release_plans`, :mod:`hydro.services.scenario_runs`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
from dash import html

from dashboard import components as ui
from dashboard import format as numfmt
from dashboard.context import AppContext
from dashboard.i18n import N_, t_or
from hydro.config import Config

PATH = "/scenarios"
DOWNLOAD_RULE = "/download/scenario-run/<run_id>.<fmt_>"
DOWNLOAD_FORMATS = {"nc": "application/x-netcdf", "csv": "text/csv",
                    "pdf": "application/pdf"}
#: ensemble sizes the page accepts (the engine takes more from the CLI)
MEMBERS_MIN, MEMBERS_MAX = 1, 5000
#: the grid's columns by table kind: (field, unit key)
MODES = ("release", "target_level", "rule")
RUNS_LISTED = 30
#: catalog keys this page builds at run time (listed for scripts/i18n.py extract)
RUNTIME_KEYS = (
    N_("nav.scenarios"), N_("sc.col.release"), N_("sc.col.target_level"),
    N_("sc.mode.release"), N_("sc.mode.target_level"), N_("sc.mode.rule"),
    N_("sc.forcing.synthetic"), N_("sc.forcing.store"), N_("sc.forcing.netcdf"),
    N_("sc.start.swe"), N_("sc.start.frost_dd"), N_("sc.start.wetness"),
    N_("sc.rule.pass_inflow"), N_("sc.no_level.adverse"), N_("sc.no_level.dangerous"),
    N_("sc.status.queued"), N_("sc.status.running"), N_("sc.status.done"),
    N_("sc.status.failed"), N_("sc.status.cancelled"),
    # hydro.release_plans.ScheduleIssue.message_key
    N_("plan.issue.outlet_capacity"), N_("plan.issue.ramp"), N_("plan.issue.minimum_release"),
    N_("plan.issue.fpu"), N_("plan.issue.fpu_target"), N_("plan.issue.below_umo"),
    N_("plan.issue.dead_storage"),
    # sentences with a service's {error}, said by failure_text
    N_("sc.unknown_plan"), N_("sc.save.failed"), N_("sc.run.failed"),
)


class ScenariosPage(StrEnum):
    TITLE = "scenarios-title"
    LOCATION = "scenarios-location"     # dcc.Store: the page to load (scenario/plan change)
    NAVIGATED = "scenarios-navigated"   # dcc.Store: written by the clientside navigation
    STATE = "scenarios-state"           # dcc.Store: lang, scenario, base plan ref
    SCENARIO = "scenarios-scenario"
    PLAN = "scenarios-plan"
    MEMBERS = "scenarios-members"
    SEED = "scenarios-seed"
    FORCING = "scenarios-forcing"
    START = "scenarios-start"
    # editor
    RESERVOIR = "scenarios-reservoir"
    MODE = "scenarios-mode"
    RULE = "scenarios-rule"
    GRID = "scenarios-grid"
    ADD_ROW = "scenarios-add-row"
    DELETE_ROW = "scenarios-delete-row"
    CHECKS = "scenarios-checks"
    SCHEDULES = "scenarios-schedules"   # dcc.Store: {reservoir: ReservoirSchedule JSON}
    DIRTY = "scenarios-dirty"           # dcc.Store: whether the schedules differ from the plan
    UPLOAD = "scenarios-upload"
    UPLOAD_MESSAGE = "scenarios-upload-message"
    CSV_BUTTON = "scenarios-csv-button"
    CSV_DOWNLOAD = "scenarios-csv-download"
    PLAN_NAME = "scenarios-plan-name"
    PLAN_NOTE = "scenarios-plan-note"
    SAVE = "scenarios-save"
    SAVE_MESSAGE = "scenarios-save-message"
    # runs
    RUN = "scenarios-run"
    CANCEL = "scenarios-cancel"
    PROGRESS = "scenarios-progress"
    RUN_MESSAGE = "scenarios-run-message"
    CANCEL_MESSAGE = "scenarios-cancel-message"
    RUN_ID = "scenarios-run-id"         # dcc.Store: the run just started (triggers the job)
    RUN_DONE = "scenarios-run-done"     # dcc.Store: the run the job finished
    RUN_SELECT = "scenarios-run-select"
    RUNS = "scenarios-runs"
    POLL = "scenarios-poll"             # dcc.Interval: a reopened run still running
    URL_SYNC = "scenarios-url-sync"     # clientside: ?run= in the address bar
    # results
    RESULTS = "scenarios-results"
    GAUGE = "scenarios-gauge"
    FAN = "scenarios-fan"
    # compare, quick question, search
    COMPARE_A = "scenarios-compare-a"
    COMPARE_B = "scenarios-compare-b"
    COMPARE = "scenarios-compare"
    COMPARE_TABLE = "scenarios-compare-table"
    QUICK_RESERVOIR = "scenarios-quick-reservoir"
    QUICK_RELEASE = "scenarios-quick-release"
    QUICK_DATE = "scenarios-quick-date"
    QUICK = "scenarios-quick"
    SEARCH = "scenarios-search"
    SEARCH_RESULT = "scenarios-search-result"
    SEARCH_REQUEST = "scenarios-search-request"  # dcc.Store: a search asked for (audited)
    MEMBERS_SYNC = "scenarios-members-sync"     # clientside: ?members= in the address bar


#: who may write each output (dashboard.auth.declare); READ outputs change nothing
ROLES: dict[str, str] = {
    f"{ScenariosPage.LOCATION}.data": "read", f"{ScenariosPage.NAVIGATED}.data": "read",
    f"{ScenariosPage.GRID}.*": "read", f"{ScenariosPage.MODE}.value": "read",
    f"{ScenariosPage.RULE}.value": "read", f"{ScenariosPage.RULE}.options": "read",
    f"{ScenariosPage.RULE}.disabled": "read", f"{ScenariosPage.SCHEDULES}.data": "read",
    f"{ScenariosPage.DIRTY}.data": "read", f"{ScenariosPage.CHECKS}.children": "read",
    f"{ScenariosPage.UPLOAD_MESSAGE}.children": "read",
    f"{ScenariosPage.UPLOAD}.contents": "read",
    f"{ScenariosPage.CSV_DOWNLOAD}.data": "read",
    f"{ScenariosPage.SAVE_MESSAGE}.children": "forecaster",
    f"{ScenariosPage.RUN_ID}.data": "forecaster",
    f"{ScenariosPage.RUN_MESSAGE}.children": "forecaster",
    f"{ScenariosPage.RUN_DONE}.data": "forecaster",
    f"{ScenariosPage.CANCEL}.id": "forecaster",
    f"{ScenariosPage.CANCEL_MESSAGE}.children": "forecaster",
    f"{ScenariosPage.SEARCH_RESULT}.children": "forecaster",
    f"{ScenariosPage.SEARCH_REQUEST}.data": "forecaster",
    f"{ScenariosPage.MEMBERS_SYNC}.data": "read",
    f"{ScenariosPage.RESULTS}.children": "read", f"{ScenariosPage.POLL}.disabled": "read",
    f"{ScenariosPage.RUN_SELECT}.*": "read", f"{ScenariosPage.RUNS}.children": "read",
    f"{ScenariosPage.COMPARE_A}.options": "read", f"{ScenariosPage.COMPARE_B}.options": "read",
    f"{ScenariosPage.COMPARE_A}.value": "read", f"{ScenariosPage.COMPARE_B}.value": "read",
    f"{ScenariosPage.URL_SYNC}.data": "read", f"{ScenariosPage.FAN}.figure": "read",
    f"{ScenariosPage.COMPARE_TABLE}.children": "read",
}


# =========================================================================== helpers

def _name(names: Any, lang: str, fallback: str = "") -> str:
    """A name in ``lang`` from a :class:`hydro.network.Names` or a ``{lang: name}`` dict."""
    if names is None:
        return fallback
    if isinstance(names, Mapping):
        return str(names.get(lang) or names.get("en") or fallback)
    return str(getattr(names, lang, None) or getattr(names, "en", None) or fallback)


def _station_name(config: Config, station_id: str, lang: str) -> str:
    """``Name (id)`` of a gauge or reservoir of the network (the id alone if unknown)."""
    net = config.network
    node = net.gauges.get(station_id) or net.reservoirs.get(station_id)
    return f"{_name(node.names, lang, station_id)} ({station_id})" if node else station_id


def _num(value: object, lang: str, decimals: int = 0, signed: bool = False) -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return numfmt.DASH
    if not np.isfinite(x):
        return numfmt.DASH
    return numfmt.number(x, lang, decimals, signed=signed, group=True)


def _day(value: object, lang: str) -> str:
    if value is None or value == "":
        return numfmt.DASH
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[D]").item()
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    return numfmt.date(value, lang)  # type: ignore[arg-type]


def _panel(title: str, body: list, component_id: str | None = None,
           help_text: str | None = None) -> html.Div:
    head: list = [html.Div(title, className="section-title")]
    if help_text:
        head.append(html.P(help_text, className="text-muted small mb-2"))
    kwargs: dict[str, Any] = {"id": component_id} if component_id else {}
    return html.Div([*head, *body], className="panel mb-3", **kwargs)


def _number_of(text: object, lang: str) -> float | None:
    """The number a cell written by :func:`_num` / :func:`_pct` shows (``"1 234,5"``,
    ``"−3"``, ``"+12 %"``), for sorting, filtering and the CSV; None when it is no number
    (empty, a dash, a range, a sentence)."""
    from babel.numbers import NumberFormatError, parse_decimal

    raw = str(text).replace(numfmt.MINUS, "-").strip().removesuffix("%").strip()
    if not raw or raw == numfmt.DASH:
        return None
    try:
        return float(parse_decimal(raw.removeprefix("+"), locale=numfmt.locale(lang),
                                   strict=False))
    except (NumberFormatError, ValueError):
        return None


def _table(headers: list[str], rows: list[list], numeric: list[bool] | None,
           table_id: str, lang: str) -> html.Div:
    """A results table as a sortable, filterable grid (:func:`dashboard.components.data_grid`)
    with its CSV export, in a ``Div`` with the id ``table_id``.  A ``numeric`` column whose
    every filled cell is a number (as :func:`_num` / :func:`_pct` write it) sorts, filters
    and exports the numbers and shows the cells as written; the others are text."""
    numeric = numeric or [False] * len(headers)
    fields = [f"c{i}" for i in range(len(headers))]
    records: list[dict[str, Any]] = [{} for _ in rows]
    columns = []
    for i, (header, field, is_num) in enumerate(zip(headers, fields, numeric, strict=True)):
        cells = [str(row[i]) for row in rows]
        values = [_number_of(c, lang) for c in cells]
        as_number = is_num and all(v is not None or c.strip() in ("", numfmt.DASH)
                                   for c, v in zip(cells, values, strict=True))
        for record, cell, value in zip(records, cells, values, strict=True):
            if as_number:
                record[field], record[f"{field}_text"] = value, cell
            else:
                record[field] = cell
        columns.append(ui.GridColumn(header, field, "num" if as_number else "text"))
    return ui.data_grid(table_id, columns, records, lang, f"hydrorisk-{table_id}.csv",
                        class_name="scenario-table")


def failure_text(key: str, lang: str, error: object, **fields: object) -> list:
    """The catalog sentence ``key`` (with an ``{error}`` field) in ``lang``, its ``{error}``
    a service's message in the page's language (:func:`dashboard.reasons.coded_text`: by
    its key or pattern, else quoted as the original English, ``lang="en"``)."""
    from dashboard.reasons import coded_text
    from dashboard.i18n import t

    marker = "\x00"
    before, _, after = t(key, lang, error=marker, **fields).partition(marker)
    return [part for part in (before, *coded_text(str(error), lang), after) if part != ""]


def _store(ctx: AppContext) -> Any:
    """The store handle the services take (the provider's; None without a store)."""
    return getattr(ctx.provider, "engine", None)


def page_href(lang: str, **params: str | None) -> str:
    """``/scenarios?lang=..&...`` with the given (non-empty) parameters."""
    query = {"lang": lang, **{k: v for k, v in params.items() if v}}
    return PATH + "?" + urlencode(query, quote_via=quote, safe="/:@")


# =========================================================================== the services

def _plans():
    from hydro.services import release_plans

    return release_plans


def _runs():
    from hydro.services import scenario_runs

    return scenario_runs


def schedules_to_json(schedules: Mapping[str, Any]) -> dict[str, dict]:
    """``{reservoir: ReservoirSchedule}`` as the page keeps it (``to_json`` per reservoir)."""
    return {rid: s.to_json() for rid, s in schedules.items()}


def schedules_from_json(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Inverse of :func:`schedules_to_json` (a reservoir whose table is empty is left out:
    it follows the base plan)."""
    from hydro.release_plans import ReservoirSchedule

    out = {}
    for rid, item in (data or {}).items():
        if not item or (not item.get("rows") and not item.get("rule")):
            continue
        out[rid] = ReservoirSchedule.from_json(rid, item)
    return out


def _node_name(results: Any, node: str, lang: str) -> str:
    return f"{_name(results.names.get(node), lang, node)} ({node})"


def _scheme(scheme: str, level: str, lang: str) -> str:
    """A level's name in its scheme: ``КЗ ОУ``, ``РФ НЯ`` … (the station page's words)."""
    name = t_or(f"level.{scheme}.{level}", lang, t_or(f"level.generic.{level}", lang, level))
    return f"{t_or(f'sv.scheme.{scheme}', lang, scheme)} {name}" if scheme else name


def _pct(value: object, lang: str, signed: bool = False) -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(x):
        return ""
    return _num(100 * x, lang, 0, signed=signed) + " %"
