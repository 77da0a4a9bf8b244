-- Dashboard users and the audit trail of what they did.
-- Passwords are stored only as werkzeug scrypt hashes; roles are checked by ioc/auth.py.
CREATE TABLE IF NOT EXISTS users (
    username       text PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9_.-]{1,63}$'),
    password_hash  text NOT NULL,
    role           text NOT NULL,
    display_name   text,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz
);

CREATE TABLE IF NOT EXISTS audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,
    target   text,
    details  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at DESC);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, at DESC);
