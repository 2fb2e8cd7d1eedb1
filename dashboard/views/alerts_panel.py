"""The active-alerts panel next to the overview map, "new since your last look", and the
acknowledgement of an alert (issue 13, item 1).

:func:`panel` lists the alerts open at the page's time (``?date=`` and ``?asof=``: the end
of the day shown, or the knowledge time, whichever is earlier; now when the URL pins
neither), as they stood then (:func:`hydro.services.alerts.open_at`): station, rule,
severity, since when, escalation, the standing of the data, and the acknowledgement.
:func:`acknowledge` is what the acknowledge dialog does; who acknowledges comes from
:func:`dashboard.context.acting_user`.  The browser keeps the time of the user's last look
(``dcc.Store(storage_type="local")``); alerts opened or escalated since are marked new.

Layout: :func:`panel_container` goes into the page body (re-rendered by the page's refresh
interval: its ``STAMP`` store, re-inserted with the body, re-runs :func:`refresh_panel`);
:func:`static_parts` (the stores and the dialog) sits outside the body, so a refresh never
wipes what is being typed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, quote

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, dcc, html, no_update

from dashboard import format as fmt
from dashboard import timequery
from dashboard.i18n import query_string, resolve_lang, t, t_or
from dashboard.ids import Shell
from dashboard.provider import DataProvider
from dashboard.status import day_end_utc, network_timezones


class AlertsPanel(StrEnum):
    """Component ids of the panel and its dialog."""

    PANEL = "alerts-panel"            # the panel (inside the page body)
    STAMP = "alerts-panel-stamp"      # dcc.Store re-inserted with the body: re-renders LIST
    LIST = "alerts-panel-list"        # what refresh_panel renders
    LAST_LOOK = "alerts-last-look"    # dcc.Store(storage_type="local"): ISO time, naive UTC
    ACK_DONE = "alerts-ack-done"      # dcc.Store: the acknowledgement just made here
    MARK_SEEN = "alerts-mark-seen"
    NEW_COUNT = "alerts-new-count"
    FEEDBACK = "alerts-ack-feedback"
    MODAL = "alerts-ack-modal"
    MODAL_TITLE = "alerts-ack-title"
    MODAL_ALERT = "alerts-ack-alert"
    TARGET = "alerts-ack-target"      # dcc.Store: id of the alert in the dialog
    NAME = "alerts-ack-name"
    NOTE = "alerts-ack-note"
    CONFIRM = "alerts-ack-confirm"
    CANCEL = "alerts-ack-cancel"
    MESSAGE = "alerts-ack-message"


#: pattern-matching type of each alert's "Acknowledge…" button: {"type": ..., "alert": id}
ACK_BUTTON = "alerts-ack-open"
#: severities, most severe first (hydro.services.alerts.SEVERITIES is least severe first)
SEVERITY_ORDER = ("dangerous", "low_water_dangerous", "adverse", "info")
#: standings that make the data not confirmed (hydro.alert_rules.Standing.unconfirmed)
UNCONFIRMED = ("provisional", "qc_flagged", "single_party")


# --------------------------------------------------------------------------- the time

def panel_time(provider: DataProvider, when: timequery.When) -> dt.datetime | None:
    """The moment (naive UTC) whose open alerts the panel lists: None (now) unless the URL
    pins a past day (its end) or a knowledge time (``?asof=``), the earlier of the two."""
    if not when.fixed:
        return None
    times = []
    if when.received_by is not None:
        times.append(when.received_by)
    if when.last is None or when.day != when.last:
        times.append(day_end_utc(when.day, network_timezones(provider.config.network)))
    return min(times) if times else None


def parse_time(value: object) -> dt.datetime | None:
    """An ISO time kept by the browser -> naive UTC (None when absent or unreadable)."""
    return timequery.parse_asof(value) if isinstance(value, str) and len(value) > 10 \
        else None


def _py(value: Any) -> dt.datetime | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if hasattr(value, "to_pydatetime"):
        try:
            out = value.to_pydatetime()
        except ValueError:
            return None
        return None if pd.isna(out) else out
    return value if isinstance(value, dt.datetime) else None


def utc(value: dt.datetime | None, lang: str) -> str:
    """``12.04.2024 06:00 UTC`` (an em dash for None)."""
    return fmt.DASH if value is None else f"{fmt.date_time(value, lang)} UTC"


# --------------------------------------------------------------------------- view model

@dataclass(frozen=True)
class AlertItem:
    """One row of the panel (times naive UTC)."""

    id: int
    station_id: str
    station: str
    rule: str
    rule_label: str
    severity: str                  # at the panel's time
    since: dt.datetime | None      # first reading of the breach
    opened: dt.datetime            # when the store learnt of it
    escalation: int                # level at the panel's time
    escalated_at: dt.datetime | None
    standing: list[str] = field(default_factory=list)
    acknowledged_by: str | None = None
    acknowledged_at: dt.datetime | None = None
    acknowledged_then: bool = False     # by the panel's time
    ack_note: str | None = None
    closed_at: dt.datetime | None = None  # closed now (after the panel's time)
    new: bool = False

    @property
    def confirmed(self) -> bool:
        return not any(s in UNCONFIRMED for s in self.standing)

    @property
    def can_acknowledge(self) -> bool:
        return self.closed_at is None and self.acknowledged_at is None


def station_name(provider: DataProvider, station_id: str, lang: str) -> str:
    try:
        return provider.config.network.node(station_id).names.get(lang)
    except (KeyError, AttributeError):
        return station_id


def rule_label(kind: object, rule: str, lang: str) -> str:
    if not isinstance(kind, str) or not kind:
        return f"{t('alerts.kind.manual', lang)} ({rule})"
    return t_or(f"alerts.kind.{kind}", lang, rule)


def severity_label(severity: str, lang: str) -> str:
    return t("alerts.severity.info", lang) if severity == "info" \
        else t_or(f"status.{severity}", lang, severity)


def standing_names(bits: object) -> list[str]:
    from hydro.alert_rules import Standing

    try:
        return Standing(int(bits or 0)).names  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return []


def new_ids(frame: pd.DataFrame, last_look: dt.datetime | None) -> set[int]:
    """Alerts of ``frame`` (:func:`hydro.services.alerts.open_at`) opened or escalated
    after ``last_look`` (nothing without a last look)."""
    if last_look is None or frame is None or frame.empty:
        return set()
    opened = frame["opened_at"] > last_look
    escalated = frame["escalated_at_at"].notna() & (frame["escalated_at_at"] > last_look)
    return {int(i) for i in frame.loc[opened | escalated, "id"]}


def items(provider: DataProvider, frame: pd.DataFrame | None, lang: str,
          at: dt.datetime | None, last_look: dt.datetime | None) -> list[AlertItem]:
    """The panel's rows, most severe first, then the most recent breach first."""
    if frame is None or frame.empty:
        return []
    new = new_ids(frame, last_look)
    out = []
    # pandas-stubs type a row's fields as any scalar: the columns are open_at's
    rows: Iterable[Any] = frame.itertuples(index=False)
    for a in rows:
        acked_at = _py(a.acknowledged_at)
        out.append(AlertItem(
            id=int(a.id), station_id=str(a.station_id),
            station=station_name(provider, str(a.station_id), lang), rule=str(a.rule),
            rule_label=rule_label(a.kind, str(a.rule), lang),
            severity=str(a.severity_at or a.severity), since=_py(a.observed_at),
            opened=_py(a.opened_at) or dt.datetime.min, escalation=int(a.escalation_at),
            escalated_at=_py(a.escalated_at_at), standing=standing_names(a.standing),
            acknowledged_by=a.acknowledged_by if isinstance(a.acknowledged_by, str) else None,
            acknowledged_at=acked_at,
            acknowledged_then=acked_at is not None and (at is None or acked_at <= at),
            ack_note=a.ack_note if isinstance(a.ack_note, str) and a.ack_note else None,
            closed_at=_py(a.closed_at), new=int(a.id) in new))
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    out.sort(key=lambda i: (i.since or i.opened), reverse=True)
    out.sort(key=lambda i: rank.get(i.severity, len(rank)))
    return out


