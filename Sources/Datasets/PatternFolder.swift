import Foundation
import Tensors

/// A small image folder that shares no content word with the shapes world — striped, dotted,
/// checkered and gradient patterns in teal, coral and purple on cream or navy, captioned
/// "a teal striped pattern on navy" — written the way a user's own folder is (PNGs and a
/// `metadata.csv` or `metadata.jsonl`). It stands in for "your own data" in the README's
/// walk-through and in the tests, which must not depend on downloads.
///
/// Picture i draws combination i mod 24 with a phase and period jittered from (seed, i), so the
/// same arguments always write the same files.
public enum PatternFolder {
    public static let colours: [(name: String, rgb: RGB)] = [("teal", RGB(0, 150, 140)), ("coral", RGB(250, 110, 90)), ("purple", RGB(130, 40, 170))]
    public static let patterns = ["striped", "dotted", "checkered", "gradient"]
    public static let backgrounds: [(name: String, rgb: RGB)] = [("cream", RGB(250, 240, 210)), ("navy", RGB(10, 20, 80))]
    public static var combinations: Int { colours.count * patterns.count * backgrounds.count }

    public enum Format: String, Sendable { case jsonl, csv }

    public static func caption(_ i: Int) -> String {
        let (c, p, b) = parts(i)
        return "a \(colours[c].name) \(patterns[p]) pattern on \(backgrounds[b].name)"
    }

    static func parts(_ i: Int) -> (Int, Int, Int) {
        let k = i % combinations
        return (k % colours.count, k / colours.count % patterns.count, k / (colours.count * patterns.count))
    }

    /// Picture `i` at `size`×`size`.
    public static func image(_ i: Int, size: Int, seed: UInt64 = 0) -> RGBImage {
        let (c, p, b) = parts(i)
        let rng = CounterRNG(seed: seed)
        let period = max(size / 8, 2) * (1 + rng.integer(below: 2, stream: 0x5041_5454, index: UInt64(2 * i)))
        let phase = rng.integer(below: period, stream: 0x5041_5454, index: UInt64(2 * i + 1))
        let fg = colours[c].rgb, bg = backgrounds[b].rgb
        var img = RGBImage(width: size, height: size, fill: bg)
        for y in 0..<size {
            for x in 0..<size {
                let u = (x + phase) % period, v = (y + phase) % period, half = period / 2
                switch patterns[p] {
                case "striped": if v < half { img[x, y] = fg }
                case "dotted": if (u - half) * (u - half) + (v - half) * (v - half) <= max(half * half / 2, 1) { img[x, y] = fg }
                case "checkered": if (u < half) != (v < half) { img[x, y] = fg }
                default:
                    let t = Double(x) / Double(max(size - 1, 1))
                    func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * t + Double(b) * (1 - t)).rounded()) }
                    img[x, y] = RGB(mix(fg.r, bg.r), mix(fg.g, bg.g), mix(fg.b, bg.b))
                }
            }
        }
        return img
    }

    /// Writes `count` pictures (`pattern-0000.png`, …) and their metadata into `directory`
    /// (created if missing). `captionKey` names the caption field; `heldoutCombinations`, when
    /// given, adds a `split` column holding out those combination indices as `test`.
    public static func write(count: Int, size: Int = 32, seed: UInt64 = 0, format: Format = .csv, captionKey: String = "caption",
                             heldoutCombinations: Set<Int>? = nil, to directory: URL) throws {
        guard count >= 1 else { throw DatasetError("patterns: count must be ≥ 1, got \(count)") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lines: [String] = []
        if format == .csv { lines.append("file_name,\(captionKey)" + (heldoutCombinations == nil ? "" : ",split")) }
        for i in 0..<count {
            let name = String(format: "pattern-%04d.png", i)
            try PNGCodec.write(image(i, size: size, seed: seed), to: directory.appendingPathComponent(name))
            let split = heldoutCombinations.map { $0.contains(i % combinations) ? "test" : "train" }
            switch format {
            case .csv: lines.append("\(name),\"\(caption(i))\"" + (split.map { ",\($0)" } ?? ""))
            case .jsonl:
                var o = ["file_name": name, captionKey: caption(i)]
                if let split { o["split"] = split }
                lines.append(String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self))
            }
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("metadata.\(format.rawValue)"))
    }
}
