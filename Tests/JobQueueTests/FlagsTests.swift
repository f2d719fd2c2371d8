import XCTest
@testable import JobQueue

final class FlagsTests: XCTestCase {
    let spec: [FlagSpec] = [.value("steps", "N", "steps"), .bool("json", "json"), .value("guidance", "W", "w")]

    func testParsesValuesBooleansAndPositionals() throws {
        let f = try Flags(["job", "--steps", "16", "--json", "--guidance=0.5"], spec: spec, command: "t")
        XCTAssertEqual(try f.int("steps", range: 1...1024), 16)
        XCTAssertEqual(try f.double("guidance"), 0.5)
        XCTAssertTrue(f.bool("json"))
        XCTAssertEqual(f.positional, ["job"])
    }

    func testErrorsAreOneLine() throws {
        XCTAssertThrowsError(try Flags(["--nope"], spec: spec, command: "t")) {
            XCTAssertEqual("\($0)", "t: unknown flag --nope (see t --help)")
        }
        XCTAssertThrowsError(try Flags(["--steps"], spec: spec, command: "t"))
        let f = try Flags(["--steps", "0"], spec: spec, command: "t")
        XCTAssertThrowsError(try f.int("steps", range: 1...1024)) { XCTAssertFalse("\($0)".contains("\n")) }
        let g = try Flags(["--steps", "x"], spec: spec, command: "t")
        XCTAssertThrowsError(try g.int("steps"))
    }
}
