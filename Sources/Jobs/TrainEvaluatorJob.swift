import Evaluation
import Foundation

/// `train-evaluator`: trains the judge of the evaluate job — the attribute classifier whose
/// penultimate layer is the FID feature space, and the shapes-world CLIP for CLIP scores
/// (`EvaluatorTrainer`) — measures its quality on fresh renders of the held-out prompts and
/// stores it as an `evaluator` artifact.
///
/// The run is short (about two minutes by default), so it keeps no checkpoints: a rescued
/// attempt starts again from iteration 0 and, every draw being a pure function of the seed,
/// ends with the same evaluator.
public struct TrainEvaluatorJob: JobHandler {
    public static let kind = "train-evaluator"
    public static let summary = "train the evaluator (attribute classifier for FID + shapes-world CLIP); output: an evaluator artifact"
    public static let flags: [SpecFlag] = [
        SpecFlag("resolution", .int(16...32), default: 16, help: "picture size the evaluator reads: 16 or 32 (the models' resolution)"),
        SpecFlag("iterations", .int(1...1_000_000), default: .int(EvaluatorConfig().iterations), help: "training iterations"),
        SpecFlag("batch", .int(2...1050), default: .int(EvaluatorConfig().batchSize), help: "distinct scenes per batch"),
        SpecFlag("seed", .int(0...Int(Int32.max)), default: 0, help: "seed of every random draw"),
        SpecFlag("name", .outputName(prefix: false), help: "artifact name of the evaluator (default evaluator-<job id>)"),
    ]

    public init() {}

    public static func validate(spec: JSON, artifacts: ArtifactCatalog) throws {
        try validateAgainstFlags(spec: spec, artifacts: artifacts)
        do { try config(spec).validate() } catch { throw JobFailure.permanent("\(kind) spec: \(error)") }
    }

    static func config(_ spec: JSON) -> EvaluatorConfig {
        var c = EvaluatorConfig()
        if let r = spec["resolution"]?.int { c.resolution = r }
        if let i = spec["iterations"]?.int { c.iterations = i }
        if let b = spec["batch"]?.int { c.batchSize = b }
        if let s = spec["seed"]?.int { c.seed = UInt64(s) }
        c.warmupIterations = min(c.warmupIterations, max(c.iterations / 10, 1))
        return c
    }

    public func run(_ ctx: JobContext) throws -> JSON {
        let config = Self.config(ctx.spec)
        let trainer = try EvaluatorTrainer(config: config)
        ctx.log("training the evaluator (\(trainer.evaluator.parameterCount) parameters, \(config.resolution)×\(config.resolution)) for \(config.iterations) iterations of \(config.batchSize) scenes")
        var meter = ProgressMeter(total: config.iterations, batch: config.batchSize, start: 0)
        var last: EvaluatorTrainer.StepResult?
        while trainer.iteration < config.iterations {
            try ctx.checkCancelled()
            let r = try trainer.step()
            last = r
            let p = meter.record(iteration: trainer.iteration, loss: Double(r.classifierLoss))
            ctx.progress(iteration: trainer.iteration, total: config.iterations, loss: p.loss, rate: p.imagesPerSecond,
                         eta: p.etaSeconds, extra: ["unit": "images/s", "clip_loss": .double(Double(r.clipLoss)),
                                                    "clip_batch_accuracy": .double(r.clipAccuracy)])
        }
        ctx.log("measuring quality on fresh renders of the held-out prompts")
        let quality = try trainer.measureQuality()
        ctx.log("evaluator quality: \(quality.summary)")

        let work = try TemporaryDirectory(prefix: "train-evaluator-\(ctx.id)")
        let file = work.url.appendingPathComponent("evaluator.safetensors")
        try EvaluatorFile.write(trainer.evaluator, to: file)
        let name = ctx.spec["name"]?.string ?? "evaluator-\(ctx.id)"
        let sha = try ctx.putCheckedArtifact(name: name, kind: EvaluatorFile.kind, file: file)
        ctx.log("evaluator stored as \(name) (\(sha.prefix(12)))")
        var accuracy: [String: JSON] = [:]
        for (k, v) in quality.attributeAccuracy { accuracy[k] = .double(v) }
        return ["evaluator": .string(sha), "name": .string(name), "iterations": .int(trainer.iteration),
                "final_classifier_loss": .double(Double(last?.classifierLoss ?? .nan)),
                "final_clip_loss": .double(Double(last?.clipLoss ?? .nan)),
                "feature_extractor": .string(trainer.evaluator.featureExtractor),
                "embedding_model": .string(trainer.evaluator.embeddingModel),
                "attribute_accuracy": .object(accuracy), "all_attributes_accuracy": .double(quality.allAttributes),
                "retrieval_top1": .double(quality.retrievalTop1)]
    }
}
