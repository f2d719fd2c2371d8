import Foundation

/// One array of a `.npy`/`.npz` file, in C (row-major) order.
public struct NumpyArray: Equatable {
    public enum Values: Equatable {
        /// '<f8' or '>f8'; '<f4'/'>f4' are read into this too (widened exactly).
        case float64([Double])
        /// '<i8', '<i4' and their big-endian forms.
        case int64([Int64])
        /// '<U n' — fixed-width UTF-32 strings, trailing NULs removed.
        case unicode([String])
        /// Any other dtype, kept by its descr so that reading a file never fails on arrays
        /// nobody asked for.
        case unsupported(descr: String)
    }

    public let shape: [Int]
    public let values: Values

    public init(shape: [Int], values: Values) {
        self.shape = shape
        self.values = values
    }

    public static func float64(_ values: [Double], shape: [Int]) -> NumpyArray {
        precondition(shape.reduce(1, *) == values.count, "NumpyArray: \(values.count) values for shape \(shape)")
        return NumpyArray(shape: shape, values: .float64(values))
    }

    /// A 0-d integer array, as `np.savez(f, count=5)` stores a Python int.
    public static func scalar(_ value: Int) -> NumpyArray { NumpyArray(shape: [], values: .int64([Int64(value)])) }

    /// A 0-d string array, as `np.savez(f, name="x")` stores a Python str.
    public static func scalar(_ value: String) -> NumpyArray { NumpyArray(shape: [], values: .unicode([value])) }

    /// The values as Doubles, when numeric.
    public var doubles: [Double]? {
        switch values {
        case .float64(let v): return v
        case .int64(let v): return v.map(Double.init)
        default: return nil
        }
    }

    /// The single value of a 0-d (or one-element) integer array.
    public var intScalar: Int? {
        if case .int64(let v) = values, v.count == 1 { return Int(v[0]) }
        return nil
    }

    /// The single value of a 0-d (or one-element) string array.
    public var stringScalar: String? {
        if case .unicode(let v) = values, v.count == 1 { return v[0] }
        return nil
    }
}
