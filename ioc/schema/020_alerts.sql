-- Alerts and their timeline (alerts/model.py): one row per incident, one alert_events row per change.
-- At most one open (unresolved) alert per incident key, so a rule's repeated updates land on one row.

CREATE TABLE IF NOT EXISTS alerts (
    alert_id          uuid             PRIMARY KEY,
    alert_key         text             NOT NULL,
    rule_id           text             NOT NULL,
    alert_class       text             NOT NULL
        CHECK (alert_class IN ('traffic', 'environment', 'camera', 'public_order', 'citizen_reports')),
    severity          text             NOT NULL CHECK (severity IN ('minor', 'moderate', 'severe', 'extreme')),
    state             text             NOT NULL DEFAULT 'new'
        CHECK (state IN ('new', 'acknowledged', 'assigned', 'resolved')),
    active            boolean          NOT NULL DEFAULT true,
    title_vi          text             NOT NULL,
    title_en          text             NOT NULL,
    detail_vi         text             NOT NULL DEFAULT '',
    detail_en         text             NOT NULL DEFAULT '',
    source_id         text,
    admin_unit        text,
    lon               double precision CHECK (lon BETWEEN -180 AND 180),
    lat               double precision CHECK (lat BETWEEN -90 AND 90),
    value             double precision,
    agency_code       text             NOT NULL,
    agency_vi         text             NOT NULL,
    agency_en         text             NOT NULL,
    assignee          text,
    silenced_until    timestamptz,
    escalation_level  smallint         NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
    created_at        timestamptz      NOT NULL,
    updated_at        timestamptz      NOT NULL,
    last_seen         timestamptz      NOT NULL,
    CHECK (updated_at >= created_at)
);

CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open_per_key ON alerts (alert_key) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alerts_open_by_update ON alerts (updated_at DESC) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alerts_by_created ON alerts (created_at DESC);

CREATE TABLE IF NOT EXISTS alert_events (
    alert_id  uuid        NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
    seq       integer     NOT NULL CHECK (seq >= 1),
    at        timestamptz NOT NULL,
    actor     text        NOT NULL,
    action    text        NOT NULL CHECK (action IN ('raised', 'updated', 'cleared', 'reactivated', 'acknowledged',
                                                     'assigned', 'resolved', 'silenced', 'escalated')),
    state     text        NOT NULL CHECK (state IN ('new', 'acknowledged', 'assigned', 'resolved')),
    comment   text,
    severity  text        CHECK (severity IN ('minor', 'moderate', 'severe', 'extreme')),
    value     double precision,
    PRIMARY KEY (alert_id, seq)
);

CREATE INDEX IF NOT EXISTS alert_events_by_time ON alert_events (at DESC);
