import Foundation
import Tensors

/// The teacher baselines of docs/algorithms.md §6.
public enum TeacherSampler {
    /// Deterministic DDIM (§4).
    case ddim
    /// Adjusted DDIM with xvar from a table, the analytic form or a per-example estimate (§4).
    case adjustedDDIM(XvarSource)
    /// Ancestral DDPM: z_s ~ q(z_s | z_t, x = x̂) (§6).
    case ancestral
}

/// Samplers on the uniform grid t_k = k / N, from z_1 (t = 1) to z_0 (t = 0), all with
/// classifier-free guidance `w` (§3, §6). `observe`, when given, sees (t, z_t) at t = 1 and after
/// every step, ending with (0, z_0).
public enum Sampling {
    /// z_1 for samples `samples` under `seed`: element e of sample j is
    /// `CounterRNG(seed).normal(stream: NoiseStreams.initialNoise, index: j · d + e)`, so it is a
    /// pure function of (seed, j) whatever the batch (§6 seed matching).
    public static func initialNoise(seed: UInt64, samples: Range<Int>, exampleShape: [Int]) -> Tensor {
        precondition(samples.lowerBound >= 0, "initialNoise: negative sample index")
        let d = exampleShape.reduce(1, *)
        let z = Tensor(shape: [samples.count] + exampleShape)
        CounterRNG(seed: seed).fillNormal(z.buffer, stream: NoiseStreams.stream(NoiseStreams.initialNoise),
                                          first: UInt64(samples.lowerBound * d))
        return z
    }

    /// Teacher sampling with `steps` = N steps from `z1`. `seed` and `firstSample` (the index of
    /// the batch's first sample) address DDPM's per-step noise: element e of sample j at the step
    /// leaving t_k uses `NoiseStreams.ancestralNoise` of round k, index j · d + e.
    public static func teacher(_ model: VelocityModel, method: TeacherSampler, steps: Int, guidance w: Double = 0,
                               from z1: Tensor, seed: UInt64 = 0, firstSample: Int = 0,
                               schedule: CosineSchedule,
                               observe: ((_ t: Float, _ z: Tensor) -> Void)? = nil) -> Tensor {
        precondition(steps >= 1, "Sampling.teacher: steps must be ≥ 1, got \(steps)")
        let b = z1.shape[0], d = z1.count / b
        var z = z1.copy()
        observe?(1, z)
        for k in stride(from: steps, through: 1, by: -1) {
            let t = [Float](repeating: gridTime(k, steps), count: b)
            let s = [Float](repeating: gridTime(k - 1, steps), count: b)
            let v = model.guided(z, t, guidance: w).guided
            let x = DiffusionStep.predictX(v: v, z: z, t: t, schedule: schedule)
            switch method {
            case .ddim:
                z = DiffusionStep.ddim(x: x, z: z, from: t, to: s, schedule: schedule)
            case .adjustedDDIM(let source):
                let xvar = source.values(z: z, t: t, schedule: schedule)
                z = DiffusionStep.adjustedDDIM(x: x, z: z, from: t, to: s, xvar: xvar, schedule: schedule)
            case .ancestral:
                let noise = Tensor(shape: z.shape)
                CounterRNG(seed: seed).fillNormal(noise.buffer,
                                                  stream: NoiseStreams.stream(NoiseStreams.ancestralNoise, round: k),
                                                  first: UInt64(firstSample * d))
                z = DiffusionStep.ancestral(x: x, z: z, noise: noise, from: t, to: s, schedule: schedule)
            }
            observe?(s[0], z)
        }
        return z
    }

    /// The multistep consistency student's sampler (§6, Algorithm 2): for k = S … 1 with
    /// t = k/S, s = (k−1)/S, z_s = DDIM_{t→s}(f(z_t, t), z_t). One forward pass per step unless
    /// `guidance` ≠ 0 (a distilled student has learned the guided trajectory, so 0 is the norm).
    public static func student(_ model: VelocityModel, steps: Int, guidance w: Double = 0, from z1: Tensor,
                               schedule: CosineSchedule,
                               observe: ((_ t: Float, _ z: Tensor) -> Void)? = nil) -> Tensor {
        teacher(model, method: .ddim, steps: steps, guidance: w, from: z1, schedule: schedule, observe: observe)
    }

    /// t_k = k / N as the Float handed to networks; exact at k = 0 and k = N.
    @inline(__always)
    public static func gridTime(_ k: Int, _ n: Int) -> Float { Float(Double(k) / Double(n)) }
}
