"""What operators put on the map beside the live data: flood areas and simulation (scenario) layers.

Both arrive as GeoJSON (EPSG:4326) and are checked at the boundary like boundary files
(:mod:`geodata.validate`): a FeatureCollection, WGS84, valid geometries inside the city's reach, and
for flood areas a depth and a time. Every error names the file and the feature.

- A **flood area** (vùng ngập) is an observed flooded area, or a flood-prone one (vùng có nguy cơ
  ngập), drawn on the map or imported, with its depth (cm) and the time it was observed.
- A **simulation layer** (lớp mô phỏng) is a scenario computed elsewhere, e.g. a flood extent or a
  traffic diversion from the city's Digital Twin, with a name, the scenario's time and an author. It
  is stored apart from every live table and no rule reads it: it can never raise a live alert. Every
  view and export labels it ``MÔ PHỎNG``.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, LiteralString

import psycopg
import shapely
from psycopg.types.json import Jsonb
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from geodata.validate import BoundaryValidationError, check_crs

SIMULATION_LABEL = "MÔ PHỎNG"
SIMULATION_LABEL_EN = "SIMULATION"
# Hải Phòng after the 2025 merger with Hải Dương, with a margin: coordinates outside are a wrong CRS
# or a wrong file, not a scenario of this city.
CITY_BOUNDS = (105.9, 20.4, 107.4, 21.4)  # lon min, lat min, lon max, lat max
GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
MAX_FEATURES = 20_000
DEPTH_KEYS = ("depth_cm", "do_sau_cm", "depth")  # "depth" is read as metres (the Digital Twin's unit)
TIME_KEYS = ("observed_at", "time", "thoi_gian")


class OverlayError(ValueError):
    """A GeoJSON overlay that cannot be used; the message names the file and the feature."""


@dataclass(frozen=True, slots=True)
class CheckedFeature:
    geometry: dict[str, Any]
    properties: dict[str, Any]


def _label(source: str, i: int, props: Mapping[str, Any]) -> str:
    name = props.get("name") or props.get("ten")
    return f"{source}: feature #{i}" + (f" ({name!r})" if name else "")


def check_features(doc: Any, *, source: str, polygons_only: bool = False) -> list[CheckedFeature]:
    """Validate a FeatureCollection of overlay features; raise :class:`OverlayError` on the first bad one."""
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, Mapping) else type(doc).__name__
        raise OverlayError(f"{source}: expected a GeoJSON FeatureCollection, got {got!r}")
    try:
        check_crs(doc, source=source)
    except BoundaryValidationError as exc:
        raise OverlayError(str(exc)) from None
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise OverlayError(f"{source}: the FeatureCollection has no features")
    if len(features) > MAX_FEATURES:
        raise OverlayError(f"{source}: {len(features)} features; at most {MAX_FEATURES} per layer")
    allowed = ("Polygon", "MultiPolygon") if polygons_only else GEOMETRY_TYPES
    out = []
    w, s, e, n = CITY_BOUNDS
    for i, feat in enumerate(features):
        if not isinstance(feat, Mapping) or feat.get("type") != "Feature":
            raise OverlayError(f"{source}: feature #{i}: not a GeoJSON Feature")
        props = feat.get("properties") or {}
        if not isinstance(props, Mapping):
            raise OverlayError(f"{source}: feature #{i}: 'properties' is not an object")
        label = _label(source, i, props)
        geom = feat.get("geometry")
        if not isinstance(geom, Mapping) or geom.get("type") not in allowed:
            got = geom.get("type") if isinstance(geom, Mapping) else geom
            raise OverlayError(f"{label}: geometry must be one of {', '.join(allowed)}, got {got!r}")
        try:
            g = shape(geom)
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise OverlayError(f"{label}: unreadable coordinates: {exc}") from None
        if g.is_empty:
            raise OverlayError(f"{label}: empty geometry")
        coords = shapely.get_coordinates(g)
        if not all(math.isfinite(v) for v in coords.ravel()):
            raise OverlayError(f"{label}: non-finite coordinate")
        x0, y0, x1, y1 = g.bounds
        if x0 < w or x1 > e or y0 < s or y1 > n:
            raise OverlayError(
                f"{label}: lies outside Hải Phòng ({x0:.4f}, {y0:.4f} … {x1:.4f}, {y1:.4f}); "
                "is the file in a projected CRS such as EPSG:3857, or lon/lat swapped?"
            )
        if not g.is_valid:
            raise OverlayError(f"{label}: invalid geometry: {explain_validity(g)}")
        out.append(CheckedFeature(dict(mapping(g)), _plain(props)))
    return out


def _plain(props: Mapping[str, Any]) -> dict[str, Any]:
    """Properties as JSON-ready scalars (nested values kept as JSON text): they end up in tooltips."""
    return {str(k): v if v is None or isinstance(v, bool | int | float | str) else json.dumps(v, ensure_ascii=False)
            for k, v in props.items()}


def read_geojson(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise OverlayError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise OverlayError(f"{path}: not valid JSON ({exc})") from None


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise OverlayError(f"{what} {value.isoformat()} has no time zone; give one, e.g. +07:00")
    return value


# --- simulation layers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimulationLayer:
    layer_id: uuid.UUID
    name: str
    scenario_time: datetime
    author: str
    feature_count: int
    imported_at: datetime
    features: Mapping[str, Any]  # the FeatureCollection as stored

    @property
    def title(self) -> str:
        return f"{SIMULATION_LABEL}: {self.name}"


_INSERT_SIMULATION: LiteralString = (
    "INSERT INTO simulation_layers (layer_id, name, scenario_time, author, features, feature_count, source_file)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_SELECT_SIMULATIONS: LiteralString = (
    "SELECT layer_id, name, scenario_time, author, feature_count, imported_at, features FROM simulation_layers"
    " WHERE active ORDER BY imported_at DESC LIMIT %s"
)


def import_simulation(
    conn: psycopg.Connection, doc: Any, *, name: str, scenario_time: datetime, author: str, source: str
) -> SimulationLayer:
    """Validate and store a scenario layer; returns it as stored. Nothing is written on error."""
    name, author = name.strip(), author.strip()
    if not name or len(name) > 200:
        raise OverlayError("a simulation layer needs a name of 1–200 characters")
    if not author or len(author) > 128:
        raise OverlayError("a simulation layer needs its author (1–128 characters)")
    _aware(scenario_time, "the scenario time")
    checked = check_features(doc, source=source)
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": f.geometry, "properties": f.properties} for f in checked],
    }
    layer_id = uuid.uuid4()
    with conn.transaction():
        conn.execute(_INSERT_SIMULATION, (layer_id, name, scenario_time, author, Jsonb(collection), len(checked),
                                          source))  # fmt: skip
        row = conn.execute("SELECT imported_at FROM simulation_layers WHERE layer_id = %s", (layer_id,)).fetchone()
    assert row is not None
    return SimulationLayer(layer_id, name, scenario_time, author, len(checked), row[0], collection)


def simulation_layers(conn: psycopg.Connection, limit: int = 20) -> list[SimulationLayer]:
    """The active simulation layers, newest first (one query)."""
    rows = conn.execute(_SELECT_SIMULATIONS, (limit,)).fetchall()
    return [SimulationLayer(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def retire_simulation(conn: psycopg.Connection, layer_id: uuid.UUID) -> bool:
    """Take a simulation layer off the map (kept for the record); False when there is none."""
    with conn.transaction():
        cur = conn.execute("UPDATE simulation_layers SET active = false WHERE layer_id = %s AND active", (layer_id,))
        return cur.rowcount == 1


def labelled_export(layer: SimulationLayer) -> dict[str, Any]:
    """The layer as GeoJSON for export: every feature and the collection say ``MÔ PHỎNG``."""
    features = []
    for f in layer.features.get("features", ()):
        props = {**f.get("properties", {}), "label": SIMULATION_LABEL, "label_en": SIMULATION_LABEL_EN,
                 "simulation": True, "simulation_name": layer.name}
        features.append({"type": "Feature", "geometry": f["geometry"], "properties": props})
    return {
        "type": "FeatureCollection",
        "name": f"{SIMULATION_LABEL} – {layer.name}",
        "simulation": {"label": SIMULATION_LABEL, "name": layer.name, "scenario_time": layer.scenario_time.isoformat(),
                       "author": layer.author, "layer_id": str(layer.layer_id),
                       "note_vi": "Dữ liệu mô phỏng, không phải dữ liệu thời gian thực.",
                       "note_en": "Simulated data, not live data."},
        "features": features,
    }


# --- flood areas ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FloodArea:
    area_id: uuid.UUID
    name: str
    depth_cm: float | None
    observed_at: datetime
    author: str
    origin: str  # drawn | imported
    prone: bool
    geometry: Mapping[str, Any]


_INSERT_AREA: LiteralString = (
    "INSERT INTO flood_areas (area_id, name, depth_cm, observed_at, author, origin, prone, geometry)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def _depth_cm(props: Mapping[str, Any], default: float | None, label: str) -> float | None:
    for key in DEPTH_KEYS:
        if props.get(key) is not None:
            try:
                value = float(props[key])
            except (TypeError, ValueError):
                raise OverlayError(f"{label}: {key}={props[key]!r} is not a number") from None
            cm = value * 100 if key == "depth" else value
            if not 0 <= cm <= 1000:
                raise OverlayError(f"{label}: depth {cm:g} cm is outside 0–1000 cm")
            return cm
    return default


def _time(props: Mapping[str, Any], default: datetime | None, label: str) -> datetime:
    for key in TIME_KEYS:
        if props.get(key):
            try:
                t = datetime.fromisoformat(str(props[key]))
            except ValueError:
                raise OverlayError(f"{label}: {key}={props[key]!r} is not an ISO time") from None
            return _aware(t, f"{label}: {key}")
    if default is None:
        raise OverlayError(f"{label}: no time (one of {', '.join(TIME_KEYS)}) and none given with --time")
    return default


def add_flood_areas(
    conn: psycopg.Connection,
    doc: Any,
    *,
    author: str,
    source: str,
    origin: str = "imported",
    observed_at: datetime | None = None,
    depth_cm: float | None = None,
    prone: bool = False,
    name: str | None = None,
) -> list[FloodArea]:
    """Validate and store flood areas (polygons): each feature's depth and time, or the defaults given."""
    if origin not in ("drawn", "imported"):
        raise OverlayError(f"origin must be 'drawn' or 'imported', got {origin!r}")
    author = author.strip()
    if not author:
        raise OverlayError("a flood area needs its author")
    if observed_at is not None:
        _aware(observed_at, "the time")
    checked = check_features(doc, source=source, polygons_only=True)
    out: list[FloodArea] = []
    for i, f in enumerate(checked):
        label = _label(source, i, f.properties)
        depth = _depth_cm(f.properties, depth_cm, label)
        if depth is None and not prone:
            raise OverlayError(f"{label}: no depth (one of {', '.join(DEPTH_KEYS)}) and none given with --depth-cm")
        area_name = str(f.properties.get("name") or f.properties.get("ten") or name or f"{Path(source).stem} #{i + 1}")
        out.append(FloodArea(uuid.uuid4(), area_name[:200], depth, _time(f.properties, observed_at, label), author,
                             origin, prone, f.geometry))  # fmt: skip
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(_INSERT_AREA, [(a.area_id, a.name, a.depth_cm, a.observed_at, a.author, a.origin, a.prone,
                                        Jsonb(dict(a.geometry))) for a in out])  # fmt: skip
    return out


def flood_areas(conn: psycopg.Connection, since: datetime, limit: int = 500) -> list[FloodArea]:
    """Flood-prone areas, and flood areas observed since ``since`` (one query)."""
    rows = conn.execute(
        "SELECT area_id, name, depth_cm, observed_at, author, origin, prone, geometry FROM flood_areas"
        " WHERE prone OR observed_at >= %s ORDER BY observed_at DESC LIMIT %s",
        (since, limit),
    ).fetchall()
    return [FloodArea(*r) for r in rows]


def bbox(geometries: Sequence[Mapping[str, Any]]) -> tuple[float, float, float, float] | None:
    if not geometries:
        return None
    return tuple(shapely.union_all([shape(g) for g in geometries]).bounds)  # type: ignore[return-value]


__all__ = [
    "SIMULATION_LABEL",
    "FloodArea",
    "OverlayError",
    "SimulationLayer",
    "add_flood_areas",
    "check_features",
    "flood_areas",
    "import_simulation",
    "labelled_export",
    "read_geojson",
    "retire_simulation",
    "simulation_layers",
]
