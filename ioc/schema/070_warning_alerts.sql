-- Issue 13, the early warnings: alert classes for budget revenue, floods and the SOC, the version of
-- the rule or model behind each alert, and incidents (one incident, many alerts: alerts/incidents.py).

ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_alert_class_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_alert_class_check CHECK (alert_class IN (
    'traffic', 'environment', 'camera', 'public_order', 'citizen_reports', 'budget', 'flood', 'soc'));

-- "budget-ytd-plan@1+3f9a0c2e": the rule's declared version and a digest of its configuration
-- (alerts.rules.rule_version), so an alert says exactly which thresholds raised it.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS rule_version text;

CREATE TABLE IF NOT EXISTS incidents (
    incident_id     uuid             PRIMARY KEY,
    family          text             NOT NULL,  -- budget, public_order, flood, soc, or the alert class
    alert_class     text             NOT NULL,
    place_key       text             NOT NULL,  -- what its members share: an admin unit, a revenue line, "city"
    admin_unit      text,
    lon             double precision CHECK (lon BETWEEN -180 AND 180),
    lat             double precision CHECK (lat BETWEEN -90 AND 90),
    severity        text             NOT NULL CHECK (severity IN ('minor', 'moderate', 'severe', 'extreme')),
    title_vi        text             NOT NULL,
    title_en        text             NOT NULL,
    opened_at       timestamptz      NOT NULL,
    last_member_at  timestamptz      NOT NULL,
    members         integer          NOT NULL DEFAULT 0 CHECK (members >= 0),
    CHECK (last_member_at >= opened_at)
);

CREATE INDEX IF NOT EXISTS incidents_recent ON incidents (family, last_member_at DESC);

CREATE TABLE IF NOT EXISTS incident_members (
    incident_id   uuid        NOT NULL REFERENCES incidents (incident_id) ON DELETE CASCADE,
    alert_id      uuid        NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
    rule_id       text        NOT NULL,
    rule_version  text,
    source_id     text,
    admin_unit    text,
    joined_at     timestamptz NOT NULL,
    PRIMARY KEY (incident_id, alert_id)
);

-- An alert belongs to one incident.
CREATE UNIQUE INDEX IF NOT EXISTS incident_members_one_per_alert ON incident_members (alert_id);
