import Foundation

/// Writes files so that readers see either the old content or the whole new content, never a
/// half-written file: the bytes go to a temporary file in the same directory, which is then
/// renamed over the destination (rename(2) is atomic within one file system).
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: tmp)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw EvaluationError("cannot write \(url.path): \(reason(error))")
        }
        guard rename(tmp.path, url.path) == 0 else {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw EvaluationError("cannot write \(url.path): \(why)")
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Creates `url` (and its parents) as a directory unless it already is one.
    public static func makeDirectory(_ url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw EvaluationError("\(url.path) exists and is not a directory") }
            return
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        catch { throw EvaluationError("cannot create directory \(url.path): \(reason(error))") }
    }

    /// Reads a whole file; a missing or unreadable file is one line naming it.
    public static func read(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw EvaluationError("\(url.path): no such file") }
        do { return try Data(contentsOf: url) }
        catch { throw EvaluationError("cannot read \(url.path): \(reason(error))") }
    }

    /// Foundation's errors print as multi-line dumps; keep the short reason.
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription.split(separator: "\n").first.map(String.init) ?? "\(ns.code)"
    }
}
