import Tensors
import XCTest
@testable import NeuralNet

final class SoftmaxTests: XCTestCase {
    func testForwardWithMask() {
        let x = Tensor(shape: [2, 2, 3], values: [1, 2, 3, 0, 0, 0, 5, -1, 2, 1, 1, 1])
        let mask = Tensor(shape: [2, 3], values: [1, 1, 0, 0, 0, 0])     // group 1 fully masked
        let y = softmaxForward(x, mask: mask)
        let e1 = 1 / (1 + Float(M_E))
        XCTAssertEqual(y[0], e1, accuracy: 1e-6)
        XCTAssertEqual(y[1], 1 - e1, accuracy: 1e-6)
        XCTAssertEqual(y[2], 0)
        XCTAssertEqual(y[3], 0.5, accuracy: 1e-6)
        for i in 6..<12 { XCTAssertEqual(y[i], 0, "fully masked rows are zero, not NaN") }
        let unmasked = softmaxForward(Tensor(shape: [1, 3], values: [1000, 1000, 1000]))
        for i in 0..<3 { XCTAssertEqual(unmasked[i], 1.0 / 3, accuracy: 1e-6) }
    }

    func testGradients() {
        let x = randomTensor([3, 11], seed: 1)
        let mask = Tensor(shape: [3, 11], values: (0..<33).map { $0 % 4 == 1 ? 0 : 1 })
        GradCheck().check("softmax", inputs: [x], forward: { softmaxForward(x) }) { dy in
            [softmaxBackward(dy, y: softmaxForward(x))]
        }
        GradCheck().check("softmax masked", inputs: [x], forward: { softmaxForward(x, mask: mask) }) { dy in
            [softmaxBackward(dy, y: softmaxForward(x, mask: mask))]
        }
    }
}
