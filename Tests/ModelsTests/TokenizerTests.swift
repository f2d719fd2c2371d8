import XCTest
import Datasets
@testable import Models

final class TokenizerTests: XCTestCase {
    let tok = Tokenizer.shapes

    func testVocabularyIdsAreStable() {
        // Pinned: changing these invalidates every trained text encoder.
        XCTAssertEqual(tok.vocabularySize, 32)
        XCTAssertEqual(tok.maxLength, 16)
        XCTAssertEqual([Tokenizer.pad, Tokenizer.unk, Tokenizer.bos, Tokenizer.eos], [0, 1, 2, 3])
        XCTAssertEqual(["a", "small", "large", "red", "magenta", "circle", "cross", "in", "bottom", "on", "black", "white", "background"].map(tok.id),
                       [4, 5, 6, 7, 13, 14, 18, 19, 26, 27, 28, 30, 31])
    }

    func testEncodeKnownCaption() {
        let e = tok.encode("a small red circle in the centre on a black background")
        XCTAssertEqual(e.ids, [2, 4, 5, 7, 14, 19, 20, 21, 27, 4, 28, 31, 3, 0, 0, 0])
        XCTAssertEqual(e.mask, [Float](repeating: 1, count: 13) + [0, 0, 0])
    }

    func testEveryGrammarCaptionFitsAndDecodesBack() {
        for labels in SceneLabels.all {
            let e = tok.encode(labels.caption)
            XCTAssertEqual(e.ids.count, 16)
            XCTAssertFalse(e.ids.contains(Tokenizer.unk), labels.caption)
            XCTAssertEqual(e.ids[Int(e.mask.reduce(0, +)) - 1], Tokenizer.eos, "not truncated: \(labels.caption)")
            XCTAssertEqual(tok.decode(e.ids), labels.caption)
        }
    }

    func testUnknownWordsAndOverlongCaptionsNeverFail() {
        let e = tok.encode("A purple Zebra!")
        XCTAssertEqual(e.ids.prefix(5), [2, 4, 1, 1, 3])
        XCTAssertEqual(tok.decode(e.ids), "a <unk> <unk>")
        let long = String(repeating: "red circle ", count: 40) + "élan 🙂 日本"
        let l = tok.encode(long)
        XCTAssertEqual(l.ids.count, 16)
        XCTAssertEqual(l.mask, [Float](repeating: 1, count: 16))
        XCTAssertEqual(l.ids.first, Tokenizer.bos)
        XCTAssertEqual(l.ids.last, Tokenizer.eos)
        XCTAssertEqual(Array(l.ids[1..<15]), [Int32](repeating: 0, count: 14).enumerated().map { $0.offset % 2 == 0 ? 7 : 14 })
        XCTAssertEqual(tok.decode([99, -5, 4]), "<unk> <unk> a")
    }

    func testEmptyCaptionKeepsBosAndEos() {
        let e = tok.encode("")
        XCTAssertEqual(e.ids, [2, 3] + [Int32](repeating: 0, count: 14))
        XCTAssertEqual(e.mask.reduce(0, +), 2)
        XCTAssertEqual(tok.encode("  ...  ").ids, e.ids)
    }

    func testBatchIsRowMajor() {
        let captions = ["a red circle", "", "a large blue cross at the top left on a grey background"]
        let b = tok.encode(batch: captions)
        XCTAssertEqual(b.ids.count, 3 * 16)
        for (i, c) in captions.enumerated() {
            XCTAssertEqual(Array(b.ids[(i * 16)..<((i + 1) * 16)]), tok.encode(c).ids)
            XCTAssertEqual(Array(b.mask[(i * 16)..<((i + 1) * 16)]), tok.encode(c).mask)
        }
    }

    func testShortMaxLengthTruncatesToBosAndEos() {
        let t = Tokenizer(words: ShapesWorld.vocabulary, maxLength: 2)
        XCTAssertEqual(t.encode("a small red circle").ids, [2, 3])
        XCTAssertEqual(t, Tokenizer(words: ShapesWorld.vocabulary, maxLength: 2))
        XCTAssertNotEqual(t, tok)
    }
}
