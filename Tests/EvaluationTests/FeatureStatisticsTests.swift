import Formats
import Tensors
import XCTest
@testable import Evaluation

final class FeatureStatisticsTests: XCTestCase {
    private func features(rows: Int, cols: Int, seed: UInt64) -> [Float] {
        let rng = CounterRNG(seed: seed)
        // An offset far from zero and unequal scales: the shifted accumulation must not lose them.
        return (0..<(rows * cols)).map { i in 50 + Float(i % cols) * 0.5 * rng.normal(stream: 0, index: UInt64(i)) + Float(i % cols) }
    }

    func testMatchesTwoPassMeanAndUnbiasedCovariance() throws {
        let (rows, cols) = (157, 9)
        let x = features(rows: rows, cols: cols, seed: 1)
        let s = try FeatureStatistics(features: x, rows: rows, columns: cols, extractor: "e")
        let (mean, cov) = Ref.meanAndCovariance(x.map(Double.init), rows: rows, cols: cols)
        XCTAssertLessThan(Ref.maxRelativeDifference(s.mean, mean), 1e-13)
        XCTAssertLessThan(Ref.maxRelativeDifference(s.covariance, cov), 1e-10)
        XCTAssertEqual(s.count, rows)
        XCTAssertEqual(s.extractor, "e")
        XCTAssertEqual(s.dimension, cols)
        XCTAssertFalse(s.isRankDeficient)
        // Float and Double inputs of the same values give the same statistics.
        let d = try FeatureStatistics(features: x.map(Double.init), rows: rows, columns: cols, extractor: "e")
        XCTAssertEqual(d, s)
    }

    func testBatchesAndTensorsGiveTheSameStatistics() throws {
        let (rows, cols) = (600, 5)   // more than one internal chunk
        let x = features(rows: rows, cols: cols, seed: 2)
        let whole = try FeatureStatistics(features: Tensor(shape: [rows, cols], values: x), extractor: "e")
        var acc = FeatureAccumulator(dimension: cols, extractor: "e")
        for (start, end) in [(0, 1), (1, 300), (300, 300), (300, 600)] {
            try acc.add(Tensor(shape: [end - start, cols], values: Array(x[(start * cols)..<(end * cols)])))
        }
        let batched = try acc.statistics()
        XCTAssertEqual(batched.count, rows)
        XCTAssertLessThan(Ref.maxRelativeDifference(batched.mean, whole.mean), 1e-14)
        XCTAssertLessThan(Ref.maxRelativeDifference(batched.covariance, whole.covariance), 1e-12)
    }

    func testBadFeaturesAreOneLineErrors() throws {
        XCTAssertThrowsError(try FeatureStatistics(features: [Float](repeating: 1, count: 3), rows: 1, columns: 3, extractor: "e")) {
            XCTAssertEqual("\($0)", "a covariance needs at least 2 feature vectors, got 1")
        }
        XCTAssertThrowsError(try FeatureStatistics(features: [1, 2, .nan, 4] as [Float], rows: 2, columns: 2, extractor: "e")) {
            XCTAssertEqual("\($0)", "feature row 1 has a non-finite value")
        }
        XCTAssertThrowsError(try FeatureStatistics(features: [1, 2, 3] as [Double], rows: 2, columns: 2, extractor: "e"))
        XCTAssertThrowsError(try FeatureStatistics(features: Tensor(shape: [6]), extractor: "e"))
        var acc = FeatureAccumulator(dimension: 4, extractor: "e")
        XCTAssertThrowsError(try acc.add(Tensor(shape: [2, 3])))
        XCTAssertThrowsError(try FeatureStatistics(mean: [0, 0], covariance: [1, 0, 0], count: 3, extractor: nil))
        XCTAssertThrowsError(try FeatureStatistics(mean: [0, .infinity], covariance: [1, 0, 0, 1], count: 3, extractor: nil))
    }

    func testRankDeficiencyIsFlagged() throws {
        let s = try FeatureStatistics(features: features(rows: 4, cols: 6, seed: 3), rows: 4, columns: 6, extractor: "e")
        XCTAssertTrue(s.isRankDeficient)
    }

    /// numpy's mean and np.cov(rowvar=False) of the same matrix, read back from numpy's file.
    func testAgreesWithNumpyCov() throws {
        let dir = try temporaryDirectory(self)
        let (rows, cols) = (120, 7)
        let x = features(rows: rows, cols: cols, seed: 4).map(Double.init)
        let input = dir.appendingPathComponent("x.npz"), output = dir.appendingPathComponent("stats.npz")
        try NPZ.write([("x", .float64(x, shape: [rows, cols]))], to: input)
        _ = try Python.run("""
        import sys, numpy as np
        x = np.load(sys.argv[1])['x']
        np.savez(sys.argv[2], mu=np.mean(x, axis=0), sigma=np.cov(x, rowvar=False))
        """, modules: ["numpy"], arguments: [input.path, output.path])
        let numpy = try FeatureStatistics(npz: output)
        let ours = try FeatureStatistics(features: x, rows: rows, columns: cols, extractor: "e")
        XCTAssertLessThan(Ref.maxRelativeDifference(ours.mean, numpy.mean), 1e-13)
        XCTAssertLessThan(Ref.maxRelativeDifference(ours.covariance, numpy.covariance), 1e-10)
        XCTAssertNil(numpy.count)
        XCTAssertNil(numpy.extractor)
    }
}
