-- The job queue: jobs and their event log. The lifecycle (JobLifecycle.swift) lives here too:
-- an enum of states, CHECK constraints for the invariants, a trigger for the transitions.

CREATE TYPE job_state AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

CREATE TABLE jobs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9-]{0,62}$'),
    queue             text NOT NULL DEFAULT 'default' CHECK (queue ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    -- 0 runs first, 9 last.
    priority          smallint NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
    state             job_state NOT NULL DEFAULT 'queued',
    spec              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(spec) = 'object'),
    -- Bumped by every claim: (id, attempt) fences every write a worker makes.
    attempt           integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts      integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    run_at            timestamptz NOT NULL DEFAULT now(),
    lease_owner       text,
    lease_expires_at  timestamptz,
    heartbeat_at      timestamptz,
    progress          jsonb,
    result            jsonb,
    -- The latest error; `errors` keeps every attempt's [{attempt, worker, at, error}].
    error             text,
    errors            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'),
    -- Who claimed each attempt, in order.
    attempted_by      text[] NOT NULL DEFAULT '{}',
    rescues           integer NOT NULL DEFAULT 0 CHECK (rescues >= 0),
    cancel_requested  boolean NOT NULL DEFAULT false,
    -- The last checkpoint a handler recorded: resume from here after a rescue or retry.
    checkpoint_step   bigint CHECK (checkpoint_step >= 0),
    checkpoint_sha256 text,
    unique_key        text CHECK (unique_key <> ''),
    schedule_name     text,
    scheduled_for     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    attempted_at      timestamptz,
    finished_at       timestamptz,
    CONSTRAINT jobs_finished_exactly_when_final
        CHECK ((finished_at IS NOT NULL) = (state IN ('succeeded', 'failed', 'cancelled'))),
    CONSTRAINT jobs_lease_exactly_when_running
        CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT jobs_attempt_within_max CHECK (attempt <= max_attempts),
    CONSTRAINT jobs_queued_has_attempts_left CHECK (state <> 'queued' OR attempt < max_attempts),
    CONSTRAINT jobs_running_was_claimed CHECK (state <> 'running' OR attempt >= 1),
    CONSTRAINT jobs_checkpoint_whole CHECK ((checkpoint_step IS NULL) = (checkpoint_sha256 IS NULL))
);

-- The claim: an index scan over queued jobs only, in claim order, however many finished
-- jobs the table holds.
CREATE INDEX jobs_claim ON jobs (priority, run_at, id) WHERE state = 'queued';
-- The rescuer scans running jobs only. Indexing id (not lease_expires_at) keeps heartbeats
-- HOT updates: they change no indexed column.
CREATE INDEX jobs_running ON jobs (id) WHERE state = 'running';
-- Idempotent submission: one job per unique key (until the job is pruned).
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL;
-- Pruning old finished jobs.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
-- `mscm-ctl list --state …`.
CREATE INDEX jobs_state ON jobs (state, id);

-- A hot, update-heavy table: leave room on each page for HOT updates (heartbeats, progress)
-- and vacuum early instead of at 20 % dead rows.
ALTER TABLE jobs SET (fillfactor = 70,
                      autovacuum_vacuum_scale_factor = 0.02,
                      autovacuum_analyze_scale_factor = 0.02,
                      autovacuum_vacuum_cost_delay = 0);

-- The transitions JobLifecycle.allowed lists; anything else is a bug and is refused.
CREATE FUNCTION jobs_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ((OLD.state = 'queued'    AND NEW.state IN ('running', 'cancelled'))
         OR (OLD.state = 'running'   AND NEW.state IN ('succeeded', 'failed', 'cancelled', 'queued'))
         OR (OLD.state = 'failed'    AND NEW.state = 'queued')
         OR (OLD.state = 'cancelled' AND NEW.state = 'queued')) THEN
        RAISE EXCEPTION 'job %: no transition from % to %', OLD.id, OLD.state, NEW.state
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER jobs_state_transition BEFORE UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION jobs_check_transition();

-- Log lines per job: the handler's `ctx.log` and the queue's own state changes.
CREATE TABLE job_events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id  bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt integer NOT NULL CHECK (attempt >= 0),
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- 'log': the handler's lines; 'state': transitions written by the queue.
    source  text NOT NULL CHECK (source IN ('log', 'state')),
    message text NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);
