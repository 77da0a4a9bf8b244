"""Pure layout builders shared by the pages: navbar, KPI cards, alert feed, legends, the map.

They take data and a language and return Dash components; no callbacks, no queries, so they are
unit-tested by comparing their JSON.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
import dash_leaflet as dl
from dash import dcc, html

from ioc.i18n import Lang, fmt_number, fmt_time, local, t
from ioc.sources import source_name
from ioc.web import basemap, ids
from ioc.web.queries import AlertRow
from ioc.web.snapshot import CityState, Snapshot
from layers.base import Legend
from layers.registry import SHARED_LAYERS as LAYERS  # restricted layers live on their own pages
from layers.severity import level_of, style_of

HAIPHONG_CENTER = (20.86, 106.68)
SEVERITY_ORDER = ("extreme", "severe", "moderate", "minor")
SOURCES = ("camera", "traffic", "air", "feedback")
STALE_AFTER_S = 120.0


@dataclass(frozen=True, slots=True)
class Kpis:
    """The numbers of the side panel and the wall, computed from one city state."""

    events_per_min: tuple[tuple[str, float], ...]
    alerts_by_severity: tuple[tuple[str, int], ...]
    reports_received_today: int
    tickets_answered_today: int
    tickets_overdue: int
    cameras_online: int
    cameras_total: int


def kpis(snap: Snapshot, state: CityState) -> Kpis:
    """ "Today" is the local (Asia/Ho_Chi_Minh) date of the state's moment."""
    today = local(state.asof).date()
    sev = Counter(a.severity for a in state.alerts)
    return Kpis(
        events_per_min=tuple((k, snap.rate(k)) for k in SOURCES),
        alerts_by_severity=tuple((s, sev.get(s, 0)) for s in SEVERITY_ORDER),
        reports_received_today=sum(local(r.created_at).date() == today for r in state.reports),
        tickets_answered_today=snap.tickets.answered_today,
        tickets_overdue=snap.tickets.overdue,
        cameras_online=sum(c.status in ("online", "incident") for c in state.cameras),
        cameras_total=len(state.cameras),
    )


def lang_link(lang: Lang, next_path: str, class_name: str = "btn btn-outline-light btn-sm") -> html.A:
    """The one-click language switch (stored in the user's session)."""
    other = "en" if lang == "vi" else "vi"
    return html.A(
        t("lang.switch", lang),
        href=f"/lang/{other}?next={quote(next_path)}",
        title=t("lang.switch_title", lang),
        className=class_name,
        id=f"lang-{other}",
    )


# The navbar's menus: a group shows the links the user may open, and only when there is one.
NAV_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("nav.group.monitor", (("/leader", "nav.leader"), ("/leader/ranking", "nav.leader_ranking"), ("/", "nav.map"),
                           ("/wall", "nav.wall"), ("/tablet", "nav.tablet"))),
    ("nav.group.warnings", (("/alerts", "nav.alerts"), ("/budget", "nav.budget"), ("/public-order", "nav.public_order"),
                            ("/floods", "nav.floods"), ("/soc", "nav.soc"), ("/warnings", "nav.warnings"))),
    ("nav.group.direct", (("/directives", "nav.directives"), ("/inbox", "nav.inbox"), ("/tasks", "nav.tasks"))),
    ("nav.group.reports", (("/triage", "nav.triage"), ("/transparency", "nav.transparency"))),
    ("nav.group.account", (("/admin/users", "nav.admin"), ("/admin/figures", "nav.figures"),
                           ("/account/password", "nav.password"))),
)  # fmt: skip


