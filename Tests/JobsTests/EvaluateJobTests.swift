import Formats
import Foundation
import JobQueue
import Training
import XCTest
import Datasets
import Evaluation
import Models
@testable import Jobs

/// `train-evaluator` and `evaluate` through a real worker on a scratch database: a tiny
/// evaluator, a tiny random-init teacher, a report with metrics JSON, HTML, plot and grids in
/// the artifact store and in the local report directory; `mscm-ctl report latest --export`
/// copies it out; bad specs fail with one line per violation and write nothing; a schedule
/// becomes one evaluate job per due time.
final class EvaluateJobTests: ScratchTestCase {
    var workers: [Worker] = []
    var cleanup: [URL] = []

    override func tearDown() {
        for w in workers { w.stop(); w.wait() }
        for u in cleanup { try? FileManager.default.removeItem(at: u) }
        super.tearDown()
    }

    func startWorker() throws {
        var c = WorkerConfig(id: "eval")
        c.conninfo = scratch.url
        c.lease = 10
        c.poll = 0.1
        c.log = { _ in }
        let w = try Worker(config: c, handlers: JobRegistry.all)
        w.start()
        workers.append(w)
    }

    func submit(_ kind: String, _ spec: JSON) throws -> Int64 {
        try JobRegistry.handler(for: kind)!.validate(spec: spec, artifacts: ArtifactStore(handle.get()))
        return try store.submit(NewJob(kind: kind, spec: spec)).id
    }

