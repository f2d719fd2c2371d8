import XCTest
@testable import Tensors

final class PhiloxTests: XCTestCase {
    // Known-answer vectors from Random123's kat_vectors (philox4x32, 10 rounds).
    func testPublishedVectors() {
        func check(_ ctr: Philox4x32.Block, _ key: (UInt32, UInt32), _ want: [UInt32]) {
            let r = Philox4x32.block(counter: ctr, key: key)
            XCTAssertEqual([r.0, r.1, r.2, r.3], want)
        }
        check((0, 0, 0, 0), (0, 0), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8])
        check((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
              [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd])
        check((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
              [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1])
    }

    func testDrawsArePureFunctionsOfSeedAndIndex() {
        let rng = CounterRNG(seed: 42)
        let whole = Tensor(shape: [100]); rng.fillNormal(whole.buffer, stream: 7)
        let part = Tensor(shape: [10]); rng.fillNormal(part.buffer, stream: 7, first: 50)
        XCTAssertEqual(part.toArray(), Array(whole.toArray()[50..<60]))
        let other = Tensor(shape: [100]); CounterRNG(seed: 43).fillNormal(other.buffer, stream: 7)
        XCTAssertNotEqual(other.toArray(), whole.toArray())
    }

    func testNormalMoments() {
        let n = 200_000
        let t = Tensor(shape: [n]); CounterRNG(seed: 1).fillNormal(t.buffer, stream: 0)
        let mean = t.toArray().reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = t.toArray().reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.01)
        let u = Tensor(shape: [n]); CounterRNG(seed: 1).fillUniform(u.buffer, stream: 1)
        XCTAssertEqual(u.toArray().reduce(0.0) { $0 + Double($1) } / Double(n), 0.5, accuracy: 0.005)
        XCTAssertTrue(u.toArray().allSatisfy { $0 > 0 && $0 < 1 })
    }
}

final class PhiloxEdgeTests: XCTestCase {
    /// The largest words Philox can return must still give a finite normal draw (u1 < 1).
    func testExtremeWordsGiveFiniteNormals() {
        XCTAssertLessThan(CounterRNG.radiusUniform(.max, .max), 1)
        XCTAssertGreaterThan(CounterRNG.radiusUniform(0, 0), 0)
        let t = Tensor(shape: [1_000_000]); CounterRNG(seed: 9).fillNormal(t.buffer, stream: 3)
        XCTAssertTrue(t.toArray().allSatisfy { $0.isFinite })
    }
}
