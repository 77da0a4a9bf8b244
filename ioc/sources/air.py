"""Air-quality stations (trạm quan trắc không khí): pollutants and weather, for VN_AQI and US AQI."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage

POLLUTANTS = ("pm25", "pm10", "no2", "so2", "o3", "co")


class AirEvent(BaseEvent):
    """An air-quality station reading (µg/m³; CO in µg/m³ as QĐ 1459 tabulates it)."""

    kind: ClassVar[str] = "air"
    pm25: float | None = Field(default=None, ge=0, le=2_000)
    pm10: float | None = Field(default=None, ge=0, le=3_000)
    no2: float | None = Field(default=None, ge=0, le=5_000)
    so2: float | None = Field(default=None, ge=0, le=5_000)
    o3: float | None = Field(default=None, ge=0, le=2_000)
    co: float | None = Field(default=None, ge=0, le=200_000)
    temperature_c: float | None = Field(default=None, ge=-20, le=55)
    humidity_pct: float | None = Field(default=None, ge=0, le=100)


def _row(e: AirEvent) -> tuple[Any, ...]:
    return (e.pm25, e.pm10, e.no2, e.so2, e.o3, e.co, e.temperature_c, e.humidity_pct)


def _example() -> AirEvent:
    return AirEvent(event_id=uuid.UUID(int=3), source_id="air-dinhvu", event_time=datetime(2026, 1, 5, 1, tzinfo=UTC),
                    pm25=48.2, pm10=71.0, no2=30.0, temperature_c=19.5, humidity_pct=80.0)


SOURCE = SourceSpec(
    kind="air", order=30, name_vi="Chất lượng không khí", name_en="Air quality",
    event=AirEvent, table="air_events",
    columns=tuple(Column(c, "float4") for c in (*POLLUTANTS, "temperature_c", "humidity_pct")),
    row=_row, example=_example,
    rollup=Rollup("air_1m", "1 minute", tuple((p, f"avg({p})") for p in POLLUTANTS)),
    storage=Storage(chunk="7 days", compress_after="30 days", retain="365 days"),
    owner="environment", data_class=DataClass.PUBLIC,
    freshness=Freshness(late_after=timedelta(minutes=20), silent_after=timedelta(hours=1)),
    layer="air", rules=("aqi-vn-bad", "anomaly-air"), site_file="air_stations.geojson",
)
