import Foundation
import JobQueue

/// A private scratch folder for one job attempt, removed when the value goes away. Named by
/// `ScratchSpace`, so a folder left behind by a killed process is swept when a worker starts.
final class TemporaryDirectory {
    let url: URL
    init(prefix: String) throws {
        url = try ScratchSpace.make(prefix: prefix)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
