import Foundation

/// The metadata of an image folder, as Hugging Face's `imagefolder` convention allows:
/// `metadata.jsonl` (one JSON object per line) or `metadata.csv` (a header row, then one row per
/// picture), each record naming a PNG (`file_name`), its caption (`text` or `caption`, or the
/// key given) and optionally its `split`. Other keys or columns are ignored.
public struct ImageFolderMetadata {
    public static let fileNames = ["metadata.jsonl", "metadata.csv"]
    /// Caption keys tried in order when none is given.
    public static let defaultCaptionKeys = ["text", "caption"]

    /// One picture: where it is described (for errors), its file and caption, its split if given.
    public struct Record: Equatable {
        public let line: Int
        public let fileName: String
        public let caption: String
        public let split: String?
    }

    /// The metadata file read (`…/metadata.jsonl` or `…/metadata.csv`).
    public let url: URL
    public let records: [Record]
    /// The line and message of each skipped line (only with `skipInvalid`).
    public let skipped: [(line: Int, message: String)]

    /// Reads the folder's metadata; a bad line is an error naming the file and line (or, with
    /// `skipInvalid`, skipped and listed).
    public init(directory: URL, captionKey: String? = nil, skipInvalid: Bool = false) throws {
        let fm = FileManager.default
        let present = Self.fileNames.filter { fm.fileExists(atPath: directory.appendingPathComponent($0).path) }
        guard let name = present.first else {
            throw DatasetError("image folder \(directory.path): no metadata.jsonl or metadata.csv (expected records with file_name and text or caption)")
        }
        guard present.count == 1 else {
            throw DatasetError("image folder \(directory.path): has both metadata.jsonl and metadata.csv; keep one")
        }
        if let captionKey, captionKey.isEmpty || captionKey == "file_name" || captionKey == "split" {
            throw DatasetError("caption key must name a caption field, got '\(captionKey)'")
        }
        url = directory.appendingPathComponent(name)
        let meta = url.path
        guard let data = try? Data(contentsOf: url) else { throw DatasetError("\(meta): cannot be read") }
        guard var text = String(data: data, encoding: .utf8) else { throw DatasetError("\(meta): not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }  // a byte-order mark some editors write

        let keys = captionKey.map { [$0] } ?? Self.defaultCaptionKeys
        let wanted = keys.map { "\"\($0)\"" }.joined(separator: " or ")
        var records: [Record] = [], skipped: [(line: Int, message: String)] = []
        func add(line: Int, _ make: () throws -> Record) throws {
            do { records.append(try make()) } catch {
                guard skipInvalid else { throw error }
                skipped.append((line, "\(error)"))
            }
        }
        if name.hasSuffix(".jsonl") {
            // "\r\n" is one Character in Swift, so split on any newline, not on "\n".
            for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty { continue }
                let place = "\(meta) line \(n + 1)"
                try add(line: n + 1) {
                    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
                        throw DatasetError("\(place): not valid JSON")
                    }
                    guard let dict = object as? [String: Any], let file = dict["file_name"] as? String,
                          let caption = keys.lazy.compactMap({ dict[$0] as? String }).first else {
                        throw DatasetError("\(place): expected an object with string fields \"file_name\" and \(wanted)")
                    }
                    let split = dict["split"]
                    guard split == nil || split is String else { throw DatasetError("\(place): \"split\" must be a string") }
                    return Record(line: n + 1, fileName: try Self.checkedPath(file, place: place), caption: caption, split: split as? String)
                }
            }
        } else {
            let rows = try CSVReader.records(text, place: meta)
            guard let header = rows.first?.fields.map({ $0.trimmingCharacters(in: .whitespaces) }) else {
                throw DatasetError("\(meta): empty (expected a header row with file_name and \(wanted))")
            }
            guard let fileColumn = header.firstIndex(of: "file_name"),
                  let captionColumn = keys.lazy.compactMap({ header.firstIndex(of: $0) }).first else {
                throw DatasetError("\(meta) line \(rows[0].line): the header must name columns file_name and \(wanted), got \(header.joined(separator: ","))")
            }
            let splitColumn = header.firstIndex(of: "split")
            for row in rows.dropFirst() {
                let place = "\(meta) line \(row.line)"
                try add(line: row.line) {
                    guard row.fields.count == header.count else {
                        throw DatasetError("\(place): \(row.fields.count) fields, the header has \(header.count)")
                    }
                    let split = splitColumn.map { row.fields[$0].trimmingCharacters(in: .whitespaces) }
                    return Record(line: row.line, fileName: try Self.checkedPath(row.fields[fileColumn], place: place),
                                  caption: row.fields[captionColumn], split: split?.isEmpty == true ? nil : split)
                }
            }
        }
        self.records = records
        self.skipped = skipped
    }

    /// `file` if it is a relative path inside the folder.
    static func checkedPath(_ file: String, place: String) throws -> String {
        let parts = file.split(separator: "/", omittingEmptySubsequences: false)
        guard !file.isEmpty, !file.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), !parts.contains(".") else {
            throw DatasetError("\(place): file_name '\(file)' must be a relative path inside the folder")
        }
        guard file.lowercased().hasSuffix(".png") else {
            throw DatasetError("\(place): file_name '\(file)' is not a .png (PNG only; convert a JPEG folder with: mogrify -format png *.jpg)")
        }
        return file
    }
}
