import Formats
import Foundation
import JobQueue
import Models
import Training

/// The `__metadata__` of a safetensors file, read from its header alone (8 bytes of length,
/// then the JSON header) — never the weights — so a command or a submit can tell what a file
/// is (a teacher, a student with its S and w, an evaluator, …) before loading it, and say so
/// in one line instead of failing deep inside a decoder.
public struct ModelHeader: Equatable, Sendable {
    public let metadata: [String: String]

    /// The file's own kind ("teacher", "student", "evaluator", "teacher-checkpoint", …).
    public var kind: String? { metadata["kind"] }

    /// A student's S and the guidance w it was distilled at; nil for any other kind.
    public var student: (steps: Int, guidance: Double)? {
        guard kind == Distiller.studentKind, let s = metadata["student_steps"].flatMap(Int.init), s >= 1,
              let w = metadata["guidance"].flatMap(Double.init), w.isFinite else { return nil }
        return (s, w)
    }

    /// A guidance-conditioned student's range of w (its `student` is nil: w is chosen per use).
    public var guidanceRange: GuidanceRange? { metadata["guidance_range"].flatMap { try? GuidanceRange.parse($0) } }

    /// A student's S, whatever its guidance.
    public var studentSteps: Int? {
        guard kind == Distiller.studentKind, let s = metadata["student_steps"].flatMap(Int.init), s >= 1 else { return nil }
        return s
    }

    /// The teacher a student was distilled from (sha256), if recorded.
    public var teacherSHA: String? { metadata["teacher_sha"] }

    /// The dataset a file was trained on, as its producer recorded it ("shapes", a dataset
    /// artifact's sha256, or a folder path): an evaluator's `dataset`, a teacher's training
    /// config's, a student's distillation config's (its teacher's). Files that predate the
    /// record were all trained on the shapes world.
    public var datasetSource: String { Self.datasetSource(metadata) }

    public static func datasetSource(_ metadata: [String: String]) -> String {
        if metadata["kind"] == ArtifactKind.evaluator { return metadata["dataset"] ?? "shapes" }
        for key in ["training", "distillation"] {
            if let text = metadata[key], let json = try? JSON.parse(text), let d = json["dataset"]?.string, !d.isEmpty { return d }
        }
        return "shapes"
    }

    /// The one line `evaluate` refuses a mismatched judge with.
    static func datasetMismatch(evaluator: String, evaluatorDataset: String, model: String, modelDataset: String) -> String {
        func show(_ d: String) -> String { d.count == 64 && d.allSatisfy(\.isHexDigit) ? "dataset \(d.prefix(12))" : d == "shapes" ? "the shapes world" : d }
        return "evaluator '\(evaluator)' was trained on \(show(evaluatorDataset)) but model '\(model)' on \(show(modelDataset)): train an evaluator on the models' dataset (mscm-ctl submit train-evaluator --dataset …)"
    }

    /// Header bytes beyond this are not a model header (SafeTensors' own limit is the same order).
    static let maxHeaderBytes = 100 << 20

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses the header at the start of `bytes`; nil when more bytes are needed.
    static func parse(prefix bytes: Data, source: String) throws -> ModelHeader? {
        guard bytes.count >= 8 else { return nil }
        let n = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n >= 2, n <= UInt64(maxHeaderBytes) else { throw Failure(description: "\(source): not a safetensors file") }
        guard bytes.count >= 8 + Int(n) else { return nil }
        let start = bytes.startIndex + 8
        guard let text = String(data: bytes[start..<(start + Int(n))], encoding: .utf8),
              let json = try? JSON.parse(text), let top = json.object else {
            throw Failure(description: "\(source): not a safetensors file (its header is not JSON)")
        }
        var metadata: [String: String] = [:]
        for (k, v) in top["__metadata__"]?.object ?? [:] { if let s = v.string { metadata[k] = s } }
        return ModelHeader(metadata: metadata)
    }

    /// The header of the file at `url`.
    public static func read(_ url: URL) throws -> ModelHeader {
        guard let h = FileHandle(forReadingAtPath: url.path) else { throw Failure(description: "\(url.path): no such file") }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 8)) ?? Data()
        guard head.count == 8 else { throw Failure(description: "\(url.path): not a safetensors file (shorter than 8 bytes)") }
        let n = head.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n >= 2, n <= UInt64(maxHeaderBytes) else { throw Failure(description: "\(url.path): not a safetensors file") }
        let body = (try? h.read(upToCount: Int(n))) ?? Data()
        guard let header = try parse(prefix: head + body, source: url.path) else {
            throw Failure(description: "\(url.path): not a safetensors file (truncated header)")
        }
        return header
    }

    /// What a file of `kind` is, for messages: "an evaluator (made by train-evaluator)".
    public static func describe(_ kind: String?) -> String {
        switch kind {
        case ArtifactKind.teacher?: return "a teacher model (made by train-teacher)"
        case ArtifactKind.student?: return "a student model (made by distill)"
        case ArtifactKind.evaluator?: return "an evaluator (made by train-evaluator)"
        case ArtifactKind.teacherCheckpoint?: return "a teacher training checkpoint"
        case ArtifactKind.distillCheckpoint?: return "a distillation checkpoint, not a finished student"
        case let k?: return "a file of kind '\(TerminalText.escaped(k))', not an mscm model"
        case nil: return "a safetensors file without an mscm kind, not an mscm model"
        }
    }
}

/// An artifact catalog that can also read a model artifact's header (the real store can; a
/// test's catalog need not, and then the checks that need the file wait for the job).
public protocol ModelHeaderSource {
    func modelHeader(_ info: ArtifactInfo) throws -> ModelHeader
}

extension ModelHeader {
    /// At submit: the artifact `ref`'s file must really be of `kind` (an artifact imported with
    /// the wrong `--kind` would otherwise fail only when the job runs). Nil when it is, or when
    /// the catalog cannot read files; else the problem, one line.
    public static func mismatch(_ ref: String, expected kind: String, artifacts: ArtifactCatalog) throws -> String? {
        guard let source = artifacts as? ModelHeaderSource, let info = try artifacts.info(ref), info.kind == kind else { return nil }
        let header: ModelHeader
        do { header = try source.modelHeader(info) } catch { return "artifact '\(ref)': \(error)" }
        return header.kind == kind ? nil : "artifact '\(ref)' is stored as a \(kind) but its file is \(describe(header.kind))"
    }
}

extension ArtifactStore: ModelHeaderSource {
    private struct Enough: Error {}

    /// Streams the blob's first chunks only until the header is complete (a 1 MiB chunk holds
    /// any model's header), not the whole file.
    public func modelHeader(_ info: ArtifactInfo) throws -> ModelHeader {
        var bytes = Data(), found: ModelHeader? = nil
        let source = "artifact '\(info.name)'"
        do {
            try read(info.sha256) { chunk in
                bytes.append(chunk)
                if let h = try ModelHeader.parse(prefix: bytes, source: source) { found = h; throw Enough() }
            }
        } catch is Enough {}
        guard let found else { throw ModelHeader.Failure(description: "\(source): not a safetensors file (truncated header)") }
        return found
    }
}
