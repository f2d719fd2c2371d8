import XCTest
@testable import Models
@testable import Training

/// The training and distillation configs a file's metadata holds are checked field by field
/// (moved from ModelsTests.ModelFileValidationTests with the configs).
final class TrainingConfigValidationTests: XCTestCase {
    func testTrainingAndDistillationConfigsFromFilesAreChecked() throws {
        var t = try TeacherTrainingConfig.defaults(preset: "tiny")
        t.batchSize = -4
        XCTAssertThrowsError(try TeacherTrainingConfig.decode(json: t.jsonString(), source: "ck.safetensors")) {
            XCTAssertEqual("\($0)", "ck.safetensors: config.batchSize (batch size) must be in 1…65536, got -4")
        }
        t = try TeacherTrainingConfig.defaults(preset: "tiny")
        t.model.uvit.maxGroups = 0
        XCTAssertThrowsError(try TeacherTrainingConfig.decode(json: t.jsonString(), source: "ck.safetensors")) {
            XCTAssertEqual("\($0)", "ck.safetensors: config.model.uvit.maxGroups must be ≥ 1, got 0")
        }
        var d = DistillationConfig(studentSteps: 4)
        d.teacherSteps = .fixed(1 << 40)
        XCTAssertThrowsError(try DistillationConfig.decode(json: d.jsonString(), source: "dc.safetensors")) {
            XCTAssertEqual("\($0)", "dc.safetensors: distillation: teacher steps must be ≤ 1000000, got 1099511627776")
        }
    }
}
