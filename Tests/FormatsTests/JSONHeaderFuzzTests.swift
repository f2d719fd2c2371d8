import FuzzSupport
import Foundation
import XCTest
@testable import Formats

/// The safetensors header path (`JSON.parseMembers`) on mutated JSON: a value or one
/// `JSON.ParseError` line; its numbers follow RFC 8259 exactly.
final class JSONHeaderFuzzTests: XCTestCase {
    static let seeds = [
        #"{"__metadata__":{"kind":"teacher","config":"{\"a\":1}"},"w":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48]}}"#,
        #"[1, -2.5e-3, 0, true, false, null, "x\u00e9\ud83d\ude00\n", {"": []}]"#,
        #"{"a": {"b": {"c": [[[1E+2]]]}}, "d": "\\\"\/"}"#,
    ].map { Array($0.utf8) }

    func testMutatedJSONIsAValueOrOneErrorLine() {
        var m = Mutator(seed: Fuzz.seed ^ 0x4A56)
        let result = fuzzCases(Fuzz.cases(1500), { _ in
            let bytes = m.mutate(m.rng.pick(Self.seeds), corpus: Self.seeds)
            do { _ = try JSON.parseMembers(bytes: bytes); return nil } catch { return error }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0) }   // some mutants stay valid
    }

    /// Numbers used to be read by Double(String), which takes "01", "1." and ".5": the header
    /// reader accepted JSON that no other safetensors reader accepts.
    func testNumbersAreStrictRFC8259() throws {
        for bad in ["01", "1.", ".5", "-", "1e", "1e+", "+1", "-01", "[1-2]", "0x10"] {
            XCTAssertThrowsError(try JSON.parse(bytes: Array(bad.utf8)), bad)
        }
        for (good, value) in [("0", 0.0), ("-0", -0.0), ("10", 10), ("1.5e2", 150), ("1E-2", 0.01), ("-2.25", -2.25)] {
            XCTAssertEqual(try JSON.parse(bytes: Array(good.utf8)).double, value, good)
        }
        XCTAssertThrowsError(try JSON.parse(bytes: Array("1e400".utf8))) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
    }

    /// Header members come back in file order with top-level duplicates kept (the reader names
    /// the duplicate tensor); a duplicate key inside a nested object is a parse error.
    func testMembersKeepOrderAndNestedDuplicatesAreRefused() throws {
        let members = try XCTUnwrap(JSON.parseMembers(bytes: Array(#"{"b": 1, "a": {"x": 2}, "b": 3}"#.utf8)))
        XCTAssertEqual(members.map(\.key), ["b", "a", "b"])
        XCTAssertEqual(members.map(\.value), [1, ["x": 2], 3])
        XCTAssertNil(try JSON.parseMembers(bytes: Array("[1]".utf8)))
        XCTAssertThrowsError(try JSON.parseMembers(bytes: Array(#"{"m": {"k": "1", "k": "2"}}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("duplicate key"), "\($0)")
        }
        XCTAssertEqual(try JSON.parse(#"{"k": 1, "k": 2}"#), ["k": 2], "outside headers the later key wins, as before")
    }
}
