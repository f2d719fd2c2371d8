import Foundation

/// The Fréchet distance between two statistics files, as `mscm-ctl fid A.npz B.npz` reports it.
public struct FIDFileComparison: Codable, Equatable {
    public struct Side: Codable, Equatable {
        public let path: String
        public let dimension: Int
        public let count: Int?
        public let extractor: String?
    }
    public let fid: Double
    public let regularized: Bool
    public let a: Side
    public let b: Side

    public static func compare(_ a: URL, _ b: URL) throws -> FIDFileComparison {
        let sa = try FeatureStatistics(npz: a), sb = try FeatureStatistics(npz: b)
        guard sa.dimension == sb.dimension else {
            throw EvaluationError("\(a.path) has \(sa.dimension)-dimensional features but \(b.path) has \(sb.dimension)")
        }
        let score = try FrechetDistance.score(sa, sb)
        func side(_ url: URL, _ s: FeatureStatistics) -> Side {
            Side(path: url.relativePath, dimension: s.dimension, count: s.count, extractor: s.extractor)
        }
        return FIDFileComparison(fid: score.distance, regularized: score.regularized, a: side(a, sa), b: side(b, sb))
    }

    /// Human-readable: the distance, then one line per file.
    public var text: String {
        func line(_ s: Side) -> String {
            let count = s.count.map { "\($0) samples" } ?? "sample count not recorded"
            let extractor = s.extractor.map { "features from '\($0)'" } ?? "feature extractor not recorded"
            var l = "  \(s.path): dimension \(s.dimension), \(count), \(extractor)"
            if let n = s.count, n <= s.dimension { l += " (N ≤ D: rank-deficient covariance, FID unreliable)" }
            return l
        }
        var t = "FID \(String(format: "%.6f", fid))\n" + line(a) + "\n" + line(b) + "\n"
        if regularized { t += "  (the first result was not finite; 1e-6·I was added to both covariances)\n" }
        return t
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }
}
