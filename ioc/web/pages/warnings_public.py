"""Public warnings (``/warnings``): compose a CAP 1.2 warning for chosen communes (from an alert with
``?alert=<id>``), approve it as a second person (Extreme, Severe), broadcast it to the
information-source system, cancel it, and read the log. Every rule lives in
:mod:`ioc.directives.warnings`; this page only lays it out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from ioc.directives import warnings as pw
from ioc.directives.i18n import tr
from ioc.directives.recipients import RecipientKind, registry
from ioc.directives.settings import DirectiveSettings
from ioc.i18n import TZ, Lang
from ioc.web import auth, components
from ioc.web.components import dropdown_labels
from ioc.web.errors import user_message
from ioc.web.pages import directives_ids as did
from ioc.web.pages._directives_common import allowed, forbidden, parse_local, pool, when

dash.register_page(__name__, path="/warnings", name="warnings", title="IOC Hải Phòng – Bản tin cảnh báo")

ACCESS: dict[str, tuple[frozenset[str], str]] = {
    "/warnings": (pw.WARNING_ROLES, "operator, leader, admin (no scoping: city-wide)"),
    f"{did.WARN_FEEDBACK}.children": (pw.WARNING_ROLES, "compose/approve/send/cancel; approver must differ from author"),
    f"{did.WARN_LIST}.children": (pw.WARNING_ROLES, "every warning and its log"),
}


_URGENCY = {"vi": {"Immediate": "Ngay lập tức", "Expected": "Sắp xảy ra", "Future": "Trong thời gian tới",
                   "Past": "Đã qua", "Unknown": "Chưa rõ"}}  # fmt: skip


def _cap_label(field: str, value: str, lang: Lang) -> str:
    """A CAP severity or urgency in the page's language (the value sent stays the CAP word)."""
    if field == "severity":
        from ioc.i18n import catalogue

        key = f"severity.{value.lower()}"
        return catalogue(lang).get(key, value)
    return _URGENCY.get(lang, {}).get(value, value)


def layout(alert: str | None = None, **_q: Any) -> html.Div:
    lang = auth.current_lang()
    if not allowed(ACCESS, "/warnings"):
        return forbidden(lang)
    expires = (datetime.now(TZ) + timedelta(hours=6)).strftime("%d/%m/%Y %H:%M")
    draft = None
    if alert:
        try:
            with pool().connection() as conn:
                draft = pw.draft_from_alert(conn, uuid.UUID(alert), datetime.now(UTC) + timedelta(hours=6))
        except (ValueError, pw.WarningError):
            draft = None
    units = [{"label": r.name_vi.removeprefix("UBND "), "value": r.unit_code} for r in registry().of_kind(RecipientKind.COMMUNE)]
    return html.Div([
        components.navbar(lang, "/warnings", auth.current_user(), auth.csrf_token()),
        dbc.Container([
            html.H1(tr("page.warnings", lang), className="h4 mt-3"),
            html.P(tr("warn.reach", lang), className="small text-muted"),
            dbc.Row([
                dbc.Col(dbc.Card(dbc.CardBody([
                    html.H2(tr("warn.compose", lang), className="h6"),
                    dbc.Label(tr("warn.units", lang)),
                    dcc.Dropdown(labels=dropdown_labels(lang), id=did.WARN_UNITS, options=units, multi=True, value=list(draft.units) if draft else [], className="mb-2"),
                    dbc.Input(id=did.WARN_HEADLINE, placeholder=tr("warn.headline", lang), value=draft.headline_vi if draft else "", className="mb-2"),
                    dbc.Textarea(id=did.WARN_TEXT, placeholder=tr("warn.text", lang), value=draft.description_vi if draft else "", rows=3, className="mb-2"),
                    dbc.Textarea(id=did.WARN_INSTRUCTION, placeholder=tr("warn.instruction", lang), rows=2, className="mb-2"),
                    dbc.Row([dbc.Col([dbc.Label(tr("warn.severity", lang)), dbc.Select(id=did.WARN_SEVERITY, value=draft.severity if draft else "Moderate",
                                      options=[{"label": _cap_label("severity", s, lang), "value": s} for s in pw.SEVERITIES])]),
                             dbc.Col([dbc.Label(tr("warn.urgency", lang)), dbc.Select(id=did.WARN_URGENCY, value=draft.urgency if draft else "Expected",
                                      options=[{"label": _cap_label("urgency", s, lang), "value": s} for s in pw.URGENCIES])])], className="mb-2"),
                    dbc.Input(id=did.WARN_EXPIRES, value=expires, placeholder=tr("warn.expires", lang), className="mb-2"),
                    dbc.Button(tr("warn.save", lang), id=did.WARN_SAVE, color="primary", className="w-100"),
                    html.Div(id=did.WARN_FEEDBACK, className="mt-2"),
                    dcc.Store(id=did.WARN_ALERT, data=str(draft.alert_id) if draft and draft.alert_id else None),
                ])), lg=5),
                dbc.Col([dbc.Input(id=did.WARN_REASON, placeholder=tr("field.reason", lang), className="mb-2"),
                         html.Div(id=did.WARN_LIST)], lg=7),
            ], className="g-3"),
        ], fluid=True, className="ioc-dir"),
        dcc.Store(id=did.WARN_VERSION, data=0),
        dcc.Interval(id=did.WARN_TICK, interval=10_000),
    ])  # fmt: skip


