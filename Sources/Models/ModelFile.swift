import Diffusion
import Formats
import Foundation
import NeuralNet
import Tensors

/// A trained network as one safetensors file that rebuilds itself: every parameter under its
/// own name, an optional `xvar` tensor (the teacher's table, docs/algorithms.md §4), and metadata —
/// `kind` ("teacher", or another producer's kind), `preset`, `config` (the ModelConfig as JSON),
/// `resolution`, `tokenizer` (the vocabulary words) and `tokenizer_max_length`, `vocabulary_size`,
/// `parameters`, and for the table `xvar_steps` and `xvar_eta`; producers may add more keys
/// (the teacher adds `training`, its training config).
public struct ModelFile {
    public let model: TextToImageModel
    public let kind: String
    public let xvar: XvarTable?
    public let metadata: [String: String]

    /// Writes `tensors` (default: the model's current parameters) atomically.
    public static func write(_ model: TextToImageModel, tensors: [(String, Tensor)]? = nil, kind: String,
                             xvar: XvarTable? = nil, extraMetadata: [String: String] = [:], to url: URL) throws {
        var meta = extraMetadata
        meta["kind"] = kind
        meta["preset"] = model.config.preset
        meta["config"] = model.config.jsonString()
        meta["resolution"] = String(model.resolution)
        meta["tokenizer"] = model.tokenizer.words.joined(separator: " ")
        meta["tokenizer_max_length"] = String(model.tokenizer.maxLength)
        meta["vocabulary_size"] = String(model.tokenizer.vocabularySize)
        meta["parameters"] = String(model.parameterCount)
        var list = tensors ?? model.namedTensors()
        if let xvar {
            meta["xvar_steps"] = String(xvar.steps)
            meta["xvar_eta"] = String(xvar.eta)
            list.append(("xvar", Tensor(shape: [xvar.steps], values: xvar.values.map(Float.init))))
        }
        try SafeTensors.write(list, metadata: meta, to: url)
    }

    /// Reads a model file, or the EMA weights of a training checkpoint (kind
    /// "teacher-checkpoint", no xvar table); `expectedKind`, when given, must match.
    /// Every config and metadata field is checked before the network is allocated, and every
    /// tensor must have exactly the shape the config implies. Errors are one line naming the file.
    public static func load(_ url: URL, expectedKind: String? = nil) throws -> ModelFile {
        let name = url.path
        guard FileManager.default.fileExists(atPath: name) else { throw ModelError("\(name): no such model file") }
        var (tensors, metadata) = try SafeTensors.read(url)
        guard let kind = metadata["kind"] else { throw ModelError("\(name): not an mscm model file (no 'kind' in its metadata)") }
        if let expectedKind, kind != expectedKind {
            throw ModelError("\(name): holds a \(printableField(kind)), expected a \(expectedKind)")
        }
        guard let json = metadata["config"] else { throw ModelError("\(name): metadata lacks the model config") }
        let config: ModelConfig
        if kind == ArtifactKind.teacherCheckpoint {
            // A training checkpoint: its EMA weights (`ema.<param>`) are the model to sample.
            config = try TeacherTrainingConfig.decode(json: json, source: name).model
            var ema: [String: Tensor] = [:]
            for (key, t) in tensors where key.hasPrefix("ema.") { ema[String(key.dropFirst(4))] = t }
            tensors = ema
        } else {
            config = try ModelConfig.decode(json: json, source: name)
        }
        let tokenizer = try tokenizerFromMetadata(metadata, source: name)
        try checkStudentMetadata(metadata, kind: kind, source: name)
        // The network is built before its tensors are matched by name and shape; a config that
        // implies far more parameters than the file holds is refused first, so the allocation
        // stays within a small multiple of the file's own size.
        let held = tensors.values.reduce(0) { $0 + $1.count }
        if let expected = config.parameterCount, expected > 2 * held + 65_536 {
            throw ModelError("\(name): config implies \(expected) parameters but the file holds \(held) values")
        }
        let model: TextToImageModel
        do { model = try TextToImageModel(config, tokenizer: tokenizer, seed: 0) } catch { throw ModelError("\(name): \(error)") }
        var xvar: XvarTable? = nil
        if let table = tensors.removeValue(forKey: "xvar") {
            guard let steps = metadata["xvar_steps"].flatMap(Int.init), let eta = metadata["xvar_eta"].flatMap(Double.init),
                  table.shape == [steps], steps >= 1, eta.isFinite, eta >= 0 else {
                throw ModelError("\(name): the xvar tensor \(table.shape) disagrees with its metadata")
            }
            let values = table.toArray().map(Double.init)
            guard values.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw ModelError("\(name): the xvar table holds negative or non-finite values") }
            xvar = XvarTable(steps: steps, eta: eta, values: values)
        }
        do { try model.load(tensors) } catch { throw ModelError("\(name): \(printableField("\(error)"))") }
        for p in model.parameters where !p.value.isFinite {
            throw ModelError("\(name): tensor '\(p.name)' holds NaN or Inf")
        }
        return ModelFile(model: model, kind: kind, xvar: xvar, metadata: metadata)
    }

    /// A student's `student_steps` (1…10000, when present) and `guidance` (finite, ≥ 0), which
    /// sampling uses as its step count and label; other kinds have none to check.
    @discardableResult
    static func checkStudentMetadata(_ metadata: [String: String], kind: String, source: String) throws -> Int? {
        guard kind == ArtifactKind.student else { return nil }
        if let g = metadata["guidance"] {
            guard let w = Double(g), w.isFinite, w >= 0 else {
                throw ModelError("\(source): metadata.guidance must be a finite number ≥ 0, got '\(printableField(g))'")
            }
        }
        // A student without S still loads (sampling then asks for it); one with S must be sane.
        guard let text = metadata["student_steps"] else { return nil }
        guard let s = Int(text), (1...10_000).contains(s) else {
            throw ModelError("\(source): metadata.student_steps must be an integer in 1…10000, got '\(printableField(text))'")
        }
        return s
    }
}

extension ModelFile {
    /// S of a student file (its `student_steps`), nil for any other kind of model.
    public var studentSteps: Int? {
        guard kind == ArtifactKind.student else { return nil }
        return metadata["student_steps"].flatMap(Int.init).flatMap { (1...10_000).contains($0) ? $0 : nil }
    }

    /// The guidance range of a guidance-conditioned student (from its model config), nil otherwise.
    public var guidanceRange: GuidanceRange? { model.guidanceRange }
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
