import Foundation

/// A line plot written as standalone SVG text: series of points joined by lines, horizontal
/// reference lines, axes with ticks, a legend and a title. The x axis can be log₂ (step counts
/// 1, 2, 4, … are evenly spaced) and the y axis log₁₀ (FIDs spanning decades). Points that
/// cannot be drawn (non-finite, or ≤ 0 on a log axis) are left out. The legend and an optional
/// footnote go below the plot area, full width, so no name is ever cut at the right edge.
public struct LinePlot {
    public struct Point: Equatable {
        public var x: Double, y: Double
        /// Tooltip text; defaults to the series name and coordinates.
        public var label: String?
        public init(x: Double, y: Double, label: String? = nil) { self.x = x; self.y = y; self.label = label }
    }
    public struct Series {
        public var name: String, points: [Point]
        public init(name: String, points: [Point]) { self.name = name; self.points = points }
    }
    public struct Reference {
        public var name: String, y: Double
        public init(name: String, y: Double) { self.name = name; self.y = y }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var references: [Reference]
    public var logBase2X: Bool
    public var logBase10Y = false
    /// Text under the legend (e.g. the feature space), wrapped to the plot's width.
    public var footnote: String?
    public var width = 720.0
    /// Height of the plot itself; the legend and footnote add their own rows below it.
    public var height = 420.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series], references: [Reference] = [],
                logBase2X: Bool = true) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.series = series; self.references = references; self.logBase2X = logBase2X
    }

    /// Okabe–Ito colours, distinguishable with common colour-vision deficiencies.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    static let referencePalette = ["#555555", "#999999", "#B8860B"]

    func drawable(_ p: Point) -> Bool { p.x.isFinite && p.y.isFinite && (!logBase2X || p.x > 0) && (!logBase10Y || p.y > 0) }
    func drawable(_ r: Reference) -> Bool { r.y.isFinite && (!logBase10Y || r.y > 0) }

    /// Legend names longer than this many characters are shortened ("…"): at 12 px a line of
    /// the full width holds about 100.
    static let legendCharacters = 96

    /// Lines of the footnote, each short enough for the width.
    var footnoteLines: [String] {
        guard let footnote, !footnote.isEmpty else { return [] }
        let perLine = max(20, Int((width - 32) / 6.6))
        var lines: [String] = [], current = ""
        for word in footnote.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > perLine { lines.append(current); current = "" }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    var legendCount: Int { references.filter(drawable).count + series.count }

    /// The whole picture's height: the plot, then a row per legend item, then the footnote.
    public var totalHeight: Double {
        height + (legendCount > 0 ? 8 + 20 * Double(legendCount) : 0) + (footnoteLines.isEmpty ? 0 : 8 + 16 * Double(footnoteLines.count))
    }

    /// Where everything goes: the plot area in pixels and the axis ranges and ticks.
    public var layout: PlotLayout {
        let points = series.flatMap { $0.points }.filter(drawable)
        let ys = points.map(\.y) + references.filter(drawable).map(\.y)
        let xs = points.map { logBase2X ? log2($0.x) : $0.x }
        let (x0, x1, xTicks) = logBase2X ? PlotLayout.powerOfTwoAxis(xs) : PlotLayout.niceAxis(xs)
        let (y0, y1, yTicks) = logBase10Y ? PlotLayout.decadeAxis(ys.map(log10)) : PlotLayout.niceAxis(ys)
        return PlotLayout(left: 72, top: 44, right: width - 24, bottom: height - 56,
                          xMin: x0, xMax: x1, yMin: y0, yMax: y1, logBase2X: logBase2X,
                          xTicks: xTicks, yTicks: yTicks, logBase10Y: logBase10Y)
    }

    /// The SVG document. `standalone: false` omits the XML declaration, for inlining in HTML.
    public func svg(standalone: Bool = true) -> String {
        let L = layout
        let e = Markup.escape, c = NumberText.coordinate
        var s = standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : ""
        let total = totalHeight
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(c(width))\" height=\"\(c(total))\" viewBox=\"0 0 \(c(width)) \(c(total))\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n"
        s += "<title>\(e(title))</title>\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(c(width))\" height=\"\(c(total))\" fill=\"white\"/>\n"
        s += "<text class=\"plot-title\" x=\"\(c((L.left + L.right) / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(e(title))</text>\n"

        // Grid lines and tick labels.
        s += "<g class=\"x-ticks\">\n"
        for t in L.xTicks {
            let x = c(L.px(t))
            s += "<line x1=\"\(x)\" y1=\"\(c(L.top))\" x2=\"\(x)\" y2=\"\(c(L.bottom))\" stroke=\"#e4e4e4\"/>"
            s += "<text x=\"\(x)\" y=\"\(c(L.bottom + 18))\" text-anchor=\"middle\">\(e(NumberText.significant(t)))</text>\n"
        }
        s += "</g>\n<g class=\"y-ticks\">\n"
        // As many decimals as the tick spacing needs, so neighbouring ticks never read alike.
        let spacing = L.yTicks.count > 1 ? abs(L.yTicks[1] - L.yTicks[0]) : 1
        let decimals = logBase10Y || spacing >= 1 ? 0 : min(10, Int(ceil(-log10(spacing) - 1e-9)))
        func yTickLabel(_ t: Double) -> String { decimals == 0 ? NumberText.significant(t) : String(format: "%.\(decimals)f", t) }
        for t in L.yTicks {
            let y = c(L.py(t))
            s += "<line x1=\"\(c(L.left))\" y1=\"\(y)\" x2=\"\(c(L.right))\" y2=\"\(y)\" stroke=\"#e4e4e4\"/>"
            s += "<text x=\"\(c(L.left - 8))\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(e(yTickLabel(t)))</text>\n"
        }
        s += "</g>\n"
        s += "<rect class=\"plot-area\" x=\"\(c(L.left))\" y=\"\(c(L.top))\" width=\"\(c(L.right - L.left))\" height=\"\(c(L.bottom - L.top))\" fill=\"none\" stroke=\"#333333\"/>\n"
        s += "<text class=\"x-label\" x=\"\(c((L.left + L.right) / 2))\" y=\"\(c(height - 14))\" text-anchor=\"middle\">\(e(xLabel))</text>\n"
        let yMid = c((L.top + L.bottom) / 2)
        s += "<text class=\"y-label\" x=\"18\" y=\"\(yMid)\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(yMid))\">\(e(yLabel))</text>\n"

        // Reference lines, then the series on top of them.
        var legend: [(name: String, color: String, dashed: Bool)] = []
        for (i, r) in references.enumerated() where drawable(r) {
            let color = Self.referencePalette[i % Self.referencePalette.count], y = c(L.py(r.y))
            s += "<g class=\"reference\" data-name=\"\(e(r.name))\" data-y=\"\(r.y)\"><line x1=\"\(c(L.left))\" y1=\"\(y)\" x2=\"\(c(L.right))\" y2=\"\(y)\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
            s += "<title>\(e(r.name)): \(e(NumberText.significant(r.y)))</title></g>\n"
            legend.append((r.name, color, true))
        }
        for (i, series) in self.series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let points = series.points.filter(drawable).sorted { $0.x < $1.x }
            s += "<g class=\"series\" data-name=\"\(e(series.name))\">\n"
            if points.count > 1 {
                let coords = points.map { "\(c(L.px($0.x))),\(c(L.py($0.y)))" }.joined(separator: " ")
                s += "<polyline points=\"\(coords)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
            for p in points {
                let label = p.label ?? "\(series.name): x = \(NumberText.significant(p.x)), y = \(NumberText.significant(p.y))"
                s += "<circle cx=\"\(c(L.px(p.x)))\" cy=\"\(c(L.py(p.y)))\" r=\"4\" fill=\"\(color)\" data-x=\"\(p.x)\" data-y=\"\(p.y)\"><title>\(e(label))</title></circle>\n"
            }
            s += "</g>\n"
            legend.append((series.name, color, false))
        }

        s += "<g class=\"legend\">\n"
        for (i, item) in legend.enumerated() {
            let y = height + 18 + Double(i) * 20, x = L.left
            let dash = item.dashed ? " stroke-dasharray=\"6 4\"" : ""
            s += "<line x1=\"\(c(x))\" y1=\"\(c(y))\" x2=\"\(c(x + 24))\" y2=\"\(c(y))\" stroke=\"\(item.color)\" stroke-width=\"2\"\(dash)/>"
            if !item.dashed { s += "<circle cx=\"\(c(x + 12))\" cy=\"\(c(y))\" r=\"3.5\" fill=\"\(item.color)\"/>" }
            let name = item.name.count > Self.legendCharacters ? String(item.name.prefix(Self.legendCharacters - 1)) + "…" : item.name
            s += "<text x=\"\(c(x + 32))\" y=\"\(c(y))\" dominant-baseline=\"middle\">\(e(name))</text>\n"
        }
        if legend.isEmpty || (series.allSatisfy { $0.points.filter(drawable).isEmpty } && references.isEmpty) {
            s += "<text x=\"\(c((L.left + L.right) / 2))\" y=\"\(yMid)\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n"
        }
        s += "</g>\n"
        let footY = height + (legend.isEmpty ? 0 : 8 + 20 * Double(legend.count)) + 14
        for (i, line) in footnoteLines.enumerated() {
            s += "<text class=\"footnote\" x=\"\(c(L.left))\" y=\"\(c(footY + 16 * Double(i)))\" fill=\"#555555\">\(e(line))</text>\n"
        }
        s += "</svg>\n"
        return s
    }
}

