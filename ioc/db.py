"""Database access: connections, the versioned migration runner, and the TimescaleDB/plain flavour.

Migrations are ``ioc/schema/NNN_name.sql`` (both flavours), or ``NNN_name.timescale.sql`` and
``NNN_name.plain.sql`` (one per flavour). Each applied version is recorded in ``schema_migrations``.
Then each declared source's own schema is generated from its declaration (``ioc.sources.ddl``).
Statements run one at a time in autocommit because TimescaleDB's continuous aggregates cannot be
created inside a transaction block; an advisory lock keeps concurrent starters from racing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import LiteralString, cast

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

_MIGRATION_RE = re.compile(r"^(\d{3})_([a-z0-9_]+?)(?:\.(timescale|plain))?\.sql$")
_LOCK_KEY = 0x10C_5C4E  # advisory lock id for migrations


class Flavour(StrEnum):
    TIMESCALE = "timescale"
    PLAIN = "plain"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    flavour: Flavour | None  # None: applies to both
    text: str


def connect(dsn: str, **kwargs: object) -> psycopg.Connection:
    """A connection with UTC session time zone (display code converts to Asia/Ho_Chi_Minh)."""
    return psycopg.connect(dsn, options="-c TimeZone=UTC", **kwargs)  # type: ignore[arg-type]


def poll_until(stop: threading.Event, dsn: str, step: Callable[[psycopg.Connection], bool], every: float,
               log: logging.Logger, what: str) -> None:
    """A background worker's loop: ``step`` on one autocommit connection until ``stop``, then wait
    ``every`` seconds unless ``step`` says more is pending; a database error is logged, the connection
    dropped and made again on the next pass (the database may be restarting)."""
    conn: psycopg.Connection | None = None
    while not stop.is_set():
        try:
            if conn is None or conn.closed:
                conn = connect(dsn, autocommit=True)
            if step(conn):
                continue
        except psycopg.Error as exc:
            log.warning("%s failed, retrying: %s", what, exc)
            if conn is not None:
                conn.close()
            conn = None
        stop.wait(every)
    if conn is not None:
        conn.close()


def available_migrations() -> list[Migration]:
    """All migration files shipped in ``ioc/schema``, ordered by version."""
    out = []
    for entry in resources.files("ioc.schema").iterdir():
        m = _MIGRATION_RE.match(entry.name)
        if m:
            flav = Flavour(m.group(3)) if m.group(3) else None
            out.append(Migration(int(m.group(1)), m.group(2), flav, entry.read_text(encoding="utf-8")))
    return sorted(out, key=lambda mg: (mg.version, mg.flavour or ""))


def split_statements(text: str) -> list[str]:
    """Split SQL text on top-level semicolons, respecting quotes, comments and dollar quoting."""
    out: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "'" or c == '"':
            j = i + 1
            while j < n and text[j] != c:
                j += 1
            buf.append(text[i : j + 1])
            i = j + 1
            continue
        if c == "$":
            m = re.match(r"\$[A-Za-z_]*\$", text[i:])
            if m:
                tag = m.group(0)
                j = text.find(tag, i + len(tag))
                j = n if j < 0 else j + len(tag)
                buf.append(text[i:j])
                i = j
                continue
        if c == ";":
            stmt = "".join(buf).strip()
            if stmt:
                out.append(stmt)
            buf = []
            i += 1
            continue
        buf.append(c)
        i += 1
    stmt = "".join(buf).strip()
    if stmt:
        out.append(stmt)
    return out


def detect_flavour(conn: psycopg.Connection) -> Flavour:
    """TimescaleDB when the extension is installed or installable, plain PostgreSQL otherwise."""
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    return Flavour.TIMESCALE if row else Flavour.PLAIN


def migrate(dsn_or_conn: str | psycopg.Connection, *, flavour: Flavour | None = None) -> list[str]:
    """Apply pending migrations; return the names applied. Safe to call from several processes."""
    own = isinstance(dsn_or_conn, str)
    conn = psycopg.connect(dsn_or_conn, autocommit=True) if own else dsn_or_conn  # type: ignore[arg-type]
    conn.autocommit = True
    applied: list[str] = []
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            flavour = flavour or detect_flavour(conn)
            if flavour is Flavour.TIMESCALE:
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " flavour text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
            for mig in available_migrations():
                if mig.version in done or (mig.flavour is not None and mig.flavour is not flavour):
                    continue
                for stmt in split_statements(mig.text):
                    try:
                        conn.execute(cast(LiteralString, stmt))
                    except psycopg.Error as exc:
                        raise RuntimeError(f"migration {mig.version:03d}_{mig.name} failed at: {stmt[:200]}: {exc}") from exc
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, flavour) VALUES (%s, %s, %s)",
                    (mig.version, mig.name, flavour.value),
                )
                applied.append(f"{mig.version:03d}_{mig.name}")
                done.add(mig.version)
            # Each declared source's table, storage and rollup (ioc/sources/), after the core tables.
            from ioc.sources.ddl import apply_sources

            applied += [f"source {part}" for part in apply_sources(conn, flavour is Flavour.TIMESCALE)]
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    finally:
        if own:
            conn.close()
    if applied:
        log.info("applied migrations (%s): %s", flavour, ", ".join(applied))
    return applied


def current_flavour(conn: psycopg.Connection) -> Flavour:
    """The flavour the schema was migrated with."""
    row = conn.execute("SELECT flavour FROM schema_migrations ORDER BY version LIMIT 1").fetchone()
    return Flavour(row[0]) if row else Flavour.PLAIN


def table(name: str) -> sql.Identifier:
    return sql.Identifier(name)
