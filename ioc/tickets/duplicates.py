"""Duplicate suggestions: reports of the same category within 50 m and 72 hours.

Grouping is anchored, not chained: reports are taken in time order, and each one joins the
nearest open group whose *first* report (the primary, the ticket the others merge into) lies
within the radius and the time window; otherwise it opens a group of its own. So every member is
within 50 m and 72 h of its primary, and a line of reports 40 m apart along a street does not
collapse into one ticket (single-linkage DBSCAN would chain them). Candidates come from a
scikit-learn ``BallTree`` radius query with the haversine metric.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sklearn.neighbors import BallTree

from ioc.sources.feedback import FeedbackEvent

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
DEFAULT_RADIUS_M = 50.0
DEFAULT_WINDOW = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class ReportPoint:
    """What duplicate detection needs of a report: id, category, place and time."""

    report_id: str
    category: str
    lat: float
    lon: float
    time: datetime

    def __post_init__(self) -> None:
        if not self.report_id:
            raise ValueError("report_id must not be empty")
        if not self.category:
            raise ValueError(f"report {self.report_id!r}: category must not be empty")
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"report {self.report_id!r}: bad coordinates lat={self.lat!r}, lon={self.lon!r}")
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError(
                f"report {self.report_id!r}: time must be timezone-aware, got {self.time.isoformat()}"
            )

    @classmethod
    def from_event(cls, event: FeedbackEvent, category: str | None = None) -> ReportPoint:
        """From a feedback event; ``category`` overrides the event's (e.g. a confirmed one)."""
        code = category or event.category
        if not code:
            raise ValueError(f"ticket {event.ticket_id!r} has no category: classify it first")
        return cls(event.ticket_id, code, event.lat, event.lon, event.event_time)


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Reports suggested as one problem: ``primary`` first, then the others in time order."""

    category: str
    primary: str
    members: tuple[str, ...]
    max_distance_m: float  # farthest member from the primary
    span: timedelta  # first to last report


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    report_id: str
    distance_m: float
    time_apart: timedelta


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _check_params(radius_m: float, window: timedelta) -> None:
    if not radius_m > 0:
        raise ValueError(f"radius_m must be positive, got {radius_m!r}")
    if not window > timedelta(0):
        raise ValueError(f"window must be positive, got {window!r}")


def find_duplicates(
    reports: Iterable[ReportPoint],
    radius_m: float = DEFAULT_RADIUS_M,
    window: timedelta = DEFAULT_WINDOW,
) -> list[DuplicateGroup]:
    """Groups of two or more reports suggested as duplicates, oldest primary first."""
    _check_params(radius_m, window)
    reports = list(reports)
    repeated = [i for i, n in Counter(r.report_id for r in reports).items() if n > 1]
    if repeated:
        raise ValueError(f"report ids appear more than once: {repeated[:5]}")
    time_of = {r.report_id: r.time for r in reports}
    by_category: dict[str, list[ReportPoint]] = {}
    for r in reports:
        by_category.setdefault(r.category, []).append(r)
    groups = [g for category in sorted(by_category) for g in _group(by_category[category], radius_m, window)]
    return sorted(groups, key=lambda g: (time_of[g.primary], g.primary))


def _group(reports: list[ReportPoint], radius_m: float, window: timedelta) -> list[DuplicateGroup]:
    reports = sorted(reports, key=lambda r: (r.time, r.report_id))
    if len(reports) < 2:
        return []
    coords = np.radians([[r.lat, r.lon] for r in reports])
    tree = BallTree(coords, metric="haversine")
    neighbours, distances = tree.query_radius(coords, r=radius_m / EARTH_RADIUS_M, return_distance=True)

    primary_of: dict[int, int] = {}  # member index -> primary index
    for i, report in enumerate(reports):
        best: tuple[float, int] | None = None
        for j, d in zip(neighbours[i], distances[i], strict=True):
            # Only earlier primaries within the window can take this report.
            if j < i and primary_of.get(j) == j and report.time - reports[j].time <= window:
                if best is None or d < best[0]:
                    best = (float(d), int(j))
        primary_of[i] = best[1] if best else i

    members: dict[int, list[int]] = {}
    for i, p in primary_of.items():
        members.setdefault(p, []).append(i)
    out = []
    for p, idx in members.items():
        if len(idx) < 2:
            continue
        first = reports[p]
        out.append(
            DuplicateGroup(
                category=first.category,
                primary=first.report_id,
                members=tuple(reports[i].report_id for i in idx),
                max_distance_m=max(
                    haversine_m(first.lat, first.lon, reports[i].lat, reports[i].lon) for i in idx
                ),
                span=reports[idx[-1]].time - first.time,
            )
        )
    return out


def candidates_for(
    report: ReportPoint,
    existing: Sequence[ReportPoint],
    radius_m: float = DEFAULT_RADIUS_M,
    window: timedelta = DEFAULT_WINDOW,
) -> list[DuplicateCandidate]:
    """Existing reports a new one may duplicate (same category, within radius and window), nearest first."""
    _check_params(radius_m, window)
    pool = [r for r in existing if r.category == report.category and r.report_id != report.report_id]
    pool = [r for r in pool if abs(report.time - r.time) <= window]
    if not pool:
        return []
    tree = BallTree(np.radians([[r.lat, r.lon] for r in pool]), metric="haversine")
    idx, dist = tree.query_radius(
        np.radians([[report.lat, report.lon]]),
        r=radius_m / EARTH_RADIUS_M,
        return_distance=True,
        sort_results=True,
    )
    return [
        DuplicateCandidate(pool[i].report_id, float(d) * EARTH_RADIUS_M, abs(report.time - pool[i].time))
        for i, d in zip(idx[0], dist[0], strict=True)
    ]
