"""Malformed input mixed into valid events: valid ones stored once, bad ones dead-lettered with a reason.

Real broker, real PostgreSQL, the real ``python -m streams`` consumer processes. Every rejection kind
the consumers know (not JSON, wrong type, missing field, out of range, unknown field, unknown source,
future timestamp, unsupported version) appears at least 1 000 times, spread over the four topics.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition

from ioc.events import Event
from ioc.kafka import make_producer
from ioc.services.proc import wait_until
from ioc.sources import SourceKind
from ioc.topics import DEADLETTER, TOPIC_SOURCES, topic_for
from streams.decode import Reason
from tests.streamutil import distinct_ids, table_counts, valid_events

pytestmark = pytest.mark.integration

BAD_PER_REASON = 1000
VALID = 4000
LATE = 400
# Reasons about one message's content; a refused row, a conflicting duplicate id and an oversized
# message have tests of their own (test_sink.py, test_faults_oversized.py).
BAD_REASONS = [r for r in Reason if r not in (Reason.DB_REJECTED, Reason.DUPLICATE_CONFLICT, Reason.MESSAGE_TOO_LARGE)]

# A field of each kind to break, and a value outside its physical range.
NUMERIC = {
    SourceKind.TRAFFIC: ("speed_kmh", 950.0),
    SourceKind.AIR: ("pm25", -12.0),
    SourceKind.CAMERA: ("detections", [{"type": "crowd", "confidence": 3.5}]),
    SourceKind.FEEDBACK: ("lat", 106.7),
}
REQUIRED = {
    SourceKind.TRAFFIC: "occupancy_pct",
    SourceKind.AIR: "event_time",
    SourceKind.CAMERA: "online",
    SourceKind.FEEDBACK: "text",
}


@dataclass(frozen=True)
class Sent:
    topic: str
    partition: int
    offset: int
    reason: Reason | None  # None: valid
    event_id: uuid.UUID | None
    late: bool = False


def malformed(rng: random.Random, kind: SourceKind, reason: Reason, template: Event, i: int) -> bytes | None:
    """Raw wire bytes of ``kind`` that the decoder must reject with ``reason`` (unique per ``i``)."""
    msg = json.loads(template.to_json())
    msg["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if reason is Reason.NOT_JSON:
        variants: list[bytes | None] = [
            f'{{"event_id": "{msg["event_id"]}", "source_id": '.encode(),  # truncated
            b"\xff\xfe garbage " + str(i).encode(),
            f"speed={i};pm25=oops".encode(),
            None,  # tombstone
        ]
        return variants[i % len(variants)]
    if reason is Reason.WRONG_TYPE:
        field = NUMERIC[kind][0] if i % 2 else "event_time"
        msg[field] = f"không phải số {i}" if field != "detections" else "fire!"
    elif reason is Reason.MISSING_FIELD:
        msg.pop(REQUIRED[kind] if i % 2 else "event_id")
    elif reason is Reason.OUT_OF_RANGE:
        field, value = NUMERIC[kind]
        msg[field] = value
    elif reason is Reason.UNKNOWN_FIELD:
        msg[f"extra_{i % 7}"] = i
    elif reason is Reason.UNKNOWN_SOURCE:
        msg["source_id"] = f"ghost-{i}"
    elif reason is Reason.FUTURE_TIMESTAMP:
        msg["event_time"] = (datetime.now(UTC) + timedelta(days=1, seconds=i)).isoformat()
    elif reason is Reason.UNSUPPORTED_VERSION:
        msg["schema_version"] = 2 + i % 3
    return json.dumps(msg, ensure_ascii=False).encode()


def produce_mixed(stack, n_valid: int, bad_per_reason: int, n_late: int, seed: int) -> list[Sent]:
    """Produce valid, late and malformed messages shuffled over the four topics; return what was sent."""
    rng = random.Random(seed)
    prefix = stack.settings.topic_prefix
    valid = valid_events(n_valid, seed=seed)
    late = valid_events(n_late, seed=seed + 1, start=datetime.now(UTC) - timedelta(hours=3))
    kinds = list(SourceKind)
    plan: list[tuple[SourceKind, bytes | None, bytes, Reason | None, uuid.UUID | None, bool]] = []
    for e in valid:
        plan.append((e.kind, e.to_json(), e.key(), None, e.event_id, False))
    for e in late:
        plan.append((e.kind, e.to_json(), e.key(), None, e.event_id, True))
    for reason in BAD_REASONS:
        for i in range(bad_per_reason):
            kind = kinds[i % 4]
            template = (
                valid[i % len(valid)] if valid[i % len(valid)].kind is kind else valid[kinds.index(kind)]
            )
            plan.append(
                (kind, malformed(rng, kind, reason, template, i), template.key(), reason, None, False)
            )
    rng.shuffle(plan)
    producer = make_producer(stack.settings.kafka_bootstrap)
    futures = [
        (producer.send(topic_for(kind, prefix), key=key, value=value), reason, eid, is_late)
        for kind, value, key, reason, eid, is_late in plan
    ]
    producer.flush()
    producer.close()
    out = []
    for fut, reason, eid, is_late in futures:
        md = fut.get(timeout=30)
        out.append(Sent(md.topic, md.partition, md.offset, reason, eid, is_late))
    return out


def deadletter_topic_messages(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> list:
    """Every record on the dead-letter topic, read from the earliest offset (no group: nothing committed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list = []

        def enough() -> bool:
            for batch in consumer.poll(timeout_ms=200, max_records=5000).values():
                records.extend(batch)
            return len(records) >= expected

        try:
            wait_until(enough, timeout, f"{expected} records on {topic}")
        except TimeoutError:
            pass  # the count assertion below reports what arrived
        # Anything beyond the expected count would be a duplicate: read a little longer to see it.
        for _ in range(5):
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def test_malformed_events_are_dead_lettered_and_valid_ones_stored_once(stack):
    sent = produce_mixed(stack, VALID, BAD_PER_REASON, LATE, seed=7)
    bad = [s for s in sent if s.reason is not None]
    good = [s for s in sent if s.reason is None]
    dsn = stack.settings.database_dsn()
    stack.start_consumers()
    wait_until(
        lambda: sum(table_counts(dsn).values()) >= len(sent), 150, f"{len(sent)} rows and dead letters"
    )

    counts = table_counts(dsn)
    assert sum(counts.values()) == len(sent)
    # Every valid event exactly once: count, distinct ids, and the very same set of ids.
    assert distinct_ids(dsn) == (len(good), len(good))
    with psycopg.connect(dsn) as conn:
        stored = conn.execute(
            "SELECT event_id, late FROM (SELECT event_id, late FROM camera_events UNION ALL"
            " SELECT event_id, late FROM traffic_events UNION ALL SELECT event_id, late FROM air_events"
            " UNION ALL SELECT event_id, late FROM feedback_events) t"
        ).fetchall()
        dead = conn.execute(
            'SELECT topic, partition, "offset", kind, reason_code, reason, field, raw FROM deadletter'
        ).fetchall()
        stats = {r[0]: r[1:] for r in conn.execute("SELECT kind, accepted, rejected, late FROM ingest_stats")}
    assert {eid for eid, _ in stored} == {s.event_id for s in good}
    # Late events (3 h old) are accepted and flagged; nothing else is.
    assert {eid for eid, late in stored if late} == {s.event_id for s in good if s.late}

    # Every bad message is in the dead-letter table, at its own coordinates, with its reason.
    by_coord = {(s.topic, s.partition, s.offset): s for s in bad}
    assert {(t, p, o) for t, p, o, *_ in dead} == set(by_coord)
    assert Counter(r[4] for r in dead) == Counter(s.reason.value for s in bad)
    for topic, partition, offset, kind, code, reason, field, raw in dead:
        expected = by_coord[(topic, partition, offset)]
        assert code == expected.reason.value, (code, reason, bytes(raw)[:200])
        assert kind == TOPIC_SOURCES[topic.removeprefix(stack.settings.topic_prefix)].value
        assert reason, "every dead letter carries a human reason"
        if code not in (Reason.NOT_JSON, Reason.WRONG_TYPE):
            assert field, f"{code} names the field at fault: {reason}"
    per_code = Counter(r[4] for r in dead)
    assert all(per_code[r.value] >= BAD_PER_REASON for r in BAD_REASONS), per_code

    # The per-source counters agree with what was sent.
    for kind in SourceKind:
        topic = topic_for(kind, stack.settings.topic_prefix)
        mine = [s for s in sent if s.topic == topic]
        assert stats[kind.value] == (
            sum(1 for s in mine if s.reason is None),
            sum(1 for s in mine if s.reason is not None),
            sum(1 for s in mine if s.reason is None and s.late),
        ), kind

    # The dead-letter topic received each of them once, with the reason code in a header.
    records = deadletter_topic_messages(
        stack.settings.kafka_bootstrap, stack.settings.topic_prefix + DEADLETTER, len(bad)
    )
    assert len(records) == len(bad)
    headers = [dict(r.headers) for r in records]
    assert Counter(h["reason_code"].decode() for h in headers) == Counter(s.reason.value for s in bad)
    assert Counter((h["source_topic"].decode(), int(h["source_offset"])) for h in headers) == Counter(
        (s.topic, s.offset) for s in bad
    )
    assert all(h["reason"] for h in headers)

    # The consumers survived all of it and keep going.
    assert all(proc.poll() is None for proc in stack.children.values()), {
        n: p.poll() for n, p in stack.children.items()
    }
    more = valid_events(400, seed=99)
    producer = make_producer(stack.settings.kafka_bootstrap)
    for e in more:
        producer.send(topic_for(e.kind, stack.settings.topic_prefix), key=e.key(), value=e.to_json())
    producer.flush()
    producer.close()
    wait_until(lambda: distinct_ids(dsn)[0] >= len(good) + 400, 60, "the events produced afterwards")
    assert distinct_ids(dsn) == (len(good) + 400, len(good) + 400)
    assert all(proc.poll() is None for proc in stack.children.values())


def _feedback_with_nul(stack, n: int) -> list[Sent]:
    """Feedback events that pass validation but carry a NUL character PostgreSQL text cannot hold."""
    events = valid_events(4 * n, seed=5)
    producer = make_producer(stack.settings.kafka_bootstrap)
    sent, raws = [], []
    for e in events:
        if e.kind is not SourceKind.FEEDBACK:
            continue
        poisoned = e.model_copy(update={"text": "Ngập\x00 sâu"})
        md = producer.send(
            topic_for(e.kind, stack.settings.topic_prefix), key=e.key(), value=poisoned.to_json()
        ).get(timeout=30)
        sent.append(Sent(md.topic, md.partition, md.offset, Reason.DB_REJECTED, e.event_id))
        raws.append(poisoned.to_json())
    producer.close()
    return sent, raws


def test_rows_the_database_refuses_are_each_dead_lettered_at_their_coordinates(stack):
    sent, raws = _feedback_with_nul(stack, 5)
    stack.start_consumer(SourceKind.FEEDBACK)
    dsn = stack.settings.database_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        wait_until(
            lambda: (
                (conn.execute("SELECT coalesce(sum(next_offset), 0) FROM stream_offsets").fetchone()[0])
                >= len(sent)
            ),
            90,
            "the consumer to pass the poisoned events",
        )
        dead = conn.execute(
            'SELECT topic, partition, "offset", reason_code, reason, raw FROM deadletter'
        ).fetchall()
    assert table_counts(dsn)["feedback_events"] == 0
    assert sorted(d[:4] for d in dead) == sorted(
        (s.topic, s.partition, s.offset, Reason.DB_REJECTED.value) for s in sent
    )
    assert sorted(bytes(d[5]) for d in dead) == sorted(raws), "the original bytes are kept"
    assert all("database refused the row" in d[4] for d in dead)
    assert all(proc.poll() is None for proc in stack.children.values())


def test_unknown_field_name_with_nul_is_dead_lettered_and_consumer_survives(stack):
    events = [e for e in valid_events(40, seed=3) if e.kind is SourceKind.AIR]
    producer = make_producer(stack.settings.kafka_bootstrap)
    topic = topic_for(SourceKind.AIR, stack.settings.topic_prefix)
    poisoned = json.loads(events[0].to_json()) | {"bad\x00name": 1}
    producer.send(topic, key=events[0].key(), value=json.dumps(poisoned).encode()).get(timeout=30)
    for e in events[1:]:
        producer.send(topic, key=e.key(), value=e.to_json())
    producer.flush()
    producer.close()
    proc = stack.start_consumer(SourceKind.AIR)
    dsn = stack.settings.database_dsn()
    try:
        wait_until(
            lambda: sum(table_counts(dsn).values()) >= len(events) or proc.poll() is not None,
            60,
            "the air events and the dead letter",
        )
    finally:
        alive = proc.poll() is None
    assert alive, f"consumer exited with {proc.returncode}"
    counts = table_counts(dsn)
    assert (counts["air_events"], counts["deadletter"]) == (len(events) - 1, 1)
