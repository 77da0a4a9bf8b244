-- Plain PostgreSQL: BRIN on time and the 1-minute rollups as views with the same names and
-- columns as the TimescaleDB continuous aggregates, so one set of queries serves both.
CREATE INDEX IF NOT EXISTS camera_events_time_brin ON camera_events USING brin (event_time);
CREATE INDEX IF NOT EXISTS traffic_events_time_brin ON traffic_events USING brin (event_time);
CREATE INDEX IF NOT EXISTS air_events_time_brin ON air_events USING brin (event_time);
CREATE INDEX IF NOT EXISTS feedback_events_time_brin ON feedback_events USING brin (event_time);

CREATE OR REPLACE VIEW camera_1m AS
SELECT date_trunc('minute', event_time) AS bucket, source_id, count(*) AS n,
       bool_and(online) AS all_online, sum(vehicles) AS vehicles, max(top_confidence) AS max_confidence
FROM camera_events GROUP BY 1, 2;

CREATE OR REPLACE VIEW traffic_1m AS
SELECT date_trunc('minute', event_time) AS bucket, source_id, count(*) AS n,
       avg(speed_kmh) AS speed_kmh, avg(volume_vph) AS volume_vph, avg(occupancy_pct) AS occupancy_pct,
       avg(free_flow_kmh) AS free_flow_kmh
FROM traffic_events GROUP BY 1, 2;

CREATE OR REPLACE VIEW air_1m AS
SELECT date_trunc('minute', event_time) AS bucket, source_id, count(*) AS n,
       avg(pm25) AS pm25, avg(pm10) AS pm10, avg(no2) AS no2, avg(so2) AS so2, avg(o3) AS o3, avg(co) AS co
FROM air_events GROUP BY 1, 2;

CREATE OR REPLACE VIEW feedback_1m AS
SELECT date_trunc('minute', event_time) AS bucket, source_id, count(*) AS n,
       count(*) FILTER (WHERE action = 'created') AS created
FROM feedback_events GROUP BY 1, 2;
