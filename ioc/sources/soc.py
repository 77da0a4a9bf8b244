"""SOC summary (Trung tâm giám sát, điều hành an toàn thông tin mạng): counts, never raw security data.

The city's SOC at the city data centre reports, per period and per origin of the alerts (servers,
the internal network, other), how many security alerts were raised and resolved in the period and
how many are open at its end by state (new, being handled). No log line, address, host name or
signature leaves the SOC: the schema holds numbers only and refuses any other field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage

Count = Annotated[int, Field(ge=0, le=1_000_000)]
ORIGINS = ("servers", "internal_network", "other")
Origin = Literal["servers", "internal_network", "other"]


class SocEvent(BaseEvent):
    """One origin's alert counts for one period."""

    kind: ClassVar[str] = "soc"
    period_start: AwareDatetime
    period_minutes: int = Field(default=60, ge=5, le=1440)
    origin: Origin
    raised: Count = 0  # new security alerts in the period
    resolved: Count = 0  # alerts closed (khắc phục) in the period
    open_new: Count = 0  # open at the end of the period, not yet handled
    open_in_progress: Count = 0  # open at the end of the period, being handled


def _row(e: SocEvent) -> tuple[Any, ...]:
    return (e.period_start, e.period_minutes, e.origin, e.raised, e.resolved, e.open_new, e.open_in_progress)


def _example() -> SocEvent:
    start = datetime(2026, 1, 5, 1, tzinfo=UTC)
    return SocEvent(event_id=uuid.UUID(int=13_005), source_id="soc-ttdl", event_time=start + timedelta(hours=1),
                    period_start=start, origin="servers", raised=2, resolved=1, open_new=1, open_in_progress=1)


SOURCE = SourceSpec(
    kind="soc", order=90, name_vi="Giám sát an toàn thông tin (SOC)", name_en="Security operations (SOC)",
    event=SocEvent, table="soc_events",
    columns=(
        Column("period_start", "timestamptz", nullable=False), Column("period_minutes", "int2", nullable=False),
        Column("origin", "text", nullable=False), Column("raised", "int4", nullable=False),
        Column("resolved", "int4", nullable=False), Column("open_new", "int4", nullable=False),
        Column("open_in_progress", "int4", nullable=False),
    ),
    row=_row, example=_example,
    rollup=Rollup("soc_1h", "1 hour", (("raised", "sum(raised)"), ("resolved", "sum(resolved)"),
                                       ("open_new", "max(open_new)"), ("open_in_progress", "max(open_in_progress)")),
                  group_by=("source_id", "origin")),
    storage=Storage(chunk="30 days", compress_after="90 days", retain="1825 days"),
    owner="camera", data_class=DataClass.INTERNAL,
    freshness=Freshness(late_after=timedelta(hours=2), silent_after=timedelta(hours=6)),
    layer=None, rules=("soc-storm",), site_file="soc.json",
)
