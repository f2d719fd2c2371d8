import Foundation
import Tensors

/// Distillation from a teacher, or consistency training from data alone (docs/algorithms.md §5).
public enum ConsistencyMode {
    /// Multistep consistency distillation: x_T is the guided teacher prediction x̂_w(z_t, t);
    /// xvar = η · ‖x̂_cond(z_t, t) − x‖² / d on the unguided prediction, per example.
    case distill(teacher: VelocityModel, guidance: Double, xvarFraction: Double)
    /// Guidance-conditioned distillation: as `distill`, with w_b for example b (drawn by
    /// `MultistepConsistency.drawGuidance`); xvar stays on the unguided prediction.
    case distillPerExample(teacher: VelocityModel, guidance: [Double], xvarFraction: Double)
    /// Multistep consistency training: x_T = x, xvar = 0.
    case train
}

/// Which space the consistency difference is measured in (a loss weighting; docs/algorithms.md §5).
public enum ConsistencyLossWeighting: String, Codable, CaseIterable, Sendable {
    /// Δ = (f − x_tgt) / σ_t, the v-space difference: x-space weight SNR + 1 on Δ² (the default).
    case v
    /// Δ = f − x_tgt, the x-space difference: weight 1, so examples near t = 0 count less.
    case x

    /// dΔ/dv̂ for an example with noise level σ_t: −1 in v-space, −σ_t in x-space.
    public func slope(sigma: Double) -> Double { self == .v ? -1 : -sigma }
}

/// What the student's gradient pass needs for one batch: evaluate v̂ = f(z, t) with gradients,
/// then hand v̂ to `MultistepConsistency.loss`.
public struct ConsistencyBatch {
    /// z_t = α_t · x + σ_t · ε, the student's input.
    public let z: Tensor
    /// t = t_step + n_rel / T per example.
    public let t: [Float]
    /// x_tgt = invDDIM_{t→t_step}(z_ref, z_t).
    public let xTarget: Tensor
    public let alpha: [Double]
    public let sigma: [Double]
    /// The draws behind each example: step ∈ {0…S−1}, n_rel ∈ {1…N_seg}.
    public let step: [Int]
    public let offset: [Int]
    /// N_seg and T = N_seg · S at this iteration.
    public let segmentSteps: Int
    public let totalSteps: Int
    /// The aDDIM xvar used per example (0 in training mode).
    public let xvar: [Double]
}

/// One multistep consistency step on a batch (Algorithm 1 of the paper, §5 here):
///
///     N_seg = round(N_teacher(i) / S);  T = N_seg · S;  step ~ U{0…S−1};  n_rel ~ U{1…N_seg}
///     t_step = step / S;  t = t_step + n_rel / T;  s = t − 1 / T;  z_t = α_t x + σ_t ε
///     z_s   = aDDIM_{t→s}(x_T, z_t, xvar)
///     x_ref = stopgrad(f(z_s, s));  z_ref = DDIM_{s→t_step}(x_ref, z_s)  (z_s when s = t_step)
///     x_tgt = invDDIM_{t→t_step}(z_ref, z_t)
///     Δ = (f(z_t, t) − x_tgt) / σ_t;  loss = pseudoHuber(Δ)
///
/// (With the x-space `lossWeighting`, Δ = f(z_t, t) − x_tgt and dΔ/dv̂ = −σ_t.)
///
/// `prepare` does everything up to x_tgt (with the caller's no-grad student for x_ref);
/// `loss` takes the student's v̂(z_t, t) and returns the loss and dloss/dv̂. Since
/// f(z_t, t) = α_t z_t − σ_t v̂, Δ = (α_t z_t − x_tgt) / σ_t − v̂ and dΔ/dv̂ = −1.
///
/// The no-grad target call decides which weights produce x_ref: the current student weights
/// (iCT style, ALGORITHMS' default) or an EMA of them (the EMA target, `Distiller`'s default up to S = 8) —
/// the caller passes the closure that evaluates the weights it wants.
public struct MultistepConsistency {
    public var studentSteps: Int
    public var teacherSteps: TeacherStepSchedule
    public var mode: ConsistencyMode
    /// c (`huber_epsilon`): 1e-4 ≈ Euclidean distance, 1 ≈ scaled squared distance.
    public var huberC: Double
    public var huberReduction: HuberReduction
    public var lossWeighting: ConsistencyLossWeighting
    public var schedule: CosineSchedule

