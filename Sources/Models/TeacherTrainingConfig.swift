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
        if dataset == "shapes", let set = [heldout.map { _ in "held-out fraction" }, captionKey.map { _ in "caption key" },
                                           minWordCount.map { _ in "minimum word count" }].compactMap({ $0 }).first {
            throw fail("a \(set) applies to image-folder datasets, not the built-in shapes world")
        }
        if let heldout, !(0..<1).contains(heldout) { throw fail("held-out fraction must be in [0, 1), got \(heldout)") }
        if let captionKey, captionKey.isEmpty { throw fail("caption key must not be empty") }
        if let minWordCount, minWordCount < 1 { throw fail("minimum word count must be ≥ 1, got \(minWordCount)") }
    }

    /// The training split of `dataset` at the model's resolution (`folder`, when given, is
    /// where an image-folder dataset lies on this machine, e.g. an imported dataset unpacked).
    public func openDataset(folder: URL? = nil) throws -> TextImageDataset {
        let r = model.uvit.resolution
        if dataset == "shapes" && folder == nil { return try ShapesDataset(resolution: r, seed: seed) }
        return try ImageFolderDataset(directory: folder ?? URL(fileURLWithPath: dataset), resolution: r, seed: seed, split: .train,
                                      heldout: heldout ?? ImageFolderDataset.defaultHeldout, captionKey: captionKey)
    }

    /// What a fresh run trains on: the dataset's training split, the tokenizer (the shapes
    /// world's, or one learned from the training captions — held-out captions never count), and
    /// this config with the text encoder's vocabulary size set to that tokenizer's.
    public func openData(folder: URL? = nil) throws -> TeacherData {
        let data = try openDataset(folder: folder)
        guard let images = data as? ImageFolderDataset else { return TeacherData(config: self, dataset: data, tokenizer: .shapes, vocabulary: nil) }
        let (tokenizer, report) = Tokenizer.learn(from: images.items.map(\.caption), minCount: minWordCount ?? Tokenizer.defaultMinWordCount,
                                                  maxLength: model.text.maxLength)
        var c = self
        c.model.text.vocabularySize = tokenizer.vocabularySize
        return TeacherData(config: c, dataset: data, tokenizer: tokenizer, vocabulary: report)
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

/// A fresh run's inputs (`TeacherTrainingConfig.openData`).
public struct TeacherData {
    /// The config to train with: the vocabulary size follows the tokenizer.
    public let config: TeacherTrainingConfig
    public let dataset: TextImageDataset
    public let tokenizer: Tokenizer
    /// For a learned vocabulary: its size and coverage of the training captions.
    public let vocabulary: VocabularyReport?

    /// Held-out records training never sees (image folders), nil for the shapes world.
    public var heldoutCount: Int? { (dataset as? ImageFolderDataset)?.heldoutSplit.heldoutCount }
}

extension TeacherTrainer {
    /// A fresh run on `data` (`TeacherTrainingConfig.openData`).
    public convenience init(_ data: TeacherData) throws {
        try self.init(config: data.config, dataset: data.dataset, tokenizer: data.tokenizer)
    }
}
