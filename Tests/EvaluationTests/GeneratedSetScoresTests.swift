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
        XCTAssertGreaterThan(good.attributeAccuracy!, bad.attributeAccuracy!)
        XCTAssertGreaterThan(good.perAttribute!["background"]!, bad.perAttribute!["background"]! + 0.5)
        XCTAssertGreaterThan(good.perAttribute!["colour"]!, bad.perAttribute!["colour"]! + 0.3)
        XCTAssertEqual(good.fid.countA, 80)
        XCTAssertEqual(good.fid.countB, 160)
        XCTAssertEqual(good.perAttribute!.count, 5)
        // Attribute accuracy is "all five right", so it cannot exceed any single attribute's.
        XCTAssertLessThanOrEqual(good.attributeAccuracy!, good.perAttribute!.values.min()!)
    }

    /// KID beside FID in the same feature space, as the evaluate job would wire it: right scenes
    /// score a smaller KID than wrong ones, the KID is the one computed from the returned
    /// features, the seed-noise band splits those features by seed, and all of it reaches
    /// metrics.json.
    func testKIDAndSeedNoiseBesideTheFID() throws {
        let evaluator = TrainedTinyEvaluator.shared.evaluator
        let scenes = ShapesWorld.heldOutPromptScenes
        let name = evaluator.featureExtractor
        let referenceFeatures = try evaluator.features(ReferenceRenders.render(scenes, perPrompt: 4, resolution: 16, seed: 1))
        let reference = try FeatureStatistics(features: referenceFeatures, extractor: name)
        let prompts = (0..<2).flatMap { _ in scenes.map(\.caption) }
        let rows = (0..<2).flatMap { _ in scenes }
        func scores(_ s: [SceneLabels]) throws -> GeneratedSetScores {
            try GeneratedSetScores.compute(evaluator, images: ReferenceRenders.render(s, perPrompt: 2, resolution: 16, seed: 2),
                                           prompts: prompts, scenes: rows, reference: reference, extractor: name,
                                           referenceFeatures: referenceFeatures, kidSubsets: 20, kidSeed: 5)
        }
        let good = try scores(scenes)
        let bad = try scores(scenes.map { s -> SceneLabels in var t = s; t.background = (s.background + 1) % 3; return t })
        let goodKID = try XCTUnwrap(good.kid), badKID = try XCTUnwrap(bad.kid)
        XCTAssertLessThan(goodKID.mean, badKID.mean)
        XCTAssertEqual(goodKID, try KernelInceptionDistance.score(generated: good.features, reference: referenceFeatures, subsets: 20,
                                                                 seed: 5, extractor: name))
        XCTAssertEqual(goodKID.subsetSize, 80)
        XCTAssertEqual(goodKID.countB, 160)
        XCTAssertEqual(good.features.shape, [80, referenceFeatures.shape[1]])
        let noise = try SeedNoise.estimate(features: good.features, seeds: 2, reference: referenceFeatures, extractor: name, kidSubsets: 20)
        XCTAssertEqual(noise.kid.count, 2)
        XCTAssertGreaterThan(noise.kidStandardDeviation, 0)
        XCTAssertNil(try GeneratedSetScores.compute(evaluator, images: ReferenceRenders.render(scenes, perPrompt: 2, resolution: 16, seed: 2),
                                                   prompts: prompts, scenes: rows, reference: reference, extractor: name).kid)

        var m = EvaluationMetrics(model: "real", kind: "real", sampler: "render", steps: 1, guidance: 0)
        m.record(fid: good.fid)
        m.record(kid: goodKID)
        m.record(seedNoise: noise)
        let json = String(decoding: try MetricsDocument(title: "t", entries: [m]).jsonData(), as: UTF8.self)
        for key in ["\"kid\"", "\"kid_std\"", "\"kid_subset_size\" : 80", "\"fid_seed_std\"", "\"kid_seed_std\""] {
            XCTAssertTrue(json.contains(key), "\(key) in \(json)")
        }
        var unnamed = EvaluationMetrics(model: "x", kind: "x", sampler: "x", steps: 1, guidance: 0)
        unnamed.kid = 0.1
        XCTAssertThrowsError(try unnamed.validate()) {
            XCTAssertEqual("\($0)", "metrics for 'x': a KID needs its feature extractor and subset size")
        }
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
