import Tensors
import XCTest
import Datasets
import NeuralNet
@testable import Evaluation

/// The attribute classifier: its multi-head loss against per-head cross-entropies computed
/// directly, and gradients through the heads and the conv trunk against finite differences.
final class AttributeClassifierTests: XCTestCase {
    let labels = [SceneLabels(shape: 1, colour: 6, size: 0, position: 4, background: 2),
                  SceneLabels(shape: 4, colour: 0, size: 1, position: 0, background: 1),
                  SceneLabels(shape: 0, colour: 3, size: 1, position: 2, background: 0)]

    /// Σ_a mean_b (log Σ_c exp z_{b, o_a + c} − z_{b, o_a + label}), in Double.
    func reference(_ logits: Tensor) -> Double {
        let k = AttributeClassifier.logitCount
        var total = 0.0
        for (a, n) in AttributeClassifier.counts.enumerated() {
            let o = AttributeClassifier.offsets[a]
            var head = 0.0
            for (b, l) in labels.enumerated() {
                let z = (0..<n).map { Double(logits[b * k + o + $0]) }
                head += log(z.map(exp).reduce(0, +)) - z[l.values[a]]
            }
            total += head / Double(labels.count)
        }
        return total
    }

    func testLossAndLogitGradient() {
        XCTAssertEqual(AttributeClassifier.counts, [5, 7, 2, 5, 3])
        XCTAssertEqual(AttributeClassifier.offsets, [0, 5, 12, 14, 19])
        let logits = randomTensor([3, 22], seed: 5)
        let r = AttributeClassifier.attributeLoss(logits, labels: labels)
        XCTAssertEqual(Double(r.loss), reference(logits), accuracy: 1e-5)
        checkGradient("dLogits", x: logits, grad: r.gradient, probes: 30, eps: 1e-3, atol: 1e-4, loss: { self.reference(logits) })
    }

    func testPredictionsTakeEachHeadsArgMax() {
        let logits = Tensor(shape: [1, 22])
        for (a, v) in labels[0].values.enumerated() { logits[AttributeClassifier.offsets[a] + v] = 5 }
        XCTAssertEqual(AttributeClassifier.predictions(logits), [labels[0]])
    }

    func testGradientThroughTheTrunk() {
        // An extra full-resolution convolution, so the unpooled path is checked too.
        let net = AttributeClassifier(resolution: 8, featureWidth: 6, baseChannels: 4, extraConvs: 1, rng: CounterRNG(seed: 2))
        XCTAssertEqual(net.trunk.convs.map { $0.weight.value.shape[3] }, [4, 4, 8])
        let images = randomTensor([3, 8, 8, 3], seed: 7, std: 0.5)
        func loss() -> Double { Double(AttributeClassifier.attributeLoss(net.forward(images, save: false), labels: labels).loss) }
        net.zeroGrad()
        net.backward(AttributeClassifier.attributeLoss(net.forward(images, save: true), labels: labels).gradient)
        for p in [net.trunk.convs[0].weight, net.trunk.convs[1].weight, net.trunk.convs[2].bias!, net.trunk.out.weight, net.heads.weight] {
            checkGradient(p.name, x: p.value, grad: p.grad, eps: 1e-2, atol: 5e-4, rtol: 3e-2, loss: loss)
        }
    }
}
