"""Video wall (``/wall``): kiosk mode, dark, large type, no interaction needed.

The map stays on the left; the right-hand panels rotate every ``?rotate=`` seconds (default 15).
Every panel shows the age of the data it draws (its source's newest event, not the time the page
refreshed), amber past the source's ``late`` threshold and red past ``silent`` (each source's
declared freshness, overridable in Settings; ``?stale=`` seconds caps both). A feed-health strip
under the header shows every source live / late / silent and names failed components.
Unacknowledged alerts stay pinned across the top until someone acknowledges them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from dash.exceptions import PreventUpdate
from plotly.utils import PlotlyJSONEncoder

from alerts.aqi import band_for
from geodata.names import site_name
from ioc.directives.wall import overdue_count
from ioc.i18n import Lang, fmt_date, fmt_number, fmt_time, t
from ioc.web import auth, basemap, components, ids, tickets_views
from ioc.web.layer_blobs import payload
from ioc.web.leader_views import wall_index_panel
from ioc.web.pages._live import layer_update
from ioc.web.snapshot import CityState, Snapshot, live, web_settings
from ioc.web.warnings_views import warnings_wall_panel
from layers import traffic as traffic_layer
from layers.registry import SHARED_LAYERS as LAYERS  # restricted layers live on their own pages

dash.register_page(__name__, path="/wall", name="wall", title="IOC Hải Phòng – Wall")
basemap.register_band_switch("wall", ids.WALL_MAP)

DEFAULT_ROTATE_S = 15
DEFAULT_STALE_S = 120
WALL_LAYERS = [s.layer_id for s in LAYERS if s.checked]
MAX_ROWS = 8  # rows per table panel: fits 1080 p without scrolling
WALL_FEEDS = "wall-feeds"  # the feed-health strip
WALL_FOCUS = "wall-focus"  # unacknowledged severe/extreme alerts with a place: the browser flies to new ones
WALL_MAP_AGE = "wall-map-age"  # the map's own data age
WALL_LEGEND = "wall-legend"
WALL_FOCUS_OUT = "wall-focus-out"  # dummy output of the focus callback
FOCUS_SEVERITIES = ("extreme", "severe")
MAX_PINS = 30  # in the scrolling banner (the count says how many there are)


def _bounded(value: Any, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(value)))
    except (TypeError, ValueError):
        return default


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def layout(rotate: str | None = None, stale: str | None = None, sound: str | None = None,
           **_query: Any) -> html.Div:  # fmt: skip
    lang = auth.current_lang()
    if not auth.may_view(auth.current_role() or "", "/wall"):
        return html.Div(html.P(t("auth.forbidden", lang)), className="container p-5")
    config = {
        "rotate_s": _bounded(rotate, DEFAULT_ROTATE_S, 3, 600),
        "stale_s": _bounded(stale, DEFAULT_STALE_S, 10, 86_400) if stale is not None else None,
        "panels": list(ids.WALL_PANELS),
        "sound": _flag(sound, bool(getattr(web_settings(), "wall_alert_sound", True))),
        "focus_s": float(getattr(web_settings(), "alert_focus_seconds", 8.0)),
        "map_id": ids.WALL_MAP,
    }
    panels = [
        html.Section(
            [
                html.H2(t(f"wall.panel.{name}", lang)),
                html.Div(id=ids.wall_updated(name), className="ioc-updated ioc-stale"),
                html.Div(id=ids.wall_panel_body(name)),
            ],
            id=ids.wall_panel(name),
            className="ioc-wall-panel" + (" active" if i == 0 else ""),
        )
        for i, name in enumerate(ids.WALL_PANELS)
    ]
    snap = live().current
    config["bounds"] = snap.live.boundaries.leaflet_bounds
    return html.Div(
        [
            html.Header(
                [
                    html.H1(t("app.title", lang), className="ioc-wall-title"),
                    html.Div(fmt_date(snap.refreshed_at, lang), className="ioc-wall-date"),
                    html.Div(id=ids.WALL_CLOCK, className="ioc-wall-clock"),
                ],
                className="ioc-wall-header",
            ),
            html.Div(id=ids.WALL_PINNED, className="ioc-wall-pinned ioc-none"),
            html.Div(id=WALL_FEEDS),
            html.Main(
                [
                    html.Div(
                        [
                            components.map_view(
                                "wall",
                                ids.WALL_MAP,
                                lang,
                                interactive=False,
                                zoom=10.75,
                                bounds=snap.live.boundaries.leaflet_bounds,
                                tile_url=getattr(web_settings(), "map_tile_url", None),
                            ),
                            html.Div(id=WALL_MAP_AGE, className="ioc-updated ioc-wall-map-age"),
                            html.Div(id=WALL_LEGEND, className="ioc-wall-legend"),
                        ],
                        className="ioc-wall-mapbox",
                    ),
                    html.Div(panels, className="ioc-wall-panels"),
                ],
                className="ioc-wall-main",
            ),
            dcc.Interval(id=ids.WALL_TICK, interval=int(web_settings().refresh_seconds * 1000)),
            dcc.Interval(id=ids.WALL_ROTATE, interval=config["rotate_s"] * 1000),
            dcc.Interval(id=ids.WALL_CLOCK_TICK, interval=1000),
            dcc.Store(id=ids.WALL_CONFIG, data=config),
            dcc.Store(id=ids.WALL_TIMES, data={}),
            dcc.Store(id=ids.WALL_SEEN, data={}),
            dcc.Store(id=WALL_FOCUS, data=None),  # None until the first data: what is there then is not news
            dcc.Store(id=WALL_FOCUS_OUT),
        ],
        className="ioc-wall",
        **{"data-bs-theme": "dark"},
    )


def pinned(snap: Snapshot, lang: Lang) -> tuple[list[Any], str]:
    """Unacknowledged alerts, most severe first, after their count; more than fit scroll past."""
    rank = {s: i for i, s in enumerate(components.SEVERITY_ORDER)}
    new = sorted((a for a in snap.live.alerts if not a.acknowledged),
                 key=lambda a: (rank.get(a.severity, 9), -a.created_at.timestamp()))  # fmt: skip
    if not new:
        return [html.Span(t("wall.none_pinned", lang))], "ioc-wall-pinned ioc-none"
    pins = [
        html.Span([components.severity_badge(a.severity, lang, class_name="me-2"),
                   f"{a.title(lang)} · {fmt_time(a.created_at, lang)}"], className="ioc-pin")
        for a in new[:MAX_PINS]
    ]  # fmt: skip
    scroll = len(pins) > 3
    track = pins + pins if scroll else pins  # twice: the loop scrolls without a jump
    count = html.Span(t("wall.pinned_count", lang, n=fmt_number(len(new), lang)), className="ioc-pin-count",
                      **{"data-count": len(new)})  # fmt: skip
    viewport = html.Div(html.Div(track, className="ioc-pin-track" + (" ioc-scroll" if scroll else ""),
                                 style={"animationDuration": f"{6 * len(pins)}s"} if scroll else None),
                        className="ioc-pin-viewport")  # fmt: skip
    return [count, viewport], "ioc-wall-pinned"


def focus_targets(snap: Snapshot) -> list[dict[str, Any]]:
    """Unacknowledged severe and extreme alerts with a place (theirs, else their source's)."""
    out = []
    for a in snap.live.alerts:
        if a.acknowledged or a.severity not in FOCUS_SEVERITIES:
            continue
        lon, lat = a.lon, a.lat
        src = snap.live.sources.get(a.source_id or "")
        if (lon is None or lat is None) and src is not None:
            lon, lat = src.lon, src.lat
        if lon is not None and lat is not None:
            out.append({"id": a.alert_id, "lat": lat, "lon": lon, "severity": a.severity})
    return out[:50]


def wall_legend(snap: Snapshot, lang: Lang) -> list[Any]:
    """What the wall's colours mean: the legends of the layers it draws (the map page's, compact)."""
    rendered = payload(snap, 0, lang)
    out = []
    for lid in WALL_LAYERS:
        r = rendered.get(lid)
        if r is None or r.data.legend is None:
            continue
        lg = r.data.legend
        out.append(html.Div([html.B(lg.title), *[html.Span([html.Span(className="ioc-swatch",
                                                                      style={"background": e.color}), e.label],
                                                           className="ioc-wall-legend-entry") for e in lg.entries]],
                            className="ioc-wall-legend-layer"))  # fmt: skip
    return out


def traffic_table(state: CityState, lang: Lang) -> html.Table:
    worst = sorted(state.traffic, key=lambda s: s.ratio)[:MAX_ROWS]
    rows = []
    for s in worst:
        src = state.sources.get(s.source_id)
        _, color = traffic_layer.band(s.ratio)
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.Span(className="ioc-dot", style={"background": color}),
                            src.name if src else site_name(s.source_id),
                        ]
                    ),
                    html.Td(f"{fmt_number(s.speed_kmh, lang)} {t('unit.kmh', lang)}", className="num"),
                    html.Td(f"{fmt_number(100 * s.ratio, lang)}%", className="num"),
                ]
            )
        )
    return html.Table(html.Tbody(rows), className="ioc-wall-table")


