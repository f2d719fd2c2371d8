import Foundation
import Tensors

/// Data from a mixture of isotropic Gaussians in R^D, x ~ Σ_k π_k N(μ_k, s_k² I): an analytic
/// teacher whose posterior under z_t = α_t x + σ_t ε is closed-form. With c_k = α² s_k² + σ²:
///
///     p(z_t)       = Σ_k π_k N(z_t; α μ_k, c_k I)
///     r_k(z_t)     ∝ π_k N(z_t; α μ_k, c_k I)                    (component posterior)
///     x | z_t, k   ~ N(m_k, v_k I),  m_k = μ_k + (α s_k² / c_k)(z_t − α μ_k),  v_k = s_k² σ² / c_k
///     E[x | z_t]   = Σ_k r_k m_k
///     tr Var(x | z_t) / D = Σ_k r_k v_k + Σ_k r_k ‖m_k − E[x | z_t]‖² / D
///
/// and the ideal v̂ = (α_t z_t − E[x | z_t]) / σ_t (docs/algorithms.md §2). At t = 0 the posterior is
/// the point z itself.
public struct GaussianMixture: Sendable {
    public let weights: [Double]
    public let means: [[Double]]
    public let variances: [Double]
    public let dimension: Int
    /// The means row by row (K · D), for the hot loops.
    let flatMeans: [Double]

    /// `weights` are normalised to sum to one; `variances` are the per-dimension s_k² ≥ 0.
    public init(weights: [Double], means: [[Double]], variances: [Double]) {
        precondition(!weights.isEmpty && weights.count == means.count && weights.count == variances.count,
                     "GaussianMixture: \(weights.count) weights, \(means.count) means, \(variances.count) variances")
        precondition(weights.allSatisfy { $0 > 0 } && variances.allSatisfy { $0 >= 0 },
                     "GaussianMixture: weights must be > 0 and variances ≥ 0")
        let dim = means[0].count
        precondition(dim >= 1 && means.allSatisfy { $0.count == dim }, "GaussianMixture: means of unequal dimension")
        let total = weights.reduce(0, +)
        self.weights = weights.map { $0 / total }
        self.means = means
        self.variances = variances
        self.dimension = dim
        self.flatMeans = means.flatMap { $0 }
    }

    public var componentCount: Int { weights.count }

    /// The same components with other weights (e.g. a class-conditional mixture).
    public func reweighted(_ weights: [Double]) -> GaussianMixture {
        GaussianMixture(weights: weights, means: means, variances: variances)
    }

    /// Draws `count` examples ([count, D]) and their components. Example j's component and noise
    /// are pure functions of (seed, first + j) (`NoiseStreams.mixtureComponent`, `mixtureNoise`).
    public func sample(count: Int, seed: UInt64, first: Int = 0) -> (x: Tensor, component: [Int]) {
        let rng = CounterRNG(seed: seed)
        let D = dimension
        let x = Tensor(shape: [count, D])
        var component = [Int]()
        component.reserveCapacity(count)
        let cumulative = weights.indices.map { weights[...$0].reduce(0, +) }
        let cs = NoiseStreams.stream(NoiseStreams.mixtureComponent), ns = NoiseStreams.stream(NoiseStreams.mixtureNoise)
        let xp = x.data
        for j in 0..<count {
            let u = Double(rng.uniform(stream: cs, index: UInt64(first + j)))
            let k = cumulative.firstIndex { u < $0 } ?? (componentCount - 1)
            component.append(k)
            let sd = variances[k].squareRoot()
            for e in 0..<D {
                xp[j * D + e] = Float(means[k][e] + sd * Double(rng.normal(stream: ns, index: UInt64((first + j) * D + e))))
            }
        }
        return (x, component)
    }

    /// Posterior of one point `z` (D numbers) under (α, σ): writes E[x | z] into `mean` and the
    /// responsibilities into `r`; returns tr Var(x | z) / D.
    public func posterior(_ z: UnsafePointer<Float>, alpha: Double, sigma: Double,
                          mean: UnsafeMutablePointer<Double>, r: UnsafeMutablePointer<Double>) -> Double {
        var terms = NoisyComponents(self, alpha: alpha, sigma: sigma)
        return posterior(z, terms: &terms, mean: mean, r: r)
    }

