import Tensors
import XCTest
@testable import NeuralNet

/// A small residual block built from the layers, as the model code will build its own:
/// y = x + conv2(silu(norm(conv1(x)))).
final class TinyBlock: Module {
    let conv1: Conv2d, norm: GroupNorm, act = Activation(.silu), conv2: Conv2d
    init(channels: Int, name: String, rng: CounterRNG) {
        conv1 = Conv2d(inChannels: channels, outChannels: channels, name: dotted(name, "conv1"), rng: rng)
        norm = GroupNorm(groups: 2, channels: channels, name: dotted(name, "norm"))
        conv2 = Conv2d(inChannels: channels, outChannels: channels, kernelSize: 1, name: dotted(name, "conv2"), rng: rng)
    }
    var parameters: [Parameter] { conv1.parameters + norm.parameters + conv2.parameters }
    func forward(_ x: Tensor, save: Bool) -> Tensor {
        added(x, conv2.forward(act.forward(norm.forward(conv1.forward(x, save: save), save: save), save: save), save: save))
    }
    func backward(_ dy: Tensor) -> Tensor {
        let dx = conv1.backward(norm.backward(act.backward(conv2.backward(dy))))
        dx.add(dy)
        return dx
    }
}

final class LayerTests: XCTestCase {
    func testParameterNamesAreDottedAndStable() {
        let rng = CounterRNG(seed: 1)
        let block = TinyBlock(channels: 4, name: "down.0.res.1", rng: rng)
        XCTAssertEqual(block.parameters.map(\.name), [
            "down.0.res.1.conv1.weight", "down.0.res.1.conv1.bias", "down.0.res.1.norm.weight", "down.0.res.1.norm.bias",
            "down.0.res.1.conv2.weight", "down.0.res.1.conv2.bias"])
        let again = TinyBlock(channels: 4, name: "down.0.res.1", rng: rng)
        XCTAssertEqual(again.conv1.weight.value.toArray(), block.conv1.weight.value.toArray(), "deterministic init")
        XCTAssertNotEqual(block.conv1.weight.value.toArray().prefix(9), block.conv2.weight.value.toArray().prefix(9)[...],
                          "each parameter has its own stream")
        let mlp = MLP(dim: 4, hidden: 8, name: "mlp", rng: rng)
        XCTAssertEqual(mlp.parameters.map(\.name), ["mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"])
        XCTAssertEqual(Embedding(count: 3, dim: 2, name: "tok", rng: rng).parameters.map(\.name), ["tok.weight"])
        XCTAssertEqual(LayerNorm(features: 3, name: "ln").parameters.map(\.decays), [false, false])
        XCTAssertEqual(Linear(inFeatures: 2, outFeatures: 3, name: "l", rng: rng).parameters.map(\.decays), [true, false])
    }