def air_table(state: CityState, lang: Lang) -> html.Table:
    ranked = sorted(state.air, key=lambda a: -(a.aqi or -1))[:MAX_ROWS]
    rows = []
    for a in ranked:
        src = state.sources.get(a.source_id)
        band = band_for(a.aqi) if a.aqi is not None else None
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.Span(
                                className="ioc-dot", style={"background": band.hex if band else "#9E9E9E"}
                            ),
                            src.name if src else site_name(a.source_id),
                        ]
                    ),
                    html.Td(band.name(lang) if band else "—"),
                    html.Td(fmt_number(a.aqi, lang), className="num"),
                ]
            )
        )
    return html.Table(html.Tbody(rows), className="ioc-wall-table")


def category_name(code: str | None, lang: Lang) -> str:
    """A report category's name from the ticket catalogue, never its code."""
    cat = tickets_views.catalog()
    if code and code in cat:
        return cat.get(code).name(lang)
    return t("category.unknown", lang)


def reports_table(state: CityState, lang: Lang) -> html.Table:
    latest = sorted(state.reports, key=lambda r: r.updated_at, reverse=True)[:MAX_ROWS]
    names = state.boundaries.names
    rows = [
        html.Tr(
            [
                html.Td(fmt_time(r.updated_at, lang)),
                html.Td(category_name(r.category, lang)),
                html.Td(names.get(r.admin_unit or "", "—")),
            ]
        )
        for r in latest
    ]
    return html.Table(html.Tbody(rows), className="ioc-wall-table")


