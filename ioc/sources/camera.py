"""Cameras (camera giám sát): heartbeat, vehicle counts by class and video-analytics detections."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

import orjson
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from ioc.events import BaseEvent, Probability
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage


class VehicleCounts(BaseModel):
    """Vehicles counted by class since the previous analytics event."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    motorbike: int = Field(default=0, ge=0, le=100_000)
    car: int = Field(default=0, ge=0, le=100_000)
    bus: int = Field(default=0, ge=0, le=100_000)
    truck: int = Field(default=0, ge=0, le=100_000)
    container: int = Field(default=0, ge=0, le=100_000)
    bicycle: int = Field(default=0, ge=0, le=100_000)


class DetectionType(StrEnum):
    FIRE_SMOKE = "fire_smoke"
    CROWD = "crowd"
    STOPPED_VEHICLE = "stopped_vehicle"
    WRONG_WAY = "wrong_way"
    FLOODING = "flooding"


class Detection(BaseModel):
    """One video-analytics detection with the model's confidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: DetectionType
    confidence: Probability


class CameraEvent(BaseEvent):
    """A camera heartbeat: online status, optional analytics counts and detections."""

    kind: ClassVar[str] = "camera"
    online: bool
    counts: VehicleCounts | None = None
    detections: tuple[Detection, ...] = Field(default=(), max_length=50)  # one frame's analytics, bounded


def _row(e: CameraEvent) -> tuple[Any, ...]:
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


def _example() -> CameraEvent:
    return CameraEvent(event_id=uuid.UUID(int=1), source_id="cam-lachtray-01", event_time=datetime(2026, 1, 5, 1, tzinfo=UTC),
                       online=True, counts=VehicleCounts(motorbike=40, car=6),
                       detections=(Detection(type=DetectionType.CROWD, confidence=0.4),))


SOURCE = SourceSpec(
    kind="camera", order=10, name_vi="Camera giám sát", name_en="Cameras",
    event=CameraEvent, table="camera_events",
    columns=(
        Column("online", "bool", nullable=False), Column("vehicles", "int4"), Column("counts", "jsonb"),
        Column("detections", "jsonb", nullable=False, default="'[]'::jsonb"), Column("top_detection", "text"),
        Column("top_confidence", "float4"),
    ),
    row=_row, example=_example,
    rollup=Rollup("camera_1m", "1 minute", (
        ("all_online", "bool_and(online)"), ("vehicles", "sum(vehicles)"), ("max_confidence", "max(top_confidence)"))),
    storage=Storage(chunk="1 day", compress_after="7 days", retain="90 days"),
    owner="camera", data_class=DataClass.INTERNAL,
    freshness=Freshness(late_after=timedelta(minutes=3), silent_after=timedelta(minutes=10)),
    layer="cameras", rules=("camera-silent", "camera-detection"), site_file="cameras.geojson",
)
