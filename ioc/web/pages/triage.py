"""Triage desk (``/triage``): the queue of citizen reports, least working time left first.

Filters (status, category, unit, owner, overdue), a ticket view (map, photos, history, reporter
masked unless the viewer is triage staff — every unmasked view is audited) and the actions:
confirm category, assign, start, answer, merge, publish, record the citizen's verdict. Keyboard:
J/K move through the queue, C/G/S/M/P press the matching action, R jumps to the answer box
(Ctrl+Enter sends it); the buttons also carry ``accessKey``. Agency and ward users (users with
scopes) see only their own tickets and may only start and answer them.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
import dash_leaflet as dl
import flask
import psycopg
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import MissingCallbackContextException, PreventUpdate

from ioc.access import Resource, decide
from ioc.audit import audit
from ioc.i18n import Lang
from ioc.tickets import stats as stats_mod
from ioc.tickets import store
from ioc.tickets.calendar import deadline_for
from ioc.tickets.duplicates import ReportPoint, candidates_for, haversine_m
from ioc.tickets.i18n import t
from ioc.tickets.privacy import reporter_view
from ioc.tickets.routing import RoutingTable
from ioc.tickets.store import QueueFilter, TicketRow, Viewer
from ioc.tickets.workflow import OPEN_STATUSES, Change, Kind, Status, TransitionError, status_name
from ioc.web import auth, basemap, components
from ioc.web import tickets_views as views
from ioc.web.components import dropdown_labels
from ioc.web.errors import user_message
from ioc.web.pages import triage_ids as tid
from ioc.web.tickets_views import catalog, subnav

dash.register_page(__name__, path="/triage", name="triage", title="IOC Hải Phòng – Phản ánh")
basemap.register_band_switch("triage", tid.TRIAGE_MAP)

NEIGHBOUR_RADIUS_M = 300.0


@cache
def routing() -> RoutingTable:
    return RoutingTable.load(catalog=catalog())


def _pool() -> Any:
    return flask.current_app.extensions["ioc"]["pool"]


def _viewer(conn: psycopg.Connection | None = None) -> Viewer:
    """The logged-in user with their role and scope; callbacks stop here for accounts without the desk
    (the request hook has refused them already: this is the second lock on the same door)."""
    p = auth.current_principal()
    if p is None or not decide(p, Resource.page("/triage")):
        raise PreventUpdate
    return Viewer.of(p)


def _options(values: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for value, label in values]


def _button(id_: str, key: str, lang: Lang, colour: str, access: str | None = None) -> html.Button:
    """A Bootstrap-styled button with an ``accessKey`` (dbc.Button has no such property)."""
    extra = {"accessKey": access, "title": f"{t(key, lang)} [{access.upper()}]"} if access else {}
    return html.Button(
        t(key, lang),
        id=id_,
        className=f"btn btn-sm btn-{colour} me-1 mb-1",
        disabled=True,
        n_clicks=0,
        **extra,
    )


def layout(ticket: str | None = None, **_query: Any) -> html.Div:
    lang = auth.current_lang()
    p = auth.current_principal()
    if p is None or not decide(p, Resource.page("/triage")):
        return html.Div(html.P(t("forbidden", lang)), className="container p-5")
    viewer = Viewer.of(p)
    with _pool().connection() as conn:
        units = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT admin_unit FROM tickets WHERE admin_unit IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
        owners = conn.execute(
            "SELECT DISTINCT owner_code, owner_name FROM tickets WHERE owner_code IS NOT NULL ORDER BY 2"
        ).fetchall()
    if viewer.scoped:  # a scoped user's filters list only its own units and offices
        mine = set(viewer.units())
        units = [u for u in units if u in mine]
        owners = [(c, n) for c, n in owners if c in set(viewer.owner_codes())]
    if ticket is not None and len(ticket) > 64:
        ticket = None
    keys = {v: k for k, v in tid.SHORTCUTS.items()}
    filters = dbc.Row(
        [
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                id=tid.TRIAGE_FILTER_STATUS, multi=True, placeholder=t("filter.status", lang),
                options=_options([(s.value, status_name(s, lang)) for s in Status]),
                value=[s.value for s in Status if s in OPEN_STATUSES],
            ), md=3),
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                id=tid.TRIAGE_FILTER_CATEGORY, multi=True, placeholder=t("filter.category", lang),
                options=_options([(c.code, c.name(lang)) for c in catalog()]),
            ), md=3),
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang), id=tid.TRIAGE_FILTER_UNIT, multi=True, placeholder=t("filter.unit", lang),
                                 options=_options([(u, u) for u in units])), md=2),
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang), id=tid.TRIAGE_FILTER_OWNER, multi=True, placeholder=t("filter.owner", lang),
                                 options=_options([(c, n or c) for c, n in owners])), md=2),
            dbc.Col(dbc.Checkbox(id=tid.TRIAGE_FILTER_OVERDUE, label=t("filter.overdue", lang), value=False),
                    md=2, className="pt-2"),
        ],
        className="g-2 mb-2",
    )  # fmt: skip
    actions = html.Div(
        [
            dbc.Row([
                dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang), id=tid.TRIAGE_CATEGORY, placeholder=t("action.category", lang),
                                     options=_options([(c.code, c.name(lang)) for c in catalog()]),
                                     clearable=False), md=7),
                dbc.Col(_button(tid.TRIAGE_CONFIRM, "action.confirm", lang, "primary", keys[tid.TRIAGE_CONFIRM]), md=5),
            ], className="g-1 mb-1"),
            dbc.Row([
                dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang), id=tid.TRIAGE_OWNER, placeholder=t("action.owner", lang), clearable=False), md=7),
                dbc.Col(_button(tid.TRIAGE_ASSIGN, "action.assign", lang, "primary", keys[tid.TRIAGE_ASSIGN]), md=5),
            ], className="g-1 mb-1"),
            dbc.Input(id=tid.TRIAGE_REASON, placeholder=t("action.reason", lang), size="sm", className="mb-1"),
            dbc.Textarea(id=tid.TRIAGE_ANSWER_TEXT, placeholder=t("action.answer_text", lang), rows=2,
                         className="mb-1", accessKey="r"),
            html.Div([
                _button(tid.TRIAGE_START, "action.start", lang, "warning", keys[tid.TRIAGE_START]),
                _button(tid.TRIAGE_ANSWER, "action.answer", lang, "success"),
            ]),
            dbc.Row([
                dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang), id=tid.TRIAGE_MERGE_TARGET, placeholder=t("action.merge_into", lang)), md=7),
                dbc.Col(_button(tid.TRIAGE_MERGE, "action.merge", lang, "secondary", keys[tid.TRIAGE_MERGE]), md=5),
            ], className="g-1 mb-1"),
            html.Div([
                _button(tid.TRIAGE_PUBLISH, "action.publish", lang, "info", keys[tid.TRIAGE_PUBLISH]),
                _button(tid.TRIAGE_AGREE, "action.agree", lang, "outline-success"),
                _button(tid.TRIAGE_DISAGREE, "action.disagree", lang, "outline-danger"),
            ]),
            html.P(t("action.keys", lang), className="text-muted small mb-0"),
        ],
        className="ioc-triage-actions border-top pt-2 mt-2",
    )  # fmt: skip
    stats_section = (
        html.Div(
            [
                html.H2(t("stats.title", lang), className="h6 mt-3"),
                dbc.Row(id=tid.TRIAGE_KPIS, className="g-2 mb-2"),
                dbc.Row([
                    dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                        id=tid.TRIAGE_STATS_BY, clearable=False, value="category",
                        options=_options([(b, t(f"by.{b}", lang)) for b in stats_mod.BY_VALUES]),
                    ), md=3),
                    dbc.Col(dbc.Button(t("stats.csv", lang), id=tid.TRIAGE_CSV, size="sm", color="secondary"), md=2),
                ], className="g-2 mb-2"),
                html.Div(id=tid.TRIAGE_STATS),
                dcc.Download(id=tid.TRIAGE_CSV_DOWNLOAD),
            ]
        )
        if decide(p, Resource.export("tickets.stats_csv"))
        else html.Div([html.Div(id=tid.TRIAGE_KPIS), html.Div(id=tid.TRIAGE_STATS),
                       dcc.Dropdown(labels=dropdown_labels(lang), id=tid.TRIAGE_STATS_BY, value="total", style={"display": "none"})])
    )  # fmt: skip
    return html.Div(
        [
            components.navbar(lang, "/triage", auth.current_user(), auth.csrf_token()),
            dbc.Container(
                [
                    subnav(lang, "/triage"),
                    filters,
                    html.Div(id=tid.TRIAGE_MESSAGE),
                    dbc.Row(
                        [
                            dbc.Col(html.Div(id=tid.TRIAGE_QUEUE, className="ioc-triage-queue-box"), lg=7),
                            dbc.Col(
                                [
                                    dl.Map(
                                        # The street base and the ticket's unit outline (in the layer group).
                                        [*basemap.layers("triage", "light"), dl.LayerGroup(id=tid.TRIAGE_MAP_LAYER)],
                                        id=tid.TRIAGE_MAP, center=components.HAIPHONG_CENTER, zoom=12,
                                        style={"height": "220px"}, className="ioc-map ioc-map-triage mb-2",
                                        attributionControl=False,
                                    ),
                                    html.Div(html.P(t("detail.none", lang), className="text-muted"),
                                             id=tid.TRIAGE_DETAIL),
                                    actions,
                                ],
                                lg=5,
                            ),
                        ],
                        className="g-3",
                    ),
                    stats_section,
                ],
                fluid=True,
            ),
            dcc.Store(id=tid.TRIAGE_SELECTED, data=ticket),
            dcc.Store(id=tid.TRIAGE_VERSION, data=0),
            dcc.Store(id=tid.TRIAGE_KEYS),
            dcc.Interval(id=tid.TRIAGE_TICK, interval=30_000),
        ],
        id=tid.TRIAGE,
        className="ioc-triage",
    )  # fmt: skip


def _trigger() -> Any:
    """The input that fired the callback (``None`` on the first load or outside a callback)."""
    try:
        return ctx.triggered_id
    except MissingCallbackContextException:
        return None


def load_queue(
    conn: psycopg.Connection, viewer: Viewer, flt: QueueFilter, now: datetime
) -> list[store.QueueRow]:
    return store.queue(conn, viewer, flt, now)


@callback(
    Output(tid.TRIAGE_QUEUE, "children"),
    Input(tid.TRIAGE_FILTER_STATUS, "value"),
    Input(tid.TRIAGE_FILTER_CATEGORY, "value"),
    Input(tid.TRIAGE_FILTER_UNIT, "value"),
    Input(tid.TRIAGE_FILTER_OWNER, "value"),
    Input(tid.TRIAGE_FILTER_OVERDUE, "value"),
    Input(tid.TRIAGE_TICK, "n_intervals"),
    Input(tid.TRIAGE_VERSION, "data"),
    Input(tid.TRIAGE_SELECTED, "data"),
)
def refresh_queue(
    statuses: list[str] | None,
    categories: list[str] | None,
    units: list[str] | None,
    owners: list[str] | None,
    overdue: bool | None,
    _tick: int | None,
    _version: int | None,
    selected: str | None,
) -> Any:
    lang = auth.current_lang()
    now = datetime.now(UTC)
    flt = QueueFilter(
        statuses=tuple(statuses) if statuses else None,
        categories=tuple(categories or ()) or None,
        units=tuple(units or ()) or None,
        owners=tuple(owners or ()) or None,
        overdue_only=bool(overdue),
        limit=views.SHOWN,  # the most urgent; the total comes with the rows
    )
    viewer = _viewer()
    with _pool().connection() as conn:
        rows = load_queue(conn, viewer, flt, now)
        if _trigger() not in (tid.TRIAGE_TICK, tid.TRIAGE_VERSION, tid.TRIAGE_SELECTED):
            # Who looked at which part of the queue (the first load and each filter change).
            audit(conn, viewer.username, "tickets.queue_viewed", None,
                  {"statuses": statuses, "categories": categories, "units": units, "owners": owners,
                   "overdue": bool(overdue), "rows": len(rows)})  # fmt: skip
    return views.queue_table(rows, now=now, lang=lang, viewer=viewer, catalog=catalog(), selected=selected)


@callback(
    Output(tid.TRIAGE_SELECTED, "data"),
    Input(tid.queue_row(ALL), "n_clicks"),  # type: ignore[arg-type]
    prevent_initial_call=True,
)
def select_row(_clicks: list[int | None]) -> str:
    trig = ctx.triggered[0] if ctx.triggered else None
    if not trig or not trig.get("value") or not isinstance(ctx.triggered_id, dict):
        raise PreventUpdate  # rows re-rendered (n_clicks 0), not clicked
    return str(ctx.triggered_id["ticket"])


def owner_options(ticket: TicketRow, lang: Lang) -> tuple[list[dict[str, str]], str | None]:
    """Agencies and the ticket's ward committee; the routing table's owner preselected."""
    table = routing()
    opts = [
        (f"agency|{o.code}|{o.name_vi}", o.name_vi if lang == "vi" else o.name_en)
        for o in table.agencies.values()
    ]
    suggested = None
    if ticket.admin_unit:
        unit = " ".join(ticket.admin_unit.split())
        opts.append((f"ward_committee|ubnd:{unit}|UBND {unit}", f"UBND {unit}"))
        code = ticket.category or ticket.suggested_category
        if code and code in catalog():
            o = table.owner_for(code, ticket.admin_unit)
            suggested = f"{o.kind}|{o.code}|{o.name_vi}"
    if ticket.owner_code:
        current = f"{ticket.owner_kind}|{ticket.owner_code}|{ticket.owner_name}"
        if current not in {v for v, _ in opts}:
            opts.append((current, ticket.owner_name or ticket.owner_code))
        suggested = current if ticket.status != "classified" else suggested or current
    return _options(opts), suggested


def _neighbours(
    conn: psycopg.Connection, ticket: TicketRow
) -> tuple[list[tuple[str, float, float]], list[str]]:
    """Open tickets near this one (map) and its duplicate candidates (merge list, best first)."""
    from datetime import timedelta

    points = [
        ReportPoint(*p)
        for p in store.open_points(conn, ticket.received_at - timedelta(days=7), [ticket.ticket_id])
    ]
    near = [(p.report_id, p.lat, p.lon) for p in points
            if haversine_m(ticket.lat, ticket.lon, p.lat, p.lon) <= NEIGHBOUR_RADIUS_M]  # fmt: skip
    code = ticket.category or ticket.suggested_category
    dups: list[str] = [ticket.duplicate_of] if ticket.duplicate_of else []
    if code:
        me = ReportPoint(ticket.ticket_id, code, ticket.lat, ticket.lon, ticket.received_at)
        dups += [c.report_id for c in candidates_for(me, points) if c.report_id not in dups]
    return near, dups


@callback(
    Output(tid.TRIAGE_DETAIL, "children"),
    Output(tid.TRIAGE_MAP_LAYER, "children"),
    Output(tid.TRIAGE_MAP, "viewport"),
    Output(tid.TRIAGE_CATEGORY, "value"),
    Output(tid.TRIAGE_OWNER, "options"),
    Output(tid.TRIAGE_OWNER, "value"),
    Output(tid.TRIAGE_MERGE_TARGET, "options"),
    Output(tid.TRIAGE_MERGE_TARGET, "value"),
    Output(tid.TRIAGE_CONFIRM, "disabled"),
    Output(tid.TRIAGE_ASSIGN, "disabled"),
    Output(tid.TRIAGE_START, "disabled"),
    Output(tid.TRIAGE_ANSWER, "disabled"),
    Output(tid.TRIAGE_MERGE, "disabled"),
    Output(tid.TRIAGE_PUBLISH, "disabled"),
    Output(tid.TRIAGE_AGREE, "disabled"),
    Output(tid.TRIAGE_DISAGREE, "disabled"),
    Input(tid.TRIAGE_SELECTED, "data"),
    Input(tid.TRIAGE_VERSION, "data"),
)
def show_detail(selected: str | None, _version: int | None) -> tuple[Any, ...]:
    lang = auth.current_lang()
    off = (True,) * 8
    if not selected:
        return (no_update, [], no_update, None, [], None, [], None, *off)
    now = datetime.now(UTC)
    viewer = _viewer()
    with _pool().connection() as conn:
        ticket = store.get_ticket(conn, selected) if len(str(selected)) <= 64 else None
        if ticket is None or not viewer.can_see(ticket):
            return (html.P(t("action.need_ticket", lang), className="text-muted"), [], no_update, None, [], None,
                    [], None, *off)  # fmt: skip
        events = store.history(conn, selected)
        reporter = reporter_view(conn, viewer, ticket)  # audited when unmasked
        near, dups = _neighbours(conn, ticket)
        merged = store.merged_into(conn, selected)
    allowed = views.allowed_actions(viewer, ticket)
    detail = views.detail_view(
        ticket, events, reporter, viewer=viewer, now=now, lang=lang, catalog=catalog(), merged=merged
    )
    owners, owner = owner_options(ticket, lang)
    merge_opts = _options([(d, d) for d in dups])
    disabled = tuple(a not in allowed for a in ("confirm", "assign", "start", "answer", "merge", "publish"))
    verdict_off = "verdict" not in allowed
    return (
        detail,
        views.map_layer(ticket, near),
        {"center": [ticket.lat, ticket.lon], "zoom": 16},
        ticket.category or ticket.suggested_category,
        owners,
        owner,
        merge_opts,
        dups[0] if dups else None,
        *disabled,
        verdict_off,
        verdict_off,
    )


_ACTION_OF = {
    tid.TRIAGE_CONFIRM: "confirm", tid.TRIAGE_ASSIGN: "assign", tid.TRIAGE_START: "start",
    tid.TRIAGE_ANSWER: "answer", tid.TRIAGE_MERGE: "merge", tid.TRIAGE_PUBLISH: "publish",
    tid.TRIAGE_AGREE: "verdict", tid.TRIAGE_DISAGREE: "verdict",
}  # fmt: skip


def change_for(
    button: str,
    ticket: TicketRow,
    actor: str,
    now: datetime,
    *,
    category: str | None,
    owner: str | None,
    reason: str | None,
    answer: str | None,
    merge_target: str | None,
) -> Change:
    """The workflow change one button asks for (``ValueError`` naming what is missing)."""
    cat = catalog()
    if button == tid.TRIAGE_CONFIRM:
        if not category or category not in cat:
            raise ValueError(f"choose a category (got {category!r})")
        return Change(Kind.CLASSIFIED, now, actor, category=category,
                      deadline=deadline_for(ticket.received_at, cat.get(category)))  # fmt: skip
    if button == tid.TRIAGE_ASSIGN:
        if not owner or owner.count("|") != 2:
            raise ValueError(f"choose who must answer (got {owner!r})")
        kind, code, name = owner.split("|")
        return Change(Kind.ASSIGNED, now, actor, owner_kind=kind, owner_code=code, owner_name=name,  # type: ignore[arg-type]
                      reason=(reason or "").strip() or None)  # fmt: skip
    if button == tid.TRIAGE_START:
        return Change(Kind.STARTED, now, actor)
    if button == tid.TRIAGE_ANSWER:
        return Change(Kind.ANSWERED, now, actor, answer=(answer or "").strip() or None)
    if button == tid.TRIAGE_MERGE:
        return Change(Kind.MERGED, now, actor, merged_into=merge_target or None)
    if button == tid.TRIAGE_PUBLISH:
        return Change(Kind.PUBLISHED, now, actor)
    if button in (tid.TRIAGE_AGREE, tid.TRIAGE_DISAGREE):
        agree = button == tid.TRIAGE_AGREE
        code = ticket.category or ticket.suggested_category
        deadline = None if agree or not code or code not in cat else deadline_for(now, cat.get(code))
        return Change(Kind.VERDICT, now, actor, verdict="agree" if agree else "disagree", deadline=deadline)
    raise ValueError(f"unknown action button {button!r}")


@callback(
    Output(tid.TRIAGE_VERSION, "data"),
    Output(tid.TRIAGE_MESSAGE, "children"),
    Output(tid.TRIAGE_ANSWER_TEXT, "value"),
    *(Input(b, "n_clicks") for b in tid.ACTION_BUTTONS),
    State(tid.TRIAGE_SELECTED, "data"),
    State(tid.TRIAGE_CATEGORY, "value"),
    State(tid.TRIAGE_OWNER, "value"),
    State(tid.TRIAGE_REASON, "value"),
    State(tid.TRIAGE_ANSWER_TEXT, "value"),
    State(tid.TRIAGE_MERGE_TARGET, "value"),
    State(tid.TRIAGE_VERSION, "data"),
    prevent_initial_call=True,
)
def act(*args: Any) -> tuple[Any, Any, Any]:
    selected, category, owner, reason, answer, merge_target, version = args[len(tid.ACTION_BUTTONS) :]
    button = ctx.triggered_id
    if button not in _ACTION_OF or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    lang = auth.current_lang()
    if not selected:
        return no_update, dbc.Alert(t("action.need_ticket", lang), color="warning", duration=4000), no_update
    viewer = _viewer()
    user = viewer.username
    with _pool().connection() as conn:
        ticket = store.get_ticket(conn, selected) if len(str(selected)) <= 64 else None
        if ticket is None or _ACTION_OF[button] not in views.allowed_actions(viewer, ticket):
            return no_update, dbc.Alert(t("action.forbidden", lang), color="danger"), no_update
        try:
            change = change_for(button, ticket, user, datetime.now(UTC), category=category, owner=owner,
                                reason=reason, answer=answer, merge_target=merge_target)  # fmt: skip
            store.apply_change(conn, selected, change)
        except (TransitionError, ValueError, LookupError) as exc:
            return no_update, dbc.Alert(t("action.error", lang, error=user_message(exc, lang, "ticket action")), color="danger"), no_update
    what = t(f"kind.{change.kind.value}", lang)
    message = dbc.Alert(t("action.done", lang, what=what, id=selected), color="success", duration=4000,
                        id="triage-done")  # fmt: skip
    return (version or 0) + 1, message, "" if button == tid.TRIAGE_ANSWER else no_update


@callback(
    Output(tid.TRIAGE_KPIS, "children"),
    Output(tid.TRIAGE_STATS, "children"),
    Input(tid.TRIAGE_STATS_BY, "value"),
    Input(tid.TRIAGE_VERSION, "data"),
    Input(tid.TRIAGE_TICK, "n_intervals"),
)
def refresh_stats(by: str | None, _version: int | None, _tick: int | None) -> tuple[Any, Any]:
    lang = auth.current_lang()
    if not decide(_viewer().principal(), Resource.export("tickets.stats_csv")):
        return [], []  # the city-wide numbers are not an agency's business
    by = by if by in stats_mod.BY_VALUES else "category"
    with _pool().connection() as conn:
        now = datetime.now(UTC)
        total = stats_mod.ticket_stats(conn, "total", now=now)
        rows = stats_mod.ticket_stats(conn, by or "category", now=now)
    return views.kpi_cards(total[0] if total else None, lang), views.stats_table(
        rows, by or "category", lang, catalog()
    )


@callback(
    Output(tid.TRIAGE_CSV_DOWNLOAD, "data"),
    Input(tid.TRIAGE_CSV, "n_clicks"),
    State(tid.TRIAGE_STATS_BY, "value"),
    prevent_initial_call=True,
)
def download_csv(clicks: int | None, by: str | None) -> Any:
    if not clicks:
        raise PreventUpdate
    lang = auth.current_lang()
    viewer = _viewer()
    if not decide(viewer.principal(), Resource.export("tickets.stats_csv")) or by not in (*stats_mod.BY_VALUES, None):
        raise PreventUpdate
    with _pool().connection() as conn:
        rows = stats_mod.ticket_stats(conn, by or "category", now=datetime.now(UTC))
        audit(conn, viewer.username, "tickets.stats_csv", None, {"by": by})
    buf = io.StringIO()
    stats_mod.write_csv(rows, buf, lang)
    return dcc.send_string(buf.getvalue(), f"phan-anh-{by or 'category'}.csv")


_KEYS_JS = """
    function (_id) {
        if (window.iocTriageKeys) { return window.dash_clientside.no_update; }
        window.iocTriageKeys = true;
        const shortcuts = __SHORTCUTS__;
        document.addEventListener('keydown', function (ev) {
            if (!document.getElementById('__PAGE__')) { return; }
            const el = ev.target, tag = (el.tagName || '').toLowerCase();
            if (el.id === '__ANSWER_TEXT__' && ev.key === 'Enter' && ev.ctrlKey) {
                const send = document.getElementById('__ANSWER__');
                if (send && !send.disabled) { send.click(); ev.preventDefault(); }
                return;
            }
            if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
            if (tag === 'input' || tag === 'textarea' || tag === 'select' || el.isContentEditable) { return; }
            const k = ev.key.toLowerCase();
            if (ev.key === 'Enter' && el.classList && el.classList.contains('ioc-triage-row')) { el.click(); return; }
            if (k === 'j' || k === 'k') {
                const rows = Array.from(document.querySelectorAll('.ioc-triage-row'));
                if (!rows.length) { return; }
                let i = rows.findIndex(r => r.classList.contains('active'));
                i = k === 'j' ? Math.min(rows.length - 1, i + 1) : Math.max(0, i < 0 ? 0 : i - 1);
                rows[i].click(); rows[i].focus(); ev.preventDefault(); return;
            }
            if (k === 'r') {
                const box = document.getElementById('__ANSWER_TEXT__');
                if (box) { box.focus(); ev.preventDefault(); }
                return;
            }
            const target = shortcuts[k] && document.getElementById(shortcuts[k]);
            if (target && !target.disabled) { target.click(); ev.preventDefault(); }
        });
        return true;
    }
    """
for _token, _value in (
    ("__SHORTCUTS__", json.dumps({k: v for k, v in tid.SHORTCUTS.items() if k != "r"})),
    ("__PAGE__", tid.TRIAGE),
    ("__ANSWER_TEXT__", tid.TRIAGE_ANSWER_TEXT),
    ("__ANSWER__", tid.TRIAGE_ANSWER),
):
    _KEYS_JS = _KEYS_JS.replace(_token, _value)

clientside_callback(_KEYS_JS, Output(tid.TRIAGE_KEYS, "data"), Input(tid.TRIAGE, "id"))
