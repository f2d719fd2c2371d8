import Foundation
import XCTest
@testable import Datasets

final class ShapesWorldTests: XCTestCase {
    /// The checkout's Prompts/ folder, found from this file's path.
    var promptsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Prompts")
    }

    func testSplitSizes() {
        XCTAssertEqual(ShapesWorld.trainingScenes.count, 900)
        XCTAssertGreaterThanOrEqual(Set(ShapesWorld.trainingCaptions).count, 200)
        XCTAssertEqual(ShapesWorld.heldOutScenes.count, 150)
        XCTAssertGreaterThanOrEqual(Set(ShapesWorld.heldOutCaptions).count, 24)
        XCTAssertEqual(Set(ShapesWorld.heldOutCaptions).count, ShapesWorld.heldOutCaptions.count, "held-out prompts distinct")
    }

    func testHeldOutPromptsCombineAttributesTrainingNeverShows() {
        let trainingPairs = Set(ShapesWorld.trainingScenes.map { [$0.colour, $0.shape] })
        let training = Set(ShapesWorld.trainingCaptions)
        for scene in ShapesWorld.heldOutPromptScenes {
            XCTAssertTrue(ShapesWorld.isHeldOut(scene))
            XCTAssertFalse(trainingPairs.contains([scene.colour, scene.shape]), scene.caption)
            XCTAssertFalse(training.contains(scene.caption))
        }
        // Every colour and every shape is still seen in training, with other partners.
        XCTAssertEqual(Set(ShapesWorld.trainingScenes.map { $0.colour }).count, 7)
        XCTAssertEqual(Set(ShapesWorld.trainingScenes.map { $0.shape }).count, 5)
        // And the held-out prompts cover both sizes, every position and every background.
        for a: SceneAttribute in [.size, .position, .background] {
            XCTAssertEqual(Set(ShapesWorld.heldOutPromptScenes.map { $0[a] }).count, a.classCount, "\(a)")
        }
    }

    func testVocabularyCoversEveryCaptionWord() {
        let words = Set(SceneLabels.all.flatMap { Caption.words($0.caption) })
        XCTAssertEqual(Set(ShapesWorld.vocabulary), words)
        XCTAssertEqual(ShapesWorld.vocabulary.count, 28)
        XCTAssertEqual(Array(ShapesWorld.vocabulary.prefix(4)), ["a", "small", "large", "red"])
    }

    func testCommittedPromptFilesMatchTheGrammar() throws {
        for (name, expected) in PromptFiles.contents {
            let url = promptsDirectory.appendingPathComponent(name)
            let committed = try String(contentsOf: url, encoding: .utf8)
            XCTAssertEqual(committed, expected, "Prompts/\(name) is stale: run `mscm-ctl dataset prompts --out Prompts`")
        }
        XCTAssertEqual(try PromptFiles.read(promptsDirectory.appendingPathComponent("heldout.txt"), grammarOnly: true),
                       ShapesWorld.heldOutCaptions)
        XCTAssertEqual(try PromptFiles.read(promptsDirectory.appendingPathComponent("train.txt"), grammarOnly: true),
                       ShapesWorld.trainingCaptions)
    }

    func testPromptFileErrorsNameTheLine() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("p.txt")
        try Data("# comment\r\n\r\na small red circle in the centre on a black background\r\na purple blob\n".utf8).write(to: url)
        XCTAssertEqual(try PromptFiles.read(url).count, 2)
        XCTAssertThrowsError(try PromptFiles.read(url, grammarOnly: true)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(url.path) line 4: caption 'a purple blob'"), "\(e)")
        }
        try Data("# only a comment\n".utf8).write(to: url)
        XCTAssertThrowsError(try PromptFiles.read(url))
        XCTAssertThrowsError(try PromptFiles.read(dir.appendingPathComponent("missing.txt")))
    }
}
