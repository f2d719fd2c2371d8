-- A training run records dozens of checkpoints, each as large as its weights and optimiser
-- state, and a resume needs only the newest. When a job records a new checkpoint, the one it
-- supersedes is dropped: that job's checkpoint artifacts with those bytes, and the bytes unless
-- another artifact or job still names them.
--
-- SECURITY DEFINER so that the worker role, which may not delete artifacts or blobs, can drop
-- exactly this and nothing else: the function refuses bytes that are still the job's current
-- checkpoint.
CREATE FUNCTION mscm_drop_superseded_checkpoint(p_job bigint, p_sha256 text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM jobs WHERE checkpoint_sha256 = p_sha256) THEN
        RETURN;
    END IF;
    DELETE FROM artifacts WHERE sha256 = p_sha256 AND job_id = p_job AND kind LIKE '%checkpoint';
    DELETE FROM blobs b WHERE b.sha256 = p_sha256
        AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = b.sha256);
END
$$;
