-- Nothing lost, nothing silent (issue 10): the broker epoch of stored offsets, the event-id ledger,
-- dead letters that are published until they are, and one table of component health.

-- The topic id (KIP-516 topic UUID) of the log an offset belongs to. A broker that lost its log
-- (the memory-only embedded broker restarted) serves the topic under a new id: the consumer then
-- resumes from the new log's beginning instead of seeking to an offset of the old one.
ALTER TABLE stream_offsets ADD COLUMN IF NOT EXISTS topic_id uuid;

-- Idempotency on event_id alone: one row per (kind, event_id), whatever its event_time. Not a
-- hypertable (a hypertable's unique keys must include its time column), written in the batch
-- transaction. digest is the hash of the event's canonical JSON: the same id with another digest
-- is a conflicting duplicate and goes to the dead letters. NULL digest: unknown (never conflicts).
CREATE TABLE IF NOT EXISTS event_ids (
    kind        text        NOT NULL,
    event_id    uuid        NOT NULL,
    event_time  timestamptz NOT NULL,
    digest      bytea,
    PRIMARY KEY (kind, event_id)
);
-- Retention follows each source's declared retention (streams.sink.purge_ledger).
CREATE INDEX IF NOT EXISTS event_ids_time ON event_ids (kind, event_time);

-- A dead letter is recorded here first (the row is the record); publishing it on the dead-letter
-- topic is retried until it succeeds. raw may be truncated; raw_size is the original length.
ALTER TABLE deadletter ADD COLUMN IF NOT EXISTS published_at timestamptz;
ALTER TABLE deadletter ADD COLUMN IF NOT EXISTS raw_size integer;
UPDATE deadletter SET published_at = received_at WHERE published_at IS NULL;  -- published by the old code
CREATE INDEX IF NOT EXISTS deadletter_unpublished ON deadletter (id) WHERE published_at IS NULL;

-- One row per component: supervised processes (the launcher upserts them) and the heartbeats of
-- consumers, the alert engine and ticket intake. /healthz reads this table and ingest_stats only.
CREATE TABLE IF NOT EXISTS component_health (
    component     text        PRIMARY KEY,
    role          text        NOT NULL,  -- process | service | consumer | engine
    state         text        NOT NULL CHECK (state IN ('starting', 'running', 'restarting', 'failed', 'stopped')),
    pid           integer,
    restarts      integer     NOT NULL DEFAULT 0,
    last_exit     text,
    detail        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    since         timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);
