-- The artifact store: content-addressed blobs kept in 1 MiB chunks (so large files stream in
-- and out without a giant value in memory), and named artifacts pointing at them.

CREATE TABLE blobs (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint NOT NULL CHECK (size >= 0),
    chunk_size integer NOT NULL CHECK (chunk_size > 0),
    chunks     integer NOT NULL CHECK (chunks >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (chunks = (size + chunk_size - 1) / chunk_size)
);

CREATE TABLE blob_chunks (
    sha256 text NOT NULL REFERENCES blobs (sha256) ON DELETE CASCADE,
    seq    integer NOT NULL CHECK (seq >= 0),
    data   bytea NOT NULL,
    PRIMARY KEY (sha256, seq)
);
-- Weights and PNGs do not compress; skip pglz and store out of line.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE artifacts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    kind       text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9-]{0,62}$'),
    sha256     text NOT NULL REFERENCES blobs (sha256),
    size       bigint NOT NULL CHECK (size >= 0),
    -- The job that produced it (NULL for imports, or once the job is pruned).
    job_id     bigint REFERENCES jobs (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, sha256)
);
-- A name resolves to its newest artifact.
CREATE INDEX artifacts_name ON artifacts (name, id DESC);
CREATE INDEX artifacts_sha256 ON artifacts (sha256);
CREATE INDEX artifacts_job ON artifacts (job_id) WHERE job_id IS NOT NULL;

ALTER TABLE jobs ADD CONSTRAINT jobs_checkpoint_blob
    FOREIGN KEY (checkpoint_sha256) REFERENCES blobs (sha256);
