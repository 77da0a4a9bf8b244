"""The SOC's hourly summary counts by origin, calibrated to the city's report.

The report on the first half of 2022 (``../shared/data/documents/2022_bao-cao-CDS-6-thang-dau-nam-2022.txt``,
line 53) counts 203 security alerts at the city data centre in six months, 15 of them from servers
and 1 from the internal network, "và được khắc phục kịp thời": about 1.12 a day, of which 0.083 from
servers. Alerts come more in working hours; each is resolved after a few hours (log-normal, median
4 h). A planted ``soc_alert_storm`` adds ``magnitude`` × severity alerts per hour (two thirds
"other", a third from servers). Only counts are produced, as the SOC publishes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from geodata.sites import Site
from ioc.events import Event
from ioc.sources.soc import ORIGINS, SocEvent
from simulators.base import IncidentIndex, poisson, seeded_uuid, stream_rng

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
H1_2022_HOURS = 181 * 24  # 1 January – 30 June 2022
PER_HOUR = {"servers": 15 / H1_2022_HOURS, "internal_network": 1 / H1_2022_HOURS, "other": 187 / H1_2022_HOURS}
STORM_SPLIT = {"other": 2 / 3, "servers": 1 / 3, "internal_network": 0.0}
REPORT_DELAY = timedelta(minutes=2)
RESOLVE_MEDIAN_H = 4.0


def work_profile(t: datetime) -> float:
    lt = t.astimezone(LOCAL)
    if lt.weekday() < 5 and 8 <= lt.hour < 18:
        return 1.6
    return 0.65


class SocSource:
    """One event per origin and hour for each registered SOC (with its open alerts carried over)."""

    def __init__(self, sites: Sequence[Site], seed: int, incidents: IncidentIndex | None = None) -> None:
        self.sites = tuple(sites)
        self.seed = seed
        self.incidents = incidents or IncidentIndex(())
        self._open: dict[tuple[str, str], list[datetime]] = {}  # resolution times of open alerts
        self._last: datetime | None = None

    def events(self, a: datetime, b: datetime) -> list[Event]:
        out: list[Event] = []
        first = (a - timedelta(hours=1) - REPORT_DELAY).astimezone(UTC)
        start = first.replace(minute=0, second=0, microsecond=0)
        if start < first:
            start += timedelta(hours=1)
        if self._last is not None and start <= self._last:
            start = self._last + timedelta(hours=1)
        while start + timedelta(hours=1) + REPORT_DELAY < b:
            for site in self.sites:
                for origin in ORIGINS:
                    out.append(self._event(site.source_id, origin, start))
            self._last = start
            start += timedelta(hours=1)
        return out

    def _event(self, sid: str, origin: str, start: datetime) -> SocEvent:
        rng = stream_rng(self.seed, f"soc:{sid}:{origin}:{int(start.timestamp()) // 3600}")
        end = start + timedelta(hours=1)
        lam = PER_HOUR[origin] * work_profile(start)
        for inc, sev in self.incidents.at(sid, start + timedelta(minutes=30)):
            lam += inc.magnitude * sev * STORM_SPLIT[origin]
        raised = poisson(rng, lam)
        pending = self._open.setdefault((sid, origin), [])
        for _ in range(raised):
            pending.append(start + timedelta(minutes=rng.uniform(0, 60),
                                             hours=math.exp(rng.gauss(math.log(RESOLVE_MEDIAN_H), 0.8))))
        resolved = sum(1 for t in pending if t < end)
        pending[:] = [t for t in pending if t >= end]
        in_progress = sum(1 for t in pending if t - end < timedelta(hours=RESOLVE_MEDIAN_H))
        return SocEvent(event_id=seeded_uuid(rng), source_id=sid, event_time=end + REPORT_DELAY, period_start=start,
                        origin=origin, raised=raised, resolved=resolved, open_new=len(pending) - in_progress,
                        open_in_progress=in_progress)  # type: ignore[arg-type]


__all__ = ["PER_HOUR", "SocSource"]
