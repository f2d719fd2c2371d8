import Datasets

/// A side-by-side comparison for one prompt: one row per evaluated entry (and optionally real
/// renders first), one column per seed. Seed matching (docs/algorithms.md §6) makes the columns
/// comparable: every row's picture in column k started from the same initial noise.
public struct SeedMatchedGrid {
    public var prompt: String
    public var seeds: [UInt64]
    /// (row label, one picture per seed).
    public var rows: [(label: String, pictures: [RGBImage])]
    public var scale: Int

    public init(prompt: String, seeds: [UInt64], rows: [(label: String, pictures: [RGBImage])], scale: Int = 4) {
        self.prompt = prompt; self.seeds = seeds; self.rows = rows; self.scale = scale
    }

    public func render() throws -> RGBImage {
        guard !rows.isEmpty, !seeds.isEmpty else { throw EvaluationError("a seed-matched grid needs at least one row and one seed") }
        for r in rows where r.pictures.count != seeds.count {
            throw EvaluationError("grid row '\(r.label)' has \(r.pictures.count) pictures for \(seeds.count) seeds")
        }
        return ImageGrid(tiles: rows.map(\.pictures), scale: scale, rowLabels: rows.map(\.label),
                         columnLabels: seeds.map { "seed \($0)" }, title: prompt).render()
    }
}
