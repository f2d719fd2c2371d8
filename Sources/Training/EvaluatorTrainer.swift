import Datasets
import Evaluation
import Foundation
import Models
import NeuralNet
import Tensors

/// Trains both evaluator networks on rendered shapes-world scenes — all 1,050, held-out
/// colour–shape pairs included: the evaluator is the judge and must know every combination it
/// will score.
///
/// Iteration i draws `batchSize` distinct scenes (a partial Fisher–Yates shuffle keyed by
/// (seed, i), so no caption repeats within a contrastive batch) and renders scene b with jitter
/// index i·B + b of `CounterRNG(seed)`. The same batch trains the classifier (sum of attribute
/// cross-entropies) and the CLIP (symmetric contrastive loss), each with its own AdamW
/// (weight decay 1e-4, gradient norm clipped at 1) under one warm-up + cosine schedule.
/// Every number is a pure function of the config.
///
/// On an image folder (`init(config:folder:tokenizer:dataset:)`) only the CLIP trains: iteration
/// i draws min(B, C) distinct captions of the C in the training split (the same partial shuffle,
/// over captions) and one picture of each, also keyed by (seed, i).
public final class EvaluatorTrainer {
    public struct StepResult {
        public let classifierLoss: Float
        public let clipLoss: Float
        /// In-batch image→text top-1 of the CLIP.
        public let clipAccuracy: Double
    }

    public let config: EvaluatorConfig
    public let evaluator: Evaluator
    public private(set) var iteration = 0
    /// The training split of a folder evaluator; nil on the shapes world.
    public let folder: CaptionGroups?
    let classifierOptimizer: AdamW?
    let clipOptimizer: AdamW
    let schedule: LRSchedule
    static let sceneStream: UInt64 = 0x4556_414C_5343_454E

    public init(config: EvaluatorConfig) throws {
        self.config = config
        evaluator = try Evaluator(config: config)
        folder = nil
        classifierOptimizer = AdamW(parameters: evaluator.classifier!.parameters, lr: Float(config.learningRate), weightDecay: 1e-4)
        clipOptimizer = AdamW(parameters: evaluator.clip.parameters, lr: Float(config.learningRate), weightDecay: 1e-4)
        schedule = LRSchedule(peak: Float(config.learningRate), warmupSteps: config.warmupIterations,
                              decay: .cosine(totalSteps: config.iterations, final: Float(config.learningRate) * 0.05))
    }

    /// A folder evaluator trained on `folder` (a dataset's training split) with `tokenizer`
    /// (learned from those captions; `config.text.vocabularySize` must be its size).
    public init(config: EvaluatorConfig, folder: CaptionGroups, tokenizer: Tokenizer, dataset: EvaluatorDataset) throws {
        guard !dataset.isShapes else { throw EvaluationError("a folder evaluator needs a dataset other than the shapes world") }
        guard folder.captions.count >= 2 else {
            throw EvaluationError("a contrastive evaluator needs at least 2 distinct captions in the training split, got \(folder.captions.count)")
        }
        self.config = config
        self.folder = folder
        evaluator = try Evaluator(config: config, tokenizer: tokenizer, dataset: dataset)
        classifierOptimizer = nil
        clipOptimizer = AdamW(parameters: evaluator.clip.parameters, lr: Float(config.learningRate), weightDecay: 1e-4)
        schedule = LRSchedule(peak: Float(config.learningRate), warmupSteps: config.warmupIterations,
                              decay: .cosine(totalSteps: config.iterations, final: Float(config.learningRate) * 0.05))
    }

    /// Item indices and captions of a folder batch `i`: distinct captions, one picture each.
    public func folderBatch(_ i: Int) -> (items: [Int], captions: [String]) {
        guard let folder else { preconditionFailure("folderBatch on a shapes-world trainer") }
        let rng = CounterRNG(seed: config.seed)
        var pool = Array(folder.captions.indices)
        let b = min(config.batchSize, pool.count)
        var items: [Int] = []
        for k in 0..<b {
            let index = UInt64(i * config.batchSize + k)
            let j = k + rng.integer(below: pool.count - k, stream: Self.sceneStream, index: index)
            pool.swapAt(k, j)
            let members = folder.members[pool[k]]
            items.append(members[rng.integer(below: members.count, stream: Self.pictureStream, index: index)])
        }
        return (items, pool[0..<b].map { folder.captions[$0] })
    }
    static let pictureStream: UInt64 = 0x4556_414C_5049_4354

    /// The distinct scenes of iteration `i`.
    public func scenes(_ i: Int) -> [SceneLabels] {
        var pool = SceneLabels.all
        let rng = CounterRNG(seed: config.seed)
        for b in 0..<config.batchSize {
            let j = b + rng.integer(below: pool.count - b, stream: Self.sceneStream, index: UInt64(i * config.batchSize + b))
            pool.swapAt(b, j)
        }
        return Array(pool[0..<config.batchSize])
    }

