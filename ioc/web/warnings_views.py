"""Layout builders of the early-warning pages and of their wall and leader panels (no callbacks, no queries).

Everything here reads the shared snapshot's parts (``ioc/web/parts/warnings.py``) and returns Dash
components or Plotly figures; the page modules wire them to callbacks and declare who may see what
(``ACCESS``, checked with :func:`may` until the city's one policy, ``ioc.access``, takes over).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
import dash_leaflet as dl
import plotly.graph_objects as go
from dash import dcc, html

from geodata.names import humanise
from ioc.i18n import Lang, fmt_datetime, fmt_number, fmt_time, local
from ioc.i18n.warnings_messages import tw
from ioc.state import CityState
from ioc.warnings import (
    PO_TYPES,
    BudgetPanel,
    FloodView,
    PublicOrderView,
    Scope,
    SimulationView,
    SocView,
    WarningAlert,
    summarise,
)
from ioc.web.components import severity_badge
from ioc.web.layer_blobs import BLOBS, Rendered
from ioc.web.pages import warnings_ids as wid
from ioc.web.snapshot import Snapshot
from layers.registry import layer as layer_spec
from layers.severity import style_of

BILLION = 1_000_000_000
YEAR_COLORS = ("#9E9E9E", "#78909C", "#5C6BC0", "#1565C0", "#C62828")
TYPE_COLORS = {"traffic_accidents": "#FF7F0E", "criminal_cases": "#7B1FA2", "disorder_incidents": "#D62728",
               "fires": "#8C564B", "rescues": "#17BECF", "traffic_deaths": "#212121", "traffic_injuries": "#BCBD22"}  # fmt: skip
ORIGIN_COLORS = {"servers": "#C62828", "internal_network": "#6A1B9A", "other": "#1565C0"}
FAMILIES = ("budget", "public_order", "flood", "soc")


# --- access -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Who may reach a page or a callback's output, and how its rows are scoped."""

    roles: frozenset[str]
    scoping: str  # in words, for the policy: e.g. "ward: only the units in the user's scope"


def may(access: Mapping[str, AccessRule], target: str, role: str | None) -> bool:
    """True when ``role`` may reach ``target`` (a page path or a callback output id); default deny."""
    rule = access.get(target)
    return rule is not None and role is not None and role in rule.roles


def forbidden(lang: Lang, who: str) -> html.Div:
    return html.Div(html.P(tw("w.forbidden", lang, roles=tw(f"w.roles.{who}", lang)), className="lead"),
                    className="container p-5 ioc-forbidden")  # fmt: skip


# --- states and layers for the pages' own maps --------------------------------------------------------


def state_for(snap: Snapshot, parts: Iterable[str]) -> CityState:
    """The live state with the named parts in it (for the layers a page may show)."""
    return dataclasses.replace(snap.live, parts=MappingProxyType({p: snap.part(p) for p in parts}))


