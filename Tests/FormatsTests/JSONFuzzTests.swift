import Foundation
import FuzzSupport
import XCTest
@testable import Formats

/// The job-spec JSON parser on mutated text: a value that serialises and parses back to
/// itself, or one `ParseError` line.
final class JSONFuzzTests: XCTestCase {
    static let seeds = [
        #"{"seconds": 5.0, "steps": 5, "checkpoint_every": 0, "fail_attempts": 0, "name": "sleep-1"}"#,
        #"{"models": ["teacher", "student-4"], "steps": [1, 2, 4, 8], "guidance": 3, "eta": 0.75, "x": null, "ok": true}"#,
        #"[-0.125, 1e3, 9007199254740993, "tab\tquote\"é😀\u00e9\ud83d\ude00", {"": {}}, [], false]"#,
    ].map { Array($0.utf8) }

    func testMutatedJSONIsAValueOrOneErrorLine() {
        var m = Mutator(seed: Fuzz.seed ^ 0x4A51)
        let result = fuzzCases(Fuzz.cases(2000), { k in
            let text = String(decoding: m.mutate(m.rng.pick(Self.seeds), corpus: Self.seeds), as: UTF8.self)
            do {
                let v = try JSON.parse(text)
                let back = try JSON.parse(v.serialized)
                if back != v { XCTFail("case \(k): \(v.serialized) reads back as \(back.serialized)") }
                XCTAssertEqual(try JSON.parse(v.pretty), v)
                return nil
            } catch let e as JSON.ParseError {
                return e
            } catch {
                XCTFail("not a ParseError: \(error)")
                return error
            }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0) }   // some mutants stay valid
    }

    /// A bad escape quoted its byte raw: a backslash before a newline gave a two-line message.
    func testBadEscapeMessagesStayOneLine() {
        for (text, expected) in [("\"\\\n\"", "bad escape: backslash before byte 0x0a"), ("\"\\q\"", "bad escape \\q"),
                                 ("\"\\\u{7F}\"", "bad escape: backslash before byte 0x7f")] {
            XCTAssertThrowsError(try JSON.parse(text)) {
                XCTAssertFalse("\($0)".contains("\n"), "\($0)")
                XCTAssertTrue("\($0)".hasSuffix(expected), "\($0)")
            }
        }
    }

    /// \u takes exactly four hex digits; UInt32(_:radix:) alone also took "+fff".
    func testUnicodeEscapesTakeFourHexDigits() throws {
        XCTAssertThrowsError(try JSON.parse(#""\u+041""#))
        XCTAssertThrowsError(try JSON.parse(#""\u-041""#))
        XCTAssertEqual(try JSON.parse(#""\u0041\u00E9""#), "Aé")
    }
}
