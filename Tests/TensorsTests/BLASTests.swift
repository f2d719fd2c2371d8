import XCTest
@testable import Tensors

final class BLASTests: XCTestCase {
    func testSgemmMatchesNaiveProduct() {
        let (m, n, k) = (7, 5, 9)
        let rng = CounterRNG(seed: 3)
        let a = Tensor(shape: [m, k]), b = Tensor(shape: [k, n]), c = Tensor(shape: [m, n])
        rng.fillNormal(a.buffer, stream: 0); rng.fillNormal(b.buffer, stream: 1)
        BLAS.matmul(a, b, into: c)
        var maxDiff: Float = 0
        for i in 0..<m { for j in 0..<n {
            var s: Double = 0
            for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
            maxDiff = max(maxDiff, abs(Float(s) - c[i * n + j]))
        } }
        XCTAssertLessThan(maxDiff, 1e-5)
        // Transposed operands: (Bᵀ)ᵀ·… through the same wrapper.
        let bt = Tensor(shape: [n, k])
        for p in 0..<k { for j in 0..<n { bt[j * k + p] = b[p * n + j] } }
        let c2 = Tensor(shape: [m, n])
        BLAS.matmul(a, bt, into: c2, transB: true)
        for i in 0..<(m * n) { XCTAssertEqual(c2[i], c[i], accuracy: 1e-5) }
    }

    func testSymmetricEigenOfKnownMatrix() throws {
        // [[2,1],[1,2]] has eigenvalues 1 and 3 with eigenvectors (1,-1)/√2 and (1,1)/√2.
        let (values, vectors) = try LAPACK.symmetricEigen([2, 1, 1, 2], n: 2)
        XCTAssertEqual(values[0], 1, accuracy: 1e-12)
        XCTAssertEqual(values[1], 3, accuracy: 1e-12)
        XCTAssertEqual(abs(vectors[0 * 2 + 1]), 1 / 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(vectors[0 * 2 + 1] * vectors[1 * 2 + 1], 0.5, accuracy: 1e-12)
        // A 3×3 diagonal-plus-rank-one matrix: reconstruct V·diag(w)·Vᵀ.
        let m: [Double] = [4, 1, 2, 1, 3, 0.5, 2, 0.5, 5]
        let (w, v) = try LAPACK.symmetricEigen(m, n: 3)
        for i in 0..<3 { for j in 0..<3 {
            var s = 0.0
            for k in 0..<3 { s += v[i * 3 + k] * w[k] * v[j * 3 + k] }
            XCTAssertEqual(s, m[i * 3 + j], accuracy: 1e-10)
        } }
    }
}
