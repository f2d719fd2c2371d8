import Datasets
import Formats
import Foundation
import NeuralNet
import Tensors

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
            throw ModelError("\(name): not a teacher checkpoint (kind '\(printableField(metadata["kind"] ?? "none"))')")
        }
        guard let json = metadata["config"], let iterText = metadata["iteration"], let done = Int(iterText), done >= 0 else {
            throw ModelError("\(name): checkpoint metadata lacks the config or the iteration")
        }
        var config = try TeacherTrainingConfig.decode(json: json, source: name)
        if let iterations { config.iterations = iterations }
        let tokenizer = try tokenizerFromMetadata(metadata, source: name)
        // As in `ModelFile.load`: refuse a config far larger than the weights the file holds
        // before the trainer allocates the network, its EMA and AdamW's moments.
        let held = tensors.reduce(0) { $0 + ($1.key.hasPrefix("model.") ? $1.value.count : 0) }
        if let expected = config.model.parameterCount, expected > 2 * held + 65_536 {
            throw ModelError("\(name): config implies \(expected) parameters but the file holds \(held) model values")
        }
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

/// The tokenizer a saved model was trained with, from its file's metadata (`tokenizer`: the
/// words, `tokenizer_max_length`), checked before it is built: a length of 2…4096 tokens, at
/// most a million distinct words.
public func tokenizerFromMetadata(_ metadata: [String: String], source: String) throws -> Tokenizer {
    guard let words = metadata["tokenizer"], let lengthText = metadata["tokenizer_max_length"] else {
        throw ModelError("\(source): metadata lacks the tokenizer vocabulary")
    }
    guard let length = Int(lengthText), (2...4096).contains(length) else {
        throw ModelError("\(source): metadata.tokenizer_max_length must be an integer in 2…4096, got '\(printableField(lengthText))'")
    }
    let list = words.split(separator: " ").map(String.init)
    guard list.count <= 1_000_000 else {
        throw ModelError("\(source): metadata.tokenizer must hold at most 1000000 words, got \(list.count)")
    }
    guard Set(list).count == list.count else { throw ModelError("\(source): metadata.tokenizer repeats a word") }
    return Tokenizer(words: list, maxLength: length)
}
