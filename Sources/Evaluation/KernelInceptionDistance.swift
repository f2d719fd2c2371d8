import Foundation
import Tensors

/// A kernel inception distance with what is needed to read it: the mean and standard deviation
/// of the unbiased MMD² over the subsets, how many subsets of what size, both sample counts and
/// the feature space (docs/algorithms.md §7).
public struct KIDScore: Codable, Equatable, Sendable {
    /// Mean of the per-subset unbiased MMD² estimates.
    public let mean: Double
    /// Their standard deviation (divisor = subsets, as `np.std` in Bińkowski et al.'s code and
    /// torch-fidelity): the spread of one subset's estimate, not the standard error of the mean.
    public let standardDeviation: Double
    public let subsets: Int
    public let subsetSize: Int
    public let dimension: Int
    public let extractor: String?
    /// Rows of the generated (A) and the reference (B) feature sets.
    public let countA: Int
    public let countB: Int
}

/// Kernel Inception Distance (Bińkowski et al., 2018) in any feature space (docs/algorithms.md §7):
/// with the cubic polynomial kernel k(x, y) = (xᵀy / D + 1)³, the unbiased MMD² between
/// generated features X (m rows) and reference features Y (n rows),
///
///     MMD² = 1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(n(n−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(mn) Σ_{i,j} k(xᵢ, yⱼ),
///
/// averaged over `subsets` random subsets of `subsetSize` rows of each set (drawn without
/// replacement, seeded), reported as mean and standard deviation. Unbiased in the sample count,
/// unlike the FID, so small evaluations can be compared with large ones.
///
/// The Gram matrices come from dsyrk/dgemm on the features in double precision, and every sum
/// is a Double, so the result does not depend on Float rounding of xᵀy.
public enum KernelInceptionDistance {
    public static let defaultSubsets = 100
    public static let defaultMaxSubsetSize = 1000

    /// KID between the rows of `generated` [m, D] and `reference` [n, D]. `subsetSize` defaults
    /// to min(m, n, 1000); subset s draws its rows from `CounterRNG(seed)` (stream 2s for the
    /// generated rows, 2s + 1 for the reference rows), so the score is a pure function of the
    /// features and the seed.
    public static func score(generated: Tensor, reference: Tensor, subsets: Int = defaultSubsets, subsetSize: Int? = nil,
                             seed: UInt64 = 0, extractor: String?) throws -> KIDScore {
        guard generated.rank == 2, reference.rank == 2 else {
            throw EvaluationError("KID: features must be matrices [N, D], got \(generated.shape) and \(reference.shape)")
        }
        let m = generated.shape[0], n = reference.shape[0], d = generated.shape[1]
        guard reference.shape[1] == d, d > 0 else {
            throw EvaluationError("KID: feature dimensions differ: \(d) vs \(reference.shape[1])")
        }
        guard m >= 2, n >= 2 else { throw EvaluationError("KID needs at least 2 feature vectors on each side, got \(m) and \(n)") }
        let size = subsetSize ?? min(m, n, defaultMaxSubsetSize)
        guard size >= 2, size <= min(m, n) else {
            throw EvaluationError("KID: subset size \(size) must be in 2…\(min(m, n)) (the smaller set's size)")
        }
        guard subsets >= 1 else { throw EvaluationError("KID: subsets must be ≥ 1, got \(subsets)") }
        let x = try doubles(generated, "generated"), y = try doubles(reference, "reference")

        let rng = CounterRNG(seed: seed)
        var xs = [Double](repeating: 0, count: size * d), ys = xs
        var scratch = Scratch(size: size)
        var values = [Double](repeating: 0, count: subsets)
        var order = [Int](), orderY = [Int]()
        for s in 0..<subsets {
            // A full-size subset is the whole set in some order; MMD² does not depend on the order.
            sample(size, of: m, rng: rng, stream: UInt64(2 * s), into: &order)
            sample(size, of: n, rng: rng, stream: UInt64(2 * s + 1), into: &orderY)
            gather(x, rows: order, d: d, into: &xs)
            gather(y, rows: orderY, d: d, into: &ys)
            values[s] = xs.withUnsafeBufferPointer { xp in ys.withUnsafeBufferPointer { yp in
                unbiasedMMD2(xp.baseAddress!, rows: size, yp.baseAddress!, rows: size, dimension: d, scratch: &scratch)
            } }
        }
        let mean = values.reduce(0, +) / Double(subsets)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(subsets)
        return KIDScore(mean: mean, standardDeviation: variance.squareRoot(), subsets: subsets, subsetSize: size,
                        dimension: d, extractor: extractor, countA: m, countB: n)
    }

