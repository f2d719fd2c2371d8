import XCTest
import Datasets
import Diffusion
@testable import Models
@testable import Training

final class TeacherTrainerTests: XCTestCase {
    func tinyConfig(iterations: Int = 6) -> TeacherTrainingConfig {
        TeacherTrainingConfig(model: .tiny, iterations: iterations, batchSize: 4, learningRate: 3e-3, warmupSteps: 2,
                              emaDecay: 0.9, seed: 42, checkpointEvery: 0, xvarSteps: 8, xvarExamples: 4)
    }

    func state(_ t: TeacherTrainer) -> [(String, [Float])] {
        (t.model.namedTensors() + t.ema.stateTensors() + t.optimizer.stateTensors()).map { ($0.0, $0.1.toArray()) }
    }

    /// Stopping after 3 of 6 iterations, checkpointing and resuming in a fresh trainer ends with
    /// weights, EMA and optimiser state bit-identical to the uninterrupted run.
    func testInterruptedAndResumedRunEndsBitIdentical() throws {
        let dir = try temporaryDirectory(self)
        let straight = try TeacherTrainer(config: tinyConfig(), dataset: tinyConfig().openDataset())
        XCTAssertEqual(try straight.run(), .finished)
        XCTAssertEqual(straight.iteration, 6)

        let ckpt = dir.appendingPathComponent("run.ckpt.safetensors")
        let first = try TeacherTrainer(config: tinyConfig(), dataset: tinyConfig().openDataset())
        let outcome = try first.run(checkpoint: ckpt, shouldStop: { first.iteration == 3 })
        XCTAssertEqual(outcome, .stopped(atIteration: 3))
        let resumed = try TeacherTrainer.resume(from: ckpt)
        XCTAssertEqual(resumed.iteration, 3)
        XCTAssertEqual(resumed.config, tinyConfig())
        XCTAssertEqual(try resumed.run(), .finished)

        let a = state(straight), b = state(resumed)
        XCTAssertEqual(a.map(\.0), b.map(\.0))
        for (x, y) in zip(a, b) { XCTAssertEqual(x.1, y.1, "\(x.0) differs after resume") }
        XCTAssertNotEqual(a.first { $0.0 == "out.conv.weight" }?.1.map(abs).max(), 0, "training moved the weights")
    }

    func testPeriodicCheckpointsAndProgressReports() throws {
        let dir = try temporaryDirectory(self)
        var config = tinyConfig(iterations: 5)
        config.checkpointEvery = 2
        let trainer = try TeacherTrainer(config: config, dataset: config.openDataset())
        let ckpt = dir.appendingPathComponent("c.safetensors")
        var reports: [TrainingProgress] = []
        XCTAssertEqual(try trainer.run(checkpoint: ckpt, reportEvery: 2, progress: { reports.append($0) }), .finished)
        XCTAssertEqual(reports.map(\.iteration), [2, 4, 5])
        XCTAssertTrue(reports.allSatisfy { $0.loss.isFinite && $0.loss > 0 && $0.imagesPerSecond > 0 && $0.total == 5 })
        XCTAssertTrue(reports[0].line.hasPrefix("iteration 2/5  loss "), reports[0].line)
        XCTAssertEqual(try TeacherTrainer.resume(from: ckpt).iteration, 4, "the last periodic checkpoint is at 4")
    }

    func testTrainingLowersTheLoss() throws {
        let config = TeacherTrainingConfig(model: .tiny, iterations: 80, batchSize: 16, learningRate: 3e-3, warmupSteps: 10,
                                           emaDecay: 0.9, seed: 3, checkpointEvery: 0)
        let trainer = try TeacherTrainer(config: config, dataset: config.openDataset())
        // A fixed evaluation batch: examples the run never sees, with their own t and ε.
        let eval = trainer.dataset.batch(indices: 100_000..<100_064)
        let prepared = TeacherLoss.prepare(x: eval.images, seed: 999, iteration: 0, pUncond: 0, schedule: config.model.schedule)
        func evalLoss() -> Double {
            trainer.model.isTraining = false
            let v = trainer.model.forward(prepared.z, t: prepared.t, captions: eval.captions,
                                          conditional: prepared.conditional, save: false)
            return TeacherLoss.loss(prediction: v, target: prepared.target).loss
        }
        let before = evalLoss()
        XCTAssertEqual(try trainer.run(), .finished)
        let after = evalLoss()
        print("tiny teacher: evaluation loss \(before) → \(after)")
        XCTAssertLessThan(after, 0.7 * before)
    }

