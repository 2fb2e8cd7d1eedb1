"""Commission view (issue 13, item 5): the volumes that crossed each border against the norm
(month, season, water year; charts and the water-year trend), data completeness per
party, both parties' series at the shared posts with the periods of disagreement, water
quality at the border sites, the exchange log with an acknowledge action, and the monthly
report as PDF and XLSX.

The data come from :mod:`hydro.services.commission` (and :mod:`hydro.services.exchange`)
through the data provider; the table headers shared with the report from
:data:`hydro.services.commission.TEXT`; page words from :mod:`dashboard.i18n`.
:func:`register_callbacks` adds the acknowledge callback and the download route
``/download/commission.<pdf|xlsx>?date=&asof=&lang=``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html, no_update

from dashboard import components as ui
from dashboard import format as numfmt
from dashboard import timequery
from dashboard.context import AppContext, of_app
from dashboard.i18n import query_string, resolve_lang, t, t_or
from dashboard.plotly_locale import graph_config
from dashboard.provider import DataProvider
from hydro.services import commission as cm
from hydro.services.labels import quality_display

PATH = "/commission"
DOWNLOAD_RULE = "/download/commission.<fmt_>"
PARTY_COLOURS = {"KZ": "#1f77b4", "RU": "#d62728"}
LINE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f")


class CommissionPage(StrEnum):
    TITLE = "commission-title"
    DOWNLOADS = "commission-downloads"
    PDF = "commission-download-pdf"
    XLSX = "commission-download-xlsx"
    VOLUMES = "commission-volumes"
    WATER_YEARS = "commission-water-years"
    MONTHS = "commission-months"
    TRENDS = "commission-trends"
    COMPLETENESS = "commission-completeness"
    SHARED = "commission-shared"
    PERIODS = "commission-periods"
    QUALITY = "commission-quality"
    EXCHANGE = "commission-exchange"
    ACK_RUN = "commission-ack-run"
    ACK_PARTY = "commission-ack-party"
    ACK_NAME = "commission-ack-name"
    ACK_NOTE = "commission-ack-note"
    ACK_BUTTON = "commission-ack-button"
    ACK_MESSAGE = "commission-ack-message"
    STATE = "commission-state"       # dcc.Store: lang, day, asof of the rendered page


# --------------------------------------------------------------------------- helpers

def _num(value: object, lang: str, decimals: int = 0) -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return numfmt.DASH
    return numfmt.number(x, lang, decimals, group=True)


def _when(value: object, lang: str) -> str:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return numfmt.DASH
    stamp = pd.Timestamp(value).to_pydatetime().replace(microsecond=0)  # type: ignore[arg-type]
    return numfmt.date_time(stamp.replace(second=0), lang)


def _value(value: object) -> float | None:
    """A number for a grid's "num" column (sorted, filtered, exported); None when missing."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if pd.isna(x) else x


def _iso(value: object) -> str | None:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return pd.Timestamp(value).isoformat()  # type: ignore[arg-type]


def _numbers(row: dict[str, Any], field: str, value: object, lang: str,
             decimals: int = 0) -> None:
    """``row[field]``: the number, ``row[field_text]``: as the page writes it."""
    row[field], row[f"{field}_text"] = _value(value), _num(value, lang, decimals)


def _grid(name: str, columns: list[ui.GridColumn], rows: list[dict], lang: str) -> html.Div:
    """A commission table as a sortable, filterable grid with its CSV export."""
    return ui.data_grid(name, columns, rows, lang, f"hydrorisk-{name}.csv")


def _cols(lang: str, *spec: tuple[str, str, str]) -> list[ui.GridColumn]:
    """Grid columns from (field, cm.text key, kind)."""
    return [ui.GridColumn(cm.text(key, lang), field, kind) for field, key, kind in spec]


def _panel(title: str, body: list, component_id: str, help_text: str | None = None
           ) -> html.Div:
    head: list = [html.Div(title, className="section-title")]
    if help_text:
        head.append(html.P(help_text, className="text-muted small mb-2"))
    return html.Div([*head, *body], id=component_id, className="panel mb-3")


