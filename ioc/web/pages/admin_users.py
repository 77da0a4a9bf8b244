"""Accounts (``/admin/users``, administrators only): list, add, change role and scope, disable,
reset a password, end sessions. Every change goes through :mod:`ioc.accounts` (password policy,
session revocation, audit). The request hook has already refused everyone but administrators; each
callback checks ``user``/``admin`` again before it writes anything.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from ioc import accounts
from ioc.access import SCOPED_ROLES, Action, Resource, Role, decide
from ioc.accounts import UserError
from ioc.audit import audit
from ioc.i18n import t
from ioc.web import admin_views, auth, components, ids
from ioc.web.auth import password_rule_message

dash.register_page(__name__, path="/admin/users", name="admin-users", title="IOC Hải Phòng – Tài khoản")


@cache
def unit_names() -> tuple[str, ...]:
    """The communes, wards and special zones in force, by name (scopes store names or codes)."""
    from datetime import date

    from geodata.boundaries import boundary_set_for

    return tuple(sorted(u.full_name for u in boundary_set_for(date.today()).leaves()))


def _pool() -> Any:
    return flask.current_app.extensions["ioc"]["pool"]


def _admin() -> Any:
    p = auth.current_principal()
    if p is None or not decide(p, Resource.obj("user"), Action.ADMIN):
        raise PreventUpdate
    return p


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    p = auth.current_principal()
    if p is None or not decide(p, Resource.page("/admin/users")):
        return html.Div(html.P(t("auth.forbidden", lang)), className="container p-5")
    return html.Div(
        [
            components.navbar(lang, "/admin/users", p.username, auth.csrf_token()),
            dbc.Container(
                [
                    html.H1(t("admin.title", lang), className="h4 mt-3"),
                    html.P(t("admin.intro", lang), className="text-muted small"),
                    html.Div(id=ids.ADMIN_MESSAGE),
                    dbc.Row([
                        dbc.Col(html.Div(id=ids.ADMIN_TABLE), lg=8),
                        dbc.Col(admin_views.user_form(lang, unit_names()), lg=4),
                    ], className="g-3"),
                    dcc.Store(id=ids.ADMIN_VERSION, data=0),
                ],
                fluid=True,
            ),
        ],
        id=ids.ADMIN_USERS,
    )  # fmt: skip


@callback(Output(ids.ADMIN_TABLE, "children"), Input(ids.ADMIN_VERSION, "data"))
def refresh_users(_version: int | None) -> Any:
    _admin()
    with _pool().connection() as conn:
        users = accounts.list_users(conn)
    return admin_views.users_table(users, auth.current_lang())


@callback(
    Output(ids.ADMIN_USERNAME, "value"),
    Output(ids.ADMIN_DISPLAY_NAME, "value"),
    Output(ids.ADMIN_ROLE, "value"),
    Output(ids.ADMIN_SECTORS, "value"),
    Output(ids.ADMIN_UNITS, "value"),
    Input(ids.admin_user_row(ALL), "n_clicks"),  # type: ignore[arg-type]
    prevent_initial_call=True,
)
def pick_user(_clicks: list[int | None]) -> tuple[Any, ...]:
    _admin()
    trig = ctx.triggered[0] if ctx.triggered else None
    if not trig or not trig.get("value") or not isinstance(ctx.triggered_id, dict):
        raise PreventUpdate
    username = str(ctx.triggered_id.get("user", ""))[:64]
    with _pool().connection() as conn:
        user = accounts.get_user(conn, username)
        if user is None:
            raise PreventUpdate
        rows = conn.execute("SELECT scope_type, scope_code FROM user_scopes WHERE username = %s ORDER BY 2",
                            (username,)).fetchall()  # fmt: skip
    return (user.username, user.display_name, user.role, [c for k, c in rows if k == "agency"],
            [c for k, c in rows if k == "ward"])  # fmt: skip


@callback(
    Output(ids.ADMIN_MESSAGE, "children"),
    Output(ids.ADMIN_VERSION, "data"),
    Output(ids.ADMIN_PASSWORD, "value"),
    *(Input(b, "n_clicks") for b in ids.ADMIN_ACTIONS),
    State(ids.ADMIN_USERNAME, "value"),
    State(ids.ADMIN_DISPLAY_NAME, "value"),
    State(ids.ADMIN_ROLE, "value"),
    State(ids.ADMIN_SECTORS, "value"),
    State(ids.ADMIN_UNITS, "value"),
    State(ids.ADMIN_PASSWORD, "value"),
    State(ids.ADMIN_TEMPORARY, "value"),
    State(ids.ADMIN_VERSION, "data"),
    prevent_initial_call=True,
)
def save_user(*args: Any) -> tuple[Any, Any, Any]:
    admin = _admin()
    lang = auth.current_lang()
    username, display, role, sectors, units, password, temporary, version = args[len(ids.ADMIN_ACTIONS):]
    button = ctx.triggered_id
    if button not in ids.ADMIN_ACTIONS or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    username = (username or "").strip().lower()
    if not username:
        return dbc.Alert(t("admin.need_user", lang), color="warning"), dash.no_update, dash.no_update
    sectors = [str(s) for s in (sectors or [])][:20]
    units = [str(u) for u in (units or [])][:200]

    def done(key: str, **kw: Any) -> tuple[Any, Any, Any]:
        return dbc.Alert(t(key, lang, user=username, **kw), color="success", id="admin-done"), int(version or 0) + 1, ""

    try:
        with _pool().connection() as conn:
            existing = accounts.get_user(conn, username)
            if button == ids.ADMIN_SAVE:
                r = accounts.parse_role(role or "")
                if r in SCOPED_ROLES and not sectors and not units:
                    raise UserError(t("admin.need_scope", lang, role=r.name_in(lang)))
                if existing is None:
                    if not password:
                        return dbc.Alert(t("admin.need_password", lang), color="warning"), dash.no_update, dash.no_update
                    accounts.add_user(conn, username, password, r.value, (display or "").strip() or None,
                                      actor=admin.username, must_change=bool(temporary) and r is not Role.DISPLAY)
                    accounts.set_scope(conn, username, sectors, units, actor=admin.username)
                    return done("admin.done.created")
                if username == admin.username and r is not Role.ADMIN:
                    raise UserError(t("admin.self", lang))
                if existing.role != r.value:
                    accounts.set_role(conn, username, r.value, actor=admin.username)
                accounts.set_scope(conn, username, sectors, units, actor=admin.username)
                conn.execute("UPDATE users SET display_name = %s WHERE username = %s",
                             ((display or "").strip()[:200] or None, username))  # fmt: skip
                return done("admin.done.saved")
            if existing is None:
                raise UserError(f"no user {username!r}")
            if button == ids.ADMIN_RESET:
                if not password:
                    return dbc.Alert(t("admin.need_password", lang), color="warning"), dash.no_update, dash.no_update
                accounts.set_password(conn, username, password, actor=admin.username, must_change=bool(temporary))
                return done("admin.done.reset")
            if button in (ids.ADMIN_DISABLE, ids.ADMIN_ENABLE):
                if username == admin.username:
                    raise UserError(t("admin.self", lang))
                accounts.set_disabled(conn, username, button == ids.ADMIN_DISABLE, actor=admin.username)
                return done("admin.done.disabled" if button == ids.ADMIN_DISABLE else "admin.done.enabled")
            n = accounts.revoke_user_sessions(conn, username, f"revoked by {admin.username}")
            audit(conn, admin.username, "user.sessions_revoked", username, {"count": n})
            return done("admin.done.revoked", n=n)
    except UserError as exc:
        reason = password_rule_message(exc, lang) if exc.code else str(exc)
        return dbc.Alert(t("admin.error", lang, reason=reason), color="danger"), dash.no_update, dash.no_update
