"""Layout builders for the stations page: report rows + language in, Dash components out.

Nothing here reads data or decides a category; it only formats what
:mod:`dashboard.status` (and through it :mod:`hydro.warning`) worked out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard.figures import STATE_COLORS
from dashboard.i18n import has, t, t_or
from dashboard.ids import Stations
from dashboard.status import (
    SILENT,
    SUMMARY_ORDER,
    GaugeRow,
    ReservoirRow,
    StationReport,
    compared_level,
)
from hydro.warning import LevelMargin, StageClassification, WarningStatus

MINUS = "\u2212"
DASH = "—"


# --------------------------------------------------------------------------- formatting

def fmt_number(value: float | None, decimals: int = 0, signed: bool = False) -> str:
    """``1134``, ``−40``, ``+31`` (with ``signed``); an em dash for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    rounded = round(float(value), decimals)
    if rounded == 0:
        rounded = 0.0  # no "-0"
    text = f"{abs(rounded):.{decimals}f}"
    if rounded < 0:
        return MINUS + text
    return ("+" + text) if signed and rounded > 0 else text


def fmt_discharge(value: float | None) -> str:
    """Discharge, m³/s, to three significant figures at most (0.123, 12.3, 1234)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    mag = abs(value)
    decimals = 0 if mag >= 100 else 1 if mag >= 10 else 2
    return fmt_number(value, decimals)


def fmt_local(time: dt.datetime | None) -> str:
    """``2024-04-12 08:00``; a daily value (local midnight) as the date alone."""
    if time is None:
        return DASH
    if time.time() == dt.time():
        return time.date().isoformat()
    return time.strftime("%Y-%m-%d %H:%M")


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
    title = t("level.tooltip", lang, label=label, value=fmt_number(margin.value_cm),
              set_by=getattr(th, "set_by", ""), basis=getattr(th, "basis", ""),
              source=getattr(th, "source", ""))
    in_force_by = getattr(th, "in_force_by", None)
    if in_force_by is not None:
        title += "; " + t("level.in_force_by", lang, date=in_force_by.isoformat())
    note = getattr(th, "note", "")
    if note:
        title += f" ({note})"
    classes = "level-value" + (" level-ref" if reference else "") + \
        (" level-reached" if margin.reached else "")
    parts: list = [html.Span(f"{label} {fmt_number(margin.value_cm)}", title=title,
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


def summary_row(report: StationReport, lang: str) -> html.Div:
    """One tile per station state, then ice-affected, each with its count."""
    counts = report.counts()
    tiles = []
    for state in SUMMARY_ORDER:
        tiles.append(html.Div(
            [html.Div(str(counts[state]), className="tile-count"),
             html.Div(state_label(state, lang), className="tile-label")],
            className=f"summary-tile tile-{state}" + (" tile-zero" if not counts[state] else ""),
            style={"borderLeftColor": STATE_COLORS[state]},
            id=f"summary-{state}",
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
        id=Stations.SUMMARY, className="mb-3")


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
                                date=fmt_local(row.local_time)[:10]))
            elif row is not None:
                c = row.classification
                detail.append(t("unit.cm_value", lang, value=fmt_number(row.stage_cm)))
                ref = compared_level(c)
                if ref is not None:
                    detail.append(f"{level_name(ref, lang)} "
                                  f"{fmt_number(ref.value_cm)}: "
                                  f"{fmt_number(ref.remaining_cm, signed=True)}")
                if row.change_cm_per_day is not None:
                    detail.append(t("attention.rate", lang,
                                    rate=fmt_number(row.change_cm_per_day, signed=True)))
        else:
            res = report.reservoir_row(s.station_id)
            if s.state == SILENT:
                detail.append(t("status.silent_since", lang,
                                date=fmt_local(res.local_time)[:10]))
            else:
                detail.append(t("attention.reservoir", lang, level=fmt_number(res.level_m, 2),
                                npu=fmt_number(res.npu_m, 2)))
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

GAUGE_COLUMNS = ("col.station", "col.river", "col.country", "col.party", "col.stage",
                 "col.observed", "col.change", "col.discharge", "col.status", "col.level",
                 "col.remaining", "col.ice", "col.party_diff")


def _status_cell(row: GaugeRow, lang: str) -> list:
    c = row.classification
    if not row.has_data:
        text = t("cell.no_party_data", lang) if row.border else None
        return [state_badge("no_data", lang),
                html.Div(text, className="cell-note") if text else None]
    if row.silent:
        return [state_badge(SILENT, lang),
                html.Div(t("status.silent_since", lang, date=fmt_local(row.local_time)[:10]),
                         className="cell-note")]
    parts: list = [state_badge(c.status.value, lang)]
    if c.provisional and c.status is not WarningStatus.NOT_ASSESSED:
        parts.append(html.Div(t("status.provisional", lang), className="cell-note provisional"))
    for m in c.impacts_reached:
        parts.append(html.Div(t("cell.impact_reached", lang, value=fmt_number(m.value_cm)),
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
    parts: list = [fmt_number(row.stage_cm)]
    for flag in row.other_flags:
        parts.append(html.Span(t_or(f"qc.{flag}", lang, flag), className="qc-flag"))
    return parts


def _discharge_cell(row: GaugeRow) -> list:
    parts: list = [fmt_discharge(row.discharge_m3s)]
    q_day = row.discharge_local_date
    stage_day = row.local_time.date() if row.local_time else None
    if q_day is not None and row.stage_cm is not None and q_day != stage_day:
        parts.append(html.Div(q_day.isoformat(), className="cell-note"))
    return parts


def gauge_table(report: StationReport, lang: str, basin_names: dict[str, str]) -> dbc.Table:
    """Every gauge, grouped by basin; one row per reporting party."""
    header = html.Thead(html.Tr([html.Th(t(key, lang)) for key in GAUGE_COLUMNS]))
    body: list = []
    by_station: dict[str, list[GaugeRow]] = {}
    for row in report.gauges:
        by_station.setdefault(row.station_id, []).append(row)
    for basin in report.basins:
        stations = [sid for sid, rows in by_station.items() if rows[0].basin == basin]
        if not stations:
            continue
        body.append(html.Tr(html.Th(basin_names.get(basin, basin), colSpan=len(GAUGE_COLUMNS)),
                            className="basin-row"))
        for sid in stations:
            rows = by_station[sid]
            span = len(rows)
            for i, row in enumerate(rows):
                c = row.classification
                ref = compared_level(c)
                remaining = ref.remaining_cm if (ref is not None and row.has_data) else None
                cells: list = []
                if i == 0:
                    name = [html.Div(row.names.get(lang), className="station-name"),
                            html.Div(sid, className="station-id")]
                    cells += [html.Td(name, rowSpan=span),
                              html.Td(river_name(row.river, lang), rowSpan=span),
                              html.Td(t(f"country.{row.country}", lang), rowSpan=span)]
                cells += [
                    html.Td(t_or(f"party.{row.party}", lang, row.party), className="party"),
                    html.Td(_stage_cell(row, lang), className="num stage"),
                    html.Td(fmt_local(row.local_time), className="time"),
                    html.Td(fmt_number(row.change_cm_per_day, signed=True), className="num"),
                    html.Td(_discharge_cell(row), className="num"),
                    html.Td(_status_cell(row, lang), className="status"),
                    html.Td(levels_cell(c, lang), className="level"),
                    html.Td(fmt_number(remaining, signed=False),
                            className="num remaining" + (" reached" if remaining is not None
                                                         and remaining <= 0 else "")),
                    html.Td(_ice_cell(row, lang), className="ice"),
                ]
                if i == 0:
                    diff = row.kz_minus_ru_cm
                    cells.append(html.Td(fmt_number(diff, signed=True) if diff is not None
                                         else "", rowSpan=span, className="num"))
                # data-* attributes are not identifiers: they go through the component's
                # **kwargs (Any: mypy checks a **dict against every typed keyword)
                data: dict[str, Any] = {"data-station": sid, "data-party": row.party}
                body.append(html.Tr(cells, className=f"state-{row.state}", **data))
    return dbc.Table([header, html.Tbody(body)], id=Stations.GAUGE_TABLE, bordered=False,
                     hover=True, size="sm", className="station-table gauge-table")


# --------------------------------------------------------------------------- reservoirs

RESERVOIR_COLUMNS = ("col.reservoir", "col.river", "col.country", "col.level_m",
                     "col.observed", "col.npu", "col.fpu", "col.to_npu", "col.volume",
                     "col.pct_npu", "col.inflow", "col.release", "col.spill", "col.status")


def _with_marker(text: str, estimated: bool, lang: str) -> list:
    parts: list = [text]
    if estimated:
        parts.append(html.Span(t("marker.estimate", lang), className="level-marker "
                                                                      "marker-estimate"))
    return parts


def _header_cell(key: str, lang: str) -> html.Th:
    """A column header, with its explanation on hover when the catalog has ``key.help``."""
    if has(f"{key}.help"):
        return html.Th(t(key, lang), title=t(f"{key}.help", lang))
    return html.Th(t(key, lang))


def _release_cell(row: ReservoirRow, lang: str) -> list:
    """The controlled release (outflow − spill); without a spill of the same day, the total
    outflow marked as such, so it is never taken for the release."""
    if row.release_m3s is not None or row.outflow_m3s is None:
        return [fmt_discharge(row.release_m3s)]
    return [fmt_discharge(row.outflow_m3s),
            html.Div(t("cell.outflow_total", lang), className="cell-note")]


def _reservoir_status(row: ReservoirRow, lang: str) -> list:
    if not row.has_data:
        return [state_badge("no_data", lang)]
    if row.silent:
        return [state_badge(SILENT, lang),
                html.Div(t("status.silent_since", lang, date=fmt_local(row.local_time)[:10]),
                         className="cell-note")]
    state = row.classification.status.value
    label = t(f"reservoir.status.{state}", lang) if state in ("adverse", "dangerous") \
        else state_label(state, lang)
    parts: list = [state_badge(state, lang, label)]
    if row.classification.provisional:
        parts.append(html.Div(t("status.provisional", lang), className="cell-note provisional"))
    return parts


def reservoir_table(report: StationReport, lang: str, basin_names: dict[str, str]) -> dbc.Table:
    """Every reservoir, grouped by basin: level against НПУ/ФПУ, volume, flows."""
    header = html.Thead(html.Tr([_header_cell(key, lang) for key in RESERVOIR_COLUMNS]))
    body: list = []
    for basin in report.basins:
        rows = [r for r in report.reservoirs if r.basin == basin]
        if not rows:
            continue
        body.append(html.Tr(html.Th(basin_names.get(basin, basin),
                                    colSpan=len(RESERVOIR_COLUMNS)), className="basin-row"))
        for r in rows:
            volume: list = [fmt_number(r.volume_hm3, 1 if (r.volume_hm3 or 0) < 1000 else 0)]
            if r.volume_from_table and r.volume_hm3 is not None:
                volume.append(html.Div(t("cell.volume_from_table", lang), className="cell-note"))
            to_npu = r.classification.to_npu_m if r.has_data else None
            # a data-* attribute goes through the component's **kwargs (see gauge_table)
            data: dict[str, Any] = {"data-station": r.station_id}
            body.append(html.Tr([
                html.Td([html.Div(r.names.get(lang), className="station-name"),
                         html.Div(r.station_id, className="station-id")]),
                html.Td(river_name(r.river, lang)),
                html.Td(t(f"country.{r.country}", lang)),
                html.Td(fmt_number(r.level_m, 2), className="num"),
                html.Td(fmt_local(r.local_time), className="time"),
                html.Td(_with_marker(fmt_number(r.npu_m, 2), r.npu_estimated, lang),
                        className="num"),
                html.Td(_with_marker(fmt_number(r.fpu_m, 2), r.fpu_estimated, lang),
                        className="num"),
                html.Td(fmt_number(to_npu, 2),
                        className="num remaining" + (" reached" if to_npu is not None
                                                     and to_npu < 0 else "")),
                html.Td(volume, className="num"),
                html.Td(_with_marker(fmt_number(r.percent_of_npu_volume, 1),
                                     r.table_estimated and r.volume_hm3 is not None, lang),
                        className="num"),
                html.Td(fmt_discharge(r.inflow_m3s), className="num"),
                html.Td(_release_cell(r, lang), className="num release"),
                html.Td(fmt_discharge(r.spill_m3s), className="num spill"),
                html.Td(_reservoir_status(r, lang), className="status"),
            ], className=f"state-{r.state}", **data))
    return dbc.Table([header, html.Tbody(body)], id=Stations.RESERVOIR_TABLE, bordered=False,
                     hover=True, size="sm", className="station-table reservoir-table")
