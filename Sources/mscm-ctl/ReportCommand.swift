import CommandLineKit
import Evaluation
import Formats
import Foundation
import JobQueue
import Models
import Jobs

/// `report list | show JOB|NAME [--export DIR] | index --export DIR | latest [--export DIR]`:
/// the evaluation reports in the artifact store, read as a history. Reports are found by their
/// artifacts (which outlive pruned jobs); each one's change is measured against the previous
/// report of its series (the same schedule or `--name`).
let reportCommand = Command(
    name: "report",
    summary: "Evaluation reports: list them, show one (and its change since the previous one), export one, or build a static index of all.",
    usage: "mscm-ctl report list [--json] | report show JOB|NAME [--export DIR] [--json] | report index --export DIR | report latest [--export DIR] [--json]",
    flagsFor: { args in
        let json = FlagSpec.bool("json", "print JSON")
        switch args.first {
        case "list": return [json, .value("series", "NAME", "only the reports of this series (schedule or --name)")]
        case "show": return [.value("export", "DIR", "copy the report's files (index.html, metrics.json, fid-vs-steps.svg, grids/) into DIR"), json]
        case "index": return [.value("export", "DIR", "write every report into DIR/<report>/ and the index page DIR/index.html [required]")]
        case "latest": return [.value("export", "DIR", "copy the report's files (index.html, metrics.json, fid-vs-steps.svg, grids/) into DIR"),
                               .bool("json", "print the report's location as JSON")]
        default: return []
        }
    }
) { flags in
    let cmd = "mscm-ctl report"
    let p = flags.positional
    switch p.first {
    case "list":
        if p.count > 1 { throw UsageError("\(cmd) list: unexpected argument '\(p[1])'") }
        var reports = try ReportCatalog.all(ArtifactStore(database()))
        if let s = flags.string("series") { reports = reports.filter { $0.series == s } }
        let history = reports.map(\.history)
        if flags.bool("json") {
            printJSON(.array(reports.map { r in
                let best = ReportHistory.best(r.history)
                let prev = ReportHistory.previous(of: r.history, in: history)
                return ["name": .string(r.name), "series": .string(r.series), "job": r.job.map { .int(Int($0)) } ?? .null,
                        "created_at": .string(ISOTime.format(r.created)), "entries": .int(r.metrics.entries.count),
                        "best_fid": best?.fid.map { .double($0) } ?? .null, "best_model": best.map { .string($0.model) } ?? .null,
                        "previous": prev.map { .string($0.name) } ?? .null]
            }))
            return
        }
        if reports.isEmpty { print("no reports (an evaluate job makes one)"); return }
        var rows = [["REPORT", "JOB", "CREATED", "ENTRIES", "HEADLINE", "CHANGE SINCE PREVIOUS"]]
        for r in reports {
            let change = ReportHistory.previous(of: r.history, in: history)
                .map { "\(ReportHistory.changeSummary(ReportHistory.changes(r.history, since: $0))) (since \($0.name))" } ?? "first of its series"
            rows.append([r.name, r.job.map { String($0) } ?? "-", ISOTime.format(r.created), String(r.metrics.entries.count),
                         ReportHistory.headline(r.history), change])
        }
        print(table(rows))

    case "show":
        guard p.count == 2 else { throw UsageError("\(cmd) show: give one report (the evaluate job's id or the report's name)") }
        let db = try database()
        let store = ArtifactStore(db)
        let all = try ReportCatalog.all(store)
        let r: StoredReport
        do { r = try ReportCatalog.find(p[1], in: all) } catch { throw UsageError("\(cmd) show: \(error)") }
        let previous = ReportHistory.previous(of: r.history, in: all.map(\.history))
        let changes = previous.map { ReportHistory.changes(r.history, since: $0) } ?? []
        var exported: String? = nil
        if let dir = flags.string("export") {
            try ReportCatalog.export(r, to: URL(fileURLWithPath: dir), store)
            exported = URL(fileURLWithPath: dir).appendingPathComponent("index.html").path
        }
        if flags.bool("json") {
            let delta = Dictionary(changes.map { ($0.model, $0.delta) }, uniquingKeysWith: { a, _ in a })
            printJSON(["name": .string(r.name), "series": .string(r.series), "job": r.job.map { .int(Int($0)) } ?? .null,
                       "created_at": .string(ISOTime.format(r.created)), "previous": previous.map { .string($0.name) } ?? .null,
                       "exported": exported.map { .string($0) } ?? .null,
                       "entries": .array(r.metrics.entries.map { m in
                           ["model": .string(m.model), "fid": JSON(m.fid), "fid_change": JSON(delta[m.model]),
                            "clip_score": JSON(m.clipScore), "attribute_accuracy": JSON(m.attributeAccuracy),
                            "nfe_per_image": JSON(m.nfePerImage), "seconds_per_image": JSON(m.secondsPerImage)]
                       })])
            return
        }
        print(terminalLine("report \(r.name) (series \(r.series)) from evaluate job \(r.job.map { String($0) } ?? "?"), created \(ISOTime.format(r.created))"))
        // How every number below was measured, said once.
        for line in provenance(r.metrics) { print(terminalLine("  " + line)) }
        print(terminalLine(previous.map { "  change since \($0.name): \(ReportHistory.changeSummary(changes))" } ?? "  the first report of its series"))
        let delta = Dictionary(changes.map { ($0.model, $0.delta) }, uniquingKeysWith: { a, _ in a })
        var rows = [["MODEL", "FID", "CHANGE", "CLIP", "ATTRIBUTES", "NFE/IMAGE", "S/IMAGE"]]
        for m in r.metrics.entries {
            rows.append([m.model, m.fid.map { String(format: "%.2f", $0) } ?? "—",
                         delta[m.model].map { ($0 < 0 ? "−" : "+") + String(format: "%.2f", abs($0)) } ?? "—",
                         m.clipScore.map { String(format: "%.2f", $0) } ?? "—",
                         m.attributeAccuracy.map { String(format: "%.1f%%", 100 * $0) } ?? "—",
                         m.nfePerImage.map { String(format: "%g", $0) } ?? "—", m.secondsPerImage.map { String(format: "%.3g", $0) } ?? "—"])
        }
        print(table(rows))
        if let exported { print(terminalLine("exported to \(exported)")) }

    case "index":
        if p.count > 1 { throw UsageError("\(cmd) index: unexpected argument '\(p[1])'") }
        guard let dir = flags.string("export") else { throw UsageError("\(cmd) index: --export DIR is required") }
        let r = try ReportCatalog.exportIndex(to: URL(fileURLWithPath: dir), ArtifactStore(database()))
        print(terminalLine("wrote \(r.index.path): \(r.copied + r.kept) report(s), \(r.copied) copied now, \(r.kept) already there"))

    case "latest":
        if p.count > 1 { throw UsageError("\(cmd) latest: unexpected argument '\(p[1])'") }
        try latest(flags)
    case let other?:
        throw UsageError("\(cmd): unknown subcommand '\(other)' (list, show, index, latest)")
    case nil:
        throw UsageError("\(cmd): list, show, index or latest?")
    }
}

