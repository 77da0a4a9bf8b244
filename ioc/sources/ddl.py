"""The schema of each declared source, generated from its declaration for both flavours.

Run by :func:`ioc.db.migrate` after the numbered migrations. Each part (table, rollup) is recorded
in ``source_kinds`` with a fingerprint of its DDL, so a declaration that changes is applied again:
new columns are added (``ADD COLUMN``) and a changed rollup is dropped and rebuilt.
Changing a column's type needs a numbered migration (the generator never rewrites data).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import LiteralString, cast

import psycopg

from ioc.sources import SOURCES
from ioc.sources.spec import SourceSpec

# Columns every source table starts with (the sink writes them for every event).
COMMON_DDL = (
    "event_id uuid NOT NULL", "source_id text NOT NULL", "event_time timestamptz NOT NULL",
    "ingested_at timestamptz NOT NULL DEFAULT now()", "late boolean NOT NULL DEFAULT false", "admin_unit text",
    "schema_version smallint NOT NULL",
)


def _q(text: str) -> str:
    """A single-quoted SQL literal (declarations are project code, but quote them anyway)."""
    return "'" + text.replace("'", "''") + "'"


def table_ddl(spec: SourceSpec) -> list[str]:
    """The raw table (idempotency key, common and declared columns) and its indexes."""
    t = spec.table
    cols = ",\n    ".join([*COMMON_DDL, *(c.ddl for c in spec.columns)])
    out = [f"CREATE TABLE IF NOT EXISTS {t} (\n    {cols},\n    PRIMARY KEY (event_id, event_time)\n)"]
    out.append(f"CREATE INDEX IF NOT EXISTS {t}_source_time ON {t} (source_id, event_time DESC)")
    out += [f"CREATE INDEX IF NOT EXISTS {name} ON {t} ({columns})" for name, columns in spec.indexes]
    return out


def _bucket(spec: SourceSpec, timescale: bool) -> str:
    r = spec.rollup
    assert r is not None
    if timescale:
        return f"time_bucket(INTERVAL {_q(r.bucket)}, event_time, origin => TIMESTAMPTZ {_q(r.origin)})"
    # date_bin is immutable (date_trunc on timestamptz is not), so an expression index can serve it.
    return f"date_bin(INTERVAL {_q(r.bucket)}, event_time, TIMESTAMPTZ {_q(r.origin)})"


def _rollup_select(spec: SourceSpec, timescale: bool) -> str:
    r = spec.rollup
    assert r is not None
    group = ", ".join(r.group_by)
    aggs = "".join(f", {expr} AS {col}" for col, expr in r.aggregates)
    keys = ", ".join(str(i) for i in range(1, len(r.group_by) + 2))
    return f"SELECT {_bucket(spec, timescale)} AS bucket, {group}, count(*) AS n{aggs} FROM {spec.table} GROUP BY {keys}"


def storage_ddl(spec: SourceSpec, timescale: bool) -> list[str]:
    """Hypertable, compression and retention (TimescaleDB), or BRIN and bucket index (plain)."""
    t, st = spec.table, spec.storage
    if not timescale:
        out = [f"CREATE INDEX IF NOT EXISTS {t}_time_brin ON {t} USING brin (event_time)"]
        if spec.rollup is not None:
            name = f"{t}_{spec.rollup.bucket.split()[1]}"  # e.g. camera_events_minute
            out.append(f"CREATE INDEX IF NOT EXISTS {name} ON {t} ({_bucket(spec, False)})")
        return out
    out = [f"SELECT create_hypertable({_q(t)}, 'event_time', chunk_time_interval => INTERVAL {_q(st.chunk)},"
           " if_not_exists => TRUE, migrate_data => TRUE)"]
    if st.compress_after:
        out += [f"ALTER TABLE {t} SET (timescaledb.compress, timescaledb.compress_segmentby = 'source_id',"
                " timescaledb.compress_orderby = 'event_time DESC')",
                f"SELECT add_compression_policy({_q(t)}, INTERVAL {_q(st.compress_after)}, if_not_exists => TRUE)"]
    if st.retain:
        out.append(f"SELECT add_retention_policy({_q(t)}, INTERVAL {_q(st.retain)}, if_not_exists => TRUE)")
    return out


def rollup_ddl(spec: SourceSpec, timescale: bool, *, rebuild: bool) -> list[str]:
    """The rollup view; ``rebuild`` drops it first (its definition changed)."""
    r = spec.rollup
    if r is None:
        return []
    select = _rollup_select(spec, timescale)
    if not timescale:
        drop = [f"DROP VIEW IF EXISTS {r.name}"] if rebuild else []
        return [*drop, f"CREATE OR REPLACE VIEW {r.name} AS {select}"]
    drop = [f"DROP MATERIALIZED VIEW IF EXISTS {r.name}"] if rebuild else []
    return [
        *drop,
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {r.name} WITH (timescaledb.continuous) AS {select} WITH NO DATA",
        # Real-time aggregation: recent, not yet materialised buckets are read from the raw table.
        f"ALTER MATERIALIZED VIEW {r.name} SET (timescaledb.materialized_only = false)",
        f"SELECT add_continuous_aggregate_policy({_q(r.name)}, start_offset => INTERVAL {_q(r.refresh_window)},"
        f" end_offset => INTERVAL {_q(r.bucket)}, schedule_interval => INTERVAL {_q(r.bucket)}, if_not_exists => TRUE)",
    ]


def fingerprint(statements: Iterable[str]) -> str:
    return hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()[:16]


def apply_sources(conn: psycopg.Connection, timescale: bool, specs: Iterable[SourceSpec] | None = None) -> list[str]:
    """Create or update every declared source's schema (autocommit connection); return what changed."""
    changed: list[str] = []
    for spec in specs if specs is not None else SOURCES.values():
        table_part = table_ddl(spec) + storage_ddl(spec, timescale)
        table_fp = fingerprint(table_part)
        rollup_fp = fingerprint(rollup_ddl(spec, timescale, rebuild=False))
        row = conn.execute("SELECT table_fp, rollup_fp FROM source_kinds WHERE kind = %s", (spec.kind,)).fetchone()
        old_table, old_rollup = row if row else (None, None)
        if old_table != table_fp:
            _run(conn, spec, table_part[:1])  # CREATE TABLE IF NOT EXISTS, then what an older table lacks
            _run(conn, spec, _missing_columns(conn, spec) + table_part[1:])
            changed.append(f"{spec.kind}:table")
        if old_rollup != rollup_fp:
            _run(conn, spec, rollup_ddl(spec, timescale, rebuild=old_rollup is not None))
            changed.append(f"{spec.kind}:rollup")
        conn.execute(
            "INSERT INTO source_kinds (kind, name_vi, name_en, table_name, topic, owner, data_class, table_fp, rollup_fp)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (kind) DO UPDATE SET name_vi = EXCLUDED.name_vi,"
            " name_en = EXCLUDED.name_en, table_name = EXCLUDED.table_name, topic = EXCLUDED.topic,"
            " owner = EXCLUDED.owner, data_class = EXCLUDED.data_class, table_fp = EXCLUDED.table_fp,"
            " rollup_fp = EXCLUDED.rollup_fp, applied_at = now()",
            (spec.kind, spec.name_vi, spec.name_en, spec.table, spec.topic, spec.owner, spec.data_class.value,
             table_fp, rollup_fp),
        )
        conn.execute("INSERT INTO ingest_stats (kind) VALUES (%s) ON CONFLICT (kind) DO NOTHING", (spec.kind,))
    return changed


def _missing_columns(conn: psycopg.Connection, spec: SourceSpec) -> list[str]:
    """``ADD COLUMN`` for declared columns the table lacks (TimescaleDB refuses even a no-op
    ``ADD COLUMN IF NOT EXISTS … NOT NULL`` on a compressed hypertable, so ask first)."""
    have = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s",
        (spec.table,)).fetchall()}
    return [f"ALTER TABLE {spec.table} ADD COLUMN {c.ddl}" for c in spec.columns if c.name not in have]


def _run(conn: psycopg.Connection, spec: SourceSpec, statements: Iterable[str]) -> None:
    for stmt in statements:
        try:
            conn.execute(cast(LiteralString, stmt))
        except psycopg.Error as exc:
            raise RuntimeError(f"schema of source {spec.kind!r} failed at: {stmt[:200]}: {exc}") from exc
