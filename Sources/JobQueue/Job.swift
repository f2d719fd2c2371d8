import Formats
import Foundation

/// A job to insert (`JobStore.submit`).
public struct NewJob: Sendable {
    public var kind: String
    public var spec: JSON
    public var queue: String = "default"
    /// 0 runs first, 9 last.
    public var priority: Int = 5
    public var maxAttempts: Int = 3
    /// Run no earlier than this many seconds from now.
    public var delay: Double = 0
    /// At most one job per key: submitting the same key again returns the existing job.
    public var uniqueKey: String? = nil
    /// The artifacts the spec names, resolved at submit (`JobHandler.pin`).
    public var inputs: [PinnedInput] = []
    /// Jobs that must succeed before this one runs (`--after`, and every `job:N` input).
    public var dependsOn: [Int64] = []

    /// Longest unique key: the unique index's btree holds keys up to about 2.7 KB.
    public static let maxUniqueKeyBytes = 1000
    /// Furthest a submission may be delayed.
    public static let maxDelay: Double = 10 * 366 * 86_400

    /// What the table's constraints would refuse, as one line before any SQL.
    public func check() throws {
        if let k = uniqueKey {
            guard !k.isEmpty, k.utf8.count <= NewJob.maxUniqueKeyBytes else {
                throw JobFailure.permanent("unique key must be 1–\(NewJob.maxUniqueKeyBytes) bytes, got \(k.utf8.count)")
            }
        }
        guard delay.isFinite, delay <= NewJob.maxDelay else {
            throw JobFailure.permanent("delay must be at most \(Durations.format(NewJob.maxDelay))")
        }
        guard (0...9).contains(priority) else { throw JobFailure.permanent("priority must be 0…9, got \(priority)") }
        guard maxAttempts >= 1 else { throw JobFailure.permanent("max attempts must be ≥ 1, got \(maxAttempts)") }
    }

    public init(kind: String, spec: JSON = [:], queue: String = "default", priority: Int = 5,
                maxAttempts: Int = 3, delay: Double = 0, uniqueKey: String? = nil) {
        self.kind = kind; self.spec = spec; self.queue = queue; self.priority = priority
        self.maxAttempts = maxAttempts; self.delay = delay; self.uniqueKey = uniqueKey
    }
}

/// An artifact a job's spec named, as it was when the job was submitted: the spec then names
/// the sha256, so a name pointed elsewhere later cannot change what the job reads.
public struct PinnedInput: Equatable, Sendable {
    /// Where in the spec: the key, or e.g. `entries[1]`.
    public let key: String
    /// What the user wrote (a name, a sha256 prefix, or `job:N`).
    public let ref: String
    /// nil for `job:N` of a job that has not succeeded yet: the job waits for it, and its
    /// output is fixed once it succeeds.
    public let sha256: String?
    public init(key: String, ref: String, sha256: String?) { self.key = key; self.ref = ref; self.sha256 = sha256 }
    public var json: JSON { ["key": .string(key), "ref": .string(ref), "sha256": sha256.map { .string($0) } ?? .null] }
}

/// A handler's last checkpoint as recorded in the job row.
public struct Checkpoint: Equatable, Sendable {
    public let step: Int
    /// sha256 of the checkpoint artifact.
    public let artifact: String
    public init(step: Int, artifact: String) { self.step = step; self.artifact = artifact }
}

/// One row of `jobs`, as read back. Times are seconds since the Unix epoch.
public struct Job: Sendable {
    public let id: Int64
    public let kind: String
    public let queue: String
    public let priority: Int
    public let state: JobState
    public let spec: JSON
    public let attempt: Int
    public let maxAttempts: Int
    public let runAt: Double
    public let leaseOwner: String?
    public let leaseExpiresAt: Double?
    public let heartbeatAt: Double?
    public let progress: JSON?
    public let result: JSON?
    public let error: String?
    /// [{attempt, worker, at, error}] for every attempt that ended in an error.
    public let errors: JSON
    public let attemptedBy: [String]
    public let rescues: Int
    public let cancelRequested: Bool
    public let checkpoint: Checkpoint?
    public let uniqueKey: String?
    /// [{key, ref, sha256}]: the artifacts the spec named, pinned at submit.
    public let inputs: JSON
    public let dependsOn: [Int64]
    public let scheduleName: String?
    public let scheduledFor: Double?
    public let createdAt: Double
    public let startedAt: Double?
    public let attemptedAt: Double?
    public let finishedAt: Double?

