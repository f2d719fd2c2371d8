import Tensors
import XCTest
import Datasets
import Models
import NeuralNet
@testable import Evaluation

/// The evaluator file round trip (same outputs, same quality) and one-line errors for files
/// that are not evaluators.
final class EvaluatorFileTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evaluator-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testRoundTrip() throws {
        let evaluator = TrainedTinyEvaluator.shared.evaluator
        let url = dir.appendingPathComponent("e.safetensors")
        try EvaluatorFile.write(evaluator, to: url)
        let back = try EvaluatorFile.load(url)
        XCTAssertEqual(back.config, evaluator.config)
        XCTAssertEqual(back.quality, evaluator.quality)
        XCTAssertEqual(back.featureExtractor, evaluator.featureExtractor)
        let images = renders(Array(ShapesWorld.heldOutPromptScenes.prefix(6)), resolution: 16, seed: 1)
        XCTAssertEqual(try back.features(images).toArray(), try evaluator.features(images).toArray())
        XCTAssertEqual(try back.imageEmbeddings(images).toArray(), try evaluator.imageEmbeddings(images).toArray())
        XCTAssertEqual(back.textEmbeddings(ShapesWorld.heldOutCaptions).toArray(), evaluator.textEmbeddings(ShapesWorld.heldOutCaptions).toArray())
        XCTAssertEqual(try SafeTensors.read(url).metadata["kind"], "evaluator")
    }

    func testErrorsNameTheFile() throws {
        let missing = dir.appendingPathComponent("none.safetensors")
        XCTAssertThrowsError(try EvaluatorFile.load(missing)) { XCTAssertEqual("\($0)", "\(missing.path): no such evaluator file") }
        let teacher = dir.appendingPathComponent("t.safetensors")
        try ModelFile.write(try TextToImageModel(.tiny, seed: 0), kind: "teacher", to: teacher)
        XCTAssertThrowsError(try EvaluatorFile.load(teacher)) { XCTAssertEqual("\($0)", "\(teacher.path): holds a teacher, expected an evaluator") }
        let garbage = dir.appendingPathComponent("g.safetensors")
        try Data("not a safetensors file".utf8).write(to: garbage)
        XCTAssertThrowsError(try EvaluatorFile.load(garbage)) { XCTAssertFalse("\($0)".contains("\n")); XCTAssertTrue("\($0)".contains(garbage.path), "\($0)") }
    }

    func testImagesOfTheWrongSizeAreRefused() throws {
        let evaluator = TrainedTinyEvaluator.shared.evaluator
        XCTAssertThrowsError(try evaluator.features(Tensor(shape: [2, 32, 32, 3]))) {
            XCTAssertEqual("\($0)", "the evaluator reads [N, 16, 16, 3] pictures, got [2, 32, 32, 3]")
        }
    }
}
