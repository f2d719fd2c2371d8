import Foundation

// Tensor: a contiguous Float32 array with a shape.
//
// Reference semantics, like llm.c's buffers: a layer writes into tensors it was handed and
// the caller decides when memory is reused. A view shares its base's storage (and keeps the
// base alive) without copying.

/// Owns one heap allocation of Floats; freed when the last tensor using it goes away.
public final class TensorStorage {
    public let pointer: UnsafeMutablePointer<Float>
    public let capacity: Int
    private let allocatedBytes: Int

    /// `zeroed: false` skips the zero fill for buffers a kernel overwrites completely
    /// (Float is a trivial type, so the memory is valid to bind either way).
    public init(capacity: Int, zeroed: Bool = true) {
        self.capacity = capacity
        // `slack` Floats past the end let vector kernels load a full 16-lane panel at the
        // last row without reading outside the allocation (the extra lanes are discarded).
        let total = capacity + TensorStorage.slack
        let (raw, bytes) = StoragePool.allocate(total * MemoryLayout<Float>.stride)
        allocatedBytes = bytes
        pointer = raw.bindMemory(to: Float.self, capacity: total)
        if zeroed { pointer.initialize(repeating: 0, count: total) }
        else { (pointer + capacity).initialize(repeating: 0, count: TensorStorage.slack) }
    }

    /// Readable Floats after the last element of every storage.
    public static let slack = 16

    deinit { StoragePool.release(UnsafeMutableRawPointer(pointer), size: allocatedBytes) }
}

public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let storage: TensorStorage
    public let offset: Int

    /// A zero-filled tensor.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = TensorStorage(capacity: count)
        self.offset = 0
    }

    /// A tensor whose contents are unspecified: for outputs a kernel overwrites in full.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = TensorStorage(capacity: count, zeroed: false)
        self.offset = 0
    }

    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "shape \(shape) holds \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { src in data.update(from: src.baseAddress!, count: count) }
    }

    public convenience init(shape: [Int], repeating value: Float) {
        self.init(shape: shape)
        data.update(repeating: value, count: count)
    }

    /// A view of `shape` onto `base`'s storage, starting `offset` floats into `base`.
    public init(viewOf base: Tensor, offset: Int = 0, shape: [Int]) {
        let n = shape.reduce(1, *)
        precondition(offset >= 0 && offset + n <= base.count,
                     "view of \(shape) at offset \(offset) does not fit in \(base.shape)")
        self.shape = shape
        self.count = n
        self.storage = base.storage
        self.offset = base.offset + offset
    }

    /// Raw pointer to the first element.
    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.pointer + offset }
    @inline(__always) public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: count)
    }

    public var rank: Int { shape.count }
    public func dim(_ i: Int) -> Int { shape[i < 0 ? shape.count + i : i] }

    /// The same storage seen with another shape of the same size.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(viewOf: self, shape: newShape)
    }

    /// Rows `start..<end` of the first axis, as a view.
    public func slice(_ start: Int, _ end: Int) -> Tensor {
        precondition(rank >= 1 && 0 <= start && start <= end && end <= shape[0],
                     "slice \(start)..<\(end) out of range for \(shape)")
        let inner = count / max(shape[0], 1)
        return Tensor(viewOf: self, offset: start * inner, shape: [end - start] + shape.dropFirst())
    }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    public func copy() -> Tensor {
        let t = Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public func copy(from other: Tensor) {
        checkSameShape(self, other, "copy")
        data.update(from: other.data, count: count)
    }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }
    public func zero() { fill(0) }

    public func toArray() -> [Float] { Array(buffer) }
}

/// Fails with both shapes in the message, as every shape check in the project does.
@inline(__always)
public func checkSameShape(_ a: Tensor, _ b: Tensor, _ op: String) {
    precondition(a.shape == b.shape, "\(op): shape mismatch \(a.shape) vs \(b.shape)")
}

/// Fails unless `t` has exactly `expected` shape, naming both.
@inline(__always)
public func checkShape(_ t: Tensor, _ expected: [Int], _ op: String) {
    precondition(t.shape == expected, "\(op): shape mismatch \(t.shape) vs expected \(expected)")
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = buffer.prefix(6).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor\(shape)[\(head)\(count > 6 ? ", …" : "")]"
    }
}
