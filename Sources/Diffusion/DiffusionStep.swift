import Foundation
import Tensors

// The per-step maps of docs/algorithms.md §2 and §4 on batches. Every example of a batch `[B, …]` is
// a flat vector of d = count / B numbers and carries its own times; coefficients are per example
// in Double, and every element is combined in Double before it is stored as Float.

/// Conversions between v̂, x̂ and ε̂ (§2) and the DDIM / invDDIM / aDDIM / ancestral steps (§4, §6).
public enum DiffusionStep {
    /// x̂ = α_t · z_t − σ_t · v̂   (§2)
    public static func predictX(v: Tensor, z: Tensor, t: [Float], schedule: CosineSchedule) -> Tensor {
        affine(z, v, schedule.coefficients(t).map { ($0.alpha, -$0.sigma) })
    }

    /// ε̂ = σ_t · z_t + α_t · v̂   (§2)
    public static func predictNoise(v: Tensor, z: Tensor, t: [Float], schedule: CosineSchedule) -> Tensor {
        affine(z, v, schedule.coefficients(t).map { ($0.sigma, $0.alpha) })
    }

    /// The v̂ for which `predictX` gives `x`: v̂ = (α_t · z_t − x̂) / σ_t. Needs σ_t > 0.
    public static func velocity(x: Tensor, z: Tensor, t: [Float], schedule: CosineSchedule) -> Tensor {
        affine(z, x, schedule.coefficients(t).map { c in
            precondition(c.sigma > 0, "DiffusionStep.velocity: σ_t = 0")
            return (c.alpha / c.sigma, -1 / c.sigma)
        })
    }

    /// z_t = α_t · x + σ_t · ε   (§1)
    public static func noised(x: Tensor, noise: Tensor, t: [Float], schedule: CosineSchedule) -> Tensor {
        affine(x, noise, schedule.coefficients(t).map { ($0.alpha, $0.sigma) })
    }

    /// DDIM_{t→s}(x̂, z_t) = α_s · x̂ + (σ_s / σ_t) · (z_t − α_t · x̂)   (§4)
    public static func ddim(x: Tensor, z: Tensor, from t: [Float], to s: [Float], schedule: CosineSchedule) -> Tensor {
        affine(x, z, pairs(schedule, t, s).map { c in
            let r = c.sigmaS / c.sigmaT
            return (c.alphaS - r * c.alphaT, r)
        })
    }

    /// invDDIM_{t→s}(z_s, z_t) = (z_s − (σ_s / σ_t) · z_t) / (α_s − α_t · σ_s / σ_t)   (§4):
    /// the x for which DDIM_{t→s}(x, z_t) = z_s.
    public static func inverseDDIM(zs: Tensor, zt: Tensor, from t: [Float], to s: [Float],
                                   schedule: CosineSchedule) -> Tensor {
        affine(zs, zt, pairs(schedule, t, s).map { c in
            let r = c.sigmaS / c.sigmaT
            let den = c.alphaS - c.alphaT * r
            return (1 / den, -r / den)
        })
    }

    /// aDDIM_{t→s}(x̂, z_t, xvar) = α_s · x̂ + sqrt(σ_s² + d · zvar / ‖ε̂‖²) · ε̂   (§4) with
    /// ε̂ = (z_t − α_t · x̂) / σ_t and zvar = (α_s − α_t · σ_s / σ_t)² · xvar, one xvar per example.
    /// With xvar = 0 it is DDIM; the squared length of the ε̂ term grows by exactly d · zvar.
    public static func adjustedDDIM(x: Tensor, z: Tensor, from t: [Float], to s: [Float], xvar: [Double],
                                    schedule: CosineSchedule) -> Tensor {
        let (b, d) = batchShape(x, z, "adjustedDDIM")
        precondition(xvar.count == b, "adjustedDDIM: \(xvar.count) xvar values for a batch of \(b)")
        let xp = x.data, zp = z.data
        let pair = pairs(schedule, t, s)
        var coef = [(Double, Double)]()
        coef.reserveCapacity(b)
        for i in 0..<b {
            let c = pair[i]
            precondition(xvar[i] >= 0, "adjustedDDIM: negative xvar \(xvar[i])")
            // ‖ε̂‖², with ε̂ = (z − α_t x̂) / σ_t.
            var norm2 = 0.0
            for e in (i * d)..<((i + 1) * d) {
                let eps = (Double(zp[e]) - c.alphaT * Double(xp[e])) / c.sigmaT
                norm2 += eps * eps
            }
            let g = c.alphaS - c.alphaT * c.sigmaS / c.sigmaT
            let zvar = g * g * xvar[i]
            let k = norm2 > 0 ? (c.sigmaS * c.sigmaS + Double(d) * zvar / norm2).squareRoot() : c.sigmaS
            // α_s x̂ + k (z − α_t x̂) / σ_t
            coef.append((c.alphaS - k * c.alphaT / c.sigmaT, k / c.sigmaT))
        }
        return affine(x, z, coef)
    }

