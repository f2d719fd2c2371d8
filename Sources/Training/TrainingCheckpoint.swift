import Formats
import Foundation
import Models
import NeuralNet
import Tensors

/// The one checkpoint format of a training run: a safetensors file holding the weights
/// (`model.<param>`), the EMA (`ema.<param>`), AdamW's moments and step (`adamw.m.<param>`,
/// `adamw.v.<param>`, `adamw.step`), and metadata: `kind` (e.g. "teacher-checkpoint"),
/// `iteration`, `seed`, the run's config as JSON and the tokenizer, plus what the run adds. The
/// random state needs no tensor: every draw of iteration i is a pure function of (seed, i), so
/// (seed, iteration) is the RNG position. Checkpoints are internal: only the same version resumes them.
public enum TrainingCheckpoint {
    /// Writes a run's state atomically (temporary file, then rename).
    public static func write(kind: String, model: TextToImageModel, ema: EMA, optimizer: AdamW, iteration: Int, seed: UInt64,
                             metadata: [String: String], to url: URL) throws {
        var tensors = model.parameters.map { ("model." + $0.name, $0.value) }
        tensors += ema.stateTensors()
        tensors += optimizer.stateTensors()
        let own = ["kind": kind, "iteration": String(iteration), "seed": String(seed),
                   "tokenizer": model.tokenizer.words.joined(separator: " "),
                   "tokenizer_max_length": String(model.tokenizer.maxLength)]
        try SafeTensors.write(tensors, metadata: metadata.merging(own) { $1 }, to: url)
    }

    /// A checkpoint file read back: its tensors and metadata, its kind checked (`what` names
    /// the kind in the error: "not a teacher checkpoint").
    public struct Contents {
        public let tensors: [String: Tensor]
        public let metadata: [String: String]
        /// The file's path, naming it in errors.
        public let source: String

        public init(_ url: URL, kind: String, what: String) throws {
            let (tensors, metadata) = try SafeTensors.read(url)
            source = url.path
            guard metadata["kind"] == kind else {
                throw ModelError("\(source): not a \(what) (kind '\(printableField(metadata["kind"] ?? "none"))')")
            }
            self.tensors = tensors
            self.metadata = metadata
        }

        /// Iterations done, nil when the metadata lacks them.
        public var iteration: Int? { metadata["iteration"].flatMap(Int.init).flatMap { $0 >= 0 ? $0 : nil } }

        /// Values of the `model.` tensors.
        public var modelValueCount: Int { tensors.reduce(0) { $0 + ($1.key.hasPrefix("model.") ? $1.value.count : 0) } }

        /// Loads the weights into `model`, the rest into `ema` and `optimizer`, and checks that
        /// the optimiser's step is the iteration `done`.
        public func restore(model: TextToImageModel, ema: EMA, optimizer: AdamW, iteration done: Int) throws {
            do {
                var weights: [String: Tensor] = [:], state: [String: Tensor] = [:]
                for (key, t) in tensors {
                    if key.hasPrefix("model.") { weights[String(key.dropFirst(6))] = t } else { state[key] = t }
                }
                try model.load(weights)
                try ema.load(stateTensors: state)
                try optimizer.load(stateTensors: state)
            } catch {
                throw ModelError("\(source): \(error)")
            }
            guard optimizer.stepCount == done else {
                throw ModelError("\(source): optimizer step \(optimizer.stepCount) disagrees with iteration \(done)")
            }
        }
    }
}
