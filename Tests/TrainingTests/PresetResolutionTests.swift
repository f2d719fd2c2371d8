import Tensors
import XCTest
@testable import Models
@testable import Training

/// A 32-pixel tiny model runs, and the teacher spec resolves to its preset at that resolution
/// (moved from ModelsTests.PresetResolutionTests with `TeacherTrainingSpec`).
final class PresetResolutionTests: XCTestCase {
    func testA32PixelTinyModelRuns() throws {
        let config = try ModelConfig.preset("tiny", resolution: 32)
        let model = try TextToImageModel(config, seed: 1)
        let z = Tensor(shape: [2, 32, 32, 3])
        let v = model.forward(z, t: [0.5, 0.5], captions: ["a red circle", "a blue square"], conditional: [true, true], save: false)
        XCTAssertEqual(v.shape, [2, 32, 32, 3])
        let spec = try TeacherTrainingSpec(preset: "tiny", resolution: 32).resolved()
        XCTAssertEqual(spec.model, config)
        XCTAssertEqual(try TeacherTrainingSpec(preset: "small", resolution: 16).resolved(), try TeacherTrainingSpec(preset: "small").resolved())
    }
}
