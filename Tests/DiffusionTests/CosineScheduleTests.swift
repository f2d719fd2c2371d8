import XCTest
@testable import Diffusion

final class CosineScheduleTests: XCTestCase {
    /// With shift 0 and λ unclipped, sigmoid(±λ) of λ = −2 log tan(πt/2) gives α = cos(πt/2),
    /// σ = sin(πt/2): an independent closed form.
    func testPlainCosineIsCosAndSin() {
        let s = CosineSchedule()
        for i in 1..<100 {
            let t = Double(i) / 100
            XCTAssertEqual(s.alpha(t), cos(.pi * t / 2), accuracy: 1e-12, "t = \(t)")
            XCTAssertEqual(s.sigma(t), sin(.pi * t / 2), accuracy: 1e-12, "t = \(t)")
            XCTAssertEqual(s.snr(t), pow(1 / tan(.pi * t / 2), 2), accuracy: 1e-9 * s.snr(t))
            XCTAssertEqual(s.alpha(t) * s.alpha(t) + s.sigma(t) * s.sigma(t), 1, accuracy: 1e-14)
        }
    }

    func testClippingAndExactEndpoint() {
        let s = CosineSchedule()
        XCTAssertEqual(s.alpha(0), 1)
        XCTAssertEqual(s.sigma(0), 0)
        XCTAssertEqual(s.snr(0), .infinity)
        XCTAssertEqual(s.logSNR(1e-6), 15)
        XCTAssertEqual(s.logSNR(1 - 1e-6), -15)
        XCTAssertEqual(s.logSNR(1), -15)
        XCTAssertEqual(s.sigma(1), (1 / (1 + exp(-15.0))).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(s.alpha(1), (1 / (1 + exp(15.0))).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(s.alpha(1e-6), (1 / (1 + exp(-15.0))).squareRoot(), accuracy: 1e-15)
        // Monotone decreasing λ between the clips.
        var last = Double.infinity
        for i in 0...1000 { let l = s.logSNR(Double(i) / 1000); XCTAssertLessThanOrEqual(l, last); last = l }
    }

    func testShiftMultipliesSNR() {
        let base = CosineSchedule(), shifted = CosineSchedule(baseResolution: 32, resolution: 64)
        XCTAssertEqual(shifted.shift, log(0.5), accuracy: 1e-15)
        for t in [0.2, 0.5, 0.8] {
            XCTAssertEqual(shifted.snr(t), base.snr(t) * 0.25, accuracy: 1e-12 * base.snr(t))
            XCTAssertEqual(shifted.alpha(t) * shifted.alpha(t) + shifted.sigma(t) * shifted.sigma(t), 1, accuracy: 1e-14)
        }
        XCTAssertEqual(CosineSchedule(shift: 1, logSNRMin: -5, logSNRMax: 5).logSNR(0.999), -5)
    }
}
