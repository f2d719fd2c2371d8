import Foundation
import Tensors
import Training
import XCTest
import Datasets
import Models
import NeuralNet
@testable import Evaluation

/// The folder evaluator (issue 18 item 4): a CLIP over a vocabulary learned from an image
/// folder's training captions, its image tower the FID/KID feature space. Training it on a
/// small pattern folder lifts text→image retrieval far above an untrained one's; its file
/// records the dataset and vocabulary and refuses corrupt dataset fields with one line.
final class FolderEvaluatorTests: XCTestCase {
    static let dataset = EvaluatorDataset(source: String(repeating: "ab", count: 32), name: "patterns", heldout: 0.25)

    /// 96 pattern pictures (24 captions × 4), 16×16, and the training split's groups.
    static let folder: (train: CaptionGroups, heldout: CaptionGroups, tokenizer: Tokenizer) = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("folder-evaluator-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try! PatternFolder.write(count: 96, size: 16, to: dir)
        let train = try! ImageFolderDataset(directory: dir, resolution: 16, split: .train, heldout: 0.25)
        let held = try! ImageFolderDataset(directory: dir, resolution: 16, split: .heldout, heldout: 0.25)
        let tokenizer = Tokenizer.learn(from: train.items.map(\.caption), maxLength: 16).tokenizer
        return (CaptionGroups(train.items), CaptionGroups(held.items), tokenizer)
    }()

    static func config(iterations: Int) -> EvaluatorConfig {
        var c = EvaluatorConfig.tiny
        c.iterations = iterations; c.batchSize = 16; c.seed = 2
        c.text.vocabularySize = folder.tokenizer.vocabularySize
        return c
    }

