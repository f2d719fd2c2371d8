import Foundation

/// The variance-preserving cosine schedule of docs/algorithms.md §1:
///
///     λ(t) = −2 · log(tan(π t / 2)) + 2 · shift,   clipped to [logSNRMin, logSNRMax]
///     α_t  = sqrt(sigmoid(λ)),   σ_t = sqrt(sigmoid(−λ)),   α_t² + σ_t² = 1
///
/// `t = 0` is data and `t = 1` noise. The endpoint `t = 0` is exact — `α_0 = 1`, `σ_0 = 0`,
/// `SNR(0) = ∞` — so the last step of every sampler returns `x̂` itself; everywhere else
/// (including `t = 1`) the clipped λ applies. `logSNR(0)` is `logSNRMax`: the value a network
/// would be conditioned on there. Coefficients are computed in Double from the log-SNR
/// (sigmoid form, as google-research/vdm does) for stability.
public struct CosineSchedule: Equatable, Sendable, Codable {
    public var shift: Double
    public var logSNRMin: Double
    public var logSNRMax: Double

    public init(shift: Double = 0, logSNRMin: Double = -15, logSNRMax: Double = 15) {
        precondition(logSNRMin < logSNRMax, "CosineSchedule: logSNRMin \(logSNRMin) must be below logSNRMax \(logSNRMax)")
        self.shift = shift; self.logSNRMin = logSNRMin; self.logSNRMax = logSNRMax
    }

    /// The shifted cosine of "simple diffusion": `shift = log(baseResolution / resolution)`.
    public init(baseResolution: Int, resolution: Int, logSNRMin: Double = -15, logSNRMax: Double = 15) {
        self.init(shift: Foundation.log(Double(baseResolution) / Double(resolution)),
                  logSNRMin: logSNRMin, logSNRMax: logSNRMax)
    }

    /// λ(t), clipped. `t` must lie in [0, 1].
    @inline(__always)
    public func logSNR(_ t: Double) -> Double {
        precondition(t >= 0 && t <= 1, "CosineSchedule: time \(t) outside [0, 1]")
        if t == 0 { return logSNRMax }
        if t == 1 { return logSNRMin }   // tan(π/2) is +∞ in exact arithmetic
        let raw = -2 * Foundation.log(Foundation.tan(Double.pi * t / 2)) + 2 * shift
        return Swift.min(Swift.max(raw, logSNRMin), logSNRMax)
    }

    @inline(__always) public func alpha(_ t: Double) -> Double {
        t == 0 ? 1 : sigmoid(logSNR(t)).squareRoot()
    }

    @inline(__always) public func sigma(_ t: Double) -> Double {
        t == 0 ? 0 : sigmoid(-logSNR(t)).squareRoot()
    }

    /// SNR(t) = α_t² / σ_t² = exp(λ(t)); infinite at the exact endpoint t = 0.
    @inline(__always) public func snr(_ t: Double) -> Double {
        t == 0 ? .infinity : Foundation.exp(logSNR(t))
    }

    /// (α_t, σ_t) from one evaluation of λ(t).
    @inline(__always)
    public func alphaSigma(_ t: Double) -> (alpha: Double, sigma: Double) {
        if t == 0 { return (1, 0) }
        let l = logSNR(t)
        return (sigmoid(l).squareRoot(), sigmoid(-l).squareRoot())
    }

    /// (α_t, σ_t) for each example's time; runs of equal times (a sampler's batch) cost one evaluation.
    public func coefficients(_ t: [Float]) -> [(alpha: Double, sigma: Double)] {
        var out = [(alpha: Double, sigma: Double)]()
        out.reserveCapacity(t.count)
        for i in t.indices {
            out.append(i > 0 && t[i] == t[i - 1] ? out[i - 1] : alphaSigma(Double(t[i])))
        }
        return out
    }
}

@inline(__always) func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
