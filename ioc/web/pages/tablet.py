"""Tablet (``/tablet``): the same live picture for leaders, responsive down to 768 px, touch-sized."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html

from ioc.i18n import t
from ioc.web import auth, basemap, components, ids
from ioc.web.pages._live import live_refresh
from ioc.web.snapshot import web_settings

dash.register_page(__name__, path="/tablet", name="tablet", title="IOC Hải Phòng – Tablet")
basemap.register_band_switch("tablet", ids.TABLET_MAP)


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    if not auth.may_view(auth.current_role() or "", "/tablet"):
        return html.Div(html.P(t("auth.forbidden", lang)), className="container p-5")
    return html.Div(
        [
            components.navbar(lang, "/tablet", auth.current_user(), auth.csrf_token()),
            dbc.Container(
                [
                    html.Div(id=ids.TABLET_KPI, className="row g-2 my-2"),
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    components.map_view(
                                        "tablet",
                                        ids.TABLET_MAP,
                                        lang,
                                        zoom=10.5,
                                        collapsed=True,
                                        tile_url=getattr(web_settings(), "map_tile_url", None),
                                    ),
                                    components.time_slider(ids.TABLET_SLIDER, lang),
                                ],
                                xs=12,
                                lg=8,
                            ),
                            dbc.Col(html.Div(id=ids.TABLET_FEED), xs=12, lg=4),
                        ],
                        className="g-3",
                    ),
                ],
                fluid=True,
            ),
            dcc.Interval(id=ids.TABLET_TICK, interval=int(web_settings().refresh_seconds * 1000)),
            dcc.Store(id=ids.TABLET_SEEN, data={}),
        ],
        className="ioc-tablet",
    )


@callback(
    Output(ids.layer("tablet", ALL), "url"),  # type: ignore[arg-type]
    Output(ids.layer("tablet", ALL), "hideout"),  # type: ignore[arg-type]
    Output(ids.TABLET_KPI, "children"),
    Output(ids.TABLET_FEED, "children"),
    Output(ids.TABLET_SEEN, "data"),
    Input(ids.TABLET_TICK, "n_intervals"),
    Input(ids.TABLET_SLIDER, "value"),
    State(ids.TABLET_SEEN, "data"),
)
def refresh(_tick: int | None, hours_ago: int | None, seen: dict[str, Any] | None) -> tuple[Any, ...]:
    """Send what changed since this browser's last update; KPI cards laid out for touch screens."""
    r = live_refresh(hours_ago, seen, feed_limit=12)
    cards = [dbc.Col(r.label, xs=12), *(dbc.Col(c, xs=12, md=6, xl=3) for c in r.cards)]
    return r.urls, r.hideouts, cards, r.feed, r.seen
