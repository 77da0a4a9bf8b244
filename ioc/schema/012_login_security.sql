-- Login throttling, forced password change and the optional TOTP second factor.
ALTER TABLE users ADD COLUMN IF NOT EXISTS must_change_password boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN IF NOT EXISTS password_changed_at timestamptz;
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_secret text;  -- encrypted by ioc.crypto; NULL: none

-- Every login attempt, for the per-account and per-address delays and locks (also audited).
CREATE TABLE IF NOT EXISTS login_attempts (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    username  text NOT NULL,   -- as typed, made printable and cut to 64 characters
    ip        text NOT NULL,
    ok        boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_user ON login_attempts (username, at DESC);
CREATE INDEX IF NOT EXISTS login_attempts_ip ON login_attempts (ip, at DESC);
