"""The consumer loop: poll → decode → sink.add → flush (one DB transaction) → commit to Kafka.

Offsets live in the database, written with each batch; on every assignment the consumer seeks to
them (or to the earliest offset: the embedded broker's end offsets cannot be trusted). Kafka
commits follow the database commit only so that standard tooling sees progress. When the
database is unreachable the partitions are paused, the batch is kept, and the flush is retried
with backoff while the loop keeps polling so the group membership stays alive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import psycopg
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from ioc.events import Event
from ioc.kafka import CONSUMER_TUNING, make_producer
from ioc.sources import SourceKind
from streams.decode import Rejected, decode
from streams.errors import Disposition, disposition
from streams.sink import DeadLetter, FlushResult, SinkMode, TimescaleSink, stored_offsets

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


@dataclass
class ConsumerStats:
    """What this consumer process did (the database counters are the durable truth)."""

    inserted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    flushes: int = 0
    db_retries: int = 0
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
        self.runner.sink.discard()  # anything buffered is re-read from the stored offsets
        stored = self.runner.with_db(lambda c: stored_offsets(c, self.runner.cfg.group_id, self.runner.cfg.topic))
        for tp in assigned:
            if tp.partition in stored:
                self.runner.consumer.seek(tp, stored[tp.partition])
            else:
                self.runner.consumer.seek_to_beginning(tp)
        log.info("assigned %s; resuming at %s", sorted(tp.partition for tp in assigned), stored)


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
        self._known_at = time.monotonic()
        self.units_of = units_of
        self.consumer = KafkaConsumer(
            bootstrap_servers=cfg.bootstrap,
            group_id=cfg.group_id,
            client_id=f"{cfg.group_id}-{cfg.kind.value}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **CONSUMER_TUNING,
        )
        self.consumer.subscribe([cfg.topic], listener=_SeekToStored(self))
        self.dl_producer = make_producer(cfg.bootstrap)

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
                if time.monotonic() - self._known_at > self.cfg.sources_refresh_seconds:
                    self.known = self.with_db(load_known_sources)
                    self.site_units = self.with_db(load_site_units)
                    self._known_at = time.monotonic()
            if len(self.sink):
                self.flush_with_retry()
        finally:
            self.close()
        return self.stats

    def _ingest(self, records: Mapping[TopicPartition, list]) -> None:  # type: ignore[type-arg]
        now = datetime.now(UTC)
        tolerance, late_after = self.cfg.future_tolerance, self.cfg.late_after
        accepted: list[tuple[Event, object]] = []
        for msgs in records.values():
            for m in msgs:
                result = decode(self.cfg.kind, m.value, known_sources=self.known, now=now, future_tolerance=tolerance)
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
        for d in result.dead_lettered:
            self.dl_producer.send(
                self.cfg.deadletter_topic, key=d.key, value=d.raw,
                headers=[("reason_code", d.rejected.code.value.encode()), ("reason", d.rejected.reason.encode()),
                         ("source_topic", d.topic.encode()), ("source_offset", str(d.offset).encode())],
            )
        if result.dead_lettered:
            self.dl_producer.flush(timeout=10)
        if offsets:
            try:  # for tooling only; the database offsets are authoritative
                self.consumer.commit_async(
                    {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()})
            except Exception as exc:  # noqa: BLE001 - a failed advisory commit must not stop ingest
                log.debug("kafka commit skipped: %s", exc)

    def close(self) -> None:
        for closer in (lambda: self.consumer.close(autocommit=False), lambda: self.dl_producer.close(timeout=5),
                       self.conn.close):
            try:
                closer()
            except Exception:  # noqa: BLE001 - best effort on shutdown
                pass
