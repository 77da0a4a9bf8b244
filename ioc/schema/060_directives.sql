-- Directives (chỉ đạo) from the leaders to departments, communes, the police and the IOC operators.
-- directive_events is the history (who, when, what); directives and directive_assignments are its
-- projection, rewritten in the same transaction as each event by ioc/directives/store.py.

CREATE TABLE IF NOT EXISTS directives (
    directive_id     bigserial PRIMARY KEY,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    body             text NOT NULL,
    priority         text NOT NULL CHECK (priority IN ('normal', 'urgent', 'flash')),
    deadline_unit    text NOT NULL CHECK (deadline_unit IN ('working_days', 'hours')),
    deadline_amount  integer NOT NULL CHECK (deadline_amount > 0),
    about_kind       text CHECK (about_kind IN ('alert', 'ticket', 'kpi', 'unit')),
    about_id         text,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    cancelled_at     timestamptz,
    closed           boolean NOT NULL DEFAULT false,
    version          integer NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK ((about_kind IS NULL) = (about_id IS NULL))
);
CREATE INDEX IF NOT EXISTS directives_about ON directives (about_kind, about_id);
CREATE INDEX IF NOT EXISTS directives_created ON directives (created_at DESC);

CREATE TABLE IF NOT EXISTS directive_assignments (
    directive_id        bigint NOT NULL REFERENCES directives (directive_id),
    recipient_code      text NOT NULL,
    status              text NOT NULL CHECK (status IN ('sent', 'acknowledged', 'in_progress', 'reported',
                                                        'accepted', 'returned', 'cancelled')),
    deadline            timestamptz NOT NULL,
    original_deadline   timestamptz NOT NULL,
    ack_due             timestamptz NOT NULL,
    acknowledged_at     timestamptz,
    reported_at         timestamptz,
    result              text,
    accepted_at         timestamptz,
    on_time             boolean,
    extension_pending   boolean NOT NULL DEFAULT false,
    requested_deadline  timestamptz,
    escalation_level    smallint NOT NULL DEFAULT 0,
    notes               integer NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (directive_id, recipient_code)
);
CREATE INDEX IF NOT EXISTS directive_assignments_recipient ON directive_assignments (recipient_code, status);
CREATE INDEX IF NOT EXISTS directive_assignments_open ON directive_assignments (status, deadline);

CREATE TABLE IF NOT EXISTS directive_events (
    id              bigserial PRIMARY KEY,
    directive_id    bigint NOT NULL REFERENCES directives (directive_id),
    seq             integer NOT NULL,
    at              timestamptz NOT NULL,
    actor           text NOT NULL,
    kind            text NOT NULL,
    recipient_code  text,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    UNIQUE (directive_id, seq)
);
CREATE INDEX IF NOT EXISTS directive_events_at ON directive_events (at DESC);

-- Photos and files attached to progress notes and results: bytes in the database (no paths to
-- traverse), type sniffed from the bytes and size-limited on the way in, served only to allowed roles.
CREATE TABLE IF NOT EXISTS directive_files (
    file_id         uuid PRIMARY KEY,
    directive_id    bigint NOT NULL REFERENCES directives (directive_id),
    recipient_code  text NOT NULL,
    filename        text NOT NULL,
    content_type    text NOT NULL,
    size_bytes      integer NOT NULL CHECK (size_bytes > 0),
    sha256          text NOT NULL,
    data            bytea NOT NULL,
    uploaded_by     text NOT NULL,
    uploaded_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS directive_files_directive ON directive_files (directive_id);

-- Which users act for which recipient (the ward and department scopes), and its head.
CREATE TABLE IF NOT EXISTS directive_members (
    username        text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    recipient_code  text NOT NULL,
    is_head         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (username, recipient_code)
);
CREATE INDEX IF NOT EXISTS directive_members_recipient ON directive_members (recipient_code);

-- How a recipient is reached beyond the app. Webhook secrets are never stored: secret_env names
-- the environment variable holding the HMAC key (IOC_DIRECTIVES_WEBHOOK_SECRET when NULL).
CREATE TABLE IF NOT EXISTS directive_channels (
    id              bigserial PRIMARY KEY,
    recipient_code  text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    address         text NOT NULL,
    audience        text NOT NULL DEFAULT 'staff' CHECK (audience IN ('staff', 'head')),
    secret_env      text CHECK (secret_env ~ '^IOC_[A-Z0-9_]+$'),
    enabled         boolean NOT NULL DEFAULT true,
    UNIQUE (recipient_code, channel, address)
);

-- The outbox: one row per message and channel, written with the event; the worker sends it.
CREATE TABLE IF NOT EXISTS directive_deliveries (
    id               bigserial PRIMARY KEY,
    directive_id     bigint NOT NULL REFERENCES directives (directive_id),
    recipient_code   text NOT NULL,
    event_seq        integer NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('email', 'webhook')),
    address          text NOT NULL,
    secret_env       text,
    subject          text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz
);
CREATE INDEX IF NOT EXISTS directive_deliveries_due ON directive_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS directive_deliveries_directive ON directive_deliveries (directive_id, recipient_code);

-- Every delivery attempt (success or failure), for the delivery log.
CREATE TABLE IF NOT EXISTS directive_delivery_attempts (
    id           bigserial PRIMARY KEY,
    delivery_id  bigint NOT NULL REFERENCES directive_deliveries (id),
    at           timestamptz NOT NULL,
    ok           boolean NOT NULL,
    http_status  integer,
    error        text,
    duration_ms  double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS directive_delivery_attempts_delivery ON directive_delivery_attempts (delivery_id, at);
