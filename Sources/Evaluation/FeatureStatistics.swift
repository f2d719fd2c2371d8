import Foundation
import Tensors

/// Mean and covariance of a feature set — the statistics the Fréchet distance compares
/// (docs/algorithms.md §7). Held in double precision; the covariance is the unbiased one
/// (divisor N − 1), as `np.cov(features, rowvar=False)` computes it.
///
/// `count` (N) and `extractor` (the feature network's name) travel with the numbers because a
/// score means little without them: FID is biased at small N, and with N ≤ D the covariance is
/// rank-deficient. They are nil only for statistics read from a file that does not record them
/// (pytorch-fid's precomputed `.npz` files hold just `mu` and `sigma`).
public struct FeatureStatistics: Equatable {
    public let dimension: Int
    /// μ, [D].
    public let mean: [Double]
    /// Σ, [D, D] row-major, symmetric.
    public let covariance: [Double]
    public let count: Int?
    public let extractor: String?

    public init(mean: [Double], covariance: [Double], count: Int?, extractor: String?) throws {
        let d = mean.count
        guard d > 0 else { throw EvaluationError("feature statistics need at least one dimension") }
        guard covariance.count == d * d else {
            throw EvaluationError("covariance has \(covariance.count) values; a \(d)-dimensional mean needs \(d)×\(d) = \(d * d)")
        }
        guard mean.allSatisfy(\.isFinite) else { throw EvaluationError("feature mean has a non-finite value") }
        guard covariance.allSatisfy(\.isFinite) else { throw EvaluationError("feature covariance has a non-finite value") }
        if let count, count < 2 { throw EvaluationError("a covariance needs at least 2 feature vectors, got \(count)") }
        self.dimension = d
        self.mean = mean
        self.covariance = covariance
        self.count = count
        self.extractor = extractor
    }

    /// Statistics of the rows of a feature matrix [N, D].
    public init(features: Tensor, extractor: String) throws {
        guard features.rank == 2 else { throw EvaluationError("features must be a matrix [N, D], got shape \(features.shape)") }
        var acc = FeatureAccumulator(dimension: features.shape[1], extractor: extractor)
        try acc.add(UnsafeBufferPointer(features.buffer), rows: features.shape[0])
        self = try acc.statistics()
    }

    /// Statistics of the rows of a row-major feature matrix [rows, columns] of Floats or Doubles.
    public init<T: BinaryFloatingPoint>(features: [T], rows: Int, columns: Int, extractor: String) throws {
        guard columns > 0, features.count == rows * columns else {
            throw EvaluationError("features: \(features.count) values do not form a [\(rows), \(columns)] matrix")
        }
        var acc = FeatureAccumulator(dimension: columns, extractor: extractor)
        try features.withUnsafeBufferPointer { try acc.add($0, rows: rows) }
        self = try acc.statistics()
    }

    /// True when N ≤ D: the sample covariance cannot be full rank, so the score is unreliable.
    public var isRankDeficient: Bool { count.map { $0 <= dimension } ?? false }
}

/// Builds `FeatureStatistics` from feature batches as they are produced, without keeping them.
///
/// Rows are shifted by the first row s before accumulating, Σ y and Σ y yᵀ with y = x − s
/// (the shifted-data algorithm: the covariance is shift-invariant and the shift keeps the
/// accumulated moments small, so the final subtraction loses little precision). Then
/// μ = s + ȳ and Σ = (Σ y yᵀ − N ȳ ȳᵀ) / (N − 1). Products go through dsyrk in chunks.
public struct FeatureAccumulator {
    public let dimension: Int
    public let extractor: String
    public private(set) var count = 0
    private var shift: [Double] = []
    private var sum: [Double]
    /// Upper triangle of Σ y yᵀ.
    private var gram: [Double]
    private static let chunkRows = 256

    public init(dimension: Int, extractor: String) {
        precondition(dimension > 0, "FeatureAccumulator: dimension must be positive")
        self.dimension = dimension
        self.extractor = extractor
        sum = [Double](repeating: 0, count: dimension)
        gram = [Double](repeating: 0, count: dimension * dimension)
    }

    /// Adds a batch of feature rows [B, D].
    public mutating func add(_ batch: Tensor) throws {
        guard batch.rank == 2, batch.shape[1] == dimension else {
            throw EvaluationError("feature batch has shape \(batch.shape); expected [B, \(dimension)]")
        }
        try add(UnsafeBufferPointer(batch.buffer), rows: batch.shape[0])
    }

    /// Adds `rows` feature rows stored row-major in `values` (rows × D).
    public mutating func add<T: BinaryFloatingPoint>(_ values: UnsafeBufferPointer<T>, rows: Int) throws {
        let d = dimension
        guard values.count == rows * d else {
            throw EvaluationError("feature batch: \(values.count) values do not form \(rows) rows of \(d)")
        }
        guard rows > 0 else { return }
        if shift.isEmpty { shift = (0..<d).map { Double(values[$0]) } }
        var chunk = [Double](repeating: 0, count: min(rows, Self.chunkRows) * d)
        var start = 0
        while start < rows {
            let n = min(Self.chunkRows, rows - start)
            let bad = chunk.withUnsafeMutableBufferPointer { c -> Int? in
                for r in 0..<n {
                    let src = (start + r) * d, dst = r * d
                    for j in 0..<d {
                        let v = Double(values[src + j])
                        guard v.isFinite else { return start + r }
                        let y = v - shift[j]
                        c[dst + j] = y
                        sum[j] += y
                    }
                }
                return nil
            }
            if let bad { throw EvaluationError("feature row \(count + bad) has a non-finite value") }
            chunk.withUnsafeBufferPointer { c in gram.withUnsafeMutableBufferPointer { g in
                DoubleMatrix.accumulateGram(c.baseAddress!, rows: n, n: d, into: g.baseAddress!)
            } }
            start += n
        }
        count += rows
    }

    /// μ and the unbiased Σ of everything added so far (needs N ≥ 2).
    public func statistics() throws -> FeatureStatistics {
        guard count >= 2 else { throw EvaluationError("a covariance needs at least 2 feature vectors, got \(count)") }
        let d = dimension, n = Double(count)
        let ybar = sum.map { $0 / n }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                let v = (gram[i * d + j] - n * ybar[i] * ybar[j]) / (n - 1)
                cov[i * d + j] = v; cov[j * d + i] = v
            }
        }
        let mean = (0..<d).map { shift[$0] + ybar[$0] }
        return try FeatureStatistics(mean: mean, covariance: cov, count: count, extractor: extractor)
    }
}
