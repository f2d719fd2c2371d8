import Tensors
import XCTest
@testable import Diffusion

final class GuidanceTests: XCTestCase {
    let schedule = CosineSchedule()

    func testCombineIsOnePlusWCondMinusWUncond() {
        let c = randomTensor([4, 5], seed: 1), u = randomTensor([4, 5], seed: 2)
        let g = Guidance.combine(conditional: c, unconditional: u, w: 3)
        for i in 0..<c.count { XCTAssertEqual(g[i], 4 * c[i] - 3 * u[i], accuracy: 1e-5) }
    }

    /// §3: guidance on v̂ and on x̂ at the same z_t agree (the weights sum to one).
    func testGuidanceOnVelocityEqualsGuidanceOnX() {
        let z = randomTensor([6, 3], seed: 3), vc = randomTensor([6, 3], seed: 4), vu = randomTensor([6, 3], seed: 5)
        let t = randomTimes(6, seed: 6)
        let viaV = DiffusionStep.predictX(v: Guidance.combine(conditional: vc, unconditional: vu, w: 0.5), z: z, t: t, schedule: schedule)
        let viaX = Guidance.combine(conditional: DiffusionStep.predictX(v: vc, z: z, t: t, schedule: schedule),
                                    unconditional: DiffusionStep.predictX(v: vu, z: z, t: t, schedule: schedule), w: 0.5)
        XCTAssertLessThan(maxAbsDifference(viaV, viaX), 1e-5)
    }

    func testZeroGuidanceSkipsTheUnconditionalPassAndDoubledBatchIsPreferred() {
        var calls: [Bool] = []
        let model = VelocityModel { z, _, conditional in
            calls.append(conditional)
            return Tensor(shape: z.shape, repeating: conditional ? 1 : -1)
        }
        let z = Tensor(shape: [2, 2]), t: [Float] = [0.5, 0.5]
        let r0 = model.guided(z, t, guidance: 0)
        XCTAssertEqual(calls, [true])
        XCTAssertEqual(r0.guided.toArray(), [1, 1, 1, 1])
        calls = []
        let r3 = model.guided(z, t, guidance: 3)
        XCTAssertEqual(calls, [true, false])
        XCTAssertEqual(r3.guided.toArray(), [7, 7, 7, 7])     // 4 · 1 − 3 · (−1)
        XCTAssertEqual(r3.conditional.toArray(), [1, 1, 1, 1])

        var doubled = 0
        let both = VelocityModel(bothBranches: { z, _ in
            doubled += 1
            return (Tensor(shape: z.shape, repeating: 2), Tensor(shape: z.shape, repeating: 1))
        }) { _, _, _ in XCTFail("single branch called"); return Tensor(shape: [2, 2]) }
        XCTAssertEqual(both.guided(z, t, guidance: 0.5).guided.toArray(), [2.5, 2.5, 2.5, 2.5])
        XCTAssertEqual(doubled, 1)
    }

    /// Guidance w > 0 on a two-class mixture pulls samples toward the conditioned mode: class A puts
    /// 70 % of its mass on mode A, the null conditioning 50 %; guided DDIM (100 steps, 20k samples)
    /// puts more on mode A as w grows, and pushes mode A's samples away from mode B.
    func testGuidancePullsSamplesTowardTheConditionedMode() {
        let modes = GaussianMixture(weights: [0.5, 0.5], means: [[-1.5], [1.5]], variances: [0.25, 0.25])
        let teacher = MixtureTeacher(conditional: modes.reweighted([0.7, 0.3]), unconditional: modes, schedule: schedule)
        let z1 = Sampling.initialNoise(seed: 11, samples: 0..<20_000, exampleShape: [1])
        var fractions: [Double] = [], meansA: [Double] = []
        for w in [0.0, 0.5, 3.0] {
            let x = Sampling.teacher(teacher.model, method: .ddim, steps: 100, guidance: w, from: z1, schedule: schedule)
            let stats = ModeStatistics(x, mixture: modes)
            fractions.append(stats.fraction[0]); meansA.append(stats.mean[0][0])
            print("guidance w = \(w): fraction at conditioned mode A = \(fmt(stats.fraction[0])), mode-A mean = \(fmt(stats.mean[0][0])), mode-A variance = \(fmt(stats.variance[0]))")
        }
        XCTAssertEqual(fractions[0], 0.7, accuracy: 0.015)     // w = 0 samples the class mixture
        XCTAssertEqual(meansA[0], -1.5, accuracy: 0.03)
        XCTAssertGreaterThan(fractions[1], fractions[0] + 0.03)
        XCTAssertGreaterThan(fractions[2], fractions[1] + 0.03)
        XCTAssertGreaterThan(fractions[2], 0.85)
        XCTAssertLessThan(meansA[2], meansA[0] - 0.05)          // pushed away from mode B at +1.5
    }
}
