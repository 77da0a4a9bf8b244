"""Typed, versioned events: the base every source's event class extends, validated at the edge.

Every event carries ``event_id`` (UUID, the idempotency key), ``source_id`` (the Kafka key),
``event_time`` (timezone-aware) and ``schema_version``. Values outside physical ranges fail
validation here, so the consumers can dead-letter them with the reason pydantic gives.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

SourceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Lon = Annotated[float, Field(ge=102.0, le=110.0)]  # Vietnam's longitude span: rejects swapped lat/lon
Lat = Annotated[float, Field(ge=8.0, le=24.0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
# A link in an event (a photo): http(s) only, no spaces or control characters, bounded length.
WebUrl = Annotated[str, Field(min_length=10, max_length=2048, pattern=r"^https?://[^\s/?#]+[^\s]*$")]


class BaseEvent(BaseModel):
    """What every event carries; each source's event class (``ioc/sources/<kind>.py``) adds its fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    kind: ClassVar[str]  # set to the SourceKind member by the registry (ioc.sources)

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


Event = BaseEvent  # any source's event (annotations); the classes are declared in ioc/sources/


def event_now() -> datetime:
    """Aware UTC now (events are stored as timestamptz)."""
    from datetime import UTC

    return datetime.now(UTC)
