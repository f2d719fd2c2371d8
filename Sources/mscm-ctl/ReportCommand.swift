import Foundation
import Jobs

/// `report latest [--export DIR]`: where the newest succeeded evaluate job's report is — its
/// local directory (when this machine has it) and its artifacts — and, with --export, a copy
/// of the whole report (HTML, grids, metrics JSON, plot) out of the artifact store into DIR.
let reportCommand = Command(
    name: "report",
    summary: "Evaluation reports: report latest [--export DIR] — where the newest report is; copy it out.",
    usage: "mscm-ctl report latest [--export DIR] [--json]",
    flags: [.value("export", "DIR", "copy the report's files (index.html, metrics.json, fid-vs-steps.svg, grids/) into DIR"),
            .bool("json", "print the report's location as JSON")]
) { flags in
    let cmd = "mscm-ctl report"
    guard flags.positional == ["latest"] else {
        throw UsageError(flags.positional.isEmpty ? "\(cmd): which report? (latest)" : "\(cmd): unknown subcommand '\(flags.positional.joined(separator: " "))' (latest)")
    }
    let db = try database()
    guard let job = try JobStore(db).list(state: .succeeded, kind: EvaluateJob.kind, limit: 1).first else {
        throw UsageError("\(cmd): no evaluate job has succeeded yet")
    }
    guard let name = job.result?["report"]?.string else { throw UsageError("\(cmd): job \(job.id) recorded no report") }
    let prefix = name + "/"
    let artifacts = try ArtifactStore(db).list(job: job.id, limit: 10_000)
        .filter { $0.kind.hasPrefix("report-") && $0.name.hasPrefix(prefix) }
        .sorted { $0.name < $1.name }
    guard !artifacts.isEmpty else { throw UsageError("\(cmd): job \(job.id)'s report artifacts are gone") }
    let local = job.result?["report_dir"]?.string.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }

    var exported: String? = nil
    if let dir = flags.string("export") {
        let root = URL(fileURLWithPath: dir)
        let store = ArtifactStore(db)
        for a in artifacts {
            let relative = String(a.name.dropFirst(prefix.count))
            let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
            guard !relative.isEmpty, !relative.hasPrefix("/"), !parts.contains(".."), !parts.contains("") else {
                throw UsageError("\(cmd): artifact '\(a.name)' does not name a file inside the report")
            }
            let to = root.appendingPathComponent(relative)
            do { try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
                throw UsageError("\(cmd): cannot create \(to.deletingLastPathComponent().path)")
            }
            try store.export(a.sha256, to: to)
        }
        exported = root.appendingPathComponent("index.html").path
    }

    if flags.bool("json") {
        printJSON(["job": .int(Int(job.id)), "report": .string(name), "local_dir": local.map { .string($0) } ?? .null,
                   "artifacts": .array(artifacts.map { .string($0.name) }), "exported": exported.map { .string($0) } ?? .null])
        return
    }
    print("report \(name) from evaluate job \(job.id)" + (job.finishedAt.map { ", finished \(ISOTime.format($0))" } ?? ""))
    if let local { print("local: \(local)/index.html") } else { print("local: not on this machine (export it with --export DIR)") }
    let names = artifacts.map(\.name)
    print("artifacts (\(names.count)): " + (names.count <= 6 ? names.joined(separator: " ") : names.prefix(3).joined(separator: " ") + " … (mscm-ctl report latest --export DIR copies them all)"))
    if let exported { print("exported to \(exported)") }
}
