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
    conv2dWeightGradient(dy, x: x, weightGrad: weightGrad, biasGrad: biasGrad)
    return conv2dInputGradient(dy, weight: weight)
}

/// dW += Σ_p X[p + off_t]ᵀ·dY[p] and db += Σ_p dY[p] (the parameter half of the backward).
public func conv2dWeightGradient(_ dy: Tensor, x: Tensor, weightGrad: Tensor, biasGrad: Tensor?) {
    let (b, h, w, ci, co, k) = convShapes(x, weightGrad, nil, "conv2d backward")
    checkShape(dy, [b, h, w, co], "conv2d backward dy")
    if let biasGrad {
        checkShape(biasGrad, [co], "conv2d backward bias grad")
        addColumnSums(dy.data, rows: b * h * w, columns: co, into: biasGrad.data)
    }
    convWeightGrad(x.data, dy.data, batch: b, h: h, w: w, cin: ci, cout: co, kernel: k, into: weightGrad.data)
}

/// dX = the convolution of dY with the flipped, transposed kernel (the input half of the backward).
public func conv2dInputGradient(_ dy: Tensor, weight: Tensor) -> Tensor {
    precondition(dy.rank == 4 && weight.rank == 4 && dy.shape[3] == weight.shape[3],
                 "conv2d backward: shape mismatch: dy \(dy.shape) vs weight \(weight.shape)")
    let (b, h, w, co) = (dy.shape[0], dy.shape[1], dy.shape[2], dy.shape[3])
    let k = weight.shape[0], ci = weight.shape[2]
    let dx = Tensor(uninitializedShape: [b, h, w, ci])
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
/// B·H·W positions p, in blocks of six rows spread over both cores. A 3×3 kernel first copies
/// the input into a zero-bordered [B, H+2, W+2, C] buffer: then the three taps of one kernel
/// row are 3·C adjacent Floats, so each output row needs three pointers and no bounds tests.
func implicitConv(_ input: UnsafePointer<Float>, batch: Int, h: Int, w: Int, cin: Int, kernel: Int,
                  packed: UnsafePointer<Float>, cout: Int, bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
    let positions = batch * h * w, blocks = (positions + 5) / 6, panels = (cout + 15) / 16
    let pad = kernel / 2, ph = h + 2 * pad, pw = w + 2 * pad
    let padded: TensorStorage? = pad == 0 ? nil : padImages(input, batch: batch, h: h, w: w, c: cin)
    let source = padded.map { UnsafePointer($0.pointer) } ?? input
    let lineTaps = kernel, k = kernel * cin          // per kernel row: K adjacent positions
    Parallel.forRanges(blocks, grain: 8) { range in
        let pointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: lineTaps * 6)
        defer { pointers.deallocate() }
        for block in range {
            let p0 = block * 6
            for r in 0..<6 {
                let p = min(p0 + r, positions - 1)       // rows past the end repeat the last (not stored)
                let xx = p % w, yy = (p / w) % h, image = p / (w * h)
                for ky in 0..<lineTaps {
                    pointers[ky * 6 + r] = source + ((image * ph + yy + ky) * pw + xx) * cin
                }
            }
            let rows = min(6, positions - p0)
            for panel in 0..<panels {
                let add = bias.map { (load8($0 + panel * 16), load8($0 + panel * 16 + 8)) } ?? (Vec8(), Vec8())
                pointerRowsTile(pointers, taps: lineTaps, k: k, packed: packed + panel * kernel * k * 16, add: add,
                                c: out + p0 * cout + panel * 16, ldc: cout, rows: rows, cols: min(16, cout - panel * 16))
            }
        }
    }
}

/// [B, H, W, C] → [B, H+2, W+2, C] with a one-position zero border.
func padImages(_ x: UnsafePointer<Float>, batch: Int, h: Int, w: Int, c: Int) -> TensorStorage {
    let ph = h + 2, pw = w + 2
    let out = TensorStorage(capacity: batch * ph * pw * c, zeroed: false)
    let op = out.pointer
    Parallel.forEach(batch * ph, grain: 4) { line in
        let image = line / ph, y = line % ph
        let dst = op + line * pw * c
        if y == 0 || y == ph - 1 { dst.update(repeating: 0, count: pw * c); return }
        dst.update(repeating: 0, count: c)
        dst.advanced(by: c).update(from: x + (image * h + y - 1) * w * c, count: w * c)
        dst.advanced(by: (pw - 1) * c).update(repeating: 0, count: c)
    }
    return out
}

