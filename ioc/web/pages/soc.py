"""SOC summary (``/soc``): open security alerts by origin and state, their trend, the year's count.
Read-only counts; no raw SOC data reaches the IOC."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html
from dash.exceptions import PreventUpdate

from ioc.i18n import Lang
from ioc.i18n.warnings_messages import tw
from ioc.web import auth, components
from ioc.web import warnings_views as v
from ioc.web.pages import warnings_ids as wid
from ioc.web.snapshot import Snapshot, live, web_settings

dash.register_page(__name__, path="/soc", name="soc", title="IOC Hải Phòng – An toàn thông tin")

ROLES = frozenset({"leader", "standing_office", "operator", "admin"})
ACCESS: dict[str, v.AccessRule] = {
    "/soc": v.AccessRule(ROLES, "city-wide summary counts (internal data class)"),
    wid.SOC_BODY: v.AccessRule(ROLES, "as the page"),
}


def allowed(target: str) -> bool:
    return v.may(ACCESS, target, auth.current_role())


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    nav = components.navbar(lang, "/soc", auth.current_user(), auth.csrf_token())
    if not allowed("/soc"):
        return html.Div([nav, html.Div(html.P(tw("auth.forbidden", lang)), className="container p-5")])
    snap = live().current
    return html.Div([
        nav,
        dbc.Container([html.H1(tw("w.soc.title", lang), className="h4 mt-3"),
                       html.P(tw("w.soc.sub", lang), className="text-muted small"),
                       html.Div(body(snap, lang), id=wid.SOC_BODY)], fluid=True, className="ioc-wpage ioc-soc"),
        dcc.Interval(id=wid.SOC_TICK, interval=int(web_settings().refresh_seconds * 2000)),
    ])  # fmt: skip


@lru_cache(maxsize=16)
def body(snap: Snapshot, lang: Lang) -> list[Any]:
    return v.soc_body(snap.part("warnings.soc"), snap.part("warnings.alerts"), lang)


@callback(Output(wid.SOC_BODY, "children"), Input(wid.SOC_TICK, "n_intervals"), prevent_initial_call=True)
def refresh(_n: int | None) -> list[Any]:
    if not allowed(wid.SOC_BODY):
        raise PreventUpdate
    return body(live().current, auth.current_lang())
