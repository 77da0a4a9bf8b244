"""The offline vector base map: sea, rivers, main roads, unit boundaries and named places per zoom
band, as JSON-ready FeatureCollections. Properties are theme-independent (class, kind, name, ref,
``min_zoom``); the map's JS styles them light (map, tablet) or dark (wall).

>>> layers = basemap_layers("city")
>>> list(layers)
['sea', 'water', 'boundaries', 'roads', 'landmarks']
>>> layers["roads"]["attribution"] == OSM_ATTRIBUTION
True

Sea, water and roads come from the files ``python -m geodata.build_basemap`` writes into
``geodata/data/basemap/`` (OpenStreetMap, ODbL; GSHHG, LGPL-3.0-or-later; see its NOTICE); the
boundaries from :func:`geodata.boundaries.boundaries_geojson`. Every collection carries the credit
line its data needs in ``attribution``; :func:`basemap_attribution` joins them for the map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from shapely.ops import polylabel

from geodata import attribution
from geodata.bands import ZoomBand, get_band
from geodata.boundaries import (
    DEFAULT_SETS_DIR,
    POST2025_ID,
    SET_SUFFIX,
    BoundarySet,
    CityBounds,
    boundaries_geojson,
    city_bounds,
    load_boundary_set,
)

BASEMAP_DIR = Path(__file__).resolve().parent / "data" / "basemap"
FILE_LAYERS = ("sea", "water", "roads")
LAYERS = ("sea", "water", "boundaries", "roads", "landmarks")  # drawing order, bottom first

OSM_ATTRIBUTION = attribution.OSM
GSHHG_ATTRIBUTION = attribution.GSHHG
NATURAL_EARTH_ATTRIBUTION = attribution.NATURAL_EARTH  # not drawn here; see geodata.attribution
COMMUNES_ATTRIBUTION = attribution.COMMUNES_2025
ATTRIBUTION = attribution.MAP_ATTRIBUTION  # the base map over the bundled 2025 units
ATTRIBUTION_HTML = attribution.MAP_ATTRIBUTION_HTML

__all__ = [
    "ATTRIBUTION",
    "ATTRIBUTION_HTML",
    "COMMUNES_ATTRIBUTION",
    "GSHHG_ATTRIBUTION",
    "LANDMARKS",
    "LAYERS",
    "NATURAL_EARTH_ATTRIBUTION",
    "OSM_ATTRIBUTION",
    "CityBounds",
    "Landmark",
    "basemap_attribution",
    "basemap_layer",
    "basemap_layers",
    "city_bounds",
    "landmarks_geojson",
]


@dataclass(frozen=True)
class Landmark:
    """A well-known place with a published position (facts; ``source`` says where from)."""

    id: str
    name: str
    name_en: str
    category: str  # landmark | transport | port | airport
    lon: float
    lat: float
    source: str
    confidence: str  # high | medium | low, as judged by the source list


# The five places of shared/data/landmarks/haiphong_landmarks.csv (per-row sources there).
LANDMARKS: tuple[Landmark, ...] = (
    Landmark("nha_hat_lon", "Nhà hát lớn Hải Phòng", "Hai Phong Opera House", "landmark", 106.68142, 20.8585,
             "public GitHub landmark list (via shared/data/landmarks)", "medium"),
    Landmark("ga_hai_phong", "Ga Hải Phòng", "Hai Phong railway station", "transport", 106.68805, 20.85629,
             "public GitHub landmark list (via shared/data/landmarks)", "medium"),
    Landmark("cat_bi_airport", "Cảng hàng không quốc tế Cát Bi", "Cat Bi International Airport", "airport",
             106.72472, 20.81917, "Wikipedia infobox 20°49′09″N 106°43′29″E", "high"),
    Landmark("lach_huyen_port", "Cảng Lạch Huyện", "Lach Huyen port (HICT)", "port", 106.90553, 20.798367,
             "public GitHub port seed VNLCH (via shared/data/landmarks)", "medium"),
    Landmark("dinh_vu_port", "Cảng Đình Vũ", "Dinh Vu port", "port", 106.78, 20.845,
             "public GitHub location seed, 4-decimal rounding (via shared/data/landmarks)", "low"),
)  # fmt: skip
LANDMARK_MIN_ZOOM = 10
UNIT_LABEL_MIN_ZOOM = {"Đặc khu": 9, "Phường": 12, "Xã": 12}  # special zones are labelled earlier


def _default_set() -> BoundarySet:
    return load_boundary_set(DEFAULT_SETS_DIR / f"{POST2025_ID}{SET_SUFFIX}")


def basemap_layer(layer: str, band: ZoomBand | str = "city") -> dict[str, Any]:
    """One bundled layer ("sea", "water" or "roads") for a band, as a fresh FeatureCollection.

    Roads: ``class`` (trunk | primary | secondary | tertiary), ``link``, ``name``, ``ref`` (QL.5 …);
    water: ``kind`` (river | canal | tidal_channel), ``name``; sea: ``kind``.
    """
    if layer not in FILE_LAYERS:
        raise ValueError(f"unknown base map layer {layer!r}; bundled layers: {', '.join(FILE_LAYERS)}")
    b = get_band(band)
    path = BASEMAP_DIR / f"{layer}-{b.name}.geojson"
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"base map file missing: {path} (run python -m geodata.build_basemap)"
        ) from None
    return json.loads(_read(path, st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=16)
def _read(path: Path, mtime_ns: int, size: int) -> str:
    return path.read_text(encoding="utf-8")


def landmarks_geojson(
    band: ZoomBand | str = "city", boundary_set: BoundarySet | None = None
) -> dict[str, Any]:
    """Named places and unit labels visible in a band: :data:`LANDMARKS` (``kind`` "landmark") and
    one label point per unit of the set's finest level (``kind`` "unit", inside the unit's largest
    part, pole of inaccessibility), each with the ``min_zoom`` it should appear at."""
    b = get_band(band)
    bs = boundary_set or _default_set()
    features = [
        _point(lm.lon, lm.lat, kind="landmark", id=lm.id, name=lm.name, name_en=lm.name_en,
               category=lm.category, confidence=lm.confidence, min_zoom=LANDMARK_MIN_ZOOM)
        for lm in LANDMARKS
    ]  # fmt: skip
    for code, name, full_name, kind, lon, lat in _unit_labels(bs):
        features.append(
            _point(lon, lat, kind="unit", code=code, name=name, full_name=full_name,
                   min_zoom=UNIT_LABEL_MIN_ZOOM.get(kind or "", 11))
        )  # fmt: skip
    return {
        "type": "FeatureCollection",
        "layer": "landmarks",
        "band": b.name,
        "attribution": bs.attribution,
        "features": [f for f in features if f["properties"]["min_zoom"] <= b.max_zoom],
    }


def _point(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def _unit_labels(bs: BoundarySet) -> list[tuple[str, str, str, str | None, float, float]]:
    cache = bs._display_cache
    if ("labels",) not in cache:
        rows = []
        for u in bs.leaves():
            largest = max(shapely.get_parts(u.geometry), key=lambda p: p.area)
            p = polylabel(largest, tolerance=1e-4)
            rows.append((u.code, u.name, u.full_name, u.kind, round(p.x, 5), round(p.y, 5)))
        cache[("labels",)] = rows
    return cache[("labels",)]


def basemap_layers(
    band: ZoomBand | str = "city", boundary_set: BoundarySet | None = None
) -> dict[str, dict[str, Any]]:
    """Every layer of the base map for a band, in drawing order (:data:`LAYERS`); ``boundary_set``
    defaults to the bundled 2025 units (pass the set in force for another date)."""
    bs = boundary_set or _default_set()
    out = {layer: basemap_layer(layer, band) for layer in ("sea", "water")}
    out["boundaries"] = boundaries_geojson(bs, band)
    out["roads"] = basemap_layer("roads", band)
    out["landmarks"] = landmarks_geojson(band, bs)
    return {layer: out[layer] for layer in LAYERS}


def basemap_attribution(boundary_set: BoundarySet | None = None) -> str:
    """The credit line for a map drawing the base map over ``boundary_set`` (default: 2025 units)."""
    bs = boundary_set or _default_set()
    return attribution.map_attribution(OSM_ATTRIBUTION, GSHHG_ATTRIBUTION, bs.attribution)
