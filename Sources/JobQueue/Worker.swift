import Formats
import Foundation

/// A worker: `concurrency` slot threads that claim and run jobs (each with its own
/// connection), a `LeaseKeeper` thread (heartbeats + LISTEN) and a `Maintenance` thread
/// (rescue, schedules, pruning). `mscm-worker` is a thin shell around it; tests run several
/// in one process.
///
/// Slot loop: claim (only while the keeper is healthy) → run the handler → write the outcome
/// (fenced; retried across reconnects while it can still matter) → claim again at once; when
/// nothing is runnable, sleep until a NOTIFY or the poll interval. A lost connection is re-made
/// with backoff, logged once per outage.
///
/// `stop()` is the graceful shutdown: no more claims; running handlers see `JobCancelled(.shutdown)`
/// at their next check, checkpoint, and their jobs go back to the queue without spending an
/// attempt; heartbeats continue until the last one is handed back.
public final class Worker {
    public let config: WorkerConfig
    let handlers: [String: any JobHandler.Type]
    let kinds: [String]
    let wake: WakeSignal
    let health: DatabaseHealth
    let keeper: LeaseKeeper
    let maintenance: Maintenance
    private let lock = NSLock()
    private var stopping = false
    private var stoppedAt = Double.infinity
    private let slots = DispatchGroup()
    private let services = DispatchGroup()

    public struct ConfigError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(config: WorkerConfig, handlers: [any JobHandler.Type]) throws {
        var byKind: [String: any JobHandler.Type] = [:]
        for h in handlers { byKind[h.kind] = h }
        let kinds = config.kinds ?? byKind.keys.sorted()
        if let unknown = kinds.first(where: { byKind[$0] == nil }) {
            throw ConfigError(description: "unknown job kind '\(unknown)' (known: \(byKind.keys.sorted().joined(separator: ", ")))")
        }
        guard !kinds.isEmpty else { throw ConfigError(description: "no job kinds to run") }
        guard !config.queues.isEmpty else { throw ConfigError(description: "no queues to take jobs from") }
        guard config.concurrency >= 1, config.lease > 0, config.heartbeatInterval < config.lease, config.poll > 0 else {
            throw ConfigError(description: "concurrency must be ≥ 1 and the heartbeat shorter than the lease")
        }
        self.config = config
        self.handlers = byKind
        self.kinds = kinds
        wake = WakeSignal(cap: config.concurrency)
        health = DatabaseHealth(log: config.log)
        keeper = LeaseKeeper(config: config, kinds: kinds, wake: wake, health: health)
        maintenance = Maintenance(config: config, wake: wake, health: health)
    }

    public var isStopping: Bool { lock.withLock { stopping } }

    /// Starts the threads and returns.
    public func start() {
        let swept = ScratchSpace.sweepStale()
        if swept > 0 { config.log("removed \(swept) scratch folder(s) left by processes that died") }
        config.log("worker \(config.id) started on \(Secrets.displayable(config.conninfo)): queues \(config.queues.joined(separator: ",")), kinds \(kinds.joined(separator: ",")), "
                   + "concurrency \(config.concurrency), \(config.isolation.description), lease \(Durations.format(config.lease)), "
                   + (config.listen ? "LISTEN/NOTIFY + poll every \(config.poll) s" : "poll-only every \(config.poll) s"))
        spawn("keeper", services) { [keeper] in keeper.run() }
        spawn("maintenance", services) { [maintenance] in maintenance.run() }
        for i in 0..<config.concurrency { spawn("slot-\(i + 1)", slots) { [self] in slotLoop(i) } }
        // Heartbeats continue until the last slot has handed its job back.
        slots.notify(queue: .global()) { [keeper, maintenance] in keeper.stop(); maintenance.stop() }
    }

