import Tensors

// 2-D convolution, stride 1, "same" zero padding, kernel K×K with K = 1 or 3, channels-last.
// Dimensions: B examples, H×W positions, Ci input and Co output channels; taps t = (ky, kx)
// in row-major order with offsets (ky − K/2, kx − K/2). Weight layout [K, K, Ci, Co] (HWIO).
//   forward:   Y[p][o]   = b[o] + Σ_t Σ_i X[p + off_t][i] · W[t][i][o]
//   dX:        dX[q][i]  = Σ_t Σ_o dY[q − off_t][o] · W[t][i][o]
//                        = Σ_t' Σ_o dY[q + off_t'][o] · W[T−1−t'][i][o]   (the same convolution
//                          of dY with the flipped, transposed kernel)
//   dW:        dW[t][i][o] += Σ_p X[p + off_t][i] · dY[p][o],   db[o] += Σ_p dY[p][o]
// (positions outside the image read as zero). All three are implicit GEMMs on the 6×16
// micro-kernel (MicroKernels.swift): the forward and dX read each output row's neighbourhood
// through pointers instead of materialising im2col columns; dW sums each tap over the valid
// rows of one image at a time so X and dY stay in cache. Work is split over images/rows
// across both cores; no BLAS call is involved.

/// y = conv(x, W) + b for x: [B, H, W, Ci], weight: [K, K, Ci, Co] (K = 1 or 3), bias: [Co].
public func conv2dForward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let (b, h, w, ci, co, k) = convShapes(x, weight, bias, "conv2d")
    let y = Tensor(uninitializedShape: [b, h, w, co])
    let packed = packConvWeights(weight.data, taps: k * k, cin: ci, cout: co, adjoint: false)
    implicitConv(x.data, batch: b, h: h, w: w, cin: ci, kernel: k, packed: packed.data, cout: co,
                 bias: bias?.data, out: y.data)
    return y
}

/// Backward of `conv2dForward`: adds into `weightGrad` and `biasGrad`, returns dx.
public func conv2dBackward(_ dy: Tensor, x: Tensor, weight: Tensor,
                           weightGrad: Tensor, biasGrad: Tensor?) -> Tensor {
    let (b, h, w, ci, co, k) = convShapes(x, weight, nil, "conv2d backward")
    checkShape(dy, [b, h, w, co], "conv2d backward dy")
    checkSameShape(weightGrad, weight, "conv2d backward weight grad")
    if let biasGrad {
        checkShape(biasGrad, [co], "conv2d backward bias grad")
        addColumnSums(dy.data, rows: b * h * w, columns: co, into: biasGrad.data)
    }
    convWeightGrad(x.data, dy.data, batch: b, h: h, w: w, cin: ci, cout: co, kernel: k, into: weightGrad.data)
    let dx = Tensor(uninitializedShape: x.shape)
    let packed = packConvWeights(weight.data, taps: k * k, cin: ci, cout: co, adjoint: true)
    implicitConv(dy.data, batch: b, h: h, w: w, cin: co, kernel: k, packed: packed.data, cout: ci,
                 bias: nil, out: dx.data)
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

/// Weights in 16-column panels for `pointerRowsTile`: packed[panel][t][i][j].
/// Forward: = W[t][i][panel·16 + j]; adjoint (for dX, input and output channels swapped):
/// = W[T−1−t][panel·16 + j][i]. Columns past the last output channel are zero.
func packConvWeights(_ w: UnsafePointer<Float>, taps: Int, cin: Int, cout: Int, adjoint: Bool) -> Tensor {
    let inner = adjoint ? cout : cin, outer = adjoint ? cin : cout
    let panels = (outer + 15) / 16
    let packed = Tensor(shape: [panels, taps, inner, 16])
    let pp = packed.data
    for panel in 0..<panels {
        for t in 0..<taps {
            for i in 0..<inner {
                let dst = pp + ((panel * taps + t) * inner + i) * 16
                for j in 0..<min(16, outer - panel * 16) {
                    let o = panel * 16 + j
                    dst[j] = adjoint ? w[((taps - 1 - t) * cin + o) * cout + i] : w[(t * cin + i) * cout + o]
                }
            }
        }
    }
    return packed
}

/// out[p][o] = bias[o] + Σ_t Σ_i input[p + off_t][i] · packed[o/16][t][i][o%16] over all
/// B·H·W positions p, in blocks of six rows spread over both cores.
func implicitConv(_ input: UnsafePointer<Float>, batch: Int, h: Int, w: Int, cin: Int, kernel: Int,
                  packed: UnsafePointer<Float>, cout: Int, bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
    let taps = kernel * kernel, half = kernel / 2
    let positions = batch * h * w, blocks = (positions + 5) / 6, panels = (cout + 15) / 16
    let zeros = Tensor(shape: [cin])
    let zp = UnsafePointer(zeros.data)
    Parallel.forRanges(blocks, grain: 8) { range in
        let pointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: taps * 6)
        defer { pointers.deallocate() }
        for block in range {
            let p0 = block * 6
            for r in 0..<6 {
                let p = p0 + r
                guard p < positions else { for t in 0..<taps { pointers[t * 6 + r] = zp }; continue }
                let xx = p % w, yy = (p / w) % h, image = p / (w * h)
                for t in 0..<taps {
                    let iy = yy + t / kernel - half, ix = xx + t % kernel - half
                    pointers[t * 6 + r] = (iy >= 0 && iy < h && ix >= 0 && ix < w)
                        ? input + ((image * h + iy) * w + ix) * cin : zp
                }
            }
            let rows = min(6, positions - p0)
            for panel in 0..<panels {
                let add = bias.map { (load8($0 + panel * 16), load8($0 + panel * 16 + 8)) } ?? (Vec8(), Vec8())
                pointerRowsTile(pointers, taps: taps, k: cin, packed: packed + panel * taps * cin * 16, add: add,
                                c: out + p0 * cout + panel * 16, ldc: cout, rows: rows, cols: min(16, cout - panel * 16))
            }
        }
    }
}

