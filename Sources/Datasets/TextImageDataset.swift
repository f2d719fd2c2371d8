import Tensors
// The interface every dataset offers the training and evaluation jobs.

/// One (image, caption) pair; `labels` when the caption belongs to the shapes grammar.
public struct TextImageExample: Equatable {
    public let image: RGBImage
    public let caption: String
    public let labels: SceneLabels?

    public init(image: RGBImage, caption: String, labels: SceneLabels?) {
        self.image = image; self.caption = caption; self.labels = labels
    }
}

/// A batch: `images` is [B, H, W, 3] (channels last, the engine's layout) in [−1, 1], from 8-bit
/// pixels as `v / 127.5 − 1`.
public struct TextImageBatch {
    public let images: Tensor
    public let captions: [String]
    /// The scene labels of each caption, nil for captions outside the shapes grammar.
    public let labels: [SceneLabels?]

    public init(images: Tensor, captions: [String], labels: [SceneLabels?]) {
        self.images = images; self.captions = captions; self.labels = labels
    }
}

/// A source of text–image pairs addressed by example index, so training is reproducible and
/// resumable: batch `step` of size `B` holds examples `step·B ..< (step+1)·B`, whatever came
/// before.
public protocol TextImageDataset {
    /// Pictures are `resolution × resolution`.
    var resolution: Int { get }
    /// Distinct examples per epoch, nil for an endless stream.
    var count: Int? { get }
    /// Example `index` (≥ 0) of the dataset's stream; a pure function of the dataset's seed and
    /// `index`.
    func example(_ index: Int) -> TextImageExample
}

extension TextImageDataset {
    /// Examples `step·size ..< (step+1)·size` as one batch.
    public func batch(size: Int, step: Int) -> TextImageBatch {
        batch(indices: (step * size)..<((step + 1) * size))
    }

    /// The examples at `indices`, in order, as one batch.
    public func batch<S: Sequence>(indices: S) -> TextImageBatch where S.Element == Int {
        let examples = indices.map { example($0) }
        let r = resolution, slot = r * r * 3
        let images = Tensor(shape: [examples.count, r, r, 3])
        for (b, e) in examples.enumerated() {
            precondition(e.image.width == r && e.image.height == r,
                         "example is \(e.image.width)×\(e.image.height), dataset resolution is \(r)")
            e.image.write(into: images.data + b * slot)
        }
        return TextImageBatch(images: images, captions: examples.map { $0.caption }, labels: examples.map { $0.labels })
    }
}
