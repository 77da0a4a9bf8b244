"""Public order (``/public-order``): map by unit, hourly trend, counts by type. Leaders and the
public-order liaison only (restricted data); a scoped user sees only the units in the scope.

The wall gets only the city's counts (:func:`ioc.web.warnings_views.warnings_wall_panel`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from ioc.i18n import Lang
from ioc.i18n.warnings_messages import tw
from ioc.warnings import Scope
from ioc.web import auth, components
from ioc.web import warnings_views as v
from ioc.web.pages import warnings_ids as wid
from ioc.web.snapshot import Snapshot, live, web_settings

dash.register_page(__name__, path="/public-order", name="public_order", title="IOC Hải Phòng – An ninh trật tự")

ROLES = frozenset({"leader", "public_order"})
ACCESS: dict[str, v.AccessRule] = {
    "/public-order": v.AccessRule(ROLES, "city-wide for leaders; a user with units in scope sees only those units"),
    wid.PO_BODY: v.AccessRule(ROLES, "rows whose admin_unit is in the user's scope (None: all)"),
    wid.PO_MAP: v.AccessRule(ROLES, "the choropleth of the user's scope"),
}
PAGE = "public_order"
LAYERS = ("boundaries", "public_order")
PARTS = ("warnings.public_order",)


def allowed(target: str) -> bool:
    return v.may(ACCESS, target, auth.current_role())


def user_scope() -> Scope:
    """The admin units the user serves (None: city-wide), from the user's scope in the access model."""
    principal = auth.current_principal()
    if principal is None or principal.scope.city_wide:
        return None
    return frozenset(principal.scope.units)


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    nav = components.navbar(lang, "/public-order", auth.current_user(), auth.csrf_token())
    if not allowed("/public-order"):
        return html.Div([nav, v.forbidden(lang, "public_order")])
    snap = live().current
    return html.Div([
        nav,
        dbc.Container([
            html.H1(tw("w.po.title", lang), className="h4 mt-3"),
            html.P(tw("w.po.sub", lang), className="text-muted small"),
            dbc.Row([
                dbc.Col([html.H2(tw("w.po.map", lang), className="h6"),
                         v.warning_map(PAGE, wid.PO_MAP, LAYERS, lang, bounds=snap.live.boundaries.leaflet_bounds),
                         v.legends(snap, lang, LAYERS, PARTS)], lg=5),
                dbc.Col(html.Div(body(snap, lang, user_scope()), id=wid.PO_BODY), lg=7),
            ], className="g-3"),
        ], fluid=True, className="ioc-wpage ioc-po"),
        dcc.Interval(id=wid.PO_TICK, interval=int(web_settings().refresh_seconds * 1000)),
        dcc.Store(id=wid.PO_SEEN, data={}),
    ])  # fmt: skip


@lru_cache(maxsize=16)
def body(snap: Snapshot, lang: Lang, scope: Scope) -> list[Any]:
    return v.po_body(snap.part("warnings.public_order"), snap.part("warnings.alerts"), snap.live.boundaries.names,
                     lang, scope)  # fmt: skip


@callback(
    Output(wid.layer(PAGE, ALL), "url"),  # type: ignore[arg-type]
    Output(wid.layer(PAGE, ALL), "hideout"),  # type: ignore[arg-type]
    Output(wid.PO_BODY, "children"),
    Output(wid.PO_SEEN, "data"),
    Input(wid.PO_TICK, "n_intervals"),
    State(wid.PO_SEEN, "data"),
)
def refresh(_n: int | None, seen: dict[str, Any] | None) -> tuple[Any, ...]:
    if not allowed(wid.PO_BODY):
        raise PreventUpdate
    lang = auth.current_lang()
    snap = live().current
    key = [snap.version, lang]
    seen = seen or {}
    if seen.get("key") == key:
        raise PreventUpdate
    ids = [o["id"]["layer"] for o in ctx.outputs_list[0]]
    urls, hideouts, held = v.layer_outputs(v.page_layers(snap, lang, LAYERS, PARTS), ids, seen.get("layers"))
    return urls, hideouts, body(snap, lang, user_scope()), {"key": key, "layers": held}
