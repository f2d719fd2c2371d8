import Foundation
import Tensors

/// A Fréchet distance with what is needed to read it: the feature extractor, the dimension and
/// both sample counts (docs/algorithms.md §7: report the extractor and the count beside every FID).
public struct FrechetScore: Codable, Equatable {
    public let distance: Double
    public let dimension: Int
    public let extractor: String?
    public let countA: Int?
    public let countB: Int?
    /// True when the first attempt was not finite and 1e-6·I was added to both covariances.
    public let regularized: Bool
}

/// The Fréchet distance between two Gaussians fitted to feature sets (docs/algorithms.md §7):
///
///     FD = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 · tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})
///
/// Σ₁^{1/2} comes from the eigen-decomposition of Σ₁ (dsyevd); M = Σ₁^{1/2} Σ₂ Σ₁^{1/2} is
/// symmetric PSD, so tr(M^{1/2}) = Σᵢ √max(λᵢ(M), 0) — no non-symmetric sqrtm, no complex
/// parts to discard. tr(M^{1/2}) equals tr((Σ₁Σ₂)^{1/2}), the quantity pytorch-fid gets from
/// `scipy.linalg.sqrtm(sigma1 @ sigma2)`, because Σ₁Σ₂ = Σ₁^{1/2} M Σ₁^{-1/2} is similar to M.
/// As in pytorch-fid, a non-finite result is retried with 1e-6·I added to both covariances.
/// Rounding can make the distance of a set to itself a tiny negative number; it is not clamped.
public enum FrechetDistance {
    public static let regularization = 1e-6

    public static func score(_ a: FeatureStatistics, _ b: FeatureStatistics) throws -> FrechetScore {
        guard a.dimension == b.dimension else {
            throw EvaluationError("feature dimensions differ: \(a.dimension) vs \(b.dimension)")
        }
        if let ea = a.extractor, let eb = b.extractor, ea != eb {
            throw EvaluationError("features come from different extractors ('\(ea)' vs '\(eb)'); their distance means nothing")
        }
        let d = a.dimension
        var regularized = false
        var value = distance(a.mean, a.covariance, b.mean, b.covariance, dimension: d)
        if !(value?.isFinite ?? false) {
            regularized = true
            var ca = a.covariance, cb = b.covariance
            for i in 0..<d { ca[i * d + i] += regularization; cb[i * d + i] += regularization }
            value = distance(a.mean, ca, b.mean, cb, dimension: d)
        }
        guard let fd = value, fd.isFinite else {
            throw EvaluationError("the Fréchet distance is not finite even with \(regularization)·I added to the covariances")
        }
        return FrechetScore(distance: fd, dimension: d, extractor: a.extractor ?? b.extractor,
                            countA: a.count, countB: b.count, regularized: regularized)
    }

    /// FD from raw statistics (covariances row-major D×D); nil when an eigen-decomposition
    /// fails to converge.
    public static func distance(_ mean1: [Double], _ cov1: [Double], _ mean2: [Double], _ cov2: [Double],
                                dimension d: Int) -> Double? {
        precondition(mean1.count == d && mean2.count == d && cov1.count == d * d && cov2.count == d * d,
                     "FrechetDistance: statistics do not match dimension \(d)")
        var meanTerm = 0.0
        for i in 0..<d { let diff = mean1[i] - mean2[i]; meanTerm += diff * diff }
        guard let root1 = try? DoubleMatrix.symmetricSquareRoot(cov1, n: d) else { return nil }
        let m = DoubleMatrix.symmetrized(DoubleMatrix.multiply(DoubleMatrix.multiply(root1, cov2, n: d), root1, n: d), n: d)
        guard let eigenvalues = try? DoubleMatrix.symmetricEigenvalues(m, n: d) else { return nil }
        var traceRoot = 0.0
        for λ in eigenvalues { traceRoot += max(λ, 0).squareRoot() }
        return meanTerm + DoubleMatrix.trace(cov1, n: d) + DoubleMatrix.trace(cov2, n: d) - 2 * traceRoot
    }
}
