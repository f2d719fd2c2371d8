import Tensors

// Linear (fully connected) layer kernels.
// Dimensions: N rows (all leading axes of x flattened), In input features, Out output features.
// Weight layout is [In, Out] (Flax "kernel" order):
//   Y[N, Out] = X[N, In] · W[In, Out] + b,   dX = dY · Wᵀ,   dW += Xᵀ · dY,   db += Σ_rows dY
// A linear layer is a 1×1 convolution over N positions, so all three products run on the
// convolution's micro-kernel paths (MicroKernels.swift), threaded over rows like the rest of
// the engine instead of waking OpenBLAS's own threads.

/// y = x·W + b for x: […, In], W: [In, Out], b: [Out] → y: […, Out].
public func linearForward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.rank == 2, "linear: weight must be [In, Out], got \(weight.shape)")
    let inF = weight.shape[0], outF = weight.shape[1]
    precondition(x.rank >= 1 && x.shape.last == inF,
                 "linear: shape mismatch: input \(x.shape) vs weight \(weight.shape)")
    if let bias { checkShape(bias, [outF], "linear bias") }
    let n = x.count / max(inF, 1)
    let y = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
    guard n > 0 else { return y }
    let packed = packConvWeights(weight.data, taps: 1, cin: inF, cout: outF, adjoint: false)
    implicitConv(x.data, batch: 1, h: 1, w: n, cin: inF, kernel: 1, packed: packed.data, cout: outF,
                 bias: bias?.data, out: y.data)
    return y
}

/// Backward of `linearForward`: adds xᵀ·dy into `weightGrad`, the column sums of dy into
/// `biasGrad`, and returns dx = dy·Wᵀ.
public func linearBackward(_ dy: Tensor, x: Tensor, weight: Tensor,
                           weightGrad: Tensor, biasGrad: Tensor?) -> Tensor {
    linearWeightGradient(dy, x: x, weightGrad: weightGrad, biasGrad: biasGrad)
    let inF = weight.shape[0], outF = weight.shape[1]
    let n = x.count / max(inF, 1)
    let dx = Tensor(uninitializedShape: x.shape)
    guard n > 0 else { return dx }
    let packed = packConvWeights(weight.data, taps: 1, cin: inF, cout: outF, adjoint: true)
    implicitConv(dy.data, batch: 1, h: 1, w: n, cin: outF, kernel: 1, packed: packed.data, cout: inF,
                 bias: nil, out: dx.data)
    return dx
}

/// The parameter half of the backward: weightGrad += xᵀ·dy, biasGrad += Σ_rows dy.
public func linearWeightGradient(_ dy: Tensor, x: Tensor, weightGrad: Tensor, biasGrad: Tensor?) {
    precondition(weightGrad.rank == 2, "linear backward: weight grad must be [In, Out], got \(weightGrad.shape)")
    let inF = weightGrad.shape[0], outF = weightGrad.shape[1]
    let n = x.count / max(inF, 1)
    precondition(x.shape.last == inF && dy.count == n * outF && dy.shape.last == outF,
                 "linear backward: shape mismatch: dy \(dy.shape) vs input \(x.shape) · weight \(weightGrad.shape)")
    if let biasGrad {
        checkShape(biasGrad, [outF], "linear backward bias grad")
        addColumnSums(dy.data, rows: n, columns: outF, into: biasGrad.data)
    }
    guard n > 0 else { return }
    // Rows in blocks of 256 treated as 1×256 "images", so both cores share the work.
    let blocks = n / 256, rest = n % 256
    if blocks > 0 {
        convWeightGrad(x.data, dy.data, batch: blocks, h: 1, w: 256, cin: inF, cout: outF, kernel: 1, into: weightGrad.data)
    }
    if rest > 0 {
        convWeightGrad(x.data + blocks * 256 * inF, dy.data + blocks * 256 * outF, batch: 1, h: 1, w: rest,
                       cin: inF, cout: outF, kernel: 1, into: weightGrad.data)
    }
}

/// into[c] += Σ_r m[r, c]: per-thread partial sums over row ranges, then combined.
func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
    let chunks = Parallel.chunkCount(rows, grain: 8192 / max(columns, 1) + 1)
    let partial = Tensor(shape: [chunks, columns])
    let pp = partial.data
    Parallel.forChunks(rows, chunks: chunks) { chunk, range in
        let acc = pp + chunk * columns
        for r in range { vaccumulate(acc, m + r * columns, columns) }
    }
    for chunk in 0..<chunks { vaccumulate(out, pp + chunk * columns, columns) }
}
