"""The audit trail: the one place that writes and verifies who did what, when — a hash chain.

Every desk (web logins, the alert lifecycle, the ticket desk, the CLI) appends through :func:`audit`,
in the caller's transaction, so an action and its audit row commit together or not at all. The
database chains each row as it is inserted (``ioc/schema/040_audit_chain.sql``): ``row_hash`` is the
SHA-256 of :func:`canonical` (sequence, id, time, actor, action, target, details, previous hash),
writers are serialised on the one-row ``audit_head``, and UPDATE, DELETE and TRUNCATE are refused.
:func:`verify` recomputes every hash here, in Python (not trusting the database's own function),
and names the first broken row; :func:`log_anchor` writes the chain head to the logs once a day,
outside the database, so even a rewrite of the whole chain by its owner is caught against it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

log = logging.getLogger("ioc.audit")
GENESIS = "0" * 64  # the previous hash of the first row ever written


def audit(
    conn: psycopg.Connection, actor: str, action: str, target: str | None, details: dict[str, Any]
) -> None:
    """Append one row to ``audit_log`` (in the caller's transaction); the database chains it."""
    conn.execute(
        "INSERT INTO audit_log (actor, action, target, details) VALUES (%s, %s, %s, %s)",
        (actor, action, target, Jsonb(details)),
    )


def canonical(seq: int, id_: int, at_utc: str, actor: str, action: str, target: str | None, details_text: str,
              prev_hash: str) -> bytes:  # fmt: skip
    """What a row's hash covers: fields joined by the unit separator (U+001F), UTF-8. ``at_utc`` is
    the time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and ``details_text`` the jsonb's canonical text
    (PostgreSQL orders the keys), both as the database prints them."""
    parts = (str(seq), str(id_), at_utc, actor, action, target or "", details_text, prev_hash)
    return "\x1f".join(parts).encode()


def row_hash(*fields: Any) -> str:
    return hashlib.sha256(canonical(*fields)).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head_seq: int | None
    head_hash: str | None
    broken_id: int | None = None  # the first row that does not verify
    reason: str | None = None


_ROWS = (
    "SELECT chain_seq, id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, action,"
    " target, details::text, prev_hash, row_hash FROM audit_log ORDER BY chain_seq"
)


def verify(conn: psycopg.Connection, *, anchor: tuple[int, str] | None = None) -> Verification:
    """Walk the chain from the start (or from the purge anchor) and recompute every hash.

    ``anchor``: a ``(seq, hash)`` head written to the logs earlier; the row with that sequence must
    still carry that hash (catches a chain rewritten from the start by someone with write access)."""
    row = conn.execute("SELECT last_purged_seq, last_purged_hash FROM audit_anchor WHERE id = 1").fetchone()
    expect_seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
    n = 0
    last: tuple[int, str] | None = None
    anchor_seen = anchor is None
    with conn.cursor(name="audit_verify") if not conn.autocommit else conn.cursor() as cur:
        cur.execute(_ROWS)
        for seq, id_, at, actor, action, target, details, prev_hash, stored in cur:
            n += 1
            if seq != expect_seq:
                return Verification(False, n, *(last or (None, None)), id_, f"sequence {seq}, expected {expect_seq}: rows missing")
            if prev_hash != prev:
                return Verification(False, n, *(last or (None, None)), id_, "prev_hash does not match the row before")
            if row_hash(seq, id_, at, actor, action, target, details, prev_hash) != stored:
                return Verification(False, n, *(last or (None, None)), id_, "row_hash does not match the row's content")
            if anchor is not None and seq == anchor[0]:
                if stored != anchor[1]:
                    return Verification(False, n, seq, stored, id_, "differs from the anchor in the logs")
                anchor_seen = True
            prev, expect_seq, last = stored, seq + 1, (seq, stored)
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    if head is not None and last is not None and (head[0], head[1]) != last:
        return Verification(False, n, *last, None, "audit_head does not point at the last row")
    if not anchor_seen:
        return Verification(False, n, *(last or (None, None)), None, f"anchor sequence {anchor[0]} not found")  # type: ignore[index]
    return Verification(True, n, *(last or (None, None)))


def head(conn: psycopg.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def log_anchor(conn: psycopg.Connection, now: datetime | None = None) -> tuple[int, str]:
    """Write the chain head to the log (outside the database): ``ioc audit verify --anchor SEQ:HASH``
    checks a later chain against it. Called once a day by the ticket-intake service."""
    seq, h = head(conn)
    log.info("audit chain anchor %s seq=%d hash=%s", (now.isoformat() if now else ""), seq, h)
    return seq, h


def purge(conn: psycopg.Connection, before: datetime) -> int:
    """Delete rows older than ``before`` through the database's purge function (migration role only);
    the chain stays verifiable from the recorded anchor."""
    row = conn.execute("SELECT ioc_audit_purge(%s)", (before,)).fetchone()
    return int(row[0]) if row else 0
