import Foundation

/// A throw-away database on the server that DATABASE_URL names, for tests and benchmarks:
/// created empty, migrated on request, dropped by `drop()`. Never touches the named database.
public final class ScratchDatabase {
    public let name: String
    public let url: String
    let admin: PGConnection

    public init(prefix: String = "mscm_test") throws {
        admin = try PGConnection()
        name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))_\(getpid())"
        try admin.execute("CREATE DATABASE \"\(name)\"")
        guard var c = URLComponents(string: PGConnection.defaultConnectionString), c.scheme?.hasPrefix("postgres") == true else {
            throw PGError("ScratchDatabase needs DATABASE_URL as a postgresql:// URL")
        }
        c.path = "/" + name
        url = c.string!
    }

    public func connect() throws -> PGConnection { try PGConnection(url) }

    /// A connection to a database with the project's migrations applied.
    public func migrated() throws -> PGConnection {
        let db = try connect()
        try Migrator.project().migrate(db)
        return db
    }

    public func drop() {
        // After a server restart (tests do that) the admin connection is dead: use a fresh one.
        let admin = (try? PGConnection()) ?? self.admin
        _ = try? admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name])
        try? admin.execute("DROP DATABASE IF EXISTS \"\(name)\"")
    }
}
