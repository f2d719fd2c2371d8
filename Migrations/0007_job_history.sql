-- Training curves (issue 17): a job's figures by iteration — the loss it reported, and the
-- validation figures it measured along the way. One row per iteration; a resumed attempt that
-- runs an iteration again overwrites it (the row keeps the attempt that wrote it).
CREATE TABLE job_history (
    job_id    bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    iteration bigint NOT NULL CHECK (iteration >= 0),
    attempt   integer NOT NULL CHECK (attempt >= 1),
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    figures   jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
    PRIMARY KEY (job_id, iteration)
);
