import Foundation

/// Everything that determines a teacher training run (the `train-teacher` job's spec, minus the
/// dataset, which the caller opens). Together with the dataset and the seed it fixes every
/// number the run produces.
public struct TeacherTrainingConfig: StoredConfig, Equatable, Sendable {
    public static let storedName = "a training config"
    public func validateStored(field: String) throws { try validate(FieldCheck(field + ".")) }

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
    /// Probability of training an example on the null conditioning (docs/algorithms.md §2).
    public var pUncond: Double
    public var emaDecay: Float
    /// Seeds the initial weights, the data stream, t, ε, the null-conditioning coin and dropout.
    public var seed: UInt64
    /// A checkpoint every this many iterations (0: only when stopped).
    public var checkpointEvery: Int
    /// The xvar table stored with the teacher (docs/algorithms.md §4): grid steps, data examples, η.
    public var xvarSteps: Int
    public var xvarExamples: Int
    public var xvarEta: Double
    /// Image folders only (nil for the shapes world, so its config — and every seeded shapes
    /// teacher — stays byte-identical): the held-out fraction when the metadata has no split
    /// column (default `ImageFolderDataset.defaultHeldout`), the caption key (default `text`,
    /// then `caption`), and the minimum count of a word in the training captions for the learned
    /// vocabulary (default `Tokenizer.defaultMinWordCount`).
    public var heldout: Double?
    public var captionKey: String?
    public var minWordCount: Int?

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
    /// hour on two cores; `tiny` is a smoke test; `base` wants a bigger machine. `resolution`
    /// sizes the preset (`ModelConfig.preset(_:resolution:)`); nil keeps its own.
    public static func defaults(preset name: String, resolution: Int? = nil) throws -> TeacherTrainingConfig {
        let model = try resolution.map { try ModelConfig.preset(name, resolution: $0) } ?? ModelConfig.preset(name)
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
        do { try validate(FieldCheck()) } catch let e as ModelError {
            throw ModelError("teacher training: " + e.description)
        }
    }

    /// Every field in range (and the model's config), naming the field under `check`'s prefix.
    public func validate(_ check: FieldCheck) throws {
        try model.validate(check.nested("model"))
        guard !dataset.isEmpty, dataset.utf8.count <= 4096 else { throw check.fail("dataset", "must be 'shapes' or a folder path") }
        try check.int("iterations", iterations, 1...1_000_000_000)
        guard (1...65_536).contains(batchSize) else { throw check.fail("batchSize", "(batch size) must be in 1…65536, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite, finalLearningRate >= 0, finalLearningRate.isFinite else {
            throw check.fail("learningRate", "and finalLearningRate must be positive and finite, got \(learningRate) and \(finalLearningRate)")
        }
        try check.int("warmupSteps", warmupSteps, 0...1_000_000_000)
        try check.real("weightDecay", Double(weightDecay), 0...1e6)
        guard gradClip > 0, gradClip.isFinite else { throw check.fail("gradClip", "must be > 0 and finite, got \(gradClip)") }
        guard (0...1).contains(pUncond) else { throw check.fail("pUncond", "(p_uncond) must be in [0, 1], got \(pUncond)") }
        try check.real("emaDecay", Double(emaDecay), 0...1)
        try check.int("checkpointEvery", checkpointEvery, 0...1_000_000_000)
        try check.int("xvarSteps", xvarSteps, 1...1_000_000)
        try check.int("xvarExamples", xvarExamples, 1...1_000_000)
        try check.real("xvarEta", xvarEta, 0...1e6)
        // Image folders only: nil for the shapes world keeps its config (and teachers) unchanged.
        if dataset == "shapes", let set = [heldout.map { _ in "held-out fraction" }, captionKey.map { _ in "caption key" },
                                           minWordCount.map { _ in "minimum word count" }].compactMap({ $0 }).first {
            throw check.fail("dataset", "is the built-in shapes world: a \(set) applies to image-folder datasets")
        }
        if let heldout, !(heldout.isFinite && (0..<1).contains(heldout)) {
            throw check.fail("heldout", "(held-out fraction) must be in [0, 1), got \(heldout)")
        }
        if let captionKey, captionKey.isEmpty || captionKey.utf8.count > 200 { throw check.fail("captionKey", "must be 1–200 bytes") }
        if let minWordCount { try check.int("minWordCount", minWordCount, 1...1_000_000) }
    }

    /// Decodes and validates the training config a file's metadata holds under `field`.
    public static func decode(json: String, source: String, field: String = "config") throws -> TeacherTrainingConfig {
        try decodeStored(json: json, source: source, field: field)
    }
}
