import Tensors
// The embedded default dataset: an endless, seeded stream of shapes-world scenes.

/// A configuration the caller got wrong (resolution, split, folder layout); one line.
public struct DatasetError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Example `i` is a pure function of (seed, i): its scene is drawn uniformly from the split's
/// scenes with Philox draw `i` of one stream, its jitter from draws `4i…4i+2` of another
/// (`ShapesRenderer`). Nothing is cached, so any batch of any run can be recomputed.
public struct ShapesDataset: TextImageDataset {
    public enum Split: String, CaseIterable {
        /// The 900 scenes whose colour–shape pair is not held out.
        case train
        /// The 40 held-out evaluation prompts of Prompts/heldout.txt.
        case heldout
        /// All 1050 scenes, held-out pairs included: for evaluator networks, which must recognise
        /// the held-out combinations they will score; never for training a generator.
        case all
    }

    public let resolution: Int
    public let seed: UInt64
    public let split: Split
    public let scenes: [SceneLabels]
    public var count: Int? { nil }

    static let sceneStream: UInt64 = 0x5343_454E_4553

    public init(resolution: Int, seed: UInt64, split: Split = .train) throws {
        guard (8...512).contains(resolution) else {
            throw DatasetError("shapes dataset: resolution must be in 8…512 (designed for \(ShapesRenderer.resolutions.map(String.init).joined(separator: ", "))), got \(resolution)")
        }
        self.resolution = resolution
        self.seed = seed
        self.split = split
        switch split {
        case .train: scenes = ShapesWorld.trainingScenes
        case .heldout: scenes = ShapesWorld.heldOutPromptScenes
        case .all: scenes = SceneLabels.all
        }
    }

    /// The scene of example `index`, without drawing it.
    public func labels(_ index: Int) -> SceneLabels {
        precondition(index >= 0, "example index must be non-negative, got \(index)")
        return scenes[CounterRNG(seed: seed).integer(below: scenes.count, stream: Self.sceneStream, index: UInt64(index))]
    }

    public func example(_ index: Int) -> TextImageExample {
        let l = labels(index)
        let image = ShapesRenderer.render(l, resolution: resolution, rng: CounterRNG(seed: seed), index: UInt64(index))
        return TextImageExample(image: image, caption: l.caption, labels: l)
    }
}
