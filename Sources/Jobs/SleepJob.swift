import Formats
import Foundation
import JobQueue
import Models

/// `sleep`: the diagnostic job kind. It sleeps `seconds` in `steps` equal steps, reporting
/// progress after each, checking for cancellation every 50 ms, and (with `checkpoint_every`)
/// storing a small checkpoint artifact so a rescued or given-back attempt resumes where the last
/// one stopped. `fail_attempts` makes the first N attempts fail after sleeping, to exercise
/// retries. It exercises the whole queue — claim, lease, heartbeat, progress, log, cancel,
/// checkpoint, artifacts, retry — without any numerics.
public struct SleepJob: JobHandler {
    public static let kind = "sleep"
    public static let summary = "sleep, report progress and honour cancel (a diagnostic of the queue)"
    public static let flags: [SpecFlag] = [
        SpecFlag("seconds", .double(0...86_400), default: 1, help: "total time to sleep"),
        SpecFlag("steps", .int(1...1_000_000), default: 10, help: "progress reports (equal steps)"),
        SpecFlag("checkpoint-every", .int(0...1_000_000), default: 0, help: "checkpoint every N steps (0 = never)"),
        SpecFlag("fail-attempts", .int(0...100), default: 0, help: "the first N attempts fail (to exercise retries)"),
    ]

    public init() {}

    struct Failure: Error, CustomStringConvertible { let description: String }

    public func run(_ ctx: JobContext) throws -> JSON {
        let seconds = ctx.spec["seconds"]?.double ?? 1
        let steps = ctx.spec["steps"]?.int ?? 10
        let every = ctx.spec["checkpoint_every"]?.int ?? 0
        let failAttempts = ctx.spec["fail_attempts"]?.int ?? 0
        let start = try resumeStep(ctx)
        ctx.log("sleeping \(seconds) s in \(steps) step(s)" + (start > 0 ? ", resuming after step \(start)" : ""))
        let perStep = seconds / Double(steps)
        var step = start
        func checkpoint() throws {
            let body = JSON.object(["step": .int(step)]).serialized
            let sha = try ctx.putArtifact(name: "sleep-\(ctx.id)-checkpoint", kind: ArtifactKind.sleepCheckpoint, data: Data(body.utf8))
            try ctx.recordCheckpoint(step: step, artifact: sha)
        }
        let began = Clock.now
        do {
            while step < steps {
                try ctx.checkCancelled()
                var left = perStep
                while left > 0 {
                    let d = min(left, 0.05)
                    Thread.sleep(forTimeInterval: d)
                    left -= d
                    try ctx.checkCancelled()
                }
                step += 1
                ctx.progress(iteration: step, total: steps)
                if every > 0, step % every == 0, step < steps { try checkpoint() }
            }
        } catch let stop as JobCancelled {
            // Save where we are unless the lease is gone (the write would be refused anyway).
            if every > 0, stop.reason != .leaseLost, step > (ctx.checkpoint?.step ?? 0) { try? checkpoint() }
            throw stop
        }
        if ctx.attempt <= failAttempts {
            throw Failure(description: "sleep: attempt \(ctx.attempt) fails as asked (fail_attempts \(failAttempts))")
        }
        return ["steps": .int(steps), "resumed_from": .int(start), "attempt": .int(ctx.attempt),
                "slept_seconds": .double(Double(steps - start) * perStep), "took_seconds": .double(Clock.now - began)]
    }

    /// The step to resume after: read back from the checkpoint artifact, so a checkpoint
    /// that does not hold what the row says fails loudly instead of resuming wrongly.
    func resumeStep(_ ctx: JobContext) throws -> Int {
        guard let cp = ctx.checkpoint else { return 0 }
        let saved = try JSON.parse(String(decoding: ctx.getArtifact(cp.artifact), as: UTF8.self))
        guard let step = saved["step"]?.int, step == cp.step else {
            throw JobFailure.permanent("sleep: checkpoint artifact \(cp.artifact) does not hold step \(cp.step)")
        }
        return step
    }
}
