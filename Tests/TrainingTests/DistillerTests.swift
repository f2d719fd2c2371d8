import Tensors
import XCTest
import Datasets
import Diffusion
import NeuralNet
@testable import Models
@testable import Training

final class DistillerTests: XCTestCase {
    /// A teacher with non-trivial outputs: tiny weights, perturbed so every branch (the null
    /// conditioning included) carries signal.
    func tinyTeacher() throws -> TextToImageModel {
        let model = try tinyModel(seed: 61)
        perturbParameters(model, seed: 62, std: 0.1)
        return model
    }

    func tinyConfig(_ s: Int = 2, iterations: Int = 6, schedule: TeacherStepSchedule = .fixed(16),
                    mode: DistillationMode = .cd) -> DistillationConfig {
        DistillationConfig(studentSteps: s, teacherSteps: schedule, mode: mode, guidance: 3, xvarFraction: 0.75, huberC: 1e-3,
                           iterations: iterations, batchSize: 4, learningRate: 3e-3, warmupSteps: 2, emaDecay: 0.9, seed: 7,
                           checkpointEvery: 0)
    }

    func distiller(_ config: DistillationConfig, teacher: TextToImageModel) throws -> Distiller {
        try Distiller(config: config, teacher: teacher, teacherSHA: "feed", dataset: config.openDataset(resolution: 16))
    }

    func state(_ d: Distiller) -> [(String, [Float])] {
        (d.student.namedTensors() + d.ema.stateTensors() + d.optimizer.stateTensors()).map { ($0.0, $0.1.toArray()) }
    }

    func testInvalidSettingsAreOneLineErrors() throws {
        var cases: [(DistillationConfig, String)] = []
        func bad(_ change: (inout DistillationConfig) -> Void, _ expected: String) {
            var c = tinyConfig(); change(&c); cases.append((c, expected))
        }
        bad({ $0.studentSteps = 0 }, "student steps must be ≥ 1, got 0")
        bad({ $0.studentSteps = 16; $0.teacherSteps = .fixed(7) }, "teacher steps 7 do not divide into 16 segments: round(7 / 16) = 0 teacher steps per student step (need at least 8)")
        bad({ $0.studentSteps = 16; $0.teacherSteps = .annealed(start: 4, end: 1280, iterations: 10) }, "annealing's first teacher steps 4 do not divide")
        bad({ $0.teacherSteps = .fixed(0) }, "teacher steps must be ≥ 1, got 0")
        bad({ $0.guidance = -0.5 }, "guidance must be ≥ 0, got -0.5")
        bad({ $0.xvarFraction = 1.5 }, "η (xvar fraction) must be in [0, 1], got 1.5")
        bad({ $0.huberC = 0 }, "Huber c must be > 0, got 0")
        bad({ $0.iterations = 0 }, "iterations must be ≥ 1")
        bad({ $0.batchSize = 0 }, "batch size must be ≥ 1")
        bad({ $0.learningRate = -1 }, "learning rates must be positive")
        bad({ $0.emaDecay = 2 }, "EMA decay 2.0 outside [0, 1]")
        for (config, expected) in cases {
            XCTAssertThrowsError(try config.validate()) {
                XCTAssertTrue("\($0)".hasPrefix("distillation: " + expected), "\($0)")
                XCTAssertFalse("\($0)".contains("\n"))
            }
        }
        // round(8 / 16) = 1: the smallest count that still fills 16 segments.
        var edge = tinyConfig(); edge.studentSteps = 16; edge.teacherSteps = .fixed(8)
        XCTAssertNoThrow(try edge.validate())
        XCTAssertEqual(edge.effectiveTeacherSteps(atIteration: 0), 16)

        XCTAssertEqual(try DistillationConfig.parseAnneal("64:1280:5000"), .annealed(start: 64, end: 1280, iterations: 5000))
        for text in ["64:1280", "a:b:c", "64:1280:0", ""] {
            XCTAssertThrowsError(try DistillationConfig.parseAnneal(text)) { XCTAssertTrue("\($0)".contains("annealing"), "\($0)") }
        }
        XCTAssertThrowsError(try Distiller(config: tinyConfig(), teacher: tinyTeacher(), teacherSHA: "x",
                                           dataset: ShapesDataset(resolution: 32, seed: 0))) {
            XCTAssertTrue("\($0)".contains("32×32"), "\($0)")
        }
    }

