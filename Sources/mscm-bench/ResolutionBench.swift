import Datasets
import Foundation
import Models
import Training

// `mscm-bench models.resolutions`: the `small` preset sized for 16, 32 and 64 pixels
// (`--resolution`): parameters, forward GFLOP per image and training images/s on the shapes
// world at the preset's batch (halved at 64 pixels, where a batch of 64 wants > 2 GB).

func benchResolutions() {
    print("small preset by resolution (train-teacher --resolution R)")
    for r in ModelConfig.resolutions {
        var config = try! TeacherTrainingConfig.defaults(preset: "small", resolution: r)
        if r == 64 { config.batchSize = 32 }
        let trainer = try! TeacherTrainer(config: config, dataset: try! config.openDataset())
        let iterations = r == 16 ? 8 : (r == 32 ? 4 : 2)
        try! trainer.step()
        var best = Double.infinity
        for _ in 0..<2 { best = min(best, seconds { for _ in 0..<iterations { try! trainer.step() } }) }
        let rate = Double(iterations * config.batchSize) / best
        print(String(format: "  %2d×%-2d  channels %@  %d parameters  %.3f GFLOP forward per image  training %.1f images/s (batch %d)",
                     r, r, config.model.uvit.channels.map(String.init).joined(separator: "/"), trainer.model.parameterCount,
                     config.model.forwardFLOPs() / 1e9, rate, config.batchSize))
    }
}
