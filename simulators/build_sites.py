"""Write the sensor-site registry (``geodata/sites/``) from the tables below and the bundled map.

What comes from where:

* Road segments follow the real road lines of the bundled base map (OpenStreetMap, street band,
  ``geodata/data/basemap/roads-street.geojson``): each road lists waypoints taken from those lines
  and the names/route numbers it claims; a piece is the shortest path between two waypoints that
  stays on the claimed road (other roads cost 6× more; at least 80 % of its length must be on
  the claimed road). Bridge cameras sit at the ends of bridge pieces.
* Water-level gauges sit on the named river's centre line (bundled ``water-street``), snapped
  from an approximate position; the Hòn Dấu tide gauge on the Hòn Dấu islet of the 2025 units.
* Every site's ``admin_unit`` (2025 GSO code) and ``admin_unit_name`` come from the real 2025
  unit polygons (``geodata/data/boundary_sets``); ``district`` / ``district_code`` /
  ``former_province`` from the bundled pre-2025 district set (the last pre-2025 status).
* Other positions (intersections, counters, stations, rain gauges) are hand-placed, about
  100-300 m in old Hải Phòng and ±1-2 km for the industrial zones of the former Hải Dương; sites
  named after their unit take the unit's name from the polygons. Alarm levels (BĐ1-3) and rain
  classes are plausible values for the simulator, not official ones.

No network, no shared data: the output depends only on this file and the bundled assets, and
``python -m simulators.build_sites`` writes the same bytes every time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point, shape
from shapely.ops import nearest_points, polylabel

from geodata.admin import AdminAssigner
from geodata.basemap import basemap_layer
from geodata.boundaries import DEFAULT_SETS_DIR, BoundarySet, boundary_set_for, load_boundary_sets
from geodata.sites import GAUGE_FILES, SITES_DIR

M_PER_DEG = 111_320.0
OFF_ROAD_COST = 6.0  # a path may use another road only where the claimed one has a gap
MIN_ON_ROAD = 0.8  # share of a piece's length that must lie on the claimed road
MAX_WAYPOINT_SNAP_M = 60.0  # waypoints are typed from the bundled lines: they must be that close
MAX_GAUGE_SNAP_M = 500.0
MAX_UNIT_DISTANCE_M = 5000.0  # a bridge's middle may be over the sea; nothing may be farther out


class SiteBuildError(ValueError):
    """A table entry that cannot be placed (the message names the entry)."""


@dataclass(frozen=True)
class Road:
    slug: str
    name: str
    points: tuple[tuple[float, float], ...]  # (lat, lon) waypoints on the road; one piece per pair
    free_flow_kmh: float
    lanes: int  # per direction
    zone: str
    osm: tuple[str, ...]  # claimed road: "ref:QL.5" (route number) or a part of the OSM name
    bridge_pieces: tuple[int, ...] = ()  # indexes of pieces that are bridges
    peak_load: float = 1.0  # how close to capacity the road gets at rush hour
    # Letters of the ids of the first, hand-drawn registry (a→b of each piece), kept so ids stay
    # stable; each is less than 90° off the real bearing (never the opposite way). The ``direction``
    # property and the name give the real one. New roads take the letter of the bearing.
    id_directions: tuple[str, ...] = ()
    bridge: str = ""  # the bridge's own name for its cameras ("Cầu Kiền (QL10)")
    camera_slug: str = ""  # id stem of its bridge cameras (default: slug)


ROADS: tuple[Road, ...] = (
    Road("caubinh", "Cầu Bính", ((20.8705, 106.6646), (20.8806, 106.6709)), 50, 2, "core",
         ("Cầu Bính",), (0,), 1.12, ("n",)),
    Road("caurao", "Cầu Rào", ((20.8320, 106.6981), (20.8258, 106.6989)), 50, 2, "core",
         ("Cầu Rào",), (0,), 1.08, ("s",)),
    Road("cauhvt", "Cầu Hoàng Văn Thụ", ((20.8656, 106.6801), (20.8745, 106.6813)), 50, 2, "core",
         ("Cầu Hoàng Văn Thụ",), (0,), 0.95, ("n",)),
    Road("cauniem", "Cầu Niệm", ((20.8397, 106.6660), (20.8365, 106.6628)), 40, 1, "core",
         ("Cầu Niệm",), (0,), 1.05, ("s",)),
    # National roads: QL5 from the Hải Dương border of old Hải Phòng to Sở Dầu, QL10 over Cầu Kiền.
    Road("ql5", "Quốc lộ 5", ((20.9079, 106.5733), (20.8916, 106.5947), (20.8743, 106.6222), (20.8651, 106.6508)),
         70, 2, "arterial", ("ref:QL.5",), (), 1.0, ("e", "e", "e")),
    Road("ql10", "Quốc lộ 10", ((20.9144, 106.6295), (20.9123, 106.6177), (20.8885, 106.6025)), 60, 2,
         "arterial", ("ref:QL.10",), (0,), 0.9, ("s", "s"), bridge="Cầu Kiền (QL10)"),
    Road("lachtray", "Lạch Tray", ((20.8520, 106.6864), (20.8445, 106.6923), (20.8343, 106.6970), (20.8300, 106.6989)),
         45, 2, "core", ("Lạch Tray",), (), 1.05, ("s", "s", "s")),
    Road("lehongphong", "Lê Hồng Phong", ((20.8610, 106.6962), (20.8470, 106.7071), (20.8390, 106.7140), (20.8294, 106.7221)),
         50, 3, "core", ("Lê Hồng Phong",), (), 0.95, ("e", "e", "s")),
    Road("tonducthang", "Tôn Đức Thắng", ((20.8618, 106.6500), (20.8531, 106.6521), (20.8478, 106.6630)), 45, 2,
         "core", ("Tôn Đức Thắng",), (), 1.05, ("s", "s")),
    Road("phamvandong", "Phạm Văn Đồng",
         ((20.8125, 106.7005), (20.7931, 106.7153), (20.7744, 106.7311), (20.7552, 106.7473), (20.7317, 106.7672)),
         60, 2, "suburban", ("Phạm Văn Đồng", "ref:ĐT.353"), (), 0.85, ("s", "s", "s", "s")),
    Road("tanvulachhuyen", "Tân Vũ – Lạch Huyện",
         ((20.8432, 106.7519), (20.8058, 106.7953), (20.8071, 106.8471), (20.8045, 106.8972)), 80, 2, "port",
         ("ref:QL.5C", "Tân Vũ - Lạch Huyện"), (1,), 0.75, ("e", "e", "e"), camera_slug="tanvu"),
    Road("nguyenvanlinh", "Nguyễn Văn Linh", ((20.8525, 106.6523), (20.8415, 106.6617), (20.8344, 106.6819)), 50, 2,
         "core", ("Nguyễn Văn Linh",), (), 1.0, ("e", "e")),
    Road("danang", "Đà Nẵng", ((20.8615, 106.6942), (20.8612, 106.7101), (20.8612, 106.7223)), 45, 2, "port",
         ("Đường Đà Nẵng",), (), 1.0, ("e", "e")),
    # The former Hải Dương (issue 12): QL5 from Cẩm Giàng over Cầu Phú Lương to the old border,
    # QL37 north through Nam Sách towards Chí Linh, QL38 in Cẩm Giàng, QL17B in Kinh Môn. QL18
    # (Chí Linh) is not in the bundled roads: the OSM extract stops south of it.
    Road("ql5hd", "Quốc lộ 5",
         ((20.9359, 106.2299), (20.9454, 106.3078), (20.9468, 106.3519), (20.9460, 106.3572), (20.9667, 106.5086),
          (20.9079, 106.5733)),
         80, 2, "arterial", ("ref:QL.5",), (2,), 0.95, bridge="Cầu Phú Lương (QL5)", camera_slug="phuluong"),
    Road("ql37", "Quốc lộ 37", ((20.9789, 106.3605), (21.0006, 106.3363), (21.0528, 106.3636)), 60, 1,
         "suburban", ("ref:QL.37",), (), 0.8),
    Road("ql38", "Quốc lộ 38", ((20.9257, 106.1556), (20.9855, 106.1373)), 60, 1, "suburban", ("ref:QL.38",), (), 0.8),
    Road("ql17b", "Quốc lộ 17B", ((20.9637, 106.5173), (21.0016, 106.5422)), 60, 1, "suburban",
         ("ref:QL.17B",), (), 0.75),
)  # fmt: skip

# Cameras at intersections, squares, port gates: (id suffix, name, lat, lon, type, zone)
INTERSECTIONS: tuple[tuple[str, str, float, float, str, str], ...] = (
    ("lachtray-01", "Ngã năm Lạch Tray – Cầu Đất", 20.8536, 106.6874, "intersection", "core"),
    ("lachtray-02", "Lạch Tray – Sân vận động Lạch Tray", 20.845, 106.6929, "intersection", "core"),
    ("lachtray-03", "Lạch Tray – Đại học Hàng hải", 20.8342, 106.6958, "intersection", "core"),
    ("ngasau-01", "Ngã sáu Ngô Quyền", 20.8592, 106.6942, "intersection", "core"),
    ("caudat-01", "Cầu Đất – Điện Biên Phủ", 20.8602, 106.6862, "intersection", "core"),
    ("dienbienphu-01", "Điện Biên Phủ – Lê Đại Hành", 20.8626, 106.6803, "intersection", "core"),
    ("tambac-01", "Tam Bạc – Hoàng Văn Thụ", 20.8617, 106.6765, "intersection", "core"),
    ("thuongly-01", "Ngã ba Thượng Lý", 20.869, 106.656, "intersection", "core"),
    ("sodau-01", "Nút giao Sở Dầu", 20.873, 106.644, "intersection", "arterial"),
    ("quantoan-01", "Nút giao Quán Toan (QL5 – QL10)", 20.8882, 106.604, "intersection", "arterial"),
    ("anduong-01", "Ngã tư An Dương (Tôn Đức Thắng – Nguyễn Văn Linh)", 20.8532, 106.656, "intersection", "core"),
    ("hosen-01", "Hồ Sen – Nguyễn Văn Linh", 20.8428, 106.6792, "intersection", "core"),
    ("tohieu-01", "Tô Hiệu – Hồ Sen", 20.8482, 106.679, "intersection", "core"),
    ("caurao2-01", "Nút giao Cầu Rào 2", 20.8322, 106.6772, "intersection", "core"),
    ("chohang-01", "Chợ Hàng – Dư Hàng", 20.844, 106.669, "intersection", "core"),
    ("thanhdoi-01", "Ngã tư Thành Đội (Lạch Tray – Lê Hồng Phong)", 20.8469, 106.6974, "intersection", "core"),
    ("lehongphong-01", "Lê Hồng Phong – Văn Cao", 20.8418, 106.7062, "intersection", "core"),
    ("catbi-01", "Ngã tư Cát Bi (Lê Hồng Phong – Ngô Gia Tự)", 20.8285, 106.723, "intersection", "core"),
    ("catbi-02", "Cảng hàng không Cát Bi – nhà ga", 20.8262, 106.7205, "landmark", "core"),
    ("kienan-01", "Ngã năm Kiến An", 20.8077, 106.6266, "intersection", "suburban"),
    ("kienan-02", "Trần Thành Ngọ – Trường Chinh", 20.8112, 106.6282, "intersection", "suburban"),
    ("chuave-01", "Cổng cảng Chùa Vẽ", 20.8598, 106.7205, "port_gate", "port"),
    ("chuave-02", "Ngã ba Chùa Vẽ (Ngô Quyền – Đình Vũ)", 20.8562, 106.729, "intersection", "port"),
    ("dinhvu-01", "Vòng xuyến Đình Vũ", 20.847, 106.75, "intersection", "port"),
    ("dinhvu-02", "Cổng cảng Đình Vũ", 20.8445, 106.77, "port_gate", "port"),
    ("lachhuyen-01", "Cổng cảng Lạch Huyện", 20.8035, 106.887, "port_gate", "port"),
    ("hoangdieu-01", "Cổng cảng Hoàng Diệu", 20.8665, 106.683, "port_gate", "core"),
    ("gahp-01", "Ga Hải Phòng (Lương Khánh Thiện)", 20.8566, 106.689, "landmark", "core"),
    ("phamvandong-01", "Phạm Văn Đồng – Cầu Rào", 20.813, 106.7025, "intersection", "suburban"),
    ("duongkinh-01", "Phạm Văn Đồng – Mạc Đăng Doanh", 20.7952, 106.7176, "intersection", "suburban"),
    ("doson-01", "Trung tâm Đồ Sơn (Lý Thánh Tông)", 20.7225, 106.7705, "intersection", "suburban"),
    ("nuideo-01", "Thị trấn Núi Đèo (QL10 – TL359)", 20.9265, 106.6745, "intersection", "suburban"),
    ("anlao-01", "Thị trấn An Lão (QL10)", 20.821, 106.5565, "intersection", "suburban"),
    ("tienlang-01", "Thị trấn Tiên Lãng", 20.7245, 106.5545, "intersection", "rural"),
    ("vinhbao-01", "Thị trấn Vĩnh Bảo", 20.6925, 106.4805, "intersection", "rural"),
    ("kienthuy-01", "Thị trấn Núi Đối (Kiến Thụy)", 20.7555, 106.6665, "intersection", "rural"),
    ("haiduong-01", "Hải Dương – Nguyễn Lương Bằng (QL5)", 20.9402, 106.3305, "intersection", "suburban"),
    ("haiduong-02", "Hải Dương – Quảng trường Thống Nhất", 20.939, 106.319, "landmark", "suburban"),
    ("nhahatlon-01", "Nhà hát lớn – mặt tiền Đinh Tiên Hoàng", 20.859, 106.6829, "landmark", "core"),
    ("nhahatlon-02", "Nhà hát lớn – quảng trường", 20.8584, 106.6841, "landmark", "core"),
    ("nhahatlon-03", "Nhà hát lớn – Trần Hưng Đạo", 20.858, 106.6821, "landmark", "core"),
    ("tuongdailechan-01", "Tượng đài Nữ tướng Lê Chân", 20.8548, 106.6818, "landmark", "core"),
)  # fmt: skip

# Cameras of the former Hải Dương on a claimed road, snapped onto it and named after their 2025
# unit: (id suffix, road slug, lat, lon, zone)
ROAD_CAMERAS: tuple[tuple[str, str, float, float, str], ...] = (
    ("ql5hd-camgiang", "ql5hd", 20.9359, 106.2299, "arterial"),
    ("ql5hd-kimthanh", "ql5hd", 20.9667, 106.5086, "arterial"),
    ("ql37-01", "ql37", 21.0006, 106.3363, "suburban"),  # Nam Sách
    (
        "ql37-02",
        "ql37",
        21.0528,
        106.3636,
        "suburban",
    ),  # the northern end of the bundled QL37, towards Chí Linh
    ("ql38-camgiang", "ql38", 20.9557, 106.1667, "suburban"),
    ("ql17b-kinhmon", "ql17b", 21.0016, 106.5422, "suburban"),
)

# Bộ phận một cửa (one-stop service counters): (id suffix, name, lat, lon)
SERVICE_COUNTERS: tuple[tuple[str, str, float, float], ...] = (
    ("thanhpho", "Trung tâm Phục vụ hành chính công thành phố", 20.861, 106.6822),
    ("hongbang", "Bộ phận một cửa phường Hồng Bàng", 20.864, 106.6772),
    ("ngoquyen", "Bộ phận một cửa phường Ngô Quyền", 20.8572, 106.6962),
    ("giavien", "Bộ phận một cửa phường Gia Viên", 20.8655, 106.6905),
    ("lechan", "Bộ phận một cửa phường Lê Chân", 20.847, 106.678),
    ("anbien", "Bộ phận một cửa phường An Biên", 20.852, 106.6745),
    ("haian", "Bộ phận một cửa phường Hải An", 20.832, 106.73),
    ("donghai", "Bộ phận một cửa phường Đông Hải", 20.847, 106.735),
    ("kienan", "Bộ phận một cửa phường Kiến An", 20.809, 106.63),
    ("phulien", "Bộ phận một cửa phường Phù Liễn", 20.8, 106.635),
    ("duongkinh", "Bộ phận một cửa phường Dương Kinh", 20.785, 106.705),
    ("doson", "Bộ phận một cửa phường Đồ Sơn", 20.723, 106.772),
    ("anduong", "Bộ phận một cửa phường An Dương", 20.87, 106.62),
    ("thuynguyen", "Bộ phận một cửa phường Thủy Nguyên", 20.935, 106.675),
    ("anlao", "Bộ phận một cửa xã An Lão", 20.8225, 106.555),
    ("tienlang", "Bộ phận một cửa xã Tiên Lãng", 20.725, 106.552),
    ("vinhbao", "Bộ phận một cửa xã Vĩnh Bảo", 20.692, 106.481),
    ("catba", "Bộ phận một cửa đặc khu Cát Hải (Cát Bà)", 20.727, 107.048),
    ("haiduong", "Bộ phận một cửa phường Hải Dương", 20.9395, 106.331),
)  # fmt: skip

# One-stop counters of the former Hải Dương: (id suffix, lat, lon near the town centre). Placed at
# the label point of the 2025 unit there and named after it.
UNIT_COUNTERS: tuple[tuple[str, float, float], ...] = (
    ("chilinh", 21.1050, 106.3900),  # Sao Đỏ
    ("kinhmon", 21.0000, 106.5100),
    ("namsach", 21.0006, 106.3363),
    ("kimthanh", 20.9667, 106.5086),  # Phú Thái
    ("camgiang", 20.9500, 106.2000),
    ("thanhha", 20.9000, 106.4300),
    ("tuky", 20.8200, 106.4000),
    ("ninhgiang", 20.7300, 106.3900),
)

# Air-quality stations: (id suffix, name, lat, lon, zone, PM2.5 factor vs the city background)
AIR_STATIONS: tuple[tuple[str, str, float, float, str, float], ...] = (
    ("dinhvu", "KCN Đình Vũ", 20.844, 106.764, "port", 1.35),
    ("lachhuyen", "Cảng Lạch Huyện", 20.805, 106.88, "port", 1.15),
    ("chuave", "Cảng Chùa Vẽ", 20.859, 106.718, "port", 1.25),
    ("trungtam", "Trung tâm – Hồng Bàng", 20.862, 106.679, "urban", 1.1),
    ("lechan", "Lê Chân", 20.843, 106.675, "urban", 1.1),
    ("kienan", "Kiến An", 20.809, 106.628, "urban", 1.0),
    ("quantoan", "Quán Toan (QL5)", 20.887, 106.609, "traffic", 1.3),
    ("namcaukien", "KCN Nam Cầu Kiền", 20.923, 106.635, "industrial", 1.3),
    ("vsip", "KCN VSIP Hải Phòng", 20.903, 106.69, "industrial", 1.2),
    ("trangdue", "KCN Tràng Duệ", 20.83, 106.565, "industrial", 1.25),
    ("doson", "Đồ Sơn", 20.718, 106.775, "coastal", 0.7),
    ("catba", "Cát Bà", 20.7265, 107.0455, "coastal", 0.55),
    ("haiduong", "Hải Dương", 20.94, 106.325, "urban", 1.15),
    # The former Hải Dương: Chí Linh, Kinh Môn (cement), the industrial zones along QL5.
    ("chilinh", "Chí Linh (Sao Đỏ)", 21.1050, 106.3900, "urban", 1.0),
    ("kinhmon", "Kinh Môn", 21.0000, 106.5100, "industrial", 1.3),
    ("phucdien", "KCN Phúc Điền (Cẩm Giàng)", 20.9380, 106.2100, "industrial", 1.2),
    ("daian", "KCN Đại An (Hải Dương)", 20.9356, 106.2800, "industrial", 1.2),
    ("namsach", "KCN Nam Sách", 20.9900, 106.3500, "industrial", 1.15),
)  # fmt: skip

# Water-level gauges: (id suffix, river as named in OSM or None for the sea, approximate lat, lon,
# kind, BĐ1, BĐ2, BĐ3 in metres above the national datum). Simulated alarm levels: plausible for
# a tidal delta (a spring tide reaches ~+2 m at Hòn Dấu; inland rivers rise higher in floods).
WATER_GAUGES: tuple[tuple[str, str | None, float, float, str, float, float, float], ...] = (
    ("hondau", None, 20.6670, 106.8159, "tide", 1.9, 2.1, 2.3),
    ("cam", "Sông Cấm", 20.8697, 106.6893, "tidal_river", 2.0, 2.2, 2.4),
    ("lachtray", "Sông Lạch Tray", 20.8190, 106.6270, "tidal_river", 2.0, 2.3, 2.6),
    ("vanuc", "Sông Văn Úc", 20.7760, 106.5460, "tidal_river", 2.0, 2.3, 2.6),
    ("bachdang", "Sông Bạch Đằng", 20.9043, 106.7670, "tidal_river", 2.0, 2.2, 2.4),
    ("thaibinh", "Sông Thái Bình", 20.9500, 106.3550, "river", 3.0, 4.0, 5.0),
    ("kinhthay", "Sông Kinh Thầy", 21.0550, 106.4250, "river", 3.3, 4.2, 5.0),
    ("luoc", "Sông Luộc", 20.7350, 106.4150, "river", 2.5, 3.2, 4.0),
)
HON_DAU = "hondau"

# Rain gauges: (id suffix, name or None to name it after its unit, lat, lon)
RAIN_GAUGES: tuple[tuple[str, str | None, float, float], ...] = (
    ("phulien", "Trạm khí tượng Phù Liễn (Kiến An)", 20.8000, 106.6350),
    ("hondau", "Trạm hải văn Hòn Dấu", 20.6670, 106.8159),
    ("catba", None, 20.7270, 107.0480),
    ("thuynguyen", None, 20.9350, 106.6750),
    ("tienlang", None, 20.7250, 106.5520),
    ("vinhbao", None, 20.6920, 106.4810),
    ("doson", None, 20.7230, 106.7720),
    ("haiduong", None, 20.9395, 106.3310),
    ("chilinh", None, 21.1050, 106.3900),
    ("kinhmon", None, 21.0000, 106.5100),
    ("ninhgiang", None, 20.7300, 106.3900),
    ("camgiang", None, 20.9500, 106.2000),
)
# Rain classes of Vietnamese forecasts (mm in 24 h): moderate 16-50, heavy 51-100, very heavy > 100.
RAIN_CLASSES_MM_24H = {"moderate": 16.0, "heavy": 51.0, "very_heavy": 101.0}

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

_BEARING = {"n": 0.0, "e": 90.0, "s": 180.0, "w": 270.0}
_DIRECTION_VI = {"n": "Bắc", "s": "Nam", "e": "Đông", "w": "Tây"}
_OPPOSITE = {"n": "s", "s": "n", "e": "w", "w": "e"}


def _bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Degrees clockwise from north (longitude scaled by latitude)."""
    dx = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.degrees(math.atan2(dx, lat2 - lat1)) % 360.0