# --------------------------------------------------------------------------- layout

def _item(item: AlertItem, lang: str, search: str | None) -> html.Li:
    head: list = [html.Span(severity_label(item.severity, lang),
                            className=f"state-badge state-{item.severity}")]
    if item.station_id.split(":")[0] in ("KZ", "RU"):
        head.append(dcc.Link(item.station, className="alert-station",
                             href="/station/" + quote(item.station_id, safe=":")
                             + query_string(search)))
    else:
        head.append(html.Span(item.station, className="alert-station"))
    if item.new:
        head.append(html.Span(t("alerts.new.badge", lang), className="alert-new-badge"))
    rule_line = f"{item.rule_label} · {t('alerts.since', lang, time=utc(item.since, lang))}"
    body: list = [
        html.Div(head, className="alert-head"),
        html.Div([rule_line, html.Span(" · " + t("alerts.opened", lang,
                                                  time=utc(item.opened, lang)),
                                       className="alert-opened")],
                 className="alert-rule", title=t("alerts.since.help", lang)),
    ]
    if item.escalation:
        body.append(html.Div(t("alerts.escalated", lang, level=item.escalation,
                               time=utc(item.escalated_at, lang)),
                             className="alert-escalation escalated"))
    else:
        body.append(html.Div(t("alerts.not_escalated", lang), className="alert-escalation"))
    what = ", ".join(t(f"alerts.standing.{s}", lang) for s in item.standing) \
        if item.standing else t("alerts.standing.confirmed", lang)
    body.append(html.Div(t("alerts.standing", lang, what=what),
                         className="alert-standing" + ("" if item.confirmed
                                                       else " provisional")))
    if item.acknowledged_at is not None:
        key = "alerts.acked" if item.acknowledged_then else "alerts.acked_later"
        ack: list = [t(key, lang, by=item.acknowledged_by or fmt.DASH,
                       time=utc(item.acknowledged_at, lang))]
        if item.ack_note:
            ack.append(html.Div(t("alerts.note", lang, note=item.ack_note),
                                className="alert-ack-note"))
        body.append(html.Div(ack, className="alert-ack acknowledged"))
    else:
        body.append(html.Div(t("alerts.not_acked", lang), className="alert-ack"))
    if item.closed_at is not None:
        body.append(html.Div(t("alerts.closed_later", lang, time=utc(item.closed_at, lang)),
                             className="alert-closed-later"))
    elif item.can_acknowledge:
        body.append(dbc.Button(t("alerts.ack.open", lang),
                               id={"type": ACK_BUTTON, "alert": item.id}, size="sm",
                               color="primary", outline=True, className="alert-ack-button"))
    classes = "alert-item" + (" alert-is-new" if item.new else "") + \
        (" alert-acknowledged" if item.acknowledged_at is not None else "")
    return html.Li(body, className=classes, id=f"alert-{item.id}")