@lru_cache(maxsize=64)
def page_layers(snap: Snapshot, lang: Lang, layer_ids: tuple[str, ...], parts: tuple[str, ...]) -> dict[str, Rendered]:
    """The page's layers for one snapshot and language: built and serialised once for all its viewers."""
    state = state_for(snap, parts)
    out = {}
    for lid in layer_ids:
        data = layer_spec(lid).build(state, lang)
        body = json.dumps(data.features, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        BLOBS.put(digest, body)
        style = None
        if data.styles is not None:
            style = hashlib.blake2b(json.dumps(data.styles, sort_keys=True, ensure_ascii=False).encode(),
                                    digest_size=12).hexdigest()  # fmt: skip
        out[lid] = Rendered(data, body, digest, style)
    return out


def layer_outputs(rendered: Mapping[str, Rendered], layer_ids: Sequence[str],
                  seen: Mapping[str, str] | None) -> tuple[list[Any], list[Any], dict[str, str]]:  # fmt: skip
    """(urls, hideouts, seen) sending only what the browser does not hold yet."""
    from dash import no_update

    seen = dict(seen or {})
    urls, hideouts = [], []
    for lid in layer_ids:
        r = rendered[lid]
        if seen.get(lid) == r.digest:
            urls.append(no_update)
        else:
            urls.append(r.url)
            seen[lid] = r.digest
        sk = lid + ":style"
        if r.style_digest is None or seen.get(sk) == r.style_digest:
            hideouts.append(no_update)
        else:
            hideouts.append(r.hideout(lid))
            seen[sk] = r.style_digest
    return urls, hideouts, seen


# Unit outlines under everything; simulation layers over the live ones (drawn apart, never mixed in).
PANES = {"boundaries": "ioc-units", "public_order": "ioc-units", "simulation": "ioc-simulation"}


def warning_map(page: str, map_id: str, layer_ids: Sequence[str], lang: Lang, *,
                bounds: list[list[float]] | None = None, height: str = "60vh") -> dl.Map:  # fmt: skip
    """A map with only ``layer_ids`` (in their declared order), a layer switcher and a scale."""
    from ioc.i18n import t

    overlays = []
    for lid in layer_ids:
        spec = layer_spec(lid)
        options: dict[str, Any] = {
            "id": wid.layer(page, lid), "pointToLayer": {"variable": "ioc.map.point"},
            "style": {"variable": "ioc.map.style"}, "onEachFeature": {"variable": "ioc.map.tooltip"},
            "hideout": {"layer": lid}, "pane": PANES.get(lid, "overlayPane"),
        }  # fmt: skip
        overlays.append(dl.Overlay(dl.GeoJSON(**options), name=t(spec.title_key, lang), checked=True))
    return dl.Map(
        [dl.Pane(name="ioc-units", style={"zIndex": 390}), dl.Pane(name="ioc-simulation", style={"zIndex": 450}),
         dl.LayersControl(overlays, overlays=[o.name for o in overlays], collapsed=True, position="topleft"),
         dl.ScaleControl(position="bottomleft", imperial=False)],
        id=map_id, center=(20.86, 106.68), zoom=10, zoomSnap=0.25, className=f"ioc-map ioc-wmap ioc-wmap-{page}",
        attributionControl=False, style={"height": height}, **({"bounds": bounds} if bounds else {}),
    )  # fmt: skip


# --- shared pieces -------------------------------------------------------------------------------------


def _layout(fig: go.Figure, lang: Lang, height: int = 320) -> go.Figure:
    fig.update_layout(template="plotly_white", height=height, margin={"l": 50, "r": 10, "t": 30, "b": 40},
                      separators=",." if lang == "vi" else ".,", legend={"orientation": "h", "y": -0.2},
                      font={"family": "Be Vietnam Pro, sans-serif", "size": 13})  # fmt: skip
    return fig


def graph(fig: go.Figure, gid: str | None = None) -> dcc.Graph:
    kw = {"id": gid} if gid else {}
    return dcc.Graph(figure=fig, config={"displayModeBar": False}, **kw)


def card(title: str, value: str, sub: str | None = None, tone: str = "", cid: str | None = None) -> html.Div:
    kw = {"id": cid} if cid else {}
    return html.Div([html.Div(title, className="ioc-kpi-title"), html.Div(value, className="ioc-kpi-value"),
                     html.Div(sub, className="ioc-kpi-sub") if sub else None],
                    className=f"ioc-kpi ioc-wkpi {tone}".strip(), **kw)  # fmt: skip


def alerts_list(alerts: Iterable[WarningAlert], families: Iterable[str], lang: Lang,
                scope: Scope = None) -> html.Div:  # fmt: skip
    fams = set(families)
    rows = [a for a in alerts if a.family in fams and (scope is None or a.admin_unit is None or a.admin_unit in scope)]
    items = [
        html.Li([
            severity_badge(a.severity, lang, class_name="me-2"),
            html.B(humanise(a.title(lang), lang)),
            html.Span(f" · {fmt_datetime(a.updated_at, lang)}", className="text-muted small"),
            html.Div(humanise(a.detail(lang), lang), title=a.detail(lang), className="small ioc-walert-detail"),
        ], className="ioc-walert" + ("" if a.state != "new" else " ioc-walert-new"))
        for a in rows[:20]
    ]  # fmt: skip
    return html.Div([html.H2(tw("w.alerts.title", lang), className="h6 mt-3"),
                     html.Ul(items, className="list-unstyled ioc-walerts") if items
                     else html.P(tw("w.alerts.none", lang), className="text-muted")], className="ioc-walerts-box")  # fmt: skip


def _pct(v: float | None, lang: Lang, decimals: int = 1) -> str:
    return "—" if v is None else f"{fmt_number(100 * v, lang, decimals)} %"


def _bn(v: float | None, lang: Lang) -> str:
    return "—" if v is None else fmt_number(v / BILLION, lang)


# --- budget --------------------------------------------------------------------------------------------


def budget_curve_figure(p: BudgetPanel, lang: Lang) -> go.Figure:
    fig = go.Figure()
    if p.usual_days:
        hi = [100 * (m + 2 * b) for m, b in zip(p.usual_mean, p.usual_band, strict=True)]
        lo = [100 * max(0.0, m - 2 * b) for m, b in zip(p.usual_mean, p.usual_band, strict=True)]
        fig.add_trace(go.Scatter(x=list(p.usual_days) + list(reversed(p.usual_days)), y=hi + list(reversed(lo)),
                                 fill="toself", fillcolor="rgba(21,101,192,0.12)", line={"width": 0},
                                 name=tw("w.budget.curve.band", lang), hoverinfo="skip"))  # fmt: skip
        years = f"{p.usual_years[0]}–{p.usual_years[-1]}" if p.usual_years else ""
        fig.add_trace(go.Scatter(x=list(p.usual_days), y=[100 * m for m in p.usual_mean], mode="lines",
                                 line={"dash": "dash", "color": "#1565C0"},
                                 name=tw("w.budget.curve.usual", lang, years=years)))  # fmt: skip
    curves = sorted(p.curves, key=lambda c: c.year)
    for i, c in enumerate(curves):
        current = c.year == p.year
        color = YEAR_COLORS[-1] if current else YEAR_COLORS[max(0, len(YEAR_COLORS) - 1 - (len(curves) - i))]
        fig.add_trace(go.Scatter(x=list(c.days), y=[100 * s for s in c.shares], mode="lines", name=str(c.year),
                                 line={"width": 4 if current else 1.5, "color": color}))  # fmt: skip
    fig.add_hline(y=100, line={"color": "#2E7D32", "dash": "dot"})
    fig.update_xaxes(title=tw("w.budget.curve.day", lang), range=[1, 366])
    fig.update_yaxes(title=tw("w.budget.curve.share", lang), ticksuffix=" %")
    return _layout(fig, lang, 360)


def budget_lines_figure(p: BudgetPanel, lang: Lang) -> go.Figure:
    rows = [r for r in p.lines if r.share_council is not None]
    labels = [r.label_vi if lang == "vi" else r.label_en for r in rows]
    colors = ["#C62828" if r.behind else "#1565C0" for r in rows]
    fig = go.Figure(go.Bar(x=[100 * (r.share_council or 0) for r in rows], y=labels, orientation="h",
                           marker_color=colors, name=tw("w.budget.lines.now", lang, year=p.year),
                           text=[_pct(r.share_council, lang) for r in rows], textposition="outside"))  # fmt: skip
    usual = [(100 * r.usual_share, 200 * r.band, lab) for r, lab in zip(rows, labels, strict=True)
             if r.usual_share is not None and r.band is not None]  # fmt: skip
    if usual:
        fig.add_trace(go.Scatter(x=[u[0] for u in usual], y=[u[2] for u in usual], mode="markers",
                                 error_x={"type": "data", "array": [u[1] for u in usual]},
                                 marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": "#212121"}},
                                 name=tw("w.budget.lines.usual", lang)))  # fmt: skip
    fig.update_xaxes(ticksuffix=" %")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, lang, 60 + 38 * max(3, len(rows)))


