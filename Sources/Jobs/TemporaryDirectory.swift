import Foundation

/// A private scratch folder for one job attempt, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL
    init(prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mscm-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
