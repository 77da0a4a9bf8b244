"""Administrative boundary sets, versioned by the date they take effect.

A boundary set is one administrative map of the city in force over a period, e.g. the pre-2025
hierarchy (city → 15 quận/huyện → xã/phường/thị trấn) or the one in force from 2025-07-01 (city →
114 xã/phường/đặc khu). On disk a set is one GeoJSON FeatureCollection (EPSG:4326) whose foreign
member ``boundary_set`` holds the metadata and whose features carry ``code``, ``name``, ``level``,
``parent_code`` and ``kind`` (Vietnamese unit type: Quận, Huyện, Phường, Xã, Đặc khu …).

Sets come from three places, in this order of preference on equal dates: the installed sets
directory (``ioc geodata import``); the real pre-2025 district polygons read at run time from
``Settings().shared_data_dir / "boundaries"`` (GPL-3.0, never copied into the product); and the
sets bundled in ``geodata/data/boundary_sets/`` so a fresh clone draws the real city: the 114
units in force from 2025-07-01 (real polygons, MIT) and an approximate pre-2025 district set
derived from them (used when the GPL files are absent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geodata import attribution
from geodata.bands import (
    ZoomBand,
    drop_degenerate,
    geometry_json,
    get_band,
    round_geometry,
    simplify_coverage,
)
from ioc.settings import Settings

DEFAULT_SETS_DIR = Path(__file__).resolve().parent / "data" / "boundary_sets"
SET_SUFFIX = ".geojson"
METADATA_KEY = "boundary_set"
# Top-down order used to sort level names found in a file; unknown levels go last.
LEVEL_ORDER = ("country", "province", "city", "district", "commune")


def installed_sets_dir(settings: Settings | None = None) -> Path:
    """Where ``ioc geodata import`` installs boundary sets: ``<data_dir>/geodata/boundary_sets``."""
    return (settings or Settings()).data_dir / "geodata" / "boundary_sets"


def sort_levels(levels: Iterable[str]) -> tuple[str, ...]:
    """Distinct level names ordered top-down (known names first, others in first-seen order)."""
    seen = list(dict.fromkeys(levels))
    known = [lv for lv in LEVEL_ORDER if lv in seen]
    return tuple(known + [lv for lv in seen if lv not in LEVEL_ORDER])


@dataclass(frozen=True, slots=True)
class AdminUnit:
    """One administrative unit: code, Vietnamese name, level, parent, geometry (EPSG:4326)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: BaseGeometry
    kind: str | None = None  # Vietnamese unit type as published: "Quận", "Xã", "Đặc khu" …
    approximate: bool = False
    properties: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def full_name(self) -> str:
        """Name with its unit type ("Quận Hồng Bàng"), without doubling a type already present."""
        if not self.kind or self.name.lower().startswith(self.kind.lower()):
            return self.name
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class BoundarySet:
    """A versioned administrative map. ``effective_to`` is exclusive: the first day not covered."""

    id: str
    effective_from: date | None
    effective_to: date | None
    levels: tuple[str, ...]
    source: str
    licence: str
    features: tuple[AdminUnit, ...]
    approximate: bool = False
    path: Path | None = field(default=None, compare=False)
    attribution: str = ""  # the credit line a map drawing this set must show

    def __post_init__(self) -> None:
        if self.effective_from and self.effective_to and self.effective_to <= self.effective_from:
            raise ValueError(
                f"boundary set {self.id!r}: effective_to {self.effective_to} is not after "
                f"effective_from {self.effective_from}"
            )
        unknown = {u.level for u in self.features} - set(self.levels)
        if unknown:
            raise ValueError(f"boundary set {self.id!r}: levels {sorted(unknown)} not in {self.levels}")

    def in_force(self, on: date) -> bool:
        """True when ``on`` lies in [effective_from, effective_to)."""
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on < self.effective_to
        )

    @cached_property
    def _by_code(self) -> dict[str, AdminUnit]:
        return {u.code: u for u in self.features}

    def unit(self, code: str) -> AdminUnit:
        """The unit with this code; KeyError naming the code and the set otherwise."""
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"no unit with code {code!r} in boundary set {self.id!r}") from None

    def units(self, level: str) -> tuple[AdminUnit, ...]:
        """All units of one level, in file order."""
        if level not in self.levels:
            raise ValueError(f"unknown level {level!r} for boundary set {self.id!r}; levels: {self.levels}")
        return tuple(u for u in self.features if u.level == level)

    def leaves(self) -> tuple[AdminUnit, ...]:
        """Units with no children: the finest unit everywhere (a district without communes, such as
        Bạch Long Vĩ before 2025, is its own leaf)."""
        parents = {u.parent_code for u in self.features}
        return tuple(u for u in self.features if u.code not in parents)

    def ancestors(self, code: str) -> tuple[AdminUnit, ...]:
        """The chain of parents of a unit, nearest first (stops at a parent not in the set)."""
        chain: list[AdminUnit] = []
        parent = self.unit(code).parent_code
        while parent is not None and parent in self._by_code and len(chain) < len(self.levels):
            chain.append(self._by_code[parent])
            parent = self._by_code[parent].parent_code
        return tuple(chain)

    def counts(self) -> dict[str, int]:
        """Number of units per level, top-down."""
        return {lv: sum(u.level == lv for u in self.features) for lv in self.levels}

    @cached_property
    def _display_cache(self) -> dict[tuple, list[BaseGeometry | None]]:
        return {}