def _month_ticks(first: pd.Timestamp, last: pd.Timestamp, lang: str, step: int = 1
                 ) -> dict[str, Any]:
    """Date-axis ticks on the first of every ``step``-th month with the month written in
    ``lang`` (plotly would write English month names)."""
    from babel.dates import format_date

    months = pd.date_range(first.to_period("M").to_timestamp(), last, freq=f"{step}MS")
    text = [format_date(m.date(), "LLL yyyy", locale=numfmt.locale(lang)) for m in months]
    return {"tickvals": list(months), "ticktext": text,
            "hoverformat": "%Y-%m-%d" if lang == "en" else "%d.%m.%Y"}


def _layout(fig: go.Figure, lang: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        height=height, margin={"l": 55, "r": 15, "t": 30, "b": 40},
        separators=", " if lang in ("kk", "ru") else ".,",
        legend={"orientation": "h", "y": -0.18}, template="plotly_white",
        hovermode="x unified")
    return fig


def download_href(fmt_: str, lang: str, day: dt.date, asof: str | None) -> str:
    return f"/download/commission.{fmt_}" + query_string("", lang=lang, date=day.isoformat(),
                                                         asof=asof or None)


# --------------------------------------------------------------------------- render

def render(provider: DataProvider, lang: str, date: str | None = None,
           asof: str | None = None, now: dt.datetime | None = None) -> html.Div:
    """The commission page for ``lang``, the month of ``date`` (ISO; the newest stored day
    by default; shown up to that day) and the knowledge time ``asof``."""
    when = timequery.resolve(provider, lang, date, asof, now=now)
    day = when.day
    data = provider.commission(day, when.received_by)
    banner = [ui.synthetic_banner(lang)] if provider.is_synthetic() else []
    month = f"{day.year:04d}-{day.month:02d}"
    header = html.Div([
        html.H1(t("cm.title", lang), id=CommissionPage.TITLE, className="page-title"),
        html.P(t("cm.period", lang, month=cm.month_name(month, lang),
                 day=numfmt.date(day, lang)), className="mb-1"),
        _downloads(lang, day, asof if when.received_by else None, month),
    ], className="page-header")
    if data is None:
        return html.Div([*banner, header,
                         dbc.Alert(t("cm.unavailable", lang), color="info")],
                        className="commission-page", lang=lang)
    return html.Div([
        *banner,
        header,
        dcc.Store(id=CommissionPage.STATE, data={"lang": lang, "day": day.isoformat(),
                                                 "asof": asof if when.received_by else None}),
        _volumes(data, lang),
        _completeness(data, lang),
        _shared(data, lang),
        _quality(data, lang),
        _exchange_panel(data, lang),
    ], className="commission-page", lang=lang)


def _downloads(lang: str, day: dt.date, asof: str | None, month: str) -> html.Div:
    links = [html.A(label, id=cid, href=download_href(fmt_, lang, day, asof),
                    className="btn btn-sm btn-outline-primary me-1", download="")
             for fmt_, label, cid in (("pdf", "PDF", CommissionPage.PDF),
                                      ("xlsx", "XLSX", CommissionPage.XLSX))]
    return html.Div([html.Span(t("cm.download", lang, month=cm.month_name(month, lang)),
                               className="me-2"),
                     html.Span(links, id=CommissionPage.DOWNLOADS)],
                    className="asof-controls")


# ---------------------------------------------------------------- volumes

def _volumes(data: cm.CommissionData, lang: str) -> html.Div:
    per = cm.period_rows(data)
    rows: list[dict] = []
    if not per.empty:
        for border_id, part in per.groupby("border_id", sort=False):
            for r in cm.records(part):
                row: dict[str, Any] = {
                    "border": cm.node_name(data, str(border_id), lang),
                    "period": cm.period_label(str(r["period"]), str(r["label"]), r["group"],
                                              lang),
                    "days": f"{int(r['n_days'])}/{int(r['n_expected'])}",
                    "row_class": "info" if r["period"] == "month" else None}
                _numbers(row, "volume", r["volume_hm3"], lang, 1)
                _numbers(row, "norm", r["norm_hm3"], lang, 1)
                _numbers(row, "pct", r["percent_of_norm"], lang)
                _numbers(row, "exceed", r["exceedance_percent"], lang)
                rows.append(row)
    columns = _cols(lang, ("border", "col.border", "text"), ("period", "col.period", "text"),
                    ("days", "col.days", "text"), ("volume", "col.volume", "num"),
                    ("norm", "col.norm", "num"), ("pct", "col.pct", "num"),
                    ("exceed", "col.exceed", "num"))
    y0, y1 = data.base_period or ("", "")
    body: list = [
        _grid("commission-volumes-table", columns, rows, lang)
        if rows else html.P(t("cm.volumes.none", lang)),
        dbc.Row([
            dbc.Col(dcc.Graph(id=CommissionPage.WATER_YEARS, figure=_water_year_figure(data, lang),
                              config=graph_config(lang)), lg=6),
            dbc.Col(dcc.Graph(id=CommissionPage.MONTHS, figure=_month_figure(data, lang),
                              config=graph_config(lang)), lg=6),
        ]),
        html.Div(cm.text("sec.trends", lang), className="section-title mt-2"),
        _trend_table(data, lang),
    ]
    return _panel(cm.text("sec.volumes", lang), body, CommissionPage.VOLUMES,
                  cm.text("norm.note", lang, y0=y0, y1=y1))


