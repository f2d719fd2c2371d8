import XCTest
@testable import Tensors

final class ParallelTests: XCTestCase {
    func testChunksTileTheRangeInOrder() {
        for count in [0, 1, 2, 3, 7, 1000] { for chunks in [1, 2, 3] {
            var seen = [Int](repeating: 0, count: count)
            var ranges = [(Int, Range<Int>)]()
            let lock = NSLock()
            seen.withUnsafeMutableBufferPointer { s in
                let p = s.baseAddress
                Parallel.forChunks(count, chunks: chunks) { c, r in
                    for i in r { p![i] += 1 }
                    lock.lock(); ranges.append((c, r)); lock.unlock()
                }
            }
            XCTAssertTrue(seen.allSatisfy { $0 == 1 }, "count \(count), chunks \(chunks)")
            let sorted = ranges.sorted { $0.0 < $1.0 }.map(\.1)
            for (a, b) in zip(sorted, sorted.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
        } }
    }

    func testGrainKeepsSmallRegionsOnOneChunk() {
        XCTAssertEqual(Parallel.chunkCount(10, grain: 100), 1)
        XCTAssertEqual(Parallel.chunkCount(1000, grain: 100), min(2, Parallel.maxChunks))
    }

    func testSingleThreadedBLASRestoresThreadCount() {
        let before = BLAS.threads
        let inside = BLAS.singleThreaded { BLAS.threads }
        XCTAssertEqual(inside, 1)
        XCTAssertEqual(BLAS.threads, before)
    }
}
