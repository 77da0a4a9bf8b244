"""Zoom bands: coverage simplification of the real units, bytes per band, city bounds."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
import shapely
from shapely.geometry import box, shape

from geodata import attribution
from geodata.bands import BANDS, band_for_zoom, get_band, payload_bytes, simplify_coverage, vertex_count
from geodata.boundaries import (
    DEFAULT_SETS_DIR,
    CityBounds,
    boundaries_geojson,
    boundary_set_for,
    city_bounds,
    load_boundary_sets,
)

KM2_PER_DEG2 = 111.32 * 104.0  # at 21° N
SOURCE_GAP_KM2 = 0.056  # the one internal gap of the 2025 source file
MAX_DEVIATION_M = {"city": 400, "district": 60, "street": 20}  # ≈ 2-3 px at each band's deepest zoom


@pytest.fixture(scope="module")
def post():
    return boundary_set_for(date(2025, 8, 1), load_boundary_sets(DEFAULT_SETS_DIR))


@pytest.fixture(scope="module")
def pre():
    return boundary_set_for(date(2024, 5, 1), load_boundary_sets(DEFAULT_SETS_DIR))


@pytest.fixture(scope="module")
def docs(post):
    return {b.name: boundaries_geojson(post, b) for b in BANDS}


@pytest.mark.parametrize(
    ("zoom", "name"),
    [
        (-2, "city"),
        (9, "city"),
        (10.8, "city"),
        (11, "district"),
        (12.99, "district"),
        (13, "street"),
        (25, "street"),
    ],
)
def test_band_for_zoom(zoom, name):
    assert band_for_zoom(zoom).name == name


def test_bad_band_is_named():
    with pytest.raises(ValueError, match="unknown zoom band 'suburb'; bands: city, district, street"):
        get_band("suburb")
    with pytest.raises(ValueError, match="zoom must be a finite number"):
        band_for_zoom(math.nan)


def test_bands_get_finer_with_zoom():
    for coarse, fine in zip(BANDS, BANDS[1:], strict=False):
        assert coarse.max_zoom + 1 == fine.min_zoom
        assert coarse.area_tolerance > fine.area_tolerance and coarse.line_tolerance > fine.line_tolerance
        assert coarse.decimals <= fine.decimals


@pytest.mark.parametrize("band", [b.name for b in BANDS])
def test_band_structure_and_validity(post, docs, band):
    doc = docs[band]
    assert doc["type"] == "FeatureCollection" and doc["band"] == band
    assert doc["boundary_set"] == post.id and doc["attribution"] == attribution.COMMUNES_2025
    assert [f["properties"]["code"] for f in doc["features"]] == [u.code for u in post.leaves()]
    decimals = get_band(band).decimals
    full = {u.code: u.geometry for u in post.leaves()}
    for i, f in enumerate(doc["features"]):
        g = shape(f["geometry"])
        assert g.is_valid and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon"), f["properties"][
            "code"
        ]
        xy = shapely.get_coordinates(g)
        assert np.allclose(xy, np.round(xy, decimals), atol=1e-12)
        if i % 3 == 0 and (band == "city" or f["properties"]["kind"] != "Đặc khu"):  # Hausdorff is slow
            deviation_m = shapely.hausdorff_distance(g, full[f["properties"]["code"]]) * 104_000
            assert deviation_m < MAX_DEVIATION_M[band], (f["properties"]["full_name"], round(deviation_m))


@pytest.mark.parametrize("band", [b.name for b in BANDS])
def test_neighbours_keep_shared_borders(docs, band):
    """No overlaps, every shared edge identical, and no hole beyond the source's own gap."""
    geoms = np.array([shape(f["geometry"]) for f in docs[band]["features"]])
    assert shapely.coverage_is_valid(geoms)
    union = shapely.union_all(geoms)
    holes = [shapely.Polygon(r).area * KM2_PER_DEG2 for p in shapely.get_parts(union) for r in p.interiors]
    assert sum(holes) < SOURCE_GAP_KM2 * 1.1 and len(holes) <= 1, holes


def test_bytes_and_vertices_shrink_with_coarser_bands(docs):
    sizes = [payload_bytes(docs[b.name]) for b in BANDS]
    vertices = [vertex_count(docs[b.name]) for b in BANDS]
    assert sizes[0][0] < sizes[1][0] < sizes[2][0] and sizes[0][1] < sizes[1][1] < sizes[2][1]
    assert vertices[0] < vertices[1] < vertices[2] < 88_310  # the source has 88 310
    assert sizes[0][1] < 100_000  # the city view's boundaries, gzip


def test_band_results_are_cached_and_fresh(post):
    first = boundaries_geojson(post, "city")
    first["features"][0]["properties"]["name"] = "changed by a caller"
    again = boundaries_geojson(post, "city")
    assert again["features"][0]["properties"]["name"] == post.leaves()[0].name


def test_pre2025_bands(pre):
    doc = boundaries_geojson(pre, "district")
    assert len(doc["features"]) == 27 and doc["approximate"] is True
    assert {f["properties"]["level"] for f in doc["features"]} == {"district"}
    provinces = boundaries_geojson(pre, "city", level="province")
    assert sorted(f["properties"]["full_name"] for f in provinces["features"]) == [
        "Thành phố Hải Phòng",
        "Tỉnh Hải Dương",
    ]


def test_simplify_coverage_repairs_an_overlap_for_display():
    a, b = box(0, 0, 1, 1), box(0.999, 0, 2, 1)  # a 0.001-wide overlap, as real files have
    out = simplify_coverage([a, b], 0.01)
    assert shapely.coverage_is_valid(np.array(out))
    assert out[0].intersection(out[1]).area == pytest.approx(0, abs=1e-12)
    assert shapely.union_all(out).area == pytest.approx(2.0, rel=1e-6)


def test_simplify_coverage_simplifies_a_shared_wiggly_border_once():
    xs = np.linspace(0, 1, 201)
    wiggle = [(x, 0.5 + 0.002 * math.sin(40 * x)) for x in xs]
    south = shapely.Polygon([(0, 0), (1, 0), *wiggle[::-1]])
    north = shapely.Polygon([(0, 1), *wiggle, (1, 1)])
    s, n = simplify_coverage([south, north], 0.01)
    assert shapely.get_num_coordinates(s) < 50 and shapely.get_num_coordinates(n) < 50
    assert s.intersection(n).geom_type in ("LineString", "MultiLineString")  # touch, never overlap
    assert shapely.union_all([s, n]).equals(box(0, 0, 1, 1).union(shapely.union_all([s, n])))
    assert shapely.union_all([s, n]).area == pytest.approx(1.0, rel=1e-9)  # no gap opened


def test_city_bounds(post):
    bounds = city_bounds()
    w, s, e, n = bounds.main
    assert w < 106.15 and e > 107.1 and s < 20.65 and n > 21.2  # Bình Giang … Cát Bà, Đồ Sơn … Chí Linh
    assert box(*bounds.main).contains(shapely.Point(107.048, 20.727))  # Cát Bà town
    assert bounds.offshore is not None
    blv = box(*bounds.offshore)
    assert blv.intersects(post.unit("11948").geometry) and not blv.intersects(box(*bounds.main))
    assert blv.area < 0.001  # just the island
    assert CityBounds.leaflet(bounds.main) == [[s, w], [n, e]]
    assert city_bounds(post) == bounds
