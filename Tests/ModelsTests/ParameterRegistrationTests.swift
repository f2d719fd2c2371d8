import XCTest
import NeuralNet
import Tensors
@testable import Models

/// Every parameter of every text-to-image network (each preset, a guidance-conditioned
/// student, and their parts) is registered in its `parameters`: none is left untrained and
/// unsaved (`Module.unregisteredParameters`).
final class ModelParameterRegistrationTests: XCTestCase {
    func testEveryTextToImageNetworkRegistersEveryParameter() throws {
        var configs = try ["tiny", "small"].map { try ModelConfig.preset($0) }
        var student = try ModelConfig.preset("tiny")
        student.guidanceInput = GuidanceInputConfig(range: GuidanceRange(lower: 0, upper: 4), features: student.uvit.noiseFeatures)
        configs.append(student)
        for config in configs {
            let model = try TextToImageModel(config, tokenizer: .shapes, seed: 0)
            XCTAssertEqual(model.unregisteredParameters(), [], "\(config.preset)")
            XCTAssertEqual(model.uvit.unregisteredParameters(), [], "\(config.preset) UViT")
            XCTAssertEqual(model.encoder.unregisteredParameters(), [], "\(config.preset) text encoder")
            XCTAssertEqual(Set(model.parameters.map(\.name)).count, model.parameters.count, "\(config.preset): a parameter listed twice")
        }
    }
}
