"""Bulletin view: the daily table the agencies publish, for the URL's day (``?date=``) and
knowledge time (``?asof=``), with PDF, CSV and HTML downloads.

The rows come from :func:`hydro.services.bulletin.bulletin` through the data provider; their
layout and words (shared with ``hydrorisk report bulletin``) from
:mod:`hydro.services.bulletin_output`; numbers are written by :mod:`dashboard.format`.
:func:`register_callbacks` adds the date picker's callback and the download route
``/download/bulletin.<csv|html|pdf>?date=&asof=&lang=``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from urllib.parse import parse_qsl

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, State, dcc, html, no_update

from dashboard import components as ui
from dashboard import format as numfmt
from dashboard import timequery
from dashboard.context import AppContext
from dashboard.i18n import LANGUAGES, query_string, resolve_lang, t
from dashboard.ids import Shell
from dashboard.provider import DataProvider
from dashboard.views.stations import DATE_FORMATS
from hydro.services import bulletin_output as bo

PATH = "/bulletin"
DOWNLOAD_RULE = "/download/bulletin.<fmt_>"


class BulletinPage(StrEnum):
    TITLE = "bulletin-title"
    DATE = "bulletin-date"
    SHOWN_DATE = "bulletin-shown-date"
    DOWNLOADS = "bulletin-downloads"
    PDF = "bulletin-download-pdf"
    CSV = "bulletin-download-csv"
    HTML = "bulletin-download-html"
    GAUGES = "bulletin-gauges"
    RESERVOIRS = "bulletin-reservoirs"


def number(value: object, lang: str, decimals: int = 0, signed: bool = False,
           group: bool = False) -> str:
    """:func:`dashboard.format.number` for the bulletin's cells (empty for no value)."""
    if value is None:
        return ""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if x != x:  # NaN
        return ""
    return numfmt.number(x, lang, decimals, signed=signed, group=group)


def download_href(fmt_: str, lang: str, day: dt.date, asof: str | None) -> str:
    return f"/download/bulletin.{fmt_}" + query_string("", lang=lang, date=day.isoformat(),
                                                       asof=asof or None)


def render(provider: DataProvider, lang: str, date: str | None = None,
           asof: str | None = None, now: dt.datetime | None = None) -> html.Div:
    """The bulletin page for ``lang``, the day ``date`` (ISO; the newest stored day by
    default) and the knowledge time ``asof``; the shell shows the time banners."""
    when = timequery.resolve(provider, lang, date, asof, now=now)
    day = when.day
    frame = provider.bulletin(day, when.received_by)
    banner = [ui.synthetic_banner(lang)] if provider.is_synthetic() else []
    header = html.Div([
        html.H1(bo.text("title", lang), id=BulletinPage.TITLE, className="page-title"),
        _controls(lang, day, when.first, when.last, asof if when.received_by else None),
    ], className="page-header")
    if frame is None:
        return html.Div([*banner, header,
                         dbc.Alert(t("bulletin.unavailable", lang), color="info")],
                        className="bulletin-page", lang=lang)
    doc = bo.document(frame, provider.config, lang, provider.is_synthetic(),
                      when.received_by, num=number)
    tables = [html.Div([html.Div(table.title, className="section-title"),
                        html.Div(_table(table), className="table-scroll")],
                       id=BulletinPage.GAUGES if table.key == "gauges"
                       else BulletinPage.RESERVOIRS, className="panel mb-3")
              for table in doc.tables]
    return html.Div([
        *banner,
        header,
        html.P([html.B(doc.subtitle), "; ", doc.knowledge], className="bulletin-subtitle"),
        *tables,
        html.Div([html.P(n) for n in doc.notes], className="footnotes"),
    ], className="bulletin-page", lang=lang)


