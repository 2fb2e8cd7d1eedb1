"""Upload view (``/upload``): an operator loads a series file for one of their party's
sources; it is checked and ingested by :mod:`hydro.services.uploads` (size, type and
content checks, a name of our own, quarantine on refusal, the audit log) through the data
provider, and the result is shown with the rows written or the reason for refusal.

Viewers see the page's explanation but no form; the callback itself requires the
``operator`` role on the server (:func:`dashboard.auth.require`), whatever the page shows.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from dashboard import format as numfmt
from dashboard.context import of_app
from dashboard.i18n import t
from dashboard.provider import DataProvider
from hydro.services.accounts import Account
from hydro.services.uploads import MAX_UPLOAD_BYTES, SUFFIXES, UploadError


class UploadPage(StrEnum):
    TITLE = "upload-title"
    SOURCE = "upload-source"
    FILE = "upload-file"
    RESULT = "upload-result"
    LANG = "upload-lang"


def _megabytes(n: int, lang: str) -> str:
    return numfmt.number(n / 2**20, lang, 0)


def render(provider: DataProvider, lang: str, account: Account | None) -> html.Div:
    """The page for the logged-in ``account`` (None outside a login)."""
    role_ok = account is not None and account.has_role("operator")
    sources = [] if account is None else provider.uploadable_sources(
        account.party, admin=account.has_role("admin"))
    intro = html.P(t("upload.intro", lang, types=", ".join(SUFFIXES),
                     limit=_megabytes(MAX_UPLOAD_BYTES, lang)))
    children: list = [html.H2(t("upload.title", lang), id=UploadPage.TITLE), intro,
                      dcc.Store(id=UploadPage.LANG, data=lang)]
    if not role_ok:
        children.append(dbc.Alert(t("upload.operator_only", lang), color="secondary"))
        return html.Div(children, className="upload-page")
    if not sources:
        children.append(dbc.Alert(t("upload.no_sources", lang), color="warning"))
        return html.Div(children, className="upload-page")
    children += [
        dbc.Label(t("upload.source", lang), html_for=UploadPage.SOURCE),
        dcc.Dropdown(id=UploadPage.SOURCE, options=[{"label": s, "value": s} for s in sources],
                     value=sources[0], clearable=False, className="mb-2",
                     style={"maxWidth": "24rem"}),
        dcc.Upload(id=UploadPage.FILE, max_size=MAX_UPLOAD_BYTES, multiple=False,
                   children=html.Div(t("upload.drop", lang)), className="upload-drop",
                   style={"border": "2px dashed #888", "borderRadius": "6px",
                          "padding": "1.5rem", "textAlign": "center", "maxWidth": "40rem"}),
        html.Div(id=UploadPage.RESULT, className="mt-3", role="status"),
        html.P(dcc.Link(t("upload.see_status", lang), href=f"/data-status?lang={lang}"),
               className="mt-2"),
    ]
    return html.Div(children, className="upload-page")


def decode_contents(contents: str) -> bytes:
    """The bytes of a ``dcc.Upload`` value (``data:<type>;base64,<data>``); ValueError
    when it is not one."""
    _, sep, b64 = contents.partition(",")
    if not sep:
        raise ValueError("not a data URL")
    try:
        return base64.b64decode(b64, validate=True)
    except binascii.Error as e:
        raise ValueError(str(e)) from None


def result_alert(provider: DataProvider, contents: str | None, filename: str | None,
                 source: str | None, lang: str, user: str, party: str | None,
                 admin: bool, address: str | None = None) -> dbc.Alert:
    """Check and ingest one upload; the alert saying what became of it."""
    try:
        content = decode_contents(contents or "")
    except ValueError:
        return dbc.Alert(t("upload.unreadable", lang), color="danger")
    try:
        r = provider.upload_series(content, filename, str(source or ""), user, party,
                                   admin=admin, address=address)
    except UploadError as e:
        return dbc.Alert([html.B(t("upload.refused", lang)), " ",
                          t(e.key, lang, name=filename or "", **{
                              k: str(v) for k, v in e.fields.items()})], color="danger")
    ing = r.ingest
    if ing.outcome == "rejected":
        return dbc.Alert([html.B(t("upload.rejected", lang, name=r.name)), html.Br(),
                          html.Code(ing.message)], color="danger")
    key = "upload.loaded" if ing.outcome == "loaded" else "upload.unchanged"
    return dbc.Alert(t(key, lang, name=r.name, written=numfmt.number(ing.rows_written, lang),
                       read=numfmt.number(ing.rows_read, lang), source=r.source),
                     color="success" if ing.outcome == "loaded" else "info")


def register_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output(UploadPage.RESULT, "children"),
        Input(UploadPage.FILE, "contents"),
        State(UploadPage.FILE, "filename"),
        State(UploadPage.SOURCE, "value"),
        State(UploadPage.LANG, "data"),
        prevent_initial_call=True,
    )
    def on_upload(contents, filename, source, lang):
        from dashboard import auth

        account = auth.require("operator")   # on the server, whatever the page shows
        if not contents:
            return no_update
        return result_alert(of_app(app).provider, contents, filename, source, lang or "en",
                            account.name, account.party, account.has_role("admin"),
                            address=auth.client_address())


__all__ = ["UploadPage", "decode_contents", "register_callbacks", "render", "result_alert"]
