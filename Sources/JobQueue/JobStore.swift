import Formats
import Foundation

/// The queue's SQL for clients (`mscm-ctl`, tests): submit, read, cancel, retry, prune.
/// The worker's side — claim, heartbeat, fenced writes, rescue — is in JobStore+Lease.swift.
/// All statements are parameterised; state changes also append a 'state' job event.
public struct JobStore {
    public let db: PGConnection

    public init(_ db: PGConnection) { self.db = db }

    /// NOTIFY channel on which submissions (payload: the queue) wake idle workers.
    public static let jobsChannel = "mscm_jobs"
    /// NOTIFY channel on which cancel requests (payload: the job id) reach running handlers.
    public static let cancelChannel = "mscm_cancel"

    public struct Submitted: Equatable {
        public let id: Int64
        /// false when a job with the same unique key already existed (its id is returned).
        public let created: Bool
    }

    /// Inserts a job and NOTIFYs idle workers, in one statement. With a unique key already
    /// taken, inserts nothing and returns the existing job (the partial unique index decides,
    /// so two racing submissions cannot both insert).
    @discardableResult
    public func submit(_ job: NewJob) throws -> Submitted {
        try job.check()
        let sql = """
            WITH ins AS (
                INSERT INTO jobs (kind, queue, priority, spec, max_attempts, run_at, unique_key, inputs, depends_on)
                VALUES ($1, $2, $3, $4::jsonb, $5, now() + make_interval(secs => $6::float8), $7, $8::jsonb, $9::bigint[])
                ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
                RETURNING id, queue),
            ev AS (INSERT INTO job_events (job_id, attempt, source, message)
                   SELECT id, 0, 'state', 'queued' FROM ins)
            SELECT id, pg_notify('\(JobStore.jobsChannel)', queue)::text AS n FROM ins
            """
        for _ in 0..<3 {
            let rows = try db.query(sql, [job.kind, job.queue, String(job.priority), job.spec.serialized,
                                          String(job.maxAttempts), String(max(0, job.delay)), job.uniqueKey,
                                          JSON.array(job.inputs.map(\.json)).serialized, PGArray.ints(job.dependsOn.map { Int($0) })])
            if let id = rows.first?["id"].flatMap({ Int64($0) }) { return Submitted(id: id, created: true) }
            if let key = job.uniqueKey,
               let id = try db.query("SELECT id FROM jobs WHERE unique_key = $1", [key]).first?["id"].flatMap({ Int64($0) }) {
                return Submitted(id: id, created: false)
            }
            // The holder of the key was pruned between the two statements: insert again.
        }
        throw PGError("could not submit the job: unique key \(job.uniqueKey ?? "") keeps changing hands")
    }

    public func get(_ id: Int64) throws -> Job? {
        try db.query("SELECT \(Job.columns) FROM jobs WHERE id = $1", [String(id)]).first.map { try Job(row: $0) }
    }

    /// The job holding a unique key, if any.
    public func job(uniqueKey: String) throws -> Job? {
        try db.query("SELECT \(Job.columns) FROM jobs WHERE unique_key = $1", [uniqueKey]).first.map { try Job(row: $0) }
    }

    /// Newest first, optionally filtered by state, kind and queue.
    public func list(state: JobState? = nil, kind: String? = nil, queue: String? = nil, limit: Int = 50) throws -> [Job] {
        try db.query("""
            SELECT \(Job.columns) FROM jobs
            WHERE ($1::job_state IS NULL OR state = $1::job_state) AND ($2::text IS NULL OR kind = $2)
              AND ($4::text IS NULL OR queue = $4)
            ORDER BY id DESC LIMIT $3
            """, [state?.rawValue, kind, String(limit), queue]).map { try Job(row: $0) }
    }

    /// One point of a job's training curve.
    public struct HistoryPoint: Equatable {
        public let iteration: Int
        public let attempt: Int
        public let at: Double
        public let figures: [String: JSON]
    }

    /// A job's curve, by iteration.
    public func history(_ id: Int64) throws -> [HistoryPoint] {
        try db.query("""
            SELECT iteration, attempt, extract(epoch FROM at)::float8 AS at, figures::text AS figures
            FROM job_history WHERE job_id = $1 ORDER BY iteration
            """, [String(id)]).map {
            HistoryPoint(iteration: $0.int("iteration") ?? 0, attempt: $0.int("attempt") ?? 0, at: $0.double("at") ?? 0,
                         figures: try JSON.parse($0["figures"] ?? "{}").object ?? [:])
        }
    }

    /// Events after event id `after`, oldest first.
    public func events(_ id: Int64, after: Int64 = 0, limit: Int = 1000) throws -> [JobEvent] {
        try db.query("""
            SELECT id, attempt, extract(epoch FROM at)::float8 AS at, source, message FROM job_events
            WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3
            """, [String(id), String(after), String(limit)]).map {
            JobEvent(id: Int64($0["id"]!)!, attempt: $0.int("attempt")!, at: $0.double("at")!,
                     source: $0["source"]!, message: $0["message"]!)
        }
    }

