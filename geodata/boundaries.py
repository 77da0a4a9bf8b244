"""Administrative boundary sets, versioned by the date they take effect.

A boundary set is one administrative map of the city in force over a period, e.g. the pre-2025
hierarchy (city → 15 quận/huyện → xã/phường/thị trấn) or the one in force from 2025-07-01 (city →
114 xã/phường/đặc khu). On disk a set is one GeoJSON FeatureCollection (EPSG:4326) whose foreign
member ``boundary_set`` holds the metadata and whose features carry ``code``, ``name``, ``level``,
``parent_code`` and ``kind`` (Vietnamese unit type: Quận, Huyện, Phường, Xã, Đặc khu …).

Sets come from two places: the installed sets directory (``ioc geodata import``) and the
approximate defaults shipped in ``geodata/default/`` so the product runs anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from ioc.settings import Settings

DEFAULT_SETS_DIR = Path(__file__).resolve().parent / "default"
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
    )


def load_boundary_set(path: Path) -> BoundarySet:
    """Read and validate one stored boundary set file."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    return boundary_set_from_geojson(doc, source=str(path), path=path)


def load_boundary_sets(directory: Path | None = None, settings: Settings | None = None) -> list[BoundarySet]:
    """All sets in ``directory``; by default the installed sets, then the shipped defaults.

    With no directory given, installed sets come first so that, on equal effective dates,
    :func:`boundary_set_for` prefers them over the approximate defaults.
    """
    dirs = [Path(directory)] if directory is not None else [installed_sets_dir(settings), DEFAULT_SETS_DIR]
    sets: list[BoundarySet] = []
    for d in dirs:
        found = [load_boundary_set(p) for p in sorted(d.glob(f"*{SET_SUFFIX}"))] if d.is_dir() else []
        ids = [s.id for s in found]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"{d}: boundary set ids used by more than one file: {dupes}")
        sets.extend(found)
    return sets


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
    boundary_set: BoundarySet, level: str, *, tolerance: float = 0.0003, decimals: int = 5
) -> dict[str, Any]:
    """A FeatureCollection of one level for the map: geometry simplified for display
    (``preserve_topology``; ``tolerance`` in degrees, 0.0003° ≈ 30 m) and rounded to 5 decimals."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    features = []
    for u in boundary_set.units(level):
        geom = u.geometry.simplify(tolerance, preserve_topology=True) if tolerance else u.geometry
        features.append(_feature(u, geom, decimals, extra=False))
    return {"type": "FeatureCollection", "features": features}


def _feature(unit: AdminUnit, geom: BaseGeometry, decimals: int, *, extra: bool) -> dict[str, Any]:
    rounded = shapely.transform(geom, lambda xy: np.round(xy, decimals))
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
    return {"type": "Feature", "properties": props, "geometry": _lists(mapping(rounded))}


def _lists(obj: Any) -> Any:
    """mapping() yields nested tuples; JSON consumers (Dash) expect plain lists."""
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_lists(v) for v in obj]
    return obj
