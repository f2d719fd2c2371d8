import Tensors
import XCTest
import Models
import NeuralNet
@testable import Evaluation

/// Both CLIP towers: unit-length embeddings, and the contrastive loss's gradient through the
/// image trunk, the text encoder with masked mean pooling, both projections and the logit
/// scale, against finite differences.
final class ShapesCLIPTests: XCTestCase {
    let captions = ["a small red circle in the centre on a black background",
                    "a large blue square at the top left on a white background",
                    "a small green cross at the bottom right on a grey background"]

    func testEmbeddingsAreUnitLength() {
        let clip = ShapesCLIP(resolution: 8, trunkWidth: 6, embeddingWidth: 5,
                              text: TextEncoderConfig(width: 8, layers: 1, heads: 2, mlpRatio: 2), rng: CounterRNG(seed: 1))
        let e = clip.encodeTexts(captions)
        XCTAssertEqual(e.shape, [3, 5])
        for r in 0..<3 { XCTAssertEqual((0..<5).map { Double(e[r * 5 + $0] * e[r * 5 + $0]) }.reduce(0, +), 1, accuracy: 1e-5) }
    }

    func testContrastiveGradientThroughBothTowers() {
        let clip = ShapesCLIP(resolution: 8, trunkWidth: 6, embeddingWidth: 5,
                              text: TextEncoderConfig(width: 8, layers: 1, heads: 2, mlpRatio: 2), rng: CounterRNG(seed: 1))
        clip.logScale.value[0] = 1
        let images = randomTensor([3, 8, 8, 3], seed: 4, std: 0.5)
        func loss() -> Double {
            Double(ContrastiveLoss.compute(images: clip.encodeImages(images), texts: clip.encodeTexts(captions),
                                           logScale: clip.logScale.value[0]).loss)
        }
        clip.zeroGrad()
        _ = clip.trainingStep(images: images, captions: captions)
        for p in [clip.image.convs[0].weight, clip.image.out.weight, clip.imageProjection.weight, clip.text.token.weight,
                  clip.text.layers[0].parameters[0], clip.textProjection.weight, clip.logScale] {
            checkGradient(p.name, x: p.value, grad: p.grad, eps: 1e-3, atol: 5e-4, rtol: 3e-2, loss: loss)
        }
    }
}
