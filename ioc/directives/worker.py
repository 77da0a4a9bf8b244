"""``python -m ioc.directives.worker``: the directive desk's background process.

Every tick (``IOC_DIRECTIVES_TICK_SECONDS``, default 15 s): escalate what is late (not
acknowledged in time, overdue), then send what the outbox holds (e-mail, webhooks; failed sends
wait with backoff). SIGTERM or SIGINT stops it after the current tick; a database that is away is
retried on the next tick.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime

import psycopg

from ioc import db, health
from ioc.directives.delivery import deliver_due
from ioc.directives.settings import DirectiveSettings
from ioc.directives.store import escalate_due
from ioc.settings import running_settings

log = logging.getLogger("ioc.directives.worker")


def tick(conn: psycopg.Connection, settings: DirectiveSettings, now: datetime | None = None) -> tuple[int, int]:
    """One pass: (escalations made, delivery attempts made)."""
    now = now or datetime.now(UTC)
    escalated = escalate_due(conn, now)
    sent = deliver_due(conn, settings, now)
    return len(escalated), sent


def run(stop: threading.Event, dsn: str, settings: DirectiveSettings) -> None:
    def step(conn: psycopg.Connection) -> bool:
        escalated, sent = tick(conn, settings)
        # /healthz and `ioc status` see the worker alive (component worker:directives).
        health.beat(conn, "worker:directives", "worker", pid=os.getpid(),
                    detail={"escalated": escalated, "delivery_attempts": sent})
        if escalated or sent:
            log.info("escalated %d, delivery attempts %d", escalated, sent)
        return False  # one tick per period

    db.poll_until(stop, dsn, step, settings.directives_tick_seconds, log, "tick")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    dsn = running_settings().database_dsn()
    settings = DirectiveSettings()
    log.info("directive worker started (tick %.1f s)", settings.directives_tick_seconds)
    run(stop, dsn, settings)
    log.info("directive worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
