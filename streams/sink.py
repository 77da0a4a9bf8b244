"""Batching sink: COPY a batch into staging, insert idempotently, store offsets, all in one transaction.

``add``/``add_rejected`` buffer; ``flush`` writes rows, dead letters, the next offset per partition
(with the topic id of the log it belongs to) and the per-source counters in a single transaction, so
a crash at any point leaves either the whole batch with its offsets or neither. Re-reading from the
stored offsets then stores nothing twice.

Idempotency is on ``event_id`` alone: the ledger ``event_ids (kind, event_id)`` (not a hypertable,
whose unique keys must include the time column) is written in the same transaction. A new id is
stored; an id already stored with the same payload digest is a plain duplicate (skipped, counted);
with another digest it is dead-lettered ``duplicate_conflict``. The source table keeps its
``(event_id, event_time)`` key as a second guard.

Dead letters are rows first (the row is the record); :func:`pending_dead_letters` and
:func:`mark_published` let the consumer publish them on the topic until it succeeds.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql

from ioc.events import Event
from ioc.sources import SOURCES, SourceKind
from streams.decode import Reason, Rejected, redact_for_deadletter
from streams.tables import SPECS, TableSpec

log = logging.getLogger(__name__)

SinkMode = Literal["copy", "insert"]
NOTIFY_CHANNEL = "ioc_ingest"
#: The dead-letter table keeps the original bytes up to this size (larger ones: the first bytes
#: and ``raw_size``). The consumer refuses messages over Settings.max_message_bytes (256 KiB by
#: default) before parsing them, so this cap only bites on messages between the two.
DEADLETTER_DB_CAP = 1024 * 1024


def digest(event: Event) -> bytes:
    """16-byte hash of the event's canonical JSON: same id and same payload → same digest."""
    return hashlib.blake2b(event.to_json(), digest_size=16).digest()


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
    digests: list[bytes] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    ids: dict[uuid.UUID, bytes] = field(default_factory=dict)  # event id → digest, within this batch
    repeated: int = 0  # same id and payload twice within this batch

    def __len__(self) -> int:
        return len(self.rows) + len(self.dead) + self.repeated


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
        self.topic_ids: dict[str, uuid.UUID | None] = {}  # topic → id of the log being read (consumer sets it)
        self._stage = f"stage_{self.spec.table}"
        self._staged_on: psycopg.Connection | None = None

    # -- buffering ---------------------------------------------------------------------------
    def add(
        self, event: Event, *, topic: str, partition: int, offset: int, late: bool, admin_unit: str | None,
        raw: bytes | None = None,
    ) -> None:
        d = digest(event)
        self.batch.next_offsets[(topic, partition)] = offset + 1
        seen = self.batch.ids.get(event.event_id)
        if seen is not None:  # the same id twice in one batch: the first one counts
            if seen == d:
                self.batch.repeated += 1
            else:
                self.batch.dead.append(DeadLetter(topic, partition, offset, event.key(),
                                                  raw if raw is not None else event.to_json(), _conflict(event)))
            return
        self.batch.ids[event.event_id] = d
        self.batch.rows.append(self.spec.row(event, late=late, admin_unit=admin_unit))
        self.batch.coords.append((topic, partition, offset, event.key(), raw if raw is not None else event.to_json()))
        self.batch.digests.append(d)

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
                inserted, late, newest, conflicts = (
                    self._insert_rows(batch.rows, batch.digests) if batch.rows else (0, 0, None, []))
                conflicted = [
DeadLetter(*batch.coords[i], _conflict_row(batch.rows[i])) for i in conflicts
                ]
                dead = self._insert_dead([*batch.dead, *conflicted]) if batch.dead or conflicted else []
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
        duplicates = len(batch.rows) - inserted - len(conflicts) + batch.repeated
        return FlushResult(inserted, duplicates, dead, late, newest)

    def flush_isolating(self) -> FlushResult:
        """Flush after a data error: rows the database refuses one by one go to the dead letters."""
        batch = self.batch
        good = Batch(dead=list(batch.dead), next_offsets=batch.next_offsets, repeated=batch.repeated)
        for row, coord, d in zip(batch.rows, batch.coords, batch.digests, strict=True):
            topic, partition, offset, key, raw = coord
            try:
                with self.conn.transaction():
                    self._insert_values([row], returning=False)
                    raise _Rollback  # only probing; the real write happens below in one transaction
            except _Rollback:
                good.rows.append(row)
                good.coords.append(coord)
                good.digests.append(d)
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                reason = Rejected(Reason.DB_REJECTED, f"database refused the row: {str(exc).splitlines()[0]}")
                good.dead.append(DeadLetter(topic, partition, offset, key, raw, reason))
        self.batch = good
        return self.flush()

    def _insert_rows(
        self, rows: Sequence[tuple[Any, ...]], digests: Sequence[bytes]
    ) -> tuple[int, int, datetime | None, list[int]]:
        """Store rows whose id is new; return (inserted, of which late, newest event time, indexes of
        rows whose id is already stored with another payload)."""
        kind = self.spec.kind.value
        if self.mode == "insert":
            return self._insert_rows_values(rows, digests)
        cols = sql.SQL(", ").join(map(sql.Identifier, self.spec.all_columns))
        stage = sql.Identifier(self._stage)
        table = sql.Identifier(self.spec.table)
        if self._staged_on is not self.conn:  # temp tables live as long as the session
            self.conn.execute(sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS, _digest bytea, _i int4)"
                " ON COMMIT DELETE ROWS").format(stage, table))
            self._staged_on = self.conn
        with self.conn.cursor() as cur:
            copy_cols = sql.SQL(", ").join([cols, sql.SQL("_digest, _i")])
            with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(stage, copy_cols)) as copy:
                copy.set_types([*self.spec.all_types, "bytea", "int4"])
                for i, (row, d) in enumerate(zip(rows, digests, strict=True)):
                    copy.write_row((*row, d, i))
            # The ledger first: only ids it did not hold go into the table. One summary row back, with
            # the rows whose id the ledger already held (usually none: no join over the whole ledger).
            cur.execute(
                sql.SQL(
                    "WITH led AS (INSERT INTO event_ids (kind, event_id, event_time, digest)"
                    " SELECT %s, event_id, event_time, _digest FROM {stage} ON CONFLICT DO NOTHING RETURNING event_id),"
                    " ins AS (INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}"
                    " WHERE event_id IN (SELECT event_id FROM led) ON CONFLICT DO NOTHING RETURNING late, event_time)"
                    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FILTER (WHERE late) FROM ins),"
                    " (SELECT max(event_time) FROM ins),"
                    " (SELECT array_agg(_i) FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM led WHERE led.event_id = s.event_id))"
                ).format(stage=stage, table=table, cols=cols),
                (kind,),
            )
            inserted, late, newest, known = cur.fetchone()  # type: ignore[misc]
            conflicts = self._conflicting(cur, rows, digests, sorted(known or ()))
            return int(inserted), int(late), newest, conflicts

    def _conflicting(self, cur: psycopg.Cursor[Any], rows: Sequence[tuple[Any, ...]], digests: Sequence[bytes],
                     known: Sequence[int]) -> list[int]:
        """Of the rows whose id the ledger already held, those stored with another payload digest."""
        if not known:
            return []
        cur.execute("SELECT event_id, digest FROM event_ids WHERE kind = %s AND event_id = ANY(%s)",
                    (self.spec.kind.value, [rows[i][0] for i in known]))
        stored = {r[0]: (bytes(r[1]) if r[1] is not None else None) for r in cur.fetchall()}
        return [i for i in known if stored.get(rows[i][0]) is not None and stored[rows[i][0]] != digests[i]]

    def _insert_rows_values(
        self, rows: Sequence[tuple[Any, ...]], digests: Sequence[bytes]
    ) -> tuple[int, int, datetime | None, list[int]]:
        """The same with plain INSERTs (servers without COPY, e.g. pglite's TimescaleDB)."""
        kind = self.spec.kind.value
        ids = [r[0] for r in rows]
        fresh: set[uuid.UUID] = set()
        with self.conn.cursor() as cur:
            for i in range(0, len(rows), 500):
                part = range(i, min(i + 500, len(rows)))
                values = sql.SQL(", ").join([sql.SQL("(%s, %s, %s, %s)")] * len(part))
                cur.execute(
                    sql.SQL("INSERT INTO event_ids (kind, event_id, event_time, digest) VALUES {}"
                            " ON CONFLICT DO NOTHING RETURNING event_id").format(values),
                    [v for j in part for v in (kind, rows[j][0], rows[j][2], digests[j])],
                )
                fresh.update(r[0] for r in cur.fetchall())
            old = [i for i, event_id in enumerate(ids) if event_id not in fresh]
            conflicts = self._conflicting(cur, rows, digests, old)
        new_rows = [r for r in rows if r[0] in fresh]
        returned: list[tuple[Any, ...]] = []
        for i in range(0, len(new_rows), 500):
            returned.extend(self._insert_values(new_rows[i : i + 500], returning=True))
        newest = max((r[1] for r in returned), default=None)
        return len(returned), sum(1 for r in returned if r[0]), newest, conflicts

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
        """Store dead letters (the record); return those stored, whose copies go to the topic.

        Personal fields in clear are redacted first (issue 11): the table row and the topic copy never
        carry a reporter's name or phone, whatever a producer sent."""
        stored: list[DeadLetter] = []
        with self.conn.cursor() as cur:
            for d in dead:
                d = replace(d, raw=redact_for_deadletter(self.spec.kind, d.raw))
                cur.execute(
                    'INSERT INTO deadletter (topic, partition, "offset", kind, key, raw, raw_size, reason_code, reason,'
                    " field) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    ' ON CONFLICT (topic, partition, "offset") DO NOTHING RETURNING id',
                    (d.topic, d.partition, d.offset, self.spec.kind.value, d.key, d.raw[:DEADLETTER_DB_CAP],
                     len(d.raw), d.rejected.code.value, _no_nul(d.rejected.reason), _no_nul(d.rejected.field)),
                )
                if cur.fetchone() is not None:
                    stored.append(d)
        return stored

    def _store_offsets(self, next_offsets: dict[tuple[str, int], int]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO stream_offsets (group_id, topic, partition, next_offset, topic_id)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (group_id, topic, partition) DO UPDATE"
                " SET next_offset = EXCLUDED.next_offset, topic_id = EXCLUDED.topic_id, updated_at = now()",
                [(self.group_id, t, p, o, self.topic_ids.get(t)) for (t, p), o in next_offsets.items()],
            )


