import XCTest
@testable import Evaluation
@testable import Formats

final class HTMLReportTests: XCTestCase {
    private func report(title: String = "Nightly <evaluation> & more", grids: [HTMLReport.Grid] = []) -> HTMLReport {
        let entries = sampleMetrics()
        return HTMLReport(metrics: MetricsDocument(title: title, createdAt: Date(timeIntervalSince1970: 0), entries: entries),
                          plot: LinePlot.fidAgainstSteps(entries, referenceKinds: ["teacher-aDDIM"]),
                          grids: grids, notes: ["seeds 0…7 & prompts from Prompts/heldout.txt"])
    }

    func testPageIsWellFormedEscapedAndComplete() throws {
        let grids = [HTMLReport.Grid(caption: "a red <circle>", path: "grids/prompt 0.png"), .init(caption: "b", path: "grids/b.png")]
        let html = try report(grids: grids).html()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertFalse(html.contains("<evaluation>"))
        XCTAssertFalse(html.contains("<circle>"))
        let (root, error) = XMLNode.parse(html)
        let page = try XCTUnwrap(root, "page is not well-formed: \(error ?? "")")
        XCTAssertEqual(page.all("title").first?.allText, "Nightly <evaluation> & more")
        XCTAssertEqual(page.all("h1").first?.allText, "Nightly <evaluation> & more")

        // The table: a header and one row per entry. Every row was measured the same way, so the
        // provenance is a sentence above the table, not a column repeating it in every row.
        let rows = page.all("tr")
        XCTAssertEqual(rows.count, 1 + 9)
        let headers = rows[0].all("th").map(\.allText)
        XCTAssertFalse(headers.contains("feature extractor") || headers.contains("embedding model")
                       || headers.contains("samples (generated / reference)"), "\(headers)")
        XCTAssertFalse(rows.dropFirst().contains { $0.allText.contains("shapes-features") })
        let firstRow = rows[1].all("td").map(\.allText)
        XCTAssertEqual(firstRow[headers.firstIndex(of: "FID")!], "30.00")
        XCTAssertEqual(firstRow[headers.firstIndex(of: "attribute accuracy")!], "90.0%")
        XCTAssertEqual(rows.last!.all("td").map(\.allText)[headers.firstIndex(of: "CLIP score")!], "—")

        let provenance = page.all("p") { $0.attributes["class"] == "provenance" }.first!.allText
        XCTAssertTrue(provenance.contains("FID: features from shapes-features (64 dimensions), 1000 generated images against 5000 reference images."), provenance)
        XCTAssertTrue(provenance.contains("CLIP score: embeddings from shapes-clip, 1000 image–prompt pairs."), provenance)
        XCTAssertEqual(page.all("li").first?.allText, "seeds 0…7 & prompts from Prompts/heldout.txt")

        // The plot inline, the grids by relative, percent-encoded path.
        XCTAssertEqual(page.all("svg").count, 1)
        XCTAssertEqual(page.all("circle") { $0.attributes["data-x"] != nil }.count, 8)
        XCTAssertEqual(page.all("img").map { $0.attributes["src"]! }, ["grids/prompt%200.png", "grids/b.png"])
        XCTAssertEqual(page.all("figcaption").first?.allText, "a red <circle>")
        XCTAssertEqual(page.all("a").first?.attributes["href"], "metrics.json")
    }

    func testProvenanceColumnAppearsOnlyWhereRowsDiffer() throws {
        var entries = sampleMetrics()
        entries[0].featureExtractor = "other-features"
        let page = try XCTUnwrap(XMLNode.parse(try HTMLReport(metrics: MetricsDocument(title: "t", entries: entries)).html()).root)
        let rows = page.all("tr")
        let headers = rows[0].all("th").map(\.allText)
        let column = try XCTUnwrap(headers.firstIndex(of: "feature extractor"), "\(headers)")
        XCTAssertEqual(rows[1].all("td").map(\.allText)[column], "other-features")
        XCTAssertEqual(rows[2].all("td").map(\.allText)[column], "shapes-features")
        XCTAssertFalse(headers.contains("embedding model"), "the CLIP embeddings are still all the same")
    }

    func testChangeSinceThePreviousReportIsShown() throws {
        var before = sampleMetrics()
        before[0].fid = 40   // "student S=1" was 40, is 30
        var r = report()
        r.previous = ("nightly-3", MetricsDocument(title: "t", entries: before))
        let page = try XCTUnwrap(XMLNode.parse(try r.html()).root)
        XCTAssertTrue(page.all("h2").map(\.allText).contains("Change since nightly-3"))
        let rows = page.all("table") { $0.attributes["class"] == "changes" }.first!.all("tr")
        XCTAssertEqual(rows.count, 1 + 9)
        XCTAssertEqual(rows[1].all("td").map(\.allText), ["student S=1", "40.00", "30.00", "−10.00"])
        XCTAssertEqual(rows[2].all("td").map(\.allText).last, "+0.00")
        XCTAssertEqual(page.all("p") { $0.attributes["class"] == "change-summary" }.first?.allText,
                       "1 better, 8 unchanged; FID −1.1 on average.")
        XCTAssertFalse(try report().html().contains("Change since"))
    }

    func testRankDeficientRowsAreHighlighted() throws {
        var entries = sampleMetrics()
        entries[0].sampleCount = 50   // ≤ 64 dimensions
        let html = try HTMLReport(metrics: MetricsDocument(title: "t", entries: entries)).html()
        let page = try XCTUnwrap(XMLNode.parse(html).root)
        XCTAssertEqual(page.all("tr") { $0.attributes["class"] == "warn" }.count, 1)
        XCTAssertTrue(page.all("p").first { $0.attributes["class"] == "provenance" }!.allText.contains("rank-deficient"))
    }

    func testGridPathsMustBeRelative() {
        for bad in ["/etc/passwd.png", "../up.png", "grids/../../x.png", "http://example.com/x.png", "C:\\x.png", "", "a//b.png"] {
            XCTAssertThrowsError(try report(grids: [.init(caption: "x", path: bad)]).html(), bad)
        }
        XCTAssertEqual(try HTMLReport.relativeURL("g/a#b?.png"), "g/a%23b%3F.png")
    }

    func testWritesReportDirectoryAtomically() throws {
        let dir = try temporaryDirectory(self).appendingPathComponent("reports/nightly")
        let written = try report().write(to: dir)
        XCTAssertEqual(written.map(\.lastPathComponent), ["metrics.json", "fid-vs-steps.svg", "index.html"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["fid-vs-steps.svg", "index.html", "metrics.json"])
        XCTAssertEqual(try MetricsDocument.read(dir.appendingPathComponent("metrics.json")).entries, sampleMetrics())
        XCTAssertNotNil(XMLNode.parse(try String(contentsOf: dir.appendingPathComponent("fid-vs-steps.svg"), encoding: .utf8)).root)

        // Invalid content: nothing is written at all.
        var bad = report()
        bad.metrics.entries[0].fid = .infinity
        let other = dir.deletingLastPathComponent().appendingPathComponent("bad")
        XCTAssertThrowsError(try bad.write(to: other))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other.path), [])
        // A file where the directory should be is a one-line error.
        let file = dir.appendingPathComponent("index.html")
        XCTAssertThrowsError(try report().write(to: file)) { XCTAssertEqual("\($0)", "\(file.path) exists and is not a directory") }
    }
}
