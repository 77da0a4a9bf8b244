"""Kafka topics: one list, one place. Each topic names the event class it carries."""

from __future__ import annotations

from ioc.events import SourceKind

CAMERA = "ioc.camera"
TRAFFIC = "ioc.traffic"
AIR = "ioc.air"
FEEDBACK = "ioc.feedback"
DEADLETTER = "ioc.deadletter"
ALERTS = "ioc.alerts"  # reserved for the alert engine

SOURCE_TOPICS: dict[SourceKind, str] = {
    SourceKind.CAMERA: CAMERA,
    SourceKind.TRAFFIC: TRAFFIC,
    SourceKind.AIR: AIR,
    SourceKind.FEEDBACK: FEEDBACK,
}
TOPIC_SOURCES: dict[str, SourceKind] = {t: k for k, t in SOURCE_TOPICS.items()}
ALL_TOPICS: tuple[str, ...] = (CAMERA, TRAFFIC, AIR, FEEDBACK, DEADLETTER, ALERTS)


def topic_for(kind: SourceKind, prefix: str = "") -> str:
    """Topic of a source; a prefix isolates parallel test runs on one broker."""
    return prefix + SOURCE_TOPICS[kind]