def _compass(lat1: float, lon1: float, lat2: float, lon2: float) -> str:
    """Direction of travel as n/e/s/w (the letter nearest the bearing)."""
    b = _bearing(lat1, lon1, lat2, lon2)
    return min(_BEARING, key=lambda k: _angle(_BEARING[k], b))


def _angle(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _length_m(coords: list[tuple[float, float]]) -> float:
    """Length of a lon/lat line in metres (local equirectangular)."""
    total = 0.0
    for (lon1, lat1), (lon2, lat2) in zip(coords, coords[1:], strict=False):
        dy = (lat2 - lat1) * M_PER_DEG
        dx = (lon2 - lon1) * M_PER_DEG * math.cos(math.radians((lat1 + lat2) / 2))
        total += math.hypot(dx, dy)
    return total


def _metres(lon: float, lat: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return np.hypot((xs - lon) * M_PER_DEG * math.cos(math.radians(lat)), (ys - lat) * M_PER_DEG)


class RoadNetwork:
    """The bundled street-band roads as a graph (nodes: shared vertices; junctions are shared)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        index: dict[tuple[float, float], int] = {}
        a: list[int] = []
        b: list[int] = []
        owner: list[int] = []
        self.props = [f["properties"] for f in doc["features"]]
        for fi, f in enumerate(doc["features"]):
            for part in shapely.get_parts(shape(f["geometry"])):
                ids = [index.setdefault((x, y), len(index)) for x, y in part.coords]
                for i, j in zip(ids, ids[1:], strict=False):
                    if i != j:
                        a.append(i)
                        b.append(j)
                        owner.append(fi)
        self.xy = np.array(sorted(index, key=index.__getitem__))
        self.a, self.b, self.owner = np.array(a), np.array(b), np.array(owner)
        xa, ya = self.xy[self.a].T
        xb, yb = self.xy[self.b].T
        k = np.cos(np.radians((ya + yb) / 2))
        self.length = np.hypot((xb - xa) * M_PER_DEG * k, (yb - ya) * M_PER_DEG)

    def claimed(self, claims: tuple[str, ...]) -> np.ndarray:
        """Per edge: does it belong to the claimed road?"""
        hit = np.array(
            [any(p.get("ref") == c[4:] if c.startswith("ref:") else c in (p.get("name") or "") for c in claims)
             for p in self.props]
        )  # fmt: skip
        return hit[self.owner]

    def snap(self, on: np.ndarray, lon: float, lat: float) -> tuple[float, float, float, int, float]:
        """Nearest point on a claimed edge: (lon, lat, metres away, edge index, position 0-1 on it)."""
        edges = np.flatnonzero(on)
        k = math.cos(math.radians(lat))
        ax, ay = self.xy[self.a[edges]].T
        bx, by = self.xy[self.b[edges]].T
        dx, dy = (bx - ax) * k, by - ay
        t = np.clip(((lon - ax) * k * dx + (lat - ay) * dy) / np.maximum(dx * dx + dy * dy, 1e-30), 0.0, 1.0)
        cx, cy = ax + t * (bx - ax), ay + t * (by - ay)
        d = np.hypot((cx - lon) * k, cy - lat) * M_PER_DEG
        i = int(np.argmin(d))
        return float(cx[i]), float(cy[i]), float(d[i]), int(edges[i]), float(t[i])

    def route(self, road: Road) -> list[list[tuple[float, float]]]:
        """One lon/lat line per piece of the road, along the claimed road."""
        on = self.claimed(road.osm)
        if not on.any():
            raise SiteBuildError(f"road {road.slug!r}: no bundled road line matches {road.osm}")
        xy = [tuple(v) for v in self.xy]
        a, b, w = list(self.a), list(self.b), list(self.length * np.where(on, 1.0, OFF_ROAD_COST))
        on_edge = {(int(u), int(v)) for u, v in zip(self.a[on], self.b[on], strict=True)}
        snapped = []
        for i, (lat, lon) in enumerate(road.points):
            x, y, d, e, t = self.snap(on, lon, lat)
            if d > MAX_WAYPOINT_SNAP_M:
                raise SiteBuildError(
                    f"road {road.slug!r} waypoint {i} ({lat}, {lon}): the nearest {road.osm} line is {d:.0f} m "
                    f"away (at most {MAX_WAYPOINT_SNAP_M:.0f} m)"
                )
            node = len(xy)  # a node on the edge at the projected point, joined to both ends
            xy.append((x, y))
            for end, share in ((int(self.a[e]), t), (int(self.b[e]), 1.0 - t)):
                a.append(node)
                b.append(end)
                w.append(float(self.length[e]) * share + 1e-6)
                on_edge.add((node, end))
            snapped.append(node)
        total_nodes = len(xy)
        graph = coo_matrix(
            (np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(total_nodes, total_nodes)
        ).tocsr()
        pieces = []
        for k, (src, dst) in enumerate(zip(snapped, snapped[1:], strict=False)):
            _, pred = dijkstra(graph, indices=src, return_predecessors=True)
            path = [dst]
            while path[-1] != src:
                if pred[path[-1]] < 0:
                    raise SiteBuildError(
                        f"road {road.slug!r} piece {k + 1}: no road path between its waypoints"
                    )
                path.append(int(pred[path[-1]]))
            path.reverse()
            coords = [(float(xy[q][0]), float(xy[q][1])) for q in path]
            total = _length_m(coords)
            on_road = sum(
                _length_m(coords[i : i + 2])
                for i, (u, v) in enumerate(zip(path, path[1:], strict=False))
                if (u, v) in on_edge or (v, u) in on_edge
            )
            if total == 0 or on_road < MIN_ON_ROAD * total:
                raise SiteBuildError(
                    f"road {road.slug!r} piece {k + 1}: only {on_road / max(total, 1):.0%} of the path lies on {road.osm}"
                )
            pieces.append(coords)
        return pieces


class Places:
    """Admin units (real 2025 polygons, bundled pre-2025 districts), rivers and the road network."""

    def __init__(self) -> None:
        sets = load_boundary_sets(DEFAULT_SETS_DIR)
        self.post: BoundarySet = boundary_set_for(date(2025, 7, 1), sets)
        self.pre: BoundarySet = boundary_set_for(date(2025, 6, 30), sets)
        self.new = AdminAssigner(self.post)
        self.old = AdminAssigner(self.pre, "district")
        self.roads = RoadNetwork(basemap_layer("roads", "street"))
        self.water = basemap_layer("water", "street")["features"]

    @cached_property
    def _units(self) -> tuple[np.ndarray, list[str]]:
        leaves = self.post.leaves()
        return np.array([u.geometry for u in leaves]), [u.code for u in leaves]

    def unit_props(self, lon: float, lat: float, what: str) -> dict[str, Any]:
        """admin_unit, admin_unit_name, district, district_code, former_province (+ the distance
        to the unit when the point lies outside every unit, e.g. the middle of a sea bridge)."""
        code = self.new.assign(lon, lat)
        extra: dict[str, Any] = {}
        if code is None:
            geoms, codes = self._units
            d = shapely.distance(geoms, Point(lon, lat)) * M_PER_DEG * math.cos(math.radians(lat))
            i = int(np.argmin(d))
            if d[i] > MAX_UNIT_DISTANCE_M:
                raise SiteBuildError(
                    f"{what} ({lat}, {lon}) is {d[i]:.0f} m from the nearest unit of the city"
                )
            code, extra = codes[i], {"admin_unit_distance_m": round(float(d[i]))}
        unit = self.post.unit(code)
        old_districts = set(unit.properties["old_district_codes"])
        district_code = self.old.assign(lon, lat)
        if district_code not in old_districts:  # at a border, or off the shore: the unit's main district
            district_code = self._main_district(code)
        district = self.pre.unit(district_code)
        province = self.pre.unit(district.parent_code)
        return {
            "admin_unit": code,
            "admin_unit_name": unit.full_name,
            **extra,
            "district": district.name,
            "district_code": district.code,
            "former_province": province.name,
        }

    def _main_district(self, code: str) -> str:
        inside = [
            d
            for d in self.pre.units("district")
            if d.code in self.post.unit(code).properties["old_district_codes"]
        ]
        geom = self.post.unit(code).geometry
        return max(inside, key=lambda d: (d.geometry.intersection(geom).area, d.code)).code

    def on_river(self, river: str, lon: float, lat: float, what: str) -> tuple[float, float]:
        """The nearest point on the named river's centre line."""
        lines = [shape(f["geometry"]) for f in self.water if f["properties"]["name"] == river]
        if not lines:
            raise SiteBuildError(f"{what}: no bundled river line named {river!r}")
        line = shapely.union_all(lines)
        p = nearest_points(line, Point(lon, lat))[0]
        d = _length_m([(lon, lat), (p.x, p.y)])
        if d > MAX_GAUGE_SNAP_M:
            raise SiteBuildError(
                f"{what}: {river} is {d:.0f} m from ({lat}, {lon}) (at most {MAX_GAUGE_SNAP_M:.0f} m)"
            )
        return round(p.x, 6), round(p.y, 6)

    def label_point(self, code: str) -> tuple[float, float]:
        largest = max(shapely.get_parts(self.post.unit(code).geometry), key=lambda p: p.area)
        p = polylabel(largest, tolerance=1e-5)
        return round(p.x, 6), round(p.y, 6)

    def hon_dau(self) -> tuple[float, float]:
        """Centre of the islet off Đồ Sơn's tip (the smallest part of its unit, ~0.1 km²)."""
        lat, lon = next((g[2], g[3]) for g in WATER_GAUGES if g[0] == HON_DAU)
        code = self.new.assign(lon, lat)
        if code is None:
            raise SiteBuildError(f"Hòn Dấu ({lat}, {lon}) is in no unit")
        part = min(
            shapely.get_parts(self.post.unit(code).geometry), key=lambda p: p.distance(Point(lon, lat))
        )
        c = part.centroid
        return round(c.x, 6), round(c.y, 6)


def _point(source_id: str, name: str, lon: float, lat: float, **props: object) -> dict:
    return {
        "type": "Feature",
        "id": source_id,
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {"source_id": source_id, "name": name, **props},
    }


def _road(slug: str) -> Road:
    return next(r for r in ROADS if r.slug == slug)


def segment_features(places: Places) -> list[dict]:
    """Both directions of every road piece; single-piece roads get ids like ``seg-caubinh-n``."""
    features = []
    for road in ROADS:
        pieces = places.roads.route(road)
        if road.id_directions and len(road.id_directions) != len(pieces):
            raise SiteBuildError(
                f"road {road.slug}: {len(pieces)} pieces but {len(road.id_directions)} id directions"
            )
        for i, coords in enumerate(pieces):
            (lon1, lat1), (lon2, lat2) = coords[0], coords[-1]
            true_dir = _compass(lat1, lon1, lat2, lon2)
            id_dir = road.id_directions[i] if road.id_directions else true_dir
            if _angle(_BEARING[id_dir], _bearing(lat1, lon1, lat2, lon2)) >= 90.0:
                raise SiteBuildError(
                    f"road {road.slug} piece {i + 1}: id direction {id_dir!r} is off the real bearing"
                )
            number = "" if len(pieces) == 1 else f"{i + 1:02d}"
            label = road.name if len(pieces) == 1 else f"{road.name} (đoạn {i + 1})"
            length = round(_length_m(coords))
            middle = LineString(coords).interpolate(0.5, normalized=True)
            units = places.unit_props(middle.x, middle.y, f"segment {road.slug} piece {i + 1}")
            for line, d_id, d_true in (
                (coords, id_dir, true_dir),
                (coords[::-1], _OPPOSITE[id_dir], _OPPOSITE[true_dir]),
            ):
                source_id = f"seg-{road.slug}-{number}{d_id}"
                features.append(
                    {
                        "type": "Feature",
                        "id": source_id,
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[round(x, 6), round(y, 6)] for x, y in line],
                        },
                        "properties": {
                            "source_id": source_id,
                            "name": f"{label} – hướng {_DIRECTION_VI[d_true]}",
                            "road": road.name,
                            "road_slug": road.slug,
                            "osm": list(road.osm),
                            "piece": i + 1,
                            "direction": d_true,
                            "free_flow_kmh": float(road.free_flow_kmh),
                            "lanes": road.lanes,
                            "bridge": i in road.bridge_pieces,
                            "length_m": length,
                            "zone": road.zone,
                            "peak_load": road.peak_load,
                            **units,
                        },
                    }
                )
    return features


