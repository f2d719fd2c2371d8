import XCTest
import Models
@testable import Jobs

/// One guidance convention: a student's S and w are in its file; an entry may leave them out
/// and may not contradict them. A teacher's entry names all three.
final class EvaluationEntryTests: XCTestCase {
    func parse(_ s: String) throws -> EvaluationEntry {
        switch EvaluationEntry.parse(s) {
        case .success(let e): return e
        case .failure(let e): throw e
        }
    }

    func testFormsFromTheRight() throws {
        let full = try parse("teacher-1:addim:256:3")
        XCTAssertEqual([full.model, full.sampler?.rawValue, full.steps.map(String.init), full.guidance.map { "\($0)" }],
                       ["teacher-1", "addim", "256", "3.0"])
        XCTAssertEqual(try parse("student-7").model, "student-7")
        XCTAssertNil(try parse("student-7").sampler)
        XCTAssertEqual(try parse("student-7:student").sampler, .student)
        XCTAssertEqual(try parse("student-7:student:4").steps, 4)
        let empty = try parse("student-7:student::")
        XCTAssertEqual(empty.sampler, .student)
        XCTAssertNil(empty.steps)
        XCTAssertNil(empty.guidance)
        // A model name with ':' in it still parses: the fields are found by the sampler name.
        XCTAssertEqual(try parse("team:teacher:ddim:8:0.5").model, "team:teacher")
        XCTAssertEqual(try parse("team:student-3").model, "team:student-3")
        XCTAssertThrowsError(try parse("teacher-1:euler:4:0"))
        XCTAssertThrowsError(try parse("teacher-1:ddim:0:-1")) { XCTAssertEqual(($0 as! EvaluationEntry.EntryErrors).lines.count, 2) }
    }

    func testAStudentTakesItsSAndWFromItsFileAndRefusesOthers() throws {
        let file = (steps: 4, guidance: 3.0)
        for text in ["student-7", "student-7:student", "student-7:student:4", "student-7:student:4:3", "student-7:student::3", "student-7:student::"] {
            let r = try parse(text).resolved(student: file)
            XCTAssertEqual(r.text, "student-7:student:4:3", text)
        }
        XCTAssertThrowsError(try parse("student-7:student:4:0").resolved(student: file)) {
            XCTAssertEqual("\($0)", "entry 'student-7:student:4:0': student-7 was distilled at w = 3, not 0 (a student's w is its own; leave GUIDANCE out)")
        }
        XCTAssertThrowsError(try parse("student-7:student:8").resolved(student: file)) {
            XCTAssertEqual("\($0)", "entry 'student-7:student:8': student-7 is a 4-step student; its sampler cannot take 8 steps (leave STEPS out)")
        }
        // Another sampler on a student takes any step count, but it must be given.
        XCTAssertEqual(try parse("student-7:ddim:16").resolved(student: file).text, "student-7:ddim:16:3")
        XCTAssertThrowsError(try parse("student-7:ddim").resolved(student: file))
    }

    func testATeacherGivesAllThree() throws {
        XCTAssertEqual(try parse("teacher-1:ddim:8:0.5").resolved(student: nil).text, "teacher-1:ddim:8:0.5")
        XCTAssertThrowsError(try parse("teacher-1").resolved(student: nil)) {
            XCTAssertEqual("\($0)", "entry 'teacher-1': a teacher's entry must be MODEL:SAMPLER:STEPS:GUIDANCE (SAMPLER, STEPS, GUIDANCE missing), e.g. teacher-1:addim:256:3")
        }
        XCTAssertThrowsError(try parse("teacher-1:addim:256").resolved(student: nil)) { XCTAssertTrue("\($0)".contains("(GUIDANCE missing)")) }
    }

    /// The header read (8 bytes and the JSON header, never the weights) finds a student's S and w.
    func testModelHeaderReadsAStudentsSAndW() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hdr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let teacher = dir.appendingPathComponent("t.safetensors")
        try ModelFile.write(try TextToImageModel(.tiny, seed: 1), kind: "teacher", to: teacher)
        let header = try ModelHeader.read(teacher)
        XCTAssertEqual(header.kind, "teacher")
        XCTAssertNil(header.student)
        let student = ModelHeader(metadata: ["kind": "student", "student_steps": "8", "guidance": "0.5"])
        XCTAssertEqual(student.student?.steps, 8)
        XCTAssertEqual(student.student?.guidance, 0.5)
        let junk = dir.appendingPathComponent("junk.safetensors")
        try Data("not a model at all".utf8).write(to: junk)
        XCTAssertThrowsError(try ModelHeader.read(junk)) { XCTAssertEqual("\($0)", "\(junk.path): not a safetensors file") }
    }
}
