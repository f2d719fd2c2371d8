import Datasets
import Evaluation
import Formats
import Foundation
import JobQueue
import Models

/// The files of one evaluation — `index.html`, `metrics.json`, `fid-vs-steps.svg` and
/// `grids/prompt-NN.png` — built in a scratch directory, then published twice: as artifacts
/// named `<name>/<relative path>` (kinds report-html, report-metrics, report-plot,
/// report-grid), and as the local directory `.mscm/reports/<job id>/` under the project,
/// which appears whole or not at all (written beside it, then renamed into place).
struct EvaluationReport {
    let name: String
    let jobID: Int64
    let prompts: [String]
    let seeds: [UInt64]
    let metrics: MetricsDocument
    let entryLabels: [String]
    /// Plot series drawn as horizontal reference lines (the teachers' aDDIM runs).
    let referenceKinds: Set<String>
    /// [entry][prompt][seed].
    let pictures: [[[RGBImage]]]
    /// [prompt][seed]: real renders, shown as each grid's first row.
    let realPictures: [[RGBImage]]
    let notes: [String]
    /// The series this report belongs to (its name without the job id) and the previous
    /// report of it, if any.
    var series: String? = nil
    var previous: (name: String, metrics: MetricsDocument)? = nil
    /// Training curves of the evaluated models that have a history.
    var curves: [LinePlot] = []
    /// Feature statistics (mean and covariance) of the real pictures and of each entry, written
    /// as `stats/*.npz` in pytorch-fid's `mu`/`sigma` layout, so that other tools — and
    /// `mscm-ctl fid A.npz B.npz` — can recompute any FID of the report.
    var statistics: [(path: String, stats: FeatureStatistics)] = []

    /// The curves of one model's training job: its loss, and each validation figure it
    /// recorded (figures of different scales get a plot each).
    static func trainingCurves(model: String, job: Int64, history: [JobStore.HistoryPoint]) -> [LinePlot] {
        let names = Set(history.flatMap { $0.figures.keys }).sorted { ($0 == "loss" ? "" : $0) < ($1 == "loss" ? "" : $1) }
        return names.compactMap { figure in
            let points = history.compactMap { p in
                p.figures[figure]?.double.flatMap { $0.isFinite ? LinePlot.Point(x: Double(p.iteration), y: $0) : nil }
            }
            guard points.count >= 2 else { return nil }
            var plot = LinePlot(title: "\(model): \(figure.replacingOccurrences(of: "_", with: " ")) during training (job \(job))",
                                xLabel: "iteration", yLabel: figure, series: [.init(name: figure, points: points)], logBase2X: false)
            if let lo = points.map(\.y).min(), let hi = points.map(\.y).max(), lo > 0, hi / lo > 20 {
                plot.logBase10Y = true
                plot.yLabel = "\(figure) (log₁₀ scale)"
            }
            return plot
        }
    }

    static let artifactKinds = ["html": ArtifactKind.reportHTML, "json": ArtifactKind.reportMetrics, "svg": ArtifactKind.reportPlot,
                                "png": ArtifactKind.reportGrid, "npz": ArtifactKind.reportStats]

    /// The artifact kind of a report file, by extension.
    static func kind(of path: String) -> String {
        artifactKinds[(path as NSString).pathExtension] ?? ArtifactKind.reportFile
    }

    /// The artifact name under which a series' newest metrics are found.
    static func seriesPointer(_ series: String) -> String { "series/\(series)/metrics.json" }

    /// The newest report of `series` made by another job than `job`: (its name, its metrics).
    static func previous(series: String, before job: Int64, ctx: JobContext) -> (name: String, metrics: MetricsDocument)? {
        guard let info = try? ctx.artifactInfo(seriesPointer(series)), let from = info.job, from != job,
              let data = try? ctx.getArtifact(info.sha256),
              let doc = try? MetricsDocument.decode(data, source: info.name) else { return nil }
        return ("\(series)-\(from)", doc)
    }

    /// Where local reports go: `$MSCM_HOME/.mscm/reports`, else `.mscm/reports` beside the
    /// project's Prompts/ folder, else under the working directory.
    static var localRoot: URL {
        let project = ProcessInfo.processInfo.environment["MSCM_HOME"].map { URL(fileURLWithPath: $0) }
            ?? ProjectDirectory.find("Prompts")?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return project.appendingPathComponent(".mscm/reports")
    }