def _date_or_none(value: Any, what: str, source: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{source}: {what} {value!r} is not an ISO date (YYYY-MM-DD)") from None


def boundary_set_from_geojson(doc: dict[str, Any], *, source: str, path: Path | None = None) -> BoundarySet:
    """Build a set from a FeatureCollection in the stored format (metadata member + validated features)."""
    from geodata.validate import BoundaryValidationError, validate_features  # validate imports AdminUnit

    meta = doc.get(METADATA_KEY)
    if not isinstance(meta, dict):
        raise BoundaryValidationError(
            f"{source}: no {METADATA_KEY!r} metadata member; import it with `ioc geodata import`"
        )
    units = validate_features(doc, source=source, default_level=None)
    levels = tuple(meta.get("levels") or sort_levels(u.level for u in units))
    return BoundarySet(
        id=str(meta.get("id") or (path.stem if path else source)),
        effective_from=_date_or_none(meta.get("effective_from"), "effective_from", source),
        effective_to=_date_or_none(meta.get("effective_to"), "effective_to", source),
        levels=levels,
        source=str(meta.get("source", "")),
        licence=str(meta.get("licence", "")),
        features=tuple(units),
        approximate=bool(meta.get("approximate", False)),
        path=path,
        attribution=str(meta.get("attribution", "")),
    )


def _file_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_mtime_ns, st.st_size


def load_boundary_set(path: Path) -> BoundarySet:
    """Read and validate one stored boundary set file (parsed once per file version)."""
    path = Path(path)
    try:
        key = _file_key(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"boundary set file not found: {path}") from None
    return _load_boundary_set(key, path)


@lru_cache(maxsize=32)
def _load_boundary_set(key: tuple[str, int, int], path: Path) -> BoundarySet:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    return boundary_set_from_geojson(doc, source=str(path), path=path)


# --- the real pre-2025 districts, read at run time (GPL-3.0) ------------------------------------

REFORM_DATE = date(2025, 7, 1)  # district level abolished; Hải Dương merged into Hải Phòng
SHARED_PRE2025_ID = "haiphong-haiduong-pre2025-districts"
SHARED_PRE2025_FILES = ("haiphong_pre2025_districts.geojson", "haiduong_pre2025_districts.geojson")
# Level-1 units of the two files (public administrative facts: GSO province codes).
PRE2025_PROVINCES = {"31": ("Hải Phòng", "Thành phố"), "30": ("Hải Dương", "Tỉnh")}
DVHCVN_ATTRIBUTION = f"District boundaries (pre-2025): {attribution.DVHCVN_PRE2025} (GPL-3.0)"


def shared_boundary_sets(settings: Settings | None = None) -> list[BoundarySet]:
    """The real pre-2025 districts (15 of Hải Phòng + 12 of Hải Dương) from the shared data folder,
    with their two provinces; ``[]`` when either file is absent. Read at run time, never copied:
    the files are GPL-3.0. Raises ``BoundaryValidationError`` naming a bad feature."""
    folder = (settings or Settings()).shared_data_dir / "boundaries"
    paths = [folder / name for name in SHARED_PRE2025_FILES]
    if not all(p.is_file() for p in paths):
        return []
    return [_shared_pre2025(tuple(_file_key(p) for p in paths), tuple(paths))]


@lru_cache(maxsize=4)
def _shared_pre2025(keys: tuple, paths: tuple[Path, ...]) -> BoundarySet:
    from geodata.validate import BoundaryValidationError, validate_features  # validate imports AdminUnit

    districts: list[AdminUnit] = []
    for path in paths:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BoundaryValidationError(f"{path}: cannot read GeoJSON ({exc})") from None
        districts += validate_features(doc, source=str(path), default_level="district")
    provinces = []
    for code, (name, kind) in PRE2025_PROVINCES.items():
        members = [u.geometry for u in districts if u.parent_code == code]
        if not members:
            raise BoundaryValidationError(f"{paths}: no district has province code {code!r}")
        provinces.append(
            AdminUnit(code, name, "province", None, shapely.union_all(members), kind,
                      properties={"source": "union of its districts"})
        )  # fmt: skip
    stray = sorted({str(u.parent_code) for u in districts} - set(PRE2025_PROVINCES))
    if stray:
        raise BoundaryValidationError(f"{paths}: districts with unknown province codes {stray}")
    return BoundarySet(
        id=SHARED_PRE2025_ID,
        effective_from=None,
        effective_to=REFORM_DATE,
        levels=("province", "district"),
        source=f"read at run time from {', '.join(p.name for p in paths)} (dvhcvn 2019 snapshot)",
        licence="GPL-3.0 (dvhcvn); loaded as a separate data asset, not part of the product",
        features=(*provinces, *districts),
        approximate=False,
        path=paths[0],
        attribution=DVHCVN_ATTRIBUTION,
    )


def load_boundary_sets(directory: Path | None = None, settings: Settings | None = None) -> list[BoundarySet]:
    """All sets in ``directory``; by default the installed sets, the real pre-2025 districts from
    the shared data folder (when present), then the bundled sets.

    That order matters on equal effective dates: :func:`boundary_set_for` prefers exact sets over
    approximate ones, then the earlier one in the list.
    """
    if directory is not None:
        return _sets_in(Path(directory))
    return [
        *_sets_in(installed_sets_dir(settings)),
        *shared_boundary_sets(settings),
        *_sets_in(DEFAULT_SETS_DIR),
    ]


def _sets_in(d: Path) -> list[BoundarySet]:
    found = [load_boundary_set(p) for p in sorted(d.glob(f"*{SET_SUFFIX}"))] if d.is_dir() else []
    ids = [s.id for s in found]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        raise ValueError(f"{d}: boundary set ids used by more than one file: {dupes}")
    return found


SET_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def install_boundary_file(
    path: Path,
    *,
    set_id: str | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
    level: str = "district",
    licence: str = "unspecified",
    directory: Path | None = None,
    replace: bool = False,
) -> BoundarySet:
    """Validate a GeoJSON boundary file and install it as a boundary set.

    Features without a ``level`` property get ``level``. The set is stored normalised (our
    property names plus the original ones) as ``<directory>/<set_id>.geojson``; ``directory``
    defaults to :func:`installed_sets_dir`. Raises ``BoundaryValidationError`` naming the bad
    feature, ``FileExistsError`` when the id is taken and ``replace`` is false.
    """
    from geodata.validate import BoundaryValidationError, validate_features  # validate imports AdminUnit

    path = Path(path)
    set_id = set_id or path.stem
    if not SET_ID_PATTERN.match(set_id):
        raise ValueError(f"set id {set_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryValidationError(f"{path}: cannot read GeoJSON ({exc})") from None
    units = validate_features(doc, source=str(path), default_level=level)
    sources = {str(u.properties["source"]) for u in units if u.properties.get("source")}
    boundary_set = BoundarySet(
        id=set_id,
        effective_from=effective_from,
        effective_to=effective_to,
        levels=sort_levels(u.level for u in units),
        source=f"imported from {path.name}" + (f" ({sources.pop()})" if len(sources) == 1 else ""),
        licence=licence,
        features=tuple(units),
        approximate=all(u.approximate for u in units),
    )
    target = (installed_sets_dir() if directory is None else Path(directory)) / f"{set_id}{SET_SUFFIX}"
    if target.exists() and not replace:
        raise FileExistsError(f"boundary set {set_id!r} is already installed at {target}; use replace")
    tmp = save_boundary_set(boundary_set, target.with_name(f".{target.name}.tmp"))
    tmp.replace(target)  # atomic: a reader never sees half a file
    return load_boundary_set(target)


def boundary_set_for(on: date, sets: Sequence[BoundarySet] | None = None) -> BoundarySet:
    """The set in force on a date: among those in force, the latest ``effective_from`` wins
    (a newer version supersedes an open-ended older one); ties go to exact over approximate sets,
    then to the earlier one in ``sets``."""
    candidates = load_boundary_sets() if sets is None else sets
    in_force = [s for s in candidates if s.in_force(on)]
    if not in_force:
        raise LookupError(
            f"no boundary set in force on {on.isoformat()} (among {[s.id for s in candidates]})"
        )
    order = {id(s): i for i, s in enumerate(in_force)}
    return max(
        in_force,
        key=lambda s: (s.effective_from or date.min, not s.approximate, -order[id(s)]),
    )


def boundary_set_to_geojson(boundary_set: BoundarySet, *, decimals: int = 6) -> dict[str, Any]:
    """The stored form of a set (full geometry, coordinates rounded to ``decimals``)."""
    meta = {
        "id": boundary_set.id,
        "effective_from": boundary_set.effective_from.isoformat() if boundary_set.effective_from else None,
        "effective_to": boundary_set.effective_to.isoformat() if boundary_set.effective_to else None,
        "levels": list(boundary_set.levels),
        "source": boundary_set.source,
        "licence": boundary_set.licence,
        "approximate": boundary_set.approximate,
        "attribution": boundary_set.attribution,
    }
    return {
        "type": "FeatureCollection",
        METADATA_KEY: meta,
        "features": [_feature(u, u.geometry, decimals, extra=True) for u in boundary_set.features],
    }


def save_boundary_set(boundary_set: BoundarySet, path: Path, *, decimals: int = 6) -> Path:
    """Write a set in the stored format (UTF-8, Vietnamese kept readable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_boundary_set(boundary_set, decimals=decimals), encoding="utf-8")
    return path


def dumps_boundary_set(boundary_set: BoundarySet, *, decimals: int = 6) -> str:
    """The exact text :func:`save_boundary_set` writes (compact JSON, one trailing newline)."""
    doc = boundary_set_to_geojson(boundary_set, decimals=decimals)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def to_geojson(
    boundary_set: BoundarySet, level: str | None, *, tolerance: float = 0.0003, decimals: int = 5
) -> dict[str, Any]:
    """A FeatureCollection of one level (``None``: the leaves) for the map.

    Geometry is simplified as a coverage (neighbours share each simplified border, so no gaps
    open between them; ``tolerance`` in degrees, √ of the triangle areas removed, 0.0003° ≈ 30 m)
    and rounded to ``decimals``. The collection carries the set's id and attribution.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    units = boundary_set.leaves() if level is None else boundary_set.units(level)
    geoms = _display_geometries(boundary_set, level, tolerance, decimals)
    features = [_feature(u, g, None, extra=False) for u, g in zip(units, geoms, strict=True) if g is not None]
    return {
        "type": "FeatureCollection",
        "boundary_set": boundary_set.id,
        "approximate": boundary_set.approximate,
        "attribution": boundary_set.attribution,
        "features": features,
    }


def boundaries_geojson(
    boundary_set: BoundarySet, band: ZoomBand | str = "city", level: str | None = None
) -> dict[str, Any]:
    """The units of one level (default: the leaves) simplified for a zoom band ("city" ~z9-10,
    "district" ~z11-12, "street" z13+); see :mod:`geodata.bands`."""
    b = get_band(band)
    doc = to_geojson(boundary_set, level, tolerance=b.area_tolerance, decimals=b.decimals)
    doc["band"] = b.name
    return doc


def _display_geometries(
    boundary_set: BoundarySet, level: str | None, tolerance: float, decimals: int
) -> list[BaseGeometry | None]:
    """Simplified, rounded geometry per unit, computed once per set and parameters."""
    cache = boundary_set._display_cache
    key = (level, float(tolerance), int(decimals))
    if key not in cache:
        units = boundary_set.leaves() if level is None else boundary_set.units(level)
        simplified = simplify_coverage([u.geometry for u in units], tolerance)
        cache[key] = [drop_degenerate(round_geometry(g, decimals)) for g in simplified]
    return cache[key]


def _feature(unit: AdminUnit, geom: BaseGeometry, decimals: int | None, *, extra: bool) -> dict[str, Any]:
    rounded = geom if decimals is None else round_geometry(geom, decimals)  # None: already rounded
    props: dict[str, Any] = dict(unit.properties) if extra else {}
    props.update(
        code=unit.code,
        name=unit.name,
        full_name=unit.full_name,
        level=unit.level,
        parent_code=unit.parent_code,
        kind=unit.kind,
        approximate=unit.approximate,
    )
    return {"type": "Feature", "properties": props, "geometry": geometry_json(rounded)}


# --- bounds for fitBounds --------------------------------------------------------------------

Bbox = tuple[float, float, float, float]  # west, south, east, north (lon/lat)


@dataclass(frozen=True)
class CityBounds:
    """Where to fit the map: the mainland with its near islands (Cát Hải, Cát Bà), and the far
    offshore parts (Bạch Long Vĩ, ~110 km out) for an inset; ``offshore`` is None if there are none."""

    main: Bbox
    offshore: Bbox | None

    @staticmethod
    def leaflet(bbox: Bbox) -> list[list[float]]:
        """``[[south, west], [north, east]]`` as Leaflet's fitBounds wants."""
        w, s, e, n = bbox
        return [[s, w], [n, e]]


def city_bounds(boundary_set: BoundarySet | None = None, *, gap_deg: float = 0.5) -> CityBounds:
    """Bounds of the units of a set (default: the bundled 2025 set): polygon parts within
    ``gap_deg`` (≈ 50 km) of the largest one, chained, form the main area; the rest is offshore."""
    bs = boundary_set or load_boundary_set(DEFAULT_SETS_DIR / f"{POST2025_ID}{SET_SUFFIX}")
    parts = shapely.get_parts([u.geometry for u in bs.leaves()])
    if parts.size == 0:
        raise ValueError(f"boundary set {bs.id!r} has no geometry")
    main = np.zeros(parts.size, dtype=bool)
    main[int(np.argmax(shapely.area(parts)))] = True
    while True:
        grow = ~main & shapely.dwithin(parts, shapely.union_all(parts[main]), gap_deg)
        if not grow.any():
            break
        main |= grow
    rest = parts[~main]
    return CityBounds(
        main=tuple(float(v) for v in shapely.total_bounds(parts[main])),
        offshore=tuple(float(v) for v in shapely.total_bounds(rest)) if rest.size else None,
    )


POST2025_ID = "haiphong-2025-communes"
