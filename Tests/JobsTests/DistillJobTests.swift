import Formats
import Foundation
import JobQueue
import Training
import XCTest
import Models
@testable import Jobs

/// `distill` through the queue on a `tiny` teacher: one-line spec errors before anything is
/// written; a run on real worker processes that survives a SIGKILL (rescued, resumed from its
/// checkpoint) and stores byte-for-byte the student of an uninterrupted run, which
/// `mscm-ctl sample` can draw; and a cancel honoured after a checkpoint.
final class DistillJobTests: ScratchTestCase {
    var workers: [Worker] = []
    var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("distill-job-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for w in workers { w.stop(); w.wait() }
        try? FileManager.default.removeItem(at: directory)
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

    /// A tiny teacher from a few real training iterations, stored as artifact `teacher-tiny`.
    func storeTeacher() throws -> String {
        let config = TeacherTrainingConfig(model: .tiny, iterations: 4, batchSize: 4, learningRate: 3e-3, warmupSteps: 1,
                                           emaDecay: 0.5, seed: 1, checkpointEvery: 0, xvarSteps: 4, xvarExamples: 4)
        let trainer = try TeacherTrainer(config: config, dataset: config.openDataset())
        _ = try trainer.run()
        let url = directory.appendingPathComponent("teacher.safetensors")
        try trainer.writeTeacher(to: url)
        return try ArtifactStore(handle.get()).put(name: "teacher-tiny", kind: "teacher", file: url).sha256
    }

    func submit(_ spec: JSON) throws -> Int64 {
        try DistillJob.validate(spec: spec, artifacts: ArtifactStore(handle.get()))
        return try store.submit(NewJob(kind: DistillJob.kind, spec: spec)).id
    }

    func testInvalidSpecsAreOneLineErrorsAndWriteNothing() throws {
        _ = try storeTeacher()
        try ArtifactStore(handle.get()).put(name: "not-a-teacher", kind: "weights", data: Data([1, 2, 3]))
        let artifacts = try ArtifactStore(handle.get())
        let base: [String: JSON] = ["teacher": "teacher-tiny", "steps": 4]
        func with(_ change: [String: JSON]) -> JSON { .object(base.merging(change) { $1 }) }
        let bad: [(JSON, String)] = [
            (with(["steps": 0]), "distill spec: 'steps' must be in 1…1024, got 0"),
            (with(["teacher": "nowhere"]), "distill spec: 'teacher': no artifact 'nowhere' (see mscm-ctl artifacts list)"),
            (with(["teacher": "not-a-teacher"]), "distill spec: 'teacher': artifact 'not-a-teacher' has kind weights, not teacher"),
            (with(["teacher_steps": 256, "anneal": "64:1280:100"]), "distill spec: give either teacher_steps (--teacher-steps) or anneal (--anneal), not both"),
            (with(["steps": 16, "teacher_steps": 4]), "distill spec: teacher steps 4 do not divide into 16 segments: round(4 / 16) = 0 teacher steps per student step (need at least 8)"),
            (with(["anneal": "64-1280"]), "distill spec: annealing must be START:END:ITERATIONS (e.g. 64:1280:5000), got '64-1280'"),
            (with(["guidance": -1]), "distill spec: 'guidance' must be in 0…100, got -1"),
            (with(["xvar_frac": 1.5]), "distill spec: 'xvar_frac' must be in 0…1, got 1.5"),
            (with(["huber": 0]), "distill spec: Huber c must be > 0, got 0.0"),
            (with(["mode": "gan"]), "distill spec: 'mode' must be one of cd, ct, got \"gan\""),
            (with(["colour": "red"]), "distill spec: unknown key 'colour'"),
            (with(["guidance_range": "4:0"]), "distill spec: a guidance range needs 0 ≤ LOW < HIGH, got 4.0:0.0"),
            (with(["guidance_range": "0-4"]), "distill spec: a guidance range must be LOW:HIGH (e.g. 0:4), got '0-4'"),
            (with(["guidance_range": "0:4", "mode": "ct"]), "distill spec: a guidance range needs mode cd: consistency training has no teacher to guide"),
            (with(["guidance_range": "0:4", "guidance": 0.5]), "distill spec: give either guidance (--guidance) or guidance_range (--guidance-range), not both"),
        ]
        for (spec, message) in bad {
            XCTAssertThrowsError(try DistillJob.validate(spec: spec, artifacts: artifacts), spec.serialized) {
                XCTAssertTrue("\($0)".hasPrefix(message), "\($0)\nexpected: \(message)")
                XCTAssertFalse("\($0)".contains("\n"), "\($0)")
            }
        }
        XCTAssertNoThrow(try DistillJob.validate(spec: with(["anneal": "64:1280:100"]), artifacts: artifacts))
        XCTAssertEqual(try DistillJob.config(with(["guidance_range": "0:4", "guidance": 3])).guidanceRange,
                       GuidanceRange(lower: 0, upper: 4))
        // The recipe flags of the ablation reach the config; the defaults stay when they are absent.
        let recipe = try DistillJob.config(with(["lr": 1e-3, "final_lr": 1e-3, "warmup": 5, "ema": 0.9, "huber_reduction": "per-element"]))
        XCTAssertEqual([recipe.learningRate, recipe.finalLearningRate, recipe.emaDecay], [1e-3, 1e-3, 0.9])
        XCTAssertEqual(recipe.warmupSteps, 5)
        XCTAssertEqual(recipe.huberReduction, .perElement)
        XCTAssertEqual(try DistillJob.config(with(["loss_weighting": "x"])).lossWeighting, .x)
        XCTAssertEqual(try DistillJob.config(with(["dropout": 0.1])).dropout, 0.1)
        XCTAssertNil(try DistillJob.config(with(["dropout": 0])).dropout, "0 is off, as if not given")
        XCTAssertEqual(try DistillJob.config(with(["ema_warmup": "off"])).emaWarmup, false)
        XCTAssertNil(try DistillJob.config(with(["ema_warmup": "on"])).emaWarmup, "on is the default, as if not given")
        for bad in [with(["loss_weighting": "snr"]), with(["dropout": 0.95]), with(["dropout": "lots"]), with(["ema_warmup": "no"])] {
            XCTAssertThrowsError(try DistillJob.validate(spec: bad, artifacts: artifacts)) {
                XCTAssertFalse("\($0)".contains("\n"), "\($0)")
            }
        }
        // The run length follows S unless given: max(300, 75·S); the flag table has no default for it…
        XCTAssertEqual(try [1, 2, 3, 4, 8, 16, 32].map { try DistillJob.config(with(["steps": .int($0)])).iterations },
                       [300, 300, 300, 600, 600, 1200, 2400])
        XCTAssertEqual(try DistillJob.config(with(["steps": 16, "iterations": 50])).iterations, 50)
        XCTAssertNil(DistillJob.flags.first { $0.name == "iterations" }?.defaultValue)
        // …but submit writes the S-dependent default into the spec, so every worker runs the same length.
        XCTAssertEqual(try DistillJob.pin(spec: with(["steps": 16]), artifacts: artifacts).spec["iterations"]?.int, 1200)
        XCTAssertEqual(try DistillJob.pin(spec: with(["steps": 16, "iterations": 50]), artifacts: artifacts).spec["iterations"]?.int, 50)
        let plain = try DistillJob.config(with(["lr": 1e-3]))
        XCTAssertEqual(plain.finalLearningRate, 1e-3 / 10)
        XCTAssertEqual(plain.emaDecay, DistillationConfig(studentSteps: 1).emaDecay)
        XCTAssertEqual(plain.huberReduction, .perExample)
        XCTAssertNil(plain.lossWeighting, "the default stays out of the config's JSON")
        // The target follows S — the EMA up to S = 8, the current weights above — and is written
        // into the spec at submit; --target overrides it either way.
        XCTAssertEqual(try [1, 4, 8, 9, 16].map { try DistillJob.config(with(["steps": .int($0)])).emaTarget },
                       [true, true, true, nil, nil])
        XCTAssertNil(try DistillJob.config(with(["steps": 8, "target": "current"])).emaTarget)
        XCTAssertEqual(try DistillJob.config(with(["steps": 16, "target": "ema"])).emaTarget, true)
        XCTAssertNil(DistillJob.flags.first { $0.name == "target" }?.defaultValue)
        XCTAssertEqual(try DistillJob.pin(spec: with(["steps": 8]), artifacts: artifacts).spec["target"]?.string, "ema")
        XCTAssertEqual(try DistillJob.pin(spec: with(["steps": 16]), artifacts: artifacts).spec["target"]?.string, "current")
        XCTAssertEqual(try DistillJob.pin(spec: with(["steps": 16, "target": "ema"]), artifacts: artifacts).spec["target"]?.string, "ema")
        XCTAssertThrowsError(try DistillJob.validate(spec: with(["huber_reduction": "mean"]), artifacts: artifacts))
        XCTAssertThrowsError(try DistillJob.validate(spec: with(["ema": 1.5]), artifacts: artifacts))

        // The same through mscm-ctl: one line on stderr, status 1 or 2, no job row.
        let r1 = try ctl("submit", "distill", "--teacher", "teacher-tiny", "--steps", "8", "--teacher-steps", "256", "--anneal", "64:1280:10")
        XCTAssertEqual(r1.err, "mscm-ctl submit: distill spec: give either teacher_steps (--teacher-steps) or anneal (--anneal), not both\n")
        let r2 = try ctl("submit", "distill", "--steps", "8")
        XCTAssertEqual(r2.err, "mscm-ctl submit distill: --teacher is required\n")
        XCTAssertEqual(r2.status, 2)
        XCTAssertEqual(try handle.with { try $0.query("SELECT count(*) AS n FROM jobs").first!.int("n")! }, 0)
    }

    /// Worker process A is killed mid-run; B rescues the job from A's checkpoint and finishes
    /// it. The student equals an uninterrupted run's byte for byte, and mscm-ctl samples it.
    func testKilledDistillationResumesToTheSameSampleableStudent() throws {
        _ = try storeTeacher()
        let spec: JSON = ["teacher": "teacher-tiny", "steps": 2, "teacher_steps": 16, "iterations": 400, "batch": 4,
                          "lr": 1e-3, "seed": 3, "checkpoint_every": 20, "name": "student-tiny"]
        let killed = try submit(spec)
        let a = try spawnWorker(["--id", "A", "--lease", "2", "--poll", "0.1"])
        try eventually(60, "A checkpointed") { (try job(killed).checkpoint?.step ?? 0) >= 40 }
        kill(a.processIdentifier, SIGKILL)
        a.waitUntilExit()
        let orphan = try job(killed)
        XCTAssertEqual(orphan.state, .running, "killed before finishing: \(workerOutput)")
        let step = try XCTUnwrap(orphan.checkpoint?.step)
        XCTAssertEqual(orphan.progress?["extra"]?["teacher_steps"], 16)
        try spawnWorker(["--id", "B", "--lease", "2", "--poll", "0.1"])
        try eventually(90, "B finished the job") { try job(killed).state == .succeeded }
        let j = try job(killed)
        XCTAssertEqual(j.attemptedBy, ["A", "B"], workerOutput)
        let result = try XCTUnwrap(j.result)
        XCTAssertEqual(result["resumed_from"]?.int, step, "resumed from the checkpoint, not from scratch")
        XCTAssertEqual(result["steps"], 2)
        XCTAssertEqual(result["guidance"]?.double, 3)
        XCTAssertEqual(result["name"], "student-tiny")
        XCTAssertTrue(result["final_loss"]?.double?.isFinite == true)
        let student = try XCTUnwrap(result["student"]?.string)
        XCTAssertEqual(try ArtifactStore(handle.get()).info(student)?.kind, "student")

        // The uninterrupted reference, on an in-process worker.
        try startWorker("C")
        var straightSpec = spec.object!
        straightSpec["name"] = "student-straight"
        let straight = try submit(.object(straightSpec))
        try eventually(90, "reference run succeeded") { try job(straight).state == .succeeded }
        XCTAssertEqual(try job(straight).result?["student"]?.string, student, "resumed student differs from the uninterrupted one")

        // mscm-ctl samples the student artifact with its own sampler and S.
        let file = directory.appendingPathComponent("student.safetensors")
        _ = try ArtifactStore(handle.get()).export("student-tiny", to: file)
        let png = directory.appendingPathComponent("sample.png")
        let r = try ctl("sample", "--model", file.path, "--prompt", "a small red circle in the centre on a black background",
                        "--out", png.path, "--scale", "2")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: png.path))
        let wrong = try ctl("sample", "--model", file.path, "--prompt", "a red circle", "--out", png.path, "--steps", "3")
        XCTAssertEqual(wrong.err, "mscm-ctl sample: \(file.path) is a 2-step student; its sampler cannot take 3 steps (leave --steps out)\n")
    }

    /// A cancel reaches the running handler, which checkpoints at the iteration it stopped at.
    func testCancelIsHonouredAfterACheckpoint() throws {
        _ = try storeTeacher()
        let id = try submit(["teacher": "teacher-tiny", "steps": 4, "anneal": "8:64:100", "iterations": 100_000, "batch": 2,
                             "checkpoint_every": 0, "mode": "cd"])
        try startWorker("w")
        try eventually(60, "running") { (try job(id).progress?["iteration"]?.int ?? 0) >= 3 }
        XCTAssertEqual(try store.cancel(id), .requested)
        try eventually(30, "cancelled") { try job(id).state == .cancelled }
        let j = try job(id)
        let checkpoint = try XCTUnwrap(j.checkpoint, "checkpointed on the way out")
        XCTAssertEqual(checkpoint.step, j.progress?["iteration"]?.int, "the checkpoint holds the last iteration run")
        XCTAssertEqual(try ArtifactStore(handle.get()).info(checkpoint.artifact)?.kind, "distill-checkpoint")
        XCTAssertNotNil(j.progress?["extra"]?["teacher_steps"]?.int)
    }
}
