"""Kafka topics: one list, one place. Each source's topic comes from its declaration (``ioc/sources``)."""

from __future__ import annotations

from ioc.sources import SOURCES, SourceKind

DEADLETTER = "ioc.deadletter"
ALERTS = "ioc.alerts"  # the alert engine publishes every alert change here

SOURCE_TOPICS: dict[SourceKind, str] = {SourceKind(k): s.topic for k, s in SOURCES.items()}
TOPIC_SOURCES: dict[str, SourceKind] = {t: k for k, t in SOURCE_TOPICS.items()}
ALL_TOPICS: tuple[str, ...] = (*SOURCE_TOPICS.values(), DEADLETTER, ALERTS)


def topic_for(kind: SourceKind | str, prefix: str = "") -> str:
    """Topic of a source; a prefix isolates parallel test runs on one broker."""
    return prefix + SOURCE_TOPICS[SourceKind(kind)]
