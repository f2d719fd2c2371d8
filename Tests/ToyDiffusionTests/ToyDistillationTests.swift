import Tensors
import ToyDiffusion
import XCTest
import NeuralNet
@testable import Diffusion

final class ToyDistillationTests: XCTestCase {
    let schedule = CosineSchedule()
    /// The 1-D mixture of two Gaussians of the paper's Figure 1 (as `figure1` draws it).
    let mix = GaussianMixture(weights: [0.5, 0.5], means: [[-1], [1]], variances: [0.05, 0.05])

    /// The student network's parameter gradients against central finite differences of a
    /// Double-accumulated loss L = Σ w ⊙ v̂.
    func testVelocityNetGradientsMatchFiniteDifferences() {
        let net = ToyVelocityNet(dimension: 2, hidden: 8, frequencies: 2, rng: CounterRNG(seed: 1))
        let z = randomTensor([5, 2], seed: 2), w = randomTensor([5, 2], seed: 3)
        let t: [Float] = [0, 0.2, 0.5, 0.8, 1]
        func loss() -> Double {
            let v = net.forward(z, t, save: false)
            return (0..<v.count).reduce(0.0) { $0 + Double(v[$1]) * Double(w[$1]) }
        }
        net.zeroGrad()
        _ = net.forward(z, t, save: true)
        net.backward(w)
        var worst = 0.0
        for p in net.parameters {
            for i in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 7)) {
                let old = p.value[i], h: Float = 1e-2
                p.value[i] = old + h; let up = loss()
                p.value[i] = old - h; let down = loss()
                p.value[i] = old
                let fd = (up - down) / (2 * Double(h))
                worst = max(worst, abs(fd - Double(p.grad[i])) / max(1, abs(fd)))
            }
        }
        print("ToyVelocityNet parameter gradients: max relative difference to finite differences \(worst)")
        XCTAssertLessThan(worst, 2e-3)
    }

    /// Multistep consistency distillation of the analytic teacher into an MLP student (1-D):
    /// both students start from an MLP fitted to the teacher's v̂ and train 1,500 iterations
    /// (batch 128, fixed 64 teacher steps, c = 1e-3, η = 0). Distance: the 1-D Wasserstein
    /// distance W1 between 4,000 student samples and the teacher's DDIM-256 samples from the same
    /// noise. Each student's W1 falls as training proceeds, and the 4-step student ends closer
    /// to the teacher than the 1-step student.
    func testFourStepStudentEndsCloserToTheTeacherThanOneStep() throws {
        let saved = BLAS.threads; BLAS.threads = 1; defer { BLAS.threads = saved }
        let teacher = MixtureTeacher(conditional: mix, schedule: schedule)
        let z = Sampling.initialNoise(seed: 77, samples: 0..<4000, exampleShape: [1])
        let reference = Sampling.teacher(teacher.model, method: .ddim, steps: 256, from: z, schedule: schedule).toArray()
        let floor = Wasserstein.distance1D(reference, mix.sample(count: 4000, seed: 78).x.toArray())
        let base = ToyVelocityNet(dimension: 1, rng: CounterRNG(seed: 5))
        try ToyDistillation.fitTeacher(base, teacher: teacher, iterations: 1000, batchSize: 128, seed: 6)

        var final: [Int: Double] = [:]
        for steps in [1, 4] {
            var distillation = ToyDistillation(teacher: teacher, studentSteps: steps, seed: 9)
            distillation.batchSize = 128
            var curve: [Double] = []
            try distillation.train(try base.copy(with: base.namedTensors()), iterations: 1500,
                                   checkpoints: [0, 500, 1000, 1500]) { _, ema in
                curve.append(Wasserstein.distance1D(Sampling.student(ema.model, steps: steps, from: z, schedule: self.schedule).toArray(), reference))
            }
            print("\(steps)-step student: W1 to the teacher at iterations 0, 500, 1000, 1500 = \(fmt(curve))")
            for k in 1..<curve.count { XCTAssertLessThan(curve[k], curve[k - 1] * 1.05, "\(steps)-step student at checkpoint \(k)") }
            XCTAssertLessThan(curve.last!, 0.5 * curve[0], "\(steps)-step student approaches the teacher")
            final[steps] = curve.last!
        }
        print("W1 between teacher samples and data samples (sampling noise floor): \(fmt(floor))")
        XCTAssertLessThan(final[4]!, 0.6 * final[1]!)
        XCTAssertLessThan(final[4]!, 0.08)
    }
}
