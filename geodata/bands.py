"""Zoom bands: how much geometry a browser gets at city, district and street zoom.

A band fixes a simplification tolerance and a coordinate precision just under one screen pixel at
its deepest zoom (Web Mercator at 20.8° N: ~146 m/px at z10, ~36 m/px at z12, ~4.6 m/px at z15),
so what a browser downloads for the city view is a small fraction of the street view.

Polygons that tile the city are simplified as a *coverage* (shapely's ``coverage_simplify``): each
shared border is simplified once, so neighbours keep exactly the same edge and no gap or overlap
appears between them. Lines are simplified one by one (Douglas-Peucker).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class ZoomBand:
    """One zoom band. ``area_tolerance`` is coverage_simplify's (√ of the triangle areas removed,
    degrees), ``line_tolerance`` Douglas-Peucker's (degrees), ``decimals`` the coordinate rounding."""

    name: str
    min_zoom: int
    max_zoom: int  # inclusive
    area_tolerance: float
    line_tolerance: float
    decimals: int

    def contains(self, zoom: float) -> bool:
        return self.min_zoom <= zoom < self.max_zoom + 1


# 1e-4° ≈ 10.4 m east-west, 11.1 m north-south at Hải Phòng's latitude.
BANDS: tuple[ZoomBand, ...] = (
    ZoomBand("city", 0, 10, area_tolerance=0.0006, line_tolerance=0.0004, decimals=4),
    ZoomBand("district", 11, 12, area_tolerance=0.0002, line_tolerance=0.0001, decimals=5),
    ZoomBand("street", 13, 22, area_tolerance=0.00005, line_tolerance=0.00003, decimals=5),
)
BAND_NAMES = tuple(b.name for b in BANDS)


def get_band(band: ZoomBand | str) -> ZoomBand:
    """A band by name ("city", "district", "street"); a ZoomBand is returned as is."""
    if isinstance(band, ZoomBand):
        return band
    for b in BANDS:
        if b.name == band:
            return b
    raise ValueError(f"unknown zoom band {band!r}; bands: {', '.join(BAND_NAMES)}")


def band_for_zoom(zoom: float) -> ZoomBand:
    """The band drawn at a Leaflet zoom level (below 0 → city, above 22 → street)."""
    if not np.isfinite(zoom):
        raise ValueError(f"zoom must be a finite number, got {zoom!r}")
    return next((b for b in BANDS if b.contains(zoom)), BANDS[0] if zoom < BANDS[0].min_zoom else BANDS[-1])


def simplify_coverage(geoms: Sequence[BaseGeometry], tolerance: float) -> list[BaseGeometry]:
    """Simplify polygons that tile an area without opening gaps between neighbours.

    A set that is not an exact coverage (borders digitised twice, slivers of overlap) is first made
    one with ``coverage_clean``, for display only; a unit the cleaning would empty keeps its own
    geometry, simplified alone.
    """
    arr = np.asarray(list(geoms), dtype=object)
    if arr.size == 0 or tolerance == 0:
        return list(arr)
    if not shapely.coverage_is_valid(arr):
        cleaned = shapely.coverage_clean(arr)
        empty = shapely.is_empty(cleaned)
        cleaned[empty] = arr[empty]
        arr = cleaned
    out = shapely.coverage_simplify(arr, tolerance)
    bad = ~shapely.is_valid(out) | shapely.is_empty(out)
    out[bad] = shapely.simplify(arr[bad], tolerance, preserve_topology=True)
    return list(out)


def round_geometry(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    """Coordinates rounded to ``decimals``; equal inputs round equally, so shared edges stay shared."""
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def drop_degenerate(geom: BaseGeometry) -> BaseGeometry | None:
    """After rounding: drop polygon parts with no area left and make the rest valid."""
    if geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    if geom.geom_type in ("LineString", "MultiLineString"):
        parts = [p for p in shapely.get_parts(geom) if p.length > 0]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)
    return geom


def geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with plain lists (``mapping`` yields tuples; Dash and json want lists)."""
    return _lists(mapping(geom))


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_lists(v) for v in obj]
    return obj


def dumps(doc: Any) -> bytes:
    """Compact UTF-8 JSON as a browser would receive it."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def payload_bytes(doc: Any) -> tuple[int, int]:
    """(raw, gzip) size in bytes of the compact JSON of ``doc`` (gzip level 6, as web servers use)."""
    raw = dumps(doc)
    return len(raw), len(gzip.compress(raw, compresslevel=6, mtime=0))


def vertex_count(doc: dict[str, Any]) -> int:
    """Number of positions in a FeatureCollection."""
    total = 0
    for f in doc.get("features", ()):
        g = f.get("geometry")
        if g:
            total += int(shapely.get_num_coordinates(shapely.geometry.shape(g)))
    return total
