import Formats
import Foundation

/// The version every worker reports in `mscm-ctl workers` (bump with a release, so a fleet
/// running mixed builds shows it).
public enum MSCMVersion {
    public static let current = "0.6.0"
}

/// A worker as its row in `workers` says (migration 0006).
public struct WorkerInfo: Sendable {
    public let id: String
    public let host: String
    public let pid: Int
    public let queues: [String]
    public let kinds: [String]
    public let concurrency: Int
    public let leaseSeconds: Double
    public let version: String
    public let startedAt: Double
    public let heartbeatAt: Double
    public let stoppedAt: Double?
    /// Jobs it holds now (running with its lease), id order.
    public let jobs: [Int64]
    /// Heartbeat within the last lease and not stopped.
    public let live: Bool

    public var json: JSON {
        ["id": .string(id), "host": .string(host), "pid": .int(pid), "queues": .array(queues.map { .string($0) }),
         "kinds": .array(kinds.map { .string($0) }), "concurrency": .int(concurrency), "lease_seconds": .double(leaseSeconds),
         "version": .string(version), "started_at": .string(ISOTime.format(startedAt)),
         "heartbeat_at": .string(ISOTime.format(heartbeatAt)), "stopped_at": stoppedAt.map { .string(ISOTime.format($0)) } ?? .null,
         "jobs": .array(jobs.map { .int(Int($0)) }), "live": .bool(live)]
    }
}

/// Worker registration: each worker process upserts its row with every heartbeat, so that
/// `mscm-ctl workers` lists who is working and `status` can say when nobody serves a queue.
public struct WorkerStore {
    public let db: PGConnection
    public init(_ db: PGConnection) { self.db = db }

    /// Registers or refreshes `config`'s row (and clears a stop mark: an id may be reused).
    public func heartbeat(_ config: WorkerConfig, kinds: [String]) throws {
        try db.query("""
            INSERT INTO workers (id, host, pid, queues, kinds, concurrency, lease_seconds, version)
            VALUES ($1, $2, $3, $4::text[], $5::text[], $6, $7, $8)
            ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, queues = EXCLUDED.queues,
                kinds = EXCLUDED.kinds, concurrency = EXCLUDED.concurrency, lease_seconds = EXCLUDED.lease_seconds,
                version = EXCLUDED.version, heartbeat_at = now(), stopped_at = NULL,
                started_at = CASE WHEN workers.pid = EXCLUDED.pid AND workers.host = EXCLUDED.host THEN workers.started_at ELSE now() END
            """, [config.id, ProcessInfo.processInfo.hostName, String(getpid()), PGArray.text(config.queues),
                  PGArray.text(kinds), String(config.concurrency), String(config.lease), MSCMVersion.current])
    }

    /// Marks a worker stopped (a graceful exit).
    public func stopped(_ id: String) throws {
        try db.query("UPDATE workers SET stopped_at = now() WHERE id = $1", [id])
    }

    /// Forgets workers not heard from in `olderThan` seconds.
    @discardableResult
    public func forget(olderThan: Double) throws -> Int {
        try db.query("DELETE FROM workers WHERE heartbeat_at < now() - make_interval(secs => $1::float8) RETURNING id",
                     [String(olderThan)]).count
    }

    /// Workers, live ones first, then by id; with `all: false` only the live ones.
    public func list(all: Bool = false) throws -> [WorkerInfo] {
        try db.query("""
            SELECT w.id, w.host, w.pid, array_to_json(w.queues)::text AS queues, array_to_json(w.kinds)::text AS kinds,
                   w.concurrency, w.lease_seconds, w.version,
                   extract(epoch FROM w.started_at)::float8 AS started_at, extract(epoch FROM w.heartbeat_at)::float8 AS heartbeat_at,
                   extract(epoch FROM w.stopped_at)::float8 AS stopped_at,
                   (w.stopped_at IS NULL AND w.heartbeat_at + make_interval(secs => w.lease_seconds) > now()) AS live,
                   (SELECT coalesce(array_to_json(array_agg(j.id ORDER BY j.id)), '[]')::text FROM jobs j
                     WHERE j.state = 'running' AND (j.lease_owner = w.id OR j.lease_owner LIKE w.id || '/%')) AS jobs
            FROM workers w
            ORDER BY live DESC, w.id
            """).compactMap { r in
            let live = r.bool("live") ?? false
            guard all || live else { return nil }
            func strings(_ c: String) -> [String] { ((try? JSON.parse(r[c] ?? "[]"))?.array ?? []).compactMap(\.string) }
            return WorkerInfo(id: r["id"] ?? "", host: r["host"] ?? "", pid: r.int("pid") ?? 0, queues: strings("queues"),
                              kinds: strings("kinds"), concurrency: r.int("concurrency") ?? 1,
                              leaseSeconds: r.double("lease_seconds") ?? 0, version: r["version"] ?? "",
                              startedAt: r.double("started_at") ?? 0, heartbeatAt: r.double("heartbeat_at") ?? 0,
                              stoppedAt: r.double("stopped_at"),
                              jobs: ((try? JSON.parse(r["jobs"] ?? "[]"))?.array ?? []).compactMap { $0.int.map(Int64.init) },
                              live: live)
        }
    }

    /// Whether a live worker takes jobs of `kind` from `queue`.
    public func isServed(queue: String, kind: String) throws -> Bool {
        try db.query("""
            SELECT 1 FROM workers WHERE stopped_at IS NULL AND heartbeat_at + make_interval(secs => lease_seconds) > now()
              AND $1 = ANY (queues) AND $2 = ANY (kinds) LIMIT 1
            """, [queue, kind]).rows.isEmpty == false
    }
}
