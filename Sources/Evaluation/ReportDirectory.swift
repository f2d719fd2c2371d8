import Formats
import Foundation

extension HTMLReport {
    public static let pageName = "index.html"
    public static let metricsName = "metrics.json"
    public static let plotName = "fid-vs-steps.svg"

    /// Writes `metrics.json`, `fid-vs-steps.svg` (when there is a plot) and `index.html` into
    /// `directory`, creating it if needed. Each file is written atomically, the page last, so a
    /// reader who finds the page finds what it links to. Grid PNGs are the caller's to place.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        try AtomicFile.makeDirectory(directory)
        let page = try html()   // validates everything before the first byte is written
        var written: [URL] = []
        let metricsURL = directory.appendingPathComponent(Self.metricsName)
        try metrics.write(to: metricsURL); written.append(metricsURL)
        if let plot {
            let plotURL = directory.appendingPathComponent(Self.plotName)
            try AtomicFile.write(plot.svg(), to: plotURL); written.append(plotURL)
        }
        let pageURL = directory.appendingPathComponent(Self.pageName)
        try AtomicFile.write(page, to: pageURL); written.append(pageURL)
        return written
    }
}
