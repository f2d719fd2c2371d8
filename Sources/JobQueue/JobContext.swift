import Formats
import Foundation

/// What a worker's other threads tell a running handler: cancel requested, lease lost, worker
/// shutting down; and the local deadline by which the lease must have been renewed. Thread-safe.
public final class LeaseSignals {
    private let lock = NSLock()
    private var cancel = false, lost = false, shutdown = false
    private var deadline: Double

    /// `deadline`: monotonic seconds (`Clock.now`) after which the lease counts as lost unless
    /// renewed.
    public init(deadline: Double) { self.deadline = deadline }

    public func requestCancel() { lock.withLock { cancel = true } }
    public func markLost() { lock.withLock { lost = true } }
    public func requestShutdown() { lock.withLock { shutdown = true } }
    public func renewed(until d: Double) { lock.withLock { deadline = max(deadline, d) } }

    public var cancelRequested: Bool { lock.withLock { cancel } }
    public var isLost: Bool {
        lock.withLock {
            if !lost && Clock.now > deadline { lost = true }
            return lost
        }
    }

    /// Why the handler should stop now, if it should. A lost lease wins (nothing the handler
    /// writes would count), then cancel, then shutdown.
    public var stopReason: StopReason? {
        if isLost { return .leaseLost }
        return lock.withLock { cancel ? .cancelRequested : shutdown ? .shutdown : nil }
    }
}

/// Monotonic seconds for deadlines and throttles (immune to wall-clock steps).
public enum Clock {
    public static var now: Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

/// The handler's view of its job: identity, spec, progress, log, cancellation, checkpoints and
/// the artifact store. Every write is fenced by (job id, attempt): after the lease is lost they
/// change nothing (progress and log lines are dropped; checkpoints and artifacts throw
/// `JobCancelled(.leaseLost)`). Used from the handler's thread only.
public final class JobContext {
    public let job: Job
    public let lease: Lease
    public let signals: LeaseSignals
    let handle: DBHandle

    /// Progress is written at most once per `progressInterval` seconds; the last report is
    /// written with the job's final state regardless.
    public let progressInterval: Double
    private var lastProgressWrite = -Double.infinity
    private var firstProgress: (iteration: Int, at: Double)?
    /// The next iteration whose loss goes into the job's history (about 200 points a run).
    private var nextHistoryIteration = 0
    /// The latest progress reported, written or not.
    public private(set) var latestProgress: JSON?
    public private(set) var checkpoint: Checkpoint?

    public var id: Int64 { job.id }
    public var attempt: Int { job.attempt }
    public var spec: JSON { job.spec }

    public init(job: Job, lease: Lease, signals: LeaseSignals, handle: DBHandle, progressInterval: Double = 1) {
        self.job = job; self.lease = lease; self.signals = signals; self.handle = handle
        self.progressInterval = progressInterval
        checkpoint = job.checkpoint
    }

    // MARK: cancellation

    /// Throws `JobCancelled` when cancel was requested, the lease was lost or the worker is
    /// shutting down. Cheap (no database round trip): the worker's heartbeat thread keeps the
    /// flags current. Call it between units of work.
    public func checkCancelled() throws {
        if let r = signals.stopReason { throw JobCancelled(reason: r) }
    }

    // MARK: progress and log