    public enum CancelResult: Equatable {
        /// It was queued: it is cancelled now and will never run.
        case cancelled
        /// It is running: its handler stops at its next cancellation check.
        case requested
        /// It had already finished in this state; nothing changed.
        case alreadyFinished(JobState)
        case notFound
    }

    /// Cancels a queued job at once; asks a running one to stop (NOTIFY reaches its worker's
    /// heartbeat connection; the heartbeat's own reply is the fallback).
    public func cancel(_ id: Int64) throws -> CancelResult {
        let rows = try db.query("""
            WITH c AS (
                UPDATE jobs SET cancel_requested = true,
                    state = CASE WHEN state = 'queued' THEN 'cancelled'::job_state ELSE state END,
                    finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END
                WHERE id = $1 AND state IN ('queued', 'running')
                RETURNING id, attempt, state),
            ev AS (INSERT INTO job_events (job_id, attempt, source, message)
                   SELECT id, attempt, 'state', CASE WHEN state = 'cancelled' THEN 'cancelled' ELSE 'cancel requested' END FROM c)
            SELECT state::text AS state, pg_notify('\(JobStore.cancelChannel)', id::text)::text AS n FROM c
            """, [String(id)])
        if let s = rows.first?["state"] { return s == "cancelled" ? .cancelled : .requested }
        guard let job = try get(id) else { return .notFound }
        return .alreadyFinished(job.state)
    }

    public enum RetryResult: Equatable {
        case queued
        case notFound
        /// Running or succeeded jobs are not retried.
        case refused(JobState)
    }

    /// Puts a failed or cancelled job back in the queue to run now (with at least one more
    /// attempt), or makes a queued job that waits for its backoff runnable now.
    public func retry(_ id: Int64) throws -> RetryResult {
        let rows = try db.query("""
            WITH r AS (
                UPDATE jobs SET state = 'queued', run_at = now(), finished_at = NULL, cancel_requested = false,
                    max_attempts = GREATEST(max_attempts, attempt + 1)
                WHERE id = $1 AND state IN ('failed', 'cancelled', 'queued')
                RETURNING id, attempt, queue),
            ev AS (INSERT INTO job_events (job_id, attempt, source, message)
                   SELECT id, attempt, 'state', 'queued again by retry' FROM r)
            SELECT id, pg_notify('\(JobStore.jobsChannel)', queue)::text AS n FROM r
            """, [String(id)])
        if !rows.rows.isEmpty { return .queued }
        guard let job = try get(id) else { return .notFound }
        return .refused(job.state)
    }

    /// Deletes jobs that finished more than `olderThan` seconds ago, with their events and
    /// their checkpoints (the bytes too, unless something else names them); their other
    /// artifacts stay, with the producing job cleared. In batches, so no statement holds many
    /// locks; through `mscm_prune_jobs` (migration 0005), the only way the worker role may
    /// delete jobs. Returns how many were deleted.
    @discardableResult
    public func prune(olderThan: Double, batch: Int = 1000) throws -> Int {
        var total = 0
        while true {
            let n = try db.query("SELECT mscm_prune_jobs($1::float8, $2::int) AS n", [String(olderThan), String(batch)])
                .first?.int("n") ?? 0
            total += n
            if n < batch { return total }
        }
    }

    /// Cancels queued jobs one of whose dependencies failed or was cancelled, naming it (run
    /// by every worker's maintenance). Returns (job, dependency) pairs.
    @discardableResult
    public func cancelDependentsOfFailedJobs() throws -> [(job: Int64, dependency: Int64)] {
        try db.query("""
            WITH doomed AS (
                SELECT q.id, d.id AS dep, d.state::text AS dep_state FROM jobs q
                CROSS JOIN LATERAL (SELECT id, state FROM jobs d WHERE d.id = ANY (q.depends_on)
                                      AND d.state IN ('failed', 'cancelled') ORDER BY d.id LIMIT 1) d
                WHERE q.state = 'queued' AND q.depends_on <> '{}'
                FOR UPDATE OF q SKIP LOCKED),
            c AS (
                UPDATE jobs j SET state = 'cancelled', finished_at = now(),
                    error = 'dependency job ' || doomed.dep || ' ' || doomed.dep_state || ', so this job cannot run'
                FROM doomed WHERE j.id = doomed.id
                RETURNING j.id, j.attempt, j.error, doomed.dep),
            ev AS (INSERT INTO job_events (job_id, attempt, source, message)
                   SELECT id, attempt, 'state', 'cancelled: ' || error FROM c)
            SELECT id, dep FROM c
            """).compactMap { r in
            guard let id = r["id"].flatMap({ Int64($0) }), let dep = r["dep"].flatMap({ Int64($0) }) else { return nil }
            return (id, dep)
        }
    }

    /// Counts by state (for `mscm-ctl list`'s summary and the benchmarks).
    public func counts() throws -> [JobState: Int] {
        var out: [JobState: Int] = [:]
        for r in try db.query("SELECT state::text AS s, count(*) AS n FROM jobs GROUP BY 1") {
            if let s = r["s"].flatMap(JobState.init(rawValue:)) { out[s] = r.int("n") }
        }
        return out
    }
}
