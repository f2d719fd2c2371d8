import Tensors
import XCTest
@testable import Evaluation

final class FrechetDistanceTests: XCTestCase {
    private func stats(_ mean: [Double], _ cov: [Double], count: Int? = 1000, extractor: String? = "test") throws -> FeatureStatistics {
        try FeatureStatistics(mean: mean, covariance: cov, count: count, extractor: extractor)
    }

    /// (a) The eigen formulation of docs/algorithms.md §7 against an independent one: the
    /// Denman–Beavers square root of the non-symmetric product Σ₁Σ₂ (pytorch-fid's form).
    func testMatchesDenmanBeaversSqrtmOfProduct() throws {
        for (n, seed) in [(1, 1), (2, 2), (5, 3), (12, 4), (24, 5)] as [(Int, UInt64)] {
            let m1 = Ref.vector(n, seed: seed), m2 = Ref.vector(n, seed: seed + 100, scale: 0.5)
            let s1 = Ref.spd(n, seed: seed), s2 = Ref.spd(n, seed: seed + 200, shift: 0.3)
            let want = Ref.frechet(m1, s1, m2, s2, n)
            let got = try FrechetDistance.score(stats(m1, s1), stats(m2, s2)).distance
            XCTAssertEqual(got, want, accuracy: 1e-6 * abs(want), "D = \(n)")
            XCTAssertEqual(got, want, accuracy: 1e-10 * abs(want), "D = \(n): expected far better than 1e-6")
            // FD is symmetric in its arguments although the formula is not visibly so.
            let swapped = try FrechetDistance.score(stats(m2, s2), stats(m1, s1)).distance
            XCTAssertEqual(swapped, got, accuracy: 1e-10 * abs(want))
        }
    }

    /// (b) Commuting covariances Σ₁ = Q diag(a) Qᵀ, Σ₂ = Q diag(b) Qᵀ have the closed form
    /// FD = ‖Δμ‖² + Σᵢ (√aᵢ − √bᵢ)² — including zero variances (singular Σ, clamped roots).
    func testCommutingCovariancesHaveClosedForm() throws {
        let n = 7
        let a: [Double] = [0.5, 1, 2, 3, 4, 0, 9], b: [Double] = [2, 1, 0.25, 7, 0.1, 1, 0]
        let m1 = Ref.vector(n, seed: 11), m2 = Ref.vector(n, seed: 12)
        var want = zip(m1, m2).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        for i in 0..<n { want += pow(a[i].squareRoot() - b[i].squareRoot(), 2) }
        // Diagonal first (Q = I), then rotated by a random orthogonal Q.
        // A zero variance's eigenvalue comes back as ±rounding noise δ ~ 1e-16, and √δ ~ 1e-8
        // enters the trace: singular inputs are not well-conditioned, so 1e-6 there (as §7 says),
        // and much tighter for the non-singular ones.
        for q in [Ref.identity(n), Ref.orthogonal(n, seed: 13)] {
            let got = try FrechetDistance.score(stats(m1, Ref.conjugated(q, a, n)), stats(m2, Ref.conjugated(q, b, n))).distance
            XCTAssertEqual(got, want, accuracy: 1e-6 * want)
            let a2 = a.map { max($0, 0.1) }, b2 = b.map { max($0, 0.1) }
            var want2 = zip(m1, m2).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            for i in 0..<n { want2 += pow(a2[i].squareRoot() - b2[i].squareRoot(), 2) }
            let got2 = try FrechetDistance.score(stats(m1, Ref.conjugated(q, a2, n)), stats(m2, Ref.conjugated(q, b2, n))).distance
            XCTAssertEqual(got2, want2, accuracy: 1e-10 * want2)
        }
        // Equal covariances: only the mean term remains.
        let s = Ref.spd(n, seed: 14)
        let meanOnly = try FrechetDistance.score(stats(m1, s), stats(m2, s)).distance
        XCTAssertEqual(meanOnly, zip(m1, m2).map { ($0 - $1) * ($0 - $1) }.reduce(0, +), accuracy: 1e-9)
    }

    /// (c) A feature set against itself scores 0 (to rounding).
    func testDistanceOfSetToItselfIsZero() throws {
        let rows = 300, cols = 16
        let rng = CounterRNG(seed: 21)
        let x = (0..<(rows * cols)).map { i in Float(3 + 2 * rng.normal(stream: 0, index: UInt64(i))) }
        let s = try FeatureStatistics(features: x, rows: rows, columns: cols, extractor: "test")
        let fd = try FrechetDistance.score(s, s).distance
        XCTAssertEqual(fd, 0, accuracy: 1e-9 * DoubleMatrix.trace(s.covariance, n: cols))
    }