def panel(provider: DataProvider, lang: str, date: str | None = None,
          asof: str | None = None, now: dt.datetime | None = None,
          last_look: str | None = None, done: dict | None = None,
          search: str | None = None) -> list:
    """The panel's contents for the page's ``date`` and ``asof`` (the list, "new since your
    last look" against the browser's ``last_look`` — ISO, naive UTC — and, in ``done``,
    the acknowledgement just made here)."""
    when = timequery.resolve(provider, lang, date, asof, now=now)
    at = panel_time(provider, when)
    frame = provider.open_alerts(at)
    look = parse_time(last_look)
    rows = items(provider, frame, lang, at, look)
    title = t("alerts.open_now", lang, n=len(rows)) if at is None \
        else t("alerts.open_at", lang, time=utc(at.replace(microsecond=0), lang), n=len(rows))
    out: list = [html.Div([html.Span(t("alerts.title", lang), className="section-title"),
                           html.Span(title, className="alerts-count")],
                          className="alerts-head")]
    n_new = sum(1 for r in rows if r.new)
    if look is None:
        text = t("alerts.new.first", lang)
    else:
        text = t("alerts.new.count", lang, time=utc(look.replace(microsecond=0), lang),
                 n=n_new)
    out.append(html.Div([
        html.Span(text, className="alerts-new-text" + (" has-new" if n_new else ""),
                  title=t("alerts.new.help", lang)),
        dbc.Button(t("alerts.new.mark_seen", lang), id=AlertsPanel.MARK_SEEN, size="sm",
                   color="secondary", outline=True, className="alerts-mark-seen"),
    ], id=AlertsPanel.NEW_COUNT, className="alerts-new"))
    if done and done.get("message"):
        out.append(dbc.Alert(done["message"], color="success", id=AlertsPanel.FEEDBACK,
                             className="alerts-feedback py-1 px-2 mb-2"))
    if frame is None:
        out.append(html.P(t("alerts.no_store", lang), className="text-muted mb-0"))
    elif not rows:
        out.append(html.P(t("alerts.none", lang), className="text-muted mb-0"))
    else:
        out.append(html.Ul([_item(r, lang, search) for r in rows], className="alerts-list"))
    return out


