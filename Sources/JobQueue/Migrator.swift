import Formats
import Foundation

/// Applies the migrations (`Migrations/NNNN_name.sql`, embedded in the binaries) in order, each once, each in its own transaction,
/// recording (version, name, sha256) in `schema_migrations`. An applied migration whose file
/// has changed since is refused: the database and the code would disagree about the schema.
public struct Migrator {
    public struct Migration: Equatable {
        public let version: Int
        public let name: String
        public let sql: String
        public var checksum: String { SHA256.hex(Array(sql.utf8)) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let migrations: [Migration]

    public init(migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw Failure(description: "two migrations share version \(a.version): \(a.name) and \(b.name)")
        }
        self.migrations = sorted
    }

    /// Reads every `NNNN_name.sql` in `directory`; any other .sql name is an error.
    public init(directory: URL) throws {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else {
            throw Failure(description: "cannot read migrations directory \(directory.path)")
        }
        var files: [(name: String, sql: String)] = []
        for file in names.sorted() where file.hasSuffix(".sql") {
            guard let sql = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8) else {
                throw Failure(description: "cannot read migration \(file) as UTF-8")
            }
            files.append((file, sql))
        }
        try self.init(files: files)
    }

    /// Migrations from (file name, contents) pairs; every name must be `NNNN_name.sql`.
    public init(files: [(name: String, sql: String)]) throws {
        var found: [Migration] = []
        for (file, sql) in files {
            let stem = String(file.dropLast(4))
            guard file.hasSuffix(".sql"), let us = stem.firstIndex(of: "_"), let v = Int(stem[..<us]), v > 0 else {
                throw Failure(description: "migration file \(file) is not named NNNN_name.sql")
            }
            found.append(Migration(version: v, name: String(stem[stem.index(after: us)...]), sql: sql))
        }
        try self.init(migrations: found)
    }

    /// The project's own migrations, embedded in the binary by `ops/embed`
    /// (EmbeddedMigrations.swift), so a copied executable needs no checkout beside it.
    public static func project() throws -> Migrator {
        try Migrator(files: embeddedFiles)
    }

    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    // Any fixed key serialises concurrent migrators (two workers starting at once).
    static let lockKey = "7262013"

    /// Applies what is pending; returns the migrations applied now (empty when up to date).
    @discardableResult
    public func migrate(_ db: PGConnection, log: (String) -> Void = { _ in }) throws -> [Migration] {
        try db.execute(Migrator.bookkeeping)
        var applied: [Migration] = []
        for m in migrations {
            let done = try db.transaction { () -> Bool in
                try db.query("SELECT pg_advisory_xact_lock($1::bigint)", [Migrator.lockKey])
                let row = try db.query("SELECT checksum, name FROM schema_migrations WHERE version = $1", [String(m.version)]).first
                if let row {
                    guard row["checksum"] == m.checksum else {
                        throw Failure(description: "migration \(String(format: "%04d", m.version))_\(m.name).sql was edited after it was applied (checksum differs); add a new migration instead")
                    }
                    return true
                }
                do {
                    try db.execute(m.sql)
                } catch {
                    throw Failure(description: "migration \(String(format: "%04d", m.version))_\(m.name).sql failed: \(error)")
                }
                try db.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                             [String(m.version), m.name, m.checksum])
                return false
            }
            if !done { applied.append(m); log("applied \(String(format: "%04d", m.version))_\(m.name)") }
        }
        return applied
    }

    /// (version, name, applied?) for every known migration.
    public func status(_ db: PGConnection) throws -> [(Migration, Bool)] {
        try db.execute(Migrator.bookkeeping)
        let rows = try db.query("SELECT version FROM schema_migrations")
        let done = Set(rows.compactMap { $0.int("version") })
        return migrations.map { ($0, done.contains($0.version)) }
    }
}
