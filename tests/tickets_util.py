"""Shared helpers for the ticket tests: feedback rows as the spine stores them, users."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg

from ioc.sources.feedback import FeedbackEvent


def store_feedback(conn: psycopg.Connection, event: FeedbackEvent, admin_unit: str | None) -> None:
    """Insert a feedback event the way the spine's sink stores it (with its admin unit)."""
    conn.execute(
        "INSERT INTO feedback_events (event_id, source_id, event_time, admin_unit, schema_version, ticket_id,"
        " action, category, text, lon, lat, photo_urls, channel, reporter_name, reporter_phone)"
        " VALUES (%s, %s, %s, %s, 1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            event.event_id,
            event.source_id,
            event.event_time,
            admin_unit,
            event.ticket_id,
            event.action.value,
            event.category,
            event.text,
            event.lon,
            event.lat,
            list(event.photo_urls),
            event.channel,
            event.reporter_name,
            event.reporter_phone,
        ),
    )


def report(
    ticket_id: str,
    text: str,
    at: datetime,
    *,
    lat: float = 20.8560,
    lon: float = 106.6822,
    action: str = "created",
    phone: str | None = "0912 345 678",
    name: str | None = "Nguyễn Văn An",
) -> FeedbackEvent:
    return FeedbackEvent(
        event_id=uuid.uuid4(),
        source_id="app",
        event_time=at,
        ticket_id=ticket_id,
        action=action,
        text=text,
        lon=lon,
        lat=lat,
        reporter_name=name,
        reporter_phone=phone,
        photo_urls=("https://example.invalid/p1.jpg",),
    )
