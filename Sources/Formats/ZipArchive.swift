import Foundation

/// The subset of the ZIP format `.npz` files use: a flat list of named entries, stored
/// (method 0) or DEFLATE-compressed (method 8), with ZIP64 size fields as Python's zipfile
/// writes them. Writing produces stored entries only, with a fixed timestamp (1980-01-01) so
/// the same arrays always give the same bytes.
enum ZipArchive {
    struct Entry {
        let name: String
        let data: [UInt8]
    }

    /// A reason without the file name; callers prefix the file.
    struct Failure: Error { let reason: String }

    // MARK: reading

    static func read(_ bytes: [UInt8]) throws -> [Entry] {
        let r = Reader(bytes: bytes)
        let eocd = try findEndOfCentralDirectory(r)
        var total = try r.u16(eocd + 10)
        var directorySize = try r.u32(eocd + 12)
        var directoryOffset = try r.u32(eocd + 16)
        guard try r.u16(eocd + 4) == 0, try r.u16(eocd + 6) == 0 else { throw Failure(reason: "multi-disk zip archives are not supported") }
        if total == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: the locator just before the end record points at the ZIP64 end record.
            guard eocd >= 20, try r.u32(eocd - 20) == 0x0706_4B50 else { throw Failure(reason: "missing ZIP64 end-of-central-directory locator") }
            let record = try r.offset(try r.u64(eocd - 20 + 8))
            guard try r.u32(record) == 0x0606_4B50 else { throw Failure(reason: "bad ZIP64 end-of-central-directory record") }
            total = try r.u64(record + 32)
            directorySize = try r.u64(record + 40)
            directoryOffset = try r.u64(record + 48)
        }
        var entries: [Entry] = []
        var p = try r.offset(directoryOffset)
        guard p + (try r.offset(directorySize)) <= bytes.count else { throw Failure(reason: "central directory runs past the end of the file") }
        for _ in 0..<total {
            guard try r.u32(p) == 0x0201_4B50 else { throw Failure(reason: "bad central directory entry") }
            let flags = try r.u16(p + 8), method = try r.u16(p + 10)
            let crc = UInt32(try r.u32(p + 16))
            var compressed = try r.u32(p + 20), uncompressed = try r.u32(p + 24)
            let nameLength = try r.offset(try r.u16(p + 28))
            let extraLength = try r.offset(try r.u16(p + 30)), commentLength = try r.offset(try r.u16(p + 32))
            var localOffset = try r.u32(p + 42)
            let name = String(decoding: try r.slice(p + 46, nameLength), as: UTF8.self)
            // ZIP64 extended information (tag 1) holds the fields saturated at 0xFFFFFFFF, in order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let tag = try r.u16(e), size = try r.offset(try r.u16(e + 2))
                if tag == 1 {
                    var f = e + 4
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try r.u64(f); f += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try r.u64(f); f += 8 }
                    if localOffset == 0xFFFF_FFFF { localOffset = try r.u64(f); f += 8 }
                }
                e += 4 + size
            }
            p = extraEnd + commentLength
            guard flags & 1 == 0 else { throw Failure(reason: "entry '\(name)' is encrypted") }
            let local = try r.offset(localOffset)
            guard try r.u32(local) == 0x0403_4B50 else { throw Failure(reason: "bad local header for entry '\(name)'") }
            let start = local + 30 + (try r.offset(try r.u16(local + 26))) + (try r.offset(try r.u16(local + 28)))
            let size = try r.offset(compressed)
            guard start + size <= bytes.count else { throw Failure(reason: "entry '\(name)' runs past the end of the file (truncated?)") }
            // DEFLATE expands at most 1032:1, so a larger recorded size is corruption, not data.
            guard uncompressed <= UInt64(size) * 1032 + 1024 else { throw Failure(reason: "entry '\(name)' records an impossible size") }
            let expected = Int(uncompressed)
            let data: [UInt8]
            switch method {
            case 0:
                guard size == expected else { throw Failure(reason: "stored entry '\(name)' has inconsistent sizes") }
                data = Array(bytes[start..<(start + size)])
            case 8:
                do { data = try Inflate.decompress(bytes, range: start..<(start + size), expectedSize: expected) }
                catch let f as Inflate.Failure { throw Failure(reason: "entry '\(name)': corrupt compressed data (\(f.reason))") }
            default:
                throw Failure(reason: "entry '\(name)' uses compression method \(method); only stored and DEFLATE entries are supported")
            }
            guard CRC32.checksum(data) == crc else { throw Failure(reason: "entry '\(name)' fails its CRC-32 check (corrupt file)") }
            entries.append(Entry(name: name, data: data))
        }
        return entries
    }

    /// The end record is 22 bytes plus a comment of up to 65535 bytes, so it sits in the tail.
    private static func findEndOfCentralDirectory(_ r: Reader) throws -> Int {
        guard r.bytes.count >= 22 else { throw Failure(reason: "not a zip archive (too short)") }
        var p = r.bytes.count - 22
        let lowest = max(0, p - 65535)
        while p >= lowest {
            if r.bytes[p] == 0x50, r.bytes[p + 1] == 0x4B, r.bytes[p + 2] == 5, r.bytes[p + 3] == 6 { return p }
            p -= 1
        }
        throw Failure(reason: "not a zip archive (no end-of-central-directory record; truncated?)")
    }

    /// Bounds-checked little-endian field reads; running off the end is a corrupt-file error.
    private struct Reader {
        let bytes: [UInt8]
        func u16(_ p: Int) throws -> UInt64 { try le(p, 2) }
        func u32(_ p: Int) throws -> UInt64 { try le(p, 4) }
        func u64(_ p: Int) throws -> UInt64 { try le(p, 8) }
        func le(_ p: Int, _ n: Int) throws -> UInt64 {
            guard p >= 0, p + n <= bytes.count else { throw Failure(reason: "truncated or corrupt zip archive") }
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[p + i]) << UInt64(8 * i) }
            return v
        }
        func offset(_ v: UInt64) throws -> Int {
            guard v <= UInt64(bytes.count) else { throw Failure(reason: "truncated or corrupt zip archive") }
            return Int(v)
        }
        func slice(_ p: Int, _ n: Int) throws -> ArraySlice<UInt8> {
            guard p >= 0, p + n <= bytes.count else { throw Failure(reason: "truncated or corrupt zip archive") }
            return bytes[p..<(p + n)]
        }
    }

    // MARK: writing

    /// An uncompressed archive of `entries` (each under 4 GiB, fewer than 65535 of them).
    static func write(_ entries: [Entry]) throws -> [UInt8] {
        guard entries.count < 0xFFFF else { throw Failure(reason: "too many entries for a zip archive without ZIP64") }
        var out: [UInt8] = []
        var directory: [UInt8] = []
        func put16(_ v: Int, _ b: inout [UInt8]) { b.append(UInt8(v & 0xFF)); b.append(UInt8((v >> 8) & 0xFF)) }
        func put32(_ v: UInt32, _ b: inout [UInt8]) { for i in 0..<4 { b.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
        let dosTime = 0, dosDate = (0 << 9) | (1 << 5) | 1   // 1980-01-01 00:00:00
        for entry in entries {
            let name = Array(entry.name.utf8)
            guard entry.data.count < 0xFFFF_FFFF, out.count < 0xFFFF_FFFF, name.count < 0xFFFF else {
                throw Failure(reason: "entry '\(entry.name)' is too large for a zip archive without ZIP64")
            }
            let crc = CRC32.checksum(entry.data)
            let flags = name.allSatisfy { $0 < 0x80 } ? 0 : 1 << 11   // bit 11: the name is UTF-8
            let offset = UInt32(out.count)
            // Local file header.
            put32(0x0403_4B50, &out); put16(20, &out); put16(flags, &out); put16(0, &out)
            put16(dosTime, &out); put16(dosDate, &out); put32(crc, &out)
            put32(UInt32(entry.data.count), &out); put32(UInt32(entry.data.count), &out)
            put16(name.count, &out); put16(0, &out)
            out.append(contentsOf: name)
            out.append(contentsOf: entry.data)
            // Central directory entry.
            put32(0x0201_4B50, &directory); put16(20, &directory); put16(20, &directory); put16(flags, &directory)
            put16(0, &directory); put16(dosTime, &directory); put16(dosDate, &directory); put32(crc, &directory)
            put32(UInt32(entry.data.count), &directory); put32(UInt32(entry.data.count), &directory)
            put16(name.count, &directory); put16(0, &directory); put16(0, &directory)
            put16(0, &directory); put16(0, &directory); put32(0, &directory); put32(offset, &directory)
            directory.append(contentsOf: name)
        }
        guard out.count < 0xFFFF_FFFF else { throw Failure(reason: "archive too large for a zip archive without ZIP64") }
        let directoryOffset = UInt32(out.count)
        out.append(contentsOf: directory)
        // End of central directory.
        put32(0x0605_4B50, &out); put16(0, &out); put16(0, &out)
        put16(entries.count, &out); put16(entries.count, &out)
        put32(UInt32(directory.count), &out); put32(directoryOffset, &out); put16(0, &out)
        return out
    }
}
