import XCTest
@testable import Diffusion

final class WassersteinTests: XCTestCase {
    func testAgainstSortedMatchingAndKnownValues() {
        let a = randomTensor([500], seed: 1).toArray(), b = randomTensor([500], seed: 2, scale: 2).toArray()
        let sortedMean = zip(a.sorted(), b.sorted()).map { abs(Double($0) - Double($1)) }.reduce(0, +) / 500
        XCTAssertEqual(Wasserstein.distance1D(a, b), sortedMean, accuracy: 1e-9)
        XCTAssertEqual(Wasserstein.distance1D(a, a.map { $0 + 0.75 }), 0.75, accuracy: 1e-6)
        XCTAssertEqual(Wasserstein.distance1D([0], [1, 3]), 2, accuracy: 1e-12)           // ½·1 + ½·3
        XCTAssertEqual(Wasserstein.distance1D([0, 0, 1], [0, 1]), 1.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(Wasserstein.distance1D(a, b), Wasserstein.distance1D(b, a), accuracy: 1e-12)
    }
}
