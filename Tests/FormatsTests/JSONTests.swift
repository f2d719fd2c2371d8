import Foundation
import XCTest
@testable import Formats

final class JSONTests: XCTestCase {
    func testRoundTripKeepsIntegersAndDoublesApart() throws {
        let text = #"{"a":5,"b":5.0,"c":-0.125,"d":[true,false,null],"e":"x\"y\\z\n\u00e9\ud83d\ude00","f":{}, "g":1e3, "h":[]}"#
        let v = try JSON.parse(text)
        XCTAssertEqual(v["a"], .int(5))
        XCTAssertEqual(v["b"], .double(5))
        XCTAssertEqual(v["c"]?.double, -0.125)
        XCTAssertEqual(v["d"], [true, false, nil])
        XCTAssertEqual(v["e"]?.string, "x\"y\\z\né😀")
        XCTAssertEqual(v["g"], .double(1000))
        XCTAssertEqual(try JSON.parse(v.serialized), v)
        XCTAssertEqual(try JSON.parse(v.pretty), v)
        XCTAssertEqual(JSON.double(5).serialized, "5.0")
        XCTAssertEqual(JSON.object(["b": 1, "a": 2]).serialized, #"{"a":2,"b":1}"#)
        XCTAssertEqual(JSON.double(.nan).serialized, "null")
    }

    /// An independent parser (Foundation's) reads our output as the same values.
    func testSerialisationAgreesWithFoundation() throws {
        let v: JSON = ["n": 3, "x": 0.1, "s": "tab\tquote\"ctl\u{01}", "l": [1, 2.5, "z"], "o": ["k": nil]]
        let parsed = try JSONSerialization.jsonObject(with: Data(v.serialized.utf8)) as! [String: Any]
        XCTAssertEqual(parsed["n"] as? Int, 3)
        XCTAssertEqual(parsed["x"] as? Double, 0.1)
        XCTAssertEqual(parsed["s"] as? String, "tab\tquote\"ctl\u{01}")
        XCTAssertEqual((parsed["l"] as? [Any])?.count, 3)
        XCTAssertTrue((parsed["o"] as? [String: Any])?["k"] is NSNull)
    }

    func testIntAccessorAcceptsIntegralDoublesOnly() {
        XCTAssertEqual(JSON.double(16).int, 16)
        XCTAssertNil(JSON.double(16.5).int)
        XCTAssertEqual(JSON.int(3).double, 3)
        XCTAssertNil(JSON.string("3").int)
    }

    func testMalformedInputIsAOneLineError() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "tru", "[1] 2", "\"\u{01}\"", "\"\\ud800\"", "1e999"] {
            XCTAssertThrowsError(try JSON.parse(bad), bad) { e in
                XCTAssertTrue("\(e)".hasPrefix("invalid JSON at byte"), "\(e)")
                XCTAssertFalse("\(e)".contains("\n"))
            }
        }
    }
}
