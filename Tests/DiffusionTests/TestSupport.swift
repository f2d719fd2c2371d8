import Tensors
import XCTest
@testable import Diffusion

// Shared helpers for the Diffusion tests: random tensors, per-mode statistics of samples and
// plain reference formulas written independently of the module's code paths.

/// A [shape] tensor of N(0, scale²) draws from `seed`.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    let t = Tensor(shape: shape)
    CounterRNG(seed: seed).fillNormal(t.buffer, stream: 99)
    if scale != 1 { for i in 0..<t.count { t[i] *= scale } }
    return t
}

/// Per-example uniform times in (lo, hi).
func randomTimes(_ n: Int, seed: UInt64, in range: ClosedRange<Float> = 0.02...0.98) -> [Float] {
    let rng = CounterRNG(seed: seed)
    return (0..<n).map { range.lowerBound + (range.upperBound - range.lowerBound) * rng.uniform(stream: 98, index: UInt64($0)) }
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Double {
    XCTAssertEqual(a.shape, b.shape)
    var m = 0.0
    for i in 0..<a.count { m = max(m, abs(Double(a[i]) - Double(b[i]))) }
    return m
}

/// Fraction, mean and per-dimension variance of the samples the mixture assigns to each component.
struct ModeStatistics {
    var fraction: [Double]
    var mean: [[Double]]
    var variance: [Double]

    init(_ x: Tensor, mixture: GaussianMixture) {
        let D = mixture.dimension, K = mixture.componentCount
        let labels = mixture.classify(x)
        var count = [Double](repeating: 0, count: K)
        var sum = [[Double]](repeating: [Double](repeating: 0, count: D), count: K)
        var sum2 = [Double](repeating: 0, count: K)
        for (j, k) in labels.enumerated() {
            count[k] += 1
            for e in 0..<D { let v = Double(x[j * D + e]); sum[k][e] += v; sum2[k] += v * v }
        }
        fraction = count.map { $0 / Double(labels.count) }
        let means = (0..<K).map { k in sum[k].map { $0 / max(count[k], 1) } }
        mean = means
        variance = (0..<K).map { k in
            let m2 = means[k].reduce(0) { $0 + $1 * $1 }
            return (sum2[k] / max(count[k], 1) - m2) / Double(D) * count[k] / max(count[k] - 1, 1)
        }
    }

    /// Mean over components of |variance / reference − 1|.
    func varianceError(against ref: ModeStatistics) -> Double {
        zip(variance, ref.variance).map { abs($0 / $1 - 1) }.reduce(0, +) / Double(variance.count)
    }
}

func fmt(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
func fmt(_ xs: [Double], _ digits: Int = 4) -> String { "[" + xs.map { fmt($0, digits) }.joined(separator: ", ") + "]" }
