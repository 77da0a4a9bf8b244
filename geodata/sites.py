"""Registry of the city's sensor sites: cameras, traffic segments, air stations, feedback channels,
and the water-level and rain gauges.

The registry is project data in ``geodata/sites/`` (written by ``python -m simulators.build_sites``).
Consumers use :func:`known_source_ids` to reject events from unknown sources; the simulators and
the map layers use :func:`load_sites` for positions and properties. Gauges have no event class yet:
:func:`load_gauges` reads them (``kind`` is the plain string "water_level" or "rain").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import shapely.geometry
from shapely.geometry.base import BaseGeometry

from ioc.sources import SOURCES, SourceKind

SITES_DIR = Path(__file__).resolve().parent / "sites"

# One registry file per source kind, named in its declaration (ioc/sources/); feedback "sites" are
# intake channels, which have no geometry of their own.
SITE_FILES: Mapping[SourceKind, str] = MappingProxyType(
    {SourceKind(k): spec.site_file for k, spec in SOURCES.items() if spec.site_file}
)

# Gauges (issue 13, floods) by their physical kind; the same files are the water and rain sources' registries.
GAUGE_FILES: Mapping[str, str] = MappingProxyType(
    {"water_level": "water_gauges.geojson", "rain": "rain_gauges.geojson"}
)

# Where a channel "is": the city's IOC (Trung tâm Giám sát, điều hành đô thị thông minh) seat, in the centre.
CHANNEL_LON, CHANNEL_LAT = 106.6835, 20.8600


class SiteRegistryError(ValueError):
    """A registry file is missing or holds an invalid entry (the message names file and entry)."""


@dataclass(frozen=True)
class Site:
    """One registered source: its id, kind, display name, position and descriptive properties."""

    source_id: str
    kind: SourceKind | str  # a SourceKind; gauges: "water_level" | "rain"
    name: str
    lon: float
    lat: float
    geometry: BaseGeometry  # Point, or LineString for traffic segments
    properties: Mapping[str, Any]  # e.g. road, free_flow_kmh, lanes, district, zone, type


def _site_from_feature(feature: Mapping[str, Any], kind: SourceKind | str, path: Path) -> Site:
    props = dict(feature.get("properties") or {})
    source_id = props.pop("source_id", None) or feature.get("id")
    if not isinstance(source_id, str) or not source_id:
        raise SiteRegistryError(f"{path}: feature without a source_id: {str(feature)[:120]!r}")
    try:
        geometry = shapely.geometry.shape(feature["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SiteRegistryError(f"{path}: {source_id!r} has an invalid geometry: {exc}") from exc
    if geometry.is_empty or geometry.geom_type not in ("Point", "LineString"):
        raise SiteRegistryError(
            f"{path}: {source_id!r} must be a Point or LineString, got {geometry.geom_type}"
        )
    # Label position: the point itself, or the middle of a segment.
    anchor = geometry if geometry.geom_type == "Point" else geometry.interpolate(0.5, normalized=True)
    name = props.pop("name", source_id)
    return Site(source_id, kind, str(name), anchor.x, anchor.y, geometry, MappingProxyType(props))


def _site_from_channel(entry: Mapping[str, Any], kind: SourceKind, path: Path) -> Site:
    source_id = entry.get("source_id")
    if not isinstance(source_id, str) or not source_id:
        raise SiteRegistryError(f"{path}: entry without a source_id: {entry!r}")
    props = {k: v for k, v in entry.items() if k not in ("source_id", "name")}
    point = shapely.geometry.Point(CHANNEL_LON, CHANNEL_LAT)
    return Site(
        source_id,
        kind,
        str(entry.get("name", source_id)),
        CHANNEL_LON,
        CHANNEL_LAT,
        point,
        MappingProxyType(props),
    )


@cache
def _load_kind(directory: Path, kind: SourceKind | str) -> tuple[Site, ...]:
    path = directory / (SITE_FILES[kind] if isinstance(kind, SourceKind) else GAUGE_FILES[kind])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SiteRegistryError(f"site registry file missing: {path}") from exc
    except json.JSONDecodeError as exc:
        raise SiteRegistryError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(data, dict) and ("channels" in data or "sites" in data):  # ids without a place of their own
        entries = data["channels"] if "channels" in data else data["sites"]  # intake channels, police units …
        sites = tuple(_site_from_channel(entry, kind, path) for entry in entries)
    else:
        if data.get("type") != "FeatureCollection":
            raise SiteRegistryError(f"{path}: expected a GeoJSON FeatureCollection, got {data.get('type')!r}")
        sites = tuple(_site_from_feature(f, kind, path) for f in data["features"])
    seen: set[str] = set()
    for site in sites:
        if site.source_id in seen:
            raise SiteRegistryError(f"{path}: duplicate source_id {site.source_id!r}")
        seen.add(site.source_id)
    return sites


def load_sites(kind: SourceKind | None = None, directory: Path | None = None) -> list[Site]:
    """Sites of one kind (or all kinds, in SourceKind order); files are read once per directory."""
    directory = (directory or SITES_DIR).resolve()
    kinds = list(SITE_FILES) if kind is None else [SourceKind(kind)]
    return [site for k in kinds if k in SITE_FILES for site in _load_kind(directory, k)]


def load_gauges(kind: str | None = None, directory: Path | None = None) -> list[Site]:
    """Water-level ("water_level") and/or rain ("rain") gauges, as Sites with properties such as
    ``river`` and ``alarm_levels_m`` {"BD1", "BD2", "BD3"} (simulated) or ``classes_mm_24h``."""
    if kind is not None and kind not in GAUGE_FILES:
        raise ValueError(f"unknown gauge kind {kind!r}; kinds: {', '.join(GAUGE_FILES)}")
    directory = (directory or SITES_DIR).resolve()
    kinds = list(GAUGE_FILES) if kind is None else [kind]
    return [site for k in kinds for site in _load_kind(directory, k)]


def known_source_ids(directory: Path | None = None) -> dict[SourceKind, frozenset[str]]:
    """Registered source ids per kind: an event whose source_id is not here is dead-lettered."""
    return {k: frozenset(s.source_id for s in load_sites(k, directory)) for k in SourceKind}


def sites_by_id(directory: Path | None = None) -> dict[str, Site]:
    """Every registered site keyed by source id (ids are unique across kinds)."""
    return {s.source_id: s for s in load_sites(None, directory)}
