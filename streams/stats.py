"""Per-source ingest counters: accepted, rejected, late, and the age of the newest event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row


@dataclass(frozen=True)
class SourceStats:
    kind: str
    accepted: int
    rejected: int
    late: int
    newest_event_time: datetime | None
    newest_age_seconds: float | None
    last_ingest_at: datetime | None


INGEST_STATS = """
SELECT kind, accepted, rejected, late, newest_event_time,
       EXTRACT(EPOCH FROM now() - newest_event_time)::float8 AS newest_age_seconds, last_ingest_at
FROM ingest_stats ORDER BY kind
"""


def ingest_stats(conn: psycopg.Connection) -> list[SourceStats]:
    """Counters per source, maintained in each batch's transaction (so exact, and cheap to read)."""
    with conn.cursor(row_factory=class_row(SourceStats)) as cur:
        return cur.execute(INGEST_STATS).fetchall()


REASONS = "SELECT kind, reason_code, count(*) FROM deadletter GROUP BY kind, reason_code ORDER BY kind, reason_code"


def deadletter_reasons(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    """Dead letters per source and reason code."""
    return [(k, r, int(n)) for k, r, n in conn.execute(REASONS).fetchall()]
