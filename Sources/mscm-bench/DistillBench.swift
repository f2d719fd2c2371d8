import Foundation
import Models
import Tensors
import Training

// Distillation benchmark: iterations/s of `Distiller` at the default settings (batch 32, 256
// teacher steps, w = 3) on a randomly initialised `small` teacher, and where an iteration's
// time goes — the guided teacher's forwards (a doubled batch), the student's no-grad target
// forward, the student's forward+backward, and the rest (data, §5 arithmetic, AdamW, EMA).
// Run: swift run -c release mscm-bench distill

func benchDistill() {
    let teacher = try! TextToImageModel(.small, seed: 1)
    print(String(format: "distill (small teacher, random init, %d parameters; %d kernel threads)", teacher.parameterCount, Parallel.maxChunks))
    for mode in [DistillationMode.cd, .ct] {
        let config = DistillationConfig(studentSteps: 8, mode: mode)
        let d = try! Distiller(config: config, teacher: teacher, teacherSHA: "bench",
                               dataset: try! config.openDataset(resolution: teacher.resolution))
        try! d.step()   // warm-up: first touch of every buffer
        d.timings = DistillationTimings()
        let iterations = mode == .cd ? 6 : 4
        let total = seconds { for _ in 0..<iterations { try! d.step() } }
        let t = d.timings, n = Double(iterations)
        let perIteration = total / n
        func part(_ label: String, _ s: Double) -> String {
            label + String(format: " %.0f ms (%.0f%%)", 1e3 * s / n, 100 * s / t.total)
        }
        print("  " + (mode == .cd ? "distillation (cd)" : "consistency training (ct)")
              + String(format: ", batch %d: %.3f iterations/s = %.1f images/s; the default %d iterations at S = %d take %.1f min",
                       config.batchSize, 1 / perIteration, Double(config.batchSize) / perIteration, config.iterations,
                       config.studentSteps,
                       Double(config.iterations) * perIteration / 60))
        print("    per iteration: " + [part("teacher forwards", t.teacher), part("student target forward", t.studentTarget),
                                       part("student forward+backward", t.studentTraining), part("rest", t.rest)].joined(separator: ", "))
    }
}
