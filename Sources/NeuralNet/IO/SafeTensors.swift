import Formats
import Foundation
import Tensors

// safetensors (https://github.com/huggingface/safetensors):
//   8 bytes   N, little-endian u64: header length
//   N bytes   JSON object: name → {"dtype", "shape", "data_offsets": [begin, end]} and an
//             optional "__metadata__": {string: string}; offsets are relative to the buffer
//   rest      the byte buffer, tensors little-endian and row-major, tiling it without gaps
// mscm writes F32 and reads F32, F16 and BF16. Reading validates everything before using it
// (as the reference implementation does), so a damaged file is an error naming the file and
// the tensor, never a crash.

public struct SafeTensorsError: Error, CustomStringConvertible {
    public let file: String
    public let tensor: String?
    public let reason: String

    /// One line: names and reasons from the file are escaped (a tensor name may hold a newline).
    public var description: String {
        "safetensors file '\(printableField(file, limit: 1000))'" + (tensor.map { ", tensor '\(printableField($0))'" } ?? "")
            + ": " + printableField(reason, limit: 1000)
    }
}

public enum SafeTensors {
    /// Largest header accepted (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    static let dtypeSizes: [String: Int] = ["F32": 4, "F16": 2, "BF16": 2]

    /// Writes `tensors` as F32, in the given order, atomically (temporary file, then rename).
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        let path = url.path
        func fail(_ tensor: String?, _ reason: String) -> SafeTensorsError { SafeTensorsError(file: path, tensor: tensor, reason: reason) }
        var seen = Set<String>()
        var entries: [String] = []
        if !metadata.isEmpty {
            let body = metadata.keys.sorted().map { JSON.quoted($0) + ":" + JSON.quoted(metadata[$0]!) }.joined(separator: ",")
            entries.append("\"__metadata__\":{" + body + "}")
        }
        var offset = 0
        for (name, t) in tensors {
            guard name != "__metadata__" else { throw fail(name, "reserved name") }
            guard seen.insert(name).inserted else { throw fail(name, "duplicate name") }
            let bytes = t.count * 4
            entries.append(JSON.quoted(name) + ":{\"dtype\":\"F32\",\"shape\":[" + t.shape.map(String.init).joined(separator: ",")
                           + "],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        // Pad with spaces so the buffer starts 8-byte aligned, as the Python writer does.
        while (header.count + 8) % 8 != 0 { header.append(0x20) }

        do {
            try AtomicFile.write(to: url, durable: true) { put in
                var length = UInt64(header.count).littleEndian
                try withUnsafeBytes(of: &length, put)
                try header.withUnsafeBytes(put)
                for (_, t) in tensors where t.count > 0 { try put(UnsafeRawBufferPointer(start: t.data, count: t.count * 4)) }   // host is little-endian
            }
        } catch let e as FileError { throw fail(nil, e.description) }
    }

    /// Reads every tensor as Float32, with the metadata.
    public static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let r = try readOrdered(url)
        return (Dictionary(uniqueKeysWithValues: zip(r.names, r.tensors)), r.metadata)
    }

