import XCTest
@testable import Tensors

final class StoragePoolTests: XCTestCase {
    func testSizeClassesBoundTheWaste() {
        for bytes in [65_536, 65_537, 100_000, 1 << 20, (1 << 20) + 1, 4_000_000, 123_456_789] {
            let c = StoragePool.classBytes(bytes)
            XCTAssertGreaterThanOrEqual(c, bytes)
            XCTAssertLessThanOrEqual(Double(c), Double(bytes) * 1.26, "\(bytes) → \(c)")
        }
        XCTAssertEqual(StoragePool.classBytes(100), 100, "small requests are not rounded")
    }

    func testFreedBuffersAreReusedAndZeroedOnRequest() {
        StoragePool.drain()
        var first: UnsafeMutablePointer<Float>?
        do {
            let t = Tensor(shape: [100_000], repeating: 3)
            first = t.data
        }
        XCTAssertGreaterThan(StoragePool.retainedBytes, 0)
        let again = Tensor(shape: [100_000])
        XCTAssertEqual(again.data, first, "same size class reuses the freed buffer")
        XCTAssertTrue(again.toArray().allSatisfy { $0 == 0 }, "Tensor(shape:) is zero-filled even when reused")
        XCTAssertEqual(again.storage.pointer[again.count + TensorStorage.slack - 1], 0, "slack is readable zeros")
        StoragePool.drain()
        XCTAssertEqual(StoragePool.retainedBytes, 0)
    }

    func testRetentionIsCapped() {
        StoragePool.drain()
        let saved = StoragePool.maxRetainedBytes
        defer { StoragePool.maxRetainedBytes = saved; StoragePool.drain() }
        StoragePool.maxRetainedBytes = 1 << 20
        do { _ = (0..<8).map { _ in Tensor(shape: [200_000]) } }     // 8 × 800 KB freed
        XCTAssertLessThanOrEqual(StoragePool.retainedBytes, 1 << 20)
    }
}
