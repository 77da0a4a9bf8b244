"""What the early-warning rules learn from when the live engine starts: the stored events of their
sources, as typed events, oldest first (the alert service's warm start replays them).

The budget rules need the previous fiscal years, the public-order and SOC rules weeks of hourly
counts, the flood rules two weeks of readings (:data:`WARM_WINDOWS`). Queries are built from the
source declarations (identifiers through ``psycopg.sql``); each is one statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ioc.events import Event
from ioc.sources import SOURCES

WARM_WINDOWS: dict[str, timedelta] = {
    "budget": timedelta(days=4 * 366),  # this year and the three before (the usual trajectory)
    "public_order": timedelta(days=56),
    "water": timedelta(days=14),
    "rain": timedelta(days=1),
    "soc": timedelta(days=28),
}


def warm_query(kind: str) -> sql.Composed:
    spec = SOURCES[kind]
    cols = ["event_id", "source_id", "event_time", *(c.name for c in spec.columns)]
    return sql.SQL("SELECT {} FROM {} WHERE event_time > %s ORDER BY event_time").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(spec.table))


def stored_warning_events(conn: psycopg.Connection, kind: str, since: datetime) -> Iterator[Event]:
    """Stored events of one early-warning source after ``since``, as its event class."""
    cls = SOURCES[kind].event
    with conn.cursor(row_factory=dict_row) as cur:  # every declared column is an event field here
        for row in cur.execute(warm_query(kind), (since,)):
            yield cls.model_validate(row)


def warm_events(conn: psycopg.Connection, now: datetime) -> list[Event]:
    """Every early-warning source's history, merged in time order."""
    events = [e for kind, back in WARM_WINDOWS.items() for e in stored_warning_events(conn, kind, now - back)]
    return sorted(events, key=lambda e: e.event_time)


__all__ = ["WARM_WINDOWS", "stored_warning_events", "warm_events", "warm_query"]