def panel_container(provider: DataProvider, lang: str, date: str | None = None,
                    asof: str | None = None, now: dt.datetime | None = None) -> html.Div:
    """The panel as the page body holds it (rendered once on the server without the
    browser's last look; :func:`refresh_panel` then fills that in)."""
    search = query_string("", lang=lang, date=date, asof=asof)
    return html.Div([
        dcc.Store(id=AlertsPanel.STAMP, data=search),
        html.Div(panel(provider, lang, date, asof, now=now, search=search),
                 id=AlertsPanel.LIST),
    ], id=AlertsPanel.PANEL, className="alerts-panel")


def static_parts(lang: str) -> list:
    """The stores and the acknowledge dialog, outside the refreshed body."""
    return [
        dcc.Store(id=AlertsPanel.LAST_LOOK, storage_type="local"),
        dcc.Store(id=AlertsPanel.ACK_DONE),
        dcc.Store(id=AlertsPanel.TARGET),
        dbc.Modal([
            dbc.ModalHeader(dbc.ModalTitle(t("alerts.ack.confirm", lang),
                                           id=AlertsPanel.MODAL_TITLE)),
            dbc.ModalBody([
                html.Div(id=AlertsPanel.MODAL_ALERT, className="mb-2"),
                dbc.Label(t("alerts.ack.name", lang), html_for=AlertsPanel.NAME),
                dbc.Input(id=AlertsPanel.NAME, type="text", maxLength=64,
                          placeholder=t("alerts.ack.name_placeholder", lang),
                          persistence=True, persistence_type="local", className="mb-2"),
                dbc.Label(t("alerts.ack.note", lang), html_for=AlertsPanel.NOTE),
                dbc.Textarea(id=AlertsPanel.NOTE, maxLength=2000, rows=3,
                             placeholder=t("alerts.ack.note_placeholder", lang)),
                html.Div(id=AlertsPanel.MESSAGE, className="mt-2"),
            ]),
            dbc.ModalFooter([
                dbc.Button(t("alerts.ack.cancel", lang), id=AlertsPanel.CANCEL,
                           color="secondary", outline=True),
                dbc.Button(t("alerts.ack.confirm", lang), id=AlertsPanel.CONFIRM,
                           color="primary"),
            ]),
        ], id=AlertsPanel.MODAL, is_open=False),
    ]


