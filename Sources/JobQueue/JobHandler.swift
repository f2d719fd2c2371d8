import Formats
import Foundation

/// One job kind: how `mscm-ctl submit <kind>` builds and checks its spec, and how a worker
/// runs it. Adding a kind is one file with a handler and one line in `JobRegistry.all`.
///
/// The contract a handler relies on:
/// * `validate(spec:artifacts:)` runs in `mscm-ctl submit` (and `schedule add`) BEFORE anything
///   is written, and again in the worker before `run` (a spec may come from elsewhere). It
///   throws one-line errors naming what is wrong. The default checks the spec against `flags`
///   (types, ranges, required keys, no unknown keys, artifacts exist); an override should call
///   `validateAgainstFlags(spec:artifacts:)` first and then check what the table cannot express.
/// * `run(_:)` runs on a worker thread with its own database connection. It reports progress
///   (`ctx.progress`, throttled to ≤ 1 write/s), appends log lines (`ctx.log`), calls
///   `ctx.checkCancelled()` between units of work (every iteration or few seconds), stores
///   outputs with `ctx.putArtifact`, and every N iterations saves a checkpoint artifact and calls
///   `ctx.recordCheckpoint(step:artifact:)`. It starts by resuming from `ctx.checkpoint` if set.
/// * When `checkCancelled()` throws `JobCancelled` (cancel requested, lease lost, worker shutting
///   down), the handler saves a checkpoint if it can and rethrows. Cancel → `cancelled`;
///   shutdown → the job goes back to the queue and resumes elsewhere from the checkpoint.
/// * Any other error fails the attempt and is retried with backoff (RetryPolicy) while
///   attempts remain; throw `JobFailure.permanent` for errors retrying cannot fix.
/// * Execution is at-least-once: a job whose worker died runs again from its last checkpoint.
///   Writes through `ctx` are fenced by (job id, attempt), so a stale copy changes nothing.
/// * The returned JSON becomes the job's `result` (metrics, artifact sha256s…).
public protocol JobHandler {
    /// The kind's name in `jobs.kind`: lowercase, digits and '-'.
    static var kind: String { get }
    /// One line for `mscm-ctl submit --help`.
    static var summary: String { get }
    /// The kind's spec as command-line flags: `submit <kind> --flag value` sets spec keys.
    static var flags: [SpecFlag] { get }
    /// Throws a one-line error when the spec cannot run. May look artifacts up.
    static func validate(spec: JSON, artifacts: ArtifactCatalog) throws
    /// The spec with every artifact it reads pinned to the sha256 its reference has now (run at
    /// submit, after `validate`): a name pointed elsewhere later cannot change what the job
    /// reads. The default pins the `.artifact` flags; a kind that names artifacts elsewhere in
    /// its spec overrides it.
    static func pin(spec: JSON, artifacts: ArtifactCatalog) throws -> (spec: JSON, inputs: [PinnedInput])
    init()
    /// Runs one attempt; returns the job's result.
    func run(_ ctx: JobContext) throws -> JSON
}

extension JobHandler {
    public static func validate(spec: JSON, artifacts: ArtifactCatalog) throws {
        try validateAgainstFlags(spec: spec, artifacts: artifacts)
    }

    public static func pin(spec: JSON, artifacts: ArtifactCatalog) throws -> (spec: JSON, inputs: [PinnedInput]) {
        try SpecFlag.pin(spec, table: flags, artifacts: artifacts)
    }

    /// Validates, then pins: what `mscm-ctl submit` and `schedule add` do before writing a row.
    /// A `job:N` input of a job that has not succeeded yet makes this job wait for N.
    public static func prepare(_ job: inout NewJob, artifacts: ArtifactCatalog) throws {
        try validate(spec: job.spec, artifacts: artifacts)
        let pinned = try pin(spec: job.spec, artifacts: artifacts)
        job.spec = pinned.spec
        job.inputs = pinned.inputs
        for i in pinned.inputs where i.sha256 == nil {
            if let n = ArtifactStore.jobReference(i.ref), !job.dependsOn.contains(n) { job.dependsOn.append(n) }
        }
    }

    /// The spec checked against `flags`: an object, known keys only, each of its type and range,
    /// required keys present, named artifacts existing.
    public static func validateAgainstFlags(spec: JSON, artifacts: ArtifactCatalog) throws {
        try SpecFlag.validate(spec, against: flags, kind: kind, artifacts: artifacts)
    }
}

/// Thrown by `JobContext.checkCancelled()` (and by fenced writes whose lease is gone): the
/// handler should checkpoint if it can and rethrow.
public struct JobCancelled: Error, CustomStringConvertible {
    public let reason: StopReason
    public init(reason: StopReason) { self.reason = reason }
    public var description: String { "job stopped: \(reason.rawValue)" }
}

/// An error that retrying cannot fix (a corrupt file, an invalid name, a bad dataset): the
/// worker fails the job at once instead of spending its attempts on it. Error types of other
/// modules conform in `Jobs`.
public protocol PermanentError: Error {}

/// Errors a handler throws to fail the job without retrying.
public enum JobFailure: PermanentError, CustomStringConvertible {
    /// Retrying cannot help (an invalid spec, a missing or corrupt input).
    case permanent(String)

    public var description: String {
        switch self { case .permanent(let s): return s }
    }
}
