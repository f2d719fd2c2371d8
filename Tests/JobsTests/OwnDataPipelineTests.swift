import Formats
import Foundation
import JobQueue
import XCTest
import Datasets
import Evaluation
import Models
@testable import Jobs

/// Issue 18's whole promise on a dataset that shares no content word with the shapes world
/// (striped / dotted / checkered / gradient patterns in teal, coral, purple), as jobs on the
/// real queue: dataset import, a tiny teacher, a student distilled from it, an evaluator
/// trained on the dataset, and one evaluation in which the trained teacher and its student
/// score clearly better than an untrained model of the same preset.
final class OwnDataPipelineTests: ScratchTestCase {
    var worker: Worker?
    var cleanup: [URL] = []

    override func tearDown() {
        worker?.stop(); worker?.wait()
        for u in cleanup { try? FileManager.default.removeItem(at: u) }
        super.tearDown()
    }

    func submit(_ kind: String, _ spec: JSON) throws -> Int64 {
        var job = NewJob(kind: kind, spec: spec)
        try JobRegistry.handler(for: kind)!.prepare(&job, artifacts: ArtifactStore(handle.get()))
        return try store.submit(job).id
    }

    func testOwnDataEndToEndBeatsAnUntrainedModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("own-\(UUID().uuidString)")
        cleanup.append(dir)
        try PatternFolder.write(count: 96, size: 16, format: .csv, captionKey: "caption", to: dir)
        _ = try DatasetImport.run(dir, name: "own", store: ArtifactStore(handle.get()))
        var c = WorkerConfig(id: "own-data")
        c.conninfo = scratch.url
        c.lease = 10
        c.poll = 0.1
        c.log = { _ in }
        worker = try Worker(config: c, handlers: JobRegistry.all)
        worker?.start()

        let common: [String: JSON] = ["preset": "tiny", "dataset": "own", "heldout": 0.25, "batch": 16, "seed": 3]
        let teacher = try submit("train-teacher", .object(common.merging(["iterations": 400, "name": "own-teacher"]) { $1 }))
        let untrained = try submit("train-teacher", .object(common.merging(["iterations": 1, "name": "own-untrained"]) { $1 }))
        let judge = try submit("train-evaluator", ["dataset": "own", "heldout": 0.25, "iterations": 60, "batch": 16, "seed": 1, "name": "own-judge"])
        let student = try submit("distill", ["teacher": .string("job:\(teacher)"), "steps": 4, "teacher_steps": 16, "iterations": 200,
                                             "batch": 8, "name": "own-student"])
        let report = try submit("evaluate", ["evaluator": .string("job:\(judge)"), "prompts": "train", "seeds": 2,
                                             "entries": [.string("job:\(teacher):ddim:16:3"), .string("job:\(student)"),
                                                         .string("job:\(untrained):ddim:16:3")]])
        try eventually(600, "the pipeline finished") { try job(report).state.isFinal }
        for id in [teacher, untrained, judge, student, report] {
            let j = try job(id)
            XCTAssertEqual(j.state, .succeeded, "job \(id) \(j.kind): \(j.error ?? "")")
        }
        // The teacher's vocabulary holds every word of its training captions.
        let log = try store.events(teacher).map(\.message).joined(separator: "\n")
        XCTAssertTrue(log.contains("coverage 100.0 %"), log)

        let dirPath = try XCTUnwrap(try job(report).result?["report_dir"]?.string)
        cleanup.append(URL(fileURLWithPath: dirPath))
        let m = try MetricsDocument.read(URL(fileURLWithPath: dirPath).appendingPathComponent("metrics.json")).entries
        XCTAssertEqual(m.count, 3)
        let (t, s, u) = (m[0], m[1], m[2])
        print(String(format: "own data: FID teacher %.2f student %.2f untrained %.2f; KID %.4f %.4f %.4f; CLIP %.2f %.2f %.2f",
                     t.fid ?? .nan, s.fid ?? .nan, u.fid ?? .nan, t.kid ?? .nan, s.kid ?? .nan, u.kid ?? .nan,
                     t.clipScore ?? .nan, s.clipScore ?? .nan, u.clipScore ?? .nan))
        for (name, e) in [("teacher", t), ("student", s)] {
            XCTAssertLessThan(try XCTUnwrap(e.fid), 0.5 * (try XCTUnwrap(u.fid)), "\(name) FID")
            XCTAssertLessThan(try XCTUnwrap(e.kid), 0.5 * (try XCTUnwrap(u.kid)), "\(name) KID")
            XCTAssertGreaterThan(try XCTUnwrap(e.clipScore), (try XCTUnwrap(u.clipScore)) + 5, "\(name) CLIP")
        }
    }
}
