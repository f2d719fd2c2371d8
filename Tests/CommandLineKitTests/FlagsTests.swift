import XCTest
@testable import CommandLineKit

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

    /// `--steps 4 --steps 8` is a mistake to point out, not "the last one wins".
    func testAFlagGivenTwiceIsAnError() {
        for args in [["--steps", "4", "--steps", "8"], ["--steps=4", "--steps", "8"], ["--steps", "4", "--steps", "4"]] {
            XCTAssertThrowsError(try Flags(args, spec: spec, command: "t"), "\(args)") {
                XCTAssertEqual("\($0)", "t: --steps given twice ('4' and '\(args.last!)'); give it once")
            }
        }
        XCTAssertThrowsError(try Flags(["--json", "--json"], spec: spec, command: "t")) { XCTAssertEqual("\($0)", "t: --json given twice") }
        let follow: [FlagSpec] = [.bool("follow", short: "f", "follow")]
        XCTAssertThrowsError(try Flags(["-f", "--follow"], spec: follow, command: "t")) { XCTAssertEqual("\($0)", "t: --follow given twice") }
    }

    func testAMistypedFlagSuggestsTheNearestOne() {
        XCTAssertThrowsError(try Flags(["--stpes", "4"], spec: spec, command: "t")) {
            XCTAssertEqual("\($0)", "t: unknown flag --stpes (did you mean --steps? see t --help)")
        }
        XCTAssertThrowsError(try Flags(["--guidence=3"], spec: spec, command: "t")) {
            XCTAssertEqual("\($0)", "t: unknown flag --guidence (did you mean --guidance? see t --help)")
        }
        XCTAssertThrowsError(try Flags(["--\u{1B}[31m"], spec: spec, command: "t")) {
            XCTAssertEqual("\($0)", "t: unknown flag --\\e[31m (see t --help)")
        }
    }

    /// A command whose usage lists alternatives (`schedule add … | schedule list …`) has
    /// subcommands, each with its own usage line.
    func testSubcommandsComeFromTheUsageAlternatives() {
        let schedule = Command(name: "schedule", summary: "s",
                               usage: "mscm-ctl schedule add NAME (--every D | --daily-at HH:MM) [flags] | schedule list [--json] | schedule remove NAME",
                               flags: []) { _ in }
        XCTAssertEqual(schedule.subcommands.map(\.name), ["add", "list", "remove"])
        XCTAssertEqual(schedule.subcommands.map(\.usage), ["mscm-ctl schedule add NAME (--every D | --daily-at HH:MM) [flags]",
                                                          "mscm-ctl schedule list [--json]", "mscm-ctl schedule remove NAME"])
        let dataset = Command(name: "dataset", summary: "d", usage: "mscm-ctl dataset preview --out FILE\n       mscm-ctl dataset prompts --out DIR",
                              flags: []) { _ in }
        XCTAssertEqual(dataset.subcommands.map(\.usage), ["mscm-ctl dataset preview --out FILE", "mscm-ctl dataset prompts --out DIR"])
        let list = Command(name: "list", summary: "l", usage: "mscm-ctl list [--state S] [--json]", flags: []) { _ in }
        XCTAssertTrue(list.subcommands.isEmpty)
        let status = Command(name: "status", summary: "s", usage: "mscm-ctl status JOB [--json]", flags: []) { _ in }
        XCTAssertTrue(status.subcommands.isEmpty)
    }
}
