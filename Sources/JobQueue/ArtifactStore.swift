import Formats
import Foundation

/// A named artifact: a pointer from (name, kind, producing job) to content-addressed bytes.
public struct ArtifactInfo: Equatable, Sendable {
    public let id: Int64
    public let name: String
    public let kind: String
    public let sha256: String
    public let size: Int64
    /// The job that produced it; nil for imports (or once that job was pruned).
    public let job: Int64?
    public let createdAt: Double

    public var json: JSON {
        ["id": .int(Int(id)), "name": .string(name), "kind": .string(kind), "sha256": .string(sha256),
         "size": .int(Int(size)), "job": job.map { .int(Int($0)) } ?? .null, "created_at": .string(ISOTime.format(createdAt))]
    }
}

/// What `JobHandler.validate` may ask about artifacts before a job is written.
public protocol ArtifactCatalog {
    /// The artifact a reference names: a sha256 (or a unique prefix of at least 8 hex digits)
    /// or a name (its newest version). nil when there is none.
    func info(_ ref: String) throws -> ArtifactInfo?
    /// True at submit, when an output name must still be free; false when a worker re-checks a
    /// spec before running it (a retried job may already have stored its output).
    var checksOutputNames: Bool { get }
    /// The state of job `id`, nil when there is no such job (for `job:N` references).
    func jobState(_ id: Int64) throws -> JobState?
}

/// What a reference names: an artifact, or the output of a job that has not succeeded yet.
public enum ArtifactLookup {
    case found(ArtifactInfo)
    /// `job:N` of a queued or running job: the job that names it waits for N (`depends_on`).
    case pending(job: Int64)
    /// Nothing: the one-line reason.
    case missing(String)
}

extension ArtifactCatalog {
    public var checksOutputNames: Bool { true }
    public func jobState(_ id: Int64) throws -> JobState? { nil }

    /// Resolves `ref` — a name, a sha256 (prefix), or `job:N`, the output of job N.
    public func lookup(_ ref: String) throws -> ArtifactLookup {
        if let info = try info(ref) { return .found(info) }
        guard let id = ArtifactStore.jobReference(ref) else { return .missing("no artifact '\(ref)' (see mscm-ctl artifacts list)") }
        switch try jobState(id) {
        case nil: return .missing("'\(ref)': there is no job \(id)")
        case .queued?, .running?: return .pending(job: id)
        case .succeeded?: return .missing("'\(ref)': job \(id) succeeded without storing an output")
        case let s?: return .missing("'\(ref)': job \(id) \(s.rawValue); its output will never exist")
        }
    }
}

/// The catalog a worker validates a claimed job's spec against.
struct RunTimeCatalog: ArtifactCatalog {
    let store: ArtifactStore
    func info(_ ref: String) throws -> ArtifactInfo? { try store.info(ref) }
    var checksOutputNames: Bool { false }
    func jobState(_ id: Int64) throws -> JobState? { try store.jobState(id) }
}

public struct ArtifactError: Error, CustomStringConvertible {
    public let description: String
    /// Retrying cannot help (an invalid or taken name): the job fails at once.
    public let permanent: Bool
    public init(_ d: String, permanent: Bool = false) { description = d; self.permanent = permanent }
}

/// The artifact store in PostgreSQL: blobs keyed by sha256, stored as 1 MiB `blob_chunks`
/// rows so files of any size stream in and out chunk by chunk; `artifacts` rows name them.
/// A put is one transaction — a failed or interrupted put leaves nothing behind — and
/// identical content is stored once however many names point at it.
public struct ArtifactStore: ArtifactCatalog {
    public let db: PGConnection
    public let chunkSize: Int

    public init(_ db: PGConnection, chunkSize: Int = 1 << 20) {
        self.db = db; self.chunkSize = chunkSize
    }

    static let columns = "id, name, kind, sha256, size, job_id, extract(epoch FROM created_at)::float8 AS created_at"

    static func info(_ r: PGRow) -> ArtifactInfo {
        ArtifactInfo(id: Int64(r["id"]!)!, name: r["name"]!, kind: r["kind"]!, sha256: r["sha256"]!,
                     size: Int64(r["size"]!)!, job: r["job_id"].flatMap { Int64($0) }, createdAt: r.double("created_at")!)
    }

