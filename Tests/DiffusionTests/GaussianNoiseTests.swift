import XCTest
@testable import Diffusion

final class GaussianNoiseTests: XCTestCase {
    func testMomentsAndAddressing() {
        let n = 200_000
        let t = Tensor(shape: [n])
        GaussianNoise.fill(t.buffer, CounterRNG(seed: 1), stream: 3)
        let values = t.toArray().map(Double.init)
        let mean = values.reduce(0, +) / Double(n)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        let kurtosis = values.reduce(0) { $0 + pow($1 - mean, 4) } / Double(n) / (variance * variance)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.01)
        XCTAssertEqual(kurtosis, 3, accuracy: 0.05)
        XCTAssertEqual(values.filter { $0 > 1.96 }.count, Int(0.025 * Double(n)), accuracy: 400)
        let part = Tensor(shape: [10])
        GaussianNoise.fill(part.buffer, CounterRNG(seed: 1), stream: 3, first: 500)
        XCTAssertEqual(part.toArray(), Array(t.toArray()[500..<510]))
    }

    /// Block (seed 0, stream 0, index 38,471,471) has its top 24 bits of word 0 all ones, where
    /// `CounterRNG.normal`'s Float uniform rounds to 1 and the draw is NaN; this module's draw is finite.
    func testFiniteWhereTheFloatUniformRoundsToOne() {
        let rng = CounterRNG(seed: 0)
        XCTAssertEqual(rng.block(stream: 0, index: 38_471_471).0 >> 8, 0xFF_FFFF)
        XCTAssertTrue(GaussianNoise.normal(rng, stream: 0, index: 38_471_471).isFinite)
    }
}
