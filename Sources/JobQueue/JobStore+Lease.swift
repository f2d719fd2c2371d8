import Formats
import Foundation

/// The right to write about one attempt of one job: every write below names it and changes
/// nothing unless the row still is `id = job AND attempt = attempt AND state = 'running'`.
/// A worker whose lease expired and whose job was rescued (attempt bumped by the next claim,
/// or state changed) is refused — its late writes are no-ops, reported as `false`/nil.
public struct Lease: Hashable, Sendable {
    public let job: Int64
    public let attempt: Int
    public let owner: String
    public init(job: Int64, attempt: Int, owner: String) { self.job = job; self.attempt = attempt; self.owner = owner }
}

extension JobStore {
    static let fence = "id = $1 AND attempt = $2 AND state = 'running'"

    /// The claim: one statement takes the highest-priority (lowest number), oldest runnable job
    /// of `queues` and `kinds` whose run_at has passed and whose dependencies have all
    /// succeeded, skipping rows other workers hold
    /// locked, sets a lease of `lease` seconds and bumps `attempt`. The `jobs_claim` partial
    /// index (queued rows only, in claim order) keeps it an index scan however many finished
    /// jobs the table holds.
    public func claim(owner: String, queues: [String], kinds: [String], lease: Double) throws -> Job? {
        let rows = try db.query("""
            WITH next AS (
                SELECT id FROM jobs q
                WHERE state = 'queued' AND run_at <= now() AND queue = ANY($1::text[]) AND kind = ANY($2::text[])
                  AND (depends_on = '{}' OR NOT EXISTS (
                        SELECT 1 FROM jobs d WHERE d.id = ANY (q.depends_on) AND d.state <> 'succeeded'))
                ORDER BY priority, run_at, id
                LIMIT 1
                FOR UPDATE SKIP LOCKED),
            claimed AS (
                UPDATE jobs j SET state = 'running', attempt = j.attempt + 1, lease_owner = $3,
                    lease_expires_at = now() + make_interval(secs => $4::float8), heartbeat_at = now(),
                    attempted_at = now(), started_at = coalesce(j.started_at, now()),
                    attempted_by = array_append(j.attempted_by, $3::text)
                FROM next WHERE j.id = next.id
                RETURNING j.*),
            ev AS (INSERT INTO job_events (job_id, attempt, source, message)
                   SELECT id, attempt, 'state', 'running on ' || lease_owner FROM claimed)
            SELECT \(Job.columns) FROM claimed
            """, [PGArray.text(queues), PGArray.text(kinds), owner, String(lease)])
        return try rows.first.map { try Job(row: $0) }
    }

    /// Renews the leases in one statement. Returns, for each lease still held, whether cancel
    /// was requested; a lease missing from the answer is lost.
    public func heartbeat(_ leases: [Lease], lease: Double) throws -> [Lease: Bool] {
        guard !leases.isEmpty else { return [:] }
        let rows = try db.query("""
            UPDATE jobs j SET lease_expires_at = now() + make_interval(secs => $3::float8), heartbeat_at = now()
            FROM unnest($1::bigint[], $2::int[]) AS a(id, attempt)
            WHERE j.id = a.id AND j.attempt = a.attempt AND j.state = 'running'
            RETURNING j.id, j.attempt, j.cancel_requested
            """, [PGArray.ints(leases.map { Int($0.job) }), PGArray.ints(leases.map(\.attempt)), String(lease)])
        var out: [Lease: Bool] = [:]
        for r in rows {
            guard let id = r["id"].flatMap({ Int64($0) }), let a = r.int("attempt"),
                  let l = leases.first(where: { $0.job == id && $0.attempt == a }) else { continue }
            out[l] = r.bool("cancel_requested") ?? false
        }
        return out
    }

