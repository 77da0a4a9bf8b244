"""Credit lines a map must show for the data it draws (exact texts from ``shared/data/README.md``).

``map_attribution(...)`` joins the ones in use with " · " for the map's attribution control;
``MAP_ATTRIBUTION_HTML`` is the same with the links the licences ask for.
"""

from __future__ import annotations

OSM = "Map data © OpenStreetMap contributors (ODbL)"
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
# Natural Earth is public domain; the bundled basemap does not draw it (GSHHG's shoreline replaces
# its coarse one, which puts sea over Đình Vũ). Credit it only on a map that adds Natural Earth data.
NATURAL_EARTH = "Natural Earth"
GSHHG = "Shorelines: GSHHG (Wessel & Smith), LGPL-3.0"
COMMUNES_2025 = (
    "Ward/commune boundaries (2025): Vietnamese Provinces Database by Thang Le Quoc (MIT), derived from "
    "Bản đồ đơn vị hành chính (sapnhap.bando.com.vn), NXB Tài nguyên – Môi trường và Bản đồ Việt Nam; "
    "pre-2025 → 2025 mapping: dvhcvn/20250701 (MIT)."
)
DVHCVN_PRE2025 = (
    "Đơn vị hành chính Việt Nam — dvhcvn by Đào Hoàng Sơn (daohoangson), data from gis.chinhphu.vn / "
    "Tổng cục Thống kê"
)
APPROX_PRE2025 = (
    "Pre-2025 districts APPROXIMATE: unions of the 2025 units (Vietnamese Provinces Database, MIT; "
    "dvhcvn/20250701 mapping, MIT)"
)

SEPARATOR = " · "


def map_attribution(*parts: str) -> str:
    """The credit lines in use, once each, in order: ``map_attribution(OSM, GSHHG, COMMUNES_2025)``."""
    return SEPARATOR.join(dict.fromkeys(p for p in parts if p))


BASEMAP = map_attribution(OSM, GSHHG)
MAP_ATTRIBUTION = map_attribution(OSM, GSHHG, COMMUNES_2025)
MAP_ATTRIBUTION_HTML = (
    f'<a href="{OSM_COPYRIGHT_URL}">© OpenStreetMap contributors</a> (ODbL)'
    f"{SEPARATOR}{GSHHG}{SEPARATOR}{COMMUNES_2025}"
)
