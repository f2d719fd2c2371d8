import XCTest
@testable import Evaluation

final class ReportIndexTests: XCTestCase {
    func report(_ name: String, job: Int64, fids: [String: Double]) -> ReportHistory.Report {
        let entries = fids.keys.sorted().map { model -> EvaluationMetrics in
            var m = EvaluationMetrics(model: model, kind: "k", sampler: "ddim", steps: 4, guidance: 3)
            m.record(fid: FrechetScore(distance: fids[model]!, dimension: 64, extractor: "f", countA: 160, countB: 1000, regularized: false))
            return m
        }
        return .init(name: name, series: ReportHistory.series(of: name, job: job), job: job, created: "2026-12-0\(job % 9)T03:00:00Z",
                     metrics: MetricsDocument(title: name, entries: entries), href: "\(name)/index.html")
    }

    func testSeriesPreviousAndChanges() {
        XCTAssertEqual(ReportHistory.series(of: "nightly-42", job: 42), "nightly")
        XCTAssertEqual(ReportHistory.series(of: "nightly-42", job: 7), "nightly-42")
        XCTAssertEqual(ReportHistory.series(of: "a-b-3", job: 3), "a-b")
        let all = [report("nightly-3", job: 3, fids: ["s4": 200, "s8": 180]), report("adhoc-4", job: 4, fids: ["s4": 1]),
                   report("nightly-5", job: 5, fids: ["s4": 190, "s8": 185, "s16": 150]), report("nightly-8", job: 8, fids: ["s4": 170])]
        XCTAssertNil(ReportHistory.previous(of: all[0], in: all))
        XCTAssertEqual(ReportHistory.previous(of: all[2], in: all)?.name, "nightly-3", "its own series, not adhoc-4")
        XCTAssertEqual(ReportHistory.previous(of: all[3], in: all)?.name, "nightly-5")
        let c = ReportHistory.changes(all[2], since: all[0])
        XCTAssertEqual(c.map(\.model), ["s4", "s8"])
        XCTAssertEqual(c.map(\.delta), [-10, 5])
        XCTAssertEqual(ReportHistory.changeSummary(c), "1 better, 1 worse; FID −2.5 on average")
        XCTAssertEqual(ReportHistory.changeSummary(c + [.init(model: "x", before: 3, after: 3)]), "1 better, 1 worse, 1 unchanged; FID −1.7 on average")
        XCTAssertEqual(ReportHistory.changeSummary([.init(model: "x", before: 3, after: 3)]), "all 1 unchanged")
        XCTAssertEqual(ReportHistory.changeSummary([]), "no entry in common")
        XCTAssertEqual(ReportHistory.headline(all[2]), "best FID 150.0 (s16)")
    }

    func testIndexLinksEveryReportNewestFirstWithItsChange() throws {
        let all = [report("nightly-3", job: 3, fids: ["s4": 200]), report("nightly-5", job: 5, fids: ["s4": 190]),
                   report("odd <name> & co-6", job: 6, fids: ["m": 12])]
        let html = ReportHistory.indexHTML(all, generated: Date(timeIntervalSince1970: 0))
        XCTAssertFalse(html.contains("<name>"))
        let page = try XCTUnwrap(XMLNode.parse(html).root, "well-formed")
        let rows = page.all("tr") { $0.attributes["class"] == "report" }
        XCTAssertEqual(rows.map { $0.attributes["data-name"]! }, ["odd <name> & co-6", "nightly-5", "nightly-3"],
                       "series with the newest report first, then newest first within a series")
        XCTAssertEqual(page.all("a").map { $0.attributes["href"]! }, ["odd <name> & co-6/index.html", "nightly-5/index.html", "nightly-3/index.html"])
        XCTAssertTrue(rows[1].allText.contains("1 better; FID −10.0 on average (since nightly-3)"), rows[1].allText)
        XCTAssertTrue(rows[1].allText.contains("s4: 200.0 → 190.0 (−10.0)"), rows[1].allText)
        XCTAssertTrue(rows[2].allText.contains("first of its series"))
        XCTAssertEqual(page.all("h2").map(\.allText), ["odd <name> & co", "nightly"])
    }
}