    /// Pictures [B, R, R, 3] and labels of iteration `i`.
    public func batch(_ i: Int) -> (images: Tensor, labels: [SceneLabels]) {
        let labels = scenes(i), r = config.resolution
        let images = Tensor(shape: [labels.count, r, r, 3])
        let rng = CounterRNG(seed: config.seed)
        for (b, l) in labels.enumerated() {
            ShapesRenderer.render(l, resolution: r, rng: rng, index: UInt64(i * config.batchSize + b))
                .write(into: images.data + b * r * r * 3)
        }
        return (images, labels)
    }

    /// One iteration of both networks.
    @discardableResult
    public func step() throws -> StepResult {
        if let folder { return try folderStep(folder) }
        let (images, labels) = batch(iteration)
        let lr = schedule.lr(at: iteration)
        let classifier = evaluator.classifier!, classifierOptimizer = self.classifierOptimizer!

        classifierOptimizer.zeroGrad()
        let logits = classifier.forward(images, save: true)
        let ce = AttributeClassifier.attributeLoss(logits, labels: labels)
        guard ce.loss.isFinite else { throw TrainingError.nonFiniteLoss(value: ce.loss, step: iteration + 1) }
        classifier.backward(ce.gradient)
        try classifierOptimizer.clipGradNorm(maxNorm: 1)
        classifierOptimizer.step(lr: lr)

        clipOptimizer.zeroGrad()
        let contrastive = evaluator.clip.trainingStep(images: images, captions: labels.map(\.caption))
        guard contrastive.loss.isFinite else { throw TrainingError.nonFiniteLoss(value: contrastive.loss, step: iteration + 1) }
        try clipOptimizer.clipGradNorm(maxNorm: 1)
        clipOptimizer.step(lr: lr)
        evaluator.clip.clampLogScale()

        iteration += 1
        return StepResult(classifierLoss: ce.loss, clipLoss: contrastive.loss, clipAccuracy: contrastive.accuracy)
    }

    /// One contrastive iteration of a folder evaluator (no classifier: its loss is NaN).
    func folderStep(_ folder: CaptionGroups) throws -> StepResult {
        let (items, captions) = folderBatch(iteration)
        clipOptimizer.zeroGrad()
        let contrastive = evaluator.clip.trainingStep(images: folder.tensor(items, resolution: config.resolution), captions: captions)
        guard contrastive.loss.isFinite else { throw TrainingError.nonFiniteLoss(value: contrastive.loss, step: iteration + 1) }
        try clipOptimizer.clipGradNorm(maxNorm: 1)
        clipOptimizer.step(lr: schedule.lr(at: iteration))
        evaluator.clip.clampLogScale()
        iteration += 1
        return StepResult(classifierLoss: .nan, clipLoss: contrastive.loss, clipAccuracy: contrastive.accuracy)
    }

    /// The result of the last iteration (nil before the first).
    public private(set) var lastStep: StepResult?

    /// Measures the trained evaluator's quality and records it in `evaluator.quality`: on the
    /// shapes world fresh renders of the held-out prompts; on a folder, retrieval among the
    /// captions of `groups` (the held-out split when it has two captions or more, else the
    /// training split — `split` names which).
    @discardableResult
    public func measureQuality(renders: Int = 10, groups: CaptionGroups? = nil, split: String = "held-out") throws -> EvaluatorQuality {
        let q = try groups.map { try EvaluatorQuality.measure(evaluator, groups: $0, split: split, sets: renders) }
            ?? EvaluatorQuality.measure(evaluator, renders: renders)
        evaluator.quality = q
        return q
    }
}

/// The evaluator as a run of the one training loop. Its run is short (about two minutes by
/// default), so it keeps no checkpoints: a rescued attempt starts again from iteration 0 and,
/// every draw being a pure function of the seed, ends with the same evaluator.
extension EvaluatorTrainer: TrainingRun {
    public var totalIterations: Int { config.iterations }
    /// A folder batch holds each caption at most once: min(B, C) pairs.
    public var examplesPerIteration: Int { folder.map { min(config.batchSize, $0.captions.count) } ?? config.batchSize }
    public var checkpointEvery: Int { 0 }

    /// One iteration (`step`); its loss is the classifier's, or for a folder evaluator (no
    /// classifier) the contrastive one.
    public func trainingStep() throws -> Double {
        let r = try step()
        lastStep = r
        return Double(r.classifierLoss.isNaN ? r.clipLoss : r.classifierLoss)
    }
}
