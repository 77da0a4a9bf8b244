-- Public warnings to the wards' loudspeakers (hệ thống thông tin nguồn), as CAP 1.2 messages.
-- Every message sent (alerts and their cancellations) is kept with its XML and the endpoint's answer.

CREATE TABLE IF NOT EXISTS public_warnings (
    warning_id      uuid PRIMARY KEY,
    identifier      text NOT NULL UNIQUE,
    msg_type        text NOT NULL CHECK (msg_type IN ('Alert', 'Cancel')),
    references_id   uuid REFERENCES public_warnings (warning_id),
    alert_id        uuid,
    units           text[] NOT NULL,
    headline_vi     text NOT NULL,
    description_vi  text NOT NULL,
    instruction_vi  text,
    severity        text NOT NULL CHECK (severity IN ('Extreme', 'Severe', 'Moderate', 'Minor')),
    urgency         text NOT NULL CHECK (urgency IN ('Immediate', 'Expected', 'Future')),
    certainty       text NOT NULL CHECK (certainty IN ('Observed', 'Likely', 'Possible')),
    expires_at      timestamptz NOT NULL,
    status          text NOT NULL CHECK (status IN ('awaiting_approval', 'ready', 'sent', 'failed', 'cancelled')),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL,
    approved_by     text,
    approved_at     timestamptz,
    sent_at         timestamptz,
    cap_xml         text,
    http_status     integer,
    last_error      text,
    CHECK (approved_by IS NULL OR approved_by <> created_by)
);
CREATE INDEX IF NOT EXISTS public_warnings_created ON public_warnings (created_at DESC);
CREATE INDEX IF NOT EXISTS public_warnings_alert ON public_warnings (alert_id);

CREATE TABLE IF NOT EXISTS public_warning_log (
    id          bigserial PRIMARY KEY,
    warning_id  uuid NOT NULL REFERENCES public_warnings (warning_id),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS public_warning_log_warning ON public_warning_log (warning_id, at);
