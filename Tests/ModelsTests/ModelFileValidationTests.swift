import Diffusion
import Foundation
import Tensors
import XCTest
import NeuralNet
@testable import Models

/// Issue 15: a crafted teacher (maxGroups 0, mlpRatio −1, huge widths, a file that does not
/// back its config) is one error line naming the file and the field — before these checks it
/// was a SIGFPE or an allocation of exabytes, in every worker that touched it.
final class ModelFileValidationTests: XCTestCase {
    /// A copy of `url` with its metadata (and tensors) edited.
    func rewritten(_ url: URL, as name: String, metadata edit: (inout [String: String]) -> Void = { _ in },
                   tensors editTensors: (inout [(String, Tensor)]) -> Void = { _ in }) throws -> URL {
        let r = try SafeTensors.readOrdered(url)
        var meta = r.metadata, list = Array(zip(r.names, r.tensors))
        edit(&meta)
        editTensors(&list)
        let out = url.deletingLastPathComponent().appendingPathComponent(name)
        try SafeTensors.write(list, metadata: meta, to: out)
        return out
    }

    /// `json` with the value at `path` replaced.
    func setting(_ json: String, _ path: [String], _ value: Any) throws -> String {
        func set(_ node: Any, _ path: ArraySlice<String>) -> Any {
            guard let key = path.first, var object = node as? [String: Any] else { return value }
            object[key] = set(object[key] as Any, path.dropFirst())
            return object
        }
        let root = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return String(decoding: try JSONSerialization.data(withJSONObject: set(root, path[...])), as: UTF8.self)
    }

    func teacherFile() throws -> URL {
        let url = try temporaryDirectory(self).appendingPathComponent("teacher.safetensors")
        try ModelFile.write(try tinyModel(), kind: "teacher", xvar: XvarTableFixture.table, to: url)
        return url
    }

    func expectError(_ url: URL, _ expected: String, exact: Bool = true, line: UInt = #line) {
        XCTAssertThrowsError(try ModelFile.load(url), line: line) { e in
            let text = "\(e)"
            if exact { XCTAssertEqual(text, "\(url.path): \(expected)", line: line) } else {
                XCTAssertTrue(text.hasPrefix(url.path + ": ") && text.contains(expected), text, line: line)
            }
            XCTAssertFalse(text.contains("\n"), line: line)
        }
    }

