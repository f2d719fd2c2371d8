import Foundation
import JobQueue
import XCTest
import Evaluation
import Models
@testable import Jobs

/// `ops/sweep`: a grid of distillations as jobs and one evaluate job waiting for them all;
/// run again, it submits nothing new.
final class SweepScriptTests: ScratchTestCase {
    func runSweep(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        guard let ops = ProjectDirectory.find("ops") else { throw XCTSkip("no ops/ directory (set MSCM_HOME)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [ops.appendingPathComponent("sweep").path] + args
        p.environment = environment.merging(["MSCM_CTL": try executable("mscm-ctl").path]) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testASweepIsDistillJobsAndOneReportWaitingForThem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let teacher = dir.appendingPathComponent("teacher.safetensors")
        try ModelFile.write(try TextToImageModel(.tiny, seed: 7), kind: "teacher", to: teacher)
        try ArtifactStore(handle.get()).put(name: "teacher-tiny", kind: "teacher", file: teacher)
        let judge = dir.appendingPathComponent("judge.safetensors")
        try EvaluatorFile.write(try Evaluator(config: .tiny), to: judge)
        try ArtifactStore(handle.get()).put(name: "judge", kind: "evaluator", file: judge)

        let args = ["--teacher", "teacher-tiny", "--evaluator", "judge", "--name", "grid", "--steps", "2,4", "--seeds", "2",
                    "--set", "lr=1e-4,2e-4", "--", "--iterations", "3", "--batch", "2"]
        let r = try runSweep(args)
        XCTAssertEqual(r.status, 0, r.err)
        let jobs = try store.list()
        let distills = jobs.filter { $0.kind == "distill" }
        XCTAssertEqual(Set(distills.compactMap { $0.spec["name"]?.string }),
                       ["grid-lr1e-4-s2", "grid-lr1e-4-s4", "grid-lr2e-4-s2", "grid-lr2e-4-s4"])
        XCTAssertEqual(Set(distills.compactMap { $0.spec["lr"]?.double }), [1e-4, 2e-4])
        XCTAssertTrue(distills.allSatisfy { $0.spec["iterations"]?.int == 3 })
        let report = try XCTUnwrap(jobs.first { $0.kind == "evaluate" })
        XCTAssertEqual(Set(report.dependsOn), Set(distills.map(\.id)), "the report waits for every student")
        XCTAssertEqual(report.spec["entries"]?.array?.count, 1 + 4 + 2, "teacher aDDIM, four students, DDIM at 2 and 4 steps")
        XCTAssertEqual(try runSweep(args).status, 0)
        XCTAssertEqual(try store.list().count, jobs.count, "the same sweep again submits nothing")
        XCTAssertEqual(try runSweep(["--teacher", "teacher-tiny"]).err, "sweep: --teacher and --evaluator are required\n")

        // Without the teacher's rows, with one chosen entry added: one entry per student plus it.
        let lean = try runSweep(["--teacher", "teacher-tiny", "--evaluator", "judge", "--name", "lean", "--steps", "2", "--seeds", "2",
                                 "--set", "ema=0,0.9", "--no-references", "--also", "teacher-tiny:ddim:8:3",
                                 "--", "--iterations", "3", "--batch", "2"])
        XCTAssertEqual(lean.status, 0, lean.err)
        let leanReport = try XCTUnwrap(try store.list().first { $0.kind == "evaluate" && $0.spec["name"]?.string == "lean" })
        let leanEntries = try XCTUnwrap(leanReport.spec["entries"]?.array)
        XCTAssertEqual(leanEntries.count, 3, "two students and the added entry, no teacher rows")
        XCTAssertEqual(leanEntries.filter { "\($0)".contains(":ddim:") }.count, 1, "\(leanEntries)")
        XCTAssertFalse(leanEntries.contains { "\($0)".contains(":addim:") }, "\(leanEntries)")

        // An ablation: one row per variant (the defaults, and one change each), not a cross product.
        let ablation = try runSweep(["--teacher", "teacher-tiny", "--evaluator", "judge", "--name", "abl", "--steps", "2", "--seeds", "2",
                                     "--no-references", "--variant", "", "--variant", "lr=1e-3 huber=1", "--variant", "anneal=2:8:3",
                                     "--", "--iterations", "3", "--batch", "2"])
        XCTAssertEqual(ablation.status, 0, ablation.err)
        let rows = try store.list().filter { $0.kind == "distill" && ($0.spec["name"]?.string ?? "").hasPrefix("abl") }
        XCTAssertEqual(Set(rows.compactMap { $0.spec["name"]?.string }), ["abl-s2", "abl-lr1e-3-huber1-s2", "abl-anneal2_8_3-s2"])
        XCTAssertEqual(rows.first { $0.spec["name"]?.string == "abl-lr1e-3-huber1-s2" }?.spec["huber"]?.double, 1)
        XCTAssertEqual(try runSweep(["--teacher", "t", "--evaluator", "e", "--variant", "lr"]).err,
                       "sweep: --variant takes \"FLAG=V FLAG=V …\", got 'lr'\n")
    }
}
