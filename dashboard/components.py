"""Layout builders for the stations page: report rows + language in, Dash components out;
and :func:`data_grid`, the sortable, filterable grid (with a CSV export of the rows its
filters leave) that every data table of the dashboard is -- the data-status, commission,
quality, station and scenario pages.  The bulletin's table is the one exception: it keeps
the published bulletin's layout (basin group rows) and has its own CSV/PDF/HTML downloads.

Nothing here reads data or decides a category; it only formats what
:mod:`dashboard.status` (and through it :mod:`hydro.warning`) worked out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import format as fmt
from dashboard.figures import STATE_COLORS
from dashboard.i18n import has, query_string, t, t_or
from dashboard.ids import Stations
from dashboard.status import (
    SILENT,
    SUMMARY_ORDER,
    GaugeRow,
    ReservoirRow,
    StationReport,
    compared_level,
)
from dashboard.timequery import Notice
from hydro.warning import LevelMargin, StageClassification, WarningStatus

MINUS = "\u2212"
DASH = "—"


# --------------------------------------------------------------------------- formatting

def fmt_number(value: float | None, decimals: int = 0, signed: bool = False,
               lang: str = "en") -> str:
    """``1134``, ``−40``, ``+31`` (with ``signed``), ``245,50`` in kk and ru; an em dash
    for a missing value (:func:`dashboard.format.number`)."""
    return fmt.number(value, lang, decimals, signed=signed)


def fmt_discharge(value: float | None, lang: str = "en") -> str:
    """Discharge, m³/s, to three significant figures at most (0.123, 12.3, 1234)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    mag = abs(value)
    decimals = 0 if mag >= 100 else 1 if mag >= 10 else 2
    return fmt_number(value, decimals, lang=lang)


def fmt_local(time: dt.datetime | None, lang: str = "en") -> str:
    """``2024-04-12 08:00`` (``12.04.2024 08:00`` in kk and ru); a daily value (local
    midnight) as the date alone (:func:`dashboard.format.date_time`)."""
    return fmt.date_time(time, lang)


def river_name(river: str, lang: str) -> str:
    return t_or(f"river.{river}", lang, river)


def state_label(state: str, lang: str) -> str:
    return t(f"status.{state}", lang)


def level_name(margin: LevelMargin, lang: str) -> str:
    """"НЯ", "ОЯ", "ОУ" ... for a level of a scheme."""
    return t_or(f"level.{margin.scheme}.{margin.level}", lang,
                t_or(f"level.generic.{margin.level}", lang, margin.level))


def status_marker(status: str, lang: str) -> str | None:
    """"est."/"conflicting"/"synthetic" for a level that is not published, else None."""
    if status == "published":
        return None
    return t_or(f"marker.{status}", lang, status)


def level_cell(margin: LevelMargin | None, lang: str, reference: bool = False) -> list:
    """``ОЯ 930`` with an "est."/"conflicting" marker and the level's provenance on hover."""
    if margin is None:
        return [DASH]
    th = margin.threshold
    label = level_name(margin, lang)
    value = fmt_number(margin.value_cm, lang=lang)
    in_force_by = getattr(th, "in_force_by", None)
    if lang == "en":
        title = t("level.tooltip", lang, label=label, value=value,
                  set_by=getattr(th, "set_by", ""), basis=getattr(th, "basis", ""),
                  source=getattr(th, "source", ""))
        if in_force_by is not None:
            title += "; " + t("level.in_force_by", lang, date=fmt.date(in_force_by, lang))
        note = getattr(th, "note", "")
        if note:
            title += f" ({note})"
    else:
        # config/thresholds.toml's basis and note are English prose: kk and ru name the
        # level's standing in their own words instead, and quote the source as cited, last
        set_by = getattr(th, "set_by", "")
        title = t("level.tooltip.local", lang, label=label, value=value,
                  standing=t_or(f"marker.{margin.status}", lang, margin.status),
                  set_by=t_or(f"setby.{set_by}", lang, set_by))
        if in_force_by is not None:
            title += "; " + t("level.in_force_by", lang, date=fmt.date(in_force_by, lang))
        title += "; " + t("level.source", lang, source=getattr(th, "source", ""))
    classes = "level-value" + (" level-ref" if reference else "") + \
        (" level-reached" if margin.reached else "")
    parts: list = [html.Span(f"{label} {fmt_number(margin.value_cm, lang=lang)}", title=title,
                             className=classes)]
    marker = status_marker(margin.status, lang)
    if marker:
        parts.append(html.Span(marker, className=f"level-marker marker-{margin.status}",
                               title=title))
    return parts


