import XCTest
@testable import Evaluation

final class FIDFilesTests: XCTestCase {
    func testComparesTwoFilesAndReportsBoth() throws {
        let dir = try temporaryDirectory(self)
        let a = dir.appendingPathComponent("a.npz"), b = dir.appendingPathComponent("b.npz")
        let sa = try FeatureStatistics(mean: [0, 0], covariance: [1, 0, 0, 4], count: 500, extractor: "feat")
        let sb = try FeatureStatistics(mean: [3, 4], covariance: [4, 0, 0, 1], count: nil, extractor: nil)
        try sa.write(npz: a); try sb.write(npz: b)
        let result = try FIDFileComparison.compare(a, b)
        // ‖Δμ‖² = 25; (√1−√4)² + (√4−√1)² = 2.
        XCTAssertEqual(result.fid, 27, accuracy: 1e-12)
        XCTAssertEqual(result.a.dimension, 2)
        XCTAssertEqual(result.a.count, 500)
        XCTAssertNil(result.b.count)
        let lines = result.text.split(separator: "\n")
        XCTAssertEqual(lines[0], "FID 27.000000")
        XCTAssertTrue(lines[1].contains("dimension 2, 500 samples, features from 'feat'"), String(lines[1]))
        XCTAssertTrue(lines[2].contains("dimension 2, sample count not recorded, feature extractor not recorded"), String(lines[2]))
        let decoded = try JSONDecoder().decode(FIDFileComparison.self, from: Data(result.json.utf8))
        XCTAssertEqual(decoded, result)
    }

    func testMismatchedDimensionsNameBothFiles() throws {
        let dir = try temporaryDirectory(self)
        let a = dir.appendingPathComponent("a.npz"), b = dir.appendingPathComponent("b.npz")
        try FeatureStatistics(mean: [0, 0], covariance: [1, 0, 0, 1], count: 3, extractor: "f").write(npz: a)
        try FeatureStatistics(mean: [0], covariance: [1], count: 3, extractor: "f").write(npz: b)
        XCTAssertThrowsError(try FIDFileComparison.compare(a, b)) {
            XCTAssertEqual("\($0)", "\(a.path) has 2-dimensional features but \(b.path) has 1")
        }
    }
}
