-- Open311 POSTs per API key and per client address, for the rate limit (shared by every worker).
CREATE TABLE IF NOT EXISTS open311_requests (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    client  text NOT NULL,
    ip      text NOT NULL
);
CREATE INDEX IF NOT EXISTS open311_requests_client ON open311_requests (client, at DESC);
CREATE INDEX IF NOT EXISTS open311_requests_ip ON open311_requests (ip, at DESC);
