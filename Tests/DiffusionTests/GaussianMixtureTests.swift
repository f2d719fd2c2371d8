import Tensors
import XCTest
@testable import Diffusion

final class GaussianMixtureTests: XCTestCase {
    let schedule = CosineSchedule()
    let mix1 = GaussianMixture(weights: [0.3, 0.5, 0.2], means: [[-2], [0.5], [3]], variances: [0.2, 0.5, 0.05])

    /// Posterior mean and variance in 1-D against brute-force integration of
    /// p(x | z) ∝ p(x) N(z; α x, σ²) on a fine grid.
    func testPosteriorMatchesNumericalIntegrationIn1D() {
        let grid = stride(from: -12.0, through: 12.0, by: 0.0005).map { $0 }
        func density(_ x: Double) -> Double {
            (0..<3).reduce(0) { s, k in
                let v = mix1.variances[k]
                return s + mix1.weights[k] * exp(-pow(x - mix1.means[k][0], 2) / (2 * v)) / (2 * .pi * v).squareRoot()
            }
        }
        let prior = grid.map(density)
        for (zv, t) in [(0.3, 0.5), (-1.7, 0.2), (2.4, 0.8), (0.0, 0.95), (5.0, 0.05)] as [(Double, Float)] {
            let a = schedule.alpha(Double(t)), s = schedule.sigma(Double(t))
            var w0 = 0.0, w1 = 0.0, w2 = 0.0
            for (x, p) in zip(grid, prior) {
                let w = p * exp(-pow(zv - a * x, 2) / (2 * s * s))
                w0 += w; w1 += w * x; w2 += w * x * x
            }
            let mean = w1 / w0, variance = w2 / w0 - mean * mean
            let z = Tensor(shape: [1, 1], values: [Float(zv)])
            let got = mix1.posteriorMean(z: z, t: [t], schedule: schedule)[0]
            let gotVar = mix1.posteriorVariance(z: z, t: [t], schedule: schedule)[0]
            XCTAssertEqual(Double(got), mean, accuracy: 1e-5, "z = \(zv), t = \(t)")
            XCTAssertEqual(gotVar, variance, accuracy: 1e-6 + 1e-5 * variance, "z = \(zv), t = \(t)")
            // log p(z_t) against the same integral: ∫ p(x) N(z; αx, σ²) dx.
            let marginal = w0 * 0.0005 / (2 * .pi * s * s).squareRoot()
            XCTAssertEqual(mix1.marginalLogDensity([zv], alpha: a, sigma: s), log(marginal), accuracy: 1e-6)
        }
    }

    /// A 2-D mixture with unequal variances against integration on a 2-D grid.
    func testPosteriorMatchesNumericalIntegrationIn2D() {
        let mix = GaussianMixture(weights: [0.6, 0.4], means: [[-1, 0.5], [1.5, -1]], variances: [0.3, 0.1])
        let h = 0.01, xs = stride(from: -5.0, through: 5.0, by: h).map { $0 }
        for (zv, t) in [([0.2, -0.3], Float(0.6)), ([1.0, -1.0], Float(0.3))] {
            let a = schedule.alpha(Double(t)), s = schedule.sigma(Double(t))
            var w0 = 0.0, m = [0.0, 0.0], m2 = 0.0
            for x in xs { for y in xs {
                var p = 0.0
                for k in 0..<2 {
                    let v = mix.variances[k]
                    p += mix.weights[k] * exp(-(pow(x - mix.means[k][0], 2) + pow(y - mix.means[k][1], 2)) / (2 * v)) / (2 * .pi * v)
                }
                let w = p * exp(-(pow(zv[0] - a * x, 2) + pow(zv[1] - a * y, 2)) / (2 * s * s))
                w0 += w; m[0] += w * x; m[1] += w * y; m2 += w * (x * x + y * y)
            } }
            m = m.map { $0 / w0 }
            let traceVar = (m2 / w0 - m[0] * m[0] - m[1] * m[1]) / 2
            let z = Tensor(shape: [1, 2], values: zv.map(Float.init))
            let got = mix.posteriorMean(z: z, t: [t], schedule: schedule)
            XCTAssertEqual(Double(got[0]), m[0], accuracy: 1e-4)
            XCTAssertEqual(Double(got[1]), m[1], accuracy: 1e-4)
            XCTAssertEqual(mix.posteriorVariance(z: z, t: [t], schedule: schedule)[0], traceVar, accuracy: 1e-4)
        }
    }

    func testVelocityModelGivesThePosteriorMeanAndSamplesHaveTheMixtureMoments() {
        let z = randomTensor([8, 1], seed: 1), t = randomTimes(8, seed: 2)
        let teacher = MixtureTeacher(conditional: mix1, schedule: schedule)
        let x = DiffusionStep.predictX(v: teacher.model.conditional(z, t), z: z, t: t, schedule: schedule)
        XCTAssertLessThan(maxAbsDifference(x, mix1.posteriorMean(z: z, t: t, schedule: schedule)), 1e-5)

        let (data, components) = mix1.sample(count: 50_000, seed: 3)
        for k in 0..<3 {
            let idx = components.indices.filter { components[$0] == k }
            let values = idx.map { Double(data[$0]) }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
            XCTAssertEqual(Double(idx.count) / 50_000, mix1.weights[k], accuracy: 0.01)
            XCTAssertEqual(mean, mix1.means[k][0], accuracy: 0.02)
            XCTAssertEqual(variance / mix1.variances[k], 1, accuracy: 0.05)
        }
        // Same (seed, index) → same example, whatever the batch.
        let tail = mix1.sample(count: 10, seed: 3, first: 49_990).x
        XCTAssertEqual(tail.toArray(), Array(data.toArray()[49_990...]))
    }
}
