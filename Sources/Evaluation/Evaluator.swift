import Datasets
import Models
import NeuralNet

/// The judge of the evaluate job: the attribute classifier (FID features, attribute accuracy)
/// and the shapes-world CLIP (CLIP score), with the quality they were measured to have.
/// Every initial value is a pure function of `config.seed` and the parameter's name.
public final class Evaluator: Module {
    public let config: EvaluatorConfig
    public let classifier: AttributeClassifier
    public let clip: ShapesCLIP
    public var quality: EvaluatorQuality?

    public init(config: EvaluatorConfig) throws {
        try config.validate()
        self.config = config
        let rng = CounterRNG(seed: config.seed)
        classifier = AttributeClassifier(resolution: config.resolution, featureWidth: config.featureWidth,
                                         baseChannels: config.baseChannels, maxChannels: config.maxChannels,
                                         extraConvs: config.extraConvs, rng: rng)
        clip = ShapesCLIP(resolution: config.resolution, trunkWidth: config.clipTrunkWidth,
                          embeddingWidth: config.embeddingWidth, text: config.text, baseChannels: config.baseChannels,
                          maxChannels: config.maxChannels, extraConvs: config.extraConvs, rng: rng)
    }

    public var parameters: [Parameter] { classifier.parameters + clip.parameters }
    public var resolution: Int { config.resolution }

    /// The feature space's name, written beside every FID.
    public var featureExtractor: String {
        "shapes-attributes-v1 penultimate \(config.featureWidth)-d (\(config.resolution)×\(config.resolution))"
    }

    /// The embedding model's name, written beside every CLIP score.
    public var embeddingModel: String {
        "shapes-clip-v1 \(config.embeddingWidth)-d (\(config.resolution)×\(config.resolution))"
    }

    static let inferenceBatch = 256

    /// Rows of `f(images[rows])`, computed in batches, stacked into [N, width].
    static func batched(_ images: Tensor, width: Int, _ f: (Tensor) -> Tensor) -> Tensor {
        let n = images.shape[0]
        let out = Tensor(shape: [n, width])
        var start = 0
        while start < n {
            let end = min(start + inferenceBatch, n)
            let y = f(images.slice(start, end))
            (out.data + start * width).update(from: y.data, count: (end - start) * width)
            start = end
        }
        return out
    }

    func checkImages(_ images: Tensor) throws {
        let r = config.resolution
        guard images.rank == 4, images.shape[0] > 0, Array(images.shape.dropFirst()) == [r, r, 3] else {
            throw EvaluationError("the evaluator reads [N, \(r), \(r), 3] pictures, got \(images.shape)")
        }
    }

    /// FID features [N, F] of pictures [N, R, R, 3] in [−1, 1].
    public func features(_ images: Tensor) throws -> Tensor {
        try checkImages(images)
        return Self.batched(images, width: config.featureWidth) { classifier.features($0) }
    }

    /// The attributes the classifier reads in each picture.
    public func predict(_ images: Tensor) throws -> [SceneLabels] {
        try checkImages(images)
        let logits = Self.batched(images, width: AttributeClassifier.logitCount) { classifier.forward($0, save: false) }
        return AttributeClassifier.predictions(logits)
    }

    /// Unit-length CLIP image embeddings [N, E].
    public func imageEmbeddings(_ images: Tensor) throws -> Tensor {
        try checkImages(images)
        return Self.batched(images, width: config.embeddingWidth) { clip.encodeImages($0) }
    }

    /// Unit-length CLIP text embeddings [N, E].
    public func textEmbeddings(_ captions: [String]) -> Tensor { clip.encodeTexts(captions) }
}
