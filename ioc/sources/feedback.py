"""Citizen reports (phản ánh hiện trường) from Hải Phòng Smart and the other intake channels."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field, FieldSerializationInfo, ValidationInfo, field_serializer, field_validator

from ioc.crypto import default_keyring, is_encrypted
from ioc.events import BaseEvent, Lat, Lon, WebUrl
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage

WIRE = "wire"  # validation context key: the message came from the topic (personal fields must be encrypted)


class FeedbackAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


class FeedbackEvent(BaseEvent):
    """A citizen report from Hải Phòng Smart, created or updated.

    ``source_id`` is the intake channel's registered id (app, hotline, web, Zalo).
    Reporter name and phone are personal data: kept out of ``repr`` so they never reach a log, and
    encrypted on the topic. **Producer contract**: in the JSON on ``ioc.feedback`` they are
    ``pd1:<key id>:…`` envelopes made with the city's personal-data key (``IOC_PERSONAL_DATA_KEY``,
    :mod:`ioc.crypto`, bound to ``ioc.feedback.<field>``); :meth:`to_json` does it for producers
    written with this class. A message from Kafka (validated with ``context={WIRE: True}``) whose
    personal field is in clear is rejected (dead-lettered naming the field, never the value).
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

    @field_validator("reporter_name", "reporter_phone", mode="before")
    @classmethod
    def _decrypt_personal(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or not isinstance(value, str):
            return value
        if is_encrypted(value):
            return default_keyring().decrypt(value, f"ioc.feedback.{info.field_name}")
        if info.context and info.context.get(WIRE):
            raise ValueError("personal field must be encrypted with the city's personal-data key (pd1:…)")
        return value

    @field_serializer("reporter_name", "reporter_phone", when_used="json")
    def _encrypt_personal(self, value: str | None, info: FieldSerializationInfo) -> str | None:
        if value is None:
            return None
        # Seeded by the event id: one event always has the same wire bytes (idempotent re-sends).
        return default_keyring().encrypt(value, f"ioc.feedback.{info.field_name}", seed=self.event_id.bytes)


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