# Which source each panel draws (None: every source, as old as its stalest one).
PANEL_SOURCE: dict[str, str | None] = {"kpi": None, "traffic": "traffic", "air": "air", "reports": "feedback",
                                       "warnings": None, "index766": "dossier"}


def warnings_panel(snap: Snapshot, lang: Lang) -> html.Div:
    """The four early-warning families' open counts, the city's public-order day, and the directives
    past their deadline (the count only; the list is on /directives for whom may read it)."""
    overdue = overdue_count(snap.part("directives"), lang)
    return html.Div([
        warnings_wall_panel(snap, lang),
        html.Div([html.Span(overdue.label), html.B(fmt_number(overdue.value, lang), className=f"ms-2 text-{overdue.colour}")],
                 className="ioc-wall-overdue mt-2", id="wall-directives-overdue"),
    ])  # fmt: skip


def panel_time(snap: Snapshot, panel: str) -> datetime | None:
    """Event time of the newest data behind a panel (None: no data yet)."""
    kind = PANEL_SOURCE[panel]
    return snap.newest_data if kind is None else snap.data_time(kind)


def panel_thresholds(snap: Snapshot, panel: str, cap_s: float) -> tuple[float, float]:
    """(amber after, red after) seconds for a panel: its source's freshness, the strictest for the KPI panel."""
    kind = PANEL_SOURCE[panel]
    feeds = [f for f in snap.feeds if f.kind == kind] if kind else list(snap.feeds)
    if not feeds:
        return cap_s, cap_s
    # The KPI panel's time is its stalest source's newest event: judge it by that source's freshness.
    if kind is None and snap.newest_data is not None:
        feeds = [f for f in feeds if f.newest_event_time == snap.newest_data] or feeds
    return min(min(f.late_after_s for f in feeds), cap_s), min(min(f.silent_after_s for f in feeds), cap_s)