def budget_yoy_figure(p: BudgetPanel, series: str, lang: Lang) -> go.Figure:
    months = [f"{tw('w.budget.month', lang)} {m}" for m in range(1, 13)]
    fig = go.Figure()
    years = sorted({y for s, y, _ in p.monthly if s == series})
    for i, y in enumerate(years):
        sums = next(v for s, yy, v in p.monthly if s == series and yy == y)
        color = YEAR_COLORS[-1] if y == p.year else YEAR_COLORS[max(0, len(YEAR_COLORS) - 1 - (len(years) - i))]
        fig.add_trace(go.Bar(x=months, y=[v / BILLION for v in sums], name=str(y), marker_color=color))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=tw("w.bn", lang), tickformat=",.0f")
    return _layout(fig, lang, 320)


def budget_table(p: BudgetPanel, lang: Lang) -> html.Table:
    head = html.Thead(html.Tr([html.Th(tw(f"w.budget.col.{c}", lang)) for c in
                               ("line", "ytd", "council", "central", "usual", "yoy", "forecast")]))  # fmt: skip
    rows = []
    for r in p.lines:
        usual = "—" if r.usual_share is None else f"{_pct(r.usual_share, lang)} ± {fmt_number(100 * (r.band or 0), lang, 1)}"
        fc = "—" if r.forecast_share is None else (f"{_pct(r.forecast_share, lang)} ({fmt_number(100 * (r.forecast_lo or 0), lang, 0)}"
                                                  f"–{fmt_number(100 * (r.forecast_hi or 0), lang, 0)} %)")  # fmt: skip
        rows.append(html.Tr([
            html.Td(r.label_vi if lang == "vi" else r.label_en), html.Td(_bn(r.ytd_vnd, lang), className="num"),
            html.Td(_pct(r.share_council, lang), className="num" + (" ioc-behind" if r.behind else "")),
            html.Td(_pct(r.share_central, lang), className="num"), html.Td(usual, className="num"),
            html.Td(_pct(r.yoy, lang), className="num"), html.Td(fc, className="num"),
        ], className="ioc-behind-row" if r.behind else ""))  # fmt: skip
    return html.Table([head, html.Tbody(rows)], className="table table-sm ioc-wtable")


