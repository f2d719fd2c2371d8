import XCTest
@testable import Formats

final class TerminalTextTests: XCTestCase {
    /// A name holding a terminal escape sequence (here: clear the screen, then red) or a
    /// right-to-left override is shown as its escapes, never obeyed by the terminal.
    func testControlAndInvisibleCharactersAreEscaped() {
        XCTAssertEqual(TerminalText.escaped("plain name-1 ✓ ü 数"), "plain name-1 ✓ ü 数")
        XCTAssertEqual(TerminalText.escaped("a\u{1B}[2J\u{1B}[31mb"), "a\\e[2J\\e[31mb")
        XCTAssertEqual(TerminalText.escaped("x\ny\tz\r"), "x\\ny\\tz\\r")
        XCTAssertEqual(TerminalText.escaped("\u{7}bell\u{7F}\u{9B}"), "\\u{7}bell\\u{7F}\\u{9B}")
        XCTAssertEqual(TerminalText.escaped("evil\u{202E}txt.exe"), "evil\\u{202E}txt.exe")
        XCTAssertEqual(TerminalText.escaped("zero\u{200B}width"), "zero\\u{200B}width")
        for s in ["\u{1B}]0;title\u{7}", "\u{0}", "a\u{85}b"] {
            XCTAssertFalse(TerminalText.escaped(s).unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, s)
        }
    }

    func testFitCutsToTheColumnsCountingWideCharacters() {
        XCTAssertEqual(TerminalText.fit("short", 10), "short")
        XCTAssertEqual(TerminalText.fit("exactly10!", 10), "exactly10!")
        XCTAssertEqual(TerminalText.fit("a longer line of text", 10), "a longer …")
        XCTAssertEqual(TerminalText.width("数据"), 4)
        XCTAssertEqual(TerminalText.fit("数据数据数据", 7), "数据数…")
        XCTAssertLessThanOrEqual(TerminalText.width(TerminalText.fit("数据数据数据", 7)), 7)
        XCTAssertEqual(TerminalText.width("[████░░░░]"), 10)
    }

    func testOutputWidthFollowsCOLUMNSElseNoneWhenNotATerminal() {
        XCTAssertEqual(TerminalText.outputWidth(environment: ["COLUMNS": "42"]), 42)
        // The tests' standard output is not a terminal: whole lines.
        if isatty(STDOUT_FILENO) == 0 { XCTAssertNil(TerminalText.outputWidth(environment: [:])) }
    }

    func testNearestSuggestsLikelyTyposOnly() {
        let flags = ["steps", "guidance", "teacher", "teacher-steps", "json"]
        XCTAssertEqual(TerminalText.nearest("stpes", among: flags), "steps")
        XCTAssertEqual(TerminalText.nearest("guidence", among: flags), "guidance")
        XCTAssertEqual(TerminalText.nearest("teacher-step", among: flags), "teacher-steps")
        XCTAssertEqual(TerminalText.nearest("jsn", among: flags), "json")
        XCTAssertNil(TerminalText.nearest("colour", among: flags))
        XCTAssertNil(TerminalText.nearest("x", among: flags))
        XCTAssertNil(TerminalText.nearest("nightly-9", among: ["nightly-3", "nightly-4"]), "a tie is no suggestion")
        XCTAssertEqual(TerminalText.editDistance("list", "lsit"), 1)
        XCTAssertEqual(TerminalText.editDistance("kitten", "sitting"), 3)
    }
}