    /// Reports progress: iteration of total, loss, rate (iterations/s) and ETA (s). Rate and
    /// ETA are computed from this attempt's reports when not given. Written to the job row at
    /// most once per second; never throws (a failed write is retried by the next report).
    public func progress(iteration: Int, total: Int? = nil, loss: Double? = nil, rate: Double? = nil,
                         eta: Double? = nil, extra: [String: JSON] = [:]) {
        let now = Clock.now
        if firstProgress == nil { firstProgress = (iteration, now) }
        var r = rate
        if r == nil, let f = firstProgress, now > f.at, iteration > f.iteration {
            r = Double(iteration - f.iteration) / (now - f.at)
        }
        var e = eta
        if e == nil, let r, r > 0, let total { e = Double(max(0, total - iteration)) / r }
        var p: [String: JSON] = ["iteration": .int(iteration), "at": .double(Date().timeIntervalSince1970)]
        if let total { p["total"] = .int(total) }
        if let loss, loss.isFinite { p["loss"] = .double(loss) }
        if let r, r.isFinite { p["rate"] = .double(r) }
        if let e, e.isFinite { p["eta"] = .double(e) }
        if !extra.isEmpty { p["extra"] = .object(extra) }
        latestProgress = .object(p)
        // Without a total, the curve gets a point with each progress write (≤ 1/s).
        let due = total.map { iteration >= nextHistoryIteration || iteration == $0 } ?? (now - lastProgressWrite >= progressInterval)
        if let loss, loss.isFinite, due {
            nextHistoryIteration = iteration + max(1, (total ?? 0) / 200)
            record(iteration: iteration, figures: ["loss": .double(loss)])
        }
        guard now - lastProgressWrite >= progressInterval else { return }
        lastProgressWrite = now
        do {
            if try !handle.with({ try JobStore($0).setProgress(lease, .object(p)) }) { signals.markLost() }
        } catch {}
    }

    /// Adds figures to the job's history at `iteration` (`mscm-ctl history`): the loss, which
    /// `progress` records by itself about 200 times a run, and validation figures. Never throws.
    public func record(iteration: Int, figures: [String: JSON]) {
        do {
            if try !handle.with({ try JobStore($0).recordHistory(lease, iteration: iteration, figures: figures) }) { signals.markLost() }
        } catch {}
    }

    /// Appends a line to the job's event log (`mscm-ctl logs`). Never throws.
    public func log(_ message: String) {
        do {
            if try !handle.with({ try JobStore($0).appendLog(lease, message) }) { signals.markLost() }
        } catch {}
    }

    /// This job's history so far (e.g. the best validation figure before a resume).
    public func history() throws -> [JobStore.HistoryPoint] {
        try history(of: job.id)
    }

    /// Another job's history (e.g. the training curve of a model being evaluated).
    public func history(of id: Int64) throws -> [JobStore.HistoryPoint] {
        try handle.with { try JobStore($0).history(id) }
    }

    // MARK: checkpoints

    /// Records that the artifact `artifact` (a sha256 from `putArtifact`) holds the state after
    /// `step`; a rescued or retried attempt finds it in `checkpoint`.
    public func recordCheckpoint(step: Int, artifact: String) throws {
        let ok = try handle.with { try JobStore($0).recordCheckpoint(lease, step: step, artifact: artifact) }
        guard ok else { signals.markLost(); throw JobCancelled(reason: .leaseLost) }
        checkpoint = Checkpoint(step: step, artifact: artifact)
    }

    // MARK: artifacts

    /// Stores a file (streamed in 1 MiB chunks) as an artifact of this job; returns its sha256.
    /// `replace`: the name is a pointer meant to move (e.g. a report series' latest), so it may
    /// be taken by another job's artifact (recorded as a replacement, never silent).
    @discardableResult
    public func putArtifact(name: String, kind: String, file: URL, replace: Bool = false) throws -> String {
        try handle.with { try ArtifactStore($0).put(name: name, kind: kind, file: file, lease: lease, replace: replace).sha256 }
    }

    @discardableResult
    public func putArtifact(name: String, kind: String, data: Data) throws -> String {
        try handle.with { try ArtifactStore($0).put(name: name, kind: kind, data: data, lease: lease).sha256 }
    }

    /// An artifact's bytes, by sha256 (or unique prefix) or name (newest).
    public func getArtifact(_ ref: String) throws -> Data {
        try handle.with { try ArtifactStore($0).data(ref) }
    }

    /// Streams an artifact to a file (via a temporary file renamed into place).
    @discardableResult
    public func getArtifact(_ ref: String, to url: URL) throws -> ArtifactInfo {
        try handle.with { try ArtifactStore($0).export(ref, to: url) }
    }

    public func artifactInfo(_ ref: String) throws -> ArtifactInfo? {
        try handle.with { try ArtifactStore($0).info(ref) }
    }
}
