import Tensors
import XCTest
import Datasets
import Diffusion
import NeuralNet
@testable import Models
@testable import Training

/// Guidance-conditioned students (docs/algorithms.md §5, project choice after LCM): one student for
/// w ∈ [w_min, w_max], w given as an input through `embed.guidance`. A fresh student is the
/// teacher exactly; the new MLP's gradients match finite differences and its tensors are
/// trained, saved and restored; a range run checkpoints and resumes bit-identically; the first
/// loss is the §5 loss with each example's teacher guided at its own w; sampling takes w as the
/// input (one pass per step) and refuses w outside the range.
final class GuidanceConditionedStudentTests: XCTestCase {
    let range = GuidanceRange(lower: 0, upper: 4)
    let guidanceNames = ["embed.guidance.fc1.weight", "embed.guidance.fc1.bias", "embed.guidance.fc2.weight", "embed.guidance.fc2.bias"]

    func tinyTeacher() throws -> TextToImageModel {
        let model = try tinyModel(seed: 61)
        perturbParameters(model, seed: 62, std: 0.1)
        return model
    }

    func rangeConfig(iterations: Int = 6) -> DistillationConfig {
        var c = DistillationConfig(studentSteps: 2, teacherSteps: .fixed(16), mode: .cd, guidance: 3, xvarFraction: 0.75, huberC: 1e-3,
                                   iterations: iterations, batchSize: 4, learningRate: 3e-3, warmupSteps: 2, emaDecay: 0.9, seed: 7,
                                   checkpointEvery: 0)
        c.guidanceRange = range
        return c
    }

    func distiller(_ config: DistillationConfig, teacher: TextToImageModel) throws -> Distiller {
        try Distiller(config: config, teacher: teacher, teacherSHA: "feed", dataset: config.openDataset(resolution: 16))
    }

    func testRangeParsingFeaturesAndValidation() throws {
        XCTAssertEqual(try GuidanceRange.parse("0:4"), range)
        XCTAssertEqual(try GuidanceRange.parse("0.5:3").description, "0.5:3.0")
        for (text, message) in [("4", "a guidance range must be LOW:HIGH (e.g. 0:4), got '4'"), ("a:b", "a guidance range must be LOW:HIGH (e.g. 0:4), got 'a:b'"),
                                ("4:1", "a guidance range needs 0 ≤ LOW < HIGH, got 4.0:1.0"), ("-1:2", "a guidance range needs 0 ≤ LOW < HIGH, got -1.0:2.0"),
                                ("2:2", "a guidance range needs 0 ≤ LOW < HIGH, got 2.0:2.0")] {
            XCTAssertThrowsError(try GuidanceRange.parse(text)) { XCTAssertEqual("\($0)", "distillation: " + message) }
        }
        var noRange = DistillationConfig(studentSteps: 2); noRange.guidanceLearningRateScale = 10
        XCTAssertThrowsError(try noRange.validate()) {
            XCTAssertEqual("\($0)", "distillation: a guidance learning-rate scale needs a guidance range")
        }
        var zero = rangeConfig(); zero.guidanceLearningRateScale = 0
        XCTAssertThrowsError(try zero.validate()) {
            XCTAssertEqual("\($0)", "distillation: the guidance learning-rate scale must be > 0, got 0.0")
        }
        var ct = rangeConfig(); ct.mode = .ct
        XCTAssertThrowsError(try ct.validate()) {
            XCTAssertEqual("\($0)", "distillation: a guidance range needs mode cd: consistency training has no teacher to guide")
        }
        // f[2k] = sin(100 w ω_k), f[2k+1] = cos(100 w ω_k), ω_k = 10000^(−k/4) for 8 features.
        let f = guidanceFeatures([0, 0.5, 3.25], count: 8)
        for (i, w) in [0.0, 0.5, 3.25].enumerated() {
            for k in 0..<4 {
                let a = 100 * w * pow(10000, -Double(k) / 4)
                XCTAssertEqual(Double(f[i * 8 + 2 * k]), sin(a), accuracy: 1e-6)
                XCTAssertEqual(Double(f[i * 8 + 2 * k + 1]), cos(a), accuracy: 1e-6)
            }
        }
        // A fixed-w config's JSON does not mention the range (old files read and write as before).
        XCTAssertFalse(DistillationConfig(studentSteps: 2).jsonString().contains("guidance_range"))
        XCTAssertFalse(DistillationConfig(studentSteps: 2).jsonString().contains("guidanceRange"))
        XCTAssertFalse(ModelConfig.tiny.jsonString().contains("guidance"))
        XCTAssertEqual(try DistillationConfig.decode(json: rangeConfig().jsonString(), source: "t"), rangeConfig())
    }

