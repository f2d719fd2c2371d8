import Tensors

// Layer normalisation over the last axis.
// Dimensions: N rows (leading axes flattened), C features.
//   μ = mean(x),  r = 1 / sqrt(var(x) + ε),  x̂ = (x − μ)·r,  y = x̂·γ + β
// The forward keeps μ and r per row ([N] each) for the backward, as llm.c does.

public struct NormStatistics {
    /// Per-row (layer norm) or per-(example, group) (group norm) mean and 1/sqrt(var + ε).
    public let mean: Tensor
    public let rstd: Tensor
}

/// y = LayerNorm(x)·γ + β over the last axis of x: […, C]; γ, β: [C].
public func layerNormForward(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float = 1e-5)
    -> (y: Tensor, stats: NormStatistics) {
    let c = x.shape.last ?? 0
    checkShape(gamma, [c], "layer norm gamma"); checkShape(beta, [c], "layer norm beta")
    let n = x.count / max(c, 1)
    let y = Tensor(uninitializedShape: x.shape)
    let mean = Tensor(uninitializedShape: [n]), rstd = Tensor(uninitializedShape: [n])
    let xp = x.data, yp = y.data, gp = gamma.data, bp = beta.data, mp = mean.data, rp = rstd.data
    Parallel.forRanges(n, grain: 8192 / max(c, 1) + 1) { range in
        for row in range {
            let xr = xp + row * c, yr = yp + row * c
            let mu = vsum(xr, c) / Float(c)
            let r = 1 / (vsumSquaredDeviation(xr, c, mu) / Float(c) + eps).squareRoot()
            mp[row] = mu; rp[row] = r
            for j in 0..<c { yr[j] = (xr[j] - mu) * r * gp[j] + bp[j] }
        }
    }
    return (y, NormStatistics(mean: mean, rstd: rstd))
}

/// Backward of `layerNormForward`: adds Σ dy·x̂ into γ's grad and Σ dy into β's grad, and returns
///   dx = r · (g − mean(g) − x̂ · mean(g·x̂)),  g = dy·γ.
public func layerNormBackward(_ dy: Tensor, x: Tensor, stats: NormStatistics, gamma: Tensor,
                              gammaGrad: Tensor, betaGrad: Tensor) -> Tensor {
    checkSameShape(dy, x, "layer norm backward")
    let c = x.shape.last ?? 0
    let n = x.count / max(c, 1)
    checkSameShape(gammaGrad, gamma, "layer norm backward gamma grad")
    checkSameShape(betaGrad, gamma, "layer norm backward beta grad")
    let dx = Tensor(uninitializedShape: x.shape)
    let chunks = Parallel.chunkCount(n, grain: 8192 / max(c, 1) + 1)
    let partial = Tensor(shape: [chunks, 2, c])   // per chunk: dγ then dβ
    let xp = x.data, dyp = dy.data, dxp = dx.data, gp = gamma.data
    let mp = stats.mean.data, rp = stats.rstd.data, pp = partial.data
    Parallel.forChunks(n, chunks: chunks) { chunk, range in
        let dg = pp + chunk * 2 * c, db = dg + c
        for row in range {
            let xr = xp + row * c, dyr = dyp + row * c, dxr = dxp + row * c
            let mu = mp[row], r = rp[row]
            // Eight lanes at a time (explicit partial sums: Float reductions do not vectorise
            // on their own), then the scalar tail.
            let mv = Vec8(repeating: mu), rv = Vec8(repeating: r)
            var accG = Vec8(), accGX = Vec8(), j = 0
            while j + 8 <= c {
                let xhat = (load8(xr + j) - mv) * rv, d = load8(dyr + j)
                let g = d * load8(gp + j)
                accG += g; accGX = fma8(accGX, g, xhat)
                store8(fma8(load8(dg + j), d, xhat), dg + j)
                store8(load8(db + j) + d, db + j)
                j += 8
            }
            var sumG = accG.sum(), sumGX = accGX.sum()
            while j < c {
                let xhat = (xr[j] - mu) * r, g = dyr[j] * gp[j]
                sumG += g; sumGX += g * xhat
                dg[j] += dyr[j] * xhat; db[j] += dyr[j]
                j += 1
            }
            let meanG = sumG / Float(c), meanGX = sumGX / Float(c)
            for j in 0..<c {
                let xhat = (xr[j] - mu) * r
                dxr[j] = r * (dyr[j] * gp[j] - meanG - xhat * meanGX)
            }
        }
    }
    for chunk in 0..<chunks {
        vaccumulate(gammaGrad.data, pp + chunk * 2 * c, c)
        vaccumulate(betaGrad.data, pp + chunk * 2 * c + c, c)
    }
    return dx
}
