import Foundation

/// The worker's heartbeat thread, on its own connection (a handler's connection may be busy
/// for minutes uploading weights). Every `heartbeat` seconds it renews all the worker's leases
/// in one statement. Between beats it waits on LISTEN: a submission wakes an idle slot, a cancel
/// notification brings the next heartbeat forward.
///
/// A NOTIFY is only ever a hint to look at the database: anyone who can connect may send one
/// (`pg_notify` is executable by PUBLIC), so a cancel takes effect only when the heartbeat reads
/// `cancel_requested = true` in the job's row, and a flood of notifications costs at most one
/// extra heartbeat per `minBeatGap`.
///
/// A lease the renewal does not return is lost at once (the row belongs to someone else). If
/// renewals fail (database away) the keeper reconnects with backoff; a lease not renewed by its
/// local deadline — last successful renewal + 80 % of the lease, measured from before the
/// statement was sent, so it falls before the database's own expiry — counts as lost. Either
/// way the handler's next `checkCancelled()` throws, and while the keeper is unhealthy the
/// worker claims nothing, so it never races the worker that rescues its job.
final class LeaseKeeper {
    let config: WorkerConfig
    let wake: WakeSignal
    let health: DatabaseHealth
    private let lock = NSLock()
    private var active: [Lease: LeaseSignals] = [:]
    private var stopping = false
    private var healthy = false
    private let stopSignal = WakeSignal(cap: 1)
    private let handle: DBHandle
    /// Earliest gap between two heartbeats brought forward by notifications.
    static let minBeatGap = 0.25

    /// The kinds the worker claims, for its `workers` row.
    let kinds: [String]
    private var registrationProblem: String?

    init(config: WorkerConfig, kinds: [String], wake: WakeSignal, health: DatabaseHealth) {
        self.config = config; self.kinds = kinds; self.wake = wake; self.health = health
        handle = DBHandle(config.conninfo, onConnect: config.listen
            ? ["LISTEN \(JobStore.jobsChannel)", "LISTEN \(JobStore.cancelChannel)"] : [])
    }

    /// Slots claim only while this is true: the keeper's connection works and its last
    /// renewal round succeeded.
    var isHealthy: Bool { lock.withLock { healthy } }

    func register(_ lease: Lease) -> LeaseSignals {
        let s = LeaseSignals(deadline: Clock.now + 0.8 * config.lease)
        lock.withLock { active[lease] = s }
        return s
    }

    func unregister(_ lease: Lease) { _ = lock.withLock { active.removeValue(forKey: lease) } }

    /// Tells every running handler the worker is shutting down.
    func shutdownAll() { lock.withLock { for s in active.values { s.requestShutdown() } } }

    func stop() {
        lock.withLock { stopping = true }
        stopSignal.close()
    }

    func run() {
        var backoff = Backoff()
        var nextBeat = 0.0
        var lastBeat = -Double.infinity
        while !lock.withLock({ stopping }) {
            do {
                let db = try handle.get()
                let now = Clock.now
                if now >= nextBeat {
                    try beat(db)
                    lastBeat = now
                    nextBeat = now + config.heartbeatInterval
                    lock.withLock { healthy = true }
                    health.ok()
                    backoff.reset()
                }
                let wait = max(0.01, nextBeat - Clock.now)
                if config.listen {
                    for n in try db.waitForNotifications(timeout: min(wait, 0.5)) where deliver(n) {
                        nextBeat = min(nextBeat, lastBeat + LeaseKeeper.minBeatGap)
                    }
                } else {
                    stopSignal.sleep(min(wait, 0.5))
                }
            } catch {
                lock.withLock { healthy = false }
                health.failed(error)
                handle.reset()
                // Leases past their local deadline are lost; the handlers hear it at their next check.
                for s in lock.withLock({ Array(active.values) }) { _ = s.isLost }
                stopSignal.sleep(backoff.next())
                nextBeat = 0
            }
        }
    }

    private func beat(_ db: PGConnection) throws {
        // The worker's own row (`mscm-ctl workers`). A refusal that is not the database going
        // away (say, roles.sql not re-run after migration 0006) must not stop the leases: it is
        // logged once and the heartbeat goes on.
        do {
            try WorkerStore(db).heartbeat(config, kinds: kinds)
            registrationProblem = nil
        } catch where !error.isConnectionLoss {
            let line = Worker.oneLine(error)
            if registrationProblem != line { config.log("cannot register in the workers table: \(line)"); registrationProblem = line }
        }
        let leases = lock.withLock { Array(active.keys) }
        guard !leases.isEmpty else { return }
        let sent = Clock.now
        let held = try JobStore(db).heartbeat(leases, lease: config.lease)
        lock.withLock {
            for l in leases {
                guard let s = active[l] else { continue }
                if let cancel = held[l] {
                    s.renewed(until: sent + 0.8 * config.lease)
                    if cancel { s.requestCancel() }
                } else {
                    s.markLost()
                }
            }
        }
    }

    /// Acts on a notification's hint; true when the leases should be looked at now (a cancel
    /// for one of ours: the heartbeat reads the row, which decides).
    private func deliver(_ n: (channel: String, payload: String)) -> Bool {
        switch n.channel {
        case JobStore.jobsChannel:
            if config.queues.contains(n.payload) { wake.signal() }
            return false
        case JobStore.cancelChannel:
            guard let id = Int64(n.payload) else { return false }
            return lock.withLock { active.keys.contains { $0.job == id } }
        default:
            return false
        }
    }
}