/// The sentences under a report's title: feature space, evaluator and sample counts of the
/// FIDs, the CLIP embedding model — one line per distinct value, not one per row.
func provenance(_ doc: MetricsDocument) -> [String] {
    var lines: [String] = []
    for s in Set(doc.entries.compactMap { m -> String? in
        guard m.fid != nil else { return nil }
        return "FID: features \(m.featureExtractor ?? "?"), \(m.sampleCount.map(String.init) ?? "?") generated against \(m.referenceCount.map(String.init) ?? "?") reference images"
    }).sorted() { lines.append(s) }
    for s in Set(doc.entries.compactMap { $0.embeddingModel.map { "CLIP score: embeddings \($0)" } }).sorted() { lines.append(s) }
    return lines
}

/// `report latest`: where the newest succeeded evaluate job's report is — its local directory
/// (when this machine has it) and its artifacts — and, with --export, a copy of it.
func latest(_ flags: Flags) throws {
    let cmd = "mscm-ctl report"
    let db = try database()
    guard let job = try JobStore(db).list(state: .succeeded, kind: EvaluateJob.kind, limit: 1).first else {
        throw UsageError("\(cmd): no evaluate job has succeeded yet")
    }
    guard let name = job.result?["report"]?.string else { throw UsageError("\(cmd): job \(job.id) recorded no report") }
    let prefix = name + "/"
    let artifacts = try ArtifactStore(db).list(job: job.id, limit: 10_000)
        .filter { $0.kind.hasPrefix(ArtifactKind.reportPrefix) && $0.name.hasPrefix(prefix) }
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
                throw UsageError("\(cmd): artifact '\(TerminalText.escaped(a.name))' does not name a file inside the report")
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
    print(terminalLine("report \(name) from evaluate job \(job.id)" + (job.finishedAt.map { ", finished \(ISOTime.format($0))" } ?? ""), width: nil))
    if let local { print("local: \(local)/index.html") } else { print("local: not on this machine (export it with --export DIR)") }
    let names = artifacts.map { TerminalText.escaped($0.name) }
    print("artifacts (\(names.count)): " + (names.count <= 6 ? names.joined(separator: " ") : names.prefix(3).joined(separator: " ") + " … (mscm-ctl report latest --export DIR copies them all)"))
    if let exported { print("exported to \(exported)") }
}
