-- Plain PostgreSQL: the rollup views bucket with date_bin (immutable, unlike date_trunc on timestamptz),
-- so an expression index serves "WHERE bucket > …" and the dashboard's live queries stop scanning
-- the raw tables as they grow. Same names, columns and types as before.
CREATE INDEX IF NOT EXISTS camera_events_minute ON camera_events (date_bin('1 minute', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'));
CREATE INDEX IF NOT EXISTS traffic_events_minute ON traffic_events (date_bin('1 minute', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'));
CREATE INDEX IF NOT EXISTS air_events_minute ON air_events (date_bin('1 minute', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'));
CREATE INDEX IF NOT EXISTS feedback_events_minute ON feedback_events (date_bin('1 minute', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00'));

CREATE OR REPLACE VIEW camera_1m AS
SELECT date_bin('1 minute', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, source_id, count(*) AS n,
       bool_and(online) AS all_online, sum(vehicles) AS vehicles, max(top_confidence) AS max_confidence
FROM camera_events GROUP BY 1, 2;

CREATE OR REPLACE VIEW traffic_1m AS
SELECT date_bin('1 minute', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, source_id, count(*) AS n,
       avg(speed_kmh) AS speed_kmh, avg(volume_vph) AS volume_vph, avg(occupancy_pct) AS occupancy_pct,
       avg(free_flow_kmh) AS free_flow_kmh
FROM traffic_events GROUP BY 1, 2;

CREATE OR REPLACE VIEW air_1m AS
SELECT date_bin('1 minute', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, source_id, count(*) AS n,
       avg(pm25) AS pm25, avg(pm10) AS pm10, avg(no2) AS no2, avg(so2) AS so2, avg(o3) AS o3, avg(co) AS co
FROM air_events GROUP BY 1, 2;

CREATE OR REPLACE VIEW feedback_1m AS
SELECT date_bin('1 minute', event_time, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, source_id, count(*) AS n,
       count(*) FILTER (WHERE action = 'created') AS created
FROM feedback_events GROUP BY 1, 2;
