-- Saved state of the alert engine's anomaly models (alerts/engine.py), one row per monitored series,
-- so a restarted engine resumes with what it learnt instead of starting cold.

CREATE TABLE IF NOT EXISTS alert_models (
    monitor_id    text        NOT NULL,
    source_id     text        NOT NULL,
    state         bytea       NOT NULL,
    learned_until timestamptz,
    saved_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (monitor_id, source_id)
);
