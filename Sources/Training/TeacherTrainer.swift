import Datasets
import Diffusion
import Foundation
import Models
import NeuralNet

/// Teacher training (docs/algorithms.md §2): v-loss with the null conditioning at probability
/// p_uncond, AdamW with warm-up, cosine decay and gradient clipping, and an EMA of the weights
/// (with a warmed-up decay, `emaDecay(at:)`).
///
/// Iteration i uses data examples i·B ..< (i+1)·B and draws t, ε and the null-conditioning coin
/// of those examples from `TeacherLoss.prepare` at round i, and dropout masks at round i — all
/// pure functions of (seed, i, example). The run's whole state is therefore the weights, the
/// EMA, the optimiser moments and the iteration: a checkpoint holds exactly these, and a run
/// resumed from one ends bit-identical to an uninterrupted run.
public final class TeacherTrainer {
    public let config: TeacherTrainingConfig
    public let model: TextToImageModel
    public let optimizer: AdamW
    public let ema: EMA
    public let dataset: TextImageDataset
    public let schedule: LRSchedule
    /// Iterations completed.
    public internal(set) var iteration = 0

    /// A fresh run: weights initialised from the seed.
    public init(config: TeacherTrainingConfig, dataset: TextImageDataset, tokenizer: Tokenizer = .shapes) throws {
        try config.validate()
        guard dataset.resolution == config.model.uvit.resolution else {
            throw ModelError("teacher training: the dataset is \(dataset.resolution)×\(dataset.resolution) but model '\(config.model.preset)' takes \(config.model.uvit.resolution)×\(config.model.uvit.resolution)")
        }
        self.config = config
        self.dataset = dataset
        model = try TextToImageModel(config.model, tokenizer: tokenizer, seed: config.seed)
        let params = model.parameters
        optimizer = AdamW(parameters: params, lr: config.learningRate, weightDecay: config.weightDecay)
        ema = EMA(parameters: params, decay: config.emaDecay)
        schedule = LRSchedule(peak: config.learningRate, warmupSteps: config.warmupSteps,
                              decay: .cosine(totalSteps: config.iterations, final: config.finalLearningRate))
    }

    /// One iteration: forward, v-loss, backward, clip, AdamW, EMA. Returns the loss.
    @discardableResult
    public func step() throws -> Double {
        let i = iteration, b = config.batchSize
        let batch = dataset.batch(size: b, step: i)
        let prepared = TeacherLoss.prepare(x: batch.images, seed: config.seed, iteration: i, pUncond: config.pUncond,
                                           firstExample: i * b, schedule: config.model.schedule)
        model.isTraining = true
        model.setDropoutRound(i)
        optimizer.zeroGrad()
        let v = model.forward(prepared.z, t: prepared.t, captions: batch.captions, conditional: prepared.conditional, save: true)
        let (loss, grad) = TeacherLoss.loss(prediction: v, target: prepared.target)
        try checkFinite(loss: Float(loss), step: i + 1)
        model.backward(grad)
        try optimizer.clipGradNorm(maxNorm: config.gradClip)
        optimizer.step(lr: schedule.lr(at: i))
        ema.decay = emaDecay(at: i)
        ema.update()
        iteration = i + 1
        return loss
    }

    /// The teacher's xvar table (docs/algorithms.md §4) from the EMA weights: for every step of a
    /// `config.xvarSteps` grid, η · mean over `config.xvarExamples` data examples of
    /// ‖x̂_cond − x‖² / d, on the conditional (unguided) prediction. All examples go through
    /// the network as one batch per step.
    public func xvarTable() -> XvarTable {
        let m = config.xvarExamples
        let data = dataset.batch(indices: 0..<m)
        ema.swapWithParameters()
        defer { ema.swapWithParameters() }
        model.isTraining = false
        return XvarTable.estimate(model: model.velocityModel(captions: data.captions), data: data.images,
                                  steps: config.xvarSteps, eta: config.xvarEta, batchSize: m, seed: config.seed,
                                  schedule: config.model.schedule)
    }
}

extension TeacherTrainer {
    public static let teacherKind = ArtifactKind.teacher

    /// Ends the run: tabulates xvar with the EMA weights and writes the teacher (EMA weights as
    /// its parameters, the table, the model and training configs) to `url`.
    @discardableResult
    public func writeTeacher(to url: URL) throws -> XvarTable {
        let table = xvarTable()
        try ModelFile.write(model, tensors: ema.shadowTensors(), kind: Self.teacherKind, xvar: table,
                            extraMetadata: ["training": config.jsonString(), "iterations_done": String(iteration)], to: url)
        return table
    }
}
