-- Named periodic jobs. A worker turns a due schedule into exactly one job per due time: it
-- locks the row (SKIP LOCKED), inserts the job with unique key 'schedule:<name>:<epoch>' and
-- moves next_run_at past now() in one transaction. After downtime the missed due times
-- collapse into one job for the latest of them (see ScheduleRule).

CREATE TABLE schedules (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    kind          text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9-]{0,62}$'),
    queue         text NOT NULL DEFAULT 'default' CHECK (queue ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    priority      smallint NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
    max_attempts  integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    spec          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(spec) = 'object'),
    -- Exactly one rule: every N seconds (due at multiples of N since the Unix epoch), or
    -- daily at a UTC time of day.
    every_seconds integer CHECK (every_seconds BETWEEN 1 AND 31622400),
    daily_at      time(0),
    next_run_at   timestamptz NOT NULL,
    last_run_at   timestamptz,
    last_job_id   bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schedules_one_rule CHECK ((every_seconds IS NULL) <> (daily_at IS NULL))
);
CREATE INDEX schedules_due ON schedules (next_run_at);
