import Datasets
import Diffusion
import Foundation
import Models
import Tensors
import Training

// The networks: for each preset its size, its analytic forward cost, how fast a teacher
// trains (the trainer's real iteration: data, forward, backward, clip, AdamW, EMA) and how
// fast it samples (guided aDDIM, both branches as one doubled batch), and the training step's
// GFLOP/s as a fraction of the machine's best sgemm.

func benchModels() {
    let best = bestSgemmRate()
    print(String(format: "models (best sgemm %.1f GFLOP/s, %d BLAS threads)", best, BLAS.threads))
    for name in ModelConfig.presetNames {
        var config = try! TeacherTrainingConfig.defaults(preset: name)
        if name == "base" { config.batchSize = 16 }
        let trainer = try! TeacherTrainer(config: config, dataset: try! config.openDataset())
        let model = trainer.model, b = config.batchSize, r = config.model.uvit.resolution
        let flops = config.model.forwardFLOPs()
        let iterations = name == "base" ? 2 : (name == "tiny" ? 40 : 8)

        try! trainer.step()   // warm-up: first-touch of every buffer
        var trainSeconds = Double.infinity
        for _ in 0..<3 { trainSeconds = min(trainSeconds, seconds { for _ in 0..<iterations { try! trainer.step() } }) }
        let trainRate = Double(iterations * b) / trainSeconds
        let trainGFLOPs = 3 * flops * trainRate / 1e9

        // Parts of one training iteration, each timed alone.
        let batch = trainer.dataset.batch(size: b, step: 0)
        let data = seconds { _ = trainer.dataset.batch(size: b, step: 1) }
        let prepared = TeacherLoss.prepare(x: batch.images, seed: 0, iteration: 0, schedule: config.model.schedule)
        model.isTraining = true
        let forward = timePerCall(trials: 3, minTrial: 0.3) {
            _ = model.forward(prepared.z, t: prepared.t, captions: batch.captions, conditional: prepared.conditional, save: false)
        }
        let forwardBackward = timePerCall(trials: 3, minTrial: 0.3) {
            let v = model.forward(prepared.z, t: prepared.t, captions: batch.captions, conditional: prepared.conditional, save: true)
            model.backward(TeacherLoss.loss(prediction: v, target: prepared.target).gradient)
        }
        model.isTraining = false

        // Guided sampling: one step of w = 3 on `b` prompts runs the network on 2b examples.
        let vm = model.velocityModel(captions: batch.captions)
        let z = Sampling.initialNoise(seed: 0, samples: 0..<b, exampleShape: [r, r, 3])
        let guidedStep = timePerCall(trials: 3, minTrial: 0.3) {
            _ = Sampling.teacher(vm, method: .ddim, steps: 1, guidance: 3, from: z, schedule: config.model.schedule)
        }
        let evaluations = Double(2 * b) / guidedStep

        print("  \(name): \(model.parameterCount) parameters, "
              + String(format: "%.4f GFLOP forward per image (%.4f per training image)", flops / 1e9, 3 * flops / 1e9))
        print(String(format: "    training   %8.1f images/s  (batch %d)  %6.1f GFLOP/s  = %4.1f%% of best sgemm",
                     trainRate, b, trainGFLOPs, 100 * trainGFLOPs / best))
        print(String(format: "      per iteration: data %.1f ms, forward %.1f ms (%.1f GFLOP/s), forward+backward %.1f ms (%.1f GFLOP/s), rest %.1f ms",
                     1e3 * data, 1e3 * forward, flops * Double(b) / forward / 1e9, 1e3 * forwardBackward,
                     3 * flops * Double(b) / forwardBackward / 1e9,
                     1e3 * (trainSeconds / Double(iterations) - data - forwardBackward)))
        print(String(format: "    sampling   %8.1f network evaluations/s (guided, batch %d doubled) = %.2f images/s at 256 aDDIM steps, w = 3",
                     evaluations, b, evaluations / 2 / 256))
    }
}
