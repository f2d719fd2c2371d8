import Formats
import Foundation
import JobQueue
import XCTest
import Datasets
import Evaluation
import Models
@testable import Jobs

/// Issue 18 item 4 on the real queue: `train-evaluator --dataset` on an imported pattern
/// dataset (pinned to its sha256 like train-teacher's), a tiny teacher trained on the same
/// dataset, and an `evaluate` that takes its prompts and real pictures from the held-out split
/// and scores FID, KID and CLIP in the folder evaluator's spaces (attribute accuracy "—"); a
/// judge trained on other data is refused with one line, at submit and at run time.
final class FolderEvaluatorJobTests: ScratchTestCase {
    var workers: [Worker] = []
    var cleanup: [URL] = []

    override func tearDown() {
        for w in workers { w.stop(); w.wait() }
        for u in cleanup { try? FileManager.default.removeItem(at: u) }
        super.tearDown()
    }

    var artifacts: ArtifactStore { get throws { ArtifactStore(try handle.get()) } }

    func startWorker() throws {
        var c = WorkerConfig(id: "folder-eval")
        c.conninfo = scratch.url
        c.lease = 10
        c.poll = 0.1
        c.log = { _ in }
        let w = try Worker(config: c, handlers: JobRegistry.all)
        w.start()
        workers.append(w)
    }

    /// Validates and pins like `mscm-ctl submit`, then queues.
    func submit(_ kind: String, _ spec: JSON) throws -> Int64 {
        var job = NewJob(kind: kind, spec: spec)
        try JobRegistry.handler(for: kind)!.prepare(&job, artifacts: artifacts)
        return try store.submit(job).id
    }

    func waitFor(_ id: Int64, _ timeout: Double = 300) throws -> Job {
        try eventually(timeout, "job \(id) finished") { try job(id).state.isFinal }
        return try job(id)
    }