    func testEveryConfigFieldIsCheckedBeforeAllocation() throws {
        let teacher = try teacherFile()
        let config = try XCTUnwrap(try SafeTensors.read(teacher).metadata["config"])
        let cases: [([String], Any, String)] = [
            (["uvit", "maxGroups"], 0, "config.uvit.maxGroups must be ≥ 1, got 0"),
            (["uvit", "mlpRatio"], -1, "config.uvit.mlpRatio must be ≥ 1, got -1"),
            (["text", "mlpRatio"], -1, "config.text.mlpRatio must be ≥ 1, got -1"),
            (["uvit", "channels"], [8, 1 << 40], "config.uvit.channels[1] must be ≤ 8192, got 1099511627776"),
            (["uvit", "channels"], [Int](), "config.uvit.channels.count must be ≥ 1, got 0"),
            (["uvit", "resBlocks"], [1], "config.uvit.resBlocks needs one entry per level (2 levels, 1 entries)"),
            (["uvit", "heads"], 0, "config.uvit.heads must be ≥ 1, got 0"),
            (["uvit", "heads"], 3, "config.uvit.transformerWidth 16 does not split into 3 heads"),
            (["text", "heads"], -2, "config.text.heads must be ≥ 1, got -2"),
            (["uvit", "resolution"], 18, "config.uvit.resolution 18 is not divisible by 2^2 (one halving per level)"),
            (["uvit", "resolution"], 1024, "config.uvit.resolution 1024 gives a 256×256 token grid after 2 halvings; attention allows at most 64×64"),
            (["uvit", "embeddingWidth"], 0, "config.uvit.embeddingWidth must be ≥ 1, got 0"),
            (["uvit", "noiseFeatures"], 7, "config.uvit.noiseFeatures must be even, got 7"),
            (["uvit", "transformerBlocks"], -1, "config.uvit.transformerBlocks must be ≥ 0, got -1"),
            (["uvit", "dropout"], 1.5, "config.uvit.dropout must be in [0, 1), got 1.5"),
            (["uvit", "dropoutFromLevel"], -3, "config.uvit.dropoutFromLevel must be ≥ 0, got -3"),
            (["text", "maxLength"], 1 << 40, "config.text.maxLength must be ≤ 4096, got 1099511627776"),
            (["text", "vocabularySize"], 0, "config.text.vocabularySize must be ≥ 4, got 0"),
            (["text", "layers"], Int.max, "config.text.layers must be ≤ 1024, got 9223372036854775807"),
            (["schedule", "logSNRMin"], 20, "config.schedule.logSNRMin 20.0 must be below logSNRMax 15.0"),
            (["uvit", "transformerWidth"], 16_384, "config.uvit.heads"),   // 16384 splits into 2 heads: then the size cap
            (["preset"], "two\nlines", #"config.preset must be a name of 1…64 printable characters, got 'two\nlines'"#),
            (["uvit", "maxGroups"], "four", "config is not valid JSON for a ModelConfig (uvit.maxGroups: "),
            (["uvit"], [String: Any](), "config is not valid JSON for a ModelConfig (missing field uvit.resolution)"),
        ]
        for (k, (path, value, expected)) in cases.enumerated() {
            let bad = try rewritten(teacher, as: "bad-\(k).safetensors") { $0["config"] = try! self.setting(config, path, value) }
            switch path {
            case ["uvit", "transformerWidth"]: expectError(bad, "exceeds the \(maxModelParameters)-parameter limit", exact: false)
            case ["uvit", "maxGroups"] where value is String: expectError(bad, expected, exact: false)
            default: expectError(bad, expected)
            }
        }
    }

    func testMetadataAndTensorsMustMatchTheConfig() throws {
        let teacher = try teacherFile()
        expectError(try rewritten(teacher, as: "len.safetensors") { $0["tokenizer_max_length"] = "1099511627776" },
                    "metadata.tokenizer_max_length must be an integer in 2…4096, got '1099511627776'")
        expectError(try rewritten(teacher, as: "eta.safetensors") { $0["xvar_eta"] = "nan" },
                    "the xvar tensor [4] disagrees with its metadata")
        let student = try rewritten(teacher, as: "student.safetensors") {
            $0["kind"] = "student"; $0["student_steps"] = "100000000000"; $0["guidance"] = "3"
        }
        expectError(student, "metadata.student_steps must be an integer in 1…10000, got '100000000000'")
        // A config much larger than the weights the file holds is refused before the network is built.
        let config = try XCTUnwrap(try SafeTensors.read(teacher).metadata["config"])
        let big = try rewritten(teacher, as: "big.safetensors") { $0["config"] = try! self.setting(config, ["uvit", "transformerBlocks"], 200) }
        expectError(big, "config implies", exact: false)
        // Every tensor must have exactly the shape the config implies, with none missing or extra.
        let shape = try rewritten(teacher, as: "shape.safetensors", tensors: { list in
            let i = list.firstIndex { $0.0 == "out.conv.weight" }!
            list[i].1 = Tensor(shape: [3, 3, 3, 8])
        })
        expectError(shape, "tensor 'out.conv.weight' has shape [3, 3, 3, 8], expected [3, 3, 8, 3]")
        expectError(try rewritten(teacher, as: "extra.safetensors", tensors: { $0.append(("junk", Tensor(shape: [1]))) }),
                    "unexpected tensor 'junk'")
        expectError(try rewritten(teacher, as: "missing.safetensors", tensors: { $0.removeAll { $0.0 == "mid.position" } }),
                    "missing tensor 'mid.position'")
        XCTAssertNoThrow(try ModelFile.load(teacher))
    }

    /// The size checks rest on `parameterCount`: it must equal the built network's count.
    func testParameterCountMatchesTheBuiltNetwork() throws {
        var variants: [ModelConfig] = [.tiny, .small, .base]
        var v = ModelConfig.tiny
        v.uvit.resBlocks = [2, 1]; v.uvit.transformerBlocks = 0; v.text.layers = 0
        variants.append(v)
        v = .tiny
        v.uvit.channels = [8, 8]; v.uvit.mlpRatio = 3; v.text.mlpRatio = 1; v.uvit.noiseFeatures = 6
        variants.append(v)
        for config in variants {
            let model = try TextToImageModel(config, seed: 0)
            XCTAssertEqual(config.parameterCount, model.parameterCount, config.jsonString())
        }
    }
}

/// A small valid xvar table for model files in tests.
enum XvarTableFixture {
    static let table = XvarTable(steps: 4, eta: 0.75, values: [0.001, 0.01, 0.05, 0.2])
}