def _water_year_figure(data: cm.CommissionData, lang: str) -> go.Figure:
    fig = go.Figure()
    table = data.volumes.get("water_year", pd.DataFrame())
    trends = data.trends.set_index("border_id") if not data.trends.empty else pd.DataFrame()
    for k, (border_id, part) in enumerate(table.groupby("border_id", sort=False)
                                          if not table.empty else []):
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        name = cm.node_name(data, str(border_id), lang)
        done = part[part["volume_hm3"].notna()]
        fig.add_trace(go.Scatter(x=done["year"], y=done["percent_of_norm"], name=name,
                                 mode="lines+markers", line={"color": colour},
                                 customdata=done["volume_hm3"],
                                 hovertemplate="%{y:.0f} % (%{customdata:,.0f} "
                                               + cm.text("col.volume", lang).split(",")[-1]
                                               + ")"))
        if border_id in trends.index and len(done):
            tr = cm.records(trends.loc[[border_id]])[0]
            norm = float(done["norm_hm3"].iloc[0])
            if pd.notna(tr["slope_per_year"]) and norm:
                years = [int(tr["first_year"]), int(tr["last_year"])]
                line = [100 * (tr["intercept"] + tr["slope_per_year"] * (y - years[0])) / norm
                        for y in years]
                fig.add_trace(go.Scatter(x=years, y=line, mode="lines", showlegend=False,
                                         name=t("cm.chart.trend", lang, name=name),
                                         line={"color": colour, "dash": "dash", "width": 1},
                                         hoverinfo="skip"))
    fig.add_hline(y=100, line={"color": "#555", "width": 1, "dash": "dot"})
    fig.update_layout(title={"text": t("cm.chart.wy", lang), "font": {"size": 13}},
                      yaxis_title=cm.text("col.pct", lang),
                      xaxis={"dtick": 1, "tickformat": "d"})
    return _layout(fig, lang)


def _month_figure(data: cm.CommissionData, lang: str) -> go.Figure:
    fig = go.Figure()
    table = data.volumes.get("month", pd.DataFrame())
    last = pd.Period(data.month, freq="M")
    first = last - (cm.WINDOW_MONTHS - 1)
    for k, (border_id, part) in enumerate(table.groupby("border_id", sort=False)
                                          if not table.empty else []):
        per = pd.PeriodIndex(part["start"], freq="M")
        sel = part[(per >= first) & (per <= last)]
        if sel.empty:
            continue
        labels = [f"{str(s)[5:7]}.{str(s)[:4]}" if lang != "en" else str(s)[:7]
                  for s in sel["start"]]
        fig.add_trace(go.Bar(x=labels, y=sel["percent_of_norm"],
                             name=cm.node_name(data, str(border_id), lang),
                             marker={"color": LINE_COLOURS[k % len(LINE_COLOURS)]},
                             hovertemplate="%{y:.0f} %"))
    fig.add_hline(y=100, line={"color": "#555", "width": 1, "dash": "dot"})
    fig.update_layout(title={"text": t("cm.chart.months", lang), "font": {"size": 13}},
                      yaxis_title=cm.text("col.pct", lang), barmode="group",
                      xaxis={"type": "category"})
    return _layout(fig, lang)


