import Foundation
import Tensors

/// A network seen by the Diffusion module: `F(z_t, t, conditioning) → v̂` on a batch
/// (docs/algorithms.md §2). `z` is `[B, …]` (each example a flat vector of d = count / B numbers),
/// `t` holds one time per example, and the result has `z`'s shape.
///
/// The conditioning (text, class) is captured by whoever builds the model; `conditional: false`
/// asks for the learned null conditioning instead. That is all classifier-free guidance needs.
/// A model that can run both branches in one doubled batch supplies `bothBranches`, which the
/// guided prediction then prefers over two calls.
public struct VelocityModel {
    public typealias Branch = (_ z: Tensor, _ t: [Float], _ conditional: Bool) -> Tensor
    public typealias BothBranches = (_ z: Tensor, _ t: [Float]) -> (conditional: Tensor, unconditional: Tensor)

    public let branch: Branch
    public let bothBranches: BothBranches?

    public init(bothBranches: BothBranches? = nil, _ branch: @escaping Branch) {
        self.branch = branch
        self.bothBranches = bothBranches
    }

    /// A model with no null conditioning (e.g. a consistency student): both branches are the same.
    public static func unconditional(_ f: @escaping (_ z: Tensor, _ t: [Float]) -> Tensor) -> VelocityModel {
        VelocityModel { z, t, _ in f(z, t) }
    }

    /// v̂ of the conditional branch.
    public func conditional(_ z: Tensor, _ t: [Float]) -> Tensor {
        checked(branch(z, t, true), z, t)
    }

    /// The guided v̂_w = (1 + w) · v̂_cond − w · v̂_uncond (§3) together with the unguided
    /// v̂_cond, which the xvar estimate of §4 needs. With `w == 0` only the conditional branch runs.
    public func guided(_ z: Tensor, _ t: [Float], guidance w: Double) -> (guided: Tensor, conditional: Tensor) {
        if w == 0 {
            let c = conditional(z, t)
            return (c, c)
        }
        let (c, u) = bothBranchesChecked(z, t)
        return (Guidance.combine(conditional: c, unconditional: u, w: w), c)
    }

    /// The guided v̂ with one w per example (guidance-conditioned distillation, §5) and v̂_cond.
    /// Both branches run unless every w is 0.
    public func guided(_ z: Tensor, _ t: [Float], guidance w: [Double]) -> (guided: Tensor, conditional: Tensor) {
        precondition(w.count == z.shape[0], "VelocityModel: \(w.count) guidance weights for a batch of \(z.shape[0])")
        if w.allSatisfy({ $0 == 0 }) {
            let c = conditional(z, t)
            return (c, c)
        }
        let (c, u) = bothBranchesChecked(z, t)
        return (Guidance.combine(conditional: c, unconditional: u, w: w), c)
    }

    /// v̂_cond and v̂_uncond, in one batched call where the model offers one.
    private func bothBranchesChecked(_ z: Tensor, _ t: [Float]) -> (Tensor, Tensor) {
        let (c, u) = bothBranches?(z, t) ?? (branch(z, t, true), branch(z, t, false))
        return (checked(c, z, t), checked(u, z, t))
    }

    private func checked(_ v: Tensor, _ z: Tensor, _ t: [Float]) -> Tensor {
        precondition(v.shape == z.shape, "VelocityModel: v̂ shape \(v.shape) differs from z shape \(z.shape)")
        precondition(t.count == z.shape[0], "VelocityModel: \(t.count) times for a batch of \(z.shape[0])")
        return v
    }
}

/// Classifier-free guidance in the project's convention (docs/algorithms.md §3).
public enum Guidance {
    /// (1 + w) · cond − w · uncond. Linear with weights summing to one, so applying it to v̂, ε̂
    /// or x̂ at the same z_t gives the same result.
    public static func combine(conditional c: Tensor, unconditional u: Tensor, w: Double) -> Tensor {
        checkSameShape(c, u, "Guidance.combine")
        let out = Tensor(shape: c.shape)
        let a = Float(1 + w), b = Float(w)
        let cp = c.data, up = u.data, op = out.data
        for i in 0..<c.count { op[i] = a * cp[i] - b * up[i] }
        return out
    }

    /// (1 + w_b) · cond − w_b · uncond with w_b for example b of [B, …]; the same Float
    /// arithmetic as the scalar form, so equal weights give identical results.
    public static func combine(conditional c: Tensor, unconditional u: Tensor, w: [Double]) -> Tensor {
        checkSameShape(c, u, "Guidance.combine")
        let b = c.shape[0], d = c.count / max(b, 1)
        precondition(w.count == b, "Guidance.combine: \(w.count) weights for a batch of \(b)")
        let out = Tensor(shape: c.shape)
        let cp = c.data, up = u.data, op = out.data
        for e in 0..<b {
            let a = Float(1 + w[e]), s = Float(w[e])
            for i in (e * d)..<((e + 1) * d) { op[i] = a * cp[i] - s * up[i] }
        }
        return out
    }
}
