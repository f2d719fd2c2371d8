import Tensors
import XCTest
import Diffusion
@testable import Models

final class ConditioningOpsTests: XCTestCase {
    func testFiLMMatchesFormulaAndGradients() {
        let x = normalTensor([2, 3, 2, 4], seed: 1), s = normalTensor([2, 8], seed: 2, std: 0.5)
        let y = filmForward(x, s)
        for b in 0..<2 { for n in 0..<6 { for c in 0..<4 {
            let i = (b * 6 + n) * 4 + c
            XCTAssertEqual(y[i], x[i] * (1 + s[b * 8 + c]) + s[b * 8 + 4 + c], accuracy: 1e-6)
        } } }
        let r = normalTensor(y.shape, seed: 3)
        let (dx, ds) = filmBackward(r, x: x, s: s)
        checkGradient("film dx", x: x, grad: dx, probes: 10) { weightedSum(filmForward(x, s), r) }
        checkGradient("film ds", x: s, grad: ds, probes: 10) { weightedSum(filmForward(x, s), r) }
    }

    func testMaskedMeanMatchesFormulaAndGradients() {
        let h = normalTensor([2, 4, 3], seed: 4)
        let mask = Tensor(shape: [2, 4], values: [1, 1, 0, 0, 1, 0, 1, 1])
        let p = maskedMeanForward(h, mask: mask)
        for c in 0..<3 {
            XCTAssertEqual(p[c], (h[c] + h[3 + c]) / 2, accuracy: 1e-6)
            XCTAssertEqual(p[3 + c], (h[12 + c] + h[18 + c] + h[21 + c]) / 3, accuracy: 1e-6)
        }
        let r = normalTensor(p.shape, seed: 5)
        let dh = maskedMeanBackward(r, mask: mask, tokens: 4)
        checkGradient("masked mean", x: h, grad: dh, probes: 12) { weightedSum(maskedMeanForward(h, mask: mask), r) }
        XCTAssertEqual(dh[2 * 3], 0, "padded tokens get no gradient")
    }

    /// u = (2/π)·atan(e^(−λ/2)) is the time of the unshifted cosine schedule with log-SNR λ, so
    /// the first pair of features is (sin 1000t, cos 1000t) for the schedule's own λ(t).
    func testNoiseFeaturesFollowTheCosineTime() {
        let schedule = CosineSchedule()
        let times: [Double] = [0.01, 0.2, 0.5, 0.77, 0.99]
        let f = noiseLevelFeatures(logSNR: times.map(schedule.logSNR), count: 8)
        for (i, t) in times.enumerated() {
            XCTAssertEqual(Double(f[i * 8]), sin(1000 * t), accuracy: 2e-3)
            XCTAssertEqual(Double(f[i * 8 + 1]), cos(1000 * t), accuracy: 2e-3)
            // Pair k uses frequency 10000^(−k/4).
            let w3 = pow(10000, -3.0 / 4)
            XCTAssertEqual(Double(f[i * 8 + 6]), sin(1000 * t * w3), accuracy: 1e-4)
        }
    }
}
