"""The consumer loop: poll → size check → decode → sink.add → flush (one DB transaction) → commit to Kafka.

Offsets live in the database, written with each batch together with the topic id (KIP-516) of
the log they belong to. On every assignment the consumer seeks to them, unless the live topic id
differs from the stored one: the log they pointed into is gone (the memory-only embedded broker
restarted, or the topic was re-created), so it resumes from the new log's beginning, which the
event-id ledger makes safe. On a broker that reports end offsets correctly (Apache Kafka) an offset
beyond the log's end means the same. A healthy log is never re-read: its id is unchanged.

Kafka commits follow the database commit only so that standard tooling sees progress. When the
database is unreachable the partitions are paused, the batch is kept, and the flush is retried
with backoff while the loop keeps polling so the group membership stays alive.

A message larger than ``max_message_bytes`` is dead-lettered before it is parsed. Dead letters are
rows first; they are published on the dead-letter topic (cut to the topic's size limit) until the
broker takes them, so a publish failure never loses one. A heartbeat row (``component_health``)
says every few seconds what the consumer is doing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from ioc import health
from ioc.events import Event
from ioc.kafka import CONSUMER_TUNING, client_security, make_producer, topic_id
from ioc.sources import SourceKind
from streams.decode import Reason, Rejected, decode
from streams.errors import Disposition, disposition
from streams.sink import (
    DeadLetter,
    FlushResult,
    PendingDeadLetter,
    SinkMode,
    TimescaleSink,
    mark_published,
    pending_dead_letters,
    purge_ledger,
    stored_positions,
)

log = logging.getLogger(__name__)

# Admin units of a batch of events (one vectorised spatial lookup per batch, not one per event).
UnitsOf = Callable[[Sequence[Event]], list[str | None]]
T = TypeVar("T")


@dataclass(frozen=True)
class ConsumerConfig:
    """Everything one sink consumer needs; built from Settings by the caller."""

    kind: SourceKind
    bootstrap: str
    dsn: str
    group_id: str
    topic: str
    deadletter_topic: str
    batch_max_records: int = 5000
    batch_max_seconds: float = 0.5
    future_tolerance: timedelta = timedelta(minutes=5)
    late_after: timedelta = timedelta(hours=1)
    sink_mode: SinkMode = "copy"
    sources_refresh_seconds: float = 30.0
    max_message_bytes: int = 256 * 1024
    deadletter_max_bytes: int = 900 * 1024
    offsets_reliable: bool = True  # False on tansu: no lag and no end-offset check from its numbers
    heartbeat_seconds: float = 5.0
    deadletter_retry_seconds: float = 5.0
    ledger_purge_seconds: float = 3600.0


@dataclass
class ConsumerStats:
    """What this consumer process did (the database counters are the durable truth)."""

    inserted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    flushes: int = 0
    db_retries: int = 0
    dl_published: int = 0
    dl_publish_failures: int = 0
    new_logs: int = 0  # assignments that found a new log (topic id changed) and started at its beginning
    reason_counts: dict[str, int] = field(default_factory=dict)


def load_known_sources(conn: psycopg.Connection) -> dict[SourceKind, frozenset[str]]:
    """Registered source ids per kind, from the ``sources`` table."""
    rows = conn.execute("SELECT kind, source_id FROM sources").fetchall()
    out: dict[SourceKind, set[str]] = {k: set() for k in SourceKind}
    for kind, sid in rows:
        out[SourceKind(kind)].add(sid)
    return {k: frozenset(v) for k, v in out.items()}


def load_site_units(conn: psycopg.Connection) -> dict[str, str | None]:
    """Admin unit of each fixed site, assigned when the site was registered."""
    return {sid: unit for sid, unit in conn.execute("SELECT source_id, admin_unit FROM sources").fetchall()}


def resume_at(stored_offset: int | None, stored_id: uuid.UUID | None, live_id: uuid.UUID | None,
              log_end: int | None) -> int | None:
    """Where to resume one partition: the stored offset, or None for the log's beginning.

    The beginning when nothing is stored, when the stored offset belongs to another log (topic ids
    differ) or lies beyond the log's end (only asked where the broker reports ends correctly).
    """
    if stored_offset is None:
        return None
    if stored_id is not None and live_id is not None and stored_id != live_id:
        return None
    if log_end is not None and stored_offset > log_end:
        return None
    return stored_offset


class _SeekToStored(ConsumerRebalanceListener):
    """On revocation flush what we have; on assignment seek to the offsets stored in the database."""

    def __init__(self, runner: SinkConsumer) -> None:
        self.runner = runner

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if len(self.runner.sink):
            try:
                self.runner.flush_once()
            except psycopg.Error:
                # Nothing of the batch is stored, nor its offsets: the next owner re-reads it.
                self.runner.sink.discard()

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        r = self.runner
        r.sink.discard()  # anything buffered is re-read from the stored offsets
        stored = r.with_db(lambda c: stored_positions(c, r.cfg.group_id, r.cfg.topic))
        live = topic_id(r.consumer, r.cfg.topic)
        r.sink.topic_ids[r.cfg.topic] = live
        ends: dict[TopicPartition, int] = {}
        if r.cfg.offsets_reliable and assigned:
            try:
                ends = r.consumer.end_offsets(list(assigned))
            except Exception as exc:  # noqa: BLE001 - the check is a second guard; topic ids are the first
                log.debug("end offsets unavailable: %s", exc)
        resumed: dict[int, int | str] = {}
        for tp in assigned:
            s = stored.get(tp.partition)
            at = resume_at(s.next_offset if s else None, s.topic_id if s else None, live, ends.get(tp))
            if at is None:
                r.consumer.seek_to_beginning(tp)
                resumed[tp.partition] = "beginning"
                if s is not None:
                    r.stats.new_logs += 1
                    log.warning("%s[%d]: stored offset %d belongs to another log (topic id %s, now %s);"
                                " resuming from the new log's beginning", tp.topic, tp.partition, s.next_offset,
                                s.topic_id, live)
            else:
                r.consumer.seek(tp, at)
                resumed[tp.partition] = at
        r.assigned = {tp.partition for tp in assigned}
        log.info("assigned %s (topic id %s); resuming at %s", sorted(r.assigned), live, resumed)


class SinkConsumer:
    """One consumer-group member storing one source kind."""

    def __init__(self, cfg: ConsumerConfig, *, stop: threading.Event, units_of: UnitsOf | None = None) -> None:
        self.cfg = cfg
        self.stop = stop
        self.stats = ConsumerStats()
        self.conn = self._connect()
        self.sink = TimescaleSink(self.conn, cfg.group_id, cfg.kind, cfg.sink_mode)
        self.known = load_known_sources(self.conn)
        self.site_units = load_site_units(self.conn)
        self.conn.commit()
        self._known_at = time.monotonic()
        self.units_of = units_of
        self.assigned: set[int] = set()
        self.last_flush_at: datetime | None = None
        self.consumer = KafkaConsumer(
            bootstrap_servers=cfg.bootstrap,
            group_id=cfg.group_id,
            client_id=f"{cfg.group_id}-{cfg.kind.value}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **CONSUMER_TUNING,
            **client_security(),  # SASL/SCRAM (and TLS) when configured (compose)
        )
        self.consumer.subscribe([cfg.topic], listener=_SeekToStored(self))
        # Room for the largest dead-letter copy plus its headers.
        # max_block_ms: while the broker is away a send fails fast and the row waits for the next retry.
        self.dl_producer = make_producer(cfg.bootstrap, max_request_size=cfg.deadletter_max_bytes + 64 * 1024,
                                         max_block_ms=2000)
        self._next_beat = self._next_dl = 0.0
        self._dl_inflight: dict[int, Any] = {}  # dead-letter row id → send future
        self._next_purge = time.monotonic() + 60.0

    # -- database --------------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.cfg.dsn, connect_timeout=5, application_name=f"ioc-sink-{self.cfg.kind.value}")

    def _reconnect(self) -> None:
        try:
            self.conn.close()
        except psycopg.Error:
            pass
        self.conn = self._connect()
        self.sink.conn = self.conn

    def with_db(self, fn: Callable[[psycopg.Connection], T]) -> T:
        """Run ``fn`` on the connection, reconnecting with backoff while the database is away."""
        delay = 0.2
        while True:
            try:
                if self.conn.closed:
                    self._reconnect()
                result = fn(self.conn)
                self.conn.commit()
                return result
            except psycopg.Error as exc:
                if disposition(exc) is not Disposition.RETRY or self.stop.is_set():
                    raise
                self.stats.db_retries += 1
                log.warning("database unavailable (%s); retrying in %.1f s", type(exc).__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                try:
                    self._reconnect()
                except psycopg.Error:
                    pass

    def _try_db(self, fn: Callable[[psycopg.Connection], T]) -> T | None:
        """Run ``fn`` once; on a database error roll back and return None (housekeeping only)."""
        try:
            if self.conn.closed:
                self._reconnect()
            result = fn(self.conn)
            self.conn.commit()
            return result
        except psycopg.Error as exc:
            log.debug("housekeeping skipped: %s", exc)
            try:
                self.conn.rollback()
            except psycopg.Error:
                pass
            return None

    # -- the loop --------------------------------------------------------------------------------
    def run(self, max_seconds: float | None = None) -> ConsumerStats:
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        first_at: float | None = None
        try:
            while not self.stop.is_set() and (deadline is None or time.monotonic() < deadline):
                room = max(1, self.cfg.batch_max_records - len(self.sink))
                records = self.consumer.poll(timeout_ms=100, max_records=room)
                if records:
                    self._ingest(records)
                    first_at = first_at or time.monotonic()
                if len(self.sink) and (
                    len(self.sink) >= self.cfg.batch_max_records
                    or time.monotonic() - (first_at or 0) >= self.cfg.batch_max_seconds
                ):
                    self.flush_with_retry()
                    first_at = None
                self._housekeeping()
            if len(self.sink):
                self.flush_with_retry()
            self.publish_dead_letters()
        finally:
            self.close()
        return self.stats

    def _housekeeping(self) -> None:
        mono = time.monotonic()
        if mono - self._known_at > self.cfg.sources_refresh_seconds:
            self.known = self.with_db(load_known_sources)
            self.site_units = self.with_db(load_site_units)
            self._known_at = mono
        if mono >= self._next_dl:
            self.publish_dead_letters()
            self._next_dl = mono + self.cfg.deadletter_retry_seconds
        if mono >= self._next_beat:
            self.heartbeat()
            self._next_beat = mono + self.cfg.heartbeat_seconds
        if mono >= self._next_purge:
            purged = self._try_db(lambda c: purge_ledger(c, self.cfg.kind))
            if purged:
                log.info("event-id ledger: %d ids older than the %s retention purged", purged, self.cfg.kind.value)
            self._next_purge = mono + self.cfg.ledger_purge_seconds

    def lag(self) -> int | None:
        """Events behind the log's end, where the broker reports ends correctly (None elsewhere)."""
        if not self.cfg.offsets_reliable or not self.assigned:
            return None
        total = 0
        for p in self.assigned:
            tp = TopicPartition(self.cfg.topic, p)
            end = self.consumer.highwater(tp)
            if end is None:
                return None
            try:
                total += max(0, end - self.consumer.position(tp, timeout_ms=0))
            except Exception:  # noqa: BLE001 - position unknown right after an assignment
                return None
        return total

    def heartbeat(self) -> None:
        detail = {
            "kind": self.cfg.kind.value, "assigned": sorted(self.assigned), "lag": self.lag(),
            "last_commit_at": self.last_flush_at.isoformat() if self.last_flush_at else None,
            "inserted": self.stats.inserted, "duplicates": self.stats.duplicates,
            "dead_lettered": self.stats.dead_lettered, "new_logs": self.stats.new_logs,
            "dl_publish_failures": self.stats.dl_publish_failures,
        }
        self._try_db(lambda c: health.beat(c, f"consumer:{self.cfg.kind.value}", "consumer", pid=os.getpid(),
                                           detail=detail))

    def _ingest(self, records: Mapping[TopicPartition, list]) -> None:  # type: ignore[type-arg]
        now = datetime.now(UTC)
        tolerance, late_after, limit = self.cfg.future_tolerance, self.cfg.late_after, self.cfg.max_message_bytes
        accepted: list[tuple[Event, object]] = []
        for msgs in records.values():
            for m in msgs:
                size = len(m.value) if m.value is not None else 0
                if size > limit:  # refused before any parsing: the work is bounded by the limit
                    result: Event | Rejected = Rejected(
                        Reason.MESSAGE_TOO_LARGE, f"message of {size:,} bytes exceeds the {limit:,}-byte limit")
                else:
                    result = decode(self.cfg.kind, m.value, known_sources=self.known, now=now,
                                    future_tolerance=tolerance)
                if isinstance(result, Rejected):
                    self.sink.add_rejected(DeadLetter(m.topic, m.partition, m.offset, m.key, m.value or b"", result))
                    self.stats.reason_counts[result.code.value] = self.stats.reason_counts.get(result.code.value, 0) + 1
                else:
                    accepted.append((result, m))
        events = [e for e, _ in accepted]
        units = self.units_of(events) if self.units_of else [self.site_units.get(e.source_id) for e in events]
        for (event, m), unit in zip(accepted, units, strict=True):
            self.sink.add(event, topic=m.topic, partition=m.partition, offset=m.offset,  # type: ignore[attr-defined]
                          late=event.event_time < now - late_after, admin_unit=unit, raw=m.value)  # type: ignore[attr-defined]

    def flush_once(self) -> FlushResult:
        result = self.sink.flush()
        self._after_flush(result)
        return result

    def flush_with_retry(self) -> None:
        """Flush; on a transient error pause, back off and retry the same batch; never drop it."""
        delay = 0.2
        paused = False
        while True:
            offsets = dict(self.sink.batch.next_offsets)
            try:
                result = self.sink.flush()
                break
            except psycopg.Error as exc:
                what = disposition(exc)
                if what is Disposition.DEAD_LETTER:
                    result = self.sink.flush_isolating()
                    break
                if what is Disposition.FATAL:
                    raise
                self.stats.db_retries += 1
                log.warning("flush failed (%s: %s); retrying in %.1f s", type(exc).__name__, exc, delay)
                if not paused:
                    self.consumer.pause(*self.consumer.assignment())
                    paused = True
                end = time.monotonic() + delay
                while time.monotonic() < end:  # keep the group membership alive while waiting
                    self.consumer.poll(timeout_ms=100)
                delay = min(delay * 2, 5.0)
                try:
                    self._reconnect()
                except psycopg.Error:
                    pass
        if paused:
            self.consumer.resume(*self.consumer.paused())
        self._after_flush(result, offsets)

    def _after_flush(self, result: FlushResult, offsets: dict[tuple[str, int], int] | None = None) -> None:
        self.stats.inserted += result.inserted
        self.stats.duplicates += result.duplicates
        self.stats.dead_lettered += len(result.dead_lettered)
        self.stats.flushes += 1
        self.last_flush_at = datetime.now(UTC)
        if result.dead_lettered:
            self.publish_dead_letters()
        if offsets:
            try:  # for tooling only; the database offsets are authoritative
                self.consumer.commit_async(
                    {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()})
            except Exception as exc:  # noqa: BLE001 - a failed advisory commit must not stop ingest
                log.debug("kafka commit skipped: %s", exc)

    def publish_dead_letters(self) -> int:
        """Publish stored dead letters not yet on the topic; mark those the broker acknowledged.

        Sends still in flight (the broker is away) are not sent again; failed ones are retried on
        the next call, so a dead letter reaches the topic at least once and is never lost.
        """
        done = self._collect_dead_letters()
        pending = self._try_db(lambda c: pending_dead_letters(c, self.cfg.kind.value))
        for d in pending or ():
            if d.id not in self._dl_inflight:
                future = self._send_dead(d)
                if future is not None:
                    self._dl_inflight[d.id] = future
        if self._dl_inflight:
            try:
                self.dl_producer.flush(timeout=2)
            except Exception as exc:  # noqa: BLE001 - broker away: rows stay unpublished, retried later
                log.debug("dead-letter flush: %s", exc)
        done += self._collect_dead_letters()
        if done:
            if self._try_db(lambda c: mark_published(c, done)) is None:
                return 0  # not marked: they will be published again (at least once, never lost)
            self.stats.dl_published += len(done)
        return len(done)

    def _collect_dead_letters(self) -> list[int]:
        done: list[int] = []
        for dl_id, f in list(self._dl_inflight.items()):
            if not f.is_done:
                continue
            del self._dl_inflight[dl_id]
            if f.succeeded():
                done.append(dl_id)
            else:
                self.stats.dl_publish_failures += 1
                log.warning("dead letter %d not published (%s); retrying in %.0f s", dl_id,
                            type(f.exception).__name__, self.cfg.deadletter_retry_seconds)
        return done

    def _send_dead(self, d: PendingDeadLetter):  # type: ignore[no-untyped-def]
        limit = self.cfg.deadletter_max_bytes
        size = d.raw_size if d.raw_size is not None else len(d.raw)
        headers = [("reason_code", d.reason_code.encode()), ("reason", d.reason.encode()[:1000]),
                   ("source_topic", d.topic.encode()), ("source_partition", str(d.partition).encode()),
                   ("source_offset", str(d.offset).encode()), ("raw_size", str(size).encode())]
        value = d.raw[:limit]
        if size > len(value):
            headers.append(("truncated", b"true"))
        try:
            return self.dl_producer.send(self.cfg.deadletter_topic, key=d.key, value=value, headers=headers)
        except Exception as exc:  # noqa: BLE001 - e.g. metadata timeout while the broker is away
            self.stats.dl_publish_failures += 1
            log.warning("dead letter %d not sent (%s); retrying later", d.id, type(exc).__name__)
            return None

    def close(self) -> None:
        for closer in (lambda: self.consumer.close(autocommit=False), lambda: self.dl_producer.close(timeout=5),
                       self.conn.close):
            try:
                closer()
            except Exception:  # noqa: BLE001 - best effort on shutdown
                pass
