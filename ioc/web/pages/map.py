"""Home: the city map filling the screen, KPI side panel, live alert feed, 24-hour look-back."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from ioc.i18n import Lang, t
from ioc.web import auth, basemap, components, ids
from ioc.web.layer_blobs import payload
from ioc.web.pages._live import live_refresh
from ioc.web.snapshot import live, web_settings

dash.register_page(__name__, path="/", name="map", title="IOC Hải Phòng")
basemap.register_band_switch("map", ids.MAP)


def forbidden(lang: Lang) -> html.Div:
    return html.Div(html.P(t("auth.forbidden", lang)), className="container p-5")


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    if not auth.may_view(auth.current_role() or "", "/"):
        return forbidden(lang)
    snap = live().current
    legends = [components.legend(r.data.legend) for r in payload(snap, 0, lang).values()]
    approx = snap.live.boundaries.approximate
    return html.Div(
        [
            components.navbar(lang, "/", auth.current_user(), auth.csrf_token()),
            html.Div(
                [
                    html.Div(
                        [
                            components.map_view(
                                "map", ids.MAP, lang, tile_url=getattr(web_settings(), "map_tile_url", None)
                            ),
                            components.time_slider(ids.MAP_SLIDER, lang),
                            html.Div(t("map.approx", lang), className="ioc-approx") if approx else None,
                        ],
                        className="ioc-map-main",
                    ),
                    html.Aside(
                        [
                            html.Div(id=ids.MAP_KPI),
                            html.Div(id=ids.MAP_FEED),
                            html.Div(legends, id=ids.MAP_LEGEND, className="mt-2"),
                        ],
                        className="ioc-side",
                    ),
                ],
                className="ioc-map-body",
            ),
            dcc.Interval(id=ids.MAP_TICK, interval=int(web_settings().refresh_seconds * 1000)),
            dcc.Store(id=ids.MAP_SEEN, data={}),
        ],
        className="ioc-map-page",
    )


@callback(
    Output(ids.layer("map", ALL), "url"),  # type: ignore[arg-type]
    Output(ids.layer("map", ALL), "hideout"),  # type: ignore[arg-type]
    Output(ids.MAP_KPI, "children"),
    Output(ids.MAP_FEED, "children"),
    Output(ids.MAP_SEEN, "data"),
    Input(ids.MAP_TICK, "n_intervals"),
    Input(ids.MAP_SLIDER, "value"),
    State(ids.MAP_SEEN, "data"),
)
def refresh(_tick: int | None, hours_ago: int | None, seen: dict[str, Any] | None) -> tuple[Any, ...]:
    """Send what changed since this browser's last update; nothing when the snapshot is the same."""
    r = live_refresh(hours_ago, seen)
    return r.urls, r.hideouts, [r.label, *r.cards], r.feed, r.seen
