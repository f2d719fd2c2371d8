import Foundation

// Reusable scratch buffers for kernels that need large temporaries (im2col columns,
// attention scores). Allocating tens of MB per call costs page faults on every call; a
// small pool keeps a few buffers alive and hands them out again. Thread-safe.

public enum Workspace {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [TensorStorage] = []
    /// Buffers kept for reuse at most; extra returned buffers are released.
    private static let keep = 8

    /// Calls `body` with a buffer of at least `count` Floats (contents unspecified).
    public static func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let storage = acquire(count)
        defer { release(storage) }
        return try body(storage.pointer)
    }

    static func acquire(_ count: Int) -> TensorStorage {
        lock.lock()
        // Smallest free buffer that fits, so large buffers stay available for large requests.
        var best: Int? = nil
        for (i, s) in free.enumerated() where s.capacity >= count {
            if best == nil || s.capacity < free[best!].capacity { best = i }
        }
        if let best { let s = free.remove(at: best); lock.unlock(); return s }
        lock.unlock()
        return TensorStorage(capacity: count, zeroed: false)
    }

    static func release(_ storage: TensorStorage) {
        lock.lock(); defer { lock.unlock() }
        free.append(storage)
        if free.count > keep {
            // Drop the smallest: large buffers are the expensive ones to fault in again.
            let smallest = free.indices.min { free[$0].capacity < free[$1].capacity }!
            free.remove(at: smallest)
        }
    }

    /// Releases every pooled buffer (e.g. after a benchmark or before measuring memory).
    public static func drain() {
        lock.lock(); free.removeAll(); lock.unlock()
    }
}
