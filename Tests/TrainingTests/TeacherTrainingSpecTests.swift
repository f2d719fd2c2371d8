import XCTest
@testable import Models
@testable import Training

final class TeacherTrainingSpecTests: XCTestCase {
    func testDefaultsAndOverrides() throws {
        XCTAssertEqual(try TeacherTrainingSpec().resolved(), try TeacherTrainingConfig.defaults(preset: "small"))
        let spec = try TeacherTrainingSpec.decode(json: #"{"preset": "tiny", "iterations": 7, "batch": 3, "lr": 0.01, "p_uncond": 0.2, "ema_decay": 0.5, "seed": 9, "checkpoint_every": 2, "dataset": "shapes"}"#)
        let c = try spec.resolved()
        XCTAssertEqual(c.model, .tiny)
        XCTAssertEqual([c.iterations, c.batchSize, c.checkpointEvery], [7, 3, 2])
        XCTAssertEqual(c.learningRate, 0.01)
        XCTAssertEqual(c.finalLearningRate, 0.001, accuracy: 1e-9)
        XCTAssertEqual(c.pUncond, 0.2)
        XCTAssertEqual(c.emaDecay, 0.5)
        XCTAssertEqual(c.seed, 9)
        XCTAssertEqual(try TeacherTrainingConfig.decode(json: c.jsonString(), source: "x"), c)
    }

    func testBadSpecsAreOneLineErrors() {
        func message(_ json: String) -> String {
            do { _ = try TeacherTrainingSpec.decode(json: json).resolved(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(#"{"iteratons": 5}"#).contains("unknown key 'iteratons'"))
        XCTAssertTrue(message(#"{"batch": "big"}"#).contains("'batch' has the wrong type"))
        XCTAssertTrue(message("[1, 2]").contains("not a JSON object"))
        XCTAssertTrue(message(#"{"preset": "giant"}"#).contains("unknown model preset 'giant'"))
        XCTAssertTrue(message(#"{"p_uncond": 1.5}"#).contains("p_uncond"))
        XCTAssertTrue(message(#"{"iterations": 0}"#).contains("iterations must be ≥ 1"))
    }
}
