"""A small, deterministic city for the dashboard tests: readings for every registered site over
the last hours, stored through the spine's real sink (the same rows the consumers write)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from geodata.sites import load_sites, sites_by_id
from ioc.events import Event
from ioc.sources import SourceKind
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent, Detection, DetectionType, VehicleCounts
from ioc.sources.feedback import FeedbackAction, FeedbackEvent
from ioc.sources.traffic import TrafficEvent
from streams.sink import TimescaleSink


def city_events(
    now: datetime | None = None,
    hours: float = 3.0,
    step_min: int = 10,
    reports: int = 40,
    seed: int = 7,
    cameras: int | None = None,
) -> list[Event]:
    """Readings every ``step_min`` minutes for every site (or the first ``cameras`` cameras)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    steps = int(hours * 60 // step_min)
    cams = load_sites(SourceKind.CAMERA)[:cameras] if cameras is not None else load_sites(SourceKind.CAMERA)
    out: list[Event] = []

    def eid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    for i in range(steps, -1, -1):
        at = now - timedelta(minutes=i * step_min, seconds=30)
        for n, cam in enumerate(cams):
            online = n % 10 != 3  # every tenth camera offline
            det = (Detection(type=DetectionType.FLOODING, confidence=0.9),) if n % 10 == 5 else ()
            out.append(
                CameraEvent(
                    event_id=eid(),
                    source_id=cam.source_id,
                    event_time=at,
                    online=online,
                    counts=VehicleCounts(motorbike=rng.randint(5, 80), car=rng.randint(0, 9)),
                    detections=det,
                )
            )
        for n, seg in enumerate(load_sites(SourceKind.TRAFFIC)):
            ff = float(seg.properties.get("free_flow_kmh", 50.0))
            ratio = (0.15, 0.4, 0.65, 0.95)[n % 4]
            out.append(
                TrafficEvent(
                    event_id=eid(),
                    source_id=seg.source_id,
                    event_time=at,
                    speed_kmh=round(ff * ratio, 1),
                    volume_vph=rng.uniform(300, 2000),
                    occupancy_pct=rng.uniform(5, 60),
                    free_flow_kmh=ff,
                )
            )
        for n, st in enumerate(load_sites(SourceKind.AIR)):
            out.append(
                AirEvent(
                    event_id=eid(),
                    source_id=st.source_id,
                    event_time=at,
                    pm25=(12.0, 40.0, 70.0, 160.0)[n % 4],
                    pm10=50.0,
                    temperature_c=27.0,
                    humidity_pct=75.0,
                )
            )
    channels = load_sites(SourceKind.FEEDBACK)
    for k in range(reports):
        at = now - timedelta(minutes=rng.uniform(5, hours * 60))
        common = {
            "source_id": channels[k % len(channels)].source_id,
            "ticket_id": f"HP-{seed}-{k}",
            "category": ("ngap_ung", "rac_thai", "giao_thong")[k % 3],
            "text": "Ngập sâu trên đường Lạch Tray",
            "lon": 106.68 + rng.uniform(-0.03, 0.03),
            "lat": 20.85 + rng.uniform(-0.02, 0.02),
            "reporter_name": "Nguyễn Văn An",
            "reporter_phone": "0912 345 678",
        }
        out.append(FeedbackEvent(event_id=eid(), event_time=at, **common))
        if k % 4 == 0:
            out.append(
                FeedbackEvent(
                    event_id=eid(),
                    event_time=min(now, at + timedelta(minutes=3)),
                    action=FeedbackAction.UPDATED,
                    **common,
                )
            )
    return out


def store(dsn: str, events: list[Event]) -> int:
    """Write events through ``TimescaleSink`` (one transaction per kind), admin units assigned as
    the consumers do; returns the rows inserted."""
    from geodata.admin import AdminAssigner
    from geodata.boundaries import boundary_set_for

    assign = AdminAssigner(boundary_set_for(datetime.now(UTC).date())).assign
    sites = sites_by_id()
    inserted = 0
    with psycopg.connect(dsn) as conn:
        for kind in SourceKind:
            sink = TimescaleSink(conn, "web-tests", kind)
            for off, ev in enumerate(e for e in events if e.kind is kind):
                lon, lat = (
                    (ev.lon, ev.lat)
                    if isinstance(ev, FeedbackEvent)
                    else (sites[ev.source_id].lon, sites[ev.source_id].lat)
                )
                sink.add(
                    ev,
                    topic=f"web-tests.{kind.value}",
                    partition=0,
                    offset=off,
                    late=False,
                    admin_unit=assign(lon, lat),
                )
            inserted += sink.flush().inserted
    return inserted


def insert_alert(
    dsn: str,
    key: str,
    severity: str,
    state: str,
    title_vi: str,
    title_en: str,
    lon: float | None = None,
    lat: float | None = None,
    source_id: str | None = None,
) -> str:
    """One alert row as the alert engine stores it (``ioc/schema/020_alerts.sql``); returns its id."""
    alert_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO alerts (alert_id, alert_key, rule_id, alert_class, severity, state, title_vi, title_en,"
            " source_id, lon, lat, agency_code, agency_vi, agency_en, created_at, updated_at, last_seen)"
            " VALUES (%s, %s, 'test_rule', 'traffic', %s, %s, %s, %s, %s, %s, %s, 'csgt', 'Cảnh sát giao thông',"
            " 'Traffic police', %s, %s, %s)",
            (alert_id, key, severity, state, title_vi, title_en, source_id, lon, lat, now, now, now),
        )
    return alert_id