    func testEachKindOfFileNamesItsDataset() {
        XCTAssertEqual(ModelHeader(metadata: ["kind": "evaluator"]).datasetSource, "shapes", "an evaluator from before folders")
        XCTAssertEqual(ModelHeader(metadata: ["kind": "evaluator", "dataset": "abc"]).datasetSource, "abc")
        XCTAssertEqual(ModelHeader(metadata: ["kind": "teacher", "training": #"{"dataset": "/data/x", "seed": 0}"#]).datasetSource, "/data/x")
        XCTAssertEqual(ModelHeader(metadata: ["kind": "student", "distillation": #"{"dataset": "f00d"}"#]).datasetSource, "f00d",
                       "a student records its teacher's dataset in its distillation config")
        XCTAssertEqual(ModelHeader(metadata: ["kind": "teacher"]).datasetSource, "shapes", "a model without a training record")
        XCTAssertEqual(ModelHeader(metadata: ["kind": "teacher", "training": "not json"]).datasetSource, "shapes")
    }

    func testFolderEvaluatorTrainsJudgesATeacherOfItsDatasetAndRefusesOthers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("patterns-\(UUID().uuidString)")
        cleanup.append(dir)
        try PatternFolder.write(count: 48, size: 16, format: .csv, captionKey: "caption", to: dir)
        let imported = try DatasetImport.run(dir, name: "patterns", store: artifacts)
        try startWorker()

        let teacherJob = try submit("train-teacher", ["preset": "tiny", "dataset": "patterns", "iterations": 4, "batch": 4, "seed": 3,
                                                      "heldout": 0.25, "name": "pattern-teacher"])
        let judgeJob = try submit("train-evaluator", ["dataset": "patterns", "heldout": 0.25, "iterations": 40, "batch": 16, "seed": 1,
                                                      "name": "pattern-judge"])
        XCTAssertEqual(try job(judgeJob).spec["dataset"]?.string, imported.info.sha256, "pinned at submit")
        let shapesJudgeJob = try submit("train-evaluator", ["iterations": 2, "batch": 8, "name": "shapes-judge"])
        let otherSplitJudgeJob = try submit("train-evaluator", ["dataset": "patterns", "iterations": 2, "batch": 8, "name": "five-percent-judge"])
        for id in [teacherJob, judgeJob, shapesJudgeJob, otherSplitJudgeJob] {
            let j = try waitFor(id)
            XCTAssertEqual(j.state, .succeeded, "\(j.errors)")
        }
        let trained = try job(judgeJob)
        XCTAssertEqual(trained.result?["dataset"]?.string, imported.info.sha256)
        XCTAssertEqual(trained.result?["dataset_name"]?.string, "patterns")
        XCTAssertNotNil(trained.result?["retrieval_top1"]?.double)
        XCTAssertEqual(trained.result?["all_attributes_accuracy"], .null, "no attributes on a folder")
        let log = try store.events(judgeJob).map(\.message).joined(separator: "\n")
        XCTAssertTrue(log.contains("36 training pictures of 18 captions, 12 held out") && log.contains("iterations of 16 distinct captions"), log)
        XCTAssertTrue(log.contains("retrieval on the held-out split"), log)

        // The report: held-out captions as prompts, held-out pictures as the reference.
        let eval = try waitFor(try submit("evaluate", ["evaluator": "pattern-judge", "entries": ["pattern-teacher:ddim:2:0"], "seeds": 2]))
        XCTAssertEqual(eval.state, .succeeded, "\(eval.errors)")
        let dirPath = try XCTUnwrap(eval.result?["report_dir"]?.string)
        cleanup.append(URL(fileURLWithPath: dirPath))
        let metrics = try MetricsDocument.read(URL(fileURLWithPath: dirPath).appendingPathComponent("metrics.json"))
        let m = try XCTUnwrap(metrics.entries.first)
        XCTAssertNotNil(m.fid); XCTAssertNotNil(m.kid); XCTAssertNotNil(m.clipScore)
        XCTAssertNil(m.attributeAccuracy, "a folder evaluator reads no attributes")
        XCTAssertEqual(m.sampleCount, 12, "6 held-out captions × 2 seeds")
        XCTAssertEqual(m.referenceCount, 12, "the 12 held-out pictures")
        XCTAssertTrue(m.featureExtractor?.contains("trained on patterns (\(imported.info.sha256.prefix(12)))") ?? false, m.featureExtractor ?? "")
        XCTAssertEqual(eval.result?["evaluator_dataset"]?.string, imported.info.sha256)
        let html = try String(contentsOfFile: dirPath + "/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("trained on dataset patterns"), "the report names the evaluator's dataset")
        print("folder evaluate: FID \(m.fid!), KID \(m.kid!), CLIP \(m.clipScore!); evaluator \(trained.result?["retrieval_top1"]?.double ?? -1)")

        // A mismatched judge: refused at submit (both headers readable), one line each way.
        for (judge, entry, expected) in [("shapes-judge", "pattern-teacher:ddim:2:0", "was trained on the shapes world but model 'pattern-teacher' on dataset \(imported.info.sha256.prefix(12))")] {
            XCTAssertThrowsError(try submit("evaluate", ["evaluator": .string(judge), "entries": [.string(entry)]])) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(e)")
                XCTAssertEqual("\(e)".split(separator: "\n").count, 1, "\(e)")
            }
        }
        // The other way round: a folder judge and a shapes-world teacher (random weights will do).
        let shapesTeacher = dir.deletingLastPathComponent().appendingPathComponent("shapes-teacher-\(UUID().uuidString).safetensors")
        cleanup.append(shapesTeacher)
        try ModelFile.write(try TextToImageModel(.tiny, seed: 7), kind: "teacher", to: shapesTeacher)
        try artifacts.put(name: "shapes-teacher", kind: "teacher", file: shapesTeacher)
        XCTAssertThrowsError(try submit("evaluate", ["evaluator": "pattern-judge", "entries": ["shapes-teacher:ddim:2:0", "pattern-teacher:ddim:2:0"]])) { e in
            XCTAssertEqual("\(e)".split(separator: "\n").count, 1, "\(e)")
            XCTAssertTrue("\(e)".hasSuffix("evaluate spec: evaluator 'pattern-judge' was trained on dataset \(imported.info.sha256.prefix(12)) but model 'shapes-teacher' on the shapes world: train an evaluator on the models' dataset (mscm-ctl submit train-evaluator --dataset …)"), "\(e)")
        }
        XCTAssertThrowsError(try submit("evaluate", ["evaluator": "pattern-judge", "entries": ["pattern-teacher:ddim:2:0"], "prompts": "/tmp/prompts.txt"])) { e in
            XCTAssertTrue("\(e)".contains("prompts must be heldout or train"), "\(e)")
        }

        // A judge that held out another fraction of the same dataset: refused when the job runs.
        let split = try waitFor(try submit("evaluate", ["evaluator": "five-percent-judge", "entries": ["pattern-teacher:ddim:2:0"]]))
        XCTAssertEqual(split.state, .failed)
        XCTAssertEqual(split.error, "evaluate: teacher 'pattern-teacher' held out 25 % of the dataset, evaluator 'five-percent-judge' 5 %: the held-out prompts would not be the ones it never saw (train the evaluator with --heldout 0.25)")

        // At run time (a submit that could not read the headers): the job fails with the same line.
        let id = try store.submit(NewJob(kind: "evaluate", spec: ["evaluator": "shapes-judge", "entries": ["pattern-teacher:ddim:2:0"]])).id
        let failed = try waitFor(id)
        XCTAssertEqual(failed.state, .failed)
        let error = failed.error ?? ""
        XCTAssertTrue(error.contains("evaluator 'shapes-judge' was trained on the shapes world but model 'pattern-teacher'"), error)
        XCTAssertFalse(error.contains("\n"), error)
    }
}
