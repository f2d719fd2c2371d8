import Foundation

/// Writes examples of any dataset as an image folder (`000000.png`, … and `metadata.jsonl`), the
/// layout `ImageFolderDataset` reads, so the two dataset paths can be checked against each other.
public enum ImageFolderExport {
    /// Writes examples `0 ..< count` of `dataset` into `directory`, in index order.
    ///
    /// The folder is built under a temporary name beside `directory` and renamed into place at the
    /// end, so a failure never leaves a half-written dataset. `directory` must not exist or be an
    /// empty directory.
    public static func export(_ dataset: TextImageDataset, count: Int, to directory: URL) throws {
        guard count > 0 else { throw DatasetError("export: count must be positive, got \(count)") }
        let fm = FileManager.default
        let target = directory.standardizedFileURL
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: target.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw DatasetError("export: \(target.path) exists and is not a directory") }
            guard (try? fm.contentsOfDirectory(atPath: target.path))?.isEmpty == true else {
                throw DatasetError("export: \(target.path) is not empty; choose a new directory")
            }
        }
        let parent = target.deletingLastPathComponent()
        guard fm.fileExists(atPath: parent.path, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError("export: parent directory \(parent.path) does not exist")
        }
        let temp = parent.appendingPathComponent(".\(target.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: temp)
        do { try fm.createDirectory(at: temp, withIntermediateDirectories: false) } catch {
            throw DatasetError("export: cannot create \(temp.path)")
        }
        do {
            let digits = max(6, String(count - 1).count)
            var lines = ""
            for i in 0..<count {
                let e = dataset.example(i)
                let name = String(repeating: "0", count: digits - String(i).count) + String(i) + ".png"
                try PNGCodec.write(e.image, to: temp.appendingPathComponent(name))
                lines += try jsonLine(file: name, text: e.caption) + "\n"
            }
            try Data(lines.utf8).write(to: temp.appendingPathComponent(ImageFolderDataset.metadataName))
            // rename(2) replaces an empty directory atomically.
            guard rename(temp.path, target.path) == 0 else {
                throw DatasetError("export: cannot move \(temp.path) to \(target.path) (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? fm.removeItem(at: temp)
            throw error
        }
    }

    /// `{"file_name":…,"text":…}` with JSON escaping.
    static func jsonLine(file: String, text: String) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: ["file_name": file, "text": text], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
