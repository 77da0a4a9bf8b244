-- KPI figures entered by hand (issue 12, item 3): indicators with no live feed (digital
-- infrastructure, digital economy, Hải Phòng Smart installs, SOC alerts) keep the documents'
-- figures (ioc/kpi/seed.py, read from the seed file at run time) and get newer values here, one row
-- per entry, never changed: the latest as_of wins on screen, ties broken by entry time
-- (ioc/kpi/figures.py). Each entry is audited in the same transaction.

CREATE TABLE IF NOT EXISTS kpi_figures (
    id          bigserial PRIMARY KEY,
    kpi_id      text NOT NULL,
    value       numeric NOT NULL,
    as_of       date NOT NULL CHECK (as_of >= DATE '2015-01-01'),
    source      text NOT NULL CHECK (length(btrim(source)) BETWEEN 1 AND 300),
    note        text CHECK (note IS NULL OR length(note) <= 1000),
    entered_by  text NOT NULL,
    entered_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS kpi_figures_latest ON kpi_figures (kpi_id, as_of DESC, entered_at DESC, id DESC);