    /// Per-component constants of the posterior at one (α, σ), shared by all points at that time.
    struct NoisyComponents {
        let alpha: Double, sigma: Double
        /// log π_k − (D/2) log c_k,  1 / c_k,  g_k = α s_k² / c_k,  v_k = s_k² σ² / c_k
        var logScale: [Double], inverseC: [Double], gain: [Double], within: [Double]
        var m: [Double]   // scratch: the K·D component posterior means

        init(_ mix: GaussianMixture, alpha: Double, sigma: Double) {
            self.alpha = alpha; self.sigma = sigma
            let K = mix.componentCount
            logScale = []; inverseC = []; gain = []; within = []
            for k in 0..<K {
                let c = alpha * alpha * mix.variances[k] + sigma * sigma
                logScale.append(Foundation.log(mix.weights[k]) - 0.5 * Double(mix.dimension) * Foundation.log(c))
                inverseC.append(1 / c)
                gain.append(alpha * mix.variances[k] / c)
                within.append(mix.variances[k] * sigma * sigma / c)
            }
            m = [Double](repeating: 0, count: K * mix.dimension)
        }
    }

    @inline(__always)
    func posterior(_ z: UnsafePointer<Float>, terms: inout NoisyComponents,
                   mean: UnsafeMutablePointer<Double>, r: UnsafeMutablePointer<Double>) -> Double {
        let D = dimension, K = componentCount, alpha = terms.alpha
        if terms.sigma == 0 {
            for e in 0..<D { mean[e] = Double(z[e]) }
            let k = nearestComponent(z)
            for j in 0..<K { r[j] = j == k ? 1 : 0 }
            return 0
        }
        return flatMeans.withUnsafeBufferPointer { mu in
            terms.m.withUnsafeMutableBufferPointer { m in
                var best = -Double.infinity
                for k in 0..<K {
                    var q = 0.0
                    for e in 0..<D { let u = Double(z[e]) - alpha * mu[k * D + e]; q += u * u }
                    r[k] = terms.logScale[k] - 0.5 * q * terms.inverseC[k]
                    best = Swift.max(best, r[k])
                }
                var total = 0.0
                for k in 0..<K { r[k] = Foundation.exp(r[k] - best); total += r[k] }
                for e in 0..<D { mean[e] = 0 }
                var within = 0.0
                for k in 0..<K {
                    r[k] /= total
                    within += r[k] * terms.within[k]
                    let g = terms.gain[k]
                    for e in 0..<D {
                        let mk = mu[k * D + e] + g * (Double(z[e]) - alpha * mu[k * D + e])
                        m[k * D + e] = mk
                        mean[e] += r[k] * mk
                    }
                }
                var between = 0.0
                for k in 0..<K {
                    var q = 0.0
                    for e in 0..<D { let u = m[k * D + e] - mean[e]; q += u * u }
                    between += r[k] * q
                }
                return within + between / Double(D)
            }
        }
    }

    /// E[x | z_t] for every example of `z` ([B, D]) at its time.
    public func posteriorMean(z: Tensor, t: [Float], schedule: CosineSchedule) -> Tensor {
        posteriorBatch(z: z, t: t, schedule: schedule).mean
    }

    /// tr Var(x | z_t) / D for every example: the true per-dimension posterior variance.
    public func posteriorVariance(z: Tensor, t: [Float], schedule: CosineSchedule) -> [Double] {
        posteriorBatch(z: z, t: t, schedule: schedule).variance
    }

    /// The ideal v̂ = (α_t z_t − E[x | z_t]) / σ_t; 0 where σ_t = 0 (x̂ = z_t there whatever v̂).
    public func velocity(z: Tensor, t: [Float], schedule: CosineSchedule) -> Tensor {
        let x = posteriorMean(z: z, t: t, schedule: schedule)
        let D = dimension
        let v = Tensor(shape: z.shape)
        let zp = z.data, xp = x.data, vp = v.data
        let coefficients = schedule.coefficients(t)
        for i in 0..<z.shape[0] {
            let (a, s) = coefficients[i]
            guard s > 0 else { continue }
            for e in (i * D)..<((i + 1) * D) { vp[e] = Float((a * Double(zp[e]) - Double(xp[e])) / s) }
        }
        return v
    }

