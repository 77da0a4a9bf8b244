"""``/leader``: the leaders' ten-second city picture (tablet-first, touch-sized, Vietnamese first).

The 766 total with its band and the ranking spread, indicator tiles coloured by achievement, the
four early-warning classes' open counts, citizen reports answered on time, and what needs the
leader now, each one tap from the unit's records. Everything comes from the shared snapshot.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from ioc.i18n import Lang, fmt_datetime
from ioc.kpi.i18n import tk
from ioc.web import auth, components
from ioc.web import leader_views as lv
from ioc.web.pages import leader_ids as lid
from ioc.web.snapshot import Snapshot, live, web_settings
from ioc.web.warnings_views import graph, leader_cards

dash.register_page(__name__, path="/leader", name="leader", title="IOC Hải Phòng – Lãnh đạo")


def forbidden(lang: Lang, nav: Any) -> html.Div:
    return html.Div([nav, html.Div(html.P(tk("forbidden", lang)), className="container p-5")])


def layout(**query: Any) -> html.Div:
    lang = auth.current_lang()
    nav = components.navbar(lang, "/leader", auth.current_user(), auth.csrf_token())
    if not auth.may_view(auth.current_role() or "", "/leader"):
        return forbidden(lang, nav)
    kind = query.get("p") if query.get("p") in lv.PERIOD_KINDS else "month"
    return html.Div([
        nav,
        dbc.Container([
            html.Div([html.H1(tk("page.leader", lang), className="h3 mt-3 me-auto"),
                      dcc.Link(tk("open_ranking", lang), href="/leader/ranking", className="btn btn-primary btn-lg me-2",
                               id="leader-open-ranking"),
                      dcc.Link(tk("open_kpi", lang), href="/leader/kpi", className="btn btn-primary btn-lg me-2",
                               id=lid.KPI_OPEN),
                      html.Button(tk("report", lang) + " PDF", id=lid.LEADER_REPORT_PDF, className="btn btn-outline-secondary btn-lg me-2"),
                      html.Button(tk("report", lang) + " XLSX", id=lid.LEADER_REPORT_XLSX, className="btn btn-outline-secondary btn-lg")],
                     className="d-flex flex-wrap align-items-center gap-1"),
            lv.period_selector(lid.LEADER_PERIOD, lang, kind),
            dcc.Loading(html.Div(id=lid.LEADER_REPORT_STATUS, className="small text-muted")),
            html.Div(body(live().current, kind, lang), id=lid.LEADER_BODY),
        ], fluid=True, className="ioc-wpage ioc-leader"),
        dcc.Interval(id=lid.LEADER_TICK, interval=int(web_settings().refresh_seconds * 2000)),
        dcc.Download(id=lid.LEADER_DOWNLOAD),
    ])  # fmt: skip


@lru_cache(maxsize=32)
def body(snap: Snapshot, kind: str, lang: Lang) -> list[Any]:
    part = snap.part("kpi")
    pi = part.period(kind)
    return [
        dbc.Row([dbc.Col(lv.headline(pi, lang), xs=12, lg=5), dbc.Col(lv.needs_now(part, pi, lang, kind), xs=12, lg=7)],
                className="g-3 my-1"),
        html.H5(tk("tiles", lang), className="mt-3"),
        lv.tiles_legend(lang),
        html.Div([html.Div(t, className="col-12 col-md-6 col-xl-3") for t in lv.indicator_tiles(pi.city if pi else None, lang)],
                 className="row g-2"),
        html.H5(tk("warnings", lang), className="mt-3"),
        html.Div([html.Div(c, className="col-6 col-xl-3") for c in leader_cards(snap, lang)], className="row g-2"),
        dbc.Row([dbc.Col(lv.reports_card(part, lang), xs=12, md=6, xl=4),
                 dbc.Col(graph(lv.trend_figure(part.trend, lang, tk("trend", lang))), xs=12, md=6, xl=8)],
                className="g-3 mt-1"),
        lv.document_figures(snap.part("kpi_figures"), lang),
        lv.not_computable(lang),
        html.P([tk("asof", lang, time=fmt_datetime(part.now, lang)), " · ", tk("source", lang)],
               className="small text-muted mt-2"),
    ]  # fmt: skip


@callback(Output(lid.LEADER_BODY, "children"), Input(lid.LEADER_TICK, "n_intervals"), Input(lid.LEADER_PERIOD, "value"),
          prevent_initial_call=True)
def refresh(_n: int | None, kind: str | None) -> list[Any]:
    if not auth.may_view(auth.current_role() or "", "/leader"):
        raise PreventUpdate
    return body(live().current, kind if kind in lv.PERIOD_KINDS else "month", auth.current_lang())


@callback(Output(lid.LEADER_DOWNLOAD, "data"), Output(lid.LEADER_REPORT_STATUS, "children"),
          Input(lid.LEADER_REPORT_PDF, "n_clicks"), Input(lid.LEADER_REPORT_XLSX, "n_clicks"),
          State(lid.LEADER_PERIOD, "value"), prevent_initial_call=True)
def download(_pdf: int | None, _xlsx: int | None, kind: str | None) -> tuple[Any, str]:
    """The current period's report, generated from the database (the same code as ``ioc report``)."""
    if not auth.may_view(auth.current_role() or "", "/leader"):
        raise PreventUpdate
    from ioc.kpi.live import LOCAL, period_containing
    from ioc.kpi.report import build_report

    fmt = "xlsx" if dash.ctx.triggered_id == lid.LEADER_REPORT_XLSX else "pdf"
    part = live().current.part("kpi")
    period = period_containing(kind if kind in lv.PERIOD_KINDS else "month", part.now.astimezone(LOCAL).date())
    data, name = build_report(web_settings().database_dsn(), period.label, fmt, lang=auth.current_lang())
    return dcc.send_bytes(data, name), name