    public static let maxNameLength = 200
    /// 1–200 characters (as PostgreSQL counts them), none a control character: a name is
    /// printed on terminals and in reports.
    public static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.count <= maxNameLength
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
    static func validKind(_ kind: String) -> Bool { kind.range(of: "^[a-z][a-z0-9-]{0,62}$", options: .regularExpression) != nil }

    // MARK: put

    /// Stores the file's bytes (read twice in chunks: once to hash, once to upload, checking
    /// the file did not change in between) and names them. With `lease`, the artifact records
    /// its producing job, and the put fails with `JobCancelled(.leaseLost)` if the lease is gone.
    @discardableResult
    public func put(name: String, kind: String, file: URL, lease: Lease? = nil, replace: Bool = false) throws -> ArtifactInfo {
        try checkNames(name, kind)
        guard let h = FileHandle(forReadingAtPath: file.path) else { throw ArtifactError("cannot read \(file.path)") }
        defer { try? h.close() }
        var sha = SHA256()
        var size = 0
        while let chunk = try h.read(upToCount: chunkSize), !chunk.isEmpty { sha.update(chunk); size += chunk.count }
        let digest = sha.finalizeHex()
        try h.seek(toOffset: 0)
        return try store(name: name, kind: kind, sha256: digest, size: size, lease: lease, replace: replace) { emit in
            var check = SHA256()
            var seen = 0
            while let chunk = try h.read(upToCount: chunkSize), !chunk.isEmpty {
                check.update(chunk); seen += chunk.count
                try emit(chunk)
            }
            guard seen == size, check.finalizeHex() == digest else {
                throw ArtifactError("\(file.path) changed while it was being stored")
            }
        }
    }

    @discardableResult
    public func put(name: String, kind: String, data: Data, lease: Lease? = nil, replace: Bool = false) throws -> ArtifactInfo {
        try checkNames(name, kind)
        return try store(name: name, kind: kind, sha256: SHA256.hex(data), size: data.count, lease: lease, replace: replace) { emit in
            var at = 0
            while at < data.count {
                let end = min(at + chunkSize, data.count)
                try emit(data.subdata(in: at..<end))
                at = end
            }
        }
    }

    func checkNames(_ name: String, _ kind: String) throws {
        guard ArtifactStore.validName(name) else {
            throw ArtifactError("artifact name must be 1–200 characters without control characters", permanent: true)
        }
        guard ArtifactStore.validKind(kind) else { throw ArtifactError("artifact kind \(kind.debugDescription) must be lowercase letters, digits and '-'", permanent: true) }
    }

    /// A name points at one content: storing other bytes under a taken name needs `replace`
    /// (or comes from the job that stored the current ones — a retry re-storing its output);
    /// otherwise it is refused, here and by the `artifacts_name_guard` trigger (migration 0005).
    func store(name: String, kind: String, sha256: String, size: Int, lease: Lease?, replace: Bool,
               chunks: ((Data) throws -> Void) throws -> Void) throws -> ArtifactInfo {
        do {
            return try db.transaction {
                let nChunks = (size + chunkSize - 1) / chunkSize
                // ON CONFLICT waits for a concurrent upload of the same bytes and then skips ours.
                let fresh = try !db.query("""
                    INSERT INTO blobs (sha256, size, chunk_size, chunks) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (sha256) DO NOTHING RETURNING sha256
                    """, [sha256, String(size), String(chunkSize), String(nChunks)]).rows.isEmpty
                if fresh {
                    var seq = 0
                    try chunks { data in
                        try db.query("INSERT INTO blob_chunks (sha256, seq, data) VALUES ($1, $2, $3)",
                                     params: [.text(sha256), .text(String(seq)), .bytes(data)])
                        seq += 1
                    }
                    guard seq == nChunks else { throw ArtifactError("artifact \(name): expected \(nChunks) chunks, read \(seq)") }
                }
                if let lease {
                    let held = try !db.query("SELECT 1 FROM jobs WHERE \(JobStore.fence)",
                                             [String(lease.job), String(lease.attempt)]).rows.isEmpty
                    guard held else { throw JobCancelled(reason: .leaseLost) }
                }
                try db.query("""
                    INSERT INTO artifacts (name, kind, sha256, size, job_id, replaces)
                    VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::bool THEN (SELECT max(id) FROM artifacts WHERE name = $1) END)
                    ON CONFLICT (name, sha256) DO NOTHING
                    """, [name, kind, sha256, String(size), lease.map { String($0.job) }, replace ? "true" : "false"])
                return ArtifactStore.info(try db.query("SELECT \(ArtifactStore.columns) FROM artifacts WHERE name = $1 AND sha256 = $2",
                                                       [name, sha256]).first!)
            }
        } catch let e as PGError where e.sqlState == "23505" {
            let current = try? db.query("SELECT \(ArtifactStore.columns) FROM artifacts WHERE name = $1 ORDER BY id DESC LIMIT 1", [name])
                .first.map(ArtifactStore.info)
            throw ArtifactError("artifact name \(name.debugDescription) is taken"
                                + (current.map { " (kind \($0.kind), sha256 \($0.sha256.prefix(12)))" } ?? "")
                                + "; replace it explicitly (artifacts import --replace) or choose another name", permanent: true)
        }
    }

