import Foundation
import NeuralNet
import Tensors

// The three small ops that carry conditioning into the UViT, with their backward passes.
// Dimensions: B examples, N positions (H·W), C channels, T text tokens, F features.
//   FiLM:          y[b,n,c] = x[b,n,c] · (1 + γ[b,c]) + β[b,c]    with [γ | β] = s[b, 0..<2C]
//                  dx = dy · (1 + γ),  dγ[b,c] = Σ_n dy · x,  dβ[b,c] = Σ_n dy
//   masked mean:   p[b,c] = Σ_t m[b,t] · h[b,t,c] / Σ_t m[b,t]
//                  dh[b,t,c] = m[b,t] · dp[b,c] / Σ_t m[b,t]
//   noise features (no gradient: the noise level is an input, not a parameter).

/// FiLM conditioning (scale and shift per example and channel) of x [B, …, C] by s [B, 2C].
public func filmForward(_ x: Tensor, _ s: Tensor) -> Tensor {
    let b = x.shape[0], c = x.shape[x.rank - 1], n = x.count / max(b * c, 1)
    precondition(s.shape == [b, 2 * c], "FiLM: shape mismatch: input \(x.shape) vs scale-shift \(s.shape) (expected [\(b), \(2 * c)])")
    let y = Tensor(uninitializedShape: x.shape)
    let xp = x.data, yp = y.data, sp = s.data
    Parallel.forRanges(b * n, grain: max(1, 8192 / max(c, 1))) { range in
        for row in range {
            let e = row / n
            let gamma = sp + e * 2 * c, beta = gamma + c
            let xr = xp + row * c, yr = yp + row * c
            for ch in 0..<c { yr[ch] = xr[ch] * (1 + gamma[ch]) + beta[ch] }
        }
    }
    return y
}

/// Backward of `filmForward`: (dx, ds).
public func filmBackward(_ dy: Tensor, x: Tensor, s: Tensor) -> (dx: Tensor, ds: Tensor) {
    checkSameShape(dy, x, "FiLM backward")
    let b = x.shape[0], c = x.shape[x.rank - 1], n = x.count / max(b * c, 1)
    let dx = Tensor(uninitializedShape: x.shape), ds = Tensor(shape: [b, 2 * c])
    let xp = x.data, gp = dy.data, dxp = dx.data, sp = s.data, dsp = ds.data
    Parallel.forRanges(b) { examples in
        for e in examples {
            let gamma = sp + e * 2 * c
            let dGamma = dsp + e * 2 * c, dBeta = dGamma + c
            for i in 0..<n {
                let row = (e * n + i) * c
                let xr = xp + row, gr = gp + row, dr = dxp + row
                for ch in 0..<c {
                    let g = gr[ch]
                    dr[ch] = g * (1 + gamma[ch])
                    dGamma[ch] += g * xr[ch]
                    dBeta[ch] += g
                }
            }
        }
    }
    return (dx, ds)
}

/// Masked mean over tokens: h [B, T, C], mask [B, T] of 0/1 (at least one 1 per row) → [B, C].
public func maskedMeanForward(_ h: Tensor, mask: Tensor) -> Tensor {
    let (b, t, c) = (h.shape[0], h.shape[1], h.shape[2])
    checkShape(mask, [b, t], "masked mean mask")
    let out = Tensor(shape: [b, c])
    let hp = h.data, mp = mask.data, op = out.data
    for e in 0..<b {
        var total: Float = 0
        for k in 0..<t { total += mp[e * t + k] }
        precondition(total > 0, "masked mean: example \(e) has no unmasked token")
        let o = op + e * c
        for k in 0..<t where mp[e * t + k] != 0 {
            let w = mp[e * t + k], row = hp + (e * t + k) * c
            for ch in 0..<c { o[ch] += w * row[ch] }
        }
        for ch in 0..<c { o[ch] /= total }
    }
    return out
}

/// Backward of `maskedMeanForward`: dh [B, T, C].
public func maskedMeanBackward(_ dp: Tensor, mask: Tensor, tokens t: Int) -> Tensor {
    let (b, c) = (dp.shape[0], dp.shape[1])
    checkShape(mask, [b, t], "masked mean backward mask")
    let dh = Tensor(shape: [b, t, c])
    let gp = dp.data, mp = mask.data, hp = dh.data
    for e in 0..<b {
        var total: Float = 0
        for k in 0..<t { total += mp[e * t + k] }
        for k in 0..<t where mp[e * t + k] != 0 {
            let w = mp[e * t + k] / total, row = hp + (e * t + k) * c, g = gp + e * c
            for ch in 0..<c { row[ch] = w * g[ch] }
        }
    }
    return dh
}

/// Sinusoidal features of the noise level, as the DDPM/Transformer position encoding of
/// u = 1000 · (2/π) · atan(exp(−λ/2)) — the time of the unshifted cosine schedule whose
/// log-SNR is λ (docs/algorithms.md §1), so λ ∈ [−15, 15] maps smoothly into (0, 1000):
///   f[2k] = sin(u · ω_k),  f[2k+1] = cos(u · ω_k),  ω_k = 10000^(−k / (F/2)),  k < F/2.
public func noiseLevelFeatures(logSNR: [Double], count f: Int) -> Tensor {
    precondition(f >= 2 && f % 2 == 0, "noise features: count must be even, got \(f)")
    let out = Tensor(shape: [logSNR.count, f])
    let half = f / 2
    for (i, l) in logSNR.enumerated() {
        let u = 1000 * (2 / Double.pi) * atan(exp(-l / 2))
        for k in 0..<half {
            let w = pow(10000, -Double(k) / Double(half))
            out[i * f + 2 * k] = Float(sin(u * w))
            out[i * f + 2 * k + 1] = Float(cos(u * w))
        }
    }
    return out
}
