import Datasets
import Formats
import Foundation
import JobQueue
import Models
import Training

/// Where a `train-teacher` job's `dataset` lies: the built-in shapes world, an imported dataset
/// in the artifact store (kind `dataset`, reached by every worker through the database), or a
/// folder path (for a shared file system).
///
/// A value is read in that order: `shapes`; an artifact name or sha256; a path. At submit an
/// artifact is pinned to its sha256 like any other input, and a path the client can see is
/// opened (every line, every PNG of the training split) and made absolute; a path it cannot see
/// must be absolute and is checked by the worker. A bare word that is neither an artifact nor a
/// folder here is a mistake, not a path.
enum DatasetSource {
    case shapes
    case artifact(ArtifactInfo)
    case path(String)

    static let artifactKind = ArtifactKind.dataset

    static func resolve(_ value: String, artifacts: ArtifactCatalog, kind: String = TrainTeacherJob.kind) throws -> DatasetSource {
        func fail(_ s: String) -> JobFailure { .permanent("\(kind) spec: 'dataset': \(s)") }
        if value == "shapes" { return .shapes }
        if let info = try artifacts.info(value) {
            guard info.kind == artifactKind else {
                throw fail("artifact '\(value)' has kind \(info.kind), not \(artifactKind) (import a folder with mscm-ctl dataset import DIR --name NAME)")
            }
            return .artifact(info)
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: value, isDirectory: &isDir) {
            guard isDir.boolValue else { throw fail("\(value) is a file, not an image folder") }
            return .path(URL(fileURLWithPath: value).standardizedFileURL.path)
        }
        guard value.contains("/") else {
            throw fail("no dataset artifact '\(value)' and no folder '\(value)' here (mscm-ctl dataset import DIR --name \(value) stores one; mscm-ctl artifacts list --kind dataset lists them)")
        }
        guard value.hasPrefix("/") else {
            throw fail("no folder \(value) here; a path only the workers can see must be absolute")
        }
        return .path(value)
    }

    /// Pins the spec's `dataset` (an imported dataset to its sha256, a local path made
    /// absolute), for every job kind that reads one.
    static func pin(_ spec: JSON, inputs: [PinnedInput], artifacts: ArtifactCatalog, kind: String) throws -> (spec: JSON, inputs: [PinnedInput]) {
        guard var o = spec.object, let value = o["dataset"]?.string else { return (spec, inputs) }
        var inputs = inputs
        switch try resolve(value, artifacts: artifacts, kind: kind) {
        case .shapes: break
        case .artifact:
            let (sha, input) = try SpecFlag.pinReference(value, key: "dataset", artifacts: artifacts)
            o["dataset"] = .string(sha)
            inputs.append(input)
        case .path(let path): o["dataset"] = .string(path)
        }
        return (.object(o), inputs)
    }

    /// Submit-time checks: the source exists, and a folder this machine can see opens with the
    /// job's settings (the same errors the worker would meet hours later, now).
    static func check(_ config: TeacherTrainingConfig, artifacts: ArtifactCatalog) throws {
        guard case .path(let path) = try resolve(config.dataset, artifacts: artifacts),
              FileManager.default.fileExists(atPath: path) else { return }
        _ = try config.openData(folder: URL(fileURLWithPath: path))
    }

    /// The folder to train from on this worker: nil for the shapes world; an imported dataset
    /// is fetched and unpacked into `work`.
    static func localFolder(_ value: String, ctx: JobContext, work: URL, kind: String = TrainTeacherJob.kind) throws -> URL? {
        if value == "shapes" { return nil }
        guard let info = try ctx.artifactInfo(value) else { return URL(fileURLWithPath: value) }
        guard info.kind == artifactKind else {
            throw JobFailure.permanent("\(kind): artifact '\(value)' has kind \(info.kind), not \(artifactKind)")
        }
        let archive = work.appendingPathComponent("dataset.tar"), folder = work.appendingPathComponent("dataset")
        _ = try ctx.getArtifact(info.sha256, to: archive)
        try DatasetArchive.unpack(archive, into: folder)
        try? FileManager.default.removeItem(at: archive)
        ctx.log("dataset \(info.name) (\(info.sha256.prefix(12)), \(info.size) bytes) unpacked")
        return folder
    }
}
