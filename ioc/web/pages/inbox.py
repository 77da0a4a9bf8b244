"""The recipients' inbox (``/inbox``): what is assigned to the user's units (departments, communes, the
police, the IOC operators), with acknowledgement, progress notes with photos or files, extension
requests with a reason, and the completion report. Only the user's own parts are shown or acted on:
the scope is the user's recipient memberships (``directive_members``)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from ioc.directives import store
from ioc.directives.i18n import tr
from ioc.directives.recipients import registry
from ioc.directives.settings import DirectiveSettings
from ioc.directives.workflow import Change, Kind, kind_name, priority_name, status_name
from ioc.i18n import Lang
from ioc.web import auth, components
from ioc.web.errors import user_message
from ioc.web.pages import directives as board
from ioc.web.pages import directives_ids as did
from ioc.web.pages._directives_common import allowed, current_actor, forbidden, parse_local, pool, when
from ioc.web.snapshot import web_settings

dash.register_page(__name__, path="/inbox", name="inbox", title="IOC Hải Phòng – Nhiệm vụ được giao")

MEMBERS = frozenset({"ward", "department", "operator", "leader", "standing_office", "admin", "public_order", "finance"})
ACCESS: dict[str, tuple[frozenset[str], str]] = {
    "/inbox": (MEMBERS, "any role with a recipient membership; rows: recipient_code in the user's memberships"),
    f"{did.INBOX_LIST}.children": (MEMBERS, "scope = the user's recipient codes (store.board(scope=...))"),
    f"{did.INBOX_DETAIL}.children": (MEMBERS, "only the user's own parts and the directive-wide steps"),
    f"{did.INBOX_FEEDBACK}.children": (MEMBERS, "ack/progress/extension/report: only for a recipient in scope"),
    f"{did.INBOX_FILES}.data": (MEMBERS, "upload: only to a part in scope; photos/PDF, size-limited"),
}


def layout(directive: str | None = None, **_q: Any) -> html.Div:
    lang = auth.current_lang()
    if not allowed(ACCESS, "/inbox"):
        return forbidden(lang)
    with pool().connection() as conn:
        actor = current_actor(conn)
    reg = registry()
    units = ", ".join(reg.get(c).name(lang) for c in sorted(actor.scope) if c in reg)
    mb = DirectiveSettings().max_file_bytes // (1024 * 1024)
    return html.Div([
        components.navbar(lang, "/inbox", auth.current_user(), auth.csrf_token()),
        dbc.Container([
            html.H1(tr("page.inbox", lang), className="h4 mt-3"),
            html.P(tr("inbox.scope", lang, units=units) if units else tr("inbox.noscope", lang), className="text-muted",
                   id="inbox-scope"),
            dbc.Row([
                dbc.Col(html.Div(id=did.INBOX_LIST), lg=6),
                dbc.Col([html.Div(id=did.INBOX_DETAIL), html.Div([
                    dbc.Textarea(id=did.INBOX_NOTE, rows=3, placeholder=tr("field.note", lang), className="mb-2"),
                    dcc.Upload(id=did.INBOX_UPLOAD, children=html.Div(tr("field.file", lang, mb=mb)), multiple=True,
                               className="ioc-upload mb-2", accept="image/jpeg,image/png,image/webp,application/pdf"),
                    html.Div(id="inbox-files-list", className="small mb-2"),
                    dbc.Input(id=did.INBOX_NEW_DEADLINE, placeholder=tr("field.new_deadline", lang), className="mb-2"),
                    html.Div([dbc.Button(tr("act.ack", lang), id=did.INBOX_ACK, color="primary"),
                              dbc.Button(tr("act.progress", lang), id=did.INBOX_PROGRESS, color="info"),
                              dbc.Button(tr("act.extend", lang), id=did.INBOX_EXTEND, color="warning"),
                              dbc.Button(tr("act.report", lang), id=did.INBOX_REPORT, color="success")],
                             className="d-flex flex-wrap gap-2"),
                    html.Div(id=did.INBOX_FEEDBACK, className="mt-2"),
                ], className="mt-2")], lg=6),
            ], className="g-3"),
        ], fluid=True, className="ioc-dir"),
        dcc.Store(id=did.INBOX_SELECTED, data={"directive": int(directive)} if directive and directive.isdigit() else None),
        dcc.Store(id=did.INBOX_VERSION, data=0),
        dcc.Store(id=did.INBOX_FILES, data=[]),
        dcc.Download(id=did.FILE_DOWNLOAD),
        dcc.Interval(id=did.INBOX_TICK, interval=int(web_settings().refresh_seconds * 2000)),
    ])  # fmt: skip


def _rows(rows: list[store.BoardRow], lang: Lang, selected: dict[str, Any] | None) -> Any:
    if not rows:
        return html.P(tr("inbox.none", lang), className="text-muted")
    reg = registry()
    sel = (selected or {}).get("directive"), (selected or {}).get("recipient")
    items = [dbc.ListGroupItem([
        html.Div([html.Strong(f"#{r.directive_id} {r.title}"),
                  dbc.Badge(status_name(r.status, lang), className="ms-2")]),
        html.Div(f"{reg.get(r.recipient_code).name(lang)} · {priority_name(r.priority, lang)} · "
                 f"{tr('col.deadline', lang)} {when(r.deadline)}" + (" ⚠" if r.overdue else ""), className="small"),
    ], id={"type": did.INBOX_PICK, "directive": r.directive_id, "recipient": r.recipient_code}, action=True,
        active=(r.directive_id, r.recipient_code) == sel, className="ioc-inbox-row" + (" list-group-item-danger" if r.overdue else ""),
        style={"minHeight": "44px"}) for r in rows]  # fmt: skip
    return dbc.ListGroup(items)


@callback(
    Output(did.INBOX_LIST, "children"),
    Input(did.INBOX_TICK, "n_intervals"),
    Input(did.INBOX_VERSION, "data"),
    Input(did.INBOX_SELECTED, "data"),
)
def refresh(_n: Any, _v: Any, selected: dict[str, Any] | None) -> Any:
    lang = auth.current_lang()
    with pool().connection() as conn:
        actor = current_actor(conn)
        rows = store.board(conn, datetime.now(UTC), scope=actor.scope)  # never None: a user sees only their units
    return _rows(rows, lang, selected)


@callback(
    Output(did.INBOX_SELECTED, "data"),
    Input({"type": did.INBOX_PICK, "directive": ALL, "recipient": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def pick(clicks: list[int | None]) -> dict[str, Any]:
    if not ctx.triggered_id or not any(clicks or []):
        raise PreventUpdate
    return {"directive": int(ctx.triggered_id["directive"]), "recipient": str(ctx.triggered_id["recipient"])}


@callback(
    Output(did.INBOX_DETAIL, "children"),
    Input(did.INBOX_SELECTED, "data"),
    Input(did.INBOX_VERSION, "data"),
)
def detail(selected: dict[str, Any] | None, _v: Any) -> Any:
    lang = auth.current_lang()
    if not selected:
        return html.P(tr("board.pick", lang), className="text-muted")
    with pool().connection() as conn:
        actor = current_actor(conn)
        try:
            d = store.get_directive(conn, int(selected["directive"]), actor.scope)
        except store.DirectiveNotFound:
            return html.P(tr("inbox.none", lang), className="text-muted")
        parts = store.assignments(conn, d.directive_id, actor.scope)
        steps = board.timeline(conn, d.directive_id, actor.scope, lang)
    mine = [html.Li(f"{registry().get(a.recipient_code).name(lang)}: {status_name(a.status, lang)} · "
                    f"{tr('col.deadline', lang)} {when(a.deadline)}") for a in parts]  # fmt: skip
    return dbc.Card(dbc.CardBody([html.H2(f"#{d.directive_id} {d.title}", className="h5", id="inbox-detail-title"),
                                  html.P(d.body), html.Ul(mine, className="small"), *steps]))  # fmt: skip


@callback(
    Output(did.INBOX_FILES, "data"),
    Output("inbox-files-list", "children"),
    Input(did.INBOX_UPLOAD, "contents"),
    State(did.INBOX_UPLOAD, "filename"),
    State(did.INBOX_SELECTED, "data"),
    State(did.INBOX_FILES, "data"),
    prevent_initial_call=True,
)
def upload(contents: list[str] | None, names: list[str] | None, selected: dict[str, Any] | None,
           held: list[dict[str, str]] | None) -> tuple[Any, Any]:  # fmt: skip
    """Store each file at once (type sniffed, size checked); the next note carries their ids."""
    lang = auth.current_lang()
    if not contents or not selected or not selected.get("recipient"):
        raise PreventUpdate
    held = list(held or [])
    errors = []
    limit = DirectiveSettings().max_file_bytes
    with pool().connection() as conn:
        actor = current_actor(conn)
        for content, name in zip(contents, names or [], strict=False):
            try:
                data = base64.b64decode(content.split(",", 1)[1], validate=True)
                fid = store.add_file(conn, int(selected["directive"]), str(selected["recipient"]), name, data, actor,
                                     datetime.now(UTC), max_bytes=limit)  # fmt: skip
                held.append({"id": str(fid), "name": name})
            except (ValueError, IndexError, binascii.Error, store.NotAllowed, store.DirectiveNotFound) as exc:
                errors.append(f"{name}: {exc}")
    shown = [html.Div(f"📎 {h['name']}") for h in held] + [html.Div(tr("error", lang, reason=e), className="text-danger")
                                                          for e in errors]  # fmt: skip
    return held, shown


_KINDS = {did.INBOX_ACK: Kind.ACKNOWLEDGED, did.INBOX_PROGRESS: Kind.PROGRESS, did.INBOX_EXTEND: Kind.EXTENSION_REQUESTED,
          did.INBOX_REPORT: Kind.REPORTED}  # fmt: skip


@callback(
    Output(did.INBOX_FEEDBACK, "children"),
    Output(did.INBOX_VERSION, "data"),
    Output(did.INBOX_FILES, "data", allow_duplicate=True),
    Output(did.INBOX_NOTE, "value"),
    *(Input(k, "n_clicks") for k in _KINDS),
    State(did.INBOX_SELECTED, "data"),
    State(did.INBOX_NOTE, "value"),
    State(did.INBOX_NEW_DEADLINE, "value"),
    State(did.INBOX_FILES, "data"),
    State(did.INBOX_VERSION, "data"),
    prevent_initial_call=True,
)
def on_action(*args: Any) -> tuple[Any, int, Any, Any]:
    selected, note, new_deadline, held, version = args[-5:]
    lang = auth.current_lang()
    if ctx.triggered_id not in _KINDS or not any(args[: len(_KINDS)]):
        raise PreventUpdate
    if not selected or not selected.get("recipient"):
        return dbc.Alert(tr("board.pick", lang), color="warning"), int(version or 0), dash.no_update, dash.no_update
    kind = _KINDS[ctx.triggered_id]
    try:
        deadline = parse_local(new_deadline) if kind is Kind.EXTENSION_REQUESTED else None
        files = tuple(h["id"] for h in held or ()) if kind in (Kind.PROGRESS, Kind.REPORTED) else ()
        with pool().connection() as conn:
            actor = current_actor(conn)
            change = Change(kind, datetime.now(UTC), actor.username, recipient=str(selected["recipient"]),
                            note=(note or "").strip() or None, deadline=deadline, files=files)  # fmt: skip
            store.act(conn, int(selected["directive"]), change, actor)
    except (ValueError, store.NotAllowed, store.DirectiveNotFound) as exc:
        return dbc.Alert(tr("error", lang, reason=user_message(exc, lang)), color="danger"), int(version or 0), dash.no_update, dash.no_update
    return (dbc.Alert(tr("done", lang, action=kind_name(kind, lang)), color="success", id="inbox-done"),
            int(version or 0) + 1, [] if files else dash.no_update, "")  # fmt: skip
