import Datasets
import Formats
import Foundation
import JobQueue
import Training
import XCTest
import Models
@testable import Jobs

/// Datasets a fleet can share: `dataset import` validates a folder and stores it as one
/// `dataset` artifact; `train-teacher --dataset NAME` pins it at submit and any worker fetches
/// it through the database; a teacher trained on it follows the folder's own words.
final class DatasetImportTests: ScratchTestCase {
    var workers: [Worker] = []

    override func tearDown() {
        for w in workers { w.stop(); w.wait() }
        super.tearDown()
    }

    func startWorker(_ id: String) throws {
        var c = WorkerConfig(id: id)
        c.conninfo = scratch.url
        c.lease = 10
        c.poll = 0.1
        c.log = { _ in }
        let w = try Worker(config: c, handlers: JobRegistry.all)
        w.start()
        workers.append(w)
    }

    func patternFolder(count: Int = 48) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("patterns-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try PatternFolder.write(count: count, size: 16, format: .csv, captionKey: "caption", to: dir)
        return dir
    }

    var artifacts: ArtifactStore { get throws { ArtifactStore(try handle.get()) } }

    func storedCount() throws -> Int {
        Int(try handle.get().query("SELECT (SELECT count(*) FROM artifacts) + (SELECT count(*) FROM blobs) AS n").first!["n"]!)!
    }