    /// The SELECT list `Job(row:)` reads (times as epoch seconds, arrays as JSON).
    public static let columns = """
        id, kind, queue, priority, state::text AS state, spec::text AS spec, attempt, max_attempts,
        extract(epoch FROM run_at)::float8 AS run_at, lease_owner,
        extract(epoch FROM lease_expires_at)::float8 AS lease_expires_at,
        extract(epoch FROM heartbeat_at)::float8 AS heartbeat_at,
        progress::text AS progress, result::text AS result, error, errors::text AS errors,
        array_to_json(attempted_by)::text AS attempted_by, rescues, cancel_requested,
        checkpoint_step, checkpoint_sha256, unique_key, inputs::text AS inputs, array_to_json(depends_on)::text AS depends_on, schedule_name,
        extract(epoch FROM scheduled_for)::float8 AS scheduled_for,
        extract(epoch FROM created_at)::float8 AS created_at,
        extract(epoch FROM started_at)::float8 AS started_at,
        extract(epoch FROM attempted_at)::float8 AS attempted_at,
        extract(epoch FROM finished_at)::float8 AS finished_at
        """

    public init(row r: PGRow) throws {
        func json(_ c: String) throws -> JSON? { try r[c].map { try JSON.parse($0) } }
        guard let id = r["id"].flatMap({ Int64($0) }), let state = r["state"].flatMap(JobState.init(rawValue:)) else {
            throw PGError("unexpected jobs row")
        }
        self.id = id
        kind = r["kind"] ?? ""
        queue = r["queue"] ?? ""
        priority = r.int("priority") ?? 0
        self.state = state
        spec = try json("spec") ?? [:]
        attempt = r.int("attempt") ?? 0
        maxAttempts = r.int("max_attempts") ?? 0
        runAt = r.double("run_at") ?? 0
        leaseOwner = r["lease_owner"]
        leaseExpiresAt = r.double("lease_expires_at")
        heartbeatAt = r.double("heartbeat_at")
        progress = try json("progress")
        result = try json("result")
        error = r["error"]
        errors = try json("errors") ?? []
        attemptedBy = (try json("attempted_by"))?.array?.compactMap(\.string) ?? []
        rescues = r.int("rescues") ?? 0
        cancelRequested = r.bool("cancel_requested") ?? false
        if let step = r.int("checkpoint_step"), let sha = r["checkpoint_sha256"] {
            checkpoint = Checkpoint(step: step, artifact: sha)
        } else { checkpoint = nil }
        uniqueKey = r["unique_key"]
        inputs = try json("inputs") ?? []
        dependsOn = (try json("depends_on"))?.array?.compactMap { $0.int.map(Int64.init) } ?? []
        scheduleName = r["schedule_name"]
        scheduledFor = r.double("scheduled_for")
        createdAt = r.double("created_at") ?? 0
        startedAt = r.double("started_at")
        attemptedAt = r.double("attempted_at")
        finishedAt = r.double("finished_at")
    }

    /// The row as JSON (`mscm-ctl status --json`, `list --json`); times as ISO 8601 UTC.
    public var json: JSON {
        func time(_ t: Double?) -> JSON { t.map { .string(ISOTime.format($0)) } ?? .null }
        return [
            "id": .int(Int(id)), "kind": .string(kind), "queue": .string(queue), "priority": .int(priority),
            "state": .string(state.rawValue), "spec": spec, "attempt": .int(attempt),
            "max_attempts": .int(maxAttempts), "run_at": time(runAt), "lease_owner": JSON(leaseOwner),
            "lease_expires_at": time(leaseExpiresAt), "heartbeat_at": time(heartbeatAt),
            "progress": progress ?? .null, "result": result ?? .null, "error": JSON(error), "errors": errors,
            "attempted_by": .array(attemptedBy.map { .string($0) }), "rescues": .int(rescues),
            "cancel_requested": .bool(cancelRequested),
            "checkpoint": checkpoint.map { ["step": .int($0.step), "artifact": .string($0.artifact)] } ?? .null,
            "unique_key": JSON(uniqueKey), "inputs": inputs,
            "depends_on": .array(dependsOn.map { .int(Int($0)) }), "schedule": JSON(scheduleName), "scheduled_for": time(scheduledFor),
            "created_at": time(createdAt), "started_at": time(startedAt), "attempted_at": time(attemptedAt),
            "finished_at": time(finishedAt),
        ]
    }
}

/// One line of a job's event log.
public struct JobEvent: Sendable {
    public let id: Int64
    public let attempt: Int
    public let at: Double
    /// "log" (the handler's) or "state" (the queue's transitions).
    public let source: String
    public let message: String
}

/// ISO 8601 in UTC with milliseconds, for people and JSON output.
public enum ISOTime {
    public static func format(_ epoch: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: epoch))
    }
}