def navbar(lang: Lang, active: str, user: str | None, csrf: str) -> dbc.Navbar:
    """One line at every width: menus by group (links only to what the user may open; the server
    decides anyway), collapsed behind a menu button on narrow screens."""
    menus = []
    for group, links in NAV_GROUPS:
        allowed = [(path, key) for path, key in links if _may_open(path)]
        if not allowed:
            continue
        here = any(path == active for path, _ in allowed)
        menus.append(dbc.DropdownMenu(
            [dbc.DropdownMenuItem(t(key, lang), href=path, external_link=True, active=path == active)
             for path, key in allowed],
            label=t(group, lang), nav=True, in_navbar=True, className="ioc-nav-group" + (" active" if here else ""),
        ))  # fmt: skip
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(t("app.short", lang), href="/", className="fw-bold"),
                html.Span(dbc.NavbarToggler(id=ids.NAV_TOGGLE, n_clicks=0), title=t("nav.menu", lang)),
                dbc.Collapse(
                    [
                        dbc.Nav(menus, className="me-auto", navbar=True),
                        html.Span(user or "", className="text-light me-3 small"),
                        lang_link(lang, active),
                        html.Form(
                            [
                                dcc.Input(type="hidden", name="csrf_token", value=csrf),
                                html.Button(
                                    t("nav.logout", lang), type="submit", className="btn btn-light btn-sm ms-2"
                                ),
                            ],
                            action="/logout",
                            method="POST",
                            className="d-inline",
                        ),
                    ],
                    id=ids.NAV_COLLAPSE,
                    is_open=False,
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        expand="lg",  # menus inline from 992 px (the 1024 px tablet); the menu button below
        className="ioc-navbar py-1",
    )


def _may_open(path: str) -> bool:
    """Whether the logged-in user may open ``path`` (Dash pages by page, plain pages by route)."""
    from ioc.access import PAGES, Resource, decide
    from ioc.web.auth import current_principal

    p = current_principal()
    res = Resource.page(path) if path in PAGES and path != "/transparency" else Resource.route("GET", path)
    return decide(p, res).allowed


