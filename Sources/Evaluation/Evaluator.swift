import Datasets
import Models
import NeuralNet
import Tensors

/// The judge of the evaluate job, with the quality it was measured to have. Every initial
/// value is a pure function of `config.seed` and the parameter's name.
///
/// * On the shapes world: the attribute classifier (FID features, attribute accuracy) and the
///   shapes-world CLIP (CLIP score) — exactly the networks, draws and names it always had.
/// * On an image folder (`dataset` not shapes): the CLIP alone, its text tower over the
///   vocabulary learned from the folder's training captions. There are no attributes to read,
///   so its image tower's embedding (E-d, unit length, times √E) is the FID/KID feature space.
public final class Evaluator: Module {
    public let config: EvaluatorConfig
    /// nil for a folder evaluator.
    public let classifier: AttributeClassifier?
    public let clip: ShapesCLIP
    public let dataset: EvaluatorDataset
    public var quality: EvaluatorQuality?

    public init(config: EvaluatorConfig, tokenizer: Tokenizer = .shapes, dataset: EvaluatorDataset = .shapes) throws {
        try config.validate()
        guard tokenizer.vocabularySize == config.text.vocabularySize, tokenizer.maxLength == config.text.maxLength else {
            throw EvaluationError("evaluator config: the text encoder takes \(config.text.vocabularySize) ids of \(config.text.maxLength) tokens, its tokenizer has \(tokenizer.vocabularySize) ids of \(tokenizer.maxLength)")
        }
        if dataset.isShapes, tokenizer.words != Tokenizer.shapes.words {
            throw EvaluationError("evaluator config: a shapes-world evaluator uses the shapes tokenizer")
        }
        self.config = config
        self.dataset = dataset
        let rng = CounterRNG(seed: config.seed)
        // Creation order fixes nothing numerically (every draw is keyed by the parameter's
        // name), but the shapes evaluator keeps its exact construction all the same.
        classifier = dataset.isShapes
            ? AttributeClassifier(resolution: config.resolution, featureWidth: config.featureWidth,
                                  baseChannels: config.baseChannels, maxChannels: config.maxChannels,
                                  extraConvs: config.extraConvs, rng: rng)
            : nil
        clip = ShapesCLIP(resolution: config.resolution, trunkWidth: config.clipTrunkWidth,
                          embeddingWidth: config.embeddingWidth, text: config.text, baseChannels: config.baseChannels,
                          maxChannels: config.maxChannels, extraConvs: config.extraConvs, tokenizer: tokenizer, rng: rng)
    }

    public var parameters: [Parameter] { (classifier?.parameters ?? []) + clip.parameters }
    public var resolution: Int { config.resolution }
    public var tokenizer: Tokenizer { clip.tokenizer }
    /// Whether it reads shapes-world attributes (attribute accuracy is measured only then).
    public var readsAttributes: Bool { classifier != nil }

    /// Width of the FID/KID feature space.
    public var featureWidth: Int { classifier == nil ? config.embeddingWidth : config.featureWidth }

    /// The feature space's name, written beside every FID.
    public var featureExtractor: String {
        guard classifier == nil else {
            return "shapes-attributes-v1 penultimate \(config.featureWidth)-d (\(config.resolution)×\(config.resolution))"
        }
        return "folder-clip-v1 image embedding ×√E \(config.embeddingWidth)-d (\(config.resolution)×\(config.resolution)), trained on \(dataset.description)"
    }

    /// The embedding model's name, written beside every CLIP score.
    public var embeddingModel: String {
        guard classifier == nil else {
            return "shapes-clip-v1 \(config.embeddingWidth)-d (\(config.resolution)×\(config.resolution))"
        }
        return "folder-clip-v1 \(config.embeddingWidth)-d (\(config.resolution)×\(config.resolution)), trained on \(dataset.description)"
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
        if let classifier { return Self.batched(images, width: config.featureWidth) { classifier.features($0) } }
        // √E · the unit image embedding: the trunk before the projection has no fixed scale (only
        // the direction after it is trained), so FIDs there ran to 10⁵–10⁶ and moved with it;
        // scaled unit vectors give every coordinate about unit variance and make KID's
        // xᵀy/D the cosine.
        let scale = Float(config.embeddingWidth).squareRoot()
        return Self.batched(images, width: config.embeddingWidth) { x in
            let e = clip.encodeImages(x)
            for i in 0..<e.count { e.data[i] *= scale }
            return e
        }
    }

    /// The attributes the classifier reads in each picture.
    public func predict(_ images: Tensor) throws -> [SceneLabels] {
        try checkImages(images)
        guard let classifier else {
            throw EvaluationError("the evaluator trained on \(dataset.description) reads no shapes-world attributes")
        }
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
