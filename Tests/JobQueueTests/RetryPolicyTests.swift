import Foundation
import XCTest
@testable import JobQueue

final class RetryPolicyTests: XCTestCase {
    /// delay(a) = min(cap, base·2^(a−1))·(1 − jitter·u), checked against a loop of doublings.
    func testFormulaAgainstRepeatedDoubling() {
        let p = RetryPolicy(base: 10, cap: 3600, jitter: 0.2)
        var d = 10.0
        for a in 1...20 {
            XCTAssertEqual(p.ceiling(afterAttempt: a), min(3600, d), accuracy: 1e-9, "attempt \(a)")
            XCTAssertEqual(p.delay(afterAttempt: a, u: 0), min(3600, d), accuracy: 1e-9)
            XCTAssertEqual(p.delay(afterAttempt: a, u: 0.5), min(3600, d) * 0.9, accuracy: 1e-9)
            d *= 2
        }
        XCTAssertEqual(p.ceiling(afterAttempt: 10_000), 3600)
    }

    func testRandomDelaysStayInTheJitterBand() {
        let p = RetryPolicy(base: 1, cap: 100, jitter: 0.25)
        for a in 1...8 {
            let hi = min(100, pow(2, Double(a - 1)))
            for _ in 0..<200 {
                let d = p.delay(afterAttempt: a)
                XCTAssertGreaterThan(d, 0.75 * hi - 1e-12)
                XCTAssertLessThanOrEqual(d, hi)
            }
        }
    }
}
