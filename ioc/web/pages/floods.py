"""Floods (``/floods``): the flood layer (gauges with levels, rain, flooded streets, flood areas drawn or
imported by operators with depth and time), gauge charts, and the simulation layers — hatched,
labelled "MÔ PHỎNG", drawn over and apart from the live data and exportable with that label.

Operators draw a flood area on the map (or upload a GeoJSON file), give its depth and time and
save it; it is validated like a boundary file (:mod:`geodata.overlays`) and appears at the next tick.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

import dash
import dash_bootstrap_components as dbc
import dash_leaflet as dl
import flask
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from geodata import overlays
from ioc.audit import audit
from ioc.i18n import Lang
from ioc.i18n.warnings_messages import tw
from ioc.web import auth, components
from ioc.web import warnings_views as v
from ioc.web.components import dropdown_labels
from ioc.web.pages import warnings_ids as wid
from ioc.web.snapshot import EXTENSION, Snapshot, live, web_settings

dash.register_page(__name__, path="/floods", name="floods", title="IOC Hải Phòng – Ngập úng")

VIEWERS = frozenset({"leader", "standing_office", "department", "ward", "operator", "triage", "admin"})
EDITORS = frozenset({"operator", "admin"})
ACCESS: dict[str, v.AccessRule] = {
    "/floods": v.AccessRule(VIEWERS, "public data; every staff role"),
    wid.FLOOD_BODY: v.AccessRule(VIEWERS, "as the page"),
    wid.FLOOD_MAP: v.AccessRule(VIEWERS, "as the page"),
    wid.FLOOD_GAUGE_GRAPH: v.AccessRule(VIEWERS, "as the page"),
    wid.SIM_DOWNLOAD: v.AccessRule(VIEWERS, "export of a simulation layer, labelled MÔ PHỎNG"),
    wid.FLOOD_SAVED: v.AccessRule(EDITORS, "create flood areas (audited)"),
}
PAGE = "floods"
LAYERS = ("boundaries", "flood_areas", "water", "rain", "simulation")
PARTS = ("warnings.floods", "warnings.simulation")


def allowed(target: str) -> bool:
    return v.may(ACCESS, target, auth.current_role())


def _pool() -> Any:
    return flask.current_app.extensions[EXTENSION]["pool"]


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    nav = components.navbar(lang, "/floods", auth.current_user(), auth.csrf_token())
    if not allowed("/floods"):
        return html.Div([nav, html.Div(html.P(tw("auth.forbidden", lang)), className="container p-5")])
    snap = live().current
    gauges = [{"label": s.name, "value": sid} for sid, s in sorted(snap.live.sources.items()) if s.kind == "water"]
    first = v.most_alarming_gauge(snap.part("warnings.floods"), snap.live.sources) or (gauges[0]["value"] if gauges else None)
    banner, banner_cls = v.simulation_banner(snap.part("warnings.simulation"), lang)
    fmap = v.warning_map(PAGE, wid.FLOOD_MAP, LAYERS, lang, bounds=snap.live.boundaries.leaflet_bounds, height="64vh")
    editor = None
    if allowed(wid.FLOOD_SAVED):
        fmap.children.append(dl.FeatureGroup([dl.EditControl(
            id=wid.FLOOD_DRAW, position="topright",
            draw={"polyline": False, "marker": False, "circlemarker": False, "circle": False,
                  "polygon": True, "rectangle": True}, edit={"edit": False, "remove": True})]))  # fmt: skip
        editor = html.Div([
            html.H2(tw("w.fl.import", lang), className="h6 mt-3"),
            html.P(tw("w.fl.draw", lang), className="small text-muted mb-1"),
            html.P(tw("w.fl.import.hint", lang), className="small text-muted"),
            dcc.Upload(html.Div("GeoJSON"), id=wid.FLOOD_UPLOAD, className="ioc-upload", accept=".geojson,.json"),
            dbc.Input(id=wid.FLOOD_NAME, placeholder=tw("w.fl.name", lang), className="mb-1"),
            dbc.Input(id=wid.FLOOD_DEPTH, type="number", min=0, max=1000, placeholder=tw("w.fl.depth", lang),
                      className="mb-1"),
            dbc.Input(id=wid.FLOOD_TIME, placeholder=tw("w.fl.time", lang), className="mb-1"),
            dbc.Checkbox(id=wid.FLOOD_PRONE, label=tw("w.fl.prone", lang), value=False),
            dbc.Button(tw("w.fl.save", lang), id=wid.FLOOD_SAVE, color="primary", size="sm", className="mt-1"),
            html.Div(id=wid.FLOOD_SAVED, className="small mt-1", role="status"),
        ], className="ioc-flood-editor")  # fmt: skip
    return html.Div([
        nav,
        dbc.Container([
            html.H1(tw("w.fl.title", lang), className="h4 mt-3"),
            html.P(tw("w.fl.sub", lang), className="text-muted small"),
            html.Div(banner, id=wid.FLOOD_BANNER, className=banner_cls, role="note"),
            dbc.Row([
                dbc.Col([fmap, v.legends(snap, lang, LAYERS, PARTS),
                         html.Div(v.simulation_list(snap.part("warnings.simulation"), lang), id=wid.SIM_LIST)], lg=7),
                dbc.Col([
                    html.H2(tw("w.fl.gauge", lang), className="h6"),
                    dcc.Dropdown(labels=dropdown_labels(lang), id=wid.FLOOD_GAUGE, options=gauges, value=first,
                                 clearable=False),
                    dcc.Graph(id=wid.FLOOD_GAUGE_GRAPH, config={"displayModeBar": False}),
                    html.Div(body(snap, lang), id=wid.FLOOD_BODY),
                    editor,
                ], lg=5),
            ], className="g-3"),
        ], fluid=True, className="ioc-wpage ioc-floods"),
        dcc.Interval(id=wid.FLOOD_TICK, interval=int(web_settings().refresh_seconds * 1000)),
        dcc.Store(id=wid.FLOOD_SEEN, data={}),
        dcc.Download(id=wid.SIM_DOWNLOAD),
    ])  # fmt: skip


@lru_cache(maxsize=16)
def body(snap: Snapshot, lang: Lang) -> list[Any]:
    return v.flood_body(snap.part("warnings.floods"), snap.part("warnings.alerts"), snap.live.sources, lang)


@callback(
    Output(wid.layer(PAGE, ALL), "url"),  # type: ignore[arg-type]
    Output(wid.layer(PAGE, ALL), "hideout"),  # type: ignore[arg-type]
    Output(wid.FLOOD_BODY, "children"),
    Output(wid.FLOOD_BANNER, "children"),
    Output(wid.FLOOD_BANNER, "className"),
    Output(wid.SIM_LIST, "children"),
    Output(wid.FLOOD_SEEN, "data"),
    Input(wid.FLOOD_TICK, "n_intervals"),
    State(wid.FLOOD_SEEN, "data"),
)
def refresh(_n: int | None, seen: dict[str, Any] | None) -> tuple[Any, ...]:
    if not allowed(wid.FLOOD_MAP):
        raise PreventUpdate
    lang = auth.current_lang()
    snap = live().current
    key = [snap.version, lang]
    seen = seen or {}
    if seen.get("key") == key:
        raise PreventUpdate
    ids = [o["id"]["layer"] for o in ctx.outputs_list[0]]
    urls, hideouts, held = v.layer_outputs(v.page_layers(snap, lang, LAYERS, PARTS), ids, seen.get("layers"))
    sims = snap.part("warnings.simulation")
    banner, cls = v.simulation_banner(sims, lang)
    return urls, hideouts, body(snap, lang), banner, cls, v.simulation_list(sims, lang), {"key": key, "layers": held}


@callback(Output(wid.FLOOD_GAUGE_GRAPH, "figure"), Input(wid.FLOOD_GAUGE, "value"), Input(wid.FLOOD_TICK, "n_intervals"))
def gauge(source_id: str | None, _n: int | None) -> Any:
    if not allowed(wid.FLOOD_GAUGE_GRAPH):
        raise PreventUpdate
    snap = live().current
    return v.gauge_figure(snap.part("warnings.floods"), source_id, snap.live.sources, auth.current_lang())


@callback(
    Output(wid.SIM_DOWNLOAD, "data"),
    Input(wid.sim_export(ALL), "n_clicks"),  # type: ignore[arg-type]
    prevent_initial_call=True,
)
def export(_clicks: list[int | None]) -> Any:
    """A simulation layer as GeoJSON, every feature and the file labelled MÔ PHỎNG."""
    if not allowed(wid.SIM_DOWNLOAD) or not isinstance(ctx.triggered_id, dict) or not any(_clicks or []):
        raise PreventUpdate
    layer_id = ctx.triggered_id["layer"]
    sim = next((s for s in live().current.part("warnings.simulation") if s.layer_id == layer_id), None)
    if sim is None:
        raise PreventUpdate
    doc = overlays.labelled_export(overlays.SimulationLayer(uuid.UUID(sim.layer_id), sim.name, sim.scenario_time,
                                                            sim.author, sim.feature_count, sim.imported_at, sim.features))  # fmt: skip
    safe = "".join(c if c.isalnum() else "-" for c in sim.name)[:60]
    return {"content": json.dumps(doc, ensure_ascii=False), "filename": f"MO-PHONG-{safe}.geojson",
            "type": "application/geo+json"}  # fmt: skip


@callback(
    Output(wid.FLOOD_SAVED, "children"),
    Input(wid.FLOOD_SAVE, "n_clicks"),
    State(wid.FLOOD_DRAW, "geojson"),
    State(wid.FLOOD_UPLOAD, "contents"),
    State(wid.FLOOD_UPLOAD, "filename"),
    State(wid.FLOOD_NAME, "value"),
    State(wid.FLOOD_DEPTH, "value"),
    State(wid.FLOOD_TIME, "value"),
    State(wid.FLOOD_PRONE, "value"),
    prevent_initial_call=True,
)
def save(_n: int | None, drawn: dict[str, Any] | None, upload: str | None, filename: str | None, name: str | None,
         depth: float | None, when: str | None, prone: bool | None) -> str:  # fmt: skip
    """Validate and store the uploaded or drawn areas (operators), audited."""
    lang = auth.current_lang()
    if not allowed(wid.FLOOD_SAVED):
        return tw("w.fl.operators", lang)
    if upload:
        try:
            doc = json.loads(base64.b64decode(upload.split(",", 1)[1]).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            return f"{filename}: {exc}"
        origin, source = "imported", filename or "upload.geojson"
    elif drawn and drawn.get("features"):
        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": f["geometry"], "properties": {}} for f in drawn["features"]]}  # fmt: skip
        origin, source = "drawn", "ban-do"
    else:
        return tw("w.fl.draw", lang)
    try:
        at = datetime.fromisoformat(when) if when else None
    except ValueError as exc:
        return str(exc)
    user = auth.current_user() or "?"
    try:
        with _pool().connection() as conn:
            areas = overlays.add_flood_areas(conn, doc, author=user, source=source, origin=origin, observed_at=at,
                                             depth_cm=float(depth) if depth is not None else None, prone=bool(prone),
                                             name=name or None)  # fmt: skip
            audit(conn, user, "flood_area.create", source, {"areas": [str(a.area_id) for a in areas], "origin": origin})
    except overlays.OverlayError as exc:
        return str(exc)
    return tw("w.fl.saved", lang, n=len(areas))
