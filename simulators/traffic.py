"""Road-segment detectors: one reading per segment every 60 s.

Demand follows the daily profile; speed falls with the volume/capacity ratio (a BPR-like
curve); occupancy follows density. Incidents lower speed and throughput on their segments.
"""

from __future__ import annotations

from datetime import datetime

from geodata.sites import Site
from ioc.sources.traffic import TrafficEvent
from simulators import profiles
from simulators.base import IncidentIndex, phase_s, schedule, seeded_uuid, stream_rng
from simulators.scenario import IncidentClass

PERIOD_S = 60
CAPACITY_VPH_PER_LANE = 1600.0  # passenger-car equivalents; motorbikes share lanes
VEHICLE_SPACE_M = 5.5  # effective length used to turn density into detector occupancy

# Speed drop at full severity, and the share of throughput lost, by incident class.
SPEED_DROP = {
    IncidentClass.CONGESTION: 0.75,
    IncidentClass.FLOODING: 0.65,
    IncidentClass.STOPPED_VEHICLE: 0.7,
    IncidentClass.CROWD: 0.35,
}
THROUGHPUT_LOSS = {
    IncidentClass.CONGESTION: 0.35,
    IncidentClass.FLOODING: 0.55,
    IncidentClass.STOPPED_VEHICLE: 0.5,
    IncidentClass.CROWD: 0.2,
}


class TrafficSource:
    def __init__(self, sites: list[Site], seed: int, incidents: IncidentIndex) -> None:
        self.sites = sorted(sites, key=lambda s: s.source_id)
        self.rng = stream_rng(seed, "traffic")
        self.incidents = incidents
        self.noise = {s.source_id: 0.0 for s in self.sites}  # AR(1) demand deviation per segment

    def events(self, a: datetime, b: datetime) -> list[TrafficEvent]:
        out = []
        rng = self.rng
        for site in self.sites:
            for t in schedule(a, b, PERIOD_S, phase_s(site.source_id, PERIOD_S)):
                # Draw the same numbers whatever the incidents: unaffected series stay identical.
                event_id = seeded_uuid(rng)
                self.noise[site.source_id] = 0.9 * self.noise[site.source_id] + rng.gauss(0, 0.035)
                speed_noise = rng.gauss(0, 1.2)
                out.append(self._reading(site, t, event_id, speed_noise))
        return out

    def _reading(self, site: Site, t: datetime, event_id, speed_noise: float) -> TrafficEvent:
        p = site.properties
        ff = float(p["free_flow_kmh"])
        lanes = int(p["lanes"])
        x = max(0.02, profiles.traffic_demand(profiles.to_local(t)) * float(p.get("peak_load", 1.0)))
        x *= 1.0 + self.noise[site.source_id]
        capacity = lanes * CAPACITY_VPH_PER_LANE
        speed = ff / (1.0 + 0.8 * min(x, 1.3) ** 3)
        volume = capacity * min(x, 1.0)
        for inc, s in self.incidents.at(site.source_id, t):
            speed *= 1.0 - SPEED_DROP.get(inc.cls, 0.0) * min(1.0, inc.magnitude) * s
            volume *= 1.0 - THROUGHPUT_LOSS.get(inc.cls, 0.0) * min(1.0, inc.magnitude) * s
        speed = min(ff * 1.15, max(2.0, speed + speed_noise))
        density = volume / lanes / speed  # vehicles per km per lane
        occupancy = min(98.0, density * VEHICLE_SPACE_M / 10.0)
        return TrafficEvent(
            event_id=event_id,
            source_id=site.source_id,
            event_time=t,
            speed_kmh=round(speed, 1),
            volume_vph=round(volume),
            occupancy_pct=round(occupancy, 1),
            free_flow_kmh=ff,
        )
