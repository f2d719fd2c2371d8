import Evaluation
import Foundation
import Training

// The evaluator's training run with the default config (what `train-evaluator` does): wall
// time of the training iterations, then its quality on fresh renders of the held-out prompts.

func benchEvaluator() {
    let config = EvaluatorConfig()
    let trainer = try! EvaluatorTrainer(config: config)
    print("evaluator (\(trainer.evaluator.parameterCount) parameters, \(config.resolution)×\(config.resolution), \(config.iterations) iterations of \(config.batchSize) scenes)")
    var last: EvaluatorTrainer.StepResult?
    let train = seconds { while trainer.iteration < config.iterations { last = try! trainer.step() } }
    let quality = seconds { try! trainer.measureQuality() }
    print(String(format: "  training %.1f s (%.1f ms/iteration); final classifier loss %.4f, CLIP loss %.4f; quality measured in %.1f s",
                 train, 1000 * train / Double(config.iterations), last!.classifierLoss, last!.clipLoss, quality))
    print("  \(trainer.evaluator.quality!.summary)")
}
