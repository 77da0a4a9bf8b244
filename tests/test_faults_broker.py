"""Broker faults on the real parts: the embedded broker (memory-only tansu) killed with SIGKILL during
ingest and started again by the supervisor on the same port; and a second ``ioc up`` whose broker is
new while the database kept its offsets.

What a memory-only broker loses when it dies (messages not yet consumed) is gone; everything
produced after it is back is stored exactly once, every poison message is dead-lettered, topics
come back with their configured partitions (never auto-created), producers reconnect by
themselves, and the consumers read the new log from its beginning instead of seeking to stored
offsets of the old one.
"""

from __future__ import annotations

import os
import random
import signal
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from kafka import KafkaAdminClient
from psycopg import sql
from pydantic import SecretStr

from ioc.kafka import make_producer
from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.topics import ALL_TOPICS, topic_for
from simulators.malformed import Reason as BadReason
from simulators.malformed import malformed
from tests.streamutil import recent_events, stored_event_ids

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def own_broker(services: Stack) -> Iterator[Stack]:
    """A fresh database on the session's PostgreSQL and a broker of its own (it is going to be killed)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin_dsn = services.settings.database_dsn()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    data_dir = Path(tempfile.mkdtemp(prefix="ioc-broker-fault-"))
    settings = services.settings.model_copy(update={
        "database_url": SecretStr(dsn), "kafka_bootstrap": None, "data_dir": data_dir, "topic_prefix": "",
        "batch_max_records": 2000, "batch_max_seconds": 0.3, "restart_backoff_seconds": 0.2,
        "heartbeat_seconds": 1.0})
    st = Stack(settings)
    st.start_services()
    st.prepare()
    yield st
    st.stop()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _partitions(bootstrap: str) -> dict[str, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(list(ALL_TOPICS))}
    finally:
        admin.close()


def _poison(n: int, seed: int) -> list:
    rng = random.Random(seed)
    reasons = list(BadReason)
    return [malformed(rng, reasons[i % len(reasons)]) for i in range(n)]


def _count(dsn: str, query: str, args: tuple = ()) -> int:
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            return int(conn.execute(query, args).fetchone()[0])  # type: ignore[index, arg-type]
    except psycopg.OperationalError:
        return -1


def test_broker_killed_during_ingest_and_restarted_loses_nothing_produced_after(own_broker):
    st = own_broker
    dsn = st.settings.database_dsn()
    bootstrap = st.settings.kafka_bootstrap or ""
    thread, stop = st.supervise_in_background()
    producer = make_producer(bootstrap)  # created before the crash: it must reconnect by itself
    try:
        st.start_consumers()
        before = recent_events(4000, seed=31)
        for e in before:
            producer.send(topic_for(e.kind), key=e.key(), value=e.to_json())
        producer.flush()
        # Kill the broker while the consumers are still storing what it holds.
        wait_until(lambda: _count(dsn, "SELECT coalesce(sum(accepted), 0) FROM ingest_stats") > 0, 60, "ingest")
        old_pid = st.broker.proc.pid  # type: ignore[union-attr]
        os.kill(old_pid, signal.SIGKILL)
        stored_at_kill = _count(dsn, "SELECT coalesce(sum(accepted), 0) FROM ingest_stats")
        wait_until(lambda: st.broker.proc is not None and st.broker.proc.pid != old_pid  # type: ignore[union-attr]
                   and st.supervisor.status()["broker"].state == "running", 60, "the broker restarted")
        partitions = _partitions(bootstrap)
        # After the restart: 6 000 valid events and 600 poison messages.
        after = recent_events(6000, seed=32)
        poison = _poison(600, seed=33)
        for e in after:
            producer.send(topic_for(e.kind), key=e.key(), value=e.to_json())
        for bad in poison:
            producer.send(topic_for(bad.topic_kind), key=bad.key, value=bad.value)
        producer.flush(timeout=60)
        after_ids = [e.event_id for e in after]

        def stored_after() -> int:
            return _count(dsn, "SELECT count(*) FROM event_ids WHERE event_id = ANY(%s)", (after_ids,))

        wait_until(lambda: stored_after() == len(after), 120, "every event produced after the restart stored")
        wait_until(lambda: _count(dsn, "SELECT count(*) FROM deadletter") == len(poison), 60, "poison dead-lettered")
        wait_until(lambda: _count(dsn, "SELECT count(*) FROM deadletter WHERE published_at IS NULL") == 0, 60,
                   "dead letters published")
        with psycopg.connect(dsn) as conn:
            reasons = dict(conn.execute("SELECT reason_code, count(*) FROM deadletter GROUP BY 1").fetchall())
            broker_row = conn.execute(
                "SELECT state, restarts, last_exit FROM component_health WHERE component = 'broker'").fetchone()
            new_logs = conn.execute("SELECT sum((detail->>'new_logs')::int) FROM component_health"
                                    " WHERE role = 'consumer'").fetchone()[0]
        alive = all(p.poll() is None for p in st.children.values())
    finally:
        producer.close()
        stop.set()
        thread.join(5)
    ids = stored_event_ids(dsn)
    counts = Counter(ids)
    dupes = [i for i, c in counts.items() if c > 1]
    lost_after = set(after_ids) - set(ids)
    stored_before = len(set(e.event_id for e in before) & set(ids))
    assert partitions == {t: st.settings.topic_partitions for t in ALL_TOPICS}, "no topic auto-created"
    assert not dupes, f"{len(dupes)} events stored twice"
    assert not lost_after, f"{len(lost_after)} of {len(after)} events produced after the restart lost"
    assert len(ids) == stored_before + len(after)
    assert reasons == dict(Counter(p.expected_reason_code for p in poison))
    assert broker_row[0] == "running" and broker_row[1] == 1 and broker_row[2] == "killed by SIGKILL"
    assert new_logs and new_logs >= 1, "the consumers saw the new logs"
    assert alive, "every consumer survived the broker's restart"
    print(f"\nbroker SIGKILL during ingest: {len(before)} produced before, {stored_at_kill} stored at the kill,"
          f" {stored_before} stored in the end ({len(before) - stored_before} unconsumed, lost with the memory-only"
          f" broker); after the restart {len(after)} valid → {len(after) - len(lost_after)} stored exactly once,"
          f" {len(poison)} poison → {sum(reasons.values())} dead-lettered ({reasons}); topics {partitions};"
          f" broker restarts 1; consumers found {new_logs} new logs")


def test_second_start_with_kept_database_and_new_broker_ingests_from_the_first_event(own_broker):
    """`make up` twice: PostgreSQL keeps its stored offsets, the embedded broker starts empty."""
    st = own_broker
    dsn = st.settings.database_dsn()
    first = recent_events(1200, seed=41)
    producer = make_producer(st.settings.kafka_bootstrap or "")
    for e in first:
        producer.send(topic_for(e.kind), key=e.key(), value=e.to_json())
    producer.close()
    st.start_consumers()
    wait_until(lambda: _count(dsn, "SELECT count(*) FROM event_ids") == len(first), 120, "first run stored")
    offsets_first = _count(dsn, "SELECT sum(next_offset) FROM stream_offsets")
    st.stop()  # the whole stack stops; the next one gets a new, empty broker (another port)
    st2 = Stack(st.settings.model_copy(update={"kafka_bootstrap": None}))
    st2.start_services()
    st2.prepare()
    try:
        second = recent_events(3000, seed=42)  # longer than the old logs: old offsets would skip
        producer = make_producer(st2.settings.kafka_bootstrap or "")
        for e in second:
            producer.send(topic_for(e.kind), key=e.key(), value=e.to_json())
        producer.close()
        st2.start_consumers()
        ids = [e.event_id for e in second]
        wait_until(lambda: _count(dsn, "SELECT count(*) FROM event_ids WHERE event_id = ANY(%s)", (ids,))
                   == len(second), 120, "second run's events stored")
        offsets_second = _count(dsn, "SELECT sum(next_offset) FROM stream_offsets")
    finally:
        st2.stop()
    assert offsets_first == len(first)  # offsets of the old logs, inside the new (longer) ones
    assert offsets_second == len(second)  # the new logs were read from their first event, none skipped
    assert len(stored_event_ids(dsn)) == len(first) + len(second)
    print(f"\nsecond start, database kept, broker new: first run {len(first)} stored (offsets sum {offsets_first});"
          f" second run {len(second)} produced → {len(second)} stored, offsets now sum {offsets_second}")