def levels_cell(classification: StageClassification, lang: str) -> list:
    """Every category-setting level in force, lowest first; the one compared against in bold.

    Impact marks are left to the status cell; a gauge without levels gets a dash.
    """
    margins = [m for m in classification.margins if m.sets_category]
    if not margins:
        return [DASH]
    ref = compared_level(classification)
    parts: list = []
    for m in margins:
        parts.append(html.Div(level_cell(m, lang, reference=ref is not None and m is ref),
                              className="level-line"))
    return parts


def state_badge(state: str, lang: str, text: str | None = None) -> html.Span:
    return html.Span(text or state_label(state, lang), className=f"state-badge state-{state}")


# --------------------------------------------------------------------------- page parts

def synthetic_banner(lang: str) -> dbc.Alert:
    return dbc.Alert(t("synthetic.banner", lang), id=Stations.BANNER, color="danger",
                     className="synthetic-banner mb-3")


def summary_row(report: StationReport, lang: str, active: str | None = None) -> html.Div:
    """One tile per station state, then ice-affected, each with its count.  A state's tile
    is a button that filters the tables to that state (``active``: the state filtered,
    marked by the container's class, :func:`summary_class`)."""
    counts = report.counts()
    tiles = []
    # role is not an identifier of html.Div's signature: it goes through **kwargs
    attrs: dict[str, Any] = {"role": "button"}
    for state in SUMMARY_ORDER:
        tiles.append(html.Div(
            [html.Div(str(counts[state]), className="tile-count"),
             html.Div(state_label(state, lang), className="tile-label")],
            className=f"summary-tile tile-button tile-{state}"
                      + (" tile-zero" if not counts[state] else ""),
            style={"borderLeftColor": STATE_COLORS[state]},
            id=f"summary-{state}", n_clicks=0, tabIndex="0",
            title=t("filter.tile_help", lang), **attrs,
        ))
    tiles.append(html.Div(
        [html.Div(str(counts["ice"]), className="tile-count"),
         html.Div(t("summary.ice", lang), className="tile-label")],
        className="summary-tile tile-ice" + (" tile-zero" if not counts["ice"] else ""),
        id="summary-ice",
    ))
    return html.Div(
        [html.Div(t("summary.title", lang, n=len(report.stations)), className="section-title"),
         html.Div(tiles, className="summary-tiles")],
        id=Stations.SUMMARY, className=summary_class(active))


def summary_class(active: str | None) -> str:
    """The tiles' container class: ``filter-<state>`` marks the tile of the state filtered."""
    return "mb-3" + (f" status-filtered filter-{active}" if active else "")


def status_filter_model(state: str | None) -> dict:
    """The grids' ``filterModel`` showing only the stations in ``state`` (their hidden
    ``state`` column); every station for None."""
    if not state:
        return {}
    return {"state": {"filterType": "text", "type": "equals", "filter": state}}


def filter_note(state: str | None, lang: str, clear_id: str) -> list:
    """"Tables filtered: Dangerous" with a "Show all" button (hidden without a filter)."""
    text = t("filter.active", lang, state=state_label(state, lang)) if state else ""
    return [html.Span(text, className="filter-text"),
            dbc.Button(t("filter.clear", lang), id=clear_id, size="sm", color="link",
                       className="filter-clear", n_clicks=0,
                       style=None if state else {"display": "none"})]


def _state_col(lang: str) -> dict:
    """The hidden column the status tiles filter on (the state key of each row)."""
    return {"headerName": t("col.status", lang), "field": "state", "colId": "state",
            "hide": True, "filter": "agTextColumnFilter", "suppressColumnsToolPanel": True}