    /// Executes the write that ends an attempt (see `JobLifecycle.finish`). `progress`, when
    /// given, replaces the job's progress (the handler's last, unthrottled report). Returns
    /// false when the fence refused it (the lease was lost: the row is unchanged).
    @discardableResult
    public func finish(_ lease: Lease, _ action: FinishAction, progress: JSON? = nil) throws -> Bool {
        var params: [String?] = [String(lease.job), String(lease.attempt)]
        func bind(_ v: String?) -> String { params.append(v); return "$\(params.count)" }
        var set = "lease_owner = NULL, lease_expires_at = NULL, progress = coalesce(\(bind(progress?.serialized))::jsonb, progress)"
        func keepError(_ error: String) -> String {
            let e = bind(error)
            return "error = \(e), errors = errors || jsonb_build_array(jsonb_build_object('attempt', attempt, "
                + "'worker', \(bind(lease.owner))::text, 'at', now(), 'error', \(e)::text))"
        }
        let event: String
        var notify = false
        switch action {
        case .complete(let result):
            set += ", state = 'succeeded', result = \(bind(result.serialized))::jsonb, error = NULL, finished_at = now()"
            event = "succeeded"
        case .retry(let delay, let error):
            set += ", state = 'queued', \(keepError(error)), run_at = now() + make_interval(secs => \(bind(String(delay)))::float8)"
            event = "failed: " + error + " — retry in " + String(format: "%.1f s", delay)
        case .fail(let error):
            set += ", state = 'failed', \(keepError(error)), finished_at = now()"
            event = "failed: " + error
        case .cancel:
            set += ", state = 'cancelled', finished_at = now()"
            event = "cancelled"
        case .giveBack(let why):
            set += ", state = 'queued', run_at = now(), max_attempts = max_attempts + 1"
            event = "given back (" + why + "); the attempt is not counted"
            notify = true
        }
        let e = bind(event)
        let rows = try db.query("""
            WITH done AS (UPDATE jobs SET \(set) WHERE \(JobStore.fence) RETURNING id, attempt, queue),
            ev AS (INSERT INTO job_events (job_id, attempt, source, message) SELECT id, attempt, 'state', \(e) FROM done)
            SELECT id\(notify ? ", pg_notify('\(JobStore.jobsChannel)', queue)::text AS n" : "") FROM done
            """, params)
        guard !rows.rows.isEmpty else { return false }
        if case .complete = action { try dropFinishedCheckpoint(lease.job) }
        return true
    }

    /// Fenced progress write. False when the lease is lost.
    public func setProgress(_ lease: Lease, _ progress: JSON) throws -> Bool {
        try !db.query("UPDATE jobs SET progress = $3::jsonb WHERE \(JobStore.fence) RETURNING id",
                      [String(lease.job), String(lease.attempt), progress.serialized]).rows.isEmpty
    }

    /// Fenced history row: `figures` merged into the job's figures at `iteration` (a resumed
    /// attempt overwrites what an earlier one wrote there). False when the lease is lost.
    public func recordHistory(_ lease: Lease, iteration: Int, figures: [String: JSON]) throws -> Bool {
        try !db.query("""
            INSERT INTO job_history (job_id, iteration, attempt, figures)
            SELECT id, $3, attempt, $4::jsonb FROM jobs WHERE \(JobStore.fence)
            ON CONFLICT (job_id, iteration) DO UPDATE SET
                figures = CASE WHEN job_history.attempt = EXCLUDED.attempt THEN job_history.figures || EXCLUDED.figures
                               ELSE EXCLUDED.figures END,
                attempt = EXCLUDED.attempt, at = EXCLUDED.at
            RETURNING job_id
            """, [String(lease.job), String(lease.attempt), String(iteration), JSON.object(figures).serialized]).rows.isEmpty
    }

    /// Fenced log line. False when the lease is lost.
    public func appendLog(_ lease: Lease, _ message: String) throws -> Bool {
        try !db.query("""
            INSERT INTO job_events (job_id, attempt, source, message)
            SELECT id, attempt, 'log', $3 FROM jobs WHERE \(JobStore.fence) RETURNING id
            """, [String(lease.job), String(lease.attempt), message]).rows.isEmpty
    }