/// The plot area (pixels, y growing downwards as in SVG) and the data ranges mapped onto it.
/// On a log₂ axis the range and ticks are in log₂ units.
public struct PlotLayout: Equatable {
    public let left, top, right, bottom: Double
    /// Axis ranges; x in log₂ units on a log₂ axis.
    public let xMin, xMax, yMin, yMax: Double
    public let logBase2X: Bool
    /// Tick positions in axis units; on a log₂ axis these are data values (powers of two).
    public let xTicks, yTicks: [Double]
    /// y in log₁₀ units (the range); ticks are data values.
    public var logBase10Y = false

    /// Pixel column of a data x.
    public func px(_ x: Double) -> Double {
        let axis = logBase2X ? log2(x) : x
        return left + (axis - xMin) / (xMax - xMin) * (right - left)
    }
    /// Pixel row of a data y.
    public func py(_ y: Double) -> Double {
        let axis = logBase10Y ? log10(y) : y
        return bottom - (axis - yMin) / (yMax - yMin) * (bottom - top)
    }

    /// A log₁₀ axis over whole decades (`logValues` in log₁₀ units); ticks at 1, 2, 5 × 10^k,
    /// or only at the decades when there are more than three of them.
    static func decadeAxis(_ logValues: [Double]) -> (Double, Double, [Double]) {
        guard var lo = logValues.min().map(floor), var hi = logValues.max().map(ceil) else { return (0, 1, [1, 10]) }
        if hi == lo { hi += 1 }
        if hi - lo > 12 { lo = hi - 12 }
        let steps: [Double] = hi - lo > 3 ? [1] : [1, 2, 5]
        var ticks: [Double] = []
        for k in Int(lo)...Int(hi) { for m in steps { let v = m * pow(10, Double(k)); if log10(v) <= hi + 1e-9 { ticks.append(v) } } }
        return (lo, hi, ticks)
    }

