import Foundation

extension LinePlot {
    /// FID against sampling steps on a log₂ axis: one series per model kind (e.g. "student",
    /// "teacher-DDIM"), and each entry whose kind is in `referenceKinds` (e.g. the teacher's
    /// aDDIM-256 run) drawn as a horizontal line labelled with its step count. Entries without
    /// a FID are skipped. The y label names the feature extractor (ALGORITHMS.md §7).
    public static func fidAgainstSteps(_ entries: [EvaluationMetrics], referenceKinds: Set<String>,
                                       title: String = "FID against sampling steps") -> LinePlot {
        let scored = entries.filter { $0.fid != nil }
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
            let label = "\(m.model): \(m.steps) steps, FID \(Markup.number(fid))" + (m.sampleCount.map { " (n = \($0))" } ?? "")
            byKind[m.kind, default: []].append(Point(x: Double(m.steps), y: fid, label: label))
        }
        let extractors = Set(scored.compactMap(\.featureExtractor)).sorted()
        let yLabel = extractors.isEmpty ? "FID" : "FID (features: \(extractors.joined(separator: ", ")))"
        return LinePlot(title: title, xLabel: "sampling steps (log₂ scale)", yLabel: yLabel,
                        series: order.map { Series(name: $0, points: byKind[$0]!) },
                        references: references, logBase2X: true)
    }
}