# --------------------------------------------------------------------------- acknowledging

@dataclass(frozen=True)
class AckOutcome:
    ok: bool
    message: str


def acknowledge(provider: DataProvider, alert_id: object, name_input: object,
                note: object, lang: str, now: dt.datetime | None = None) -> AckOutcome:
    """Acknowledge alert ``alert_id`` as :func:`dashboard.context.acting_user` says, with
    ``note``, at ``now`` (naive UTC): refused, with the reason in ``lang``, for an empty
    name, an unknown, closed or already acknowledged alert."""
    from dashboard.context import acting_user
    from hydro.services.alerts import AlertError

    if isinstance(alert_id, bool) or not isinstance(alert_id, int):
        return AckOutcome(False, t("alerts.ack.unknown", lang, id=alert_id))
    by = acting_user(name_input)
    if by is None:
        return AckOutcome(False, t("alerts.ack.no_name", lang))
    if len(by) > 64:
        return AckOutcome(False, t("alerts.ack.too_long", lang))
    record = provider.alert(alert_id)
    if record is None:
        return AckOutcome(False, t("alerts.ack.unknown", lang, id=alert_id))
    if record.closed_at is not None:
        return AckOutcome(False, t("alerts.ack.closed", lang, id=alert_id,
                                   time=utc(record.closed_at, lang)))
    if record.acknowledged_at is not None:
        return AckOutcome(False, t("alerts.ack.already", lang, id=alert_id,
                                   by=record.acknowledged_by or fmt.DASH,
                                   time=utc(record.acknowledged_at, lang)))
    text = note.strip() if isinstance(note, str) and note.strip() else None
    try:
        done = provider.acknowledge_alert(alert_id, by, text,
                                          at=(now or timequery.utcnow()).replace(microsecond=0))
    except AlertError:
        # closed or acknowledged between the check and the update
        return AckOutcome(False, t("alerts.ack.failed", lang, id=alert_id))
    from dashboard import auth

    auth.record("alert_ack", target=f"alert {alert_id}", detail=text)   # the audit log
    return AckOutcome(True, t("alerts.ack.done", lang, id=alert_id, by=by,
                              time=utc(done.acknowledged_at, lang)))


# --------------------------------------------------------------------------- callbacks

def _params(search: str | None) -> dict[str, str]:
    return dict(parse_qsl((search or "").lstrip("?")))


def _lang(search: str | None) -> str:
    from dashboard.context import current

    return resolve_lang(_params(search).get("lang"), current().default_language)


def _trigger() -> tuple[object, object]:
    """The id and new value of what fired the running callback ((None, None) outside one)."""
    try:
        fired = dash.ctx.triggered
        return dash.ctx.triggered_id, (fired[0].get("value") if fired else None)
    except Exception:  # noqa: BLE001 - no callback context (a direct call in a test)
        return None, None


def refresh_panel(stamp: Any, last_look: str | None, done: dict | None,
                  search: str | None) -> list:
    """Body re-rendered, last look changed or an alert acknowledged -> the panel."""
    from dashboard.context import current

    ctx = current()
    params = _params(search)
    return panel(ctx.provider, _lang(search), params.get("date"), params.get("asof"),
                 now=ctx.now(), last_look=last_look, done=done, search=search)


def mark_seen(n_clicks: int | None, stamp: Any, last_look: str | None,
              triggered: object = None):
    """"Mark as seen" -> now is the last look; a first visit (no last look kept) starts it
    now too; anything else changes nothing."""
    from dashboard.context import current

    if triggered is None:
        triggered = _trigger()[0]
    now = current().now().replace(microsecond=0).isoformat()
    if triggered == AlertsPanel.MARK_SEEN and n_clicks:
        return now
    if not last_look:
        return now
    return no_update