    func testImportRefusesACorruptPNGWithOneLineAndStoresNothing() throws {
        let dir = try patternFolder(count: 6)
        let victim = dir.appendingPathComponent("pattern-0004.png")
        let bytes = try Data(contentsOf: victim)
        try bytes.prefix(bytes.count / 2).write(to: victim)
        XCTAssertThrowsError(try DatasetImport.run(dir, name: "mine", store: artifacts)) { e in
            XCTAssertTrue("\(e)".contains("metadata.csv line 6"), "\(e)")
            XCTAssertTrue("\(e)".contains("pattern-0004.png"), "\(e)")
            XCTAssertFalse("\(e)".contains("\n"), "\(e)")
        }
        XCTAssertEqual(try storedCount(), 0)
        // The command says the same in one line, and exits non-zero.
        if let r = try? ctl("dataset", "import", dir.path, "--name", "mine") {
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.contains("pattern-0004.png"), r.err)
            XCTAssertEqual(try storedCount(), 0)
        }
    }

    func testNamesAreCheckedBeforeTheFolderIsRead() throws {
        let missing = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)")
        for (name, why) in [("shapes", "built-in"), ("a/b", "path"), ("deadbeef00", "sha256")] {
            XCTAssertThrowsError(try DatasetImport.run(missing, name: name, store: artifacts)) { XCTAssertTrue("\($0)".contains(why), "\($0)") }
        }
        XCTAssertThrowsError(try DatasetImport.run(missing, name: "fine", store: artifacts)) { XCTAssertTrue("\($0)".contains("no such folder"), "\($0)") }
        let dir = try patternFolder(count: 4)
        let first = try DatasetImport.run(dir, name: "mine", store: artifacts)
        XCTAssertEqual(first.info.kind, "dataset")
        XCTAssertEqual(try DatasetImport.run(dir, name: "mine", store: artifacts).info.sha256, first.info.sha256, "importing the same folder again is a no-op")
        try PatternFolder.write(count: 5, size: 16, to: dir)
        XCTAssertThrowsError(try DatasetImport.run(dir, name: "mine", store: artifacts)) { XCTAssertTrue("\($0)".contains("is taken"), "\($0)") }
        XCTAssertNotEqual(try DatasetImport.run(dir, name: "mine", replace: true, store: artifacts).info.sha256, first.info.sha256)
    }

    func prepared(_ spec: JSON) throws -> NewJob {
        var job = NewJob(kind: TrainTeacherJob.kind, spec: spec)
        try TrainTeacherJob.prepare(&job, artifacts: artifacts)
        return job
    }

    func testSubmitResolvesAndChecksTheDataset() throws {
        let dir = try patternFolder(count: 8)
        let info = try DatasetImport.run(dir, name: "mine", store: artifacts).info
        let pinned = try prepared(["preset": "tiny", "dataset": "mine"])
        XCTAssertEqual(pinned.spec["dataset"]?.string, info.sha256)
        XCTAssertEqual(pinned.inputs, [PinnedInput(key: "dataset", ref: "mine", sha256: info.sha256)])
        XCTAssertEqual(try prepared(["dataset": "shapes"]).spec["dataset"], "shapes")
        // A folder the client sees is opened at submit and made absolute; one it cannot see must be absolute.
        XCTAssertEqual(try prepared(["preset": "tiny", "dataset": .string(dir.path + "/.")]).spec["dataset"]?.string, dir.standardizedFileURL.path)
        XCTAssertEqual(try prepared(["dataset": "/shared/nfs/pictures"]).spec["dataset"], "/shared/nfs/pictures")
        try artifacts.put(name: "not-data", kind: "teacher", data: Data("x".utf8))
        let cases: [(JSON, String)] = [
            (["dataset": "nosuch"], "no dataset artifact 'nosuch'"),
            (["dataset": "relative/not/here"], "must be absolute"),
            (["dataset": "not-data"], "has kind teacher, not dataset"),
            (["dataset": "mine", "caption_key": "caption"], "caption_key"),
            (["dataset": "shapes", "heldout": 0.1], "image-folder datasets"),
            (["preset": "tiny", "dataset": .string(dir.path), "caption_key": "prompt"], "\"prompt\""),
            (["preset": "tiny", "dataset": .string(dir.path), "heldout": 0.99], "no usable examples"),
            (["resolution": 24], "16, 32, 64"),
        ]
        for (spec, expected) in cases {
            XCTAssertThrowsError(try prepared(spec), "\(spec)") { e in
                XCTAssertTrue("\(e)".contains(expected), "\(spec): '\(e)' should contain '\(expected)'")
                XCTAssertFalse("\(e)".contains("\n"), "\(e)")
            }
        }
        try Data("oops".utf8).write(to: dir.appendingPathComponent("pattern-0002.png"))
        XCTAssertThrowsError(try prepared(["preset": "tiny", "dataset": .string(dir.path), "heldout": 0])) {
            XCTAssertTrue("\($0)".contains("pattern-0002.png"), "\($0)")
        }
    }

    func testATeacherTrainedOnAnImportedDatasetLearnsItsWordsAndSamples() throws {
        let dir = try patternFolder()
        let imported = try DatasetImport.run(dir, name: "patterns", store: artifacts)
        try startWorker("a")
        let job = try prepared(["preset": "tiny", "dataset": "patterns", "iterations": 6, "batch": 4, "seed": 3, "checkpoint_every": 3,
                                "heldout": 0.25])
        let id = try store.submit(job).id
        try eventually(120, "the teacher job succeeded") { [.succeeded, .failed].contains(try self.job(id).state) }
        let done = try self.job(id)
        XCTAssertEqual(done.state, .succeeded, "\(done.errors)")
        XCTAssertEqual(done.spec["dataset"]?.string, imported.info.sha256)
        let result = try XCTUnwrap(done.result)
        let log = try store.events(id).map(\.message).joined(separator: "\n")
        XCTAssertTrue(log.contains("36 training pictures, 12 held out"), log)
        XCTAssertTrue(log.contains("vocabulary: "), log)
        XCTAssertEqual(result["vocabulary_coverage"]?.double, 1)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("teacher-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try artifacts.export(try XCTUnwrap(result["teacher"]?.string), to: file)
        let teacher = try ModelFile.load(file, expectedKind: TeacherTrainer.teacherKind)
        let tok = teacher.model.tokenizer
        XCTAssertEqual(result["vocabulary_size"]?.int, tok.vocabularySize)
        // Every word of the training split is known; the held-out captions' words are too here
        // (each word is in many combinations), but no held-out caption was seen whole.
        let train = try ImageFolderDataset(directory: dir, resolution: 16, split: .train, heldout: 0.25, captionKey: "caption")
        for w in Set(train.items.flatMap { Tokenizer.words($0.caption) }) { XCTAssertNotEqual(tok.id(w), Tokenizer.unk, w) }
        XCTAssertEqual(tok.unknownWords(in: "a magenta wavy pattern on navy"), ["magenta", "wavy"])
        let x = try TextToImageSampling.sample(teacher.model, prompts: ["a teal dotted pattern on cream"], seed: 0, sampler: .addim,
                                               steps: 4, guidance: 2, xvar: teacher.xvar)
        XCTAssertEqual(x.shape, [1, 16, 16, 3])
        XCTAssertTrue(x.isFinite)

        // A student distils on the teacher's own training split, fetched by the dataset's sha256.
        var distill = NewJob(kind: DistillJob.kind, spec: ["teacher": .string(try XCTUnwrap(result["teacher"]?.string)), "steps": 2,
                                                           "iterations": 2, "batch": 2, "checkpoint_every": 1])
        try DistillJob.prepare(&distill, artifacts: artifacts)
        let sid = try store.submit(distill).id
        try eventually(120, "the distill job finished") { [.succeeded, .failed].contains(try self.job(sid).state) }
        let distilled = try self.job(sid)
        XCTAssertEqual(distilled.state, .succeeded, "\(distilled.errors)")
        let studentFile = FileManager.default.temporaryDirectory.appendingPathComponent("student-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: studentFile) }
        _ = try artifacts.export(try XCTUnwrap(try self.job(sid).result?["student"]?.string), to: studentFile)
        XCTAssertEqual(try ModelFile.load(studentFile).model.tokenizer, tok)
        let distillLog = try store.events(sid).map(\.message).joined(separator: "\n")
        XCTAssertTrue(distillLog.contains("dataset patterns (\(imported.info.sha256.prefix(12))"), distillLog)
    }
}