def _controls(lang: str, day: dt.date, first: dt.date | None, last: dt.date | None,
              asof: str | None) -> html.Div:
    links = [html.A(label, id=cid, href=download_href(fmt_, lang, day, asof),
                    className="btn btn-sm btn-outline-primary me-1", download="")
             for fmt_, label, cid in (("pdf", "PDF", BulletinPage.PDF),
                                      ("csv", "CSV", BulletinPage.CSV),
                                      ("html", "HTML", BulletinPage.HTML))]
    return html.Div([
        dcc.Store(id=BulletinPage.SHOWN_DATE, data=day.isoformat()),
        html.Label(t("bulletin.date", lang), htmlFor=BulletinPage.DATE, className="asof-label"),
        dcc.DatePickerSingle(
            id=BulletinPage.DATE, date=day.isoformat(), display_format=DATE_FORMATS[lang],
            first_day_of_week=1, placeholder=t("date.placeholder", lang),
            min_date_allowed=first.isoformat() if first else None,
            max_date_allowed=last.isoformat() if last else None,
            initial_visible_month=day.isoformat()),
        html.Span(t("bulletin.download", lang), className="ms-3 me-1"),
        html.Span(links, id=BulletinPage.DOWNLOADS),
    ], className="asof-controls")


_ROW_CLASSES = {"dangerous": "table-danger", "adverse": "table-warning",
                "low_water_dangerous": "table-info", "no_data": "text-muted"}


def _table(table: bo.Table) -> html.Table:
    head = html.Thead(html.Tr([html.Th(h) for h in table.headers]))
    body = []
    for group in table.groups:
        body.append(html.Tr(html.Td(group.title, colSpan=len(table.headers)),
                            className="bulletin-group"))
        for row in group.rows:
            body.append(html.Tr(
                [html.Td(c, className="num" if n else None)
                 for c, n in zip(row.cells, table.numeric, strict=True)],
                className=_ROW_CLASSES.get(row.status)))
    return html.Table([head, html.Tbody(body)],
                      className=f"table table-sm table-bordered bulletin-table "
                                f"bulletin-{table.key}")


# --------------------------------------------------------------------------- callbacks

def date_href(date: str | None, search: str | None, shown: str | None = None):
    """Date picker -> ``/bulletin`` for that day (language and knowledge time kept)."""
    if not date:
        return no_update
    day = str(date)[:10]
    if day == shown or dict(parse_qsl((search or "").lstrip("?"))).get("date") == day:
        return no_update
    return PATH + query_string(search, date=day)


def download(context: AppContext, fmt_: str, args: dict[str, str]) -> flask.Response:
    """The bulletin file for a download request (``args``: lang, date, asof)."""
    if fmt_ not in bo.FORMATS:
        flask.abort(404)
    provider = context.provider
    lang = resolve_lang(args.get("lang"), context.default_language)
    when = timequery.resolve(provider, lang, args.get("date"), args.get("asof"),
                             now=context.now())
    frame = provider.bulletin(when.day, when.received_by)
    if frame is None:
        flask.abort(404)
    data = bo.render(frame, provider.config, lang, fmt_, provider.is_synthetic(),
                     as_of=when.received_by, made_at=context.now().replace(microsecond=0))
    response = flask.Response(data, mimetype=bo.MEDIA_TYPES[fmt_].split(";")[0])
    response.headers["Content-Type"] = bo.MEDIA_TYPES[fmt_]
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{bo.filename(when.day, lang, fmt_)}"'
    return response


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(Shell.NAVIGATE, "href", allow_duplicate=True),
        Input(BulletinPage.DATE, "date"),
        State(Shell.PAGES_LOCATION, "search"),
        State(BulletinPage.SHOWN_DATE, "data"),
        prevent_initial_call=True,
    )(date_href)

    def serve(fmt_: str) -> flask.Response:
        from dashboard.context import of_app

        return download(of_app(app), fmt_, dict(flask.request.args))

    app.server.add_url_rule(DOWNLOAD_RULE, "bulletin_download", serve)


__all__ = ["LANGUAGES", "download", "download_href", "date_href", "render",
           "register_callbacks"]
