import Foundation

/// A problem reading or writing a file, or with a file's format (a corrupt archive, an
/// unwritable directory). Always one line naming the file.
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Writes files so that readers see either the old content or the whole new content, never a
/// half-written file: the bytes go to a fresh temporary file in the same directory, which is
/// then renamed over the destination (rename(2) is atomic within one file system). The one
/// write-then-rename of the project.
public enum AtomicFile {
    /// Writes through `body`, which hands each piece of the content to `put`. `durable` also
    /// flushes the file to disk before the rename (model files: a crash must not leave a
    /// renamed but empty file). Errors from `body` are rethrown as they are; the temporary
    /// file never stays behind.
    public static func write(to url: URL, durable: Bool = false,
                             _ body: (_ put: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let temp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func failure(_ what: String) -> FileError { FileError("cannot write \(path): \(what): \(String(cString: strerror(errno)))") }
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw failure("cannot create a temporary file in \(dir)") }
        var pending = true
        defer { if pending { close(fd); unlink(temp) } }
        try body { bytes in
            var done = 0
            while done < bytes.count {
                let w = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if w < 0 { if errno == EINTR { continue }; throw failure("write failed") }
                done += w
            }
        }
        if durable { guard fsync(fd) == 0 else { throw failure("fsync failed") } }
        pending = false
        guard close(fd) == 0 else { let e = failure("close failed"); unlink(temp); throw e }
        guard rename(temp, path) == 0 else { let e = failure("rename failed"); unlink(temp); throw e }
    }

    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { put in try data.withUnsafeBytes(put) }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Creates `url` (and its parents) as a directory unless it already is one.
    public static func makeDirectory(_ url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw FileError("\(url.path) exists and is not a directory") }
            return
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        catch { throw FileError("cannot create directory \(url.path): \(reason(error))") }
    }

    /// Reads a whole file; a missing or unreadable file is one line naming it.
    public static func read(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw FileError("\(url.path): no such file") }
        do { return try Data(contentsOf: url) }
        catch { throw FileError("cannot read \(url.path): \(reason(error))") }
    }

    /// Foundation's errors print as multi-line dumps; keep the short reason.
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription.split(separator: "\n").first.map(String.init) ?? "\(ns.code)"
    }
}
