"""The commune-level units as the warnings need them: neighbours, a point inside each, names, lookup.

Built from the boundary set in force (``geodata.boundaries``: an installed set first, else the
shipped default), so the spatial cluster test uses the real units' shared borders. Two units are
neighbours when their polygons touch or overlap (within ``tolerance_deg``, about 20 m, which
forgives the small gaps and slivers of digitised borders).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from types import MappingProxyType

import shapely
from shapely.strtree import STRtree

TOLERANCE_DEG = 0.0002


@dataclass(frozen=True)
class UnitMap:
    set_id: str
    neighbours: Mapping[str, frozenset[str]]
    points: Mapping[str, tuple[float, float]]  # a point inside each unit (lon, lat)
    names: Mapping[str, str]  # code -> full Vietnamese name

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def around(self, code: str) -> frozenset[str]:
        """The unit and its neighbours."""
        return self.neighbours.get(code, frozenset()) | {code}


def build_unit_map(boundary_set, tolerance_deg: float = TOLERANCE_DEG) -> UnitMap:  # type: ignore[no-untyped-def]
    units = boundary_set.leaves()
    geoms = [u.geometry for u in units]
    tree = STRtree(geoms)
    near: dict[str, set[str]] = {u.code: set() for u in units}
    grown = [shapely.buffer(g, tolerance_deg) for g in geoms]
    for i, g in enumerate(grown):
        for j in tree.query(g, predicate="intersects"):
            if j != i:
                near[units[i].code].add(units[int(j)].code)
                near[units[int(j)].code].add(units[i].code)
    points = {}
    for u in units:
        p = u.geometry.representative_point()
        points[u.code] = (round(p.x, 5), round(p.y, 5))
    return UnitMap(
        boundary_set.id,
        MappingProxyType({k: frozenset(v) for k, v in near.items()}),
        MappingProxyType(points),
        MappingProxyType({u.code: u.full_name for u in units}),
    )


@cache
def unit_map_for(on: date) -> UnitMap:
    """The unit map of the boundary set in force on ``on`` (read once per date)."""
    from geodata.boundaries import boundary_set_for, load_boundary_sets

    return build_unit_map(boundary_set_for(on, load_boundary_sets()))


__all__ = ["UnitMap", "build_unit_map", "unit_map_for"]