def _trend_table(data: cm.CommissionData, lang: str) -> html.Div:
    rows = []
    for r in cm.records(data.trends) if not data.trends.empty else []:
        trend = r["trend"] if isinstance(r["trend"], str) else "none"
        mark = " *" if r["significant"] is True else ""
        row: dict[str, Any] = {
            "border": cm.node_name(data, str(r["border_id"]), lang),
            "years": f"{r['first_year']}–{r['last_year']}" if r['first_year'] else numfmt.DASH,
            "trend": cm.text("trend." + trend, lang) + mark}
        _numbers(row, "n", r["n"], lang)
        _numbers(row, "slope", r["slope_per_year"], lang, 1)
        _numbers(row, "p", r["p"], lang, 3)
        rows.append(row)
    columns = [*_cols(lang, ("border", "col.border", "text"), ("years", "col.years", "text")),
               ui.GridColumn("n", "n", "num"),
               *_cols(lang, ("trend", "col.trend", "text"), ("slope", "col.slope", "num"),
                      ("p", "col.p", "num"))]
    if not rows:
        return html.Div(html.P(t("cm.volumes.none", lang)), id=CommissionPage.TRENDS)
    return html.Div([_grid("commission-trends-table", columns, rows, lang),
                     html.P(t("cm.trend.note", lang), className="text-muted small")],
                    id=CommissionPage.TRENDS)


# ---------------------------------------------------------------- completeness

def _completeness(data: cm.CommissionData, lang: str) -> html.Div:
    comp = data.completeness
    if comp.empty:
        return _panel(cm.text("sec.completeness", lang), [html.P(t("cm.none", lang))],
                      CommissionPage.COMPLETENESS)
    months = list(dict.fromkeys(comp["month"]))
    # a month's share of the expected values: complete green, >= 90 % amber, less red
    share_rules = {"text-success": "x >= 99.9", "text-warning fw-bold": "x >= 90 && x < 99.9",
                   "text-danger fw-bold": "x != null && x < 90"}
    columns = [*_cols(lang, ("gauge", "col.gauge", "text"), ("party", "col.party", "text"),
                      ("variable", "col.variable", "text")),
               *(ui.GridColumn(f"{m[5:7]}.{m[:4]}" if lang != "en" else m,
                               "m_" + m.replace("-", "_"), "num",
                               options={"cellClassRules": share_rules}) for m in months)]
    rows: list[dict] = []
    for (gauge_id, party, variable), part in comp.groupby(["gauge_id", "party", "variable"],
                                                          sort=False):
        shares = dict(zip(part["month"], part["share"], strict=True))
        row: dict[str, Any] = {"gauge": cm.node_name(data, str(gauge_id), lang),
                               "party": _party_name(str(party), lang),
                               "variable": cm.text(f"var.{variable}", lang)}
        for m in months:
            s = shares.get(m)
            missing = s is None or pd.isna(s)
            _numbers(row, "m_" + m.replace("-", "_"), None if missing else 100 * float(s), lang)
        rows.append(row)
    return _panel(cm.text("sec.completeness", lang),
                  [_grid("commission-completeness-table", columns, rows, lang)],
                  CommissionPage.COMPLETENESS, t("cm.completeness.help", lang))


# ---------------------------------------------------------------- shared posts

def _shared(data: cm.CommissionData, lang: str) -> html.Div:
    graphs = []
    for gauge_id, daily in data.shared.items():
        if daily.empty:
            continue
        graphs.append(dbc.Col(dcc.Graph(figure=_party_figure(data, gauge_id, daily, lang),
                                        config=graph_config(lang)), lg=6))
    body: list = [dbc.Row(graphs)] if graphs else [html.P(t("cm.shared.none", lang))]
    start = pd.Timestamp(data.day) - pd.DateOffset(months=cm.WINDOW_MONTHS)
    rows = []
    for r in cm.records(data.periods):
        row: dict[str, Any] = {"gauge": cm.node_name(data, str(r["gauge_id"]), lang),
                               "start": _iso(r["start"]),
                               "start_text": numfmt.date(r["start"], lang),
                               "end": _iso(r["end"]), "end_text": numfmt.date(r["end"], lang)}
        _numbers(row, "days", r["days"], lang)
        _numbers(row, "maxdiff", r["max_abs_difference"], lang)
        _numbers(row, "meandiff", r["mean_difference"], lang, 1)
        _numbers(row, "flagged", r["flagged_days"], lang)
        rows.append(row)
    columns = _cols(lang, ("gauge", "col.gauge", "text"), ("start", "col.from", "time"),
                    ("end", "col.to", "time"), ("days", "col.days", "num"),
                    ("maxdiff", "col.maxdiff", "num"), ("meandiff", "col.meandiff", "num"),
                    ("flagged", "col.flagged", "num"))
    tol = sorted(set(data.tolerance.values()))
    body += [html.Div(cm.text("sec.periods", lang), className="section-title mt-2"),
             html.Div(_grid("commission-periods-table", columns, rows, lang)
                      if rows else html.P(t("cm.periods.none", lang,
                                            start=numfmt.date(start.date(), lang),
                                            end=numfmt.date(data.day, lang))),
                      id=CommissionPage.PERIODS)]
    help_text = cm.text("tol.note", lang, tol=", ".join(_num(x, lang) for x in tol)) \
        if tol else None
    return _panel(t("cm.shared.title", lang), body, CommissionPage.SHARED, help_text)


