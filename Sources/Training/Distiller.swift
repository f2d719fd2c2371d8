import Datasets
import Diffusion
import Foundation
import Models
import NeuralNet

/// Where a distillation iteration's time goes, summed over the iterations since the counters
/// were last reset (seconds).
public struct DistillationTimings: Sendable {
    /// The frozen teacher's forwards (both guidance branches, text encoder included).
    public var teacher = 0.0
    /// The student's no-grad forward for the stop-gradient target x_ref.
    public var studentTarget = 0.0
    /// The student's forward with saved activations and its backward.
    public var studentTraining = 0.0
    /// Whole iterations (data, §5 arithmetic, clipping, AdamW and EMA are the rest).
    public var total = 0.0
    public var iterations = 0

    public var rest: Double { total - teacher - studentTarget - studentTraining }

    public init() {}
}

/// Multistep consistency distillation of a text-to-image teacher into an S-step student
/// (docs/algorithms.md §5), or consistency training (CT) as a mode of the same loop.
///
/// The student is a copy of the teacher's network initialised from the teacher file's weights
/// (its EMA weights). The teacher is frozen: it runs without saving activations (`save: false`)
/// and never receives gradients. Each iteration i takes data examples i·B ..< (i+1)·B, builds
/// the §5 targets with `MultistepConsistency.prepare` — the guided teacher's x̂_w for the aDDIM
/// step, xvar = η · ‖x̂_cond − x‖² / d per example on the unguided prediction, x_ref with no
/// gradient from the student's EMA or its current weights (iCT style, `emaTarget` nil; the
/// default follows S, `DistillationConfig.defaultEMATarget`) — then runs the student on (z_t, t)
/// conditioned on the text only, takes the per-example pseudo-Huber of the v-space difference,
/// clips, steps AdamW and updates the EMA.
///
/// Dropout is off unless `config.dropout` is set; then the target pass and the gradient pass
/// of iteration i draw the same masks (`useDropout`), because they must evaluate the same
/// function for the consistency residual to vanish at the fixed point.
///
/// Every draw of iteration i is a pure function of (seed, i, example), so the run's state is
/// the student's weights, its EMA, AdamW's moments and the iteration: a checkpoint holds exactly
/// these, and a resumed run ends bit-identical to an uninterrupted one.
public final class Distiller {
    public let config: DistillationConfig
    public let teacher: TextToImageModel
    /// sha256 of the teacher file, recorded in checkpoints and in the student.
    public let teacherSHA: String
    public let student: TextToImageModel
    public let optimizer: AdamW
    public let ema: EMA
    public let dataset: TextImageDataset
    public let lrSchedule: LRSchedule
    /// With an EMA target: a second student holding the EMA weights for the x_ref pass.
    let emaTargetModel: TextToImageModel?
    /// Iterations completed.
    public internal(set) var iteration = 0
    public var timings = DistillationTimings()

    /// A fresh run: the student starts as an exact copy of `teacher`'s weights.
    public init(config: DistillationConfig, teacher: TextToImageModel, teacherSHA: String,
                dataset: TextImageDataset) throws {
        try config.validate()
        guard dataset.resolution == teacher.resolution else {
            throw ModelError("distillation: the dataset is \(dataset.resolution)×\(dataset.resolution) but the teacher takes \(teacher.resolution)×\(teacher.resolution)")
        }
        self.config = config
        self.teacher = teacher
        self.teacherSHA = teacherSHA
        self.dataset = dataset
        teacher.isTraining = false
        guard teacher.guidanceMLP == nil else {
            throw ModelError("distillation: the teacher is a guidance-conditioned student; distil from a teacher")
        }
        var studentConfig = teacher.config
        if let p = config.dropout { studentConfig.uvit.dropout = p }
        if let range = config.guidanceRange {
            // Guidance-conditioned student (§5): the teacher's network plus the w input, whose
            // zero-initialised MLP keeps the student equal to the teacher at the start.
            studentConfig.guidanceInput = GuidanceInputConfig(range: range, features: teacher.config.uvit.noiseFeatures)
        }
        student = try TextToImageModel(studentConfig, tokenizer: teacher.tokenizer, seed: 0)
        var initial = Dictionary(uniqueKeysWithValues: teacher.namedTensors())
        for p in student.guidanceMLP?.parameters ?? [] { initial[p.name] = p.value.copy() }
        try student.load(initial)
        student.isTraining = false
        let params = student.parameters
        optimizer = AdamW(parameters: params, lr: config.learningRate, weightDecay: config.weightDecay)
        if let scale = config.guidanceLearningRateScale, let mlp = student.guidanceMLP {
            let names = Set(mlp.parameters.map(\.name))
            for (i, p) in params.enumerated() where names.contains(p.name) { optimizer.learningRateScales[i] = scale }
        }
        ema = EMA(parameters: params, decay: config.emaDecay)
        if config.emaTarget == true {
            emaTargetModel = try TextToImageModel(studentConfig, tokenizer: teacher.tokenizer, seed: 0)
            emaTargetModel?.isTraining = false
        } else {
            emaTargetModel = nil
        }
        lrSchedule = LRSchedule(peak: config.learningRate, warmupSteps: config.warmupSteps,
                                decay: .cosine(totalSteps: config.iterations, final: config.finalLearningRate))
    }

