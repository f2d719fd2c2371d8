import Foundation

/// `.npz` files: a ZIP archive of `.npy` arrays, one entry `<key>.npy` per array, as
/// `np.savez` writes them (`np.savez_compressed` files, DEFLATE entries, are read too).
public enum NPZ {
    /// The arrays of the file at `url`, by key (the entry name without ".npy").
    /// Any problem is one line naming the file.
    public static func read(_ url: URL) throws -> [String: NumpyArray] {
        let bytes = [UInt8](try AtomicFile.read(url))
        do {
            var arrays: [String: NumpyArray] = [:]
            for entry in try ZipArchive.read(bytes) {
                let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
                do { arrays[key] = try NPY.parse(entry.data) }
                catch let f as NPY.Failure { throw FileError("\(url.path): array '\(printableField(key))': \(printableField(f.reason, limit: 1000))") }
            }
            return arrays
        } catch let f as ZipArchive.Failure {
            throw FileError("\(url.path): \(printableField(f.reason, limit: 1000))")   // entry names come from the file
        }
    }

    /// Writes `arrays` (in the given order) as an uncompressed `.npz`, atomically.
    public static func write(_ arrays: [(key: String, array: NumpyArray)], to url: URL) throws {
        var entries: [ZipArchive.Entry] = []
        for (key, array) in arrays {
            do { entries.append(ZipArchive.Entry(name: key + ".npy", data: try NPY.encode(array))) }
            catch let f as NPY.Failure { throw FileError("cannot write \(url.path): array '\(key)': \(f.reason)") }
        }
        let bytes: [UInt8]
        do { bytes = try ZipArchive.write(entries) }
        catch let f as ZipArchive.Failure { throw FileError("cannot write \(url.path): \(f.reason)") }
        try AtomicFile.write(Data(bytes), to: url)
    }
}

