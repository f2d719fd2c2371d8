import Foundation

/// How a worker behaves; `mscm-worker` flags map onto it one to one.
public struct WorkerConfig {
    /// Names this worker in leases, logs and `attempted_by` (slots add "/n").
    public var id: String
    public var queues: [String] = ["default"]
    /// Kinds to claim; nil = every kind the worker has a handler for.
    public var kinds: [String]? = nil
    /// Jobs run at once (one thread and one connection each).
    public var concurrency: Int = 1
    /// Lease length in seconds; heartbeats renew it every `heartbeat` seconds.
    public var lease: Double = 30
    public var heartbeat: Double? = nil
    /// Idle slots look for work this often even without a NOTIFY (±20 % jitter).
    public var poll: Double = 2
    /// LISTEN for submissions and cancels; false = poll-only (behind a transaction pooler).
    public var listen: Bool = true
    public var retry = RetryPolicy()
    /// Rescue and schedule checks run this often; default min(5 s, lease / 2).
    public var maintenance: Double? = nil
    /// A job whose lease expired this many times fails (a lease expiry does not spend an attempt).
    public var maxRescues: Int = JobLifecycle.defaultMaxRescues
    /// Finished jobs older than this are pruned (seconds; 0 = never).
    public var retention: Double = 7 * 86_400
    public var conninfo: String = PGConnection.defaultConnectionString
    /// Where handlers run: on the slot's thread, or each job in a child process the slot
    /// supervises (`JobProcess`), so that a job that crashes fails alone, with its cause.
    public var isolation: Isolation = .thread
    /// Where the one-line-per-state-change log goes.
    public var log: (String) -> Void = WorkerLog.standardOutput

    public init(id: String = WorkerConfig.defaultID) { self.id = id }

    public static var defaultID: String { "\(ProcessInfo.processInfo.hostName)-\(getpid())" }

    public var heartbeatInterval: Double { heartbeat ?? lease / 3 }
    public var maintenanceInterval: Double { maintenance ?? min(5, lease / 2) }
}

public enum Isolation: Equatable {
    case thread
    /// `executable --run-job …` runs one job (mscm-worker itself).
    case process(executable: String)

    var description: String {
        switch self { case .thread: return "jobs in threads"; case .process: return "a process per job" }
    }
}

public enum WorkerLog {
    /// `2026-11-21T23:45:50.123Z message`, flushed per line.
    public static let standardOutput: (String) -> Void = { line in
        let s = "\(ISOTime.format(Date().timeIntervalSince1970)) \(line)\n"
        FileHandle.standardOutput.write(s.data(using: .utf8)!)
    }
}

/// Wakes idle slots: a NOTIFY (or anything else that makes work) adds a token; a waiting slot
/// takes one or times out. Tokens are capped so a burst cannot queue up spurious wake-ups.
final class WakeSignal {
    private let cond = NSCondition()
    private var tokens = 0
    private var closed = false
    private let cap: Int

    init(cap: Int) { self.cap = max(1, cap) }

    func signal() {
        cond.lock(); tokens = min(cap, tokens + 1); cond.signal(); cond.unlock()
    }

    func close() {
        cond.lock(); closed = true; cond.broadcast(); cond.unlock()
    }

    var isClosed: Bool { cond.lock(); defer { cond.unlock() }; return closed }

    /// Returns when woken, closed, or after `timeout` seconds.
    func wait(timeout: Double) {
        cond.lock(); defer { cond.unlock() }
        let until = Date(timeIntervalSinceNow: timeout)
        while tokens == 0 && !closed {
            if !cond.wait(until: until) { return }
        }
        if tokens > 0 { tokens -= 1 }
    }

    /// Sleeps up to `seconds`, returning early when closed (used for backoff waits).
    func sleep(_ seconds: Double) {
        cond.lock(); defer { cond.unlock() }
        let until = Date(timeIntervalSinceNow: seconds)
        while !closed { if !cond.wait(until: until) { return } }
    }
}

/// Logs "database unavailable" once when the database goes away and "reachable again" once
/// when it returns, however many threads notice.
final class DatabaseHealth {
    private let lock = NSLock()
    private var down = false
    private let log: (String) -> Void

    init(log: @escaping (String) -> Void) { self.log = log }

    func failed(_ error: Error) {
        let first = lock.withLock { () -> Bool in defer { down = true }; return !down }
        if first { log("database unavailable: \(Secrets.redact("\(error)")); reconnecting with backoff") }
    }

    func ok() {
        let was = lock.withLock { () -> Bool in defer { down = false }; return down }
        if was { log("database reachable again") }
    }
}