    /// Writes every file into `directory`; returns their paths relative to it.
    func write(to directory: URL) throws -> [String] {
        let grids = directory.appendingPathComponent("grids")
        try AtomicFile.makeDirectory(grids)
        var written: [String] = []
        var gridRefs: [HTMLReport.Grid] = []
        for (j, prompt) in prompts.enumerated() {
            let rows = [(label: "real (rendered)", pictures: realPictures[j])]
                + entryLabels.indices.map { (label: entryLabels[$0], pictures: pictures[$0][j]) }
            let png = try PNGCodec.encode(try SeedMatchedGrid(prompt: prompt, seeds: seeds, rows: rows).render())
            let path = String(format: "grids/prompt-%02d.png", j + 1)
            try AtomicFile.write(png, to: directory.appendingPathComponent(path))
            written.append(path)
            gridRefs.append(HTMLReport.Grid(caption: prompt, path: path))
        }
        if !statistics.isEmpty { try AtomicFile.makeDirectory(directory.appendingPathComponent("stats")) }
        for s in statistics {
            try s.stats.write(npz: directory.appendingPathComponent(s.path))
            written.append(s.path)
        }
        let plot = LinePlot.fidAgainstSteps(metrics.entries, referenceKinds: referenceKinds)
        var html = HTMLReport(metrics: metrics, plot: plot, grids: gridRefs, notes: notes)
        html.previous = previous
        html.curves = curves
        for (i, curve) in curves.enumerated() {
            let path = String(format: "curves/curve-%02d.svg", i + 1)
            try AtomicFile.makeDirectory(directory.appendingPathComponent("curves"))
            try AtomicFile.write(Data(curve.svg().utf8), to: directory.appendingPathComponent(path))
            written.append(path)
        }
        for url in try html.write(to: directory) { written.append(url.lastPathComponent) }
        return written
    }

    struct Published {
        let localDirectory: URL?
        let artifacts: [String]
    }

    func publish(ctx: JobContext, scratch: URL) throws -> Published {
        let built = scratch.appendingPathComponent("report")
        let files = try write(to: built)
        var artifacts: [String] = []
        for path in files {
            try ctx.checkCancelled()
            let artifact = "\(name)/\(path)"
            try ctx.putArtifact(name: artifact, kind: Self.kind(of: path), file: built.appendingPathComponent(path))
            artifacts.append(artifact)
        }
        // The series' newest metrics under one stable name: the next report of the series finds
        // its predecessor by it (a name resolves to its newest artifact).
        if let series {
            // The pointer moves with every report of the series: an explicit replace.
            try ctx.putArtifact(name: Self.seriesPointer(series), kind: ArtifactKind.reportSeries, file: built.appendingPathComponent("metrics.json"),
                                replace: true)
        }
        var local: URL? = nil
        do {
            local = try Self.install(built, files: files, as: String(jobID), in: Self.localRoot)
            ctx.log("report written to \(local!.path)")
        } catch {
            ctx.log("could not write the local report directory (the artifacts hold it): \(error)")
        }
        return Published(localDirectory: local, artifacts: artifacts)
    }

    /// Copies `files` of `source` into `root/.tmp-<name>-…`, then renames that to `root/<name>`
    /// (replacing an older copy), so readers never see a partial report.
    static func install(_ source: URL, files: [String], as name: String, in root: URL) throws -> URL {
        let fm = FileManager.default
        try AtomicFile.makeDirectory(root)
        let temp = root.appendingPathComponent(".tmp-\(name)-\(UUID().uuidString)")
        let final = root.appendingPathComponent(name)
        do {
            for path in files {
                let to = temp.appendingPathComponent(path)
                try AtomicFile.makeDirectory(to.deletingLastPathComponent())
                try fm.copyItem(at: source.appendingPathComponent(path), to: to)
            }
            if fm.fileExists(atPath: final.path) {
                let old = root.appendingPathComponent(".old-\(name)-\(UUID().uuidString)")
                try fm.moveItem(at: final, to: old)
                try? fm.removeItem(at: old)
            }
            guard rename(temp.path, final.path) == 0 else {
                throw EvaluationError("cannot rename \(temp.path) to \(final.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? fm.removeItem(at: temp)
            throw error
        }
        return final
    }
}