def camera_features(places: Places) -> list[dict]:
    """Intersections and landmarks, both ends of every bridge, cameras on the roads of the former
    Hải Dương, and one-stop service counters."""
    features = [
        _point(f"cam-{suffix}", name, lon, lat, type=kind, zone=zone, analytics=True,
               **places.unit_props(lon, lat, f"cam-{suffix}"))
        for suffix, name, lat, lon, kind, zone in INTERSECTIONS
    ]  # fmt: skip
    for road in ROADS:
        pieces = places.roads.route(road) if road.bridge_pieces else []
        for i in road.bridge_pieces:
            ends = (pieces[i][0], pieces[i][-1])
            for end, (lon, lat) in enumerate(ends, start=1):
                other = ends[1] if end == 1 else ends[0]
                side = _DIRECTION_VI[_compass(other[1], other[0], lat, lon)]
                name = f"{road.bridge or road.name} – đầu cầu phía {side}"
                if road.slug == "tanvulachhuyen":
                    name = f"Cầu Tân Vũ – Lạch Huyện – đầu cầu {'Đình Vũ' if end == 1 else 'Cát Hải'}"
                source_id = f"cam-{road.camera_slug or road.slug}-{end:02d}"
                features.append(
                    _point(source_id, name, lon, lat, type="bridge", zone=road.zone, analytics=True, road=road.name,
                           **places.unit_props(lon, lat, source_id))
                )  # fmt: skip
    for suffix, slug, lat, lon, zone in ROAD_CAMERAS:
        road = _road(slug)
        x, y, d, _, _ = places.roads.snap(places.roads.claimed(road.osm), lon, lat)
        if d > MAX_WAYPOINT_SNAP_M:
            raise SiteBuildError(f"cam-{suffix}: {road.osm} is {d:.0f} m away")
        units = places.unit_props(x, y, f"cam-{suffix}")
        name = f"{road.name} – {units['admin_unit_name']}"
        features.append(
            _point(
                f"cam-{suffix}",
                name,
                x,
                y,
                type="intersection",
                zone=zone,
                analytics=True,
                road=road.name,
                **units,
            )
        )
    for suffix, name, lat, lon in SERVICE_COUNTERS:
        features.append(
            _point(f"cam-motcua-{suffix}", name, lon, lat, type="service_counter", zone="service", analytics=False,
                   **places.unit_props(lon, lat, f"cam-motcua-{suffix}"))
        )  # fmt: skip
    for suffix, lat, lon in UNIT_COUNTERS:
        code = places.new.assign(lon, lat)
        if code is None:
            raise SiteBuildError(f"cam-motcua-{suffix} ({lat}, {lon}) is in no unit")
        x, y = places.label_point(code)
        unit = places.post.unit(code)
        features.append(
            _point(f"cam-motcua-{suffix}", f"Bộ phận một cửa {unit.kind.lower()} {unit.name}", x, y,
                   type="service_counter", zone="service", analytics=False, position="unit label point",
                   **places.unit_props(x, y, f"cam-motcua-{suffix}"))
        )  # fmt: skip
    return features