    public init(studentSteps: Int, teacherSteps: TeacherStepSchedule, mode: ConsistencyMode,
                huberC: Double = 1e-4, huberReduction: HuberReduction = .perExample,
                lossWeighting: ConsistencyLossWeighting = .v, schedule: CosineSchedule = CosineSchedule()) {
        precondition(studentSteps >= 1, "MultistepConsistency: student steps must be ≥ 1")
        precondition(huberC > 0, "MultistepConsistency: Huber c must be > 0")
        self.studentSteps = studentSteps; self.teacherSteps = teacherSteps; self.mode = mode
        self.huberC = huberC; self.huberReduction = huberReduction; self.lossWeighting = lossWeighting
        self.schedule = schedule
    }

    /// Builds the student's inputs and targets for data `x` ([B, …]) at training `iteration`.
    /// Example b's draws are a pure function of (seed, iteration, firstExample + b) (streams
    /// `consistencyStep`, `consistencyOffset`, `consistencyNoise` of `NoiseStreams`).
    /// `target` is the no-grad student: (z_s, s) → v̂, conditioned on the text only.
    public func prepare(x: Tensor, seed: UInt64, iteration: Int, firstExample: Int = 0,
                        target student: (_ z: Tensor, _ t: [Float]) -> Tensor) -> ConsistencyBatch {
        let b = x.shape[0], d = x.count / b
        let S = studentSteps
        let nSeg = teacherSteps.segmentSteps(atIteration: iteration, studentSteps: S)
        let T = nSeg * S
        let rng = CounterRNG(seed: seed)
        let stepStream = NoiseStreams.stream(NoiseStreams.consistencyStep, round: iteration)
        let offsetStream = NoiseStreams.stream(NoiseStreams.consistencyOffset, round: iteration)
        let step = (0..<b).map { rng.integer(below: S, stream: stepStream, index: UInt64(firstExample + $0)) }
        let offset = (0..<b).map { 1 + rng.integer(below: nSeg, stream: offsetStream, index: UInt64(firstExample + $0)) }
        // Times on the grid k / T, from integers so that s = t_step exactly when n_rel = 1.
        let tIndex = (0..<b).map { step[$0] * nSeg + offset[$0] }
        let t = tIndex.map { Float(Double($0) / Double(T)) }
        let s = tIndex.map { Float(Double($0 - 1) / Double(T)) }
        let u = step.map { Float(Double($0) / Double(S)) }

        let eps = Tensor(shape: x.shape)
        rng.fillNormal(eps.buffer, stream: NoiseStreams.stream(NoiseStreams.consistencyNoise, round: iteration),
                       first: UInt64(firstExample * d))
        let zt = DiffusionStep.noised(x: x, noise: eps, t: t, schedule: schedule)

        // x_T and xvar.
        let xT: Tensor, xvar: [Double]
        switch mode {
        case .train:
            xT = x
            xvar = [Double](repeating: 0, count: b)
        case .distill(let teacher, let w, let eta):
            let v = teacher.guided(zt, t, guidance: w)
            xT = DiffusionStep.predictX(v: v.guided, z: zt, t: t, schedule: schedule)
            let xCond = w == 0 ? xT : DiffusionStep.predictX(v: v.conditional, z: zt, t: t, schedule: schedule)
            xvar = perExampleXvar(prediction: xCond, data: x, eta: eta)
        case .distillPerExample(let teacher, let w, let eta):
            let v = teacher.guided(zt, t, guidance: w)
            xT = DiffusionStep.predictX(v: v.guided, z: zt, t: t, schedule: schedule)
            let xCond = DiffusionStep.predictX(v: v.conditional, z: zt, t: t, schedule: schedule)
            xvar = perExampleXvar(prediction: xCond, data: x, eta: eta)
        }

        // z_s = aDDIM_{t→s}(x_T, z_t, xvar), kept in Double for the target and rounded for the student.
        let at = t.map { schedule.alpha(Double($0)) }, st = t.map { schedule.sigma(Double($0)) }
        let asx = s.map { schedule.alpha(Double($0)) }, ss = s.map { schedule.sigma(Double($0)) }
        var zs = [Double](repeating: 0, count: x.count)
        let zsInput = Tensor(shape: x.shape)
        let xTp = xT.data, ztp = zt.data, zip = zsInput.data
        for i in 0..<b {
            let range = (i * d)..<((i + 1) * d)
            var norm2 = 0.0
            for e in range { let n = (Double(ztp[e]) - at[i] * Double(xTp[e])) / st[i]; norm2 += n * n }
            let g = asx[i] - at[i] * ss[i] / st[i]
            let zvar = g * g * xvar[i]
            let k = norm2 > 0 ? (ss[i] * ss[i] + Double(d) * zvar / norm2).squareRoot() : ss[i]
            for e in range {
                let n = (Double(ztp[e]) - at[i] * Double(xTp[e])) / st[i]
                zs[e] = asx[i] * Double(xTp[e]) + k * n
                zip[e] = Float(zs[e])
            }
        }

        // x_ref = stopgrad(f(z_s, s)) — unused where s = t_step, but one batched call is simplest.
        let vRef = student(zsInput, s)
        checkSameShape(vRef, x, "MultistepConsistency target v̂")
        let xTarget = Tensor(shape: x.shape)
        let vp = vRef.data, xp = xTarget.data
        for i in 0..<b {
            let au = schedule.alpha(Double(u[i])), su = schedule.sigma(Double(u[i]))
            let r = su / st[i]
            let den = au - at[i] * r
            let sameTime = offset[i] == 1   // s = t_step: z_ref = z_s
            for e in (i * d)..<((i + 1) * d) {
                var zref = zs[e]
                if !sameTime {
                    let xref = asx[i] * Double(zip[e]) - ss[i] * Double(vp[e])
                    zref = au * xref + (su / ss[i]) * (zs[e] - asx[i] * xref)
                }
                xp[e] = Float((zref - r * Double(ztp[e])) / den)
            }
        }
        return ConsistencyBatch(z: zt, t: t, xTarget: xTarget, alpha: at, sigma: st, step: step, offset: offset,
                                segmentSteps: nSeg, totalSteps: T, xvar: xvar)
    }