def _worst_row(rows: Sequence[GaugeRow]) -> GaugeRow | None:
    live = [r for r in rows if r.has_data and not r.silent]
    if live:
        return max(live, key=lambda r: r.classification.status)
    with_data = [r for r in rows if r.has_data]
    return max(with_data, key=lambda r: r.time or dt.datetime.min) if with_data else None


def attention_list(report: StationReport, lang: str) -> html.Div:
    """Stations at a warning level or silent, most urgent first, with the key numbers."""
    items = []
    for s in report.attention():
        detail: list[str] = []
        if s.kind == "gauge":
            row = _worst_row(report.gauge_rows(s.station_id))
            if row is not None and s.state == SILENT:
                detail.append(t("status.silent_since", lang,
                                date=fmt.date(row.local_time, lang)))
            elif row is not None:
                c = row.classification
                detail.append(t("unit.cm_value", lang, value=fmt_number(row.stage_cm, lang=lang)))
                ref = compared_level(c)
                if ref is not None:
                    detail.append(f"{level_name(ref, lang)} "
                                  f"{fmt_number(ref.value_cm, lang=lang)}: "
                                  f"{fmt_number(ref.remaining_cm, signed=True, lang=lang)}")
                if row.change_cm_per_day is not None:
                    detail.append(t("attention.rate", lang,
                                    rate=fmt_number(row.change_cm_per_day, signed=True, lang=lang)))
        else:
            res = report.reservoir_row(s.station_id)
            if s.state == SILENT:
                detail.append(t("status.silent_since", lang,
                                date=fmt.date(res.local_time, lang)))
            else:
                detail.append(t("attention.reservoir", lang, level=fmt_number(res.level_m, 2, lang=lang),
                                npu=fmt_number(res.npu_m, 2, lang=lang)))
        label = state_label(s.state, lang)
        if s.kind == "reservoir" and s.state in ("adverse", "dangerous"):
            label = t(f"reservoir.status.{s.state}", lang)
        items.append(html.Li(
            [state_badge(s.state, lang, label),
             html.Span(s.names.get(lang), className="attention-name"),
             html.Span(" · ".join(detail), className="attention-detail")],
            className="attention-item"))
    body = html.Ul(items, className="attention-list") if items else \
        html.P(t("attention.none", lang), className="text-muted mb-0")
    return html.Div([html.Div(t("attention.title", lang), className="section-title"), body],
                    id=Stations.ATTENTION)


# --------------------------------------------------------------------------- gauge table

def _status_cell(row: GaugeRow, lang: str) -> list:
    c = row.classification
    if not row.has_data:
        text = t("cell.no_party_data", lang) if row.border else None
        return [state_badge("no_data", lang),
                html.Div(text, className="cell-note") if text else None]
    if row.silent:
        return [state_badge(SILENT, lang),
                html.Div(t("status.silent_since", lang, date=fmt.date(row.local_time, lang)),
                         className="cell-note")]
    parts: list = [state_badge(c.status.value, lang)]
    if c.provisional and c.status is not WarningStatus.NOT_ASSESSED:
        parts.append(html.Div(t("status.provisional", lang), className="cell-note provisional"))
    for m in c.impacts_reached:
        parts.append(html.Div(t("cell.impact_reached", lang, value=fmt_number(m.value_cm, lang=lang)),
                              className="cell-note"))
    return parts


def _ice_cell(row: GaugeRow, lang: str) -> list:
    parts: list = []
    if row.phenomena:
        parts.append(html.Span(t_or(f"phen.{row.phenomena}", lang, row.phenomena)))
    if row.ice and row.has_data:
        parts.append(html.Span(t("qc.ICE", lang), className="ice-badge",
                               title=t("cell.ice_affected", lang)))
    return parts or [""]


def _stage_cell(row: GaugeRow, lang: str) -> list:
    parts: list = [fmt_number(row.stage_cm, lang=lang)]
    for flag in row.other_flags:
        parts.append(html.Span(t_or(f"qc.{flag}", lang, flag), className="qc-flag"))
    return parts


