import Tensors

// Register-tiled matrix micro-kernels for the convolutions (implicit GEMM, no im2col buffer).
//
// A 6×16 tile of C lives in twelve 8-lane accumulators; each step broadcasts six A values and
// loads one 16-wide row of B, then does twelve multiply-adds — the BLIS "haswell" shape, which
// keeps 15 of the 16 AVX registers busy. With AVX2 + FMA (MSCM_FMA, set by Package.swift when
// the build machine has them) this runs near the core's peak. Rows of A are read through
// pointers, so a convolution's shifted neighbourhoods are multiplied in place.
//
// Vector loads may run up to 15 Floats past the last valid column; every Tensor storage keeps
// `TensorStorage.slack` readable Floats at its end for that, and the extra lanes are never stored.

/// A 6×16 accumulator tile.
struct Tile6x16 {
    var c00 = Vec8(), c01 = Vec8(), c10 = Vec8(), c11 = Vec8(), c20 = Vec8(), c21 = Vec8()
    var c30 = Vec8(), c31 = Vec8(), c40 = Vec8(), c41 = Vec8(), c50 = Vec8(), c51 = Vec8()

    /// tile += a_r · b for r in 0..<6 (a_r scalars, b a 16-wide row given as two halves).
    @inline(__always) mutating func update(_ a0: Float, _ a1: Float, _ a2: Float, _ a3: Float, _ a4: Float, _ a5: Float,
                                           _ b0: Vec8, _ b1: Vec8) {
        var a = Vec8(repeating: a0); c00 = fma8(c00, a, b0); c01 = fma8(c01, a, b1)
        a = Vec8(repeating: a1); c10 = fma8(c10, a, b0); c11 = fma8(c11, a, b1)
        a = Vec8(repeating: a2); c20 = fma8(c20, a, b0); c21 = fma8(c21, a, b1)
        a = Vec8(repeating: a3); c30 = fma8(c30, a, b0); c31 = fma8(c31, a, b1)
        a = Vec8(repeating: a4); c40 = fma8(c40, a, b0); c41 = fma8(c41, a, b1)
        a = Vec8(repeating: a5); c50 = fma8(c50, a, b0); c51 = fma8(c51, a, b1)
    }

    /// Row r as two halves.
    @inline(__always) func row(_ r: Int) -> (Vec8, Vec8) {
        switch r {
        case 0: return (c00, c01)
        case 1: return (c10, c11)
        case 2: return (c20, c21)
        case 3: return (c30, c31)
        case 4: return (c40, c41)
        default: return (c50, c51)
        }
    }

    /// c[r][j] = tile[r][j] + add[j] for r < rows, j < cols (c has row stride ldc).
    @inline(__always) func store(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, add: (Vec8, Vec8)) {
        if rows == 6 && cols == 16 {
            for r in 0..<6 {
                let (h0, h1) = row(r)
                store8(h0 + add.0, c + r * ldc); store8(h1 + add.1, c + r * ldc + 8)
            }
            return
        }
        for r in 0..<rows {
            let (h0, h1) = row(r)
            let v0 = h0 + add.0, v1 = h1 + add.1
            for j in 0..<cols { c[r * ldc + j] = j < 8 ? v0[j] : v1[j - 8] }
        }
    }

    /// c[r][j] += tile[r][j] for r < rows, j < cols.
    @inline(__always) func accumulate(into c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int) {
        if rows == 6 && cols == 16 {
            for r in 0..<6 {
                let (h0, h1) = row(r)
                store8(load8(c + r * ldc) + h0, c + r * ldc); store8(load8(c + r * ldc + 8) + h1, c + r * ldc + 8)
            }
            return
        }
        for r in 0..<rows {
            let (h0, h1) = row(r)
            for j in 0..<cols { c[r * ldc + j] += j < 8 ? h0[j] : h1[j - 8] }
        }
    }
}

/// C[6×16] = add + Σ_t Σ_i A_r,t[i] · B[t][i][0..<16] with A_r,t = rowPointers[t·6 + r]
/// (taps × 6 pointers, each to `k` contiguous Floats) and B packed [taps][k][16].
@inline(never)
func pointerRowsTile(_ rowPointers: UnsafePointer<UnsafePointer<Float>>, taps: Int, k: Int,
                     packed: UnsafePointer<Float>, add: (Vec8, Vec8),
                     c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int) {
    var tile = Tile6x16()
    var bp = packed
    for t in 0..<taps {
        let p = rowPointers + t * 6
        let a0 = p[0], a1 = p[1], a2 = p[2], a3 = p[3], a4 = p[4], a5 = p[5]
        for i in 0..<k {
            tile.update(a0[i], a1[i], a2[i], a3[i], a4[i], a5[i], load8(bp), load8(bp + 8))
            bp += 16
        }
    }
    tile.store(c, ldc: ldc, rows: rows, cols: cols, add: add)
}

/// C[6×16] += Σ_s Σ_i A_s[i][r] · B[s·count + i][j] over `segments` runs of `count` steps, with
/// both operands packed: A as [step][6] (the six broadcast values side by side), B as [step][16]
/// contiguous across runs; run s of A starts at a + s·aStride.
/// One flat loop (the A pointer jumps between runs) keeps all twelve accumulators in registers;
/// a nested loop here made the compiler spill one of them on every step.
@inline(never)
func packedTile(a: UnsafePointer<Float>, aStride: Int, b: UnsafePointer<Float>,
                segments: Int, count: Int, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int) {
    var tile = Tile6x16()
    var ap = a, bp = b, left = count
    let gap = aStride - count * 6
    for _ in 0..<(segments * count) {
        tile.update(ap[0], ap[1], ap[2], ap[3], ap[4], ap[5], load8(bp), load8(bp + 8))
        ap += 6; bp += 16; left -= 1
        if left == 0 { ap += gap; left = count }
    }
    tile.accumulate(into: c, ldc: ldc, rows: rows, cols: cols)
}
