"""``/leader/unit?u=CODE``: one unit's indicators, its trend and the late and overdue dossiers
behind its numbers (dossiers carry no personal data, so nothing needs masking). From the shared
snapshot only; reached in one tap from ``/leader`` (what needs the leader now) or the ranking."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from ioc.i18n import Lang, fmt_datetime, fmt_number
from ioc.kpi.i18n import tk
from ioc.web import auth, components
from ioc.web import leader_views as lv
from ioc.web.pages import leader_ids as lid
from ioc.web.parts.kpi import LATE_PER_UNIT
from ioc.web.snapshot import Snapshot, live, web_settings
from ioc.web.warnings_views import card, graph

dash.register_page(__name__, path="/leader/unit", name="leader_unit", title="IOC Hải Phòng – Đơn vị")


def layout(u: str | None = None, p: str | None = None, **_query: Any) -> html.Div:
    lang = auth.current_lang()
    nav = components.navbar(lang, "/leader/unit", auth.current_user(), auth.csrf_token())
    if not auth.may_view(auth.current_role() or "", "/leader/unit"):
        return html.Div([nav, html.Div(html.P(tk("forbidden", lang)), className="container p-5")])
    kind = p if p in lv.PERIOD_KINDS else "month"
    code = (u or "")[:32]
    return html.Div([
        nav,
        dbc.Container([
            html.Div([html.H1(lv.unit_label(code, lang) if code else tk("page.unit", lang), className="h3 mt-3 me-auto",
                              id="leader-unit-title"),
                      dcc.Link(tk("back", lang), href="/leader", className="btn btn-outline-primary btn-lg me-2"),
                      dcc.Link(tk("open_ranking", lang), href="/leader/ranking", className="btn btn-outline-primary btn-lg")],
                     className="d-flex flex-wrap align-items-center"),
            lv.period_selector(lid.UNIT_PERIOD, lang, kind),
            dcc.Store(id=lid.UNIT_CODE, data=code),
            html.Div(body(live().current, code, kind, lang), id=lid.UNIT_BODY),
        ], fluid=True, className="ioc-wpage ioc-leader"),
        dcc.Interval(id=lid.UNIT_TICK, interval=int(web_settings().refresh_seconds * 4000)),
    ])  # fmt: skip


@lru_cache(maxsize=64)
def body(snap: Snapshot, code: str, kind: str, lang: Lang) -> list[Any]:
    part = snap.part("kpi")
    pi = part.period(kind)
    ranked = pi.unit(code) if pi else None
    if ranked is None:
        return [html.P(tk("unit.unknown", lang, code=code) if code not in lv.units_by_code() else tk("tile.none", lang),
                       id="leader-unit-empty"),
                html.H5(tk("unit.late", lang, n=LATE_PER_UNIT)), lv.late_table(part.late.get(code, ()), part.now, lang)]  # fmt: skip
    move = "—" if ranked.movement is None else (f"+{ranked.movement}" if ranked.movement > 0 else str(ranked.movement))
    head = [
        card(tk("col.total", lang) + f" · {pi.period.label}", fmt_number(float(ranked.card.total), lang, 2),
             tk("total.sub", lang, total=fmt_number(float(ranked.card.total), lang, 2), max=ranked.card.max,
                n=fmt_number(ranked.card.dossiers, lang)), cid="leader-unit-total"),
        card(tk("col.rank", lang), f"{ranked.rank} / {len(pi.units)}", f"{tk('col.move', lang)}: {move}", cid="leader-unit-rank"),
        card(tk("col.overdue", lang), fmt_number(part.overdue_open.get(code, 0), lang),
             "ioc-kpi-alert" if part.overdue_open.get(code) else "", cid="leader-unit-overdue"),
    ]  # fmt: skip
    return [
        html.Div([html.Div(c, className="col-12 col-md-4") for c in head], className="row g-2 my-1"),
        dbc.Row([dbc.Col(lv.indicator_table(ranked.card, lang), xs=12, lg=6),
                 dbc.Col(graph(lv.trend_figure(part.unit_trend(code), lang, tk("unit.trend", lang))), xs=12, lg=6)],
                className="g-3"),
        html.H5(tk("unit.late", lang, n=LATE_PER_UNIT), className="mt-3"),
        lv.late_table(part.late.get(code, ()), part.now, lang),
        html.P(tk("asof", lang, time=fmt_datetime(part.now, lang)), className="small text-muted mt-2"),
    ]  # fmt: skip


@callback(Output(lid.UNIT_BODY, "children"), Input(lid.UNIT_TICK, "n_intervals"), Input(lid.UNIT_PERIOD, "value"),
          State(lid.UNIT_CODE, "data"), prevent_initial_call=True)
def refresh(_n: int | None, kind: str | None, code: str | None) -> list[Any]:
    if not auth.may_view(auth.current_role() or "", "/leader/unit"):
        raise PreventUpdate
    return body(live().current, str(code or "")[:32], kind if kind in lv.PERIOD_KINDS else "month", auth.current_lang())
