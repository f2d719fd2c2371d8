import Tensors
import XCTest
@testable import NeuralNet

final class LossTests: XCTestCase {
    func testValuesAgainstDirectFormulas() {
        let p = randomTensor([3, 4], seed: 1), t = randomTensor([3, 4], seed: 2)
        let scales: [Float] = [1, 0.5, 2]
        let ms = meanSquareLoss(p, t, exampleScale: scales)
        var msRef = 0.0
        for i in 0..<3 {
            let deltas = (0..<4).map { Double(scales[i]) * Double(p[i * 4 + $0] - t[i * 4 + $0]) }
            let mean = deltas.map { $0 * $0 }.reduce(0, +) / 4
            XCTAssertEqual(Double(ms.perExample[i]), mean, accuracy: 1e-6)
            msRef += mean / 3
        }
        XCTAssertEqual(Double(ms.value), msRef, accuracy: 1e-6)
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