def air_features(places: Places) -> list[dict]:
    return [
        _point(f"air-{suffix}", f"Trạm quan trắc {name}", lon, lat, zone=zone, pm_factor=factor,
               **places.unit_props(lon, lat, f"air-{suffix}"))
        for suffix, name, lat, lon, zone, factor in AIR_STATIONS
    ]  # fmt: skip


def water_gauge_features(places: Places) -> list[dict]:
    """Water-level gauges on the main rivers and the Hòn Dấu tide gauge (alarm levels simulated)."""
    features = []
    for suffix, river, lat, lon, kind, bd1, bd2, bd3 in WATER_GAUGES:
        source_id = f"wl-{suffix}"
        if not bd1 < bd2 < bd3:
            raise SiteBuildError(
                f"{source_id}: alarm levels must rise BĐ1 < BĐ2 < BĐ3, got {bd1}, {bd2}, {bd3}"
            )
        if suffix == HON_DAU:
            x, y = places.hon_dau()
            name, river_name = "Trạm hải văn Hòn Dấu", "Biển (Vịnh Bắc Bộ)"
        else:
            assert river is not None
            x, y = places.on_river(river, lon, lat, source_id)
            units = places.unit_props(x, y, source_id)
            name, river_name = (
                f"Trạm thủy văn {river.removeprefix('Sông ')} – {units['admin_unit_name']}",
                river,
            )
        features.append(
            _point(source_id, name, x, y, kind=kind, river=river_name,
                   alarm_levels_m={"BD1": bd1, "BD2": bd2, "BD3": bd3}, datum="national height datum (Hòn Dấu)",
                   simulated_levels=True, **places.unit_props(x, y, source_id))
        )  # fmt: skip
    return features


