import Tensors
import XCTest
import Foundation
@testable import NeuralNet

final class OptimizerTests: XCTestCase {
    /// AdamW against a direct double-precision transcription of the update rule.
    func testAdamWMatchesReferenceUpdate() {
        let w = Parameter(name: "w", value: Tensor(shape: [3], values: [0.5, -1, 2]))
        let b = Parameter(name: "b", value: Tensor(shape: [2], values: [0.1, -0.2]), decays: false)
        let opt = AdamW(parameters: [w, b], lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1)
        var ref: [[Double]] = [[0.5, -1, 2], [0.1, -0.2]]
        var m: [[Double]] = [[0, 0, 0], [0, 0]], v = m
        for t in 1...5 {
            // Gradient of Σ p³ / 3 (p² elementwise), so it changes as the weights move.
            for (k, p) in [w, b].enumerated() { for i in 0..<p.value.count { p.grad[i] = p.value[i] * p.value[i] } }
            let lr = 0.01 * Double(t)
            opt.step(lr: Float(lr))
            for k in 0..<2 { for i in 0..<ref[k].count {
                let g = ref[k][i] * ref[k][i]
                if k == 0 { ref[k][i] *= 1 - lr * 0.1 }
                m[k][i] = 0.8 * m[k][i] + 0.2 * g
                v[k][i] = 0.95 * v[k][i] + 0.05 * g * g
                let mhat = m[k][i] / (1 - pow(0.8, Double(t))), vhat = v[k][i] / (1 - pow(0.95, Double(t)))
                ref[k][i] -= lr * mhat / (vhat.squareRoot() + 1e-6)
            } }
            XCTAssertLessThan(maxDifference(w.value, ref[0]), 1e-5, "step \(t)")
            XCTAssertLessThan(maxDifference(b.value, ref[1]), 1e-5, "step \(t)")
        }
        XCTAssertEqual(opt.stepCount, 5)
    }

    /// A parameter's learning-rate scale s makes its update the one of lr · s, bit for bit, and
    /// leaves the other parameters' updates alone.
    func testLearningRateScalesArePerParameter() {
        func run(lr: Float, scales: [Float]?) -> [[Float]] {
            let a = Parameter(name: "a", value: Tensor(shape: [3], values: [0.5, -1, 2]))
            let b = Parameter(name: "b", value: Tensor(shape: [2], values: [0.1, -0.2]))
            let opt = AdamW(parameters: [a, b], lr: lr, weightDecay: 0.1)
            if let scales { opt.learningRateScales = scales }
            for _ in 0..<4 {
                for p in [a, b] { for i in 0..<p.value.count { p.grad[i] = p.value[i] * p.value[i] } }
                opt.step()
            }
            return [a.value.toArray(), b.value.toArray()]
        }
        let plain = run(lr: 0.01, scales: nil), scaled = run(lr: 0.01, scales: [1, 3]), triple = run(lr: 0.03, scales: nil)
        XCTAssertEqual(scaled[0], plain[0], "scale 1 changes nothing")
        XCTAssertEqual(scaled[1], triple[1], "scale 3 is lr · 3")
        XCTAssertNotEqual(scaled[1], plain[1])
    }

