import XCTest
import Datasets
import Models
import NeuralNet
@testable import Evaluation

/// Every parameter of the evaluator networks (the shapes-world classifier and CLIP, a folder
/// evaluator's CLIP) is registered in their `parameters` (`Module.unregisteredParameters`).
final class EvaluatorParameterRegistrationTests: XCTestCase {
    func testEveryEvaluatorNetworkRegistersEveryParameter() throws {
        let shapes = try Evaluator(config: .tiny)
        XCTAssertEqual(shapes.unregisteredParameters(), [])
        XCTAssertEqual(shapes.classifier?.unregisteredParameters(), [])
        XCTAssertEqual(shapes.clip.unregisteredParameters(), [])
        let tokenizer = Tokenizer.learn(from: ["a red disc", "a blue square"], minCount: 1, maxLength: 16).tokenizer
        var config = EvaluatorConfig.tiny
        config.text.vocabularySize = tokenizer.vocabularySize
        let folder = try Evaluator(config: config, tokenizer: tokenizer,
                                   dataset: EvaluatorDataset(source: String(repeating: "ab", count: 32), name: "f", heldout: 0.1))
        XCTAssertEqual(folder.unregisteredParameters(), [])
        XCTAssertEqual(try Evaluator(config: EvaluatorConfig()).unregisteredParameters(), [], "the default evaluator")
    }
}
