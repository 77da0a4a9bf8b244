"""Cameras: a heartbeat every 60 s with vehicle counts (analytics cameras) and detections.

One-stop service counter cameras have no vehicle analytics and send heartbeats only. Cameras
drop out now and then for a few minutes (real-life noise); incidents take them offline or make
the analytics detect floods, crowds and stopped vehicles.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from geodata.sites import Site
from ioc.sources.camera import CameraEvent, Detection, DetectionType, VehicleCounts
from simulators import profiles
from simulators.base import IncidentIndex, phase_s, poisson, schedule, seeded_uuid, stream_rng
from simulators.scenario import IncidentClass

PERIOD_S = 60

# Vehicles per minute past a camera at full rush-hour demand, by zone.
_PEAK_PER_MIN = {"core": 70.0, "arterial": 55.0, "port": 35.0, "suburban": 28.0, "rural": 12.0}
# Vehicle mix by zone: motorbike, car, bus, truck, container, bicycle.
_MIX = {
    "core": (0.78, 0.155, 0.012, 0.03, 0.003, 0.02),
    "arterial": (0.6, 0.2, 0.02, 0.12, 0.05, 0.01),
    "port": (0.35, 0.15, 0.01, 0.2, 0.28, 0.01),
    "suburban": (0.74, 0.14, 0.01, 0.07, 0.01, 0.03),
    "rural": (0.78, 0.1, 0.01, 0.06, 0.0, 0.05),
}
_CLASSES = ("motorbike", "car", "bus", "truck", "container", "bicycle")

DETECTS = {
    IncidentClass.FLOODING: DetectionType.FLOODING,
    IncidentClass.CROWD: DetectionType.CROWD,
    IncidentClass.STOPPED_VEHICLE: DetectionType.STOPPED_VEHICLE,
}
# Vehicle flow left past the camera at full severity.
_FLOW_LEFT = {
    IncidentClass.FLOODING: 0.4,
    IncidentClass.CONGESTION: 0.6,
    IncidentClass.STOPPED_VEHICLE: 0.5,
    IncidentClass.CROWD: 0.6,
}
_DETECTION_TYPES = tuple(DetectionType)
FALSE_POSITIVE_RATE = 0.0008  # spurious low-confidence detections per camera heartbeat


class CameraSource:
    def __init__(
        self, sites: list[Site], seed: int, incidents: IncidentIndex, blips_per_day: float = 0.1
    ) -> None:
        self.sites = sorted(sites, key=lambda s: s.source_id)
        self.rng = stream_rng(seed, "camera")
        self.incident_rng = stream_rng(seed, "camera-incidents")
        self.incidents = incidents
        self.blip_probability = blips_per_day / (24 * 60)
        self.down_until: dict[str, datetime] = {}

    def events(self, a: datetime, b: datetime) -> list[CameraEvent]:
        out = []
        for site in self.sites:
            for t in schedule(a, b, PERIOD_S, phase_s(site.source_id, PERIOD_S)):
                out.append(self._heartbeat(site, t))
        return out

    def _heartbeat(self, site: Site, t: datetime) -> CameraEvent:
        rng = self.rng
        event_id = seeded_uuid(rng)
        # Fixed draws per heartbeat so incidents never shift the baseline stream.
        blip, blip_minutes = rng.random(), rng.randint(1, 4)
        fp, fp_type, fp_conf = rng.random(), rng.choice(_DETECTION_TYPES), rng.uniform(0.15, 0.45)
        counts_seed = rng.getrandbits(64)
        if blip < self.blip_probability:
            self.down_until[site.source_id] = t + timedelta(minutes=blip_minutes)
        active = self.incidents.at(site.source_id, t)
        offline = t < self.down_until.get(site.source_id, t) or any(
            inc.cls is IncidentClass.CAMERA_OUTAGE for inc, _ in active
        )
        if offline:
            return CameraEvent(event_id=event_id, source_id=site.source_id, event_time=t, online=False)
        if not site.properties.get("analytics", True):
            return CameraEvent(event_id=event_id, source_id=site.source_id, event_time=t, online=True)

        zone = str(site.properties.get("zone", "core"))
        mean = _PEAK_PER_MIN.get(zone, 30.0) * profiles.traffic_demand(profiles.to_local(t))
        detections: list[Detection] = []
        for inc, s in active:
            mean *= 1.0 - (1.0 - _FLOW_LEFT.get(inc.cls, 1.0)) * s
            kind = DETECTS.get(inc.cls)
            if kind is not None and s >= 0.15:
                confidence = min(0.99, 0.5 + 0.45 * s + self.incident_rng.uniform(-0.05, 0.05))
                detections.append(Detection(type=kind, confidence=round(confidence, 2)))
        if not detections and fp < FALSE_POSITIVE_RATE:
            detections.append(Detection(type=fp_type, confidence=round(fp_conf, 2)))
        counts = self._counts(zone, mean, counts_seed)
        return CameraEvent(
            event_id=event_id,
            source_id=site.source_id,
            event_time=t,
            online=True,
            counts=counts,
            detections=tuple(detections),
        )

    def _counts(self, zone: str, mean: float, seed: int) -> VehicleCounts:
        # A per-heartbeat generator seeded from the stream keeps the stream's number of draws fixed.
        local_rng = random.Random(seed)
        mix = _MIX.get(zone, _MIX["core"])
        return VehicleCounts(
            **{c: poisson(local_rng, mean * share) for c, share in zip(_CLASSES, mix, strict=True)}
        )