def _discharge_cell(row: GaugeRow, lang: str = "en") -> list:
    parts: list = [fmt_discharge(row.discharge_m3s, lang=lang)]
    q_day = row.discharge_local_date
    stage_day = row.local_time.date() if row.local_time else None
    if q_day is not None and row.stage_cm is not None and q_day != stage_day:
        parts.append(html.Div(fmt.date(q_day, lang), className="cell-note"))
    return parts


# --------------------------------------------------------------------------- reservoirs

def _with_marker(text: str, estimated: bool, lang: str) -> list:
    parts: list = [text]
    if estimated:
        parts.append(html.Span(t("marker.estimate", lang), className="level-marker "
                                                                      "marker-estimate"))
    return parts


def _release_cell(row: ReservoirRow, lang: str) -> list:
    """The controlled release (outflow − spill); without a spill of the same day, the total
    outflow marked as such, so it is never taken for the release."""
    if row.release_m3s is not None or row.outflow_m3s is None:
        return [fmt_discharge(row.release_m3s, lang=lang)]
    return [fmt_discharge(row.outflow_m3s, lang=lang),
            html.Div(t("cell.outflow_total", lang), className="cell-note")]


def _reservoir_status(row: ReservoirRow, lang: str) -> list:
    if not row.has_data:
        return [state_badge("no_data", lang)]
    if row.silent:
        return [state_badge(SILENT, lang),
                html.Div(t("status.silent_since", lang, date=fmt.date(row.local_time, lang)),
                         className="cell-note")]
    state = row.classification.status.value
    label = t(f"reservoir.status.{state}", lang) if state in ("adverse", "dangerous") \
        else state_label(state, lang)
    parts: list = [state_badge(state, lang, label)]
    if row.classification.provisional:
        parts.append(html.Div(t("status.provisional", lang), className="cell-note provisional"))
    return parts


# --------------------------------------------------------------------------- grids

#: ag-grid's own texts (filter menus, "no rows") that the page may show, by ag-grid key;
#: their words are the catalog's ``grid.locale.<key>``
GRID_LOCALE_KEYS = ("contains", "notContains", "equals", "notEqual", "startsWith",
                    "endsWith", "blank", "notBlank", "lessThan", "greaterThan",
                    "lessThanOrEqual", "greaterThanOrEqual", "inRange", "inRangeStart",
                    "inRangeEnd", "andCondition", "orCondition", "filterOoo", "noRowsToShow",
                    "noMatchingRows",
                    "loadingOoo", "applyFilter", "resetFilter", "clearFilter",
                    "cancelFilter", "ariaFilterInput", "ariaFilterValue", "ariaFilterList",
                    "ariaFilteringOperator", "ariaColumnFilter", "ariaSearch",
                    "columnFilter", "sortAscending", "sortDescending", "sortUnSort",
                    # the pager's buttons and labels ("1 to 20 of 44", "Page 1 of 3")
                    "firstPage", "lastPage", "nextPage", "previousPage", "page", "of", "to",
                    "more", "pageSizeSelectorLabel", "ariaPageSizeSelectorLabel",
                    "ariaFilterMenuOpen")
STATE_KEYS = ("dangerous", "adverse", "low_water_dangerous", "normal", "not_assessed",
              "silent", "no_data")


def _plain(parts: Any) -> str:
    """The text of a cell's components, pieces joined by " · " (the hover titles left out)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if node is None:
            return
        if isinstance(node, str):
            if node:
                out.append(node)
        elif isinstance(node, (int, float)):
            out.append(str(node))
        elif isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
        elif hasattr(node, "to_plotly_json"):
            walk(getattr(node, "children", None))
    walk(parts)
    return " · ".join(out)


def plain_text(parts: Any) -> str:
    """The text of components (a grid cell holds text, not components): the strings and
    numbers joined as written, a quotation (``html.Q``) in quotation marks."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            out.append(str(node))
        elif isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
        elif isinstance(node, html.Q):
            out.append("“")
            walk(node.children)
            out.append("”")
        elif hasattr(node, "to_plotly_json"):
            walk(getattr(node, "children", None))
    walk(parts)
    return "".join(out)