    /// Fenced checkpoint record (step and the sha256 of an artifact already stored).
    ///
    /// Only the newest checkpoint is worth keeping (a resume starts from it), and a training
    /// run writes dozens of them, each the size of its weights and optimiser state: the one it
    /// supersedes is deleted — its artifact rows of this job, and its bytes unless something
    /// else still names them (Migrations/0004_checkpoint_cleanup.sql).
    public func recordCheckpoint(_ lease: Lease, step: Int, artifact: String) throws -> Bool {
        try db.transaction {
            let held = try db.query("""
                SELECT checkpoint_sha256 FROM jobs WHERE \(JobStore.fence) FOR UPDATE
                """, [String(lease.job), String(lease.attempt)]).first
            guard let held else { return false }
            try db.query("UPDATE jobs SET checkpoint_step = $2, checkpoint_sha256 = $3 WHERE id = $1",
                         [String(lease.job), String(step), artifact])
            if let old = held.string("checkpoint_sha256"), old != artifact {
                try db.query("SELECT mscm_drop_superseded_checkpoint($1, $2)", [String(lease.job), old])
            }
            return true
        }
    }

    public struct Rescued: Equatable {
        public let id: Int64
        public let attempt: Int
        public let state: JobState
        /// The worker whose lease expired.
        public let owner: String
    }

    /// Rescues running jobs whose lease expired — `JobLifecycle.afterLeaseExpired` in SQL: back
    /// to the queue to resume from their checkpoint without spending the attempt (a lease
    /// expires when a worker process dies or loses the database, neither the job's fault, and
    /// whether the rescuer or the returning worker writes first must not matter), cancelled
    /// when cancel was requested, failed — naming why — once `maxRescues` rescues have been
    /// spent. Counts the rescue and keeps the error. Any worker may run it; SKIP LOCKED lets
    /// several run at once.
    public func rescueExpired(limit: Int = 100, maxRescues: Int = JobLifecycle.defaultMaxRescues) throws -> [Rescued] {
        try db.query("""
            WITH expired AS (
                SELECT id, lease_owner FROM jobs WHERE state = 'running' AND lease_expires_at < now()
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED),
            rescued AS (
                UPDATE jobs j SET
                    state = (CASE WHEN j.cancel_requested THEN 'cancelled'
                                  WHEN j.rescues + 1 >= $2 THEN 'failed'
                                  ELSE 'queued' END)::job_state,
                    finished_at = CASE WHEN j.cancel_requested OR j.rescues + 1 >= $2 THEN now() END,
                    max_attempts = CASE WHEN j.cancel_requested OR j.rescues + 1 >= $2 THEN j.max_attempts
                                        ELSE j.max_attempts + 1 END,
                    run_at = now(), rescues = j.rescues + 1,
                    error = CASE WHEN j.rescues + 1 >= $2 AND NOT j.cancel_requested
                        THEN 'lease expired ' || (j.rescues + 1) || ' times: every worker that ran it stopped heartbeating '
                             || '(its process was killed or crashed, or lost the database); last: ' || expired.lease_owner
                             || '; see that worker''s log'
                        ELSE 'lease expired: worker ' || expired.lease_owner
                             || ' stopped heartbeating (process killed or crashed, or the database unreachable); the attempt is not counted' END,
                    errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt,
                        'worker', expired.lease_owner, 'at', now(), 'error', 'lease expired')),
                    lease_owner = NULL, lease_expires_at = NULL
                FROM expired WHERE j.id = expired.id
                RETURNING j.id, j.attempt, j.state, j.queue, expired.lease_owner AS owner),
            ev AS (INSERT INTO job_events (job_id, attempt, source, message)
                   SELECT id, attempt, 'state', 'lease of ' || owner || ' expired; rescued to ' || state FROM rescued)
            SELECT id, attempt, state::text AS state, owner,
                   CASE WHEN state = 'queued' THEN pg_notify('\(JobStore.jobsChannel)', queue)::text END AS n
            FROM rescued
            """, [String(limit), String(maxRescues)]).map {
            Rescued(id: Int64($0["id"]!)!, attempt: $0.int("attempt")!,
                    state: JobState(rawValue: $0["state"]!)!, owner: $0["owner"] ?? "")
        }
    }

    /// A succeeded job needs no checkpoint: forget it and drop its bytes
    /// (`mscm_drop_finished_checkpoint`, migration 0005). Harmless for any other job.
    public func dropFinishedCheckpoint(_ job: Int64) throws {
        try db.query("SELECT mscm_drop_finished_checkpoint($1)", [String(job)])
    }
}

/// PostgreSQL array literals for parameters (`$1::text[]`), quoted so any text is safe.
public enum PGArray {
    public static func text(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
    public static func ints(_ values: [Int]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}
