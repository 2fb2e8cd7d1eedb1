"""Data-status view: ingest runs, quarantined files with their reasons, the scheduler's jobs
and the freshness of every station's data per party (:mod:`hydro.services.data_status`
through the data provider).  Registered at ``/data-status`` by
:mod:`dashboard.pages.data_status`; no callbacks.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, cast

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard import components as ui
from dashboard import format as fmt
from dashboard import timequery
from dashboard.i18n import t, t_or
from dashboard.provider import DataProvider
from dashboard.reasons import reason_text

#: rows shown per table (the newest)
MAX_ROWS = 200


class DataStatusPage(StrEnum):
    TITLE = "data-status-title"
    BY_PARTY = "data-status-by-party"
    RUNS = "data-status-runs"
    QUARANTINE = "data-status-quarantine"
    JOBS = "data-status-jobs"
    FRESHNESS = "data-status-freshness"


def _when(value: object, lang: str) -> str:
    if value is None or pd.isna(cast(Any, value)):
        return fmt.DASH
    return fmt.date_time(pd.Timestamp(cast(Any, value)).to_pydatetime().replace(microsecond=0), lang)


def _int(value: object, lang: str) -> str:
    if value is None or pd.isna(cast(Any, value)):
        return fmt.DASH
    return fmt.number(float(cast(Any, value)), lang)


def _source(value: object, lang: str) -> str:
    """A data source's name in ``lang`` (its id in config/sources.toml when it has none)."""
    text = str(value or "")
    return t_or(f"sv.source.{text}", lang, text) if text else fmt.DASH


def _outcome(value: object, lang: str) -> str:
    text = str(value or "")
    return t_or(f"ds.outcome.{text}", lang, text) if text else fmt.DASH


def _table(headers: list[str], rows: list[list], component_id: str,
           row_classes: list[str | None] | None = None) -> html.Div:
    classes = row_classes or [None] * len(rows)
    return html.Div(html.Table([
        html.Thead(html.Tr([html.Th(h) for h in headers])),
        html.Tbody([html.Tr([html.Td(c) for c in row], className=cls)
                    for row, cls in zip(rows, classes, strict=True)]),
    ], className="table table-sm table-bordered data-status-table"),
        id=component_id, className="table-scroll")


