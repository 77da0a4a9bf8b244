"""Water-level gauges (trạm thủy văn, hải văn) on the main rivers and the sea: Cấm, Lạch Tray, Văn Úc,
Bạch Đằng, Thái Bình, Kinh Thầy, Luộc and the Hòn Dấu tide station.

Levels are metres above the national height datum (hệ cao độ quốc gia, Hòn Dấu). Each gauge's alarm
levels (báo động BĐ1, BĐ2, BĐ3) are in its registry entry (``geodata/sites/water_gauges.geojson``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage


class WaterLevelEvent(BaseEvent):
    """One water-level reading (m above the national datum)."""

    kind: ClassVar[str] = "water"
    level_m: float = Field(ge=-5.0, le=20.0)


def _row(e: WaterLevelEvent) -> tuple[Any, ...]:
    return (e.level_m,)


def _example() -> WaterLevelEvent:
    return WaterLevelEvent(event_id=uuid.UUID(int=13_003), source_id="wl-hondau",
                           event_time=datetime(2026, 8, 18, 9, tzinfo=UTC), level_m=1.42)


SOURCE = SourceSpec(
    kind="water", order=70, name_vi="Mực nước sông, triều", name_en="River and tide levels",
    event=WaterLevelEvent, table="water_events",
    columns=(Column("level_m", "float4", nullable=False),),
    row=_row, example=_example,
    rollup=Rollup("water_1m", "1 minute", (("level_m", "avg(level_m)"), ("max_level_m", "max(level_m)"))),
    storage=Storage(chunk="7 days", compress_after="30 days", retain="3650 days"),
    owner="environment", data_class=DataClass.PUBLIC,
    freshness=Freshness(late_after=timedelta(minutes=30), silent_after=timedelta(hours=2)),
    layer="water", rules=("flood-level", "flood-rise", "flood-rain-tide"), site_file="water_gauges.geojson",
)
