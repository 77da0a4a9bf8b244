-- TimescaleDB: hypertables, 1-minute continuous aggregates, compression and retention policies.
SELECT create_hypertable('camera_events', 'event_time', chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('traffic_events', 'event_time', chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('air_events', 'event_time', chunk_time_interval => INTERVAL '7 days', if_not_exists => TRUE, migrate_data => TRUE);
SELECT create_hypertable('feedback_events', 'event_time', chunk_time_interval => INTERVAL '7 days', if_not_exists => TRUE, migrate_data => TRUE);

CREATE MATERIALIZED VIEW IF NOT EXISTS camera_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', event_time) AS bucket, source_id, count(*) AS n,
       bool_and(online) AS all_online, sum(vehicles) AS vehicles, max(top_confidence) AS max_confidence
FROM camera_events GROUP BY 1, 2 WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', event_time) AS bucket, source_id, count(*) AS n,
       avg(speed_kmh) AS speed_kmh, avg(volume_vph) AS volume_vph, avg(occupancy_pct) AS occupancy_pct,
       avg(free_flow_kmh) AS free_flow_kmh
FROM traffic_events GROUP BY 1, 2 WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS air_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', event_time) AS bucket, source_id, count(*) AS n,
       avg(pm25) AS pm25, avg(pm10) AS pm10, avg(no2) AS no2, avg(so2) AS so2, avg(o3) AS o3, avg(co) AS co
FROM air_events GROUP BY 1, 2 WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS feedback_1m WITH (timescaledb.continuous) AS
SELECT time_bucket(INTERVAL '1 minute', event_time) AS bucket, source_id, count(*) AS n,
       count(*) FILTER (WHERE action = 'created') AS created
FROM feedback_events GROUP BY 1, 2 WITH NO DATA;

-- Real-time aggregation: recent, not yet materialised minutes are read from the raw tables.
ALTER MATERIALIZED VIEW camera_1m SET (timescaledb.materialized_only = false);
ALTER MATERIALIZED VIEW traffic_1m SET (timescaledb.materialized_only = false);
ALTER MATERIALIZED VIEW air_1m SET (timescaledb.materialized_only = false);
ALTER MATERIALIZED VIEW feedback_1m SET (timescaledb.materialized_only = false);

SELECT add_continuous_aggregate_policy('camera_1m', start_offset => INTERVAL '1 day', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute', if_not_exists => TRUE);
SELECT add_continuous_aggregate_policy('traffic_1m', start_offset => INTERVAL '1 day', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute', if_not_exists => TRUE);
SELECT add_continuous_aggregate_policy('air_1m', start_offset => INTERVAL '1 day', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute', if_not_exists => TRUE);
SELECT add_continuous_aggregate_policy('feedback_1m', start_offset => INTERVAL '1 day', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute', if_not_exists => TRUE);

ALTER TABLE camera_events SET (timescaledb.compress, timescaledb.compress_segmentby = 'source_id', timescaledb.compress_orderby = 'event_time DESC');
ALTER TABLE traffic_events SET (timescaledb.compress, timescaledb.compress_segmentby = 'source_id', timescaledb.compress_orderby = 'event_time DESC');
ALTER TABLE air_events SET (timescaledb.compress, timescaledb.compress_segmentby = 'source_id', timescaledb.compress_orderby = 'event_time DESC');
SELECT add_compression_policy('camera_events', INTERVAL '7 days', if_not_exists => TRUE);
SELECT add_compression_policy('traffic_events', INTERVAL '7 days', if_not_exists => TRUE);
SELECT add_compression_policy('air_events', INTERVAL '30 days', if_not_exists => TRUE);

-- Raw sensor readings are kept 90 days; citizen reports are records and are kept.
SELECT add_retention_policy('camera_events', INTERVAL '90 days', if_not_exists => TRUE);
SELECT add_retention_policy('traffic_events', INTERVAL '90 days', if_not_exists => TRUE);
SELECT add_retention_policy('air_events', INTERVAL '365 days', if_not_exists => TRUE);