    /// shadow ← d·shadow + (1 − d)·weights after each update, with d = min(decay, (1 + i)/(10 + i)).
    func testEMAUsesTheWarmedUpDecay() throws {
        let trainer = try TeacherTrainer(config: tinyConfig(), dataset: tinyConfig().openDataset())
        XCTAssertEqual(trainer.emaDecay(at: 0), 0.1)
        XCTAssertEqual(trainer.emaDecay(at: 5), 6 / 15)
        XCTAssertEqual(trainer.emaDecay(at: 1000), 0.9, "capped at the configured decay")
        var shadow = trainer.model.parameters.map { $0.value.toArray() }
        for i in 0..<2 {
            try trainer.step()
            let d = trainer.emaDecay(at: i)
            for (k, p) in trainer.model.parameters.enumerated() {
                let w = p.value.toArray()
                shadow[k] = zip(shadow[k], w).map { d * $0 + (1 - d) * $1 }
                let got = trainer.ema.shadow[k].toArray()
                for j in 0..<w.count where abs(got[j] - shadow[k][j]) > 1e-6 {
                    XCTFail("\(p.name)[\(j)] after update \(i): \(got[j]) vs \(shadow[k][j])"); return
                }
            }
        }
    }

    func testWriteTeacherStoresEMAWeightsAndXvarTable() throws {
        let dir = try temporaryDirectory(self)
        let trainer = try TeacherTrainer(config: tinyConfig(iterations: 3), dataset: tinyConfig().openDataset())
        _ = try trainer.run()
        let url = dir.appendingPathComponent("teacher.safetensors")
        let table = try trainer.writeTeacher(to: url)
        XCTAssertEqual(table.steps, 8)
        XCTAssertTrue(table.values.allSatisfy { $0 >= 0 && $0.isFinite })
        let file = try ModelFile.load(url, expectedKind: "teacher")
        XCTAssertEqual(file.xvar?.steps, 8)
        XCTAssertEqual(try TeacherTrainingConfig.decode(json: try XCTUnwrap(file.metadata["training"]), source: "t"), trainer.config)
        for ((name, shadow), p) in zip(trainer.ema.shadowTensors(), file.model.parameters) {
            XCTAssertEqual(name, p.name)
            XCTAssertEqual(shadow.toArray(), p.value.toArray(), "\(name) is the EMA value")
        }
        // The table is on the conditional prediction of the EMA network: recompute step 8 (t = 1).
        let data = trainer.dataset.batch(indices: 0..<4)
        let again = XvarTable.estimate(model: file.model.velocityModel(captions: data.captions), data: data.images, steps: 8,
                                       eta: 0.75, batchSize: 4, seed: 42, schedule: file.model.schedule)
        XCTAssertEqual(again.values, table.values)
    }

    func testBadSettingsAndCheckpointsAreOneLineErrors() throws {
        var bad = tinyConfig()
        bad.batchSize = 0
        XCTAssertThrowsError(try TeacherTrainer(config: bad, dataset: tinyConfig().openDataset())) {
            XCTAssertTrue("\($0)".contains("batch size"), "\($0)")
        }
        XCTAssertThrowsError(try TeacherTrainer(config: tinyConfig(), dataset: ShapesDataset(resolution: 32, seed: 0))) {
            XCTAssertTrue("\($0)".contains("32×32"), "\($0)")
        }
        let dir = try temporaryDirectory(self)
        let model = dir.appendingPathComponent("model.safetensors")
        try ModelFile.write(try tinyModel(), kind: "teacher", to: model)
        XCTAssertThrowsError(try TeacherTrainer.resume(from: model)) { XCTAssertTrue("\($0)".contains("not a teacher checkpoint"), "\($0)") }
    }
}