def age_text(at: datetime | None, lang: Lang, now: datetime | None = None) -> str:
    """How old the data is, in words ("dữ liệu 3 phút trước"), never the time the page refreshed."""
    if at is None:
        return t("updated.never", lang)
    s = max(0.0, ((now or datetime.now(UTC)) - at).total_seconds())
    if s < 120:
        return t("age.seconds", lang, n=fmt_number(s, lang))
    if s < 7200:
        return t("age.minutes", lang, n=fmt_number(s // 60, lang))
    return t("age.hours", lang, n=fmt_number(s // 3600, lang))


FEED_CLASS = {"live": "ioc-feed-live", "late": "ioc-feed-late", "silent": "ioc-feed-silent", "never": "ioc-feed-never"}


def feed_strip(snap: Snapshot, lang: Lang, now: datetime | None = None, id: Any = None) -> html.Div:
    """Every source live / late / silent with the age of its newest event, and the failed components.

    Thresholds are each source's declared freshness (ioc/sources/*.py), overridable in Settings."""
    now = now or datetime.now(UTC)
    items: list[Any] = [html.B(t("health.strip", lang) + ":", className="me-2")]
    for f in snap.feeds:
        label = f"{source_name(f.kind, lang)}: {t(f'feedhealth.{f.feed}', lang)}"
        items.append(html.Span([label, html.Small(f" · {age_text(f.newest_event_time, lang, now)}")],
                               className=f"ioc-feed {FEED_CLASS[f.feed]}", title=source_name(f.kind, lang),
                               **{"data-feed": f.feed, "data-kind": f.kind}))
    failed = snap.failed
    if failed:
        items.append(html.Span(t("health.failed_banner", lang, names=", ".join(c.name for c in failed)),
                               className="ioc-feed ioc-feed-silent ioc-failed", **{"data-failed": len(failed)}))
    if snap.error is not None:
        items.append(html.Span(t("db.unavailable", lang), className="ioc-feed ioc-feed-silent ioc-db-down"))
    kw = {"id": id} if id is not None else {}
    return html.Div(items, className="ioc-feeds", **kw)


def is_stale(snap: Snapshot, at: datetime | None, max_age_s: float = STALE_AFTER_S) -> bool:
    """Data is stale when the refresher failed, or its newest time is older than ``max_age_s``."""
    if snap.error is not None or at is None:
        return True
    return (datetime.now(UTC) - at).total_seconds() > max_age_s


def updated_label(at: datetime | None, lang: Lang, stale: bool, id: Any = None) -> html.Div:
    """When the data shown was produced (its newest event) and how old that is."""
    text = (
        t("updated.never", lang)
        if at is None
        else t("updated.stale" if stale else "updated.at", lang, time=fmt_time(at, lang)) + f" ({age_text(at, lang)})"
    )
    kw = {"id": id} if id is not None else {}
    return html.Div(text, className="ioc-updated" + (" ioc-stale" if stale or at is None else ""), **kw)


def kpi_card(title: str, value: str, sub: str | None = None, tone: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(title, className="ioc-kpi-title"),
            html.Div(value, className="ioc-kpi-value"),
            html.Div(sub, className="ioc-kpi-sub") if sub else None,
        ],
        className=f"ioc-kpi {tone}".strip(),
    )


def kpi_cards(k: Kpis, lang: Lang) -> list[html.Div]:
    rate_rows = html.Ul(
        [
            html.Li([html.Span(source_name(kind, lang)), html.B(fmt_number(v, lang, 1))])
            for kind, v in k.events_per_min
        ],
        className="ioc-kpi-list",
    )
    alerts_total = sum(n for _, n in k.alerts_by_severity)
    sev = html.Div(
        [
            severity_badge(s, lang, count=n, class_name="me-1 mb-1")
            for s, n in k.alerts_by_severity
        ]
    )
    return [
        html.Div(
            [html.Div(t("kpi.events_per_min", lang), className="ioc-kpi-title"), rate_rows],
            className="ioc-kpi",
        ),
        html.Div(
            [
                html.Div(t("kpi.open_alerts", lang), className="ioc-kpi-title"),
                html.Div(fmt_number(alerts_total, lang), className="ioc-kpi-value"),
                sev,
            ],
            className="ioc-kpi" + (" ioc-kpi-alert" if alerts_total else ""),
        ),
        kpi_card(
            t("kpi.reports_today", lang),
            fmt_number(k.reports_received_today, lang),
            f"{t('kpi.received', lang)}: {fmt_number(k.reports_received_today, lang)} · "
            f"{t('kpi.answered', lang)}: {fmt_number(k.tickets_answered_today, lang)} · "
            f"{t('kpi.overdue', lang)}: {fmt_number(k.tickets_overdue, lang)}",
        ),
        kpi_card(
            t("kpi.cameras_online", lang),
            t("kpi.of", lang, n=fmt_number(k.cameras_online, lang), total=fmt_number(k.cameras_total, lang)),
            t("kpi.cameras_online_note", lang),
        ),
    ]


def severity_badge(severity: str | None, lang: Lang, count: int | None = None, class_name: str = "") -> html.Span:
    """A severity as every page shows it: the one palette (layers.severity), its bar icon and its name."""
    sev = level_of(severity)
    st = style_of(sev)
    label = t(f"severity.{sev}", lang) + (f": {fmt_number(count, lang)}" if count is not None else "")
    return html.Span([html.Span(st.icon, className="ioc-sev-icon", **{"aria-hidden": "true"}), label],
                     className=f"badge ioc-sev ioc-sev-{sev} {class_name}".strip(),
                     style={"background": st.background, "color": st.text}, **{"data-severity": sev})


def alert_item(a: AlertRow, lang: Lang) -> html.Li:
    return html.Li(
        [
            severity_badge(a.severity, lang, class_name="me-2"),
            html.Span(a.title(lang), className="ioc-alert-title"),
            html.Span(fmt_time(a.created_at, lang), className="ioc-alert-time"),
        ],
        className="ioc-alert" + ("" if a.acknowledged else " ioc-alert-new"),
        id=f"alert-{a.alert_id}",
    )


def alert_feed(alerts: tuple[AlertRow, ...], lang: Lang, limit: int = 20) -> html.Div:
    ranked = sorted(
        alerts, key=lambda a: (a.created_at is None, -(a.created_at.timestamp() if a.created_at else 0))
    )
    items = [alert_item(a, lang) for a in ranked[:limit]]
    return html.Div(
        [
            html.H2(t("feed.title", lang), className="ioc-section-title"),
            html.Ul(items, className="ioc-alert-list")
            if items
            else html.P(t("feed.empty", lang), className="text-muted"),
        ]
    )


def legend(lg: Legend) -> html.Details:
    return html.Details(
        [
            html.Summary(lg.title),
            html.Ul(
                [
                    html.Li([html.Span(className="ioc-swatch", style={"background": e.color}), e.label])
                    for e in lg.entries
                ],
                className="ioc-legend-list",
            ),
        ],
        className="ioc-legend",
        open=False,
    )


def slider_marks(lang: Lang) -> dict[int, str]:
    return {0: t("slider.now", lang), **{h: t("slider.hours_ago", lang, h=h) for h in (6, 12, 18, 24)}}


def time_slider(slider_id: str, lang: Lang) -> html.Div:
    """Look back over the last 24 h in whole hours (0 = live)."""
    return html.Div(
        [
            html.Label(t("slider.title", lang), htmlFor=slider_id, className="ioc-slider-title"),
            dcc.Slider(
                id=slider_id,
                min=0,
                max=24,
                step=1,
                value=0,
                marks=slider_marks(lang),
                included=False,
                updatemode="mouseup",
                className="ioc-slider",
            ),
        ],
        className="ioc-slider-box",
    )


def _geojson(page: ids.Page, spec_id: str, cluster: bool) -> dl.GeoJSON:
    options: dict[str, Any] = {
        "id": ids.layer(page, spec_id),
        "pointToLayer": {"variable": "ioc.map.point"},
        "style": {"variable": "ioc.map.style"},
        "onEachFeature": {"variable": "ioc.map.tooltip"},
        "hideout": {"layer": spec_id},
    }
    if cluster:
        options.update(
            cluster=True,
            clusterToLayer={"variable": "ioc.map.cluster"},
            superClusterOptions={"radius": 60, "maxZoom": 16},
            zoomToBoundsOnClick=True,
        )
    return dl.GeoJSON(**options)


def map_view(
    page: ids.Page,
    map_id: str,
    lang: Lang,
    *,
    interactive: bool = True,
    tile_url: str | None = None,
    zoom: float = 11,
    collapsed: bool = False,
    bounds: list[list[float]] | None = None,
) -> dl.Map:
    """The city map with every layer; a LayersControl when ``interactive``.

    Without ``tile_url`` (no internet in the operations room) the map is drawn on a plain
    background and stays readable from the administrative boundaries.
    """
    # The offline vector base (sea, rivers, roads, units, names) always; online tiles only if configured.
    base: list[Any] = [*([dl.TileLayer(url=tile_url, maxZoom=19)] if tile_url else []),
                       *basemap.layers(page, "dark" if page == "wall" else "light")]
    if interactive:
        overlays = [
            dl.Overlay(_geojson(page, s.layer_id, s.cluster), name=t(s.title_key, lang), checked=s.checked)
            for s in LAYERS
        ]
        children = [
            *base,
            # dash-leaflet reads ``overlays`` when a layer is switched off: give the initial list.
            dl.LayersControl(
                overlays,
                overlays=[t(s.title_key, lang) for s in LAYERS if s.checked],
                collapsed=collapsed,
                position="topleft",
                id=f"{map_id}-layers",
            ),
            dl.ScaleControl(position="bottomleft", imperial=False),
        ]
    else:
        children = [*base, *[_geojson(page, s.layer_id, s.cluster) for s in LAYERS if s.checked]]
    return dl.Map(
        children,
        id=map_id,
        zoomSnap=0.25,
        className=f"ioc-map ioc-map-{page}",
        attributionControl=False,  # the base map adds its own credit line (OpenStreetMap, GSHHG, the 2025 units)
        zoomControl=interactive,
        dragging=interactive,
        scrollWheelZoom=interactive,
        doubleClickZoom=interactive,
        keyboard=interactive,
        center=HAIPHONG_CENTER,
        # Fit the city whatever the screen size (wall at 4K): dash-leaflet fits ``bounds`` at creation
        # only when no zoom is given, so the zoom is passed only without bounds.
        **({"bounds": bounds, "boundsOptions": {"padding": [8, 8]}} if bounds else {"zoom": zoom}),
    )


DROPDOWN_LABELS = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection",
                   "no_options_found")  # fmt: skip


def dropdown_labels(lang: Lang) -> dict[str, str]:
    """The texts dcc.Dropdown draws itself ("3 selected", "Search"), in the page's language."""
    return {k: t(f"dropdown.{k}", lang) for k in DROPDOWN_LABELS}
