import Foundation
import XCTest
import Tensors
@testable import Evaluation

/// The seed-to-seed noise band: per-group FID and KID computed independently, their sample
/// standard deviation, the evaluate job's row layout (row k·P + j = prompt j under seed k).
final class SeedNoiseTests: XCTestCase {
    func features(_ n: Int, _ d: Int, seed: UInt64, shift: Float = 0) -> Tensor {
        let t = Tensor(shape: [n, d])
        CounterRNG(seed: seed).fillNormal(t.buffer, stream: 3)
        for i in 0..<t.count { t[i] += shift }
        return t
    }

    func testPerSeedScoresAndTheirSpread() throws {
        let k = 4, p = 30, d = 5
        let generated = features(k * p, d, seed: 1, shift: 0.4), reference = features(200, d, seed: 2)
        let noise = try SeedNoise.estimate(features: generated, seeds: k, reference: reference, extractor: "t", kidSubsets: 10, seed: 3)
        XCTAssertEqual(noise.groupSize, p)
        let refStats = try FeatureStatistics(features: reference, extractor: "t")
        for g in 0..<k {
            let rows = generated.slice(g * p, (g + 1) * p)
            let fid = try FrechetDistance.score(FeatureStatistics(features: rows, extractor: "t"), refStats).distance
            XCTAssertEqual(noise.fid[g], fid, accuracy: 1e-12 * abs(fid))
            let kid = try KernelInceptionDistance.score(generated: rows, reference: reference, subsets: 10, seed: 3, extractor: "t").mean
            XCTAssertEqual(noise.kid[g], kid)
        }
        func sampleSD(_ v: [Double]) -> Double {
            let m = v.reduce(0, +) / Double(v.count)
            return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
        }
        XCTAssertEqual(noise.fidStandardDeviation, sampleSD(noise.fid), accuracy: 1e-12)
        XCTAssertEqual(noise.kidStandardDeviation, sampleSD(noise.kid), accuracy: 1e-15)
        XCTAssertGreaterThan(noise.fidStandardDeviation, 0)
        XCTAssertGreaterThan(noise.kidStandardDeviation, 0)
        XCTAssertEqual(noise.kidStandardError, noise.kidStandardDeviation / 2, accuracy: 1e-15)
        // The shift (0.4 per dimension) stands out of the seed noise.
        XCTAssertGreaterThan(noise.kid.reduce(0, +) / Double(k), 3 * noise.kidStandardError)

        XCTAssertThrowsError(try SeedNoise.estimate(features: generated, seeds: 7, reference: reference, extractor: "t")) {
            XCTAssertEqual("\($0)", "seed noise: 120 feature rows do not split into 7 seed groups")
        }
        XCTAssertThrowsError(try SeedNoise.estimate(features: generated, seeds: 1, reference: reference, extractor: "t")) {
            XCTAssertEqual("\($0)", "seed noise needs at least 2 seed groups, got 1")
        }
    }
}
