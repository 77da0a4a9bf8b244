"""Helpers for stream tests: valid events for registered sites, produced to the stack's topics."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from geodata.sites import load_sites
from ioc.events import AirEvent, CameraEvent, Event, FeedbackEvent, SourceKind, TrafficEvent, VehicleCounts
from ioc.services.proc import wait_until


def valid_events(n: int, seed: int = 1, start: datetime | None = None) -> list[Event]:
    """``n`` valid events spread over the four sources, for registered sites, deterministic by seed."""
    rng = random.Random(seed)
    start = start or datetime.now(UTC) - timedelta(minutes=30)
    sites = {k: [s.source_id for s in load_sites(k)] for k in SourceKind}
    out: list[Event] = []
    for i in range(n):
        kind = list(SourceKind)[i % 4]
        common = {
            "event_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "source_id": rng.choice(sites[kind]),
            "event_time": start + timedelta(seconds=i * 0.1),
        }
        if kind is SourceKind.TRAFFIC:
            out.append(TrafficEvent(**common, speed_kmh=rng.uniform(5, 60), volume_vph=rng.uniform(100, 3000),
                                    occupancy_pct=rng.uniform(1, 60), free_flow_kmh=50))
        elif kind is SourceKind.AIR:
            out.append(AirEvent(**common, pm25=rng.uniform(5, 150), pm10=rng.uniform(10, 200), temperature_c=25,
                                humidity_pct=70))
        elif kind is SourceKind.CAMERA:
            out.append(CameraEvent(**common, online=True, counts=VehicleCounts(motorbike=rng.randint(0, 90), car=3)))
        else:
            out.append(FeedbackEvent(**common, ticket_id=f"HP-{i}", text="Đường Lạch Tray ngập sâu sau mưa",
                                     lon=106.68 + rng.uniform(-0.02, 0.02), lat=20.85 + rng.uniform(-0.02, 0.02),
                                     category="moi_truong", reporter_name="Nguyễn Văn An",
                                     reporter_phone="0912 345 678"))
    return out


def table_counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("camera_events", "traffic_events", "air_events", "feedback_events", "deadletter")
        }


def distinct_ids(dsn: str) -> tuple[int, int]:
    """(rows, distinct event ids) across the four event tables."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM (SELECT event_id FROM camera_events UNION ALL"
            " SELECT event_id FROM traffic_events UNION ALL SELECT event_id FROM air_events UNION ALL"
            " SELECT event_id FROM feedback_events) t"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def wait_for_total(dsn: str, total: int, timeout: float = 120.0) -> None:
    wait_until(lambda: sum(table_counts(dsn).values()) >= total, timeout, f"{total} stored rows")
