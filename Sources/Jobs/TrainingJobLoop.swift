import Formats
import Foundation
import JobQueue
import Models
import Tensors
import Training

/// The checkpointed job loop of every training job: the library's one training loop
/// (`TrainingRun.train`) inside a job — a cancel check before each iteration, a progress report
/// (smoothed loss, images/s, ETA, the figures of `extra`) after each, a checkpoint stored as an
/// artifact and recorded in the job row every `checkpointEvery` iterations, and on a cancel or
/// shutdown a checkpoint first (unless the lease is lost, or the run has not moved past the
/// recorded one).
struct TrainingJobLoop {
    let ctx: JobContext
    /// The job kind, naming it in errors ("train-teacher: checkpoint …").
    let kind: String
    /// Where a checkpoint is written before it is stored, and the kind of the checkpoint
    /// artifacts (nil: the run keeps none).
    let checkpoints: (file: URL, kind: String)?

    /// The recorded checkpoint fetched to `checkpointFile`, nil for a fresh attempt.
    func fetchCheckpoint() throws -> (file: URL, step: Int, artifact: String)? {
        guard let cp = ctx.checkpoint, let checkpointFile = checkpoints?.file else { return nil }
        _ = try ctx.getArtifact(cp.artifact, to: checkpointFile)
        return (checkpointFile, cp.step, cp.artifact)
    }

    /// A run resumed from the recorded checkpoint, checked against the job row.
    func resumed<R: TrainingRun>(_ run: R, from cp: (file: URL, step: Int, artifact: String), note: String = "") throws -> R {
        guard run.iteration == cp.step else {
            throw JobFailure.permanent("\(kind): checkpoint \(cp.artifact) holds iteration \(run.iteration), the job row says \(cp.step)")
        }
        ctx.log("resuming at iteration \(run.iteration) of \(run.totalIterations)" + note)
        return run
    }

    /// Runs `run` to its end; returns the loss of the last iteration (NaN when none ran).
    func run<R: TrainingRun>(_ run: R, save: ((URL) throws -> Void)?,
                             extra: (TrainingProgress) throws -> [String: JSON] = { _ in [:] }) throws -> Double {
        var checkpoint: (() throws -> Void)? = nil
        if let save, let checkpoints {
            checkpoint = {
                try save(checkpoints.file)
                let sha = try ctx.putCheckedArtifact(name: "\(kind)-\(ctx.id)-checkpoint", kind: checkpoints.kind, file: checkpoints.file)
                try ctx.recordCheckpoint(step: run.iteration, artifact: sha)
            }
        }
        var lastLoss = Double.nan
        do {
            _ = try run.train(reportEvery: 1, checkpoint: checkpoint, shouldStop: { try ctx.checkCancelled(); return false }) { p in
                lastLoss = p.loss
                var base: [String: JSON] = ["unit": "images/s"]
                if let steps = p.teacherSteps { base["teacher_steps"] = .int(steps) }
                ctx.progress(iteration: p.iteration, total: p.total, loss: p.smoothedLoss, rate: p.imagesPerSecond, eta: p.etaSeconds,
                             extra: base.merging(try extra(p)) { a, _ in a })
            }
        } catch let stop as JobCancelled {
            if stop.reason != .leaseLost, run.iteration > (ctx.checkpoint?.step ?? 0) { try? checkpoint?() }
            throw stop
        }
        return lastLoss
    }
}

/// Validation during training inside the job loop: when due, writes the run's EMA weights to
/// `snapshot` with `write` and scores them (`TrainingValidation.validate`); the latest figures
/// go with every progress report.
struct ValidationRounds {
    var validation: TrainingValidation?
    let snapshot: URL
    let write: (URL) throws -> Void
    let draw: (TextToImageModel, ModelFile, [String], UInt64) throws -> Tensor
    private(set) var latest: [String: JSON] = [:]

    init(_ validation: TrainingValidation?, snapshot: URL, write: @escaping (URL) throws -> Void,
         draw: @escaping (TextToImageModel, ModelFile, [String], UInt64) throws -> Tensor) {
        self.validation = validation; self.snapshot = snapshot; self.write = write; self.draw = draw
    }

    /// The figures to report at `iteration` (scored anew when due).
    mutating func figures(ctx: JobContext, iteration: Int, total: Int) throws -> [String: JSON] {
        guard var v = validation, v.isDue(iteration, total: total) else { return latest }
        try write(snapshot)
        latest = try v.validate(ctx: ctx, iteration: iteration, snapshot: snapshot, draw: draw)
        validation = v
        return latest
    }
}
