"""Water levels on the rivers and the sea, and rainfall, for Hải Phòng's gauges (simulated).

Levels are metres above the national datum (Hòn Dấu). The sea has a diurnal tide, as the Gulf of
Tonkin does: one high water about every 24 h 50 min, its range swelling from neap (≈ 0.7 m) to spring
tides (≈ 3.2 m) over 13.7 days, on a mean level that is higher in the autumn. Tidal rivers (Cấm, Lạch
Tray, Văn Úc, Bạch Đằng) follow the sea an hour or two late and damped, on top of their flow; the
upstream rivers (Thái Bình, Kinh Thầy, Luộc) rise and fall slowly with the season and the rain. The
alarm levels (BĐ1–3) are the registry's; normal water stays below BĐ1. Gauges report every 10 min.

Rain comes in episodes (more in the rainy season, May–October), city-wide with a gauge's own share,
each lasting a few hours. A planted ``tide_rain_flood`` incident adds a storm surge of ``magnitude``
metres × severity at the gauges it lists (upstream rivers rise later and more) and heavy rain at the
rain gauges it lists (up to 30 mm/h at its peak). The same seed gives the same bytes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from geodata.sites import Site
from ioc.events import Event
from ioc.sources.rain import RainEvent
from ioc.sources.water import WaterLevelEvent
from simulators.base import EPOCH, IncidentIndex, phase_s, schedule, seeded_uuid, stream_rng

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
PERIOD_S = 600  # one reading every 10 minutes
TIDE_PERIOD_H = 24.84
SPRING_NEAP_D = 13.66
STORM_RAIN_MM_H = 30.0


def _season(t: datetime) -> float:
    """0 in the dry season, 1 at the height of the rainy season (August)."""
    doy = t.astimezone(LOCAL).timetuple().tm_yday
    return max(0.0, math.cos(2 * math.pi * (doy - 225) / 365))


def sea_level(t: datetime) -> float:
    """The astronomical tide at Hòn Dấu plus the seasonal mean (m), before noise and surges."""
    h = (t - EPOCH).total_seconds() / 3600
    spring = 0.5 + 0.5 * math.cos(2 * math.pi * h / (SPRING_NEAP_D * 24))
    amplitude = 0.35 + 1.25 * spring
    doy = t.astimezone(LOCAL).timetuple().tm_yday
    mean = 0.05 + 0.12 * max(0.0, math.cos(2 * math.pi * (doy - 290) / 365))  # higher in Sep–Nov
    return mean + amplitude * math.cos(2 * math.pi * h / TIDE_PERIOD_H)


class FloodSource:
    """Water-level and rain readings for the registered gauges."""

    def __init__(self, water: Sequence[Site], rain: Sequence[Site], seed: int,
                 incidents: IncidentIndex | None = None) -> None:  # fmt: skip
        self.seed = seed
        self.incidents = incidents or IncidentIndex(())
        self.water = tuple(water)
        self.rain = tuple(rain)
        shape = stream_rng(0, "floods:gauges")  # each gauge's character: the same in every run
        self._lag = {s.source_id: shape.uniform(0.8, 2.2) for s in self.water}
        self._damp = {s.source_id: shape.uniform(0.65, 0.85) for s in self.water}
        self._rain_share = {s.source_id: shape.uniform(0.5, 1.4) for s in self.rain}
        self._episodes: dict[int, list[tuple[datetime, datetime, float]]] = {}

    # -- water --------------------------------------------------------------------------------------
    def _bd1(self, s: Site) -> float:
        levels = s.properties.get("alarm_levels_m") or {}
        return float(levels.get("BD1", 2.0))

    def level(self, s: Site, t: datetime) -> float:
        """The normal level at ``t`` (no noise, no incident)."""
        kind = s.properties.get("kind", "tidal_river")
        if kind == "tide":
            return sea_level(t)
        bd1 = self._bd1(s)
        if kind == "tidal_river":
            tide = self._damp[s.source_id] * sea_level(t - timedelta(hours=self._lag[s.source_id]))
            flow = 0.15 + 0.25 * _season(t)
            return min(bd1 - 0.25, tide + flow)
        # Upstream rivers: the season dominates; a little tide reaches them.
        base = bd1 - 1.9 + 1.0 * _season(t)
        return base + 0.25 * sea_level(t - timedelta(hours=3 * self._lag[s.source_id]))

    def surge(self, s: Site, t: datetime) -> float:
        kind = s.properties.get("kind", "tidal_river")
        extra = 0.0
        for inc, _ in self.incidents.at(s.source_id, t):
            if kind == "river":  # upstream water arrives later and higher
                sev = inc.severity(t - timedelta(hours=4))
                extra += 1.3 * inc.magnitude * sev
            else:
                extra += inc.magnitude * inc.severity(t)
        return extra

    # -- rain ---------------------------------------------------------------------------------------
    def _day_episodes(self, day: int) -> list[tuple[datetime, datetime, float]]:
        if day not in self._episodes:
            rng = stream_rng(self.seed, f"floods:rain:{day}")
            start = EPOCH + timedelta(days=day)
            rate = 0.08 + 0.35 * _season(start + timedelta(hours=12))
            out = []
            for _ in range(_poisson(rng, rate)):
                a = start + timedelta(hours=rng.uniform(0, 24))
                b = a + timedelta(hours=rng.uniform(0.5, 5.0))
                out.append((a, b, math.exp(rng.gauss(math.log(2.5), 0.5))))  # mm/h
            self._episodes[day] = out
            if len(self._episodes) > 400:
                self._episodes.pop(min(self._episodes))
        return self._episodes[day]

    def rain_rate(self, s: Site, t: datetime) -> float:
        """mm/h at ``t`` (normal weather plus any planted storm)."""
        day = int((t - EPOCH).total_seconds() // 86_400)
        mm_h = 0.0
        for d in (day - 1, day):
            for a, b, rate in self._day_episodes(d):
                if a <= t < b:
                    mm_h += rate * self._rain_share[s.source_id]
        for inc, sev in self.incidents.at(s.source_id, t):
            mm_h += STORM_RAIN_MM_H * sev * min(2.0, inc.magnitude)
        return mm_h

    # -- the stream ---------------------------------------------------------------------------------
    def events(self, a: datetime, b: datetime) -> list[Event]:
        out: list[Event] = []
        for s in self.water:
            for t in schedule(a, b, PERIOD_S, phase_s(s.source_id, PERIOD_S)):
                rng = self._rng(s.source_id, t)
                level = self.level(s, t) + self.surge(s, t) + rng.gauss(0, 0.025)
                out.append(WaterLevelEvent(event_id=seeded_uuid(rng), source_id=s.source_id, event_time=t,
                                           level_m=round(level, 3)))  # fmt: skip
        for s in self.rain:
            for t in schedule(a, b, PERIOD_S, phase_s(s.source_id, PERIOD_S)):
                rng = self._rng(s.source_id, t)
                mm = self.rain_rate(s, t - timedelta(minutes=5)) * PERIOD_S / 3600
                mm = max(0.0, mm * math.exp(rng.gauss(0, 0.3))) if mm > 0 else 0.0
                out.append(RainEvent(event_id=seeded_uuid(rng), source_id=s.source_id, event_time=t,
                                     rain_mm=round(mm, 1), interval_min=PERIOD_S // 60))  # fmt: skip
        out.sort(key=lambda e: (e.event_time, e.source_id))
        return out

    def _rng(self, source_id: str, t: datetime) -> random.Random:
        return stream_rng(self.seed, f"floods:{source_id}:{int(t.astimezone(UTC).timestamp())}")


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


__all__ = ["FloodSource", "sea_level"]
