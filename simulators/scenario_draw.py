"""Fresh scenarios for out-of-sample evaluation: incidents drawn from each class's distribution.

The shipped scenarios plant their incidents at fixed places and times, and the rules were tuned on
them. :func:`draw_day` builds a new one-day scenario per seed from the ``normal_day`` template: one
incident of every city class (congestion, PM2.5 episode, camera outage, stopped vehicle, crowd,
street flooding), each at a place, start time, build-up, decay and strength drawn at random from
:data:`DISTRIBUTIONS`. Places are registered sites that can sense the class; two incidents never
share a source. The draw is a pure function of the seed (its own generator, never ``random``).

:data:`TUNING_SEEDS` are the seeds the rules and models were tuned or checked on; :func:`fresh_seeds`
never returns one of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from geodata.sites import Site
from simulators.scenario import (
    IncidentClass,
    IncidentSpec,
    Place,
    ReportSpike,
    Scenario,
    Shape,
    _can_sense,
    all_sites,
    distance_m,
)

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
#: Seeds used while writing and tuning the rules (README, tests, issue 13's evaluation).
TUNING_SEEDS = frozenset({0, 1, 2, 3, 4, 5, 7, 9, *range(101, 111), *range(201, 211)})
FRESH_BASE = 150_000  # fresh seeds are FRESH_BASE + 1, + 2, …
#: A Wednesday: the engine's usual values come from the Monday, its stream detector warms up on the Tuesday.
DAY = datetime(2026, 3, 11, 0, 0, tzinfo=LOCAL)


@dataclass(frozen=True)
class ClassDistribution:
    """How one class's incidents vary: start window (local hours), build-up and decay (minutes),
    strength, the site kind its place is drawn from and how its sources are found."""

    cls: IncidentClass
    start_hours: tuple[tuple[float, float], ...]  # uniform within one of these local windows
    build_min: tuple[float, float]  # start → peak
    decay_min: tuple[float, float]  # peak → end
    magnitude: tuple[float, float]
    place_kind: str  # the kind of site the place is drawn at
    radius_m: float = 0.0  # sources: sites of `kinds` within this distance ...
    kinds: tuple[str, ...] = ()
    near_cameras: int = 0  # ... or the place's site plus its nearest cameras
    shape: Shape = Shape.RAMP
    reports: ReportSpike | None = None


DISTRIBUTIONS: tuple[ClassDistribution, ...] = (
    ClassDistribution(IncidentClass.CONGESTION, ((6.5, 8.0), (16.0, 17.5)), (45, 105), (45, 120), (0.7, 1.0),
                      "traffic", near_cameras=2, reports=ReportSpike(category="traffic", per_hour=6, radius_m=600)),
    ClassDistribution(IncidentClass.PM25_EPISODE, ((0.0, 14.0),), (120, 300), (120, 300), (90, 180), "air",
                      radius_m=6000, kinds=("air",),
                      reports=ReportSpike(category="environment", per_hour=3, radius_m=2500)),
    ClassDistribution(IncidentClass.CAMERA_OUTAGE, ((8.0, 20.0),), (0, 0), (45, 120), (1.0, 1.0), "camera",
                      near_cameras=3, shape=Shape.PLATEAU),
    ClassDistribution(IncidentClass.STOPPED_VEHICLE, ((8.0, 20.0),), (3, 10), (40, 90), (1.0, 1.0), "traffic",
                      near_cameras=1, shape=Shape.PLATEAU,
                      reports=ReportSpike(category="traffic", per_hour=2, radius_m=800)),
    ClassDistribution(IncidentClass.CROWD, ((17.0, 20.0),), (60, 120), (60, 120), (1.0, 1.0), "camera",
                      radius_m=400, kinds=("camera",),
                      reports=ReportSpike(category="public_order", per_hour=5, radius_m=300)),
    ClassDistribution(IncidentClass.FLOODING, ((9.0, 17.0),), (60, 120), (90, 180), (1.0, 1.0), "camera",
                      radius_m=1300, kinds=("traffic", "camera"),
                      reports=ReportSpike(category="road_infra", per_hour=30, radius_m=1200)),
)  # fmt: skip


def fresh_seeds(k: int) -> list[int]:
    """``k`` seeds never used for tuning."""
    if k < 1:
        raise ValueError(f"need at least one seed, got {k}")
    seeds = [FRESH_BASE + i for i in range(1, k + 1)]
    if TUNING_SEEDS.intersection(seeds):  # pragma: no cover - guarded by the constants above
        raise ValueError("a fresh seed would be a tuning seed")
    return seeds


def _nearest(sites: list[Site], lon: float, lat: float, n: int, exclude: set[str]) -> list[Site]:
    ranked = sorted(
        (distance_m(lon, lat, s.lon, s.lat), s.source_id, s) for s in sites if s.source_id not in exclude
    )
    return [s for _, _, s in ranked[:n]]


def _sources(d: ClassDistribution, site: Site, sites: list[Site], taken: set[str]) -> tuple[str, ...]:
    cams = [s for s in sites if s.kind == "camera" and _can_sense(s, d.cls)]
    if d.radius_m:
        ids = {
            s.source_id
            for s in sites
            if s.kind in d.kinds
            and _can_sense(s, d.cls)
            and distance_m(site.lon, site.lat, s.lon, s.lat) <= d.radius_m
        }
        ids.add(site.source_id) if site.kind in d.kinds else None
    else:
        ids = {site.source_id} | {c.source_id for c in _nearest(cams, site.lon, site.lat, d.near_cameras,
                                                                  taken | {site.source_id})}  # fmt: skip
    return tuple(sorted(ids - taken))


def draw_incident(
    d: ClassDistribution, rng: random.Random, sites: list[Site], taken: set[str]
) -> IncidentSpec:
    """One incident of class ``d.cls`` (offsets from :data:`DAY`), sharing no source with ``taken``."""
    candidates = sorted(
        (s for s in sites if s.kind == d.place_kind and s.source_id not in taken and _can_sense(s, d.cls)),
        key=lambda s: s.source_id,
    )
    for _ in range(50):
        site = rng.choice(candidates)
        sources = _sources(d, site, sites, taken)
        if sources:
            break
    else:  # pragma: no cover - the registry has far more sites than one day's incidents need
        raise ValueError(f"no free place for a {d.cls.value} incident")
    lo, hi = rng.choice(d.start_hours)
    start = timedelta(hours=rng.uniform(lo, hi))
    start = timedelta(minutes=round(start / timedelta(minutes=1)))
    build = timedelta(minutes=round(rng.uniform(*d.build_min)))
    decay = timedelta(minutes=max(1, round(rng.uniform(*d.decay_min))))
    magnitude = round(rng.uniform(*d.magnitude), 3)
    return IncidentSpec.model_validate(
        {
            "id": f"drawn-{d.cls.value.replace('_', '-')}",
            "class": d.cls,
            "place": Place(name=site.name, lon=site.lon, lat=site.lat),
            "shape": d.shape,
            "magnitude": magnitude,
            "reports": d.reports,
            "start": start,
            "peak": start + build,
            "end": start + build + decay,
            "sources": sources,
        }
    )


def draw_day(seed: int, sites: list[Site] | None = None) -> Scenario:
    """A one-day scenario (a Wednesday) with one drawn incident of every city class."""
    rng = random.Random(f"scenario-draw:{seed}")
    sites = sites if sites is not None else all_sites()
    taken: set[str] = set()
    incidents = []
    for d in DISTRIBUTIONS:
        spec = draw_incident(d, rng, sites, taken)
        taken |= set(spec.sources)
        incidents.append(spec)
    return Scenario(
        name=f"drawn_{seed}",
        description=f"Một ngày với sự cố rút ngẫu nhiên (hạt giống {seed})",
        description_en=f"A day of randomly drawn incidents (seed {seed})",
        start=DAY,
        duration=timedelta(hours=24),
        incidents=tuple(incidents),
    )


__all__ = [
    "DAY",
    "DISTRIBUTIONS",
    "TUNING_SEEDS",
    "ClassDistribution",
    "draw_day",
    "draw_incident",
    "fresh_seeds",
]
