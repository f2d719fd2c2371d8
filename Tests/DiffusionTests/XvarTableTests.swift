import Tensors
import XCTest
@testable import Diffusion

final class XvarTableTests: XCTestCase {
    let schedule = CosineSchedule()
    let mix = GaussianMixture(weights: [0.4, 0.6], means: [[-1, 1], [1.5, -0.5]], variances: [0.2, 0.4])

    /// With η = 1 the table is E‖x̂_cond − x‖²/d = E[tr Var(x | z_t)]/d: compare it with the
    /// closed-form posterior variance averaged over fresh draws of (x, z_t).
    func testTableEstimatesTheMeanPosteriorVariance() {
        let teacher = MixtureTeacher(conditional: mix, schedule: schedule)
        let data = mix.sample(count: 4000, seed: 1).x
        let table = XvarTable.estimate(model: teacher.model, data: data, steps: 8, eta: 1, batchSize: 500, seed: 2, schedule: schedule)
        let other = mix.sample(count: 20_000, seed: 3).x
        for k in 1...8 {
            let t = [Float](repeating: Float(Double(k) / 8), count: 20_000)
            let z = DiffusionStep.noised(x: other, noise: randomTensor(other.shape, seed: UInt64(10 + k)), t: t, schedule: schedule)
            let expected = mix.posteriorVariance(z: z, t: t, schedule: schedule).reduce(0, +) / 20_000
            print("t = \(k)/8: table \(fmt(table.values[k - 1])) expected posterior variance \(fmt(expected))")
            XCTAssertEqual(table.values[k - 1], expected, accuracy: 0.05 * expected + 1e-3)
        }
        let scaled = XvarTable.estimate(model: teacher.model, data: data, steps: 8, eta: 0.75, batchSize: 700, seed: 2, schedule: schedule)
        for k in 0..<8 { XCTAssertEqual(scaled.values[k], 0.75 * table.values[k], accuracy: 1e-9 * table.values[k]) }
    }

    func testLookupAndCoding() throws {
        let table = XvarTable(steps: 4, eta: 0.75, values: [0.1, 0.2, 0.4, 0.5])
        XCTAssertEqual(table.value(at: 0), 0)
        XCTAssertEqual(table.value(at: 0.125), 0.05, accuracy: 1e-12)
        XCTAssertEqual(table.value(at: 0.5), 0.2)
        XCTAssertEqual(table.value(at: 0.625), 0.3, accuracy: 1e-12)
        XCTAssertEqual(table.value(at: 1), 0.5)
        let back = try JSONDecoder().decode(XvarTable.self, from: JSONEncoder().encode(table))
        XCTAssertEqual(back, table)
        let z = Tensor(shape: [2, 1])
        XCTAssertEqual(XvarSource.table(table).values(z: z, t: [0.25, 0.75], schedule: schedule), [0.1, 0.4])
        XCTAssertEqual(XvarSource.analytic.values(z: z, t: [0.5, 0], schedule: schedule)[1], 0)
    }
}
