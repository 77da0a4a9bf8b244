"""Batching sink: COPY a batch into staging, insert idempotently, store offsets, all in one transaction.

``add``/``add_rejected`` buffer; ``flush`` writes rows, dead letters, the next offset per partition
and the per-source counters in a single transaction, so a crash at any point leaves either the whole
batch with its offsets or neither. Re-reading from the stored offsets then stores nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql

from ioc.events import Event
from ioc.sources import SourceKind
from streams.decode import Reason, Rejected
from streams.tables import SPECS, TableSpec

log = logging.getLogger(__name__)

SinkMode = Literal["copy", "insert"]
NOTIFY_CHANNEL = "ioc_ingest"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    raw: bytes
    rejected: Rejected


@dataclass
class Batch:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    # topic, partition, offset, key, original bytes (kept to dead-letter a row the database refuses)
    coords: list[tuple[str, int, int, bytes | None, bytes]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows) + len(self.dead)


@dataclass(frozen=True)
class FlushResult:
    inserted: int
    duplicates: int
    dead_lettered: list[DeadLetter]
    late: int
    newest: datetime | None


class TimescaleSink:
    """One sink per (consumer group, source kind), writing through one connection."""

    def __init__(self, conn: psycopg.Connection, group_id: str, kind: SourceKind, mode: SinkMode = "copy") -> None:
        self.conn = conn
        self.group_id = group_id
        self.spec: TableSpec = SPECS[kind]
        self.mode = mode
        self.batch = Batch()
        self._stage = f"stage_{self.spec.table}"
        self._staged_on: psycopg.Connection | None = None

    # -- buffering ---------------------------------------------------------------------------
    def add(
        self, event: Event, *, topic: str, partition: int, offset: int, late: bool, admin_unit: str | None,
        raw: bytes | None = None,
    ) -> None:
        self.batch.rows.append(self.spec.row(event, late=late, admin_unit=admin_unit))
        self.batch.coords.append((topic, partition, offset, event.key(), raw if raw is not None else event.to_json()))
        self.batch.next_offsets[(topic, partition)] = offset + 1

    def add_rejected(self, dl: DeadLetter) -> None:
        self.batch.dead.append(dl)
        self.batch.next_offsets[(dl.topic, dl.partition)] = dl.offset + 1

    def __len__(self) -> int:
        return len(self.batch)

    def discard(self) -> None:
        self.batch = Batch()

    # -- writing -----------------------------------------------------------------------------
    def flush(self) -> FlushResult:
        """Write the batch in one transaction; on success clear it. Raises psycopg errors unchanged."""
        batch = self.batch
        if not batch.next_offsets:
            return FlushResult(0, 0, [], 0, None)
        try:
            with self.conn.transaction():
                inserted, late, newest = self._insert_rows(batch.rows) if batch.rows else (0, 0, None)
                dead = self._insert_dead(batch.dead) if batch.dead else []
                self._store_offsets(batch.next_offsets)
                self.conn.execute(
                    "UPDATE ingest_stats SET accepted = accepted + %s, rejected = rejected + %s, late = late + %s,"
                    " newest_event_time = GREATEST(newest_event_time, %s), last_ingest_at = now() WHERE kind = %s",
                    (inserted, len(dead), late, newest, self.spec.kind.value),
                )
                self.conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, self.spec.kind.value))
        except BaseException:
            self._staged_on = None  # a rolled-back transaction also rolls back the staging table's creation
            raise
        self.batch = Batch()
        return FlushResult(inserted, len(batch.rows) - inserted, dead, late, newest)

    def flush_isolating(self) -> FlushResult:
        """Flush after a data error: rows the database refuses one by one go to the dead letters."""
        batch = self.batch
        good = Batch(dead=list(batch.dead), next_offsets=batch.next_offsets)
        for row, (topic, partition, offset, key, raw) in zip(batch.rows, batch.coords, strict=True):
            try:
                with self.conn.transaction():
                    self._insert_values([row], returning=False)
                    raise _Rollback  # only probing; the real write happens below in one transaction
            except _Rollback:
                good.rows.append(row)
                good.coords.append((topic, partition, offset, key, raw))
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                reason = Rejected(Reason.DB_REJECTED, f"database refused the row: {str(exc).splitlines()[0]}")
                good.dead.append(DeadLetter(topic, partition, offset, key, raw, reason))
        self.batch = good
        return self.flush()

    def _insert_rows(self, rows: Sequence[tuple[Any, ...]]) -> tuple[int, int, datetime | None]:
        """Store rows idempotently; return (inserted, of which late, newest event time)."""
        if self.mode == "insert":
            returned: list[tuple[Any, ...]] = []
            for i in range(0, len(rows), 500):
                returned.extend(self._insert_values(rows[i : i + 500], returning=True))
            return len(returned), sum(1 for r in returned if r[0]), max((r[1] for r in returned), default=None)
        cols = sql.SQL(", ").join(map(sql.Identifier, self.spec.all_columns))
        stage = sql.Identifier(self._stage)
        if self._staged_on is not self.conn:  # temp tables live as long as the session
            self.conn.execute(
                sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS").format(
                    stage, sql.Identifier(self.spec.table))
            )
            self._staged_on = self.conn
        with self.conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(stage, cols)) as copy:
                copy.set_types(list(self.spec.all_types))
                for row in rows:
                    copy.write_row(row)
            # One summary row back instead of every inserted row.
            cur.execute(
                sql.SQL(
                    "WITH ins AS (INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING RETURNING late, event_time)"
                    " SELECT count(*), count(*) FILTER (WHERE late), max(event_time) FROM ins"
                ).format(sql.Identifier(self.spec.table), cols, cols, stage)
            )
            inserted, late, newest = cur.fetchone()  # type: ignore[misc]
            return int(inserted), int(late), newest

    def _insert_values(self, rows: Sequence[tuple[Any, ...]], *, returning: bool) -> list[tuple[Any, ...]]:
        cols = self.spec.all_columns
        one = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(cols)))
        query = sql.SQL("INSERT INTO {} ({}) VALUES {} ON CONFLICT DO NOTHING{}").format(
            sql.Identifier(self.spec.table),
            sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL(", ").join([one] * len(rows)),
            sql.SQL(" RETURNING late, event_time") if returning else sql.SQL(""),
        )
        with self.conn.cursor() as cur:
            cur.execute(query, [v for r in rows for v in r])
            return cur.fetchall() if returning else []

    def _insert_dead(self, dead: Sequence[DeadLetter]) -> list[DeadLetter]:
        stored: list[DeadLetter] = []
        with self.conn.cursor() as cur:
            for d in dead:
                cur.execute(
                    'INSERT INTO deadletter (topic, partition, "offset", kind, key, raw, reason_code, reason, field)'
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    ' ON CONFLICT (topic, partition, "offset") DO NOTHING RETURNING id',
                    (d.topic, d.partition, d.offset, self.spec.kind.value, d.key, d.raw, d.rejected.code.value,
                     _no_nul(d.rejected.reason), _no_nul(d.rejected.field)),
                )
                if cur.fetchone() is not None:
                    stored.append(d)
        return stored

    def _store_offsets(self, next_offsets: dict[tuple[str, int], int]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO stream_offsets (group_id, topic, partition, next_offset) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (group_id, topic, partition) DO UPDATE"
                " SET next_offset = EXCLUDED.next_offset, updated_at = now()",
                [(self.group_id, t, p, o) for (t, p), o in next_offsets.items()],
            )


def _no_nul(text: str | None) -> str | None:
    """Text columns refuse NUL; a dead letter must never be refused (raw keeps the original bytes)."""
    return None if text is None else text.replace("\x00", "\\x00")


class _Rollback(Exception):
    """Raised inside a probe transaction to roll it back on purpose."""


def stored_offsets(conn: psycopg.Connection, group_id: str, topic: str) -> dict[int, int]:
    """Next offset per partition stored for ``group_id`` on ``topic``."""
    rows = conn.execute(
        "SELECT partition, next_offset FROM stream_offsets WHERE group_id = %s AND topic = %s", (group_id, topic)
    ).fetchall()
    return {int(p): int(o) for p, o in rows}
