import Tensors
import XCTest
import Foundation
@testable import NeuralNet

/// End-to-end: the layers, losses and AdamW learn small tasks, with the loss bound stated.
final class ToyTrainingTests: XCTestCase {
    /// y = sin(2x₁) + x₂² − ½ on 256 fixed points in [−1, 1]², full batch.
    func testTwoLayerMLPLearnsRegression() throws {
        let rng = CounterRNG(seed: 1)
        let n = 256
        let x = Tensor(shape: [n, 2]), y = Tensor(shape: [n, 1])
        for i in 0..<n {
            let a = 2 * rng.uniform(stream: 1, index: UInt64(2 * i)) - 1, b = 2 * rng.uniform(stream: 1, index: UInt64(2 * i + 1)) - 1
            x[2 * i] = a; x[2 * i + 1] = b
            y[i] = sin(2 * a) + b * b - 0.5
        }
        let fc1 = Linear(inFeatures: 2, outFeatures: 64, name: "fc1", rng: rng)
        let act = Activation(.gelu)
        let fc2 = Linear(inFeatures: 64, outFeatures: 1, name: "fc2", rng: rng)
        let params = fc1.parameters + fc2.parameters
        let opt = AdamW(parameters: params, lr: 1e-2, weightDecay: 0)
        let schedule = LRSchedule(peak: 3e-2, warmupSteps: 20, decay: .cosine(totalSteps: 1000, final: 1e-4))
        let initial = meanSquareLoss(fc2.forward(act.forward(fc1.forward(x, save: false), save: false), save: false), y).value
        var loss: Float = 0
        for step in 0..<1000 {
            opt.zeroGrad()
            let pred = fc2.forward(act.forward(fc1.forward(x, save: true), save: true), save: true)
            let l = meanSquareLoss(pred, y)
            try checkFinite(loss: l.value, step: step)
            _ = fc1.backward(act.backward(fc2.backward(l.gradient)))
            try opt.clipGradNorm(maxNorm: 1)
            opt.step(lr: schedule.lr(at: step))
            loss = l.value
        }
        print("toy MLP: mean square loss \(initial) → \(loss)")
        XCTAssertLessThan(loss, 2e-3, "the MLP fits the regression (initial loss \(initial))")
    }

    /// 8×8 one-channel images holding a horizontal (+1) or vertical (−1) bar at a random place,
    /// plus noise; the network regresses the sign. Fresh batches each step.
    func testSmallConvNetLearnsBarOrientation() throws {
        let rng = CounterRNG(seed: 2)
        let conv1 = Conv2d(inChannels: 1, outChannels: 8, name: "conv1", rng: rng)
        let norm = GroupNorm(groups: 2, channels: 8, name: "norm")
        let act1 = Activation(.silu), pool1 = AvgPool2x2()
        let conv2 = Conv2d(inChannels: 8, outChannels: 8, name: "conv2", rng: rng)
        let act2 = Activation(.silu), pool2 = AvgPool2x2()
        let head = Linear(inFeatures: 2 * 2 * 8, outFeatures: 1, name: "head", rng: rng)
        let modules: [Module] = [conv1, norm, conv2, head]
        let opt = AdamW(parameters: modules.flatMap(\.parameters), lr: 3e-3)
        let ema = EMA(parameters: opt.parameters, decay: 0.9)
        let batch = 32

        func makeBatch(_ step: Int) -> (Tensor, Tensor) {
            let x = Tensor(shape: [batch, 8, 8, 1]), y = Tensor(shape: [batch, 1])
            for e in 0..<batch {
                let base = UInt64((step * batch + e) * 70)
                let horizontal = rng.uniform(stream: 3, index: base) < 0.5
                let pos = rng.integer(below: 8, stream: 3, index: base + 1)
                for i in 0..<64 { x[e * 64 + i] = 0.3 * rng.normal(stream: 4, index: base + UInt64(i)) }
                for k in 0..<8 { x[e * 64 + (horizontal ? pos * 8 + k : k * 8 + pos)] += 1 }
                y[e] = horizontal ? 1 : -1
            }
            return (x, y)
        }
        func forward(_ x: Tensor, save: Bool) -> Tensor {
            var h = act1.forward(norm.forward(conv1.forward(x, save: save), save: save), save: save)
            h = pool2.forward(act2.forward(conv2.forward(pool1.forward(h, save: save), save: save), save: save), save: save)
            return head.forward(h.reshaped([x.shape[0], 32]), save: save)
        }
        var recent: [Float] = []
        for step in 0..<300 {
            let (x, y) = makeBatch(step)
            opt.zeroGrad()
            let l = meanSquareLoss(forward(x, save: true), y)
            try checkFinite(loss: l.value, step: step)
            var g = head.backward(l.gradient).reshaped([batch, 2, 2, 8])
            g = pool1.backward(conv2.backward(act2.backward(pool2.backward(g))))
            _ = conv1.backward(norm.backward(act1.backward(g)))
            try opt.clipGradNorm(maxNorm: 1)
            opt.step()
            ema.update()
            recent.append(l.value)
        }
        let tail = recent.suffix(20).reduce(0, +) / 20
        // Held-out batch with the EMA weights.
        let (xt, yt) = makeBatch(10_000)
        ema.swapWithParameters()
        let heldOut = meanSquareLoss(forward(xt, save: false), yt).value
        ema.swapWithParameters()
        print("toy conv net: last-20 mean loss \(tail), held-out EMA loss \(heldOut)")
        XCTAssertLessThan(tail, 0.1, "train loss (chance level is 1)")
        XCTAssertLessThan(heldOut, 0.1, "held-out loss with EMA weights")
    }
}
