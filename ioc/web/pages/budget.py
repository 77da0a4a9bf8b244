"""Budget revenue (``/budget``): year to date against both plans, by line, year on year. Leaders and
finance staff only (restricted data).

Reads the ``warnings.budget`` snapshot part (built every 30 ticks: the data is daily); the panel is
built once per snapshot and language for all its viewers.
"""

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
from ioc.web.components import dropdown_labels
from ioc.web.pages import warnings_ids as wid
from ioc.web.snapshot import Snapshot, live, web_settings

dash.register_page(__name__, path="/budget", name="budget", title="IOC Hải Phòng – Thu ngân sách")

ROLES = frozenset({"leader", "finance"})
ACCESS: dict[str, v.AccessRule] = {
    "/budget": v.AccessRule(ROLES, "city-wide figures (the budget has no unit scope); restricted data class"),
    wid.BUDGET_BODY: v.AccessRule(ROLES, "as the page"),
    wid.BUDGET_YOY: v.AccessRule(ROLES, "as the page"),
}


def allowed(target: str) -> bool:
    return v.may(ACCESS, target, auth.current_role())


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    if not allowed("/budget"):
        return html.Div([components.navbar(lang, "/budget", auth.current_user(), auth.csrf_token()),
                         v.forbidden(lang, "budget")])  # fmt: skip
    snap = live().current
    panel = snap.part("warnings.budget")
    options = v.budget_series_options(panel, lang)
    return html.Div([
        components.navbar(lang, "/budget", auth.current_user(), auth.csrf_token()),
        dbc.Container([
            html.H1(tw("w.budget.title", lang), className="h4 mt-3"),
            html.Div(body(snap, lang), id=wid.BUDGET_BODY),
            html.H2(tw("w.budget.yoy", lang), className="h6 mt-3"),
            dcc.Dropdown(labels=dropdown_labels(lang), id=wid.BUDGET_SERIES, options=options, value=options[0]["value"] if options else None,
                         clearable=False, style={"maxWidth": "28rem"}),
            dcc.Graph(id=wid.BUDGET_YOY, config={"displayModeBar": False}),
        ], fluid=True, className="ioc-wpage ioc-budget"),
        dcc.Interval(id=wid.BUDGET_TICK, interval=int(web_settings().refresh_seconds * 5000)),
    ])  # fmt: skip


@lru_cache(maxsize=16)
def body(snap: Snapshot, lang: Lang) -> list[Any]:
    return v.budget_body(snap.part("warnings.budget"), snap.part("warnings.alerts"), lang)


@callback(Output(wid.BUDGET_BODY, "children"), Input(wid.BUDGET_TICK, "n_intervals"), prevent_initial_call=True)
def refresh(_n: int | None) -> list[Any]:
    if not allowed(wid.BUDGET_BODY):
        raise PreventUpdate
    return body(live().current, auth.current_lang())


@callback(Output(wid.BUDGET_YOY, "figure"), Input(wid.BUDGET_SERIES, "value"))
def yoy(series: str | None) -> Any:
    if not allowed(wid.BUDGET_YOY) or not series:
        raise PreventUpdate
    return v.budget_yoy_figure(live().current.part("warnings.budget"), series, auth.current_lang())
