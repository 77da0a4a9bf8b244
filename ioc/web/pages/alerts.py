"""Alerts (``/alerts``): the list with filters, one alert's timeline, and the operator's actions.

Operators and admins acknowledge (with a comment), assign, resolve and silence; leaders read. Every
alert read or acted on is judged by :func:`ioc.access.decide` with its unit and agency: ward and
department users see (and act on) only their scope's alerts, whatever a crafted callback asks for.
Every action goes through :func:`alerts.feed.act` (timeline entry + audit log in one transaction).
An alert the viewer may see can be downloaded as CAP 1.2 XML. Strings come from
:mod:`ioc.i18n.alerts_messages`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from alerts.cap import to_cap
from alerts.feed import NotAllowed, OperatorAction, act, list_alerts
from alerts.model import Alert, AlertClass, AlertState, InvalidTransition, Severity
from alerts.store import get_alert
from geodata.names import humanise
from ioc.access import OBJECT_ACTIONS, Action, Resource, decide, page_allowed
from ioc.audit import audit
from ioc.i18n import TZ, Lang, fmt_datetime
from ioc.i18n.alerts_messages import tr
from ioc.web import auth, components
from ioc.web.components import dropdown_labels
from ioc.web.errors import user_message
from ioc.web.pages import alerts_ids as aid
from ioc.web.scoping import may
from ioc.web.snapshot import EXTENSION, web_settings

dash.register_page(__name__, path="/alerts", name="alerts", title="IOC Hải Phòng – Cảnh báo")


def _pool() -> Any:
    return flask.current_app.extensions[EXTENSION]["pool"]


def _options(prefix: str, values: list[str], lang: Lang) -> list[dict[str, str]]:
    return [{"label": tr(f"{prefix}.{v}", lang), "value": v} for v in values]


SHOWN = 200  # rows in the table, after the scope filter


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    if not decide(auth.current_principal(), Resource.page("/alerts")):
        return html.Div(html.P(tr("auth.forbidden", lang)), className="container p-5")
    filters = dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(labels=dropdown_labels(lang),
                    id=aid.FILTER_STATE,
                    multi=True,
                    placeholder=tr("alerts.filter.state", lang),
                    options=_options("state", [s.value for s in AlertState], lang),
                    value=["new", "acknowledged", "assigned"],
                ),
                md=4,
            ),  # fmt: skip
            dbc.Col(
                dcc.Dropdown(labels=dropdown_labels(lang),
                    id=aid.FILTER_CLASS,
                    multi=True,
                    placeholder=tr("alerts.filter.class", lang),
                    options=_options("class", [c.value for c in AlertClass], lang),
                ),
                md=4,
            ),  # fmt: skip
            dbc.Col(
                dcc.Dropdown(labels=dropdown_labels(lang),
                    id=aid.FILTER_SEVERITY,
                    multi=True,
                    placeholder=tr("alerts.filter.severity", lang),
                    options=_options("severity", [s.value for s in Severity], lang),
                ),
                md=4,
            ),  # fmt: skip
        ],
        className="g-2 my-2",
    )
    return html.Div(
        [
            components.navbar(lang, "/alerts", auth.current_user(), auth.csrf_token()),
            dbc.Container(
                [
                    html.H1(tr("alerts.title", lang), className="h4 mt-3"),
                    filters,
                    dbc.Row(
                        [
                            dbc.Col(html.Div(id=aid.TABLE), lg=7),
                            dbc.Col([html.Div(id=aid.DETAIL), _actions(lang)], lg=5),
                        ],
                        className="g-3",
                    ),
                ],
                fluid=True,
            ),
            dcc.Store(id=aid.SELECTED),
            dcc.Store(id=aid.VERSION, data=0),
            dcc.Download(id=aid.CAP_DOWNLOAD),
            dcc.Interval(id=aid.TICK, interval=int(web_settings().refresh_seconds * 1000)),
        ]
    )


def _actions(lang: Lang) -> html.Div:
    p = auth.current_principal()
    can_act = p is not None and p.role in OBJECT_ACTIONS[("alert", Action.ACT)]  # buttons only: the server decides
    buttons = html.Div(
        [
            dbc.Textarea(id=aid.COMMENT, placeholder=tr("alerts.comment", lang), className="mb-2", rows=2),
            dbc.InputGroup(
                [
                    dbc.Input(id=aid.ASSIGNEE, placeholder=tr("alerts.assignee", lang)),
                    dbc.Button(tr("alerts.assign", lang), id=aid.ASSIGN, color="secondary"),
                ],
                className="mb-2",
            ),  # fmt: skip
            dbc.InputGroup(
                [
                    dbc.Input(
                        id=aid.SILENCE_UNTIL,
                        placeholder=tr("alerts.silence_until", lang) + " (dd/mm/yyyy hh:mm)",
                    ),
                    dbc.Button(tr("alerts.silence", lang), id=aid.SILENCE, color="secondary"),
                ],
                className="mb-2",
            ),  # fmt: skip
            dbc.Button(tr("alerts.ack", lang), id=aid.ACK, color="primary", className="me-2"),
            dbc.Button(tr("alerts.resolve", lang), id=aid.RESOLVE, color="success", className="me-2"),
        ],
        style={} if can_act else {"display": "none"},
    )
    return html.Div(
        [
            buttons,
            html.P(tr("alerts.readonly", lang), className="text-muted") if not can_act else None,
            dbc.Button(tr("alerts.cap", lang), id=aid.CAP, color="link"),
            html.Div(id=aid.FEEDBACK, className="mt-2"),
        ],
        id=aid.ACTIONS,
        className="mt-3",
    )


def _row(a: Alert, lang: Lang, selected: str | None) -> html.Tr:
    return html.Tr(
        [
            html.Td(fmt_datetime(a.updated_at, lang)),
            html.Td(components.severity_badge(a.severity.value, lang)),
            html.Td(tr(f"class.{a.alert_class.value}", lang)),
            html.Td(html.A(humanise(a.title(lang), lang), href="#", id={"type": "alerts-pick", "alert": str(a.alert_id)})),
            html.Td(tr(f"state.{a.state.value}", lang)),
            html.Td(tr("alerts.active.yes" if a.active else "alerts.active.no", lang)),
        ],
        className="table-active" if str(a.alert_id) == selected else None,
    )


@callback(
    Output(aid.TABLE, "children"),
    Input(aid.TICK, "n_intervals"),
    Input(aid.FILTER_STATE, "value"),
    Input(aid.FILTER_CLASS, "value"),
    Input(aid.FILTER_SEVERITY, "value"),
    Input(aid.VERSION, "data"),
    State(aid.SELECTED, "data"),
)
def refresh_table(_n: Any, states: list[str] | None, classes: list[str] | None, sevs: list[str] | None,
                  _v: Any, selected: str | None) -> Any:  # fmt: skip
    lang = auth.current_lang()
    p = auth.current_principal()
    with _pool().connection() as conn:
        rows = list_alerts(
            conn,
            states=[AlertState(s) for s in states or ()],
            classes=[AlertClass(c) for c in classes or ()],
            severities=[Severity(s) for s in sevs or ()],
            limit=5 * SHOWN,
        )
    rows = [a for a in rows if may(p, a)][:SHOWN]  # the viewer's scope only
    if not rows:
        return html.P(tr("alerts.none", lang), className="text-muted")
    head = html.Thead(html.Tr([html.Th(tr(f"alerts.col.{c}", lang))
                               for c in ("time", "severity", "class", "title", "state", "active")]))  # fmt: skip
    return dbc.Table([head, html.Tbody([_row(a, lang, selected) for a in rows])], hover=True, size="sm",
                     responsive=True)  # fmt: skip


@callback(
    Output(aid.SELECTED, "data"),
    Input({"type": "alerts-pick", "alert": dash.ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def pick(clicks: list[int | None]) -> str:
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):  # crafted payloads included
        raise PreventUpdate
    return str(ctx.triggered_id["alert"])


@callback(
    Output(aid.DETAIL, "children"),
    Input(aid.SELECTED, "data"),
    Input(aid.VERSION, "data"),
    Input(aid.TICK, "n_intervals"),
)
def detail(selected: str | None, _v: Any, _n: Any) -> Any:
    lang = auth.current_lang()
    if not selected:
        return html.P(tr("alerts.pick", lang), className="text-muted")
    with _pool().connection() as conn:
        a = get_alert(conn, _uuid(selected))
    if a is None or not may(auth.current_principal(), a):  # a crafted id outside the scope reads nothing
        return html.P(tr("alerts.none", lang), className="text-muted")
    lines = [
        html.H2(humanise(a.title(lang), lang), className="h5"),
        # Plain words on the page ("gấp 6 lần mức thường lệ"); the rule's own figures on hover.
        html.P(humanise(raw_detail := a.detail_vi if lang == "vi" else a.detail_en, lang), title=raw_detail,
               className="ioc-alert-detail"),
        html.P(
            tr("alerts.agency", lang, agency=humanise(a.agency.name_vi if lang == "vi" else a.agency.name_en, lang)),
            className="small mb-1",
        ),  # fmt: skip
    ]
    if a.assignee:
        lines.append(html.P(tr("alerts.assignee.now", lang, assignee=a.assignee), className="small mb-1"))
    if a.silenced_until:
        lines.append(
            html.P(tr("alerts.silenced", lang, until=fmt_datetime(a.silenced_until, lang)), className="small")
        )
    entries = [
        html.Li([html.Strong(fmt_datetime(e.at, lang)), f" · {e.actor} · {tr(f'action.{e.action.value}', lang)}",
                 html.Span(f" — {e.comment}" if e.comment else "", className="text-muted")])
        for e in reversed(a.timeline)
    ]  # fmt: skip
    return html.Div([*lines, *_next_steps(a, lang), html.H3(tr("alerts.timeline", lang), className="h6 mt-3"),
                     html.Ul(entries, className="small")])  # fmt: skip


def _next_steps(a: Alert, lang: Lang) -> list[Any]:
    """From an alert to what a leader or operator does next: a directive to the agencies and wards, a
    public warning (each link only for whom the policy lets open the page)."""
    p = auth.current_principal()
    links = [(path, key, color) for path, key, color in
             (("/directives/new", "alerts.to_directive", "primary"), ("/warnings", "alerts.to_warning", "warning"))
             if page_allowed(p, path)]  # fmt: skip
    if not links:
        return []
    return [html.Div([dbc.Button(tr(key, lang), href=f"{path}?alert={a.alert_id}", color=color, outline=True,
                                 size="sm", className="me-2 mb-1", id={"type": aid.NEXT_STEP, "path": path})
                      for path, key, color in links], className="mt-2")]  # fmt: skip


def _uuid(value: str) -> uuid.UUID:
    """A callback's alert id (user input): a malformed one selects nothing instead of failing."""
    try:
        return uuid.UUID(str(value)[:64])
    except ValueError:
        raise PreventUpdate from None


