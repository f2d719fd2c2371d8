import Datasets
import NeuralNet
import Tensors

/// The FID feature network: reads a shapes-world picture's five attributes (shape, colour,
/// size, position, background), one softmax head each. Its penultimate layer — the trunk's
/// F-dimensional output — is the feature space of the Fréchet distance (docs/algorithms.md §7),
/// as Inception's pool layer is for ImageNet FID.
///
///     f = ConvTrunk(x)                       [B, F]   (the FID features)
///     z = Linear(f)                          [B, K],  K = Σ_a K_a = 5 + 7 + 2 + 5 + 3 = 22
///     head a reads z[:, o_a ..< o_a + K_a]   (o_a = Σ_{a' < a} K_a')
///
/// Loss: the sum over attributes of each head's softmax cross-entropy, averaged over the batch
/// (`attributeLoss`). Parameters: `classifier.trunk.*`, `classifier.heads.*`.
public final class AttributeClassifier: Module {
    public let trunk: ConvTrunk
    public let heads: Linear

    /// Class counts per attribute in `SceneAttribute.allCases` order, and where each head starts.
    public static let counts = SceneAttribute.counts
    public static let offsets: [Int] = counts.indices.map { counts[..<$0].reduce(0, +) }
    public static var logitCount: Int { counts.reduce(0, +) }

    public init(resolution: Int, featureWidth: Int, baseChannels: Int = 16, maxChannels: Int = 64, extraConvs: Int = 0,
                rng: CounterRNG) {
        trunk = ConvTrunk(resolution: resolution, width: featureWidth, baseChannels: baseChannels, maxChannels: maxChannels,
                          extraConvs: extraConvs, name: "classifier.trunk", rng: rng)
        heads = Linear(inFeatures: featureWidth, outFeatures: Self.logitCount, name: "classifier.heads", rng: rng)
    }

    public var parameters: [Parameter] { trunk.parameters + heads.parameters }
    public var featureWidth: Int { trunk.width }

    /// The penultimate features [B, F] (no saved state).
    public func features(_ images: Tensor) -> Tensor { trunk.forward(images, save: false) }

    /// Logits [B, K] of all heads side by side.
    public func forward(_ images: Tensor, save: Bool) -> Tensor {
        heads.forward(trunk.forward(images, save: save), save: save)
    }

    public func backward(_ dLogits: Tensor) { trunk.backward(heads.backward(dLogits)) }

    /// Each head's arg-max class, as scene labels.
    public static func predictions(_ logits: Tensor) -> [SceneLabels] {
        let k = logitCount, p = logits.data
        return (0..<logits.shape[0]).map { r in
            SceneLabels(values: counts.indices.map { a in
                var best = 0
                for c in 1..<counts[a] where p[r * k + offsets[a] + c] > p[r * k + offsets[a] + best] { best = c }
                return best
            })
        }
    }

    /// Σ_a CE_a(z[:, a's columns], labels_a), each CE the batch mean of
    /// `log Σ_c exp z_c − z_label` (`softmaxCrossEntropyLoss`); returns the loss, dLoss/dz [B, K]
    /// and the per-attribute losses.
    public static func attributeLoss(_ logits: Tensor, labels: [SceneLabels]) -> (loss: Float, gradient: Tensor, perAttribute: [Float]) {
        let b = logits.shape[0], k = logitCount
        checkShape(logits, [labels.count, k], "attribute loss logits")
        let grad = Tensor(shape: [b, k])
        var perAttribute: [Float] = []
        for a in counts.indices {
            let n = counts[a], o = offsets[a]
            let head = Tensor(uninitializedShape: [b, n])
            for r in 0..<b { (head.data + r * n).update(from: logits.data + r * k + o, count: n) }
            let ce = softmaxCrossEntropyLoss(head, labels: labels.map { $0.values[a] })
            for r in 0..<b { (grad.data + r * k + o).update(from: ce.gradient.data + r * n, count: n) }
            perAttribute.append(ce.value)
        }
        return (perAttribute.reduce(0, +), grad, perAttribute)
    }
}