    /// w ~ U[lower, upper] for examples firstExample ..< firstExample + count of `iteration`
    /// (stream `consistencyGuidance`): w_b = lower + (upper − lower) · u_b.
    public static func drawGuidance(lower: Double, upper: Double, seed: UInt64, iteration: Int, firstExample: Int = 0,
                                    count: Int) -> [Double] {
        let rng = CounterRNG(seed: seed)
        let stream = NoiseStreams.stream(NoiseStreams.consistencyGuidance, round: iteration)
        return (0..<count).map { lower + (upper - lower) * Double(rng.uniform(stream: stream, index: UInt64(firstExample + $0))) }
    }

    /// The student's v̂ = f(z_t, t) (with gradients, from the caller) → (loss, dloss/dv̂), with
    /// Δ = ((α_t z_t − x_tgt) − σ_t v̂) / σ_t per element (or without the / σ_t in x-space) and
    /// the configured pseudo-Huber.
    public func loss(prediction vHat: Tensor, batch: ConsistencyBatch) -> (loss: Double, gradient: Tensor) {
        let delta = MultistepConsistency.delta(prediction: vHat, batch: batch, weighting: lossWeighting)
        let (loss, dDelta) = PseudoHuber.loss(delta, c: huberC, reduction: huberReduction)
        let b = dDelta.shape[0], d = dDelta.count / b
        let g = dDelta.data
        for i in 0..<b {
            let slope = Float(lossWeighting.slope(sigma: batch.sigma[i]))
            for e in (i * d)..<((i + 1) * d) { g[e] *= slope }
        }
        return (loss, dDelta)
    }

    /// Δ = (f(z_t, t) − x_tgt) / σ_t (the difference in v-space, the default) or f(z_t, t) − x_tgt
    /// (in x-space), with f = α_t z_t − σ_t v̂.
    public static func delta(prediction vHat: Tensor, batch: ConsistencyBatch,
                             weighting: ConsistencyLossWeighting = .v) -> Tensor {
        checkSameShape(vHat, batch.z, "MultistepConsistency.loss")
        let b = vHat.shape[0], d = vHat.count / b
        let out = Tensor(shape: vHat.shape)
        let vp = vHat.data, zp = batch.z.data, xp = batch.xTarget.data, op = out.data
        for i in 0..<b {
            let a = batch.alpha[i], s = batch.sigma[i]
            let divisor = weighting == .v ? s : 1  // a division, so v-space keeps its exact bits
            for e in (i * d)..<((i + 1) * d) {
                op[e] = Float(((a * Double(zp[e]) - Double(xp[e])) - s * Double(vp[e])) / divisor)
            }
        }
        return out
    }
}
