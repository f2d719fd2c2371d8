import Tensors

// Inverted dropout: each element is kept with probability 1 − p and scaled by 1/(1 − p), so
// the expectation is unchanged. The mask is a pure function of (seed, stream, index) from
// the counter-based RNG, so a run is reproducible regardless of threading.
//   y = x · m,  m_i ∈ {0, 1/(1−p)},  dx = dy · m

/// Returns y and the mask m (same shape as x); draws `first ..< first + x.count` of `stream`.
public func dropoutForward(_ x: Tensor, p: Float, rng: CounterRNG, stream: UInt64, first: UInt64)
    -> (y: Tensor, mask: Tensor) {
    precondition(p >= 0 && p < 1, "dropout: probability \(p) outside [0, 1)")
    let mask = Tensor(uninitializedShape: x.shape), y = Tensor(uninitializedShape: x.shape)
    let keep = 1 / (1 - p), xp = x.data, mp = mask.data, yp = y.data
    Parallel.forRanges(x.count, grain: 8192) { range in
        for i in range {
            let m: Float = rng.uniform(stream: stream, index: first + UInt64(i)) < p ? 0 : keep
            mp[i] = m; yp[i] = xp[i] * m
        }
    }
    return (y, mask)
}

public func dropoutBackward(_ dy: Tensor, mask: Tensor) -> Tensor {
    checkSameShape(dy, mask, "dropout backward")
    let dx = Tensor(uninitializedShape: dy.shape)
    let gp = dy.data, mp = mask.data, dp = dx.data
    Parallel.forRanges(dy.count, grain: 1 << 15) { r in for i in r { dp[i] = gp[i] * mp[i] } }
    return dx
}
