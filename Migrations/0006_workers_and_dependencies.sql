-- Who is working, and jobs that wait for other jobs (issue 19).

-- Every worker process upserts its row with each heartbeat (LeaseKeeper) and marks it stopped
-- on a graceful exit. A worker is live while heartbeat_at + lease_seconds is in the future;
-- rows of workers gone for a day are deleted by maintenance.
CREATE TABLE workers (
    id            text PRIMARY KEY CHECK (id <> '' AND length(id) <= 200),
    host          text NOT NULL,
    pid           integer NOT NULL,
    queues        text[] NOT NULL,
    kinds         text[] NOT NULL,
    concurrency   integer NOT NULL CHECK (concurrency >= 1),
    lease_seconds float8 NOT NULL CHECK (lease_seconds > 0),
    version       text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz
);

-- `submit --after 12,13` and inputs naming a job's output (`--teacher job:12`): the job is
-- claimed only once every job it depends on has succeeded, and is cancelled (by maintenance,
-- naming the dependency) if one of them fails or is cancelled.
ALTER TABLE jobs ADD COLUMN depends_on bigint[] NOT NULL DEFAULT '{}';
CREATE INDEX jobs_waiting ON jobs USING gin (depends_on) WHERE state = 'queued' AND depends_on <> '{}';
