-- The city's task tracker ("6 rõ": rõ người, rõ việc, rõ thời gian, rõ trách nhiệm, rõ kết quả,
-- rõ nguyên nhân): plan tasks imported from the plans' appendices or added by the standing office.

CREATE TABLE IF NOT EXISTS plan_tasks (
    task_code           text PRIMARY KEY,                  -- e.g. KH40-2023.III.17
    plan_code           text NOT NULL,                     -- e.g. KH40-2023
    group_code          text NOT NULL,                     -- e.g. III
    group_name          text NOT NULL,
    subgroup_name       text,
    seq                 integer NOT NULL,
    title               text NOT NULL,
    person_in_charge    text,                              -- rõ người
    start_text          text,                              -- as written in the plan
    end_text            text,
    start_quarter       text CHECK (start_quarter ~ '^[0-9]{4}-Q[1-4]$'),
    end_quarter         text CHECK (end_quarter ~ '^[0-9]{4}-Q[1-4]$'),
    due_date            date,                              -- last day of end_quarter
    lead_agencies       text[] NOT NULL DEFAULT '{}',      -- cơ quan chủ trì, as written
    lead_codes          text[] NOT NULL DEFAULT '{}',      -- their recipient codes where known
    coordinating        text,                              -- cơ quan phối hợp
    expected_result     text,
    funding_source      text,
    budget_million_vnd  numeric(14, 1) CHECK (budget_million_vnd >= 0),
    allocation_status   text NOT NULL DEFAULT 'unknown'
                        CHECK (allocation_status IN ('unknown', 'not_allocated', 'partly_allocated', 'allocated')),
    status              text NOT NULL DEFAULT 'not_started'
                        CHECK (status IN ('not_started', 'in_progress', 'done', 'stopped')),
    percent_done        smallint NOT NULL DEFAULT 0 CHECK (percent_done BETWEEN 0 AND 100),
    late_cause          text,
    done_at             date,
    source              text NOT NULL,                     -- document file and line, or an XLSX file
    updated_by          text NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS plan_tasks_plan ON plan_tasks (plan_code, group_code, seq);
CREATE INDEX IF NOT EXISTS plan_tasks_due ON plan_tasks (status, due_date);

-- Progress reports by the lead agency.
CREATE TABLE IF NOT EXISTS plan_task_reports (
    id            bigserial PRIMARY KEY,
    task_code     text NOT NULL REFERENCES plan_tasks (task_code),
    at            timestamptz NOT NULL,
    actor         text NOT NULL,
    agency_code   text,
    status        text NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done', 'stopped')),
    percent_done  smallint NOT NULL CHECK (percent_done BETWEEN 0 AND 100),
    note          text NOT NULL,
    late_cause    text
);
CREATE INDEX IF NOT EXISTS plan_task_reports_task ON plan_task_reports (task_code, at);
