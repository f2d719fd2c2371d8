import Formats
import Foundation

extension LinePlot {
    /// FID against sampling steps on a log₂ axis: one line per series (`kind`: a model family,
    /// e.g. the students of one teacher across S, or the teacher's DDIM across steps), and each
    /// entry whose kind is in `referenceKinds` (the teacher's aDDIM-256) drawn as a horizontal
    /// line. The y axis turns log₁₀ when the FIDs span more than a factor of 20 (a 1-step DDIM
    /// is hundreds of times worse than the rest, and would flatten them). Entries without a FID
    /// are skipped. The feature extractor is named in the footnote (docs/algorithms.md §7).
    public static func fidAgainstSteps(_ entries: [EvaluationMetrics], referenceKinds: Set<String>,
                                       title: String = "FID against sampling steps") -> LinePlot {
        let scored = entries.filter { $0.fid.map { $0.isFinite } ?? false }
        var order: [String] = []
        var byKind: [String: [Point]] = [:]
        var references: [Reference] = []
        for m in scored {
            let fid = m.fid!
            if referenceKinds.contains(m.kind) {
                references.append(Reference(name: "\(m.kind), \(m.steps) steps", y: fid))
                continue
            }
            if byKind[m.kind] == nil { order.append(m.kind) }
            let label = "\(m.model): \(m.steps) steps, FID \(NumberText.significant(fid))" + (m.sampleCount.map { " (n = \($0))" } ?? "")
            byKind[m.kind, default: []].append(Point(x: Double(m.steps), y: fid, label: label))
        }
        let extractors = Set(scored.compactMap(\.featureExtractor)).sorted()
        var plot = LinePlot(title: title, xLabel: "sampling steps (log₂ scale)", yLabel: "FID",
                            series: order.map { Series(name: $0, points: byKind[$0]!) },
                            references: references, logBase2X: true)
        let fids = scored.map { $0.fid! }
        if let lo = fids.min(), let hi = fids.max(), lo > 0, hi / lo > 20 {
            plot.logBase10Y = true
            plot.yLabel = "FID (log₁₀ scale)"
        }
        if !extractors.isEmpty { plot.footnote = "FID features: \(extractors.joined(separator: "; ")). Lower is better." }
        return plot
    }
}
