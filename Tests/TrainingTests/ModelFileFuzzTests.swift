import Datasets
import Diffusion
import Foundation
import FuzzSupport
import NeuralNet
import Tensors
import XCTest
@testable import Models
@testable import Training

/// The model-config reader on mutated model files: teachers, students and teacher checkpoints
/// whose metadata (config JSON, tokenizer, xvar and student fields) and tensors were mutated —
/// structurally (a config field set to 0, −1, 2³¹, 2⁶³−1, 1e300 …) and byte-wise. Each load
/// ends in a model or one error line naming the file; the process surviving shows no trap.
final class ModelFileFuzzTests: XCTestCase {
    struct Seed { let names: [String]; let tensors: [Tensor]; let metadata: [String: String] }

    func seeds(in dir: URL) throws -> [Seed] {
        let model = try tinyModel(seed: 3)
        let teacher = dir.appendingPathComponent("seed-teacher.safetensors")
        try ModelFile.write(model, kind: "teacher", xvar: XvarTable(steps: 4, eta: 0.75, values: [0.001, 0.01, 0.05, 0.2]), to: teacher)
        let student = dir.appendingPathComponent("seed-student.safetensors")
        try ModelFile.write(model, kind: "student", extraMetadata: ["student_steps": "4", "guidance": "3"], to: student)
        let config = try TeacherTrainingConfig.defaults(preset: "tiny")
        let trainer = try TeacherTrainer(config: config, dataset: ShapesDataset(resolution: 16, seed: 0))
        let checkpoint = dir.appendingPathComponent("seed-checkpoint.safetensors")
        try trainer.saveCheckpoint(to: checkpoint)
        return try [teacher, student, checkpoint].map {
            let r = try SafeTensors.readOrdered($0)
            return Seed(names: r.names, tensors: r.tensors, metadata: r.metadata)
        }
    }

    func testMutatedModelFilesLoadOrFailInOneLine() throws {
        let dir = try temporaryDirectory(self)
        let corpus = try seeds(in: dir)
        var m = Mutator(seed: Fuzz.seed ^ 0x4D46)
        let url = dir.appendingPathComponent("case.safetensors")
        let keys = ["config", "config", "config", "tokenizer", "tokenizer_max_length", "xvar_steps", "xvar_eta", "kind",
                    "student_steps", "guidance", "iteration"]
        let result = fuzzCases(Fuzz.cases(400), { _ in
            let seed = m.rng.pick(corpus)
            var meta = seed.metadata, names = seed.names, tensors = seed.tensors
            switch m.rng.below(4) {
            case 0, 1:
                if let c = meta["config"] { meta["config"] = m.mutateLeaves(c) }
            case 2:
                let key = m.rng.pick(keys)
                let value = Array((meta[key] ?? "").utf8)
                meta[key] = String(decoding: m.mutate(value, corpus: seed.metadata.values.map { Array($0.utf8) }), as: UTF8.self)
            default:   // a tensor dropped, renamed or reshaped
                let i = m.rng.below(names.count)
                switch m.rng.below(3) {
                case 0: names.remove(at: i); tensors.remove(at: i)
                case 1: names[i] += m.rng.pick(["x", ".weight", ""])
                default: tensors[i] = Tensor(shape: [tensors[i].count + m.rng.pick([-1, 0, 1])].map { max($0, 0) })
                }
            }
            if Set(names).count != names.count { return nil }   // the writer refuses duplicates
            do {
                try SafeTensors.write(Array(zip(names, tensors)), metadata: meta, to: url)
                let file = try ModelFile.load(url)
                XCTAssertEqual(file.model.config.parameterCount, file.model.parameterCount)
                return nil
            } catch {
                if !"\(error)".contains(url.path) { XCTFail("error does not name the file: \(error)") }
                return error
            }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0) }   // some mutants stay valid
    }

    /// The configs a checkpoint's metadata holds, decoded from mutated JSON: a config or one line.
    func testMutatedTrainingAndDistillationConfigsDecodeOrFailInOneLine() throws {
        let teacher = try TeacherTrainingConfig.defaults(preset: "tiny").jsonString()
        let distill = DistillationConfig(studentSteps: 4, teacherSteps: .annealed(start: 64, end: 1280, iterations: 100)).jsonString()
        var m = Mutator(seed: Fuzz.seed ^ 0x4443)
        let result = fuzzCases(Fuzz.cases(600), { k in
            let source = k % 2 == 0 ? teacher : distill
            let json = m.rng.chance(0.7) ? m.mutateLeaves(source) : String(decoding: m.mutate(Array(source.utf8)), as: UTF8.self)
            do {
                if k % 2 == 0 { try TeacherTrainingConfig.decode(json: json, source: "f").validate() } else {
                    try DistillationConfig.decode(json: json, source: "f").validate()
                }
                return nil
            } catch { return error }
        }, fail: { XCTFail($0) })
        XCTAssertGreaterThan(result.errors, 0)
        if result.values + result.errors >= 200 { XCTAssertGreaterThan(result.values, 0) }   // some mutants stay valid
    }
}
