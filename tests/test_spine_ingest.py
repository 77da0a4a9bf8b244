"""Simulated feeds → real broker → consumer processes → PostgreSQL, counted exactly."""

from __future__ import annotations

import psycopg
import pytest

from ioc.kafka import make_producer
from ioc.topics import topic_for
from tests.streamutil import distinct_ids, table_counts, valid_events, wait_for_total

pytestmark = pytest.mark.integration


def test_valid_events_are_stored_once_each(stack):
    events = valid_events(4000, seed=11)
    producer = make_producer(stack.settings.kafka_bootstrap)
    for e in events:
        producer.send(topic_for(e.kind, stack.settings.topic_prefix), key=e.key(), value=e.to_json())
    producer.flush()
    stack.start_consumers()
    wait_for_total(stack.settings.database_dsn(), 4000)
    # A second copy of every message must not add a row (idempotent on event_id).
    for e in events[:1000]:
        producer.send(topic_for(e.kind, stack.settings.topic_prefix), key=e.key(), value=e.to_json())
    producer.flush()
    producer.close()
    dsn = stack.settings.database_dsn()
    with psycopg.connect(dsn) as conn:
        from ioc.services.proc import wait_until

        wait_until(lambda: conn.execute("SELECT sum(next_offset) FROM stream_offsets").fetchone()[0] >= 5000,
                   60, "offsets past the duplicates")
        stats = dict(conn.execute("SELECT kind, accepted FROM ingest_stats").fetchall())
    counts = table_counts(dsn)
    assert counts["traffic_events"] == counts["air_events"] == counts["camera_events"] == counts["feedback_events"] == 1000
    assert distinct_ids(dsn) == (4000, 4000)
    assert stats == {"camera": 1000, "traffic": 1000, "air": 1000, "feedback": 1000} | {k: 0 for k in stats if k not in
                                                                                          ("camera", "traffic", "air", "feedback")}
    assert counts["deadletter"] == 0