    /// The first iteration's loss is the §5 loss of the teacher's own weights as the student
    /// (text-only conditioning), against targets built from the teacher's guided and
    /// conditional branches — composed here from the Diffusion module's pieces.
    func testFirstLossMatchesTheConsistencyStepOfTheTeacherItself() throws {
        let teacher = try tinyTeacher()
        let d = try distiller(tinyConfig(), teacher: teacher)
        XCTAssertEqual(d.student.namedTensors().map { $0.1.toArray() }, teacher.namedTensors().map { $0.1.toArray() },
                       "the student starts as the teacher")
        let data = d.dataset.batch(size: 4, step: 0)
        let vm = teacher.velocityModel(captions: data.captions)
        let mcd = MultistepConsistency(studentSteps: 2, teacherSteps: .fixed(16),
                                       mode: .distill(teacher: vm, guidance: 3, xvarFraction: 0.75), huberC: 1e-3,
                                       schedule: teacher.schedule)
        let batch = mcd.prepare(x: data.images, seed: 7, iteration: 0) { z, t in vm.conditional(z, t) }
        let expected = mcd.loss(prediction: vm.conditional(batch.z, batch.t), batch: batch).loss
        let teacherBefore = teacher.namedTensors().map { $0.1.toArray() }
        let got = try d.step()
        XCTAssertEqual(got, expected, accuracy: 1e-6 * expected)
        XCTAssertGreaterThan(expected, 1e-3, "guidance makes the teacher inconsistent as a student")
        XCTAssertEqual(teacher.namedTensors().map { $0.1.toArray() }, teacherBefore, "the teacher stays frozen")
        XCTAssertTrue(teacher.parameters.allSatisfy { $0.grad.toArray().allSatisfy { $0 == 0 } }, "no gradient reaches the teacher")
        XCTAssertGreaterThan(d.timings.teacher, 0)
    }

    /// Distillation lowers the §5 loss of a fixed held-out batch (targets rebuilt with the
    /// current student each time), in both modes; every training loss is finite.
    func testDistillationLowersTheConsistencyLoss() throws {
        let teacher = try tinyTeacher()
        for mode in [DistillationMode.cd, .ct] {
            var config = tinyConfig(iterations: 60, mode: mode)
            config.batchSize = 8
            let d = try distiller(config, teacher: teacher)
            let eval = d.dataset.batch(indices: 50_000..<50_032)
            func evalLoss() -> Double {
                let mcd = d.consistency(captions: eval.captions)
                let cond = d.student.encode(eval.captions)
                let batch = mcd.prepare(x: eval.images, seed: 99, iteration: 0) { z, t in
                    d.student.denoise(z, t: t, conditioning: cond, save: false)
                }
                return mcd.loss(prediction: d.student.denoise(batch.z, t: batch.t, conditioning: cond, save: false), batch: batch).loss
            }
            let before = evalLoss()
            var losses: [Double] = []
            for _ in 0..<config.iterations { losses.append(try d.step()) }
            let after = evalLoss()
            print("tiny \(mode.rawValue): evaluation loss \(before) → \(after); training loss \(losses.prefix(5).reduce(0, +) / 5) → \(losses.suffix(5).reduce(0, +) / 5)")
            XCTAssertTrue(losses.allSatisfy(\.isFinite))
            // A tiny network on a random teacher's w = 3 trajectories: a modest but clear drop.
            XCTAssertLessThan(after, 0.95 * before, mode.rawValue)
            XCTAssertLessThan(losses.suffix(10).reduce(0, +), losses.prefix(10).reduce(0, +), mode.rawValue)
            if mode == .ct { XCTAssertEqual(d.timings.teacher, 0, "consistency training never calls the teacher") }
        }
    }

