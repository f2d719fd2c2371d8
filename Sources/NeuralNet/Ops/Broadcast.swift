import Tensors

// Elementwise add and multiply with broadcasting, and scaling by a constant.
// y broadcasts onto x when, after left-padding y's shape with 1s, every axis of y equals x's
// or is 1 — e.g. y [B, 1, 1, C] (per-example channel bias) onto x [B, H, W, C], or y [1, T, C]
// (a position table) onto x [B, T, C]. Adjacent axes of the same kind are merged, so every
// pattern runs as a few nested loops over contiguous runs.
//   add: out = x + y,  dx = dOut,       dy = Σ_broadcast dOut
//   mul: out = x · y,  dx = dOut · y,   dy = Σ_broadcast dOut · x

/// Merged axes: (length, true if y is broadcast along it).
func broadcastPlan(_ xs: [Int], _ ys: [Int], _ op: String) -> [(n: Int, bcast: Bool)] {
    precondition(ys.count <= xs.count, "\(op): shape mismatch: \(ys) does not broadcast onto \(xs)")
    let padded = [Int](repeating: 1, count: xs.count - ys.count) + ys
    var plan: [(n: Int, bcast: Bool)] = []
    for (a, b) in zip(xs, padded) {
        precondition(b == a || b == 1, "\(op): shape mismatch: \(ys) does not broadcast onto \(xs)")
        if a == 1 { continue }
        let bcast = b == 1
        if let last = plan.last, last.bcast == bcast { plan[plan.count - 1].n *= a } else { plan.append((a, bcast)) }
    }
    return plan.isEmpty ? [(1, false)] : plan
}

/// Visits x in order as contiguous runs: body(xOffset, yOffset, runLength, yIsScalar).
/// The outermost merged axis is split over both cores when `parallel` is set.
func forEachBroadcastRun(_ plan: [(n: Int, bcast: Bool)], parallel: Bool,
                         _ body: (Int, Int, Int, Bool) -> Void) {
    let dims = plan.count
    var xStride = [Int](repeating: 1, count: dims), yStride = [Int](repeating: 0, count: dims)
    var xs = 1, ys = 1
    for i in stride(from: dims - 1, through: 0, by: -1) {
        xStride[i] = xs; xs *= plan[i].n
        yStride[i] = plan[i].bcast ? 0 : ys
        if !plan[i].bcast { ys *= plan[i].n }
    }
    let inner = plan[dims - 1]
    let outerCount = xs / inner.n
    func run(_ range: Range<Int>) {
        for o in range {
            // Decompose the outer index over axes 0..<dims−1.
            var rem = o, xo = 0, yo = 0
            for i in stride(from: dims - 2, through: 0, by: -1) {
                let idx = rem % plan[i].n; rem /= plan[i].n
                xo += idx * xStride[i]; yo += idx * yStride[i]
            }
            body(xo, yo, inner.n, inner.bcast)
        }
    }
    if parallel { Parallel.forRanges(outerCount, grain: max(1, 16384 / inner.n)) { run($0) } } else { run(0..<outerCount) }
}

/// out = x + y (y broadcast onto x's shape).
public func broadcastAdd(_ x: Tensor, _ y: Tensor) -> Tensor {
    let plan = broadcastPlan(x.shape, y.shape, "add")
    let out = Tensor(uninitializedShape: x.shape)
    let xp = x.data, yp = y.data, op = out.data
    forEachBroadcastRun(plan, parallel: true) { xo, yo, n, scalar in
        if scalar { let s = yp[yo]; for i in 0..<n { op[xo + i] = xp[xo + i] + s } }
        else { for i in 0..<n { op[xo + i] = xp[xo + i] + yp[yo + i] } }
    }
    return out
}

/// Backward of `broadcastAdd`: dx is dOut itself (returned, not copied); dy sums dOut over
/// the broadcast axes.
public func broadcastAddBackward(_ dOut: Tensor, yShape: [Int]) -> (dx: Tensor, dy: Tensor) {
    (dOut, reduceToShape(dOut, yShape, "add backward"))
}

/// Σ of t over the axes along which a tensor of `shape` was broadcast onto t.
public func reduceToShape(_ t: Tensor, _ shape: [Int], _ op: String = "reduce") -> Tensor {
    if t.shape == shape { return t.copy() }
    let plan = broadcastPlan(t.shape, shape, op)
    let out = Tensor(shape: shape)
    let tp = t.data, op = out.data
    forEachBroadcastRun(plan, parallel: false) { xo, yo, n, scalar in
        if scalar { op[yo] += vsum(tp + xo, n) } else { vaccumulate(op + yo, tp + xo, n) }
    }
    return out
}

/// out = x · y (y broadcast onto x's shape).
public func broadcastMul(_ x: Tensor, _ y: Tensor) -> Tensor {
    let plan = broadcastPlan(x.shape, y.shape, "mul")
    let out = Tensor(uninitializedShape: x.shape)
    let xp = x.data, yp = y.data, op = out.data
    forEachBroadcastRun(plan, parallel: true) { xo, yo, n, scalar in
        if scalar { let s = yp[yo]; for i in 0..<n { op[xo + i] = xp[xo + i] * s } }
        else { for i in 0..<n { op[xo + i] = xp[xo + i] * yp[yo + i] } }
    }
    return out
}

/// Backward of `broadcastMul`: dx = dOut · y (broadcast), dy = Σ_broadcast dOut · x.
public func broadcastMulBackward(_ dOut: Tensor, x: Tensor, y: Tensor) -> (dx: Tensor, dy: Tensor) {
    checkSameShape(dOut, x, "mul backward")
    let plan = broadcastPlan(x.shape, y.shape, "mul backward")
    let dx = Tensor(uninitializedShape: x.shape), dy = Tensor(shape: y.shape)
    let xp = x.data, yp = y.data, gp = dOut.data, dxp = dx.data, dyp = dy.data
    forEachBroadcastRun(plan, parallel: true) { xo, yo, n, scalar in
        if scalar { let s = yp[yo]; for i in 0..<n { dxp[xo + i] = gp[xo + i] * s } }
        else { for i in 0..<n { dxp[xo + i] = gp[xo + i] * yp[yo + i] } }
    }
    forEachBroadcastRun(plan, parallel: false) { xo, yo, n, scalar in
        if scalar { dyp[yo] += vdot(gp + xo, xp + xo, n) }
        else { for i in 0..<n { dyp[yo + i] += gp[xo + i] * xp[xo + i] } }
    }
    return (dx, dy)
}

/// out = alpha · x.  (Backward: dx = alpha · dOut, i.e. `scaled(dOut, by: alpha)`.)
public func scaled(_ x: Tensor, by alpha: Float) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    let xp = x.data, op = out.data
    Parallel.forRanges(x.count, grain: 1 << 15) { r in for i in r { op[i] = alpha * xp[i] } }
    return out
}

/// out = a + b for tensors of one shape (a residual connection; backward passes dOut to both).
public func added(_ a: Tensor, _ b: Tensor) -> Tensor {
    checkSameShape(a, b, "add")
    let out = Tensor(uninitializedShape: a.shape)
    let ap = a.data, bp = b.data, op = out.data
    Parallel.forRanges(a.count, grain: 1 << 15) { r in for i in r { op[i] = ap[i] + bp[i] } }
    return out
}
