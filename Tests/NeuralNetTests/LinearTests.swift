import Tensors
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

    /// 600 rows: two 256-row blocks plus a remainder in dW, partial 6×16 tiles everywhere.
    func testManyRowsAgainstNaive() {
        let (n, i, o) = (600, 13, 21)
        let x = randomTensor([n, i], seed: 10), w = randomTensor([i, o], seed: 11), dy = randomTensor([n, o], seed: 12)
        let y = linearForward(x, weight: w, bias: nil)
        let gw = Tensor(shape: w.shape)
        let dx = linearBackward(dy, x: x, weight: w, weightGrad: gw, biasGrad: nil)
        var yRef = [Double](), dxRef = [Double](), gwRef = [Double](repeating: 0, count: i * o)
        for r in 0..<n {
            for c in 0..<o { yRef.append((0..<i).reduce(0.0) { $0 + Double(x[r * i + $1]) * Double(w[$1 * o + c]) }) }
            for c in 0..<i { dxRef.append((0..<o).reduce(0.0) { $0 + Double(dy[r * o + $1]) * Double(w[c * o + $1]) }) }
            for a in 0..<i { for c in 0..<o { gwRef[a * o + c] += Double(x[r * i + a]) * Double(dy[r * o + c]) } }
        }
        XCTAssertLessThan(maxDifference(y, yRef), 1e-4)
        XCTAssertLessThan(maxDifference(dx, dxRef), 1e-4)
        XCTAssertLessThan(maxDifference(gw, gwRef), 1e-3)
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