    // MARK: delete and collect

    /// Deletes the artifact rows a reference names — every version of a name, or the rows of
    /// a sha256 — and their bytes unless something else still names them. Refused while a
    /// queued or running job reads those bytes (its pinned inputs or its checkpoint). Needs
    /// the owner role: the worker role may not delete artifacts.
    public func delete(_ ref: String) throws -> [ArtifactInfo] {
        try db.transaction {
            var rows = try db.query("SELECT \(ArtifactStore.columns) FROM artifacts WHERE name = $1 ORDER BY id FOR UPDATE", [ref])
                .map(ArtifactStore.info)
            if rows.isEmpty, let info = try info(ref) {
                rows = try db.query("SELECT \(ArtifactStore.columns) FROM artifacts WHERE sha256 = $1 ORDER BY id FOR UPDATE", [info.sha256])
                    .map(ArtifactStore.info)
            }
            guard !rows.isEmpty else { throw ArtifactError("no artifact '\(ref)' (see mscm-ctl artifacts list)") }
            let shas = Array(Set(rows.map(\.sha256))).sorted()
            if let user = try db.query("""
                SELECT id FROM jobs WHERE state IN ('queued', 'running')
                  AND (checkpoint_sha256 = ANY ($1::text[])
                       OR EXISTS (SELECT 1 FROM jsonb_array_elements(inputs) i WHERE i->>'sha256' = ANY ($1::text[])))
                ORDER BY id LIMIT 1
                """, [PGArray.text(shas)]).first?["id"] {
                throw ArtifactError("artifact '\(ref)' is read by job \(user), which has not finished; cancel it first")
            }
            try db.query("DELETE FROM artifacts WHERE id = ANY ($1::bigint[])", [PGArray.ints(rows.map { Int($0.id) })])
            try db.query("""
                DELETE FROM blobs b WHERE b.sha256 = ANY ($1::text[])
                  AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.checkpoint_sha256 = b.sha256)
                """, [PGArray.text(shas)])
            return rows
        }
    }

    public struct Collected: Equatable {
        public let artifacts: Int
        public let blobs: Int
        public let bytes: Int64
    }

    /// Deletes checkpoints no job can resume from any more (their job succeeded or was
    /// pruned) and every blob nothing names (`mscm_collect_garbage`, migration 0005).
    public func collectGarbage() throws -> Collected {
        let r = try db.query("SELECT artifacts, blobs, bytes FROM mscm_collect_garbage()").first
        return Collected(artifacts: r?.int("artifacts") ?? 0, blobs: r?.int("blobs") ?? 0, bytes: Int64(r?.int("bytes") ?? 0))
    }

    /// What the store holds: (artifacts, blobs, bytes).
    public func usage() throws -> (artifacts: Int, blobs: Int, bytes: Int64) {
        let r = try db.query("SELECT (SELECT count(*) FROM artifacts) AS a, count(*) AS b, coalesce(sum(size), 0) AS s FROM blobs").first
        return (r?.int("a") ?? 0, r?.int("b") ?? 0, Int64(r?.int("s") ?? 0))
    }

    // MARK: get

    /// N when `ref` is `job:N`.
    public static func jobReference(_ ref: String) -> Int64? {
        guard ref.hasPrefix("job:"), let id = Int64(ref.dropFirst(4)), id > 0 else { return nil }
        return id
    }