def _party_figure(data: cm.CommissionData, gauge_id: str, daily: pd.DataFrame,
                  lang: str) -> go.Figure:
    fig = go.Figure()
    for party in ("KZ", "RU"):
        if party in daily.columns:
            fig.add_trace(go.Scatter(x=daily.index, y=daily[party], name=_party_name(party, lang),
                                     mode="lines",
                                     line={"color": PARTY_COLOURS[party], "width": 1.5}))
    periods = data.periods[data.periods["gauge_id"] == gauge_id] \
        if not data.periods.empty else data.periods
    for r in cm.records(periods):
        fig.add_vrect(x0=pd.Timestamp(r["start"]) - pd.Timedelta(hours=12),
                      x1=pd.Timestamp(r["end"]) + pd.Timedelta(hours=12),
                      fillcolor="#f0ad4e", opacity=0.25, line_width=0)
    if len(periods):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=t("cm.shade", lang),
                                 marker={"color": "#f0ad4e", "symbol": "square", "size": 12,
                                         "opacity": 0.5}))
    first, last = pd.Timestamp(daily.index.min()), pd.Timestamp(daily.index.max())
    step = max(1, -(-((last - first).days // 30 + 1) // 6))
    fig.update_layout(title={"text": cm.node_name(data, gauge_id, lang), "font": {"size": 13}},
                      yaxis_title=t("cm.stage", lang),
                      xaxis=_month_ticks(first, last, lang, step))
    return _layout(fig, lang, height=280)


# ---------------------------------------------------------------- quality

def _quality(data: cm.CommissionData, lang: str) -> html.Div:
    rows = []
    for q in data.quality:
        row: dict[str, Any] = {
            "site": cm.node_name(data, q.site_id, lang), "year": q.year,
            "year_text": str(q.year), "kz": quality_display(q.kz_in_force, lang),
            "ru": quality_display(q.ukizv, lang) if q.ukizv is not None else numfmt.DASH,
            "marks": ", ".join(cm.text("mark." + m, lang) for m in q.marks) or numfmt.DASH}
        _numbers(row, "samples", q.n_samples, lang)
        rows.append(row)
    columns = _cols(lang, ("site", "col.site", "text"), ("year", "col.year", "num"),
                    ("samples", "col.samples", "num"), ("kz", "col.kz", "text"),
                    ("ru", "col.ru", "text"), ("marks", "col.marks", "text"))
    body = [_grid("commission-quality-table", columns, rows, lang)] if rows \
        else [html.P(t("cm.quality.none", lang))]
    return _panel(cm.text("sec.quality", lang), body, CommissionPage.QUALITY,
                  t("cm.quality.help", lang))


# ---------------------------------------------------------------- exchange log

def _party_name(code: str, lang: str) -> str:
    """A party as every page writes it (``party.KZ``: КЗ/ҚЗ/KZ, ``party.RU``: РФ/RU; the
    data-status page's words), or the commission."""
    if code == "commission":
        return t("cm.party.commission", lang)
    return t_or(f"party.{code}", lang, code)


def _acknowledgements(acks: list[dict], lang: str) -> str:
    """An exchange's acknowledgements as text: "КЗ: name, date — note", one per line."""
    out = []
    for a in acks:
        note = f" — {a['note']}" if a["note"] else ""
        out.append(f"{_party_name(a['party'], lang)}: {a['acknowledged_by']}, "
                   f"{_when(a['acknowledged_at'], lang)}{note}")
    return "\n".join(out)


def exchange_table(log: pd.DataFrame, lang: str) -> html.Div:
    """The exchange log's grid (newest first), acknowledgements in the last column."""
    if log.empty:
        return html.Div(html.P(t("cm.exchange.none", lang)))
    rows = []
    for r in cm.records(log):
        row: dict[str, Any] = {
            "file": r["file"], "source": r["source"] or numfmt.DASH,
            "delivered_by": _party_name(r["party"], lang) if r["party"] else numfmt.DASH,
            "received": _iso(r["received_at"]), "received_text": _when(r["received_at"], lang),
            "ack": _acknowledgements(r["acknowledgements"], lang)
            or cm.text("not_acknowledged", lang),
            "row_class": None if r["acknowledgements"] else "warning"}
        row["run"], row["run_text"] = int(r["run_id"]), str(int(r["run_id"]))
        _numbers(row, "rows", r["rows_written"], lang)
        rows.append(row)
    columns = _cols(lang, ("run", "col.run", "num"), ("file", "col.file", "text"),
                    ("source", "col.source", "text"),
                    ("delivered_by", "col.delivered_by", "text"),
                    ("received", "col.received", "time"), ("rows", "col.rows", "num"),
                    ("ack", "col.ack", "text"))
    columns[-1] = ui.GridColumn(columns[-1].header, "ack", options={
        "minWidth": 220, "cellStyle": {"whiteSpace": "pre-line"}})
    return _grid("commission-exchange-table", columns, rows, lang)


def _run_options(log: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    return [{"label": f"{int(r['run_id'])} — {r['file']} "
                      f"({_party_name(r['party'], lang) if r['party'] else numfmt.DASH}, "
                      f"{_when(r['received_at'], lang)})",
             "value": str(int(r["run_id"]))} for r in cm.records(log)]


def _exchange_panel(data: cm.CommissionData, lang: str) -> html.Div:
    from dashboard.auth import current_account

    account = current_account()
    log = data.exchange
    parties = [{"label": _party_name(p, lang), "value": p} for p in ("KZ", "RU")] + \
        [{"label": t("cm.party.commission", lang), "value": "commission"}]
    form = dbc.Card(dbc.CardBody([
        html.Div(t("cm.ack.title", lang), className="fw-bold mb-2"),
        dbc.Row([
            dbc.Col([dbc.Label(t("cm.ack.run", lang), html_for=CommissionPage.ACK_RUN),
                     dbc.Select(id=CommissionPage.ACK_RUN, options=_run_options(log, lang),
                                placeholder=t("cm.ack.run.placeholder", lang), size="sm")],
                    lg=5),
            # the party and the name are the logged-in account's (dashboard.auth), shown
            # and not editable; the server uses the session's, whatever is sent
            dbc.Col([dbc.Label(t("cm.ack.party", lang), html_for=CommissionPage.ACK_PARTY),
                     dbc.Select(id=CommissionPage.ACK_PARTY, options=parties,
                                value=account.party if account else None,
                                disabled=account is not None,
                                placeholder=t("cm.ack.party.placeholder", lang), size="sm")],
                    lg=2),
            dbc.Col([dbc.Label(t("cm.ack.name", lang), html_for=CommissionPage.ACK_NAME),
                     dbc.Input(id=CommissionPage.ACK_NAME, type="text", maxLength=200,
                               value=account.name if account else None,
                               disabled=account is not None,
                               placeholder=t("cm.ack.name.placeholder", lang), size="sm")],
                    lg=2),
            dbc.Col([dbc.Label(t("cm.ack.note", lang), html_for=CommissionPage.ACK_NOTE),
                     dbc.Input(id=CommissionPage.ACK_NOTE, type="text", maxLength=2000,
                               size="sm")],
                    lg=3),
        ], className="g-2"),
        html.Div([
            dbc.Button(t("cm.ack.button", lang), id=CommissionPage.ACK_BUTTON,
                       color="primary", size="sm", className="mt-2 me-2"),
            html.Span(t("cm.ack.name.help", lang), className="text-muted small"),
        ]),
        html.Div(id=CommissionPage.ACK_MESSAGE, className="mt-2"),
    ]), className="mb-2 ack-form")
    return _panel(cm.text("sec.exchange", lang),
                  [form, html.Div(exchange_table(log, lang), id=CommissionPage.EXCHANGE)],
                  "commission-exchange-panel", t("cm.exchange.help", lang))


# --------------------------------------------------------------------------- callbacks

def acknowledge(provider: DataProvider, n_clicks: int | None, run_id: object, party: object,
                name: object, note: object, state: dict | None,
                now: dt.datetime | None = None):
    """The acknowledge button: store the acknowledgement (at ``now``, naive UTC; the app's
    clock), or say why it is refused.  Returns (message, exchange table redrawn)."""
    from hydro.services.exchange import ExchangeError

    if not n_clicks:
        return no_update, no_update
    state = state or {}
    lang = resolve_lang(state.get("lang"), "en")
    if run_id in (None, ""):
        return dbc.Alert(t("cm.ack.unknown_run", lang), color="warning"), no_update
    if party in (None, ""):
        return dbc.Alert(t("cm.ack.bad_party", lang), color="warning"), no_update
    try:
        provider.acknowledge_delivery(int(str(run_id)), str(party), str(name or ""),
                                      str(note or "") or None,
                                      at=now.replace(microsecond=0) if now else None)
    except ExchangeError as e:
        fields = {"run": str(run_id), "deliverer": e.deliverer or "",
                  "party": _party_name(str(party), lang)}
        key = f"cm.ack.{e.code}"
        return dbc.Alert(t(key, lang, **fields), color="danger",
                         className="ack-refused"), no_update
    message = dbc.Alert(t("cm.ack.done", lang, run=str(run_id),
                          party=_party_name(str(party), lang), name=str(name).strip()),
                        color="success", className="ack-stored")
    day = timequery.parse_day(state.get("day")) or dt.date.today()
    received_by = timequery.parse_asof(state.get("asof")) if state.get("asof") else None
    data = provider.commission(day, received_by)
    table = exchange_table(data.exchange, lang) if data is not None else no_update
    return message, table


def download(context: AppContext, fmt_: str, args: dict[str, str]) -> flask.Response:
    """The monthly report for a download request (``args``: lang, date, asof)."""
    if fmt_ not in cm.FORMATS:
        flask.abort(404)
    provider = context.provider
    lang = resolve_lang(args.get("lang"), context.default_language)
    when = timequery.resolve(provider, lang, args.get("date"), args.get("asof"),
                             now=context.now())
    data = provider.commission_report(when.day, lang, fmt_, when.received_by,
                                      made_at=context.now().replace(microsecond=0))
    if data is None:
        flask.abort(404)
    response = flask.Response(data, mimetype=cm.MEDIA_TYPES[fmt_])
    month = f"{when.day.year:04d}-{when.day.month:02d}"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{cm.filename(month, lang, fmt_)}"'
    return response


def register_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output(CommissionPage.ACK_MESSAGE, "children"),
        Output(CommissionPage.EXCHANGE, "children"),
        Input(CommissionPage.ACK_BUTTON, "n_clicks"),
        State(CommissionPage.ACK_RUN, "value"),
        State(CommissionPage.ACK_PARTY, "value"),
        State(CommissionPage.ACK_NAME, "value"),
        State(CommissionPage.ACK_NOTE, "value"),
        State(CommissionPage.STATE, "data"),
        prevent_initial_call=True,
    )
    def on_acknowledge(n_clicks, run_id, party, name, note, state):
        # who acknowledges, and for which party, is the logged-in account (dashboard.auth):
        # an operator or above, acknowledging only for their own party; the page's name and
        # party fields are ignored (a party field naming another party is refused, 403)
        from dashboard import auth

        account = auth.require("operator")
        if party not in (None, "") and str(party) != account.party:
            auth.require("operator", party=str(party))
        ctx = of_app(app)
        result = acknowledge(ctx.provider, n_clicks, run_id, account.party, account.name,
                             note, state, now=ctx.now())
        if result[1] is not no_update:
            auth.record("exchange_ack", target=f"ingest run {run_id}",
                        detail=f"party={account.party}" + (f" note={note}" if note else ""))
        return result

    def serve(fmt_: str) -> flask.Response:
        return download(of_app(app), fmt_, dict(flask.request.args))

    app.server.add_url_rule(DOWNLOAD_RULE, "commission_download", serve)


__all__ = ["acknowledge", "download", "download_href", "exchange_table", "render",
           "register_callbacks"]