def budget_body(p: BudgetPanel, alerts: Sequence[WarningAlert], lang: Lang) -> list[Any]:
    if p.empty:
        return [html.P(tw("w.nodata", lang), className="text-muted")]
    total = next((r for r in p.lines if r.series == "total"), None)
    cards = []
    if total is not None:
        cards = [
            card(tw("w.budget.kpi.total", lang), f"{_bn(total.ytd_vnd, lang)} {tw('w.bn', lang)}"),
            card(tw("w.budget.kpi.council", lang), _pct(total.share_council, lang),
                 f"{tw('w.budget.kpi.usual', lang)}: {_pct(total.usual_share, lang)}",
                 "ioc-kpi-alert" if total.behind else ""),
            card(tw("w.budget.kpi.central", lang), _pct(total.share_central, lang)),
            card(tw("w.budget.kpi.yoy", lang), _pct(total.yoy, lang)),
            card(tw("w.budget.kpi.forecast", lang), _pct(total.forecast_share, lang),
                 f"{fmt_number(100 * (total.forecast_lo or 0), lang, 0)}–{fmt_number(100 * (total.forecast_hi or 0), lang, 0)} %"
                 if total.forecast_share is not None else None),
        ]  # fmt: skip
    reported = p.reported_through.strftime("%d/%m/%Y") if p.reported_through else "—"
    return [
        html.P(tw("w.budget.sub", lang, date=reported), className="text-muted small"),
        html.Div(cards, className="ioc-wkpis"),
        dbc.Row([dbc.Col([html.H2(tw("w.budget.curve", lang), className="h6"), graph(budget_curve_figure(p, lang))], lg=7),
                 dbc.Col([html.H2(tw("w.budget.lines", lang), className="h6"), graph(budget_lines_figure(p, lang))], lg=5)],
                className="g-3"),  # fmt: skip
        budget_table(p, lang),
        alerts_list(alerts, ("budget",), lang),
    ]


def budget_series_options(p: BudgetPanel, lang: Lang) -> list[dict[str, str]]:
    return [{"label": r.label_vi if lang == "vi" else r.label_en, "value": r.series} for r in p.lines]


# --- public order --------------------------------------------------------------------------------------