def _titles(parts: Any) -> str:
    """The hover titles of a cell's components, one per line, without repeats."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
        elif hasattr(node, "to_plotly_json"):
            title = getattr(node, "title", None)
            if isinstance(title, str) and title not in out:
                out.append(title)
            walk(getattr(node, "children", None))
    walk(parts)
    return "\n".join(out)


def _iso(time: dt.datetime | None) -> str | None:
    return time.isoformat(timespec="minutes") if time is not None else None


def _column(header: str, field: str, kind: str = "text", help_text: str | None = None,
            **extra: Any) -> dict:
    """A grid column headed ``header``, sorted and filtered on ``field``.  ``kind``:
    "num"  -- shows ``<field>_text`` (the locale's notation), filters, sorts and exports the
              number itself;
    "time" -- sorted on the ISO time in ``field``, shown and filtered as ``<field>_text``;
    "link" -- ``field`` holds markdown (``[text](href)``), rendered as a link;
    "text" -- the value as it is."""
    col: dict[str, Any] = {"headerName": header, "field": field, "colId": field}
    if help_text:
        col["headerTooltip"] = help_text
    if kind == "num":
        col.update(filter="agNumberColumnFilter", type="rightAligned", minWidth=92,
                   valueFormatter={"function": f"params.data.{field}_text"})
    elif kind == "time":   # sorted on the ISO time, shown and filtered as written
        col.update(valueFormatter={"function": f"params.data.{field}_text"},
                   cellDataType="text", filter="agTextColumnFilter",
                   filterValueGetter={"function": f"params.data.{field}_text"})
    elif kind == "link":
        col.update(cellRenderer="markdown", cellDataType="text",
                   filterValueGetter={"function": f"hydroriskMarkdownText(params.data.{field})"})
    elif kind != "text":
        raise ValueError(f"grid column {field!r}: unknown kind {kind!r} "
                         "(expected text, num, time or link)")
    col.update(extra)
    return col


def _col(key: str, lang: str, field: str, kind: str = "text", **extra: Any) -> dict:
    """A grid column: header ``t(key)`` (its ``.help`` on hover), sorted and filtered on
    ``field``; "num" columns show ``<field>_text`` (the locale's notation) and filter and
    export the number itself."""
    help_text = t(f"{key}.help", lang) if has(f"{key}.help") else None
    return _column(t(key, lang), field, kind, help_text, **extra)


def grid_locale_text(lang: str) -> dict[str, str]:
    """ag-grid's ``localeText`` in ``lang`` (filter menus, "no rows", the pager)."""
    return {k: t(f"grid.locale.{k}", lang) for k in GRID_LOCALE_KEYS}


#: what every data grid's columns share: sortable, filtered in a row under the headers
GRID_DEFAULT_COL: dict[str, Any] = {
    "sortable": True, "filter": True, "resizable": True,
    "wrapText": True, "autoHeight": True, "minWidth": 70,
    "wrapHeaderText": True, "autoHeaderHeight": True,
    # filters in a row under the headers: the headers keep their width
    "floatingFilter": True, "suppressHeaderFilterButton": True,
    "suppressHeaderMenuButton": True,
    "filterParams": {"buttons": ["reset"]}}

#: a CSV cell a spreadsheet would read as a formula gets a leading ' (hydrorisk-grid.js;
#: the server-side CSVs do the same with hydro.services.audit.safe_cell)
CSV_SAFE_CELL = {"function": "hydroriskCsvCell(params)"}


def _ag_grid(grid_id: Any, columns: list[dict], rows: list[dict], lang: str, file_name: str,
             row_rules: dict[str, str], class_name: str, **extra: Any) -> Any:
    return dag.AgGrid(
        id=grid_id, columnDefs=columns, rowData=rows,
        defaultColDef=dict(GRID_DEFAULT_COL),
        dashGridOptions={"domLayout": "autoHeight", "rowClassRules": row_rules,
                         "tooltipShowDelay": 300, "enableCellTextSelection": True,
                         "localeText": grid_locale_text(lang),
                         "suppressDragLeaveHidesColumns": True},
        columnSize="responsiveSizeToFit",
        csvExportParams={"fileName": file_name, "processCellCallback": CSV_SAFE_CELL},
        className=f"ag-theme-quartz {class_name}", style={"width": "100%"}, **extra,
    )


def _grid(grid_id: str, columns: list[dict], rows: list[dict], lang: str, file_name: str,
          status_filter: str | None = None) -> Any:
    row_rules = {f"state-{s}": f"params.data.state === '{s}'" for s in STATE_KEYS}
    return _ag_grid(grid_id, columns, rows, lang, file_name, row_rules, "station-grid",
                    getRowId="params.data.station_id + '/' + (params.data.party_code || '')",
                    filterModel=status_filter_model(status_filter))


def export_button(button_id: Any, lang: str) -> Any:
    return dbc.Button(t("grid.export", lang), id=button_id, color="secondary", outline=True,
                      size="sm", className="grid-export")


# --------------------------------------------------------------------------- data grids
#
# Every data table of the dashboard is a :func:`data_grid` (sortable, floating filters, a
# CSV export of the rows the filters leave, in their sort order) -- except the bulletin's
# table, which keeps the published bulletin's layout (basin group rows) and has its own
# CSV/PDF/HTML downloads.

#: the pattern-matching ids of the data grids and their export buttons (one MATCH callback
#: serves them all; declared READ in dashboard.auth.OUTPUT_ROLES)
DATA_GRID = "data-grid"
DATA_GRID_EXPORT = "data-grid-export"
#: row highlighting: a row's ``row_class`` field -> the row's class ``row-<value>``
ROW_CLASSES = ("warning", "danger", "info")


@dataclass(frozen=True)
class GridColumn:
    """One column of a :func:`data_grid`: ``header`` (translated already), the row field,
    its kind ("text", "num", "time", "link"; see :func:`_column`), a hover help and any
    further ag-grid column options."""

    header: str
    field: str
    kind: str = "text"
    help_text: str | None = None
    options: dict[str, Any] = dataclass_field(default_factory=dict)


def grid_id(name: str) -> dict[str, str]:
    """The id of the data grid ``name`` (pattern-matching: its export button matches it)."""
    return {"type": DATA_GRID, "index": str(name)}


def data_grid(name: str, columns: Sequence[GridColumn], rows: list[dict], lang: str,
              file_name: str, row_class_rules: dict[str, str] | None = None,
              class_name: str = "") -> html.Div:
    """A sortable, filterable grid of ``rows`` (dicts keyed by the columns' fields; "num"
    and "time" columns also need ``<field>_text``) with its CSV export button, in a
    ``Div`` with the id ``name``.  Rows are highlighted by their ``row_class`` field
    ("warning", "danger", "info" -> ``row-warning`` ...), or by ``row_class_rules``
    (class -> JavaScript condition on ``params.data``)."""
    defs = [_column(c.header, c.field, c.kind, c.help_text, **c.options) for c in columns]
    rules = row_class_rules if row_class_rules is not None else {
        f"row-{c}": f"params.data.row_class === '{c}'" for c in ROW_CLASSES}
    grid = _ag_grid(grid_id(name), defs, rows, lang, file_name, rules,
                    f"data-grid {class_name}".strip())
    button = export_button({"type": DATA_GRID_EXPORT, "index": str(name)}, lang)
    return html.Div([html.Div(button, className="grid-head justify-content-end"), grid],
                    id=str(name), className="data-grid-wrap")


def num_cell(value: float | None, text: str) -> tuple[float | None, str]:
    """A "num" column's (number, shown text) pair; NaN becomes None (an empty CSV cell)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, text
    return float(value), text


def link_cell(text: str, href: str) -> str:
    """A "link" column's markdown: ``[text](href)`` with the text's brackets escaped."""
    safe = str(text).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"[{safe}]({href.replace(' ', '%20').replace(')', '%29')})"


def export_grid_csv(n_clicks: int | None) -> bool:
    """A data grid's export button -> the grid writes a CSV of the rows its filters leave,
    in their sort order (ag-grid's ``exportDataAsCsv``)."""
    return bool(n_clicks)


def register_callbacks(app: Any) -> None:
    """The one callback serving every data grid's export button."""
    from dash import MATCH, Input, Output

    app.callback(Output({"type": DATA_GRID, "index": MATCH}, "exportDataAsCsv"),
                 Input({"type": DATA_GRID_EXPORT, "index": MATCH}, "n_clicks"),
                 prevent_initial_call=True)(export_grid_csv)


def gauge_rows(report: StationReport, lang: str, basin_names: dict[str, str]) -> list[dict]:
    """One grid row per gauge and reporting party: numbers for sorting, filtering and the
    CSV, ``*_text`` for display in ``lang``'s notation."""
    out = []
    for row in report.gauges:
        c = row.classification
        ref = compared_level(c)
        remaining = ref.remaining_cm if (ref is not None and row.has_data) else None
        status = _status_cell(row, lang)
        levels = levels_cell(c, lang)
        ice = _ice_cell(row, lang)
        stage_parts = _stage_cell(row, lang)
        diff = row.kz_minus_ru_cm
        out.append({
            "station_id": row.station_id, "party_code": row.party, "state": row.state,
            "station": row.names.get(lang), "basin": basin_names.get(row.basin, row.basin),
            "river": river_name(row.river, lang), "country": t(f"country.{row.country}", lang),
            "party": t_or(f"party.{row.party}", lang, row.party),
            "stage": row.stage_cm, "stage_text": _plain(stage_parts),
            "observed": _iso(row.local_time), "observed_text": fmt_local(row.local_time, lang),
            "change": row.change_cm_per_day,
            "change_text": fmt_number(row.change_cm_per_day, signed=True, lang=lang),
            "discharge": row.discharge_m3s, "discharge_text": _plain(_discharge_cell(row, lang)),
            "status": _plain(status[:1]), "status_note": _plain(status[1:]),
            "level": _plain(levels), "level_title": _titles(levels),
            "remaining": remaining, "remaining_text": fmt_number(remaining, lang=lang),
            "reached": remaining is not None and remaining <= 0,
            "ice": _plain(ice), "ice_title": _titles(ice),
            "diff": diff, "diff_text": fmt_number(diff, signed=True, lang=lang)
            if diff is not None else "",
        })
    return out


def gauge_grid(report: StationReport, lang: str, basin_names: dict[str, str],
               status_filter: str | None = None) -> Any:
    """Every gauge, one row per reporting party: a sortable, filterable grid."""
    columns = [
        _col("col.station", lang, "station", cellRenderer="StationLink", minWidth=160),
        _col("col.basin", lang, "basin", minWidth=85),
        _col("col.river", lang, "river", minWidth=90),
        _col("col.country", lang, "country", minWidth=100),
        _col("col.party", lang, "party", minWidth=95, maxWidth=120),
        _col("col.stage", lang, "stage", "num"),
        _col("col.observed", lang, "observed", "time", minWidth=105),
        _col("col.change", lang, "change", "num"),
        _col("col.discharge", lang, "discharge", "num", minWidth=100),
        _col("col.status", lang, "status", cellRenderer="StateBadge", minWidth=130),
        _col("col.level", lang, "level", tooltipField="level_title", minWidth=150),
        _col("col.remaining", lang, "remaining", "num",
             cellClassRules={"reached": "params.data.reached"}),
        _col("col.ice", lang, "ice", tooltipField="ice_title", minWidth=115),
        _col("col.party_diff", lang, "diff", "num"),
        _state_col(lang),
    ]
    return _grid(Stations.GAUGE_TABLE, columns, gauge_rows(report, lang, basin_names), lang,
                 "hydrorisk-gauges.csv", status_filter)


def reservoir_rows(report: StationReport, lang: str, basin_names: dict[str, str]
                   ) -> list[dict]:
    """One grid row per reservoir (see :func:`gauge_rows`)."""
    out = []
    for r in report.reservoirs:
        to_npu = r.classification.to_npu_m if r.has_data else None
        volume: list = [fmt_number(r.volume_hm3, 1 if (r.volume_hm3 or 0) < 1000 else 0,
                                   lang=lang)]
        if r.volume_from_table and r.volume_hm3 is not None:
            volume.append(t("cell.volume_from_table", lang))
        status = _reservoir_status(r, lang)
        release = r.release_m3s if (r.release_m3s is not None or r.outflow_m3s is None) \
            else r.outflow_m3s
        out.append({
            "station_id": r.station_id, "state": r.state,
            "station": r.names.get(lang), "basin": basin_names.get(r.basin, r.basin),
            "river": river_name(r.river, lang), "country": t(f"country.{r.country}", lang),
            "level_m": r.level_m, "level_m_text": fmt_number(r.level_m, 2, lang=lang),
            "observed": _iso(r.local_time), "observed_text": fmt_local(r.local_time, lang),
            "npu": r.npu_m,
            "npu_text": _plain(_with_marker(fmt_number(r.npu_m, 2, lang=lang),
                                            r.npu_estimated, lang)),
            "fpu": r.fpu_m,
            "fpu_text": _plain(_with_marker(fmt_number(r.fpu_m, 2, lang=lang),
                                            r.fpu_estimated, lang)),
            "to_npu": to_npu, "to_npu_text": fmt_number(to_npu, 2, lang=lang),
            "reached": to_npu is not None and to_npu < 0,
            "volume": r.volume_hm3, "volume_text": _plain(volume),
            "pct_npu": r.percent_of_npu_volume,
            "pct_npu_text": _plain(_with_marker(
                fmt_number(r.percent_of_npu_volume, 1, lang=lang),
                r.table_estimated and r.volume_hm3 is not None, lang)),
            "inflow": r.inflow_m3s, "inflow_text": fmt_discharge(r.inflow_m3s, lang),
            "release": release, "release_text": _plain(_release_cell(r, lang)),
            "spill": r.spill_m3s, "spill_text": fmt_discharge(r.spill_m3s, lang),
            "status": _plain(status[:1]), "status_note": _plain(status[1:]),
        })
    return out


def reservoir_grid(report: StationReport, lang: str, basin_names: dict[str, str],
                   status_filter: str | None = None) -> Any:
    """Every reservoir: level against НПУ/ФПУ, volume, flows, as a sortable, filterable
    grid."""
    columns = [
        _col("col.reservoir", lang, "station", cellRenderer="StationLink", minWidth=170),
        _col("col.basin", lang, "basin", minWidth=85),
        _col("col.river", lang, "river", minWidth=90),
        _col("col.country", lang, "country", minWidth=100),
        _col("col.level_m", lang, "level_m", "num"),
        _col("col.observed", lang, "observed", "time", minWidth=105),
        _col("col.npu", lang, "npu", "num"),
        _col("col.fpu", lang, "fpu", "num"),
        _col("col.to_npu", lang, "to_npu", "num",
             cellClassRules={"reached": "params.data.reached"}),
        _col("col.volume", lang, "volume", "num"),
        _col("col.pct_npu", lang, "pct_npu", "num"),
        _col("col.inflow", lang, "inflow", "num"),
        _col("col.release", lang, "release", "num",
             cellClass=["release", "ag-right-aligned-cell"]),
        _col("col.spill", lang, "spill", "num", cellClass=["spill", "ag-right-aligned-cell"]),
        _col("col.status", lang, "status", cellRenderer="StateBadge", minWidth=130),
        _state_col(lang),
    ]
    return _grid(Stations.RESERVOIR_TABLE, columns, reservoir_rows(report, lang, basin_names),
                 lang, "hydrorisk-reservoirs.csv", status_filter)


# --------------------------------------------------------------------------- time banners

def time_banners(notices: Sequence[Notice], lang: str, search: str | None,
                 path: str = "/") -> list:
    """One alert per notice of :func:`dashboard.timequery.resolve` (data old, date outside
    the stored period, as-of replay, unreadable date), with its link (the query changed)."""
    out = []
    for n in notices:
        body: list = [t(n.key, lang, **n.fields)]
        if n.link_key:
            changes = dict(n.link_changes)
            body += [" ", dcc.Link(t(n.link_key, lang),
                                   href=path + query_string(search, **changes),
                                   className="alert-link")]
        out.append(dbc.Alert(body, color=n.level, className=f"time-banner mb-2 {n.key}"
                             .replace(".", "-"), id=n.key.replace(".", "-")))
    return out

