import Tensors

// Reductions over the token axis and L2 normalisation, for pooled text features and
// contrastive embeddings.
//   masked mean:  y[b] = Σ_t m[b,t]·x[b,t] / Σ_t m[b,t]      (all-masked rows give 0)
//                 dx[b,t] = m[b,t]·dy[b] / Σ_t m[b,t]
//   L2 normalise: y = x / sqrt(‖x‖² + ε),  dx = (dy − y·⟨y, dy⟩) / sqrt(‖x‖² + ε)

/// x: [B, T, C], mask: [B, T] of 0/1 or nil (all ones) → [B, C].
public func maskedMeanForward(_ x: Tensor, mask: Tensor?) -> Tensor {
    precondition(x.rank == 3, "masked mean: input must be [B, T, C], got \(x.shape)")
    let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
    if let mask { checkShape(mask, [b, t], "masked mean mask") }
    let y = Tensor(shape: [b, c])
    let xp = x.data, yp = y.data
    for e in 0..<b {
        var weight: Float = 0
        for i in 0..<t {
            let m = mask?[e * t + i] ?? 1
            guard m != 0 else { continue }
            weight += m
            for ch in 0..<c { yp[e * c + ch] += m * xp[(e * t + i) * c + ch] }
        }
        if weight > 0 { for ch in 0..<c { yp[e * c + ch] /= weight } }
    }
    return y
}

public func maskedMeanBackward(_ dy: Tensor, inputShape: [Int], mask: Tensor?) -> Tensor {
    let (b, t, c) = (inputShape[0], inputShape[1], inputShape[2])
    checkShape(dy, [b, c], "masked mean backward")
    let dx = Tensor(shape: inputShape)
    let gp = dy.data, dp = dx.data
    for e in 0..<b {
        var weight: Float = 0
        for i in 0..<t { weight += mask?[e * t + i] ?? 1 }
        guard weight > 0 else { continue }
        for i in 0..<t {
            let m = (mask?[e * t + i] ?? 1) / weight
            guard m != 0 else { continue }
            for ch in 0..<c { dp[(e * t + i) * c + ch] = m * gp[e * c + ch] }
        }
    }
    return dx
}

/// Rows of the last axis scaled to unit length: returns y and the per-row 1/sqrt(‖x‖² + ε).
public func l2NormalizeForward(_ x: Tensor, eps: Float = 1e-12) -> (y: Tensor, inverseNorms: Tensor) {
    let c = x.shape.last ?? 0, rows = x.count / max(c, 1)
    let y = Tensor(uninitializedShape: x.shape), inv = Tensor(uninitializedShape: [rows])
    let xp = x.data, yp = y.data, ip = inv.data
    for r in 0..<rows {
        let s = 1 / (vdot(xp + r * c, xp + r * c, c) + eps).squareRoot()
        ip[r] = s
        for j in 0..<c { yp[r * c + j] = xp[r * c + j] * s }
    }
    return (y, inv)
}

public func l2NormalizeBackward(_ dy: Tensor, y: Tensor, inverseNorms: Tensor) -> Tensor {
    checkSameShape(dy, y, "L2 normalise backward")
    let c = y.shape.last ?? 0, rows = y.count / max(c, 1)
    let dx = Tensor(uninitializedShape: y.shape)
    let gp = dy.data, yp = y.data, dp = dx.data, ip = inverseNorms.data
    for r in 0..<rows {
        let d = vdot(yp + r * c, gp + r * c, c)
        for j in 0..<c { dp[r * c + j] = (gp[r * c + j] - yp[r * c + j] * d) * ip[r] }
    }
    return dx
}
