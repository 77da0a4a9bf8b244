"""Where each event class is stored: table, columns, and the row an event becomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg.types.json import Jsonb

from ioc.events import AirEvent, CameraEvent, Event, FeedbackEvent, SourceKind, TrafficEvent

COMMON = ("event_id", "source_id", "event_time", "late", "admin_unit", "schema_version")
COMMON_TYPES = ("uuid", "text", "timestamptz", "bool", "text", "int2")


def _camera(e: CameraEvent) -> tuple[Any, ...]:
    counts = e.counts.model_dump() if e.counts else None
    top = max(e.detections, key=lambda d: d.confidence) if e.detections else None
    return (
        e.online,
        sum(counts.values()) if counts else None,
        Jsonb(counts, dumps=orjson.dumps) if counts else None,
        Jsonb([d.model_dump(mode="json") for d in e.detections], dumps=orjson.dumps),
        top.type.value if top else None,
        top.confidence if top else None,
    )


def _traffic(e: TrafficEvent) -> tuple[Any, ...]:
    return (e.speed_kmh, e.volume_vph, e.occupancy_pct, e.free_flow_kmh)


def _air(e: AirEvent) -> tuple[Any, ...]:
    return (e.pm25, e.pm10, e.no2, e.so2, e.o3, e.co, e.temperature_c, e.humidity_pct)


def _feedback(e: FeedbackEvent) -> tuple[Any, ...]:
    return (e.ticket_id, e.action.value, e.category, e.text, e.lon, e.lat, list(e.photo_urls), e.channel,
            e.reporter_name, e.reporter_phone)


@dataclass(frozen=True)
class TableSpec:
    kind: SourceKind
    table: str
    columns: tuple[str, ...]  # kind-specific columns, after COMMON
    types: tuple[str, ...]  # their PostgreSQL types, for binary COPY
    values: Callable[[Any], tuple[Any, ...]]

    @property
    def all_columns(self) -> tuple[str, ...]:
        return COMMON + self.columns

    @property
    def all_types(self) -> tuple[str, ...]:
        return COMMON_TYPES + self.types

    def row(self, event: Event, *, late: bool, admin_unit: str | None) -> tuple[Any, ...]:
        return (event.event_id, event.source_id, event.event_time, late, admin_unit, event.schema_version,
                *self.values(event))


SPECS: dict[SourceKind, TableSpec] = {
    SourceKind.CAMERA: TableSpec(
        SourceKind.CAMERA, "camera_events",
        ("online", "vehicles", "counts", "detections", "top_detection", "top_confidence"),
        ("bool", "int4", "jsonb", "jsonb", "text", "float4"), _camera),
    SourceKind.TRAFFIC: TableSpec(
        SourceKind.TRAFFIC, "traffic_events",
        ("speed_kmh", "volume_vph", "occupancy_pct", "free_flow_kmh"),
        ("float4",) * 4, _traffic),
    SourceKind.AIR: TableSpec(
        SourceKind.AIR, "air_events",
        ("pm25", "pm10", "no2", "so2", "o3", "co", "temperature_c", "humidity_pct"),
        ("float4",) * 8, _air),
    SourceKind.FEEDBACK: TableSpec(
        SourceKind.FEEDBACK, "feedback_events",
        ("ticket_id", "action", "category", "text", "lon", "lat", "photo_urls", "channel",
         "reporter_name", "reporter_phone"),
        ("text", "text", "text", "text", "float8", "float8", "text[]", "text", "text", "text"), _feedback),
}
