"""Rain gauges (trạm đo mưa): rainfall over each reporting interval.

A reading gives the millimetres fallen in the ``interval_min`` minutes before ``event_time``. The
Vietnamese classes of 24-hour rainfall (mưa vừa, to, rất to) are in each gauge's registry entry
(``geodata/sites/rain_gauges.geojson``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage


class RainEvent(BaseEvent):
    """Rain fallen over the interval ending at ``event_time`` (mm)."""

    kind: ClassVar[str] = "rain"
    rain_mm: float = Field(ge=0.0, le=500.0)
    interval_min: int = Field(default=10, ge=1, le=1440)


def _row(e: RainEvent) -> tuple[Any, ...]:
    return (e.rain_mm, e.interval_min)


def _example() -> RainEvent:
    return RainEvent(event_id=uuid.UUID(int=13_004), source_id="rain-phulien",
                     event_time=datetime(2026, 8, 18, 9, tzinfo=UTC), rain_mm=6.4)


SOURCE = SourceSpec(
    kind="rain", order=80, name_vi="Lượng mưa", name_en="Rainfall",
    event=RainEvent, table="rain_events",
    columns=(Column("rain_mm", "float4", nullable=False), Column("interval_min", "int2", nullable=False)),
    row=_row, example=_example,
    rollup=Rollup("rain_1m", "1 minute", (("rain_mm", "sum(rain_mm)"),)),
    storage=Storage(chunk="7 days", compress_after="30 days", retain="3650 days"),
    owner="environment", data_class=DataClass.PUBLIC,
    freshness=Freshness(late_after=timedelta(minutes=30), silent_after=timedelta(hours=2)),
    layer="rain", rules=("flood-rain-tide",), site_file="rain_gauges.geojson",
)
