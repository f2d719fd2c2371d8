import Tensors

// 2-D convolution, stride 1, "same" zero padding, kernel 1×1 or 3×3, channels-last.
// Dimensions: B examples, H×W positions, Ci input and Co output channels, K = kernel size.
// Weight layout [K, K, Ci, Co] (HWIO), so a 3×3 convolution is
//   Y[B·H·W, Co] = col(X)[B·H·W, 9·Ci] · W[9·Ci, Co] + b
// where row p of col(X) holds the 3×3 neighbourhood of position p (zeros outside the image).
// Backward: dW += colᵀ·dY, db += Σ dY, dcol = dY·Wᵀ, dX = col2im(dcol).
// The batch is processed in chunks of whole images whose columns fit in cache: each chunk is
// im2col on both cores, then one sgemm over all its rows on OpenBLAS's threads. The backward
// recomputes the columns instead of keeping 9× the input alive between passes.

public enum Conv2dTuning {
    /// Target size (Floats) of one chunk's column buffer; at least one image per chunk.
    nonisolated(unsafe) public static var chunkFloats = 1 << 21
}

@inline(__always) func convChunkImages(batch: Int, h: Int, w: Int, ci: Int) -> Int {
    max(1, min(batch, Conv2dTuning.chunkFloats / max(h * w * 9 * ci, 1)))
}

/// y = conv(x, W) + b for x: [B, H, W, Ci], weight: [K, K, Ci, Co] (K = 1 or 3), bias: [Co].
public func conv2dForward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let (b, h, w, ci, co, k) = convShapes(x, weight, bias, "conv2d")
    if k == 1 {
        return linearForward(x, weight: weight.reshaped([ci, co]), bias: bias)
    }
    let y = Tensor(uninitializedShape: [b, h, w, co])
    let per = convChunkImages(batch: b, h: h, w: w, ci: ci)
    let rowsPerImage = h * w, colWidth = 9 * ci
    Workspace.with(per * rowsPerImage * colWidth) { col in
        var first = 0
        while first < b {
            let n = min(per, b - first)
            im2col3x3(x.data + first * rowsPerImage * ci, images: n, h: h, w: w, c: ci, col: col)
            BLAS.sgemm(m: n * rowsPerImage, n: co, k: colWidth, a: col, lda: colWidth,
                       b: weight.data, ldb: co, beta: 0, c: y.data + first * rowsPerImage * co, ldc: co)
            first += n
        }
    }
    if let bias { addRowVector(y.data, rows: b * rowsPerImage, bias.data, columns: co) }
    return y
}

/// Backward of `conv2dForward`: adds into `weightGrad` and `biasGrad`, returns dx.
public func conv2dBackward(_ dy: Tensor, x: Tensor, weight: Tensor,
                           weightGrad: Tensor, biasGrad: Tensor?) -> Tensor {
    let (b, h, w, ci, co, k) = convShapes(x, weight, nil, "conv2d backward")
    checkShape(dy, [b, h, w, co], "conv2d backward dy")
    checkSameShape(weightGrad, weight, "conv2d backward weight grad")
    if k == 1 {
        return linearBackward(dy, x: x, weight: weight.reshaped([ci, co]),
                              weightGrad: weightGrad.reshaped([ci, co]), biasGrad: biasGrad)
    }
    let rowsPerImage = h * w, colWidth = 9 * ci
    if let biasGrad {
        checkShape(biasGrad, [co], "conv2d backward bias grad")
        addColumnSums(dy.data, rows: b * rowsPerImage, columns: co, into: biasGrad.data)
    }
    let dx = Tensor(uninitializedShape: x.shape)
    let per = convChunkImages(batch: b, h: h, w: w, ci: ci)
    Workspace.with(2 * per * rowsPerImage * colWidth) { scratch in
        let col = scratch, dcol = scratch + per * rowsPerImage * colWidth
        var first = 0
        while first < b {
            let n = min(per, b - first), rows = n * rowsPerImage
            let dyChunk = dy.data + first * rowsPerImage * co
            im2col3x3(x.data + first * rowsPerImage * ci, images: n, h: h, w: w, c: ci, col: col)
            BLAS.sgemm(transA: true, m: colWidth, n: co, k: rows, a: col, lda: colWidth,
                       b: dyChunk, ldb: co, beta: 1, c: weightGrad.data, ldc: co)
            BLAS.sgemm(transB: true, m: rows, n: colWidth, k: co, a: dyChunk, lda: co,
                       b: weight.data, ldb: co, beta: 0, c: dcol, ldc: colWidth)
            col2im3x3(dcol, images: n, h: h, w: w, c: ci, dx: dx.data + first * rowsPerImage * ci)
            first += n
        }
    }
    return dx
}

