import Foundation
import Tensors

/// How much FID and KID move from seed to seed: the scores of each seed's pictures alone
/// against the same reference, and their spread — the noise band a report prints beside a
/// score, so that a difference smaller than the band is not read as a result.
///
/// Each group is one seed's pictures (every prompt once), so a group's FID is computed from
/// fewer samples than the pooled score and is biased upwards (and rank-deficient when a group
/// has no more rows than features); its KID is unbiased. The spread is the sample standard
/// deviation (divisor K − 1) across the K groups: the noise of one seed's score. The pooled
/// score over all K seeds varies less, by about 1/√K (`standardError`).
public struct SeedNoise: Equatable, Sendable {
    /// FID of each group against the reference, in group order.
    public let fid: [Double]
    /// KID (mean over its subsets) of each group against the reference.
    public let kid: [Double]
    /// Rows per group.
    public let groupSize: Int

    public var fidStandardDeviation: Double { Self.standardDeviation(fid) }
    public var kidStandardDeviation: Double { Self.standardDeviation(kid) }
    /// Standard errors of the mean over the groups: the noise band of a score pooled over all of them.
    public var fidStandardError: Double { fidStandardDeviation / Double(fid.count).squareRoot() }
    public var kidStandardError: Double { kidStandardDeviation / Double(kid.count).squareRoot() }

    /// `groups` [K] feature matrices [N_k, D] (one per seed) against reference features [n, D].
    /// KID uses `kidSubsets` subsets of min(N_k, n, 1000) rows, seeded with `seed`.
    public static func estimate(groups: [Tensor], reference: Tensor, extractor: String,
                                kidSubsets: Int = KernelInceptionDistance.defaultSubsets, seed: UInt64 = 0) throws -> SeedNoise {
        guard groups.count >= 2 else { throw EvaluationError("seed noise needs at least 2 seed groups, got \(groups.count)") }
        let referenceStats = try FeatureStatistics(features: reference, extractor: extractor)
        var fid: [Double] = [], kid: [Double] = []
        for g in groups {
            let stats = try FeatureStatistics(features: g, extractor: extractor)
            fid.append(try FrechetDistance.score(stats, referenceStats).distance)
            kid.append(try KernelInceptionDistance.score(generated: g, reference: reference, subsets: kidSubsets, seed: seed,
                                                         extractor: extractor).mean)
        }
        return SeedNoise(fid: fid, kid: kid, groupSize: groups[0].shape[0])
    }

    /// Splits generated features [K·P, D] whose row k·P + j is prompt j under seed k (the
    /// evaluate job's layout) into K groups, then estimates as above.
    public static func estimate(features: Tensor, seeds k: Int, reference: Tensor, extractor: String,
                                kidSubsets: Int = KernelInceptionDistance.defaultSubsets, seed: UInt64 = 0) throws -> SeedNoise {
        guard features.rank == 2, k >= 1, features.shape[0] % k == 0 else {
            throw EvaluationError("seed noise: \(features.shape.first ?? 0) feature rows do not split into \(k) seed groups")
        }
        let p = features.shape[0] / k
        let groups = (0..<k).map { features.slice($0 * p, ($0 + 1) * p) }
        return try estimate(groups: groups, reference: reference, extractor: extractor, kidSubsets: kidSubsets, seed: seed)
    }

    static func standardDeviation(_ v: [Double]) -> Double {
        guard v.count >= 2 else { return 0 }
        let mean = v.reduce(0, +) / Double(v.count)
        return (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot()
    }
}
