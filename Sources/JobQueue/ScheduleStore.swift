import Formats
import Foundation

/// A named periodic job.
public struct Schedule: Sendable {
    public var name: String
    public var rule: ScheduleRule
    public var job: NewJob
    public var nextRunAt: Double = 0
    public var lastRunAt: Double? = nil
    public var lastJobID: Int64? = nil

    public init(name: String, rule: ScheduleRule, job: NewJob) {
        self.name = name; self.rule = rule; self.job = job
    }
}

/// Schedules in SQL: add, list, remove, and `fireDue`, which workers call to turn due schedules
/// into jobs — exactly one job per due time however many workers call it at once.
public struct ScheduleStore {
    public let db: PGConnection
    public init(_ db: PGConnection) { self.db = db }

    static let columns = """
        name, kind, queue, priority, max_attempts, spec::text AS spec, inputs::text AS inputs, every_seconds,
        extract(epoch FROM daily_at)::int AS daily_at, extract(epoch FROM next_run_at)::float8 AS next_run_at,
        extract(epoch FROM last_run_at)::float8 AS last_run_at, last_job_id
        """

    static func schedule(_ r: PGRow) throws -> Schedule {
        let rule: ScheduleRule = r.int("every_seconds").map { .every(seconds: $0) } ?? .daily(atSecond: r.int("daily_at") ?? 0)
        var s = Schedule(name: r["name"]!, rule: rule,
                         job: NewJob(kind: r["kind"]!, spec: try JSON.parse(r["spec"] ?? "{}"), queue: r["queue"]!,
                                     priority: r.int("priority")!, maxAttempts: r.int("max_attempts")!))
        s.job.inputs = try (JSON.parse(r["inputs"] ?? "[]").array ?? []).compactMap { i in
            guard let key = i["key"]?.string, let ref = i["ref"]?.string, let sha = i["sha256"]?.string else { return nil }
            return PinnedInput(key: key, ref: ref, sha256: sha)
        }
        s.nextRunAt = r.double("next_run_at") ?? 0
        s.lastRunAt = r.double("last_run_at")
        s.lastJobID = r["last_job_id"].flatMap { Int64($0) }
        return s
    }

    public struct Exists: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "schedule '\(name)' already exists (remove it first)" }
    }

    /// Adds a schedule; its first due time is the rule's first after now (database clock).
    @discardableResult
    public func add(_ s: Schedule) throws -> Schedule {
        var every: String? = nil, daily: String? = nil
        switch s.rule {
        case .every(let n): every = String(n)
        case .daily(let sec): daily = String(format: "%02d:%02d:%02d", sec / 3600, sec / 60 % 60, sec % 60)
        }
        let now = try db.query("SELECT extract(epoch FROM now())::float8 AS t").first!.double("t")!
        do {
            let r = try db.query("""
                INSERT INTO schedules (name, kind, queue, priority, max_attempts, spec, every_seconds, daily_at, next_run_at, inputs)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::time, to_timestamp($9::float8), $10::jsonb)
                RETURNING \(ScheduleStore.columns)
                """, [s.name, s.job.kind, s.job.queue, String(s.job.priority), String(s.job.maxAttempts),
                      s.job.spec.serialized, every, daily, String(s.rule.nextDue(after: now)),
                      JSON.array(s.job.inputs.map(\.json)).serialized])
            return try ScheduleStore.schedule(r.first!)
        } catch let e as PGError where e.isUniqueViolation {
            throw Exists(name: s.name)
        }
    }

    public func list() throws -> [Schedule] {
        try db.query("SELECT \(ScheduleStore.columns) FROM schedules ORDER BY name").map { try ScheduleStore.schedule($0) }
    }

    /// False when there was no such schedule. Jobs it created stay.
    public func remove(_ name: String) throws -> Bool {
        try !db.query("DELETE FROM schedules WHERE name = $1 RETURNING name", [name]).rows.isEmpty
    }

    public struct Fired: Equatable {
        public let schedule: String
        /// The due time the job stands for (epoch seconds).
        public let dueAt: Double
        /// nil if a job for this due time already existed (never expected; the unique key guards it).
        public let job: Int64?
        /// Earlier due times skipped by the catch-up rule.
        public let skipped: Int
    }

    /// Fires every due schedule, one transaction each: lock the row (SKIP LOCKED, so racing
    /// workers take different schedules or none), insert the job for the latest due time with
    /// unique key `schedule:<name>:<epoch>`, and move next_run_at past now — see ScheduleRule
    /// for the catch-up rule. The row lock and the unique key each alone prevent a duplicate.
    public func fireDue(limit: Int = 100) throws -> [Fired] {
        var fired: [Fired] = []
        for _ in 0..<limit {
            let one: Fired? = try db.transaction {
                guard let r = try db.query("""
                    SELECT \(ScheduleStore.columns), extract(epoch FROM now())::float8 AS now FROM schedules
                    WHERE next_run_at <= now() ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED
                    """).first else { return nil }
                let s = try ScheduleStore.schedule(r)
                let now = r.double("now")!
                let due = s.rule.latestDue(notAfter: now)
                let next = s.rule.nextDue(after: now)
                let ins = try db.query("""
                    WITH ins AS (
                        INSERT INTO jobs (kind, queue, priority, spec, max_attempts, unique_key, schedule_name, scheduled_for, inputs)
                        VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, to_timestamp($8::float8), $9::jsonb)
                        ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
                        RETURNING id, queue),
                    ev AS (INSERT INTO job_events (job_id, attempt, source, message)
                           SELECT id, 0, 'state', 'queued by schedule ' || $7::text FROM ins)
                    SELECT id, pg_notify('\(JobStore.jobsChannel)', queue)::text AS n FROM ins
                    """, [s.job.kind, s.job.queue, String(s.job.priority), s.job.spec.serialized, String(s.job.maxAttempts),
                          "schedule:\(s.name):\(Int64(due))", s.name, String(due), JSON.array(s.job.inputs.map(\.json)).serialized])
                let id = ins.first?["id"].flatMap { Int64($0) }
                try db.query("""
                    UPDATE schedules SET next_run_at = to_timestamp($2::float8), last_run_at = to_timestamp($3::float8),
                        last_job_id = coalesce($4::bigint, last_job_id) WHERE name = $1
                    """, [s.name, String(next), String(due), id.map { String($0) }])
                return Fired(schedule: s.name, dueAt: due, job: id, skipped: s.rule.skipped(firstPending: s.nextRunAt, now: now))
            }
            guard let f = one else { break }
            fired.append(f)
        }
        return fired
    }
}
