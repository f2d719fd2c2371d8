import Tensors
import XCTest
import Foundation
@testable import NeuralNet

final class PoolingTests: XCTestCase {
    func testMaskedMeanAndL2Normalize() {
        let x = randomTensor([2, 3, 4], seed: 1)
        let mask = Tensor(shape: [2, 3], values: [1, 0, 1, 0, 0, 0])
        let y = maskedMeanForward(x, mask: mask)
        XCTAssertEqual(y[1], (x[1] + x[9]) / 2, accuracy: 1e-6)
        XCTAssertEqual(y[4 + 2], 0, "an all-masked row pools to zero")
        GradCheck().check("masked mean", inputs: [x], forward: { maskedMeanForward(x, mask: mask) }) {
            [maskedMeanBackward($0, inputShape: x.shape, mask: mask)]
        }
        GradCheck().check("mean", inputs: [x], forward: { maskedMeanForward(x, mask: nil) }) {
            [maskedMeanBackward($0, inputShape: x.shape, mask: nil)]
        }
        let (n, _) = l2NormalizeForward(x)
        XCTAssertEqual(vdot(n.data, n.data, 4), 1, accuracy: 1e-6)
        GradCheck().check("l2 normalize", inputs: [x], forward: { l2NormalizeForward(x).y }) { dy in
            let (y, inv) = l2NormalizeForward(x); return [l2NormalizeBackward(dy, y: y, inverseNorms: inv)]
        }
    }
}
