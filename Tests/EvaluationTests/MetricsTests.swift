import XCTest
@testable import Evaluation

/// Entries like an evaluation produces: a student at several step counts, the teacher's DDIM
/// at the same counts and the teacher's aDDIM-256 reference.
func sampleMetrics() -> [EvaluationMetrics] {
    var entries: [EvaluationMetrics] = []
    for (kind, sampler, fids) in [("student", "multistep-consistency", [30.0, 18, 12, 10]), ("teacher-DDIM", "DDIM", [120.0, 80, 45, 25])] {
        for (steps, fid) in zip([1, 2, 4, 8], fids) {
            var m = EvaluationMetrics(model: "\(kind) S=\(steps)", artifact: "artifact-\(kind)", kind: kind, sampler: sampler,
                                      steps: steps, guidance: 3, nfePerImage: Double(2 * steps), secondsPerImage: 0.01 * Double(steps))
            m.record(fid: FrechetScore(distance: fid, dimension: 64, extractor: "shapes-features", countA: 1000, countB: 5000, regularized: false))
            m.record(clip: CLIPScoreResult(score: 25 + fid / 100, pairs: 1000, embeddingModel: "shapes-clip"))
            m.attributeAccuracy = 0.9
            entries.append(m)
        }
    }
    var reference = EvaluationMetrics(model: "teacher aDDIM-256", kind: "teacher-aDDIM", sampler: "aDDIM", steps: 256, guidance: 3, nfePerImage: 512)
    reference.record(fid: FrechetScore(distance: 9, dimension: 64, extractor: "shapes-features", countA: 1000, countB: 5000, regularized: false))
    entries.append(reference)
    return entries
}

final class MetricsTests: XCTestCase {
    func testJSONRoundTripWithSnakeCaseKeys() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("metrics.json")
        let doc = MetricsDocument(title: "nightly", createdAt: Date(timeIntervalSince1970: 0), entries: sampleMetrics())
        try doc.write(to: url)
        XCTAssertEqual(try MetricsDocument.read(url), doc)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        XCTAssertEqual(object["created_at"] as? String, "1970-01-01T00:00:00Z")
        let first = (object["entries"] as! [[String: Any]])[0]
        XCTAssertEqual(first["feature_extractor"] as? String, "shapes-features")
        XCTAssertEqual(first["sample_count"] as? Int, 1000)
        XCTAssertEqual(first["reference_count"] as? Int, 5000)
        XCTAssertEqual(first["embedding_model"] as? String, "shapes-clip")
        XCTAssertEqual(first["nfe_per_image"] as? Double, 2)
        // Absent scores are omitted, not null.
        let last = (object["entries"] as! [[String: Any]]).last!
        XCTAssertNil(last["clip_score"])
    }

    func testScoresWithoutProvenanceAreRejected() throws {
        var m = EvaluationMetrics(model: "x", kind: "student", sampler: "s", steps: 4, guidance: 1)
        m.fid = 3
        XCTAssertThrowsError(try m.validate()) { XCTAssertEqual("\($0)", "metrics for 'x': a FID needs its feature extractor and sample count") }
        m.featureExtractor = "f"; m.sampleCount = 10
        XCTAssertNoThrow(try m.validate())
        m.clipScore = 20
        XCTAssertThrowsError(try m.validate())
        m.embeddingModel = "c"
        m.secondsPerImage = .nan
        XCTAssertThrowsError(try m.validate()) { XCTAssertTrue("\($0)".contains("seconds_per_image is not finite")) }
        m.secondsPerImage = 1; m.attributeAccuracy = 1.5
        XCTAssertThrowsError(try m.validate())
        // An invalid entry never reaches the disk.
        let url = try temporaryDirectory(self).appendingPathComponent("m.json")
        XCTAssertThrowsError(try MetricsDocument(title: "t", entries: [m]).write(to: url))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testRankDeficiencyFollowsCountsAndDimension() {
        var m = EvaluationMetrics(model: "x", kind: "k", sampler: "s", steps: 1, guidance: 0)
        m.record(fid: FrechetScore(distance: 1, dimension: 64, extractor: "f", countA: 64, countB: 1000, regularized: false))
        XCTAssertTrue(m.fidIsRankDeficient)
        m.sampleCount = 65
        XCTAssertFalse(m.fidIsRankDeficient)
    }

    func testCorruptMetricsFileIsOneLine() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("m.json")
        try Data("{\"title\": 3}".utf8).write(to: url)
        XCTAssertThrowsError(try MetricsDocument.read(url)) { XCTAssertTrue("\($0)".hasPrefix("\(url.path): not a metrics file"), "\($0)") }
        try Data("{".utf8).write(to: url)
        XCTAssertThrowsError(try MetricsDocument.read(url)) { XCTAssertEqual("\($0)", "\(url.path): not a metrics file (invalid JSON)") }
    }
}
