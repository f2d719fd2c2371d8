import XCTest
@testable import Datasets

final class CaptionTests: XCTestCase {
    func testEveryScenesCaptionParsesBackToItsLabels() throws {
        let all = SceneLabels.all
        XCTAssertEqual(all.count, 5 * 7 * 2 * 5 * 3)
        XCTAssertEqual(Set(all.map { $0.caption }).count, all.count, "one distinct caption per scene")
        for labels in all { XCTAssertEqual(try Caption.parse(labels.caption), labels) }
    }

    func testKnownCaption() throws {
        let l = try Caption.parse("a small red circle at the top left on a black background")
        XCTAssertEqual(l.name(of: .size), "small")
        XCTAssertEqual(l.name(of: .colour), "red")
        XCTAssertEqual(l.name(of: .shape), "circle")
        XCTAssertEqual(l.name(of: .position), "at the top left")
        XCTAssertEqual(l.name(of: .background), "black")
        XCTAssertEqual(l.values, [0, 0, 0, 1, 0])
    }

    func testCaseSpacingAndPunctuationDoNotMatter() throws {
        let canonical = try Caption.parse("a large blue square at the bottom right on a white background")
        XCTAssertEqual(try Caption.parse("  A Large BLUE square,  at the bottom-right on a white background.\n"), canonical)
    }

    func testCaptionsOutsideTheGrammarGiveOneLineErrors() {
        let cases: [(String, String)] = [
            ("", "expected 'a' at word 1, found the end of the caption"),
            ("a red circle in the centre on a black background", "expected a size (small, large) at word 2, found 'red'"),
            ("a small purple circle in the centre on a black background", "expected a colour"),
            ("a small red hexagon in the centre on a black background", "expected a shape"),
            ("a small red circle in the middle on a black background", "expected a position"),
            ("a small red circle at the top on a black background", "expected a position"),
            ("a small red circle in the centre on a pink background", "expected a background"),
            ("a small red circle in the centre on a black background please", "unexpected 'please'"),
            ("a small red circle in the centre", "expected 'on a' at word 8, found the end of the caption"),
        ]
        for (caption, expected) in cases {
            XCTAssertThrowsError(try Caption.parse(caption), caption) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(expected), "'\(text)' should contain '\(expected)'")
                XCTAssertTrue(text.contains("outside the shapes grammar"))
                XCTAssertFalse(text.contains("\n"))
            }
        }
    }

    func testAttributeVocabularies() {
        XCTAssertEqual(SceneAttribute.counts, [5, 7, 2, 5, 3])
        XCTAssertEqual(SceneAttribute.allCases.map { $0.description }, ["shape", "colour", "size", "position", "background"])
        for a in SceneAttribute.allCases { XCTAssertEqual(Set(a.classNames).count, a.classCount, "\(a) names distinct") }
        var l = SceneLabels(values: [4, 6, 1, 4, 2])
        XCTAssertEqual(l.caption, "a large magenta cross at the bottom right on a white background")
        l[.colour] = 2
        XCTAssertEqual(l.colour, 2)
        XCTAssertEqual(SceneLabels(values: l.values), l)
    }
}
