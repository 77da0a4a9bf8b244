"""The live alert engine: Kafka in, alerts in PostgreSQL and on ``ioc.alerts`` out.

A consumer group (``<prefix><group prefix>.alerts.engine``) reads the four source topics, decodes
each message like the sinks do (rejected ones are skipped: the sinks dead-letter them), runs the
:class:`alerts.engine.AlertEngine`, folds every update into the ``alerts`` table with its timeline
(:func:`alerts.store.apply_rule_update`) and publishes the changed alert as JSON on ``ioc.alerts``.
The offsets it has acted on are stored in ``stream_offsets`` in the same transaction as the alerts,
and it resumes from them. Every ``tick_seconds`` the clock drives the time rules (silent cameras)
and escalation; every ``save_seconds`` the anomaly models are saved to ``alert_models``.

Warm start: saved models are restored, then the recent stored events (12 h of air, 1 h of the
others) are replayed through the engine without writing alerts, and the usual citizen-report rates
come from the last week of stored reports.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, LiteralString

import psycopg
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from psycopg.rows import dict_row

from alerts.engine import AlertEngine, usual_report_rates
from alerts.model import Alert, AlertUpdate, EscalationPolicy, load_agencies
from alerts.rules import Location, rule_versions
from alerts.store import apply_rule_update, escalate_due
from ioc import health
from ioc.events import Event
from ioc.kafka import CONSUMER_TUNING, client_security, make_producer, topic_id
from ioc.settings import Settings
from ioc.sources import SourceKind
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent
from ioc.sources.feedback import FeedbackEvent
from ioc.sources.traffic import TrafficEvent
from ioc.topics import ALERTS, topic_for
from streams.consumer import load_known_sources
from streams.decode import Rejected, decode

log = logging.getLogger(__name__)

WARM_WINDOWS: dict[SourceKind, timedelta] = {
    SourceKind.AIR: timedelta(hours=12),
    SourceKind.TRAFFIC: timedelta(hours=1),
    SourceKind.CAMERA: timedelta(hours=1),
    SourceKind.FEEDBACK: timedelta(hours=1),
}
REPORT_HISTORY = timedelta(days=7)

_WARM_SQL: dict[SourceKind, LiteralString] = {
    SourceKind.TRAFFIC: "SELECT event_id, source_id, event_time, speed_kmh, volume_vph, occupancy_pct, free_flow_kmh"
    " FROM traffic_events WHERE event_time > %s ORDER BY event_time",
    SourceKind.AIR: "SELECT event_id, source_id, event_time, pm25, pm10, no2, so2, o3, co, temperature_c, humidity_pct"
    " FROM air_events WHERE event_time > %s ORDER BY event_time",
    SourceKind.CAMERA: "SELECT event_id, source_id, event_time, online, counts, detections"
    " FROM camera_events WHERE event_time > %s ORDER BY event_time",
    # Reporter name and phone are not read: the engine has no use for personal data.
    SourceKind.FEEDBACK: "SELECT event_id, source_id, event_time, ticket_id, action, category, text, lon, lat, channel"
    " FROM feedback_events WHERE event_time > %s ORDER BY event_time",
}
_CLASSES: dict[SourceKind, type[Event]] = {
    SourceKind.TRAFFIC: TrafficEvent,
    SourceKind.AIR: AirEvent,
    SourceKind.CAMERA: CameraEvent,
    SourceKind.FEEDBACK: FeedbackEvent,
}
SAVE_MODEL: LiteralString = (
    "INSERT INTO alert_models (monitor_id, source_id, state, learned_until, saved_at) VALUES (%s, %s, %s, %s, now())"
    " ON CONFLICT (monitor_id, source_id) DO UPDATE SET state = EXCLUDED.state,"
    " learned_until = EXCLUDED.learned_until, saved_at = now()"
)
SAVE_OFFSET: LiteralString = (
    "INSERT INTO stream_offsets (group_id, topic, partition, next_offset, topic_id, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (group_id, topic, partition) DO UPDATE"
    " SET next_offset = EXCLUDED.next_offset, topic_id = EXCLUDED.topic_id, updated_at = now()"
)
MAX_ATTEMPTS = 10  # a rule update the database keeps refusing is retried this often, then parked (logged)


@dataclass(frozen=True)
class ServiceConfig:
    """What the live engine needs, built from :class:`Settings` by :meth:`from_settings`."""

    bootstrap: str
    dsn: str
    group_id: str
    topics: dict[str, SourceKind]
    alerts_topic: str
    tick_seconds: float = 2.0
    escalate_seconds: float = 30.0
    save_seconds: float = 300.0
    seed: int = 7
    heartbeat_seconds: float = 5.0
    future_tolerance: timedelta = timedelta(minutes=5)
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)

    @classmethod
    def from_settings(cls, s: Settings, **overrides: Any) -> ServiceConfig:
        if not s.kafka_bootstrap:
            raise RuntimeError("no Kafka bootstrap configured: set IOC_KAFKA_BOOTSTRAP or start `ioc up`")
        return cls(
            bootstrap=s.kafka_bootstrap,
            dsn=s.database_dsn(),
            group_id=f"{s.topic_prefix}{s.consumer_group_prefix}.alerts.engine",
            topics={topic_for(k, s.topic_prefix): k for k in SourceKind},
            alerts_topic=s.topic_prefix + ALERTS,
            future_tolerance=timedelta(seconds=s.future_tolerance_seconds),
            **{"heartbeat_seconds": s.heartbeat_seconds, **overrides},
        )


@dataclass
class ServiceStats:
    events: int = 0
    rejected: int = 0
    updates: int = 0
    published: int = 0
    warm_events: int = 0
    restored_models: int = 0
    db_retries: int = 0
    update_errors: int = 0  # rule updates the database or the model refused (logged with the alert key)
    parked: int = 0  # of those, given up after MAX_ATTEMPTS
    event_errors: int = 0  # events the engine could not evaluate (logged with the event id)
    new_logs: int = 0


# --- reading the database --------------------------------------------------------------------------


def load_locations(conn: psycopg.Connection) -> dict[str, Location]:
    """Position and admin unit of every registered site (the ``sources`` table)."""
    rows = conn.execute(
        "SELECT source_id, lon, lat, admin_unit FROM sources WHERE lon IS NOT NULL"
    ).fetchall()
    return {sid: Location(lon, lat, unit) for sid, lon, lat, unit in rows}


def stored_events(conn: psycopg.Connection, kind: SourceKind, since: datetime) -> Iterator[Event]:
    """Stored events of ``kind`` after ``since``, oldest first, as typed events."""
    cls = _CLASSES[kind]
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(_WARM_SQL[kind], (since,)):
            if kind is SourceKind.CAMERA:
                row["counts"] = row["counts"] or None
                row["detections"] = tuple(row["detections"] or ())
            elif kind is SourceKind.FEEDBACK:
                row = {k: v for k, v in row.items() if v is not None}
            else:
                row = {k: v for k, v in row.items() if v is not None}
            yield cls.model_validate(row)


def merged(streams: Iterable[Iterable[Event]]) -> list[Event]:
    """Events of several kinds in one time order (the order the engine would have seen them)."""
    return sorted((e for s in streams for e in s), key=lambda e: e.event_time)


def load_models(conn: psycopg.Connection) -> dict[tuple[str, str], bytes]:
    return {
        (m, s): bytes(b) for m, s, b in conn.execute("SELECT monitor_id, source_id, state FROM alert_models")
    }


def save_models(conn: psycopg.Connection, engine: AlertEngine) -> int:
    """Upsert every series' model state (one transaction); returns the number saved."""
    rows = [
        (mid, sid, state, engine.learned_until(mid, sid))
        for (mid, sid), state in engine.detector_states().items()
    ]
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(SAVE_MODEL, rows)
    return len(rows)


