"""The offline vector base map on every map: sea, rivers, roads, unit boundaries and place names.

Served as static, content-addressed JSON per zoom band (``/basemap/<band>/<layer>.json``, built once
per process from the bundled assets in ``geodata/data/``), drawn beneath the live layers in their
own Leaflet pane, styled light (map, tablet) or dark (wall) by ``assets/ioc_basemap.js``, and
switched to a finer band by a clientside callback as the viewer zooms in. No tile server, no network.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

import dash_leaflet as dl
import flask
from dash import Input, Output, State, clientside_callback

from geodata.bands import BANDS, dumps
from geodata.basemap import ATTRIBUTION_HTML, LAYERS, basemap_layer, landmarks_geojson
from geodata.boundaries import boundaries_geojson, boundary_set_for, load_boundary_sets
from ioc.web import ids

URL_PREFIX = "/basemap/"
Theme = Literal["light", "dark"]
PANE = "ioc-base"  # below the overlay pane (400), above Leaflet's tile pane (200)


@dataclass(frozen=True)
class BaseLayer:
    body: bytes
    etag: str


@lru_cache(maxsize=32)
def base_layer(band: str, layer: str) -> BaseLayer:
    """One base layer of one band as UTF-8 JSON (KeyError/ValueError for unknown names)."""
    if layer not in LAYERS:
        raise KeyError(layer)
    if layer == "boundaries":
        doc = boundaries_geojson(boundary_set_for(date.today(), load_boundary_sets()), band)
    elif layer == "landmarks":
        doc = landmarks_geojson(band)
    else:
        doc = basemap_layer(layer, band)
    body = dumps(doc)
    return BaseLayer(body, hashlib.blake2b(body, digest_size=12).hexdigest())


def url(band: str, layer: str) -> str:
    return f"{URL_PREFIX}{band}/{layer}.json"


def register(server: flask.Flask) -> None:
    """The ``/basemap/<band>/<layer>.json`` route (public data: cached by browsers, revalidated by ETag)."""

    @server.get(URL_PREFIX + "<band>/<layer>.json")
    def basemap_blob(band: str, layer: str) -> flask.Response:
        try:
            blob = base_layer(band, layer)
        except (KeyError, ValueError):
            return flask.Response('{"error": "unknown base-map band or layer"}', status=404,
                                  mimetype="application/json")
        if flask.request.if_none_match.contains(blob.etag):
            return flask.Response(status=304)
        response = flask.Response(blob.body, mimetype="application/json")
        response.set_etag(blob.etag)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def layers(page: ids.Page, theme: Theme, band: str = "city") -> list[object]:
    """The base layers of a map, bottom first, in their own pane; drawn but never interactive."""
    out: list[object] = []
    for name in LAYERS:
        options: dict[str, object] = {
            "id": ids.base_layer(page, name),
            "url": url(band, name),
            "style": {"variable": "ioc.base.style"},
            "hideout": {"theme": theme, "layer": name, "zoom": 11},
            "interactive": False,
            "pane": PANE,
        }
        if name == "landmarks":
            options["pointToLayer"] = {"variable": "ioc.base.label"}
            options["filter"] = {"variable": "ioc.base.filter"}  # names appear as the viewer zooms in
        out.append(dl.GeoJSON(**options))
    # The credit line every map that draws these data must show (our constant, HTML with a link).
    credit = dl.AttributionControl(prefix=ATTRIBUTION_HTML, position="bottomright")
    return [dl.Pane(out, name=PANE, style={"zIndex": 250}), credit]


# Zoom band edges for the browser, from the one table in geodata.bands.
BAND_EDGES = [[b.name, b.min_zoom, b.max_zoom] for b in BANDS]


def register_band_switch(page: ids.Page, map_id: str) -> None:
    """A clientside callback: on zoom, point each base layer at the band for that zoom (and tell
    the label layer the zoom, which decides what it names)."""
    clientside_callback(
        "function (zoom, hideout) { return window.ioc.base.bandSwitch(zoom, hideout, "
        + json.dumps(BAND_EDGES) + ", " + json.dumps(list(LAYERS)) + "); }",
        [Output(ids.base_layer(page, n), "url") for n in LAYERS]
        + [Output(ids.base_layer(page, n), "hideout") for n in LAYERS],
        Input(map_id, "zoom"),
        State(ids.base_layer(page, LAYERS[0]), "hideout"),
    )
