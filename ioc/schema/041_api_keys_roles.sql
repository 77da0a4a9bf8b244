-- Open311 API keys are bound to a role and a scope (ioc.access): a staff system sees its own
-- scope, a public client needs no key at all. Keys made before this were ticket-intake clients.
ALTER TABLE open311_api_keys ADD COLUMN IF NOT EXISTS role text NOT NULL DEFAULT 'triage';
ALTER TABLE open311_api_keys ADD COLUMN IF NOT EXISTS scopes text[] NOT NULL DEFAULT '{}';
