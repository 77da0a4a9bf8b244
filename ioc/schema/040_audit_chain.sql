-- A tamper-evident audit trail (ioc/audit.py). Every row carries the hash of the row before it:
-- row_hash = SHA-256 of (chain_seq, id, at, actor, action, target, details, prev_hash), computed here,
-- in a trigger that serialises writers on the one-row audit_head, so a row cannot be inserted
-- outside the chain. UPDATE, DELETE and TRUNCATE are refused by triggers (and the services' database
-- roles hold no such privilege: ioc/db_roles.py); only ioc_audit_purge(), run by the migration role,
-- removes old rows, after recording the last purged hash in audit_anchor so the rest still verifies.
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS chain_seq bigint;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS prev_hash text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS row_hash text;

CREATE TABLE IF NOT EXISTS audit_head (
    id    smallint PRIMARY KEY CHECK (id = 1),
    seq   bigint NOT NULL,
    hash  text NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_anchor (
    id               smallint PRIMARY KEY CHECK (id = 1),
    last_purged_seq  bigint NOT NULL,
    last_purged_hash text NOT NULL,
    purged_at        timestamptz NOT NULL,
    rows_purged      bigint NOT NULL
);

-- The canonical text a row's hash covers (ioc.audit.canonical does the same in Python).
CREATE OR REPLACE FUNCTION audit_canonical(seq bigint, id bigint, at timestamptz, actor text, action text,
                                           target text, details jsonb, prev text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(E'\x1f', seq::text, id::text,
                     to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                     actor, action, coalesce(target, ''), details::text, prev)
$$;

CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
DECLARE
    h record;
BEGIN
    SELECT seq, hash INTO h FROM audit_head WHERE id = 1 FOR UPDATE;  -- one writer at a time
    NEW.chain_seq := h.seq + 1;
    NEW.prev_hash := h.hash;
    NEW.row_hash := encode(sha256(convert_to(audit_canonical(NEW.chain_seq, NEW.id, NEW.at, NEW.actor, NEW.action,
                                                             NEW.target, NEW.details, NEW.prev_hash), 'UTF8')), 'hex');
    UPDATE audit_head SET seq = NEW.chain_seq, hash = NEW.row_hash WHERE id = 1;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('ioc.audit_purge', true) = 'on' THEN
        RETURN OLD;  -- inside ioc_audit_purge() only
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- Chain the rows written before this migration, oldest first (a DO block: plain SQL, both flavours).
DO $$
DECLARE
    r record;
    prev text := repeat('0', 64);
    n bigint := 0;
BEGIN
    IF EXISTS (SELECT 1 FROM audit_head) THEN
        RETURN;
    END IF;
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        UPDATE audit_log SET chain_seq = n, prev_hash = prev,
            row_hash = encode(sha256(convert_to(audit_canonical(n, r.id, r.at, r.actor, r.action, r.target,
                                                                r.details, prev), 'UTF8')), 'hex')
        WHERE id = r.id RETURNING row_hash INTO prev;
    END LOOP;
    INSERT INTO audit_head (id, seq, hash) VALUES (1, n, prev);
END $$;

ALTER TABLE audit_log ALTER COLUMN chain_seq SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN row_hash SET NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS audit_log_chain_seq ON audit_log (chain_seq);

DROP TRIGGER IF EXISTS audit_log_chain ON audit_log;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Retention: delete rows older than `before`, keeping the chain verifiable from the anchor.
CREATE OR REPLACE FUNCTION ioc_audit_purge(before timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
DECLARE
    last record;
    n bigint;
BEGIN
    SELECT chain_seq, row_hash INTO last FROM audit_log
        WHERE chain_seq = (SELECT max(chain_seq) FROM audit_log WHERE at < before);
    IF last IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM set_config('ioc.audit_purge', 'on', true);
    DELETE FROM audit_log WHERE chain_seq <= last.chain_seq;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('ioc.audit_purge', 'off', true);
    INSERT INTO audit_anchor (id, last_purged_seq, last_purged_hash, purged_at, rows_purged)
        VALUES (1, last.chain_seq, last.row_hash, now(), n)
        ON CONFLICT (id) DO UPDATE SET last_purged_seq = EXCLUDED.last_purged_seq,
            last_purged_hash = EXCLUDED.last_purged_hash, purged_at = EXCLUDED.purged_at,
            rows_purged = audit_anchor.rows_purged + EXCLUDED.rows_purged;
    INSERT INTO audit_log (actor, action, target, details)
        VALUES (current_user, 'audit.purge', NULL,
                jsonb_build_object('before', before, 'rows', n, 'last_purged_seq', last.chain_seq));
    RETURN n;
END $$;
REVOKE ALL ON FUNCTION ioc_audit_purge(timestamptz) FROM PUBLIC;
