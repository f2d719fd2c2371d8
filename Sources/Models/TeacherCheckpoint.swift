import Datasets
import Foundation
import NeuralNet

/// Training checkpoints: one safetensors file holding the weights (`model.<param>`), the EMA
/// (`ema.<param>`), AdamW's moments and step (`adamw.m.<param>`, `adamw.v.<param>`,
/// `adamw.step`), and metadata: `kind` = "teacher-checkpoint", `iteration`, `seed` and the
/// training config as JSON. The random state needs no tensor: every draw of iteration i is a
/// pure function of (seed, i), so (seed, iteration) is the RNG state.
extension TeacherTrainer {
    public static let checkpointKind = "teacher-checkpoint"

    /// Writes the checkpoint atomically (temporary file, then rename).
    public func saveCheckpoint(to url: URL) throws {
        var tensors = model.parameters.map { ("model." + $0.name, $0.value) }
        tensors += ema.stateTensors()
        tensors += optimizer.stateTensors()
        try SafeTensors.write(tensors, metadata: [
            "kind": Self.checkpointKind,
            "iteration": String(iteration),
            "seed": String(config.seed),
            "config": config.jsonString(),
            "tokenizer": model.tokenizer.words.joined(separator: " "),
            "tokenizer_max_length": String(model.tokenizer.maxLength),
        ], to: url)
    }

    /// Rebuilds a run from a checkpoint, reopening the dataset its config names unless one is
    /// given. `iterations`, when given, extends or shortens the run (a different total also
    /// changes the learning-rate decay, so only an unchanged total resumes bit-exactly).
    public static func resume(from url: URL, dataset: TextImageDataset? = nil, iterations: Int? = nil) throws -> TeacherTrainer {
        let (tensors, metadata) = try SafeTensors.read(url)
        let name = url.path
        guard metadata["kind"] == checkpointKind else {
            throw ModelError("\(name): not a teacher checkpoint (kind '\(metadata["kind"] ?? "none")')")
        }
        guard let json = metadata["config"], let iterText = metadata["iteration"], let done = Int(iterText), done >= 0 else {
            throw ModelError("\(name): checkpoint metadata lacks the config or the iteration")
        }
        var config = try TeacherTrainingConfig.decode(json: json, source: name)
        if let iterations { config.iterations = iterations }
        let tokenizer = try tokenizerFromMetadata(metadata, source: name)
        let trainer = try TeacherTrainer(config: config, dataset: dataset ?? config.openDataset(), tokenizer: tokenizer)
        do {
            var weights: [String: Tensor] = [:], state: [String: Tensor] = [:]
            for (key, t) in tensors {
                if key.hasPrefix("model.") { weights[String(key.dropFirst(6))] = t } else { state[key] = t }
            }
            try trainer.model.load(weights)
            try trainer.ema.load(stateTensors: state)
            try trainer.optimizer.load(stateTensors: state)
        } catch {
            throw ModelError("\(name): \(error)")
        }
        guard trainer.optimizer.stepCount == done else {
            throw ModelError("\(name): optimizer step \(trainer.optimizer.stepCount) disagrees with iteration \(done)")
        }
        trainer.iteration = done
        return trainer
    }
}

/// The tokenizer a saved model was trained with, from its file's metadata.
func tokenizerFromMetadata(_ metadata: [String: String], source: String) throws -> Tokenizer {
    guard let words = metadata["tokenizer"], let lengthText = metadata["tokenizer_max_length"],
          let length = Int(lengthText), length >= 2 else {
        throw ModelError("\(source): metadata lacks the tokenizer vocabulary")
    }
    let list = words.split(separator: " ").map(String.init)
    guard Set(list).count == list.count else { throw ModelError("\(source): tokenizer vocabulary repeats a word") }
    return Tokenizer(words: list, maxLength: length)
}
