import Datasets
import Evaluation
import Formats
import Foundation
import JobQueue
import Models
import Tensors

/// Validation during training (issue 17): every `--validate-every` iterations a distill or
/// train-teacher job draws a fixed small set of held-out prompts under fixed seeds with its EMA
/// weights, scores them with an evaluator (KID — unbiased at a few dozen pictures — FID, CLIP
/// score, attribute accuracy), and records the figures in the job's history beside the loss
/// (`mscm-ctl history JOB`). The snapshot with the lowest KID so far is kept as `<name>-best`
/// (kind of the job's output); the last one is the job's output as always.
///
/// Sampling uses a copy of the EMA weights read back from a file and its own seeds, so a run
/// with validation trains exactly the same numbers as one without.
struct TrainingValidation {
    static let flags: [SpecFlag] = [
        SpecFlag("validate-every", .int(0...10_000_000), default: 0,
                 help: "every N iterations, score the EMA weights on held-out prompts (0 = never)"),
        SpecFlag("validation-evaluator", .artifact(kind: EvaluatorFile.kind), help: "the evaluator that scores them (required with --validate-every)"),
        SpecFlag("validation-prompts", .int(2...40), default: 8, help: "how many held-out prompts (the first N)"),
        SpecFlag("validation-seeds", .int(1...16), default: 2, help: "seeds per prompt"),
    ]
    static var keys: Set<String> { Set(flags.map(\.key)) }

    /// One line when validation is asked for without a judge.
    static func check(_ spec: JSON, kind: String) throws {
        if (spec["validate_every"]?.int ?? 0) > 0, spec["validation_evaluator"]?.string == nil {
            throw JobFailure.permanent("\(kind) spec: 'validate_every' needs 'validation_evaluator' (--validation-evaluator)")
        }
    }

    let every: Int
    let evaluator: Evaluator
    let extractor: String
    let prompts: [String]
    let scenes: [SceneLabels]
    let seeds: Int
    let reference: FeatureStatistics
    let referenceFeatures: Tensor
    /// Where the best snapshot goes (nil: not kept — a teacher's would need its xvar table).
    let bestName: String?
    let outputKind: String
    /// Lowest KID so far (carried over a resume through the job's history).
    private(set) var best: Double

    /// nil when the spec asks for no validation.
    init?(ctx: JobContext, work: URL, resolution: Int, outputName: String, outputKind: String, keepBest: Bool) throws {
        let spec = ctx.spec
        every = spec["validate_every"]?.int ?? 0
        guard every > 0, let ref = spec["validation_evaluator"]?.string else { return nil }
        let file = work.appendingPathComponent("validation-evaluator.safetensors")
        let info = try ctx.getArtifact(ref, to: file)
        do { evaluator = try EvaluatorFile.load(file) } catch {
            throw JobFailure.permanent("validation evaluator \(ref): \(error)")
        }
        // Validation draws shapes-world prompts against shapes-world renders; a folder
        // evaluator's references would be its dataset's pictures (not wired here yet).
        guard evaluator.dataset.isShapes else {
            throw JobFailure.permanent("validation evaluator \(info.name) was trained on dataset \(evaluator.dataset.description); validation during training judges with a shapes-world evaluator only (use evaluate for a folder's models)")
        }
        guard evaluator.resolution == resolution else {
            throw JobFailure.permanent("validation evaluator \(info.name) judges \(evaluator.resolution)×\(evaluator.resolution) pictures; this model draws \(resolution)×\(resolution)")
        }
        extractor = "\(evaluator.featureExtractor), evaluator \(info.sha256.prefix(12))"
        prompts = Array(ShapesWorld.heldOutCaptions.prefix(spec["validation_prompts"]?.int ?? 8))
        scenes = try prompts.map { try Caption.parse($0) }
        seeds = spec["validation_seeds"]?.int ?? 2
        // A fixed reference: enough real renders of the same prompts for stable statistics.
        let perPrompt = max(seeds, 256 / prompts.count)
        referenceFeatures = try evaluator.features(ReferenceRenders.render(scenes, perPrompt: perPrompt, resolution: resolution,
                                                                          seed: EvaluateJob.referenceSeed))
        reference = try FeatureStatistics(features: referenceFeatures, extractor: extractor)
        bestName = keepBest ? "\(outputName)-best" : nil
        self.outputKind = outputKind
        best = (try? ctx.history().compactMap { $0.figures["val_kid"]?.double }.min()) ?? .infinity
    }

    func isDue(_ iteration: Int, total: Int) -> Bool { iteration % every == 0 || iteration == total }

    /// Scores the model in `snapshot` (a file with the EMA weights) at `iteration`: records the
    /// figures, keeps the snapshot as `<name>-best` when its KID is the lowest so far, and
    /// returns the figures for the progress line.
    mutating func validate(ctx: JobContext, iteration: Int, snapshot: URL,
                           draw: (TextToImageModel, ModelFile, [String], UInt64) throws -> Tensor) throws -> [String: JSON] {
        let file = try ModelFile.load(snapshot)
        let images = Tensor(shape: [prompts.count * seeds, evaluator.resolution, evaluator.resolution, 3])
        let per = prompts.count * evaluator.resolution * evaluator.resolution * 3
        for k in 0..<seeds {
            let drawn = try draw(file.model, file, prompts, UInt64(k))
            (images.data + k * per).update(from: drawn.data, count: per)
        }
        let rows = Array(0..<seeds).flatMap { _ in scenes }
        let scores = try GeneratedSetScores.compute(evaluator, images: images, prompts: Array(0..<seeds).flatMap { _ in prompts },
                                                    scenes: rows, reference: reference, extractor: extractor,
                                                    referenceFeatures: referenceFeatures, kidSubsets: 20, kidSeed: 0)
        var figures: [String: JSON] = ["val_fid": .double(scores.fid.distance), "val_clip": .double(scores.clip.score)]
        if let a = scores.attributeAccuracy { figures["val_attributes"] = .double(a) }
        if let kid = scores.kid { figures["val_kid"] = .double(kid.mean) }
        ctx.record(iteration: iteration, figures: figures)
        let kid = scores.kid?.mean ?? scores.fid.distance
        if kid < best, let bestName {
            best = kid
            try ctx.putCheckedArtifact(name: bestName, kind: outputKind, file: snapshot)
            ctx.log(String(format: "validation at iteration %d: KID %.4f, FID %.1f, CLIP %.1f — the best so far, kept as %@",
                           iteration, kid, scores.fid.distance, scores.clip.score, bestName))
        } else {
            ctx.log(String(format: "validation at iteration %d: KID %.4f, FID %.1f, CLIP %.1f", iteration, kid, scores.fid.distance, scores.clip.score))
        }
        return figures
    }
}
