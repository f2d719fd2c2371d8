import Foundation
import Tensors

/// The teacher's empirical posterior-variance table (docs/algorithms.md §4): for every step
/// t_k = k / N of the uniform grid, the mean over data of η · ‖x̂_cond(z_{t_k}) − x‖² / d,
/// always on the conditional (unguided) prediction. Computed once and stored with the teacher.
public struct XvarTable: Codable, Equatable, Sendable {
    /// N: the table holds t_k = k / N for k = 1 … N.
    public let steps: Int
    /// η (`xvar_frac`) already folded into `values`.
    public let eta: Double
    /// values[k − 1] is the xvar at t_k = k / N.
    public let values: [Double]

    public init(steps: Int, eta: Double, values: [Double]) {
        precondition(steps >= 1 && values.count == steps, "XvarTable: \(values.count) values for \(steps) steps")
        precondition(values.allSatisfy { $0 >= 0 && $0.isFinite }, "XvarTable: values must be finite and ≥ 0")
        self.steps = steps; self.eta = eta; self.values = values
    }

    /// xvar at time t: the table value on grid points, linear in t between them, and 0 at t = 0
    /// (where the posterior is exact), so a table on a fine grid serves samplers of any N.
    public func value(at t: Double) -> Double {
        precondition(t >= 0 && t <= 1, "XvarTable: time \(t) outside [0, 1]")
        let u = t * Double(steps)
        let k = Int(u.rounded(.down))
        if k >= steps { return values[steps - 1] }
        let lo = k == 0 ? 0 : values[k - 1]
        let f = u - Double(k)
        return f == 0 ? lo : lo + f * (values[k] - lo)
    }

    /// Tabulates xvar for `model`'s conditional branch over `data` ([M, …]), in batches of
    /// `batchSize`. The noise of data example j at step k is `NoiseStreams.xvarNoise` of round k,
    /// index j · d + element, under `seed`.
    public static func estimate(model: VelocityModel, data: Tensor, steps: Int, eta: Double = 0.75,
                                batchSize: Int = 64, seed: UInt64, schedule: CosineSchedule) -> XvarTable {
        precondition(steps >= 1 && batchSize >= 1 && data.rank >= 1 && data.shape[0] > 0,
                     "XvarTable.estimate: needs steps ≥ 1, batchSize ≥ 1 and data")
        let m = data.shape[0], d = data.count / m
        let rng = CounterRNG(seed: seed)
        var values = [Double]()
        for k in 1...steps {
            let t = Float(Double(k) / Double(steps))
            let stream = NoiseStreams.stream(NoiseStreams.xvarNoise, round: k)
            var total = 0.0
            var start = 0
            while start < m {
                let end = Swift.min(start + batchSize, m)
                let x = data.slice(start, end)
                let noise = Tensor(shape: x.shape)
                rng.fillNormal(noise.buffer, stream: stream, first: UInt64(start * d))
                let times = [Float](repeating: t, count: end - start)
                let z = DiffusionStep.noised(x: x, noise: noise, t: times, schedule: schedule)
                let xhat = DiffusionStep.predictX(v: model.conditional(z, times), z: z, t: times, schedule: schedule)
                total += squaredDistance(xhat, x) / Double(d)
                start = end
            }
            values.append(eta * total / Double(m))
        }
        return XvarTable(steps: steps, eta: eta, values: values)
    }
}

/// Where aDDIM's xvar comes from (§4).
public enum XvarSource {
    /// A tabulated teacher average (the sampling default).
    case table(XvarTable)
    /// xvar = 0.1 / (2 + SNR(t)).
    case analytic
    /// Any per-example estimate, e.g. the true posterior variance of an analytic teacher:
    /// `(z_t, t) → one xvar per example`.
    case perExample((_ z: Tensor, _ t: [Float]) -> [Double])

    /// xvar for each example of the batch `z` at times `t`.
    public func values(z: Tensor, t: [Float], schedule: CosineSchedule) -> [Double] {
        switch self {
        case .table(let table): return t.map { table.value(at: Double($0)) }
        case .analytic: return t.map { DiffusionStep.analyticXvar($0, schedule: schedule) }
        case .perExample(let f):
            let v = f(z, t)
            precondition(v.count == t.count, "XvarSource: \(v.count) values for a batch of \(t.count)")
            return v
        }
    }
}

/// η · ‖a_b − b_b‖² / d for each example b: the per-example empirical xvar of §4.
public func perExampleXvar(prediction a: Tensor, data b: Tensor, eta: Double) -> [Double] {
    let (n, d) = DiffusionStep.batchShape(a, b, "perExampleXvar")
    let ap = a.data, bp = b.data
    return (0..<n).map { i in
        var s = 0.0
        for e in (i * d)..<((i + 1) * d) { let u = Double(ap[e]) - Double(bp[e]); s += u * u }
        return eta * s / Double(d)
    }
}

/// Σ over all elements of (a − b)², in Double.
func squaredDistance(_ a: Tensor, _ b: Tensor) -> Double {
    checkSameShape(a, b, "squaredDistance")
    let ap = a.data, bp = b.data
    var s = 0.0
    for e in 0..<a.count { let u = Double(ap[e]) - Double(bp[e]); s += u * u }
    return s
}