func convShapes(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ op: String)
    -> (b: Int, h: Int, w: Int, ci: Int, co: Int, k: Int) {
    precondition(weight.rank == 4 && weight.shape[0] == weight.shape[1] && (weight.shape[0] == 1 || weight.shape[0] == 3),
                 "\(op): weight must be [K, K, Ci, Co] with K = 1 or 3, got \(weight.shape)")
    precondition(x.rank == 4 && x.shape[3] == weight.shape[2],
                 "\(op): shape mismatch: input \(x.shape) (expected [B, H, W, \(weight.shape[2])]) vs weight \(weight.shape)")
    if let bias { checkShape(bias, [weight.shape[3]], "\(op) bias") }
    return (x.shape[0], x.shape[1], x.shape[2], x.shape[3], weight.shape[3], weight.shape[0])
}

/// Columns of `images` consecutive images: row (y·W + x) of image i holds, for taps
/// (ky, kx) in row-major order, the Ci channels at (y + ky − 1, x + kx − 1), or zeros.
func im2col3x3(_ x: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int, col: UnsafeMutablePointer<Float>) {
    let width = 9 * c, imageIn = h * w * c, imageOut = h * w * width
    Parallel.forEach(images * h) { job in
        let img = job / h, y = job % h
        let src = x + img * imageIn
        let rowBase = col + img * imageOut + y * w * width
        for ky in 0..<3 {
            let iy = y + ky - 1
            for xx in 0..<w {
                let dst = rowBase + xx * width + ky * 3 * c
                if iy < 0 || iy >= h { dst.update(repeating: 0, count: 3 * c); continue }
                let line = src + iy * w * c
                if xx >= 1 && xx + 1 < w {
                    dst.update(from: line + (xx - 1) * c, count: 3 * c)   // the three taps are adjacent
                } else {
                    for kx in 0..<3 {
                        let ix = xx + kx - 1
                        if ix < 0 || ix >= w { (dst + kx * c).update(repeating: 0, count: c) }
                        else { (dst + kx * c).update(from: line + ix * c, count: c) }
                    }
                }
            }
        }
    }
}

/// Adjoint of `im2col3x3`: dx(y, x) = Σ over taps of the column entries that copied it.
/// Gathers per input position, so every dx row is written once and images split cleanly.
func col2im3x3(_ dcol: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int, dx: UnsafeMutablePointer<Float>) {
    let width = 9 * c, imageIn = h * w * c, imageOut = h * w * width
    Parallel.forEach(images * h) { job in
        let img = job / h, iy = job % h
        let src = dcol + img * imageOut
        for ix in 0..<w {
            let out = dx + img * imageIn + (iy * w + ix) * c
            out.update(repeating: 0, count: c)
            for ky in 0..<3 {
                let oy = iy - ky + 1
                if oy < 0 || oy >= h { continue }
                for kx in 0..<3 {
                    let ox = ix - kx + 1
                    if ox < 0 || ox >= w { continue }
                    vaccumulate(out, src + (oy * w + ox) * width + (ky * 3 + kx) * c, c)
                }
            }
        }
    }
}
