-- Least-privilege roles for mscm. Run as the owner of the mscm tables (the role that ran
-- `mscm-ctl migrate`), in the mscm database, after migrating; re-running is harmless:
--
--     psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f ops/roles.sql
--
-- Then set passwords interactively, so they never reach shell history, logs or process lists:
--
--     psql "$DATABASE_URL" -c '\password mscm_worker'
--     psql "$DATABASE_URL" -c '\password mscm_readonly'
--
-- mscm_worker   workers and mscm-ctl: submit jobs and move them through their lifecycle; no DDL,
--               no TRUNCATE, no change to a submitted job's spec, no deleting events; artifacts
--               are append-only (content-addressed blobs are never rewritten).
-- mscm_readonly dashboards: read everything, change nothing (read-only transactions too).
--
-- Roles are cluster-wide; the grants below are for the current database only. Migrations
-- keep running as the owner: after a migration adds a table, run this file again.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mscm_worker') THEN
        CREATE ROLE mscm_worker LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mscm_readonly') THEN
        CREATE ROLE mscm_readonly LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO mscm_worker', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO mscm_readonly', current_database());
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM mscm_readonly', current_database());
END $$;

-- Nobody but the owner creates objects in the schema (PostgreSQL < 15 let PUBLIC do so).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO mscm_worker, mscm_readonly;

-- Start from nothing, then grant exactly what each role needs.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM mscm_worker, mscm_readonly;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM mscm_worker, mscm_readonly;

-- Jobs: submit, read, and change only the columns the queue's lifecycle changes — never a
-- job's kind, spec, inputs, queue or priority once submitted. Deleting goes through
-- mscm_prune_jobs. The event log is append-only.
GRANT SELECT, INSERT ON jobs, job_events TO mscm_worker;
GRANT UPDATE (state, attempt, max_attempts, run_at, lease_owner, lease_expires_at, heartbeat_at, progress,
              result, error, errors, attempted_by, rescues, cancel_requested, checkpoint_step,
              checkpoint_sha256, started_at, attempted_at, finished_at) ON jobs TO mscm_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON schedules TO mscm_worker;
-- Workers register themselves and heartbeat (`mscm-ctl workers`); maintenance forgets the long gone.
GRANT SELECT, INSERT, UPDATE, DELETE ON workers TO mscm_worker;
-- Training curves: written fenced by the attempt that holds the job (a resumed attempt
-- overwrites the iterations it runs again).
GRANT SELECT, INSERT, UPDATE ON job_history TO mscm_worker;
GRANT SELECT, INSERT ON blobs, blob_chunks, artifacts TO mscm_worker;
GRANT SELECT ON schema_migrations TO mscm_worker;
-- Workers may not delete artifacts, blobs or jobs, except through these functions, each of
-- which deletes exactly what it names: a job's superseded checkpoint, a succeeded job's
-- checkpoint, finished jobs past the retention. Collecting garbage (`mscm-ctl artifacts gc`)
-- and deleting artifacts are the owner's.
REVOKE ALL ON FUNCTION mscm_drop_superseded_checkpoint(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mscm_drop_superseded_checkpoint(bigint, text) TO mscm_worker;
REVOKE ALL ON FUNCTION mscm_drop_finished_checkpoint(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mscm_drop_finished_checkpoint(bigint) TO mscm_worker;
REVOKE ALL ON FUNCTION mscm_prune_jobs(float8, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mscm_prune_jobs(float8, integer) TO mscm_worker;
REVOKE ALL ON FUNCTION mscm_collect_garbage() FROM PUBLIC;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO mscm_worker;

GRANT SELECT ON jobs, job_events, schedules, blobs, blob_chunks, artifacts, schema_migrations, workers, job_history TO mscm_readonly;
ALTER ROLE mscm_readonly SET default_transaction_read_only = on;
