import Formats
import Foundation

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
