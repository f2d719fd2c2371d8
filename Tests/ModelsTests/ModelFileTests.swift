import NeuralNet
import XCTest
import Diffusion
@testable import Models

final class ModelFileTests: XCTestCase {
    func testRoundTripRebuildsTheSameNetwork() throws {
        let dir = try temporaryDirectory(self)
        let model = try tinyModel(seed: 21)
        perturbParameters(model, seed: 22)
        let table = XvarTable(steps: 4, eta: 0.75, values: [0.001, 0.01, 0.05, 0.2])
        let url = dir.appendingPathComponent("teacher.safetensors")
        try ModelFile.write(model, kind: "teacher", xvar: table, extraMetadata: ["note": "test"], to: url)
        let loaded = try ModelFile.load(url, expectedKind: "teacher")
        XCTAssertEqual(loaded.kind, "teacher")
        XCTAssertEqual(loaded.metadata["note"], "test")
        XCTAssertEqual(loaded.model.config, model.config)
        XCTAssertEqual(loaded.model.tokenizer, model.tokenizer)
        XCTAssertEqual(loaded.xvar?.steps, 4)
        for (a, b) in zip(loaded.xvar!.values, table.values) { XCTAssertEqual(a, b, accuracy: 1e-9 + 1e-7 * b) }
        for (p, q) in zip(model.parameters, loaded.model.parameters) {
            XCTAssertEqual(p.name, q.name)
            XCTAssertEqual(p.value.toArray(), q.value.toArray(), p.name)
        }
        let z = normalTensor([2, 16, 16, 3], seed: 23)
        let v1 = model.forward(z, t: [0.2, 0.7], captions: Array(testCaptions.prefix(2)), conditional: [true, false], save: false)
        let v2 = loaded.model.forward(z, t: [0.2, 0.7], captions: Array(testCaptions.prefix(2)), conditional: [true, false], save: false)
        XCTAssertEqual(v1.toArray(), v2.toArray())
    }

    func testBadFilesAreOneLineErrors() throws {
        let dir = try temporaryDirectory(self)
        let missing = dir.appendingPathComponent("nope.safetensors")
        XCTAssertThrowsError(try ModelFile.load(missing)) { XCTAssertTrue("\($0)".contains("no such model file"), "\($0)") }

        let model = try tinyModel()
        let url = dir.appendingPathComponent("m.safetensors")
        try ModelFile.write(model, kind: "student", to: url)
        XCTAssertThrowsError(try ModelFile.load(url, expectedKind: "teacher")) {
            XCTAssertTrue("\($0)".contains("holds a student, expected a teacher"), "\($0)")
        }
        XCTAssertNil(try ModelFile.load(url).xvar)

        // A weights file without the model's metadata.
        let bare = dir.appendingPathComponent("bare.safetensors")
        try SafeTensors.write(model.namedTensors(), to: bare)
        XCTAssertThrowsError(try ModelFile.load(bare)) { XCTAssertTrue("\($0)".contains("no 'kind'"), "\($0)") }

        // A missing parameter is named.
        let partial = dir.appendingPathComponent("partial.safetensors")
        try ModelFile.write(model, tensors: model.namedTensors().filter { $0.0 != "out.conv.weight" }, kind: "teacher", to: partial)
        XCTAssertThrowsError(try ModelFile.load(partial)) { XCTAssertTrue("\($0)".contains("out.conv.weight"), "\($0)") }

        // Truncated bytes.
        let truncated = dir.appendingPathComponent("truncated.safetensors")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count / 2).write(to: truncated)
        XCTAssertThrowsError(try ModelFile.load(truncated)) { XCTAssertTrue("\($0)".contains("truncated.safetensors"), "\($0)") }
    }
}
