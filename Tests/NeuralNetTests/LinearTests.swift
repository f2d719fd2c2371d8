import XCTest
@testable import NeuralNet

final class LinearTests: XCTestCase {
    func testForwardMatchesNaiveProduct() {
        let x = randomTensor([2, 3, 5], seed: 1), w = randomTensor([5, 4], seed: 2), b = randomTensor([4], seed: 3)
        let y = linearForward(x, weight: w, bias: b)
        XCTAssertEqual(y.shape, [2, 3, 4])
        var ref = [Double]()
        for r in 0..<6 { for o in 0..<4 {
            var s = Double(b[o])
            for i in 0..<5 { s += Double(x[r * 5 + i]) * Double(w[i * 4 + o]) }
            ref.append(s)
        } }
        XCTAssertLessThan(maxDifference(y, ref), 1e-5)
    }

    func testGradients() {
        let x = randomTensor([3, 4, 6], seed: 4), w = randomTensor([6, 5], seed: 5), b = randomTensor([5], seed: 6)
        GradCheck().check("linear", inputs: [x, w, b], forward: { linearForward(x, weight: w, bias: b) }) { dy in
            let gw = Tensor(shape: w.shape), gb = Tensor(shape: b.shape)
            let dx = linearBackward(dy, x: x, weight: w, weightGrad: gw, biasGrad: gb)
            return [dx, gw, gb]
        }
    }

    func testBackwardAddsIntoGradients() {
        let x = randomTensor([4, 3], seed: 7), w = randomTensor([3, 2], seed: 8)
        let dy = randomTensor([4, 2], seed: 9)
        let once = Tensor(shape: w.shape), twice = Tensor(shape: w.shape)
        _ = linearBackward(dy, x: x, weight: w, weightGrad: once, biasGrad: nil)
        _ = linearBackward(dy, x: x, weight: w, weightGrad: twice, biasGrad: nil)
        _ = linearBackward(dy, x: x, weight: w, weightGrad: twice, biasGrad: nil)
        for i in 0..<w.count { XCTAssertEqual(twice[i], 2 * once[i], accuracy: 1e-5) }
    }
}
