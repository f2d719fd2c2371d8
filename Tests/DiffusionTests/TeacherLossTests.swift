import XCTest
@testable import Diffusion

final class TeacherLossTests: XCTestCase {
    let schedule = CosineSchedule()

    /// The target is v = α ε − σ x: from it, x = α z − σ v; and the draws are addressed by example.
    func testTargetsAndDraws() {
        let x = randomTensor([4096, 3], seed: 1)
        let batch = TeacherLoss.prepare(x: x, seed: 5, iteration: 3, pUncond: 0.1, schedule: schedule)
        XCTAssertLessThan(maxAbsDifference(DiffusionStep.predictX(v: batch.target, z: batch.z, t: batch.t, schedule: schedule), x), 1e-4)
        let uncond = Double(batch.conditional.filter { !$0 }.count) / 4096
        XCTAssertEqual(uncond, 0.1, accuracy: 0.02)
        XCTAssertEqual(batch.t.reduce(0) { $0 + Double($1) } / 4096, 0.5, accuracy: 0.02)
        XCTAssertTrue(batch.t.allSatisfy { $0 > 0 && $0 < 1 })
        // Example b's draws depend on (seed, iteration, firstExample + b) only.
        let part = TeacherLoss.prepare(x: x.slice(100, 110).copy(), seed: 5, iteration: 3, pUncond: 0.1, firstExample: 100, schedule: schedule)
        XCTAssertEqual(part.t, Array(batch.t[100..<110]))
        XCTAssertEqual(part.conditional, Array(batch.conditional[100..<110]))
        XCTAssertEqual(part.z.toArray(), Array(batch.z.toArray()[300..<330]))
        let next = TeacherLoss.prepare(x: x, seed: 5, iteration: 4, pUncond: 0.1, schedule: schedule)
        XCTAssertNotEqual(next.t, batch.t)
        XCTAssertTrue(TeacherLoss.prepare(x: x, seed: 5, iteration: 3, pUncond: 0, schedule: schedule).conditional.allSatisfy { $0 })
    }

    /// ‖v − v̂‖² = (SNR + 1) · ‖x − x̂‖² per example (§2), and the gradient matches finite differences.
    func testLossIsSNRPlusOneWeightedXLossWithCheckedGradient() {
        let x = randomTensor([8, 5], seed: 2)
        let batch = TeacherLoss.prepare(x: x, seed: 6, iteration: 0, schedule: schedule)
        let vHat = randomTensor([8, 5], seed: 3)
        let (loss, grad) = TeacherLoss.loss(prediction: vHat, target: batch.target)
        let xHat = DiffusionStep.predictX(v: vHat, z: batch.z, t: batch.t, schedule: schedule)
        var weighted = 0.0
        for i in 0..<8 {
            let snr = schedule.snr(Double(batch.t[i]))
            for e in (i * 5)..<((i + 1) * 5) { weighted += (snr + 1) * pow(Double(x[e]) - Double(xHat[e]), 2) }
        }
        XCTAssertEqual(loss, weighted / 40, accuracy: 1e-3 * loss)
        for e in [0, 7, 21, 39] {
            let h: Float = 1e-2
            let p = vHat.copy(); p[e] += h
            let m = vHat.copy(); m[e] -= h
            let fd = (TeacherLoss.loss(prediction: p, target: batch.target).loss - TeacherLoss.loss(prediction: m, target: batch.target).loss)
                / (Double(p[e]) - Double(m[e]))
            XCTAssertEqual(Double(grad[e]), fd, accuracy: 1e-5 + 1e-3 * abs(fd))
        }
    }
}