    /// A linear axis covering `values` with 1-2-5 ticks; the range ends on ticks.
    static func niceAxis(_ values: [Double]) -> (Double, Double, [Double]) {
        guard var lo = values.min(), var hi = values.max() else { return (0, 1, [0, 0.5, 1]) }
        if hi - lo < 1e-12 * max(1, abs(hi)) { let pad = abs(hi) > 0 ? abs(hi) * 0.1 : 1; lo -= pad; hi += pad }
        // The smallest 1-2-5 step that needs at most 7 intervals.
        let raw = (hi - lo) / 7
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let start = floor(lo / step) * step, end = ceil(hi / step) * step
        let n = Int(((end - start) / step).rounded())
        return (start, end, (0...n).map { start + Double($0) * step })
    }

    /// A log₂ axis from the power of two at or below the smallest value to the one at or above
    /// the largest (`values` already in log₂ units); ticks at powers of two, thinned to ≤ 10.
    static func powerOfTwoAxis(_ logValues: [Double]) -> (Double, Double, [Double]) {
        guard var lo = logValues.min().map(floor), var hi = logValues.max().map(ceil) else { return (0, 3, [1, 2, 4, 8]) }
        if hi == lo { lo -= 1; hi += 1 }
        let every = Int(((hi - lo) / 10).rounded(.up))
        let exponents = stride(from: Int(lo), through: Int(hi), by: max(every, 1))
        return (lo, hi, exponents.map { pow(2, Double($0)) })
    }
}
