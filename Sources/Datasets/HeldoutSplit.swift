import Tensors
/// Which records of an image folder training may see.
///
/// With a `split` column (on every record): `train` is training; `test`, `validation`, `valid`,
/// `val`, `heldout`, `held-out` and `eval` are held out; anything else is an error naming the line.
///
/// Without one, a seeded fraction is held out: records sharing a caption or a file are one group
/// (so a held-out caption or picture never appears in training under another line), the groups
/// are shuffled by Philox stream `stream` of `seed`, and whole groups are taken while they fit
/// until round(fraction · n) records are held out. The seed is the dataset's own (default 0), not
/// the training seed, so every teacher trained on a folder holds out the same pictures.
public struct HeldoutSplit: Equatable {
    public static let heldoutNames: Set<String> = ["test", "validation", "valid", "val", "heldout", "held-out", "eval"]
    static let stream: UInt64 = 0x4845_4C44_0000_0000  // "HELD"

    /// `heldout[i]`: record i is held out.
    public let heldout: [Bool]
    /// How the split was made, for logs: "split column" or "5 % held out (seed 0)".
    public let source: String

    public var heldoutCount: Int { heldout.filter { $0 }.count }
    public var trainCount: Int { heldout.count - heldoutCount }

    public init(_ records: [ImageFolderMetadata.Record], fraction: Double, seed: UInt64 = 0, place: String) throws {
        guard fraction >= 0, fraction < 1 else { throw DatasetError("held-out fraction must be in [0, 1), got \(fraction)") }
        if let first = records.first(where: { $0.split != nil }) {
            heldout = try records.map { r in
                guard let s = r.split?.lowercased() else {
                    throw DatasetError("\(place) line \(r.line): no split, but line \(first.line) has one (give every line a split, or none)")
                }
                if s == "train" { return false }
                guard Self.heldoutNames.contains(s) else {
                    throw DatasetError("\(place) line \(r.line): split '\(r.split!)' is neither train nor one of \(Self.heldoutNames.sorted().joined(separator: ", "))")
                }
                return true
            }
            source = "split column"
            return
        }
        // Groups: records joined by a shared caption or file (union-find).
        var parent = Array(records.indices)
        func root(_ i: Int) -> Int { var i = i; while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }; return i }
        var byCaption: [String: Int] = [:], byFile: [String: Int] = [:]
        for (i, r) in records.enumerated() {
            let caption = r.caption.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for j in [byCaption[caption], byFile[r.fileName]].compactMap({ $0 }) { parent[root(j)] = root(i) }
            byCaption[caption] = i; byFile[r.fileName] = i
        }
        var members: [Int: [Int]] = [:], order: [Int] = []
        for i in records.indices {
            let g = root(i)
            if members[g] == nil { order.append(g) }
            members[g, default: []].append(i)
        }
        let rng = CounterRNG(seed: seed)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, rng.integer(below: i + 1, stream: Self.stream, index: UInt64(i)))
        }
        let target = Int((fraction * Double(records.count)).rounded())
        var held = [Bool](repeating: false, count: records.count), count = 0
        for g in order where count < target {
            let m = members[g]!
            if count + m.count <= target { for i in m { held[i] = true }; count += m.count }
        }
        heldout = held
        source = fraction == 0 ? "nothing held out" : String(format: "%g %% held out (seed %llu)", 100 * fraction, seed)
    }
}
