-- Server-side web sessions (ioc/accounts.py): the cookie holds only a random id, this table its
-- SHA-256. Every request reads the session and the CURRENT user row, so a logout, a role change, a
-- disabled or deleted account ends its sessions at once; idle and absolute timeouts are enforced
-- here, not by the cookie.
CREATE TABLE IF NOT EXISTS web_sessions (
    id_hash        text PRIMARY KEY,
    username       text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_why    text,
    ip             text,
    user_agent     text,
    role_at_login  text NOT NULL,
    -- 'full', or a login that still owes a new password or its second factor (no access until done)
    stage          text NOT NULL DEFAULT 'full' CHECK (stage IN ('full', 'password_change', 'second_factor')),
    data           jsonb NOT NULL DEFAULT '{}'::jsonb  -- language and CSRF token
);
CREATE INDEX IF NOT EXISTS web_sessions_user_live ON web_sessions (username) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS web_sessions_expires ON web_sessions (expires_at);
