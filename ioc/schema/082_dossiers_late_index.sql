-- The cockpit's late-dossier list (ioc/web/parts/kpi.py, every snapshot tick) reads only dossiers that
-- are open, completed after their due time or supplemented more than once: a few per cent of a
-- year's dossiers. Without this index it scanned every dossier since the previous quarter.
CREATE INDEX IF NOT EXISTS dossiers_late ON dossiers (month)
    WHERE received_at IS NOT NULL AND (completed_at IS NULL OR completed_at > due_at OR supplement_requests > 1);
