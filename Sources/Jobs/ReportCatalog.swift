import Evaluation
import Formats
import Foundation
import JobQueue
import Models

/// The evaluation reports in the artifact store, found by their `report-metrics` artifacts
/// (`<report>/metrics.json`). Artifacts outlive pruned jobs, so the history stays whole however
/// long ago the evaluate jobs ran.
public struct StoredReport {
    public let name: String
    public let job: Int64?
    /// Unix time the report was stored.
    public let created: Double
    public let metricsArtifact: ArtifactInfo
    public let metrics: MetricsDocument

    public var series: String { ReportHistory.series(of: name, job: job) }

    /// The report for `ReportHistory`, linked as `<directory>/index.html`.
    public var history: ReportHistory.Report {
        ReportHistory.Report(name: name, series: series, job: job, created: ISOTime.format(created), metrics: metrics,
                             href: ReportCatalog.directoryName(name) + "/index.html")
    }
}

public enum ReportCatalog {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every stored report, newest first (at most `limit`).
    public static func all(_ store: ArtifactStore, limit: Int = 10_000) throws -> [StoredReport] {
        var seen = Set<String>()
        var out: [StoredReport] = []
        for a in try store.list(kind: ArtifactKind.reportMetrics, limit: limit) where a.name.hasSuffix("/metrics.json") {
            let name = String(a.name.dropLast("/metrics.json".count))
            // A retried evaluate job stores its files again; the newest copy is the report.
            guard !name.isEmpty, seen.insert(name).inserted else { continue }
            let metrics = try MetricsDocument.decode(try store.data(a.sha256), source: "report \(name)")
            out.append(StoredReport(name: name, job: a.job, created: a.createdAt, metricsArtifact: a, metrics: metrics))
        }
        return out
    }

    /// The report a reference names: a job id (the evaluate job that made it) or a report name.
    public static func find(_ ref: String, in reports: [StoredReport]) throws -> StoredReport {
        if let id = Int64(ref), let r = reports.first(where: { $0.job == id }) { return r }
        if let r = reports.first(where: { $0.name == ref }) { return r }
        let hint = TerminalText.nearest(ref, among: reports.map(\.name)).map { " (did you mean \($0)?)" } ?? ""
        throw Failure(description: "no report '\(TerminalText.escaped(ref))'\(hint); see mscm-ctl report list")
    }

    /// The report's files: artifacts named `<name>/<relative path>` of a report kind, by path.
    public static func files(of report: StoredReport, _ store: ArtifactStore) throws -> [(path: String, artifact: ArtifactInfo)] {
        let prefix = report.name + "/"
        let candidates = try report.job.map { try store.list(job: $0, limit: 100_000) }
            ?? EvaluationReport.artifactKinds.values.flatMap { try store.list(kind: $0, limit: 100_000) }
        var byPath: [String: ArtifactInfo] = [:]
        for a in candidates where a.kind.hasPrefix(ArtifactKind.reportPrefix) && a.name.hasPrefix(prefix) {
            let path = String(a.name.dropFirst(prefix.count))
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.isEmpty, !parts.contains(".."), !parts.contains(""), !parts.contains(".") else {
                throw Failure(description: "artifact '\(TerminalText.escaped(a.name))' does not name a file inside the report")
            }
            if let old = byPath[path], old.id > a.id { continue }
            byPath[path] = a
        }
        return byPath.keys.sorted().map { ($0, byPath[$0]!) }
    }

    /// A directory name for a report: its name with anything but letters, digits, '.', '_' and
    /// '-' replaced, never starting with '.'.
    public static func directoryName(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        var s = String(name.map { allowed.contains($0) ? $0 : "_" })
        if s.hasPrefix(".") || s.isEmpty { s = "r" + s }
        return s
    }

    /// Copies the report's files into `directory` (each through a temporary file renamed into
    /// place). Returns the number of files written.
    @discardableResult
    public static func export(_ report: StoredReport, to directory: URL, _ store: ArtifactStore) throws -> Int {
        let files = try files(of: report, store)
        guard !files.isEmpty else { throw Failure(description: "report \(report.name): its files are gone from the artifact store") }
        for (path, a) in files {
            let to = directory.appendingPathComponent(path)
            do { try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
                throw Failure(description: "cannot create \(to.deletingLastPathComponent().path)")
            }
            try store.export(a.sha256, to: to)
        }
        return files.count
    }

    /// Writes every report into `directory/<report>/` and the index page `directory/index.html`.
    /// A report already there (its metrics.json byte-identical) is not copied again, so a nightly
    /// run only adds the new ones. Returns (reports copied, reports already there, index file).
    public static func exportIndex(to directory: URL, _ store: ArtifactStore,
                                   generated: Date = Date()) throws -> (copied: Int, kept: Int, index: URL) {
        let reports = try all(store)
        var copied = 0, kept = 0
        for r in reports {
            let dir = directory.appendingPathComponent(directoryName(r.name))
            let existing = try? Data(contentsOf: dir.appendingPathComponent("metrics.json"))
            if let existing, SHA256.hex(Array(existing)) == r.metricsArtifact.sha256,
               FileManager.default.fileExists(atPath: dir.appendingPathComponent("index.html").path) {
                kept += 1
                continue
            }
            try export(r, to: dir, store)
            copied += 1
        }
        let index = directory.appendingPathComponent("index.html")
        let html = ReportHistory.indexHTML(reports.map(\.history), generated: generated)
        do { try AtomicFile.write(Data(html.utf8), to: index) } catch { throw Failure(description: "cannot write \(index.path): \(error)") }
        return (copied, kept, index)
    }
}
