import Foundation

// Reuse of large tensor buffers. A training step allocates the same activation shapes every
// iteration; returning freed buffers to the system and faulting fresh pages in again costs
// more than many kernels themselves (a 4 MB activation is a thousand page faults). Freed
// buffers of at least `minimumBytes` go to per-size-class free lists instead and are handed
// out again, so a training loop's memory stays flat at its peak working set.
// Size classes have four steps per octave, so a buffer is at most ~19% larger than asked.

public enum StoragePool {
    /// Buffers smaller than this go straight to malloc/free.
    public static let minimumBytes = 64 << 10
    /// Upper bound on the bytes kept in free lists; beyond it freed buffers are released.
    nonisolated(unsafe) public static var maxRetainedBytes = 2 << 30

    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var retained = 0

    /// The size class (in bytes) a request of `bytes` is served from.
    static func classBytes(_ bytes: Int) -> Int {
        guard bytes >= minimumBytes else { return bytes }
        let octave = Int.bitWidth - 1 - (bytes - 1).leadingZeroBitCount   // 2^octave < bytes ≤ 2^(octave+1)
        let step = 1 << max(octave - 2, 0)                                // quarter octave
        return (bytes + step - 1) / step * step
    }

    /// A 64-byte aligned buffer of at least `bytes` (its class size); the bool says whether
    /// it came from the free list (contents are then stale).
    static func allocate(_ bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        let size = classBytes(bytes)
        if size >= minimumBytes {
            lock.lock()
            if var list = free[size], let p = list.popLast() {
                free[size] = list
                retained -= size
                lock.unlock()
                return (p, size)
            }
            lock.unlock()
        }
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size)
    }

    static func release(_ p: UnsafeMutableRawPointer, size: Int) {
        if size >= minimumBytes {
            lock.lock()
            if retained + size <= maxRetainedBytes {
                free[size, default: []].append(p)
                retained += size
                lock.unlock()
                return
            }
            lock.unlock()
        }
        p.deallocate()
    }

    /// Bytes currently held for reuse.
    public static var retainedBytes: Int { lock.lock(); defer { lock.unlock() }; return retained }

    /// Returns every pooled buffer to the system.
    public static func drain() {
        lock.lock()
        let all = free.values.flatMap { $0 }
        free.removeAll(); retained = 0
        lock.unlock()
        for p in all { p.deallocate() }
    }
}
