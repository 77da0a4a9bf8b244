"""KPI figures by hand (``/admin/figures``, administrators only): the indicators with no live feed,
their current figure (document or entry, the latest date wins), the latest entries, and a form to
enter a new figure. Every entry goes through :func:`ioc.kpi.figures.record_figure` (validation,
audit). Like ``/admin/users`` this is a write desk for a few administrators: its lists are read from
the database after each entry; the cockpit reads the same figures from the shared snapshot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from ioc.access import Resource, decide
from ioc.kpi.figures import (
    FigureError,
    current_figures,
    hand_kpis,
    latest_entries,
    list_figures,
    record_figure,
)
from ioc.kpi.i18n import tk
from ioc.kpi.live import LOCAL
from ioc.web import admin_figures_views as views
from ioc.web import auth, components
from ioc.web.errors import user_message
from ioc.web.leader_views import documented, figure_text
from ioc.web.pages import admin_figures_ids as fid

PATH = "/admin/figures"
dash.register_page(__name__, path=PATH, name="admin-figures", title="IOC Hải Phòng – Số liệu nhập tay")


def _pool() -> Any:
    return flask.current_app.extensions["ioc"]["pool"]


def _admin() -> Any:
    p = auth.current_principal()
    if p is None or not decide(p, Resource.page(PATH)):
        raise PreventUpdate
    return p


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    p = auth.current_principal()
    if p is None or not decide(p, Resource.page(PATH)):
        return html.Div(html.P(tk("forbidden", lang)), className="container p-5")
    today = datetime.now(UTC).astimezone(LOCAL).date()
    return html.Div(
        [
            components.navbar(lang, PATH, p.username, auth.csrf_token()),
            dbc.Container(
                [
                    html.H1(tk("fig.title", lang), className="h4 mt-3"),
                    html.P(tk("fig.intro", lang), className="text-muted small"),
                    html.Div(id=fid.FIGURES_MESSAGE),
                    dbc.Row([
                        dbc.Col([html.H2(tk("fig.current", lang), className="h6"), html.Div(id=fid.FIGURES_CURRENT)], lg=8),
                        dbc.Col(views.figure_form(hand_kpis(), lang, today), lg=4),
                    ], className="g-3"),
                    html.H2(tk("fig.history", lang), className="h6 mt-3"),
                    html.Div(id=fid.FIGURES_HISTORY),
                    dcc.Store(id=fid.FIGURES_VERSION, data=0),
                ],
                fluid=True,
            ),
        ],
        id=fid.FIGURES_PAGE,
    )  # fmt: skip


@callback(Output(fid.FIGURES_CURRENT, "children"), Output(fid.FIGURES_HISTORY, "children"),
          Input(fid.FIGURES_VERSION, "data"))  # fmt: skip
def refresh(_version: int | None) -> tuple[Any, Any]:
    _admin()
    lang = auth.current_lang()
    with _pool().connection() as conn:
        latest, entries = latest_entries(conn), list_figures(conn)
    kpis = hand_kpis()
    current = current_figures(documented(), latest)
    return views.current_table(kpis, current, lang), views.history_table(entries, kpis, lang)


@callback(
    Output(fid.FIGURES_MESSAGE, "children"),
    Output(fid.FIGURES_VERSION, "data"),
    Input(fid.FIGURES_SAVE, "n_clicks"),
    State(fid.FIGURES_INDICATOR, "value"),
    State(fid.FIGURES_VALUE, "value"),
    State(fid.FIGURES_AS_OF, "value"),
    State(fid.FIGURES_SOURCE, "value"),
    State(fid.FIGURES_NOTE, "value"),
    State(fid.FIGURES_VERSION, "data"),
    prevent_initial_call=True,
)
def save(clicks: int | None, indicator: Any, value: Any, as_of: Any, source: Any, note: Any,
         version: int | None) -> tuple[Any, Any]:  # fmt: skip
    admin = _admin()
    lang = auth.current_lang()
    if not clicks or ctx.triggered_id != fid.FIGURES_SAVE:
        raise PreventUpdate
    try:
        with _pool().connection() as conn:
            fig = record_figure(conn, admin, str(indicator or "")[:100], str(value or "")[:40], str(as_of or "")[:20],
                                source, note)  # fmt: skip
    except FigureError as exc:
        return dbc.Alert(tk("fig.error", lang, reason=exc.message(lang)), color="danger"), dash.no_update
    except Exception as exc:  # noqa: BLE001 - a database fault: a clear sentence, the details to the log
        return dbc.Alert(user_message(exc, lang, "kpi figure entry"), color="danger"), dash.no_update
    k = next(k for k in hand_kpis() if k.id == fig.kpi_id)
    text = tk("fig.done", lang, value=figure_text(fig.value, k.unit, lang),
              name=views.kpi_name(k, lang), date=f"{fig.as_of:%d/%m/%Y}")  # fmt: skip
    return dbc.Alert(text, color="success", id=fid.FIGURES_DONE), int(version or 0) + 1
