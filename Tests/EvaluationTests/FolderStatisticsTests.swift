import Datasets
import Foundation
import XCTest
@testable import Evaluation

/// `mscm-ctl fid DIR DIR --evaluator E --save-stats F.npz`: a folder of PNGs described in an
/// evaluator's feature space, saved in pytorch-fid's layout.
final class FolderStatisticsTests: XCTestCase {
    func testFolderStatisticsAreThoseOfItsPicturesFeatures() throws {
        var config = EvaluatorConfig.tiny
        config.seed = 5
        let evaluator = try Evaluator(config: config)
        let dir = try temporaryDirectory(self).appendingPathComponent("pictures")
        let r = evaluator.resolution
        try PatternFolder.write(count: 40, size: r, format: .jsonl, captionKey: "text", to: dir)

        let stats = try FeatureStatistics(folder: dir, evaluator: evaluator)
        let images = try ImageFolderDataset(directory: dir, resolution: r).batch(indices: 0..<40).images
        let direct = try FeatureStatistics(features: try evaluator.features(images), extractor: evaluator.featureExtractor)
        XCTAssertEqual(stats.count, 40)
        XCTAssertEqual(stats.extractor, evaluator.featureExtractor)
        for (a, b) in zip(stats.mean, direct.mean) { XCTAssertEqual(a, b, accuracy: 1e-7) }
        for (a, b) in zip(stats.covariance, direct.covariance) { XCTAssertEqual(a, b, accuracy: 1e-7) }

        let file = dir.deletingLastPathComponent().appendingPathComponent("pictures.npz")
        try stats.write(npz: file)
        let back = try FeatureStatistics(npz: file)
        XCTAssertEqual(back, stats)
        let same = try FIDFileComparison.compare(stats, "a", back, "b")
        XCTAssertEqual(same.fid, 0, accuracy: 1e-6)
        XCTAssertEqual(same.a.count, 40)

        XCTAssertThrowsError(try FeatureStatistics(folder: dir.appendingPathComponent("missing"), evaluator: evaluator)) {
            XCTAssertFalse("\($0)".contains("\n"))
        }
    }
}