def render(provider: DataProvider, lang: str, date: str | None = None,
           now: dt.datetime | None = None, asof: str | None = None) -> html.Div:
    """The page in ``lang``; freshness measured at the end of ``date`` (ISO) or ``now``.

    ``asof`` (an ISO day or time, naive UTC): what had been received by then -- the runs,
    refused files and freshness of that moment (the shell shows its banner); freshness is
    measured no later than it.
    """
    now = now or timequery.utcnow()
    at = now
    day = timequery.parse_day(date) if date else None
    if day is not None:
        at = min(now, dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    received_by = timequery.parse_asof(asof) if asof else None
    if received_by is not None:
        at = min(at, received_by.replace(microsecond=0))
    status = provider.data_status(at, received_by)
    banner = [ui.synthetic_banner(lang)] if provider.is_synthetic() else []
    title = html.H1(t("ds.title", lang), id=DataStatusPage.TITLE, className="page-title")
    if status is None:
        return html.Div([*banner, title,
                         dbc.Alert(t("bulletin.unavailable", lang), color="info")],
                        className="data-status-page", lang=lang)
    fresh = status["freshness"]
    stale = float(provider.config.settings.dashboard.stale_after_days)
    help_text = html.P(t("ds.freshness.help", lang, time=_when(at, lang),
                         days=fmt.number(stale, lang, 0 if stale == int(stale) else 1)),
                       className="cell-note")
    return html.Div([
        *banner,
        title,
        _section(t("ds.freshness", lang) + " — " + t("ds.by_party", lang),
                 [help_text, _by_party(fresh, lang)]),
        _section(t("ds.quarantine", lang), [_quarantine(status["quarantined"], lang)]),
        _section(t("ds.jobs", lang), [_jobs(status["jobs"], lang)]),
        _section(t("ds.runs", lang), [_runs(status["runs"], lang)]),
        _section(t("ds.freshness", lang), [help_text, _freshness(fresh, lang)]),
    ], className="data-status-page", lang=lang)


def _section(title: str, body: list) -> html.Div:
    return html.Div([html.Div(title, className="section-title"), *body],
                    className="panel mb-3")


def _by_party(fresh: pd.DataFrame, lang: str) -> html.Div:
    from hydro.services.data_status import freshness_by_party

    summary = freshness_by_party(fresh)
    headers = [t("col.party", lang), t("ds.col.stations", lang), t("ds.col.silent", lang),
               t("ds.col.never", lang), t("ds.col.newest", lang), t("ds.col.oldest", lang)]
    rows = [[t_or(f"party.{r['party']}", lang, str(r["party"])), _int(r["stations"], lang),
             _int(r["silent"], lang), _int(r["never"], lang), _when(r["newest"], lang),
             _when(r["oldest"], lang)] for r in summary.to_dict("records")]
    return _table(headers, rows, DataStatusPage.BY_PARTY)


def _freshness(fresh: pd.DataFrame, lang: str) -> html.Div:
    headers = [t("col.station", lang), t("col.party", lang), t("ds.col.last", lang),
               t("ds.col.age", lang), t("ds.col.state", lang)]
    rows, classes = [], []
    for r in fresh.to_dict("records"):
        name = r.get(f"name_{lang}") or r["station_id"]
        if not r["reported"]:
            state = t("ds.never", lang)
        elif r["silent"]:
            state = t("status.silent", lang)
        else:
            state = t("ds.fresh", lang)
        rows.append([name, t_or(f"party.{r['party']}", lang, str(r["party"])),
                     _when(r["last_time"], lang),
                     fmt.number(r["age_days"], lang, 1) if r["reported"] else fmt.DASH, state])
        classes.append("table-warning" if r["silent"] else None)
    return _table(headers, rows, DataStatusPage.FRESHNESS, classes)


def _quarantine(frame: pd.DataFrame, lang: str) -> html.Div:
    if frame.empty:
        return html.Div(t("ds.quarantine.none", lang), id=DataStatusPage.QUARANTINE,
                        className="cell-note")
    headers = [t("ds.col.file", lang), t("ds.col.when", lang), t("ds.col.source", lang),
               t("ds.col.reason", lang), t("ds.col.kept", lang)]
    rows = [[html.Span(r["file"], title=str(r["path"] or "")), _when(r["rejected_at"], lang),
             _source(r["source"], lang), html.Span(reason_text(str(r["reason"] or ""), lang), className="reason"),
             html.Code(r["quarantined_to"]) if r["quarantined_to"] else fmt.DASH]
            for r in frame.head(MAX_ROWS).to_dict("records")]
    return _table(headers, rows, DataStatusPage.QUARANTINE)


def _jobs(frame: pd.DataFrame, lang: str) -> html.Div:
    if frame.empty:
        return html.Div(t("ds.jobs.none", lang), id=DataStatusPage.JOBS, className="cell-note")
    headers = [t("ds.col.job", lang), t("ds.col.last_run", lang), t("ds.col.outcome", lang),
               t("ds.col.next_run", lang), t("ds.col.failures", lang),
               t("ds.col.last_error", lang)]
    rows, classes = [], []
    for r in frame.to_dict("records"):
        rows.append([r.get("name") or r["job_id"], _when(r.get("last_started_at"), lang),
                     _outcome(r.get("last_outcome"), lang), _when(r.get("next_run"), lang),
                     _int(r.get("consecutive_failures"), lang),
                     r.get("last_error") or fmt.DASH])
        classes.append("table-danger" if r.get("last_outcome") == "error" else None)
    return _table(headers, rows, DataStatusPage.JOBS, classes)


def _runs(frame: pd.DataFrame, lang: str) -> html.Div:
    if frame.empty:
        return html.Div(t("ds.runs.none", lang), id=DataStatusPage.RUNS, className="cell-note")
    headers = [t("ds.col.file", lang), t("ds.col.source", lang), t("ds.col.outcome", lang),
               t("ds.col.rows", lang), t("ds.col.flags", lang), t("ds.col.when", lang)]
    rows, classes = [], []
    for r in frame.head(MAX_ROWS).to_dict("records"):
        rows.append([html.Span(r["file"], title=str(r["path"])), _source(r["source"], lang),
                     _outcome(r["outcome"], lang),
                     f"{_int(r['rows_read'], lang)} / {_int(r['rows_written'], lang)}",
                     _int(r["flags_raised"], lang),
                     _when(r["finished_at"] if r["finished_at"] is not None
                           and not pd.isna(r["finished_at"]) else r["started_at"], lang)])
        classes.append("table-danger" if r["outcome"] == "rejected" else None)
    return _table(headers, rows, DataStatusPage.RUNS, classes)
