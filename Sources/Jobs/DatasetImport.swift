import Datasets
import Formats
import Foundation
import JobQueue

/// `mscm-ctl dataset import DIR --name N`: validates an image folder (every metadata line, every
/// PNG decodes) and stores it as one `dataset` artifact (`DatasetArchive`), so `--dataset N`
/// works on any worker that reaches the database. Nothing is stored unless all of it is valid.
public enum DatasetImport {
    public struct Result {
        public let info: ArtifactInfo
        public let summary: DatasetArchive.Summary
    }

    /// Why `name` cannot name a dataset, or nil: it must be a valid artifact name, and neither
    /// `shapes` nor contain a '/' (both would read as something else in `--dataset`).
    public static func nameProblem(_ name: String) -> String? {
        if name == "shapes" { return "'shapes' names the built-in shapes world; choose another name" }
        if name.contains("/") { return "'\(name)' contains '/', which --dataset would read as a path" }
        guard ArtifactStore.validName(name) else { return "must be 1–\(ArtifactStore.maxNameLength) characters without control characters" }
        if name.count >= 8, name.count <= 64, name.allSatisfy(\.isHexDigit) {
            return "must not look like a sha256 prefix (references of 8–64 hex digits are read as one), got '\(name)'"
        }
        return nil
    }

    public static func run(_ directory: URL, name: String, captionKey: String? = nil, replace: Bool = false,
                           store: ArtifactStore) throws -> Result {
        if let why = nameProblem(name) { throw DatasetError("--name \(why)") }
        func takenError(_ t: ArtifactInfo) -> DatasetError {
            DatasetError("artifact name '\(name)' is taken (kind \(t.kind), sha256 \(t.sha256.prefix(12))); choose another name or add --replace")
        }
        // A name taken by something else fails before the folder is read; one taken by a
        // dataset is checked after packing, since importing the same folder again is a no-op.
        let taken = try store.info(name).flatMap { $0.name == name ? $0 : nil }
        if !replace, let taken, taken.kind != DatasetSource.artifactKind { throw takenError(taken) }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError("\(directory.path): no such folder")
        }
        let temp = try ScratchSpace.make(prefix: "dataset-import")
        defer { try? FileManager.default.removeItem(at: temp) }
        let archive = temp.appendingPathComponent("dataset.tar")
        let summary = try DatasetArchive.pack(directory, captionKey: captionKey, to: archive)
        if !replace, let taken, taken.sha256 != (try sha256(of: archive)) { throw takenError(taken) }
        let info = try store.put(name: name, kind: DatasetSource.artifactKind, file: archive, replace: replace)
        return Result(info: info, summary: summary)
    }

    static func sha256(of url: URL) throws -> String {
        guard let h = FileHandle(forReadingAtPath: url.path) else { throw DatasetError("cannot read \(url.path)") }
        defer { try? h.close() }
        var sha = SHA256()
        while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty { sha.update(chunk) }
        return sha.finalizeHex()
    }
}
