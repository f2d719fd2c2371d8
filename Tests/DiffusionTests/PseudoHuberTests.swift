import Tensors
import XCTest
@testable import Diffusion

final class PseudoHuberTests: XCTestCase {
    func testValuesAgainstTheFormula() {
        let delta = Tensor(shape: [2, 3], values: [3, 0, -4, 1, 1, 1])
        // Per example: sqrt(mean Δ² + c²) − c: sqrt(25/3 + 1) − 1 and sqrt(1 + 1) − 1.
        let perExample = PseudoHuber.loss(delta, c: 1).loss
        XCTAssertEqual(perExample, ((25.0 / 3 + 1).squareRoot() - 1 + 2.0.squareRoot() - 1) / 2, accuracy: 1e-12)
        // Per element: mean over elements of sqrt(Δ² + c²) − c.
        let perElement = PseudoHuber.loss(delta, c: 1, reduction: .perElement).loss
        let values: [Double] = [3, 0, -4, 1, 1, 1]
        let terms: [Double] = values.map { (v: Double) -> Double in (v * v + 1).squareRoot() - 1 }
        let expected: Double = terms.reduce(0, +) / 6
        XCTAssertEqual(perElement, expected, accuracy: 1e-12)
        // Small c: the per-example RMS (Euclidean distance / sqrt(d)); large c: mean Δ² / (2c).
        XCTAssertEqual(PseudoHuber.loss(delta, c: 1e-4).loss, ((25.0 / 3).squareRoot() + 1) / 2, accuracy: 2e-4)
        XCTAssertEqual(PseudoHuber.loss(delta, c: 1e3).loss, (25.0 / 3 + 1) / 2 / 2e3, accuracy: 1e-6)
    }

    /// Small c: the per-example pseudo-Huber is the RMS difference (Euclidean distance / √d).
    func testSmallCIsTheRootMeanSquare() {
        let delta = Tensor(shape: [1, 4], values: [3, 0, -4, 1])
        XCTAssertEqual(PseudoHuber.loss(delta, c: 1e-6).loss, (26.0 / 4).squareRoot(), accuracy: 1e-5)
    }

    func testGradientsMatchFiniteDifferences() {
        let delta = randomTensor([3, 7], seed: 4)
        for reduction in [HuberReduction.perExample, .perElement] {
            for c in [1e-2, 1.0] {
                let grad = PseudoHuber.loss(delta, c: c, reduction: reduction).gradient
                for e in [0, 5, 10, 20] {
                    let h: Float = 1e-3
                    let p = delta.copy(); p[e] += h
                    let m = delta.copy(); m[e] -= h
                    let fd = (PseudoHuber.loss(p, c: c, reduction: reduction).loss - PseudoHuber.loss(m, c: c, reduction: reduction).loss)
                        / (Double(p[e]) - Double(m[e]))
                    XCTAssertEqual(Double(grad[e]), fd, accuracy: 1e-6 + 1e-3 * abs(fd), "\(reduction) c = \(c) e = \(e)")
                }
            }
        }
    }
}
