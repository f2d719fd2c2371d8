import Tensors
import XCTest
@testable import Evaluation

/// The CLIP loss against a direct double-precision computation, and its gradients (images,
/// texts, log scale) against finite differences.
final class ContrastiveLossTests: XCTestCase {
    /// ½(mean_i CE(row i) + mean_j CE(column j)) of e^s I Tᵀ, in Double.
    func reference(_ i: Tensor, _ t: Tensor, _ s: Float) -> Double {
        let b = i.shape[0], e = i.shape[1]
        var l = [[Double]](repeating: [Double](repeating: 0, count: b), count: b)
        for r in 0..<b { for c in 0..<b {
            var dot = 0.0
            for k in 0..<e { dot += Double(i[r * e + k]) * Double(t[c * e + k]) }
            l[r][c] = exp(Double(s)) * dot
        } }
        var rows = 0.0, cols = 0.0
        for r in 0..<b { rows += log((0..<b).map { exp(l[r][$0]) }.reduce(0, +)) - l[r][r] }
        for c in 0..<b { cols += log((0..<b).map { exp(l[$0][c]) }.reduce(0, +)) - l[c][c] }
        return 0.5 * (rows + cols) / Double(b)
    }

    func testValueMatchesADirectComputation() {
        let i = unitRows(randomTensor([6, 5], seed: 1)), t = unitRows(randomTensor([6, 5], seed: 2))
        for s: Float in [0, 1.5, 3] {
            let r = ContrastiveLoss.compute(images: i, texts: t, logScale: s)
            XCTAssertEqual(Double(r.loss), reference(i, t, s), accuracy: 1e-5 * max(1, reference(i, t, s)))
        }
        // Perfectly matched, well separated pairs: loss near 0 and top-1 = 1.
        let eye = Tensor(shape: [4, 4]); for k in 0..<4 { eye[k * 4 + k] = 1 }
        let r = ContrastiveLoss.compute(images: eye, texts: eye, logScale: 4)
        XCTAssertLessThan(r.loss, 0.1)
        XCTAssertEqual(r.accuracy, 1)
    }

    func testGradientsMatchFiniteDifferences() {
        let i = unitRows(randomTensor([5, 4], seed: 3)), t = unitRows(randomTensor([5, 4], seed: 4))
        var s: Float = 1.2
        let r = ContrastiveLoss.compute(images: i, texts: t, logScale: s)
        let loss = { self.reference(i, t, s) }
        checkGradient("dImages", x: i, grad: r.dImages, probes: 20, eps: 1e-3, atol: 1e-4, rtol: 1e-2, loss: loss)
        checkGradient("dTexts", x: t, grad: r.dTexts, probes: 20, eps: 1e-3, atol: 1e-4, rtol: 1e-2, loss: loss)
        let h: Float = 1e-3
        s += h; let plus = loss(); s -= 2 * h; let minus = loss(); s += h
        XCTAssertEqual(Double(r.dLogScale), (plus - minus) / Double(2 * h), accuracy: 1e-3)
    }
}
