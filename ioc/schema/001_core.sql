-- Core tables: the site registry, the dead letters, stored offsets and per-source counters.
-- Each source's own table and rollup come from its declaration (ioc/sources/, applied by ioc.sources.ddl).

CREATE TABLE IF NOT EXISTS sources (
    source_id   text PRIMARY KEY,
    kind        text NOT NULL,
    name        text NOT NULL,
    lon         double precision,
    lat         double precision,
    admin_unit  text,
    geometry    jsonb,
    properties  jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Rejected input: the original bytes and a precise reason; one row per Kafka message (idempotent).
CREATE TABLE IF NOT EXISTS deadletter (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    topic        text    NOT NULL,
    partition    integer NOT NULL,
    "offset"     bigint  NOT NULL,
    kind         text,
    key          bytea,
    raw          bytea   NOT NULL,
    reason_code  text    NOT NULL,
    reason       text    NOT NULL,
    field        text,
    UNIQUE (topic, partition, "offset")
);
CREATE INDEX IF NOT EXISTS deadletter_received ON deadletter (received_at DESC);

-- Next offset to read per consumer group and partition, written in the same transaction as the rows.
CREATE TABLE IF NOT EXISTS stream_offsets (
    group_id     text    NOT NULL,
    topic        text    NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint  NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- Per-source counters, maintained by the sinks in the batch transaction (cheap to read live).
CREATE TABLE IF NOT EXISTS ingest_stats (
    kind               text PRIMARY KEY,
    accepted           bigint NOT NULL DEFAULT 0,
    rejected           bigint NOT NULL DEFAULT 0,
    late               bigint NOT NULL DEFAULT 0,
    newest_event_time  timestamptz,
    last_ingest_at     timestamptz
);