    /// Graceful shutdown (idempotent); returns at once — `wait()` for the threads.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopping = true }
            if !stopping { stoppedAt = Clock.now }
            return !stopping
        }
        guard first else { return }
        config.log("worker \(config.id) stopping: no more claims; running jobs checkpoint and give their leases back")
        wake.close()
        keeper.shutdownAll()
        maintenance.stop()
    }

    /// Blocks until every thread has finished (after `stop()`).
    public func wait() {
        slots.wait()
        services.wait()
        _ = try? WorkerStore(PGConnection(config.conninfo)).stopped(config.id)
        config.log("worker \(config.id) stopped")
    }

    private func spawn(_ name: String, _ group: DispatchGroup, _ body: @escaping () -> Void) {
        group.enter()
        let t = Thread { body(); group.leave() }
        t.name = "mscm-\(name)"
        t.stackSize = 16 << 20  // handlers run training code; the 512 KiB default is tight
        t.start()
    }

    // MARK: slots

    private func slotLoop(_ index: Int) {
        let owner = config.concurrency == 1 ? config.id : "\(config.id)/\(index + 1)"
        let handle = DBHandle(config.conninfo)
        var backoff = Backoff()
        while !isStopping {
            guard keeper.isHealthy else { wake.sleep(0.1); continue }
            let job: Job?
            do {
                job = try handle.with {
                    try JobStore($0).claim(owner: owner, queues: config.queues, kinds: kinds, lease: config.lease)
                }
                backoff.reset()
            } catch {
                if error.isConnectionLoss { health.failed(error) } else { config.log("claim failed: \(Worker.oneLine(error))") }
                handle.reset()
                wake.sleep(backoff.next())
                continue
            }
            if let job { execute(job, owner: owner, handle: handle) }
            else { wake.wait(timeout: config.poll * Double.random(in: 0.8...1.2)) }
        }
    }

    private func execute(_ job: Job, owner: String, handle: DBHandle) {
        let lease = Lease(job: job.id, attempt: job.attempt, owner: owner)
        let signals = keeper.register(lease)
        defer { keeper.unregister(lease) }
        if isStopping { signals.requestShutdown() }  // stop() raced the claim
        let name = "job \(job.id) \(job.kind) attempt \(job.attempt)/\(job.maxAttempts)"
        config.log("\(name) running on \(owner)" + (job.checkpoint.map { " (resuming from step \($0.step))" } ?? ""))
        let started = Clock.now
        let outcome: AttemptOutcome
        let progress: JSON?
        switch config.isolation {
        case .thread:
            let ctx = JobContext(job: job, lease: lease, signals: signals, handle: handle)
            outcome = Worker.runHandler(handlers[job.kind], job, ctx)
            progress = ctx.latestProgress
        case .process(let executable):
            (outcome, progress) = JobProcess.supervise(job, lease: lease, signals: signals, executable: executable, config: config)
        }
        let action = JobLifecycle.finish(outcome, attempt: job.attempt, maxAttempts: job.maxAttempts,
                                         cancelRequested: signals.cancelRequested || job.cancelRequested,
                                         retry: config.retry, u: Double.random(in: 0..<1))
        guard let wrote = record(lease, action, progress: progress, handle: handle) else { return }
        let took = String(format: "%.2f s", Clock.now - started)
        guard wrote else {
            config.log("\(name): lease lost; outcome not recorded (another worker has the job)")
            return
        }
        switch action {
        case .complete: config.log("\(name) succeeded in \(took)")
        case .retry(let delay, let error):
            config.log("\(name) failed after \(took): \(error); retry in \(String(format: "%.1f", delay)) s")
            // Wake a slot when the backoff ends rather than at the next poll.
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [wake] in wake.signal() }
        case .fail(let error): config.log("\(name) failed after \(took): \(error); no retry")
        case .cancel: config.log("\(name) cancelled after \(took)")
        case .giveBack(let why): config.log("\(name) given back to the queue (\(why)) after \(took)")
        }
    }

    /// Validates the spec again (it may come from elsewhere than `mscm-ctl submit`) and runs the
    /// handler; every way it can end, as an outcome.
    static func runHandler(_ handler: (any JobHandler.Type)?, _ job: Job, _ ctx: JobContext) -> AttemptOutcome {
        guard let H = handler else { return .failed("no handler for kind \(job.kind)", permanent: true) }
        do {
            try ctx.handle.with { try H.validate(spec: job.spec, artifacts: RunTimeCatalog(store: ArtifactStore($0))) }
        } catch {
            if error.isConnectionLoss { return .interrupted("database connection lost: \(Worker.oneLine(error))") }
            return .failed(Worker.oneLine(error), permanent: true)
        }
        do {
            return .succeeded(try H.init().run(ctx))
        } catch let c as JobCancelled {
            return .stopped(ctx.signals.stopReason ?? c.reason)
        } catch let f as PermanentError {
            return .failed(Worker.oneLine(f), permanent: true)
        } catch let a as ArtifactError where a.permanent {
            return .failed(Worker.oneLine(a), permanent: true)
        } catch {
            if error.isConnectionLoss { return .interrupted("database connection lost: \(Worker.oneLine(error))") }
            return .failed(Worker.oneLine(error), permanent: false)
        }
    }

    static func oneLine(_ e: Error) -> String {
        Secrets.redact("\(e)").split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Writes the outcome, reconnecting with backoff while the database is away. Gives up after
    /// max(10 leases, 2 min), or one lease after a shutdown began: by then the job has been (or
    /// will be) rescued and rerun from its checkpoint. Returns false when the fence refused it,
    /// nil when it gave up (logged).
    private func record(_ lease: Lease, _ action: FinishAction, progress: JSON?, handle: DBHandle) -> Bool? {
        var backoff = Backoff()
        let giveUp = Clock.now + max(10 * config.lease, 120)
        while true {
            do {
                let ok = try handle.with { try JobStore($0).finish(lease, action, progress: progress) }
                health.ok()
                return ok
            } catch {
                let deadline = min(giveUp, lock.withLock { stoppedAt } + config.lease)
                guard error.isConnectionLoss, Clock.now < deadline else {
                    config.log("job \(lease.job) attempt \(lease.attempt): could not record the outcome: \(Worker.oneLine(error))")
                    return nil
                }
                health.failed(error)
                Thread.sleep(forTimeInterval: backoff.next())
            }
        }
    }

    /// Waits until the database is reachable and migrated (logging once while it is not).
    /// Returns false if `stop()` came first.
    public func waitForSchema() -> Bool {
        var backoff = Backoff()
        var said = false
        while !isStopping {
            do {
                let db = try PGConnection(config.conninfo)
                if try db.query("SELECT to_regclass('jobs') IS NOT NULL AS ok").first?.bool("ok") == true { return true }
                if !said { config.log("the database has no jobs table yet (run mscm-ctl migrate); waiting"); said = true }
            } catch {
                health.failed(error)
            }
            Thread.sleep(forTimeInterval: backoff.next())
        }
        return false
    }
}