def rain_gauge_features(places: Places) -> list[dict]:
    features = []
    for suffix, name, lat, lon in RAIN_GAUGES:
        source_id = f"rain-{suffix}"
        if suffix == HON_DAU:
            lon, lat = places.hon_dau()
        units = places.unit_props(lon, lat, source_id)
        features.append(
            _point(source_id, name or f"Trạm đo mưa {units['admin_unit_name']}", lon, lat,
                   classes_mm_24h=RAIN_CLASSES_MM_24H, **units)
        )  # fmt: skip
    return features


def _collection(features: list[dict]) -> dict:
    ids = [f["id"] for f in features]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate source ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return {"type": "FeatureCollection", "features": features}


def build(directory: Path = SITES_DIR) -> dict[str, int]:
    """Write the registry files; returns the number of entries per file."""
    places = Places()
    outputs = {
        "cameras.geojson": _collection(camera_features(places)),
        "traffic_segments.geojson": _collection(segment_features(places)),
        "air_stations.geojson": _collection(air_features(places)),
        GAUGE_FILES["water_level"]: _collection(water_gauge_features(places)),
        GAUGE_FILES["rain"]: _collection(rain_gauge_features(places)),
        "channels.json": {"channels": list(CHANNELS)},
    }
    every = [f["id"] for name, doc in outputs.items() if name != "channels.json" for f in doc["features"]]
    every += [c["source_id"] for c in CHANNELS]
    if len(every) != len(set(every)):
        raise ValueError(
            f"source ids used twice across files: {sorted({i for i in every if every.count(i) > 1})}"
        )
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, data in outputs.items():
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        (directory / name).write_text(text, encoding="utf-8")
        counts[name] = len(data.get("features", data.get("channels", [])))
    return counts


if __name__ == "__main__":
    for file, n in build().items():
        print(f"{file}: {n}")
