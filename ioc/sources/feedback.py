"""Citizen reports (phản ánh hiện trường) from Hải Phòng Smart and the other intake channels."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field

from ioc.events import BaseEvent, Lat, Lon, WebUrl
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage


class FeedbackAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


class FeedbackEvent(BaseEvent):
    """A citizen report from Hải Phòng Smart, created or updated.

    ``source_id`` is the intake channel's registered id (app, hotline, web, Zalo).
    Reporter name and phone are personal data: kept out of ``repr`` so they never reach a log.
    """

    kind: ClassVar[str] = "feedback"
    ticket_id: str = Field(min_length=1, max_length=64)
    action: FeedbackAction = FeedbackAction.CREATED
    category: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=1, max_length=5_000)
    lon: Lon
    lat: Lat
    photo_urls: tuple[WebUrl, ...] = Field(default=(), max_length=20)  # size limits: part of the schema
    channel: Literal["app", "hotline", "web", "zalo", "email"] = "app"
    reporter_name: str | None = Field(default=None, max_length=200, repr=False)
    reporter_phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{8,20}$", repr=False)


def _row(e: FeedbackEvent) -> tuple[Any, ...]:
    return (e.ticket_id, e.action.value, e.category, e.text, e.lon, e.lat, list(e.photo_urls), e.channel,
            e.reporter_name, e.reporter_phone)


def _example() -> FeedbackEvent:
    return FeedbackEvent(event_id=uuid.UUID(int=4), source_id="hps-app", event_time=datetime(2026, 1, 5, 1, tzinfo=UTC),
                         ticket_id="HPS-EXAMPLE-1", text="Đèn đường hỏng trên phố Lạch Tray", lon=106.6874, lat=20.8536)


SOURCE = SourceSpec(
    kind="feedback", order=40, name_vi="Phản ánh của người dân", name_en="Citizen reports",
    event=FeedbackEvent, table="feedback_events",
    columns=(
        Column("ticket_id", "text", nullable=False), Column("action", "text", nullable=False), Column("category", "text"),
        Column("text", "text", nullable=False), Column("lon", "float8", nullable=False),
        Column("lat", "float8", nullable=False), Column("photo_urls", "text[]", nullable=False, default="'{}'"),
        Column("channel", "text", nullable=False), Column("reporter_name", "text", personal=True),
        Column("reporter_phone", "text", personal=True),
    ),
    row=_row, example=_example,
    rollup=Rollup("feedback_1m", "1 minute", (("created", "count(*) FILTER (WHERE action = 'created')"),)),
    storage=Storage(chunk="7 days", compress_after=None, retain=None),  # reports are records: kept
    owner="citizen_reports", data_class=DataClass.PERSONAL,
    freshness=Freshness(late_after=timedelta(hours=2), silent_after=timedelta(hours=12)),
    layer="reports", rules=("citizen-burst",), site_file="channels.json", admin_unit="position",
    indexes=(("feedback_events_ticket", "ticket_id, event_time DESC"), ("feedback_events_ingested", "ingested_at")),
)
