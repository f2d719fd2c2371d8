import CommandLineKit
import Foundation
import JobQueue
import Jobs

/// `artifacts list|export|import`: the artifact store from the command line. Export writes
/// through a temporary file renamed into place; import streams the file in 1 MiB chunks in one
/// transaction — a failed import leaves nothing.
let artifactsCommand = Command(
    name: "artifacts",
    summary: "The artifact store: artifacts list | export REF --out FILE | import FILE --name NAME --kind KIND [--replace] | delete REF | gc.",
    usage: "mscm-ctl artifacts list [--name N] [--kind K] [--job ID] [--json] | artifacts export REF --out FILE | artifacts import FILE --name NAME --kind KIND [--replace] | artifacts delete REF | artifacts gc",
    flagsFor: { args in
        switch args.first {
        case "list": return [.value("name", "NAME", "only artifacts with this name"), .value("kind", "KIND", "only this kind"),
                             .value("job", "ID", "only artifacts made by this job"), .value("limit", "N", "at most N (1…10000) [default 100]"),
                             .bool("json", "print JSON")]
        case "export": return [.value("out", "FILE", "where to write it [required]")]
        case "import": return [.value("name", "NAME", "artifact name [required]"), .value("kind", "KIND", "artifact kind, e.g. weights, dataset [required]"),
                               .bool("replace", "point a name that is taken at these bytes (jobs already submitted keep the bytes they pinned)"),
                               .bool("json", "print the artifact as JSON")]
        case "gc": return [.bool("json", "print what was collected as JSON")]
        default: return []
        }
    }
) { flags in
    let p = flags.positional
    switch p.first {
    case "list":
        if p.count > 1 { throw UsageError("mscm-ctl artifacts list: unexpected argument '\(p[1])'") }
        var job: Int64? = nil
        if let j = flags.string("job") {
            guard let v = Int64(j), v > 0 else { throw UsageError("mscm-ctl artifacts list: --job must be a job id, got '\(j)'") }
            job = v
        }
        let limit = try flags.int("limit", default: 100, range: 1...10_000)!
        let all = try ArtifactStore(database()).list(name: flags.string("name"), kind: flags.string("kind"), job: job, limit: limit)
        if flags.bool("json") { printJSON(.array(all.map(\.json))); return }
        if all.isEmpty { print("no artifacts"); return }
        var rows = [["SHA256", "NAME", "KIND", "SIZE", "JOB", "CREATED"]]
        for a in all {
            rows.append([String(a.sha256.prefix(12)), a.name, a.kind, ByteCountFormatter.string(fromByteCount: a.size, countStyle: .binary),
                         a.job.map { String($0) } ?? "-", ISOTime.format(a.createdAt)])
        }
        print(table(rows))
    case "export":
        guard p.count == 2 else { throw UsageError("mscm-ctl artifacts export: give one artifact REF (name or sha256)") }
        guard let out = flags.string("out") else { throw UsageError("mscm-ctl artifacts export: --out FILE is required") }
        let info = try ArtifactStore(database()).export(p[1], to: URL(fileURLWithPath: out))
        print("wrote \(out) (\(info.name), \(info.size) bytes, sha256 \(info.sha256))")
    case "import":
        guard p.count == 2 else { throw UsageError("mscm-ctl artifacts import: give one FILE") }
        guard let name = flags.string("name") else { throw UsageError("mscm-ctl artifacts import: --name is required") }
        guard let kind = flags.string("kind") else { throw UsageError("mscm-ctl artifacts import: --kind is required") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: p[1], isDirectory: &isDir), !isDir.boolValue else {
            throw UsageError("mscm-ctl artifacts import: no file \(p[1])")
        }
        // A teacher, student, evaluator or checkpoint must read back before it is stored.
        try ArtifactContent.check(kind: kind, file: URL(fileURLWithPath: p[1]))
        let info = try ArtifactStore(database()).put(name: name, kind: kind, file: URL(fileURLWithPath: p[1]), replace: flags.bool("replace"))
        if flags.bool("json") { printJSON(info.json) } else { print("imported \(p[1]) as \(info.name) (\(info.kind), \(info.size) bytes, sha256 \(info.sha256))") }
    case "delete":
        guard p.count == 2 else { throw UsageError("mscm-ctl artifacts delete: give one artifact REF (name or sha256)") }
        let gone = try ArtifactStore(database()).delete(p[1])
        for a in gone { print("deleted \(a.name.debugDescription) (\(a.kind), sha256 \(a.sha256.prefix(12)))") }
    case "gc":
        if p.count > 1 { throw UsageError("mscm-ctl artifacts gc: unexpected argument '\(p[1])'") }
        let store = try ArtifactStore(database())
        let c = try store.collectGarbage()
        let left = try store.usage()
        if flags.bool("json") {
            printJSON(["artifacts_deleted": .int(c.artifacts), "blobs_deleted": .int(c.blobs), "bytes_freed": .int(Int(c.bytes)),
                       "artifacts": .int(left.artifacts), "blobs": .int(left.blobs), "bytes": .int(Int(left.bytes))])
        } else {
            print("collected \(c.artifacts) stale checkpoint artifact(s) and \(c.blobs) unreferenced blob(s), "
                  + "\(ByteCountFormatter.string(fromByteCount: c.bytes, countStyle: .binary)); the store now holds "
                  + "\(left.artifacts) artifact(s) in \(left.blobs) blob(s), \(ByteCountFormatter.string(fromByteCount: left.bytes, countStyle: .binary))")
        }
    case let other?:
        throw UsageError("mscm-ctl artifacts: unknown subcommand '\(other)' (list, export, import, delete, gc)")
    case nil:
        throw UsageError("mscm-ctl artifacts: list, export, import, delete or gc?")
    }
}
