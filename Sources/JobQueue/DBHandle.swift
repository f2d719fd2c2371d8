import Foundation

/// A connection that is made on first use and re-made after it breaks. Each worker thread owns
/// one (libpq connections are not shared between threads).
public final class DBHandle {
    public let conninfo: String
    private var conn: PGConnection?
    /// Statements run on every new connection (LISTEN …).
    private let onConnect: [String]

    public init(_ conninfo: String = PGConnection.defaultConnectionString, onConnect: [String] = []) {
        self.conninfo = conninfo
        self.onConnect = onConnect
    }

    /// The live connection, connecting if needed. Throws PGError (password redacted) when the
    /// database is unreachable.
    public func get() throws -> PGConnection {
        if let c = conn, c.isOK { return c }
        conn = nil
        let c = try PGConnection(conninfo)
        for s in onConnect { try c.execute(s) }
        conn = c
        return c
    }

    /// Drops the connection so the next `get()` makes a new one.
    public func reset() { conn = nil }

    /// Runs `body` with the connection; a lost connection is dropped before the error goes on.
    public func with<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let c = try get()
        do { return try body(c) } catch let e as PGError {
            if e.isConnectionLost || !c.isOK { reset() }
            throw e
        }
    }
}

/// Waits between reconnection attempts: 0.1 s doubling to `cap`, each with ±25 % jitter so a
/// fleet does not reconnect in lockstep after a database restart.
public struct Backoff {
    public let first: Double
    public let cap: Double
    public private(set) var failures = 0

    public init(first: Double = 0.1, cap: Double = 5) { self.first = first; self.cap = cap }

    /// The wait after one more failure.
    public mutating func next() -> Double {
        failures += 1
        let d = min(cap, first * pow(2, Double(min(failures - 1, 30))))
        return d * Double.random(in: 0.75...1.25)
    }

    public mutating func reset() { failures = 0 }
}

extension Error {
    /// True for errors that mean the database went away (as opposed to a bad statement).
    public var isConnectionLoss: Bool {
        if let e = self as? PGError { return e.isConnectionLost }
        return false
    }
}