def po_trend_figure(v: PublicOrderView, lang: Lang) -> go.Figure:
    fig = go.Figure()
    hours = [local(h.hour) for h in v.hourly]
    for i, k in enumerate(PO_TYPES[:5]):
        fig.add_trace(go.Bar(x=hours, y=[h.counts[i] for h in v.hourly], name=tw(f"w.po.type.{k}", lang),
                             marker_color=TYPE_COLORS[k]))  # fmt: skip
    fig.update_layout(barmode="stack", bargap=0)
    fig.update_xaxes(tickformat="%H:%M\n%d/%m")
    fig.update_yaxes(title=tw("w.po.count", lang))
    return _layout(fig, lang, 300)


def po_type_figure(v: PublicOrderView, lang: Lang) -> go.Figure:
    totals = v.totals(24 * 7)
    keys = list(PO_TYPES)
    fig = go.Figure(go.Bar(x=[tw(f"w.po.type.{k}", lang) for k in keys], y=list(totals),
                           marker_color=[TYPE_COLORS[k] for k in keys], text=[fmt_number(n, lang) for n in totals],
                           textposition="outside"))  # fmt: skip
    return _layout(fig, lang, 300)


def po_cards(v: PublicOrderView, lang: Lang) -> list[html.Div]:
    totals = v.totals(24)
    return [card(tw(f"w.po.type.{k}", lang), fmt_number(n, lang), None, "", f"po-kpi-{k}")
            for k, n in zip(PO_TYPES, totals, strict=True)]  # fmt: skip


def po_body(v: PublicOrderView, alerts: Sequence[WarningAlert], names: Mapping[str, str], lang: Lang,
            scope: Scope = None) -> list[Any]:  # fmt: skip
    units = sorted(v.scoped(scope), key=lambda u: -u.incidents)[:10]
    table = html.Table([
        html.Thead(html.Tr([html.Th(tw("w.po.col.unit", lang)), html.Th(tw("w.po.col.total", lang))] +
                           [html.Th(tw(f"w.po.type.{k}", lang)) for k in PO_TYPES[:5]])),
        html.Tbody([html.Tr([html.Td(names.get(u.admin_unit, u.admin_unit)), html.Td(fmt_number(u.incidents, lang), className="num")]
                            + [html.Td(fmt_number(u.count(k), lang), className="num") for k in PO_TYPES[:5]])
                    for u in units if u.incidents]),
    ], className="table table-sm ioc-wtable small")  # fmt: skip
    return [
        html.Div(po_cards(v, lang), className="ioc-wkpis"),
        html.H2(tw("w.po.trend", lang), className="h6"), graph(po_trend_figure(v, lang)),
        dbc.Row([dbc.Col([html.H2(tw("w.po.by_type", lang), className="h6"), graph(po_type_figure(v, lang))], lg=6),
                 dbc.Col([html.H2(tw("w.po.units", lang), className="h6"), html.Div(table, className="table-responsive")],
                         lg=6)], className="g-3"),
        alerts_list(alerts, ("public_order",), lang, scope),
    ]  # fmt: skip


# --- floods --------------------------------------------------------------------------------------------


def gauge_figure(v: FloodView, source_id: str | None, sources: Mapping[str, Any], lang: Lang) -> go.Figure:
    fig = go.Figure()
    src = sources.get(source_id or "")
    g = v.level(source_id or "")
    if g is not None:
        fig.add_trace(go.Scatter(x=[local(p.at) for p in g.points], y=[p.level_m for p in g.points], mode="lines",
                                 line={"color": "#08519C", "width": 3}, name=src.name if src else source_id))  # fmt: skip
    alarms = (src.properties.get("alarm_levels_m") if src else None) or {}
    for i, (k, color) in enumerate((("BD1", "#FC8D59"), ("BD2", "#D73027"), ("BD3", "#7F0000"))):
        if k in alarms:
            fig.add_hline(y=float(alarms[k]), line={"color": color, "dash": "dash"},
                          annotation_text=f"BĐ{i + 1} {fmt_number(float(alarms[k]), lang, 2)} m" if lang == "vi"
                          else f"level {i + 1} {fmt_number(float(alarms[k]), lang, 2)} m")  # fmt: skip
    fig.update_xaxes(tickformat="%H:%M\n%d/%m")
    fig.update_yaxes(title=tw("w.fl.level", lang))
    return _layout(fig, lang, 300)


