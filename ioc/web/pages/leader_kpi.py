"""``/leader/kpi``: the 766 indicators and the total over time, for the city or one unit — the value
this period, the change on the previous period and on the same period a year before, a 12-month
sparkline and the catalogue's target line. From the shared snapshot only (tablet-first)."""

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
from ioc.web import leader_kpi_views as kv
from ioc.web import leader_views as lv
from ioc.web.pages import leader_ids as lid
from ioc.web.snapshot import Snapshot, live, web_settings

dash.register_page(__name__, path="/leader/kpi", name="leader_kpi", title="IOC Hải Phòng – Xu hướng chỉ số")

PATH = "/leader/kpi"


def layout(p: str | None = None, u: str | None = None, **_query: Any) -> html.Div:
    lang = auth.current_lang()
    nav = components.navbar(lang, PATH, auth.current_user(), auth.csrf_token())
    if not auth.may_view(auth.current_role() or "", PATH):
        return html.Div([nav, html.Div(html.P(tk("forbidden", lang)), className="container p-5")])
    snap = live().current
    kind = p if p in lv.PERIOD_KINDS else "month"
    options = kv.unit_options(snap.part("kpi"), lang)
    unit = u if u in {o["value"] for o in options} else kv.CITY
    return html.Div([
        nav,
        dbc.Container([
            html.Div([html.H1(tk("page.kpi", lang), className="h3 mt-3 me-auto"),
                      dcc.Link(tk("back", lang), href="/leader", className="btn btn-outline-primary btn-lg")],
                     className="d-flex flex-wrap align-items-center gap-1"),
            lv.period_selector(lid.KPI_PERIOD, lang, kind),
            dcc.Store(id=lid.KPI_UNIT, data=unit),  # one unit by ?u=CODE (a selector is not browser-tested yet)
            kv.legend(lang),
            html.Div(body(snap, kind, unit, lang), id=lid.KPI_BODY),
        ], fluid=True, className="ioc-wpage ioc-leader ioc-kpit"),
        dcc.Interval(id=lid.KPI_TICK, interval=int(web_settings().refresh_seconds * 4000)),
    ])  # fmt: skip


@lru_cache(maxsize=64)
def body(snap: Snapshot, kind: str, unit: str, lang: Lang) -> list[Any]:
    part = snap.part("kpi")
    rows = kv.kpi_rows(part, kind, None if unit == kv.CITY else unit)
    pi = part.period(kind)
    return [
        html.P(tk("kpi.now", lang, label=pi.period.label) + " · " + (tk("kpi.city", lang) if unit == kv.CITY
                                                                      else lv.unit_label(unit, lang)),
               className="fw-semibold mb-2", id="leader-kpi-scope") if pi else None,
        html.Div(kv.kpi_cards(rows, kind, lang), className="row g-2"),
        html.P([tk("asof", lang, time=fmt_datetime(part.now, lang)), " · ", tk("source", lang)],
               className="small text-muted mt-2"),
    ]  # fmt: skip


@callback(Output(lid.KPI_BODY, "children"), Input(lid.KPI_TICK, "n_intervals"), Input(lid.KPI_PERIOD, "value"),
          State(lid.KPI_UNIT, "data"), prevent_initial_call=True)
def refresh(_n: int | None, kind: str | None, unit: str | None) -> list[Any]:
    if not auth.may_view(auth.current_role() or "", PATH):
        raise PreventUpdate
    snap = live().current
    known = {o["value"] for o in kv.unit_options(snap.part("kpi"), "vi")}
    return body(snap, kind if kind in lv.PERIOD_KINDS else "month", unit if unit in known else kv.CITY,
                auth.current_lang())
