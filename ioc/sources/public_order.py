"""Public order (an ninh trật tự): the city police's aggregate counts per commune-level unit and hour.

One event per reporting unit (the police of a xã, phường or đặc khu, ``geodata/sites/police_units.json``)
and hour: counts of traffic accidents with their deaths and injuries, criminal cases, public-disorder
incidents, fires and rescues. Only counts: the schema has no text field and no field that could
hold a name, an identity number, a plate or an address, and any field it does not declare is refused
to the dead letters (``unknown_field``), so a feed that starts sending case details cannot slip
them in. The data is restricted to leaders and the police liaison.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import AwareDatetime, Field, model_validator

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage

Count = Annotated[int, Field(ge=0, le=10_000)]

#: The counted incident types, in display order (column names of the table).
INCIDENT_TYPES = ("traffic_accidents", "criminal_cases", "disorder_incidents", "fires", "rescues")
CASUALTIES = ("traffic_deaths", "traffic_injuries")


class PublicOrderEvent(BaseEvent):
    """One unit's counts for one period (normally an hour), from the police's statistics."""

    kind: ClassVar[str] = "public_order"
    period_start: AwareDatetime
    period_minutes: int = Field(default=60, ge=15, le=1440)
    traffic_accidents: Count = 0  # tai nạn giao thông (vụ)
    traffic_deaths: Count = 0  # người chết
    traffic_injuries: Count = 0  # người bị thương
    criminal_cases: Count = 0  # phạm pháp hình sự (vụ)
    disorder_incidents: Count = 0  # gây rối trật tự công cộng (vụ)
    fires: Count = 0  # cháy, nổ (vụ)
    rescues: Count = 0  # cứu nạn, cứu hộ (vụ)

    @model_validator(mode="after")
    def _period_ends_by_event(self) -> PublicOrderEvent:
        end = self.period_start + timedelta(minutes=self.period_minutes)
        if end > self.event_time + timedelta(minutes=1):
            raise ValueError(f"period ending {end.isoformat()} is reported before it ends ({self.event_time.isoformat()})")
        return self


def _row(e: PublicOrderEvent) -> tuple[Any, ...]:
    return (e.period_start, e.period_minutes, *(getattr(e, c) for c in INCIDENT_TYPES), e.traffic_deaths,
            e.traffic_injuries)


def _example() -> PublicOrderEvent:
    start = datetime(2026, 1, 5, 1, tzinfo=UTC)
    return PublicOrderEvent(event_id=uuid.UUID(int=13_002), source_id="ca-11455", event_time=start + timedelta(hours=1),
                            period_start=start, traffic_accidents=1, traffic_injuries=2, disorder_incidents=1)


SOURCE = SourceSpec(
    kind="public_order", order=60, name_vi="An ninh trật tự", name_en="Public order",
    event=PublicOrderEvent, table="public_order_events",
    columns=(
        Column("period_start", "timestamptz", nullable=False), Column("period_minutes", "int2", nullable=False),
        *(Column(c, "int4", nullable=False) for c in (*INCIDENT_TYPES, *CASUALTIES)),
    ),
    row=_row, example=_example,
    rollup=Rollup("public_order_1h", "1 hour", tuple((c, f"sum({c})") for c in (*INCIDENT_TYPES, *CASUALTIES))),
    storage=Storage(chunk="30 days", compress_after="90 days", retain=None),
    owner="public_order", data_class=DataClass.RESTRICTED,
    freshness=Freshness(late_after=timedelta(hours=2), silent_after=timedelta(hours=6)),
    layer="public_order", rules=("public-order-count", "public-order-cluster"), site_file="police_units.json",
)
