import Datasets
import Foundation
import JobQueue
import Models
import Training

/// What a student distils on: its teacher's own training data. The shapes world needs nothing
/// (the distillation config opens it, as before); a teacher trained on an image folder names the
/// folder in its training config — an imported dataset by sha256, or a path — so the worker
/// fetches it like `train-teacher` did and opens the same training split (held-out pictures stay
/// unseen by the student too).
enum DistillationData {
    /// The teacher's training split, or nil for a shapes-world teacher.
    static func folder(teacher: ModelFile, seed: UInt64, ctx: JobContext, work: URL) throws -> TextImageDataset? {
        guard let json = teacher.metadata["training"], let training = try? TeacherTrainingConfig.decode(json: json, source: "teacher"),
              training.dataset != "shapes" else { return nil }
        let folder = try DatasetSource.localFolder(training.dataset, ctx: ctx, work: work)
        var t = training
        t.seed = seed  // the distillation's own data order
        return try t.openDataset(folder: folder)
    }

    /// `metadata` of a safetensors file without reading its tensors.
    static func metadata(_ url: URL) throws -> [String: String] {
        guard let h = FileHandle(forReadingAtPath: url.path) else { throw JobFailure.permanent("cannot read \(url.path)") }
        defer { try? h.close() }
        let head = try h.read(upToCount: 8) ?? Data()
        guard head.count == 8 else { return [:] }
        let n = head.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n < 100_000_000, let json = try h.read(upToCount: Int(n)), json.count == Int(n),
              let header = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return [:] }
        return header["__metadata__"] as? [String: String] ?? [:]
    }
}