def stored_engine_offsets(conn: psycopg.Connection, group_id: str) -> dict[tuple[str, int], int]:
    return {k: o for k, (o, _tid) in stored_engine_positions(conn, group_id).items()}


def stored_engine_positions(
    conn: psycopg.Connection, group_id: str
) -> dict[tuple[str, int], tuple[int, uuid.UUID | None]]:
    """Next offset and the topic id of the log it belongs to, per (topic, partition)."""
    rows = conn.execute(
        "SELECT topic, partition, next_offset, topic_id FROM stream_offsets WHERE group_id = %s", (group_id,)
    )
    return {(t, int(p)): (int(o), tid) for t, p, o, tid in rows.fetchall()}


# --- the service -----------------------------------------------------------------------------------


class _SeekToStored(ConsumerRebalanceListener):
    """Resume where the engine's last committed transaction left off; a new group starts at the end
    (the warm start has already replayed the recent past from the database)."""

    def __init__(self, service: AlertService) -> None:
        self.service = service

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        svc = self.service
        assert svc.consumer is not None
        stored = svc.with_db(lambda c: stored_engine_positions(c, svc.cfg.group_id))
        for tp in assigned:
            live = topic_id(svc.consumer, tp.topic)
            svc.topic_ids[tp.topic] = live
            s = stored.get((tp.topic, tp.partition))
            if s is None:
                svc.consumer.seek_to_end(tp)
            elif s[1] is not None and live is not None and s[1] != live:
                # The log the offset pointed into is gone (broker restarted empty): all of the new
                # log is news to the engine.
                svc.consumer.seek_to_beginning(tp)
                svc.stats.new_logs += 1
                log.warning("%s[%d]: new log (topic id %s, was %s); reading it from the beginning",
                            tp.topic, tp.partition, live, s[1])
            else:
                svc.consumer.seek(tp, s[0])
        svc.assigned.set()