    func testClipGradNormAndNonFiniteGradient() throws {
        let a = Parameter(name: "a", value: Tensor(shape: [2])), b = Parameter(name: "layer.b", value: Tensor(shape: [1]))
        let opt = AdamW(parameters: [a, b])
        a.grad.copy(from: Tensor(shape: [2], values: [3, 0])); b.grad[0] = 4
        XCTAssertEqual(try opt.clipGradNorm(maxNorm: 10), 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad[0], 3, "below the bound nothing changes")
        XCTAssertEqual(try opt.clipGradNorm(maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad[0], 0.6, accuracy: 1e-5); XCTAssertEqual(b.grad[0], 0.8, accuracy: 1e-5)
        b.grad[0] = .nan
        XCTAssertThrowsError(try opt.clipGradNorm(maxNorm: 1)) { error in
            XCTAssertEqual(error as? TrainingError, .nonFiniteGradient(parameter: "layer.b", step: 1))
            XCTAssertEqual("\(error)", "training stopped: gradient of 'layer.b' is not finite at step 1")
        }
        b.grad[0] = .infinity
        XCTAssertThrowsError(try opt.clipGradNorm(maxNorm: 1))
        XCTAssertThrowsError(try checkFinite(loss: .nan, step: 7)) { XCTAssertEqual("\($0)", "training stopped: loss is nan at step 7") }
        XCTAssertNoThrow(try checkFinite(loss: 1.5))
    }

    func testAdamWStateRoundTripContinuesIdentically() throws {
        func make() -> (Parameter, AdamW) {
            let p = Parameter(name: "p", value: Tensor(shape: [4], values: [1, 2, 3, 4]))
            return (p, AdamW(parameters: [p], lr: 0.1))
        }
        func feed(_ p: Parameter) { for i in 0..<4 { p.grad[i] = sin(p.value[i]) } }
        let (p1, o1) = make()
        for _ in 0..<3 { feed(p1); o1.step() }
        let state = Dictionary(uniqueKeysWithValues: o1.stateTensors().map { ($0.0, $0.1.copy()) })
        XCTAssertEqual(Set(state.keys), ["adamw.step", "adamw.m.p", "adamw.v.p"])
        let (p2, o2) = make()
        p2.value.copy(from: p1.value)
        try o2.load(stateTensors: state)
        XCTAssertEqual(o2.stepCount, 3)
        feed(p1); o1.step(); feed(p2); o2.step()
        XCTAssertEqual(p1.value.toArray(), p2.value.toArray())
        var broken = state; broken["adamw.v.p"] = Tensor(shape: [3])
        XCTAssertThrowsError(try o2.load(stateTensors: broken)) { XCTAssertTrue("\($0)".contains("adamw.v.p")) }
    }

    func testLRScheduleWarmupAndDecay() {
        let s = LRSchedule(peak: 1, warmupSteps: 4, decay: .cosine(totalSteps: 14, final: 0.1))
        XCTAssertEqual(s.lr(at: 0), 0.25); XCTAssertEqual(s.lr(at: 3), 1)
        XCTAssertEqual(s.lr(at: 4), 1, accuracy: 1e-6)
        XCTAssertEqual(s.lr(at: 9), 0.55, accuracy: 1e-6)
        XCTAssertEqual(s.lr(at: 14), 0.1, accuracy: 1e-6); XCTAssertEqual(s.lr(at: 100), 0.1, accuracy: 1e-6)
        let l = LRSchedule(peak: 2, warmupSteps: 0, decay: .linear(totalSteps: 10, final: 0))
        XCTAssertEqual(l.lr(at: 5), 1, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule(peak: 3).lr(at: 1000), 3)
    }

    func testEMAUpdateSwapAndState() throws {
        let p = Parameter(name: "w", value: Tensor(shape: [2], values: [0, 10]))
        let ema = EMA(parameters: [p], decay: 0.9)
        p.value.copy(from: Tensor(shape: [2], values: [1, 0]))
        ema.update(); ema.update()
        // shadow = 0.81·s₀ + (1 − 0.81)·p
        XCTAssertEqual(ema.shadow[0][0], 0.19, accuracy: 1e-6)
        XCTAssertEqual(ema.shadow[0][1], 8.1, accuracy: 1e-5)
        ema.swapWithParameters()
        XCTAssertEqual(p.value[1], 8.1, accuracy: 1e-5)
        ema.swapWithParameters()
        XCTAssertEqual(p.value.toArray(), [1, 0])
        XCTAssertEqual(ema.shadowTensors().map(\.0), ["w"])
        let other = EMA(parameters: [p], decay: 0.9)
        try other.load(stateTensors: Dictionary(uniqueKeysWithValues: ema.stateTensors()))
        XCTAssertEqual(other.shadow[0].toArray(), ema.shadow[0].toArray())
        other.copyToParameters()
        XCTAssertEqual(p.value.toArray(), ema.shadow[0].toArray())
    }
}
