import Tensors

// Group normalisation, channels-last.
// Dimensions: B examples, N positions (H·W, all middle axes flattened), C channels in G groups
// of Cg = C / G consecutive channels. Statistics are per (example, group) over N·Cg values:
//   μ_bg, r_bg = 1 / sqrt(var_bg + ε),  x̂ = (x − μ)·r,  y = x̂·γ_c + β_c
// Both passes fold the per-group statistics into per-channel coefficients so the sweep over
// the N×C activations is one multiply-add per element. Work is split across examples.
// With `silu: true` the op is SiLU(GroupNorm(x)) in one sweep (the pair every residual block
// uses): the forward applies SiLU as it writes, and the backward recomputes z = GroupNorm(x)
// per example to form dz = dy·SiLU'(z) in a per-core scratch before the usual backward.

/// y = GroupNorm(x) (or SiLU of it) for x: [B, …, C] (rank ≥ 2), γ, β: [C]. Stats are [B, G].
public func groupNormForward(_ x: Tensor, groups: Int, gamma: Tensor, beta: Tensor, eps: Float = 1e-5,
                             silu: Bool = false) -> (y: Tensor, stats: NormStatistics) {
    precondition(x.rank >= 2, "group norm: input must be [B, …, C], got \(x.shape)")
    let b = x.shape[0], c = x.shape[x.rank - 1]
    precondition(groups > 0 && c % groups == 0, "group norm: \(c) channels do not split into \(groups) groups")
    checkShape(gamma, [c], "group norm gamma"); checkShape(beta, [c], "group norm beta")
    let n = x.count / max(b * c, 1), cg = c / groups
    let y = Tensor(uninitializedShape: x.shape)
    let mean = Tensor(uninitializedShape: [b, groups]), rstd = Tensor(uninitializedShape: [b, groups])
    let xp = x.data, yp = y.data, gp = gamma.data, bp = beta.data, mp = mean.data, rp = rstd.data
    let count = Float(n * cg)
    Parallel.forRanges(b) { range in
        // Per-channel scratch: sums, then the folded scale and shift.
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
        defer { scratch.deallocate() }
        let s1 = scratch, s2 = scratch + c
        for e in range {
            let xe = xp + e * n * c, ye = yp + e * n * c
            // Two passes (mean, then squared deviations) avoid E[x²] − μ² cancellation.
            s1.update(repeating: 0, count: c)
            for i in 0..<n { vaccumulate(s1, xe + i * c, c) }
            for g in 0..<groups { mp[e * groups + g] = vsum(s1 + g * cg, cg) / count }
            for ch in 0..<c { s1[ch] = mp[e * groups + ch / cg] }          // s1 ← μ per channel
            s2.update(repeating: 0, count: c)
            for i in 0..<n {
                let row = xe + i * c
                for ch in 0..<c { let d = row[ch] - s1[ch]; s2[ch] += d * d }
            }
            for g in 0..<groups {
                rp[e * groups + g] = 1 / (vsum(s2 + g * cg, cg) / count + eps).squareRoot()
            }
            // y = x·a_c + s_c with a_c = r·γ_c, s_c = β_c − μ·a_c.
            for ch in 0..<c {
                let r = rp[e * groups + ch / cg]
                let a = r * gp[ch]
                s2[ch] = bp[ch] - s1[ch] * a
                s1[ch] = a
            }
            for i in 0..<n {
                let row = xe + i * c, out = ye + i * c
                for ch in 0..<c { out[ch] = row[ch] * s1[ch] + s2[ch] }
                if silu { siluInPlace(out, c) }
            }
        }
    }
    return (y, NormStatistics(mean: mean, rstd: rstd))
}

