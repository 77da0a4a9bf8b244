"""The site registry on the real city: segments on the real roads, admin units from the real 2025
polygons, the former Hải Dương covered, water-level and rain gauges (issue 12, issue 13)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest
import shapely
from shapely.geometry import Point, shape

from geodata.admin import AdminAssigner
from geodata.basemap import basemap_layer
from geodata.boundaries import DEFAULT_SETS_DIR, boundary_set_for, load_boundary_sets
from geodata.sites import GAUGE_FILES, load_gauges, load_sites, sites_by_id
from ioc.settings import Settings
from ioc.sources import SourceKind
from simulators import build_sites

M_PER_DEG = 107_000.0  # rough, for distances of a few metres
SHARED_ROADS = Settings().shared_data_dir / "basemap" / "roads.geojson"
# Every id of the first registry (other code, scenarios and tests refer to them).
LEGACY_IDS = """
air-catba air-chuave air-dinhvu air-doson air-haiduong air-kienan air-lachhuyen air-lechan air-namcaukien
air-quantoan air-trangdue air-trungtam air-vsip cam-anduong-01 cam-anlao-01 cam-catbi-01 cam-catbi-02
cam-caubinh-01 cam-caubinh-02 cam-caudat-01 cam-cauhvt-01 cam-cauhvt-02 cam-cauniem-01 cam-cauniem-02
cam-caurao-01 cam-caurao-02 cam-caurao2-01 cam-chohang-01 cam-chuave-01 cam-chuave-02 cam-dienbienphu-01
cam-dinhvu-01 cam-dinhvu-02 cam-doson-01 cam-duongkinh-01 cam-gahp-01 cam-haiduong-01 cam-haiduong-02
cam-hoangdieu-01 cam-hosen-01 cam-kienan-01 cam-kienan-02 cam-kienthuy-01 cam-lachhuyen-01 cam-lachtray-01
cam-lachtray-02 cam-lachtray-03 cam-lehongphong-01 cam-motcua-anbien cam-motcua-anduong cam-motcua-anlao
cam-motcua-catba cam-motcua-donghai cam-motcua-doson cam-motcua-duongkinh cam-motcua-giavien cam-motcua-haian
cam-motcua-haiduong cam-motcua-hongbang cam-motcua-kienan cam-motcua-lechan cam-motcua-ngoquyen
cam-motcua-phulien cam-motcua-thanhpho cam-motcua-thuynguyen cam-motcua-tienlang cam-motcua-vinhbao
cam-ngasau-01 cam-nhahatlon-01 cam-nhahatlon-02 cam-nhahatlon-03 cam-nuideo-01 cam-phamvandong-01 cam-ql10-01
cam-ql10-02 cam-quantoan-01 cam-sodau-01 cam-tambac-01 cam-tanvu-01 cam-tanvu-02 cam-thanhdoi-01
cam-thuongly-01 cam-tienlang-01 cam-tohieu-01 cam-tuongdailechan-01 cam-vinhbao-01 seg-caubinh-n seg-caubinh-s
seg-cauhvt-n seg-cauhvt-s seg-cauniem-n seg-cauniem-s seg-caurao-n seg-caurao-s seg-danang-01e seg-danang-01w
seg-danang-02e seg-danang-02w seg-lachtray-01n seg-lachtray-01s seg-lachtray-02n seg-lachtray-02s
seg-lachtray-03n seg-lachtray-03s seg-lehongphong-01e seg-lehongphong-01w seg-lehongphong-02e
seg-lehongphong-02w seg-lehongphong-03n seg-lehongphong-03s seg-nguyenvanlinh-01e seg-nguyenvanlinh-01w
seg-nguyenvanlinh-02e seg-nguyenvanlinh-02w seg-phamvandong-01n seg-phamvandong-01s seg-phamvandong-02n
seg-phamvandong-02s seg-phamvandong-03n seg-phamvandong-03s seg-phamvandong-04n seg-phamvandong-04s
seg-ql10-01n seg-ql10-01s seg-ql10-02n seg-ql10-02s seg-ql5-01e seg-ql5-01w seg-ql5-02e seg-ql5-02w
seg-ql5-03e seg-ql5-03w seg-tanvulachhuyen-01e seg-tanvulachhuyen-01w seg-tanvulachhuyen-02e
seg-tanvulachhuyen-02w seg-tanvulachhuyen-03e seg-tanvulachhuyen-03w seg-tonducthang-01n seg-tonducthang-01s
seg-tonducthang-02n seg-tonducthang-02s
""".split()


@pytest.fixture(scope="module")
def post():
    return boundary_set_for(date(2025, 8, 1), load_boundary_sets(DEFAULT_SETS_DIR))


@pytest.fixture(scope="module")
def pre():
    return boundary_set_for(date(2025, 6, 30), load_boundary_sets(DEFAULT_SETS_DIR))


@pytest.fixture(scope="module")
def roads():
    return basemap_layer("roads", "street")["features"]


def _claimed(features, claims):
    def hit(p):
        return any(p["ref"] == c[4:] if c.startswith("ref:") else c in (p["name"] or "") for c in claims)

    return shapely.union_all([shape(f["geometry"]) for f in features if hit(f["properties"])])


PLACED = (SourceKind.CAMERA, SourceKind.TRAFFIC, SourceKind.AIR)  # sites with a place of their own


def _sites():
    """Every site that stands somewhere: the placed kinds and the gauges (channels, police units, revenue
    lines and the SOC have no place of their own and sit at the IOC's seat)."""
    return [s for s in load_sites() if s.kind in PLACED] + load_gauges()


def test_legacy_ids_are_kept():
    ids = {s.source_id for s in load_sites()}
    assert set(LEGACY_IDS) <= ids, sorted(set(LEGACY_IDS) - ids)


def test_segments_lie_on_the_road_they_claim(roads):
    by_claim: dict[tuple, shapely.Geometry] = {}
    for seg in load_sites(SourceKind.TRAFFIC):
        claims = tuple(seg.properties["osm"])
        line = by_claim.setdefault(claims, _claimed(roads, claims))
        vertices = shapely.points(shapely.get_coordinates(seg.geometry))
        everywhere = (
            shapely.union_all([shape(f["geometry"]) for f in roads])
            if "all" not in by_claim
            else by_claim["all"]
        )
        by_claim["all"] = everywhere
        assert max(shapely.distance(everywhere, vertices)) * M_PER_DEG < 1.0, seg.source_id  # on a road line
        on_claim = seg.geometry.intersection(line.buffer(5 / M_PER_DEG)).length / seg.geometry.length
        assert on_claim >= 0.8, (seg.source_id, round(on_claim, 2))
        assert seg.properties["length_m"] == pytest.approx(seg.geometry.length * 104_000, rel=0.1)


def test_segments_lie_on_the_full_resolution_osm_roads():
    if not SHARED_ROADS.is_file():
        pytest.skip(f"shared data absent: {SHARED_ROADS}")
    osm = shapely.union_all([shape(f["geometry"]) for f in json.loads(SHARED_ROADS.read_text())["features"]])
    for seg in load_sites(SourceKind.TRAFFIC):
        vertices = shapely.points(shapely.get_coordinates(seg.geometry))
        assert max(shapely.distance(osm, vertices)) * M_PER_DEG < 10.0, seg.source_id  # 3 m band + rounding


def test_both_directions_share_one_line_and_bridges_have_cameras():
    segs = {s.source_id: s for s in load_sites(SourceKind.TRAFFIC)}
    for sid, s in segs.items():
        twin = next(t for t in segs.values() if t.source_id != sid and t.properties["road_slug"] == s.properties["road_slug"]
                    and t.properties["piece"] == s.properties["piece"])  # fmt: skip
        assert list(s.geometry.coords) == list(twin.geometry.coords)[::-1]
    cams = [c for c in load_sites(SourceKind.CAMERA) if c.properties["type"] == "bridge"]
    ends = {
        (round(x, 6), round(y, 6))
        for s in segs.values()
        if s.properties["bridge"]
        for x, y in s.geometry.coords[:: len(s.geometry.coords) - 1]
    }
    assert len(cams) == len(ends) >= 14
    for c in cams:
        assert (round(c.lon, 6), round(c.lat, 6)) in ends, c.source_id
    names = {c.source_id: c.name for c in cams}
    assert names["cam-caubinh-01"] == "Cầu Bính – đầu cầu phía Nam"  # named from the real geometry
    assert names["cam-phuluong-01"].startswith("Cầu Phú Lương (QL5) – đầu cầu phía Tây")


def test_admin_units_come_from_the_real_2025_polygons(post, pre):
    new = AdminAssigner(post)
    for s in _sites():
        p = s.properties
        code = new.assign(s.lon, s.lat)
        if code is None:  # only the middle of a sea bridge may lie off every unit
            assert p.get("bridge") and 0 < p["admin_unit_distance_m"] < 5000, s.source_id
        else:
            assert p["admin_unit"] == code and "admin_unit_distance_m" not in p, s.source_id
        unit = post.unit(p["admin_unit"])
        assert p["admin_unit_name"] == unit.full_name, s.source_id
        assert p["district_code"] in unit.properties["old_district_codes"], s.source_id
        assert pre.unit(p["district_code"]).name == p["district"], s.source_id
        assert p["former_province"] == pre.unit(pre.unit(p["district_code"]).parent_code).name


def test_the_former_hai_duong_is_covered():
    sites = _sites()
    count = Counter(str(s.kind) for s in sites if s.properties["former_province"] == "Hải Dương")
    assert count[str(SourceKind.CAMERA)] >= 15 and count[str(SourceKind.TRAFFIC)] >= 12, count
    assert count[str(SourceKind.AIR)] >= 6 and count["water_level"] >= 3 and count["rain"] >= 4, count
    hd = [s for s in sites if s.properties["former_province"] == "Hải Dương"]
    districts = {s.properties["district"] for s in hd}
    assert {"Hải Dương", "Chí Linh", "Kinh Môn", "Nam Sách", "Cẩm Giàng", "Kim Thành"} <= districts, districts
    hd_roads = {s.properties["road"] for s in hd if s.kind is SourceKind.TRAFFIC}
    assert {"Quốc lộ 5", "Quốc lộ 37", "Quốc lộ 38", "Quốc lộ 17B"} <= hd_roads
    air = {s.source_id for s in hd if s.kind is SourceKind.AIR}
    assert {"air-haiduong", "air-chilinh", "air-kinhmon", "air-phucdien", "air-daian", "air-namsach"} <= air
    zones = {s.properties["zone"] for s in hd if s.kind is SourceKind.AIR}
    assert "industrial" in zones


def test_water_gauges_sit_on_their_rivers(post):
    gauges = {g.source_id: g for g in load_gauges("water_level")}
    rivers = {g.properties["river"] for g in gauges.values()}
    assert {"Sông Cấm", "Sông Lạch Tray", "Sông Văn Úc", "Sông Bạch Đằng"} <= rivers
    water = basemap_layer("water", "street")["features"]
    for g in gauges.values():
        p = g.properties
        levels = p["alarm_levels_m"]
        assert list(levels) == ["BD1", "BD2", "BD3"] and levels["BD1"] < levels["BD2"] < levels["BD3"], (
            g.source_id
        )
        assert p["simulated_levels"] is True and g.name, g.source_id
        if g.source_id == "wl-hondau":
            continue
        line = shapely.union_all(
            [shape(f["geometry"]) for f in water if f["properties"]["name"] == p["river"]]
        )
        assert line.distance(Point(g.lon, g.lat)) * M_PER_DEG < 1.0, g.source_id
    hon_dau = gauges["wl-hondau"]
    assert hon_dau.properties["kind"] == "tide" and hon_dau.properties["admin_unit_name"] == "Phường Đồ Sơn"
    islet = min(shapely.get_parts(post.unit(hon_dau.properties["admin_unit"]).geometry), key=lambda q: q.area)
    assert islet.area * 1.16e4 < 0.2 and islet.contains(
        Point(hon_dau.lon, hon_dau.lat)
    )  # the islet, not the mainland


def test_rain_gauges():
    gauges = load_gauges("rain")
    assert len(gauges) >= 10
    for g in gauges:
        classes = g.properties["classes_mm_24h"]
        assert classes["moderate"] < classes["heavy"] < classes["very_heavy"]
    assert {"rain-phulien", "rain-hondau", "rain-chilinh", "rain-kinhmon"} <= {g.source_id for g in gauges}


def test_gauge_api_and_ids_unique_across_the_registry():
    assert {g.kind for g in load_gauges()} == set(GAUGE_FILES)
    ids = [s.source_id for s in load_sites()]
    assert len(ids) == len(set(ids))
    # Gauges are declared sources (ioc/sources/water.py, rain.py): the same sites, found by id.
    registry = sites_by_id()
    for g in load_gauges():
        s = registry[g.source_id]
        assert (s.name, s.lon, s.lat, dict(s.properties)) == (g.name, g.lon, g.lat, dict(g.properties)), g.source_id
    with pytest.raises(ValueError, match="unknown gauge kind 'tide'; kinds: water_level, rain"):
        load_gauges("tide")


def test_a_waypoint_off_its_road_is_named():
    places = build_sites.Places()
    road = replace(build_sites.ROADS[0], points=((20.8705, 106.6646), (20.8906, 106.6709)))
    with pytest.raises(
        build_sites.SiteBuildError, match=r"road 'caubinh' waypoint 1 \(20.8906, 106.6709\): the nearest"
    ):
        places.roads.route(road)
    with pytest.raises(
        build_sites.SiteBuildError, match="no bundled road line matches \\('Cầu Không Có',\\)"
    ):
        places.roads.route(replace(road, osm=("Cầu Không Có",)))
    with pytest.raises(build_sites.SiteBuildError, match="wl-x: no bundled river line named 'Sông Không Có'"):
        places.on_river("Sông Không Có", 106.7, 20.8, "wl-x")
