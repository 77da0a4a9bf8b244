"""Typed, versioned events: one frozen class per source, validated at the edge, JSON on the wire.

Every event carries ``event_id`` (UUID, the idempotency key), ``source_id`` (the Kafka key),
``event_time`` (timezone-aware) and ``schema_version``. Values outside physical ranges fail
validation here, so the consumers can dead-letter them with the reason pydantic gives.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

SourceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Lon = Annotated[float, Field(ge=102.0, le=110.0)]  # Vietnam's longitude span: rejects swapped lat/lon
Lat = Annotated[float, Field(ge=8.0, le=24.0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class SourceKind(StrEnum):
    """The four live sources; each has its topic, table and event class."""

    CAMERA = "camera"
    TRAFFIC = "traffic"
    AIR = "air"
    FEEDBACK = "feedback"


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    kind: ClassVar[SourceKind]

    event_id: uuid.UUID  # required on the wire: it is the idempotency key
    source_id: SourceId
    event_time: AwareDatetime
    schema_version: Literal[1] = SCHEMA_VERSION

    def to_json(self) -> bytes:
        """Wire form: compact UTF-8 JSON."""
        return self.model_dump_json().encode()

    def key(self) -> bytes:
        """Kafka key: the source id, so one source stays on one partition (ordered)."""
        return self.source_id.encode()


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


class CameraEvent(_Event):
    """A camera heartbeat: online status, optional analytics counts and detections."""

    kind: ClassVar[SourceKind] = SourceKind.CAMERA
    online: bool
    counts: VehicleCounts | None = None
    detections: tuple[Detection, ...] = ()


class TrafficEvent(_Event):
    """A road-segment detector reading."""

    kind: ClassVar[SourceKind] = SourceKind.TRAFFIC
    speed_kmh: float = Field(ge=0, le=200)
    volume_vph: float = Field(ge=0, le=20_000)
    occupancy_pct: float = Field(ge=0, le=100)
    free_flow_kmh: float = Field(gt=0, le=200)


class AirEvent(_Event):
    """An air-quality station reading (µg/m³; CO in µg/m³ as QĐ 1459 tabulates it)."""

    kind: ClassVar[SourceKind] = SourceKind.AIR
    pm25: float | None = Field(default=None, ge=0, le=2_000)
    pm10: float | None = Field(default=None, ge=0, le=3_000)
    no2: float | None = Field(default=None, ge=0, le=5_000)
    so2: float | None = Field(default=None, ge=0, le=5_000)
    o3: float | None = Field(default=None, ge=0, le=2_000)
    co: float | None = Field(default=None, ge=0, le=200_000)
    temperature_c: float | None = Field(default=None, ge=-20, le=55)
    humidity_pct: float | None = Field(default=None, ge=0, le=100)


class FeedbackAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


class FeedbackEvent(_Event):
    """A citizen report from Hải Phòng Smart, created or updated.

    ``source_id`` is the intake channel's registered id (app, hotline, web, Zalo).
    Reporter name and phone are personal data: kept out of ``repr`` so they never reach a log.
    """

    kind: ClassVar[SourceKind] = SourceKind.FEEDBACK
    ticket_id: str = Field(min_length=1, max_length=64)
    action: FeedbackAction = FeedbackAction.CREATED
    category: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=1, max_length=5_000)
    lon: Lon
    lat: Lat
    photo_urls: tuple[str, ...] = Field(default=(), max_length=20)
    channel: Literal["app", "hotline", "web", "zalo", "email"] = "app"
    reporter_name: str | None = Field(default=None, max_length=200, repr=False)
    reporter_phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{8,20}$", repr=False)


Event = CameraEvent | TrafficEvent | AirEvent | FeedbackEvent

EVENT_CLASSES: dict[SourceKind, type[_Event]] = {
    SourceKind.CAMERA: CameraEvent,
    SourceKind.TRAFFIC: TrafficEvent,
    SourceKind.AIR: AirEvent,
    SourceKind.FEEDBACK: FeedbackEvent,
}


def event_now() -> datetime:
    """Aware UTC now (events are stored as timestamptz)."""
    from datetime import UTC

    return datetime.now(UTC)