/// dW[t][i][o] += Σ_p x[p + off_t][i] · dy[p][o], one image at a time (per-core partial sums).
func convWeightGrad(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, batch: Int, h: Int, w: Int,
                    cin: Int, cout: Int, kernel: Int, into dW: UnsafeMutablePointer<Float>) {
    let taps = kernel * kernel, half = kernel / 2, size = taps * cin * cout
    let chunks = Parallel.chunkCount(batch)
    let partials = Tensor(shape: [max(chunks - 1, 0) * size])    // chunk 0 adds into dW directly
    let pp = partials.data
    Parallel.forChunks(batch, chunks: chunks) { chunk, images in
        let target = chunk == 0 ? dW : pp + (chunk - 1) * size
        let segments = UnsafeMutablePointer<(Int, Int, Int)>.allocate(capacity: max(h, 1))
        defer { segments.deallocate() }
        for image in images {
            for t in 0..<taps {
                let dyOff = t / kernel - half, dxOff = t % kernel - half
                let y0 = max(0, -dyOff), y1 = min(h, h - dyOff), x0 = max(0, -dxOff), x1 = min(w, w - dxOff)
                guard y0 < y1 && x0 < x1 else { continue }
                var count = 0
                if x0 == 0 && x1 == w {
                    // Whole rows: one contiguous run.
                    let p = (image * h + y0) * w
                    segments[0] = ((p + dyOff * w) * cin, p * cout, (y1 - y0) * w); count = 1
                } else {
                    for y in y0..<y1 {
                        let p = (image * h + y) * w + x0
                        segments[count] = ((p + dyOff * w + dxOff) * cin, p * cout, x1 - x0); count += 1
                    }
                }
                for i0 in stride(from: 0, to: cin, by: 6) {
                    for o0 in stride(from: 0, to: cout, by: 16) {
                        transposedProductTile(a: x + i0, lda: cin, b: dy + o0, ldb: cout, segments: segments, segmentCount: count,
                                              c: target + (t * cin + i0) * cout + o0, ldc: cout,
                                              rows: min(6, cin - i0), cols: min(16, cout - o0))
                    }
                }
            }
        }
    }
    for chunk in 1..<max(chunks, 1) { vaccumulate(dW, pp + (chunk - 1) * size, size) }
}
