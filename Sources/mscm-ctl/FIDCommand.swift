import CommandLineKit
import Foundation
import JobQueue
import Jobs
import Evaluation

let fidCommand = Command(
    name: "fid",
    summary: "Fréchet distance between two statistics files (.npz with mu, sigma) or folders of PNGs (with --evaluator).",
    usage: "mscm-ctl fid A B [--evaluator FILE|ARTIFACT] [--save-stats A.npz[,B.npz]] [--json]   (A, B: .npz files or image folders)",
    flags: [.bool("json", "print the result as JSON"),
            .value("evaluator", "E", "an evaluator file or artifact whose features describe the folders (needed for a folder)"),
            .value("save-stats", "F.npz[,G.npz]", "write each folder's statistics (pytorch-fid's mu/sigma layout), in argument order")]
) { flags in
    let cmd = "mscm-ctl fid"
    guard flags.positional.count == 2 else {
        throw UsageError("\(cmd): needs exactly two statistics files or folders (A B), got \(flags.positional.count)")
    }
    let paths = flags.positional
    func isFolder(_ p: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }
    let folders = paths.filter(isFolder)
    let saves = flags.string("save-stats").map { $0.split(separator: ",").map(String.init) } ?? []
    guard saves.count <= folders.count else {
        throw UsageError("\(cmd): --save-stats names \(saves.count) file(s) for \(folders.count) folder(s)")
    }
    if folders.isEmpty {
        guard !flags.has("evaluator") else { throw UsageError("\(cmd): --evaluator applies to folders; A and B are statistics files") }
        let result = try FIDFileComparison.compare(URL(fileURLWithPath: paths[0]), URL(fileURLWithPath: paths[1]))
        print(flags.bool("json") ? result.json : result.text, terminator: "")
        return
    }
    guard let ref = flags.string("evaluator") else { throw UsageError("\(cmd): a folder needs --evaluator FILE|ARTIFACT to compute its features") }
    let evaluator = try loadEvaluator(ref)
    var stats: [FeatureStatistics] = []
    var saved = 0
    for p in paths {
        if isFolder(p) {
            let s = try FeatureStatistics(folder: URL(fileURLWithPath: p), evaluator: evaluator)
            if saved < saves.count { try s.write(npz: URL(fileURLWithPath: saves[saved])); print("wrote \(saves[saved]) (\(p))"); saved += 1 }
            stats.append(s)
        } else {
            stats.append(try FeatureStatistics(npz: URL(fileURLWithPath: p)))
        }
    }
    let result = try FIDFileComparison.compare(stats[0], paths[0], stats[1], paths[1])
    print(flags.bool("json") ? result.json : result.text, terminator: "")
}

/// An evaluator from a file, or else from the artifact store by name or sha256.
private func loadEvaluator(_ ref: String) throws -> Evaluator {
    if FileManager.default.fileExists(atPath: ref) { return try EvaluatorFile.load(URL(fileURLWithPath: ref)) }
    let store = ArtifactStore(try database())
    guard let info = try store.info(ref) else { throw UsageError("mscm-ctl fid: --evaluator '\(ref)' is neither a file nor an artifact") }
    guard info.kind == EvaluatorFile.kind else { throw UsageError("mscm-ctl fid: artifact '\(ref)' has kind \(info.kind), not \(EvaluatorFile.kind)") }
    let temp = FileManager.default.temporaryDirectory.appendingPathComponent("mscm-evaluator-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: temp) }
    _ = try store.export(info.sha256, to: temp)
    return try EvaluatorFile.load(temp)
}
