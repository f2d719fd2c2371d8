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
}

public struct ArtifactError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
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

    static func validName(_ name: String) -> Bool { !name.isEmpty && name.count <= 200 && !name.contains("\n") }
    static func validKind(_ kind: String) -> Bool { kind.range(of: "^[a-z][a-z0-9-]{0,62}$", options: .regularExpression) != nil }

    // MARK: put

    /// Stores the file's bytes (read twice in chunks: once to hash, once to upload, checking
    /// the file did not change in between) and names them. With `lease`, the artifact records
    /// its producing job, and the put fails with `JobCancelled(.leaseLost)` if the lease is gone.
    @discardableResult
    public func put(name: String, kind: String, file: URL, lease: Lease? = nil) throws -> ArtifactInfo {
        try checkNames(name, kind)
        guard let h = FileHandle(forReadingAtPath: file.path) else { throw ArtifactError("cannot read \(file.path)") }
        defer { try? h.close() }
        var sha = SHA256()
        var size = 0
        while let chunk = try h.read(upToCount: chunkSize), !chunk.isEmpty { sha.update(chunk); size += chunk.count }
        let digest = sha.finalizeHex()
        try h.seek(toOffset: 0)
        return try store(name: name, kind: kind, sha256: digest, size: size, lease: lease) { emit in
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
    public func put(name: String, kind: String, data: Data, lease: Lease? = nil) throws -> ArtifactInfo {
        try checkNames(name, kind)
        return try store(name: name, kind: kind, sha256: SHA256.hex(data), size: data.count, lease: lease) { emit in
            var at = 0
            while at < data.count {
                let end = min(at + chunkSize, data.count)
                try emit(data.subdata(in: at..<end))
                at = end
            }
        }
    }

    func checkNames(_ name: String, _ kind: String) throws {
        guard ArtifactStore.validName(name) else { throw ArtifactError("artifact name must be 1–200 characters on one line") }
        guard ArtifactStore.validKind(kind) else { throw ArtifactError("artifact kind '\(kind)' must be lowercase letters, digits and '-'") }
    }

    func store(name: String, kind: String, sha256: String, size: Int, lease: Lease?,
               chunks: ((Data) throws -> Void) throws -> Void) throws -> ArtifactInfo {
        try db.transaction {
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
                INSERT INTO artifacts (name, kind, sha256, size, job_id) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (name, sha256) DO NOTHING
                """, [name, kind, sha256, String(size), lease.map { String($0.job) }])
            return ArtifactStore.info(try db.query("SELECT \(ArtifactStore.columns) FROM artifacts WHERE name = $1 AND sha256 = $2",
                                                   [name, sha256]).first!)
        }
    }

    // MARK: get

    public func info(_ ref: String) throws -> ArtifactInfo? {
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
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let h = FileHandle(forWritingAtPath: tmp.path) else {
            throw ArtifactError("cannot write in \(dir.path)")
        }
        do {
            try read(info.sha256) { try h.write(contentsOf: $0) }
            try h.close()
            guard rename(tmp.path, url.path) == 0 else { throw ArtifactError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        } catch {
            try? h.close()
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
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
