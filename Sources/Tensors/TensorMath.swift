import Foundation

// In-place arithmetic and whole-tensor reductions used across the engine (gradient
// accumulation, clipping, finiteness checks). Large tensors are split over both cores.

extension Tensor {
    /// self += other (same shape).
    public func add(_ other: Tensor) {
        checkSameShape(self, other, "add")
        let a = data, b = other.data
        Parallel.forRanges(count, grain: 1 << 15) { r in for i in r { a[i] += b[i] } }
    }

    /// self += alpha · other (same shape).
    public func add(_ other: Tensor, scaledBy alpha: Float) {
        checkSameShape(self, other, "add scaled")
        let a = data, b = other.data
        Parallel.forRanges(count, grain: 1 << 15) { r in for i in r { a[i] += alpha * b[i] } }
    }

    /// self *= alpha.
    public func scale(by alpha: Float) {
        let a = data
        Parallel.forRanges(count, grain: 1 << 15) { r in for i in r { a[i] *= alpha } }
    }

    /// Σ x² in double precision.
    public func sumOfSquares() -> Double {
        let a = data
        let chunks = Parallel.chunkCount(count, grain: 1 << 15)
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            Parallel.forChunks(count, chunks: chunks) { chunk, r in
                // Float blocks of 1024 keep the inner loop vectorisable; Double across blocks.
                var total = 0.0, i = r.lowerBound
                while i < r.upperBound {
                    let end = Swift.min(i + 1024, r.upperBound)
                    var s: Float = 0
                    for j in i..<end { s += a[j] * a[j] }
                    total += Double(s); i = end
                }
                o[chunk] = total
            }
        }
        return partial.reduce(0, +)
    }

    /// Σ x in double precision.
    public func sum() -> Double {
        var total = 0.0, i = 0
        let a = data
        while i < count {
            let end = Swift.min(i + 1024, count)
            var s: Float = 0
            for j in i..<end { s += a[j] }
            total += Double(s); i = end
        }
        return total
    }

    /// True when every element is finite (no NaN, no ±Inf).
    public var isFinite: Bool {
        // x − x is 0 for finite x and NaN otherwise; summing keeps the loop branch-free.
        var acc: Float = 0
        let a = data
        for i in 0..<count { acc += a[i] - a[i] }
        return acc == 0
    }
}
