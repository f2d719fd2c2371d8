import Foundation
import Tensors

/// How the pseudo-Huber loss of docs/algorithms.md §5 reduces a difference Δ (per example, d numbers).
public enum HuberReduction: String, Codable, Sendable {
    /// sqrt(mean(Δ²) + c²) − c per example (project default: with small c, the Euclidean distance).
    case perExample
    /// mean(sqrt(Δ² + c²) − c) per example, as some public ports do.
    case perElement
}

public enum PseudoHuber {
    /// The batch mean of the per-example pseudo-Huber loss of `delta` ([B, …]) and dloss/dΔ.
    ///
    ///     per example: L_b = sqrt(m_b + c²) − c, m_b = mean_e Δ_e²;  ∂L/∂Δ_e = Δ_e / (B · d · sqrt(m_b + c²))
    ///     per element: L_b = mean_e (sqrt(Δ_e² + c²) − c);          ∂L/∂Δ_e = Δ_e / (B · d · sqrt(Δ_e² + c²))
    public static func loss(_ delta: Tensor, c: Double, reduction: HuberReduction = .perExample)
        -> (loss: Double, gradient: Tensor) {
        precondition(c > 0, "PseudoHuber: c must be > 0, got \(c)")
        let b = delta.shape[0], d = delta.count / b
        let grad = Tensor(shape: delta.shape)
        let dp = delta.data, gp = grad.data
        let c2 = c * c, scale = 1 / (Double(b) * Double(d))
        var total = 0.0
        for i in 0..<b {
            let range = (i * d)..<((i + 1) * d)
            switch reduction {
            case .perExample:
                var m = 0.0
                for e in range { let u = Double(dp[e]); m += u * u }
                let root = (m / Double(d) + c2).squareRoot()
                total += root - c
                let k = scale / root
                for e in range { gp[e] = Float(k * Double(dp[e])) }
            case .perElement:
                var s = 0.0
                for e in range {
                    let u = Double(dp[e])
                    let root = (u * u + c2).squareRoot()
                    s += root - c
                    gp[e] = Float(scale * u / root)
                }
                total += s / Double(d)
            }
        }
        return (total / Double(b), grad)
    }
}
