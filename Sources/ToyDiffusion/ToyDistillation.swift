import Diffusion
import Foundation
import NeuralNet

/// Multistep consistency distillation (docs/algorithms.md §5) of an analytic mixture teacher into a
/// `ToyVelocityNet`, trained with the engine's AdamW; an EMA of the student is kept for sampling.
///
/// Each iteration draws a fresh batch from the teacher's (conditional) mixture, builds targets
/// with `MultistepConsistency.prepare` (x_ref from the current weights: iCT style, no EMA target),
/// runs the student's gradient pass on (z_t, t) and takes one AdamW step.
public struct ToyDistillation {
    public var teacher: MixtureTeacher
    public var studentSteps: Int
    public var teacherSteps: TeacherStepSchedule = .fixed(64)
    public var guidance: Double = 0
    /// η. With d = 1 aDDIM's ‖ε̂‖ normalisation is degenerate, so the 1-D experiments use 0.
    public var xvarFraction: Double = 0
    public var huberC: Double = 1e-3
    public var batchSize: Int = 256
    public var learningRate: Float = 1e-3
    public var emaDecay: Float = 0.995
    public var seed: UInt64

    public init(teacher: MixtureTeacher, studentSteps: Int, seed: UInt64) {
        self.teacher = teacher; self.studentSteps = studentSteps; self.seed = seed
    }

    var consistency: MultistepConsistency {
        MultistepConsistency(studentSteps: studentSteps, teacherSteps: teacherSteps,
                             mode: .distill(teacher: teacher.model, guidance: guidance, xvarFraction: xvarFraction),
                             huberC: huberC, schedule: teacher.schedule)
    }

    /// Trains `student` for `iterations`; `observe(i, ema)` sees the EMA weights after i
    /// iterations for every i in `checkpoints` (0 = before training). Returns the final EMA network.
    @discardableResult
    public func train(_ student: ToyVelocityNet, iterations: Int, checkpoints: Set<Int> = [],
                      observe: (Int, ToyVelocityNet) throws -> Void = { _, _ in }) throws -> ToyVelocityNet {
        let optimizer = AdamW(parameters: student.parameters, lr: learningRate, weightDecay: 0)
        let ema = EMA(parameters: student.parameters, decay: emaDecay)
        let schedule = LRSchedule(peak: learningRate, warmupSteps: Swift.min(100, iterations / 10),
                                  decay: .cosine(totalSteps: iterations, final: learningRate / 10))
        let mcd = consistency
        if checkpoints.contains(0) { try observe(0, try student.copy(with: ema.shadowTensors())) }
        for i in 0..<iterations {
            let x = teacher.conditional.sample(count: batchSize, seed: seed, first: i * batchSize).x
            let batch = mcd.prepare(x: x, seed: seed, iteration: i) { z, t in student.forward(z, t, save: false) }
            optimizer.zeroGrad()
            let v = student.forward(batch.z, batch.t, save: true)
            let (loss, grad) = mcd.loss(prediction: v, batch: batch)
            try checkFinite(loss: Float(loss), step: i)
            student.backward(grad)
            try optimizer.clipGradNorm(maxNorm: 1)
            optimizer.step(lr: schedule.lr(at: i))
            ema.update()
            if checkpoints.contains(i + 1) { try observe(i + 1, try student.copy(with: ema.shadowTensors())) }
        }
        return try student.copy(with: ema.shadowTensors())
    }

    /// The "teacher weights" students start from: regress the analytic teacher's conditional v̂
    /// at t ~ U(0, 1), z_t = α_t x + σ_t ε (the draws of `TeacherLoss.prepare`), with the v-MSE of §2.
    public static func fitTeacher(_ net: ToyVelocityNet, teacher: MixtureTeacher, iterations: Int,
                                  batchSize: Int = 256, learningRate: Float = 3e-3, seed: UInt64) throws {
        let optimizer = AdamW(parameters: net.parameters, lr: learningRate, weightDecay: 0)
        let schedule = LRSchedule(peak: learningRate, warmupSteps: Swift.min(100, iterations / 10),
                                  decay: .cosine(totalSteps: iterations, final: learningRate / 30))
        for i in 0..<iterations {
            let x = teacher.conditional.sample(count: batchSize, seed: seed, first: i * batchSize).x
            let batch = TeacherLoss.prepare(x: x, seed: seed, iteration: i, pUncond: 0, schedule: teacher.schedule)
            let target = teacher.model.conditional(batch.z, batch.t)
            optimizer.zeroGrad()
            let (loss, grad) = TeacherLoss.loss(prediction: net.forward(batch.z, batch.t, save: true), target: target)
            try checkFinite(loss: Float(loss), step: i)
            net.backward(grad)
            try optimizer.clipGradNorm(maxNorm: 1)
            optimizer.step(lr: schedule.lr(at: i))
        }
    }
}