def _conflict(event: Event) -> Rejected:
    return Rejected(Reason.DUPLICATE_CONFLICT,
                    f"event_id {event.event_id} already received with a different payload", "event_id")


def _conflict_row(row: tuple[Any, ...]) -> Rejected:
    return Rejected(Reason.DUPLICATE_CONFLICT,
                    f"event_id {row[0]} already stored with a different payload", "event_id")


def _no_nul(text: str | None) -> str | None:
    """Text columns refuse NUL; a dead letter must never be refused (raw keeps the original bytes)."""
    return None if text is None else text.replace("\x00", "\\x00")


class _Rollback(Exception):
    """Raised inside a probe transaction to roll it back on purpose."""


@dataclass(frozen=True)
class StoredOffset:
    next_offset: int
    topic_id: uuid.UUID | None  # the log the offset belongs to (None: stored before topic ids were kept)


def stored_offsets(conn: psycopg.Connection, group_id: str, topic: str) -> dict[int, int]:
    """Next offset per partition stored for ``group_id`` on ``topic``."""
    return {p: o.next_offset for p, o in stored_positions(conn, group_id, topic).items()}


def stored_positions(conn: psycopg.Connection, group_id: str, topic: str) -> dict[int, StoredOffset]:
    """Next offset per partition with the topic id of the log it was read from."""
    rows = conn.execute(
        "SELECT partition, next_offset, topic_id FROM stream_offsets WHERE group_id = %s AND topic = %s",
        (group_id, topic),
    ).fetchall()
    return {int(p): StoredOffset(int(o), tid) for p, o, tid in rows}


