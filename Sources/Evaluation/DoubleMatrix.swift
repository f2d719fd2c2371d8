import Tensors

// Double-precision dense linear algebra for the Fréchet distance (docs/algorithms.md §7 asks for
// double precision). Matrices are row-major [Double] arrays of n×n (or rows×cols) values;
// every product goes through the OpenBLAS/LAPACK wrappers in Tensors/BLAS.swift.

enum DoubleMatrix {
    /// A·B for n×n row-major matrices.
    static func multiply(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            LAPACK.dgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
        } } }
        return c
    }

    /// Upper triangle of C += Yᵀ·Y for Y rows×n (row-major dsyrk); the lower triangle is untouched.
    static func accumulateGram(_ y: UnsafePointer<Double>, rows: Int, n: Int, into c: UnsafeMutablePointer<Double>) {
        LAPACK.dsyrk(trans: true, n: n, k: rows, a: y, lda: n, beta: 1, c: c, ldc: n)
    }

    /// Upper triangle of C = X·Xᵀ for X rows×k (row-major dsyrk, beta 0): the Gram matrix of the rows.
    static func syrk(_ x: UnsafePointer<Double>, rows: Int, k: Int, into c: UnsafeMutablePointer<Double>) {
        LAPACK.dsyrk(trans: false, n: rows, k: k, a: x, lda: k, beta: 0, c: c, ldc: rows)
    }

    /// (M + Mᵀ)/2: removes the rounding asymmetry of a product that is symmetric in exact arithmetic.
    static func symmetrized(_ m: [Double], n: Int) -> [Double] {
        var s = m
        for i in 0..<n { for j in (i + 1)..<n {
            let v = 0.5 * (m[i * n + j] + m[j * n + i])
            s[i * n + j] = v; s[j * n + i] = v
        } }
        return s
    }

    /// The principal square root of a symmetric positive semi-definite matrix:
    /// S^{1/2} = V · diag(√max(λ, 0)) · Vᵀ from S = V · diag(λ) · Vᵀ (dsyevd). Eigenvalues that
    /// rounding pushed below zero are clamped, as a PSD covariance's are exactly ≥ 0.
    static func symmetricSquareRoot(_ s: [Double], n: Int) throws -> [Double] {
        let (values, vectors) = try LAPACK.symmetricEigen(s, n: n)
        // W = V · diag(λ^{1/4}); then S^{1/2} = W · Wᵀ.
        var w = vectors
        for i in 0..<n { for k in 0..<n { w[i * n + k] *= max(values[k], 0).squareRoot().squareRoot() } }
        var root = [Double](repeating: 0, count: n * n)
        w.withUnsafeBufferPointer { wp in root.withUnsafeMutableBufferPointer { rp in
            LAPACK.dgemm(transB: true, m: n, n: n, k: n, a: wp.baseAddress!, lda: n, b: wp.baseAddress!, ldb: n,
                 c: rp.baseAddress!, ldc: n)
        } }
        return symmetrized(root, n: n)
    }

    /// Eigenvalues only (dsyevd with jobz = 'N', ascending) of a symmetric n×n matrix: the
    /// trace term of the Fréchet distance needs no eigenvectors.
    static func symmetricEigenvalues(_ s: [Double], n: Int) throws -> [Double] {
        do { return try LAPACK.symmetricEigen(s, n: n, vectors: false).values }
        catch let f as LAPACK.Failure { throw EvaluationError(f.description) }
    }

    static func trace(_ m: [Double], n: Int) -> Double {
        var t = 0.0
        for i in 0..<n { t += m[i * n + i] }
        return t
    }
}
