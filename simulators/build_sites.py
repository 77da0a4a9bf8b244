"""Write the sensor-site registry (``geodata/sites/``) from the hand-placed tables below.

Positions are approximate (about 100-300 m), placed from public knowledge of Hải Phòng's streets,
bridges, ports and industrial zones; no third-party geometry is used. The output is deterministic:
running ``python -m simulators.build_sites`` twice writes the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from geodata.sites import SITES_DIR

# Pre-2025 district names (quận/huyện) are kept as a "district" property because the map's
# district layer still uses those polygons; "zone" drives the simulator's demand and pollution.


@dataclass(frozen=True)
class Road:
    slug: str
    name: str
    points: tuple[tuple[float, float], ...]  # (lat, lon) vertices, split into one piece per pair
    free_flow_kmh: float
    lanes: int  # per direction
    district: tuple[str, ...]  # one per piece
    zone: str
    bridge_pieces: tuple[int, ...] = ()  # indexes of pieces that are bridges
    peak_load: float = 1.0  # how close to capacity the road gets at rush hour


ROADS: tuple[Road, ...] = (
    Road(
        "caubinh",
        "Cầu Bính",
        ((20.8712, 106.6904), (20.8852, 106.6931)),
        50,
        2,
        ("Hồng Bàng",),
        "core",
        (0,),
        1.12,
    ),
    Road(
        "caurao",
        "Cầu Rào",
        ((20.8196, 106.6992), (20.8134, 106.7018)),
        50,
        2,
        ("Ngô Quyền",),
        "core",
        (0,),
        1.08,
    ),
    Road(
        "cauhvt",
        "Cầu Hoàng Văn Thụ",
        ((20.8672, 106.6801), (20.8842, 106.6785)),
        50,
        2,
        ("Hồng Bàng",),
        "core",
        (0,),
        0.95,
    ),
    Road(
        "cauniem",
        "Cầu Niệm",
        ((20.8286, 106.6563), (20.8196, 106.6521)),
        40,
        1,
        ("Lê Chân",),
        "core",
        (0,),
        1.05,
    ),
    # National roads: only the stretches inside the city whose course we know well.
    Road(
        "ql5",
        "Quốc lộ 5",
        ((20.9060, 106.5600), (20.8885, 106.6035), (20.8765, 106.6290), (20.8695, 106.6560)),
        70,
        2,
        ("An Dương", "Hồng Bàng", "Hồng Bàng"),
        "arterial",
        (),
        1.0,
    ),
    Road(
        "ql10",
        "Quốc lộ 10",
        ((20.9195, 106.6160), (20.9055, 106.6110), (20.8885, 106.6035)),
        60,
        2,
        ("Thủy Nguyên", "An Dương"),
        "arterial",
        (0,),
        0.9,
    ),
    Road(
        "lachtray",
        "Lạch Tray",
        ((20.8533, 106.6876), (20.8448, 106.6931), (20.8340, 106.6961), (20.8196, 106.6992)),
        45,
        2,
        ("Ngô Quyền", "Ngô Quyền", "Ngô Quyền"),
        "core",
        (),
        1.05,
    ),
    Road(
        "lehongphong",
        "Lê Hồng Phong",
        ((20.8468, 106.6978), (20.8410, 106.7080), (20.8346, 106.7170), (20.8282, 106.7232)),
        50,
        3,
        ("Ngô Quyền", "Hải An", "Hải An"),
        "core",
        (),
        0.95,
    ),
    Road(
        "tonducthang",
        "Tôn Đức Thắng",
        ((20.8612, 106.6562), (20.8480, 106.6572), (20.8286, 106.6563)),
        45,
        2,
        ("Lê Chân", "Lê Chân"),
        "core",
        (),
        1.05,
    ),
    Road(
        "phamvandong",
        "Phạm Văn Đồng",
        (
            (20.8134, 106.7018),
            (20.7950, 106.7180),
            (20.7750, 106.7320),
            (20.7550, 106.7470),
            (20.7300, 106.7650),
        ),
        60,
        2,
        ("Dương Kinh", "Dương Kinh", "Dương Kinh", "Đồ Sơn"),
        "suburban",
        (),
        0.85,
    ),
    Road(
        "tanvulachhuyen",
        "Tân Vũ – Lạch Huyện",
        ((20.8470, 106.7500), (20.8332, 106.7948), (20.8100, 106.8440), (20.8010, 106.8930)),
        80,
        2,
        ("Hải An", "Cát Hải", "Cát Hải"),
        "port",
        (1,),
        0.75,
    ),
    Road(
        "nguyenvanlinh",
        "Nguyễn Văn Linh",
        ((20.8545, 106.6490), (20.8480, 106.6670), (20.8425, 106.6800)),
        50,
        2,
        ("Lê Chân", "Lê Chân"),
        "core",
        (),
        1.0,
    ),
    Road(
        "danang",
        "Đà Nẵng",
        ((20.8607, 106.6942), (20.8585, 106.7100), (20.8562, 106.7285)),
        45,
        2,
        ("Ngô Quyền", "Hải An"),
        "port",
        (),
        1.0,
    ),
)

# Cameras at intersections, squares, bridges' ends, port gates: (id suffix, name, lat, lon, district, type, zone)
INTERSECTIONS: tuple[tuple[str, str, float, float, str, str, str], ...] = (
    ("lachtray-01", "Ngã năm Lạch Tray – Cầu Đất", 20.8536, 106.6874, "Ngô Quyền", "intersection", "core"),
    (
        "lachtray-02",
        "Lạch Tray – Sân vận động Lạch Tray",
        20.8450,
        106.6929,
        "Ngô Quyền",
        "intersection",
        "core",
    ),
    ("lachtray-03", "Lạch Tray – Đại học Hàng hải", 20.8342, 106.6958, "Ngô Quyền", "intersection", "core"),
    ("ngasau-01", "Ngã sáu Ngô Quyền", 20.8592, 106.6942, "Ngô Quyền", "intersection", "core"),
    ("caudat-01", "Cầu Đất – Điện Biên Phủ", 20.8602, 106.6862, "Ngô Quyền", "intersection", "core"),
    ("dienbienphu-01", "Điện Biên Phủ – Lê Đại Hành", 20.8626, 106.6803, "Hồng Bàng", "intersection", "core"),
    ("tambac-01", "Tam Bạc – Hoàng Văn Thụ", 20.8617, 106.6765, "Hồng Bàng", "intersection", "core"),
    ("thuongly-01", "Ngã ba Thượng Lý", 20.8690, 106.6560, "Hồng Bàng", "intersection", "core"),
    ("sodau-01", "Nút giao Sở Dầu", 20.8730, 106.6440, "Hồng Bàng", "intersection", "arterial"),
    (
        "quantoan-01",
        "Nút giao Quán Toan (QL5 – QL10)",
        20.8882,
        106.6040,
        "Hồng Bàng",
        "intersection",
        "arterial",
    ),
    (
        "anduong-01",
        "Ngã tư An Dương (Tôn Đức Thắng – Nguyễn Văn Linh)",
        20.8532,
        106.6560,
        "Lê Chân",
        "intersection",
        "core",
    ),
    ("hosen-01", "Hồ Sen – Nguyễn Văn Linh", 20.8428, 106.6792, "Lê Chân", "intersection", "core"),
    ("tohieu-01", "Tô Hiệu – Hồ Sen", 20.8482, 106.6790, "Lê Chân", "intersection", "core"),
    ("caurao2-01", "Nút giao Cầu Rào 2", 20.8322, 106.6772, "Lê Chân", "intersection", "core"),
    ("chohang-01", "Chợ Hàng – Dư Hàng", 20.8440, 106.6690, "Lê Chân", "intersection", "core"),
    (
        "thanhdoi-01",
        "Ngã tư Thành Đội (Lạch Tray – Lê Hồng Phong)",
        20.8469,
        106.6974,
        "Ngô Quyền",
        "intersection",
        "core",
    ),
    ("lehongphong-01", "Lê Hồng Phong – Văn Cao", 20.8418, 106.7062, "Ngô Quyền", "intersection", "core"),
    (
        "catbi-01",
        "Ngã tư Cát Bi (Lê Hồng Phong – Ngô Gia Tự)",
        20.8285,
        106.7230,
        "Hải An",
        "intersection",
        "core",
    ),
    ("catbi-02", "Cảng hàng không Cát Bi – nhà ga", 20.8262, 106.7205, "Hải An", "landmark", "core"),
    ("kienan-01", "Ngã năm Kiến An", 20.8077, 106.6266, "Kiến An", "intersection", "suburban"),
    ("kienan-02", "Trần Thành Ngọ – Trường Chinh", 20.8112, 106.6282, "Kiến An", "intersection", "suburban"),
    ("chuave-01", "Cổng cảng Chùa Vẽ", 20.8598, 106.7205, "Hải An", "port_gate", "port"),
    (
        "chuave-02",
        "Ngã ba Chùa Vẽ (Ngô Quyền – Đình Vũ)",
        20.8562,
        106.7290,
        "Hải An",
        "intersection",
        "port",
    ),
    ("dinhvu-01", "Vòng xuyến Đình Vũ", 20.8470, 106.7500, "Hải An", "intersection", "port"),
    ("dinhvu-02", "Cổng cảng Đình Vũ", 20.8445, 106.7700, "Hải An", "port_gate", "port"),
    ("lachhuyen-01", "Cổng cảng Lạch Huyện", 20.8035, 106.8870, "Cát Hải", "port_gate", "port"),
    ("hoangdieu-01", "Cổng cảng Hoàng Diệu", 20.8665, 106.6830, "Hồng Bàng", "port_gate", "core"),
    ("gahp-01", "Ga Hải Phòng (Lương Khánh Thiện)", 20.8566, 106.6890, "Ngô Quyền", "landmark", "core"),
    (
        "phamvandong-01",
        "Phạm Văn Đồng – Cầu Rào",
        20.8130,
        106.7025,
        "Dương Kinh",
        "intersection",
        "suburban",
    ),
    (
        "duongkinh-01",
        "Phạm Văn Đồng – Mạc Đăng Doanh",
        20.7952,
        106.7176,
        "Dương Kinh",
        "intersection",
        "suburban",
    ),
    ("doson-01", "Trung tâm Đồ Sơn (Lý Thánh Tông)", 20.7225, 106.7705, "Đồ Sơn", "intersection", "suburban"),
    (
        "nuideo-01",
        "Thị trấn Núi Đèo (QL10 – TL359)",
        20.9265,
        106.6745,
        "Thủy Nguyên",
        "intersection",
        "suburban",
    ),
    ("anlao-01", "Thị trấn An Lão (QL10)", 20.8210, 106.5565, "An Lão", "intersection", "suburban"),
    ("tienlang-01", "Thị trấn Tiên Lãng", 20.7245, 106.5545, "Tiên Lãng", "intersection", "rural"),
    ("vinhbao-01", "Thị trấn Vĩnh Bảo", 20.6925, 106.4805, "Vĩnh Bảo", "intersection", "rural"),
    ("kienthuy-01", "Thị trấn Núi Đối (Kiến Thụy)", 20.7555, 106.6665, "Kiến Thụy", "intersection", "rural"),
    (
        "haiduong-01",
        "Hải Dương – Nguyễn Lương Bằng (QL5)",
        20.9402,
        106.3305,
        "TP Hải Dương",
        "intersection",
        "suburban",
    ),
    (
        "haiduong-02",
        "Hải Dương – Quảng trường Thống Nhất",
        20.9390,
        106.3190,
        "TP Hải Dương",
        "landmark",
        "suburban",
    ),
    (
        "nhahatlon-01",
        "Nhà hát lớn – mặt tiền Đinh Tiên Hoàng",
        20.8590,
        106.6829,
        "Hồng Bàng",
        "landmark",
        "core",
    ),
    ("nhahatlon-02", "Nhà hát lớn – quảng trường", 20.8584, 106.6841, "Hồng Bàng", "landmark", "core"),
    ("nhahatlon-03", "Nhà hát lớn – Trần Hưng Đạo", 20.8580, 106.6821, "Hồng Bàng", "landmark", "core"),
    ("tuongdailechan-01", "Tượng đài Nữ tướng Lê Chân", 20.8548, 106.6818, "Lê Chân", "landmark", "core"),
)

# Bộ phận một cửa (one-stop service counters): (id suffix, name, lat, lon, district)
SERVICE_COUNTERS: tuple[tuple[str, str, float, float, str], ...] = (
    ("thanhpho", "Trung tâm Phục vụ hành chính công thành phố", 20.8610, 106.6822, "Hồng Bàng"),
    ("hongbang", "Bộ phận một cửa phường Hồng Bàng", 20.8640, 106.6772, "Hồng Bàng"),
    ("ngoquyen", "Bộ phận một cửa phường Ngô Quyền", 20.8572, 106.6962, "Ngô Quyền"),
    ("giavien", "Bộ phận một cửa phường Gia Viên", 20.8655, 106.6905, "Ngô Quyền"),
    ("lechan", "Bộ phận một cửa phường Lê Chân", 20.8470, 106.6780, "Lê Chân"),
    ("anbien", "Bộ phận một cửa phường An Biên", 20.8520, 106.6745, "Lê Chân"),
    ("haian", "Bộ phận một cửa phường Hải An", 20.8320, 106.7300, "Hải An"),
    ("donghai", "Bộ phận một cửa phường Đông Hải", 20.8470, 106.7350, "Hải An"),
    ("kienan", "Bộ phận một cửa phường Kiến An", 20.8090, 106.6300, "Kiến An"),
    ("phulien", "Bộ phận một cửa phường Phù Liễn", 20.8000, 106.6350, "Kiến An"),
    ("duongkinh", "Bộ phận một cửa phường Dương Kinh", 20.7850, 106.7050, "Dương Kinh"),
    ("doson", "Bộ phận một cửa phường Đồ Sơn", 20.7230, 106.7720, "Đồ Sơn"),
    ("anduong", "Bộ phận một cửa phường An Dương", 20.8700, 106.6200, "An Dương"),
    ("thuynguyen", "Bộ phận một cửa phường Thủy Nguyên", 20.9350, 106.6750, "Thủy Nguyên"),
    ("anlao", "Bộ phận một cửa xã An Lão", 20.8225, 106.5550, "An Lão"),
    ("tienlang", "Bộ phận một cửa xã Tiên Lãng", 20.7250, 106.5520, "Tiên Lãng"),
    ("vinhbao", "Bộ phận một cửa xã Vĩnh Bảo", 20.6920, 106.4810, "Vĩnh Bảo"),
    ("catba", "Bộ phận một cửa đặc khu Cát Hải (Cát Bà)", 20.7270, 107.0480, "Cát Hải"),
    ("haiduong", "Bộ phận một cửa phường Hải Dương", 20.9395, 106.3310, "TP Hải Dương"),
)

# Air-quality stations: (id suffix, name, lat, lon, district, zone, PM2.5 factor vs the city background)
AIR_STATIONS: tuple[tuple[str, str, float, float, str, str, float], ...] = (
    ("dinhvu", "KCN Đình Vũ", 20.8440, 106.7640, "Hải An", "port", 1.35),
    ("lachhuyen", "Cảng Lạch Huyện", 20.8050, 106.8800, "Cát Hải", "port", 1.15),
    ("chuave", "Cảng Chùa Vẽ", 20.8590, 106.7180, "Hải An", "port", 1.25),
    ("trungtam", "Trung tâm – Hồng Bàng", 20.8620, 106.6790, "Hồng Bàng", "urban", 1.1),
    ("lechan", "Lê Chân", 20.8430, 106.6750, "Lê Chân", "urban", 1.1),
    ("kienan", "Kiến An", 20.8090, 106.6280, "Kiến An", "urban", 1.0),
    ("quantoan", "Quán Toan (QL5)", 20.8870, 106.6090, "Hồng Bàng", "traffic", 1.3),
    ("namcaukien", "KCN Nam Cầu Kiền", 20.9230, 106.6350, "Thủy Nguyên", "industrial", 1.3),
    ("vsip", "KCN VSIP Hải Phòng", 20.9030, 106.6900, "Thủy Nguyên", "industrial", 1.2),
    ("trangdue", "KCN Tràng Duệ", 20.8300, 106.5650, "An Lão", "industrial", 1.25),
    ("doson", "Đồ Sơn", 20.7180, 106.7750, "Đồ Sơn", "coastal", 0.7),
    ("catba", "Cát Bà", 20.7265, 107.0455, "Cát Hải", "coastal", 0.55),
    ("haiduong", "Hải Dương", 20.9400, 106.3250, "TP Hải Dương", "urban", 1.15),
)

# Feedback intake channels (the feedback event's source_id) with the event's ``channel`` literal.
CHANNELS: tuple[dict[str, str | float], ...] = (
    {
        "source_id": "hps-app",
        "channel": "app",
        "name": "Ứng dụng Hải Phòng Smart",
        "name_en": "Hải Phòng Smart app",
        "share": 0.55,
    },
    {
        "source_id": "hotline-1022",
        "channel": "hotline",
        "name": "Tổng đài 1022",
        "name_en": "1022 hotline",
        "share": 0.15,
    },
    {
        "source_id": "web-portal",
        "channel": "web",
        "name": "Cổng thông tin phản ánh",
        "name_en": "Web portal",
        "share": 0.07,
    },
    {
        "source_id": "zalo-oa",
        "channel": "zalo",
        "name": "Zalo OA Hải Phòng",
        "name_en": "Zalo official account",
        "share": 0.2,
    },
    {"source_id": "email", "channel": "email", "name": "Hộp thư điện tử", "name_en": "E-mail", "share": 0.03},
)  # share: the channel's share of new reports (drives the simulator)


def _compass(lat1: float, lon1: float, lat2: float, lon2: float) -> str:
    """Direction of travel as n/e/s/w (dominant axis, longitude scaled by latitude)."""
    dy = lat2 - lat1
    dx = (lon2 - lon1) * math.cos(math.radians(lat1))
    if abs(dy) >= abs(dx):
        return "n" if dy > 0 else "s"
    return "e" if dx > 0 else "w"


def _length_m(points: list[tuple[float, float]]) -> float:
    total = 0.0
    for (lat1, lon1), (lat2, lon2) in zip(points, points[1:], strict=False):
        dy = (lat2 - lat1) * 111_320
        dx = (lon2 - lon1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
        total += math.hypot(dx, dy)
    return total


def _point(source_id: str, name: str, lat: float, lon: float, **props: object) -> dict:
    return {
        "type": "Feature",
        "id": source_id,
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {"source_id": source_id, "name": name, **props},
    }


def segment_features() -> list[dict]:
    """Both directions of every road piece; single-piece roads get ids like ``seg-caubinh-n``."""
    features = []
    for road in ROADS:
        pieces = list(zip(road.points, road.points[1:], strict=False))
        if len(road.district) != len(pieces):
            raise ValueError(f"road {road.slug}: {len(pieces)} pieces but {len(road.district)} districts")
        for i, (a, b) in enumerate(pieces):
            for start, end in ((a, b), (b, a)):
                direction = _compass(*start, *end)
                number = "" if len(pieces) == 1 else f"{i + 1:02d}"
                source_id = f"seg-{road.slug}-{number}{direction}"
                bridge = i in road.bridge_pieces
                label = road.name if len(pieces) == 1 else f"{road.name} (đoạn {i + 1})"
                features.append(
                    {
                        "type": "Feature",
                        "id": source_id,
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[round(lon, 6), round(lat, 6)] for lat, lon in (start, end)],
                        },
                        "properties": {
                            "source_id": source_id,
                            "name": f"{label} – hướng {_DIRECTION_VI[direction]}",
                            "road": road.name,
                            "road_slug": road.slug,
                            "piece": i + 1,
                            "direction": direction,
                            "free_flow_kmh": float(road.free_flow_kmh),
                            "lanes": road.lanes,
                            "bridge": bridge,
                            "length_m": round(_length_m([start, end])),
                            "district": road.district[i],
                            "zone": road.zone,
                            "peak_load": road.peak_load,
                        },
                    }
                )
    return features


_DIRECTION_VI = {"n": "Bắc", "s": "Nam", "e": "Đông", "w": "Tây"}


def camera_features() -> list[dict]:
    """Intersections and landmarks, both ends of every bridge, and one-stop service counters."""
    features = [
        _point(f"cam-{suffix}", name, lat, lon, type=kind, district=district, zone=zone, analytics=True)
        for suffix, name, lat, lon, district, kind, zone in INTERSECTIONS
    ]
    for road in ROADS:
        for i in road.bridge_pieces:
            for end, (lat, lon) in enumerate((road.points[i], road.points[i + 1]), start=1):
                name = f"{road.name} – đầu cầu {'phía Nam' if end == 1 else 'phía Bắc'}"
                if road.slug == "tanvulachhuyen":
                    name = f"Cầu Tân Vũ – Lạch Huyện – đầu cầu {'Đình Vũ' if end == 1 else 'Cát Hải'}"
                slug = "tanvu" if road.slug == "tanvulachhuyen" else road.slug
                features.append(
                    _point(
                        f"cam-{slug}-{end:02d}",
                        name,
                        lat,
                        lon,
                        type="bridge",
                        district=road.district[i],
                        zone=road.zone,
                        analytics=True,
                        road=road.name,
                    )
                )
    features += [
        _point(
            f"cam-motcua-{suffix}",
            name,
            lat,
            lon,
            type="service_counter",
            district=district,
            zone="service",
            analytics=False,
        )
        for suffix, name, lat, lon, district in SERVICE_COUNTERS
    ]
    return features


def air_features() -> list[dict]:
    return [
        _point(
            f"air-{suffix}",
            f"Trạm quan trắc {name}",
            lat,
            lon,
            district=district,
            zone=zone,
            pm_factor=factor,
        )
        for suffix, name, lat, lon, district, zone, factor in AIR_STATIONS
    ]


def _collection(features: list[dict]) -> dict:
    ids = [f["id"] for f in features]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate source ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return {"type": "FeatureCollection", "features": features}


def build(directory: Path = SITES_DIR) -> dict[str, int]:
    """Write the four registry files; returns the number of entries per file."""
    directory.mkdir(parents=True, exist_ok=True)
    outputs = {
        "cameras.geojson": _collection(camera_features()),
        "traffic_segments.geojson": _collection(segment_features()),
        "air_stations.geojson": _collection(air_features()),
        "channels.json": {"channels": list(CHANNELS)},
    }
    counts = {}
    for name, data in outputs.items():
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        (directory / name).write_text(text, encoding="utf-8")
        counts[name] = len(data.get("features", data.get("channels", [])))
    return counts


if __name__ == "__main__":
    for file, n in build().items():
        print(f"{file}: {n}")
