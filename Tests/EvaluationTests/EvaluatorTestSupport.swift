import Tensors
import Training
import XCTest
import Datasets
import NeuralNet
@testable import Evaluation

/// Central differences of a scalar `loss` at up to `probes` coordinates of `x` (always
/// including the largest analytic one), against the analytic `grad`; fails when
/// |analytic − numeric| > atol + rtol·|numeric|.
func checkGradient(_ label: String, x: Tensor, grad: Tensor, probes: Int = 8, eps: Float = 1e-2,
                   atol: Double = 2e-3, rtol: Double = 2e-2, loss: () -> Double,
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(grad.shape, x.shape, "\(label): gradient shape", file: file, line: line)
    var largest = 0
    for i in 0..<grad.count where abs(grad[i]) > abs(grad[largest]) { largest = i }
    let rng = CounterRNG(seed: 11)
    let indices = [largest] + (0..<min(probes, x.count)).map { rng.integer(below: x.count, stream: 3, index: UInt64($0)) }
    for i in indices {
        let saved = x[i]
        x[i] = saved + eps; let plus = loss()
        x[i] = saved - eps; let minus = loss()
        x[i] = saved
        let numeric = (plus - minus) / (2 * Double(eps)), analytic = Double(grad[i])
        XCTAssertLessThanOrEqual(abs(analytic - numeric), atol + rtol * abs(numeric),
                                 "\(label)[\(i)]: analytic \(analytic), numeric \(numeric)", file: file, line: line)
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    let t = Tensor(shape: shape)
    CounterRNG(seed: seed).fillNormal(t.buffer, stream: 9)
    if std != 1 { t.scale(by: std) }
    return t
}

/// Rows scaled to unit length.
func unitRows(_ t: Tensor) -> Tensor { l2NormalizeForward(t).y }

/// Renders of `scenes` as one batch [N, R, R, 3].
func renders(_ scenes: [SceneLabels], resolution r: Int, seed: UInt64) -> Tensor {
    let out = Tensor(shape: [scenes.count, r, r, 3])
    for (i, s) in scenes.enumerated() {
        ShapesRenderer.render(s, resolution: r, rng: CounterRNG(seed: seed), index: UInt64(i)).write(into: out.data + i * r * r * 3)
    }
    return out
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
