"""The task tracker (``/tasks``, "6 rõ"): roll-ups by task group and lead agency as progress bars,
the task list with overdue ones first and highlighted, and the standing office's XLSX import."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from ioc.directives.i18n import tr
from ioc.directives.tasks import (
    EDIT_ROLES,
    TASK_STATUS_NAMES,
    Rollup,
    TaskRow,
    TaskStatus,
    list_tasks,
    rollups,
    upsert_tasks,
)
from ioc.directives.tasks_xlsx import XlsxRowError, read_tasks
from ioc.i18n import Lang
from ioc.web import auth, components
from ioc.web.errors import user_message
from ioc.web.pages import directives_ids as did
from ioc.web.pages._directives_common import allowed, current_actor, forbidden, pool

dash.register_page(__name__, path="/tasks", name="tasks", title="IOC Hải Phòng – Theo dõi nhiệm vụ")

READERS = frozenset({"leader", "standing_office", "admin", "operator", "department", "finance"})
ACCESS: dict[str, tuple[frozenset[str], str]] = {
    "/tasks": (READERS, "leaders, standing office, admin: every task; department: tasks it leads (lead_codes && scope)"),
    f"{did.TASKS_LIST}.children": (READERS, "scope: department users see only tasks whose lead_codes meet their scope"),
    f"{did.TASKS_FEEDBACK}.children": (EDIT_ROLES, "XLSX import: standing_office, leader, admin"),
}


def layout(**_q: Any) -> html.Div:
    lang = auth.current_lang()
    if not allowed(ACCESS, "/tasks"):
        return forbidden(lang)
    editor = (auth.current_role() or "") in EDIT_ROLES
    importer = html.Div([
        dbc.Input(id=did.TASKS_PLAN, placeholder="KH-2027", value=f"KH-{datetime.now(UTC).year + 1}", className="mb-2"),
        dcc.Upload(id=did.TASKS_UPLOAD, children=html.Div(tr("tasks.import", lang)), className="ioc-upload mb-2",
                   accept=".xlsx"),
        html.Div(id=did.TASKS_FEEDBACK),
    ]) if editor else None  # fmt: skip
    return html.Div([
        components.navbar(lang, "/tasks", auth.current_user(), auth.csrf_token()),
        dbc.Container([
            html.H1(tr("page.tasks", lang), className="h4 mt-3"),
            dbc.Row([dbc.Col([html.H2(tr("tasks.by_group", lang), className="h6"), html.Div(id=did.TASKS_GROUPS)], lg=6),
                     dbc.Col([html.H2(tr("tasks.by_unit", lang), className="h6"), html.Div(id=did.TASKS_UNITS), importer], lg=6)]),
            html.H2(tr("tasks.list", lang), className="h6 mt-3"),
            html.Div(id=did.TASKS_LIST),
        ], fluid=True, className="ioc-dir"),
        dcc.Store(id=did.TASKS_VERSION, data=0),
        dcc.Interval(id=did.TASKS_TICK, interval=60_000),
    ])  # fmt: skip


def bars(rows: list[Rollup], lang: Lang, limit: int = 12) -> Any:
    out = []
    for r in rows[:limit]:
        done = 100 * r.done / r.total if r.total else 0
        over = 100 * r.overdue / r.total if r.total else 0
        out.append(html.Div([
            html.Div(f"{r.name[:80]} — " + tr("tasks.done_share", lang, done=r.done, total=r.total, overdue=r.overdue),
                     className="small"),
            dbc.Progress([dbc.Progress(value=done, color="success", bar=True),
                          dbc.Progress(value=over, color="danger", bar=True)], className="mb-2"),
        ]))  # fmt: skip
    legend = html.Div([html.Span("■ ", style={"color": "#198754"}), TASK_STATUS_NAMES[TaskStatus.DONE][0 if lang == "vi" else 1],
                       "  ", html.Span("■ ", style={"color": "#dc3545"}), tr("board.overdue", lang)], className="small")  # fmt: skip
    return html.Div([*out, legend])


def table(rows: list[TaskRow], lang: Lang) -> Any:
    head = html.Thead(html.Tr([html.Th(tr(f"tasks.col.{c}", lang)) for c in ("code", "title", "lead", "time", "funding", "status", "cause")]))
    body = [html.Tr([
        html.Td(r.task_code), html.Td(r.title[:160]), html.Td("; ".join(r.lead_agencies)),
        html.Td(f"{r.start_text or r.start_quarter or '—'} → {r.end_text or r.end_quarter or '—'}"),
        html.Td(r.funding_source or "—"),
        html.Td(f"{TASK_STATUS_NAMES[TaskStatus(r.status)][0 if lang == 'vi' else 1]} {r.percent_done}%"),
        html.Td(r.late_cause or ""),
    ], className="ioc-overdue" if r.overdue else None) for r in rows]  # fmt: skip
    return dbc.Table([head, html.Tbody(body)], size="sm", responsive=True)


@callback(
    Output(did.TASKS_GROUPS, "children"),
    Output(did.TASKS_UNITS, "children"),
    Output(did.TASKS_LIST, "children"),
    Input(did.TASKS_TICK, "n_intervals"),
    Input(did.TASKS_VERSION, "data"),
)
def refresh(_n: Any, _v: Any) -> tuple[Any, Any, Any]:
    lang = auth.current_lang()
    with pool().connection() as conn:
        actor = current_actor(conn)
        scope = actor.scope if actor.role in ("department", "operator") and actor.scope else actor.read_scope()
        if actor.role in ("leader", "standing_office", "admin", "operator") and not actor.scope:
            scope = None
        rows = list_tasks(conn, datetime.now(UTC).date(), scope=scope)
    return bars(rollups(rows, "group"), lang), bars(rollups(rows, "unit"), lang), table(rows, lang)


@callback(
    Output(did.TASKS_FEEDBACK, "children"),
    Output(did.TASKS_VERSION, "data"),
    Input(did.TASKS_UPLOAD, "contents"),
    State(did.TASKS_UPLOAD, "filename"),
    State(did.TASKS_PLAN, "value"),
    State(did.TASKS_VERSION, "data"),
    prevent_initial_call=True,
)
def import_xlsx(content: str | None, name: str | None, plan: str | None, version: int | None) -> tuple[Any, int]:
    lang = auth.current_lang()
    if not content or (auth.current_role() or "") not in EDIT_ROLES:
        raise PreventUpdate
    try:
        items = read_tasks(base64.b64decode(content.split(",", 1)[1]), plan_code=(plan or "").strip() or "KH",
                           source=name or "upload.xlsx")  # fmt: skip
        with pool().connection() as conn:
            n = upsert_tasks(conn, items, auth.current_user() or "?", auth.current_role() or "", datetime.now(UTC))
    except (XlsxRowError, ValueError, PermissionError) as exc:
        return dbc.Alert(tr("error", lang, reason=user_message(exc, lang)), color="danger"), int(version or 0)
    return dbc.Alert(tr("tasks.imported", lang, n=n), color="success"), int(version or 0) + 1
