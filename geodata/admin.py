"""Point → administrative unit, with a shapely STRtree so ingest stays fast.

>>> from datetime import date
>>> from geodata.boundaries import boundary_set_for, load_boundary_sets, DEFAULT_SETS_DIR
>>> assigner = AdminAssigner(boundary_set_for(date(2024, 5, 1), load_boundary_sets(DEFAULT_SETS_DIR)), "district")
>>> assigner.name(assigner.assign(106.6800, 20.8620))
'Hồng Bàng'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.strtree import STRtree

from geodata.boundaries import AdminUnit, BoundarySet


class AdminAssigner:
    """Assigns lon/lat points (EPSG:4326) to the units of one level of a boundary set.

    ``level=None`` uses the set's leaves: the finest unit everywhere. A point on the border of two
    units goes to the one listed first in the set (deterministic); outside every unit → None.
    """

    def __init__(self, boundary_set: BoundarySet, level: str | None = None) -> None:
        self.boundary_set = boundary_set
        self.level = level
        self.units: tuple[AdminUnit, ...] = (
            boundary_set.leaves() if level is None else boundary_set.units(level)
        )
        if not self.units:
            raise ValueError(f"boundary set {boundary_set.id!r} has no units at level {level!r}")
        geoms = np.array([u.geometry for u in self.units], dtype=object)
        shapely.prepare(geoms)  # prepared polygons make the per-candidate point test cheap
        self._tree = STRtree(geoms)
        self._codes = np.array([u.code for u in self.units], dtype=object)

    def assign(self, lon: float, lat: float) -> str | None:
        """Code of the unit containing the point, or None (outside, or NaN coordinates)."""
        hits = self._tree.query(shapely.points(lon, lat), predicate="intersects")
        return str(self._codes[hits.min()]) if hits.size else None

    def assign_many(self, lons: ArrayLike, lats: ArrayLike) -> list[str | None]:
        """Vectorised :meth:`assign` for equal-length arrays (one STRtree query for all points)."""
        x = np.asarray(lons, dtype=float)
        y = np.asarray(lats, dtype=float)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(
                f"lons and lats must be 1-D and of equal length, got shapes {x.shape} and {y.shape}"
            )
        out = np.full(x.shape[0], None, dtype=object)
        if x.size == 0:
            return []
        point_idx, unit_idx = self._tree.query(shapely.points(x, y), predicate="intersects")
        if point_idx.size:
            # Several hits only on shared borders: keep the lowest unit index per point.
            order = np.lexsort((unit_idx, point_idx))
            points_sorted, units_sorted = point_idx[order], unit_idx[order]
            first = np.flatnonzero(np.r_[True, points_sorted[1:] != points_sorted[:-1]])
            out[points_sorted[first]] = self._codes[units_sorted[first]]
        return out.tolist()

    def unit(self, code: str) -> AdminUnit:
        """The unit for a code (any level of the set)."""
        return self.boundary_set.unit(code)

    def name(self, code: str) -> str:
        """Vietnamese name of a unit ("Hồng Bàng"); see ``unit(code).full_name`` for "Quận Hồng Bàng"."""
        return self.boundary_set.unit(code).name

    def names(self, codes: Sequence[str | None]) -> list[str | None]:
        """Names for a list of codes as returned by :meth:`assign_many` (None stays None)."""
        return [None if c is None else self.name(c) for c in codes]
