"""The leader's board (``/directives``): directives by state, overdue first, by recipient, the on-time
rate per recipient, one directive's timeline and deliveries, and the leader's actions (accept, send
back, grant or refuse an extension, cancel). A new directive is made here from nothing or from an
alert, a ticket, a KPI or a unit (``/directives/new?alert=<id>``, ``?ticket=``, ``?kpi=``, ``?unit=``).
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from ioc.directives import store
from ioc.directives.i18n import tr
from ioc.directives.recipients import RecipientKind, recipient_for_agency, registry
from ioc.directives.stats import on_time_rates, parse_period
from ioc.directives.workflow import Change, Kind, Priority, kind_name, priority_name, status_name
from ioc.i18n import Lang
from ioc.web import auth, components
from ioc.web.components import dropdown_labels
from ioc.web.errors import user_message
from ioc.web.pages import directives_ids as did
from ioc.web.pages._directives_common import allowed, current_actor, forbidden, pool, when
from ioc.web.snapshot import web_settings

dash.register_page(__name__, path="/directives", name="directives", title="IOC Hải Phòng – Chỉ đạo")

LEADERS = frozenset({"leader", "standing_office", "admin"})
ACCESS: dict[str, tuple[frozenset[str], str]] = {
    "/directives": (LEADERS | {"operator"}, "leader, standing_office, admin: every directive; operator: read only"),
    "/directives/new": (LEADERS, "leader, standing_office, admin"),
    f"{did.BOARD_LIST}.children": (LEADERS | {"operator"}, "every assignment (scope=None)"),
    f"{did.BOARD_DETAIL}.children": (LEADERS | {"operator"}, "every assignment (scope=None)"),
    f"{did.NEW_FEEDBACK}.children": (LEADERS, "create: leader roles only (store.create_directive checks too)"),
    f"{did.LEAD_FEEDBACK}.children": (LEADERS, "accept/return/extension/cancel: leader roles (store checks too)"),
    f"{did.FILE_DOWNLOAD}.data": (LEADERS | {"operator"}, "files of any recipient"),
}
_STATUS_COLOUR = {"sent": "#6c757d", "acknowledged": "#0d6efd", "in_progress": "#0dcaf0", "reported": "#fd7e14",
                  "accepted": "#198754", "returned": "#d63384", "cancelled": "#adb5bd"}  # fmt: skip


def _period_now() -> str:
    now = datetime.now(UTC)
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def _prefill(conn: Any, query: dict[str, Any]) -> tuple[str, list[str], dict[str, str] | None]:
    """Title, recipients and the about-link from ``?alert=``, ``?ticket=``, ``?kpi=`` or ``?unit=``."""
    if query.get("alert"):
        from alerts.store import get_alert

        try:
            a = get_alert(conn, uuid.UUID(str(query["alert"])))
        except ValueError:
            a = None
        if a is not None:
            r = recipient_for_agency(a.agency.code, a.admin_unit)
            unit = registry().for_unit(a.admin_unit).code if a.admin_unit and f"XA-{a.admin_unit}" in registry() else None
            recips = [unit] if unit else [r] if r else []  # the commune where it happens, else the owner
            return a.title_vi, recips, {"kind": "alert", "id": str(a.alert_id)}
    if query.get("ticket"):
        row = conn.execute("SELECT left(text, 120), owner_code FROM tickets WHERE ticket_id = %s",
                           (str(query["ticket"]),)).fetchone()  # fmt: skip
        if row:
            return f"Phản ánh {query['ticket']}: {row[0]}", [], {"kind": "ticket", "id": str(query["ticket"])}
    if query.get("kpi"):
        return f"Chỉ tiêu {query['kpi']}", [], {"kind": "kpi", "id": str(query["kpi"])}
    if query.get("unit") and f"XA-{query['unit']}" in registry():
        r = registry().for_unit(str(query["unit"]))
        return "", [r.code], {"kind": "unit", "id": str(query["unit"])}
    return "", [], None


def recipient_options(lang: Lang) -> list[dict[str, str]]:
    return [{"label": r.name(lang) + ("" if r.kind is RecipientKind.COMMUNE else f" ({r.code})"), "value": r.code}
            for r in registry().recipients]  # fmt: skip


def new_form(lang: Lang, title: str, recips: list[str], about: dict[str, str] | None) -> dbc.Card:
    about_line = (html.P(tr("new.from", lang, about=f"{tr('about.' + about['kind'], lang)} {about['id']}"),
                         className="small text-muted mb-2") if about else None)  # fmt: skip
    return dbc.Card(dbc.CardBody([
        html.H2(tr("new", lang), className="h5"), about_line,
        dbc.Label(tr("field.title", lang), html_for=did.NEW_TITLE),
        dbc.Input(id=did.NEW_TITLE, value=title, maxLength=300, className="mb-2"),
        dbc.Label(tr("field.body", lang), html_for=did.NEW_BODY),
        dbc.Textarea(id=did.NEW_BODY, rows=3, className="mb-2"),
        dbc.Label(tr("field.recipients", lang)),
        dcc.Dropdown(labels=dropdown_labels(lang), id=did.NEW_RECIPIENTS, options=recipient_options(lang), value=recips, multi=True, className="mb-2"),
        dbc.Row([
            dbc.Col([dbc.Label(tr("field.priority", lang)),
                     dbc.Select(id=did.NEW_PRIORITY, value="normal",
                                options=[{"label": priority_name(p, lang), "value": p.value} for p in Priority])], width=6),
            dbc.Col([dbc.Label(tr("field.amount.days", lang) + " / " + tr("field.amount.hours", lang).split("(")[1].rstrip(")")),
                     dbc.Input(id=did.NEW_AMOUNT, type="number", min=1, value=3)], width=6),
        ], className="mb-2"),
        dbc.Button(tr("send", lang), id=did.NEW_SEND, color="primary", className="w-100"),
        html.Div(id=did.NEW_FEEDBACK, className="mt-2"),
        dcc.Store(id=did.NEW_ABOUT, data=about),
    ]), className="mb-3")  # fmt: skip


def layout(new: str | None = None, directive: str | None = None, **query: Any) -> html.Div:
    lang = auth.current_lang()
    if not allowed(ACCESS, "/directives"):
        return forbidden(lang)
    show_new = (new is not None or any(query.get(k) for k in ("alert", "ticket", "kpi", "unit"))) and allowed(
        ACCESS, "/directives/new")
    with pool().connection() as conn:
        title, recips, about = _prefill(conn, query) if show_new else ("", [], None)
    right = [new_form(lang, title, recips, about)] if show_new else []
    right.append(html.Div(id=did.BOARD_DETAIL))
    return html.Div([
        components.navbar(lang, "/directives", auth.current_user(), auth.csrf_token()),
        dbc.Container([
            html.H1(tr("page.directives", lang), className="h4 mt-3"),
            html.Div(id=did.BOARD_COUNTS, className="d-flex flex-wrap gap-2 mb-3"),
            dbc.Row([
                dbc.Col([html.H2(tr("board.list", lang), className="h6"), html.Div(id=did.BOARD_LIST),
                         html.H2(tr("board.rates", lang, period=_period_now()), className="h6 mt-3"),
                         html.Div(id=did.BOARD_RATES)], lg=7),
                dbc.Col(right, lg=5),
            ], className="g-3"),
        ], fluid=True, className="ioc-dir"),
        dcc.Store(id=did.BOARD_SELECTED, data=int(directive) if directive and directive.isdigit() else None),
        dcc.Store(id=did.BOARD_VERSION, data=0),
        dcc.Download(id=did.FILE_DOWNLOAD),
        dcc.Interval(id=did.BOARD_TICK, interval=int(web_settings().refresh_seconds * 2000)),
    ])  # fmt: skip


def count_badges(counts: store.BoardCounts, lang: Lang) -> list[html.Div]:
    cells = [(tr("board.overdue", lang), counts.overdue, "#dc3545"), (tr("board.open", lang), counts.open, "#0d6efd"),
             (tr("board.escalated", lang), counts.escalated, "#fd7e14"),
             (tr("board.extension", lang), counts.extension_pending, "#6f42c1")]  # fmt: skip
    cells += [(status_name(s, lang), n, _STATUS_COLOUR[s]) for s, n in counts.by_status if n and s != "cancelled"]
    return [html.Div([html.Div(label, className="small"), html.Div(str(n), className="fs-4 fw-bold")],
                     className="ioc-count", style={"background": colour}) for label, n, colour in cells]  # fmt: skip


def board_table(rows: list[store.BoardRow], lang: Lang, selected: int | None) -> Any:
    if not rows:
        return html.P(tr("board.none", lang), className="text-muted")
    reg = registry()
    head = html.Thead(html.Tr([html.Th(tr(f"col.{c}", lang)) for c in ("id", "title", "recipient", "status", "deadline")]))
    body = [html.Tr([
        html.Td(str(r.directive_id)),
        html.Td(html.A(r.title, href="#", className="ioc-pick", id={"type": did.PICK, "directive": r.directive_id})),
        html.Td(reg.get(r.recipient_code).name(lang) if r.recipient_code in reg else r.recipient_code),
        html.Td(dbc.Badge(status_name(r.status, lang), style={"background": _STATUS_COLOUR[r.status]})),
        html.Td(when(r.deadline) + (" ⚠" if r.overdue else "")),
    ], className=("ioc-overdue " if r.overdue else "") + ("table-active" if r.directive_id == selected else ""))
        for r in rows]  # fmt: skip
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True)


def rate_bars(rows: list[Any], lang: Lang) -> Any:
    """Horizontal bars: green on time, red late, per recipient with something due (legend below)."""
    shown = [r for r in rows if r.due]
    if not shown:
        return html.P("—", className="text-muted")
    items = []
    for r in sorted(shown, key=lambda x: (-(x.rate or 0), -x.due)):
        ok = 100 * r.on_time / r.due
        items.append(html.Div([
            html.Div(f"{r.recipient_name} — {ok:.0f}% ({r.on_time}/{r.due})", className="small",
                     id=f"dir-rate-{r.recipient_code}"),
            html.Div([html.Div(style={"width": f"{ok}%", "background": "#198754"}, className="ioc-rate-bar"),
                      html.Div(style={"width": f"{100 - ok}%", "background": "#dc3545"}, className="ioc-rate-bar")],
                     className="d-flex mb-2"),
        ]))  # fmt: skip
    legend = html.Div([html.Span("■ ", style={"color": "#198754"}), tr("legend.ok", lang), "  ",
                       html.Span("■ ", style={"color": "#dc3545"}), tr("legend.late", lang)], className="small")  # fmt: skip
    return html.Div([*items, legend])


@callback(
    Output(did.BOARD_COUNTS, "children"),
    Output(did.BOARD_LIST, "children"),
    Output(did.BOARD_RATES, "children"),
    Input(did.BOARD_TICK, "n_intervals"),
    Input(did.BOARD_VERSION, "data"),
    State(did.BOARD_SELECTED, "data"),
)
def refresh(_n: Any, _v: Any, selected: int | None) -> tuple[Any, Any, Any]:
    lang = auth.current_lang()
    if not allowed(ACCESS, f"{did.BOARD_LIST}.children"):
        raise PreventUpdate
    now = datetime.now(UTC)
    with pool().connection() as conn:
        counts = store.board_counts(conn, now)
        rows = store.board(conn, now)
        rates = on_time_rates(conn, parse_period(_period_now()), now)
    return count_badges(counts, lang), board_table(rows, lang, selected), rate_bars(rates, lang)


@callback(Output(did.BOARD_SELECTED, "data"), Input({"type": did.PICK, "directive": ALL}, "n_clicks"),
          prevent_initial_call=True)  # fmt: skip
def pick(clicks: list[int | None]) -> int:
    if not ctx.triggered_id or not any(clicks or []):
        raise PreventUpdate
    return int(ctx.triggered_id["directive"])


def timeline(conn: Any, directive_id: int, scope: frozenset[str] | None, lang: Lang) -> list[Any]:
    """Every step with who and when, the files attached, and the delivery status per channel."""
    reg = registry()
    files = {str(f.file_id): f for f in store.files(conn, directive_id, scope)}
    items = []
    for e in store.history(conn, directive_id, scope):
        who = reg.get(e.recipient_code).name(lang) if e.recipient_code and e.recipient_code in reg else ""
        extra: list[Any] = []
        if e.details.get("note") and e.kind != Kind.CREATED:
            extra.append(html.Div(str(e.details["note"]), className="text-body"))
        if e.details.get("deadline") and e.kind != Kind.CREATED:
            extra.append(html.Div("→ " + when(datetime.fromisoformat(str(e.details["deadline"]))), className="small"))
        if e.details.get("level"):
            extra.append(html.Div(f"cấp {e.details['level']} · {e.details.get('reason')}", className="small text-danger"))
        for fid in e.details.get("files", []) or []:
            f = files.get(str(fid))
            if f is not None:
                extra.append(dbc.Button(f"📎 {f.filename}", id={"type": did.FILE_LINK, "file": str(fid)},
                                        color="link", size="sm", className="ioc-pick"))  # fmt: skip
        items.append(html.Li([html.Strong(when(e.at)), f" · {e.actor} · {kind_name(e.kind, lang)}",
                              html.Span(f" — {who}" if who else "", className="text-muted"), *extra],
                             id=f"dir-event-{e.seq}"))  # fmt: skip
    deliveries = [html.Li(f"{d.channel} → {d.address} ({reg.get(d.recipient_code).name(lang) if d.recipient_code in reg else d.recipient_code}):"
                          f" {tr('delivery.' + d.status, lang)}, {d.attempts}×" + (f" — {d.last_error}" if d.last_error else ""))
                  for d in store.deliveries(conn, directive_id, scope)]  # fmt: skip
    out = [html.H3(tr("timeline", lang), className="h6 mt-3"), html.Ul(items, className="small ioc-timeline list-unstyled")]
    if deliveries:
        out += [html.H3(tr("deliveries", lang), className="h6"), html.Ul(deliveries, className="small")]
    return out


def _lead_actions(lang: Lang, parts: list[store.AssignmentRow]) -> Any:
    reg = registry()
    opts = [{"label": reg.get(a.recipient_code).name(lang) + f" — {status_name(a.status, lang)}", "value": a.recipient_code}
            for a in parts]  # fmt: skip
    first = next((a.recipient_code for a in parts if a.status == "reported" or a.extension_pending), parts[0].recipient_code if parts else None)
    return html.Div([
        dbc.Select(id=did.LEAD_RECIPIENT, options=opts, value=first, className="mb-2"),
        dbc.Textarea(id=did.LEAD_NOTE, placeholder=tr("field.reason", lang), rows=2, className="mb-2"),
        html.Div([dbc.Button(tr("act.accept", lang), id=did.LEAD_ACCEPT, color="success"),
                  dbc.Button(tr("act.return", lang), id=did.LEAD_RETURN, color="warning"),
                  dbc.Button(tr("act.grant", lang), id=did.LEAD_GRANT, color="primary", outline=True),
                  dbc.Button(tr("act.refuse", lang), id=did.LEAD_REFUSE, color="secondary", outline=True),
                  dbc.Button(tr("act.cancel", lang), id=did.LEAD_CANCEL, color="danger", outline=True)],
                 className="d-flex flex-wrap gap-2"),
        html.Div(id=did.LEAD_FEEDBACK, className="mt-2"),
    ], className="mt-2")  # fmt: skip


@callback(
    Output(did.BOARD_DETAIL, "children"),
    Input(did.BOARD_SELECTED, "data"),
    Input(did.BOARD_VERSION, "data"),
)
def detail(selected: int | None, _v: Any) -> Any:
    lang = auth.current_lang()
    if not allowed(ACCESS, f"{did.BOARD_DETAIL}.children"):
        raise PreventUpdate
    if not selected:
        return html.P(tr("board.pick", lang), className="text-muted")
    with pool().connection() as conn:
        try:
            d = store.get_directive(conn, int(selected))
        except store.DirectiveNotFound:
            return html.P(tr("board.none", lang), className="text-muted")
        parts = store.assignments(conn, d.directive_id)
        steps = timeline(conn, d.directive_id, None, lang)
    about = f" · {tr('about.' + d.about_kind, lang)} {d.about_id}" if d.about_kind else ""
    head = [html.H2(f"#{d.directive_id} {d.title}", className="h5", id="dir-detail-title"),
            html.P(d.body, className="mb-1"),
            html.P(f"{priority_name(d.priority, lang)} · {d.deadline_amount} "
                   f"{'ngày làm việc' if d.deadline_unit == 'working_days' else 'giờ'}{about}", className="small text-muted")]  # fmt: skip
    actions = _lead_actions(lang, parts) if (auth.current_role() or "") in LEADERS and not d.closed else None
    return dbc.Card(dbc.CardBody([*head, actions, *steps]))


@callback(
    Output(did.NEW_FEEDBACK, "children"),
    Output(did.BOARD_VERSION, "data", allow_duplicate=True),
    Output(did.BOARD_SELECTED, "data", allow_duplicate=True),
    Input(did.NEW_SEND, "n_clicks"),
    State(did.NEW_TITLE, "value"),
    State(did.NEW_BODY, "value"),
    State(did.NEW_RECIPIENTS, "value"),
    State(did.NEW_PRIORITY, "value"),
    State(did.NEW_AMOUNT, "value"),
    State(did.NEW_ABOUT, "data"),
    State(did.BOARD_VERSION, "data"),
    prevent_initial_call=True,
)
def create(_n: Any, title: str | None, body: str | None, recipients: list[str] | None, priority: str | None,
           amount: Any, about: dict[str, str] | None, version: int | None) -> tuple[Any, int, Any]:  # fmt: skip
    lang = auth.current_lang()
    try:
        new = store.NewDirective(title or "", body or "", Priority(priority or "normal"), int(amount or 0),
                                 tuple(recipients or ()), about_kind=(about or {}).get("kind"),
                                 about_id=(about or {}).get("id"))  # fmt: skip
        with pool().connection() as conn:
            directive_id = store.create_directive(conn, new, current_actor(conn), datetime.now(UTC))
    except (ValueError, KeyError, store.NotAllowed) as exc:
        return dbc.Alert(tr("error", lang, reason=user_message(exc, lang)), color="danger"), int(version or 0), dash.no_update
    return (dbc.Alert(tr("sent", lang, id=directive_id), color="success", id="dir-created"), int(version or 0) + 1,
            directive_id)  # fmt: skip


_LEAD_KINDS = {did.LEAD_ACCEPT: Kind.ACCEPTED, did.LEAD_RETURN: Kind.RETURNED, did.LEAD_GRANT: Kind.EXTENSION_GRANTED,
               did.LEAD_REFUSE: Kind.EXTENSION_REFUSED, did.LEAD_CANCEL: Kind.CANCELLED}  # fmt: skip


@callback(
    Output(did.LEAD_FEEDBACK, "children"),
    Output(did.BOARD_VERSION, "data", allow_duplicate=True),
    *(Input(k, "n_clicks") for k in _LEAD_KINDS),
    State(did.BOARD_SELECTED, "data"),
    State(did.LEAD_RECIPIENT, "value"),
    State(did.LEAD_NOTE, "value"),
    State(did.BOARD_VERSION, "data"),
    prevent_initial_call=True,
)
def lead_action(*args: Any) -> tuple[Any, int]:
    selected, recipient, note, version = args[-4:]
    lang = auth.current_lang()
    if not selected or ctx.triggered_id not in _LEAD_KINDS or not any(args[: len(_LEAD_KINDS)]):
        raise PreventUpdate
    kind = _LEAD_KINDS[ctx.triggered_id]
    try:
        with pool().connection() as conn:
            actor = current_actor(conn)
            change = Change(kind, datetime.now(UTC), actor.username, recipient=None if kind is Kind.CANCELLED else recipient,
                            note=(note or "").strip() or None)  # fmt: skip
            store.act(conn, int(selected), change, actor)
    except (ValueError, store.NotAllowed, store.DirectiveNotFound) as exc:
        return dbc.Alert(tr("error", lang, reason=user_message(exc, lang)), color="danger"), int(version or 0)
    return dbc.Alert(tr("done", lang, action=kind_name(kind, lang)), color="success"), int(version or 0) + 1


@callback(Output(did.FILE_DOWNLOAD, "data"), Input({"type": did.FILE_LINK, "file": ALL}, "n_clicks"),
          prevent_initial_call=True)  # fmt: skip
def download(clicks: list[int | None]) -> Any:
    """A file, only for a viewer whose scope holds its recipient (leaders: any)."""
    if not ctx.triggered_id or not any(clicks or []):
        raise PreventUpdate
    with pool().connection() as conn:
        actor = current_actor(conn)
        if actor.role not in ACCESS[f"{did.FILE_DOWNLOAD}.data"][0] and not actor.scope:
            raise PreventUpdate
        f = store.get_file(conn, uuid.UUID(ctx.triggered_id["file"]), actor.read_scope())
    if f is None:
        raise PreventUpdate
    return {"content": base64.b64encode(f.data).decode(), "filename": f.meta.filename, "base64": True,
            "type": f.meta.content_type}  # fmt: skip
