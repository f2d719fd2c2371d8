import XCTest
import Datasets
import Diffusion
@testable import Models
@testable import Training

/// A teacher trained on a user's folder follows the folder's words: its vocabulary is learned
/// from the training split only, sized into the model, stored in the file and read back.
final class FolderTeacherTests: XCTestCase {
    func patternFolder(count: Int = 48) throws -> URL {
        let dir = try temporaryDirectory(self)
        try PatternFolder.write(count: count, size: 16, format: .csv, captionKey: "caption", to: dir)
        return dir
    }

    func testVocabularyComesFromTheTrainingSplitAndHeldOutCaptionsStayUnseen() throws {
        let dir = try patternFolder()
        let config = try TeacherTrainingSpec(preset: "tiny", dataset: dir.path, iterations: 3, batch: 4, heldout: 0.25).resolved()
        let data = try config.openData()
        let train = try XCTUnwrap(data.dataset as? ImageFolderDataset)
        let held = try ImageFolderDataset(directory: dir, resolution: 16, split: .heldout, heldout: 0.25)
        XCTAssertEqual(train.items.count, 36)
        XCTAssertEqual(held.items.count, 12)
        XCTAssertEqual(data.heldoutCount, 12)
        let heldCaptions = Set(held.items.map(\.caption)), heldFiles = Set(held.records.map(\.fileName))
        XCTAssertTrue(heldCaptions.isDisjoint(with: train.items.map(\.caption)))
        XCTAssertTrue(heldFiles.isDisjoint(with: train.records.map(\.fileName)))
        // Three epochs of training batches never draw a held-out caption.
        for step in 0..<27 { XCTAssertTrue(heldCaptions.isDisjoint(with: train.batch(size: 4, step: step).captions)) }

        // The vocabulary is the training captions', sized into the text encoder.
        XCTAssertEqual(data.tokenizer, Tokenizer.learn(from: train.items.map(\.caption)).tokenizer)
        XCTAssertEqual(data.config.model.text.vocabularySize, data.tokenizer.vocabularySize)
        XCTAssertEqual(data.vocabulary?.coverage, 1)
        for w in Set(train.items.flatMap { Tokenizer.words($0.caption) }) { XCTAssertNotEqual(data.tokenizer.id(w), Tokenizer.unk, w) }
        // The shapes world keeps its grammar vocabulary and an unchanged config.
        let shapes = try TeacherTrainingSpec(preset: "tiny").resolved()
        XCTAssertEqual(try shapes.openData().tokenizer, .shapes)
        XCTAssertEqual(try shapes.openData().config, shapes)
        XCTAssertFalse(shapes.jsonString().contains("heldout"), "a shapes config's JSON (and so its teacher's sha256) is unchanged")
    }

    func testAFolderTeacherTrainsSavesLoadsResumesAndSamples() throws {
        let dir = try patternFolder(), work = try temporaryDirectory(self)
        let config = try TeacherTrainingSpec(preset: "tiny", dataset: dir.path, iterations: 4, batch: 4, checkpointEvery: 0).resolved()
        let trainer = try TeacherTrainer(config.openData())
        let ckpt = work.appendingPathComponent("ckpt.safetensors")
        XCTAssertEqual(try trainer.run(checkpoint: ckpt, shouldStop: { trainer.iteration == 2 }), .stopped(atIteration: 2))
        let resumed = try TeacherTrainer.resume(from: ckpt)
        XCTAssertEqual(resumed.model.tokenizer, trainer.model.tokenizer)
        XCTAssertEqual(try resumed.run(), .finished)
        let file = work.appendingPathComponent("teacher.safetensors")
        try resumed.writeTeacher(to: file)

        let teacher = try ModelFile.load(file, expectedKind: TeacherTrainer.teacherKind)
        XCTAssertEqual(teacher.model.tokenizer, trainer.model.tokenizer)
        XCTAssertTrue(teacher.model.tokenizer.words.contains("checkered"))
        XCTAssertEqual(teacher.model.tokenizer.unknownWords(in: "a purple checkered pattern on navy"), [])
        XCTAssertEqual(teacher.model.tokenizer.unknownWords(in: "a red circle"), ["red", "circle"])
        let x = try TextToImageSampling.sample(teacher.model, prompts: ["a purple checkered pattern on navy"], seed: 0,
                                               sampler: .ddim, steps: 4, guidance: 1, xvar: teacher.xvar)
        XCTAssertEqual(x.shape, [1, 16, 16, 3])
        XCTAssertTrue(x.isFinite)
    }

    func testFolderOnlySettingsAreRefusedForTheShapesWorld() {
        for spec in [TeacherTrainingSpec(heldout: 0.1), TeacherTrainingSpec(captionKey: "caption"), TeacherTrainingSpec(minWordCount: 3)] {
            XCTAssertThrowsError(try spec.resolved()) { XCTAssertTrue("\($0)".contains("image-folder datasets"), "\($0)") }
        }
        XCTAssertThrowsError(try TeacherTrainingSpec(dataset: "/x", heldout: 1).resolved())
    }
}
