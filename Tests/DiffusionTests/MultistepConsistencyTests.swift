import Tensors
import XCTest
@testable import Diffusion

final class MultistepConsistencyTests: XCTestCase {
    let schedule = CosineSchedule()
    let mix = GaussianMixture(weights: [0.3, 0.7], means: [[-1.5, 0.5], [1, -1]], variances: [0.2, 0.3])
    var teacher: MixtureTeacher {
        MixtureTeacher(conditional: mix.reweighted([0.6, 0.4]), unconditional: mix, schedule: schedule)
    }

    func testTeacherStepSchedules() {
        let annealed = TeacherStepSchedule.annealed(iterations: 1000)
        XCTAssertEqual(annealed.steps(atIteration: 0), 64, accuracy: 1e-9)
        XCTAssertEqual(annealed.steps(atIteration: 500), (64.0 * 1280).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(annealed.steps(atIteration: 1000), 1280, accuracy: 1e-9)
        XCTAssertEqual(annealed.steps(atIteration: 5000), 1280, accuracy: 1e-9)
        XCTAssertEqual(annealed.segmentSteps(atIteration: 0, studentSteps: 4), 16)
        XCTAssertEqual(annealed.segmentSteps(atIteration: 500, studentSteps: 4), 72)   // round(286.2 / 4)
        XCTAssertEqual(TeacherStepSchedule.fixed(256).segmentSteps(atIteration: 9, studentSteps: 3), 85)
        XCTAssertEqual(TeacherStepSchedule.fixed(2).segmentSteps(atIteration: 0, studentSteps: 8), 1)
    }

    /// t = step/S + n_rel/T with step and n_rel uniform, s = t − 1/T, and the draws are a pure
    /// function of (seed, iteration, example).
    func testTimeGridAndDraws() {
        let x = mix.sample(count: 4000, seed: 1).x
        let mcd = MultistepConsistency(studentSteps: 4, teacherSteps: .fixed(24), mode: .train, schedule: schedule)
        let batch = mcd.prepare(x: x, seed: 3, iteration: 7) { z, _ in Tensor(shape: z.shape) }
        XCTAssertEqual(batch.segmentSteps, 6)
        XCTAssertEqual(batch.totalSteps, 24)
        XCTAssertEqual(Set(batch.step), Set(0..<4))
        XCTAssertEqual(Set(batch.offset), Set(1...6))
        for k in 0..<4 { XCTAssertEqual(Double(batch.step.filter { $0 == k }.count) / 4000, 0.25, accuracy: 0.03) }
        for i in 0..<4000 {
            XCTAssertEqual(Double(batch.t[i]), Double(batch.step[i]) / 4 + Double(batch.offset[i]) / 24, accuracy: 1e-7)
        }
        let again = mcd.prepare(x: x.slice(10, 20).copy(), seed: 3, iteration: 7, firstExample: 10) { z, _ in Tensor(shape: z.shape) }
        XCTAssertEqual(again.t, Array(batch.t[10..<20]))
        XCTAssertEqual(again.z.toArray(), Array(batch.z.toArray()[20..<40]))
        XCTAssertEqual(again.xTarget.toArray(), Array(batch.xTarget.toArray()[20..<40]))
        XCTAssertNotEqual(mcd.prepare(x: x, seed: 3, iteration: 8) { z, _ in Tensor(shape: z.shape) }.t, batch.t)
    }

    /// Consistency training where s = t_step: x_tgt = invDDIM(aDDIM with xvar 0) = x, so Δ is the
    /// plain v-space diffusion residual.
    func testTrainingTargetIsTheDataWhenTheStepReachesTheSegmentStart() {
        let x = mix.sample(count: 512, seed: 2).x
        let mcd = MultistepConsistency(studentSteps: 2, teacherSteps: .fixed(8), mode: .train, schedule: schedule)
        let batch = mcd.prepare(x: x, seed: 4, iteration: 0) { z, _ in randomTensor(z.shape, seed: 9) }
        var checked = 0
        for i in 0..<512 where batch.offset[i] == 1 {
            checked += 1
            for e in 0..<2 { XCTAssertEqual(batch.xTarget[2 * i + e], x[2 * i + e], accuracy: 1e-5) }
        }
        XCTAssertGreaterThan(checked, 50)
    }

    /// The fused Double implementation against Algorithm 1 composed from the separate step functions:
    /// distillation with guidance 0.5 and η = 0.75, an arbitrary student for x_ref.
    func testTargetsMatchAlgorithmOneComposedFromTheSteps() {
        let x = mix.sample(count: 256, seed: 5).x
        let student = MixtureTeacher(conditional: mix.reweighted([0.9, 0.1]), schedule: schedule).model
        let teacherModel = teacher.model
        let mcd = MultistepConsistency(studentSteps: 2, teacherSteps: .fixed(8),
                                       mode: .distill(teacher: teacherModel, guidance: 0.5, xvarFraction: 0.75), schedule: schedule)
        let batch = mcd.prepare(x: x, seed: 6, iteration: 3) { z, t in student.conditional(z, t) }
        let t = batch.t
        let s = batch.step.indices.map { Float(Double(batch.step[$0] * 4 + batch.offset[$0] - 1) / 8) }
        let u = batch.step.map { Float(Double($0) / 2) }
        let v = teacherModel.guided(batch.z, t, guidance: 0.5)
        let xT = DiffusionStep.predictX(v: v.guided, z: batch.z, t: t, schedule: schedule)
        let xvar = perExampleXvar(prediction: DiffusionStep.predictX(v: v.conditional, z: batch.z, t: t, schedule: schedule), data: x, eta: 0.75)
        for i in 0..<256 { XCTAssertEqual(batch.xvar[i], xvar[i], accuracy: 1e-9 + 1e-5 * xvar[i]) }
        XCTAssertGreaterThan(xvar.reduce(0, +), 0)
        let zs = DiffusionStep.adjustedDDIM(x: xT, z: batch.z, from: t, to: s, xvar: xvar, schedule: schedule)
        let xRef = DiffusionStep.predictX(v: student.conditional(zs, s), z: zs, t: s, schedule: schedule)
        // DDIM_{s→t_step} only where s > t_step (elsewhere z_ref = z_s); dummy times keep the call valid.
        let sSafe = s.indices.map { batch.offset[$0] == 1 ? Float(0.5) : s[$0] }
        let uSafe = u.indices.map { batch.offset[$0] == 1 ? Float(0.25) : u[$0] }
        let moved = DiffusionStep.ddim(x: xRef, z: zs, from: sSafe, to: uSafe, schedule: schedule)
        let zRef = zs.copy()
        for i in 0..<256 where batch.offset[i] > 1 { for e in 0..<2 { zRef[2 * i + e] = moved[2 * i + e] } }
        let xTgt = DiffusionStep.inverseDDIM(zs: zRef, zt: batch.z, from: t, to: u, schedule: schedule)
        XCTAssertLessThan(maxAbsDifference(xTgt, batch.xTarget), 2e-4)
    }

    /// The ideal multistep consistency function of the (guided) teacher on the grid k/T —
    /// f*(z, τ) = invDDIM_{τ→t_step}(Φ_{τ→t_step}(z), z), Φ the teacher's DDIM steps down to the
    /// segment start — is a fixed point of distillation with η = 0: its loss vanishes, while an
    /// inconsistent student (the teacher's own one-step prediction) has a large loss.
    func testIdealConsistencyFunctionHasZeroLoss() {
        for w in [0.0, 1.5] {
            let S = 3, nSeg = 4, T = 12
            let model = teacher.model
            let ideal: (Tensor, [Float]) -> Tensor = { z, tau in
                let out = Tensor(shape: z.shape)
                for i in 0..<tau.count {
                    let m = Int((Double(tau[i]) * Double(T)).rounded())
                    guard m > 0 else { continue }
                    let start = (m - 1) / nSeg * nSeg
                    var zi = z.slice(i, i + 1).copy()
                    let z0 = zi.copy()
                    for k in stride(from: m, to: start, by: -1) {
                        let tk = [Float(Double(k) / Double(T))], sk = [Float(Double(k - 1) / Double(T))]
                        let xk = DiffusionStep.predictX(v: model.guided(zi, tk, guidance: w).guided, z: zi, t: tk, schedule: self.schedule)
                        zi = DiffusionStep.ddim(x: xk, z: zi, from: tk, to: sk, schedule: self.schedule)
                    }
                    let ti = [tau[i]], ui = [Float(Double(start) / Double(T))]
                    let xi = DiffusionStep.inverseDDIM(zs: zi, zt: z0, from: ti, to: ui, schedule: self.schedule)
                    let vi = DiffusionStep.velocity(x: xi, z: z0, t: ti, schedule: self.schedule)
                    for e in 0..<2 { out[2 * i + e] = vi[e] }
                }
                return out
            }
            let mcd = MultistepConsistency(studentSteps: S, teacherSteps: .fixed(T),
                                           mode: .distill(teacher: model, guidance: w, xvarFraction: 0), schedule: schedule)
            let x = mix.sample(count: 256, seed: 7).x
            let batch = mcd.prepare(x: x, seed: 8, iteration: 0, target: ideal)
            let idealLoss = mcd.loss(prediction: ideal(batch.z, batch.t), batch: batch).loss
            let naiveLoss = mcd.loss(prediction: model.guided(batch.z, batch.t, guidance: w).guided, batch: batch).loss
            print("w = \(w): consistency loss of the ideal student \(idealLoss), of the teacher as student \(naiveLoss)")
            XCTAssertLessThan(idealLoss, 2e-4)
            XCTAssertGreaterThan(naiveLoss, 100 * idealLoss)
        }
    }

    /// dloss/dv̂ against finite differences of the loss (which includes dΔ/dv̂ = −1, or −σ_t in
    /// x-space), both reductions and both weightings; and Δ against (x̂ − x_tgt)/σ_t or x̂ − x_tgt
    /// computed via predictX.
    func testLossGradientMatchesFiniteDifferences() {
        let x = mix.sample(count: 6, seed: 9).x
        for reduction in [HuberReduction.perExample, .perElement] {
            for weighting in ConsistencyLossWeighting.allCases {
                let mcd = MultistepConsistency(studentSteps: 2, teacherSteps: .fixed(16), mode: .train, huberC: 0.05,
                                               huberReduction: reduction, lossWeighting: weighting, schedule: schedule)
                let batch = mcd.prepare(x: x, seed: 10, iteration: 1) { z, _ in randomTensor(z.shape, seed: 11) }
                let vHat = randomTensor(x.shape, seed: 12)
                let (_, grad) = mcd.loss(prediction: vHat, batch: batch)
                for e in 0..<12 {
                    let h: Float = 1e-3
                    let p = vHat.copy(); p[e] += h
                    let m = vHat.copy(); m[e] -= h
                    let fd = (mcd.loss(prediction: p, batch: batch).loss - mcd.loss(prediction: m, batch: batch).loss) / (Double(p[e]) - Double(m[e]))
                    XCTAssertEqual(Double(grad[e]), fd, accuracy: 1e-6 + 2e-3 * abs(fd), "\(reduction) \(weighting) element \(e)")
                }
                let delta = MultistepConsistency.delta(prediction: vHat, batch: batch, weighting: weighting)
                let xHat = DiffusionStep.predictX(v: vHat, z: batch.z, t: batch.t, schedule: schedule)
                for i in 0..<6 { for e in (2 * i)..<(2 * i + 2) {
                    let weight = weighting == .v ? 1 / batch.sigma[i] : 1
                    let direct = (Double(xHat[e]) - Double(batch.xTarget[e])) * weight
                    XCTAssertEqual(Double(delta[e]), direct, accuracy: 1e-5 * weight + 1e-5 * abs(direct))
                } }
            }
        }
    }

    /// The x-space difference is the v-space one times σ_t, example by example.
    func testXSpaceDifferenceIsTheVSpaceOneTimesSigma() {
        let x = mix.sample(count: 5, seed: 13).x
        let mcd = MultistepConsistency(studentSteps: 4, teacherSteps: .fixed(32), mode: .train, schedule: schedule)
        let batch = mcd.prepare(x: x, seed: 14, iteration: 3) { z, _ in randomTensor(z.shape, seed: 15) }
        let vHat = randomTensor(x.shape, seed: 16)
        let v = MultistepConsistency.delta(prediction: vHat, batch: batch, weighting: .v)
        let xs = MultistepConsistency.delta(prediction: vHat, batch: batch, weighting: .x)
        for i in 0..<5 { for e in (2 * i)..<(2 * i + 2) {
            XCTAssertEqual(Double(xs[e]), Double(v[e]) * batch.sigma[i], accuracy: 1e-6 + 1e-5 * abs(Double(xs[e])))
        } }
        XCTAssertTrue(batch.sigma.contains { abs($0 - 1) > 0.05 }, "the draw must include σ_t away from 1 to tell them apart")
    }
}