    /// The EMA target: with EMA decay 0 the EMA is the current weights, so the run equals the
    /// default (current-weights) run to the bit; with decay 0.9 the targets and so the run
    /// differ; and an interrupted EMA-target run resumes bit-identical.
    func testEMATargetUsesTheEMAWeightsAndResumes() throws {
        let teacher = try tinyTeacher()
        var plain = tinyConfig(iterations: 4)
        plain.emaDecay = 0
        plain.emaTarget = nil
        var emaZero = plain
        emaZero.emaTarget = true
        let a = try distiller(plain, teacher: teacher), b = try distiller(emaZero, teacher: teacher)
        XCTAssertEqual(try a.run(), .finished)
        XCTAssertEqual(try b.run(), .finished)
        XCTAssertEqual(state(a).map(\.1), state(b).map(\.1), "decay 0: the EMA target is the current weights")

        var current = tinyConfig(iterations: 4)
        current.emaDecay = 0.9
        current.emaTarget = nil
        var ema = current
        ema.emaTarget = true
        let c = try distiller(current, teacher: teacher), d = try distiller(ema, teacher: teacher)
        for _ in 0..<4 { _ = try c.step() }
        var emaLosses: [Double] = []
        for _ in 0..<4 { emaLosses.append(try d.step()) }
        XCTAssertNotEqual(state(c).map(\.1), state(d).map(\.1), "decay 0.9: the EMA target changes the run")
        XCTAssertTrue(emaLosses.allSatisfy(\.isFinite))
        XCTAssertTrue(ema.jsonString().contains("\"emaTarget\":true"))
        XCTAssertFalse(current.jsonString().contains("emaTarget"), "the default stays out of the files")

        let dir = try temporaryDirectory(self)
        let ckpt = dir.appendingPathComponent("ema-target.ckpt.safetensors")
        let first = try distiller(ema, teacher: teacher)
        XCTAssertEqual(try first.run(checkpoint: ckpt, shouldStop: { first.iteration == 2 }), .stopped(atIteration: 2))
        let resumed = try Distiller.resume(from: ckpt, teacher: teacher, teacherSHA: "feed")
        XCTAssertEqual(resumed.config.emaTarget, true)
        XCTAssertEqual(try resumed.run(), .finished)
        XCTAssertEqual(state(resumed).map(\.1), state(d).map(\.1), "resumed EMA-target run is bit-identical")
    }

    /// The x-space loss weighting reaches the run (its students differ from the default's), is
    /// recorded in the config's JSON only when chosen, and survives a checkpoint.
    func testXSpaceLossWeightingChangesTheRunAndResumes() throws {
        let teacher = try tinyTeacher()
        let plain = tinyConfig(iterations: 3)
        var xspace = plain
        xspace.lossWeighting = .x
        let a = try distiller(plain, teacher: teacher), b = try distiller(xspace, teacher: teacher)
        XCTAssertEqual(try a.run(), .finished)
        XCTAssertEqual(try b.run(), .finished)
        XCTAssertNotEqual(state(a).map(\.1), state(b).map(\.1), "the weighting changes the gradients")
        XCTAssertTrue(xspace.jsonString().contains("\"lossWeighting\":\"x\""))
        XCTAssertFalse(plain.jsonString().contains("lossWeighting"), "the default stays out of the files")

        let ckpt = try temporaryDirectory(self).appendingPathComponent("x-space.ckpt.safetensors")
        let first = try distiller(xspace, teacher: teacher)
        XCTAssertEqual(try first.run(checkpoint: ckpt, shouldStop: { first.iteration == 1 }), .stopped(atIteration: 1))
        let resumed = try Distiller.resume(from: ckpt, teacher: teacher, teacherSHA: "feed")
        XCTAssertEqual(resumed.config.lossWeighting, .x)
        XCTAssertEqual(try resumed.run(), .finished)
        XCTAssertEqual(state(resumed).map(\.1), state(b).map(\.1), "resumed x-space run is bit-identical")
    }