def parse_local(value: str) -> datetime:
    """``23/11/2026 18:30`` (Vietnam time) or ISO ``2026-11-23T18:30`` → aware UTC; errors name the value."""
    value = value.strip()
    for pattern in ("%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=TZ).astimezone(UTC)
        except ValueError:
            continue
    raise ValueError(value)


@callback(
    Output(aid.FEEDBACK, "children"),
    Output(aid.VERSION, "data"),
    Input(aid.ACK, "n_clicks"),
    Input(aid.ASSIGN, "n_clicks"),
    Input(aid.RESOLVE, "n_clicks"),
    Input(aid.SILENCE, "n_clicks"),
    State(aid.SELECTED, "data"),
    State(aid.COMMENT, "value"),
    State(aid.ASSIGNEE, "value"),
    State(aid.SILENCE_UNTIL, "value"),
    State(aid.VERSION, "data"),
    prevent_initial_call=True,
)
def on_action(_a: Any, _b: Any, _c: Any, _d: Any, selected: str | None, comment: str | None,
              assignee: str | None, until: str | None, version: int | None) -> tuple[Any, int]:  # fmt: skip
    lang = auth.current_lang()
    if not selected or ctx.triggered_id is None:
        raise PreventUpdate
    action = {aid.ACK: OperatorAction.ACKNOWLEDGE, aid.ASSIGN: OperatorAction.ASSIGN,
              aid.RESOLVE: OperatorAction.RESOLVE, aid.SILENCE: OperatorAction.SILENCE}[ctx.triggered_id]  # fmt: skip
    if action is OperatorAction.ACKNOWLEDGE and not (comment or "").strip():
        return dbc.Alert(tr("alerts.need_comment", lang), color="warning"), int(version or 0)
    until_at = None
    if action is OperatorAction.SILENCE:
        try:
            until_at = parse_local(until or "")
        except ValueError:
            return dbc.Alert(tr("alerts.bad_time", lang, value=until or ""), color="warning"), int(
                version or 0
            )
    p = auth.current_principal()
    try:
        with _pool().connection() as conn:
            a = get_alert(conn, _uuid(selected))
            if a is None or p is None or not may(p, a, Action.ACT):
                raise NotAllowed(f"{p.username if p else '?'} may not act on alert {selected[:40]}")
            act(conn, a.alert_id, principal=p,
                action=action, at=datetime.now(UTC), comment=comment, assignee=assignee, until=until_at)  # fmt: skip
    except (NotAllowed, InvalidTransition, ValueError, LookupError) as exc:
        return dbc.Alert(tr("alerts.error", lang, reason=user_message(exc, lang, "alert action")), color="danger"), int(version or 0)
    label = tr({OperatorAction.ACKNOWLEDGE: "action.acknowledged", OperatorAction.ASSIGN: "action.assigned",
                OperatorAction.RESOLVE: "action.resolved", OperatorAction.SILENCE: "action.silenced"}[action], lang)  # fmt: skip
    return dbc.Alert(tr("alerts.done", lang, action=label), color="success"), int(version or 0) + 1


@callback(
    Output(aid.CAP_DOWNLOAD, "data"),
    Input(aid.CAP, "n_clicks"),
    State(aid.SELECTED, "data"),
    prevent_initial_call=True,
)
def download_cap(_n: Any, selected: str | None) -> Any:
    p = auth.current_principal()
    if not selected or not decide(p, Resource.export("alert.cap")):
        raise PreventUpdate
    with _pool().connection() as conn:
        a = get_alert(conn, _uuid(selected))
        if a is None or not may(p, a):
            raise PreventUpdate
        audit(conn, p.username if p else "?", "alert.cap_export", str(a.alert_id), {})
    return dcc.send_bytes(to_cap(a), f"cap-{a.alert_id}.xml", type="application/cap+xml")