    func temporary(_ name: String) -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        cleanup.append(u)
        return u
    }

    /// A tiny random-init teacher stored as artifact `teacher-tiny`.
    func putTeacher() throws {
        let file = temporary("teacher").appendingPathExtension("safetensors")
        try ModelFile.write(try TextToImageModel(.tiny, seed: 7), kind: "teacher", to: file)
        try ArtifactStore(handle.get()).put(name: "teacher-tiny", kind: "teacher", file: file)
        // A 2-step student of it (one distillation iteration: any weights will do here).
        let teacher = try ModelFile.load(file).model
        var config = DistillationConfig(studentSteps: 2, teacherSteps: .fixed(4), guidance: 3)
        config.iterations = 1; config.batchSize = 2
        let distiller = try Distiller(config: config, teacher: teacher, teacherSHA: "test",
                                      dataset: try TeacherTrainingConfig.defaults(preset: "tiny").openDataset())
        _ = try distiller.step()
        let student = temporary("student").appendingPathExtension("safetensors")
        try distiller.writeStudent(to: student)
        try ArtifactStore(handle.get()).put(name: "student-tiny", kind: "student", file: student)
    }

    func waitFor(_ id: Int64, _ timeout: Double = 60) throws -> Job {
        try eventually(timeout, "job \(id) finished") { try job(id).state.isFinal }
        let j = try job(id)
        XCTAssertEqual(j.state, .succeeded, j.error ?? "")
        return j
    }

    func testTrainEvaluatorThenEvaluateThenExportTheReport() throws {
        try putTeacher()
        let prompts = temporary("prompts").appendingPathExtension("txt")
        try (ShapesWorld.heldOutCaptions.prefix(3).joined(separator: "\n") + "\n").write(to: prompts, atomically: true, encoding: .utf8)
        try startWorker()

        let trained = try waitFor(try submit("train-evaluator", ["iterations": 30, "batch": 16, "seed": 1, "name": "judge"]))
        XCTAssertEqual(trained.progress?["iteration"], 30)
        XCTAssertNotNil(trained.result?["retrieval_top1"]?.double)
        XCTAssertEqual(try ArtifactStore(handle.get()).info("judge")?.kind, "evaluator")

        let entries: JSON = ["teacher-tiny:ddim:2:0", "teacher-tiny:ddim:2:0", "teacher-tiny:ddpm:3:1", "student-tiny:student:2:3"]
        let id = try submit("evaluate", ["evaluator": "judge", "entries": entries, "seeds": 2, "prompts": .string(prompts.path)])
        let done = try waitFor(id)
        XCTAssertEqual(done.progress?["iteration"], 8)
        XCTAssertEqual(done.progress?["total"], 8)
        let localDir = try XCTUnwrap(done.result?["report_dir"]?.string)
        cleanup.append(URL(fileURLWithPath: localDir))

        // Metrics: both identical entries score identically (same noise → same pictures).
        let metrics = try MetricsDocument.read(URL(fileURLWithPath: localDir).appendingPathComponent("metrics.json"))
        XCTAssertEqual(metrics.entries.count, 4)
        let (a, b, c) = (metrics.entries[0], metrics.entries[1], metrics.entries[2])
        XCTAssertEqual(a.fid, b.fid)
        XCTAssertEqual(a.clipScore, b.clipScore)
        XCTAssertEqual(a.attributeAccuracy, b.attributeAccuracy)
        XCTAssertNotEqual(a.fid, c.fid)
        XCTAssertEqual(a.nfePerImage, 2, "guidance 0: one evaluation per step")
        XCTAssertEqual(c.nfePerImage, 6, "guidance 1: both branches at each of 3 steps")
        XCTAssertEqual(metrics.entries[3].nfePerImage, 2, "a 2-step student distilled at w = 3: one unguided evaluation per step")
        XCTAssertEqual(a.sampleCount, 6)
        XCTAssertEqual(a.referenceCount, 1002, "⌈1000 / 3⌉ renders of each of 3 prompts")
        XCTAssertTrue(a.featureExtractor?.hasPrefix("shapes-attributes-v1 penultimate 64-d") ?? false, a.featureExtractor ?? "")
        XCTAssertGreaterThan(a.secondsPerImage ?? 0, 0)

        // `report latest --export` copies the whole report out of the artifact store.
        let out = temporary("exported")
        let r = try ctl("report", "latest", "--export", out.path)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("report report-\(id) from evaluate job \(id)"), r.out)
        XCTAssertTrue(r.out.contains("local: \(localDir)/index.html"), r.out)
        for file in ["index.html", "metrics.json", "fid-vs-steps.svg", "grids/prompt-01.png", "grids/prompt-03.png"] {
            let exported = out.appendingPathComponent(file), local = URL(fileURLWithPath: localDir).appendingPathComponent(file)
            XCTAssertEqual(try Data(contentsOf: exported), try Data(contentsOf: local), file)
        }
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("shapes-attributes-v1 penultimate 64-d"), "the report names the feature space")
        XCTAssertTrue(html.contains("grids/prompt-02.png") && html.contains("<svg"))
        let grid = try PNGCodec.read(out.appendingPathComponent("grids/prompt-01.png"))
        XCTAssertGreaterThan(grid.height, 4 * 16 * 4, "a row of real renders and four entry rows")
        let kinds = Set(try ArtifactStore(handle.get()).list(job: id).map(\.kind))
        XCTAssertEqual(kinds, ["report-html", "report-metrics", "report-plot", "report-grid", "report-series", "report-stats"])

        // The plot draws model families: the teacher's DDIM and DDPM runs, the students of one
        // teacher; the label names the student's own S and w (from its file).
        XCTAssertEqual(metrics.entries.map(\.kind), ["teacher-tiny DDIM w=0", "teacher-tiny DDIM w=0", "teacher-tiny DDPM w=1", "students of test w=3"])
        XCTAssertEqual(metrics.entries[3].model, "student-tiny student 2 steps w=3")
        try checkInBrowser(cleanup: &cleanup, URL(fileURLWithPath: localDir).appendingPathComponent("index.html"), plot: true)

        // Reports as a history: two more of one series (`--name nightly`), then list, show, index.
        let n1 = try waitFor(try submit("evaluate", ["evaluator": "judge", "entries": ["teacher-tiny:ddim:2:0", "student-tiny"], "seeds": 2,
                                                     "prompts": .string(prompts.path), "name": "nightly"])).id
        let n2 = try waitFor(try submit("evaluate", ["evaluator": "judge", "entries": ["teacher-tiny:ddim:2:0", "student-tiny"], "seeds": 2,
                                                     "seed": 5, "prompts": .string(prompts.path), "name": "nightly"])).id
        for j in [n1, n2] { if let d = try job(j).result?["report_dir"]?.string { cleanup.append(URL(fileURLWithPath: d)) } }
        // Each report's own page shows its change since the previous report of its series.
        func page(_ j: Int64) throws -> String {
            try String(contentsOfFile: try XCTUnwrap(try job(j).result?["report_dir"]?.string) + "/index.html", encoding: .utf8)
        }
        XCTAssertFalse(try page(n1).contains("Change since"), "the first of its series")
        XCTAssertTrue(try page(n2).contains("<h2>Change since nightly-\(n1)</h2>"))
        XCTAssertTrue(try page(n2).contains("<th>FID in nightly-\(n1)</th>"))
        var listed = try ctl("report", "list")
        XCTAssertEqual(listed.status, 0, listed.err)
        let lines = listed.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, listed.out)
        XCTAssertTrue(lines[1].hasPrefix("nightly-\(n2)  \(n2)") && lines[1].contains(" on average") && lines[1].contains("(since nightly-\(n1))"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("nightly-\(n1)") && lines[2].hasSuffix("first of its series"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("report-\(id)") && lines[3].contains("best FID"), lines[3])
        listed = try ctl("report", "list", "--json")
        XCTAssertEqual(try JSON.parse(listed.out).array?.compactMap { $0["previous"]?.string }, ["nightly-\(n1)"])

        let show = try ctl("report", "show", String(n2))
        XCTAssertEqual(show.status, 0, show.err)
        XCTAssertTrue(show.out.hasPrefix("report nightly-\(n2) (series nightly) from evaluate job \(n2)"), show.out)
        XCTAssertTrue(show.out.contains("\n  FID: features shapes-attributes-v1 penultimate 64-d"), "provenance once, above the table: \(show.out)")
        XCTAssertTrue(show.out.contains("\n  change since nightly-\(n1): "), show.out)
        XCTAssertTrue(show.out.contains("\nstudent-tiny student 2 steps w=3  "), show.out)
        let shown = try JSON.parse(try ctl("report", "show", "nightly-\(n2)", "--json").out)
        let e0 = try XCTUnwrap(shown["entries"]?.array?.first)
        XCTAssertEqual(try XCTUnwrap(e0["fid_change"]?.double), try XCTUnwrap(e0["fid"]?.double) - (try XCTUnwrap(
            try JSON.parse(try ctl("report", "show", String(n1), "--json").out)["entries"]?.array?.first?["fid"]?.double)), accuracy: 1e-9)
        XCTAssertEqual(try ctl("report", "show", "nightly-9999").err,
                       "mscm-ctl report show: no report 'nightly-9999'; see mscm-ctl report list\n", "two reports are as near: no guess")
        XCTAssertEqual(try ctl("report", "show", "nightly-\(n2)x").err,
                       "mscm-ctl report show: no report 'nightly-\(n2)x' (did you mean nightly-\(n2)?); see mscm-ctl report list\n")
        let one = temporary("one")
        XCTAssertEqual(try ctl("report", "show", String(n1), "--export", one.path).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: one.appendingPathComponent("grids/prompt-03.png").path))

        let site = temporary("site")
        var indexed = try ctl("report", "index", "--export", site.path)
        XCTAssertEqual(indexed.status, 0, indexed.err)
        XCTAssertEqual(indexed.out, "wrote \(site.path)/index.html: 3 report(s), 3 copied now, 0 already there\n")
        indexed = try ctl("report", "index", "--export", site.path)
        XCTAssertEqual(indexed.out, "wrote \(site.path)/index.html: 3 report(s), 0 copied now, 3 already there\n", "a nightly run copies only what is new")
        let index = try String(contentsOf: site.appendingPathComponent("index.html"), encoding: .utf8)
        for name in ["nightly-\(n1)", "nightly-\(n2)", "report-\(id)"] {
            XCTAssertTrue(index.contains("<a href=\"\(name)/index.html\">\(name)</a>"), name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: site.appendingPathComponent("\(name)/fid-vs-steps.svg").path), name)
        }
        XCTAssertTrue(index.contains("(since nightly-\(n1))") && index.contains("first of its series"))
        try checkInBrowser(cleanup: &cleanup, site.appendingPathComponent("index.html"))
        try checkInBrowser(cleanup: &cleanup, site.appendingPathComponent("nightly-\(n2)/index.html"), plot: true)
    }

    /// Issue 19 item 5: a student's S and w come from its file; an entry may leave them out and
    /// a contradiction is refused at submit and at `schedule add`, in one line, before any
    /// row is written. `sample` follows the same convention.
    func testOneGuidanceConventionCheckedAtSubmit() throws {
        try putTeacher()
        let evaluatorFile = temporary("judge").appendingPathExtension("safetensors")
        try EvaluatorFile.write(try Evaluator(config: .tiny), to: evaluatorFile)
        try ArtifactStore(handle.get()).put(name: "judge", kind: "evaluator", file: evaluatorFile)

        var r = try ctl("submit", "evaluate", "--evaluator", "judge", "--entries", "student-tiny:student:2:0")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.err, "mscm-ctl submit: evaluate spec: entry 'student-tiny:student:2:0': student-tiny was distilled at w = 3, not 0 (a student's w is its own; leave GUIDANCE out)\n")
        r = try ctl("schedule", "add", "nightly", "--every", "24h", "evaluate", "--evaluator", "judge", "--entries", "student-tiny:student:4")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.hasSuffix("evaluate spec: entry 'student-tiny:student:4': student-tiny is a 2-step student; its sampler cannot take 4 steps (leave STEPS out)\n"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertEqual(try handle.with { try $0.query("SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM schedules) AS n").first!.int("n")! }, 0)
        for ok in ["student-tiny", "student-tiny:student", "student-tiny:student:2:3", "student-tiny:ddim:4"] {
            XCTAssertNoThrow(try EvaluateJob.validate(spec: ["evaluator": "judge", "entries": [.string(ok)]], artifacts: ArtifactStore(handle.get())), ok)
        }
        r = try ctl("schedule", "add", "nightly", "--every", "24h", "evaluate", "--evaluator", "judge", "--entries", "teacher-tiny:addim:8:3,student-tiny")
        XCTAssertEqual(r.status, 0, r.err)

        // sample: the same convention, and a file of the wrong kind is one line naming it.
        let student = temporary("student").appendingPathExtension("safetensors")
        _ = try ctl("artifacts", "export", "student-tiny", "--out", student.path)
        let png = temporary("s").appendingPathExtension("png")
        r = try ctl("sample", "--model", student.path, "--prompt", ShapesWorld.heldOutCaptions[0], "--out", png.path, "--guidance", "0")
        XCTAssertEqual(r.err, "mscm-ctl sample: \(student.path) was distilled at w = 3; a student's guidance is its own (leave --guidance out)\n")
        r = try ctl("sample", "--model", student.path, "--prompt", ShapesWorld.heldOutCaptions[0], "--out", png.path, "--steps", "3")
        XCTAssertEqual(r.err, "mscm-ctl sample: \(student.path) is a 2-step student; its sampler cannot take 3 steps (leave --steps out)\n")
        r = try ctl("sample", "--model", student.path, "--prompts", "heldout", "--out", png.path, "--guidance", "3")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("wrote \(png.path) (40 prompt(s) × 1 seed(s)"), r.out)
        r = try ctl("sample", "--model", evaluatorFile.path, "--prompt", "x", "--out", png.path)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.err, "mscm-ctl sample: \(evaluatorFile.path) is an evaluator (made by train-evaluator); --model takes a teacher or a student\n")

        // At submit, an artifact whose file is not what its kind says is refused in one line.
        // (`artifacts import` checks content now; an artifact stored before that check could still lie.)
        XCTAssertEqual(try ctl("artifacts", "import", evaluatorFile.path, "--name", "fake-teacher", "--kind", "teacher").status, 1)
        try ArtifactStore(handle.get()).put(name: "fake-teacher", kind: "teacher", file: evaluatorFile)
        r = try ctl("submit", "distill", "--teacher", "fake-teacher", "--steps", "4")
        XCTAssertEqual(r.err, "mscm-ctl submit: distill spec: 'teacher': artifact 'fake-teacher' is stored as a teacher but its file is an evaluator (made by train-evaluator)\n")
        r = try ctl("submit", "evaluate", "--evaluator", "judge", "--entries", "fake-teacher:ddim:4:0")
        XCTAssertEqual(r.err, "mscm-ctl submit: evaluate spec: entry 'fake-teacher:ddim:4:0': artifact 'fake-teacher' is stored as a teacher but its file is an evaluator (made by train-evaluator)\n")
        r = try ctl("sample", "--model", png.path, "--prompt", "x", "--out", png.path)
        XCTAssertEqual(r.err, "mscm-ctl sample: \(png.path): not a safetensors file\n")
    }

    func testInvalidSpecsListEveryViolationAndWriteNothing() throws {
        try putTeacher()
        let spec: JSON = ["evaluator": "teacher-tiny",
                          "entries": ["nothere:ddim:4:0", "teacher-tiny:euler:4:0", "teacher-tiny:ddim:0:-1", "teacher-tiny"]]
        XCTAssertThrowsError(try EvaluateJob.validate(spec: spec, artifacts: ArtifactStore(handle.get()))) { error in
            let lines = "\(error)".split(separator: "\n").map(String.init)
            XCTAssertEqual(lines, [
                "evaluate spec: 'evaluator': artifact 'teacher-tiny' has kind teacher, not evaluator",
                "evaluate spec: entry 'nothere:ddim:4:0': no model artifact 'nothere' (see mscm-ctl artifacts list)",
                "evaluate spec: entry 'teacher-tiny:euler:4:0': sampler 'euler' is not one of \(SamplerName.allCases.map(\.rawValue).joined(separator: ", "))",
                "evaluate spec: entry 'teacher-tiny:ddim:0:-1': steps must be an integer ≥ 1, got '0'",
                "evaluate spec: entry 'teacher-tiny:ddim:0:-1': guidance must be a number ≥ 0, got '-1'",
                "evaluate spec: entry 'teacher-tiny': a teacher's entry must be MODEL:SAMPLER:STEPS:GUIDANCE (SAMPLER, STEPS, GUIDANCE missing), e.g. teacher-tiny:addim:256:3",
            ])
        }
        let r = try ctl("submit", "evaluate", "--evaluator", "teacher-tiny", "--entries", "teacher-tiny:ddim:0:0")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.err.split(separator: "\n").count, 2, r.err)
        XCTAssertEqual(try handle.with { try $0.query("SELECT count(*) AS n FROM jobs").first!.int("n")! }, 0)
    }

    func testScheduleBecomesOneEvaluateJobPerDueTime() throws {
        try putTeacher()
        let evaluatorFile = temporary("judge").appendingPathExtension("safetensors")
        try EvaluatorFile.write(try Evaluator(config: .tiny), to: evaluatorFile)
        try ArtifactStore(handle.get()).put(name: "judge", kind: "evaluator", file: evaluatorFile)

        let r = try ctl("schedule", "add", "nightly-eval", "--every", "24h", "evaluate", "--evaluator", "judge",
                        "--entries", "teacher-tiny:ddim:4:0,teacher-tiny:addim:8:3", "--seeds", "2")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("schedule nightly-eval: evaluate every "), r.out)
        let bad = try ctl("schedule", "add", "broken", "--every", "24h", "evaluate", "--evaluator", "judge", "--entries", "x:ddim:1:0")
        XCTAssertNotEqual(bad.status, 0)

        // As if the schedule came due an hour ago; fire it the way worker maintenance does.
        try handle.with { try $0.execute("UPDATE schedules SET next_run_at = now() - interval '1 hour'") }
        let schedules = ScheduleStore(try handle.get())
        let fired = try schedules.fireDue()
        XCTAssertEqual(fired.count, 1)
        XCTAssertEqual(try schedules.fireDue(), [], "one job per due time")
        let jobs = try store.list(kind: "evaluate")
        XCTAssertEqual(jobs.count, 1)
        XCTAssertEqual(jobs.first?.id, fired.first?.job)
        XCTAssertEqual(jobs.first?.scheduleName, "nightly-eval")
        // The schedule pinned the names when it was added; its jobs carry the pins.
        let teacher = try XCTUnwrap(try ArtifactStore(handle.get()).info("teacher-tiny")).sha256
        XCTAssertEqual(jobs.first?.spec["entries"], [.string("\(teacher):ddim:4:0"), .string("\(teacher):addim:8:3")])
        XCTAssertEqual(jobs.first?.inputs.array?.compactMap { $0["ref"]?.string }, ["judge", "teacher-tiny", "teacher-tiny"])
        XCTAssertEqual(jobs.first?.spec["seeds"], 2)
        XCTAssertNoThrow(try EvaluateJob.validate(spec: jobs.first!.spec, artifacts: ArtifactStore(handle.get())))
    }
}