@callback(Output(did.WARN_LIST, "children"), Input(did.WARN_VERSION, "data"), Input(did.WARN_TICK, "n_intervals"))
def listing(_v: Any, _n: Any) -> Any:
    lang = auth.current_lang()
    if not allowed(ACCESS, f"{did.WARN_LIST}.children"):
        raise PreventUpdate
    with pool().connection() as conn:
        rows = pw.list_warnings(conn, 30)
        logs = pw.warning_log(conn, None, 30)
    cards = []
    for w in rows:
        acts = []
        if w.status == "awaiting_approval":
            acts.append(("approve", "warn.approve", "warning"))
        if w.status in ("ready", "failed") and w.msg_type == "Alert":
            acts.append(("send", "warn.send", "primary"))
        if w.status == "sent" and w.msg_type == "Alert":
            acts.append(("cancel", "warn.cancel", "danger"))
        cards.append(dbc.ListGroupItem([
            html.Div([html.Strong(f"{w.msg_type} · {w.headline_vi}"), dbc.Badge(w.severity, className="ms-2"),
                      dbc.Badge(tr(f"warn.status.{w.status}", lang), color="secondary", className="ms-1")]),
            html.Div(f"{len(w.units)} xã/phường · {when(w.created_at)} · {w.created_by}"
                     + (f" · duyệt: {w.approved_by}" if w.approved_by else "") + (f" · HTTP {w.http_status}" if w.http_status else "")
                     + (f" · {w.last_error}" if w.last_error else ""), className="small"),
            html.Div([dbc.Button(tr(label, lang), id={"type": did.WARN_ACT, "warning": str(w.warning_id), "action": a},
                                 color=colour, size="sm", className="me-2 mt-1") for a, label, colour in acts]),
        ]))  # fmt: skip
    log = [html.Li(f"{when(r.at)} · {r.actor} · {r.action}") for r in logs]
    return html.Div([dbc.ListGroup(cards), html.H2(tr("warn.log", lang), className="h6 mt-3"), html.Ul(log, className="small")])


@callback(
    Output(did.WARN_FEEDBACK, "children"),
    Output(did.WARN_VERSION, "data"),
    Input(did.WARN_SAVE, "n_clicks"),
    Input({"type": did.WARN_ACT, "warning": ALL, "action": ALL}, "n_clicks"),
    State(did.WARN_UNITS, "value"), State(did.WARN_HEADLINE, "value"), State(did.WARN_TEXT, "value"),
    State(did.WARN_INSTRUCTION, "value"), State(did.WARN_SEVERITY, "value"), State(did.WARN_URGENCY, "value"),
    State(did.WARN_EXPIRES, "value"), State(did.WARN_ALERT, "data"), State(did.WARN_REASON, "value"),
    State(did.WARN_VERSION, "data"),
    prevent_initial_call=True,
)
def act(_save: Any, clicks: list[Any], units: list[str] | None, headline: str | None, text: str | None,
        instruction: str | None, severity: str | None, urgency: str | None, expires: str | None,
        alert_id: str | None, reason: str | None, version: int | None) -> tuple[Any, int]:  # fmt: skip
    lang = auth.current_lang()
    user, role = auth.current_user() or "?", auth.current_role() or ""
    trig = ctx.triggered_id
    if trig is None or (isinstance(trig, dict) and not any(clicks or [])):
        raise PreventUpdate
    now = datetime.now(UTC)
    try:
        with pool().connection() as conn:
            if trig == did.WARN_SAVE:
                draft = pw.WarningDraft(tuple(units or ()), headline or "", text or "", severity or "", urgency or "",
                                        "Observed", parse_local(expires), instruction_vi=(instruction or None),
                                        alert_id=uuid.UUID(alert_id) if alert_id else None)  # fmt: skip
                w = pw.compose(conn, draft, user, role, now)
            else:
                wid, action = uuid.UUID(trig["warning"]), trig["action"]
                settings = DirectiveSettings()
                if action == "approve":
                    w = pw.approve(conn, wid, user, role, now)
                elif action == "send":
                    w = pw.send(conn, wid, user, role, now, settings)
                else:
                    w = pw.cancel(conn, wid, user, role, reason or "", now, settings)
    except (ValueError, KeyError, pw.WarningError) as exc:
        return dbc.Alert(tr("error", lang, reason=user_message(exc, lang)), color="danger"), int(version or 0)
    return dbc.Alert(tr(f"warn.status.{w.status}", lang), color="success"), int(version or 0) + 1
