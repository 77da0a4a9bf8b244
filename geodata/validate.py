"""Checks on incoming boundary GeoJSON, at the boundary: CRS, geometry, required properties.

Every error names the file and the bad feature (index plus its code/name when known), so an
operator can find it in the source file. Nothing is repaired silently: an invalid ring is
reported with shapely's ``explain_validity`` text, not "fixed" with ``make_valid``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyproj
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.validation import explain_validity

from geodata.boundaries import AdminUnit

# Property aliases, most specific first (dvhcvn uses level2_id/level3_id; Vietnamese files ma/ten).
# dvhcvn files carry their own id as the deepest levelN_id and their parents' ids above it.
CODE_KEYS = ("code", "level3_id", "level2_id", "level1_id_2025", "level1_id", "ma", "ma_dvhc", "id")
NAME_KEYS = ("name", "full_name", "ten", "ten_dvhc", "name_vi")
PARENT_KEYS = ("parent_code", "parent", "level2_id", "province_id_pre2025", "level1_id", "ma_tinh")
KIND_KEYS = ("kind", "type", "loai")
POLYGONAL = ("Polygon", "MultiPolygon")
_CRS84 = pyproj.CRS("OGC:CRS84")


class BoundaryValidationError(ValueError):
    """A boundary file that cannot be used; the message names the file and the bad feature."""


def check_crs(doc: Mapping[str, Any], *, source: str) -> None:
    """Accept an absent ``crs`` member (RFC 7946: WGS84) or one equal to EPSG:4326/CRS84."""
    crs = doc.get("crs")
    if crs is None:
        return
    props = crs.get("properties", {}) if isinstance(crs, Mapping) else {}
    name = props.get("name") or (f"EPSG:{props['code']}" if "code" in props else None)
    if name is None:
        raise BoundaryValidationError(f"{source}: unreadable 'crs' member {crs!r}")
    try:
        parsed = pyproj.CRS.from_user_input(name)
    except CRSError:
        raise BoundaryValidationError(f"{source}: unknown CRS {name!r}; expected EPSG:4326 (WGS84)") from None
    if not parsed.equals(_CRS84, ignore_axis_order=True):
        raise BoundaryValidationError(
            f"{source}: CRS {name!r} is not EPSG:4326 (WGS84); reproject the file first, e.g. "
            "`ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`"
        )


def feature_label(index: int, props: Mapping[str, Any]) -> str:
    """``feature #3 (code='303', name='Hồng Bàng')`` with whatever identifiers the feature has."""
    code, name = _first(props, CODE_KEYS), _first(props, NAME_KEYS)
    ids = ", ".join(f"{k}={v!r}" for k, v in (("code", code), ("name", name)) if v is not None)
    return f"feature #{index}" + (f" ({ids})" if ids else "")


def validate_features(
    doc: Mapping[str, Any], *, source: str, default_level: str | None = "district"
) -> list[AdminUnit]:
    """Validate a FeatureCollection and return its units; raise on the first bad feature.

    ``default_level`` is used for features with no ``level`` property (None: level required).
    """
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, Mapping) else type(doc).__name__
        raise BoundaryValidationError(f"{source}: expected a GeoJSON FeatureCollection, got {got!r}")
    check_crs(doc, source=source)
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryValidationError(f"{source}: the FeatureCollection has no features")
    units: list[AdminUnit] = []
    first_index: dict[str, int] = {}
    for i, feat in enumerate(features):
        unit = _unit(i, feat, source=source, default_level=default_level)
        if unit.code in first_index:
            raise BoundaryValidationError(
                f"{source}: {feature_label(i, feat['properties'])}: code {unit.code!r} already used by "
                f"feature #{first_index[unit.code]}"
            )
        first_index[unit.code] = i
        units.append(unit)
    return units


def _unit(i: int, feat: Any, *, source: str, default_level: str | None) -> AdminUnit:
    if not isinstance(feat, Mapping) or feat.get("type") != "Feature":
        raise BoundaryValidationError(f"{source}: feature #{i}: not a GeoJSON Feature")
    props = feat.get("properties") or {}
    if not isinstance(props, Mapping):
        raise BoundaryValidationError(f"{source}: feature #{i}: 'properties' is not an object")
    label = f"{source}: {feature_label(i, props)}"
    code, name = _first(props, CODE_KEYS), _first(props, NAME_KEYS)
    if code is None:
        raise BoundaryValidationError(f"{label}: missing code (one of the properties {', '.join(CODE_KEYS)})")
    if name is None:
        raise BoundaryValidationError(f"{label}: missing name (one of the properties {', '.join(NAME_KEYS)})")
    level = props.get("level") or default_level
    if not level:
        raise BoundaryValidationError(f"{label}: missing 'level' property")
    code_key = next(k for k in CODE_KEYS if _first(props, (k,)) is not None)
    parent = _first(props, [k for k in PARENT_KEYS if k != code_key])
    return AdminUnit(
        code=code,
        name=name,
        level=str(level),
        parent_code=parent,
        geometry=_geometry(feat.get("geometry"), label),
        kind=_first(props, KIND_KEYS),
        approximate=bool(props.get("approximate", False)),
        properties=dict(props),
    )


def _first(props: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = props.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _geometry(geom: Any, label: str):
    if not isinstance(geom, Mapping) or geom.get("type") not in POLYGONAL:
        got = geom.get("type") if isinstance(geom, Mapping) else geom
        raise BoundaryValidationError(f"{label}: geometry must be Polygon or MultiPolygon, got {got!r}")
    coords = geom.get("coordinates")
    polygons = [coords] if geom["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise BoundaryValidationError(f"{label}: empty {geom['type']}")
    for p, rings in enumerate(polygons):
        if not isinstance(rings, list) or not rings:
            raise BoundaryValidationError(f"{label}: polygon {p} has no rings")
        for r, ring in enumerate(rings):
            _check_ring(ring, f"{label}: polygon {p} ring {r}")
    g = shape(geom)
    if not g.is_valid:
        raise BoundaryValidationError(f"{label}: invalid geometry: {explain_validity(g)}")
    return g


def _check_ring(ring: Any, where: str) -> None:
    try:
        xy = np.asarray(ring, dtype=float)
    except (TypeError, ValueError):
        raise BoundaryValidationError(f"{where}: coordinates are not numbers") from None
    if xy.ndim != 2 or xy.shape[1] not in (2, 3):
        raise BoundaryValidationError(f"{where}: positions must be [lon, lat] pairs")
    if len(xy) < 4:
        raise BoundaryValidationError(f"{where}: a ring needs at least 4 positions, has {len(xy)}")
    if not np.isfinite(xy).all():
        raise BoundaryValidationError(f"{where}: non-finite coordinate")
    if not np.array_equal(xy[0, :2], xy[-1, :2]):
        raise BoundaryValidationError(
            f"{where}: ring is not closed (first {xy[0, :2].tolist()} != last {xy[-1, :2].tolist()})"
        )
    bad = np.flatnonzero((np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90))
    if bad.size:
        lon, lat = xy[bad[0], :2]
        raise BoundaryValidationError(
            f"{where}: position {int(bad[0])} ({_fmt(lon)}, {_fmt(lat)}) is not lon/lat degrees; "
            "is the file in a projected CRS such as EPSG:3857?"
        )


def _fmt(v: float) -> str:
    return f"{v:.6g}" if math.isfinite(v) else str(v)