/// Backward of `groupNormForward`. With g = dy·γ and means over the group's N·Cg values,
///   dx = r·(g − mean(g) − x̂·mean(g·x̂)),  dγ_c += Σ dy·x̂,  dβ_c += Σ dy.
/// Per channel: S1 = Σ_n dy, S2 = Σ_n dy·x, so Σ dy·x̂ = r(S2 − μ S1) and dx = dy·A + x·B + D.
public func groupNormBackward(_ dy: Tensor, x: Tensor, stats: NormStatistics, groups: Int, gamma: Tensor, beta: Tensor? = nil,
                              gammaGrad: Tensor, betaGrad: Tensor, silu: Bool = false) -> Tensor {
    precondition(!silu || beta != nil, "group norm backward: the fused SiLU needs beta to recompute its input")
    checkSameShape(dy, x, "group norm backward")
    let b = x.shape[0], c = x.shape[x.rank - 1], cg = c / groups
    let n = x.count / max(b * c, 1)
    checkShape(stats.mean, [b, groups], "group norm backward stats")
    checkSameShape(gammaGrad, gamma, "group norm backward gamma grad")
    checkSameShape(betaGrad, gamma, "group norm backward beta grad")
    let dx = Tensor(uninitializedShape: x.shape)
    let chunks = Parallel.chunkCount(b)
    let partial = Tensor(shape: [chunks, 2, c])
    let xp = x.data, dyp = dy.data, dxp = dx.data, gp = gamma.data
    let mp = stats.mean.data, rp = stats.rstd.data, pp = partial.data
    let count = Float(n * cg)
    Parallel.forChunks(b, chunks: chunks) { chunk, range in
        let dgAcc = pp + chunk * 2 * c, dbAcc = dgAcc + c
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * c + (silu ? n * c + 16 : 0))
        defer { scratch.deallocate() }
        let s1 = scratch, s2 = scratch + c, s3 = scratch + 2 * c, dz = scratch + 3 * c
        for e in range {
            let xe = xp + e * n * c, dxe = dxp + e * n * c
            var dye = UnsafePointer(dyp + e * n * c)
            if silu {
                // z = x·a + s with a = rγ, s = β − μa; dz = dy·SiLU'(z).
                for ch in 0..<c {
                    let g = ch / cg, r = rp[e * groups + g]
                    s1[ch] = r * gp[ch]; s2[ch] = beta!.data[ch] - mp[e * groups + g] * s1[ch]
                }
                for i in 0..<n {
                    let xr = xe + i * c, out = dz + i * c
                    for ch in 0..<c { out[ch] = xr[ch] * s1[ch] + s2[ch] }
                    siluGradInPlace(out, dye + i * c, c)
                }
                dye = UnsafePointer(dz)
            }
            s1.update(repeating: 0, count: c); s2.update(repeating: 0, count: c)
            for i in 0..<n {
                let xr = xe + i * c, dr = dye + i * c
                for ch in 0..<c { s1[ch] += dr[ch]; s2[ch] += dr[ch] * xr[ch] }
            }
            for g in 0..<groups {
                let mu = mp[e * groups + g], r = rp[e * groups + g]
                var sumG: Float = 0, sumGX: Float = 0
                for ch in (g * cg)..<((g + 1) * cg) {
                    let dyxhat = r * (s2[ch] - mu * s1[ch])
                    dgAcc[ch] += dyxhat
                    dbAcc[ch] += s1[ch]
                    sumG += gp[ch] * s1[ch]
                    sumGX += gp[ch] * dyxhat
                }
                let m1 = sumG / count, m2 = sumGX / count
                // dx = r·(γ dy − m1 − (x − μ) r m2) = dy·(rγ) + x·(−r² m2) + (r² μ m2 − r m1)
                for ch in (g * cg)..<((g + 1) * cg) {
                    s1[ch] = r * gp[ch]
                    s2[ch] = -r * r * m2
                    s3[ch] = r * r * mu * m2 - r * m1
                }
            }
            for i in 0..<n {
                let xr = xe + i * c, dr = dye + i * c, out = dxe + i * c
                for ch in 0..<c { out[ch] = dr[ch] * s1[ch] + xr[ch] * s2[ch] + s3[ch] }
            }
        }
    }
    for chunk in 0..<chunks {
        vaccumulate(gammaGrad.data, pp + chunk * 2 * c, c)
        vaccumulate(betaGrad.data, pp + chunk * 2 * c + c, c)
    }
    return dx
}

/// row[i] = SiLU(row[i]) for i in 0..<n.
@inline(__always) func siluInPlace(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { let v = load8(row + i); store8(v * vsigmoid(v), row + i); i += 8 }
    while i < n { let v = Vec8(repeating: row[i]); row[i] = (v * vsigmoid(v))[0]; i += 1 }
}

/// z[i] ← dy[i] · SiLU'(z[i]) for i in 0..<n.
@inline(__always) func siluGradInPlace(_ z: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { store8(load8(dy + i) * siluDerivative(load8(z + i)), z + i); i += 8 }
    while i < n { z[i] = dy[i] * siluDerivative(Vec8(repeating: z[i]))[0]; i += 1 }
}