    /// At initialisation the student is the teacher with four more tensors, the last layer of
    /// the guidance MLP at zero: its v̂ equals the teacher's bit for bit at every w.
    func testFreshStudentEqualsTheTeacherExactly() throws {
        let teacher = try tinyTeacher()
        let d = try distiller(rangeConfig(), teacher: teacher)
        let names = d.student.parameters.map(\.name)
        XCTAssertEqual(Array(names.prefix(teacher.parameters.count)), teacher.parameters.map(\.name), "the teacher's parameters keep their places")
        XCTAssertEqual(Array(names.suffix(4)), guidanceNames)
        XCTAssertEqual(d.student.namedTensors().map(\.0), names)
        XCTAssertEqual(Set(d.ema.stateTensors().map(\.0)), Set(names.map { "ema." + $0 }), "the EMA tracks the guidance MLP")
        XCTAssertTrue(d.optimizer.stateTensors().map(\.0).contains("adamw.m.embed.guidance.fc2.weight"), "AdamW trains it")
        XCTAssertEqual(d.optimizer.learningRateScales, [Float](repeating: 1, count: names.count))
        var scaled = rangeConfig(); scaled.guidanceLearningRateScale = 10
        let s = try distiller(scaled, teacher: teacher)
        XCTAssertEqual(zip(names, s.optimizer.learningRateScales).filter { $0.1 != 1 }.map(\.0), guidanceNames)
        XCTAssertEqual(Set(s.optimizer.learningRateScales), [1, 10])
        XCTAssertTrue(d.student.guidanceMLP!.fc2.weight.value.toArray().allSatisfy { $0 == 0 })
        XCTAssertGreaterThan(d.student.guidanceMLP!.fc1.weight.value.sumOfSquares(), 0)

        let z = normalTensor([3, 16, 16, 3], seed: 5), t: [Float] = [0.2, 0.6, 0.95]
        let c = teacher.encode(testCaptions)
        let want = teacher.denoise(z, t: t, conditioning: c, save: false).toArray()
        for w: Float in [0, 0.5, 3, 4] {
            let got = d.student.denoise(z, t: t, conditioning: d.student.encode(testCaptions), save: false, guidance: [w, w, w])
            XCTAssertEqual(got.toArray(), want, "w = \(w)")
        }
    }