    /// (d) Sample statistics of many draws from two known Gaussians approach the analytic FD.
    func testSampleStatisticsApproachAnalyticDistance() throws {
        let n = 4, draws = 20_000
        let q = Ref.orthogonal(n, seed: 31)
        let a: [Double] = [1, 2, 0.5, 3], b: [Double] = [1.5, 0.5, 0.5, 4]
        let m1: [Double] = [0, 1, -1, 0.5], m2: [Double] = [0.5, 1, -2, 0]
        var want = zip(m1, m2).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        for i in 0..<n { want += pow(a[i].squareRoot() - b[i].squareRoot(), 2) }
        /// x = μ + Q (√d ⊙ z), z ~ N(0, I): covariance Q diag(d) Qᵀ.
        func sample(_ mean: [Double], _ d: [Double], stream: UInt64) throws -> FeatureStatistics {
            let rng = CounterRNG(seed: 32)
            var acc = FeatureAccumulator(dimension: n, extractor: "gauss")
            var batch = [Float](repeating: 0, count: 1000 * n)
            for start in stride(from: 0, to: draws, by: 1000) {
                for r in 0..<1000 {
                    let z = (0..<n).map { Double(rng.normal(stream: stream, index: UInt64((start + r) * n + $0))) * d[$0].squareRoot() }
                    for i in 0..<n { batch[r * n + i] = Float(mean[i] + (0..<n).reduce(0.0) { $0 + q[i * n + $1] * z[$1] }) }
                }
                try batch.withUnsafeBufferPointer { try acc.add($0, rows: 1000) }
            }
            return try acc.statistics()
        }
        let score = try FrechetDistance.score(sample(m1, a, stream: 1), sample(m2, b, stream: 2))
        XCTAssertEqual(score.distance, want, accuracy: 0.03 * want, "analytic \(want)")
        XCTAssertEqual(score.countA, draws)
        XCTAssertEqual(score.extractor, "gauss")
    }

    func testMismatchedStatisticsAreRejected() throws {
        let s3 = try stats([0, 0, 0], Ref.identity(3)), s2 = try stats([0, 0], Ref.identity(2))
        XCTAssertThrowsError(try FrechetDistance.score(s3, s2)) {
            XCTAssertEqual("\($0)", "feature dimensions differ: 3 vs 2")
        }
        let other = try stats([0, 0, 0], Ref.identity(3), extractor: "other")
        XCTAssertThrowsError(try FrechetDistance.score(s3, other)) { XCTAssertTrue("\($0)".contains("different extractors")) }
        // An unrecorded extractor is no mismatch; the known one is reported.
        let unknown = try stats([1, 0, 0], Ref.identity(3), count: nil, extractor: nil)
        let score = try FrechetDistance.score(unknown, s3)
        XCTAssertEqual(score.extractor, "test")
        XCTAssertNil(score.countA)
        XCTAssertEqual(score.distance, 1, accuracy: 1e-12)
    }

    /// Statistics so large that the products overflow: the 1e-6·I retry cannot help either,
    /// and the failure is one line rather than a NaN score.
    func testNonFiniteResultIsAnErrorAfterRegularisedRetry() throws {
        let big = try stats([0, 0], [1e200, 0, 0, 1e200]), small = try stats([0, 0], [1e200, 1e100, 1e100, 1e200])
        XCTAssertThrowsError(try FrechetDistance.score(big, small)) {
            XCTAssertTrue("\($0)".contains("not finite even with"), "\($0)")
        }
    }

    /// Cross-check against pytorch-fid's own formula run by numpy/scipy on files we wrote.
    func testAgreesWithPytorchFidFormulaInScipy() throws {
        let dir = try temporaryDirectory(self)
        let (rows, cols) = (400, 24)
        let rng = CounterRNG(seed: 41)
        let x = (0..<(rows * cols)).map { rng.normal(stream: 0, index: UInt64($0)) }
        let y = (0..<(rows * cols)).map { i in 0.3 + 1.4 * rng.normal(stream: 1, index: UInt64(i)) * (i % cols == 0 ? 2 : 1) }
        let a = try FeatureStatistics(features: x, rows: rows, columns: cols, extractor: "t")
        let b = try FeatureStatistics(features: y, rows: rows, columns: cols, extractor: "t")
        let fa = dir.appendingPathComponent("a.npz"), fb = dir.appendingPathComponent("b.npz")
        try a.write(npz: fa); try b.write(npz: fb)
        let script = """
        import sys, numpy as np
        from scipy import linalg
        def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
            diff = mu1 - mu2
            covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
            if not np.isfinite(covmean).all():
                offset = np.eye(sigma1.shape[0]) * eps
                covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
            if np.iscomplexobj(covmean):
                covmean = covmean.real
            return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)
        import warnings; warnings.simplefilter('ignore')
        f1, f2 = np.load(sys.argv[1]), np.load(sys.argv[2])
        print(repr(float(calculate_frechet_distance(f1['mu'], f1['sigma'], f2['mu'], f2['sigma']))))
        """
        let out = try Python.run(script, modules: ["numpy", "scipy.linalg"], arguments: [fa.path, fb.path])
        let want = try XCTUnwrap(Double(out.trimmingCharacters(in: .whitespacesAndNewlines)), out)
        let got = try FrechetDistance.score(a, b).distance
        XCTAssertEqual(got, want, accuracy: 1e-6 * abs(want))
    }
}
