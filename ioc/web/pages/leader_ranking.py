"""``/leader/ranking``: the league table of departments and communes on any indicator (sortable,
under-performers highlighted, movement since the previous period) and the choropleth of the 114
commune-level units by the same indicator, with its legend. From the shared snapshot only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html
from dash.exceptions import PreventUpdate

from ioc.i18n import Lang, fmt_number
from ioc.kpi.i18n import tk
from ioc.web import auth, components
from ioc.web import leader_views as lv
from ioc.web.pages import leader_ids as lid
from ioc.web.snapshot import Snapshot, live, web_settings
from ioc.web.warnings_views import graph

dash.register_page(__name__, path="/leader/ranking", name="leader_ranking", title="IOC Hải Phòng – Xếp hạng")


def layout(**query: Any) -> html.Div:
    lang = auth.current_lang()
    nav = components.navbar(lang, "/leader/ranking", auth.current_user(), auth.csrf_token())
    if not auth.may_view(auth.current_role() or "", "/leader/ranking"):
        return html.Div([nav, html.Div(html.P(tk("forbidden", lang)), className="container p-5")])
    kind = query.get("p") if query.get("p") in lv.PERIOD_KINDS else "month"
    indicator = query.get("i") if query.get("i") in lv.INDICATOR_CHOICES else "total"
    rows, fig = content(live().current, kind, indicator, lang)
    return html.Div([
        nav,
        dbc.Container([
            html.Div([html.H1(tk("page.ranking", lang), className="h3 mt-3 me-auto"),
                      dcc.Link(tk("back", lang), href="/leader", className="btn btn-outline-primary btn-lg")],
                     className="d-flex align-items-center"),
            lv.period_selector(lid.RANKING_PERIOD, lang, kind),
            dcc.Dropdown(labels=components.dropdown_labels(lang), id=lid.RANKING_INDICATOR, value=indicator,
                         clearable=False, searchable=False,
                         options=[{"label": lv.indicator_name(i, lang), "value": i} for i in lv.INDICATOR_CHOICES],
                         className="mb-2 ioc-leader-indicator"),
            html.P(tk("under", lang, t=fmt_number(float(lv.UNDER_POINTS), lang)), className="small text-muted",
                   id=lid.RANKING_NOTE),
            dbc.Row([
                dbc.Col(lv.ranking_table(lid.RANKING_TABLE, lang), xs=12, xl=7),
                dbc.Col([html.H5(tk("map", lang)), graph(fig, lid.RANKING_MAP),
                         html.P(tk("map.legend", lang, name=lv.indicator_name(indicator, lang)), className="small text-muted")],
                        xs=12, xl=5),
            ], className="g-3"),
        ], fluid=True, className="ioc-wpage ioc-leader"),
        dcc.Interval(id=lid.RANKING_TICK, interval=int(web_settings().refresh_seconds * 4000)),
        dcc.Store(id="ranking-initial", data=rows),
    ])  # fmt: skip


@lru_cache(maxsize=64)
def content(snap: Snapshot, kind: str, indicator: str, lang: Lang) -> tuple[list[dict[str, Any]], Any]:
    part = snap.part("kpi")
    pi = part.period(kind)
    return lv.ranking_rows(pi, part, indicator, lang), lv.choropleth(pi, indicator, lang)


@callback(Output(lid.RANKING_TABLE, "data"), Output(lid.RANKING_MAP, "figure"),
          Input(lid.RANKING_TICK, "n_intervals"), Input(lid.RANKING_PERIOD, "value"),
          Input(lid.RANKING_INDICATOR, "value"))
def refresh(_n: int | None, kind: str | None, indicator: str | None) -> tuple[Any, Any]:
    if not auth.may_view(auth.current_role() or "", "/leader/ranking"):
        raise PreventUpdate
    kind = kind if kind in lv.PERIOD_KINDS else "month"
    indicator = indicator if indicator in lv.INDICATOR_CHOICES else "total"
    return content(live().current, kind, indicator, auth.current_lang())
