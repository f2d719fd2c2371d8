import Formats
import Foundation

/// A job's state. `queued` covers both "runnable now" and "waiting for run_at" (a retry's
/// backoff or a delayed submission); the three final states carry a `finished_at`.
///
///     queued ──claim──▶ running ──▶ succeeded
///       │  ▲              │ ├────▶ failed      (error, attempts spent, or a permanent error)
///       │  └──────────────┘ └────▶ cancelled   (cancel reached the handler)
///       │   retry (backoff) / rescue (lease expired) / give back (worker shut down)
///       └──cancel──▶ cancelled
///     failed, cancelled ──retry command──▶ queued
public enum JobState: String, CaseIterable, Sendable {
    case queued, running, succeeded, failed, cancelled

    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// Why a running handler was told to stop (`JobContext.checkCancelled()` throws `JobCancelled`).
public enum StopReason: String, Sendable {
    /// `mscm-ctl cancel` asked for it.
    case cancelRequested = "cancel requested"
    /// The heartbeat could not renew the lease (another worker may rescue the job).
    case leaseLost = "lease lost"
    /// The worker is shutting down (SIGTERM/SIGINT) and gives the job back.
    case shutdown = "worker shutting down"
}

/// How one attempt ended, as the worker saw it.
public enum AttemptOutcome: Equatable, Sendable {
    case succeeded(JSON)
    /// The handler threw. `permanent` errors (`JobFailure.permanent`, an invalid spec) skip retries.
    case failed(String, permanent: Bool)
    /// The handler stopped at a cancellation check.
    case stopped(StopReason)
    /// The database went away under the handler; nothing is wrong with the job itself.
    case interrupted(String)
}

/// What the worker writes when an attempt ends. Every write is fenced by
/// `id = $id AND attempt = $attempt AND state = 'running'`: a worker that lost its lease
/// changes nothing.
public enum FinishAction: Equatable, Sendable {
    /// → succeeded, with the result.
    case complete(JSON)
    /// → queued with `run_at = now() + delay` (RetryPolicy), the error kept.
    case retry(after: Double, error: String)
    /// → failed, the error kept.
    case fail(String)
    /// → cancelled.
    case cancel
    /// → queued at once without spending an attempt (max_attempts + 1), keeping the checkpoint.
    /// After a lost lease this is still safe to try: if another worker holds the job now, the
    /// fence refuses it; if nobody rescued it yet, the job is back in the queue at once.
    case giveBack(String)
}

/// The job lifecycle as a value-type state machine (postgres-nio style): pure decisions,
/// testable without a socket, executed by `JobStore`'s fenced SQL. The same rules are in the
/// database: `jobs_state_transition` (migration 0001) refuses any transition not in
/// `allowed`, and `JobStore.rescueExpired` implements `afterLeaseExpired` in SQL.
public enum JobLifecycle {
    /// Every state change the queue makes.
    public static let allowed: [JobState: Set<JobState>] = [
        .queued: [.running, .cancelled],
        .running: [.succeeded, .failed, .cancelled, .queued],
        .succeeded: [],
        .failed: [.queued],
        .cancelled: [.queued],
    ]

    public static func allows(_ from: JobState, _ to: JobState) -> Bool {
        from == to || allowed[from]!.contains(to)
    }

    /// The write that ends an attempt.
    ///
    /// - A cancel request wins over everything but success: a cancelled job is not retried.
    /// - A failure retries after `retry.delay(afterAttempt: attempt, u:)` while
    ///   attempt < maxAttempts, else the job fails.
    /// - Shutdown, a lost lease and a lost database give the job back without spending the
    ///   attempt (fenced: refused when another worker has the job).
    public static func finish(_ outcome: AttemptOutcome, attempt: Int, maxAttempts: Int,
                              cancelRequested: Bool, retry: RetryPolicy, u: Double) -> FinishAction {
        switch outcome {
        case .succeeded(let result):
            return .complete(result)
        case .stopped(.cancelRequested):
            return .cancel
        case .stopped(.leaseLost):
            return cancelRequested ? .cancel : .giveBack(StopReason.leaseLost.rawValue)
        case .stopped(.shutdown):
            return cancelRequested ? .cancel : .giveBack(StopReason.shutdown.rawValue)
        case .interrupted(let why):
            return cancelRequested ? .cancel : .giveBack(why)
        case .failed(let error, let permanent):
            if cancelRequested { return .cancel }
            if permanent || attempt >= maxAttempts { return .fail(error) }
            return .retry(after: retry.delay(afterAttempt: attempt, u: u), error: error)
        }
    }

    /// Rescues a job may have before it fails (`WorkerConfig.maxRescues`).
    public static let defaultMaxRescues = 5

    /// Where a running job goes when its lease expired (its worker died or lost the database):
    /// back to the queue to resume from its checkpoint — without spending the attempt, since
    /// neither is the job's fault — unless cancel was requested or this is rescue number
    /// `maxRescues` (a job that keeps killing its workers, or a fleet that keeps losing the
    /// database, ends failed with that said).
    public static func afterLeaseExpired(rescues: Int, maxRescues: Int, cancelRequested: Bool) -> JobState {
        if cancelRequested { return .cancelled }
        return rescues + 1 >= maxRescues ? .failed : .queued
    }
}
