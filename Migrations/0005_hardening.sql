-- Hardening (issue 15): pinned inputs, names that cannot be taken over silently, storage that
-- is collected, and functions through which the worker role does what it may not do directly.

-- What a job read: [{key, name, sha256}] for every artifact its spec named, resolved when it
-- was submitted. The spec itself then names the sha256, so no later artifact can shadow it.
ALTER TABLE jobs ADD COLUMN inputs jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(inputs) = 'array');
-- A schedule pins when it is added; the jobs it fires carry its pins.
ALTER TABLE schedules ADD COLUMN inputs jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(inputs) = 'array');

-- A name points at one content. Pointing it at other bytes is an explicit act: the new row
-- names the row it replaces (`mscm-ctl artifacts import --replace`), or it comes from the same
-- job as the current one (a retried job re-storing its own output). Enforced here, so raw SQL
-- by a worker role cannot shadow a name either.
ALTER TABLE artifacts ADD COLUMN replaces bigint REFERENCES artifacts (id) ON DELETE SET NULL;

CREATE FUNCTION artifacts_guard_name() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cur record;
BEGIN
    -- Serialise puts of one name, so two racing puts cannot both pass the check.
    PERFORM pg_advisory_xact_lock(hashtextextended('mscm-artifact:' || NEW.name, 0));
    IF EXISTS (SELECT 1 FROM artifacts WHERE name = NEW.name AND sha256 = NEW.sha256) THEN
        RETURN NEW;  -- the same bytes again: ON CONFLICT makes it a no-op
    END IF;
    SELECT id, kind, sha256, job_id INTO cur FROM artifacts WHERE name = NEW.name ORDER BY id DESC LIMIT 1;
    IF FOUND AND NEW.replaces IS DISTINCT FROM cur.id
       AND NOT (NEW.job_id IS NOT NULL AND NEW.job_id IS NOT DISTINCT FROM cur.job_id) THEN
        RAISE EXCEPTION 'artifact name ''%'' is taken (kind %, sha256 %); replace it explicitly or choose another name',
            NEW.name, cur.kind, left(cur.sha256, 12) USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER artifacts_name_guard BEFORE INSERT ON artifacts
    FOR EACH ROW EXECUTE FUNCTION artifacts_guard_name();

-- Checkpoints and blobs nothing names any more. A checkpoint artifact is live while its job
-- exists and has not succeeded (a failed or cancelled job can be retried from it).
CREATE FUNCTION mscm_collect_garbage() RETURNS TABLE (artifacts bigint, blobs bigint, bytes bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n_art bigint; n_blob bigint; n_bytes bigint;
BEGIN
    WITH dead AS (
        DELETE FROM artifacts a WHERE a.kind LIKE '%checkpoint'
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = a.job_id AND j.state <> 'succeeded')
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.checkpoint_sha256 = a.sha256)
        RETURNING 1)
    SELECT count(*) INTO n_art FROM dead;
    WITH gone AS (
        DELETE FROM blobs b
        WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = b.sha256)
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.checkpoint_sha256 = b.sha256)
        RETURNING b.size)
    SELECT count(*), coalesce(sum(size), 0) INTO n_blob, n_bytes FROM gone;
    RETURN QUERY SELECT n_art, n_blob, n_bytes;
END
$$;

-- A job that succeeded needs no checkpoint: forget it and drop its bytes (fenced like every
-- worker write, so only the attempt that succeeded can do it).
CREATE FUNCTION mscm_drop_finished_checkpoint(p_job bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    old text;
BEGIN
    SELECT checkpoint_sha256 INTO old FROM jobs WHERE id = p_job AND state = 'succeeded' FOR UPDATE;
    IF NOT FOUND THEN RETURN; END IF;
    UPDATE jobs SET checkpoint_step = NULL, checkpoint_sha256 = NULL WHERE id = p_job;
    DELETE FROM artifacts WHERE job_id = p_job AND kind LIKE '%checkpoint';
    IF old IS NOT NULL THEN
        DELETE FROM blobs b WHERE b.sha256 = old
            AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = b.sha256)
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.checkpoint_sha256 = b.sha256);
    END IF;
END
$$;

-- Pruning: jobs finished before the cut-off go, with their events and their checkpoints (the
-- bytes too, unless something else names them). The worker role may delete jobs only this way.
CREATE FUNCTION mscm_prune_jobs(p_older_than float8, p_batch integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ids bigint[];
    shas text[];
BEGIN
    SELECT array_agg(id) INTO ids FROM (
        SELECT id FROM jobs WHERE finished_at < now() - make_interval(secs => p_older_than)
        ORDER BY finished_at LIMIT p_batch FOR UPDATE SKIP LOCKED) old;
    IF ids IS NULL THEN RETURN 0; END IF;
    SELECT array_agg(DISTINCT s) INTO shas FROM (
        SELECT checkpoint_sha256 AS s FROM jobs WHERE id = ANY (ids) AND checkpoint_sha256 IS NOT NULL
        UNION SELECT sha256 FROM artifacts WHERE job_id = ANY (ids) AND kind LIKE '%checkpoint') c;
    DELETE FROM artifacts WHERE job_id = ANY (ids) AND kind LIKE '%checkpoint';
    DELETE FROM jobs WHERE id = ANY (ids);
    IF shas IS NOT NULL THEN
        DELETE FROM blobs b WHERE b.sha256 = ANY (shas)
            AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = b.sha256)
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.checkpoint_sha256 = b.sha256);
    END IF;
    RETURN cardinality(ids);
END
$$;

-- Superseded checkpoints leave dead chunk rows behind; vacuum them early.
ALTER TABLE blob_chunks SET (autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_vacuum_scale_factor = 0.01);
