import Datasets
import Models
import XCTest

/// Models spells out the shapes world's words (`Tokenizer.shapesWords`) so it need not import
/// Datasets; they must stay exactly the grammar's vocabulary, in its order (the ids follow it).
final class ShapesVocabularyTests: XCTestCase {
    func testTokenizerWordsAreTheShapesWorldVocabulary() {
        XCTAssertEqual(Tokenizer.shapesWords, ShapesWorld.vocabulary)
        XCTAssertEqual(Tokenizer.shapes.words, ShapesWorld.vocabulary)
        XCTAssertEqual(Tokenizer.shapes.vocabularySize, 32)
    }
}
