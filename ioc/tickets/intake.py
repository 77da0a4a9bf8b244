"""Feedback events → tickets: classify, route, set the deadline, suggest duplicates.

The spine stores every citizen report in ``feedback_events``. :func:`intake_once` picks up the
rows it has not processed yet (an anti-join on ``ticket_intake_done`` behind a watermark on
``ingested_at`` minus a safety margin, so a batch that committed late is still seen), and for each:

* ``created``: a ticket is received; the classifier's suggestion (category, confidence) and the
  nearest open duplicate (same category, 50 m, 72 h) are recorded; the deadline counts working days
  of the suggested category; at or above the routing threshold the category is applied and the
  ticket assigned to its owner, otherwise it waits in the triage queue;
* ``updated``: the citizen's new text is added to the ticket's history.

Each event is processed in its own transaction together with its ``ticket_intake_done`` row, so a
crash never creates a ticket twice; an event that cannot become a ticket is marked done with the
error, so it never blocks the rest.
Admin unit codes from the spine become names ("Phường Lê Chân"), which routing, scopes and filters use.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import LiteralString

import psycopg
from psycopg.rows import class_row

from ioc.crypto import decrypt_opt, default_keyring
from ioc.settings import Settings
from ioc.tickets import store
from ioc.tickets.calendar import WorkingCalendar, deadline_for, default_calendar
from ioc.tickets.categories import CategoryCatalog, load_catalog
from ioc.tickets.classifier import Suggestion, TriageClassifier, default_classifier
from ioc.tickets.duplicates import DEFAULT_WINDOW, ReportPoint, candidates_for
from ioc.tickets.routing import RoutingTable
from ioc.tickets.store import NewTicket
from ioc.tickets.units import UnitNames
from ioc.tickets.workflow import Change, Kind

log = logging.getLogger(__name__)

ACTOR = "intake"  # the system actor of automatic changes
SAFETY_MARGIN = timedelta(minutes=10)  # rows may commit with an older ingested_at than ones already seen
BATCH = 500
ANCHOR_EVERY = 24 * 3600.0  # seconds between two audit-chain anchors in the log


@dataclass(frozen=True)
class FeedbackRow:
    event_id: uuid.UUID
    event_time: datetime
    ingested_at: datetime
    admin_unit: str | None
    ticket_id: str
    action: str
    category: str | None
    text: str
    lon: float
    lat: float
    photo_urls: list[str]
    channel: str
    reporter_name: str | None = field(repr=False)  # ciphertext as stored
    reporter_phone: str | None = field(repr=False)


_PENDING: LiteralString = (
    "SELECT f.event_id, f.event_time, f.ingested_at, f.admin_unit, f.ticket_id, f.action, f.category, f.text,"
    " f.lon, f.lat, f.photo_urls, f.channel, f.reporter_name, f.reporter_phone FROM feedback_events f"
    " WHERE f.ingested_at >= %s AND NOT EXISTS (SELECT 1 FROM ticket_intake_done d WHERE d.event_id = f.event_id)"
    " ORDER BY f.ingested_at, f.event_time, f.event_id LIMIT %s"
)


@dataclass(frozen=True)
class Intake:
    """The models and tables intake uses (built once per process)."""

    classifier: TriageClassifier
    routing: RoutingTable
    catalog: CategoryCatalog
    calendar: WorkingCalendar
    units: UnitNames = field(default_factory=UnitNames)

    @classmethod
    def default(cls) -> Intake:
        return _default_intake()

    def once(self, conn: psycopg.Connection, *, batch: int = BATCH, now: datetime | None = None) -> int:
        """Process up to ``batch`` pending feedback events; returns how many were processed."""
        row = conn.execute("SELECT ingested_at FROM ticket_intake_watermark WHERE id = 1").fetchone()
        since = row[0] - SAFETY_MARGIN if row else datetime(1970, 1, 1, tzinfo=UTC)
        with conn.cursor(row_factory=class_row(FeedbackRow)) as cur:
            rows = cur.execute(_PENDING, (since, batch)).fetchall()
        if not rows:
            return 0
        created = [r for r in rows if r.action == "created" and r.text.strip()]
        suggestions: dict[uuid.UUID, Suggestion] = dict(
            zip(
                (r.event_id for r in created),
                self.classifier.suggest_many([r.text for r in created]),
                strict=True,
            )
        )
        earliest = min(r.event_time for r in rows) - DEFAULT_WINDOW
        points = [ReportPoint(*p) for p in store.open_points(conn, earliest)]
        for r in rows:
            try:
                with conn.transaction():
                    self._process(conn, r, suggestions, points, now or datetime.now(UTC))
                    _done(conn, r, None)
            except (ValueError, LookupError) as exc:
                # One bad event must not wedge the desk: record why it was skipped (no personal data).
                log.warning("ticket intake skipped event %s (ticket %s): %s", r.event_id, r.ticket_id, exc)
                with conn.transaction():
                    _done(conn, r, f"{type(exc).__name__}: {exc}"[:500])
        newest = max(r.ingested_at for r in rows)
        conn.execute(
            "INSERT INTO ticket_intake_watermark (id, ingested_at) VALUES (1, %s)"
            " ON CONFLICT (id) DO UPDATE SET ingested_at = greatest(ticket_intake_watermark.ingested_at,"
            " EXCLUDED.ingested_at)",
            (newest,),
        )
        return len(rows)

    def _process(
        self,
        conn: psycopg.Connection,
        r: FeedbackRow,
        suggestions: dict[uuid.UUID, Suggestion],
        points: list[ReportPoint],
        now: datetime,
    ) -> None:
        existing = store.get_ticket(conn, r.ticket_id)
        if existing is not None:
            at = max(now, existing.updated_at)
            store.apply_change(conn, r.ticket_id, Change(Kind.NOTE, at, "citizen", text=r.text))
            return
        suggestion = suggestions.get(r.event_id) or self.classifier.suggest(r.text)
        new = NewTicket(
            ticket_id=r.ticket_id,
            received_at=r.event_time,
            channel=r.channel,
            text=r.text,
            lon=r.lon,
            lat=r.lat,
            admin_unit=self.units.name(r.admin_unit, r.event_time),
            photo_urls=tuple(r.photo_urls),
            # The spine stores them encrypted (streams.tables); the ticket store encrypts them again.
            reporter_name=decrypt_opt(default_keyring(), r.reporter_name, "feedback_events.reporter_name"),
            reporter_phone=decrypt_opt(default_keyring(), r.reporter_phone, "feedback_events.reporter_phone"),
            source_event_id=r.event_id,
        )
        self.receive(conn, new, suggestion, now, points)

    def receive(
        self,
        conn: psycopg.Connection,
        new: NewTicket,
        suggestion: Suggestion,
        now: datetime,
        points: list[ReportPoint] | None = None,
    ) -> store.TicketRow | None:
        """Create a ticket with its suggestion, duplicate hint, deadline and (above threshold) owner."""
        category_code, confidence = suggestion.category_code, round(float(suggestion.confidence), 4)
        category = self.catalog.get(category_code)
        deadline = deadline_for(new.received_at, category, self.calendar)
        row = store.create_ticket(conn, new, ACTOR, deadline=deadline)
        if row is None:
            return None
        at = max(now, new.received_at)
        point = ReportPoint(new.ticket_id, category_code, new.lat, new.lon, new.received_at)
        if points is None:
            points = [
                ReportPoint(*p)
                for p in store.open_points(conn, new.received_at - DEFAULT_WINDOW, [new.ticket_id])
            ]
        dup = candidates_for(point, points)
        points.append(point)
        store.apply_change(
            conn,
            new.ticket_id,
            Change(
                Kind.SUGGESTED,
                at,
                ACTOR,
                category=category_code,
                confidence=confidence,
                duplicate_of=dup[0].report_id if dup else None,
            ),
        )
        if new.admin_unit is None:
            return store.require_ticket(conn, new.ticket_id)  # no unit: a person must route it
        decision = self.routing.decide(suggestion, new.admin_unit)
        if not decision.auto_applied:
            return store.require_ticket(conn, new.ticket_id)
        store.apply_change(
            conn,
            new.ticket_id,
            Change(Kind.CLASSIFIED, at, ACTOR, category=category_code, auto=True, confidence=confidence),
        )
        owner = decision.owner
        return store.apply_change(
            conn,
            new.ticket_id,
            Change(
                Kind.ASSIGNED,
                at,
                ACTOR,
                owner_kind=owner.kind,
                owner_code=owner.code,
                owner_name=owner.name_vi,
                auto=True,
            ),
        )


def _done(conn: psycopg.Connection, r: FeedbackRow, error: str | None) -> None:
    conn.execute(
        "INSERT INTO ticket_intake_done (event_id, ticket_id, error) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (r.event_id, r.ticket_id, error),
    )


@cache
def _default_intake() -> Intake:
    catalog = load_catalog()
    return Intake(default_classifier(), RoutingTable.load(catalog=catalog), catalog, default_calendar())


def intake_once(conn: psycopg.Connection) -> int:
    """Process pending feedback events with the default models; returns how many were processed."""
    return Intake.default().once(conn)


def run_intake(
    settings: Settings, stop: threading.Event, *, poll_seconds: float = 2.0, alerts_every: float = 60.0
) -> None:
    """Loop until ``stop`` is set: drain pending events, then wait ``poll_seconds``; every
    ``alerts_every`` seconds refresh the overdue alerts (:mod:`ioc.tickets.overdue`); once a day (and at
    start) write the audit chain's head to the log (:func:`ioc.audit.log_anchor`). Reconnects on errors."""
    from ioc.audit import log_anchor
    from ioc.tickets.overdue import sync_overdue_alerts

    intake = Intake.default()
    backoff = 1.0
    next_alerts = 0.0
    next_anchor = 0.0
    while not stop.is_set():
        try:
            with psycopg.connect(settings.database_dsn(), autocommit=True) as conn:
                backoff = 1.0
                while not stop.is_set():
                    n = intake.once(conn)
                    if time.monotonic() >= next_alerts:
                        sync_overdue_alerts(conn, datetime.now(UTC))
                        next_alerts = time.monotonic() + alerts_every
                    if time.monotonic() >= next_anchor:
                        log_anchor(conn, datetime.now(UTC))
                        next_anchor = time.monotonic() + ANCHOR_EVERY
                    if n == 0:
                        stop.wait(poll_seconds)
        except psycopg.OperationalError as exc:
            log.warning("ticket intake: database unavailable (%s); retrying in %.0f s", exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)


def main() -> None:
    """``python -m ioc.tickets.intake``: the intake loop as a child process of ``ioc up`` (SIGTERM stops it)."""
    import signal

    from ioc.settings import running_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_intake(running_settings(), stop)


if __name__ == "__main__":
    main()
