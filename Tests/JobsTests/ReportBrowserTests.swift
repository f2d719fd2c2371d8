@testable import Evaluation
import Formats
import Foundation
import XCTest
@testable import Jobs

/// A report the size of the issue-8 table — a teacher's aDDIM-256 reference, its DDIM at
/// 1…16 steps (FID 52,695 down to 149), its students at S = 1…16 and a w = 0.5 family, with
/// long family names — opened in headless Chromium: it renders, the plot draws one line per
/// family and the reference line, and no text of the plot is clipped.
final class ReportBrowserTests: XCTestCase {
    var cleanup: [URL] = []
    override func tearDown() { for u in cleanup { try? FileManager.default.removeItem(at: u) } }

    func testAFullSizeReportRendersWithNothingClipped() throws {
        let teacher = "teacher-small-3500-iterations"
        var entries: [EvaluationMetrics] = []
        var references: Set<String> = []
        func add(_ model: String, _ family: String, _ sampler: String, _ steps: Int, _ w: Double, _ fid: Double) {
            var m = EvaluationMetrics(model: "\(model) \(sampler) \(steps) steps w=\(w)", artifact: "\(model) (0123456789ab)", kind: family,
                                      sampler: sampler, steps: steps, guidance: w, nfePerImage: Double(steps), secondsPerImage: 0.01)
            m.record(fid: FrechetScore(distance: fid, dimension: 64, extractor: "shapes-attributes-v1 penultimate 64-d (16×16), evaluator 20f3b146944e",
                                       countA: 160, countB: 1000, regularized: false))
            m.record(clip: CLIPScoreResult(score: 90, pairs: 160, embeddingModel: "shapes-clip-v1 64-d (16×16), evaluator 20f3b146944e"))
            m.attributeAccuracy = 0.7
            entries.append(m)
        }
        add(teacher, "\(teacher) aDDIM w=3", "addim", 256, 3, 139.99)
        references.insert("\(teacher) aDDIM w=3")
        for (s, (student, ddim)) in zip([1, 2, 4, 8, 16], [(223.2, 52_694.9), (183.3, 1_152.5), (255.5, 437.8), (246.7, 181.6), (207.7, 149.3)]) {
            add("student-\(teacher)-s\(s)-w3", "students of \(teacher) w=3", "student", s, 3, student)
            add(teacher, "\(teacher) DDIM w=3", "ddim", s, 3, ddim)
        }
        add("student-\(teacher)-s8-w0.5", "students of \(teacher) w=0.5", "student", 8, 0.5, 300.1)
        add(teacher, "\(teacher) DDIM w=0.5", "ddim", 8, 0.5, 350.2)
        let plot = LinePlot.fidAgainstSteps(entries, referenceKinds: references)
        XCTAssertEqual(plot.series.map(\.name), ["students of \(teacher) w=3", "\(teacher) DDIM w=3", "students of \(teacher) w=0.5", "\(teacher) DDIM w=0.5"])
        XCTAssertEqual(plot.series.map(\.points.count), [5, 5, 1, 1])
        XCTAssertEqual(plot.references.map(\.name), ["\(teacher) aDDIM w=3, 256 steps"])

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        cleanup.append(dir)
        let report = HTMLReport(metrics: MetricsDocument(title: "mscm evaluation results-37", entries: entries), plot: plot,
                                notes: ["40 prompts × 4 seeds per entry."])
        _ = try report.write(to: dir)
        try checkInBrowser(cleanup: &cleanup, dir.appendingPathComponent("index.html"), plot: true)
        try checkInBrowser(cleanup: &cleanup, dir.appendingPathComponent("fid-vs-steps.svg"), plot: true)
    }
}