    /// The unbiased MMD² with the cubic kernel between all rows of `x` [m, D] and `y` [n, D]
    /// (row-major), without subsets.
    public static func unbiasedMMD2(_ x: [Double], rows m: Int, _ y: [Double], rows n: Int, dimension d: Int) -> Double {
        precondition(m >= 2 && n >= 2 && x.count == m * d && y.count == n * d, "KID: bad feature matrices")
        var scratch = Scratch(size: max(m, n))
        return x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in
            unbiasedMMD2(xp.baseAddress!, rows: m, yp.baseAddress!, rows: n, dimension: d, scratch: &scratch)
        } }
    }

    /// Gram-matrix buffers reused across subsets (a 1000-row subset needs 8 MB per matrix).
    struct Scratch {
        var gram: [Double]
        init(size: Int) { gram = [Double](repeating: 0, count: size * size) }
        mutating func reserve(_ count: Int) {
            if gram.count < count { gram = [Double](repeating: 0, count: count) }
        }
    }

    static func unbiasedMMD2(_ x: UnsafePointer<Double>, rows m: Int, _ y: UnsafePointer<Double>, rows n: Int,
                             dimension d: Int, scratch: inout Scratch) -> Double {
        let kxx = offDiagonalKernelSum(x, rows: m, dimension: d, scratch: &scratch)
        let kyy = offDiagonalKernelSum(y, rows: n, dimension: d, scratch: &scratch)
        scratch.reserve(m * n)
        let invD = 1 / Double(d)
        let kxy: Double = scratch.gram.withUnsafeMutableBufferPointer { g in
            LAPACK.dgemm(transB: true, m: m, n: n, k: d, a: x, lda: d, b: y, ldb: d, c: g.baseAddress!, ldc: n)
            var sum = 0.0
            for i in 0..<(m * n) { let k = g[i] * invD + 1; sum += k * k * k }
            return sum
        }
        let fm = Double(m), fn = Double(n)
        return kxx / (fm * (fm - 1)) + kyy / (fn * (fn - 1)) - 2 * kxy / (fm * fn)
    }

    /// Σ_{i≠j} k(xᵢ, xⱼ) = 2 Σ_{i<j}: dsyrk fills the upper triangle of X·Xᵀ only.
    static func offDiagonalKernelSum(_ x: UnsafePointer<Double>, rows m: Int, dimension d: Int,
                                     scratch: inout Scratch) -> Double {
        scratch.reserve(m * m)
        let invD = 1 / Double(d)
        return scratch.gram.withUnsafeMutableBufferPointer { g in
            let gp = g.baseAddress!
            DoubleMatrix.syrk(x, rows: m, k: d, into: gp)
            var sum = 0.0
            for i in 0..<m {
                let row = gp + i * m
                for j in (i + 1)..<m { let k = row[j] * invD + 1; sum += k * k * k }
            }
            return 2 * sum
        }
    }

    /// `count` distinct indices below `n` (a partial Fisher–Yates shuffle of 0..<n).
    static func sample(_ count: Int, of n: Int, rng: CounterRNG, stream: UInt64, into out: inout [Int]) {
        out = Array(0..<n)
        for i in 0..<count {
            let j = i + rng.integer(below: n - i, stream: stream, index: UInt64(i))
            out.swapAt(i, j)
        }
        out.removeLast(n - count)
    }

    static func gather(_ source: [Double], rows: [Int], d: Int, into out: inout [Double]) {
        source.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
            for (r, i) in rows.enumerated() { (o.baseAddress! + r * d).update(from: s.baseAddress! + i * d, count: d) }
        } }
    }

    static func doubles(_ t: Tensor, _ side: String) throws -> [Double] {
        var out = [Double](repeating: 0, count: t.count)
        let p = t.data
        for i in 0..<t.count {
            let v = p[i]
            guard v.isFinite else { throw EvaluationError("KID: \(side) feature row \(i / t.shape[1]) has a non-finite value") }
            out[i] = Double(v)
        }
        return out
    }
}