    /// Without the warm-up the EMA decays at the configured rate from the first update; the
    /// setting changes the run and is recorded only when set.
    func testEMAWithoutWarmUpDecaysAtTheRateFromTheStart() throws {
        let teacher = try tinyTeacher()
        let plain = tinyConfig(iterations: 3)
        var flat = plain
        flat.emaWarmup = false
        let a = try distiller(plain, teacher: teacher), b = try distiller(flat, teacher: teacher)
        XCTAssertEqual((0..<3).map { a.emaDecay(at: $0) }, [0.1, 2 / 11, 3 / 12])
        XCTAssertEqual((0..<3).map { b.emaDecay(at: $0) }, [0.9, 0.9, 0.9])
        let before = b.student.parameters.map { $0.value.toArray() }
        _ = try b.step()
        for (p, (s, old)) in zip(b.student.parameters, zip(b.ema.shadow, before)) {
            let now = p.value.toArray(), shadow = s.toArray()
            for k in 0..<now.count {
                XCTAssertEqual(shadow[k], 0.9 * old[k] + 0.1 * now[k], accuracy: 1e-6, p.name)
            }
        }
        XCTAssertEqual(try a.run(), .finished)
        XCTAssertEqual(try b.run(), .finished)
        XCTAssertNotEqual(state(a).map(\.1), state(b).map(\.1))
        XCTAssertTrue(flat.jsonString().contains("\"emaWarmup\":false"))
        XCTAssertFalse(plain.jsonString().contains("emaWarmup"), "the default stays out of the files")
    }

    /// Dropout in the student: the target pass and the gradient pass of an iteration draw the
    /// same masks — in the student and in the EMA target's copy — and another iteration others;
    /// it changes the run, is recorded only when set, and a resumed run is bit-identical.
    func testDropoutSharesMasksBetweenPassesAndResumes() throws {
        let teacher = try tinyTeacher()
        let plain = tinyConfig(iterations: 3)
        var dropped = plain
        dropped.dropout = 0.3
        let d = try distiller(dropped, teacher: teacher)
        let target = try XCTUnwrap(d.emaTargetModel)
        for (p, s) in zip(target.parameters, d.ema.shadow) { p.value.copy(from: s) }   // the EMA equals the weights at the start
        let prompts = Array(testCaptions.prefix(2))
        let z = normalTensor([2, 16, 16, 3], seed: 5)
        func pass(_ net: TextToImageModel, iteration: Int, save: Bool = false) -> Tensor {
            d.useDropout(in: net, iteration: iteration)
            let v = net.denoise(z, t: [0.7, 0.3], conditioning: net.encode(prompts), save: save)
            net.isTraining = false
            return v
        }
        let still = d.student.denoise(z, t: [0.7, 0.3], conditioning: d.student.encode(prompts), save: false)
        let targetPass = pass(target, iteration: 4)
        XCTAssertEqual(pass(d.student, iteration: 4, save: true).toArray(), targetPass.toArray(), "one iteration, one set of masks")
        XCTAssertEqual(pass(d.student, iteration: 4).toArray(), targetPass.toArray())
        XCTAssertGreaterThan(maxAbsDiff(pass(d.student, iteration: 5), targetPass), 1e-3, "another iteration, other masks")
        XCTAssertGreaterThan(maxAbsDiff(still, targetPass), 1e-3, "dropout is on in the passes")
        XCTAssertEqual(d.student.denoise(z, t: [0.7, 0.3], conditioning: d.student.encode(prompts), save: false).toArray(),
                       still.toArray(), "and off outside them")
        let off = try distiller(plain, teacher: teacher)
        off.useDropout(in: off.student, iteration: 4)
        XCTAssertFalse(off.student.isTraining, "without the setting dropout stays off")

        let a = try distiller(plain, teacher: teacher), b = try distiller(dropped, teacher: teacher)
        XCTAssertEqual(try a.run(), .finished)
        XCTAssertEqual(try b.run(), .finished)
        XCTAssertNotEqual(state(a).map(\.1), state(b).map(\.1), "dropout changes the run")
        XCTAssertFalse(b.student.isTraining, "the finished student samples without dropout")
        XCTAssertTrue(dropped.jsonString().contains("\"dropout\":0.3"))
        XCTAssertFalse(plain.jsonString().contains("dropout"), "the default stays out of the files")
        var bad = plain
        bad.dropout = 1
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual("\($0)", "distillation: dropout must be in [0, 1), got 1.0") }

