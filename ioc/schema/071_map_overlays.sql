-- Issue 13: what operators put on the map beside the live data (geodata/overlays.py).
-- flood_areas: flooded or flood-prone areas drawn or imported by operators, with depth and time.
-- simulation_layers: scenario layers computed elsewhere (the Digital Twin), drawn hatched and
-- labelled "MÔ PHỎNG"; no rule reads this table, so a simulation can never raise a live alert.

CREATE TABLE IF NOT EXISTS flood_areas (
    area_id      uuid        PRIMARY KEY,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    depth_cm     real        CHECK (depth_cm >= 0 AND depth_cm <= 1000),
    observed_at  timestamptz NOT NULL,
    author       text        NOT NULL CHECK (length(author) BETWEEN 1 AND 128),
    origin       text        NOT NULL CHECK (origin IN ('drawn', 'imported')),
    prone        boolean     NOT NULL DEFAULT false,  -- a flood-prone area (vùng có nguy cơ), not an observed flood
    geometry     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS flood_areas_by_time ON flood_areas (observed_at DESC);

CREATE TABLE IF NOT EXISTS simulation_layers (
    layer_id       uuid        PRIMARY KEY,
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scenario_time  timestamptz NOT NULL,
    author         text        NOT NULL CHECK (length(author) BETWEEN 1 AND 128),
    features       jsonb       NOT NULL,
    feature_count  integer     NOT NULL CHECK (feature_count >= 1),
    source_file    text,
    imported_at    timestamptz NOT NULL DEFAULT now(),
    active         boolean     NOT NULL DEFAULT true
);

CREATE INDEX IF NOT EXISTS simulation_layers_active ON simulation_layers (imported_at DESC) WHERE active;
