import Tensors
import XCTest
@testable import Diffusion

final class DiffusionStepTests: XCTestCase {
    let schedule = CosineSchedule()
    let B = 16, d = 12

    /// With the true v = α ε − σ x, x̂ = x and ε̂ = ε (§2), and v̂ recovers v from x.
    func testParametrisationRoundTrips() {
        let x = randomTensor([B, 3, 4], seed: 1), eps = randomTensor([B, 3, 4], seed: 2)
        let t = randomTimes(B, seed: 3)
        let z = DiffusionStep.noised(x: x, noise: eps, t: t, schedule: schedule)
        let v = Tensor(shape: x.shape)
        for i in 0..<B {
            let a = cos(Double.pi * Double(t[i]) / 2), s = sin(Double.pi * Double(t[i]) / 2)
            for e in 0..<d { v[i * d + e] = Float(a * Double(eps[i * d + e]) - s * Double(x[i * d + e])) }
        }
        XCTAssertLessThan(maxAbsDifference(DiffusionStep.predictX(v: v, z: z, t: t, schedule: schedule), x), 1e-5)
        XCTAssertLessThan(maxAbsDifference(DiffusionStep.predictNoise(v: v, z: z, t: t, schedule: schedule), eps), 1e-5)
        XCTAssertLessThan(maxAbsDifference(DiffusionStep.velocity(x: x, z: z, t: t, schedule: schedule), v), 1e-4)
    }

    /// DDIM with the true x keeps ε: DDIM_{t→s}(x, α_t x + σ_t ε) = α_s x + σ_s ε.
    func testDDIMWithTrueXMovesAlongTheNoise() {
        let x = randomTensor([B, d], seed: 4), eps = randomTensor([B, d], seed: 5)
        let t = randomTimes(B, seed: 6, in: 0.3...1), s = t.map { $0 * 0.6 }
        let z = DiffusionStep.noised(x: x, noise: eps, t: t, schedule: schedule)
        let zs = DiffusionStep.ddim(x: x, z: z, from: t, to: s, schedule: schedule)
        XCTAssertLessThan(maxAbsDifference(zs, DiffusionStep.noised(x: x, noise: eps, t: s, schedule: schedule)), 1e-5)
        // To s = 0 it returns x̂ exactly.
        let z0 = DiffusionStep.ddim(x: x, z: z, from: t, to: [Float](repeating: 0, count: B), schedule: schedule)
        XCTAssertEqual(z0.toArray(), x.toArray())
    }

    func testInverseDDIMInvertsDDIM() {
        let xhat = randomTensor([B, d], seed: 7), z = randomTensor([B, d], seed: 8)
        for (lo, gap) in [(Float(0.3), Float(0.5)), (0.05, 0.01), (0.5, 1.0 / 1280)] {
            let t = randomTimes(B, seed: 9, in: lo...(lo + 0.4)), s = t.map { max(0, $0 - gap) }
            let zs = DiffusionStep.ddim(x: xhat, z: z, from: t, to: s, schedule: schedule)
            let back = DiffusionStep.inverseDDIM(zs: zs, zt: z, from: t, to: s, schedule: schedule)
            // Float rounding of z_s is amplified by 1 / (α_s − α_t σ_s/σ_t) ≈ σ_t / sin(π(t−s)/2).
            let tolerance = gap < 0.01 ? 2e-3 : 2e-5
            XCTAssertLessThan(maxAbsDifference(back, xhat), tolerance, "gap \(gap)")
        }
    }

    func testAdjustedDDIMWithZeroXvarIsDDIM() {
        let xhat = randomTensor([B, d], seed: 10), z = randomTensor([B, d], seed: 11)
        let t = randomTimes(B, seed: 12, in: 0.2...1), s = t.map { $0 / 3 }
        let a = DiffusionStep.adjustedDDIM(x: xhat, z: z, from: t, to: s, xvar: [Double](repeating: 0, count: B), schedule: schedule)
        XCTAssertLessThan(maxAbsDifference(a, DiffusionStep.ddim(x: xhat, z: z, from: t, to: s, schedule: schedule)), 1e-6)
    }