        let ckpt = try temporaryDirectory(self).appendingPathComponent("dropout.ckpt.safetensors")
        let first = try distiller(dropped, teacher: teacher)
        XCTAssertEqual(try first.run(checkpoint: ckpt, shouldStop: { first.iteration == 1 }), .stopped(atIteration: 1))
        let resumed = try Distiller.resume(from: ckpt, teacher: teacher, teacherSHA: "feed")
        XCTAssertEqual(resumed.config.dropout, 0.3)
        XCTAssertEqual(try resumed.run(), .finished)
        XCTAssertEqual(state(resumed).map(\.1), state(b).map(\.1), "resumed dropout run is bit-identical")
    }

    /// Stopping after 3 of 6 iterations (annealed teacher steps), checkpointing and resuming in
    /// a fresh distiller ends bit-identical to the uninterrupted run.
    func testInterruptedAndResumedRunEndsBitIdentical() throws {
        let teacher = try tinyTeacher()
        let dir = try temporaryDirectory(self)
        let config = tinyConfig(schedule: .annealed(start: 4, end: 32, iterations: 5))
        let straight = try distiller(config, teacher: teacher)
        XCTAssertEqual(try straight.run(), .finished)

        let ckpt = dir.appendingPathComponent("distill.ckpt.safetensors")
        let first = try distiller(config, teacher: teacher)
        XCTAssertEqual(try first.run(checkpoint: ckpt, shouldStop: { first.iteration == 3 }), .stopped(atIteration: 3))
        let resumed = try Distiller.resume(from: ckpt, teacher: teacher, teacherSHA: "feed")
        XCTAssertEqual(resumed.iteration, 3)
        XCTAssertEqual(resumed.config, config)
        XCTAssertEqual(try resumed.run(), .finished)
        let a = state(straight), b = state(resumed)
        XCTAssertEqual(a.map(\.0), b.map(\.0))
        for (x, y) in zip(a, b) { XCTAssertEqual(x.1, y.1, "\(x.0) differs after resume") }
        XCTAssertNotEqual(a.map(\.1), teacher.namedTensors().map { $0.1.toArray() }, "distillation moved the student")

        XCTAssertThrowsError(try Distiller.resume(from: ckpt, teacher: teacher, teacherSHA: "other")) {
            XCTAssertTrue("\($0)".contains("made from teacher feed"), "\($0)")
        }
        let notCheckpoint = dir.appendingPathComponent("model.safetensors")
        try ModelFile.write(teacher, kind: "teacher", to: notCheckpoint)
        XCTAssertThrowsError(try Distiller.resume(from: notCheckpoint, teacher: teacher, teacherSHA: "feed")) {
            XCTAssertTrue("\($0)".contains("not a distillation checkpoint"), "\($0)")
        }
    }

    /// Progress reports carry T = round(N_teacher(i) / S) · S, which anneals upwards.
    func testProgressReportsTheCurrentTeacherSteps() throws {
        var config = tinyConfig(iterations: 6, schedule: .annealed(start: 4, end: 64, iterations: 4))
        config.checkpointEvery = 2
        let d = try distiller(config, teacher: try tinyTeacher())
        var reports: [DistillationProgress] = []
        let ckpt = try temporaryDirectory(self).appendingPathComponent("c.safetensors")
        XCTAssertEqual(try d.run(checkpoint: ckpt, reportEvery: 2, progress: { reports.append($0) }), .finished)
        XCTAssertEqual(reports.map(\.iteration), [2, 4, 6])
        // Iterations 1, 3, 5: N = 4·16^(i/4) → 8, 32, 64 (capped); T = round(N / 2) · 2.
        XCTAssertEqual(reports.map(\.teacherSteps), [8, 32, 64])
        XCTAssertTrue(reports[0].line.hasPrefix("iteration 2/6  loss "), reports[0].line)
        XCTAssertTrue(reports[0].line.contains("teacher steps 8"), reports[0].line)
        XCTAssertEqual(try Distiller.resume(from: ckpt, teacher: d.teacher, teacherSHA: "feed").iteration, 4)
    }

    /// The student file: EMA weights, kind `student` and its metadata; the student sampler takes
    /// exactly its S steps.
    func testStudentFileAndItsSampler() throws {
        let teacher = try tinyTeacher()
        let d = try distiller(tinyConfig(iterations: 3), teacher: teacher)
        _ = try d.run()
        let url = try temporaryDirectory(self).appendingPathComponent("student.safetensors")
        try d.writeStudent(to: url)
        let file = try ModelFile.load(url, expectedKind: "student")
        XCTAssertEqual(file.studentSteps, 2)
        XCTAssertEqual(file.metadata["guidance"], "3.0")
        XCTAssertEqual(file.metadata["mode"], "cd")
        XCTAssertEqual(file.metadata["teacher_sha"], "feed")
        XCTAssertEqual(try DistillationConfig.decode(json: XCTUnwrap(file.metadata["distillation"]), source: "s"), d.config)
        for ((name, shadow), p) in zip(d.ema.shadowTensors(), file.model.parameters) {
            XCTAssertEqual(name, p.name)
            XCTAssertEqual(shadow.toArray(), p.value.toArray(), "\(name) is the EMA value")
        }
        let x = try TextToImageSampling.sample(file.model, prompts: testCaptions, seed: 3, sampler: .student, steps: 2,
                                               guidance: 0, xvar: nil, studentSteps: file.studentSteps)
        XCTAssertEqual(x.shape, [3, 16, 16, 3])
        XCTAssertTrue(x.isFinite)
        XCTAssertThrowsError(try TextToImageSampling.sample(file.model, prompts: ["a"], seed: 0, sampler: .student, steps: 4,
                                                            guidance: 0, xvar: nil, studentSteps: 2)) {
            XCTAssertEqual("\($0)", "sampling: this student was distilled for 2 step(s); the student sampler cannot take 4")
        }
        XCTAssertThrowsError(try TextToImageSampling.sample(teacher, prompts: ["a"], seed: 0, sampler: .student, steps: 2,
                                                            guidance: 0, xvar: nil)) {
            XCTAssertTrue("\($0)".contains("needs a student model file"), "\($0)")
        }
    }

    /// One student step from t = 1 to 0 (§6): z_0 = DDIM_{1→0}(x̂, z_1) = x̂ = α_1 z_1 − σ_1 v̂(z_1, 1),
    /// with z_1 drawn element by element from Philox as §6 prescribes — computed here in Double.
    func testOneStepStudentSampleMatchesAnIndependentComputation() throws {
        let student = try tinyTeacher()
        let prompts = Array(testCaptions.prefix(2))
        let got = try TextToImageSampling.sample(student, prompts: prompts, seed: 11, sampler: .student, steps: 1,
                                                 guidance: 0, xvar: nil, studentSteps: 1)
        let d = 16 * 16 * 3
        let rng = CounterRNG(seed: 11)
        let z = Tensor(shape: [2, 16, 16, 3])
        for i in 0..<z.count { z[i] = rng.normal(stream: NoiseStreams.stream(NoiseStreams.initialNoise), index: UInt64(i)) }
        let v = student.denoise(z, t: [1, 1], conditioning: student.encode(prompts), save: false)
        let lambda = max(-15, min(15, -2 * log(tan(Double.pi / 2))))   // λ(1), clipped (§1)
        let alpha = (1 / (1 + exp(-lambda))).squareRoot(), sigma = (1 / (1 + exp(lambda))).squareRoot()
        var worst = 0.0
        for e in 0..<(2 * d) {
            worst = max(worst, abs(Double(got[e]) - (alpha * Double(z[e]) - sigma * Double(v[e]))))
        }
        XCTAssertLessThan(worst, 1e-5)
    }
}
