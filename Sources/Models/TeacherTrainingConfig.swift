import Datasets
import Foundation

/// Everything that determines a teacher training run (the `train-teacher` job's spec, minus the
/// dataset, which the caller opens). Together with the dataset and the seed it fixes every
/// number the run produces.
public struct TeacherTrainingConfig: Codable, Equatable, Sendable {
    public var model: ModelConfig
    /// "shapes" (the built-in shapes world, seeded with `seed`) or the path of an image folder
    /// (PNGs + metadata.jsonl).
    public var dataset: String
    public var iterations: Int
    public var batchSize: Int
    /// Peak AdamW learning rate, reached after `warmupSteps` and decayed by a cosine to
    /// `finalLearningRate` at the last iteration.
    public var learningRate: Float
    public var finalLearningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    /// Global gradient-norm clip.
    public var gradClip: Float
    /// Probability of training an example on the null conditioning (ALGORITHMS.md §2).
    public var pUncond: Double
    public var emaDecay: Float
    /// Seeds the initial weights, the data stream, t, ε, the null-conditioning coin and dropout.
    public var seed: UInt64
    /// A checkpoint every this many iterations (0: only when stopped).
    public var checkpointEvery: Int
    /// The xvar table stored with the teacher (ALGORITHMS.md §4): grid steps, data examples, η.
    public var xvarSteps: Int
    public var xvarExamples: Int
    public var xvarEta: Double

    public init(model: ModelConfig, dataset: String = "shapes", iterations: Int, batchSize: Int, learningRate: Float, finalLearningRate: Float? = nil,
                warmupSteps: Int = 100, weightDecay: Float = 0.01, gradClip: Float = 1, pUncond: Double = 0.1,
                emaDecay: Float = 0.999, seed: UInt64 = 0, checkpointEvery: Int = 500,
                xvarSteps: Int = 256, xvarExamples: Int = 64, xvarEta: Double = 0.75) {
        self.model = model; self.dataset = dataset; self.iterations = iterations; self.batchSize = batchSize
        self.learningRate = learningRate; self.finalLearningRate = finalLearningRate ?? learningRate / 10
        self.warmupSteps = warmupSteps; self.weightDecay = weightDecay; self.gradClip = gradClip
        self.pUncond = pUncond; self.emaDecay = emaDecay; self.seed = seed; self.checkpointEvery = checkpointEvery
        self.xvarSteps = xvarSteps; self.xvarExamples = xvarExamples; self.xvarEta = xvarEta
    }

    /// The run a preset is tuned for: `small` trains to recognisable scenes in under half an
    /// hour on two cores; `tiny` is a smoke test; `base` wants a bigger machine.
    public static func defaults(preset name: String) throws -> TeacherTrainingConfig {
        let model = try ModelConfig.preset(name)
        switch name {
        case "tiny":
            return TeacherTrainingConfig(model: model, iterations: 200, batchSize: 16, learningRate: 2e-3, warmupSteps: 20,
                                         emaDecay: 0.99, checkpointEvery: 50, xvarSteps: 32, xvarExamples: 16)
        case "small":
            // 3,500 iterations ≈ 24 min at ~155 images/s. Shape is the last attribute learned:
            // on the held-out prompts 53 % at 2,500 iterations, 76 % at 3,500 (docs/results.md).
            return TeacherTrainingConfig(model: model, iterations: 3500, batchSize: 64, learningRate: 2e-3, warmupSteps: 100,
                                         emaDecay: 0.995, checkpointEvery: 100)
        default:
            return TeacherTrainingConfig(model: model, iterations: 100_000, batchSize: 128, learningRate: 2e-4, warmupSteps: 1000,
                                         emaDecay: 0.9999, checkpointEvery: 2000)
        }
    }

    /// One-line errors for values no run can use.
    public func validate() throws {
        func fail(_ s: String) -> ModelError { ModelError("teacher training: \(s)") }
        try model.validate()
        guard iterations >= 1 else { throw fail("iterations must be ≥ 1, got \(iterations)") }
        guard batchSize >= 1 else { throw fail("batch size must be ≥ 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite, finalLearningRate >= 0, finalLearningRate.isFinite else {
            throw fail("learning rates must be positive and finite")
        }
        guard warmupSteps >= 0, weightDecay >= 0, gradClip > 0 else { throw fail("warm-up, weight decay and gradient clip must be ≥ 0 (clip > 0)") }
        guard (0...1).contains(pUncond) else { throw fail("p_uncond \(pUncond) outside [0, 1]") }
        guard emaDecay >= 0, emaDecay <= 1 else { throw fail("EMA decay \(emaDecay) outside [0, 1]") }
        guard checkpointEvery >= 0 else { throw fail("checkpoint interval must be ≥ 0") }
        guard xvarSteps >= 1, xvarExamples >= 1, xvarEta >= 0 else { throw fail("xvar table needs steps ≥ 1, examples ≥ 1, η ≥ 0") }
    }

    /// Opens `dataset` at the model's resolution.
    public func openDataset() throws -> TextImageDataset {
        let r = model.uvit.resolution
        if dataset == "shapes" { return try ShapesDataset(resolution: r, seed: seed) }
        return try ImageFolderDataset(directory: URL(fileURLWithPath: dataset), resolution: r, seed: seed)
    }

    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    public static func decode(json: String, source: String) throws -> TeacherTrainingConfig {
        do { return try JSONDecoder().decode(TeacherTrainingConfig.self, from: Data(json.utf8)) } catch {
            throw ModelError("\(source): training config is not valid JSON (\(error))")
        }
    }
}
