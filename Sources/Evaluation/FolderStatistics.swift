import Datasets
import Foundation

/// Feature statistics of a folder of PNGs (an image folder: `sample --out-dir`, a dataset, any
/// PNGs with a metadata file) in an evaluator's feature space, for `mscm-ctl fid DIR DIR`.
extension FeatureStatistics {
    /// Every picture of the folder, resized to the evaluator's resolution, through its feature
    /// network.
    public init(folder: URL, evaluator: Evaluator) throws {
        let data = try ImageFolderDataset(directory: folder, resolution: evaluator.resolution, split: .all)
        var acc = FeatureAccumulator(dimension: evaluator.featureWidth, extractor: evaluator.featureExtractor)
        var start = 0
        let n = data.items.count
        while start < n {
            let end = min(start + 256, n)
            try acc.add(try evaluator.features(data.batch(indices: start..<end).images))
            start = end
        }
        self = try acc.statistics()
    }
}

extension FIDFileComparison {
    /// The distance between statistics already at hand; `a`, `b` name where they came from.
    public static func compare(_ sa: FeatureStatistics, _ a: String, _ sb: FeatureStatistics, _ b: String) throws -> FIDFileComparison {
        guard sa.dimension == sb.dimension else {
            throw EvaluationError("\(a) has \(sa.dimension)-dimensional features but \(b) has \(sb.dimension)")
        }
        let score = try FrechetDistance.score(sa, sb)
        return FIDFileComparison(fid: score.distance, regularized: score.regularized,
                                 a: Side(path: a, dimension: sa.dimension, count: sa.count, extractor: sa.extractor),
                                 b: Side(path: b, dimension: sb.dimension, count: sb.count, extractor: sb.extractor))
    }
}
