import COpenBLAS

// Thin, shape-checked wrappers over OpenBLAS. Every matrix product in mscm goes through here.

public enum BLAS {
    /// C = alpha · op(A) · op(B) + beta · C for row-major matrices given as raw pointers.
    /// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc are the row strides as stored.
    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C = alpha · A · B + beta · C on 2-D tensors (A: m×k, B: k×n, C: m×n), with optional transposes.
    public static func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor,
                              transA: Bool = false, transB: Bool = false,
                              alpha: Float = 1, beta: Float = 0) {
        precondition(a.rank == 2 && b.rank == 2 && c.rank == 2, "matmul: needs 2-D tensors, got \(a.shape), \(b.shape), \(c.shape)")
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        precondition(k == kb && c.shape == [m, n], "matmul: shape mismatch \(a.shape)\(transA ? "ᵀ" : "") · \(b.shape)\(transB ? "ᵀ" : "") → \(c.shape)")
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
              a: a.data, lda: a.shape[1], b: b.data, ldb: b.shape[1], beta: beta, c: c.data, ldc: n)
    }

    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}

/// The double-precision BLAS and LAPACK routines the evaluation needs (the Fréchet distance).
public enum LAPACK {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Eigen-decomposition of a symmetric n×n row-major matrix (dsyevd).
    /// Returns eigenvalues ascending and the eigenvectors as the columns of a row-major n×n matrix;
    /// with `vectors: false` only the eigenvalues are computed (`vectors` is then empty).
    public static func symmetricEigen(_ matrix: [Double], n: Int, vectors: Bool = true) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "symmetricEigen: \(matrix.count) values for \(n)×\(n)")
        var a = matrix
        var w = [Double](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { ap in
            w.withUnsafeMutableBufferPointer { wp in
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: vectors ? "V" : "N")), Int8(UInt8(ascii: "U")),
                               Int32(n), ap.baseAddress, Int32(n), wp.baseAddress)
            }
        }
        guard info == 0 else { throw Failure(description: "LAPACKE_dsyevd failed (info \(info))") }
        return (w, vectors ? a : [])
    }

    /// C = alpha · op(A) · op(B) + beta · C (row-major dgemm). op(A) is m×k, op(B) is k×n.
    public static func dgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
                             b: UnsafePointer<Double>, ldb: Int,
                             beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Upper triangle of C = alpha · op(A) · op(A)ᵀ + beta · C (row-major dsyrk); op(A) is n×k
    /// (`trans`: A is k×n and op(A) = Aᵀ). The lower triangle is untouched.
    public static func dsyrk(trans: Bool, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
                             beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans, Int32(n), Int32(k), 1, a, Int32(lda), beta, c, Int32(ldc))
    }
}

extension BLAS {
    /// Runs `body` with OpenBLAS limited to one thread, so sgemm calls made from inside a
    /// `Parallel` region (one per chunk) do not start more threads than there are cores.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let saved = threads
        if saved == 1 { return try body() }
        threads = 1
        defer { threads = saved }
        return try body()
    }
}
