import Foundation

/// A self-contained HTML page for one evaluation: the metrics table (with each FID's feature
/// extractor and sample counts and each CLIP score's embedding model), the FID plot inlined as
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

    public init(metrics: MetricsDocument, plot: LinePlot? = nil, grids: [Grid] = [], notes: [String] = []) {
        self.metrics = metrics; self.plot = plot; self.grids = grids; self.notes = notes
    }

    public func html() throws -> String {
        for e in metrics.entries { try e.validate() }
        let e = Markup.escape
        var h = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <title>\(e(metrics.title))</title>
        <style>
        body { font-family: sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
        th { background: #f2f2f2; } td.text { text-align: left; }
        tr.warn td { background: #fff4e0; }
        figure { display: inline-block; margin: 1em 1em 1em 0; } figcaption { font-size: 13px; }
        img { image-rendering: pixelated; max-width: 100%; }
        </style>
        </head>
        <body>
        <h1>\(e(metrics.title))</h1>
        <p>Created \(e(metrics.createdAt)). Metrics as JSON: <a href="metrics.json">metrics.json</a>.</p>

        """
        h += provenance()
        if !notes.isEmpty { h += "<ul class=\"notes\">\n" + notes.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n" }
        h += table()
        if let plot {
            h += "<h2>FID against sampling steps</h2>\n<div class=\"plot\">\n" + plot.svg(standalone: false) + "</div>\n"
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

    private func table() -> String {
        let e = Markup.escape
        func num(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "—" }
        func int(_ v: Int?) -> String { v.map(String.init) ?? "—" }
        let headers = ["model", "kind", "sampler", "steps", "guidance", "NFE / image", "FID", "feature extractor",
                       "samples (generated / reference)", "CLIP score", "embedding model", "attribute accuracy",
                       "seconds / image", "artifact"]
        var t = "<table class=\"metrics\">\n<tr>" + headers.map { "<th>\(e($0))</th>" }.joined() + "</tr>\n"
        for m in metrics.entries {
            let samples = m.sampleCount == nil && m.referenceCount == nil ? "—" : "\(int(m.sampleCount)) / \(int(m.referenceCount))"
            let cells: [(String, Bool)] = [
                (m.model, true), (m.kind, true), (m.sampler, true), (String(m.steps), false),
                (Markup.number(m.guidance), false), (m.nfePerImage.map { Markup.number($0) } ?? "—", false),
                (num(m.fid, "%.2f"), false), (m.featureExtractor ?? "—", true), (samples, false),
                (num(m.clipScore, "%.2f"), false), (m.embeddingModel ?? "—", true),
                (num(m.attributeAccuracy.map { $0 * 100 }, "%.1f%%"), false),
                (num(m.secondsPerImage, "%.3g"), false), (m.artifact ?? "—", true),
            ]
            t += m.fidIsRankDeficient ? "<tr class=\"warn\">" : "<tr>"
            t += cells.map { $0.1 ? "<td class=\"text\">\(e($0.0))</td>" : "<td>\(e($0.0))</td>" }.joined() + "</tr>\n"
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
