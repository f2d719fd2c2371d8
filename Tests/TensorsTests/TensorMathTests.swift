import XCTest
@testable import Tensors

final class TensorMathTests: XCTestCase {
    func testInPlaceArithmeticAndReductions() {
        let n = 100_003                                  // spans both parallel chunks and a tail
        let a = Tensor(shape: [n]), b = Tensor(shape: [n])
        for i in 0..<n { a[i] = Float(i % 7) - 3; b[i] = Float(i % 5) }
        var sq = 0.0, sum = 0.0
        for i in 0..<n { sq += Double(a[i]) * Double(a[i]); sum += Double(a[i]) }
        XCTAssertEqual(a.sumOfSquares(), sq, accuracy: 1e-6 * sq)
        XCTAssertEqual(a.sum(), sum, accuracy: 1e-6)
        let c = a.copy(); c.add(b); c.add(b, scaledBy: -0.5); c.scale(by: 2)
        for i in stride(from: 0, to: n, by: 997) { XCTAssertEqual(c[i], 2 * (a[i] + 0.5 * b[i])) }
        XCTAssertTrue(a.isFinite)
        a[n - 1] = .nan
        XCTAssertFalse(a.isFinite)
        a[n - 1] = -.infinity
        XCTAssertFalse(a.isFinite)
    }

    func testViewsShareStorage() {
        let t = Tensor(shape: [4, 3], values: (0..<12).map(Float.init))
        let rows = t.slice(1, 3)
        XCTAssertEqual(rows.shape, [2, 3])
        XCTAssertEqual(rows.toArray(), [3, 4, 5, 6, 7, 8])
        rows[0] = 42
        XCTAssertEqual(t[3], 42)
        XCTAssertEqual(t.reshaped([2, 6]).shape, [2, 6])
        let u = Tensor(uninitializedShape: [5])
        XCTAssertEqual(u.count, 5)
    }
}
