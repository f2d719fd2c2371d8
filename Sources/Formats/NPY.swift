import Foundation

/// The `.npy` format (numpy's NEP 1): the magic "\x93NUMPY", a version (1.0 writes a 2-byte
/// header length, 2.0 and 3.0 a 4-byte one), then a Python dict literal such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces and a
/// newline so the data starts on a 64-byte boundary, then the raw little- or big-endian data.
enum NPY {
    struct Failure: Error { let reason: String }

    // MARK: reading

    static func parse(_ bytes: [UInt8]) throws -> NumpyArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw Failure(reason: "not a .npy array (bad magic)") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw Failure(reason: "truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }; headerStart = 12
        default: throw Failure(reason: "unsupported .npy version \(major).\(bytes[7])")
        }
        guard headerStart + headerLength <= bytes.count else { throw Failure(reason: "truncated .npy header") }
        let text = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        var parser = LiteralParser(text: Array(text.unicodeScalars))
        guard case .dict(let header)? = try? parser.parse() else {
            throw Failure(reason: "unreadable .npy header '\(printableField(text.trimmingCharacters(in: .whitespacesAndNewlines)))'")
        }
        guard case .tuple(let dims)? = header["shape"] else { throw Failure(reason: ".npy header has no shape") }
        var shape: [Int] = []
        for d in dims {
            guard case .int(let n) = d, n >= 0 else { throw Failure(reason: ".npy shape has a bad dimension") }
            shape.append(n)
        }
        guard case .bool(let fortran)? = header["fortran_order"] else { throw Failure(reason: ".npy header has no fortran_order") }
        guard case .string(let descr)? = header["descr"] else {
            return NumpyArray(shape: shape, values: .unsupported(descr: "structured"))
        }
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let data = bytes[(headerStart + headerLength)...]
        guard let type = ElementType(descr: descr) else { return NumpyArray(shape: shape, values: .unsupported(descr: descr)) }
        guard count <= data.count / type.size, data.count == count * type.size else {
            throw Failure(reason: ".npy data is \(data.count) bytes; shape \(shape) of '\(descr)' needs \(count.multipliedReportingOverflow(by: type.size).partialValue) (truncated?)")
        }
        let base = data.startIndex
        // Element i of the file; `order` maps C-order positions to file positions.
        let order = fortran ? fortranPositions(shape) : nil
        func at(_ i: Int) -> Int { base + (order?[i] ?? i) * type.size }
        func word(_ p: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(bytes[p + (type.bigEndian ? n - 1 - k : k)]) << UInt64(8 * k) }
            return v
        }
        switch type.kind {
        case .float:
            return NumpyArray(shape: shape, values: .float64((0..<count).map { i in
                type.size == 8 ? Double(bitPattern: word(at(i), 8)) : Double(Float(bitPattern: UInt32(word(at(i), 4))))
            }))
        case .int:
            return NumpyArray(shape: shape, values: .int64((0..<count).map { i in
                type.size == 8 ? Int64(bitPattern: word(at(i), 8)) : Int64(Int32(bitPattern: UInt32(word(at(i), 4))))
            }))
        case .unicode(let chars):
            var strings: [String] = []
            for i in 0..<count {
                var scalars = String.UnicodeScalarView()
                for c in 0..<chars {
                    let v = UInt32(word(at(i) + 4 * c, 4))
                    if v == 0 { break }
                    guard let s = Unicode.Scalar(v) else { throw Failure(reason: ".npy string holds an invalid character") }
                    scalars.append(s)
                }
                strings.append(String(scalars))
            }
            return NumpyArray(shape: shape, values: .unicode(strings))
        }
    }

    /// For each C-order position, the position of that element in Fortran (column-major) order.
    private static func fortranPositions(_ shape: [Int]) -> [Int] {
        let count = shape.reduce(1, *)
        var positions = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: shape.count)
        for c in 0..<count {
            var f = 0, stride = 1
            for axis in 0..<shape.count { f += index[axis] * stride; stride *= shape[axis] }
            positions[c] = f
            var axis = shape.count - 1   // advance the C-order multi-index (last axis fastest)
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0; axis -= 1
            }
        }
        return positions
    }

    struct ElementType {
        enum Kind { case float, int, unicode(Int) }
        let kind: Kind
        let size: Int
        let bigEndian: Bool

        init?(descr: String) {
            guard let order = descr.first, "<>=|".contains(order) else { return nil }
            bigEndian = order == ">"
            let code = descr.dropFirst()
            switch code {
            case "f8": kind = .float; size = 8
            case "f4": kind = .float; size = 4
            case "i8": kind = .int; size = 8
            case "i4": kind = .int; size = 4
            default:
                guard code.first == "U", let n = Int(code.dropFirst()), n >= 1 else { return nil }
                kind = .unicode(n); size = 4 * n
            }
            guard order != "|" else { return nil }   // '|' is only for one-byte types
        }
    }

    // MARK: writing

    /// A version 1.0 `.npy` file of `array` ('<f8', '<i8' or '<U n', C order).
    static func encode(_ array: NumpyArray) throws -> [UInt8] {
        let count = array.shape.reduce(1, *)
        var body: [UInt8] = []
        let descr: String
        func putLE(_ v: UInt64, _ n: Int) { for k in 0..<n { body.append(UInt8((v >> UInt64(8 * k)) & 0xFF)) } }
        switch array.values {
        case .float64(let v):
            guard v.count == count else { throw Failure(reason: "\(v.count) values for shape \(array.shape)") }
            descr = "<f8"; body.reserveCapacity(8 * count)
            for x in v { putLE(x.bitPattern, 8) }
        case .int64(let v):
            guard v.count == count else { throw Failure(reason: "\(v.count) values for shape \(array.shape)") }
            descr = "<i8"
            for x in v { putLE(UInt64(bitPattern: x), 8) }
        case .unicode(let v):
            guard v.count == count else { throw Failure(reason: "\(v.count) values for shape \(array.shape)") }
            let width = max(1, v.map { $0.unicodeScalars.count }.max() ?? 1)
            descr = "<U\(width)"
            for s in v {
                let scalars = Array(s.unicodeScalars)
                for c in 0..<width { putLE(UInt64(c < scalars.count ? scalars[c].value : 0), 4) }
            }
        case .unsupported(let d):
            throw Failure(reason: "cannot write an array of unsupported dtype '\(d)'")
        }
        let dims = array.shape.map(String.init)
        let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad with spaces so that magic (6) + version (2) + length (2) + header ends on a
        // 64-byte boundary, the last header byte being '\n'.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        guard header.utf8.count <= 0xFFFF else { throw Failure(reason: "array header too long") }
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        out.append(UInt8(header.utf8.count & 0xFF)); out.append(UInt8(header.utf8.count >> 8))
        out.append(contentsOf: header.utf8)
        out.append(contentsOf: body)
        return out
    }
}