    func testTrainingLiftsRetrievalFarAboveAnUntrainedEvaluator() throws {
        let (train, held, tokenizer) = Self.folder
        XCTAssertEqual(train.captions.count, 18)
        let untrained = try EvaluatorTrainer(config: Self.config(iterations: 150), folder: train, tokenizer: tokenizer, dataset: Self.dataset)
        let before = try untrained.measureQuality(groups: train, split: "training")
        let beforeHeld = try EvaluatorQuality.measure(untrained.evaluator, groups: held, split: "held-out")
        let trainer = try EvaluatorTrainer(config: Self.config(iterations: 150), folder: train, tokenizer: tokenizer, dataset: Self.dataset)
        let first = try trainer.step()
        var last = first
        while trainer.iteration < 150 { last = try trainer.step() }
        let after = try trainer.measureQuality(groups: train, split: "training")
        let afterHeld = try EvaluatorQuality.measure(trainer.evaluator, groups: held, split: "held-out")
        print("folder evaluator: contrastive loss \(first.clipLoss) → \(last.clipLoss); retrieval (training split, chance 1/\(train.captions.count)) \(before.retrievalTop1) → \(after.retrievalTop1); held-out (chance 1/\(held.captions.count)) \(beforeHeld.retrievalTop1) → \(afterHeld.retrievalTop1)")
        XCTAssertTrue(first.classifierLoss.isNaN, "no classifier on a folder")
        XCTAssertLessThan(last.clipLoss, first.clipLoss * 0.5)
        XCTAssertLessThan(before.retrievalTop1, 0.25, before.summary)
        XCTAssertGreaterThan(after.retrievalTop1, 0.8, after.summary)
        XCTAssertGreaterThan(after.retrievalTop1, before.retrievalTop1 + 0.5)
        // Unseen colour–pattern–background combinations (6 held-out captions, chance 1/6): the
        // words compose, though less surely than on seen captions.
        XCTAssertGreaterThan(afterHeld.retrievalTop1, beforeHeld.retrievalTop1 + 0.2, afterHeld.summary)
        XCTAssertNil(after.allAttributes)
        XCTAssertTrue(after.summary.contains("among 18 captions of the training split"), after.summary)

        // Batches: distinct captions, each with one of its own pictures; a pure function of (seed, i).
        let (items, captions) = trainer.folderBatch(7)
        XCTAssertEqual(Set(captions).count, 16)
        for (i, c) in zip(items, captions) { XCTAssertTrue(train.members[train.captions.firstIndex(of: c)!].contains(i)) }
        XCTAssertEqual(trainer.folderBatch(7).items, items)

        // The feature space is the image tower's trunk; no attributes to read.
        let e = trainer.evaluator
        XCTAssertNil(e.classifier)
        let x = train.tensor([0, 1, 2], resolution: 16)
        XCTAssertEqual(try e.features(x).shape, [3, e.config.embeddingWidth])
        // √E · unit vectors: every row has length √E.
        let f = try e.features(x).toArray()
        XCTAssertEqual(f[0..<32].reduce(0) { $0 + Double($1 * $1) }, 32, accuracy: 1e-3)
        XCTAssertThrowsError(try e.predict(x))
        // The feature space tells the dataset's pictures from noise: two halves of the training
        // pictures (half of each caption's pictures in each) are near each other, noise is far,
        // by FID and KID alike.
        func stats(_ t: Tensor) throws -> (FeatureStatistics, Tensor) {
            let f = try e.features(t)
            return (try FeatureStatistics(features: f, extractor: e.featureExtractor), f)
        }
        let (even, evenF) = try stats(train.tensor(train.members.flatMap { $0.prefix($0.count / 2) }, resolution: 16))
        let (odd, oddF) = try stats(train.tensor(train.members.flatMap { $0.suffix($0.count - $0.count / 2) }, resolution: 16))
        let (noise, noiseF) = try stats(randomTensor([36, 16, 16, 3], seed: 5, std: 0.5))
        let near = try FrechetDistance.score(even, odd).distance, far = try FrechetDistance.score(even, noise).distance
        let kidNear = try KernelInceptionDistance.score(generated: oddF, reference: evenF, subsets: 20, seed: 0, extractor: "").mean
        let kidFar = try KernelInceptionDistance.score(generated: noiseF, reference: evenF, subsets: 20, seed: 0, extractor: "").mean
        print("folder evaluator features: FID halves \(near), halves vs noise \(far); KID \(kidNear) vs \(kidFar)")
        XCTAssertLessThan(near * 3, far)
        XCTAssertLessThan(abs(kidNear) * 3, kidFar)
        XCTAssertTrue(e.featureExtractor.hasPrefix("folder-clip-v1 image embedding ×√E 32-d (16×16), trained on patterns (abababababab)"), e.featureExtractor)

        // The file records dataset and vocabulary and rebuilds the same evaluator.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("folder-evaluator-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try EvaluatorFile.write(e, to: url)
        let loaded = try EvaluatorFile.load(url)
        XCTAssertEqual(loaded.dataset, Self.dataset)
        XCTAssertEqual(loaded.tokenizer.words, tokenizer.words)
        XCTAssertEqual(try loaded.features(x).toArray(), try e.features(x).toArray())
        XCTAssertEqual(loaded.textEmbeddings(["a teal striped pattern on navy"]).toArray(), e.textEmbeddings(["a teal striped pattern on navy"]).toArray())
        XCTAssertEqual(loaded.quality, after)

        // Corrupt dataset fields and a vocabulary that disagrees with the config: one line each.
        let (tensors, metadata) = try SafeTensors.read(url)
        for (key, value, expected) in [("dataset_heldout", "2", "dataset_heldout must be a number in 0…0.99"),
                                       ("dataset_name", "", "dataset_name must be"),
                                       ("dataset", "", "metadata.dataset must be"),
                                       ("tokenizer", "a b", "tokenizer has 6 ids"),
                                       ("dataset", "shapes", "differs from the shapes tokenizer")] {
            var m = metadata
            m[key] = value
            let bad = url.deletingLastPathComponent().appendingPathComponent("bad-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: bad) }
            try SafeTensors.write(tensors.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }, metadata: m, to: bad)
            XCTAssertThrowsError(try EvaluatorFile.load(bad), key) { err in
                XCTAssertTrue("\(err)".contains(expected), "\(key): \(err)")
                XCTAssertFalse("\(err)".contains("\n"))
            }
        }
    }

    /// `mscm-ctl fid DIR DIR --evaluator` reads folders in a folder evaluator's space too.
    func testFolderStatisticsUseTheFolderFeatureSpace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("folder-stats-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try PatternFolder.write(count: 8, size: 16, to: dir)
        let e = try Evaluator(config: Self.config(iterations: 1), tokenizer: Self.folder.tokenizer, dataset: Self.dataset)
        let stats = try FeatureStatistics(folder: dir, evaluator: e)
        XCTAssertEqual(stats.dimension, e.config.embeddingWidth)
        XCTAssertEqual(stats.count, 8)
    }

    func testTheShapesEvaluatorRecordsShapesAndAFolderNeedsTwoCaptions() throws {
        XCTAssertEqual(try Evaluator(config: .tiny).dataset, .shapes)
        XCTAssertNotNil(try Evaluator(config: .tiny).classifier)
        let one = CaptionGroups(Array(Self.folder.train.images.prefix(2)).map { TextImageExample(image: $0, caption: "same", labels: nil) })
        XCTAssertThrowsError(try EvaluatorTrainer(config: Self.config(iterations: 1), folder: one, tokenizer: Self.folder.tokenizer, dataset: Self.dataset)) {
            XCTAssertTrue("\($0)".contains("at least 2 distinct captions"), "\($0)")
        }
        XCTAssertThrowsError(try EvaluatorTrainer(config: Self.config(iterations: 1), folder: Self.folder.train, tokenizer: Self.folder.tokenizer, dataset: .shapes))
    }
}
