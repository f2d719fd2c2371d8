import Datasets
import NeuralNet
import Tensors

/// An image folder's pictures grouped by caption: distinct captions in order of first
/// appearance, and the pictures of each. A contrastive batch must not hold one caption twice
/// (the two texts would be each other's false negatives), so a folder evaluator draws captions,
/// then one picture of each; the held-out prompts of `evaluate` are the distinct captions.
public struct CaptionGroups: Sendable {
    public let captions: [String]
    /// Item indices (into the examples given) of each caption's pictures.
    public let members: [[Int]]
    public let images: [RGBImage]

    public init(_ examples: [TextImageExample]) {
        var index: [String: Int] = [:], captions: [String] = [], members: [[Int]] = []
        for (i, e) in examples.enumerated() {
            if let k = index[e.caption] { members[k].append(i); continue }
            index[e.caption] = captions.count
            captions.append(e.caption)
            members.append([i])
        }
        self.captions = captions
        self.members = members
        images = examples.map(\.image)
    }

    public var count: Int { images.count }

    /// Pictures `indices` as one batch [N, R, R, 3].
    public func tensor(_ indices: [Int], resolution r: Int) -> Tensor {
        let out = Tensor(shape: [indices.count, r, r, 3])
        for (b, i) in indices.enumerated() { images[i].write(into: out.data + b * r * r * 3) }
        return out
    }
}
