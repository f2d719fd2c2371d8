import Tensors
import XCTest
@testable import Diffusion

/// Guidance-conditioned distillation on the Diffusion side (docs/algorithms.md §5): per-example
/// guidance weights drawn from their own stream, per-example guidance that is the scalar
/// guidance example by example, and §5 targets that are the fixed-w targets of each example's w.
final class GuidanceRangeTests: XCTestCase {
    let schedule = CosineSchedule()
    let mix = GaussianMixture(weights: [0.3, 0.7], means: [[-1.5, 0.5], [1, -1]], variances: [0.2, 0.3])
    var teacher: MixtureTeacher {
        MixtureTeacher(conditional: mix.reweighted([0.6, 0.4]), unconditional: mix, schedule: schedule)
    }

    /// w ~ U[lower, upper]: inside the range, uniform (mean and quartiles), a pure function of
    /// (seed, iteration, example), different across iterations.
    func testDrawsAreUniformAndAddressedByExample() {
        let w = MultistepConsistency.drawGuidance(lower: 0.5, upper: 4.5, seed: 3, iteration: 2, count: 8000)
        XCTAssertTrue(w.allSatisfy { $0 > 0.5 && $0 < 4.5 })
        XCTAssertEqual(w.reduce(0, +) / 8000, 2.5, accuracy: 0.04)
        XCTAssertEqual(Double(w.filter { $0 < 1.5 }.count) / 8000, 0.25, accuracy: 0.015)
        let part = MultistepConsistency.drawGuidance(lower: 0.5, upper: 4.5, seed: 3, iteration: 2, firstExample: 100, count: 10)
        XCTAssertEqual(part, Array(w[100..<110]))
        XCTAssertNotEqual(MultistepConsistency.drawGuidance(lower: 0.5, upper: 4.5, seed: 3, iteration: 3, count: 10), Array(w[0..<10]))
        XCTAssertNotEqual(MultistepConsistency.drawGuidance(lower: 0.5, upper: 4.5, seed: 4, iteration: 2, count: 10), Array(w[0..<10]))
    }

    /// Row b of the per-example combination is the scalar combination at w_b, bit for bit.
    func testPerExampleCombineIsTheScalarCombinationRowByRow() {
        let c = randomTensor([4, 6], seed: 1), u = randomTensor([4, 6], seed: 2)
        let w = [0.5, 3, 0, 1.25]
        let g = Guidance.combine(conditional: c, unconditional: u, w: w)
        for b in 0..<4 {
            let scalar = Guidance.combine(conditional: c, unconditional: u, w: w[b])
            XCTAssertEqual(g.slice(b, b + 1).toArray(), scalar.slice(b, b + 1).toArray(), "row \(b)")
        }
        // Through the velocity model: both branches in one doubled batch; all-zero w skips the
        // unconditional branch, as the scalar form does.
        var calls = 0
        let model = VelocityModel(bothBranches: { z, _ in calls += 1; return (Tensor(shape: z.shape, repeating: 1), Tensor(shape: z.shape, repeating: -1)) }) { z, _, c in
            calls += 1; return Tensor(shape: z.shape, repeating: c ? 1 : -1)
        }
        let z = Tensor(shape: [2, 3])
        XCTAssertEqual(model.guided(z, [0.5, 0.5], guidance: [1, 2]).guided.toArray(), [3, 3, 3, 5, 5, 5])
        XCTAssertEqual(calls, 1)
        XCTAssertEqual(model.guided(z, [0.5, 0.5], guidance: [0, 0]).guided.toArray(), [1, 1, 1, 1, 1, 1])
        XCTAssertEqual(calls, 2)
    }

    /// §5 with one w per example: each example's targets (x_tgt, xvar) are those of a fixed-w
    /// run at its own w; equal weights reproduce the fixed-w batch exactly.
    func testPerExampleTargetsAreTheFixedGuidanceTargetsOfEachExample() {
        let x = mix.sample(count: 64, seed: 5).x
        let student = MixtureTeacher(conditional: mix.reweighted([0.9, 0.1]), schedule: schedule).model
        func batch(_ mode: ConsistencyMode) -> ConsistencyBatch {
            MultistepConsistency(studentSteps: 2, teacherSteps: .fixed(8), mode: mode, schedule: schedule)
                .prepare(x: x, seed: 6, iteration: 3) { z, t in student.conditional(z, t) }
        }
        let same = batch(.distillPerExample(teacher: teacher.model, guidance: [Double](repeating: 0.5, count: 64), xvarFraction: 0.75))
        let fixed = batch(.distill(teacher: teacher.model, guidance: 0.5, xvarFraction: 0.75))
        XCTAssertEqual(same.xTarget.toArray(), fixed.xTarget.toArray())
        XCTAssertEqual(same.xvar, fixed.xvar)
        XCTAssertEqual(same.z.toArray(), fixed.z.toArray())

        let w = MultistepConsistency.drawGuidance(lower: 0, upper: 4, seed: 1, iteration: 0, count: 64)
        let mixed = batch(.distillPerExample(teacher: teacher.model, guidance: w, xvarFraction: 0.75))
        var differs = 0
        for k in [0, 9, 33] {
            let at = batch(.distill(teacher: teacher.model, guidance: w[k], xvarFraction: 0.75))
            XCTAssertEqual(mixed.xTarget.slice(k, k + 1).toArray(), at.xTarget.slice(k, k + 1).toArray(), "example \(k)")
            XCTAssertEqual(mixed.xvar[k], at.xvar[k], accuracy: 1e-12 * max(at.xvar[k], 1))
            if mixed.xTarget.slice(k, k + 1).toArray() != fixed.xTarget.slice(k, k + 1).toArray() { differs += 1 }
        }
        XCTAssertGreaterThan(differs, 0, "the guidance weight changes the target")
        // xvar stays on the unguided prediction: it does not depend on w.
        XCTAssertEqual(mixed.xvar, fixed.xvar)
    }
}
