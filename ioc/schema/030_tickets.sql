-- Citizen-report tickets (the triage desk). ticket_events is the history: every change, who, when,
-- what. tickets is its projection (current status, owner, deadline...), rewritten in the same
-- transaction as each event by ioc/tickets/store.py, so the two never disagree.

CREATE TABLE IF NOT EXISTS tickets (
    ticket_id             text PRIMARY KEY,
    received_at           timestamptz NOT NULL,
    source_event_id       uuid,
    channel               text NOT NULL,
    text                  text NOT NULL,
    lon                   double precision NOT NULL,
    lat                   double precision NOT NULL,
    admin_unit            text,
    photo_urls            text[] NOT NULL DEFAULT '{}',
    reporter_name         text,          -- personal data: shown unmasked to triage staff only
    reporter_phone        text,          -- personal data: shown unmasked to triage staff only
    status                text NOT NULL CHECK (status IN ('received', 'classified', 'assigned', 'in_progress',
                                                          'answered', 'closed', 'reopened', 'merged')),
    category              text,
    category_confirmed    boolean NOT NULL DEFAULT false,
    suggested_category    text,
    suggested_confidence  double precision,
    owner_kind            text CHECK (owner_kind IN ('agency', 'ward_committee')),
    owner_code            text,
    owner_name            text,
    deadline              timestamptz,
    first_answered_at     timestamptz,
    answered_at           timestamptz,
    answered_on_time      boolean,
    answer                text,
    closed_at             timestamptz,
    verdict               text CHECK (verdict IN ('agree', 'disagree')),
    merged_into           text REFERENCES tickets (ticket_id),
    duplicate_of          text,          -- a suggestion from duplicate detection, not a decision
    published             boolean NOT NULL DEFAULT false,
    version               integer NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_status_deadline ON tickets (status, deadline);
CREATE INDEX IF NOT EXISTS tickets_owner ON tickets (owner_kind, owner_code);
CREATE INDEX IF NOT EXISTS tickets_received ON tickets (received_at DESC);
CREATE INDEX IF NOT EXISTS tickets_category_received ON tickets (category, received_at DESC);

CREATE TABLE IF NOT EXISTS ticket_events (
    id          bigserial PRIMARY KEY,
    ticket_id   text NOT NULL REFERENCES tickets (ticket_id),
    seq         integer NOT NULL,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    kind        text NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    UNIQUE (ticket_id, seq)
);
CREATE INDEX IF NOT EXISTS ticket_events_at ON ticket_events (at DESC);

-- Duplicates merged into a primary ticket; the reporters of both are kept informed.
CREATE TABLE IF NOT EXISTS ticket_merges (
    duplicate_id  text PRIMARY KEY REFERENCES tickets (ticket_id),
    primary_id    text NOT NULL REFERENCES tickets (ticket_id),
    merged_at     timestamptz NOT NULL,
    actor         text NOT NULL,
    CHECK (duplicate_id <> primary_id)
);
CREATE INDEX IF NOT EXISTS ticket_merges_primary ON ticket_merges (primary_id);

-- The citizen's verdict on each answer (đồng tình / không đồng tình).
CREATE TABLE IF NOT EXISTS ticket_verdicts (
    id         bigserial PRIMARY KEY,
    ticket_id  text NOT NULL REFERENCES tickets (ticket_id),
    at         timestamptz NOT NULL,
    verdict    text NOT NULL CHECK (verdict IN ('agree', 'disagree')),
    comment    text
);
CREATE INDEX IF NOT EXISTS ticket_verdicts_ticket ON ticket_verdicts (ticket_id, at);

-- Answered tickets published on the transparency page, one at a time on a staff decision.
-- Only de-identified text is stored here: nothing personal to mask later.
CREATE TABLE IF NOT EXISTS ticket_publications (
    ticket_id     text PRIMARY KEY REFERENCES tickets (ticket_id),
    published_at  timestamptz NOT NULL,
    actor         text NOT NULL,
    category      text,
    admin_unit    text,
    owner_name    text,
    received_at   timestamptz NOT NULL,
    answered_at   timestamptz,
    text          text NOT NULL,
    answer        text NOT NULL
);
CREATE INDEX IF NOT EXISTS ticket_publications_at ON ticket_publications (published_at DESC);

-- Agency and ward users see only the tickets owned by their scopes.
CREATE TABLE IF NOT EXISTS user_scopes (
    username    text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    scope_type  text NOT NULL CHECK (scope_type IN ('agency', 'ward')),
    scope_code  text NOT NULL,
    PRIMARY KEY (username, scope_type, scope_code)
);

-- Intake: which feedback events became tickets, and how far the scan has got.
CREATE TABLE IF NOT EXISTS ticket_intake_done (
    event_id      uuid PRIMARY KEY,
    ticket_id     text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    error         text            -- why the event was skipped (NULL: it became or updated a ticket)
);
CREATE TABLE IF NOT EXISTS ticket_intake_watermark (
    id           smallint PRIMARY KEY CHECK (id = 1),
    ingested_at  timestamptz NOT NULL
);

-- Open311 (GeoReport v2) clients: only a SHA-256 of each key is kept.
CREATE TABLE IF NOT EXISTS open311_api_keys (
    key_sha256  text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled    boolean NOT NULL DEFAULT false
);
