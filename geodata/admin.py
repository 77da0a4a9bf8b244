"""Point → administrative unit, with a shapely STRtree so ingest stays fast.

>>> from datetime import date
>>> from geodata.boundaries import boundary_set_for, load_boundary_sets, DEFAULT_SETS_DIR
>>> assigner = AdminAssigner(boundary_set_for(date(2025, 8, 1), load_boundary_sets(DEFAULT_SETS_DIR)))
>>> assigner.unit(assigner.assign(106.3250, 20.9400)).full_name  # Hải Dương city centre
'Phường Thành Đông'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import Point
from shapely.strtree import STRtree

from geodata.boundaries import AdminUnit, BoundarySet, boundary_set_for, load_boundary_sets

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Metres per degree of longitude at 21° N (one degree of latitude is 111 km): converts ``snap_m``.
M_PER_DEG = 104_000.0
DEFAULT_SNAP_M = 150.0


class AdminAssigner:
    """Assigns lon/lat points (EPSG:4326) to the units of one level of a boundary set.

    ``level=None`` uses the set's leaves: the finest unit everywhere. A point on the border of two
    units, or in a sliver where two overlap, goes to the one listed first in the set
    (deterministic). A point in no unit goes to the nearest one within about ``snap_m`` metres
    (real boundary files have slivers of gap between neighbours and shores a GPS fix can miss);
    farther than that → None. ``snap_m=0`` turns the fallback off.
    """

    def __init__(
        self, boundary_set: BoundarySet, level: str | None = None, *, snap_m: float = DEFAULT_SNAP_M
    ) -> None:
        if not snap_m >= 0:
            raise ValueError(f"snap_m must be >= 0 metres, got {snap_m!r}")
        self.boundary_set = boundary_set
        self.level = level
        self.snap_m = float(snap_m)
        self._snap_deg = self.snap_m / M_PER_DEG
        self.units: tuple[AdminUnit, ...] = (
            boundary_set.leaves() if level is None else boundary_set.units(level)
        )
        if not self.units:
            raise ValueError(f"boundary set {boundary_set.id!r} has no units at level {level!r}")
        # Index polygon parts, not whole units: a MultiPolygon with islands has a huge box.
        parts, owner = shapely.get_parts([u.geometry for u in self.units], return_index=True)
        shapely.prepare(parts)  # the exact test below then runs on prepared (edge-indexed) polygons
        self._parts, self._owner = parts, owner
        self._tree = STRtree(parts)
        self._codes = np.array([u.code for u in self.units], dtype=object)

    def assign(self, lon: float, lat: float) -> str | None:
        """Code of the unit containing the point (or the nearest within ``snap_m``), or None
        (farther out, or NaN coordinates)."""
        point = Point(lon, lat)  # Point(): ~3x cheaper than shapely.points for one
        candidates = self._tree.query(point)
        if candidates.size:
            hits = candidates[shapely.intersects_xy(self._parts[candidates], lon, lat)]
            if hits.size:
                return str(self._codes[self._owner[hits].min()])
        if self._snap_deg and np.isfinite(lon) and np.isfinite(lat):
            near = self._tree.query_nearest(point, max_distance=self._snap_deg, all_matches=True)
            if near.size:
                return str(self._codes[self._owner[near].min()])
        return None

    def assign_many(self, lons: ArrayLike, lats: ArrayLike) -> list[str | None]:
        """Vectorised :meth:`assign` for equal-length arrays: one STRtree box query for all points,
        one vectorised exact test of the candidate (point, polygon) pairs, then one nearest-unit
        query for the points that hit nothing."""
        x = np.asarray(lons, dtype=float)
        y = np.asarray(lats, dtype=float)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(
                f"lons and lats must be 1-D and of equal length, got shapes {x.shape} and {y.shape}"
            )
        out = np.full(x.shape[0], None, dtype=object)
        if x.size == 0:
            return []
        point_idx, part_idx = self._tree.query(shapely.points(x, y))
        hit = shapely.intersects_xy(self._parts[part_idx], x[point_idx], y[point_idx])
        point_idx, unit_idx = point_idx[hit], self._owner[part_idx[hit]]
        _first_per_point(out, point_idx, unit_idx, self._codes)
        if self._snap_deg:
            found = np.zeros(x.shape[0], dtype=bool)
            found[point_idx] = True
            missed = np.flatnonzero(~found & np.isfinite(x) & np.isfinite(y))
            if missed.size:
                near_pt, near_part = self._tree.query_nearest(
                    shapely.points(x[missed], y[missed]), max_distance=self._snap_deg, all_matches=True
                )
                _first_per_point(out, missed[near_pt], self._owner[near_part], self._codes)
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


def _first_per_point(out: np.ndarray, point_idx: np.ndarray, unit_idx: np.ndarray, codes: np.ndarray) -> None:
    """Write into ``out`` the code of the lowest unit index per point (several hits happen only on
    shared borders, in overlaps, or at equal distance)."""
    if point_idx.size:
        order = np.lexsort((unit_idx, point_idx))
        points_sorted, units_sorted = point_idx[order], unit_idx[order]
        first = np.flatnonzero(np.r_[True, points_sorted[1:] != points_sorted[:-1]])
        out[points_sorted[first]] = codes[units_sorted[first]]


class DatedAdminAssigner:
    """Assigns points by event time: each point goes to the boundary set in force on its local
    date (Asia/Ho_Chi_Minh, where the reforms take effect at midnight). One index per set, built
    on first use. Codes are only unique within a set: store ``set_id`` next to the code."""

    def __init__(self, sets: Sequence[BoundarySet] | None = None, level: str | None = None) -> None:
        self.sets = tuple(load_boundary_sets() if sets is None else sets)
        self.level = level
        self._assigners: dict[str, AdminAssigner] = {}

    def for_date(self, on: date | datetime) -> AdminAssigner:
        """The assigner for the set in force on a date (an aware datetime counts by its local date)."""
        bs = boundary_set_for(local_date(on), self.sets)
        if bs.id not in self._assigners:
            self._assigners[bs.id] = AdminAssigner(bs, self.level)
        return self._assigners[bs.id]

    def assign_many(
        self, lons: ArrayLike, lats: ArrayLike, times: Sequence[date | datetime]
    ) -> list[tuple[str, str | None]]:
        """``(set_id, code or None)`` per point; one vectorised query per set involved."""
        x, y = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        if not (x.shape == y.shape == (len(times),)):
            raise ValueError(
                f"lons, lats and times must have equal length, got {x.shape}, {y.shape}, {len(times)}"
            )
        out: list[tuple[str, str | None]] = [("", None)] * len(times)
        dates = [local_date(t) for t in times]
        set_on = {d: self.for_date(d).boundary_set.id for d in set(dates)}  # a batch spans few dates
        by_set: dict[str, list[int]] = {}
        for i, d in enumerate(dates):
            by_set.setdefault(set_on[d], []).append(i)
        for set_id, idx in by_set.items():
            ix = np.asarray(idx)
            for i, code in zip(idx, self._assigners[set_id].assign_many(x[ix], y[ix]), strict=True):
                out[i] = (set_id, code)
        return out


def local_date(t: date | datetime) -> date:
    """Calendar date in Hải Phòng; naive datetimes are refused (their zone is unknown)."""
    if not isinstance(t, datetime):
        return t
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t.isoformat()}: give a timezone-aware event time")
    return t.astimezone(LOCAL_TZ).date()
