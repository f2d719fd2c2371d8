import Datasets
import Formats
import Foundation
import Models
import NeuralNet
import Tensors

/// Teacher checkpoints (`TrainingCheckpoint`): kind "teacher-checkpoint", the training config
/// as JSON under `config`.
extension TeacherTrainer: ConfiguredRun {
    public static let checkpointKind = ArtifactKind.teacherCheckpoint


    /// Writes the checkpoint atomically (temporary file, then rename).
    public func saveCheckpoint(to url: URL) throws {
        try TrainingCheckpoint.write(kind: Self.checkpointKind, model: model, ema: ema, optimizer: optimizer, iteration: iteration,
                                     seed: config.seed, metadata: ["config": config.jsonString()], to: url)
    }

    /// Rebuilds a run from a checkpoint, reopening the dataset its config names unless one is
    /// given. `iterations`, when given, extends or shortens the run (a different total also
    /// changes the learning-rate decay, so only an unchanged total resumes bit-exactly).
    public static func resume(from url: URL, dataset: TextImageDataset? = nil, iterations: Int? = nil) throws -> TeacherTrainer {
        let file = try TrainingCheckpoint.Contents(url, kind: checkpointKind, what: "teacher checkpoint")
        let name = file.source
        guard let json = file.metadata["config"], let done = file.iteration else {
            throw ModelError("\(name): checkpoint metadata lacks the config or the iteration")
        }
        var config = try TeacherTrainingConfig.decode(json: json, source: name)
        if let iterations { config.iterations = iterations }
        let tokenizer = try tokenizerFromMetadata(file.metadata, source: name)
        // As in `ModelFile.load`: refuse a config far larger than the weights the file holds
        // before the trainer allocates the network, its EMA and AdamW's moments.
        let held = file.modelValueCount
        if let expected = config.model.parameterCount, expected > 2 * held + 65_536 {
            throw ModelError("\(name): config implies \(expected) parameters but the file holds \(held) model values")
        }
        let trainer = try TeacherTrainer(config: config, dataset: dataset ?? config.openDataset(), tokenizer: tokenizer)
        try file.restore(model: trainer.model, ema: trainer.ema, optimizer: trainer.optimizer, iteration: done)
        trainer.iteration = done
        return trainer
    }
}
