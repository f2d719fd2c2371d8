import Tensors
import XCTest
@testable import Evaluation

final class CLIPScoreTests: XCTestCase {
    /// torchmetrics' computation written out directly: normalise, 100 · row-wise dot, mean, clamp.
    private func direct(_ img: [[Double]], _ txt: [[Double]]) -> Double {
        func unit(_ v: [Double]) -> [Double] { let n = v.map { $0 * $0 }.reduce(0, +).squareRoot(); return v.map { $0 / n } }
        let scores = zip(img, txt).map { a, b in 100 * zip(unit(a), unit(b)).map(*).reduce(0, +) }
        return max(scores.reduce(0, +) / Double(scores.count), 0)
    }

    func testMatchesDirectComputation() throws {
        let (n, e) = (13, 16)
        let rng = CounterRNG(seed: 7)
        // Correlated pairs so the score is well above zero; arbitrary norms (normalisation matters).
        let img = Tensor(shape: [n, e]), txt = Tensor(shape: [n, e])
        for i in 0..<(n * e) {
            let shared = rng.normal(stream: 0, index: UInt64(i))
            img[i] = 3 * (shared + 0.5 * rng.normal(stream: 1, index: UInt64(i)))
            txt[i] = 0.2 * (shared + 0.7 * rng.normal(stream: 2, index: UInt64(i)))
        }
        let rows = { (t: Tensor) in (0..<n).map { r in (0..<e).map { Double(t[r * e + $0]) } } }
        let result = try CLIPScore.compute(images: img, texts: txt, embeddingModel: "shapes-clip v1")
        let want = direct(rows(img), rows(txt))
        XCTAssertGreaterThan(want, 20)
        XCTAssertEqual(result.score, want, accuracy: 1e-9 * want)
        XCTAssertEqual(result.pairs, n)
        XCTAssertEqual(result.embeddingModel, "shapes-clip v1")
    }

    /// The clamp comes after the mean: one anti-aligned pair lowers the mean, and only a set
    /// that is anti-aligned on average scores 0.
    func testClampAfterMean() throws {
        let x: [Float] = [1, 0], y: [Float] = [0, 1]
        func score(_ img: [[Float]], _ txt: [[Float]]) throws -> Double {
            try CLIPScore.compute(images: Tensor(shape: [img.count, 2], values: img.flatMap { $0 }),
                                  texts: Tensor(shape: [txt.count, 2], values: txt.flatMap { $0 }), embeddingModel: "m").score
        }
        XCTAssertEqual(try score([x], [x]), 100, accuracy: 1e-12)
        XCTAssertEqual(try score([x], [y]), 0, accuracy: 1e-12)
        XCTAssertEqual(try score([x], [[-1, 0]]), 0)                              // mean −100 → 0
        XCTAssertEqual(try score([x, x, x], [x, x, [-2, 0]]), 100.0 / 3, accuracy: 1e-12)   // (100+100−100)/3, not (100+100+0)/3
        XCTAssertEqual(try score([x, x], [[-1, 0], [0.6, 0.8]]), 0)                // (−100+60)/2 < 0
    }

    func testBadEmbeddingsAreErrors() {
        XCTAssertThrowsError(try CLIPScore.compute(images: Tensor(shape: [2, 3]), texts: Tensor(shape: [2, 4]), embeddingModel: "m"))
        XCTAssertThrowsError(try CLIPScore.compute(images: Tensor(shape: [1, 2], values: [0, 0]),
                                                   texts: Tensor(shape: [1, 2], values: [1, 0]), embeddingModel: "m")) {
            XCTAssertEqual("\($0)", "CLIP score: pair 0 has a zero or non-finite embedding")
        }
        XCTAssertThrowsError(try CLIPScore.compute(images: Tensor(shape: [0, 2]), texts: Tensor(shape: [0, 2]), embeddingModel: "m"))
    }
}