    /// log p(z_t) for one point: log Σ_k π_k N(z; α μ_k, (α² s_k² + σ²) I).
    public func marginalLogDensity(_ z: [Double], alpha: Double, sigma: Double) -> Double {
        precondition(z.count == dimension, "GaussianMixture: point of dimension \(z.count), mixture of \(dimension)")
        let D = Double(dimension)
        let terms = (0..<componentCount).map { k -> Double in
            let c = alpha * alpha * variances[k] + sigma * sigma
            var q = 0.0
            for e in 0..<dimension { let u = z[e] - alpha * means[k][e]; q += u * u }
            return Foundation.log(weights[k]) - 0.5 * D * Foundation.log(2 * Double.pi * c) - 0.5 * q / c
        }
        let m = terms.max()!
        return m + Foundation.log(terms.reduce(0) { $0 + Foundation.exp($1 - m) })
    }

    /// The most probable component of each data point ([B, D]) under the mixture itself.
    public func classify(_ x: Tensor) -> [Int] {
        precondition(x.count % dimension == 0, "GaussianMixture.classify: \(x.shape) is not a batch of \(dimension)-vectors")
        return (0..<(x.count / dimension)).map { nearestComponent(x.data + $0 * dimension) }
    }

    /// argmax_k π_k N(x; μ_k, s_k² I) (the nearest mean for point-mass components).
    func nearestComponent(_ x: UnsafePointer<Float>) -> Int {
        var best = -Double.infinity, arg = 0
        for k in 0..<componentCount {
            var q = 0.0
            for e in 0..<dimension { let u = Double(x[e]) - means[k][e]; q += u * u }
            let score = variances[k] > 0
                ? Foundation.log(weights[k]) - 0.5 * Double(dimension) * Foundation.log(variances[k]) - 0.5 * q / variances[k]
                : -q * 1e12
            if score > best { best = score; arg = k }
        }
        return arg
    }

    func posteriorBatch(z: Tensor, t: [Float], schedule: CosineSchedule) -> (mean: Tensor, variance: [Double]) {
        let D = dimension
        precondition(z.count == t.count * D, "GaussianMixture: z \(z.shape) is not \(t.count) points of dimension \(D)")
        let out = Tensor(shape: z.shape)
        var variance = [Double](repeating: 0, count: t.count)
        let mean = UnsafeMutablePointer<Double>.allocate(capacity: D)
        let r = UnsafeMutablePointer<Double>.allocate(capacity: componentCount)
        defer { mean.deallocate(); r.deallocate() }
        let zp = z.data, op = out.data
        var terms: NoisyComponents? = nil
        for i in 0..<t.count {
            if i == 0 || t[i] != t[i - 1] {
                let (a, s) = schedule.alphaSigma(Double(t[i]))
                terms = NoisyComponents(self, alpha: a, sigma: s)
            }
            variance[i] = posterior(zp + i * D, terms: &terms!, mean: mean, r: r)
            for e in 0..<D { op[i * D + e] = Float(mean[e]) }
        }
        return (out, variance)
    }
}

/// A class-conditional analytic teacher: the conditional branch is the class's mixture, the null
/// conditioning the marginal one. Both share the schedule.
public struct MixtureTeacher: Sendable {
    public let conditional: GaussianMixture
    public let unconditional: GaussianMixture
    public let schedule: CosineSchedule

    public init(conditional: GaussianMixture, unconditional: GaussianMixture? = nil, schedule: CosineSchedule) {
        self.conditional = conditional
        self.unconditional = unconditional ?? conditional
        self.schedule = schedule
        precondition(self.unconditional.dimension == conditional.dimension, "MixtureTeacher: dimensions differ")
    }

    /// The exact v̂ of each branch as a `VelocityModel`.
    public var model: VelocityModel {
        let me = self
        return VelocityModel { z, t, conditional in
            (conditional ? me.conditional : me.unconditional).velocity(z: z, t: t, schedule: me.schedule)
        }
    }
}
