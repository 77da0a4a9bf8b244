-- Public-service dossiers (issue 12): one row per dossier, folded from dossier_events by
-- ioc/kpi/intake.py, and the 766 index's integer counters per unit, local month of receipt and sector,
-- changed in the same transaction as the dossiers they count (ioc.kpi.index766 counters).

CREATE TABLE IF NOT EXISTS dossiers (
    dossier_id           text PRIMARY KEY,
    unit                 text NOT NULL,
    sector               text,
    procedure_code       text,
    procedure_name       text,
    channel              text CHECK (channel IN ('online', 'counter', 'post')),
    eligible_full_online boolean NOT NULL DEFAULT false,
    full_online          boolean NOT NULL DEFAULT false,
    received_at          timestamptz,  -- NULL until the received step is stored (a step may come first)
    due_at               timestamptz,
    completed_at         timestamptz,
    returned             boolean NOT NULL DEFAULT false,
    supplement_requests  integer NOT NULL DEFAULT 0 CHECK (supplement_requests >= 0),
    fee_vnd              bigint NOT NULL DEFAULT 0 CHECK (fee_vnd >= 0),
    paid_online          boolean NOT NULL DEFAULT false,
    e_result             boolean NOT NULL DEFAULT false,
    digitised            boolean NOT NULL DEFAULT false,
    reused_data          boolean NOT NULL DEFAULT false,
    rating               text CHECK (rating IN ('satisfied', 'unsatisfied')),
    complained           boolean NOT NULL DEFAULT false,
    month                date,  -- first day of the local (+07) month of received_at: the counters' key
    updated_at           timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dossiers_unit_received ON dossiers (unit, received_at DESC);
CREATE INDEX IF NOT EXISTS dossiers_open ON dossiers (month, unit) WHERE completed_at IS NULL;

CREATE TABLE IF NOT EXISTS dossier_counters (
    unit                      text NOT NULL,
    month                     date NOT NULL,
    sector                    text NOT NULL DEFAULT '',  -- '' when the dossier named none
    dossiers                  bigint NOT NULL DEFAULT 0,
    completed                 bigint NOT NULL DEFAULT 0,
    completed_on_time         bigint NOT NULL DEFAULT 0,
    completed_on_time_content bigint NOT NULL DEFAULT 0,
    eligible_full_online      bigint NOT NULL DEFAULT 0,
    full_online               bigint NOT NULL DEFAULT 0,
    online                    bigint NOT NULL DEFAULT 0,
    fee_bearing               bigint NOT NULL DEFAULT 0,
    paid_online               bigint NOT NULL DEFAULT 0,
    completed_e_result        bigint NOT NULL DEFAULT 0,
    digitised                 bigint NOT NULL DEFAULT 0,
    reused_data               bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (unit, month, sector)
);

-- Exactly once: an event is folded in the transaction that records it here.
CREATE TABLE IF NOT EXISTS dossier_intake_done (
    event_id   uuid PRIMARY KEY,
    error      text,
    done_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS dossier_intake_watermark (
    id          integer PRIMARY KEY CHECK (id = 1),
    ingested_at timestamptz NOT NULL
);