# -- dead letters: the row is the record, the topic publish is retried ---------------------------


@dataclass(frozen=True)
class PendingDeadLetter:
    id: int
    topic: str
    partition: int
    offset: int
    key: bytes | None
    raw: bytes
    raw_size: int | None
    reason_code: str
    reason: str


def pending_dead_letters(conn: psycopg.Connection, kind: str, limit: int = 500) -> list[PendingDeadLetter]:
    """Dead letters of ``kind`` not yet published on the dead-letter topic, oldest first."""
    rows = conn.execute(
        'SELECT id, topic, partition, "offset", key, raw, raw_size, reason_code, reason FROM deadletter'
        " WHERE published_at IS NULL AND kind = %s ORDER BY id LIMIT %s",
        (kind, limit),
    ).fetchall()
    return [PendingDeadLetter(int(i), t, int(p), int(o), bytes(k) if k is not None else None, bytes(r), s, c, why)
            for i, t, p, o, k, r, s, c, why in rows]


def mark_published(conn: psycopg.Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute("UPDATE deadletter SET published_at = now() WHERE id = ANY(%s)", (list(ids),))


# -- ledger retention ---------------------------------------------------------------------------


def purge_ledger(conn: psycopg.Connection, kind: SourceKind | str) -> int:
    """Delete ledger rows older than the source's declared retention; returns how many."""
    retain = SOURCES[str(kind)].storage.retain
    if retain is None:
        return 0
    cur = conn.execute(
        "DELETE FROM event_ids WHERE kind = %s AND event_time < now() - %s::interval", (str(kind), retain))
    return cur.rowcount