/// The Python literals a `.npy` header uses: dicts, strings, True/False, ints and tuples.
private struct LiteralParser {
    enum Value: Equatable { case dict([String: Value]), string(String), bool(Bool), int(Int), tuple([Value]) }
    struct Bad: Error {}

    let text: [Unicode.Scalar]
    var i = 0
    /// Nesting bound: a header of 65,535 '(' would otherwise recurse until the stack overflows.
    static let maxDepth = 32
    var depth = 0

    init(text: [Unicode.Scalar]) { self.text = text }

    mutating func parse() throws -> Value {
        let v = try value()
        skipSpace()
        guard i == text.count else { throw Bad() }
        return v
    }

    private mutating func skipSpace() { while i < text.count, text[i].properties.isWhitespace { i += 1 } }

    private mutating func expect(_ c: Unicode.Scalar) throws {
        skipSpace()
        guard i < text.count, text[i] == c else { throw Bad() }
        i += 1
    }

    private mutating func peek() -> Unicode.Scalar? { skipSpace(); return i < text.count ? text[i] : nil }

    private mutating func value() throws -> Value {
        guard let c = peek() else { throw Bad() }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw Bad() }
        switch c {
        case "{":
            i += 1
            var d: [String: Value] = [:]
            while peek() != "}" {
                guard case .string(let key) = try value() else { throw Bad() }
                try expect(":")
                d[key] = try value()
                if peek() == "," { i += 1 } else { break }
            }
            try expect("}")
            return .dict(d)
        case "(", "[":
            let close: Unicode.Scalar = c == "(" ? ")" : "]"
            i += 1
            var items: [Value] = []
            while peek() != close {
                items.append(try value())
                if peek() == "," { i += 1 } else { break }
            }
            try expect(close)
            return .tuple(items)
        case "'", "\"":
            i += 1
            var s = String.UnicodeScalarView()
            while i < text.count, text[i] != c { s.append(text[i]); i += 1 }
            try expect(c)
            return .string(String(s))
        default:
            var word = ""
            while i < text.count, text[i].properties.isAlphabetic || ("0"..."9").contains(text[i]) || text[i] == "-" || text[i] == "L" {
                word.unicodeScalars.append(text[i]); i += 1
            }
            if word == "True" { return .bool(true) }
            if word == "False" { return .bool(false) }
            if word.hasSuffix("L") { word.removeLast() }   // Python 2 longs: (3L, 4L)
            guard let n = Int(word) else { throw Bad() }
            return .int(n)
        }
    }
}