@callback(
    Output(ids.layer("wall", ALL), "url"),  # type: ignore[arg-type]
    Output(ids.layer("wall", ALL), "hideout"),  # type: ignore[arg-type]
    Output(ids.wall_panel_body(ALL), "children"),  # type: ignore[arg-type]
    Output(ids.wall_updated(ALL), "children"),  # type: ignore[arg-type]
    Output(ids.WALL_PINNED, "children"),
    Output(ids.WALL_PINNED, "className"),
    Output(ids.WALL_TIMES, "data"),
    Output(ids.WALL_SEEN, "data"),
    Output(WALL_FEEDS, "children"),
    Output(WALL_MAP_AGE, "children"),
    Output(WALL_LEGEND, "children"),
    Output(WALL_FOCUS, "data"),
    Input(ids.WALL_TICK, "n_intervals"),
    State(ids.WALL_SEEN, "data"),
    State(ids.WALL_CONFIG, "data"),
)
def refresh(
    _tick: int | None, seen: dict[str, Any] | None, config: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    lang = auth.current_lang()
    snap = live().current
    seen = seen or {}
    key = [snap.version, lang]
    if seen.get("key") == key:
        raise PreventUpdate
    upd = layer_update(snap, 0, lang, WALL_LAYERS, seen.get("layers"))
    state = snap.live
    bodies = {
        "kpi": components.kpi_cards(components.kpis(snap, state), lang),
        "traffic": traffic_table(state, lang),
        "air": air_table(state, lang),
        "reports": reports_table(state, lang),
        "warnings": warnings_panel(snap, lang),
        "index766": wall_index_panel(snap.part("kpi"), lang),
    }
    at = {name: panel_time(snap, name) for name in ids.WALL_PANELS}
    cap = float((config or {}).get("stale_s") or 86_400)
    # For the browser: the data's epoch ms and the thresholds; it turns a label amber, then red, as it ages.
    times = {
        name: {
            "at": int(a.timestamp() * 1000) if a else None,
            "late_s": panel_thresholds(snap, name, cap)[0],
            "silent_s": panel_thresholds(snap, name, cap)[1],
        }
        for name, a in at.items()
    }
    labels = [
        t("updated.never", lang)
        if at[name] is None
        else f"{t('updated.at', lang, time=fmt_time(at[name], lang))} · {components.age_text(at[name], lang)}"
        for name in ids.WALL_PANELS
    ]
    pins, pin_class = pinned(snap, lang)
    # The banner is re-sent only when it changes: a re-drawn banner would restart its scrolling.
    pin_key = hashlib.blake2b(json.dumps([pins, pin_class], cls=PlotlyJSONEncoder).encode(), digest_size=8).hexdigest()
    same_pins = seen.get("pins") == pin_key
    return (
        upd.urls,
        upd.hideouts,
        [bodies[n] for n in ids.WALL_PANELS],
        labels,
        dash.no_update if same_pins else pins,
        dash.no_update if same_pins else pin_class,
        times,
        {"key": key, "layers": upd.seen, "pins": pin_key},
        components.feed_strip(snap, lang),
        map_age(snap, lang),
        wall_legend(snap, lang),
        focus_targets(snap),
    )


def map_age(snap: Snapshot, lang: Lang) -> str:
    """The map's data age: its stalest source's newest event (as the overview panel)."""
    at = snap.newest_data
    if at is None:
        return t("updated.never", lang)
    return f"{t('wall.map_data', lang)}: {fmt_time(at, lang)} · {components.age_text(at, lang)}"


clientside_callback(
    ClientsideFunction("ioc", "wallFocus"),
    Output(WALL_FOCUS_OUT, "data"),
    Input(WALL_FOCUS, "data"),
    State(ids.WALL_CONFIG, "data"),
)

clientside_callback(
    ClientsideFunction("ioc", "rotate"),
    Output(ids.wall_panel(ALL), "className"),  # type: ignore[arg-type]
    Input(ids.WALL_ROTATE, "n_intervals"),
    State(ids.WALL_CONFIG, "data"),
)

clientside_callback(
    ClientsideFunction("ioc", "staleness"),
    Output(ids.WALL_CLOCK, "children"),
    *[Output(ids.wall_updated(name), "className") for name in ids.WALL_PANELS],
    Input(ids.WALL_CLOCK_TICK, "n_intervals"),
    State(ids.WALL_TIMES, "data"),
    State(ids.WALL_CONFIG, "data"),
)
