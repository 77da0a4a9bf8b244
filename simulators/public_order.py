"""The city police's hourly counts per commune-level unit, calibrated to the city's figures.

Yearly totals for the merged city (114 units), from ``../shared/data/kpi/baselines.md`` §6:

- traffic accidents and collisions: 803 incidents, 407 deaths, 551 injured in January–November 2025
  (line 29), so about 876 / 444 / 601 a year;
- crimes against social order: 603 cases in the first half of 2025 (line 30), about 1,206 a year;
- public-disorder incidents, fires and rescues: no published figure (the file has none); assumed
  1,500, 250 and 120 a year.

Each unit's share is fixed by the city's structure (a seeded log-normal weight, wards above
communes), the same in every run; the hour of the week shapes each type (accidents in the rush hours,
disorder in the evenings and at weekends, fires in the afternoon and the dry season). Counts per hour
are Poisson; deaths and injuries follow each accident. Planted ``disorder_cluster`` incidents add
``magnitude`` × severity disorder incidents per hour (and a third as many criminal cases) to every
unit they list. The same seed gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from geodata.sites import Site
from ioc.events import Event
from ioc.sources.public_order import PublicOrderEvent
from simulators.base import IncidentIndex, poisson, seeded_uuid, stream_rng

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
PER_YEAR = {
    "traffic_accidents": 803 * 12 / 11,
    "criminal_cases": 603 * 2,
    "disorder_incidents": 1_500.0,  # assumption
    "fires": 250.0,  # assumption
    "rescues": 120.0,  # assumption
}
DEATHS_PER_ACCIDENT = 407 / 803
INJURIES_PER_ACCIDENT = 551 / 803
REPORT_DELAY = timedelta(minutes=5)  # the hour's counts reach the IOC five minutes after it ends
KIND_WEIGHT = {"Phường": 1.6, "Xã": 0.8, "Đặc khu": 0.5}


def hour_profile(kind: str, weekday: int, hour: int, month: int) -> float:
    """Relative rate of one incident type in one local hour (mean about 1 over a week)."""
    weekend = weekday >= 5
    if kind == "traffic_accidents":
        p = {6: 1.6, 7: 2.0, 8: 1.5, 11: 1.2, 12: 1.1, 16: 1.5, 17: 2.1, 18: 2.0, 19: 1.5, 20: 1.2}.get(hour, 0.7)
        if hour < 5:
            p = 0.35
        return p * (1.15 if weekend and hour >= 18 else 1.0)
    if kind == "disorder_incidents":
        p = 2.2 if hour >= 20 or hour < 2 else (1.2 if 17 <= hour < 20 else (0.3 if 2 <= hour < 8 else 0.7))
        return p * (1.5 if weekend else 0.85)
    if kind == "criminal_cases":
        return 1.4 if hour >= 19 or hour < 3 else (0.6 if 3 <= hour < 8 else 1.0)
    if kind == "fires":
        p = 1.5 if 12 <= hour < 21 else 0.6
        return p * (1.3 if month in (12, 1, 2, 3, 4) else 0.8)
    return 1.0  # rescues


def _mean_profile(kind: str) -> float:
    vals = [hour_profile(kind, d, h, m) for d in range(7) for h in range(24) for m in (1, 7)]
    return sum(vals) / len(vals)


_MEANS = {k: _mean_profile(k) for k in PER_YEAR}


class PublicOrderSource:
    """One event per police unit and hour, at the hour's end plus :data:`REPORT_DELAY`."""

    def __init__(self, sites: Sequence[Site], seed: int, incidents: IncidentIndex | None = None) -> None:
        self.seed = seed
        self.incidents = incidents or IncidentIndex(())
        self.units = tuple(sorted(sites, key=lambda s: s.source_id))
        if not self.units:
            raise ValueError("no police units registered")
        shape = stream_rng(0, "public-order:unit-weights")  # the city's structure: the same in every run
        raw = [math.exp(shape.gauss(0, 0.55)) * KIND_WEIGHT.get(str(s.properties.get("unit_kind")), 1.0)
               for s in self.units]  # fmt: skip
        total = sum(raw)
        self.weights = {s.source_id: w / total for s, w in zip(self.units, raw, strict=True)}

    def rate(self, source_id: str, kind: str, start: datetime) -> float:
        """Expected incidents of ``kind`` in the hour starting at ``start`` (normal city)."""
        t = start.astimezone(LOCAL)
        per_hour = PER_YEAR[kind] / 8_760 * self.weights[source_id]
        return per_hour * hour_profile(kind, t.weekday(), t.hour, t.month) / _MEANS[kind]

    def events(self, a: datetime, b: datetime) -> list[Event]:
        out: list[Event] = []
        # Period ends reported in [a, b): hour starts in [a − 1 h − delay, b − 1 h − delay).
        first = (a - timedelta(hours=1) - REPORT_DELAY).astimezone(UTC)
        start = first.replace(minute=0, second=0, microsecond=0)
        if start < first:
            start += timedelta(hours=1)
        while start + timedelta(hours=1) + REPORT_DELAY < b:
            at = start + timedelta(hours=1) + REPORT_DELAY
            for unit in self.units:
                out.append(self._event(unit.source_id, start, at))
            start += timedelta(hours=1)
        return out

    def _event(self, source_id: str, start: datetime, at: datetime) -> PublicOrderEvent:
        rng = stream_rng(self.seed, f"public-order:{source_id}:{int(start.timestamp()) // 3600}")
        extra_disorder = extra_crime = 0.0
        for inc, sev in self.incidents.at(source_id, start + timedelta(minutes=30)):
            extra_disorder += inc.magnitude * sev
            extra_crime += inc.magnitude * sev / 3
        counts = {k: poisson(rng, self.rate(source_id, k, start)) for k in PER_YEAR}
        counts["disorder_incidents"] += poisson(rng, extra_disorder)
        counts["criminal_cases"] += poisson(rng, extra_crime)
        acc = counts["traffic_accidents"]
        deaths = poisson(rng, DEATHS_PER_ACCIDENT * acc) if acc else 0
        injuries = poisson(rng, INJURIES_PER_ACCIDENT * acc) if acc else 0
        return PublicOrderEvent(event_id=seeded_uuid(rng), source_id=source_id, event_time=at, period_start=start,
                                traffic_deaths=deaths, traffic_injuries=injuries, **counts)


__all__ = ["PER_YEAR", "PublicOrderSource", "hour_profile"]
