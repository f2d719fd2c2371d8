import Foundation

// Data parallelism for the non-BLAS kernels (elementwise, norms, im2col, softmax).
//
// The machine has two cores and OpenBLAS runs its own two threads inside every large sgemm,
// so a kernel splits its work into at most `Parallel.maxChunks` contiguous chunks and never
// calls a threaded BLAS routine from inside a chunk: BLAS runs between parallel regions,
// never during them (or single-threaded inside `BLAS.singleThreaded`).

public enum Parallel {
    /// Number of chunks a parallel region is split into (the core count, at most 2 by default).
    nonisolated(unsafe) public static var maxChunks: Int = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// How many chunks `forRanges`/`forChunks` use for `count` items of at least `grain` each.
    @inline(__always)
    public static func chunkCount(_ count: Int, grain: Int = 1) -> Int {
        max(1, min(maxChunks, count / max(grain, 1)))
    }

    /// Calls `body(i)` for every i in 0..<count, spread over at most `maxChunks` threads.
    /// Regions with fewer than `grain` items per chunk run on the calling thread.
    @inline(__always)
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Int) -> Void) {
        forRanges(count, grain: grain) { range in for i in range { body(i) } }
    }

    /// Calls `body(range)` on at most `maxChunks` disjoint ranges covering 0..<count.
    @inline(__always)
    public static func forRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        forChunks(count, chunks: chunkCount(count, grain: grain)) { _, range in body(range) }
    }

    /// Calls `body(chunk, range)` for chunk in 0..<chunks, the ranges tiling 0..<count in order.
    public static func forChunks(_ count: Int, chunks: Int, _ body: (Int, Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(chunks, count))
        if chunks == 1 { body(0, 0..<count); return }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                body(c, (c * count / chunks)..<((c + 1) * count / chunks))
            }
        }
    }
}
