import XCTest
import Datasets
@testable import Evaluation
@testable import Training

/// The tiny evaluator learns in a few seconds: both losses fall and it reads held-out renders
/// far above chance; batches hold distinct scenes and are a pure function of (seed, iteration).
final class EvaluatorTrainerTests: XCTestCase {
    func testTinyEvaluatorLearns() throws {
        let (evaluator, first, last) = TrainedTinyEvaluator.shared
        XCTAssertLessThan(last.classifierLoss, 0.5 * first.classifierLoss, "classifier loss \(first.classifierLoss) → \(last.classifierLoss)")
        XCTAssertLessThan(last.clipLoss, 0.8 * first.clipLoss, "CLIP loss \(first.clipLoss) → \(last.clipLoss)")
        let q = try XCTUnwrap(evaluator.quality)
        // Chance: shape 20 %, colour 14 %, size 50 %, position 20 %, background 33 %; retrieval 1/40.
        XCTAssertGreaterThan(q.attributeAccuracy["colour"] ?? 0, 0.6, q.summary)
        XCTAssertGreaterThan(q.attributeAccuracy["background"] ?? 0, 0.8, q.summary)
        XCTAssertGreaterThan(q.attributeAccuracy["position"] ?? 0, 0.6, q.summary)
        XCTAssertGreaterThan(q.retrievalTop1, 0.1, q.summary)
        XCTAssertEqual(q.prompts, 40)
    }

    func testBatchesHoldDistinctScenesAndAreReproducible() throws {
        let a = try EvaluatorTrainer(config: .tiny), b = try EvaluatorTrainer(config: .tiny)
        for i in [0, 7] {
            let scenes = a.scenes(i)
            XCTAssertEqual(Set(scenes).count, EvaluatorConfig.tiny.batchSize)
            XCTAssertEqual(scenes, b.scenes(i))
            XCTAssertEqual(a.batch(i).images.toArray(), b.batch(i).images.toArray())
        }
        XCTAssertNotEqual(a.scenes(0), a.scenes(1))
    }

    func testConfigValidation() {
        var c = EvaluatorConfig.tiny
        c.resolution = 24
        XCTAssertThrowsError(try Evaluator(config: c)) { XCTAssertEqual("\($0)", "evaluator config: resolution must be 16 or 32, got 24") }
    }
}
