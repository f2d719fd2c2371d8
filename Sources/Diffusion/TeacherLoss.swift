import Foundation
import Tensors

/// One batch of the teacher's diffusion loss (docs/algorithms.md §2): the network is asked for
/// v̂ = F(z_t, λ(t), c_b) where c_b is the example's conditioning, or the learned null
/// conditioning where `conditional[b]` is false.
public struct TeacherLossBatch {
    /// z_t = α_t · x + σ_t · ε, the network input, shaped like x.
    public let z: Tensor
    /// t ~ U(0, 1) per example (never exactly 0 or 1).
    public let t: [Float]
    /// v = α_t · ε − σ_t · x, the regression target.
    public let target: Tensor
    /// false where the conditioning is replaced by the null conditioning (probability p_uncond).
    public let conditional: [Bool]
}

public enum TeacherLoss {
    /// Draws t, ε and the null-conditioning coin for every example of `x` ([B, …]) at training
    /// `iteration`. Example b's draws are a pure function of (seed, iteration, firstExample + b)
    /// (streams `teacherTime`, `teacherNoise`, `teacherUncond` in `NoiseStreams`).
    public static func prepare(x: Tensor, seed: UInt64, iteration: Int, pUncond: Double = 0.1,
                               firstExample: Int = 0, schedule: CosineSchedule) -> TeacherLossBatch {
        precondition(pUncond >= 0 && pUncond <= 1, "TeacherLoss: p_uncond \(pUncond) outside [0, 1]")
        let b = x.shape[0], d = x.count / b
        let rng = CounterRNG(seed: seed)
        let timeStream = NoiseStreams.stream(NoiseStreams.teacherTime, round: iteration)
        let coinStream = NoiseStreams.stream(NoiseStreams.teacherUncond, round: iteration)
        let t = (0..<b).map { rng.uniform(stream: timeStream, index: UInt64(firstExample + $0)) }
        let conditional = (0..<b).map {
            Double(rng.uniform(stream: coinStream, index: UInt64(firstExample + $0))) >= pUncond
        }
        let eps = Tensor(shape: x.shape)
        rng.fillNormal(eps.buffer, stream: NoiseStreams.stream(NoiseStreams.teacherNoise, round: iteration),
                       first: UInt64(firstExample * d))
        let z = DiffusionStep.noised(x: x, noise: eps, t: t, schedule: schedule)
        // v = α_t ε − σ_t x
        let target = DiffusionStep.affine(eps, x, t.map { (schedule.alpha(Double($0)), -schedule.sigma(Double($0))) })
        return TeacherLossBatch(z: z, t: t, target: target, conditional: conditional)
    }

    /// loss = mean over examples of mean over dimensions of (v − v̂)², and dloss/dv̂ = 2 (v̂ − v) / (B · d).
    /// Equals the x-loss weighted by SNR(t) + 1 (§2).
    public static func loss(prediction vHat: Tensor, target v: Tensor) -> (loss: Double, gradient: Tensor) {
        checkSameShape(vHat, v, "TeacherLoss.loss")
        let n = vHat.count
        let grad = Tensor(shape: vHat.shape)
        let pp = vHat.data, tp = v.data, gp = grad.data
        var sum = 0.0
        let scale = 2 / Double(n)
        for i in 0..<n {
            let r = Double(pp[i]) - Double(tp[i])
            sum += r * r
            gp[i] = Float(scale * r)
        }
        return (sum / Double(n), grad)
    }
}
