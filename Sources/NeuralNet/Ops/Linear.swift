import Tensors

// Linear (fully connected) layer kernels.
// Dimensions: N rows (all leading axes of x flattened), In input features, Out output features.
// Weight layout is [In, Out] (Flax "kernel" order), so the forward is one sgemm without
// transposes: Y[N, Out] = X[N, In] · W[In, Out] + b.

/// y = x·W + b for x: […, In], W: [In, Out], b: [Out] → y: […, Out].
public func linearForward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.rank == 2, "linear: weight must be [In, Out], got \(weight.shape)")
    let inF = weight.shape[0], outF = weight.shape[1]
    precondition(x.rank >= 1 && x.shape.last == inF,
                 "linear: shape mismatch: input \(x.shape) vs weight \(weight.shape)")
    if let bias { checkShape(bias, [outF], "linear bias") }
    let n = x.count / max(inF, 1)
    let y = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
    BLAS.sgemm(m: n, n: outF, k: inF, a: x.data, lda: inF, b: weight.data, ldb: outF,
               beta: 0, c: y.data, ldc: outF)
    if let bias { addRowVector(y.data, rows: n, bias.data, columns: outF) }
    return y
}

/// Backward of `linearForward`: adds xᵀ·dy into `weightGrad`, the column sums of dy into
/// `biasGrad`, and returns dx = dy·Wᵀ.
public func linearBackward(_ dy: Tensor, x: Tensor, weight: Tensor,
                           weightGrad: Tensor, biasGrad: Tensor?) -> Tensor {
    let inF = weight.shape[0], outF = weight.shape[1]
    let n = x.count / max(inF, 1)
    precondition(dy.count == n * outF && dy.shape.last == outF,
                 "linear backward: shape mismatch: dy \(dy.shape) vs input \(x.shape) · weight \(weight.shape)")
    checkSameShape(weightGrad, weight, "linear backward weight grad")
    BLAS.sgemm(transA: true, m: inF, n: outF, k: n, a: x.data, lda: inF, b: dy.data, ldb: outF,
               beta: 1, c: weightGrad.data, ldc: outF)
    if let biasGrad {
        checkShape(biasGrad, [outF], "linear backward bias grad")
        addColumnSums(dy.data, rows: n, columns: outF, into: biasGrad.data)
    }
    let dx = Tensor(uninitializedShape: x.shape)
    BLAS.sgemm(transB: true, m: n, n: inF, k: outF, a: dy.data, lda: outF, b: weight.data, ldb: outF,
               beta: 0, c: dx.data, ldc: inF)
    return dx
}

/// y[r, c] += v[c] for every row r of a rows×columns matrix.
func addRowVector(_ y: UnsafeMutablePointer<Float>, rows: Int, _ v: UnsafePointer<Float>, columns: Int) {
    Parallel.forRanges(rows, grain: 4096 / max(columns, 1) + 1) { range in
        for r in range {
            let row = y + r * columns
            for c in 0..<columns { row[c] += v[c] }
        }
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
