import Tensors
import XCTest
import Foundation
@testable import NeuralNet

final class ActivationTests: XCTestCase {
    func testForwardMatchesLibraryFunctions() {
        // 37 values: exercises the eight-lane blocks and the tail.
        let x = Tensor(shape: [37], values: (0..<37).map { Float($0) * 0.37 - 6.5 })
        let silu = siluForward(x), gelu = geluForward(x)
        for i in 0..<37 {
            let v = Double(x[i])
            XCTAssertEqual(Double(silu[i]), v / (1 + Foundation.exp(-v)), accuracy: 1e-6)
            XCTAssertEqual(Double(gelu[i]), 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot())), accuracy: 2e-6)
        }
    }

    func testExpAndErfAccuracy() {
        var worstExp = 0.0, worstErf = 0.0
        for i in 0..<2000 {
            let v = Float(i) * 0.085 - 85
            let e = Double(sexp(v)), ref = Foundation.exp(Double(v))
            worstExp = max(worstExp, abs(e - ref) / ref)
            let u = Float(i) * 0.004 - 4
            worstErf = max(worstErf, abs(Double(serf(u)) - Foundation.erf(Double(u))))
        }
        XCTAssertLessThan(worstExp, 5e-7, "about 3 ulp")
        XCTAssertLessThan(worstErf, 5e-7, "A&S 7.1.26 bound 1.5e-7 plus float rounding")
    }

    func testGradients() {
        let x = randomTensor([3, 13], seed: 1, std: 2)
        GradCheck().check("silu", inputs: [x], forward: { siluForward(x) }) { [siluBackward($0, x: x)] }
        GradCheck().check("gelu", inputs: [x], forward: { geluForward(x) }) { [geluBackward($0, x: x)] }
    }
}
