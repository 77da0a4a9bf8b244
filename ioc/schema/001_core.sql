-- Core tables: one per source, the dead letters, stored offsets and per-source counters.
-- Idempotency: (event_id, event_time) is the key; event_time is part of it because TimescaleDB
-- requires the partitioning column in every unique index, and a re-sent event keeps its time.

CREATE TABLE IF NOT EXISTS sources (
    source_id   text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('camera', 'traffic', 'air', 'feedback')),
    name        text NOT NULL,
    lon         double precision,
    lat         double precision,
    admin_unit  text,
    geometry    jsonb,
    properties  jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE IF NOT EXISTS camera_events (
    event_id        uuid        NOT NULL,
    source_id       text        NOT NULL,
    event_time      timestamptz NOT NULL,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    late            boolean     NOT NULL DEFAULT false,
    admin_unit      text,
    schema_version  smallint    NOT NULL,
    online          boolean     NOT NULL,
    vehicles        integer,
    counts          jsonb,
    detections      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    top_detection   text,
    top_confidence  real,
    PRIMARY KEY (event_id, event_time)
);

CREATE TABLE IF NOT EXISTS traffic_events (
    event_id        uuid        NOT NULL,
    source_id       text        NOT NULL,
    event_time      timestamptz NOT NULL,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    late            boolean     NOT NULL DEFAULT false,
    admin_unit      text,
    schema_version  smallint    NOT NULL,
    speed_kmh       real        NOT NULL,
    volume_vph      real        NOT NULL,
    occupancy_pct   real        NOT NULL,
    free_flow_kmh   real        NOT NULL,
    PRIMARY KEY (event_id, event_time)
);

CREATE TABLE IF NOT EXISTS air_events (
    event_id        uuid        NOT NULL,
    source_id       text        NOT NULL,
    event_time      timestamptz NOT NULL,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    late            boolean     NOT NULL DEFAULT false,
    admin_unit      text,
    schema_version  smallint    NOT NULL,
    pm25            real,
    pm10            real,
    no2             real,
    so2             real,
    o3              real,
    co              real,
    temperature_c   real,
    humidity_pct    real,
    PRIMARY KEY (event_id, event_time)
);

CREATE TABLE IF NOT EXISTS feedback_events (
    event_id        uuid        NOT NULL,
    source_id       text        NOT NULL,
    event_time      timestamptz NOT NULL,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    late            boolean     NOT NULL DEFAULT false,
    admin_unit      text,
    schema_version  smallint    NOT NULL,
    ticket_id       text        NOT NULL,
    action          text        NOT NULL,
    category        text,
    text            text        NOT NULL,
    lon             double precision NOT NULL,
    lat             double precision NOT NULL,
    photo_urls      text[]      NOT NULL DEFAULT '{}',
    channel         text        NOT NULL,
    reporter_name   text,
    reporter_phone  text,
    PRIMARY KEY (event_id, event_time)
);

CREATE INDEX IF NOT EXISTS camera_events_source_time ON camera_events (source_id, event_time DESC);
CREATE INDEX IF NOT EXISTS traffic_events_source_time ON traffic_events (source_id, event_time DESC);
CREATE INDEX IF NOT EXISTS air_events_source_time ON air_events (source_id, event_time DESC);
CREATE INDEX IF NOT EXISTS feedback_events_source_time ON feedback_events (source_id, event_time DESC);
CREATE INDEX IF NOT EXISTS feedback_events_ticket ON feedback_events (ticket_id, event_time DESC);

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
INSERT INTO ingest_stats (kind) VALUES ('camera'), ('traffic'), ('air'), ('feedback')
ON CONFLICT (kind) DO NOTHING;
