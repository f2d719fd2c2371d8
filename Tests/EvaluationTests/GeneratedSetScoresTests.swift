import XCTest
import Datasets
import Models
@testable import Evaluation

/// Scores of picture sets: real renders of the right prompts score a small FID, high CLIP score
/// and high attribute accuracy; renders of the wrong scenes score worse on all three. Seed-matched
/// sampling gives every row of a grid the same starting noise: the same model and sampler in
/// two rows (drawn in different batch sizes) give identical tiles.
final class GeneratedSetScoresTests: XCTestCase {
    func testRightScenesScoreBetterThanWrongOnes() throws {
        let evaluator = TrainedTinyEvaluator.shared.evaluator
        let scenes = ShapesWorld.heldOutPromptScenes
        let name = evaluator.featureExtractor
        let reference = try FeatureStatistics(features: try evaluator.features(
            ReferenceRenders.render(scenes, perPrompt: 4, resolution: 16, seed: 1)), extractor: name)
        let right = ReferenceRenders.render(scenes, perPrompt: 2, resolution: 16, seed: 2)
        let prompts = (0..<2).flatMap { _ in scenes.map(\.caption) }
        let rows = (0..<2).flatMap { _ in scenes }
        let good = try GeneratedSetScores.compute(evaluator, images: right, prompts: prompts, scenes: rows, reference: reference, extractor: name)
        // Every picture shows another scene (backgrounds rotated), captions unchanged.
        let shifted = scenes.map { s -> SceneLabels in var t = s; t.background = (s.background + 1) % 3; t.colour = (s.colour + 3) % 7; return t }
        let wrong = ReferenceRenders.render(shifted, perPrompt: 2, resolution: 16, seed: 2)
        let bad = try GeneratedSetScores.compute(evaluator, images: wrong, prompts: prompts, scenes: rows, reference: reference, extractor: name)
        XCTAssertLessThan(good.fid.distance, bad.fid.distance)
        XCTAssertGreaterThan(good.clip.score, bad.clip.score)
        XCTAssertGreaterThan(good.attributeAccuracy, bad.attributeAccuracy)
        XCTAssertGreaterThan(good.perAttribute["background"]!, bad.perAttribute["background"]! + 0.5)
        XCTAssertGreaterThan(good.perAttribute["colour"]!, bad.perAttribute["colour"]! + 0.3)
        XCTAssertEqual(good.fid.countA, 80)
        XCTAssertEqual(good.fid.countB, 160)
        XCTAssertEqual(good.perAttribute.count, 5)
        // Attribute accuracy is "all five right", so it cannot exceed any single attribute's.
        XCTAssertLessThanOrEqual(good.attributeAccuracy, good.perAttribute.values.min()!)
    }

    func testSameModelAndSeedGiveIdenticalTilesRowToRow() throws {
        let model = try TextToImageModel(.tiny, seed: 4)
        let prompts = Array(ShapesWorld.heldOutCaptions.prefix(5))
        func row(batch: Int) throws -> [RGBImage] {
            try (0..<3).map { k in
                let x = try TextToImageSampling.sample(model, prompts: prompts, seed: UInt64(10 + k), sampler: .ddim, steps: 2,
                                                       guidance: 1, xvar: nil, batchSize: batch)
                return RGBImage(tensor: x.slice(2, 3))
            }
        }
        let a = try row(batch: 64), b = try row(batch: 2)
        XCTAssertEqual(a, b, "seed-matched tiles must not depend on the batch they were drawn in")
        XCTAssertNotEqual(a[0], a[1], "different seeds give different pictures")
        let grid = try SeedMatchedGrid(prompt: prompts[2], seeds: [10, 11, 12], rows: [("first", a), ("second", b)]).render()
        XCTAssertGreaterThan(grid.width, 3 * 16 * 4)
        XCTAssertThrowsError(try SeedMatchedGrid(prompt: "p", seeds: [1, 2], rows: [("x", a)]).render()) {
            XCTAssertEqual("\($0)", "grid row 'x' has 3 pictures for 2 seeds")
        }
    }
}
