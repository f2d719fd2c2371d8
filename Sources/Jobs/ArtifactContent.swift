import Evaluation
import Formats
import Foundation
import JobQueue
import Models
import NeuralNet
import Tensors
import Training

// An artifact of a kind mscm reads back (teacher, student, evaluator, training checkpoints)
// must be readable before it is stored: a crafted or damaged file imported as a teacher would
// otherwise fail every job that touches it, on every worker. The check reads the file the way
// its consumer will — safetensors header, every config field, every tensor's name and shape —
// so a bad file is one line at import (or at a handler's put) and nothing is stored.

/// Content problems: one line naming the kind and (inside `reason`) the file.
public struct ArtifactContentError: Error, CustomStringConvertible {
    public let kind: String
    public let reason: String
    public var description: String { "not a valid \(kind): " + printableField(reason, limit: 2000) }
}

public enum ArtifactContent {
    /// Kinds with a format, and the readers that check them.
    public static let checkedKinds: Set<String> = [
        TeacherTrainer.teacherKind, Distiller.studentKind, EvaluatorFile.kind,
        TeacherTrainer.checkpointKind, Distiller.checkpointKind,
    ]

    /// Throws `ArtifactContentError` unless `file` reads as an artifact of `kind`; kinds without
    /// a format (grids, reports, datasets, metrics) pass unchecked.
    public static func check(kind: String, file: URL) throws {
        guard checkedKinds.contains(kind) else { return }
        do {
            switch kind {
            case EvaluatorFile.kind: _ = try EvaluatorFile.load(file)
            case Distiller.checkpointKind: try checkDistillCheckpoint(file)
            default: _ = try ModelFile.load(file, expectedKind: kind)   // a teacher checkpoint loads its EMA weights
            }
        } catch let e as ArtifactContentError {
            throw e
        } catch {
            throw ArtifactContentError(kind: kind, reason: "\(error)")
        }
    }

    /// A distillation checkpoint: its configs validate and its student weights (`model.*`) fit
    /// the student config exactly. The teacher is not needed: a resume checks it by sha256.
    static func checkDistillCheckpoint(_ url: URL) throws {
        let name = url.path
        let (tensors, metadata) = try SafeTensors.read(url)
        guard metadata["kind"] == Distiller.checkpointKind else {
            throw ModelError("\(name): holds a \(printableField(metadata["kind"] ?? "file without a kind")), expected a \(Distiller.checkpointKind)")
        }
        guard let distillation = metadata["distillation"], let json = metadata["config"] else {
            throw ModelError("\(name): checkpoint metadata lacks the distillation or the model config")
        }
        _ = try DistillationConfig.decode(json: distillation, source: name)
        let config = try ModelConfig.decode(json: json, source: name)
        guard let done = metadata["iteration"].flatMap(Int.init), done >= 0 else {
            throw ModelError("\(name): metadata.iteration must be an integer ≥ 0")
        }
        guard let sha = metadata["teacher_sha"], sha.count == 64, sha.allSatisfy(\.isHexDigit) else {
            throw ModelError("\(name): metadata.teacher_sha must be a sha256 in hex")
        }
        let tokenizer = try tokenizerFromMetadata(metadata, source: name)
        var weights: [String: Tensor] = [:]
        for (key, t) in tensors where key.hasPrefix("model.") { weights[String(key.dropFirst(6))] = t }
        let held = weights.values.reduce(0) { $0 + $1.count }
        if let expected = config.parameterCount, expected > 2 * held + 65_536 {
            throw ModelError("\(name): config implies \(expected) parameters but the file holds \(held) model values")
        }
        let model = try TextToImageModel(config, tokenizer: tokenizer, seed: 0)
        do { try model.load(weights) } catch { throw ModelError("\(name): \(error)") }
    }
}

/// `ArtifactContent.check` as a free function, for callers outside the jobs.
public func checkArtifactContent(kind: String, file: URL) throws {
    try ArtifactContent.check(kind: kind, file: file)
}

extension JobContext {
    /// Stores a handler's output after checking its content (for kinds with a format): an
    /// output that does not read back is a bug no retry fixes, so it fails the job permanently
    /// rather than poisoning the jobs that would consume it.
    @discardableResult
    public func putCheckedArtifact(name: String, kind: String, file: URL) throws -> String {
        do { try ArtifactContent.check(kind: kind, file: file) } catch {
            throw JobFailure.permanent("output \(name): \(error)")
        }
        return try putArtifact(name: name, kind: kind, file: file)
    }
}