class AlertService:
    """One engine process: consume, evaluate, persist, publish, tick."""

    def __init__(self, cfg: ServiceConfig, stop: threading.Event, engine: AlertEngine | None = None) -> None:
        self.cfg = cfg
        self.stop = stop
        self.stats = ServiceStats()
        self.assigned = threading.Event()
        self.agencies = load_agencies()
        self.versions = rule_versions()  # rule id -> "<declared>+<digest of its thresholds>"
        self.conn = self._connect()
        self.known = load_known_sources(self.conn)
        self.conn.commit()
        if engine is None:
            engine = self._build_engine()
        self.engine = engine
        self.consumer: KafkaConsumer | None = None
        self.producer = make_producer(cfg.bootstrap, max_block_ms=5000)  # broker away: fail fast, go on
        self._offsets: dict[tuple[str, int], int] = {}
        self.topic_ids: dict[str, uuid.UUID | None] = {}
        self._retry: dict[str, tuple[AlertUpdate, int]] = {}  # alert key → (newest refused update, attempts)
        self.last_event_time: datetime | None = None
        self._next_beat = 0.0

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.cfg.dsn, connect_timeout=5, application_name="ioc-alerts")

    def with_db(self, fn: Callable[[psycopg.Connection], Any]) -> Any:
        """Run ``fn`` and commit, reconnecting with backoff while the database is away."""
        delay = 0.2
        while True:
            try:
                if self.conn.closed:
                    self.conn = self._connect()
                result = fn(self.conn)
                self.conn.commit()
                return result
            except psycopg.OperationalError as exc:
                if self.stop.is_set():
                    raise
                self.stats.db_retries += 1
                log.warning("database unavailable (%s); retrying in %.1f s", type(exc).__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                try:
                    self.conn.close()
                except psycopg.Error:
                    pass

    def _build_engine(self) -> AlertEngine:
        from geodata.admin import AdminAssigner
        from geodata.boundaries import boundary_set_for

        places = load_locations(self.conn)
        self.conn.commit()
        assigner = AdminAssigner(boundary_set_for(datetime.now(UTC).date()))
        return AlertEngine(
            seed=self.cfg.seed, admin_unit_of=assigner.assign, locate=places.get, unit_label=assigner.name
        )

    # -- warm start ------------------------------------------------------------------------------
    def warm_start(self, now: datetime | None = None) -> None:
        """Restore saved models, learn the usual report rates and replay the recent stored events."""
        now = now or datetime.now(UTC)
        self.stats.restored_models = self.engine.restore_detector_states(self.with_db(load_models))
        reports = self.with_db(
            lambda c: c.execute(
                "SELECT event_time, admin_unit FROM feedback_events WHERE action = 'created' AND event_time > %s",
                (now - REPORT_HISTORY,),
            ).fetchall()
        )
        if reports:
            span = (now - min(t for t, _ in reports)) / timedelta(hours=1)
            if span >= 6:  # fewer hours say little about a unit's usual rate
                rates, profile = usual_report_rates(reports, span)
                self.engine.set_usual_report_rates(rates, profile)
        from alerts.warnings_history import warm_events  # the early warnings' longer histories

        events = self.with_db(
            lambda c: merged([*(list(stored_events(c, k, now - w)) for k, w in WARM_WINDOWS.items()), warm_events(c, now)])
        )
        for e in events:
            self.engine.process(e)  # updates dropped: the alerts of the past are already stored
        self.stats.warm_events = len(events)
        log.info(
            "warm start: %d models restored, %d stored events replayed",
            self.stats.restored_models,
            len(events),
        )

    # -- the loop --------------------------------------------------------------------------------
    def run(self, max_seconds: float | None = None) -> ServiceStats:
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        self.consumer = KafkaConsumer(
            bootstrap_servers=self.cfg.bootstrap,
            group_id=self.cfg.group_id,
            client_id=self.cfg.group_id,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            **CONSUMER_TUNING,
            **client_security(),  # SASL/SCRAM (and TLS) when configured (compose)
        )
        self.consumer.subscribe(list(self.cfg.topics), listener=_SeekToStored(self))
        next_tick = next_escalation = time.monotonic()
        next_save = time.monotonic() + self.cfg.save_seconds
        try:
            while not self.stop.is_set() and (deadline is None or time.monotonic() < deadline):
                records = self.consumer.poll(timeout_ms=100, max_records=2000)
                updates: list[AlertUpdate] = []
                if records:
                    updates += self._evaluate(records)
                mono = time.monotonic()
                escalate = mono >= next_escalation
                if mono >= next_tick:
                    updates += self.engine.tick(datetime.now(UTC))
                    next_tick = mono + self.cfg.tick_seconds
                if updates or self._offsets or escalate:
                    self._persist(updates, escalate)
                    if escalate:
                        next_escalation = mono + self.cfg.escalate_seconds
                if mono >= next_save:
                    self.with_db(lambda c: save_models(c, self.engine))
                    next_save = mono + self.cfg.save_seconds
                if mono >= self._next_beat:
                    self.heartbeat()
                    self._next_beat = mono + self.cfg.heartbeat_seconds
        finally:
            self.close()
        return self.stats

    def _evaluate(self, records: dict[TopicPartition, list[Any]]) -> list[AlertUpdate]:
        now = datetime.now(UTC)
        out: list[AlertUpdate] = []
        for tp, msgs in records.items():
            kind = self.cfg.topics[tp.topic]
            for m in msgs:
                event = decode(kind, m.value, known_sources=self.known, now=now,
                               future_tolerance=self.cfg.future_tolerance)  # fmt: skip
                self._offsets[(tp.topic, tp.partition)] = m.offset + 1
                if isinstance(event, Rejected):
                    self.stats.rejected += 1
                    continue
                self.stats.events += 1
                if self.last_event_time is None or event.event_time > self.last_event_time:
                    self.last_event_time = event.event_time
                try:
                    out += self.engine.process(event)
                except Exception:  # noqa: BLE001 - the engine never dies on data: log it, go on
                    self.stats.event_errors += 1
                    log.exception("event %s (%s %s) could not be evaluated; skipped", event.event_id,
                                  kind.value, event.source_id)
        return out

    def _persist(self, updates: list[AlertUpdate], escalate: bool) -> None:
        """Fold the updates into the alerts table and store the offsets in one transaction, then publish.

        Each update runs in its own savepoint: one the database (or the model) refuses is logged with
        its alert key, kept for a retry on the next pass, and the others are stored. Only losing the
        database itself retries the whole pass (``with_db``).
        """
        offsets = dict(self._offsets)
        retry = self._retry
        # A refused update is retried before newer ones of the same key (those supersede it).
        pending = [u for k, (u, _n) in retry.items() if all(x.key != k for x in updates)] + updates

        def write(conn: psycopg.Connection) -> tuple[list[Alert], dict[str, tuple[AlertUpdate, int]]]:
            changed: list[Alert] = []
            failed: dict[str, tuple[AlertUpdate, int]] = {}
            for u in pending:
                if u.rule_version is None:  # every alert names the version of the rule behind it
                    u = u.model_copy(update={"rule_version": self.versions.get(u.rule_id)})
                try:
                    alert = apply_rule_update(conn, u, self.agencies)
                except psycopg.OperationalError:
                    raise  # the database is away: with_db retries the whole pass
                except (psycopg.Error, ValueError) as exc:
                    attempts = retry.get(u.key, (u, 0))[1] + 1
                    self.stats.update_errors += 1
                    alert_id = _open_alert_id(conn, u.key)
                    if attempts >= MAX_ATTEMPTS:
                        self.stats.parked += 1
                        log.error("alert %s (key %s): update refused %d times, parked: %s: %s", alert_id, u.key,
                                  attempts, type(exc).__name__, exc)
                    else:
                        failed[u.key] = (u, attempts)
                        log.warning("alert %s (key %s): update refused (%s: %s); retrying (attempt %d)", alert_id,
                                    u.key, type(exc).__name__, str(exc).splitlines()[0], attempts)
                    continue
                if alert is not None:
                    changed.append(alert)
            if escalate:
                changed += escalate_due(conn, datetime.now(UTC), self.cfg.escalation)
            with conn.cursor() as cur:
                cur.executemany(SAVE_OFFSET, [(self.cfg.group_id, t, p, o, self.topic_ids.get(t))
                                              for (t, p), o in offsets.items()])
            return changed, failed

        changed, self._retry = self.with_db(write)
        self._offsets.clear()
        self.stats.updates += len(updates)
        if changed:
            try:
                for alert in changed:
                    self.producer.send(
                        self.cfg.alerts_topic, key=alert.key.encode(), value=alert.model_dump_json().encode()
                    )
                self.producer.flush(timeout=10)
                self.stats.published += len(changed)
            except Exception as exc:  # noqa: BLE001 - stored is what counts; the topic is a notification
                log.warning("alerts stored but not all published on %s (%s)", self.cfg.alerts_topic,
                            type(exc).__name__)

    def heartbeat(self) -> None:
        """``component_health`` row ``engine:alerts``: last processed event and what is being retried."""
        detail = {"last_event_time": self.last_event_time.isoformat() if self.last_event_time else None,
                  "events": self.stats.events, "updates": self.stats.updates, "published": self.stats.published,
                  "update_errors": self.stats.update_errors, "retrying": len(self._retry),
                  "parked": self.stats.parked, "event_errors": self.stats.event_errors, "new_logs": self.stats.new_logs}
        if self._retry:
            detail["problem"] = f"{len(self._retry)} alert update(s) refused by the database, being retried"
        try:
            self.with_db(lambda c: health.beat(c, "engine:alerts", "engine", pid=os.getpid(), detail=detail))
        except psycopg.Error as exc:
            log.debug("heartbeat skipped: %s", exc)

    def close(self) -> None:
        try:
            if not self.conn.closed:
                save_models(self.conn, self.engine)
                self.conn.commit()
        except psycopg.Error as exc:
            log.warning("models not saved on shutdown: %s", exc)
        closers: list[Callable[[], object]] = [lambda: self.producer.close(timeout=5), self.conn.close]
        if self.consumer is not None:
            closers.insert(0, lambda: self.consumer.close(autocommit=False))  # type: ignore[union-attr]
        for closer in closers:
            try:
                closer()
            except Exception:  # noqa: BLE001 - best effort on shutdown
                pass


def _open_alert_id(conn: psycopg.Connection, key: str) -> str:
    """The open alert's id for a key, for the log line (``new`` when none is open yet)."""
    try:
        with conn.transaction():
            row = conn.execute("SELECT alert_id FROM alerts WHERE alert_key = %s AND state <> 'resolved'",
                               (key,)).fetchone()
    except psycopg.Error:
        return "?"
    return str(row[0]) if row else "new"


def run_engine(settings: Settings, stop: threading.Event, *, ready: threading.Event | None = None,
               **overrides: Any) -> ServiceStats:  # fmt: skip
    """Warm start, then run until ``stop`` is set; ``ready`` is set once the partitions are assigned."""
    service = AlertService(ServiceConfig.from_settings(settings, **overrides), stop)
    service.warm_start()
    if ready is not None:
        threading.Thread(target=lambda: (service.assigned.wait(), ready.set()), daemon=True).start()
    return service.run()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    stats = run_engine(Settings(), stop)
    log.info("alert engine stopped: %s", stats)


__all__ = ["AlertService", "ServiceConfig", "ServiceStats", "load_locations", "run_engine", "stored_events"]