def most_alarming_gauge(v: FloodView, sources: Mapping[str, Any]) -> str | None:
    """The gauge closest to (or furthest above) its BĐ1: what the chart shows first."""
    best, margin = None, None
    for g in v.levels:
        src = sources.get(g.source_id)
        bd1 = ((src.properties.get("alarm_levels_m") or {}).get("BD1") if src else None)
        if g.latest is None or bd1 is None:
            continue
        m = g.latest.level_m - float(bd1)
        if margin is None or m > margin:
            best, margin = g.source_id, m
    return best


def rain_figure(v: FloodView, sources: Mapping[str, Any], lang: Lang) -> go.Figure:
    rows = sorted(v.rain, key=lambda r: r.mm_24h)
    names = [sources[r.source_id].name.replace("Trạm đo mưa ", "").replace("Trạm ", "") if r.source_id in sources
             else r.source_id for r in rows]  # fmt: skip
    fig = go.Figure([
        go.Bar(y=names, x=[r.mm_24h for r in rows], name=tw("w.fl.rain.24h", lang), marker_color="#6BAED6", orientation="h"),
        go.Bar(y=names, x=[r.mm_3h for r in rows], name=tw("w.fl.rain.3h", lang), marker_color="#2171B5", orientation="h"),
        go.Bar(y=names, x=[r.mm_1h for r in rows], name=tw("w.fl.rain.1h", lang), marker_color="#08306B", orientation="h"),
    ])  # fmt: skip
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="mm")
    return _layout(fig, lang, 80 + 24 * max(4, len(rows)))


def simulation_list(sims: Sequence[SimulationView], lang: Lang) -> html.Div:
    if not sims:
        return html.Div([html.H2(tw("w.sim.list", lang), className="h6"), html.P(tw("w.sim.none", lang),
                                                                                  className="text-muted small")])  # fmt: skip
    items = [html.Li([html.Span(tw("w.sim.label", lang), className="badge ioc-sim-badge me-2"),
                      html.B(s.name), html.Span(f" · {fmt_datetime(s.scenario_time, lang)} · {s.author} · "
                                                f"{fmt_number(s.feature_count, lang)}", className="small"),
                      html.Button(tw("w.sim.export", lang), id=wid.sim_export(s.layer_id),
                                  className="btn btn-outline-secondary btn-sm ms-2")], className="mb-1")
             for s in sims]  # fmt: skip
    return html.Div([html.H2(tw("w.sim.list", lang), className="h6"), html.Ul(items, className="list-unstyled")])


def flood_body(v: FloodView, alerts: Sequence[WarningAlert], sources: Mapping[str, Any], lang: Lang) -> list[Any]:
    return [
        html.H2(tw("w.fl.rain", lang), className="h6 mt-3"), graph(rain_figure(v, sources, lang)),
        alerts_list(alerts, ("flood",), lang),
    ]


def simulation_banner(sims: Sequence[SimulationView], lang: Lang) -> tuple[str, str]:
    if not sims:
        return "", "ioc-sim-banner d-none"
    return tw("w.sim.banner", lang, n=len(sims)), "ioc-sim-banner"


# --- SOC -----------------------------------------------------------------------------------------------


def soc_trend_figure(v: SocView, lang: Lang) -> go.Figure:
    if v.asof is None:
        return _layout(go.Figure(), lang)
    first = local(v.asof).date() - timedelta(days=29)
    days = [first + timedelta(days=i) for i in range(30)]
    fig = go.Figure()
    for origin in ("servers", "internal_network", "other"):
        by = {d.day: d.raised for d in v.days if d.origin == origin}
        fig.add_trace(go.Bar(x=days, y=[by.get(d, 0) for d in days], name=tw(f"w.soc.origin.{origin}", lang),
                             marker_color=ORIGIN_COLORS[origin]))  # fmt: skip
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat="%d/%m")
    fig.update_yaxes(title=tw("w.soc.raised", lang), rangemode="tozero", dtick=1 if max(
        (d.raised for d in v.days), default=0) < 6 else None)
    return _layout(fig, lang, 300)