    /// §4: z_s − α_s x̂ stays along ε̂ and its squared length grows from σ_s² ‖ε̂‖² (DDIM) to
    /// σ_s² ‖ε̂‖² + d · zvar, zvar = (α_s − α_t σ_s/σ_t)² xvar; so ‖z_s‖ grows with xvar.
    func testAdjustedDDIMGrowsTheNoiseTermByDTimesZvar() {
        let xhat = randomTensor([B, d], seed: 13, scale: 0.5), z = randomTensor([B, d], seed: 14)
        let t = randomTimes(B, seed: 15, in: 0.2...1), s = t.map { $0 / 2 }
        let xvar = (0..<B).map { 0.05 + 0.02 * Double($0) }
        let a = DiffusionStep.adjustedDDIM(x: xhat, z: z, from: t, to: s, xvar: xvar, schedule: schedule)
        let plain = DiffusionStep.ddim(x: xhat, z: z, from: t, to: s, schedule: schedule)
        var grew = 0, aligned = 0
        for i in 0..<B {
            let at = cos(Double.pi * Double(t[i]) / 2), st = sin(Double.pi * Double(t[i]) / 2)
            let aS = cos(Double.pi * Double(s[i]) / 2), sS = sin(Double.pi * Double(s[i]) / 2)
            var epsNorm2 = 0.0, rest2 = 0.0, dot = 0.0, xDotEps = 0.0, newNorm = 0.0, oldNorm = 0.0
            for e in (i * d)..<((i + 1) * d) {
                let eps = (Double(z[e]) - at * Double(xhat[e])) / st
                let rest = Double(a[e]) - aS * Double(xhat[e])
                epsNorm2 += eps * eps; rest2 += rest * rest; dot += eps * rest; xDotEps += Double(xhat[e]) * eps
                newNorm += Double(a[e]) * Double(a[e]); oldNorm += Double(plain[e]) * Double(plain[e])
            }
            let zvar = pow(aS - at * sS / st, 2) * xvar[i]
            XCTAssertEqual(rest2, sS * sS * epsNorm2 + Double(d) * zvar, accuracy: 1e-4 * rest2)
            XCTAssertEqual(dot, (rest2 * epsNorm2).squareRoot(), accuracy: 1e-4 * dot)   // parallel to ε̂
            // ‖z_s‖² − ‖z_DDIM‖² = (k − σ_s)((k + σ_s)‖ε̂‖² + 2 α_s ⟨x̂, ε̂⟩), k = sqrt(σ_s² + d zvar/‖ε̂‖²):
            // positive whenever ⟨x̂, ε̂⟩ ≥ 0.
            let k = (sS * sS + Double(d) * zvar / epsNorm2).squareRoot()
            let growth = (k - sS) * ((k + sS) * epsNorm2 + 2 * aS * xDotEps)
            XCTAssertEqual(newNorm - oldNorm, growth, accuracy: 1e-4 * max(1, abs(growth)))
            if xDotEps >= 0 { aligned += 1; if newNorm > oldNorm { grew += 1 } }
        }
        XCTAssertEqual(grew, aligned)
        XCTAssertGreaterThan(aligned, 0)
        XCTAssertEqual(DiffusionStep.analyticXvar(0.5, schedule: schedule), 0.1 / 3, accuracy: 1e-7)
        XCTAssertEqual(DiffusionStep.analyticXvar(0, schedule: schedule), 0)
    }

    /// The ancestral step against Gaussian conditioning of the joint law of (z_s, z_t) given x:
    /// Cov(z_s, z_t) = α_t σ_s² / α_s, so E[z_s | z_t] = α_s x + (Cov/σ_t²)(z_t − α_t x) and
    /// Var[z_s | z_t] = σ_s² − Cov² / σ_t².
    func testAncestralStepMatchesGaussianConditioning() {
        let xhat = randomTensor([B, d], seed: 16), z = randomTensor([B, d], seed: 17)
        let t = randomTimes(B, seed: 18, in: 0.2...0.99), s = t.map { $0 * 0.7 }
        let zero = Tensor(shape: [B, d]), one = Tensor(shape: [B, d], repeating: 1)
        let mean = DiffusionStep.ancestral(x: xhat, z: z, noise: zero, from: t, to: s, schedule: schedule)
        let plusSD = DiffusionStep.ancestral(x: xhat, z: z, noise: one, from: t, to: s, schedule: schedule)
        for i in 0..<B {
            let at = cos(Double.pi * Double(t[i]) / 2), st = sin(Double.pi * Double(t[i]) / 2)
            let aS = cos(Double.pi * Double(s[i]) / 2), sS = sin(Double.pi * Double(s[i]) / 2)
            let cov = at / aS * sS * sS
            let sd = (sS * sS - cov * cov / (st * st)).squareRoot()
            for e in (i * d)..<((i + 1) * d) {
                let m = aS * Double(xhat[e]) + cov / (st * st) * (Double(z[e]) - at * Double(xhat[e]))
                XCTAssertEqual(Double(mean[e]), m, accuracy: 2e-5)
                XCTAssertEqual(Double(plusSD[e] - mean[e]), sd, accuracy: 2e-5)
            }
        }
        let last = DiffusionStep.ancestral(x: xhat, z: z, noise: one, from: t, to: [Float](repeating: 0, count: B), schedule: schedule)
        XCTAssertEqual(last.toArray(), xhat.toArray())
    }
}