/// dW[t][i][o] += Σ_p x[p + off_t][i] · dy[p][o], one image at a time (per-core partial sums).
/// Per image, dY is packed once into 16-column panels ([panel][p][16]) and the zero-bordered
/// input once into 6-channel panels ([block][padded position][6]); the input shifted by a tap
/// is then an offset into the packed panel, one run per output row, so each 6×16 tile of dW
/// streams two contiguous panels from cache through `packedTile`.
func convWeightGrad(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, batch: Int, h: Int, w: Int,
                    cin: Int, cout: Int, kernel: Int, into dW: UnsafeMutablePointer<Float>) {
    let taps = kernel * kernel, pad = kernel / 2, size = taps * cin * cout
    let positions = h * w, pw = w + 2 * pad, padded = (h + 2 * pad) * pw
    let iBlocks = (cin + 5) / 6, oPanels = (cout + 15) / 16
    let rowsPerBlock = max(1, 256 / w)                  // ~256 positions of dY (16 KB per panel) in L1
    let chunks = Parallel.chunkCount(batch)
    let partials = Tensor(shape: [max(chunks - 1, 0) * size])    // chunk 0 adds into dW directly
    let pp = partials.data
    Parallel.forChunks(batch, chunks: chunks) { chunk, images in
        let target = chunk == 0 ? dW : pp + (chunk - 1) * size
        let scratch = TensorStorage(capacity: padded * iBlocks * 6 + positions * oPanels * 16, zeroed: false)
        let packedX = scratch.pointer, packedDY = scratch.pointer + padded * iBlocks * 6
        for image in images {
            packColumns(dy + image * positions * cout, rows: positions, columns: cout, ld: cout, into: packedDY)
            packPaddedBlocks(x + image * positions * cin, h: h, w: w, c: cin, pad: pad, into: packedX)
            for t in 0..<taps {
                let ky = t / kernel, kx = t % kernel
                for y0 in stride(from: 0, to: h, by: rowsPerBlock) {
                    let rows = min(rowsPerBlock, h - y0)
                    for o in 0..<oPanels {
                        for i in 0..<iBlocks {
                            packedTile(a: packedX + (i * padded + (y0 + ky) * pw + kx) * 6, aStride: pw * 6,
                                       b: packedDY + (o * positions + y0 * w) * 16, segments: rows, count: w,
                                       c: target + (t * cin + i * 6) * cout + o * 16, ldc: cout,
                                       rows: min(6, cin - i * 6), cols: min(16, cout - o * 16))
                        }
                    }
                }
            }
        }
    }
    for chunk in 1..<max(chunks, 1) { vaccumulate(dW, pp + (chunk - 1) * size, size) }
}

/// out[panel][r][j] = m[r·ld + panel·16 + j], zero past `columns` (16-wide panels).
func packColumns(_ m: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int, into out: UnsafeMutablePointer<Float>) {
    let panels = (columns + 15) / 16
    for panel in 0..<panels {
        let n = min(16, columns - panel * 16)
        let dst = out + panel * rows * 16
        for r in 0..<rows {
            let d = dst + r * 16, src = m + r * ld + panel * 16
            if n == 16 { store8(load8(src), d); store8(load8(src + 8), d + 8) }       // inline, no memmove call
            else { for j in 0..<16 { d[j] = j < n ? src[j] : 0 } }
        }
    }
}

/// out[block][(y + pad)·(W + 2pad) + x + pad][r] = x[y][x][block·6 + r] for one image, with a
/// `pad`-wide zero border and zeros for channels past `c`.
func packPaddedBlocks(_ x: UnsafePointer<Float>, h: Int, w: Int, c: Int, pad: Int, into out: UnsafeMutablePointer<Float>) {
    let blocks = (c + 5) / 6, pw = w + 2 * pad, padded = (h + 2 * pad) * pw
    let full = c / 6
    if pad > 0 {
        for block in 0..<blocks {
            let base = out + block * padded * 6
            base.update(repeating: 0, count: pad * pw * 6)                               // top rows
            (base + (h + pad) * pw * 6).update(repeating: 0, count: pad * pw * 6)        // bottom rows
            for y in 0..<h {
                let line = base + (y + pad) * pw * 6
                line.update(repeating: 0, count: pad * 6)
                (line + (w + pad) * 6).update(repeating: 0, count: pad * 6)
            }
        }
    }
    for y in 0..<h {
        for xx in 0..<w {
            let src = x + (y * w + xx) * c, q = (y + pad) * pw + xx + pad
            for block in 0..<full {
                let d = out + (block * padded + q) * 6, s = src + block * 6
                d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; d[3] = s[3]; d[4] = s[4]; d[5] = s[5]
            }
            if full < blocks {
                let d = out + (full * padded + q) * 6, s = src + full * 6, n = c - full * 6
                for r in 0..<6 { d[r] = r < n ? s[r] : 0 }
            }
        }
    }
}
