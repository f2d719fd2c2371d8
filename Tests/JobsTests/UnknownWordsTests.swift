import Datasets
import Foundation
import JobQueue
import Training
import XCTest
import Models
@testable import Jobs

/// Unknown words are never silent: `sample` and an evaluate submission print one warning line
/// per prompt naming the words the model does not know; `sample --out-dir` writes an image folder.
final class UnknownWordsTests: ScratchTestCase {
    /// A tiny untrained teacher whose vocabulary is the pattern folder's, stored as an artifact.
    func patternTeacher() throws -> (file: URL, name: String) {
        let (tok, _) = Tokenizer.learn(from: (0..<48).map(PatternFolder.caption))
        var config = ModelConfig.tiny
        config.text.vocabularySize = tok.vocabularySize
        let model = try TextToImageModel(config, tokenizer: tok, seed: 1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("patterns-\(UUID().uuidString).safetensors")
        addTeardownBlock { try? FileManager.default.removeItem(at: file) }
        try ModelFile.write(model, kind: TeacherTrainer.teacherKind, to: file)
        try ArtifactStore(handle.get()).put(name: "pattern-teacher", kind: TeacherTrainer.teacherKind, file: file)
        return (file, "pattern-teacher")
    }

    func testEvaluateSubmissionWarnsOncePerPromptAndCapsTheList() throws {
        _ = try patternTeacher()
        let store = ArtifactStore(try handle.get())
        // Evaluate prompts are shapes captions: every one holds words a pattern model never saw.
        let lines = PromptVocabularyCheck.warnings(evaluateSpec: ["entries": ["pattern-teacher:ddim:4:1"], "prompts": "heldout"], store: store)
        XCTAssertEqual(lines.count, PromptVocabularyCheck.maxLinesPerModel + 1)
        XCTAssertTrue(lines[0].hasPrefix("pattern-teacher: prompt \"\(ShapesWorld.heldOutCaptions[0])\": unknown words "), lines[0])
        XCTAssertTrue(lines.last!.contains("35 more of the 40 prompts"), lines.last!)
        // A shapes teacher knows every held-out word: no warning.
        let shapes = FileManager.default.temporaryDirectory.appendingPathComponent("shapes-\(UUID().uuidString).safetensors")
        addTeardownBlock { try? FileManager.default.removeItem(at: shapes) }
        try ModelFile.write(try TextToImageModel(.tiny, seed: 1), kind: TeacherTrainer.teacherKind, to: shapes)
        try store.put(name: "shapes-teacher", kind: TeacherTrainer.teacherKind, file: shapes)
        XCTAssertEqual(PromptVocabularyCheck.warnings(evaluateSpec: ["entries": ["shapes-teacher:ddim:4:1"]], store: store), [])
    }

    func testSampleWarnsNamingTheUnknownWordsAndWritesAFolder() throws {
        let (file, _) = try patternTeacher()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("samples-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: out) }
        let r = try ctl("sample", "--model", file.path, "--prompt", "a Magenta wavy pattern on navy", "--seeds", "2", "--steps", "2",
                        "--sampler", "ddim", "--out-dir", out.path)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.err, "mscm-ctl sample: warning: prompt \"a Magenta wavy pattern on navy\": unknown words magenta, wavy (read as <unk>; the model's vocabulary has 12 words)\n")
        let folder = try ImageFolderDataset(directory: out, resolution: 16)
        XCTAssertEqual(folder.records.map(\.fileName), ["0000-a-magenta-wavy-pattern-on-navy-seed0.png", "0000-a-magenta-wavy-pattern-on-navy-seed1.png"])
        let known = try ctl("sample", "--model", file.path, "--prompt", "a teal dotted pattern on navy", "--steps", "2", "--sampler", "ddim",
                            "--out", out.appendingPathComponent("one.png").path)
        XCTAssertEqual(known.status, 0, known.err)
        XCTAssertEqual(known.err, "")
    }
}
