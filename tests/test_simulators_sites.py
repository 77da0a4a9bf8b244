"""The sensor-site registry: API, ids, geometry, and placement on the real city (read at run time)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import shapely.geometry

from geodata.sites import SITES_DIR, SiteRegistryError, known_source_ids, load_sites
from ioc.settings import Settings
from ioc.sources import SourceKind
from simulators import build_sites

SHARED = Settings().shared_data_dir
CITY_UNION = SHARED / "boundaries" / "haiphong_2025_city_union.geojson"
ROADS = SHARED / "roads" / "haiphong_major_roads_legocity_subset.geojson"


def test_registry_sizes_and_id_shape() -> None:
    ids = known_source_ids()
    assert 60 <= len(ids[SourceKind.CAMERA]) <= 120
    assert 40 <= len(ids[SourceKind.TRAFFIC]) <= 80
    assert (
        10 <= len(ids[SourceKind.AIR]) <= 25
    )  # 13 in old Hải Phòng and Hải Dương city, + the former Hải Dương
    assert {"hps-app", "hotline-1022", "web-portal", "zalo-oa", "email"} <= ids[SourceKind.FEEDBACK]
    all_ids = [i for kind in ids.values() for i in kind]
    assert len(all_ids) == len(set(all_ids)), "source ids must be unique across kinds"
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", i) for i in all_ids)
    assert {"seg-caubinh-n", "seg-caubinh-s", "air-dinhvu", "cam-lachtray-01"} <= set(all_ids)


def test_segments_are_linestrings_with_road_properties() -> None:
    segments = load_sites(SourceKind.TRAFFIC)
    for s in segments:
        assert s.geometry.geom_type == "LineString"
        assert s.properties["free_flow_kmh"] > 0 and s.properties["lanes"] >= 1
        assert isinstance(s.properties["bridge"], bool) and s.properties["road"]
    roads = {s.properties["road"] for s in segments}
    for road in (
        "Quốc lộ 5",
        "Quốc lộ 10",
        "Lạch Tray",
        "Lê Hồng Phong",
        "Tôn Đức Thắng",
        "Cầu Bính",
        "Cầu Rào",
        "Phạm Văn Đồng",
        "Tân Vũ – Lạch Huyện",
    ):
        assert road in roads
    assert sum(s.properties["bridge"] for s in segments) >= 10
    cameras = load_sites(SourceKind.CAMERA)
    assert all(c.geometry.geom_type == "Point" and (c.lon, c.lat) == c.geometry.coords[0] for c in cameras)
    assert sum(c.properties["type"] == "service_counter" for c in cameras) >= 10


def test_generator_is_deterministic_and_matches_committed_files(tmp_path: Path) -> None:
    build_sites.build(tmp_path)
    for name in (
        "cameras.geojson",
        "traffic_segments.geojson",
        "air_stations.geojson",
        "channels.json",
        "water_gauges.geojson",
        "rain_gauges.geojson",
    ):
        assert (tmp_path / name).read_bytes() == (SITES_DIR / name).read_bytes(), (
            f"{name} is stale: rebuild it"
        )


def test_bad_registry_names_the_problem(tmp_path: Path) -> None:
    build_sites.build(tmp_path)
    data = json.loads((tmp_path / "air_stations.geojson").read_text())
    data["features"].append(data["features"][0])
    (tmp_path / "air_stations.geojson").write_text(json.dumps(data))
    with pytest.raises(SiteRegistryError, match="duplicate source_id 'air-dinhvu'"):
        load_sites(SourceKind.AIR, tmp_path)
    with pytest.raises(SiteRegistryError, match="missing"):
        load_sites(SourceKind.AIR, tmp_path / "nowhere")


def test_sites_lie_in_the_real_city() -> None:
    if not CITY_UNION.exists():
        pytest.skip(f"shared data absent: {CITY_UNION}")
    city = shapely.geometry.shape(json.loads(CITY_UNION.read_text())["features"][0]["geometry"])
    for site in load_sites(SourceKind.CAMERA) + load_sites(SourceKind.AIR) + load_sites(SourceKind.TRAFFIC):
        for lon, lat in site.geometry.coords:
            point = shapely.geometry.Point(lon, lat)
            # The 2019 boundary predates reclaimed port land; segments follow the real roads now,
            # so the 5.4 km sea bridge to Cát Hải and river bridges cross water.
            reclaimed = site.properties.get("zone") == "port"
            tolerance_deg = 0.03 if site.properties.get("bridge") else 0.015 if reclaimed else 0.0
            assert city.distance(point) <= tolerance_deg, (
                f"{site.source_id} ({lon}, {lat}) is outside the city"
            )


def test_national_road_segments_follow_the_real_roads() -> None:
    if not ROADS.exists():
        pytest.skip(f"shared data absent: {ROADS}")
    features = json.loads(ROADS.read_text())["features"]
    real = {
        ref: shapely.union_all(
            [shapely.geometry.shape(f["geometry"]) for f in features if f["properties"]["ten"] == name]
        )
        for ref, name in (("QL5", "Quốc lộ 5"), ("QL10", "Quốc lộ 10"))
    }
    for site in load_sites(SourceKind.TRAFFIC):
        ref = {"Quốc lộ 5": "QL5", "Quốc lộ 10": "QL10"}.get(site.properties["road"])
        if ref is None or site.properties["bridge"]:
            continue
        middle = site.geometry.interpolate(0.5, normalized=True)
        # ~2 km: our lines are hand-placed two-vertex pieces, the reference is a coarse national layer.
        assert real[ref].distance(middle) < 0.02, f"{site.source_id} is far from the real {ref}"