    func testLinearInitStatistics() {
        let l = Linear(inFeatures: 400, outFeatures: 100, name: "l", rng: CounterRNG(seed: 2))
        let v = l.weight.value.toArray().map(Double.init)
        let mean = v.reduce(0, +) / Double(v.count)
        let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.002)
        XCTAssertEqual(std, 1 / 20, accuracy: 0.001)
        XCTAssertTrue(l.bias!.value.toArray().allSatisfy { $0 == 0 })
    }

    func testBlockGradientsThroughLayers() {
        let block = TinyBlock(channels: 4, name: "b", rng: CounterRNG(seed: 3))
        for p in block.parameters { CounterRNG(seed: 4).fillNormal(p.value.buffer, stream: Initializer.stream(for: p.name)) }
        let x = randomTensor([2, 3, 3, 4], seed: 5)
        GradCheck().check("residual block", inputs: [x] + block.parameters.map(\.value),
                          forward: { block.forward(x, save: false) }) { dy in
            block.zeroGrad()
            _ = block.forward(x, save: true)
            return [block.backward(dy)] + block.parameters.map(\.grad)
        }
        let mlp = MLP(dim: 3, hidden: 5, activation: .gelu, name: "mlp", rng: CounterRNG(seed: 6))
        let t = randomTensor([2, 2, 3], seed: 7)
        GradCheck().check("mlp", inputs: [t] + mlp.parameters.map(\.value), forward: { mlp.forward(t, save: false) }) { dy in
            mlp.zeroGrad()
            _ = mlp.forward(t, save: true)
            return [mlp.backward(dy)] + mlp.parameters.map(\.grad)
        }
    }

    /// The consistency step runs the student with save: true, then with save: false on other
    /// inputs, then backward: the second call must not disturb what the first kept.
    func testSaveFalseLeavesTheSavedForwardAlone() {
        let rng = CounterRNG(seed: 8)
        let block = TinyBlock(channels: 4, name: "b", rng: rng)
        let attn = MultiHeadAttention(dim: 4, heads: 2, name: "a", rng: rng)
        let x1 = randomTensor([2, 2, 2, 4], seed: 9), x2 = randomTensor([2, 2, 2, 4], seed: 10)
        let dy = randomTensor([2, 2, 2, 4], seed: 11)
        func run(interleave: Bool) -> [Float] {
            block.zeroGrad(); attn.zeroGrad()
            let h = block.forward(x1, save: true)
            let y = attn.forward(h.reshaped([2, 4, 4]), save: true)
            if interleave { _ = attn.forward(block.forward(x2, save: false).reshaped([2, 4, 4]), save: false) }
            let dh = attn.backward(dy.reshaped(y.shape)).dx
            let dx = block.backward(dh.reshaped(h.shape))
            return dx.toArray() + (block.parameters + attn.parameters).flatMap { $0.grad.toArray() }
        }
        XCTAssertEqual(run(interleave: false), run(interleave: true))
    }

    func testBackwardParametersMatchesFullBackward() {
        let rng = CounterRNG(seed: 15)
        let conv = Conv2d(inChannels: 3, outChannels: 5, name: "c", rng: rng)
        let lin = Linear(inFeatures: 4, outFeatures: 3, name: "l", rng: rng)
        let x = randomTensor([2, 3, 3, 3], seed: 16), dy = randomTensor([2, 3, 3, 5], seed: 17)
        let t = randomTensor([5, 4], seed: 18), dt = randomTensor([5, 3], seed: 19)
        _ = conv.forward(x, save: true); _ = conv.backward(dy)
        _ = lin.forward(t, save: true); _ = lin.backward(dt)
        let full = (conv.parameters + lin.parameters).map { $0.grad.toArray() }
        conv.zeroGrad(); lin.zeroGrad()
        _ = conv.forward(x, save: true); conv.backwardParameters(dy)
        _ = lin.forward(t, save: true); lin.backwardParameters(dt)
        XCTAssertEqual((conv.parameters + lin.parameters).map { $0.grad.toArray() }, full)
    }

    func testDropoutLayerReproducibleAndInactive() {
        let d = Dropout(p: 0.5, rng: CounterRNG(seed: 12), name: "drop")
        let x = Tensor(shape: [64], repeating: 1)
        let a = d.forward(x, save: true), b = d.forward(x, save: false)
        XCTAssertNotEqual(a.toArray(), b.toArray(), "successive calls draw new masks")
        XCTAssertEqual(d.backward(x).toArray(), a.toArray(), "backward uses the saved call's mask")
        d.calls = 0
        XCTAssertEqual(d.forward(x, save: false).toArray(), a.toArray(), "restoring the call count replays the mask")
        d.isActive = false
        XCTAssertEqual(d.forward(x, save: false).toArray(), x.toArray())
    }

    func testModuleLoadChecksNamesAndShapes() throws {
        let rng = CounterRNG(seed: 13)
        let a = MLP(dim: 2, hidden: 3, name: "m", rng: rng), b = MLP(dim: 2, hidden: 3, name: "m", rng: CounterRNG(seed: 14))
        try b.load(Dictionary(uniqueKeysWithValues: a.namedTensors()))
        XCTAssertEqual(b.fc1.weight.value.toArray(), a.fc1.weight.value.toArray())
        var partial = Dictionary(uniqueKeysWithValues: a.namedTensors())
        partial["m.fc2.bias"] = nil
        XCTAssertThrowsError(try b.load(partial)) { XCTAssertTrue("\($0)".contains("m.fc2.bias")) }
        partial["m.fc2.bias"] = Tensor(shape: [3])
        XCTAssertThrowsError(try b.load(partial)) { XCTAssertTrue("\($0)".contains("[3]")) }
    }
}
