import Foundation
import XCTest
import Tensors
@testable import Evaluation

/// KID (docs/algorithms.md §7): the BLAS path equals a naive triple loop and numpy's polynomial
/// MMD (Bińkowski et al.'s formula), subsets are what they claim to be, the estimate is
/// unbiased (≈ 0 on average for two samples of one distribution, where the biased V-statistic
/// is clearly positive) and grows with a mean shift; bad input is one line.
final class KernelInceptionDistanceTests: XCTestCase {
    /// Rows [n, d] of N(shift, scale²) from stream `stream` of `seed`.
    func gaussian(_ n: Int, _ d: Int, seed: UInt64, stream: UInt64 = 0, shift: Float = 0, scale: Float = 1) -> Tensor {
        let t = Tensor(shape: [n, d])
        CounterRNG(seed: seed).fillNormal(t.buffer, stream: stream)
        for i in 0..<t.count { t[i] = shift + scale * t[i] }
        return t
    }

    /// The §7 formula term by term in plain loops, with the diagonal terms kept out explicitly.
    func naiveMMD2(_ x: Tensor, _ y: Tensor, rowsX: [Int]? = nil, rowsY: [Int]? = nil) -> Double {
        let d = x.shape[1]
        let ix = rowsX ?? Array(0..<x.shape[0]), iy = rowsY ?? Array(0..<y.shape[0])
        func k(_ a: Tensor, _ i: Int, _ b: Tensor, _ j: Int) -> Double {
            var dot = 0.0
            for c in 0..<d { dot += Double(a[i * d + c]) * Double(b[j * d + c]) }
            return pow(dot / Double(d) + 1, 3)
        }
        var xx = 0.0, yy = 0.0, xy = 0.0
        for a in ix { for b in ix where a != b { xx += k(x, a, x, b) } }
        for a in iy { for b in iy where a != b { yy += k(y, a, y, b) } }
        for a in ix { for b in iy { xy += k(x, a, y, b) } }
        let m = Double(ix.count), n = Double(iy.count)
        return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)
    }

    /// The biased MMD² (V-statistic): the same kernel sums with i = j included, over m² and n².
    func vStatistic(_ x: Tensor, _ y: Tensor) -> Double {
        let d = x.shape[1], m = x.shape[0], n = y.shape[0]
        func sum(_ a: Tensor, _ b: Tensor) -> Double {
            var s = 0.0
            for i in 0..<a.shape[0] { for j in 0..<b.shape[0] {
                var dot = 0.0
                for c in 0..<d { dot += Double(a[i * d + c]) * Double(b[j * d + c]) }
                s += pow(dot / Double(d) + 1, 3)
            } }
            return s
        }
        return sum(x, x) / Double(m * m) + sum(y, y) / Double(n * n) - 2 * sum(x, y) / Double(m * n)
    }

    func testFullSetsMatchTheNaiveTripleLoop() throws {
        let x = gaussian(37, 6, seed: 1), y = gaussian(37, 6, seed: 2, shift: 0.3, scale: 1.2)
        let want = naiveMMD2(x, y)
        let got = try KernelInceptionDistance.score(generated: x, reference: y, subsets: 3, extractor: "t")
        // Every subset of the full size is the whole set: one value, no spread.
        XCTAssertEqual(got.mean, want, accuracy: 1e-12 * abs(want))
        XCTAssertEqual(got.standardDeviation, 0, accuracy: 1e-12 * abs(want))
        XCTAssertEqual(got.subsetSize, 37)
        XCTAssertEqual(got.countA, 37); XCTAssertEqual(got.countB, 37); XCTAssertEqual(got.dimension, 6)
        XCTAssertEqual(got.extractor, "t")
        // Different sizes, no subsets.
        let z = gaussian(23, 6, seed: 3)
        let direct = KernelInceptionDistance.unbiasedMMD2(
            (0..<x.count).map { Double(x[$0]) }, rows: 37, (0..<z.count).map { Double(z[$0]) }, rows: 23, dimension: 6)
        XCTAssertEqual(direct, naiveMMD2(x, z), accuracy: 1e-12 * abs(direct))
    }

    /// Subsets: distinct rows, each a function of (seed, subset); mean and (population) standard
    /// deviation of the per-subset naive estimates.
    func testSubsetsAreSeededDrawsWithoutReplacement() throws {
        let x = gaussian(40, 4, seed: 4), y = gaussian(30, 4, seed: 5, shift: 0.5)
        let got = try KernelInceptionDistance.score(generated: x, reference: y, subsets: 7, subsetSize: 12, seed: 9, extractor: nil)
        var values: [Double] = []
        let rng = CounterRNG(seed: 9)
        for s in 0..<7 {
            var a: [Int] = [], b: [Int] = []
            KernelInceptionDistance.sample(12, of: 40, rng: rng, stream: UInt64(2 * s), into: &a)
            KernelInceptionDistance.sample(12, of: 30, rng: rng, stream: UInt64(2 * s + 1), into: &b)
            XCTAssertEqual(Set(a).count, 12); XCTAssertEqual(Set(b).count, 12)
            XCTAssertTrue(a.allSatisfy { (0..<40).contains($0) } && b.allSatisfy { (0..<30).contains($0) })
            values.append(naiveMMD2(x, y, rowsX: a, rowsY: b))
        }
        let mean = values.reduce(0, +) / 7
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 7).squareRoot()
        XCTAssertEqual(got.mean, mean, accuracy: 1e-12 * abs(mean))
        XCTAssertEqual(got.standardDeviation, std, accuracy: 1e-10 * std)
        XCTAssertGreaterThan(std, 0, "different subsets give different estimates")
        XCTAssertEqual(try KernelInceptionDistance.score(generated: x, reference: y, subsets: 7, subsetSize: 12, seed: 9, extractor: nil), got)
        XCTAssertNotEqual(try KernelInceptionDistance.score(generated: x, reference: y, subsets: 7, subsetSize: 12, seed: 10, extractor: nil).mean,
                          got.mean, "the seed chooses the subsets")
        // The default size is min(m, n, 1000).
        XCTAssertEqual(try KernelInceptionDistance.score(generated: x, reference: y, subsets: 2, extractor: nil).subsetSize, 30)
    }

    /// Same distribution: the unbiased estimate averages to ≈ 0 over independent pairs of
    /// samples, while the biased V-statistic (diagonal kept) is clearly positive at this size.
    /// A mean shift makes it grow, monotonically, in step with the shift.
    func testUnbiasedNearZeroForOneDistributionAndGrowsWithAMeanShift() throws {
        let n = 40, d = 8, pairs = 30
        var unbiased: [Double] = [], biased: [Double] = []
        for p in 0..<pairs {
            let x = gaussian(n, d, seed: 100 + UInt64(p), stream: 0), y = gaussian(n, d, seed: 100 + UInt64(p), stream: 1)
            let u = naiveMMD2(x, y)
            unbiased.append(try KernelInceptionDistance.score(generated: x, reference: y, subsets: 1, extractor: nil).mean)
            XCTAssertEqual(unbiased.last!, u, accuracy: 1e-9)
            biased.append(vStatistic(x, y))
        }
        let mean = unbiased.reduce(0, +) / Double(pairs)
        let sd = (unbiased.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(pairs - 1)).squareRoot()
        let standardError = sd / Double(pairs).squareRoot()
        print("KID, same distribution: mean \(mean) ± \(standardError) (per pair sd \(sd)); V-statistic mean \(biased.reduce(0, +) / Double(pairs))")
        XCTAssertLessThan(abs(mean), 3 * standardError, "unbiased: zero within three standard errors")
        XCTAssertGreaterThan(biased.reduce(0, +) / Double(pairs), 10 * standardError, "the biased estimate is not ≈ 0")

        var previous = -Double.infinity
        for shift: Float in [0.25, 0.5, 1, 2] {
            let x = gaussian(200, d, seed: 7, stream: 0, shift: shift), y = gaussian(200, d, seed: 7, stream: 1)
            let kid = try KernelInceptionDistance.score(generated: x, reference: y, subsets: 20, subsetSize: 100, extractor: nil)
            print("KID, mean shift \(shift): \(kid.mean) ± \(kid.standardDeviation)")
            XCTAssertGreaterThan(kid.mean, previous)
            XCTAssertGreaterThan(kid.mean, 3 * kid.standardDeviation / Double(kid.subsets).squareRoot())
            previous = kid.mean
        }
    }

    func testBadInputIsOneLineErrors() throws {
        let x = gaussian(5, 3, seed: 1)
        let cases: [(() throws -> KIDScore, String)] = [
            ({ try KernelInceptionDistance.score(generated: x, reference: self.gaussian(5, 4, seed: 2), extractor: nil) }, "KID: feature dimensions differ: 3 vs 4"),
            ({ try KernelInceptionDistance.score(generated: x, reference: self.gaussian(1, 3, seed: 2), extractor: nil) }, "KID needs at least 2 feature vectors on each side, got 5 and 1"),
            ({ try KernelInceptionDistance.score(generated: x, reference: x, subsetSize: 6, extractor: nil) }, "KID: subset size 6 must be in 2…5 (the smaller set's size)"),
            ({ try KernelInceptionDistance.score(generated: x, reference: x, subsets: 0, extractor: nil) }, "KID: subsets must be ≥ 1, got 0"),
            ({ try KernelInceptionDistance.score(generated: Tensor(shape: [5]), reference: x, extractor: nil) }, "KID: features must be matrices [N, D], got [5] and [5, 3]"),
        ]
        for (call, message) in cases {
            XCTAssertThrowsError(try call()) { XCTAssertEqual("\($0)", message) }
        }
        let bad = x.copy(); bad[7] = .nan
        XCTAssertThrowsError(try KernelInceptionDistance.score(generated: bad, reference: x, extractor: nil)) {
            XCTAssertEqual("\($0)", "KID: generated feature row 2 has a non-finite value")
        }
    }

    /// numpy's polynomial MMD, written as Bińkowski et al.'s reference code (and torch-fidelity)
    /// computes it: K = (X Yᵀ / d + 1)³, diagonals removed from the within-set sums.
    func testAgreesWithNumpy() throws {
        let x = gaussian(120, 16, seed: 21, shift: 0.2), y = gaussian(90, 16, seed: 22, scale: 1.3)
        let dir = try temporaryDirectory(self)
        func write(_ t: Tensor, _ name: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            let d = t.shape[1]
            let text = (0..<t.shape[0]).map { i in (0..<d).map { "\(t[i * d + $0])" }.joined(separator: " ") }.joined(separator: "\n")
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let script = """
        import sys, numpy as np
        X = np.loadtxt(sys.argv[1], dtype=np.float32).astype(np.float64)
        Y = np.loadtxt(sys.argv[2], dtype=np.float32).astype(np.float64)
        d = X.shape[1]
        K_XX = (X @ X.T / d + 1) ** 3; K_YY = (Y @ Y.T / d + 1) ** 3; K_XY = (X @ Y.T / d + 1) ** 3
        m, n = len(X), len(Y)
        mmd2 = (K_XX.sum() - np.trace(K_XX)) / (m * (m - 1)) + (K_YY.sum() - np.trace(K_YY)) / (n * (n - 1)) - 2 * K_XY.mean()
        print(repr(float(mmd2)))
        """
        let out = try Python.run(script, modules: ["numpy"], arguments: [try write(x, "x.txt"), try write(y, "y.txt")])
        let want = try XCTUnwrap(Double(out.trimmingCharacters(in: .whitespacesAndNewlines)), out)
        let got = KernelInceptionDistance.unbiasedMMD2((0..<x.count).map { Double(x[$0]) }, rows: 120,
                                                       (0..<y.count).map { Double(y[$0]) }, rows: 90, dimension: 16)
        XCTAssertEqual(got, want, accuracy: 1e-10 * abs(want))
    }
}