def open_dialog(clicks: list | None, cancel: int | None, search: str | None,
                triggered: object = None):
    """An alert's "Acknowledge…" -> the dialog open on it; Cancel -> closed."""
    from dashboard.context import current

    value: object = True
    if triggered is None:
        triggered, value = _trigger()
    if triggered == AlertsPanel.CANCEL and cancel:
        return False, no_update, no_update, no_update, ""
    if not isinstance(triggered, dict) or triggered.get("type") != ACK_BUTTON:
        return (no_update,) * 5
    if not value or not any(c for c in (clicks or []) if c):
        return (no_update,) * 5          # buttons re-inserted by a refresh, not a click
    alert_id = triggered.get("alert")
    ctx = current()
    lang = _lang(search)
    record = ctx.provider.alert(alert_id) if isinstance(alert_id, int) else None
    if record is None:
        return (True, alert_id, t("alerts.ack.title", lang, id=alert_id), "",
                dbc.Alert(t("alerts.ack.unknown", lang, id=alert_id), color="danger"))
    what = (f"{station_name(ctx.provider, record.station_id, lang)} · "
            f"{rule_label(record.kind, record.rule, lang)} · "
            f"{severity_label(record.severity, lang)} · "
            f"{t('alerts.since', lang, time=utc(record.observed_at, lang))}")
    return True, alert_id, t("alerts.ack.title", lang, id=alert_id), what, ""


def confirm_ack(n_clicks: int | None, alert_id: object, name: object, note: object,
                search: str | None):
    """The dialog's "Acknowledge" -> (message in the dialog, what the panel shows, whether
    the dialog stays open, the note field).  Refused (the dialog stays open, the reason in
    it) for an empty name or a closed, acknowledged or unknown alert."""
    from dashboard.context import current

    if not n_clicks:
        return no_update, no_update, no_update, no_update
    ctx = current()
    lang = _lang(search)
    outcome = acknowledge(ctx.provider, alert_id, name, note, lang, now=ctx.now())
    if not outcome.ok:
        return (dbc.Alert(outcome.message, color="danger", className="mb-0 ack-refused"),
                no_update, True, no_update)
    return "", {"id": alert_id, "message": outcome.message}, False, ""


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output(AlertsPanel.LIST, "children"),
        Input(AlertsPanel.STAMP, "data"),
        Input(AlertsPanel.LAST_LOOK, "data"),
        Input(AlertsPanel.ACK_DONE, "data"),
        State(Shell.PAGES_LOCATION, "search"),
    )(refresh_panel)
    app.callback(
        Output(AlertsPanel.LAST_LOOK, "data"),
        Input(AlertsPanel.MARK_SEEN, "n_clicks"),
        Input(AlertsPanel.STAMP, "data"),
        State(AlertsPanel.LAST_LOOK, "data"),
    )(mark_seen)
    app.callback(
        Output(AlertsPanel.MODAL, "is_open", allow_duplicate=True),
        Output(AlertsPanel.TARGET, "data"),
        Output(AlertsPanel.MODAL_TITLE, "children"),
        Output(AlertsPanel.MODAL_ALERT, "children"),
        Output(AlertsPanel.MESSAGE, "children", allow_duplicate=True),
        Input({"type": ACK_BUTTON, "alert": ALL}, "n_clicks"),
        Input(AlertsPanel.CANCEL, "n_clicks"),
        State(Shell.PAGES_LOCATION, "search"),
        prevent_initial_call=True,
    )(open_dialog)
    app.callback(
        Output(AlertsPanel.MESSAGE, "children"),
        Output(AlertsPanel.ACK_DONE, "data"),
        Output(AlertsPanel.MODAL, "is_open"),
        Output(AlertsPanel.NOTE, "value"),
        Input(AlertsPanel.CONFIRM, "n_clicks"),
        State(AlertsPanel.TARGET, "data"),
        State(AlertsPanel.NAME, "value"),
        State(AlertsPanel.NOTE, "value"),
        State(Shell.PAGES_LOCATION, "search"),
        prevent_initial_call=True,
    )(confirm_ack)
