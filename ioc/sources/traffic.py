"""Traffic detectors (đầu đo giao thông): speed, volume and occupancy per road segment and direction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage


class TrafficEvent(BaseEvent):
    """A road-segment detector reading."""

    kind: ClassVar[str] = "traffic"
    speed_kmh: float = Field(ge=0, le=200)
    volume_vph: float = Field(ge=0, le=20_000)
    occupancy_pct: float = Field(ge=0, le=100)
    free_flow_kmh: float = Field(gt=0, le=200)


def _row(e: TrafficEvent) -> tuple[Any, ...]:
    return (e.speed_kmh, e.volume_vph, e.occupancy_pct, e.free_flow_kmh)


def _example() -> TrafficEvent:
    return TrafficEvent(event_id=uuid.UUID(int=2), source_id="seg-caubinh-n", event_time=datetime(2026, 1, 5, 1, tzinfo=UTC),
                        speed_kmh=31.5, volume_vph=1800, occupancy_pct=22.0, free_flow_kmh=50.0)


SOURCE = SourceSpec(
    kind="traffic", order=20, name_vi="Giao thông", name_en="Traffic",
    event=TrafficEvent, table="traffic_events",
    columns=tuple(Column(c, "float4", nullable=False) for c in ("speed_kmh", "volume_vph", "occupancy_pct", "free_flow_kmh")),
    row=_row, example=_example,
    rollup=Rollup("traffic_1m", "1 minute", (
        ("speed_kmh", "avg(speed_kmh)"), ("volume_vph", "avg(volume_vph)"), ("occupancy_pct", "avg(occupancy_pct)"),
        ("free_flow_kmh", "avg(free_flow_kmh)"))),
    storage=Storage(chunk="1 day", compress_after="7 days", retain="90 days"),
    owner="traffic", data_class=DataClass.PUBLIC,
    freshness=Freshness(late_after=timedelta(minutes=3), silent_after=timedelta(minutes=10)),
    layer="traffic", rules=("traffic-slow", "anomaly-traffic"), site_file="traffic_segments.geojson",
)
