import Formats
import Foundation
import Models
import NeuralNet

/// An evaluator as one safetensors file (kind `evaluator`): every parameter of both networks
/// under its own name (`classifier.*`, `clip.*`) and metadata — `kind`, `config` (the
/// EvaluatorConfig as JSON), `quality` (EvaluatorQuality as JSON, when measured),
/// `feature_extractor`, `embedding_model`, `tokenizer` (the vocabulary words), `parameters`,
/// and the dataset it was trained on (`dataset`, `dataset_name`, `dataset_heldout`: see
/// `EvaluatorDataset`; a folder evaluator has no `classifier.*` tensors).
public enum EvaluatorFile {
    public static let kind = ArtifactKind.evaluator

    /// Writes `evaluator` to `url` atomically (temporary file, then rename).
    public static func write(_ evaluator: Evaluator, to url: URL) throws {
        var meta: [String: String] = [
            "kind": kind,
            "config": evaluator.config.jsonString(),
            "feature_extractor": evaluator.featureExtractor,
            "embedding_model": evaluator.embeddingModel,
            "tokenizer": evaluator.clip.tokenizer.words.joined(separator: " "),
            "parameters": String(evaluator.parameterCount),
        ]
        meta.merge(evaluator.dataset.metadata) { a, _ in a }
        if let q = evaluator.quality { meta["quality"] = q.jsonString() }
        try SafeTensors.write(evaluator.namedTensors(), metadata: meta, to: url)
    }

    /// Reads an evaluator file; errors are one line naming the file.
    public static func load(_ url: URL) throws -> Evaluator {
        let name = url.path
        guard FileManager.default.fileExists(atPath: name) else { throw EvaluationError("\(name): no such evaluator file") }
        let (tensors, metadata) = try SafeTensors.read(url)
        guard let kind = metadata["kind"] else { throw EvaluationError("\(name): not an mscm file (no 'kind' in its metadata)") }
        guard kind == Self.kind else { throw EvaluationError("\(name): holds a \(printableField(kind)), expected an evaluator") }
        guard let json = metadata["config"] else { throw EvaluationError("\(name): metadata lacks the evaluator config") }
        let config = try EvaluatorConfig.decode(json: json, source: name)
        let dataset = try EvaluatorDataset.read(metadata, source: name)
        let tokenizer: Tokenizer
        if dataset.isShapes {
            guard metadata["tokenizer"] == Tokenizer.shapes.words.joined(separator: " ") else {
                throw EvaluationError("\(name): the evaluator's vocabulary differs from the shapes tokenizer's")
            }
            tokenizer = .shapes
        } else {
            // The vocabulary learned from the folder's training captions; its size must be the
            // text encoder's (checked by `Evaluator.init` before anything is allocated).
            guard let words = metadata["tokenizer"] else { throw EvaluationError("\(name): metadata lacks the evaluator's vocabulary") }
            let list = words.split(separator: " ").map(String.init)
            guard list.count <= Tokenizer.maxLearnedWords else {
                throw EvaluationError("\(name): metadata.tokenizer must hold at most \(Tokenizer.maxLearnedWords) words, got \(list.count)")
            }
            guard Set(list).count == list.count else { throw EvaluationError("\(name): metadata.tokenizer repeats a word") }
            tokenizer = Tokenizer(words: list, maxLength: config.text.maxLength)
        }
        let evaluator: Evaluator
        do { evaluator = try Evaluator(config: config, tokenizer: tokenizer, dataset: dataset) } catch { throw EvaluationError("\(name): \(error)") }
        do { try evaluator.load(tensors) } catch { throw EvaluationError("\(name): \(printableField("\(error)"))") }
        for p in evaluator.parameters where !p.value.isFinite {
            throw EvaluationError("\(name): tensor '\(p.name)' holds NaN or Inf")
        }
        if let q = metadata["quality"] {
            do { evaluator.quality = try JSONDecoder().decode(EvaluatorQuality.self, from: Data(q.utf8)) } catch {
                throw EvaluationError("\(name): the quality metadata is not valid JSON")
            }
        }
        return evaluator
    }
}
