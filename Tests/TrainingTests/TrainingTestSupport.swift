import NeuralNet
import Tensors
import XCTest
import Diffusion
@testable import Evaluation
@testable import Models
@testable import Training

// Shared helpers (those of ModelsTests/ModelTestSupport.swift, which the training tests came
// with): seeded random tensors, parameter perturbation and a finite-difference check of
// L = Σ output ∘ R (R fixed and random), accumulated in Double; and the tiny evaluator the
// evaluator-trainer tests share (as in EvaluationTests/EvaluatorTestSupport.swift).

func normalTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    let t = Tensor(shape: shape)
    CounterRNG(seed: seed).fillNormal(t.buffer, stream: 77)
    if std != 1 { for i in 0..<t.count { t[i] *= std } }
    return t
}

/// Σ a ∘ b in Double.
func weightedSum(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape)
    var s = 0.0
    for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
    return s
}

func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    XCTAssertEqual(a.shape, b.shape)
    var m: Float = 0
    for i in 0..<min(a.count, b.count) { m = max(m, abs(a[i] - b[i])) }
    return m
}

/// Adds N(0, std²) to every parameter, so zero-initialised branches carry gradient too.
func perturbParameters(_ module: Module, seed: UInt64, std: Float = 0.2) {
    for (k, p) in module.parameters.enumerated() {
        let rng = CounterRNG(seed: seed)
        for i in 0..<p.value.count { p.value[i] += std * rng.normal(stream: UInt64(k), index: UInt64(i)) }
    }
}

/// Central differences of `loss` at `probes` coordinates of `x` against the analytic `grad`;
/// fails when |analytic − numeric| > atol + rtol·|numeric|. Returns the worst ratio to tolerance.
@discardableResult
func checkGradient(_ label: String, x: Tensor, grad: Tensor, probes: Int = 6, eps: Float = 1e-2,
                   atol: Double = 3e-3, rtol: Double = 2e-2, loss: () -> Double,
                   file: StaticString = #filePath, line: UInt = #line) -> Double {
    XCTAssertEqual(grad.shape, x.shape, "\(label): gradient shape", file: file, line: line)
    let rng = CounterRNG(seed: 5)
    // Probe the largest-gradient coordinate too, so a wrong sign cannot hide among tiny values.
    var largest = 0
    for i in 0..<grad.count where abs(grad[i]) > abs(grad[largest]) { largest = i }
    let indices = [largest] + (0..<probes).map { rng.integer(below: x.count, stream: 1, index: UInt64($0)) }
    var worst = 0.0
    for i in indices {
        let saved = x[i]
        x[i] = saved + eps; let plus = loss()
        x[i] = saved - eps; let minus = loss()
        x[i] = saved
        let numeric = (plus - minus) / (2 * Double(eps)), analytic = Double(grad[i])
        let tolerance = atol + rtol * abs(numeric)
        worst = max(worst, abs(analytic - numeric) / tolerance)
        XCTAssertLessThanOrEqual(abs(analytic - numeric), tolerance,
                                 "\(label)[\(i)]: analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
    }
    print("gradcheck \(label): worst error \(String(format: "%.3f", worst)) of tolerance")
    return worst
}

/// A fresh tiny model (the test preset) with deterministic weights.
func tinyModel(seed: UInt64 = 1) throws -> TextToImageModel {
    try TextToImageModel(.tiny, seed: seed)
}

/// Captions of the shapes world for tests.
let testCaptions = [
    "a small red circle in the centre on a black background",
    "a large blue square at the top left on a white background",
    "a small green cross at the bottom right on a grey background",
]

/// A scratch directory removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mscm-models-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// One tiny evaluator, trained once per test process and shared (a few seconds).
enum TrainedTinyEvaluator {
    static let shared: (evaluator: Evaluator, first: EvaluatorTrainer.StepResult, last: EvaluatorTrainer.StepResult) = {
        var config = EvaluatorConfig.tiny
        config.seed = 3
        let trainer = try! EvaluatorTrainer(config: config)
        let first = try! trainer.step()
        var last = first
        while trainer.iteration < config.iterations { last = try! trainer.step() }
        try! trainer.measureQuality(renders: 5)
        return (trainer.evaluator, first, last)
    }()
}
