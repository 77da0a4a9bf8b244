-- The declared source kinds (ioc/sources/*.py), written by ioc.sources.ddl after the numbered
-- migrations, with a fingerprint of each part of their generated schema so a changed declaration
-- is applied again. The registry's kinds are no longer a CHECK list: a new source is one declaration.
CREATE TABLE IF NOT EXISTS source_kinds (
    kind        text PRIMARY KEY,
    name_vi     text NOT NULL,
    name_en     text NOT NULL,
    table_name  text NOT NULL,
    topic       text NOT NULL,
    owner       text NOT NULL,
    data_class  text NOT NULL,
    table_fp    text NOT NULL,
    rollup_fp   text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE sources DROP CONSTRAINT IF EXISTS sources_kind_check;