    /// Finite differences through the guidance MLP (perturbed, so its last layer is not zero)
    /// and through the rest of the embedding; a zero last layer (a fresh student's) receives
    /// gradient but passes none to the first layer yet.
    func testGuidanceInputGradients() throws {
        var config = ModelConfig.tiny
        config.guidanceInput = GuidanceInputConfig(range: range, features: 8)
        let model = try TextToImageModel(config, seed: 7)
        perturbParameters(model, seed: 8, std: 0.15)
        let z = normalTensor([3, 16, 16, 3], seed: 9), r = normalTensor([3, 16, 16, 3], seed: 10)
        let t: [Float] = [0.15, 0.5, 0.85], w: [Float] = [0.3, 1.7, 3.9]
        func loss() -> Double { weightedSum(model.forward(z, t: t, captions: testCaptions, conditional: [true, false, true], save: false, guidance: w), r) }
        model.zeroGrad()
        _ = model.forward(z, t: t, captions: testCaptions, conditional: [true, false, true], save: true, guidance: w)
        model.backward(r)
        let byName = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0) })
        for name in guidanceNames + ["embed.noise.fc1.weight", "embed.text.weight", "text.null"] {
            let p = try XCTUnwrap(byName[name], name)
            XCTAssertGreaterThan(p.grad.sumOfSquares(), 0, "\(name) receives gradient")
            checkGradient(name, x: p.value, grad: p.grad, probes: 4, loss: loss)
        }

        // Everything trained-looking but the guidance MLP's zero last layer (as in a fresh student).
        let fresh = try TextToImageModel(config, seed: 7)
        perturbParameters(fresh, seed: 8, std: 0.15)
        fresh.guidanceMLP!.fc2.weight.value.zero(); fresh.guidanceMLP!.fc2.bias!.value.zero()
        _ = fresh.forward(z, t: t, captions: testCaptions, conditional: [true, true, true], save: true, guidance: w)
        fresh.backward(r)
        XCTAssertEqual(fresh.guidanceMLP!.fc1.weight.grad.sumOfSquares(), 0)
        XCTAssertGreaterThan(fresh.guidanceMLP!.fc2.weight.grad.sumOfSquares(), 0)
    }

    /// The first iteration's loss is the §5 loss of the teacher's weights as the student, with
    /// example b's teacher guided at its own drawn w_b — composed here from the Diffusion pieces.
    func testFirstLossGuidesEachExampleAtItsOwnWeight() throws {
        let teacher = try tinyTeacher()
        let d = try distiller(rangeConfig(), teacher: teacher)
        let data = d.dataset.batch(size: 4, step: 0)
        let w = MultistepConsistency.drawGuidance(lower: 0, upper: 4, seed: 7, iteration: 0, count: 4)
        XCTAssertEqual(Set(w.map { ($0 * 1e6).rounded() }).count, 4, "distinct weights per example")
        let vm = teacher.velocityModel(captions: data.captions)
        let mcd = MultistepConsistency(studentSteps: 2, teacherSteps: .fixed(16),
                                       mode: .distillPerExample(teacher: vm, guidance: w, xvarFraction: 0.75), huberC: 1e-3,
                                       schedule: teacher.schedule)
        let batch = mcd.prepare(x: data.images, seed: 7, iteration: 0) { z, t in vm.conditional(z, t) }
        let expected = mcd.loss(prediction: vm.conditional(batch.z, batch.t), batch: batch).loss
        let fixed = MultistepConsistency(studentSteps: 2, teacherSteps: .fixed(16),
                                         mode: .distill(teacher: vm, guidance: 3, xvarFraction: 0.75), huberC: 1e-3, schedule: teacher.schedule)
        let fixedBatch = fixed.prepare(x: data.images, seed: 7, iteration: 0) { z, t in vm.conditional(z, t) }
        let fixedLoss = fixed.loss(prediction: vm.conditional(fixedBatch.z, fixedBatch.t), batch: fixedBatch).loss
        let got = try d.step()
        XCTAssertEqual(got, expected, accuracy: 1e-6 * expected)
        XCTAssertNotEqual(got, fixedLoss, "not the w = 3 loss")
    }

    /// Stopping after 3 of 6 iterations, checkpointing and resuming ends bit-identical to the
    /// uninterrupted run; the student file records the range and samples at any w inside it.
    func testRangeRunCheckpointsResumesAndSamples() throws {
        let teacher = try tinyTeacher()
        let dir = try temporaryDirectory(self)
        let config = rangeConfig()
        let straight = try distiller(config, teacher: teacher)
        XCTAssertEqual(try straight.run(), .finished)
        let ckpt = dir.appendingPathComponent("distill.ckpt.safetensors")
        let first = try distiller(config, teacher: teacher)
        XCTAssertEqual(try first.run(checkpoint: ckpt, shouldStop: { first.iteration == 3 }), .stopped(atIteration: 3))
        let resumed = try Distiller.resume(from: ckpt, teacher: teacher, teacherSHA: "feed")
        XCTAssertEqual(resumed.config, config)
        XCTAssertEqual(try resumed.run(), .finished)
        func state(_ d: Distiller) -> [(String, [Float])] {
            (d.student.namedTensors() + d.ema.stateTensors() + d.optimizer.stateTensors()).map { ($0.0, $0.1.toArray()) }
        }
        let a = state(straight), b = state(resumed)
        XCTAssertEqual(a.map(\.0), b.map(\.0))
        for (x, y) in zip(a, b) { XCTAssertEqual(x.1, y.1, "\(x.0) differs after resume") }
        XCTAssertFalse(straight.student.guidanceMLP!.fc2.weight.value.toArray().allSatisfy { $0 == 0 }, "the guidance MLP is trained")

        let url = dir.appendingPathComponent("student.safetensors")
        try straight.writeStudent(to: url)
        let file = try ModelFile.load(url, expectedKind: "student")
        XCTAssertEqual(file.guidanceRange, range)
        XCTAssertEqual(file.metadata["guidance_range"], "0.0:4.0")
        XCTAssertNil(file.metadata["guidance"])
        for ((name, shadow), p) in zip(straight.ema.shadowTensors(), file.model.parameters) {
            XCTAssertEqual(name, p.name)
            XCTAssertEqual(shadow.toArray(), p.value.toArray(), "\(name) is the EMA value")
        }
        func draw(_ w: Double) throws -> Tensor {
            try TextToImageSampling.sample(file.model, prompts: testCaptions, seed: 3, sampler: .student, steps: 2,
                                           guidance: w, xvar: nil, studentSteps: file.studentSteps)
        }
        let before = file.model.exampleEvaluations
        let low = try draw(0.5)
        XCTAssertEqual(file.model.exampleEvaluations - before, 2 * 3, "one forward pass per step and picture")
        let high = try draw(3)
        XCTAssertTrue(low.isFinite && high.isFinite)
        XCTAssertGreaterThan(maxAbsDiff(low, high), 0, "w changes the picture")
        XCTAssertEqual(try draw(0.5).toArray(), low.toArray())
        XCTAssertThrowsError(try draw(4.5)) {
            XCTAssertEqual("\($0)", "sampling: this student was distilled for guidance in [0.0, 4.0]; w = 4.5 is outside it")
        }
        // A range student is not a teacher.
        XCTAssertThrowsError(try distiller(rangeConfig(), teacher: file.model)) {
            XCTAssertEqual("\($0)", "distillation: the teacher is a guidance-conditioned student; distil from a teacher")
        }
    }
}
