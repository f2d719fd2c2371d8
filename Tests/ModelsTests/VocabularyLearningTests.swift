import XCTest
import Datasets
@testable import Models

/// The vocabulary learned from a dataset's training captions, and how unknown words are named.
final class VocabularyLearningTests: XCTestCase {
    let captions = (0..<48).map(PatternFolder.caption) + ["a teal zigzag pattern on cream"]

    func testLearnedVocabularyHoldsEveryTrainingWordSeenOftenEnough() {
        let (tok, report) = Tokenizer.learn(from: captions)
        let all = Set(captions.flatMap(Tokenizer.words))
        // Every word seen twice or more is in; "zigzag" (once) is reported, not silently kept.
        XCTAssertEqual(Set(tok.words), all.subtracting(["zigzag"]))
        XCTAssertEqual(report.dropped, ["zigzag"])
        XCTAssertEqual(tok.vocabularySize, 4 + all.count - 1)
        XCTAssertEqual(report.occurrences, captions.map { Tokenizer.words($0).count }.reduce(0, +))
        XCTAssertEqual(report.coverage, Double(report.occurrences - 1) / Double(report.occurrences), accuracy: 1e-12)
        XCTAssertTrue(report.line.contains("coverage") && report.line.contains("zigzag"), report.line)
        XCTAssertFalse(report.line.contains("\n"))
        // Most frequent first, ties alphabetical: "a", "on", "pattern" are in every caption.
        XCTAssertEqual(Array(tok.words.prefix(3)), ["a", "on", "pattern"])
        // A pure function of the captions' multiset: order does not matter.
        XCTAssertEqual(Tokenizer.learn(from: captions.reversed()).tokenizer, tok)
        // min count 1 keeps everything.
        XCTAssertEqual(Set(Tokenizer.learn(from: captions, minCount: 1).tokenizer.words), all)
    }

    func testNoContentWordOfThePatternsIsAShapesWord() {
        let content = Set(captions.flatMap(Tokenizer.words)).subtracting(["a", "on", "pattern"])
        XCTAssertTrue(content.isDisjoint(with: ShapesWorld.vocabulary))
        XCTAssertEqual(Tokenizer.shapes.unknownWords(in: captions[0]), ["teal", "striped", "pattern", "cream"])
    }

    func testUnknownWordsAreNamedOncePerPrompt() {
        let tok = Tokenizer.learn(from: captions).tokenizer
        XCTAssertEqual(tok.unknownWords(in: "A Magenta wavy, magenta pattern"), ["magenta", "wavy"])
        XCTAssertNil(tok.unknownWordsWarning("a teal dotted pattern on navy"))
        let w = try? XCTUnwrap(tok.unknownWordsWarning("a magenta wavy pattern"))
        XCTAssertEqual(w, "prompt \"a magenta wavy pattern\": unknown words magenta, wavy (read as <unk>; the model's vocabulary has \(tok.words.count) words)")
    }

    func testDigitsAreWordsAndGrammarCaptionsSplitAsBefore() {
        XCTAssertEqual(Tokenizer.words("A 3D render, 2x!"), ["a", "3d", "render", "2x"])
        for labels in SceneLabels.all { XCTAssertEqual(Tokenizer.words(labels.caption), Caption.words(labels.caption)) }
    }

    func testCaptionsTooLongAreCounted() {
        let long = String(repeating: "teal ", count: 20)
        let report = Tokenizer.learn(from: [long, "teal"], maxLength: 16).report
        XCTAssertEqual(report.captionsCut, 1)
        XCTAssertTrue(report.line.contains("1 caption cut at 14 words"), report.line)
    }
}
