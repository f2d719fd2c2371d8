import Formats
import Foundation

/// An image folder as one file, for the artifact store (`mscm-ctl dataset import`): an
/// uncompressed POSIX tar (ustar) holding a canonical `metadata.jsonl` — `file_name`, `text` and
/// `split` when the folder has one, whatever the original file, format or caption key — and
/// every PNG it names. `tar -tf` lists it; no new dependency reads or writes it.
///
/// `pack` validates the whole folder first (every metadata line, every PNG decodes) and writes
/// nothing if anything is wrong. Entries have fixed owners, modes and times and come in metadata
/// order, so the same folder always packs to the same bytes (and so to the same sha256).
public enum DatasetArchive {
    public struct Summary: Equatable {
        public let records: Int
        public let files: Int
        /// Records the folder's split column holds out; nil without one (training then holds
        /// out its own seeded fraction).
        public let heldout: Int?
        public let bytes: Int
    }

    /// Validates `directory` and writes its archive to `url` (atomically: a temporary file
    /// renamed into place).
    @discardableResult
    public static func pack(_ directory: URL, captionKey: String? = nil, to url: URL) throws -> Summary {
        // Opening every record decodes every PNG: a corrupt one fails here, naming its line.
        let all = try ImageFolderDataset(directory: directory, resolution: 8, split: .all, captionKey: captionKey)
        var lines = "", files: [String] = [], seen = Set<String>()
        for r in all.records {
            var o: [String: String] = ["file_name": r.fileName, "text": r.caption]
            if let s = r.split { o["split"] = s }
            let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
            lines += String(decoding: data, as: UTF8.self) + "\n"
            if seen.insert(r.fileName).inserted { files.append(r.fileName) }
        }
        var bytes = 0
        do {
            try AtomicFile.write(to: url) { put in
                func entry(_ name: String, _ data: Data) throws {
                    let header = try Self.header(name: name, size: data.count)
                    let pad = (512 - data.count % 512) % 512
                    try (header + data + Data(count: pad)).withUnsafeBytes(put)
                    bytes += header.count + data.count + pad
                }
                try entry(ImageFolderDataset.metadataName, Data(lines.utf8))
                for f in files {
                    guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(f).path) else {
                        throw DatasetError("\(directory.appendingPathComponent(f).path): cannot be read")
                    }
                    try entry(f, data)
                }
                try Data(count: 1024).withUnsafeBytes(put)
                bytes += 1024
            }
        } catch let e as FileError { throw DatasetError(e.description) }
        return Summary(records: all.records.count, files: files.count, heldout: all.records.contains { $0.split != nil } ? all.heldoutSplit.heldoutCount : nil, bytes: bytes)
    }

    /// Unpacks an archive made by `pack` into the existing empty-or-new `directory`. Every name
    /// must be a plain relative path; errors name the archive.
    public static func unpack(_ url: URL, into directory: URL) throws {
        let place = url.path
        guard let data = FileManager.default.contents(atPath: place) else { throw DatasetError("\(place): cannot be read") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let bytes = [UInt8](data)
        var at = 0, entries = 0
        while at + 512 <= bytes.count {
            let h = bytes[at..<(at + 512)]
            if h.allSatisfy({ $0 == 0 }) { break }
            func text(_ o: Int, _ n: Int) -> String {
                let field = bytes[(at + o)..<(at + o + n)]
                return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
            }
            var stored = 0
            for (i, b) in h.enumerated() { stored += (148..<156).contains(i) ? 32 : Int(b) }
            guard let sum = Int(text(148, 8).trimmingCharacters(in: .whitespaces), radix: 8), sum == stored,
                  let size = Int(text(124, 12).trimmingCharacters(in: .whitespaces), radix: 8), size >= 0 else {
                throw DatasetError("\(place): not a dataset archive (bad tar header at byte \(at))")
            }
            let prefix = text(345, 155), base = text(0, 100)
            let name = prefix.isEmpty ? base : prefix + "/" + base
            let type = bytes[at + 156]
            guard type == UInt8(ascii: "0") || type == 0 else { throw DatasetError("\(place): entry '\(name)' is not a plain file") }
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !name.isEmpty, !name.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), !parts.contains(".") else {
                throw DatasetError("\(place): entry '\(name)' is not a relative path inside the folder")
            }
            let start = at + 512
            guard start + size <= bytes.count else { throw DatasetError("\(place): entry '\(name)' is truncated") }
            let target = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes[start..<(start + size)]).write(to: target)
            at = start + (size + 511) / 512 * 512
            entries += 1
        }
        guard entries > 0, FileManager.default.fileExists(atPath: directory.appendingPathComponent(ImageFolderDataset.metadataName).path) else {
            throw DatasetError("\(place): not a dataset archive (no \(ImageFolderDataset.metadataName))")
        }
    }

    /// A ustar header for a plain file: mode 0644, owner 0, time 0 (reproducible bytes).
    static func header(name: String, size: Int) throws -> Data {
        var h = [UInt8](repeating: 0, count: 512)
        let utf8 = Array(name.utf8)
        var base = utf8, prefix: [UInt8] = []
        if utf8.count > 100 {
            // Split at a '/' so that the name fits in 100 bytes and the prefix in 155.
            guard let cut = utf8.indices.last(where: { utf8[$0] == UInt8(ascii: "/") && $0 <= 155 && utf8.count - $0 - 1 <= 100 }) else {
                throw DatasetError("file name '\(name)' is too long for the archive (at most 100 bytes per name, 255 with folders)")
            }
            prefix = Array(utf8[..<cut]); base = Array(utf8[(cut + 1)...])
        }
        func put(_ s: [UInt8], _ o: Int) { for (i, b) in s.enumerated() { h[o + i] = b } }
        func octal(_ v: Int, _ o: Int, _ n: Int) {
            let s = String(v, radix: 8)
            put(Array((String(repeating: "0", count: max(n - 1 - s.count, 0)) + s).utf8), o)
        }
        put(base, 0)
        octal(0o644, 100, 8); octal(0, 108, 8); octal(0, 116, 8)
        octal(size, 124, 12); octal(0, 136, 12)
        put(Array("        ".utf8), 148)
        h[156] = UInt8(ascii: "0")
        put(Array("ustar\u{0}00".utf8), 257)
        put(prefix, 345)
        let sum = h.reduce(0) { $0 + Int($1) }
        let s = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: max(6 - s.count, 0)) + s).utf8) + [0, 32], 148)
        return Data(h)
    }
}