    public func jobState(_ id: Int64) throws -> JobState? {
        try db.query("SELECT state::text AS s FROM jobs WHERE id = $1", [String(id)]).first?["s"].flatMap(JobState.init(rawValue:))
    }

    public func info(_ ref: String) throws -> ArtifactInfo? {
        // `job:N`: what job N stored (its newest artifact that is not a checkpoint), once N has
        // succeeded — fixed from then on, since a finished job stores nothing more.
        if let id = ArtifactStore.jobReference(ref) {
            return try db.query("""
                SELECT \(ArtifactStore.columns) FROM artifacts
                WHERE job_id = $1 AND kind NOT LIKE '%checkpoint'
                  AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = $1 AND j.state = 'succeeded')
                ORDER BY id DESC LIMIT 1
                """, [String(id)]).first.map(ArtifactStore.info)
        }
        let r = ref.lowercased()
        if r.count >= 8, r.count <= 64, r.allSatisfy({ $0.isHexDigit }) {
            let rows = try db.query("""
                SELECT DISTINCT ON (sha256) \(ArtifactStore.columns) FROM artifacts
                WHERE sha256 LIKE $1 || '%' ORDER BY sha256, id DESC LIMIT 2
                """, [r])
            if rows.count > 1 { throw ArtifactError("artifact reference '\(ref)' is ambiguous (give more of the sha256)") }
            if let row = rows.first { return ArtifactStore.info(row) }
        }
        return try db.query("SELECT \(ArtifactStore.columns) FROM artifacts WHERE name = $1 ORDER BY id DESC LIMIT 1",
                            [ref]).first.map(ArtifactStore.info)
    }

    /// `info`, or a one-line error naming the missing reference.
    public func require(_ ref: String) throws -> ArtifactInfo {
        guard let i = try info(ref) else {
            throw ArtifactError("no artifact '\(ref)' (see mscm-ctl artifacts list)")
        }
        return i
    }

    /// Streams the blob's chunks in order to `body`, checking the size and the sha256.
    public func read(_ sha256: String, _ body: (Data) throws -> Void) throws {
        guard let b = try db.query("SELECT size, chunks FROM blobs WHERE sha256 = $1", [sha256]).first,
              let size = b.int("size"), let n = b.int("chunks") else {
            throw ArtifactError("no blob \(sha256)")
        }
        var sha = SHA256()
        var seen = 0
        for seq in 0..<n {
            guard let chunk = try db.queryBytes("SELECT data FROM blob_chunks WHERE sha256 = $1 AND seq = $2",
                                                [sha256, String(seq)]) else {
                throw ArtifactError("blob \(sha256) is missing chunk \(seq)")
            }
            sha.update(chunk); seen += chunk.count
            try body(chunk)
        }
        guard seen == size, sha.finalizeHex() == sha256 else { throw ArtifactError("blob \(sha256) is corrupt (size or sha256 differs)") }
    }

    /// The artifact's bytes in memory.
    public func data(_ ref: String) throws -> Data {
        let info = try require(ref)
        var out = Data(capacity: Int(info.size))
        try read(info.sha256) { out.append($0) }
        return out
    }

    /// Writes the artifact to `url` through a temporary file renamed into place, so `url` is
    /// either the whole verified artifact or untouched.
    @discardableResult
    public func export(_ ref: String, to url: URL) throws -> ArtifactInfo {
        let info = try require(ref)
        do { try AtomicFile.write(to: url) { put in try read(info.sha256) { try $0.withUnsafeBytes(put) } } }
        catch let e as FileError { throw ArtifactError(e.description) }
        return info
    }

    /// Newest first, optionally filtered by (exact) name, kind or producing job.
    public func list(name: String? = nil, kind: String? = nil, job: Int64? = nil, limit: Int = 100) throws -> [ArtifactInfo] {
        try db.query("""
            SELECT \(ArtifactStore.columns) FROM artifacts
            WHERE ($1::text IS NULL OR name = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::bigint IS NULL OR job_id = $3)
            ORDER BY id DESC LIMIT $4
            """, [name, kind, job.map { String($0) }, String(limit)]).map(ArtifactStore.info)
    }
}
