import Formats
import Foundation

/// A self-contained HTML page for one evaluation: how the scores were measured (each FID's
/// feature extractor and sample counts, each CLIP score's embedding model) stated once above
/// the metrics table — a column of its own only where rows differ — the FID plot inlined as
/// SVG, and seed-matched grids referenced as `<img>` by relative path. All text is escaped; the
/// page needs nothing but the grid images beside it.
public struct HTMLReport {
    public struct Grid {
        public var caption: String
        /// Relative to the report directory, e.g. "grids/prompt-03.png".
        public var path: String
        public init(caption: String, path: String) { self.caption = caption; self.path = path }
    }

    public var metrics: MetricsDocument
    public var plot: LinePlot?
    public var grids: [Grid]
    public var notes: [String]
    /// The previous report of the same series (its name and metrics): the page then shows each
    /// entry's FID then and now.
    public var previous: (name: String, metrics: MetricsDocument)?
    /// Training curves of the models that have a history (loss, validation figures), drawn
    /// after the FID plot.
    public var curves: [LinePlot] = []

    public init(metrics: MetricsDocument, plot: LinePlot? = nil, grids: [Grid] = [], notes: [String] = []) {
        self.metrics = metrics; self.plot = plot; self.grids = grids; self.notes = notes
    }

    public func html() throws -> String {
        for e in metrics.entries { try e.validate() }
        let e = Markup.escape
        var h = Markup.pageStart(title: metrics.title, style: """
        table { border-collapse: collapse; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
        th { background: #f2f2f2; } td.text { text-align: left; }
        tr.warn td { background: #fff4e0; }
        figure { display: inline-block; margin: 1em 1em 1em 0; } figcaption { font-size: 13px; }
        img { image-rendering: pixelated; max-width: 100%; }
        """)
        h += """
        <p>Created \(e(metrics.createdAt)). Metrics as JSON: <a href="metrics.json">metrics.json</a>.</p>

        """
        h += provenance()
        if !notes.isEmpty { h += "<ul class=\"notes\">\n" + notes.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n" }
        h += table()
        h += changeSection()
        if let plot {
            h += "<h2>FID against sampling steps</h2>\n<div class=\"plot\">\n" + plot.svg(standalone: false) + "</div>\n"
        }
        if !curves.isEmpty {
            h += "<h2>Training curves</h2>\n" + curves.map { "<div class=\"plot\">\n" + $0.svg(standalone: false) + "</div>\n" }.joined()
        }
        if !grids.isEmpty {
            h += "<h2>Seed-matched samples</h2>\n"
            for g in grids {
                let src = try Self.relativeURL(g.path)
                h += "<figure><img src=\"\(e(src))\" alt=\"\(e(g.caption))\"/><figcaption>\(e(g.caption))</figcaption></figure>\n"
            }
        }
        h += "</body>\n</html>\n"
        return h
    }

    /// One sentence per distinct way the scores were measured, so no number stands alone.
    private func provenance() -> String {
        let e = Markup.escape
        var lines: [String] = []
        var seen = Set<String>()
        for m in metrics.entries where m.fid != nil {
            var s = "FID: features from \(m.featureExtractor ?? "?")"
            if let d = m.featureDimension { s += " (\(d) dimensions)" }
            s += ", \(m.sampleCount.map(String.init) ?? "?") generated images"
            if let r = m.referenceCount { s += " against \(r) reference images" }
            s += "."
            if seen.insert(s).inserted { lines.append(s) }
        }
        for m in metrics.entries where m.clipScore != nil {
            let s = "CLIP score: embeddings from \(m.embeddingModel ?? "?")" + (m.clipPairs.map { ", \($0) image–prompt pairs." } ?? ".")
            if seen.insert(s).inserted { lines.append(s) }
        }
        if metrics.entries.contains(where: \.fidIsRankDeficient) {
            lines.append("Highlighted rows have no more samples than feature dimensions: their covariance is rank-deficient and their FID is unreliable.")
        }
        return lines.isEmpty ? "" : "<p class=\"provenance\">" + lines.map(e).joined(separator: "<br/>\n") + "</p>\n"
    }

    /// "Change since <previous>": the summary, then FID before and now for each entry both have.
    private func changeSection() -> String {
        guard let previous else { return "" }
        let e = Markup.escape
        let changes = ReportHistory.changes(metrics, since: previous.metrics)
        var h = "<h2>Change since \(e(previous.name))</h2>\n<p class=\"change-summary\">\(e(ReportHistory.changeSummary(changes))).</p>\n"
        guard !changes.isEmpty else { return h }
        h += "<table class=\"changes\">\n<tr><th>model</th><th>FID in \(e(previous.name))</th><th>FID now</th><th>change</th></tr>\n"
        for c in changes {
            h += "<tr><td class=\"text\">\(e(c.model))</td><td>\(String(format: "%.2f", c.before))</td><td>\(String(format: "%.2f", c.after))</td>"
            h += "<td>\(e((c.delta < 0 ? "−" : "+") + String(format: "%.2f", abs(c.delta))))</td></tr>\n"
        }
        return h + "</table>\n"
    }

    private func table() -> String {
        let e = Markup.escape
        func num(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "—" }
        func int(_ v: Int?) -> String { v.map(String.init) ?? "—" }
        func samples(_ m: EvaluationMetrics) -> String {
            m.sampleCount == nil && m.referenceCount == nil ? "—" : "\(int(m.sampleCount)) / \(int(m.referenceCount))"
        }
        // (header, text column?, cell, provenance?): a provenance column appears only when its
        // value differs between rows; otherwise the sentence above the table says it once.
        let columns: [(String, Bool, (EvaluationMetrics) -> String, Bool)] = [
            ("model", true, { $0.model }, false), ("family", true, { $0.kind }, false), ("sampler", true, { $0.sampler }, false),
            ("steps", false, { String($0.steps) }, false), ("guidance", false, { NumberText.significant($0.guidance) }, false),
            ("NFE / image", false, { $0.nfePerImage.map { NumberText.significant($0) } ?? "—" }, false),
            ("FID", false, { num($0.fid, "%.2f") + ($0.fidSeedStd.map { String(format: " (seed σ %.1f)", $0) } ?? "") }, false),
            ("KID (mean ± σ over subsets)", false, { m in m.kid.map { String(format: "%.4f ± %.4f", $0, m.kidStd ?? 0) } ?? "—" }, false),
            ("feature extractor", true, { $0.featureExtractor ?? "—" }, true),
            ("samples (generated / reference)", false, samples, true),
            ("CLIP score", false, { num($0.clipScore, "%.2f") }, false),
            ("embedding model", true, { $0.embeddingModel ?? "—" }, true),
            ("attribute accuracy", false, { num($0.attributeAccuracy.map { $0 * 100 }, "%.1f%%") }, false),
            ("seconds / image", false, { num($0.secondsPerImage, "%.3g") }, false),
            ("artifact", true, { $0.artifact ?? "—" }, false),
        ]
        // Rows without the score ("—") do not count as differing.
        let shown = columns.filter { c in !c.3 || Set(metrics.entries.map(c.2).filter { $0 != "—" }).count > 1 }
        var t = "<table class=\"metrics\">\n<tr>" + shown.map { "<th>\(e($0.0))</th>" }.joined() + "</tr>\n"
        for m in metrics.entries {
            t += m.fidIsRankDeficient ? "<tr class=\"warn\">" : "<tr>"
            t += shown.map { c in c.1 ? "<td class=\"text\">\(e(c.2(m)))</td>" : "<td>\(e(c.2(m)))</td>" }.joined() + "</tr>\n"
        }
        return t + "</table>\n"
    }

    /// A grid path as a relative URL: no scheme, not absolute, no "..", each segment
    /// percent-encoded.
    static func relativeURL(_ path: String) throws -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\\"), !path.contains(":"),
              !segments.contains(".."), !segments.contains("") else {
            throw EvaluationError("grid image path '\(path)' must be relative to the report directory (no '/', '..', '\\' or ':' prefixes)")
        }
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#;")
        return segments.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: "/")
    }
}
