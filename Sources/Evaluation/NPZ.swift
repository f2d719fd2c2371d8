import Foundation
import NeuralNet

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
                catch let f as NPY.Failure { throw EvaluationError("\(url.path): array '\(printableField(key))': \(printableField(f.reason, limit: 1000))") }
            }
            return arrays
        } catch let f as ZipArchive.Failure {
            throw EvaluationError("\(url.path): \(printableField(f.reason, limit: 1000))")   // entry names come from the file
        }
    }

    /// Writes `arrays` (in the given order) as an uncompressed `.npz`, atomically.
    public static func write(_ arrays: [(key: String, array: NumpyArray)], to url: URL) throws {
        var entries: [ZipArchive.Entry] = []
        for (key, array) in arrays {
            do { entries.append(ZipArchive.Entry(name: key + ".npy", data: try NPY.encode(array))) }
            catch let f as NPY.Failure { throw EvaluationError("cannot write \(url.path): array '\(key)': \(f.reason)") }
        }
        let bytes: [UInt8]
        do { bytes = try ZipArchive.write(entries) }
        catch let f as ZipArchive.Failure { throw EvaluationError("cannot write \(url.path): \(f.reason)") }
        try AtomicFile.write(Data(bytes), to: url)
    }
}

extension FeatureStatistics {
    /// Reads FID statistics: `mu` [D] and `sigma` [D, D] (pytorch-fid's layout, float64 or
    /// float32), plus `count` and `extractor` when the file records them (files written by
    /// mscm do; pytorch-fid's do not).
    public init(npz url: URL) throws {
        let arrays = try NPZ.read(url)
        func numeric(_ key: String) throws -> NumpyArray {
            guard let a = arrays[key] else {
                throw EvaluationError("\(url.path): no '\(key)' array (FID statistics need 'mu' and 'sigma')")
            }
            if case .unsupported(let d) = a.values { throw EvaluationError("\(url.path): '\(key)' has unsupported dtype '\(printableField(d))'") }
            return a
        }
        let mu = try numeric("mu"), sigma = try numeric("sigma")
        guard mu.shape.count == 1, let d = mu.shape.first, d > 0 else {
            throw EvaluationError("\(url.path): 'mu' has shape \(mu.shape); expected [D]")
        }
        guard sigma.shape == [d, d] else {
            throw EvaluationError("\(url.path): 'sigma' has shape \(sigma.shape); 'mu' has \(d) dimensions, so expected [\(d), \(d)]")
        }
        guard let mean = mu.doubles, let cov = sigma.doubles else {
            throw EvaluationError("\(url.path): 'mu' and 'sigma' must be numeric")
        }
        var count: Int? = nil
        if let c = arrays["count"] {
            guard let n = c.intScalar else { throw EvaluationError("\(url.path): 'count' must be one integer") }
            count = n
        }
        var extractor: String? = nil
        if let e = arrays["extractor"] {
            guard let s = e.stringScalar else { throw EvaluationError("\(url.path): 'extractor' must be one string") }
            extractor = s
        }
        do { try self.init(mean: mean, covariance: cov, count: count, extractor: extractor) }
        catch let e as EvaluationError { throw EvaluationError("\(url.path): \(e.description)") }
    }

    /// Writes `mu`, `sigma` (float64, readable by pytorch-fid) and `count`, `extractor` when known.
    public func write(npz url: URL) throws {
        var arrays: [(key: String, array: NumpyArray)] = [
            ("mu", .float64(mean, shape: [dimension])),
            ("sigma", .float64(covariance, shape: [dimension, dimension])),
        ]
        if let count { arrays.append(("count", .scalar(count))) }
        if let extractor { arrays.append(("extractor", .scalar(extractor))) }
        try NPZ.write(arrays, to: url)
    }
}
