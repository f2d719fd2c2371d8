import Foundation
import Models

/// `train-teacher`: trains a text-to-image teacher (docs/algorithms.md §2) with `TeacherTrainer` and
/// stores it as a `teacher` artifact (EMA weights, xvar table of §4, configs).
///
/// Every `checkpoint_every` iterations the full training state goes to the artifact store as a
/// `teacher-checkpoint` and is recorded in the job row; a rescued or given-back attempt resumes
/// from it and ends bit-identical to an uninterrupted run (every draw of iteration i is a pure
/// function of (seed, i)). A cancel or shutdown saves a checkpoint first.
public struct TrainTeacherJob: JobHandler {
    public static let kind = "train-teacher"
    public static let summary = "train a teacher (UViT + text encoder) on a dataset; output: a teacher artifact"
    public static let flags: [SpecFlag] = [
        SpecFlag("preset", .choice(ModelConfig.presetNames), default: "small", help: "model preset"),
        SpecFlag("dataset", .string, default: "shapes", help: "'shapes' (built-in) or an image-folder path on the worker"),
        SpecFlag("iterations", .int(1...10_000_000), help: "training iterations (default: the preset's)"),
        SpecFlag("batch", .int(1...4096), help: "batch size (default: the preset's)"),
        SpecFlag("lr", .double(1e-7...1), help: "peak learning rate (default: the preset's)"),
        SpecFlag("p-uncond", .double(0...1), help: "probability of the null conditioning (default 0.1)"),
        SpecFlag("ema-decay", .double(0...1), help: "EMA decay (default: the preset's)"),
        SpecFlag("seed", .int(0...Int(Int32.max)), default: 0, help: "seed of every random draw"),
        SpecFlag("checkpoint-every", .int(0...10_000_000), help: "iterations between checkpoints (default: the preset's)"),
        SpecFlag("name", .outputName(prefix: false), help: "artifact name of the teacher (default teacher-<job id>)"),
    ] + TrainingValidation.flags

    public init() {}

    public static func validate(spec: JSON, artifacts: ArtifactCatalog) throws {
        try validateAgainstFlags(spec: spec, artifacts: artifacts)
        _ = try trainingSpec(spec).resolved()
        try TrainingValidation.check(spec, kind: kind)
    }

    /// The job spec as the Models module's training spec (same keys but `name`).
    static func trainingSpec(_ spec: JSON) throws -> TeacherTrainingSpec {
        let object = (spec.object ?? [:]).filter { $0.key != "name" && !TrainingValidation.keys.contains($0.key) }
        return try TeacherTrainingSpec.decode(json: JSON.object(object).serialized)
    }

    public func run(_ ctx: JobContext) throws -> JSON {
        let config = try Self.trainingSpec(ctx.spec).resolved()
        let work = try TemporaryDirectory(prefix: "train-teacher-\(ctx.id)")
        let checkpointFile = work.url.appendingPathComponent("checkpoint.safetensors")

        let trainer: TeacherTrainer
        if let cp = ctx.checkpoint {
            _ = try ctx.getArtifact(cp.artifact, to: checkpointFile)
            trainer = try TeacherTrainer.resume(from: checkpointFile)
            guard trainer.iteration == cp.step else {
                throw JobFailure.permanent("train-teacher: checkpoint \(cp.artifact) holds iteration \(trainer.iteration), the job row says \(cp.step)")
            }
            ctx.log("resuming at iteration \(trainer.iteration) of \(config.iterations)")
        } else {
            trainer = try TeacherTrainer(config: config, dataset: config.openDataset())
            ctx.log("training \(config.model.preset) (\(trainer.model.parameterCount) parameters) for \(config.iterations) iterations, batch \(config.batchSize)")
        }
        let startIteration = trainer.iteration
        // Validation draws with the EMA weights read back from a checkpoint file (DDIM 32, w = 3);
        // no best snapshot is kept, since a teacher needs its xvar table tabulated first.
        var validation = try TrainingValidation(ctx: ctx, work: work.url, resolution: trainer.model.resolution,
                                                outputName: ctx.spec["name"]?.string ?? "teacher-\(ctx.id)",
                                                outputKind: TeacherTrainer.teacherKind, keepBest: false)
        let snapshotFile = work.url.appendingPathComponent("snapshot.safetensors")
        var latestValidation: [String: JSON] = [:]
        func validate() throws {
            guard var v = validation, v.isDue(trainer.iteration, total: config.iterations) else { return }
            try trainer.saveCheckpoint(to: snapshotFile)
            latestValidation = try v.validate(ctx: ctx, iteration: trainer.iteration, snapshot: snapshotFile) { model, _, prompts, seed in
                try TextToImageSampling.sample(model, prompts: prompts, seed: seed, sampler: .ddim, steps: 32, guidance: 3, xvar: nil)
            }
            validation = v
        }

        func checkpoint() throws {
            try trainer.saveCheckpoint(to: checkpointFile)
            let sha = try ctx.putCheckedArtifact(name: "train-teacher-\(ctx.id)-checkpoint", kind: TeacherTrainer.checkpointKind, file: checkpointFile)
            try ctx.recordCheckpoint(step: trainer.iteration, artifact: sha)
        }

        var meter = ProgressMeter(total: config.iterations, batch: config.batchSize, start: trainer.iteration)
        var lastLoss = Double.nan
        do {
            while trainer.iteration < config.iterations {
                try ctx.checkCancelled()
                lastLoss = try trainer.step()
                let p = meter.record(iteration: trainer.iteration, loss: lastLoss)
                try validate()
                ctx.progress(iteration: trainer.iteration, total: config.iterations, loss: p.loss, rate: p.imagesPerSecond,
                             eta: p.etaSeconds, extra: ["unit": "images/s"].merging(latestValidation) { a, _ in a })
                if config.checkpointEvery > 0, trainer.iteration % config.checkpointEvery == 0, trainer.iteration < config.iterations {
                    try checkpoint()
                }
            }
        } catch let stop as JobCancelled {
            if stop.reason != .leaseLost, trainer.iteration > (ctx.checkpoint?.step ?? 0) { try? checkpoint() }
            throw stop
        }

        ctx.log("tabulating xvar over \(config.xvarSteps) steps and writing the teacher")
        let teacherFile = work.url.appendingPathComponent("teacher.safetensors")
        let table = try trainer.writeTeacher(to: teacherFile)
        let name = ctx.spec["name"]?.string ?? "teacher-\(ctx.id)"
        let sha = try ctx.putCheckedArtifact(name: name, kind: TeacherTrainer.teacherKind, file: teacherFile)
        ctx.log("teacher stored as \(name) (\(sha.prefix(12)))")
        return ["teacher": .string(sha), "name": .string(name), "preset": .string(config.model.preset),
                "iterations": .int(trainer.iteration), "resumed_from": .int(startIteration),
                "final_loss": .double(lastLoss), "xvar_steps": .int(table.values.count)]
    }
}
