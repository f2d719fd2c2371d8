import Datasets
import Foundation
import NeuralNet

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
    let classifierOptimizer: AdamW
    let clipOptimizer: AdamW
    let schedule: LRSchedule
    static let sceneStream: UInt64 = 0x4556_414C_5343_454E

    public init(config: EvaluatorConfig) throws {
        self.config = config
        evaluator = try Evaluator(config: config)
        classifierOptimizer = AdamW(parameters: evaluator.classifier.parameters, lr: Float(config.learningRate), weightDecay: 1e-4)
        clipOptimizer = AdamW(parameters: evaluator.clip.parameters, lr: Float(config.learningRate), weightDecay: 1e-4)
        schedule = LRSchedule(peak: Float(config.learningRate), warmupSteps: config.warmupIterations,
                              decay: .cosine(totalSteps: config.iterations, final: Float(config.learningRate) * 0.05))
    }

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
        let (images, labels) = batch(iteration)
        let lr = schedule.lr(at: iteration)

        classifierOptimizer.zeroGrad()
        let logits = evaluator.classifier.forward(images, save: true)
        let ce = AttributeClassifier.attributeLoss(logits, labels: labels)
        guard ce.loss.isFinite else { throw TrainingError.nonFiniteLoss(value: ce.loss, step: iteration + 1) }
        evaluator.classifier.backward(ce.gradient)
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

    /// Measures the trained evaluator's quality and records it in `evaluator.quality`.
    @discardableResult
    public func measureQuality(renders: Int = 10) throws -> EvaluatorQuality {
        let q = try EvaluatorQuality.measure(evaluator, renders: renders)
        evaluator.quality = q
        return q
    }
}
