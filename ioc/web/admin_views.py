"""Pure layout builders of the accounts page (``/admin/users``): data in, Dash components out.

No queries and no callbacks here (``ioc/web/pages/admin_users.py`` wires them), so the builders are
tested by comparing their output, without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from ioc.access import SECTORS, Role
from ioc.accounts import UserSummary
from ioc.i18n import Lang, fmt_datetime, t
from ioc.web import ids
from ioc.web.components import dropdown_labels


def role_options(lang: Lang) -> list[dict[str, str]]:
    return [{"label": f"{r.name_in(lang)} ({r.value})", "value": r.value} for r in Role]


def sector_options(lang: Lang) -> list[dict[str, str]]:
    return [{"label": vi if lang == "vi" else en, "value": key} for key, (vi, en, _) in SECTORS.items()]


def scope_label(scopes: Sequence[str], lang: Lang) -> str:
    if not scopes:
        return t("admin.scope.city", lang)
    names = {key: (vi if lang == "vi" else en) for key, (vi, en, _) in SECTORS.items()}
    return ", ".join(names.get(s.split(":", 1)[1], s.split(":", 1)[1]) for s in scopes)


def users_table(users: Sequence[UserSummary], lang: Lang) -> dbc.Table:
    """Every account; a click on a row loads it into the form."""
    head = html.Thead(html.Tr([html.Th(t(f"admin.col.{c}", lang)) for c in
                               ("username", "name", "role", "scope", "status", "sessions", "last_login")]))  # fmt: skip
    rows = []
    for u in users:
        try:
            role = Role(u.role).name_in(lang)
        except ValueError:
            role = u.role
        status = [t("admin.status.disabled" if u.disabled else "admin.status.active", lang)]
        if u.must_change_password:
            status.append(t("admin.status.must_change", lang))
        if u.has_totp:
            status.append(t("admin.status.totp", lang))
        rows.append(html.Tr(
            [html.Td(u.username), html.Td(u.display_name or "—"), html.Td(role), html.Td(scope_label(u.scopes, lang)),
             html.Td(", ".join(status)), html.Td(str(u.live_sessions)), html.Td(fmt_datetime(u.last_login_at, lang))],
            id=ids.admin_user_row(u.username), n_clicks=0, className="ioc-admin-row" + (" text-muted" if u.disabled else ""),
        ))  # fmt: skip
    return dbc.Table([head, html.Tbody(rows)], hover=True, size="sm", className="ioc-admin-table")


def user_form(lang: Lang, units: Sequence[str]) -> html.Div:
    """The form that adds or changes one account."""

    def field(label_key: str, control: object) -> html.Div:
        return html.Div([dbc.Label(t(label_key, lang), className="small mb-0"), control], className="mb-2")

    return html.Div(
        [
            html.H2(t("admin.form.title", lang), className="h6"),
            field("admin.form.username", dbc.Input(id=ids.ADMIN_USERNAME, maxLength=64, autoComplete="off")),
            field("admin.form.display_name", dbc.Input(id=ids.ADMIN_DISPLAY_NAME, maxLength=200)),
            field("admin.form.role", dcc.Dropdown(labels=dropdown_labels(lang), id=ids.ADMIN_ROLE, options=role_options(lang), clearable=False)),
            field("admin.form.sectors", dcc.Dropdown(labels=dropdown_labels(lang), id=ids.ADMIN_SECTORS, options=sector_options(lang), multi=True)),
            field("admin.form.units", dcc.Dropdown(labels=dropdown_labels(lang), id=ids.ADMIN_UNITS, options=[{"label": u, "value": u} for u in units],
                                                   multi=True)),
            field("admin.form.password", dbc.Input(id=ids.ADMIN_PASSWORD, type="password", autoComplete="new-password")),
            dbc.Checkbox(id=ids.ADMIN_TEMPORARY, label=t("admin.form.temporary", lang), value=True, className="mb-2"),
            html.Div([
                dbc.Button(t("admin.save", lang), id=ids.ADMIN_SAVE, color="primary", size="sm", className="me-1 mb-1"),
                dbc.Button(t("admin.reset", lang), id=ids.ADMIN_RESET, color="warning", size="sm", className="me-1 mb-1"),
                dbc.Button(t("admin.disable", lang), id=ids.ADMIN_DISABLE, color="danger", size="sm", className="me-1 mb-1"),
                dbc.Button(t("admin.enable", lang), id=ids.ADMIN_ENABLE, color="secondary", size="sm", className="me-1 mb-1"),
                dbc.Button(t("admin.revoke", lang), id=ids.ADMIN_REVOKE, color="secondary", outline=True, size="sm",
                           className="mb-1"),
            ]),
        ],
        className="ioc-admin-form",
    )  # fmt: skip
