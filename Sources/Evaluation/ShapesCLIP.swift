import Foundation
import Models
import NeuralNet
import Tensors

/// A CLIP of the shapes world: an image tower and a text tower mapping into one E-dimensional
/// space, trained with `ContrastiveLoss`; the CLIP score of docs/algorithms.md §7 is measured in it.
///
///     e_image = normalise(Linear(ConvTrunk(x)))                          [B, E]
///     e_text  = normalise(Linear(masked mean_t TextEncoder(tokens)_t))   [B, E]
///
/// The text tower is the teacher's `TextEncoder` (word tokens of `Tokenizer.shapes`) with
/// mean pooling over the real (unmasked) tokens. `logScale` is the learned log logit scale s
/// (init log(1/0.07), CLIP's; kept ≤ log 100 as CLIP clamps it).
/// Parameters: `clip.image.*`, `clip.image_projection.*`, `clip.text.*`,
/// `clip.text_projection.*`, `clip.logit_scale`.
public final class ShapesCLIP: Module {
    public let tokenizer: Tokenizer
    public let image: ConvTrunk
    public let imageProjection: Linear
    public let text: TextEncoder
    public let textProjection: Linear
    public let logScale: Parameter
    public static let maxLogScale = Float(Foundation.log(100.0))
    private var savedImage: (y: Tensor, inverseNorms: Tensor)?
    private var savedText: (y: Tensor, inverseNorms: Tensor, mask: Tensor, tokens: Int)?

    public init(resolution: Int, trunkWidth: Int, embeddingWidth: Int, text config: TextEncoderConfig,
                baseChannels: Int = 16, maxChannels: Int = 64, extraConvs: Int = 0,
                tokenizer: Tokenizer = .shapes, rng: CounterRNG) {
        precondition(tokenizer.vocabularySize == config.vocabularySize && tokenizer.maxLength == config.maxLength,
                     "CLIP text encoder config disagrees with its tokenizer")
        self.tokenizer = tokenizer
        image = ConvTrunk(resolution: resolution, width: trunkWidth, baseChannels: baseChannels, maxChannels: maxChannels,
                          extraConvs: extraConvs, name: "clip.image", rng: rng)
        imageProjection = Linear(inFeatures: trunkWidth, outFeatures: embeddingWidth, name: "clip.image_projection", rng: rng)
        text = TextEncoder(config, name: "clip.text", rng: rng)
        textProjection = Linear(inFeatures: config.width, outFeatures: embeddingWidth, name: "clip.text_projection", rng: rng)
        logScale = Parameter(name: "clip.logit_scale", value: Tensor(shape: [1], values: [Float(Foundation.log(1 / 0.07))]),
                             decays: false)
    }

    public var parameters: [Parameter] {
        image.parameters + imageProjection.parameters + text.parameters + textProjection.parameters + [logScale]
    }

    public var embeddingWidth: Int { imageProjection.outFeatures }

    /// Unit-length image embeddings [B, E].
    public func encodeImages(_ images: Tensor, save: Bool = false) -> Tensor {
        let (y, inv) = l2NormalizeForward(imageProjection.forward(image.forward(images, save: save), save: save))
        if save { savedImage = (y, inv) }
        return y
    }

    /// Unit-length text embeddings [B, E].
    public func encodeTexts(_ captions: [String], save: Bool = false) -> Tensor {
        let e = tokenizer.encode(batch: captions)
        let t = tokenizer.maxLength
        let mask = Tensor(shape: [captions.count, t], values: e.mask)
        let states = text.forward(ids: e.ids.map(Int.init), mask: mask, save: save)
        let pooled = NeuralNet.maskedMeanForward(states, mask: mask)
        let (y, inv) = l2NormalizeForward(textProjection.forward(pooled, save: save))
        if save { savedText = (y, inv, mask, t) }
        return y
    }

    /// Backward from the loss gradients of the embeddings of the last saved encodes.
    public func backward(dImages: Tensor, dTexts: Tensor) {
        guard let (yi, invI) = savedImage, let (yt, invT, mask, t) = savedText else {
            preconditionFailure("CLIP: backward without saved forwards")
        }
        savedImage = nil; savedText = nil
        image.backward(imageProjection.backward(l2NormalizeBackward(dImages, y: yi, inverseNorms: invI)))
        let dPooled = textProjection.backward(l2NormalizeBackward(dTexts, y: yt, inverseNorms: invT))
        text.backward(NeuralNet.maskedMeanBackward(dPooled, inputShape: [dPooled.shape[0], t, text.config.width], mask: mask))
    }

    /// One contrastive forward and backward on matching pairs; gradients are added.
    public func trainingStep(images: Tensor, captions: [String]) -> ContrastiveLoss.Result {
        let ei = encodeImages(images, save: true), et = encodeTexts(captions, save: true)
        let r = ContrastiveLoss.compute(images: ei, texts: et, logScale: logScale.value[0])
        backward(dImages: r.dImages, dTexts: r.dTexts)
        logScale.grad.data[0] += r.dLogScale
        return r
    }

    /// CLIP's clamp of the logit scale, applied after each optimiser step.
    public func clampLogScale() { logScale.value.data[0] = min(logScale.value.data[0], Self.maxLogScale) }
}
