import Foundation
import Tensors

/// AdamW (Loshchilov & Hutter), as torch.optim.AdamW computes it. For each parameter p with
/// gradient g at step t (counting from 1):
///   p ← p − lr·λ·p                     (decoupled weight decay, only where `p.decays`)
///   m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
///   p ← p − lr · (m / (1 − β₁ᵗ)) / (sqrt(v / (1 − β₂ᵗ)) + ε)
/// `clipGradNorm` rescales all gradients together so their global L2 norm is at most maxNorm,
/// and stops training on a NaN/Inf gradient.
public final class AdamW {
    public let parameters: [Parameter]
    public var lr: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// Per-parameter multipliers of the learning rate (all 1 unless set; lr · 1 is lr exactly, so
    /// unscaled runs are unchanged). Not optimiser state: whoever builds the optimiser sets them.
    public var learningRateScales: [Float]
    /// Updates applied so far (t of the last update).
    public private(set) var stepCount: Int = 0
    private let m: [Tensor]
    private let v: [Tensor]

    public init(parameters: [Parameter], lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0.01) {
        let names = parameters.map(\.name)
        precondition(Set(names).count == names.count, "AdamW: duplicate parameter names")
        self.parameters = parameters
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        m = parameters.map { Tensor(shape: $0.value.shape) }
        v = parameters.map { Tensor(shape: $0.value.shape) }
        learningRateScales = [Float](repeating: 1, count: parameters.count)
    }

    public func zeroGrad() { for p in parameters { p.grad.zero() } }

    /// Global L2 norm of all gradients (before clipping); scales them by maxNorm / norm when the
    /// norm exceeds maxNorm. Throws `TrainingError.nonFiniteGradient` naming the first parameter
    /// whose gradient holds a NaN or Inf.
    @discardableResult
    public func clipGradNorm(maxNorm: Float) throws -> Float {
        var total = 0.0
        for p in parameters {
            let s = p.grad.sumOfSquares()
            guard s.isFinite else { throw TrainingError.nonFiniteGradient(parameter: p.name, step: stepCount + 1) }
            total += s
        }
        let norm = Float(total.squareRoot())
        if norm > maxNorm {
            let factor = maxNorm / (norm + 1e-6)
            for p in parameters { p.grad.scale(by: factor) }
        }
        return norm
    }

    /// One update of every parameter from its gradient (with `lr` if given, else `self.lr`).
    public func step(lr: Float? = nil) {
        stepCount += 1
        let baseLR = lr ?? self.lr
        let t = Double(stepCount)
        let c1 = Float(1 / (1 - pow(Double(beta1), t)))
        let c2 = Float(1 / (1 - pow(Double(beta2), t)))
        let (b1, b2, eps) = (beta1, beta2, eps)
        for (i, p) in parameters.enumerated() {
            let lr = baseLR * learningRateScales[i]
            let decay: Float = p.decays ? 1 - lr * weightDecay : 1
            let pp = p.value.data, gp = p.grad.data, mp = m[i].data, vp = v[i].data
            Parallel.forRanges(p.value.count, grain: 1 << 14) { range in
                for j in range {
                    let g = gp[j]
                    let mj = b1 * mp[j] + (1 - b1) * g
                    let vj = b2 * vp[j] + (1 - b2) * g * g
                    mp[j] = mj; vp[j] = vj
                    pp[j] = pp[j] * decay - lr * (mj * c1) / ((vj * c2).squareRoot() + eps)
                }
            }
        }
    }

    /// Moments and step count as named tensors for checkpoints: `adamw.m.<param>`,
    /// `adamw.v.<param>` and `adamw.step` (one value; exact below 2²⁴ steps).
    public func stateTensors() -> [(String, Tensor)] {
        precondition(stepCount < 1 << 24, "AdamW: step count \(stepCount) is not exact in a Float32 tensor")
        var out: [(String, Tensor)] = [("adamw.step", Tensor(shape: [1], values: [Float(stepCount)]))]
        for (i, p) in parameters.enumerated() {
            out.append(("adamw.m." + p.name, m[i]))
            out.append(("adamw.v." + p.name, v[i]))
        }
        return out
    }

    /// Restores what `stateTensors()` produced; a missing or misshapen tensor throws, naming it.
    public func load(stateTensors: [String: Tensor]) throws {
        guard let step = stateTensors["adamw.step"], step.count == 1, step[0] >= 0, step[0] == step[0].rounded() else {
            throw TrainingError.badState("optimizer state: missing or invalid 'adamw.step'")
        }
        for (i, p) in parameters.enumerated() {
            for (key, dst) in [("adamw.m." + p.name, m[i]), ("adamw.v." + p.name, v[i])] {
                guard let t = stateTensors[key] else { throw TrainingError.badState("optimizer state: missing '\(key)'") }
                guard t.shape == dst.shape else {
                    throw TrainingError.badState("optimizer state: '\(key)' has shape \(t.shape), expected \(dst.shape)")
                }
                dst.copy(from: t)
            }
        }
        stepCount = Int(step[0])
    }

    public func load(stateTensors: [(String, Tensor)]) throws {
        try load(stateTensors: Dictionary(stateTensors, uniquingKeysWith: { a, _ in a }))
    }
}