    /// Reads every tensor as Float32, in header order.
    public static func readOrdered(_ url: URL) throws -> (names: [String], tensors: [Tensor], metadata: [String: String]) {
        let path = url.path
        func fail(_ tensor: String?, _ reason: String) -> SafeTensorsError { SafeTensorsError(file: path, tensor: tensor, reason: reason) }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw fail(nil, "cannot read: \((error as NSError).localizedDescription)")
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard raw.count >= 8 else { throw fail(nil, "truncated: \(raw.count) bytes, less than the 8-byte header length") }
            let n64 = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
            guard n64 <= UInt64(maxHeaderBytes) else { throw fail(nil, "header length \(n64) exceeds the \(maxHeaderBytes)-byte limit") }
            let n = Int(n64)
            guard 8 + n <= raw.count else { throw fail(nil, "truncated: header of \(n) bytes but only \(raw.count - 8) follow") }
            let headerBytes = Array(raw[8..<(8 + n)])
            let buffer = UnsafeRawBufferPointer(rebasing: raw[(8 + n)...])
            let parsed: [(key: String, value: JSON)]?
            do { parsed = try JSON.parseMembers(bytes: headerBytes) } catch { throw fail(nil, "invalid header JSON: \(error)") }
            guard let members = parsed else { throw fail(nil, "header is not a JSON object") }

            var metadata: [String: String] = [:]
            var specs: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
            var names = Set<String>()
            for (name, value) in members {
                guard names.insert(name).inserted else { throw fail(name, "duplicate name in header") }
                if name == "__metadata__" {
                    // Duplicate keys in it were refused by the parser.
                    guard case let .object(pairs) = value else { throw fail(nil, "__metadata__ is not an object") }
                    for k in pairs.keys.sorted() {
                        guard case let .string(s) = pairs[k]! else { throw fail(nil, "metadata value for '\(k)' is not a string") }
                        metadata[k] = s
                    }
                    continue
                }
                specs.append(try parseSpec(name, value, fail))
            }
            // Offsets must tile the buffer exactly: no overlap, no gap, nothing outside it.
            for s in specs where s.end > buffer.count {
                throw fail(s.name, "data_offsets [\(s.begin), \(s.end)] outside the \(buffer.count)-byte buffer")
            }
            let byStart = specs.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
            var position = 0, previous: String? = nil
            for s in byStart {
                if s.begin < position { throw fail(s.name, "data overlaps tensor '\(previous!)'") }
                if s.begin > position { throw fail(s.name, "gap of \(s.begin - position) bytes before its data") }
                position = s.end; previous = s.name
            }
            if position != buffer.count { throw fail(nil, "\(buffer.count - position) bytes after the last tensor") }

            var tensors: [Tensor] = []
            for s in specs {
                let t = Tensor(uninitializedShape: s.shape)
                let src = buffer.baseAddress.map { $0 + s.begin }
                let out = t.data
                switch s.dtype {
                case "F32":
                    if t.count > 0 { memcpy(out, src!, t.count * 4) }
                case "F16":
                    for i in 0..<t.count { out[i] = floatFromF16(UInt16(littleEndian: src!.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                default:   // BF16
                    for i in 0..<t.count { out[i] = floatFromBF16(UInt16(littleEndian: src!.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                }
                tensors.append(t)
            }
            return (specs.map(\.name), tensors, metadata)
        }
    }

    static func parseSpec(_ name: String, _ value: JSON, _ fail: (String?, String) -> SafeTensorsError) throws
        -> (name: String, dtype: String, shape: [Int], begin: Int, end: Int) {
        guard case let .object(fields) = value else { throw fail(name, "entry is not an object") }
        var dtype: String?, shape: [Int]?, offsets: [Int]?
        func integers(_ v: JSON, _ what: String) throws -> [Int] {
            guard case let .array(items) = v else { throw fail(name, "\(what) is not an array") }
            return try items.map {
                guard let i = $0.int, i >= 0, i < 9_000_000_000_000_000 else {
                    throw fail(name, "\(what) holds a value that is not a non-negative integer")
                }
                return i
            }
        }
        for key in fields.keys.sorted() {   // a fixed order: with several faults, the same one is named
            let v = fields[key]!
            switch key {
            case "dtype":
                guard case let .string(s) = v else { throw fail(name, "dtype is not a string") }
                dtype = s
            case "shape": shape = try integers(v, "shape")
            case "data_offsets": offsets = try integers(v, "data_offsets")
            default: throw fail(name, "unknown field '\(key)'")
            }
        }
        guard let dtype else { throw fail(name, "missing dtype") }
        guard let size = dtypeSizes[dtype] else { throw fail(name, "unsupported dtype \(dtype) (readable: F32, F16, BF16)") }
        guard let shape else { throw fail(name, "missing shape") }
        guard let offsets else { throw fail(name, "missing data_offsets") }
        guard offsets.count == 2, offsets[0] <= offsets[1] else { throw fail(name, "data_offsets \(offsets) is not [begin, end] with begin ≤ end") }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p < 1 << 40 else { throw fail(name, "shape \(shape) is too large") }
            count = p
        }
        guard offsets[1] - offsets[0] == count * size else {
            throw fail(name, "\(dtype) shape \(shape) needs \(count * size) bytes but data_offsets \(offsets) give \(offsets[1] - offsets[0])")
        }
        return (name, dtype, shape, offsets[0], offsets[1])
    }
}
