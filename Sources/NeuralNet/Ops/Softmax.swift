import Tensors

// Softmax over the last axis, with an optional key mask.
// Dimensions: R rows of L entries. mask (optional) is a 0/1 vector of L per row group:
// entries with mask 0 get probability exactly 0 (as if −∞ before the softmax). A row whose
// entries are all masked gets all zeros, never NaN.
//   p_j = exp(x_j − max) / Σ_k exp(x_k − max)         (over unmasked j)
//   dx_j = p_j · (dp_j − Σ_k p_k dp_k)

/// In-place masked softmax of one row of `n` entries; `mask` nil means no masking.
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int, mask: UnsafePointer<Float>?) {
    var m = -Float.infinity
    if let mask {
        for j in 0..<n where mask[j] != 0 { m = max(m, row[j]) }
        if m == -.infinity { row.update(repeating: 0, count: n); return }
    } else {
        m = vmax(row, n)
    }
    var sum: Float = 0
    var j = 0
    let mv = Vec8(repeating: m)
    var acc = Vec8()
    while j + 8 <= n {
        var e = vexp(load8(row + j) - mv)
        if let mask { e = e.replacing(with: 0, where: load8(mask + j) .== 0) }
        store8(e, row + j); acc += e; j += 8
    }
    sum = acc.sum()
    while j < n {
        let e: Float = (mask == nil || mask![j] != 0) ? sexp(row[j] - m) : 0
        row[j] = e; sum += e; j += 1
    }
    let inv = 1 / sum
    for j in 0..<n { row[j] *= inv }
}

/// dx = p ∘ (dp − ⟨p, dp⟩) for one row, written into `out` (may alias `dp`).
@inline(__always)
func softmaxRowBackward(_ p: UnsafePointer<Float>, _ dp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
    let s = vdot(p, dp, n)
    for j in 0..<n { out[j] = p[j] * (dp[j] - s) }
}

/// Softmax over the last axis of x: […, L]. `mask`, if given, is [G, L] with the rows of x
/// split evenly into G consecutive groups (e.g. mask [B, Tk] for scores [B, H, Tq, Tk]).
public func softmaxForward(_ x: Tensor, mask: Tensor? = nil) -> Tensor {
    let l = x.shape.last ?? 0
    let rows = x.count / max(l, 1)
    var perGroup = rows
    if let mask {
        precondition(mask.rank == 2 && mask.shape[1] == l && mask.shape[0] > 0 && rows % mask.shape[0] == 0,
                     "softmax: shape mismatch: mask \(mask.shape) vs input \(x.shape)")
        perGroup = rows / mask.shape[0]
    }
    let y = x.copy()
    let yp = y.data, mp = mask?.data
    Parallel.forRanges(rows, grain: 4096 / max(l, 1) + 1) { range in
        for r in range {
            softmaxRow(yp + r * l, l, mask: mp.map { UnsafePointer($0 + (r / perGroup) * l) })
        }
    }
    return y
}

/// Backward of `softmaxForward` from its output y.
public func softmaxBackward(_ dy: Tensor, y: Tensor) -> Tensor {
    checkSameShape(dy, y, "softmax backward")
    let l = y.shape.last ?? 0
    let rows = y.count / max(l, 1)
    let dx = Tensor(uninitializedShape: y.shape)
    let yp = y.data, dyp = dy.data, dxp = dx.data
    Parallel.forRanges(rows, grain: 4096 / max(l, 1) + 1) { range in
        for r in range { softmaxRowBackward(yp + r * l, dyp + r * l, dxp + r * l, l) }
    }
    return dx
}
