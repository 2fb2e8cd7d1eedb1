"""Data-status view: ingest runs, quarantined files with their reasons, the scheduler's jobs
and the freshness of every station's data per party (:mod:`hydro.services.data_status`
through the data provider), each a sortable, filterable grid with a CSV export
(:func:`dashboard.components.data_grid`).  Registered at ``/data-status`` by
:mod:`dashboard.pages.data_status`; no callbacks of its own.
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
    if value is None or pd.isna(cast(Any, value)):   # a refused file names no source
        return fmt.DASH
    text = str(value)
    return t_or(f"sv.source.{text}", lang, text) if text else fmt.DASH


def _outcome(value: object, lang: str) -> str:
    text = str(value or "")
    return t_or(f"ds.outcome.{text}", lang, text) if text else fmt.DASH


def _iso(value: object) -> str | None:
    if value is None or pd.isna(cast(Any, value)):
        return None
    return pd.Timestamp(cast(Any, value)).to_pydatetime().replace(microsecond=0).isoformat()


def _number(value: object) -> float | None:
    if value is None or pd.isna(cast(Any, value)):
        return None
    return float(cast(Any, value))


def _grid(name: str, columns: list[ui.GridColumn], rows: list[dict], lang: str) -> html.Div:
    return ui.data_grid(name, columns, rows, lang, f"hydrorisk-{name}.csv")


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
    columns = [ui.GridColumn(t("col.party", lang), "party"),
               ui.GridColumn(t("ds.col.stations", lang), "stations", "num"),
               ui.GridColumn(t("ds.col.silent", lang), "silent", "num"),
               ui.GridColumn(t("ds.col.never", lang), "never", "num"),
               ui.GridColumn(t("ds.col.newest", lang), "newest", "time"),
               ui.GridColumn(t("ds.col.oldest", lang), "oldest", "time")]
    rows = [{"party": t_or(f"party.{r['party']}", lang, str(r["party"])),
             "stations": _number(r["stations"]), "stations_text": _int(r["stations"], lang),
             "silent": _number(r["silent"]), "silent_text": _int(r["silent"], lang),
             "never": _number(r["never"]), "never_text": _int(r["never"], lang),
             "newest": _iso(r["newest"]), "newest_text": _when(r["newest"], lang),
             "oldest": _iso(r["oldest"]), "oldest_text": _when(r["oldest"], lang)}
            for r in summary.to_dict("records")]
    return _grid(DataStatusPage.BY_PARTY, columns, rows, lang)


def _freshness(fresh: pd.DataFrame, lang: str) -> html.Div:
    columns = [ui.GridColumn(t("col.station", lang), "station", options={"minWidth": 160}),
               ui.GridColumn(t("col.party", lang), "party"),
               ui.GridColumn(t("ds.col.last", lang), "last", "time"),
               ui.GridColumn(t("ds.col.age", lang), "age", "num"),
               ui.GridColumn(t("ds.col.state", lang), "state")]
    rows = []
    for r in fresh.to_dict("records"):
        name = r.get(f"name_{lang}") or r["station_id"]
        if not r["reported"]:
            state = t("ds.never", lang)
        elif r["silent"]:
            state = t("status.silent", lang)
        else:
            state = t("ds.fresh", lang)
        rows.append({"station": name, "party": t_or(f"party.{r['party']}", lang, str(r["party"])),
                     "last": _iso(r["last_time"]), "last_text": _when(r["last_time"], lang),
                     "age": _number(r["age_days"]) if r["reported"] else None,
                     "age_text": fmt.number(r["age_days"], lang, 1) if r["reported"] else fmt.DASH,
                     "state": state, "row_class": "warning" if r["silent"] else None})
    return _grid(DataStatusPage.FRESHNESS, columns, rows, lang)


def _quarantine(frame: pd.DataFrame, lang: str) -> html.Div:
    if frame.empty:
        return html.Div(t("ds.quarantine.none", lang), id=DataStatusPage.QUARANTINE,
                        className="cell-note")
    columns = [ui.GridColumn(t("ds.col.file", lang), "file", options={"tooltipField": "path"}),
               ui.GridColumn(t("ds.col.when", lang), "when", "time"),
               ui.GridColumn(t("ds.col.source", lang), "source"),
               ui.GridColumn(t("ds.col.reason", lang), "reason", options={"minWidth": 220}),
               ui.GridColumn(t("ds.col.kept", lang), "kept")]
    rows = [{"file": r["file"], "path": str(r["path"] or ""),
             "when": _iso(r["rejected_at"]), "when_text": _when(r["rejected_at"], lang),
             "source": _source(r["source"], lang),
             "reason": ui.plain_text(reason_text(str(r["reason"] or ""), lang)),
             "kept": r["quarantined_to"] or fmt.DASH}
            for r in frame.head(MAX_ROWS).to_dict("records")]
    return _grid(DataStatusPage.QUARANTINE, columns, rows, lang)


def _jobs(frame: pd.DataFrame, lang: str) -> html.Div:
    if frame.empty:
        return html.Div(t("ds.jobs.none", lang), id=DataStatusPage.JOBS, className="cell-note")
    columns = [ui.GridColumn(t("ds.col.job", lang), "job"),
               ui.GridColumn(t("ds.col.last_run", lang), "last_run", "time"),
               ui.GridColumn(t("ds.col.outcome", lang), "outcome"),
               ui.GridColumn(t("ds.col.next_run", lang), "next_run", "time"),
               ui.GridColumn(t("ds.col.failures", lang), "failures", "num"),
               ui.GridColumn(t("ds.col.last_error", lang), "last_error",
                             options={"minWidth": 200})]
    rows = []
    for r in frame.to_dict("records"):
        rows.append({"job": r.get("name") or r["job_id"],
                     "last_run": _iso(r.get("last_started_at")),
                     "last_run_text": _when(r.get("last_started_at"), lang),
                     "outcome": _outcome(r.get("last_outcome"), lang),
                     "next_run": _iso(r.get("next_run")),
                     "next_run_text": _when(r.get("next_run"), lang),
                     "failures": _number(r.get("consecutive_failures")),
                     "failures_text": _int(r.get("consecutive_failures"), lang),
                     "last_error": r.get("last_error") or fmt.DASH,
                     "row_class": "danger" if r.get("last_outcome") == "error" else None})
    return _grid(DataStatusPage.JOBS, columns, rows, lang)


def _runs(frame: pd.DataFrame, lang: str) -> html.Div:
    if frame.empty:
        return html.Div(t("ds.runs.none", lang), id=DataStatusPage.RUNS, className="cell-note")
    columns = [ui.GridColumn(t("ds.col.file", lang), "file", options={"tooltipField": "path"}),
               ui.GridColumn(t("ds.col.source", lang), "source"),
               ui.GridColumn(t("ds.col.outcome", lang), "outcome"),
               ui.GridColumn(t("ds.col.rows", lang), "rows"),
               ui.GridColumn(t("ds.col.flags", lang), "flags", "num"),
               ui.GridColumn(t("ds.col.when", lang), "when", "time")]
    rows = []
    for r in frame.head(MAX_ROWS).to_dict("records"):
        when = r["finished_at"] if r["finished_at"] is not None \
            and not pd.isna(r["finished_at"]) else r["started_at"]
        rows.append({"file": r["file"], "path": str(r["path"]),
                     "source": _source(r["source"], lang),
                     "outcome": _outcome(r["outcome"], lang),
                     "rows": f"{_int(r['rows_read'], lang)} / {_int(r['rows_written'], lang)}",
                     "flags": _number(r["flags_raised"]),
                     "flags_text": _int(r["flags_raised"], lang),
                     "when": _iso(when), "when_text": _when(when, lang),
                     "row_class": "danger" if r["outcome"] == "rejected" else None})
    return _grid(DataStatusPage.RUNS, columns, rows, lang)
