import XCTest
@testable import Evaluation
@testable import Formats

final class SVGPlotTests: XCTestCase {
    private func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) throws -> XMLNode {
        let (root, error) = XMLNode.parse(svg)
        return try XCTUnwrap(root, "SVG is not well-formed: \(error ?? "")", file: file, line: line)
    }

    private func circles(_ root: XMLNode, series: String) -> [XMLNode] {
        root.all("g") { $0.attributes["class"] == "series" && $0.attributes["data-name"] == series }.flatMap { $0.all("circle") }
    }

    func testFIDPlotIsWellFormedWithPointsWhereExpected() throws {
        let plot = LinePlot.fidAgainstSteps(sampleMetrics(), referenceKinds: ["teacher-aDDIM"])
        let root = try parse(plot.svg())
        XCTAssertEqual(root.name, "svg")
        XCTAssertEqual(root.attributes["xmlns"], "http://www.w3.org/2000/svg")
        let area = try XCTUnwrap(root.all("rect") { $0.attributes["class"] == "plot-area" }.first)
        let left = area.number("x")!, top = area.number("y")!
        let right = left + area.number("width")!, bottom = top + area.number("height")!

        // Log₂ x: steps 1, 2, 4, 8 are evenly spaced and span the plot area exactly.
        let student = circles(root, series: "student")
        XCTAssertEqual(student.map { $0.number("data-x")! }, [1, 2, 4, 8])
        let cx = student.map { $0.number("cx")! }
        XCTAssertEqual(cx[0], left, accuracy: 0.01)
        XCTAssertEqual(cx[3], right, accuracy: 0.01)
        XCTAssertEqual(cx[1] - cx[0], cx[2] - cx[1], accuracy: 0.02)
        XCTAssertEqual(cx[2] - cx[1], cx[3] - cx[2], accuracy: 0.02)

        // Linear y, upwards: every point (both series) and the reference line on one line
        // cy = a + b·FID with b < 0, all inside the plot area.
        let all = student + circles(root, series: "teacher-DDIM")
        XCTAssertEqual(all.count, 8)
        // The slope from the lowest and highest points (coordinates are rounded to 0.01 px).
        let byY = all.sorted { $0.number("data-y")! < $1.number("data-y")! }
        let (p, q) = (byY.first!, byY.last!)
        let b = (q.number("cy")! - p.number("cy")!) / (q.number("data-y")! - p.number("data-y")!)
        XCTAssertLessThan(b, 0)
        for c in all {
            let predicted = p.number("cy")! + b * (c.number("data-y")! - p.number("data-y")!)
            XCTAssertEqual(c.number("cy")!, predicted, accuracy: 0.03)
            XCTAssertTrue((top...bottom).contains(c.number("cy")!) && (left...right).contains(c.number("cx")!))
        }
        let reference = try XCTUnwrap(root.all("g") { $0.attributes["class"] == "reference" }.first)
        XCTAssertEqual(reference.attributes["data-name"], "teacher-aDDIM, 256 steps")
        let line = try XCTUnwrap(reference.all("line").first)
        XCTAssertEqual(line.number("y1")!, p.number("cy")! + b * (9 - p.number("data-y")!), accuracy: 0.03)
        XCTAssertEqual(line.number("x1")!, left, accuracy: 0.01)
        XCTAssertEqual(line.number("x2")!, right, accuracy: 0.01)

        // The y range covers the reference (FID 9) and the worst DDIM point (120).
        XCTAssertLessThanOrEqual(plot.layout.yMin, 9)
        XCTAssertGreaterThanOrEqual(plot.layout.yMax, 120)

        // Ticks at the powers of two, placed where the points with those x are.
        let xTicks = root.all("g") { $0.attributes["class"] == "x-ticks" }.first!.all("text")
        XCTAssertEqual(xTicks.map(\.allText), ["1", "2", "4", "8"])
        for (tick, x) in zip(xTicks, cx) { XCTAssertEqual(tick.number("x")!, x, accuracy: 0.01) }
        XCTAssertGreaterThanOrEqual(root.all("g") { $0.attributes["class"] == "y-ticks" }.first!.all("text").count, 3)

        // Title, axis labels, legend naming every series and the reference.
        XCTAssertEqual(root.all("text") { $0.attributes["class"] == "plot-title" }.first?.allText, "FID against sampling steps")
        XCTAssertEqual(root.all("text") { $0.attributes["class"] == "y-label" }.first?.allText, "FID")
        XCTAssertEqual(root.all("text") { $0.attributes["class"] == "footnote" }.first?.allText, "FID features: shapes-features. Lower is better.")
        let legend = root.all("g") { $0.attributes["class"] == "legend" }.first!.all("text").map(\.allText)
        XCTAssertEqual(legend, ["teacher-aDDIM, 256 steps", "student", "teacher-DDIM"])
        XCTAssertEqual(root.all("polyline").count, 2)
    }

    func testTextIsEscapedAndUndrawablePointsAreLeftOut() throws {
        let name = "a<b & \"c\" 'd'"
        let plot = LinePlot(title: "t & <t>", xLabel: "x", yLabel: "y",
                            series: [.init(name: name, points: [.init(x: 2, y: 1), .init(x: 0, y: 5), .init(x: 4, y: .nan),
                                                                 .init(x: 16, y: 3, label: "<tip>")])],
                            references: [.init(name: "r&r", y: 2)])
        let svg = plot.svg()
        XCTAssertFalse(svg.contains("<tip>"))
        let root = try parse(svg)
        XCTAssertEqual(root.all("title").first?.allText, "t & <t>")
        let c = circles(root, series: name)
        XCTAssertEqual(c.map { $0.number("data-x")! }, [2, 16])
        XCTAssertEqual(c.last?.all("title").first?.allText, "<tip>")
        XCTAssertTrue(root.all("text").contains { $0.allText == name })
        XCTAssertTrue(root.all("text").contains { $0.allText == "r&r" })
        // Range 2…16 on the log axis: ticks 2, 4, 8, 16.
        XCTAssertEqual(plot.layout.xTicks, [2, 4, 8, 16])
    }

    /// FIDs spanning decades (a 1-step DDIM at 52,695 beside students near 200) go on a log₁₀
    /// y axis, where every point is still inside the plot area; the legend sits below the plot,
    /// full width, so long family names are never cut at the edge of the picture.
    func testWideFIDRangeUsesALogAxisAndTheLegendFitsBelow() throws {
        var entries: [EvaluationMetrics] = []
        let family = "students of teacher-small-3500-iterations-with-a-long-name w=3"
        for (kind, fids) in [(family, [223.0, 183, 256, 247]), ("teacher-small DDIM w=3", [52_695.0, 1_153, 438, 182])] {
            for (steps, fid) in zip([1, 2, 4, 8], fids) {
                var m = EvaluationMetrics(model: "\(kind) \(steps)", kind: kind, sampler: "x", steps: steps, guidance: 3)
                m.record(fid: FrechetScore(distance: fid, dimension: 64, extractor: "f", countA: 160, countB: 1000, regularized: false))
                entries.append(m)
            }
        }
        var reference = EvaluationMetrics(model: "teacher-small addim 256", kind: "teacher-small aDDIM w=3", sampler: "addim", steps: 256, guidance: 3)
        reference.record(fid: FrechetScore(distance: 140, dimension: 64, extractor: "f", countA: 160, countB: 1000, regularized: false))
        entries.append(reference)
        let plot = LinePlot.fidAgainstSteps(entries, referenceKinds: ["teacher-small aDDIM w=3"])
        XCTAssertTrue(plot.logBase10Y)
        let root = try parse(plot.svg())
        let area = try XCTUnwrap(root.all("rect") { $0.attributes["class"] == "plot-area" }.first)
        let top = area.number("y")!, bottom = top + area.number("height")!
        let points = root.all("circle") { $0.attributes["data-y"] != nil }
        XCTAssertEqual(points.count, 8)
        for c in points { XCTAssertTrue((top...bottom).contains(c.number("cy")!), "\(c.attributes)") }
        // Equal ratios are equal distances: 52,695 → 1,153 spans more pixels than 438 → 182.
        let cy = Dictionary(uniqueKeysWithValues: points.map { ($0.number("data-y")!, $0.number("cy")!) })
        XCTAssertEqual((cy[1_153]! - cy[52_695]!) / log10(52_695 / 1_153), (cy[182]! - cy[438]!) / log10(438.0 / 182), accuracy: 0.05)
        let line = try XCTUnwrap(root.all("g") { $0.attributes["class"] == "reference" }.first?.all("line").first)
        XCTAssertEqual(line.number("y1")!, cy[182]! + (cy[182]! - cy[438]!) / log10(438.0 / 182) * log10(182.0 / 140), accuracy: 0.05)

        let height = try XCTUnwrap(root.number("height")), width = try XCTUnwrap(root.number("width"))
        let legend = root.all("g") { $0.attributes["class"] == "legend" }.first!.all("text")
        XCTAssertEqual(legend.map(\.allText), ["teacher-small aDDIM w=3, 256 steps", family, "teacher-small DDIM w=3"])
        for t in legend {
            XCTAssertGreaterThan(t.number("y")!, bottom, "below the plot area")
            XCTAssertLessThan(t.number("y")!, height)
            XCTAssertLessThan(t.number("x")! + 7 * Double(t.allText.count), width, "\(t.allText) fits")
        }
        let footnote = try XCTUnwrap(root.all("text") { $0.attributes["class"] == "footnote" }.first)
        XCTAssertLessThan(footnote.number("y")!, height)
    }

    func testEmptyPlotSaysNoData() throws {
        let root = try parse(LinePlot(title: "empty", xLabel: "x", yLabel: "y", series: []).svg(standalone: false))
        XCTAssertTrue(root.all("text").contains { $0.allText == "no data" })
        let one = try parse(LinePlot(title: "one", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [.init(x: 4, y: 7)])]).svg())
        XCTAssertEqual(circles(one, series: "s").count, 1)
        XCTAssertFalse(one.all("text").contains { $0.allText == "no data" })
    }

    func testNiceAxesEndOnTicks() {
        let (lo, hi, ticks) = PlotLayout.niceAxis([9, 120])
        XCTAssertEqual(lo, 0); XCTAssertEqual(hi, 120)
        XCTAssertEqual(ticks, [0, 20, 40, 60, 80, 100, 120])
        let (l2, h2, t2) = PlotLayout.niceAxis([3.7, 3.7])
        XCTAssertLessThan(l2, 3.7); XCTAssertGreaterThan(h2, 3.7); XCTAssertGreaterThanOrEqual(t2.count, 2)
        let (x0, x1, xt) = PlotLayout.powerOfTwoAxis([0, log2(1280)])
        XCTAssertEqual(x0, 0); XCTAssertEqual(x1, 11)
        XCTAssertLessThanOrEqual(xt.count, 12)
        XCTAssertEqual(xt.first, 1)
    }
}
