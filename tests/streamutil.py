"""Helpers for stream tests: valid events for registered sites, produced to the stack's topics."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from geodata.sites import load_sites
from ioc.events import Event
from ioc.services.proc import wait_until
from ioc.sources import SourceKind
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent, VehicleCounts
from ioc.sources.feedback import FeedbackEvent
from ioc.sources.traffic import TrafficEvent


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
            out.append(
                TrafficEvent(
                    **common,
                    speed_kmh=rng.uniform(5, 60),
                    volume_vph=rng.uniform(100, 3000),
                    occupancy_pct=rng.uniform(1, 60),
                    free_flow_kmh=50,
                )
            )
        elif kind is SourceKind.AIR:
            out.append(
                AirEvent(
                    **common,
                    pm25=rng.uniform(5, 150),
                    pm10=rng.uniform(10, 200),
                    temperature_c=25,
                    humidity_pct=70,
                )
            )
        elif kind is SourceKind.CAMERA:
            out.append(
                CameraEvent(**common, online=True, counts=VehicleCounts(motorbike=rng.randint(0, 90), car=3))
            )
        else:
            out.append(
                FeedbackEvent(
                    **common,
                    ticket_id=f"HP-{i}",
                    text="Đường Lạch Tray ngập sâu sau mưa",
                    lon=106.68 + rng.uniform(-0.02, 0.02),
                    lat=20.85 + rng.uniform(-0.02, 0.02),
                    category="moi_truong",
                    reporter_name="Nguyễn Văn An",
                    reporter_phone="0912 345 678",
                )
            )
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


def produce_events(bootstrap: str, prefix: str, events: list[Event]) -> None:
    """Send ``events`` to their topics (keyed by source) and wait for every acknowledgement."""
    from ioc.kafka import make_producer
    from ioc.topics import topic_for

    producer = make_producer(bootstrap)
    topics = {k: topic_for(k, prefix) for k in SourceKind}
    for e in events:
        producer.send(topics[e.kind], key=e.key(), value=e.to_json())
    producer.flush()
    producer.close()


def stored_event_ids(dsn: str) -> list[uuid.UUID]:
    """Every stored event id across the four event tables (duplicates kept)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT event_id FROM camera_events UNION ALL SELECT event_id FROM traffic_events"
            " UNION ALL SELECT event_id FROM air_events UNION ALL SELECT event_id FROM feedback_events"
        ).fetchall()
    return [r[0] for r in rows]


def stored_rows(dsn: str) -> int:
    """Rows across the four event tables, or -1 while the database is unreachable."""
    try:
        return distinct_ids(dsn)[0]
    except psycopg.OperationalError:
        return -1


def ingested(dsn: str) -> int:
    """Messages the sinks have finished (accepted + rejected), or -1 while the database is unreachable."""
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            row = conn.execute("SELECT coalesce(sum(accepted + rejected), 0) FROM ingest_stats").fetchone()
    except psycopg.OperationalError:
        return -1
    assert row is not None
    return int(row[0])


def recent_events(n: int, seed: int = 1) -> list[Event]:
    """``valid_events`` spaced 0.1 s apart, ending a minute ago, so none is in the future however large ``n``."""
    return valid_events(n, seed=seed, start=datetime.now(UTC) - timedelta(seconds=n * 0.1 + 60))
