import Tensors

// Single-threaded products of small matrices on the 6×16 micro-kernel, for work that is already
// split across cores one level up (attention runs one (example, head) pair per call).
//   C[M×N] = A·B with A given by row pointers (k contiguous Floats each) and B packed in
//   16-column panels ([panel][k][16], zero past N).

/// C[i][j] = Σ_l A_i[l] · B[l][j] for i < m, j < n, with A_i = rows(i) and C row stride ldc.
@inline(__always)
func smallGemm(m: Int, n: Int, k: Int, rows: (Int) -> UnsafePointer<Float>, packed: UnsafePointer<Float>,
               c: UnsafeMutablePointer<Float>, ldc: Int, pointers: UnsafeMutablePointer<UnsafePointer<Float>>) {
    guard m > 0 && n > 0 else { return }
    let panels = (n + 15) / 16
    for i0 in stride(from: 0, to: m, by: 6) {
        for r in 0..<6 { pointers[r] = rows(min(i0 + r, m - 1)) }     // rows past m repeat the last (not stored)
        for panel in 0..<panels {
            pointerRowsTile(pointers, taps: 1, k: k, packed: packed + panel * k * 16, add: (Vec8(), Vec8()),
                            c: c + i0 * ldc + panel * 16, ldc: ldc, rows: min(6, m - i0), cols: min(16, n - panel * 16))
        }
    }
}

/// B = alpha·M for M [k×n] (row stride ld), packed as [panel][l][16].
func packPanels(_ m: UnsafePointer<Float>, k: Int, n: Int, ld: Int, alpha: Float = 1, into out: UnsafeMutablePointer<Float>) {
    let panels = (n + 15) / 16
    for panel in 0..<panels {
        let width = min(16, n - panel * 16)
        for l in 0..<k {
            let src = m + l * ld + panel * 16, dst = out + (panel * k + l) * 16
            for j in 0..<16 { dst[j] = j < width ? alpha * src[j] : 0 }
        }
    }
}

/// B = alpha·Mᵀ for M [n×k] (row stride ld), packed as [panel][l][16] = alpha·M[panel·16 + j][l].
func packTransposedPanels(_ m: UnsafePointer<Float>, n: Int, k: Int, ld: Int, alpha: Float = 1, into out: UnsafeMutablePointer<Float>) {
    let panels = (n + 15) / 16
    for panel in 0..<panels {
        let width = min(16, n - panel * 16)
        for l in 0..<k {
            let dst = out + (panel * k + l) * 16
            for j in 0..<16 { dst[j] = j < width ? alpha * m[(panel * 16 + j) * ld + l] : 0 }
        }
    }
}

/// out[j][i] = m[i][j] for an r×c matrix (out is c×r).
func transpose(_ m: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<rows { for j in 0..<cols { out[j * rows + i] = m[i * cols + j] } }
}
