import Foundation
import FuzzSupport
import XCTest
import CommandLineKit
import JobQueue
import Jobs

/// The flag parser and the spec flags built on it (`mscm-ctl submit`), on mutated argument
/// lists: parsed values or one `UsageError` line.
final class FlagsFuzzTests: XCTestCase {
    let spec: [FlagSpec] = [.value("steps", "N", "n"), .value("guidance", "W", "w"), .bool("json", "j"),
                            .bool("follow", short: "f", "f"), .value("names", "LIST", "l"), .value("mode", "M", "m")]
    let table: [SpecFlag] = [
        SpecFlag("steps", .int(1...1_000_000), default: 8, help: "n"),
        SpecFlag("guidance", .double(0...100), help: "w"),
        SpecFlag("json", .bool, help: "j"),
        SpecFlag("follow", .bool, help: "f"),
        SpecFlag("names", .strings, help: "l"),
        SpecFlag("mode", .choice(["cd", "ct"]), help: "m"),
    ]
    static let words = ["--steps", "--guidance", "--json", "--follow", "-f", "--names", "--mode", "--", "--steps=",
                        "--json=true", "-", "--=", "---", "-x", "16", "0.5", "-1", "1e999", "nan", "cd", "a,b,,c", "",
                        "two\nlines", "tab\there", "é😀", "9223372036854775808", "--guidance=-0", "--mode=ct"]

    func testMutatedArgumentsParseOrFailInOneLine() {
        var m = Mutator(seed: Fuzz.seed ^ 0x464C)
        let result = fuzzCases(Fuzz.cases(1500), { _ in
            var args = (0..<m.rng.below(7)).map { _ in m.rng.pick(Self.words) }
            if !args.isEmpty, m.rng.chance(0.5) {
                let i = m.rng.below(args.count)
                args[i] = String(decoding: m.mutate(Array(args[i].utf8)), as: UTF8.self)
            }
            do {
                let flags = try Flags(args, spec: spec, command: "mscm-ctl submit")
                _ = try flags.int("steps", range: 1...1_000_000)
                _ = try flags.double("guidance", range: 0...100)
                _ = try SpecFlag.spec(from: flags, table: table, command: "mscm-ctl submit")
                return nil
            } catch let e as UsageError {
                return e
            } catch {
                XCTFail("not a UsageError: \(error)")
                return error
            }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0) }   // some mutants stay valid
    }

    /// An argument holding a newline (quoted into the message) used to make a two-line error.
    func testArgumentsCannotBreakTheErrorLine() throws {
        XCTAssertThrowsError(try Flags(["--no\nsuch"], spec: spec, command: "t")) {
            XCTAssertEqual("\($0)", #"t: unknown flag --no\nsuch (see t --help)"#)
        }
        let f = try Flags(["--steps", "1\n2", "--mode", "c\nd"], spec: spec, command: "t")
        XCTAssertThrowsError(try f.int("steps")) { XCTAssertEqual("\($0)", #"t: --steps must be an integer, got '1\n2'"#) }
        XCTAssertThrowsError(try SpecFlag.spec(from: f, table: Array(table.suffix(1)), command: "t")) {
            XCTAssertEqual("\($0)", #"t: --mode must be one of cd, ct, got 'c\nd'"#)
        }
    }
}