    /// The §5 step for a batch with these captions (the teacher's branches are timed), with
    /// one teacher guidance weight per example for a guidance-range run.
    func consistency(captions: [String], guidance: [Double]? = nil) -> MultistepConsistency {
        let mode: ConsistencyMode
        switch config.mode {
        case .ct:
            mode = .train
        case .cd:
            let vm = timed(&timings.teacher) { teacher.velocityModel(captions: captions) }
            var both: VelocityModel.BothBranches? = nil
            if let f = vm.bothBranches {
                both = { z, t in self.timed(&self.timings.teacher) { f(z, t) } }
            }
            let timedModel = VelocityModel(bothBranches: both) { z, t, c in
                self.timed(&self.timings.teacher) { vm.branch(z, t, c) }
            }
            if let guidance {
                mode = .distillPerExample(teacher: timedModel, guidance: guidance, xvarFraction: config.xvarFraction)
            } else {
                mode = .distill(teacher: timedModel, guidance: config.guidance, xvarFraction: config.xvarFraction)
            }
        }
        return MultistepConsistency(studentSteps: config.studentSteps, teacherSteps: config.teacherSteps, mode: mode,
                                    huberC: config.huberC, huberReduction: config.huberReduction,
                                    lossWeighting: config.lossWeighting ?? .v, schedule: teacher.schedule)
    }

    /// One iteration: §5 targets, student forward + backward, clip, AdamW, EMA. Returns the loss.
    @discardableResult
    public func step() throws -> Double {
        let began = DispatchTime.now().uptimeNanoseconds
        let i = iteration, b = config.batchSize
        let data = dataset.batch(size: b, step: i)
        // A guidance-range run draws w per example; teacher, target and student all see it.
        let w = config.guidanceRange.map {
            MultistepConsistency.drawGuidance(lower: $0.lower, upper: $0.upper, seed: config.seed, iteration: i,
                                              firstExample: i * b, count: b)
        }
        let studentW = w.map { $0.map(Float.init) }
        let mcd = consistency(captions: data.captions, guidance: w)
        let textOnly = [Bool](repeating: true, count: b)
        // x_ref = stopgrad(f(z_s, s)) from the current weights (or their EMA), conditioned on the text only.
        let targetNet = emaTargetModel ?? student
        if let m = emaTargetModel {
            for (p, s) in zip(m.parameters, ema.shadow) { p.value.copy(from: s) }
        }
        let targetConditioning = timed(&timings.studentTarget) { targetNet.encode(data.captions) }
        let batch = mcd.prepare(x: data.images, seed: config.seed, iteration: i, firstExample: i * b) { z, t in
            self.timed(&self.timings.studentTarget) {
                self.useDropout(in: targetNet, iteration: i)
                return targetNet.denoise(z, t: t, conditioning: targetConditioning, save: false, guidance: studentW)
            }
        }
        optimizer.zeroGrad()
        let loss: Double = try timed(&timings.studentTraining) {
            useDropout(in: student, iteration: i)
            defer { student.isTraining = false }
            let v = student.forward(batch.z, t: batch.t, captions: data.captions, conditional: textOnly, save: true,
                                    guidance: studentW)
            let (loss, grad) = mcd.loss(prediction: v, batch: batch)
            try checkFinite(loss: Float(loss), step: i + 1)
            student.backward(grad)
            return loss
        }
        try optimizer.clipGradNorm(maxNorm: config.gradClip)
        optimizer.step(lr: lrSchedule.lr(at: i))
        ema.decay = emaDecay(at: i)
        ema.update()
        iteration = i + 1
        timings.total += Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        timings.iterations += 1
        return loss
    }

    /// With `config.dropout`: switches `net`'s dropout on with the masks of iteration i, which
    /// are a pure function of (layer, i) — the same in the student and in the EMA target's copy
    /// (both built with seed 0), so the target and the gradient pass share them, and a resumed
    /// run draws them again. Without, dropout stays off.
    func useDropout(in net: TextToImageModel, iteration i: Int) {
        guard config.dropout != nil else { return }
        net.isTraining = true
        net.setDropoutRound(i)
    }

    /// T of the iteration about to run (or of the last one, once finished).
    public var currentTeacherSteps: Int {
        config.effectiveTeacherSteps(atIteration: min(iteration, max(config.iterations - 1, 0)))
    }

    /// Runs `body`, adding its wall time to `counter`.
    @inline(__always)
    func timed<T>(_ counter: inout Double, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { counter += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }
}
