import Foundation
import XCTest
import CommandLineKit
import Formats
@testable import JobQueue
import Jobs

final class SpecFlagTests: XCTestCase {
    struct NoArtifacts: ArtifactCatalog {
        func info(_ ref: String) throws -> ArtifactInfo? {
            ref == "teacher-v1" ? ArtifactInfo(id: 1, name: ref, kind: "weights", sha256: String(repeating: "a", count: 64),
                                               size: 1, job: nil, createdAt: 0) : nil
        }
    }

    let table: [SpecFlag] = [
        SpecFlag("iterations", .int(1...1_000_000), default: 1000, help: "iterations"),
        SpecFlag("lr", .double(1e-6...1), default: 1e-3, help: "learning rate"),
        SpecFlag("sampler", .choice(["ddim", "addim"]), default: "ddim", help: "sampler"),
        SpecFlag("teacher", .artifact(kind: "weights"), required: true, help: "teacher weights"),
        SpecFlag("steps", .ints(1...1024), default: [1, 2, 4], help: "student steps"),
        SpecFlag("ema", .bool, default: false, help: "keep an EMA"),
    ]

    func flags(_ args: [String]) throws -> Flags {
        try Flags(args, spec: table.map(\.flagSpec), command: "submit x")
    }

    func testFlagsBecomeATypedSpecWithDefaults() throws {
        let spec = try SpecFlag.spec(from: flags(["--teacher", "teacher-v1", "--lr", "0.01", "--steps", "2,8", "--ema"]),
                                     table: table, command: "submit x")
        XCTAssertEqual(spec, ["iterations": 1000, "lr": 0.01, "sampler": "ddim", "teacher": "teacher-v1", "steps": [2, 8], "ema": true])
        XCTAssertNoThrow(try SpecFlag.validate(spec, against: table, kind: "x", artifacts: NoArtifacts()))
    }

    func testBadFlagsAreOneLineErrorsNamingTheFlag() throws {
        let cases: [([String], String)] = [
            (["--teacher", "t", "--iterations", "0"], "--iterations must be in 1…1000000, got 0"),
            (["--teacher", "t", "--lr", "abc"], "--lr must be a number"),
            (["--teacher", "t", "--sampler", "euler"], "--sampler must be one of ddim, addim"),
            (["--teacher", "t", "--steps", "1,x"], "--steps must be a comma-separated list"),
            (["--teacher", "t", "--steps", "0,2"], "--steps values must be in 1…1024"),
            ([], "--teacher is required"),
        ]
        for (args, message) in cases {
            XCTAssertThrowsError(try SpecFlag.spec(from: flags(args), table: table, command: "submit x"), "\(args)") { e in
                XCTAssertTrue("\(e)".contains(message), "\(e)")
                XCTAssertFalse("\(e)".contains("\n"))
            }
        }
        XCTAssertThrowsError(try flags(["--nope", "1"])) { XCTAssertEqual("\($0)", "submit x: unknown flag --nope (see submit x --help)") }
    }

    func testSpecValidationCatchesWhatFlagsCannot() throws {
        let ok: JSON = ["iterations": 5, "lr": 0.1, "sampler": "ddim", "teacher": "teacher-v1", "steps": [1], "ema": false]
        let cases: [(JSON, String)] = [
            (ok.setting("extra", 1), "unknown key 'extra'"),
            (ok.setting("iterations", 2.5), "'iterations' must be an integer"),
            (ok.setting("lr", 5), "'lr' must be in"),
            (ok.setting("teacher", "missing"), "no artifact 'missing'"),
            (ok.setting("steps", []), "'steps' must be a non-empty list"),
            (.array([]), "must be a JSON object"),
        ]
        for (spec, message) in cases {
            XCTAssertThrowsError(try SpecFlag.validate(spec, against: table, kind: "x", artifacts: NoArtifacts())) { e in
                XCTAssertTrue("\(e)".hasPrefix("x spec: "), "\(e)")
                XCTAssertTrue("\(e)".contains(message), "\(e)")
            }
        }
        var noTeacher = ok.object!
        noTeacher["teacher"] = nil
        XCTAssertThrowsError(try SpecFlag.validate(.object(noTeacher), against: table, kind: "x", artifacts: nil)) {
            XCTAssertTrue("\($0)".contains("'teacher' is required"))
        }
    }

    func testShortFlagsAndDynamicCommandFlags() throws {
        let f = try Flags(["7", "-f"], spec: [.bool("follow", short: "f", "follow")], command: "logs")
        XCTAssertTrue(f.bool("follow"))
        XCTAssertEqual(f.positional, ["7"])
        XCTAssertThrowsError(try Flags(["-g"], spec: [.bool("follow", short: "f", "follow")], command: "logs"))
    }
}
