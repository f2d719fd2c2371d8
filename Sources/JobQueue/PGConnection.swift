import CLibPQ
import Foundation

// A small synchronous libpq client: one connection, parameterised queries in text format.
// Connection settings follow libpq's conventions (DATABASE_URL, or the PG* variables).

public struct PGError: Error, CustomStringConvertible {
    public let message: String
    /// SQLSTATE code when the server sent one (e.g. "23505" unique violation).
    public let sqlState: String?
    public init(_ message: String, sqlState: String? = nil) { self.message = message; self.sqlState = sqlState }
    public var description: String { message }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// Errors after which the connection is unusable and should be re-made.
    public var isConnectionLost: Bool { sqlState == nil || sqlState!.hasPrefix("08") || sqlState == "57P01" }
}

/// One row-set returned by a query, read as text.
public struct PGRows: Sequence {
    public let columns: [String]
    public let rows: [[String?]]
    public var count: Int { rows.count }
    public func makeIterator() -> IndexingIterator<[PGRow]> {
        rows.map { PGRow(columns: columns, values: $0) }.makeIterator()
    }
    public var first: PGRow? { rows.first.map { PGRow(columns: columns, values: $0) } }
    public subscript(i: Int) -> PGRow { PGRow(columns: columns, values: rows[i]) }
}

public struct PGRow {
    public let columns: [String]
    public let values: [String?]
    public subscript(_ name: String) -> String? {
        guard let i = columns.firstIndex(of: name) else { preconditionFailure("no column \(name) in \(columns)") }
        return values[i]
    }
    public func int(_ name: String) -> Int? { self[name].flatMap { Int($0) } }
    public func double(_ name: String) -> Double? { self[name].flatMap { Double($0) } }
    public func bool(_ name: String) -> Bool? { self[name].map { $0 == "t" } }
    public func string(_ name: String) -> String? { self[name] }
}

public final class PGConnection {
    let conn: OpaquePointer

    /// The connection string used when none is given: DATABASE_URL if set, else libpq's
    /// defaults (PGHOST, PGPORT, PGDATABASE, PGUSER…).
    public static var defaultConnectionString: String {
        ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
    }

    public init(_ conninfo: String = PGConnection.defaultConnectionString) throws {
        if let problem = PGConnection.urlProblem(conninfo) { throw PGError("cannot connect to PostgreSQL: \(problem)") }
        guard let c = PQconnectdb(conninfo) else { throw PGError("could not allocate a libpq connection") }
        guard PQstatus(c) == CONNECTION_OK else {
            let msg = PGConnection.clean(String(cString: PQerrorMessage(c)))
            PQfinish(c)
            throw PGError("cannot connect to PostgreSQL: \(Secrets.redact(msg, conninfo: conninfo))")
        }
        conn = c
        // Notices (e.g. "relation already exists, skipping") are not errors; keep stderr quiet.
        PQsetNoticeProcessor(c, { _, _ in }, nil)
    }

    deinit { PQfinish(conn) }

    /// A URL libpq would misread in a way that prints part of a secret: an unencoded '@' in the
    /// user or password makes libpq take the rest of the password for the host name, and echo
    /// it in "could not translate host name".
    static func urlProblem(_ conninfo: String) -> String? {
        guard let scheme = conninfo.range(of: "://") else { return nil }
        let authority = conninfo[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" }
        guard authority.filter({ $0 == "@" }).count > 1 else { return nil }
        return "the connection URL's user or password contains an unencoded '@' (write it as %40)"
    }

    public var isOK: Bool { PQstatus(conn) == CONNECTION_OK }

    /// libpq messages end with newlines and may span lines; errors in mscm are one line.
    static func clean(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Runs one parameterised statement. Parameters are sent separately from the SQL text.
    @discardableResult
    public func query(_ sql: String, _ params: [String?] = []) throws -> PGRows {
        let result: OpaquePointer? = withCStrings(params) { ptrs in
            PQexecParams(conn, sql, Int32(params.count), nil, ptrs, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs a script of several statements without parameters (migrations, BEGIN/COMMIT).
    public func execute(_ script: String) throws {
        _ = try consume(PQexec(conn, script))
    }

    /// Runs `body` in a transaction; rolls back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    func consume(_ result: OpaquePointer?) throws -> PGRows {
        guard let r = result else { throw PGError(PGConnection.clean(String(cString: PQerrorMessage(conn)))) }
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PGError(PGConnection.clean(String(cString: PQresultErrorMessage(r))), sqlState: state)
        }
        let nf = Int(PQnfields(r)), nt = Int(PQntuples(r))
        let columns = (0..<nf).map { String(cString: PQfname(r, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(nt)
        for i in 0..<nt {
            rows.append((0..<nf).map { j in
                PQgetisnull(r, Int32(i), Int32(j)) == 1 ? nil : String(cString: PQgetvalue(r, Int32(i), Int32(j)))
            })
        }
        return PGRows(columns: columns, rows: rows)
    }

    // MARK: LISTEN / NOTIFY

    /// The socket's file descriptor, for waiting on notifications.
    public var socket: Int32 { PQsocket(conn) }

    /// Waits up to `timeout` seconds for a notification; returns the channels' payloads received.
    public func waitForNotifications(timeout: Double) throws -> [(channel: String, payload: String)] {
        var out = drainNotifications()
        if !out.isEmpty { return out }
        var fds = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(0, min(timeout, 3600)) * 1000)
        let rc = poll(&fds, 1, ms)
        if rc > 0 {
            guard PQconsumeInput(conn) == 1 else {
                throw PGError("lost the database connection: \(PGConnection.clean(String(cString: PQerrorMessage(conn))))")
            }
            out = drainNotifications()
        }
        return out
    }

    func drainNotifications() -> [(channel: String, payload: String)] {
        var out: [(String, String)] = []
        PQconsumeInput(conn)
        while let n = PQnotifies(conn) {
            out.append((String(cString: n.pointee.relname), String(cString: n.pointee.extra)))
            PQfreemem(n)
        }
        return out
    }
}

/// Calls `body` with C strings for `values` (nil stays a NULL pointer), valid for the call.
func withCStrings<R>(_ values: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let owned: [UnsafeMutablePointer<CChar>?] = values.map { $0.map { strdup($0) } }
    defer { for p in owned { free(p) } }
    return body(owned.map { $0.map { UnsafePointer($0) } })
}
