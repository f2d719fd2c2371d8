import Formats
import Foundation

/// Evaluation reports read as a history: each report's headline figures, its change since the
/// previous report of the same series (the reports of one schedule, or of one `--name`), and a
/// static HTML index linking every report's own page.
public enum ReportHistory {
    /// One stored report.
    public struct Report {
        /// e.g. "nightly-42": the report's name, `<series>-<job id>`.
        public var name: String
        /// e.g. "nightly": the name without its job id; reports of one schedule share it.
        public var series: String
        public var job: Int64?
        /// ISO 8601 (UTC), when the report was stored.
        public var created: String
        public var metrics: MetricsDocument
        /// The report's page relative to the index, e.g. "nightly-42/index.html".
        public var href: String?

        public init(name: String, series: String, job: Int64?, created: String, metrics: MetricsDocument, href: String? = nil) {
            self.name = name; self.series = series; self.job = job; self.created = created; self.metrics = metrics; self.href = href
        }
    }

    /// "nightly-42" with job 42 → "nightly"; a name not ending in its job id is its own series.
    public static func series(of name: String, job: Int64?) -> String {
        guard let job, name.hasSuffix("-\(job)"), name.count > "-\(job)".count else { return name }
        return String(name.dropLast("-\(job)".count))
    }

    /// The report before `report` in its series (the newest older one), if any. Reports are
    /// ordered by job id, which grows with time.
    public static func previous(of report: Report, in all: [Report]) -> Report? {
        all.filter { $0.series == report.series && ($0.job ?? 0) < (report.job ?? 0) }.max { ($0.job ?? 0) < ($1.job ?? 0) }
    }

    /// An entry's FID now and in the previous report (entries matched by their model label).
    public struct Change: Equatable {
        public var model: String
        public var before: Double
        public var after: Double
        public var delta: Double { after - before }
    }

    public static func changes(_ report: Report, since previous: Report) -> [Change] {
        changes(report.metrics, since: previous.metrics)
    }

    public static func changes(_ current: MetricsDocument, since previous: MetricsDocument) -> [Change] {
        var before: [String: Double] = [:]
        for m in previous.entries { if let f = m.fid { before[m.model] = f } }
        return current.entries.compactMap { m in
            guard let f = m.fid, let b = before[m.model] else { return nil }
            return Change(model: m.model, before: b, after: f)
        }
    }

    /// The entry with the lowest FID.
    public static func best(_ report: Report) -> EvaluationMetrics? {
        report.metrics.entries.filter { $0.fid != nil }.min { $0.fid! < $1.fid! }
    }

    /// "best FID 183.2 (student-7 student 4 steps w=3)".
    public static func headline(_ report: Report) -> String {
        guard let b = best(report) else { return "no FID" }
        return "best FID \(fid(b.fid!)) (\(b.model))"
    }

    /// "2 better, 1 worse, 1 unchanged; FID −12.5 on average", "all 4 unchanged", or "no entry in common".
    public static func changeSummary(_ changes: [Change]) -> String {
        guard !changes.isEmpty else { return "no entry in common" }
        let better = changes.filter { $0.delta < 0 }.count, worse = changes.filter { $0.delta > 0 }.count
        let same = changes.count - better - worse
        if same == changes.count { return "all \(same) unchanged" }
        let mean = changes.map(\.delta).reduce(0, +) / Double(changes.count)
        let parts = [better > 0 ? "\(better) better" : nil, worse > 0 ? "\(worse) worse" : nil, same > 0 ? "\(same) unchanged" : nil]
        return parts.compactMap { $0 }.joined(separator: ", ") + "; FID \(signed(mean)) on average"
    }

    static func fid(_ v: Double) -> String { String(format: "%.1f", v) }
    static func signed(_ v: Double) -> String { (v < 0 ? "−" : "+") + String(format: "%.1f", abs(v)) }

    /// The static index page: a section per series (newest series first), a row per report
    /// (newest first) with its date, headline figures and change since the previous one, each
    /// linking to the report's own page. All text is escaped.
    public static func indexHTML(_ reports: [Report], title: String = "mscm evaluation reports", generated: Date = Date()) -> String {
        let e = Markup.escape
        var h = Markup.pageStart(title: title, style: """
        table { border-collapse: collapse; font-size: 14px; margin-bottom: 2em; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
        th { background: #f2f2f2; } td.num { text-align: right; }
        .better { color: #0a6e31; } .worse { color: #a31515; } .small { font-size: 12px; color: #555; }
        """)
        h += """
        <p>\(reports.count) report\(reports.count == 1 ? "" : "s"); generated \(e(ISO8601DateFormatter().string(from: generated))). FID: lower is better; changes compare each entry with the same entry of the previous report in its series.</p>

        """
        let bySeries = Dictionary(grouping: reports, by: \.series)
        let order = bySeries.keys.sorted { a, b in
            (bySeries[a]!.compactMap(\.job).max() ?? 0) > (bySeries[b]!.compactMap(\.job).max() ?? 0)
        }
        for series in order {
            let rows = bySeries[series]!.sorted { ($0.job ?? 0) > ($1.job ?? 0) }
            h += "<h2>\(e(series))</h2>\n<table class=\"reports\">\n<tr><th>report</th><th>created (UTC)</th><th>entries</th><th>best FID</th><th>change since the previous report</th></tr>\n"
            for r in rows {
                let link = r.href.map { "<a href=\"\(e($0))\">\(e(r.name))</a>" } ?? e(r.name)
                let bestCell = best(r).map { "\(fid($0.fid!))<br/><span class=\"small\">\(e($0.model))</span>" } ?? "—"
                var change = "<span class=\"small\">first of its series</span>"
                if let p = previous(of: r, in: reports) {
                    let cs = changes(r, since: p)
                    change = "\(e(changeSummary(cs))) <span class=\"small\">(since \(e(p.name)))</span>"
                    if !cs.isEmpty {
                        change += "<br/><span class=\"small\">" + cs.map { c in
                            let cls = c.delta < 0 ? "better" : c.delta > 0 ? "worse" : ""
                            return "\(e(c.model)): \(fid(c.before)) → \(fid(c.after)) <span class=\"\(cls)\">(\(signed(c.delta)))</span>"
                        }.joined(separator: "<br/>") + "</span>"
                    }
                }
                h += "<tr class=\"report\" data-name=\"\(e(r.name))\"><td>\(link)</td><td>\(e(r.created))</td><td class=\"num\">\(r.metrics.entries.count)</td>"
                h += "<td class=\"num\">\(bestCell)</td><td>\(change)</td></tr>\n"
            }
            h += "</table>\n"
        }
        if reports.isEmpty { h += "<p>No evaluation report has been stored yet.</p>\n" }
        return h + "</body>\n</html>\n"
    }
}
