import Foundation
import FuzzSupport
import Models
import NeuralNet
import Tensors
import XCTest
@testable import Evaluation

/// Evaluator files whose config (structurally and byte-wise), tokenizer or tensors were mutated:
/// an evaluator or one error line naming the file.
final class EvaluatorFileFuzzTests: XCTestCase {
    func testMutatedEvaluatorFilesLoadOrFailInOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evaluator-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var small = EvaluatorConfig.tiny
        small.baseChannels = 4; small.maxChannels = 8; small.featureWidth = 8; small.clipTrunkWidth = 8; small.embeddingWidth = 8
        let seedURL = dir.appendingPathComponent("seed.safetensors")
        try EvaluatorFile.write(try Evaluator(config: small), to: seedURL)
        let seed = try SafeTensors.readOrdered(seedURL)
        var m = Mutator(seed: Fuzz.seed ^ 0x4556)
        let url = dir.appendingPathComponent("case.safetensors")
        let result = fuzzCases(Fuzz.cases(300), { _ in
            var meta = seed.metadata, names = seed.names, tensors = seed.tensors
            switch m.rng.below(4) {
            case 0, 1: meta["config"] = m.mutateLeaves(meta["config"]!)
            case 2:
                let key = m.rng.pick(["config", "tokenizer", "kind", "quality"])
                meta[key] = String(decoding: m.mutate(Array((meta[key] ?? "{}").utf8)), as: UTF8.self)
            default:
                let i = m.rng.below(names.count)
                if m.rng.chance(0.5) { names.remove(at: i); tensors.remove(at: i) } else { tensors[i] = Tensor(shape: [tensors[i].count]) }
            }
            do {
                try SafeTensors.write(Array(zip(names, tensors)), metadata: meta, to: url)
                _ = try EvaluatorFile.load(url)
                return nil
            } catch {
                if !"\(error)".contains(url.path) { XCTFail("error does not name the file: \(error)") }
                return error
            }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0) }   // some mutants stay valid
    }

    /// A crafted evaluator config (a text MLP ratio of −1, a billion channels) is one line, not
    /// a trap or an allocation of gigabytes.
    func testCraftedEvaluatorConfigsAreOneLine() throws {
        var c = EvaluatorConfig.tiny
        c.text.mlpRatio = -1
        XCTAssertThrowsError(try EvaluatorConfig.decode(json: c.jsonString(), source: "e.safetensors")) {
            XCTAssertEqual("\($0)", "e.safetensors: evaluator config: text.mlpRatio must be ≥ 1, got -1")
        }
        c = .tiny
        c.maxChannels = 1 << 30
        XCTAssertThrowsError(try EvaluatorConfig.decode(json: c.jsonString(), source: "e.safetensors")) {
            XCTAssertEqual("\($0)", "e.safetensors: evaluator config: maxChannels must be in 1…512, got 1073741824")
        }
    }
}
