import Foundation
import Tensors

// Independent double-precision references for the tests: plain loops, no BLAS/LAPACK, so a
// bug in the library's products or eigen-decompositions cannot hide in the reference.
enum Ref {
    static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for k in 0..<n { let aik = a[i * n + k]; for j in 0..<n { c[i * n + j] += aik * b[k * n + j] } } }
        return c
    }

    static func transpose(_ a: [Double], _ n: Int) -> [Double] {
        var t = a
        for i in 0..<n { for j in 0..<n { t[j * n + i] = a[i * n + j] } }
        return t
    }

    static func identity(_ n: Int) -> [Double] {
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { m[i * n + i] = 1 }
        return m
    }

    /// Gauss–Jordan elimination with partial pivoting.
    static func inverse(_ a: [Double], _ n: Int) -> [Double] {
        var m = a, inv = identity(n)
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0 * n + col]) < abs(m[$1 * n + col]) }!
            if pivot != col {
                for j in 0..<n { m.swapAt(col * n + j, pivot * n + j); inv.swapAt(col * n + j, pivot * n + j) }
            }
            let p = m[col * n + col]
            for j in 0..<n { m[col * n + j] /= p; inv[col * n + j] /= p }
            for r in 0..<n where r != col {
                let f = m[r * n + col]
                if f == 0 { continue }
                for j in 0..<n { m[r * n + j] -= f * m[col * n + j]; inv[r * n + j] -= f * inv[col * n + j] }
            }
        }
        return inv
    }

    /// Principal square root of a (generally non-symmetric) matrix with positive real spectrum
    /// by the Denman–Beavers iteration: Y ← (Y + Z⁻¹)/2, Z ← (Z + Y⁻¹)/2, Y → A^{1/2}.
    static func sqrtmDenmanBeavers(_ a: [Double], _ n: Int) -> [Double] {
        var y = a, z = identity(n)
        for _ in 0..<100 {
            let yi = inverse(y, n), zi = inverse(z, n)
            let ny = zip(y, zi).map { 0.5 * ($0 + $1) }, nz = zip(z, yi).map { 0.5 * ($0 + $1) }
            let change = zip(ny, y).map { abs($0 - $1) }.max()!
            y = ny; z = nz
            if change < 1e-15 * (y.map(abs).max()! + 1) { break }
        }
        return y
    }

    /// pytorch-fid's formulation: ‖μ₁−μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr sqrtm(Σ₁Σ₂).
    static func frechet(_ m1: [Double], _ s1: [Double], _ m2: [Double], _ s2: [Double], _ n: Int) -> Double {
        let root = sqrtmDenmanBeavers(multiply(s1, s2, n), n)
        var fd = zip(m1, m2).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        for i in 0..<n { fd += s1[i * n + i] + s2[i * n + i] - 2 * root[i * n + i] }
        return fd
    }

    /// A random orthogonal matrix: Gram–Schmidt on Gaussian columns.
    static func orthogonal(_ n: Int, seed: UInt64) -> [Double] {
        let rng = CounterRNG(seed: seed)
        var q = (0..<(n * n)).map { Double(rng.normal(stream: 9, index: UInt64($0))) }
        for c in 0..<n {
            for p in 0..<c {
                var dot = 0.0
                for r in 0..<n { dot += q[r * n + c] * q[r * n + p] }
                for r in 0..<n { q[r * n + c] -= dot * q[r * n + p] }
            }
            var norm = 0.0
            for r in 0..<n { norm += q[r * n + c] * q[r * n + c] }
            for r in 0..<n { q[r * n + c] /= norm.squareRoot() }
        }
        return q
    }

    /// Q · diag(d) · Qᵀ.
    static func conjugated(_ q: [Double], _ d: [Double], _ n: Int) -> [Double] {
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { m[i * n + j] += q[i * n + k] * d[k] * q[j * n + k] } } }
        return m
    }

    /// A well-conditioned SPD matrix B·Bᵀ/n + shift·I with Gaussian B.
    static func spd(_ n: Int, seed: UInt64, shift: Double = 0.5) -> [Double] {
        let rng = CounterRNG(seed: seed)
        let b = (0..<(n * n)).map { Double(rng.normal(stream: 3, index: UInt64($0))) }
        var m = multiply(b, transpose(b, n), n).map { $0 / Double(n) }
        for i in 0..<n { m[i * n + i] += shift }
        return m
    }

    static func vector(_ n: Int, seed: UInt64, scale: Double = 1) -> [Double] {
        let rng = CounterRNG(seed: seed)
        return (0..<n).map { scale * Double(rng.normal(stream: 5, index: UInt64($0))) }
    }

    /// Two-pass mean and unbiased covariance of the rows of a [rows, cols] matrix.
    static func meanAndCovariance(_ x: [Double], rows: Int, cols: Int) -> ([Double], [Double]) {
        var mean = [Double](repeating: 0, count: cols)
        for r in 0..<rows { for c in 0..<cols { mean[c] += x[r * cols + c] } }
        mean = mean.map { $0 / Double(rows) }
        var cov = [Double](repeating: 0, count: cols * cols)
        for r in 0..<rows { for i in 0..<cols { for j in 0..<cols {
            cov[i * cols + j] += (x[r * cols + i] - mean[i]) * (x[r * cols + j] - mean[j])
        } } }
        return (mean, cov.map { $0 / Double(rows - 1) })
    }

    static func maxRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
        let scale = max(a.map(abs).max() ?? 0, b.map(abs).max() ?? 0, 1e-300)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }
}
