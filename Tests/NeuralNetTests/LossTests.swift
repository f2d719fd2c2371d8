import Tensors
import XCTest
@testable import NeuralNet

final class LossTests: XCTestCase {
    func testValuesAgainstDirectFormulas() {
        let p = randomTensor([3, 4], seed: 1), t = randomTensor([3, 4], seed: 2)
        let scales: [Float] = [1, 0.5, 2]
        let ms = meanSquareLoss(p, t, exampleScale: scales)
        let c: Float = 0.3
        let ph = pseudoHuberLoss(p, t, c: c, exampleScale: scales)
        let pe = pseudoHuberLoss(p, t, c: c, exampleScale: scales, perElement: true)
        var msRef = 0.0, phRef = 0.0, peRef = 0.0
        for i in 0..<3 {
            let deltas = (0..<4).map { Double(scales[i]) * Double(p[i * 4 + $0] - t[i * 4 + $0]) }
            let mean = deltas.map { $0 * $0 }.reduce(0, +) / 4
            XCTAssertEqual(Double(ms.perExample[i]), mean, accuracy: 1e-6)
            msRef += mean / 3
            phRef += ((mean + Double(c * c)).squareRoot() - Double(c)) / 3
            peRef += deltas.map { ($0 * $0 + Double(c * c)).squareRoot() - Double(c) }.reduce(0, +) / 4 / 3
        }
        XCTAssertEqual(Double(ms.value), msRef, accuracy: 1e-6)
        XCTAssertEqual(Double(ph.value), phRef, accuracy: 1e-6)
        XCTAssertEqual(Double(pe.value), peRef, accuracy: 1e-6)
        // Small c: the per-example pseudo-Huber is the RMS difference (Euclidean distance / √d).
        let tiny = pseudoHuberLoss(p, t, c: 1e-6)
        XCTAssertEqual(Double(tiny.perExample[0]), Double(meanSquareLoss(p, t).perExample[0]).squareRoot(), accuracy: 1e-5)
    }

    func testGradients() {
        let p = randomTensor([3, 5], seed: 3), t = randomTensor([3, 5], seed: 4)
        let scales: [Float] = [1, 0.5, 2]
        // The scalar loss times the upstream scalar gradient.
        func lossCheck(_ label: String, _ f: @escaping () -> LossResult) {
            GradCheck().check(label, inputs: [p], forward: { Tensor(shape: [1], values: [f().value]) }) { dy in
                [scaled(f().gradient, by: dy[0])]
            }
        }
        lossCheck("mean square") { meanSquareLoss(p, t, exampleScale: scales) }
        lossCheck("pseudo-Huber") { pseudoHuberLoss(p, t, c: 0.1, exampleScale: scales) }
        lossCheck("pseudo-Huber per element") { pseudoHuberLoss(p, t, c: 0.5, exampleScale: scales, perElement: true) }
    }

    func testSoftmaxCrossEntropy() {
        let logits = randomTensor([3, 5], seed: 2, std: 2), labels = [4, 0, 2]
        let l = softmaxCrossEntropyLoss(logits, labels: labels)
        var ref = 0.0
        for r in 0..<3 {
            let row = (0..<5).map { Double(logits[r * 5 + $0]) }
            ref += (log(row.map { exp($0) }.reduce(0, +)) - row[labels[r]]) / 3
        }
        XCTAssertEqual(Double(l.value), ref, accuracy: 1e-5)
        GradCheck().check("cross-entropy", inputs: [logits],
                          forward: { Tensor(shape: [1], values: [softmaxCrossEntropyLoss(logits, labels: labels).value]) }) { dy in
            [scaled(softmaxCrossEntropyLoss(logits, labels: labels).gradient, by: dy[0])]
        }
    }
}