    /// The analytic posterior-variance estimate of §4: xvar = 0.1 / (2 + SNR(t)).
    public static func analyticXvar(_ t: Float, schedule: CosineSchedule) -> Double {
        0.1 / (2 + schedule.snr(Double(t)))
    }

    /// One ancestral DDPM step (§6): a draw of q(z_s | z_t, x = x̂) using standard-normal `noise`:
    ///
    ///     mean = (α_{t|s} σ_s² / σ_t²) · z_t + (α_s σ²_{t|s} / σ_t²) · x̂,   var = σ²_{t|s} σ_s² / σ_t²
    ///
    /// with α_{t|s} = α_t / α_s and σ²_{t|s} = σ_t² − α²_{t|s} σ_s² = σ_t² · (1 − e^{λ_t − λ_s}),
    /// the last form free of cancellation. At s = 0 it returns x̂.
    public static func ancestral(x: Tensor, z: Tensor, noise: Tensor, from t: [Float], to s: [Float],
                                 schedule: CosineSchedule) -> Tensor {
        let (b, d) = batchShape(x, z, "ancestral")
        checkSameShape(x, noise, "ancestral noise")
        let out = Tensor(shape: x.shape)
        let xp = x.data, zp = z.data, np = noise.data, op = out.data
        let pair = pairs(schedule, t, s)
        var r = 0.0
        for i in 0..<b {
            let c = pair[i]
            // r = SNR_t / SNR_s = α_t² σ_s² / (α_s² σ_t²); zero at the exact endpoint s = 0.
            if i == 0 || t[i] != t[i - 1] || s[i] != s[i - 1] {
                r = s[i] == 0 ? 0 : Foundation.exp(schedule.logSNR(Double(t[i])) - schedule.logSNR(Double(s[i])))
            }
            let cz = r * c.alphaS / c.alphaT          // α_{t|s} σ_s² / σ_t²
            let cx = c.alphaS * (1 - r)               // α_s σ²_{t|s} / σ_t²
            let sd = ((1 - r) * c.sigmaS * c.sigmaS).squareRoot()
            for e in (i * d)..<((i + 1) * d) {
                op[e] = Float(cz * Double(zp[e]) + cx * Double(xp[e]) + sd * Double(np[e]))
            }
        }
        return out
    }

    // MARK: helpers

    struct Pair { let alphaT, sigmaT, alphaS, sigmaS: Double }

    /// Coefficients of each example's step from t to s < t (so σ_t > 0).
    static func pairs(_ schedule: CosineSchedule, _ t: [Float], _ s: [Float]) -> [Pair] {
        precondition(t.count == s.count, "\(t.count) start times but \(s.count) end times")
        for i in t.indices { precondition(s[i] < t[i], "step from t = \(t[i]) to s = \(s[i]): s must be earlier than t") }
        return zip(schedule.coefficients(t), schedule.coefficients(s)).map {
            Pair(alphaT: $0.alpha, sigmaT: $0.sigma, alphaS: $1.alpha, sigmaS: $1.sigma)
        }
    }

    /// (B, d) of two same-shaped batches.
    static func batchShape(_ a: Tensor, _ b: Tensor, _ op: String) -> (Int, Int) {
        checkSameShape(a, b, op)
        precondition(a.rank >= 1 && a.shape[0] > 0, "\(op): empty batch \(a.shape)")
        return (a.shape[0], a.count / a.shape[0])
    }

    /// out = p_b · a + q_b · b, example by example, each element combined in Double.
    static func affine(_ a: Tensor, _ b: Tensor, _ coef: [(Double, Double)]) -> Tensor {
        let (n, d) = batchShape(a, b, "affine")
        precondition(coef.count == n, "\(coef.count) per-example times for a batch of \(n)")
        let out = Tensor(shape: a.shape)
        let ap = a.data, bp = b.data, op = out.data
        for i in 0..<n {
            let (p, q) = coef[i]
            for e in (i * d)..<((i + 1) * d) { op[e] = Float(p * Double(ap[e]) + q * Double(bp[e])) }
        }
        return out
    }
}