def soc_body(v: SocView, alerts: Sequence[WarningAlert], lang: Lang) -> list[Any]:
    if v.asof is None:
        return [html.P(tw("w.nodata", lang), className="text-muted")]
    cards = []
    for origin in ("servers", "internal_network", "other"):
        o = next((x for x in v.open if x.origin == origin), None)
        n = (o.open_new + o.open_in_progress) if o else 0
        cards.append(card(tw(f"w.soc.origin.{origin}", lang), fmt_number(n, lang),
                          tw("w.soc.open", lang, new=fmt_number(o.open_new if o else 0, lang),
                             progress=fmt_number(o.open_in_progress if o else 0, lang)),
                          "ioc-kpi-alert" if n else "", f"soc-kpi-{origin}"))  # fmt: skip
    ytd = v.raised_since(date(local(v.asof).year, 1, 1))
    return [
        html.Div(cards, className="ioc-wkpis"),
        html.P(tw("w.soc.ytd", lang, total=fmt_number(sum(ytd.values()), lang),
                  servers=fmt_number(ytd.get("servers", 0), lang), network=fmt_number(ytd.get("internal_network", 0), lang)),
               id="soc-ytd"),  # fmt: skip
        html.P(tw("w.soc.reference", lang), className="text-muted small"),
        html.H2(tw("w.soc.trend", lang), className="h6"), graph(soc_trend_figure(v, lang)),
        alerts_list(alerts, ("soc",), lang),
    ]


# --- the wall and /leader (city-level only) ------------------------------------------------------------


def warnings_wall_panel(snap: Snapshot, lang: Lang) -> html.Div:
    """For the wall: open warnings per family and the city's public-order counts of 24 h. Nothing
    per unit and no budget figure: the wall is seen by everyone in the room."""
    summary = summarise(snap.part("warnings.alerts"))
    rows = [html.Tr([html.Td(tw(f"w.family.{f}", lang)),
                     html.Td(tw("w.wall.open", lang, n=fmt_number(summary.open_by_family.get(f, 0), lang)), className="num"),
                     html.Td(tw("w.wall.severe", lang, n=fmt_number(summary.severe_by_family.get(f, 0), lang)),
                             className="num ioc-severe" if summary.severe_by_family.get(f) else "num",
                             style={"color": style_of("severe").background} if summary.severe_by_family.get(f) else None)])
            for f in FAMILIES]  # fmt: skip
    po: PublicOrderView = snap.part("warnings.public_order")
    totals = po.totals(24)
    po_row = html.Ul([html.Li([html.Span(tw(f"w.po.type.{k}", lang)), html.B(fmt_number(n, lang))])
                      for k, n in zip(PO_TYPES, totals, strict=True) if k != "traffic_injuries"],
                     className="ioc-kpi-list")  # fmt: skip
    return html.Div([
        html.Table(html.Tbody(rows), className="ioc-wall-table", id="wall-warnings-table"),
        html.H3(tw("w.po.wall", lang), className="h6 mt-2"), po_row,
    ], className="ioc-wall-warnings")  # fmt: skip


def leader_cards(snap: Snapshot, lang: Lang) -> list[html.Div]:
    """For ``/leader``: one card per warning family with its open and severe counts."""
    summary = summarise(snap.part("warnings.alerts"))
    return [card(tw(f"w.family.{f}", lang), fmt_number(summary.open_by_family.get(f, 0), lang),
                 tw("w.wall.severe", lang, n=fmt_number(summary.severe_by_family.get(f, 0), lang)),
                 "ioc-kpi-alert" if summary.severe_by_family.get(f) else "", f"leader-warn-{f}") for f in FAMILIES]  # fmt: skip


def legends(snap: Snapshot, lang: Lang, layer_ids: tuple[str, ...], parts: tuple[str, ...]) -> html.Div:
    from ioc.web import components

    rendered = page_layers(snap, lang, layer_ids, parts)
    return html.Div([components.legend(rendered[lid].data.legend) for lid in layer_ids if lid != "boundaries"],
                    className="mt-2 ioc-wlegends")  # fmt: skip


def updated(snap: Snapshot, lang: Lang) -> str:
    return tw("w.updated", lang, time=fmt_time(snap.refreshed_at, lang))
