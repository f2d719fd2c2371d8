import Formats
import Foundation
import JobQueue
import Training
import XCTest
import Evaluation
import Models
@testable import Jobs

/// Validation during training (issue 17) through real jobs: the figures land in the job's
/// history beside the loss, the best student snapshot is kept, and a run with validation
/// trains exactly the same student as one without.
final class TrainingValidationTests: ScratchTestCase {
    var worker: Worker?

    override func tearDown() {
        worker?.stop(); worker?.wait()
        super.tearDown()
    }

    func startWorker() throws {
        var c = WorkerConfig(id: "validating")
        c.conninfo = scratch.url
        c.lease = 10
        c.poll = 0.1
        c.log = { _ in }
        worker = try Worker(config: c, handlers: JobRegistry.all)
        worker?.start()
    }

    func submit(_ kind: String, _ spec: JSON) throws -> Int64 {
        var job = NewJob(kind: kind, spec: spec)
        try JobRegistry.handler(for: kind)!.prepare(&job, artifacts: ArtifactStore(handle.get()))
        return try store.submit(job).id
    }

    func testValidationFiguresGoIntoTheHistoryAndChangeNothingTrained() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("validation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dir_ = dir.path
        let teacherFile = dir.appendingPathComponent("teacher.safetensors")
        let config = TeacherTrainingConfig(model: .tiny, iterations: 4, batchSize: 4, learningRate: 3e-3, warmupSteps: 1,
                                           emaDecay: 0.5, seed: 1, checkpointEvery: 0, xvarSteps: 4, xvarExamples: 4)
        let trainer = try TeacherTrainer(config: config, dataset: config.openDataset())
        _ = try trainer.run()
        try trainer.writeTeacher(to: teacherFile)
        let artifacts = try ArtifactStore(handle.get())
        try artifacts.put(name: "teacher-tiny", kind: "teacher", file: teacherFile)
        let judge = dir.appendingPathComponent("judge.safetensors")
        try EvaluatorFile.write(try Evaluator(config: .tiny), to: judge)
        try artifacts.put(name: "judge", kind: "evaluator", file: judge)

        let base: [String: JSON] = ["teacher": "teacher-tiny", "steps": 2, "teacher_steps": 4, "iterations": 6, "batch": 2,
                                    "checkpoint_every": 0]
        let plain = try submit("distill", .object(base.merging(["name": "plain"]) { $1 }))
        let validated = try submit("distill", .object(base.merging(["name": "validated", "validate_every": 3,
                                                                    "validation_evaluator": "judge", "validation_prompts": 2,
                                                                    "validation_seeds": 1]) { $1 }))
        let teacherJob = try submit("train-teacher", ["preset": "tiny", "iterations": 4, "batch": 2, "validate_every": 2,
                                                      "validation_evaluator": "judge", "validation_prompts": 2])
        try startWorker()
        try eventually(120, "all three done") { try [plain, validated, teacherJob].allSatisfy { try job($0).state.isFinal } }
        for id in [plain, validated, teacherJob] {
            let j = try job(id)
            XCTAssertEqual(j.state, .succeeded, j.error ?? "")
        }
        XCTAssertEqual(try job(plain).result?["student"], try job(validated).result?["student"],
                       "validation draws from its own seeds: the student is byte-identical")

        let history = try store.history(validated)
        XCTAssertEqual(history.filter { $0.figures["val_kid"] != nil }.map(\.iteration), [3, 6])
        XCTAssertNotNil(history.last?.figures["val_clip"]?.double)
        XCTAssertNotNil(history.last?.figures["loss"]?.double)
        XCTAssertEqual(try artifacts.info("validated-best")?.kind, "student", "the best snapshot is kept")
        XCTAssertNil(try artifacts.info("plain-best"))
        XCTAssertEqual(try store.history(teacherJob).filter { $0.figures["val_fid"] != nil }.map(\.iteration), [2, 4])

        // An evaluation of the validated student draws its training curves.
        let report = try submit("evaluate", ["evaluator": "judge", "entries": ["validated"], "seeds": 2])
        try eventually(120, "evaluated") { try job(report).state.isFinal }
        let done = try job(report)
        XCTAssertEqual(done.state, .succeeded, done.error ?? "")
        let artifactsOfReport = done.result?["artifacts"]?.array?.compactMap(\.string) ?? []
        XCTAssertTrue(artifactsOfReport.contains { $0.hasSuffix("/curves/curve-01.svg") }, "\(artifactsOfReport)")
        // The report's feature statistics are files pytorch-fid (and `mscm-ctl fid`) read: the
        // FID recomputed from them is the report's.
        let real = dir_ + "/real.npz", entry = dir_ + "/entry-01.npz"
        let reportName = try XCTUnwrap(done.result?["report"]?.string)
        XCTAssertEqual(try ctl("artifacts", "export", "\(reportName)/stats/real.npz", "--out", real).status, 0)
        XCTAssertEqual(try ctl("artifacts", "export", "\(reportName)/stats/entry-01.npz", "--out", entry).status, 0)
        let fid = try ctl("fid", real, entry)
        XCTAssertEqual(fid.status, 0, fid.err)
        let recomputed = try XCTUnwrap(Double(fid.out.split(separator: "\n")[0].dropFirst(4)))
        let reported = try XCTUnwrap(done.result?["entries"]?.array?.first?["fid"]?.double)
        XCTAssertEqual(recomputed, reported, accuracy: 1e-6 * max(1, reported))
        if let dir = done.result?["report_dir"]?.string {
            let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
            XCTAssertTrue(html.contains("<h2>Training curves</h2>") && html.contains("validated: loss during training"), "no curves in the page")
            XCTAssertTrue(html.contains("validated: val kid during training"))
            try? FileManager.default.removeItem(atPath: dir)
        }

        let csv = try ctl("history", String(validated), "--csv")
        XCTAssertEqual(csv.status, 0, csv.err)
        XCTAssertTrue(csv.out.hasPrefix("iteration,attempt,loss,"), csv.out)
        XCTAssertEqual(try ctl("submit", "distill", "--teacher", "teacher-tiny", "--steps", "2", "--validate-every", "5").err,
                       "mscm-ctl submit: distill spec: 'validate_every' needs 'validation_evaluator' (--validation-evaluator)\n")
    }
}
