"""The base map as the browser gets it: per-band JSON from the route, and the band switch in JS."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import flask
import pytest

from geodata.bands import BANDS
from geodata.basemap import LAYERS
from ioc.web import basemap

JS = Path(basemap.__file__).resolve().parent / "assets" / "ioc_basemap.js"


@pytest.fixture(scope="module")
def client() -> flask.testing.FlaskClient:
    server = flask.Flask("basemap-test")
    basemap.register(server)
    return server.test_client()


def test_every_band_and_layer_is_served_and_finer_bands_weigh_more(client: flask.testing.FlaskClient) -> None:
    sizes: dict[str, int] = {}
    for band in BANDS:
        total = 0
        for layer in LAYERS:
            r = client.get(basemap.url(band.name, layer))
            assert r.status_code == 200 and r.mimetype == "application/json"
            doc = json.loads(r.data)
            assert doc["type"] == "FeatureCollection" and doc["features"], (band.name, layer)
            total += len(r.data)
        sizes[band.name] = total
    assert sizes["city"] < sizes["district"] < sizes["street"]
    assert client.get(basemap.url("city", "roads")).headers["Cache-Control"].startswith("public")


def test_revalidation_and_unknown_names(client: flask.testing.FlaskClient) -> None:
    first = client.get(basemap.url("city", "sea"))
    again = client.get(basemap.url("city", "sea"), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/basemap/city/secret.json").status_code == 404
    assert client.get("/basemap/huge/roads.json").status_code == 404


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is needed to run the map's JS")
@pytest.mark.parametrize(("zoom", "band"), [(9.0, "city"), (10.75, "city"), (11.0, "district"), (12.9, "district"),
                                            (13.0, "street"), (18.0, "street"), (30.0, "street")])
def test_band_switch_in_the_browser_code_follows_the_zoom_bands(zoom: float, band: str) -> None:
    edges = [[b.name, b.min_zoom, b.max_zoom] for b in BANDS]
    script = (JS.read_text() + "\nconsole.log(JSON.stringify(window.ioc.base.bandSwitch("
              f"{zoom}, {{theme: 'dark'}}, {json.dumps(edges)}, {json.dumps(list(LAYERS))})));")
    out = subprocess.run(["node", "-e", "var window = {};\n" + script], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    urls, hideouts = result[: len(LAYERS)], result[len(LAYERS):]
    assert urls == [f"/basemap/{band}/{n}.json" for n in LAYERS]
    assert [h["layer"] for h in hideouts] == list(LAYERS)
    assert all(h["theme"] == "dark" and h["zoom"] == int(zoom) for h in hideouts)
